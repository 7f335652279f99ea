#!/bin/bash
# SPDX-License-Identifier: MIT
# End-to-end tests against the real ublk driver.  Runs as root inside the
# test guest (tests/vm/vm-run), with the host's binaries:
#   tests/vm/vm-run [--kernel 6.12|7.3] -- tests/vm/e2e.sh [BUILD_DIR]
# The suite is named after the running kernel: vm_e2e_6.12, vm_e2e_7.3.
# After the whole suite in the default copy mode, the data tests run again
# with each other copy mode the kernel offers forced on every create (their
# own result line each, e.g. vm_e2e_7.3_copy).
# One group, closed on the last line: bash reads all of it before running
# any, so editing this file while a guest runs it cannot break that run.
{
KVER=$(uname -r | cut -d. -f1,2)
T_SUITE=vm_e2e_$KVER
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib.sh"

O=$(cd "${1:-$top/build}" && pwd) || { echo "e2e: no build folder ${1:-$top/build}"; exit 1; }
B=$O/ublk-target
export UBT_RUN_DIR=/run/ublk-target
work=$(mktemp -d /tmp/ubt-e2e.XXXXXX)
[ -e /dev/ublk-control ] || { echo "e2e: /dev/ublk-control missing: ublk_drv not loaded"; exit 1; }
# Whatever a tool leaves in its current folder stays in the scratch folder.
cd "$work"
echo "kernel $(uname -r)"

fio_job() {
	# fio_job DEV NAME [fio options...]: a direct io_uring job, terse result.
	# No verify state file (fio would write NAME-0-verify.state here).
	local dev=$1 name=$2
	shift 2
	fio --name="$name" --filename="$dev" --direct=1 --ioengine=io_uring --minimal \
		--verify_state_save=0 "$@"
}

# Every test ends with no device, no daemon and no run record.
left_nothing() {
	local i
	for i in $(seq 50); do
		pgrep -x ublk-target >/dev/null || break
		sleep 0.1
	done
	! pgrep -x ublk-target >/dev/null || t_fail "a daemon is still running: $(pgrep -a -x ublk-target)"
	[ -z "$(ls -A $UBT_RUN_DIR 2>/dev/null)" ] || t_fail "run records left: $(ls $UBT_RUN_DIR)"
	! ls /dev/ublkb* >/dev/null 2>&1 || t_fail "devices left: $(ls /dev/ublkb*)"
	! ls /dev/ublkc* >/dev/null 2>&1 || t_fail "char devices left: $(ls /dev/ublkc*)"
}

cleanup() {
	umount "$work/mnt" 2>/dev/null || true
	$B delete --all --force >/dev/null 2>&1 || true
}

daemon_pid() {
	sed -n 's/^pid=//p' "$UBT_RUN_DIR/$1.dev"
}

# kill -9 the daemon of device ID and, with it, the fio process FIO writing
# to it (started in the background with --thread, so one SIGKILL ends all
# of it: fio must not live on to open the vanished device's path again and
# make a file there); then delete what is left of the device: a crash, and
# no recovery.  (--force: fio's requests wait in the orphaned device, and
# fio, still holding it open, ends only once they fail.)
kill9_daemon_and_fio() {	# ID FIO
	kill -9 "$(daemon_pid "$1")" "$2"
	timeout 30 $B delete --force -n "$1" || t_fail "delete after kill -9"
	wait "$2" || true
}

# In the passes that repeat the data tests in other modes (LIGHT=1), the
# longest tests do less: TCG is slow and CI has a time budget.
queue_counts() {
	if [ -n "${LIGHT:-}" ]; then echo 2; else echo 1 2; fi
}

test_null_device() {
	trap cleanup EXIT
	local q dev out
	for q in $(queue_counts); do
		dev=$($B create -q $q null --size 1G) || t_fail "create null -q $q"
		[ -b "$dev" ] || t_fail "$dev is not a block device"
		[ "$(blockdev --getsize64 "$dev")" = 1073741824 ] || t_fail "size of $dev"
		out=$(fio_job "$dev" null --rw=randrw --bs=4k --iodepth=32 --runtime=2 \
			--time_based) || t_fail "fio on null -q $q"
		# terse: field 5 is the error code
		[ "$(echo "$out" | cut -d';' -f5)" = 0 ] || t_fail "fio error on null: $out"
		$B delete -n "${dev#/dev/ublkb}" || t_fail "delete"
	done
	left_nothing
}

test_file_fio_verify() {
	trap cleanup EXIT
	local q bs dev out
	truncate -s 256M "$work/v.img"
	for q in $(queue_counts); do
		dev=$($B create -q $q file --file "$work/v.img") || t_fail "create file -q $q"
		for bs in 4k 64k 1M; do
			out=$(fio_job "$dev" verify --rw=randwrite --bs=$bs --iodepth=32 \
				--size=$([ -n "${LIGHT:-}" ] && echo 16M || echo 64M) \
				--verify=crc32c --do_verify=1 --verify_fatal=1) ||
				t_fail "fio verify bs=$bs q=$q: $out"
			[ "$(echo "$out" | cut -d';' -f5)" = 0 ] || t_fail "fio error: $out"
		done
		$B delete -n "${dev#/dev/ublkb}" || t_fail "delete"
	done
	left_nothing
}

test_mkfs_mount_recreate() {
	trap cleanup EXIT
	local dev i
	truncate -s 256M "$work/fs.img"
	mkdir -p "$work/mnt" "$work/src"
	for i in 1 2 3; do
		head -c $((i * 3 * 1048576 + 12345)) /dev/urandom > "$work/src/f$i"
	done
	dev=$($B create -q 2 file --file "$work/fs.img") || t_fail "create"
	mkfs.ext4 -q -F "$dev" || t_fail "mkfs.ext4"
	mount "$dev" "$work/mnt" || t_fail "mount"
	cp "$work"/src/f* "$work/mnt/" || t_fail "copy"
	umount "$work/mnt" || t_fail "umount"
	$B delete -n "${dev#/dev/ublkb}" || t_fail "delete"
	dev=$($B create file --file "$work/fs.img") || t_fail "re-create"
	fsck.ext4 -n -f "$dev" >/dev/null 2>&1 || t_fail "fsck -n is not clean"
	mount -o ro "$dev" "$work/mnt" || t_fail "mount again"
	for i in 1 2 3; do
		cmp "$work/src/f$i" "$work/mnt/f$i" || t_fail "f$i differs after re-create"
	done
	umount "$work/mnt"
	$B delete -n "${dev#/dev/ublkb}" || t_fail "delete"
	left_nothing
}

# The partition table is read before create returns: both partitions are
# there at once, and no read of the scan arrives after create printed the
# device (kernels from about 6.19 scan from a work item after START_DEV;
# where the driver lets us, create scans itself).  What is written through
# a partition lands at its offset in the file.
test_partitions_ready_when_create_returns() {
	trap cleanup EXIT
	local dev n reads
	truncate -s 64M "$work/pt.img"
	/usr/bin/python3 - "$work/pt.img" <<-'EOF2'
	import struct, sys
	with open(sys.argv[1], "r+b") as f:
	    f.seek(446)
	    for start, size in ((2048, 40960), (43008, 20480)):
	        f.write(struct.pack("<B3sB3sII", 0, b"\0\0\0", 0x83, b"\0\0\0", start, size))
	    f.seek(510)
	    f.write(b"\x55\xaa")
	EOF2
	head -c 1M /dev/urandom > "$work/pt.pat"
	dev=$($B create file --file "$work/pt.img") || t_fail "create"
	n=${dev#/dev/ublkb}
	reads=$(awk '{print $1}' "/sys/block/ublkb$n/stat")
	[ -e "/sys/block/ublkb$n/ublkb${n}p1" ] && [ -e "/sys/block/ublkb$n/ublkb${n}p2" ] ||
		t_fail "partitions not there when create returned: $(ls "/sys/block/ublkb$n")"
	[ "$reads" -gt 0 ] || t_fail "no read of the partition table before create returned"
	sleep 2
	[ "$(awk '{print $1}' "/sys/block/ublkb$n/stat")" = "$reads" ] ||
		t_fail "reads went on after create returned: $reads, then $(awk '{print $1}' "/sys/block/ublkb$n/stat")"
	[ -b "${dev}p2" ] || t_fail "${dev}p2 is not a block device"
	dd if="$work/pt.pat" of="${dev}p2" bs=1M oflag=direct status=none || t_fail "write p2"
	$B delete -n "$n" || t_fail "delete"
	cmp -n 1048576 -i 0:$((43008 * 512)) "$work/pt.pat" "$work/pt.img" ||
		t_fail "what p2 took is not at its offset in the file"
	rm -f "$work/pt.img" "$work/pt.pat"
	left_nothing
}

test_lbs_4096() {
	trap cleanup EXIT
	local dev out
	truncate -s 64M "$work/4k.img"
	dev=$($B create --lbs 4096 file --file "$work/4k.img") || t_fail "create --lbs 4096"
	[ "$(blockdev --getss "$dev")" = 4096 ] || t_fail "logical block size is $(blockdev --getss "$dev")"
	out=$(fio_job "$dev" v4k --rw=randwrite --bs=4k --iodepth=16 --size=32M --verify=crc32c \
		--do_verify=1 --verify_fatal=1) || t_fail "fio verify: $out"
	$B delete -n "${dev#/dev/ublkb}"
	left_nothing
}

test_discard_and_write_zeroes() {
	trap cleanup EXIT
	local dev
	head -c 16M /dev/urandom > "$work/d.img"
	dev=$($B create file --file "$work/d.img") || t_fail "create"
	blkdiscard -o 1M -l 2M "$dev" || t_fail "blkdiscard"
	blkdiscard -z -o 8M -l 1M "$dev" || t_fail "blkdiscard -z"
	$B delete -n "${dev#/dev/ublkb}"
	cmp -n 2097152 -i 1048576:0 "$work/d.img" /dev/zero || t_fail "discarded range is not zero"
	cmp -n 1048576 -i 8388608:0 "$work/d.img" /dev/zero || t_fail "zeroed range is not zero"
	left_nothing
}

test_list_shows_devices() {
	trap cleanup EXIT
	local out
	truncate -s 64M "$work/l.img"
	$B create -n 3 -q 2 -d 64 file --file "$work/l.img" >/dev/null || t_fail "create"
	out=$($B list)
	echo "$out" | grep -q "^3 *live *64M *2 *64 *$MODE *file($work/l.img)$" || t_fail "list: $out"
	out=$($B list --json)
	echo "$out" | grep -q '"id": 3, "device": "/dev/ublkb3", "state": "live", "size": 67108864, "queues": 2, "depth": 64' ||
		t_fail "list --json: $out"
	$B delete -n 3
	left_nothing
}

test_delete_while_fio_runs() {
	local dev pid= rc start out
	# fio must not outlive a failure and write to the next test's device.
	trap '[ -z "$pid" ] || pkill -9 -x fio 2>/dev/null; cleanup' EXIT
	truncate -s 256M "$work/busy.img"
	dev=$($B create -q 2 file --file "$work/busy.img") || t_fail "create"
	fio_job "$dev" busy --rw=randwrite --bs=4k --iodepth=32 --runtime=60 --time_based \
		> "$work/fio.out" 2>&1 &
	pid=$!
	wait_opened "$dev" || t_fail "fio never opened $dev"
	sleep 1
	# In use: refused, naming fio; nothing changes.
	out=$($B delete -n "${dev#/dev/ublkb}" 2>&1) && t_fail "delete of a device fio has open"
	echo "$out" | grep -q "^ublk-target: device ${dev#/dev/ublkb} is in use: open by fio (pid [0-9]*)" ||
		t_fail "delete in use said: $out"
	runs "$pid" || t_fail "fio ended after a refused delete"
	start=$(date +%s)
	timeout 30 $B delete --force -n "${dev#/dev/ublkb}" || t_fail "delete under load failed or hung"
	timeout 30 tail --pid=$pid -f /dev/null || t_fail "fio hung after delete"
	wait $pid && rc=0 || rc=$?
	[ "$rc" -ne 0 ] || t_fail "fio saw no error although its device was deleted"
	[ $(( $(date +%s) - start )) -lt 30 ] || t_fail "teardown took too long"
	[ ! -e "$dev" ] || t_fail "$dev still exists"
	left_nothing
}

test_kill9_under_fio() {
	trap cleanup EXIT
	local dev pid rc start
	truncate -s 256M "$work/k.img"
	# Without recovery: the device goes with its daemon, and its I/O fails.
	dev=$($B create -q 2 --recovery none file --file "$work/k.img") || t_fail "create"
	fio_job "$dev" killed --rw=randrw --bs=4k --iodepth=32 --runtime=60 --time_based \
		> "$work/fio.out" 2>&1 &
	pid=$!
	sleep 2
	kill -9 "$(daemon_pid "${dev#/dev/ublkb}")"
	start=$(date +%s)
	timeout 30 tail --pid=$pid -f /dev/null || t_fail "fio still running 30s after kill -9"
	wait $pid && rc=0 || rc=$?
	[ "$rc" -ne 0 ] || t_fail "fio saw no error after the daemon was killed"
	echo "    I/O failed $(( $(date +%s) - start ))s after kill -9"
	timeout 30 $B delete -n "${dev#/dev/ublkb}" || t_fail "delete after kill -9"
	left_nothing
}

test_sigterm_stops_device() {
	trap cleanup EXIT
	local dev
	dev=$($B create null --size 64M) || t_fail "create"
	kill -TERM "$(daemon_pid "${dev#/dev/ublkb}")"
	left_nothing
}

test_foreground() {
	trap cleanup EXIT
	local pid
	$B create --foreground -n 7 null --size 64M > "$work/fg.out" 2>&1 &
	pid=$!
	for _ in $(seq 100); do [ -b /dev/ublkb7 ] && break; sleep 0.1; done
	[ -b /dev/ublkb7 ] || t_fail "no /dev/ublkb7 from --foreground"
	[ "$(cat "$work/fg.out")" = /dev/ublkb7 ] || t_fail "foreground printed: $(cat "$work/fg.out")"
	kill -INT $pid
	wait $pid || t_fail "foreground daemon exited non-zero after SIGINT"
	left_nothing
}

test_id_in_use() {
	trap cleanup EXIT
	$B create -n 5 null --size 64M >/dev/null || t_fail "create -n 5"
	t_expect_fail "device 5 already exists" $B create -n 5 null --size 64M
	[ "$(ls $UBT_RUN_DIR/*.dev)" = $UBT_RUN_DIR/5.dev ] || t_fail "run records: $(ls $UBT_RUN_DIR)"
	[ "$(pgrep -c -x ublk-target)" = 1 ] || t_fail "more than one daemon"
	$B delete -n 5
	t_expect_fail "no device 5" $B delete -n 5
	left_nothing
}

test_unwritable_file() {
	# The guest sees the host's root read-only: a file there cannot be opened for writing.
	trap cleanup EXIT
	local f dev
	f=$(realpath /bin/busybox)
	t_expect_fail "file: cannot open $f for writing: Read-only file system (add readonly" \
		$B create file --file $f
	left_nothing
	dev=$($B create file --file $f --readonly) || t_fail "create --readonly"
	[ "$(blockdev --getro "$dev")" = 1 ] || t_fail "$dev is not read-only"
	cmp -n 1048576 "$dev" $f || t_fail "$dev does not read back $f"
	! dd if=/dev/zero of="$dev" bs=4k count=1 oflag=direct 2>/dev/null ||
		t_fail "a write to a read-only device succeeded"
	$B delete -n "${dev#/dev/ublkb}"
	left_nothing
}

# Write the same data through our device and through the kernel's
# device-mapper over copies of the same files; the files must end up equal.
# dm_vs_ours NAME DM_TABLE_TEMPLATE OUR_SPEC_TEMPLATE FILE_MB NFILES
# (templates use @0 @1 ... for loop devices / files).
dm_vs_ours() {
	local name=$1 table=$2 spec=$3 mb=$4 n=$5 i dev size dmdev ours=() theirs=()
	for i in $(seq 0 $((n - 1))); do
		head -c $((mb * 1048576)) /dev/urandom > "$work/$name.ours.$i"
		cp "$work/$name.ours.$i" "$work/$name.dm.$i"
		theirs[$i]=$(losetup --show -f "$work/$name.dm.$i") || t_fail "losetup"
		table=${table//@$i/${theirs[$i]}}
		spec=${spec//@$i/$work/$name.ours.$i}
	done
	DM_DISABLE_UDEV=1 dmsetup create "ubt-$name" --table "$table" || t_fail "dmsetup: $table"
	dmdev=/dev/mapper/ubt-$name
	case $spec in
	table:*)
		# Our side from the same table, over the files: it must print back as given.
		dev=$(printf '%s\n' "${spec#table:}" | $B create --table -) ||
			t_fail "create --table ${spec#table:}"
		[ "$($B status -n "${dev#/dev/ublkb}" --table)" = "${spec#table:}" ] ||
			t_fail "status --table: $($B status -n "${dev#/dev/ublkb}" --table)"
		;;
	*)
		dev=$($B create --spec "$spec") || t_fail "create --spec $spec"
		;;
	esac
	size=$(blockdev --getsize64 "$dev")
	[ "$size" = "$(blockdev --getsize64 $dmdev)" ] ||
		t_fail "sizes differ: ours $size, dm $(blockdev --getsize64 $dmdev)"
	head -c "$size" /dev/urandom > "$work/$name.data"
	dd if=/dev/urandom of="$work/$name.piece" bs=512 count=77 status=none
	# The whole device, then unaligned pieces at odd offsets.
	for d in "$dev" "$dmdev"; do
		dd if="$work/$name.data" of="$d" bs=1M oflag=direct status=none || t_fail "dd to $d"
		dd if="$work/$name.piece" of="$d" bs=512 seek=1001 oflag=direct conv=notrunc status=none
		dd if="$work/$name.piece" of="$d" bs=512 seek=$((size / 512 - 77)) oflag=direct \
			conv=notrunc status=none
		sync
	done
	cmp "$dev" "$dmdev" || t_fail "$name: the devices read back differently"
	$B delete -n "${dev#/dev/ublkb}"
	DM_DISABLE_UDEV=1 dmsetup remove "ubt-$name"
	for i in $(seq 0 $((n - 1))); do
		losetup -d "${theirs[$i]}"
		cmp "$work/$name.ours.$i" "$work/$name.dm.$i" ||
			t_fail "$name: backing file $i differs from dm's"
		rm -f "$work/$name.ours.$i" "$work/$name.dm.$i"
	done
	rm -f "$work/$name.data" "$work/$name.piece"
}

test_layouts_match_device_mapper() {
	trap 'cleanup; DM_DISABLE_UDEV=1 dmsetup remove_all >/dev/null 2>&1; losetup -D' EXIT
	# striped: (stripes, chunk) pairs, chunks not powers of two included.
	# 16 MiB files: 32768 sectors each.  The first two (an odd chunk, and
	# stripes over windows) are the LIGHT passes' share.
	dm_vs_ours s3x24 "0 98280 striped 3 24 @0 0 @1 0 @2 0" "stripe(@0, @1, @2, chunk=12K)" 16 3
	dm_vs_ours swin "0 40960 striped 2 64 @0 2048 @1 4096" \
		"stripe(linear(@0, offset=1M, size=10M), linear(@1, offset=2M, size=10M), chunk=32K)" 16 2
	if [ -z "${LIGHT:-}" ]; then
		dm_vs_ours s2x64k "0 65536 striped 2 128 @0 0 @1 0" "stripe(@0, @1, chunk=64K)" 16 2
		dm_vs_ours s4x4k "0 131072 striped 4 8 @0 0 @1 0 @2 0 @3 0" \
			"stripe(@0, @1, @2, @3, chunk=4K)" 16 4
		dm_vs_ours s5x7 "0 163835 striped 5 7 @0 0 @1 0 @2 0 @3 0 @4 0" \
			"stripe(@0, @1, @2, @3, @4, chunk=3584)" 16 5
		# linear with an offset, and several linear lines (concat).
		dm_vs_ours lin "0 20480 linear @0 2048" "linear(@0, offset=1M, size=10M)" 16 1
		dm_vs_ours cat "0 32768 linear @0 0
32768 32768 linear @1 0
65536 32768 linear @2 0" "concat(@0, @1, @2)" 16 3
		# The same from a table: create --table, and status --table prints it back.
		dm_vs_ours tbl "0 32784 striped 2 24 @0 0 @1 8
32784 16384 linear @2 4096" "table:0 32784 striped 2 24 @0 0 @1 8
32784 16384 linear @2 4096" 16 3
	fi
	left_nothing
}

# A table line as both print it: devices named @0 (dm prints major:minor).
normal_table() {
	local line=$1 path=$2 loop=$3
	line=${line//$path/@0}
	line=${line//$(lsblk -dno MAJ:MIN "$loop" | tr -d ' ')/@0}
	printf '%s' "$line"
}

# fault_vs_dm NAME TABLE CHECK: the same table over copies of one file, by
# dm over a loop device and by us over the file; both tables must print
# alike, then CHECK DEV runs on each and must print the same (it may fail).
fault_vs_dm() {
	local name=$1 table=$2 check=$3 loop dev mine theirs
	head -c 8M /dev/urandom > "$work/$name.ours"
	cp "$work/$name.ours" "$work/$name.dm"
	loop=$(losetup --show -f "$work/$name.dm") || t_fail "losetup"
	DM_DISABLE_UDEV=1 dmsetup create "ubt-$name" --table "${table//@0/$loop}" ||
		t_fail "dmsetup: $table"
	dev=$(printf '%s\n' "${table//@0/$work/$name.ours}" | $B create --table -) ||
		t_fail "create --table $table"
	mine=$(normal_table "$($B status -n "${dev#/dev/ublkb}" --table)" "$work/$name.ours" "$loop")
	theirs=$(normal_table "$(dmsetup table "ubt-$name")" "$work/$name.ours" "$loop")
	[ "$mine" = "$theirs" ] || t_fail "$name: our table '$mine', dm's '$theirs'"
	mine=$($check "$dev" 2>&1) || true
	theirs=$($check "/dev/mapper/ubt-$name" 2>&1) || true
	[ "$mine" = "$theirs" ] || t_fail "$name: we gave '$mine', dm gave '$theirs'"
	[ -n "$mine" ] || t_fail "$name: the check printed nothing"
	$B delete -n "${dev#/dev/ublkb}"
	DM_DISABLE_UDEV=1 dmsetup remove "ubt-$name"
	losetup -d "$loop"
	cmp "$work/$name.ours" "$work/$name.dm" || t_fail "$name: the backing files differ"
	rm -f "$work/$name.ours" "$work/$name.dm"
}

# Checks: what a device gives back, independent of which one it is.
read_sum() {	# 4 KiB direct reads, each its own request (error text names the device)
	dd if="$1" bs=4k count=512 iflag=direct status=none 2>/dev/null | md5sum | cut -c1-32
}
write_then_read() {	# a pattern written, then read back
	yes ubt-pattern | head -c 1M > "$work/pattern"
	dd if="$work/pattern" of="$1" bs=4k oflag=direct conv=notrunc status=none 2>/dev/null &&
		echo "write ok" || echo "write failed"
	read_sum "$1" || echo "read failed"
}
read_fails() {
	dd if="$1" of=/dev/null bs=4k count=1 iflag=direct status=none 2>/dev/null &&
		echo "read ok" || echo "read failed"
}
timed_read() {	# whole tenths of a second one 4 KiB read takes
	local t0 t1
	t0=$(date +%s%N)
	dd if="$1" of=/dev/null bs=4k count=1 iflag=direct status=none
	t1=$(date +%s%N)
	echo "at least $(( (t1 - t0) / 100000000 >= 2 ? 2 : 0 ))/10 s"
}

test_fault_targets_match_device_mapper() {
	trap 'cleanup; DM_DISABLE_UDEV=1 dmsetup remove_all >/dev/null 2>&1; losetup -D' EXIT
	modprobe -a dm_zero dm_flakey dm_delay 2>/dev/null || true
	fault_vs_dm zero "0 16384 zero" write_then_read
	fault_vs_dm error "0 16384 error" write_then_read
	# Always down (up 0): dropped writes leave the file as it was.
	fault_vs_dm fdrop "0 16384 flakey @0 0 0 5 1 drop_writes" write_then_read
	fault_vs_dm ferrw "0 16384 flakey @0 0 0 5 1 error_writes" write_then_read
	fault_vs_dm fall "0 16376 flakey @0 8 0 5" read_fails
	fault_vs_dm fup "0 16376 flakey @0 8 60 1" write_then_read
	# Byte 1 of every read request becomes 0xa5.
	fault_vs_dm fcorr "0 16384 flakey @0 0 0 5 5 corrupt_bio_byte 1 r 165 0" read_sum
	fault_vs_dm delay "0 16384 delay @0 0 200" timed_read
	fault_vs_dm delay6 "0 16384 delay @0 0 0 @0 0 100" write_then_read
	left_nothing
}

# The target made by copying a target's folder (tests/func/target_folder.sh
# builds it into $O/target-copy): a device through it serves verified I/O,
# and the device's status and table name it.
test_copied_target_serves() {
	trap cleanup EXIT
	local cb=$O/target-copy/build/ublk-target dev id out
	[ -x "$cb" ] || t_fail "no build of the copied target ($cb): run tests/func/target_folder.sh"
	truncate -s 64M "$work/lag.img"
	dev=$($cb create --spec "lag($work/lag.img, read=1, write=2, name=l)") || t_fail "create"
	id=${dev#/dev/ublkb}
	out=$(fio_job "$dev" lagv --rw=randwrite --bs=16k --iodepth=16 --size=16M \
		--verify=crc32c --do_verify=1 --verify_fatal=1) || t_fail "fio verify: $out"
	[ "$(echo "$out" | cut -d';' -f5)" = 0 ] || t_fail "fio error: $out"
	$cb status -n "$id" | grep -q "^\[0 l\] 0 131072 lag 0 0 0$" ||
		t_fail "status: $($cb status -n "$id")"
	[ "$($cb status -n "$id" --table)" = "0 131072 lag $work/lag.img 0 1 $work/lag.img 0 2" ] ||
		t_fail "table: $($cb status -n "$id" --table)"
	$cb delete -n "$id" || t_fail "delete"
	left_nothing
}

# The example target, built outside the tree against the installed SDK
# (make tests puts it in $O/examples/modules), loaded by name: a device
# through it keeps fio's data, holds the rate it is given, takes a new one
# by message, and counts what it held.
test_example_target_serves() {
	trap cleanup EXIT
	local dir=$O/examples/modules dev id out iops
	[ -f "$dir/ubt-throttle.so" ] || t_fail "no example module in $dir (make tests)"
	truncate -s 64M "$work/thr.img"
	dev=$(UBT_MODULE_DIR=$dir $B create --spec "throttle($work/thr.img, iops=300, name=t)") ||
		t_fail "create"
	id=${dev#/dev/ublkb}
	out=$(fio_job "$dev" thr --rw=randread --bs=4k --iodepth=16 --runtime=3 --time_based) ||
		t_fail "fio: $out"
	iops=$(echo "$out" | cut -d';' -f8)
	[ "$iops" -ge 250 ] && [ "$iops" -le 340 ] || t_fail "300 iops asked, $iops served"
	$B message -n "$id" t iops 0 || t_fail "message iops 0"
	out=$(fio_job "$dev" thrv --rw=randwrite --bs=16k --iodepth=16 --size=16M \
		--verify=crc32c --do_verify=1 --verify_fatal=1) || t_fail "fio verify: $out"
	[ "$(echo "$out" | cut -d';' -f5)" = 0 ] || t_fail "fio error: $out"
	$B status -n "$id" | grep -q "^\[0 t\] 0 131072 throttle 0 0 0 [1-9][0-9]* [1-9][0-9]*$" ||
		t_fail "status: $($B status -n "$id")"
	t_expect_fail "throttle: want iops N, bps SIZE or burst MS" $B message -n "$id" t fast 1
	$B delete -n "$id" || t_fail "delete"
	left_nothing
}

test_message() {
	trap cleanup EXIT
	local dev id out
	truncate -s 16M "$work/m.img"
	dev=$($B create --spec "concat(flakey($work/m.img, up=3600, down=1, name=f), \
		delay(null(size=16M), read=0, name=d))") || t_fail "create"
	id=${dev#/dev/ublkb}
	out=$($B status -n "$id")
	echo "$out" | grep -q "^  \[1 f\] 0 32768 flakey$" || t_fail "status: $out"
	echo "$out" | grep -q "^  \[3 d\] 32768 32768 delay 0 0 0$" || t_fail "status: $out"
	[ "$(read_fails "$dev")" = "read ok" ] || t_fail "read while up"
	$B message -n "$id" f down || t_fail "message f down"
	[ "$(read_fails "$dev")" = "read failed" ] || t_fail "read while held down"
	$B message -n "$id" 1 up || t_fail "message 1 up"
	[ "$(read_fails "$dev")" = "read ok" ] || t_fail "read while held up"
	$B message -n "$id" d read 300 || t_fail "message d read 300"
	out=$(dd if="$dev" of=/dev/null bs=4k count=1 skip=4096 iflag=direct 2>&1 | tail -n1)
	case $out in
	*" 0."[3-9]*" s,"* | *" "[1-9]*" s,"*) ;;
	*) t_fail "a read held 300 ms took: $out" ;;
	esac
	t_expect_fail "flakey: unknown message 'sideways'" $B message -n "$id" f sideways
	t_expect_fail "no node '9'" $B message -n "$id" 9 up
	t_expect_fail "no node 'g'" $B message -n "$id" g up
	t_expect_fail "node 2 (file) takes no messages" $B message -n "$id" 2 up
	t_expect_fail "delay: unknown class 'x'" $B message -n "$id" d x 5
	t_expect_fail "give a NODE and at least one word" $B message -n "$id" f
	t_expect_fail "no device 77" $B message -n 77 f up
	$B delete -n "$id" || t_fail "delete"
	left_nothing
}

test_stack_fio_and_fsck() {
	trap cleanup EXIT
	local dev out i
	for i in 0 1 2; do truncate -s 96M "$work/st$i.img"; done
	dev=$($B create -q 2 --spec "stripe(linear($work/st0.img, offset=1M, size=64M), concat(linear($work/st1.img, size=32M), linear($work/st2.img, size=32M)), chunk=128K)") ||
		t_fail "create stack"
	[ "$(blockdev --getsize64 "$dev")" = $((128 << 20)) ] || t_fail "stack size"
	[ "$(cat /sys/block/${dev#/dev/}/queue/minimum_io_size)" = 131072 ] || t_fail "io_min"
	[ "$(cat /sys/block/${dev#/dev/}/queue/optimal_io_size)" = 262144 ] || t_fail "io_opt"
	out=$(fio_job "$dev" stackv --rw=randwrite --bs=64k --iodepth=32 --size=64M \
		--verify=crc32c --do_verify=1 --verify_fatal=1) || t_fail "fio verify: $out"
	mkfs.ext4 -q -F "$dev" || t_fail "mkfs"
	mkdir -p "$work/mnt"
	mount "$dev" "$work/mnt" || t_fail "mount"
	head -c 20M /dev/urandom > "$work/mnt/data"
	cp "$work/mnt/data" "$work/data.copy"
	umount "$work/mnt"
	fsck.ext4 -n -f "$dev" >/dev/null 2>&1 || t_fail "fsck -n not clean"
	mount -o ro "$dev" "$work/mnt" && cmp "$work/mnt/data" "$work/data.copy" ||
		t_fail "file differs"
	umount "$work/mnt"
	$B delete -n "${dev#/dev/ublkb}"
	left_nothing
}

test_status() {
	trap cleanup EXIT
	local dev id out
	truncate -s 64M "$work/sa.img" "$work/sb.img"
	dev=$($B create stripe --chunk 64K --file "$work/sa.img" --file "$work/sb.img") ||
		t_fail "create stripe"
	id=${dev#/dev/ublkb}
	t_expect_fail "file: $work/sa.img is in use by another ublk-target device" \
		$B create file --file "$work/sa.img"
	out=$($B status -n "$id")
	[ "$(echo "$out" | sed -n 1p)" = "$dev copy-mode $MODE" ] || t_fail "status: $out"
	[ "$(echo "$out" | sed -n 2p)" = "[0] 0 262144 stripe 2 file:1 file:2 1 AA" ] ||
		t_fail "status: $out"
	echo "$out" | grep -q "^  \[2\] 0 131072 file direct rw$" || t_fail "status of a child: $out"
	out=$($B status -n "$id" --table)
	[ "$out" = "0 262144 striped 2 128 $work/sa.img 0 $work/sb.img 0" ] ||
		t_fail "status --table: $out"
	kill -9 "$(daemon_pid "$id")"
	t_expect_fail "the daemon of device $id does not answer" $B status -n "$id"
	$B delete -n "$id"
	t_expect_fail "no device $id" $B status -n "$id"
	left_nothing
}

# What `features` says this kernel offers, and the mode auto picks.
offered_modes() {
	$B features | sed -n 's/^copy modes: \(.*\) (auto: .*)$/\1/p'
}

test_copy_mode_chosen_and_shown() {
	trap cleanup EXIT
	local dev out
	case $KVER in
	6.*) [ "$MODE" = copy ] || t_fail "6.x kernels have no zero copy: auto picked $MODE" ;;
	*) [ "$MODE" = zero-copy ] || t_fail "auto picked $MODE on $KVER" ;;
	esac
	dev=$($B create null --size 64M) || t_fail "create"
	$B list | grep -q "^${dev#/dev/ublkb} .* $MODE *null(size=64M)$" || t_fail "list: $($B list)"
	$B list --json | grep -q "\"copy_mode\": \"$MODE\"" || t_fail "list --json: $($B list --json)"
	$B delete -n "${dev#/dev/ublkb}"
	$B features --json | grep -q "\"auto_copy_mode\": \"$MODE\"" ||
		t_fail "features --json: $($B features --json)"
	# Every bit the driver offers is listed, one line each (by number past the names we know).
	local bits=0 lines want
	out=$($B features | sed -n '/^kernel ublk features: /,/^copy modes:/p')
	want=$(printf '%d' "$(sed -n 's/^kernel ublk features: //p' <<<"$out")")
	while [ "$want" -gt 0 ]; do bits=$((bits + (want & 1))) want=$((want >> 1)); done
	lines=$(grep -c '^  ' <<<"$out")
	[ "$lines" = "$bits" ] || t_fail "features lists $lines flags for $bits bits: $out"
	if ! echo " $(offered_modes) " | grep -q " zero-copy "; then
		t_expect_fail "--copy-mode zero-copy: this kernel's ublk driver has no automatic buffer registration (Linux 6.16+)" \
			$B create --copy-mode zero-copy null --size 64M
	else
		truncate -s 16M "$work/cm.img"
		t_expect_fail "--copy-mode zero-copy: node 0 (file) needs the data in the daemon's memory" \
			$B create --copy-mode zero-copy --engine aio file --file "$work/cm.img"
		# auto with AIO: copy
		dev=$($B create --engine aio file --file "$work/cm.img") || t_fail "create --engine aio"
		$B list | grep -q "^${dev#/dev/ublkb} .* copy *file(" || t_fail "aio not on copy: $($B list)"
		$B status -n "${dev#/dev/ublkb}" | grep -q "^\[0\] 0 32768 file direct rw aio$" ||
			t_fail "status: $($B status -n "${dev#/dev/ublkb}")"
		$B delete -n "${dev#/dev/ublkb}"
	fi
	left_nothing
}

# Queue limits the kernel got from us: scheduler, chunk_sectors, DMA
# alignment, the largest request (1M without tag buffers, 512K with them).
test_device_queue_limits() {
	trap cleanup EXIT
	local dev q
	truncate -s 64M "$work/qa.img" "$work/qb.img"
	dev=$($B create stripe --chunk 64K --file "$work/qa.img" --file "$work/qb.img") ||
		t_fail "create stripe"
	q=/sys/block/${dev#/dev/}/queue
	grep -q '\[none\]' $q/scheduler || t_fail "scheduler: $(cat $q/scheduler)"
	# the stripe splits requests itself unless asked for dm's chunk_sectors
	[ "$(cat $q/chunk_sectors)" = 0 ] || t_fail "chunk_sectors: $(cat $q/chunk_sectors)"
	if [ "$MODE" = zero-copy ]; then
		# the files' O_DIRECT memory alignment (512 on the guest's tmpfs)
		[ "$(cat $q/dma_alignment)" = 511 ] || t_fail "dma_alignment: $(cat $q/dma_alignment)"
		[ "$(cat $q/max_sectors_kb)" = 1024 ] || t_fail "max_sectors_kb: $(cat $q/max_sectors_kb)"
	else
		[ "$(cat $q/dma_alignment)" = 3 ] || t_fail "copy modes take any alignment: $(cat $q/dma_alignment)"
		[ "$(cat $q/max_sectors_kb)" = 512 ] || t_fail "max_sectors_kb: $(cat $q/max_sectors_kb)"
	fi
	$B delete -n "${dev#/dev/ublkb}"
	dev=$($B create --spec "stripe($work/qa.img, $work/qb.img, chunk=64K, chunk_sectors)") ||
		t_fail "create stripe with chunk_sectors"
	q=/sys/block/${dev#/dev/}/queue
	[ "$(cat $q/chunk_sectors)" = 128 ] || t_fail "chunk_sectors asked for: $(cat $q/chunk_sectors)"
	$B delete -n "${dev#/dev/ublkb}"
	dev=$($B create --io-scheduler mq-deadline null --size 64M) || t_fail "create mq-deadline"
	grep -q '\[mq-deadline\]' /sys/block/${dev#/dev/}/queue/scheduler ||
		t_fail "scheduler: $(cat /sys/block/${dev#/dev/}/queue/scheduler)"
	$B delete -n "${dev#/dev/ublkb}"
	t_expect_fail "cannot set the I/O scheduler of /dev/ublkb" \
		$B create --io-scheduler no-such-scheduler null --size 64M
	left_nothing
}

# Zero copy's fallback: the kernel cannot register the pages at the slot we
# name, so the daemon registers them itself for every request.
test_zero_copy_fallback() {
	trap cleanup EXIT
	local dev bs out
	truncate -s 128M "$work/fb.img"
	dev=$(UBT_TEST_BUF_REG_FALLBACK=1 $B create -q 2 --copy-mode zero-copy \
		file --file "$work/fb.img") || t_fail "create"
	for bs in 4k 1M; do
		out=$(fio_job "$dev" fallback --rw=randwrite --bs=$bs --iodepth=32 --size=64M \
			--verify=crc32c --do_verify=1 --verify_fatal=1) || t_fail "fio verify bs=$bs: $out"
	done
	$B delete -n "${dev#/dev/ublkb}"
	left_nothing
}

test_bad_inputs_in_guest() {
	# The same checks as the host's functional tier, now with ublk_drv loaded.
	UBT_BIN=$B bash "$top/tests/func/cli_errors.sh" > "$work/cli.out" 2>&1 ||
		t_fail "$(cat "$work/cli.out")"
	grep -q "^RESULT cli_errors [0-9]* 0$" "$work/cli.out" || t_fail "$(cat "$work/cli.out")"
	left_nothing
}

# A short torture run (tests/torture/torture.sh), its seed fixed per kernel:
# random stacks, faults and lifecycle events under model-checked I/O.
test_torture_short() {
	trap cleanup EXIT
	local out
	out=$(timeout 600 "$top/tests/torture/torture.sh" --seconds 60 --seed "${KVER/./}" "$O" 2>&1) ||
		t_fail "$(echo "$out" | tail -n 30)"
	echo "$out" | tail -n1 | grep -q "torture passed" || t_fail "$(echo "$out" | tail -n 30)"
	echo "    $(echo "$out" | tail -n1 | cut -d' ' -f2-)"
	left_nothing
}

# volatile: what was flushed (fsync) survives `crash`, what came after does
# not, and the crashed device fails I/O.

tests="test_null_device test_file_fio_verify test_mkfs_mount_recreate
	test_partitions_ready_when_create_returns test_lbs_4096
	test_discard_and_write_zeroes test_list_shows_devices test_delete_while_fio_runs
	test_kill9_under_fio test_sigterm_stops_device test_foreground test_id_in_use
	test_unwritable_file test_layouts_match_device_mapper test_stack_fio_and_fsck test_status
	test_copy_mode_chosen_and_shown test_device_queue_limits test_bad_inputs_in_guest
	test_fault_targets_match_device_mapper test_message test_copied_target_serves
	test_example_target_serves
	test_recover_under_fio test_restart_under_fio test_recover_watch_under_fio
	test_systemd_unit_commands test_ext4_survives_kill9_and_recover
	test_recover_restart_refusals test_delete_refuses_a_mounted_device
	test_delete_force_of_a_mounted_device
	test_reload_grows_concat_under_ext4 test_suspend_holds_io_and_resume_releases
	test_failed_reload_leaves_old_serving test_fail_io_recovery test_torture_short"
# What moves data, run again in each forced copy mode.
data_tests="test_null_device test_file_fio_verify test_mkfs_mount_recreate
	test_discard_and_write_zeroes test_delete_while_fio_runs test_kill9_under_fio
	test_layouts_match_device_mapper test_stack_fio_and_fsck"

# The scratch space one test may fill: the largest measured (the scratch
# line after each test) is about 400 MiB, with room to spare.
E2E_SCRATCH_MB=${UBT_E2E_SCRATCH_MB:-640}

# Each test starts with the space it may need (else it would fail on its own
# files, not on what it tests) and leaves none of its files behind; the
# wrappers of the forced-mode passes (bin-*) stay.
run_suite() {
	local t free
	for t in $1; do
		free=$(df -Pm "$work" | awk 'NR == 2 { print $4 }')
		if [ "$free" -lt "$E2E_SCRATCH_MB" ]; then
			echo "e2e: $work has $free MiB free and a test may need $E2E_SCRATCH_MB:" \
				"give the guest more memory (vm-run --mem)"
			T_FAILED=$((T_FAILED + 1))
			break
		fi
		t_run "$t"
		cleanup
		echo "    scratch: $(du -sm "$work" | cut -f1) MiB"
		find "$work" -mindepth 1 -maxdepth 1 ! -name 'bin-*' -exec rm -rf --one-file-system {} +
	done
	t_summary
	T_PASSED=0
	T_FAILED=0
}

. "$top/tests/vm/e2e-lifecycle.sh"
# Each built target's own end-to-end tests (they add themselves to $tests).
for f in "$top"/targets/*/tests/vm/*.sh; do
	t=${f#"$top"/targets/}
	t=${t%%/*}
	grep -qx "CONFIG_TARGET_$(echo "$t" | tr a-z A-Z)=[ym]" "$O/include/config/auto.conf" &&
		. "$f"
done

real_b=$B
# The mode auto picks here: what every default create gets.
MODE=$($B features | sed -n 's/^copy modes: .* (auto: \(.*\))$/\1/p')
modes=$(offered_modes)
echo "copy modes: $modes; auto: $MODE"
case " $modes " in
*" zero-copy "*) tests="$tests test_zero_copy_fallback" ;;
esac
rc=0
run_suite "${UBT_E2E_TESTS:-$tests}" || rc=1
# `create` with extra options, through a wrapper: wrapped NAME OPTIONS...
wrapped() {
	local name=$1 bin=$work/bin-$1
	shift
	mkdir -p "$bin"
	printf '#!/bin/sh\nif [ "$1" = create ]; then shift; exec %s create %s "$@"; fi\nexec %s "$@"\n' \
		"$real_b" "$*" "$real_b" > "$bin/ublk-target"
	chmod +x "$bin/ublk-target"
	echo "$bin/ublk-target"
}
# Each other copy mode, forced on every create.
for m in ${UBT_E2E_MODES-$modes}; do
	[ "$m" != "$MODE" ] || continue
	B=$(wrapped "$m" --copy-mode "$m") MODE=$m T_SUITE=vm_e2e_${KVER}_$m LIGHT=1 \
		run_suite "${UBT_E2E_DATA_TESTS:-$data_tests}" || rc=1
done
# The files on Linux AIO, in the mode auto then picks (copy: AIO needs the data).
B=$(wrapped aio --engine aio) MODE=copy T_SUITE=vm_e2e_${KVER}_aio LIGHT=1 \
	run_suite "${UBT_E2E_DATA_TESTS:-$data_tests}" || rc=1
cd /
rm -rf "$work"
exit $rc
}
