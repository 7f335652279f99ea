# The cache target: `y` links it into ublk-target, `m` builds ubt-cache.so.
targets-$(CONFIG_TARGET_CACHE) += cache
cache-objs := cache.o map.o migrate.o commit.o smq.o mlq.o metadata.o
