#!/bin/bash
# SPDX-License-Identifier: MIT
# Bad input to the CLI: one clear line, a non-zero exit, and nothing left
# behind.  Runs on any machine: every check here fails before the kernel's
# ublk driver is needed (on a machine without ublk_drv, the last step of
# create reports that, which is checked too).
T_SUITE=cli_errors
. "$(dirname "$0")/../lib.sh"

B=${UBT_BIN:?}
export UBT_RUN_DIR=$(mktemp -d /tmp/ubt-cli.XXXXXX)
scratch=$(mktemp -d /var/tmp/ubt-cli-files.XXXXXX)
trap 'rm -rf "$UBT_RUN_DIR" "$scratch"' EXIT
truncate -s 64M "$scratch/a.img"
truncate -s 0 "$scratch/empty.img"
truncate -s 1000 "$scratch/odd.img"
mkdir "$scratch/dir"

# Nothing may be left: no run record, no daemon.
left_nothing() {
	[ -z "$(ls -A "$UBT_RUN_DIR")" ] || t_fail "run records left: $(ls "$UBT_RUN_DIR")"
	! pgrep -x ublk-target >/dev/null || t_fail "a daemon is still running"
}

test_missing_file() {
	t_expect_fail "file: cannot open $scratch/nope.img: No such file or directory" \
		$B create file --file "$scratch/nope.img"
	left_nothing
}

test_directory() {
	t_expect_fail "file: $scratch/dir is a directory" $B create file --file "$scratch/dir"
	left_nothing
}

test_empty_file() {
	t_expect_fail "file: $scratch/empty.img is empty (size 0)" \
		$B create file --file "$scratch/empty.img"
	left_nothing
}

test_zero_size() {
	t_expect_fail "null: size is zero" $B create null --size 0
	t_expect_fail "file: size is zero" $B create --spec "file($scratch/a.img, size=0)"
	left_nothing
}

test_size_not_block_multiple() {
	t_expect_fail "file: size=1000 is not a multiple of 512" \
		$B create file --file "$scratch/odd.img" --size 1000
	t_expect_fail "not a multiple of the 4096-byte block size" \
		$B create --lbs 4096 null --size 6K
	left_nothing
}

test_size_past_end() {
	t_expect_fail "goes past the end of $scratch/a.img" \
		$B create file --file "$scratch/a.img" --offset 60M --size 8M
	t_expect_fail "offset=67108864 is past the end" \
		$B create file --file "$scratch/a.img" --offset 64M
	left_nothing
}

test_not_a_file_or_block_device() {
	t_expect_fail "file: /dev/null is not a regular file or a block device" \
		$B create file --file /dev/null
	mkfifo "$scratch/fifo"
	t_expect_fail "file: $scratch/fifo is not a regular file or a block device" \
		timeout 5 $B create file --file "$scratch/fifo"
	left_nothing
}

test_unknown_target() {
	t_expect_fail "unknown target 'bogus' (shorthands: " $B create bogus --file a
	t_expect_fail "mirror has no shorthand: give the stack with --spec" $B create mirror --file a
	t_expect_fail "unknown target 'bogus'" $B create --spec "bogus(size=1G)"
	t_expect_fail "unknown target type 'raid1' (tables take " $B create --table - \
		<<<"0 8 raid1 1 0 2 a 0 b 0"
	left_nothing
}

test_malformed_spec() {
	t_expect_fail "spec: missing ')' for file( opened at column 1 at column" \
		$B create --spec "file($scratch/a.img"
	t_expect_fail "spec: unexpected ',' at column 6" $B create --spec "file(,)"
	t_expect_fail "file: unknown argument 'bogus='" \
		$B create --spec "file($scratch/a.img, bogus=1)"
	left_nothing
}

test_bad_size_suffix() {
	t_expect_fail "--size: '1Q' is not a size" $B create null --size 1Q
	t_expect_fail "null: size=12X is not a size" $B create --spec "null(size=12X)"
	left_nothing
}

