# The zero target: `y` links it into ublk-target, `m` builds ubt-zero.so.
targets-$(CONFIG_TARGET_ZERO) += zero
zero-objs := zero.o
