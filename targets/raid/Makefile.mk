# The parity RAID targets (raid4, raid5, raid6): `y` links them into
# ublk-target, `m` builds ubt-raid.so.
targets-$(CONFIG_TARGET_RAID) += raid
raid-objs := raid.o layout.o parity.o stripe.o pass.o io.o bitmap.o journal.o table.o
raid-libs := -lisal
