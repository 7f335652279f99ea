#!/bin/bash
# SPDX-License-Identifier: MIT
# The SDK for targets written outside this tree: `make install` lays out
# the headers, the pkg-config file and the module directory; the example
# target (examples/throttle) builds from them with nothing but pkg-config,
# in a clean environment; ublk-target loads it by name; and it does what
# it says -- holds a stack to a rate -- without touching the data.  The
# guest tier serves a device through it (tests/vm/e2e.sh,
# test_example_target_serves).
# Usage: O=BUILD_DIR tests/func/sdk.sh
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
O=${O:-build}
case $O in /*) ;; *) O=$top/$O ;; esac
T_SUITE=sdk
. "$top/tests/lib.sh"
B=$O/ublk-target
root=$(mktemp -d /tmp/ubt-sdk.XXXXXX)
scratch=$(mktemp -d /var/tmp/ubt-sdk.XXXXXX)
trap 'rm -rf "$root" "$scratch"' EXIT
pc() {
	env -i PATH="$PATH" PKG_CONFIG_PATH="$root/usr/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$root" \
		pkg-config "$@"
}

test_install_lays_out_the_sdk() {
	local h
	make -s -C "$top" O="$O" SANITIZE="${SANITIZE:-0}" DESTDIR="$root" prefix=/usr install \
		> "$scratch/make.out" 2>&1 || t_fail "make install: $(tail -n3 "$scratch/make.out")"
	for h in target.h io.h table.h shorthand.h util.h crc32c.h; do
		[ -f "$root/usr/include/ubt/$h" ] || t_fail "no ubt/$h installed"
	done
	[ "$(echo $(pc --cflags ublk-target))" = "-I$root/usr/include -fPIC" ] ||
		t_fail "cflags: $(pc --cflags ublk-target)"
	[ "$(echo $(pc --libs ublk-target))" = "-shared" ] || t_fail "libs: $(pc --libs ublk-target)"
	[ -d "$(pc --variable=moduledir ublk-target)" ] ||
		t_fail "no module directory $(pc --variable=moduledir ublk-target)"
}

test_example_builds_out_of_tree() {
	[ -f "$root/usr/lib/pkgconfig/ublk-target.pc" ] || t_fail "no SDK installed"
	# A copy of the folder, away from the tree: only what pkg-config says reaches it.
	cp -r "$top/examples/throttle" "$scratch/throttle"
	env -i PATH="$PATH" PKG_CONFIG_PATH="$root/usr/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$root" \
		make -s -C "$scratch/throttle" > "$scratch/build.out" 2>&1 ||
		t_fail "build: $(tail -n5 "$scratch/build.out")"
	[ -f "$scratch/throttle/ubt-throttle.so" ] || t_fail "no ubt-throttle.so"
	env -i PATH="$PATH" PKG_CONFIG_PATH="$root/usr/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$root" \
		make -s -C "$scratch/throttle" install > "$scratch/build.out" 2>&1 ||
		t_fail "install: $(tail -n5 "$scratch/build.out")"
	[ -f "$(pc --variable=moduledir ublk-target)/ubt-throttle.so" ] || t_fail "not installed"
}

test_example_loads_by_name() {
	local dir out
	dir=$(pc --variable=moduledir ublk-target)
	out=$(UBT_MODULE_DIR="$dir" $B features) || t_fail "features"
	echo "$out" | grep -q "^  throttle 1.0.0  module $dir/ubt-throttle.so$" ||
		t_fail "features does not list it: $out"
	# Built for another ABI, a module is refused and says so.
	sed 's/UBT_TARGET_ABI\t\t[0-9]*/UBT_TARGET_ABI\t\t999/' "$root/usr/include/ubt/target.h" \
		> "$scratch/target.h"
	mkdir -p "$scratch/abi/ubt" "$scratch/abi-mod"
	cp "$root/usr/include/ubt/"*.h "$scratch/abi/ubt/"
	cp "$scratch/target.h" "$scratch/abi/ubt/target.h"
	cc -fPIC -shared -I"$scratch/abi" -o "$scratch/abi-mod/ubt-throttle.so" \
		"$top/examples/throttle/throttle.c" || t_fail "build for ABI 999"
	out=$(UBT_MODULE_DIR="$scratch/abi-mod" $B features 2>&1)
	echo "$out" | grep -q "target 'throttle' was built for target ABI 999" ||
		t_fail "an ABI 999 module was not refused: $out"
	! echo "$out" | grep -q "^  throttle " || t_fail "an ABI 999 module is listed"
}

# bench: IOPS and MiB/s of a JSON line.
field() {
	sed -n "s/.*\"$1\": \([0-9.]*\).*/\1/p"
}

test_example_holds_the_rate_and_the_data() {
	local dir out iops bw
	dir=$O/examples/modules
	[ -f "$dir/ubt-throttle.so" ] || t_fail "no example built in $dir (make tests)"
	truncate -s 64M "$scratch/a.img" "$scratch/b.img"
	out=$(UBT_MODULE_DIR=$dir $B bench --spec "throttle(stripe($scratch/a.img, $scratch/b.img), \
		iops=400)" --rw randrw --verify --size 2M --runtime 3 --json 2>/dev/null) ||
		t_fail "bench: $out"
	echo "$out" | grep -q '"errors": 0, "verify_errors": 0}' || t_fail "bench: $out"
	iops=$(echo "$out" | field iops)
	[ "$iops" -ge 340 ] && [ "$iops" -le 420 ] || t_fail "400 iops asked, $iops served: $out"
	out=$(UBT_MODULE_DIR=$dir $B bench --spec "throttle($scratch/a.img, bps=2M)" --rw read \
		--bs 64K --runtime 3 --json 2>/dev/null) || t_fail "bench: $out"
	bw=$(echo "$out" | field bw_mib_s)
	awk -v b="$bw" 'BEGIN { exit !(b >= 1.7 && b <= 2.1) }' ||
		t_fail "2 MiB/s asked, $bw served: $out"
	# Unthrottled it is no slower than its child.
	out=$(UBT_MODULE_DIR=$dir $B bench --spec "throttle($scratch/a.img)" --runtime 1 --json \
		2>/dev/null) || t_fail "bench: $out"
	[ "$(echo "$out" | field iops)" -gt 2000 ] || t_fail "unthrottled: $out"
}

t_run test_install_lays_out_the_sdk
t_run test_example_builds_out_of_tree
t_run test_example_loads_by_name
t_run test_example_holds_the_rate_and_the_data
t_summary
