# SPDX-License-Identifier: MIT
# End-to-end tests of a device's lifecycle: recovery after the daemon dies,
# a restart onto a new daemon.  Sourced by e2e.sh (it sets B, work and the
# t_* helpers).

# Milliseconds since the epoch.
now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# Whether process PID runs (a zombie does not).
runs() { [ -r "/proc/$1/stat" ] && [ "$(cut -d' ' -f3 "/proc/$1/stat")" != Z ]; }

# Wait (up to 5 s) until `list` shows device ID orphaned: its daemon gone.
wait_orphaned() {	# ID
	for _ in $(seq 50); do
		$B list | grep -q "^$1  *orphaned" && return 0
		sleep 0.1
	done
	return 1
}

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
		wait_orphaned "$id" || t_fail "not orphaned after kill -9: $($B list)"
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

# recover --watch under fio: kill -9 twice, each time a new daemon serves
# without anyone running recover; a restart meanwhile is the restart's (the
# watcher follows its daemon and recovers it after one more kill -9); fio
# sees no error and its data verifies; delete ends the watcher by itself,
# exit 0, and nothing is left.  Refused: a device created with --recovery
# none.
test_recover_watch_under_fio() {
	trap 'kill -9 ${wp:-} 2>/dev/null || true; cleanup' EXIT
	local dev id fp wp= i old out rc=0
	truncate -s 64M "$work/w0.img"
	dev=$($B create --recovery none --spec "$work/w0.img") || t_fail "create (none)"
	out=$($B recover --watch -n "${dev#/dev/ublkb}" 2>&1) && t_fail "--watch on --recovery none"
	echo "$out" | grep -q "recovery none" || t_fail "--watch on --recovery none: $out"
	$B delete -n "${dev#/dev/ublkb}" || t_fail "delete (none)"
	dev=$($B create -q 2 --spec "$work/w0.img") || t_fail "create"
	id=${dev#/dev/ublkb}
	$B recover --watch -n "$id" > "$work/watch.out" 2> "$work/watch.err" &
	wp=$!
	fio_verify_bg "$dev" wf 40
	fp=$!
	sleep 4
	for i in 1 2 3; do
		old=$(daemon_pid "$id")
		if [ "$i" = 2 ]; then
			out=$($B restart -n "$id" 2>&1) || t_fail "restart beside the watcher: $out"
		else
			kill -9 "$old"
		fi
		for _ in $(seq 100); do
			[ "$(daemon_pid "$id" 2>/dev/null)" = "$old" ] || break
			sleep 0.1
		done
		[ "$(daemon_pid "$id")" != "$old" ] || t_fail "cycle $i: no new daemon after 10 s"
		runs "$(daemon_pid "$id")" || t_fail "cycle $i: the new daemon does not run"
		runs "$wp" || t_fail "cycle $i: the watcher ended: $(cat "$work/watch.err")"
		$B list | grep -q "^$id  *live" || t_fail "cycle $i: not live: $($B list)"
		sleep 3
	done
	# Two recoveries by the watcher (the kills), none for the restart.
	[ "$(grep -c "^$dev\$" "$work/watch.out")" = 2 ] ||
		t_fail "the watcher printed: $(cat "$work/watch.out")"
	runs "$fp" || t_fail "fio ended before the last cycle"
	fio_clean "$fp" wf
	$B delete -n "$id" || t_fail "delete"
	for _ in $(seq 100); do runs "$wp" || break; sleep 0.1; done
	! runs "$wp" || t_fail "the watcher still runs after the delete"
	wait "$wp" || rc=$?
	[ "$rc" = 0 ] || t_fail "the watcher exited $rc: $(cat "$work/watch.err")"
	grep -q "is deleted" "$work/watch.err" || t_fail "the watcher said: $(cat "$work/watch.err")"
	left_nothing
}

# One line of the systemd unit (tools/systemd/), as systemd would run it
# for instance ID: %i filled in, the binary and the configuration folder
# the test's own.
unit_line() {	# KEY ID
	sed -e "s|@SBINDIR@|$O|g" -e "s|/etc/ublk-target|$work/etc|g" -e "s|%i|$2|g" \
		"$top/tools/systemd/ublk-target@.service.in" | sed -n "s/^$1=//p"
}

# ExecStart in the background under a stand-in for systemd's notify socket.
unit_start() {	# ID
	( export NOTIFY_SOCKET=$work/notify.sock; eval "exec $(unit_line ExecStart "$1")" ) \
		>> "$work/unit.out" 2>> "$work/unit.err" &
}

# Wait until the notify socket has had N messages saying READY=1.
wait_ready() {	# N
	for _ in $(seq 200); do
		[ "$(grep -c '^READY=1$' "$work/notify.log" 2>/dev/null)" -lt "$1" ] || return 0
		sleep 0.1
	done
	t_fail "no READY=1 number $1 in 20 s: $(cat "$work/notify.log" "$work/unit.err" 2>&1)"
}

# The systemd unit's own commands, run as systemd runs them (no systemd in
# the guest): ExecStart creates the device from ID.spec and ID.opts and
# becomes the watcher, which says READY=1 once the device serves; a kill -9
# of the daemon is recovered by the watcher with the data intact; ExecStart
# again after the watcher ended finds the device served, and after the
# watcher and the daemon both died recovers it; ExecStop deletes it, the
# watcher ends with 0, and ExecStop on a deleted device does nothing.
test_systemd_unit_commands() {
	trap 'kill -9 ${lp:-} $(pgrep -f "recover --watch") 2>/dev/null || true; cleanup' EXIT
	local id=6 dev=/dev/ublkb6 lp= wp old rc=0
	mkdir -p "$work/etc"
	truncate -s 64M "$work/u.img"
	echo "$work/u.img" > "$work/etc/$id.spec"
	echo "-q 2" > "$work/etc/$id.opts"
	/usr/bin/python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
with open(sys.argv[2], "a") as f:
    while True:
        f.write(s.recv(4096).decode()); f.flush()' "$work/notify.sock" "$work/notify.log" &
	lp=$!
	for _ in $(seq 50); do [ -S "$work/notify.sock" ] && break; sleep 0.1; done
	[ -S "$work/notify.sock" ] || t_fail "the notify listener did not start"

	unit_start "$id"
	wp=$!
	wait_ready 1
	$B list | grep -q "^$id  *live" || t_fail "ready, but device $id is not live: $($B list)"
	[ "$(ls /sys/block/ublkb$id/mq | wc -l)" = 2 ] || t_fail "ID.opts (-q 2) not used"
	head -c 8M /dev/urandom > "$work/u.data"
	dd if="$work/u.data" of="$dev" bs=1M oflag=direct status=none || t_fail "write"

	old=$(daemon_pid "$id")
	kill -9 "$old"
	wait_ready 2
	[ "$(daemon_pid "$id")" != "$old" ] || t_fail "no new daemon"
	grep -q "recoveries by this watcher: 1" "$work/notify.log" || t_fail "status: $(cat "$work/notify.log")"
	cmp -n 8388608 "$work/u.data" "$dev" || t_fail "data differs after the watcher's recovery"

	# The watcher ends (systemd restarts a failed unit): the device is found served.
	kill "$wp"
	wait "$wp" 2>/dev/null || true
	old=$(daemon_pid "$id")
	unit_start "$id"
	wp=$!
	wait_ready 3
	[ "$(daemon_pid "$id")" = "$old" ] || t_fail "a served device got a new daemon"

	# The watcher and the daemon both gone: ExecStart recovers the device.
	kill "$wp"
	wait "$wp" 2>/dev/null || true
	kill -9 "$old"
	unit_start "$id"
	wp=$!
	wait_ready 4
	[ "$(daemon_pid "$id")" != "$old" ] || t_fail "the orphan was not recovered"
	cmp -n 8388608 "$work/u.data" "$dev" || t_fail "data differs after ExecStart's recovery"

	SERVICE_RESULT=success eval "$(unit_line ExecStop "$id")" || t_fail "ExecStop"
	for _ in $(seq 100); do runs "$wp" || break; sleep 0.1; done
	! runs "$wp" || t_fail "the watcher still runs after ExecStop"
	wait "$wp" || rc=$?
	[ "$rc" = 0 ] || t_fail "the watcher exited $rc: $(cat "$work/unit.err")"
	SERVICE_RESULT=success eval "$(unit_line ExecStop "$id")" ||
		t_fail "ExecStop on a deleted device failed"
	kill "$lp"
	left_nothing
}

# A new file device (FILE of SIZE) with an ext4 mounted on $work/mnt; prints it.
mounted_file_device() {	# FILE SIZE
	local dev
	truncate -s "$2" "$1"
	dev=$($B create file --file "$1") || t_fail "create"
	mkfs.ext4 -q -F "$dev" || t_fail "mkfs"
	mkdir -p "$work/mnt"
	mount "$dev" "$work/mnt" || t_fail "mount"
	echo "$dev"
}

# A mounted ext4 survives kill -9 and recover: writes made while the
# daemon was dead land once it is back; every file reads back; fsck -n
# finds nothing.
test_ext4_survives_kill9_and_recover() {
	trap cleanup EXIT
	local dev id wp i
	dev=$(mounted_file_device "$work/e.img" 256M) || exit 1
	id=${dev#/dev/ublkb}
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
	dev=$(mounted_file_device "$work/m.img" 64M) || exit 1
	id=${dev#/dev/ublkb}
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

# --force deletes a mounted device at once: the disk goes, the file
# system's I/O fails, the daemon ends; the number stays taken until the
# unmount, and is free right after it.
test_delete_force_of_a_mounted_device() {
	trap cleanup EXIT
	local dev id out t0
	dev=$(mounted_file_device "$work/m.img" 64M) || exit 1
	id=${dev#/dev/ublkb}
	echo data > "$work/mnt/f" && sync || t_fail "write"
	t0=$(date +%s)
	out=$(timeout 60 $B delete --force -n "$id" 2>&1) || t_fail "delete --force: $out"
	[ $(( $(date +%s) - t0 )) -le 15 ] || t_fail "delete --force took $(( $(date +%s) - t0 )) s"
	[ "$out" = "ublk-target: device $id is deleted; its number stays taken until its last user lets go: mounted on $work/mnt" ] ||
		t_fail "delete --force said: $out"
	[ ! -e "$dev" ] || t_fail "$dev is still there"
	! pgrep -x ublk-target >/dev/null || t_fail "the daemon lives on"
	[ -z "$($B list | grep "^$id ")" ] || t_fail "list: $($B list)"
	dd if=/dev/zero of="$work/mnt/g" bs=4k count=1 oflag=direct status=none 2>/dev/null &&
		t_fail "a write to the file system of a deleted device worked"
	out=$($B create -n "$id" file --file "$work/m.img" 2>&1) && t_fail "number $id reused while held"
	umount "$work/mnt" || t_fail "umount"
	# (The kernel frees the number as the unmount lets go of the disk.)
	for _ in $(seq 50); do
		dev=$($B create -n "$id" file --file "$work/m.img" 2>/dev/null) && break
		sleep 0.1
	done
	[ "$dev" = "/dev/ublkb$id" ] || t_fail "create -n $id after the unmount"
	$B delete -n "$id" || t_fail "delete"
	left_nothing
}

# Whether the kernel changes a live device's size (UPDATE_SIZE, 6.16+).
can_update_size() { $B features | grep -qx "  update_size"; }

# Files written through an ext4 on DEV's mount, then read back after the
# page cache is dropped.
write_files() {	# FIRST LAST
	local i
	for i in $(seq "$1" "$2"); do
		head -c 4M /dev/urandom > "$work/src$i"
		cp "$work/src$i" "$work/mnt/" || t_fail "write file $i"
	done
	sync
}
check_files() {	# FIRST LAST WHEN
	local i
	echo 3 > /proc/sys/vm/drop_caches
	for i in $(seq "$1" "$2"); do
		cmp -s "$work/src$i" "$work/mnt/src$i" || t_fail "file $i differs $3"
	done
}

# reload + resume under a mounted ext4: the same size on any kernel (a
# concat of one file becomes a linear window of it); where the kernel can
# (6.16+) a concat grows by a second file, blockdev and resize2fs follow,
# files past the old end are written, every file reads back, fsck is
# clean, and a kill -9 + recover rebuilds the grown stack.  Elsewhere the
# growth is refused and the old stack serves on.
test_reload_grows_concat_under_ext4() {
	trap cleanup EXIT
	local dev id out size i
	truncate -s 128M "$work/g0.img" "$work/g1.img"
	# Relative paths: the run record (and so a recovery) gets them absolute.
	dev=$(cd "$work" && $B create --spec "concat(g0.img)") || t_fail "create"
	id=${dev#/dev/ublkb}
	grep -qx "spec=concat($work/g0.img)" "$UBT_RUN_DIR/$id.dev" ||
		t_fail "the run record: $(grep spec= "$UBT_RUN_DIR/$id.dev")"
	mkfs.ext4 -q -F "$dev" || t_fail "mkfs"
	mkdir -p "$work/mnt"
	mount "$dev" "$work/mnt" || t_fail "mount"
	write_files 1 2
	out=$(cd "$work" && $B reload -n "$id" --spec "linear(g0.img)") ||
		t_fail "same-size reload: $out"
	[ "$out" = "loaded: 134217728 bytes (the device is 134217728)" ] || t_fail "reload said: $out"
	$B status -n "$id" | grep -q "concat" || t_fail "the loaded stack ran before resume"
	out=$($B resume -n "$id") || t_fail "resume: $out"
	[ -z "$out" ] || t_fail "a same-size resume printed: $out"
	$B status -n "$id" | grep -q "^\[0\] .* linear" || t_fail "still the old stack: $($B status -n "$id")"
	grep -qx "spec=linear($work/g0.img)" "$UBT_RUN_DIR/$id.dev" ||
		t_fail "the run record after resume: $(grep spec= "$UBT_RUN_DIR/$id.dev")"
	check_files 1 2 "after the same-size switch"
	if ! can_update_size; then
		out=$($B reload -n "$id" --spec "concat($work/g0.img, $work/g1.img)" 2>&1) &&
			t_fail "a growing reload on a kernel without UPDATE_SIZE"
		echo "$out" | grep -q "this kernel cannot change a device's size while it runs (UPDATE_SIZE, Linux 6.16)" ||
			t_fail "refusal said: $out"
		echo "    this kernel has no UPDATE_SIZE: growth refused, the rest runs"
		write_files 3 3
		check_files 1 3 "after a refused reload"
		umount "$work/mnt" || t_fail "umount"
		$B delete -n "$id" || t_fail "delete"
		left_nothing
		return 0
	fi
	out=$($B reload -n "$id" --spec "concat($work/g0.img, $work/g1.img)") || t_fail "reload: $out"
	write_files 3 3	# the running stack serves while the new one waits
	out=$($B resume -n "$id") || t_fail "resume: $out"
	[ "$out" = "resumed: 268435456 bytes (was 134217728)" ] || t_fail "resume said: $out"
	size=$(blockdev --getsize64 "$dev")
	[ "$size" = 268435456 ] || t_fail "blockdev --getsize64 says $size"
	resize2fs "$dev" > "$work/resize.out" 2>&1 || t_fail "resize2fs: $(tail -n3 "$work/resize.out")"
	size=$(df -B1M --output=size "$work/mnt" | tail -n1)
	[ "$size" -gt 200 ] || t_fail "the file system is still $size MiB"
	# 132 MiB in all, more than the old 128 MiB held: some of it past the old end.
	for i in $(seq 4 33); do
		head -c 4M /dev/urandom > "$work/src$i"
		cp "$work/src$i" "$work/mnt/" || t_fail "write file $i after the growth"
	done
	sync
	check_files 1 33 "after the growth"
	$B status -n "$id" | grep -c "file" | grep -qx 2 || t_fail "status: $($B status -n "$id")"
	kill -9 "$(daemon_pid "$id")"
	sleep 1
	$B recover -n "$id" >/dev/null || t_fail "recover after the growth"
	$B status -n "$id" | grep -c "file" | grep -qx 2 || t_fail "recover rebuilt: $($B status -n "$id")"
	check_files 1 33 "after kill -9 and recover"
	umount "$work/mnt" || t_fail "umount"
	fsck.ext4 -n -f "$dev" > "$work/fsck.out" 2>&1 || t_fail "fsck: $(tail -n5 "$work/fsck.out")"
	$B delete -n "$id" || t_fail "delete"
	rm -f "$work"/src[0-9]*
	left_nothing
}

# suspend holds I/O: fio writing (and verifying) stalls for as long as the
# device is suspended, list says so, delete refuses it; resume lets it go,
# fio sees no error and its longest I/O took at least the suspension.
test_suspend_holds_io_and_resume_releases() {
	trap cleanup EXIT
	local dev id fp out before after clat
	truncate -s 64M "$work/s.img"
	dev=$($B create file --file "$work/s.img") || t_fail "create"
	id=${dev#/dev/ublkb}
	fio_verify_bg "$dev" sf 30
	fp=$!
	wait_opened "$dev" || t_fail "fio did not start"
	sleep 1
	$B suspend -n "$id" || t_fail "suspend"
	$B suspend -n "$id" || t_fail "a second suspend"
	$B list | grep -q "^$id  *suspended" || t_fail "list: $($B list)"
	# Reads and writes completed (stat fields 1 and 5) stand still.
	before=$(awk '{print $1, $5}' "/sys/block/ublkb$id/stat")
	sleep 2
	after=$(awk '{print $1, $5}' "/sys/block/ublkb$id/stat")
	[ "$before" = "$after" ] || t_fail "I/O completed while suspended: $before, then $after"
	out=$($B delete -n "$id" 2>&1) && t_fail "delete of a suspended device"
	[ "$out" = "ublk-target: device $id is suspended (its I/O is held): 'ublk-target resume -n $id' first, or 'ublk-target delete --force -n $id'" ] ||
		t_fail "delete said: $out"
	runs "$fp" || t_fail "fio ended while suspended: $(tail -n3 "$work/sf.out")"
	$B resume -n "$id" || t_fail "resume"
	$B resume -n "$id" || t_fail "a resume of a running device"
	$B list | grep -q "^$id  *live" || t_fail "not live after resume: $($B list)"
	fio_clean "$fp" sf
	# Terse fields 15 and 56: the longest read (fio's verify) and write, in microseconds.
	clat=$(tail -n1 "$work/sf.out" | awk -F';' '{ print ($15 > $56) ? $15 : $56 }')
	[ "$clat" -ge 2000000 ] || t_fail "the longest I/O took $clat us, less than the suspension"
	echo "    longest I/O across a suspension of about 2 s: $((clat / 1000)) ms"
	$B delete -n "$id" || t_fail "delete"
	left_nothing
}

# Reloads that cannot serve the device are refused, one line each; the
# old stack serves on with its data; nothing is left loaded.
test_failed_reload_leaves_old_serving() {
	trap cleanup EXIT
	local dev id out rc
	truncate -s 64M "$work/f.img" "$work/f2.img"
	head -c 1M /dev/urandom > "$work/pat"
	dev=$($B create file --file "$work/f.img") || t_fail "create"
	id=${dev#/dev/ublkb}
	dd if="$work/pat" of="$dev" bs=1M oflag=direct status=none || t_fail "write"
	out=$($B reload -n "$id" --spec "file($work/none.img)" 2>&1) && t_fail "reload of a missing file"
	echo "$out" | grep -q "^ublk-target: .*none.img" || t_fail "missing file: $out"
	out=$($B reload -n "$id" --spec "file($work/f.img, readonly)" 2>&1) && t_fail "read-only reload"
	echo "$out" | grep -q "the new stack cannot serve this device: it is read-only" ||
		t_fail "read-only: $out"
	out=$($B reload -n "$id" --spec "concat(" 2>&1) && t_fail "a bad spec"
	echo "$out" | grep -q "^ublk-target: spec: " || t_fail "bad spec: $out"
	if can_update_size; then
		# 32 MiB while mounted: a shrink of a device in use.
		mkfs.ext4 -q -F "$dev" || t_fail "mkfs"
		mkdir -p "$work/mnt"
		mount "$dev" "$work/mnt" || t_fail "mount"
		out=$($B reload -n "$id" --spec "file($work/f2.img, size=32M)" 2>&1) &&
			t_fail "a shrink of a mounted device"
		echo "$out" | grep -q "smaller than the device's 67108864, and the device is in use" ||
			t_fail "shrink: $out"
		umount "$work/mnt" || t_fail "umount"
		dd if="$work/pat" of="$dev" bs=1M oflag=direct status=none || t_fail "rewrite"
	fi
	rc=0
	out=$($B reload -n "$id" 2>&1) || rc=$?
	[ $rc = 2 ] && echo "$out" | grep -q "give the new stack as --spec EXPR or --table FILE" ||
		t_fail "reload without a stack: exit $rc: $out"
	out=$($B resume -n 77 2>&1) && t_fail "resume of no device"
	[ "$out" = "ublk-target: no device 77 (see 'ublk-target list')" ] || t_fail "resume 77: $out"
	# Nothing was loaded: resume changes nothing, and the data is there.
	$B resume -n "$id" || t_fail "resume"
	$B status -n "$id" | grep -q "^\[0\] .* file " || t_fail "status: $($B status -n "$id")"
	cmp -s -n 1M "$work/pat" "$dev" || t_fail "the data changed"
	dd if="$work/pat" of="$dev" bs=1M seek=8 oflag=direct status=none || t_fail "write after"
	dd if="$dev" of="$work/back" bs=1M skip=8 count=1 iflag=direct status=none || t_fail "read"
	cmp -s "$work/pat" "$work/back" || t_fail "a write after the refusals reads back wrong"
	$B delete -n "$id" || t_fail "delete"
	left_nothing
}

# --recovery fail-io (6.13+): once the daemon dies, I/O fails at once
# instead of waiting; recover brings the device back with its data.  A
# kernel without it refuses the option, saying which kernel has it.
test_fail_io_recovery() {
	trap cleanup EXIT
	local dev id out t0 ms
	truncate -s 64M "$work/x.img"
	head -c 1M /dev/urandom > "$work/pat"
	if ! $B features | grep -qx "  user_recovery_fail_io"; then
		out=$($B create --recovery fail-io file --file "$work/x.img" 2>&1) &&
			t_fail "--recovery fail-io on a kernel without it"
		[ "$out" = "ublk-target: --recovery fail-io: this kernel's ublk driver does not offer it (fail-io needs Linux 6.13 or later)" ] ||
			t_fail "refusal said: $out"
		echo "    this kernel has no fail-io: refused"
		left_nothing
		return 0
	fi
	dev=$($B create --recovery fail-io file --file "$work/x.img") || t_fail "create"
	id=${dev#/dev/ublkb}
	$B list --json | grep -q '"recovery": "fail-io"' || t_fail "list: $($B list --json)"
	dd if="$work/pat" of="$dev" bs=1M oflag=direct status=none || t_fail "write"
	kill -9 "$(daemon_pid "$id")"
	wait_orphaned "$id" || t_fail "not orphaned: $($B list)"
	t0=$(now_ms)
	timeout 20 dd if="$dev" of=/dev/null bs=4k count=1 iflag=direct status=none 2>/dev/null &&
		t_fail "a read succeeded with no daemon"
	ms=$(( $(now_ms) - t0 ))
	[ "$ms" -lt 5000 ] || t_fail "the read took $ms ms to fail"
	echo "    a read with no daemon failed after $ms ms"
	out=$($B recover -n "$id" 2>&1) || t_fail "recover: $out"
	dd if="$dev" of="$work/back" bs=1M count=1 iflag=direct status=none || t_fail "read after recover"
	cmp -s "$work/pat" "$work/back" || t_fail "the data changed across the recovery"
	$B delete -n "$id" || t_fail "delete"
	left_nothing
}
