# The error target: `y` links it into ublk-target, `m` builds ubt-error.so.
targets-$(CONFIG_TARGET_ERROR) += error
error-objs := error.o
