# The delay target: `y` links it into ublk-target, `m` builds ubt-delay.so.
targets-$(CONFIG_TARGET_DELAY) += delay
delay-objs := delay.o
