# The linear target: `y` links it into ublk-target, `m` builds ubt-linear.so.
targets-$(CONFIG_TARGET_LINEAR) += linear
linear-objs := linear.o
