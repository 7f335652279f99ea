# The flakey target: `y` links it into ublk-target, `m` builds ubt-flakey.so.
targets-$(CONFIG_TARGET_FLAKEY) += flakey
flakey-objs := flakey.o
