# One object per target; y links it in, m builds $(O)/modules/ubt-NAME.so.
targets-$(CONFIG_TARGET_NULL) += targets/null.o
targets-$(CONFIG_TARGET_FILE) += targets/file.o
targets-$(CONFIG_TARGET_LINEAR) += targets/linear.o
targets-$(CONFIG_TARGET_CONCAT) += targets/concat.o
targets-$(CONFIG_TARGET_STRIPE) += targets/stripe.o
targets-$(CONFIG_TARGET_ZERO) += targets/zero.o
targets-$(CONFIG_TARGET_ERROR) += targets/error.o
targets-$(CONFIG_TARGET_FLAKEY) += targets/flakey.o
targets-$(CONFIG_TARGET_DELAY) += targets/delay.o
targets-$(CONFIG_TARGET_VOLATILE) += targets/volatile.o

# A target in a folder: its objects linked into one (ld -r), so it is
# linked in or loaded as a module like any other.
mirror-objs := mirror.o io.o region.o recovery.o log.o log_io.o
targets-$(CONFIG_TARGET_MIRROR) += targets/mirror.o
$(O)/targets/mirror.o: $(addprefix $(O)/targets/mirror/,$(mirror-objs)) targets/Makefile.mk
	$(quiet) LD $@
	$(Q)$(LD) -r -o $@ $(filter %.o,$^)

cache-objs := cache.o map.o migrate.o commit.o smq.o mlq.o metadata.o
targets-$(CONFIG_TARGET_CACHE) += targets/cache.o
$(O)/targets/cache.o: $(addprefix $(O)/targets/cache/,$(cache-objs)) targets/Makefile.mk
	$(quiet) LD $@
	$(Q)$(LD) -r -o $@ $(filter %.o,$^)