test_bad_queues_and_depth() {
	t_expect_fail "-q takes a number from 1 to $(nproc), not '0'" $B create -q 0 null --size 1G
	t_expect_fail "-q takes a number from 1 to $(nproc)" $B create -q 999 null --size 1G
	t_expect_fail "-d takes a number from 1 to 4096, not '0'" $B create -d 0 null --size 1G
	t_expect_fail "-d takes a number from 1 to 4096, not '4097'" $B create -d 4097 null --size 1G
	t_expect_fail "--lbs takes 512 or 4096" $B create --lbs 1024 null --size 1G
	t_expect_fail "--copy-mode takes auto, copy, zero-copy or user-copy, not 'fast'" \
		$B create --copy-mode fast null --size 1G
	t_expect_fail "--io-scheduler takes a scheduler name" $B create --io-scheduler '' null --size 1G
	left_nothing
}

test_usage_errors_exit_2() {
	local rc
	$B create -q 0 null --size 1G 2>/dev/null && rc=0 || rc=$?
	[ $rc -eq 2 ] || t_fail "usage errors should exit 2, not $rc"
	$B bogus-command 2>/dev/null && rc=0 || rc=$?
	[ $rc -eq 2 ] || t_fail "an unknown command should exit 2, not $rc"
	t_expect_fail "delete: give either -n ID or --all" $B delete
	t_expect_fail "list: unknown option '--bogus'" $B list --bogus
	t_expect_fail "recover: give either -n ID or --all" $B recover -n 1 --all
	t_expect_fail "restart: give -n ID" $B restart
	t_expect_fail "restart: unknown option '--all'" $B restart --all
	t_expect_fail "recover: -n takes a device id, not 'x'" $B recover -n x
	t_expect_fail "recover --watch: unknown option '--all'" $B recover --watch --all
	t_expect_fail "recover --watch: give -n ID" $B recover --watch
	$B recover --watch -n 1 --all 2>/dev/null && rc=0 || rc=$?
	[ $rc -eq 2 ] || t_fail "recover --watch with -n and --all should exit 2, not $rc"
	# A run directory that cannot be locked stops a hand-over before it starts.
	: > "$scratch/not-a-dir"
	t_expect_fail "cannot lock $scratch/not-a-dir: Not a directory" \
		env UBT_RUN_DIR="$scratch/not-a-dir" $B recover -n 1
	$B restart -n 1 extra 2>/dev/null && rc=0 || rc=$?
	[ $rc -eq 2 ] || t_fail "restart with an extra argument should exit 2, not $rc"
	t_expect_fail "--recovery takes reissue, fail-io or none, not 'maybe'" \
		$B create --recovery maybe null --size 1G
}

test_suspend_reload_resume_errors() {
	local rc
	t_expect_fail "suspend: give -n ID" $B suspend
	t_expect_fail "resume: unknown option '--all'" $B resume --all
	t_expect_fail "reload: give the new stack as --spec EXPR or --table FILE" $B reload -n 1
	t_expect_fail "reload: give the new stack as --spec EXPR or --table FILE" \
		$B reload -n 1 --spec 'null(size=1G)' --table t
	t_expect_fail "reload: give -n ID" $B reload --spec 'null(size=1G)'
	t_expect_fail "reload: option '--spec' needs a value" $B reload -n 1 --spec
	$B reload -n 1 --spec 'null(size=1G)' extra 2>/dev/null && rc=0 || rc=$?
	[ $rc -eq 2 ] || t_fail "reload with an extra argument should exit 2, not $rc"
	t_expect_fail "no device 0 (see 'ublk-target list')" $B suspend -n 0
	t_expect_fail "no device 0 (see 'ublk-target list')" $B resume -n 0
	t_expect_fail "no device 0 (see 'ublk-target list')" $B reload -n 0 --spec 'null(size=1G)'
	t_expect_fail "cannot read table $scratch/none.table: No such file or directory" \
		$B reload -n 0 --table "$scratch/none.table"
	t_expect_fail "spec: " $B reload -n 0 --spec 'concat('
	left_nothing
}

