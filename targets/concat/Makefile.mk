# The concat target: `y` links it into ublk-target, `m` builds ubt-concat.so.
targets-$(CONFIG_TARGET_CONCAT) += concat
concat-objs := concat.o
