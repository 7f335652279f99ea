#!/bin/bash
# SPDX-License-Identifier: MIT
# A target is a folder, and adding one is adding its folder: copy the delay
# target's folder under a new name (lag: its names, symbols and dm name
# renamed with it, nothing else touched), build the tree, and the new
# target is there -- listed, built in by its Kconfig default, its own
# tests run and pass, a stack through it serves verified I/O, its dm line
# is its own; configured `m`, it is a module loaded by name.  The build it
# leaves in $O/target-copy serves a device through the copy in the guest
# tier (tests/vm/e2e.sh, test_copied_target_serves).
# Usage: O=BUILD_DIR tests/func/target_folder.sh
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
O=${O:-build}
case $O in /*) ;; *) O=$top/$O ;; esac
T_SUITE=target_folder
. "$top/tests/lib.sh"
copy=$O/target-copy
src=$copy/src
B=$copy/build/ublk-target
scratch=$(mktemp -d /var/tmp/ubt-folder.XXXXXX)
trap 'rm -rf "$scratch"' EXIT

test_copy_a_folder_builds_a_new_target() {
	local f out
	rm -rf "$copy"
	mkdir -p "$src"
	tar -C "$top" --exclude=./build --exclude=./build-san --exclude=./.cache --exclude=./.git \
		--exclude=./.config --exclude=./.config.old -cf - . | tar -C "$src" -xf -
	cp -r "$src/targets/delay" "$src/targets/lag"
	# The folder's own names: files, symbols, strings.
	for f in $(find "$src/targets/lag" -type f); do
		sed -i 's/delay/lag/g; s/DELAY/LAG/g' "$f"
		[ "$(basename "$f")" = "$(basename "$f" | sed 's/delay/lag/')" ] ||
			mv "$f" "$(dirname "$f")/$(basename "$f" | sed 's/delay/lag/')"
	done
	# Nothing outside the folder changed: the copy differs from the tree by it alone.
	out=$(diff -rq --exclude=build --exclude=build-san --exclude=.cache --exclude=.git \
		--exclude=target-copy --exclude=.config --exclude=.config.old "$top" "$src" 2>&1 | grep -v "^Only in $src/targets: lag$" ||
		true)
	[ -z "$out" ] || t_fail "the copy differs elsewhere: $out"
	make -s -C "$src" -j"$(nproc)" O="$copy/build" > "$scratch/make.out" 2>&1 ||
		t_fail "build: $(tail -n5 "$scratch/make.out")"
	out=$($B features) || t_fail "features"
	echo "$out" | grep -q "^  lag      1.0.0  built in$" || t_fail "features does not list lag: $out"
	echo "$out" | grep -q "dm table lines: lag" || t_fail "lag's dm line is not listed: $out"
}

test_the_copy_passes_its_own_tests() {
	[ -x "$B" ] || t_fail "no copy built"
	make -s -C "$src" O="$copy/build" "$copy/build/targets/lag/tests/func/test_lag" \
		> "$scratch/make.out" 2>&1 || t_fail "build its test: $(tail -n5 "$scratch/make.out")"
	"$copy/build/targets/lag/tests/func/test_lag" > "$scratch/test.out" 2>&1 ||
		t_fail "its tests: $(grep -a "FAIL\|RESULT" "$scratch/test.out" | head)"
	grep -aq '^RESULT lag [1-9][0-9]* 0$' "$scratch/test.out" ||
		t_fail "its tests: $(tail -n3 "$scratch/test.out")"
}

test_a_stack_through_the_copy_verifies() {
	local out
	[ -x "$B" ] || t_fail "no copy built"
	truncate -s 64M "$scratch/a.img" "$scratch/b.img"
	out=$($B bench --spec "stripe(lag($scratch/a.img, read=1, write=2), $scratch/b.img, chunk=8K)" \
		--rw randrw --bs 12K --verify --runtime 1 --json 2>/dev/null) ||
		t_fail "bench --verify through lag: $out"
	echo "$out" | grep -q '"errors": 0, "verify_errors": 0}' || t_fail "bench: $out"
	echo "$out" | grep -q '"ios": [1-9]' || t_fail "bench did no I/O: $out"
	# Its table line is its own, and its refusals name it.
	echo "0 8 lag $scratch/a.img 0" | $B create --table - --foreground >/dev/null 2>"$scratch/err" &&
		t_fail "create succeeded without ublk"
	grep -q "lag: Requires exactly 3, 6 or 9 arguments" "$scratch/err" ||
		t_fail "the table's refusal: $(cat "$scratch/err")"
}

test_the_copy_as_a_module() {
	local out
	[ -d "$src" ] || t_fail "no copy"
	echo "CONFIG_TARGET_LAG=m" > "$src/.config"
	make -s -C "$src" -j"$(nproc)" O="$copy/build-m" > "$scratch/make.out" 2>&1 ||
		t_fail "build with lag=m: $(tail -n5 "$scratch/make.out")"
	rm -f "$src/.config"
	[ -f "$copy/build-m/modules/ubt-lag.so" ] || t_fail "no ubt-lag.so"
	out=$(UBT_MODULE_DIR="$copy/build-m/modules" "$copy/build-m/ublk-target" features) ||
		t_fail "features"
	echo "$out" | grep -q "^  lag      1.0.0  module $copy/build-m/modules/ubt-lag.so$" ||
		t_fail "features does not list the module: $out"
	truncate -s 16M "$scratch/m.img"
	out=$(UBT_MODULE_DIR="$copy/build-m/modules" "$copy/build-m/ublk-target" bench \
		--spec "lag($scratch/m.img, write=1)" --rw randrw --verify --runtime 1 --json \
		2>/dev/null) || t_fail "bench through the module: $out"
	echo "$out" | grep -q '"errors": 0, "verify_errors": 0}' || t_fail "bench: $out"
	rm -rf "$copy/build-m"
}

t_run test_copy_a_folder_builds_a_new_target
t_run test_the_copy_passes_its_own_tests
t_run test_a_stack_through_the_copy_verifies
t_run test_the_copy_as_a_module
t_summary
