# libFuzzer targets (clang), built and run by `make fuzz`, FUZZ_SECONDS each
# (or FUZZ_RUNS executions each, for runs by hand): the core's in
# tests/fuzz/, each built target's in targets/NAME/tests/fuzz/, every
# fuzz_NAME.c with its seed inputs in corpus/NAME/ beside it.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 10
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer-no-link,address,undefined -D_GNU_SOURCE -Iinclude \
	-I$(O)/include -I.
FUZZ_LINK := -fsanitize=fuzzer,address,undefined

# The core and the built-in targets, built once with the fuzzers'
# instrumentation and linked whole (a target registers itself from a
# constructor nothing calls by name); the tools' run records beside them,
# taken by the fuzzer that uses them.
fuzz-lib-srcs := $(patsubst $(O)/%.o,%.c,$(CORE_OBJS)) \
	$(foreach t,$(targets-y),$(addprefix targets/$(t)/,$($(t)-objs:.o=.c)))
fuzz-tools-srcs := tools/ublk-target/rundir.c
fuzz-lib-objs := $(patsubst %.c,$(O)/fuzz/obj/%.o,$(fuzz-lib-srcs))
fuzz-tools-objs := $(patsubst %.c,$(O)/fuzz/obj/%.o,$(fuzz-tools-srcs))
fuzz-srcs := $(wildcard tests/fuzz/fuzz_*.c $(foreach t,$(targets-y),targets/$(t)/tests/fuzz/fuzz_*.c))
fuzzers := $(patsubst fuzz_%.c,%,$(notdir $(fuzz-srcs)))

$(fuzz-lib-objs) $(fuzz-tools-objs): $(O)/fuzz/obj/%.o: %.c $(AUTOCONF)
	$(Q)mkdir -p $(dir $@)
	$(quiet) FUZZCC $@
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(O)/fuzz/libubt-fuzz.a: $(fuzz-lib-objs)
	$(Q)rm -f $@
	$(Q)ar rcs $@ $^

$(O)/fuzz/libubt-fuzz-tools.a: $(fuzz-tools-objs)
	$(Q)rm -f $@
	$(Q)ar rcs $@ $^

define fuzz-rule
$(O)/fuzz/fuzz_$(patsubst fuzz_%.c,%,$(notdir $(1))): $(1) $(O)/fuzz/libubt-fuzz.a \
		$(O)/fuzz/libubt-fuzz-tools.a
	$$(quiet) FUZZCC $$@
	$$(Q)$$(FUZZ_CC) $$(FUZZ_CFLAGS) $$(FUZZ_LINK) -o $$@ $$< -Wl,--whole-archive \
		$(O)/fuzz/libubt-fuzz.a -Wl,--no-whole-archive $(O)/fuzz/libubt-fuzz-tools.a $$(LDLIBS)
$(O)/fuzz/corpus-of-$(patsubst fuzz_%.c,%,$(notdir $(1))) := $(dir $(1))corpus/$(patsubst fuzz_%.c,%,$(notdir $(1)))
endef
$(foreach f,$(fuzz-srcs),$(eval $(call fuzz-rule,$(f))))

fuzz: $(addprefix $(O)/fuzz/fuzz_,$(fuzzers))
	$(Q)for f in $(foreach z,$(fuzzers),$(z):$($(O)/fuzz/corpus-of-$(z))); do \
		t=$${f%%:*}; seeds=$${f#*:}; \
		mkdir -p $(O)/fuzz/corpus-$$t && \
		{ [ ! -d $$seeds ] || cp $$seeds/* $(O)/fuzz/corpus-$$t/; } && \
		$(O)/fuzz/fuzz_$$t $(if $(FUZZ_RUNS),-runs=$(FUZZ_RUNS),-max_total_time=$(FUZZ_SECONDS)) \
			-max_len=4096 $(O)/fuzz/corpus-$$t > $(O)/fuzz/fuzz_$$t.log 2>&1 || \
			{ tail -30 $(O)/fuzz/fuzz_$$t.log; echo "RESULT fuzz_$$t 0 1"; exit 1; }; \
		echo "  fuzz_$$t: $$(grep -a -o 'Done [0-9]* runs in [0-9]* second(s)' $(O)/fuzz/fuzz_$$t.log), no failure"; \
		echo "RESULT fuzz_$$t 1 0"; \
	done
.PHONY: fuzz