test_not_root() {
	command -v setpriv >/dev/null || t_fail "setpriv is missing"
	t_expect_fail "create needs root" setpriv --reuid=65534 --regid=65534 --clear-groups \
		$B create null --size 1G
	t_expect_fail "delete needs root" setpriv --reuid=65534 --regid=65534 --clear-groups \
		$B delete -n 0
	t_expect_fail "recover needs root" setpriv --reuid=65534 --regid=65534 --clear-groups \
		$B recover -n 0
	t_expect_fail "restart needs root" setpriv --reuid=65534 --regid=65534 --clear-groups \
		$B restart -n 0
	for c in suspend resume; do
		t_expect_fail "$c needs root" setpriv --reuid=65534 --regid=65534 --clear-groups \
			$B $c -n 0
	done
	t_expect_fail "reload needs root" setpriv --reuid=65534 --regid=65534 --clear-groups \
		$B reload -n 0 --spec 'null(size=1G)'
	left_nothing
}

test_no_control_device() {
	if [ -e /dev/ublk-control ]; then
		echo "    (this kernel has ublk_drv loaded: checked in the VM tier instead)"
		return 0
	fi
	t_expect_fail "/dev/ublk-control not found: load the ublk_drv kernel module" \
		$B create null --size 1G
	t_expect_fail "/dev/ublk-control not found: load the ublk_drv kernel module" \
		$B delete -n 0
	left_nothing
}

test_module_loading() {
	local moddir out
	moddir=$(dirname "$B")/tests/modules
	[ -f "$moddir/ubt-testnull.so" ] || t_fail "no test module in $moddir"
	t_expect_fail "unknown target 'testnull'" env UBT_MODULE_DIR=/nonexistent \
		$B create --spec "testnull(size=1M)"
	out=$(UBT_MODULE_DIR=$moddir $B features) || t_fail "features"
	echo "$out" | grep -q "testnull .*module" || t_fail "features does not list the module: $out"
	if [ -e /dev/ublk-control ]; then
		out=$(UBT_MODULE_DIR=$moddir $B create --spec "testnull(size=1M)") ||
			t_fail "create from a module: $out"
		$B delete -n "${out#/dev/ublkb}" || t_fail "delete"
	else
		# Past the tree (the module was loaded), stopped only by the missing driver.
		t_expect_fail "/dev/ublk-control not found" env UBT_MODULE_DIR=$moddir \
			$B create --spec "testnull(size=1M)"
	fi
	left_nothing
}

test_bench_verifies_a_stack() {
	local out i
	for i in 0 1 2; do truncate -s 32M "$scratch/b$i.img"; done
	out=$($B bench --spec "stripe($scratch/b0.img, concat(linear($scratch/b1.img, size=16M), linear($scratch/b2.img, size=16M)), chunk=12K)" \
		--rw randrw --bs 20K --verify --runtime 1 --queues 2 --json 2>/dev/null) ||
		t_fail "bench --verify failed: $out"
	echo "$out" | grep -q '"errors": 0, "verify_errors": 0}' || t_fail "bench: $out"
	echo "$out" | grep -q '"ios": [1-9]' || t_fail "bench did no I/O: $out"
	# The same stack with every file on Linux AIO.
	out=$($B bench --spec "stripe($scratch/b0.img, concat(linear($scratch/b1.img, size=16M), linear($scratch/b2.img, size=16M)), chunk=12K)" \
		--engine aio --rw randrw --bs 20K --verify --runtime 1 --queues 2 --json 2>/dev/null) ||
		t_fail "bench --engine aio --verify failed: $out"
	echo "$out" | grep -q '"errors": 0, "verify_errors": 0}' || t_fail "bench aio: $out"
	echo "$out" | grep -q '"ios": [1-9]' || t_fail "bench aio did no I/O: $out"
	t_expect_fail "bench: --engine takes uring or aio, not 'posix'" \
		$B bench --spec "null(size=1M)" --engine posix
	# null keeps nothing: verify must catch it and fail.
	$B bench --spec "null(size=16M)" --verify --runtime 0.5 >/dev/null 2>&1 &&
		t_fail "bench --verify passed on null"
	t_expect_fail "bench: --rw takes randread, randwrite, read, write or randrw" \
		$B bench --spec "null(size=1M)" --rw bogus
	t_expect_fail "bench: --spec EXPR is required" $B bench
	t_expect_fail "stripe: chunk=0 must be a non-zero multiple" \
		$B bench --spec "stripe($scratch/b0.img, chunk=0)"
	left_nothing
}

