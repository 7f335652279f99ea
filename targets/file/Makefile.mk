# The file target: `y` links it into ublk-target, `m` builds ubt-file.so.
targets-$(CONFIG_TARGET_FILE) += file
file-objs := file.o
