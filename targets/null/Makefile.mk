# The null target: `y` links it into ublk-target, `m` builds ubt-null.so.
targets-$(CONFIG_TARGET_NULL) += null
null-objs := null.o
