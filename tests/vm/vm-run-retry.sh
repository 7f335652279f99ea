#!/bin/bash
# SPDX-License-Identifier: MIT
# The harness's own check: a guest that panics while booting is booted once
# more, says so on one line, and vm-run then gives up with 125 ("did not boot
# to the command"), never running the command and never booting a third time.
# The panic is made on purpose: an init that does not exist leaves the kernel
# without a root file system.
#   tests/vm/vm-run-retry.sh KERNEL
top=$(cd "$(dirname "$0")/../.." && pwd)
T_SUITE=vm_run_retry_$1
. "$top/tests/lib.sh"
K=$1

test_boot_panic_retried_once() {
	local out=$top/.cache/vm-run-retry.out mark=$top/.cache/vm-run-retry.ran rc=0 n
	mkdir -p "$top/.cache"
	rm -f "$mark"
	UBT_VM_APPEND="rdinit=/no-such-init" "$top/tests/vm/vm-run" --kernel "$K" --mem 512M \
		--timeout 300 -- touch "$mark" > "$out" 2>&1 || rc=$?
	[ "$rc" = 125 ] || t_fail "exit $rc, wanted 125: $(tail -n 3 "$out")"
	n=$(grep -c "panicked while booting (.*); booting it once more" "$out")
	[ "$n" = 1 ] || t_fail "$n retry lines, wanted 1"
	n=$(grep -c '^\[ *[0-9.]*\] Kernel panic' "$out")
	[ "$n" = 2 ] || t_fail "$n boots panicked, wanted 2"
	grep -q "did not boot to the command" "$out" || t_fail "no last line saying the guest did not boot"
	[ ! -e "$mark" ] || t_fail "the command ran"
	rm -f "$out"
}

t_run test_boot_panic_retried_once
t_summary
