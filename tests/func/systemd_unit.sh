#!/bin/bash
# SPDX-License-Identifier: MIT
# `make install` into a scratch root, and the systemd unit it installs as
# systemd reads it (systemd-analyze verify: every key known, every value
# parsed).  What the unit's commands do is tested in the guest
# (tests/vm/e2e-lifecycle.sh, test_systemd_unit_commands).
# Usage: O=BUILD_DIR tests/func/systemd_unit.sh
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
O=${O:-build}
T_SUITE=systemd_unit
. "$top/tests/lib.sh"
root=$(mktemp -d /tmp/ubt-unit.XXXXXX)
trap 'rm -rf "$root"' EXIT

test_install_puts_binary_and_unit() {
	make -s -C "$top" O="$O" SANITIZE="${SANITIZE:-0}" DESTDIR="$root" prefix=/usr install > "$root/make.out" 2>&1 ||
		t_fail "make install: $(tail -n3 "$root/make.out")"
	[ -x "$root/usr/sbin/ublk-target" ] || t_fail "no $root/usr/sbin/ublk-target"
	unit=$(find "$root" -name 'ublk-target@.service')
	[ -n "$unit" ] || t_fail "no ublk-target@.service installed"
	! grep -n '@[A-Z]*@' "$unit" || t_fail "placeholders left in $unit"
	grep -q "^ExecStart=.*/usr/sbin/ublk-target recover --watch -n %i'$" "$unit" ||
		t_fail "ExecStart does not end in the watcher: $(grep ExecStart= "$unit")"
}

test_unit_parses() {
	local unit out
	unit=$(find "$root" -name 'ublk-target@.service')
	[ -n "$unit" ] || t_fail "nothing installed"
	command -v systemd-analyze >/dev/null || t_fail "systemd-analyze is needed (run scripts/install-deps.sh)"
	# An instance of the template, as systemd would load ublk-target@3.
	cp "$unit" "$root/ublk-target@.service"
	out=$(cd "$root" && SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no \
		./ublk-target@3.service 2>&1)
	[ -z "$out" ] || t_fail "systemd-analyze verify: $out"
	# The check can fail: a misspelt key is reported.
	sed -i 's/^KillMode=/KilMode=/' "$root/ublk-target@.service"
	out=$(cd "$root" && systemd-analyze verify --man=no ./ublk-target@3.service 2>&1)
	echo "$out" | grep -q "KilMode" || t_fail "a misspelt key went unreported: $out"
}

t_run test_install_puts_binary_and_unit
t_run test_unit_parses
t_summary