test_file_in_use() {
	# bench holds its files while it runs: a second user of a file is refused.
	# Long enough to outlast both checks on a loaded machine (a TCG guest).
	$B bench --spec "stripe($scratch/b0.img, $scratch/b1.img)" --runtime 20 >/dev/null 2>&1 &
	local pid=$!
	sleep 1
	t_expect_fail "file: $scratch/b1.img is in use by another ublk-target device" \
		$B bench --spec "$scratch/b1.img" --runtime 1
	t_expect_fail "is in use by another ublk-target device that writes it" \
		$B bench --spec "file($scratch/b0.img, readonly)" --runtime 1
	wait $pid || t_fail "the first bench failed"
	# Windows of one file within one stack are fine.
	$B bench --spec "concat(linear($scratch/b0.img, size=8M), linear($scratch/b0.img, offset=8M, size=8M))" \
		--runtime 0.5 >/dev/null 2>"$scratch/err" || t_fail "two windows of one file in one stack refused: $(cat "$scratch/err")"
	left_nothing
}

test_mapping_errors() {
	local a=$scratch/a.img
	t_expect_fail "stripe: needs at least one child" $B create --spec "stripe(chunk=64K)"
	t_expect_fail "stripe: chunk=0 must be a non-zero multiple of the 512-byte block size" \
		$B create --spec "stripe($a, chunk=0)"
	t_expect_fail "stripe: chunk=1000 must be a non-zero multiple" $B create --spec "stripe($a, chunk=1000)"
	t_expect_fail "stripe: child 1 (67108864 bytes) is smaller than one chunk" \
		$B create --spec "stripe($a, chunk=128M)"
	t_expect_fail "stripe: the same file is used by two children" \
		$B create stripe --file "$a" --file "$a"
	t_expect_fail "stripe: chunk=-1 is not a size" $B create --spec "stripe($a, chunk=-1)"
	t_expect_fail "linear: offset=99999999999999999999 is too large" \
		$B create --spec "linear($a, offset=99999999999999999999)"
	t_expect_fail "linear: offset=1048576 size=67108864 goes past the end of its child" \
		$B create linear --file "$a" --offset 1M --size 64M
	t_expect_fail "concat: needs at least one child" $B create --spec "concat()"
	t_expect_fail "stripe: 33 children is more than 32" \
		$B create --spec "stripe($(for i in $(seq 33); do printf 'null(size=1M), '; done)chunk=4K)"
	left_nothing
}

