# The mirror target: `y` links it into ublk-target, `m` builds ubt-mirror.so.
targets-$(CONFIG_TARGET_MIRROR) += mirror
mirror-objs := mirror.o io.o region.o recovery.o log.o log_io.o
