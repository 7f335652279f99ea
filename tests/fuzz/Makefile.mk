# libFuzzer targets (clang), built and run by `make fuzz`; FUZZ_SECONDS each.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 20
FUZZ_CFLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -Iinclude -I$(O)/include
fuzz-src-spec := tests/fuzz/fuzz_spec.c core/config/spec.c core/lib/str.c
# A table line is its target's to parse: the whole core and every built-in target.
fuzz-src-table := tests/fuzz/fuzz_table.c $(patsubst $(O)/%.o,%.c,$(CORE_OBJS)) \
	$(foreach t,$(targets-y),$(addprefix targets/$(t)/,$($(t)-objs:.o=.c)))

$(O)/fuzz/fuzz_%: $(AUTOCONF) $$(fuzz-src-$$*)
	$(Q)mkdir -p $(dir $@)
	$(quiet) FUZZCC $@
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -o $@ $(fuzz-src-$*) $(if $(filter table,$*),$(LDLIBS))

fuzz: $(O)/fuzz/fuzz_spec $(O)/fuzz/fuzz_table
	$(Q)for t in spec table; do \
		mkdir -p $(O)/fuzz/corpus-$$t && cp tests/fuzz/corpus/$$t/* $(O)/fuzz/corpus-$$t/ && \
		$(O)/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
			$(O)/fuzz/corpus-$$t > $(O)/fuzz/fuzz_$$t.log 2>&1 || \
			{ tail -30 $(O)/fuzz/fuzz_$$t.log; echo "RESULT fuzz_$$t 0 1"; exit 1; }; \
		echo "  fuzz_$$t: $$(grep -a -o 'Done [0-9]* runs' $(O)/fuzz/fuzz_$$t.log) in $(FUZZ_SECONDS)s, no failure"; \
		echo "RESULT fuzz_$$t 1 0"; \
	done
.PHONY: fuzz