test_fault_target_errors() {
	local a=$scratch/a.img
	t_expect_fail "zero: size= is required, e.g. zero(size=1G)" $B create --spec "zero()"
	t_expect_fail "error: takes no positional arguments" $B create --spec "error($a, size=1M)"
	t_expect_fail "flakey: up=SECONDS is required" $B create --spec "flakey($a, down=1)"
	t_expect_fail "flakey: up=x is not a whole number" $B create --spec "flakey($a, up=x, down=1)"
	t_expect_fail "flakey: Total (up + down) interval is zero" \
		$B create --spec "flakey($a, up=0, down=0)"
	t_expect_fail "flakey: Unrecognised flakey feature requested" \
		$B create --spec "flakey($a, up=1, down=1, sometimes)"
	t_expect_fail "flakey: Invalid corrupt bio direction (r or w)" \
		$B create --spec "flakey($a, up=1, down=1, corrupt_bio_byte=1:x:0:0)"
	t_expect_fail "delay: takes exactly one child" $B create --spec "delay($a, $a, read=1)"
	t_expect_fail "delay: read=-5 is not a whole number" $B create --spec "delay($a, read=-5)"
	t_expect_fail "table line 1: delay: Requires exactly 3, 6 or 9 arguments" \
		sh -c "echo '0 8 delay $a 0' | $B create --table -"
	t_expect_fail "table line 1: flakey: Invalid up interval" \
		sh -c "echo '0 8 flakey $a 0 x 1' | $B create --table -"
	t_expect_fail "null: name=7: a label cannot be a number" $B create --spec "null(size=1M, name=7)"
	t_expect_fail "message: give -n ID" $B message f up
	t_expect_fail "message: give a NODE and at least one word" $B message -n 0 f
	t_expect_fail "message: 'a b': words cannot be empty or hold white space" \
		$B message -n 0 f "a b"
	t_expect_fail "no device 0 (see 'ublk-target list')" $B message -n 0 f up
	t_expect_fail "status: unexpected argument 'dirty'" $B status -n 0 --wait dirty
	t_expect_fail "no device 0 (see 'ublk-target list')" $B status -n 0 --wait clean
	left_nothing
}

# A run record damaged outside the tools is never half believed: one line
# saying what is wrong with it, and how to be rid of it.
test_damaged_run_record() {
	local r=$UBT_RUN_DIR/7.dev
	local good='id=7\npid=1\nqueues=2\ndepth=128\nlbs=512\nsize=1048576\ncopy_mode=copy\n'
	mkdir -p "$UBT_RUN_DIR"	# (gone with the last device of an earlier test)
	printf "${good}spec=null(size=1M)" > "$r"
	t_expect_fail "the run record $r is damaged (its last line is cut short): 'ublk-target delete --force -n 7' removes it and the device" \
		$B status -n 7
	t_expect_fail "is damaged (its last line is cut short)" $B restart -n 7
	[ "$($B list 2>&1 >/dev/null)" = "ublk-target: warning: the run record of device 7 is damaged (its last line is cut short)" ] ||
		t_fail "list said: $($B list 2>&1)"
	printf "${good/queues=2/queues=0}spec=null(size=1M)\n" > "$r"
	t_expect_fail "is damaged (queues= is out of range)" $B status -n 7
	printf "${good/id=7/id=8}spec=null(size=1M)\n" > "$r"
	t_expect_fail "is damaged (it names another device)" $B status -n 7
	printf "${good/copy_mode=copy/copy_mode=fast}spec=null(size=1M)\n" > "$r"
	t_expect_fail "is damaged (copy_mode= is none of the known words)" $B status -n 7
	printf "${good}spec=null(size=1M)\nqueues=4\n" > "$r"
	t_expect_fail "is damaged (queues= is given twice)" $B status -n 7
	printf "${good/lbs=512\\n/}spec=null(size=1M)\n" > "$r"
	t_expect_fail "is damaged (lbs= is missing)" $B status -n 7
	rm -f "$r"
	left_nothing
}

test_help_everywhere() {
	for c in "" create list delete recover restart suspend reload resume features bench status \
		message; do
		out=$($B $c --help) || t_fail "'$c --help' failed"
		case $out in usage:*) ;; *) t_fail "'$c --help' printed no usage" ;; esac
	done
	[ "$($B --version)" = "ublk-target 0.1.0" ] || t_fail "--version"
	$B list >/dev/null || t_fail "list with no devices failed"
	[ "$($B list --json)" = "[]" ] || t_fail "list --json with no devices is not []"
}

for t in test_missing_file test_directory test_empty_file test_zero_size \
	test_size_not_block_multiple test_size_past_end test_not_a_file_or_block_device \
	test_unknown_target test_malformed_spec \
	test_bad_size_suffix test_bad_queues_and_depth test_usage_errors_exit_2 test_suspend_reload_resume_errors test_not_root \
	test_no_control_device test_module_loading test_bench_verifies_a_stack test_file_in_use test_mapping_errors \
	test_fault_target_errors test_damaged_run_record test_help_everywhere; do
	t_run $t
done
t_summary
