# SPDX-License-Identifier: MIT
#
# ublk-target: one non-recursive, kernel-style Makefile.
#
#   make                  build with .config (configs/defconfig when absent)
#   make check            build and run every test tier this machine can run
#   make demo             install what is missing, build, run the main job
#   make defconfig | menuconfig | olddefconfig | savedefconfig
#   make install DESTDIR= prefix=
#   V=1 full commands, O=dir build folder (default build/), SANITIZE=1 ASan+UBSan

SANITIZE ?= 0
ifeq ($(SANITIZE),1)
O ?= build-san
else
O ?= build
endif
prefix ?= /usr/local
includedir ?= $(prefix)/include
pkgconfigdir ?= $(prefix)/lib/pkgconfig
systemd_unit_dir ?= $(prefix)/lib/systemd/system
DESTDIR ?=
KCONFIG_PY := /usr/bin/python3

ifeq ($(V),1)
Q :=
quiet = @:
else
Q := @
quiet = @printf '  %-8s %s\n'
endif

# The configuration: .config when present, the default otherwise, with
# every symbol it does not set at its Kconfig default (a target folder added
# since the config was written builds as its Kconfig says).
CONFIG_IN := $(if $(wildcard .config),.config,configs/defconfig)
KCONFIGS := Kconfig $(wildcard targets/*/Kconfig)
CONFIG := $(O)/include/config/auto.conf
$(CONFIG): $(CONFIG_IN) $(KCONFIGS) scripts/kconfig/resolve.sh
	$(Q)mkdir -p $(dir $@)
	$(Q)scripts/kconfig/resolve.sh $< $@
include $(CONFIG)

CC ?= cc
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -D_GNU_SOURCE -pthread -fPIC \
	-Iinclude -I$(O)/include -MMD -MP
LDFLAGS += -pthread
LDLIBS := -luring -laio -lisal -ldl
ifeq ($(SANITIZE),1)
CFLAGS += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS += -fsanitize=address,undefined
endif

AUTOCONF := $(O)/include/generated/autoconf.h
.DEFAULT_GOAL := all

core-y :=
targets-y :=
targets-m :=
tools-y :=
include core/Makefile.mk
include tools/Makefile.mk
# A target is a folder: targets/NAME/Makefile.mk adds NAME to targets-y or
# targets-m and lists its objects (NAME-objs) and, if any, the libraries it
# needs (NAME-libs).  Nothing else names it.
include $(sort $(wildcard targets/*/Makefile.mk))
TARGETS := $(targets-y) $(targets-m)

CORE_OBJS := $(addprefix $(O)/,$(core-y))
TARGET_OBJS := $(foreach t,$(targets-y),$(O)/targets/$(t)/built-in.o)
MODULES := $(foreach t,$(targets-m),$(O)/modules/ubt-$(t).so)
LDLIBS += $(sort $(foreach t,$(targets-y),$($(t)-libs)))
TOOL_OBJS := $(addprefix $(O)/,$(tools-y))
BIN := $(O)/ublk-target
# The target SDK: what a target built outside this tree includes.
SDK_HEADERS := include/ubt/target.h include/ubt/io.h include/ubt/table.h \
	include/ubt/shorthand.h include/ubt/util.h include/ubt/crc32c.h

include tests/Makefile.mk
include tests/fuzz/Makefile.mk

all: $(BIN) $(MODULES)
.PHONY: all

$(AUTOCONF): $(CONFIG) scripts/kconfig/autoconf.sh
	$(Q)mkdir -p $(dir $@)
	$(quiet) GEN $@
	$(Q)scripts/kconfig/autoconf.sh $< $@

$(O)/%.o: %.c $(AUTOCONF)
	$(Q)mkdir -p $(dir $@)
	$(quiet) CC $@
	$(Q)$(CC) $(CFLAGS) -c -o $@ $<

# Targets linked in register themselves from constructors, so they are
# linked as objects, never through an archive that could drop them.
$(BIN): $(TOOL_OBJS) $(CORE_OBJS) $(TARGET_OBJS)
	$(quiet) LD $@
	$(Q)$(CC) $(LDFLAGS) -rdynamic -o $@ $^ $(LDLIBS)

# A target's objects linked into one (ld -r), which is linked in or loaded
# as a module like any other.
define target_rules
$(O)/targets/$(1)/built-in.o: $(addprefix $(O)/targets/$(1)/,$($(1)-objs)) targets/$(1)/Makefile.mk
	$$(quiet) LD $$@
	$$(Q)$$(LD) -r -o $$@ $$(filter %.o,$$^)
$(O)/modules/ubt-$(1).so: $(O)/targets/$(1)/built-in.o
	$$(Q)mkdir -p $$(dir $$@)
	$$(quiet) LD $$@
	$$(Q)$$(CC) $$(LDFLAGS) -shared -o $$@ $$< $$($(1)-libs)
endef
$(foreach t,$(TARGETS),$(eval $(call target_rules,$(t))))

# Unit tests reach statics by including the .c; the archive supplies the rest.
$(O)/libubt-core.a: $(CORE_OBJS)
	$(quiet) AR $@
	$(Q)rm -f $@ && ar rcs $@ $^

# ---- configuration --------------------------------------------------------

defconfig:
	$(Q)$(KCONFIG_PY) -m defconfig --kconfig Kconfig configs/defconfig
menuconfig:
	$(Q)$(KCONFIG_PY) -m menuconfig Kconfig
olddefconfig:
	$(Q)$(KCONFIG_PY) -m olddefconfig Kconfig
savedefconfig:
	$(Q)$(KCONFIG_PY) -m savedefconfig --kconfig Kconfig --out defconfig
	@echo "wrote ./defconfig (copy it to configs/defconfig to make it the default)"
.PHONY: defconfig menuconfig olddefconfig savedefconfig

# ---- install ---------------------------------------------------------------

MODULE_DIR_CFG := $(patsubst "%",%,$(CONFIG_MODULE_DIR))
VERSION := $(shell sed -n 's/^\#define UBT_VERSION "\(.*\)"/\1/p' tools/ublk-target/cli.h)
install: all
	install -d $(DESTDIR)$(prefix)/sbin
	install -m 0755 $(BIN) $(DESTDIR)$(prefix)/sbin/ublk-target
	install -d $(DESTDIR)$(MODULE_DIR_CFG)
ifneq ($(MODULES),)
	install -m 0644 $(MODULES) $(DESTDIR)$(MODULE_DIR_CFG)/
endif
	install -d $(DESTDIR)$(includedir)/ubt $(DESTDIR)$(pkgconfigdir)
	install -m 0644 $(SDK_HEADERS) $(DESTDIR)$(includedir)/ubt/
	sed -e 's|@PREFIX@|$(prefix)|' -e 's|@MODULEDIR@|$(MODULE_DIR_CFG)|' \
		-e 's|@VERSION@|$(VERSION)|' tools/ublk-target.pc.in \
		> $(DESTDIR)$(pkgconfigdir)/ublk-target.pc
	install -d $(DESTDIR)$(systemd_unit_dir)
	sed 's|@SBINDIR@|$(prefix)/sbin|g' tools/systemd/ublk-target@.service.in \
		> $(DESTDIR)$(systemd_unit_dir)/ublk-target@.service
	chmod 0644 $(DESTDIR)$(systemd_unit_dir)/ublk-target@.service
.PHONY: install

demo: 
	$(Q)scripts/demo.sh
.PHONY: demo

clean:
	rm -rf $(O)
distclean: clean
	rm -rf build build-san .cache .config .config.old
.PHONY: clean distclean

-include $(shell find $(O) -name '*.d' 2>/dev/null)
