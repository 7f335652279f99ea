# The volatile target: `y` links it into ublk-target, `m` builds ubt-volatile.so.
targets-$(CONFIG_TARGET_VOLATILE) += volatile
volatile-objs := volatile.o
