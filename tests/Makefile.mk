# Test binaries, the core's (tests/) and each built target's own
# (targets/NAME/tests/), found by their place:
#   */tests/unit/test_*.c   CUnit, no kernel ublk; a test may include the .c
#                           it tests and links the core archive for the rest
#   */tests/func/test_*.c   the in-process frontend over real files and
#                           io_uring, with the core and every built-in target
#   */tests/bench/*.c       benchmarks that need no guest
# The shell tiers (tests/func/*.sh, */tests/vm/*.sh) are run by tests/run-all.
test-dirs := tests $(foreach t,$(TARGETS),targets/$(t)/tests)
unit-tests := $(patsubst %.c,$(O)/%,$(wildcard $(addsuffix /unit/test_*.c,$(test-dirs))))
func-tests := $(patsubst %.c,$(O)/%,$(wildcard $(addsuffix /func/test_*.c,$(test-dirs))))
bench-progs := $(patsubst %.c,$(O)/%,$(wildcard $(addsuffix /bench/*.c,$(test-dirs))))
# The torture run's model-checking writer: a plain program, no library of ours.
torture-progs := $(patsubst %.c,$(O)/%,$(wildcard tests/torture/*.c))
# A target built as a module is linked into its own tests.
module-objs := $(foreach t,$(targets-m),$(O)/targets/$(t)/built-in.o)

# Tests include ut.h and func_util.h by name, and may reach core-private
# headers (core/config/config.h) to check what a tree holds.
$(addsuffix .o,$(unit-tests) $(func-tests) $(bench-progs)) $(O)/tests/func/func_util.o: \
	CFLAGS += -I. -Itests/unit -Itests/func

$(unit-tests): %: %.o $(O)/libubt-core.a
	$(quiet) LD $@
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(O)/libubt-core.a $(LDLIBS) -lcunit

$(func-tests): %: %.o $(O)/tests/func/func_util.o $(CORE_OBJS) $(TARGET_OBJS) $(module-objs)
	$(quiet) LD $@
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LDLIBS) -lcunit

$(torture-progs): %: %.o
	$(quiet) LD $@
	$(Q)$(CC) $(LDFLAGS) -o $@ $< -lpthread

$(bench-progs): %: %.o $(O)/tests/func/func_util.o $(CORE_OBJS) $(TARGET_OBJS) $(module-objs)
	$(quiet) LD $@
	$(Q)$(CC) $(LDFLAGS) -o $@ $(filter %.o,$^) $(LDLIBS)

# A target that exists only as a module, for the module-loading test.
$(O)/tests/modules/ubt-testnull.so: $(O)/tests/func/testnull_target.o
	$(Q)mkdir -p $(dir $@)
	$(quiet) LD $@
	$(Q)$(CC) $(LDFLAGS) -shared -o $@ $<

# The targets in examples/, built as their users build them: against the
# SDK as `make install` lays it out (here into $(O)/sdk), with nothing but
# pkg-config, into $(O)/examples/modules for the tiers to load by name;
# remade whole (-B) when the SDK is, since its own Makefile knows no headers.
EXAMPLES := $(patsubst examples/%/Makefile,%,$(wildcard examples/*/Makefile))
EXAMPLE_MODULES := $(foreach e,$(EXAMPLES),$(O)/examples/modules/ubt-$(e).so)
$(O)/sdk/.installed: $(BIN) $(SDK_HEADERS) tools/ublk-target.pc.in
	$(quiet) INSTALL $(O)/sdk
	$(Q)$(MAKE) -s install DESTDIR=$(abspath $(O))/sdk prefix=/usr O=$(O) SANITIZE=$(SANITIZE) \
		>/dev/null
	$(Q)touch $@

.SECONDEXPANSION:
$(EXAMPLE_MODULES): $(O)/examples/modules/ubt-%.so: $$(wildcard examples/$$*/*.[ch]) \
	examples/$$*/Makefile $(O)/sdk/.installed
	$(quiet) EXAMPLE $@
	$(Q)env PKG_CONFIG_PATH=$(abspath $(O))/sdk/usr/lib/pkgconfig \
		PKG_CONFIG_SYSROOT_DIR=$(abspath $(O))/sdk \
		$(MAKE) -B -s -C examples/$* O=$(abspath $(O))/examples/modules >/dev/null

examples: $(EXAMPLE_MODULES)
.PHONY: examples

tests: $(unit-tests) $(func-tests) $(bench-progs) $(torture-progs) $(BIN) $(MODULES) $(O)/tests/modules/ubt-testnull.so \
	$(EXAMPLE_MODULES)
.PHONY: tests

# Every tier this machine can run; the last line is "N passed, N failed".
.SECONDARY:

check: tests
	$(Q)O=$(O) SANITIZE=$(SANITIZE) tests/run-all
.PHONY: check
