# Test binaries.  Unit tests: one per source file, CUnit, no kernel ublk.
# Functional tests: the in-process frontend over real files and io_uring.
unit-tests := $(patsubst tests/unit/%.c,$(O)/tests/unit/%,$(wildcard tests/unit/test_*.c))
func-tests := $(patsubst tests/func/%.c,$(O)/tests/func/%,$(wildcard tests/func/test_*.c))

$(O)/tests/unit/%: $(O)/tests/unit/%.o $(O)/libubt-core.a
	$(quiet) LD $@
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(O)/libubt-core.a $(LDLIBS) -lcunit

$(O)/tests/func/%: $(O)/tests/func/%.o $(O)/tests/func/func_util.o $(CORE_OBJS) $(TARGET_OBJS)
	$(quiet) LD $@
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS) -lcunit

# Benchmarks that need no guest (tests/bench/), built with the tests.
$(O)/tests/bench/%: $(O)/tests/bench/%.o $(O)/tests/func/func_util.o $(CORE_OBJS) $(TARGET_OBJS)
	$(quiet) LD $@
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# A target that exists only as a module, for the module-loading test.
$(O)/tests/modules/ubt-testnull.so: $(O)/tests/func/testnull_target.o
	$(Q)mkdir -p $(dir $@)
	$(quiet) LD $@
	$(Q)$(CC) $(LDFLAGS) -shared -o $@ $<

tests: $(unit-tests) $(func-tests) $(O)/tests/bench/cache_load $(BIN) $(MODULES) $(O)/tests/modules/ubt-testnull.so
.PHONY: tests

# Every tier this machine can run; the last line is "N passed, N failed".
.SECONDARY:

check: tests
	$(Q)O=$(O) SANITIZE=$(SANITIZE) tests/run-all
.PHONY: check
