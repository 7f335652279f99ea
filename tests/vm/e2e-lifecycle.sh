# SPDX-License-Identifier: MIT
# End-to-end tests of a device's lifecycle: recovery after the daemon dies,
# a restart onto a new daemon.  Sourced by e2e.sh (it sets B, work and the
# t_* helpers).

# Milliseconds since the epoch.
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# Whether process PID runs (a zombie does not).
runs() { [ -r "/proc/$1/stat" ] && [ "$(cut -d' ' -f3 "/proc/$1/stat")" != Z ]; }

# Wait (up to 30 s) until some process has DEV open: fio takes seconds to
# start in the guest.
wait_opened() {	# DEV
	local f i
	for i in $(seq 300); do
		for f in /proc/[0-9]*/fd/*; do
			[ "$(readlink "$f" 2>/dev/null)" != "$1" ] || return 0
		done
		sleep 0.1
	done
	return 1
}

# fio writing with verification in the background (crc32c, checked as it
# goes and at the end) over the first 32 MiB of DEV for SECONDS.
fio_verify_bg() {	# DEV NAME SECONDS
	fio_job "$1" "$2" --rw=randwrite --bs=4k --iodepth=16 --size=32M --randseed=11 \
		--verify=crc32c --verify_backlog=512 --verify_fatal=1 --runtime="$3" \
		--time_based > "$work/$2.out" 2>&1 &
}

# fio ended without an error (terse field 5) and with exit code 0.
fio_clean() {	# PID NAME
	local rc=0
	wait "$1" || rc=$?
	[ "$rc" = 0 ] || t_fail "fio exited $rc: $(tail -n3 "$work/$2.out")"
	[ "$(tail -n1 "$work/$2.out" | cut -d';' -f5)" = 0 ] ||
		t_fail "fio saw an error: $(tail -n3 "$work/$2.out")"
}

# kill -9 the daemon three times while fio writes and verifies: the device
# stays (list: orphaned), I/O waits, recover gives it a new daemon; fio
# sees no error and every block it reads back is what it wrote.
test_recover_under_fio() {
	trap cleanup EXIT
	local dev id fp i t0 old out
	truncate -s 64M "$work/r0.img" "$work/r1.img"
	dev=$($B create -q 2 --spec "stripe($work/r0.img, $work/r1.img, chunk=64K)") ||
		t_fail "create"
	id=${dev#/dev/ublkb}
	$B list --json | grep -q '"recovery": "reissue"' || t_fail "not created with reissue: $($B list --json)"
	fio_verify_bg "$dev" rf 40
	fp=$!
	sleep 4
	for i in 1 2 3; do
		old=$(daemon_pid "$id")
		kill -9 "$old"
		t0=$(now_ms)
		for _ in $(seq 50); do
			$B list | grep -q "^$id  *orphaned" && break
			sleep 0.1
		done
		$B list | grep -q "^$id  *orphaned" || t_fail "not orphaned after kill -9: $($B list)"
		out=$($B recover -n "$id" 2>&1) || t_fail "recover $i: $out"
		[ "$out" = "$dev" ] || t_fail "recover printed: $out"
		echo "    cycle $i: kill -9 to serving again $(( $(now_ms) - t0 )) ms"
		[ "$(daemon_pid "$id")" != "$old" ] || t_fail "the run record still names daemon $old"
		$B list | grep -q "^$id  *live" || t_fail "not live after recover: $($B list)"
		sleep 3
	done
	runs "$fp" || t_fail "fio ended before the last recovery"
	fio_clean "$fp" rf
	$B delete -n "$id" || t_fail "delete"
	left_nothing
}

# restart (a new daemon takes over a live device) three times under fio,
# through a cache: no I/O error, the data verified; the old daemon marks
# the cache's metadata clean, so the new one starts from its exact state.
test_restart_under_fio() {
	trap cleanup EXIT
	local dev id fp i t0 old out
	cache_files
	dev=$($B create --spec "$(cache_spec writeback)") || t_fail "create"
	id=${dev#/dev/ublkb}
	fio_verify_bg "$dev" rs 40
	fp=$!
	sleep 4
	for i in 1 2 3; do
		old=$(daemon_pid "$id")
		t0=$(now_ms)
		out=$($B restart -n "$id" 2>&1) || t_fail "restart $i: $out"
		# The cache says what it loaded: the exact state the old daemon left.
		[ "$(echo "$out" | tail -n1)" = "$dev" ] || t_fail "restart printed: $out"
		echo "$out" | head -n1 | grep -q "^cache: the metadata maps [0-9]* of 64 blocks, [0-9]* dirty$" ||
			t_fail "the old daemon did not stop the cache cleanly: $out"
		echo "    restart $i: $(( $(now_ms) - t0 )) ms"
		! runs "$old" || t_fail "the old daemon $old still runs"
		[ "$(daemon_pid "$id")" != "$old" ] || t_fail "the run record still names daemon $old"
		sleep 3
	done
	runs "$fp" || t_fail "fio ended before the last restart"
	fio_clean "$fp" rs
	$B delete -n "$id" || t_fail "delete"
	left_nothing
}

# A mounted ext4 survives kill -9 and recover: writes made while the
# daemon was dead land once it is back; every file reads back; fsck -n
# finds nothing.
test_ext4_survives_kill9_and_recover() {
	trap cleanup EXIT
	local dev id wp i
	truncate -s 256M "$work/e.img"
	dev=$($B create file --file "$work/e.img") || t_fail "create"
	id=${dev#/dev/ublkb}
	mkfs.ext4 -q -F "$dev" || t_fail "mkfs"
	mkdir -p "$work/mnt"
	mount "$dev" "$work/mnt" || t_fail "mount"
	for i in 1 2 3 4; do
		head -c 2M /dev/urandom > "$work/src$i"
	done
	cp "$work/src1" "$work/src2" "$work/mnt/" && sync || t_fail "write before"
	kill -9 "$(daemon_pid "$id")"
	# Writes while no daemon serves: they wait.
	(cp "$work/src3" "$work/src4" "$work/mnt/" && sync) &
	wp=$!
	sleep 2
	runs "$wp" || t_fail "sync finished with no daemon serving the device"
	$B recover -n "$id" >/dev/null || t_fail "recover"
	timeout 60 tail --pid="$wp" -f /dev/null || t_fail "writes still waiting after recover"
	wait "$wp" || t_fail "writes failed across the recovery"
	echo 3 > /proc/sys/vm/drop_caches
	for i in 1 2 3 4; do
		cmp "$work/src$i" "$work/mnt/src$i" || t_fail "file $i differs"
	done
	umount "$work/mnt" || t_fail "umount"
	fsck.ext4 -n -f "$dev" > "$work/fsck.out" 2>&1 || t_fail "fsck: $(tail -n5 "$work/fsck.out")"
	$B delete -n "$id" || t_fail "delete"
	left_nothing
}

# Bad requests to recover and restart: one line each, nothing changed.
test_recover_restart_refusals() {
	trap cleanup EXIT
	local dev id out rc
	out=$($B recover -n 77 2>&1) && t_fail "recover of no device"
	[ "$out" = "ublk-target: no device 77 (see 'ublk-target list')" ] || t_fail "recover 77: $out"
	rc=0
	out=$($B recover 2>&1) || rc=$?
	[ $rc = 2 ] || t_fail "recover without -n: exit $rc"
	echo "$out" | grep -q "give either -n ID or --all" || t_fail "recover without -n: $out"
	out=$($B restart -n x 2>&1) && t_fail "restart -n x"
	dev=$($B create null --size 64M) || t_fail "create"
	id=${dev#/dev/ublkb}
	out=$($B recover -n "$id" 2>&1) && t_fail "recover of a live device"
	echo "$out" | grep -q "is served by daemon [0-9]*: nothing to recover" || t_fail "live: $out"
	$B list | grep -q "^$id  *live" || t_fail "not live after a refused recover"
	$B delete -n "$id" || t_fail "delete"
	# Without recovery the device goes with its daemon: nothing to recover.
	dev=$($B create --recovery none null --size 64M) || t_fail "create --recovery none"
	id=${dev#/dev/ublkb}
	out=$($B restart -n "$id" 2>&1) && t_fail "restart of a --recovery none device"
	echo "$out" | grep -q "created with --recovery none: a restart without I/O errors needs reissue" ||
		t_fail "restart none: $out"
	kill -9 "$(daemon_pid "$id")"
	sleep 1
	out=$($B recover -n "$id" 2>&1) && t_fail "recover of a --recovery none device"
	echo "$out" | grep -q "created with --recovery none: it cannot be recovered" ||
		t_fail "recover none: $out"
	timeout 30 $B delete -n "$id" || t_fail "delete after kill -9"
	out=$($B create --recovery sometimes null --size 64M 2>&1) && t_fail "--recovery sometimes"
	[ "$out" = "ublk-target: --recovery takes reissue, fail-io or none, not 'sometimes'" ] ||
		t_fail "--recovery sometimes: $out"
	left_nothing
}

# delete refuses a mounted device, naming the mount; nothing changes; once
# unmounted it goes.
test_delete_refuses_a_mounted_device() {
	trap cleanup EXIT
	local dev id out
	truncate -s 64M "$work/m.img"
	dev=$($B create file --file "$work/m.img") || t_fail "create"
	id=${dev#/dev/ublkb}
	mkfs.ext4 -q -F "$dev" || t_fail "mkfs"
	mkdir -p "$work/mnt"
	mount "$dev" "$work/mnt" || t_fail "mount"
	out=$($B delete -n "$id" 2>&1) && t_fail "delete of a mounted device"
	[ "$out" = "ublk-target: device $id is in use: mounted on $work/mnt; stop using it first, or 'ublk-target delete --force -n $id'" ] ||
		t_fail "delete mounted said: $out"
	$B list | grep -q "^$id  *live" || t_fail "not live after a refused delete: $($B list)"
	echo data > "$work/mnt/f" && sync || t_fail "the mount no longer works"
	umount "$work/mnt" || t_fail "umount"
	$B delete -n "$id" || t_fail "delete once unmounted"
	dev=$($B create file --file "$work/m.img") || t_fail "create again"
	mount "$dev" "$work/mnt" || t_fail "mount again"
	[ "$(cat "$work/mnt/f")" = data ] || t_fail "the file is gone"
	umount "$work/mnt" || t_fail "umount again"
	$B delete -n "${dev#/dev/ublkb}" || t_fail "delete"
	left_nothing
}
