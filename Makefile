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

# The configuration: .config when present, the default otherwise.
CONFIG := $(if $(wildcard .config),.config,configs/defconfig)
include $(CONFIG)

CC ?= cc
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
	-Wmissing-prototypes -D_GNU_SOURCE -pthread -fPIC \
	-Iinclude -I$(O)/include -MMD -MP
LDFLAGS += -pthread
LDLIBS := -luring -ldl
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
include targets/Makefile.mk
include tools/Makefile.mk

CORE_OBJS := $(addprefix $(O)/,$(core-y))
TARGET_OBJS := $(addprefix $(O)/,$(targets-y))
MODULES := $(patsubst targets/%.o,$(O)/modules/ubt-%.so,$(targets-m))
TOOL_OBJS := $(addprefix $(O)/,$(tools-y))
BIN := $(O)/ublk-target

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

$(O)/modules/ubt-%.so: $(O)/targets/%.o
	$(Q)mkdir -p $(dir $@)
	$(quiet) LD $@
	$(Q)$(CC) $(LDFLAGS) -shared -o $@ $<

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
install: all
	install -d $(DESTDIR)$(prefix)/sbin
	install -m 0755 $(BIN) $(DESTDIR)$(prefix)/sbin/ublk-target
ifneq ($(MODULES),)
	install -d $(DESTDIR)$(MODULE_DIR_CFG)
	install -m 0644 $(MODULES) $(DESTDIR)$(MODULE_DIR_CFG)/
endif
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
