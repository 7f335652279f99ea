# SPDX-License-Identifier: MIT
# End-to-end tests of the mirror, against the kernel's dm-mirror.  Sourced
# by tests/vm/e2e.sh (it sets B, work and the t_* helpers); adds its tests to
# $tests.

# 64 MiB legs, 512 KiB regions: 128 regions.
MIRROR_SECTORS=131072

# The in-sync count ("125/128") of a mirror status line, ours or dm's.
sync_count() {
	sed -n 's|.* \([0-9]*/[0-9]*\) 1 [A-Z]* .*|\1|p' | head -n1
}

# The same writes on any device: 256 KiB of a fixed pattern at fixed places
# (4 KiB blocks; 128 per region), touching 7 regions: 0, 2, 10 and 11
# (across their boundary), 12, 70 and 127 (the last).
mirror_writes() {
	local off
	for off in 0 256 1400 1536 8960 16320; do
		dd if="$work/mpat" of="$1" bs=4k seek=$off count=64 oflag=direct conv=notrunc \
			status=none || return 1
	done
}

# Our status of node 0 (the mirror) without its "[0] start len mirror" head.
our_mirror_status() {
	$B status -n "$1" | sed -n 's/^\[0[^]]*\] [0-9]* [0-9]* mirror //p'
}

wait_our_sync() {	# ID: status --wait returns once every region is in sync
	timeout 120 $B status --wait -n "$1" > "$work/wait.out" 2>&1 || return 1
	our_mirror_status "$1" | grep -q " \([0-9]*\)/\1 1 "
}

# Ours and dm over copies of the same zeroed files and logs, the same
# table and the same writes: tables print alike, and afterwards every leg
# and each side's log are byte-identical.
mirror_same_writes() {
	local dev id la lb ll
	truncate -s 64M "$work/a1" "$work/b1"
	truncate -s 1M "$work/l1"
	cp "$work/a1" "$work/a2"; cp "$work/b1" "$work/b2"; cp "$work/l1" "$work/l2"
	dev=$(echo "0 $MIRROR_SECTORS mirror disk 3 $work/l1 1024 nosync 2 $work/a1 0 $work/b1 0 1 handle_errors" |
		$B create --table -) || t_fail "create --table mirror"
	id=${dev#/dev/ublkb}
	[ "$($B status -n "$id" --table)" = "0 $MIRROR_SECTORS mirror disk 3 $work/l1 1024 nosync 2 $work/a1 0 $work/b1 0 1 handle_errors" ] ||
		t_fail "our table: $($B status -n "$id" --table)"
	mirror_writes "$dev" || t_fail "writes through ours"
	[ "$(our_mirror_status "$id")" = "2 linear:1 linear:3 128/128 1 AA 3 disk file:5 A" ] ||
		t_fail "our status: $(our_mirror_status "$id")"
	$B delete -n "$id"
	la=$(losetup --show -f "$work/a2"); lb=$(losetup --show -f "$work/b2")
	ll=$(losetup --show -f "$work/l2")
	DM_DISABLE_UDEV=1 dmsetup create ubt-m --table \
		"0 $MIRROR_SECTORS mirror disk 3 $ll 1024 nosync 2 $la 0 $lb 0 1 handle_errors" ||
		t_fail "dmsetup create"
	mirror_writes /dev/mapper/ubt-m || t_fail "writes through dm"
	DM_DISABLE_UDEV=1 dmsetup remove ubt-m
	losetup -d "$la" "$lb" "$ll"
	cmp "$work/a1" "$work/b1" || t_fail "our legs differ"
	cmp "$work/a1" "$work/a2" || t_fail "our leg and dm's differ"
	cmp "$work/b2" "$work/a2" || t_fail "dm's legs differ"
	cmp "$work/l1" "$work/l2" || t_fail "the logs differ: $(od -A d -t x1 "$work/l1" | head -5) vs $(od -A d -t x1 "$work/l2" | head -5)"
}

# A log dm left with out-of-sync regions (writes that failed on one leg),
# read by us: the same count, and we copy just those regions.
mirror_dm_log_to_ours() {
	local la ll dev id out
	truncate -s 64M "$work/a3"
	truncate -s 1M "$work/l3"
	cp "$work/a3" "$work/b3"
	la=$(losetup --show -f "$work/a3"); ll=$(losetup --show -f "$work/l3")
	DM_DISABLE_UDEV=1 dmsetup create ubt-err --table "0 $MIRROR_SECTORS error" || t_fail "dm error"
	DM_DISABLE_UDEV=1 dmsetup create ubt-m --table \
		"0 $MIRROR_SECTORS mirror disk 3 $ll 1024 nosync 2 $la 0 /dev/mapper/ubt-err 0" ||
		t_fail "dmsetup create"
	mirror_writes /dev/mapper/ubt-m || t_fail "writes through dm"
	out=$(dmsetup status ubt-m | sync_count)
	[ "$out" = "121/128" ] || t_fail "dm's count: $(dmsetup status ubt-m)"
	DM_DISABLE_UDEV=1 dmsetup remove ubt-m ubt-err
	losetup -d "$la" "$ll"
	out=$($B create --table - 2>&1 <<-EOF
	0 $MIRROR_SECTORS mirror disk 2 $work/l3 1024 2 $work/a3 0 $work/b3 0
	EOF
	) || t_fail "create over dm's log: $out"
	echo "$out" | grep -q "records 7 of 128 regions out of sync" || t_fail "create said: $out"
	dev=$(echo "$out" | tail -n1)
	id=${dev#/dev/ublkb}
	wait_our_sync "$id" || t_fail "not in sync: $(our_mirror_status "$id")"
	$B delete -n "$id"
	cmp "$work/a3" "$work/b3" || t_fail "legs differ after our resync"
}

# A log we left with out-of-sync regions, read by dm: the same count.
mirror_our_log_to_dm() {
	local dev id la ll
	truncate -s 64M "$work/a4"
	truncate -s 1M "$work/l4"
	dev=$($B create --spec "mirror($work/a4, error(size=64M), region=512K, log=$work/l4, nosync)") ||
		t_fail "create"
	id=${dev#/dev/ublkb}
	mirror_writes "$dev" || t_fail "writes through ours"
	[ "$(our_mirror_status "$id")" = "2 file:1 error:2 121/128 1 AD 3 disk file:3 A" ] ||
		t_fail "our status: $(our_mirror_status "$id")"
	$B delete -n "$id"
	la=$(losetup --show -f "$work/a4"); ll=$(losetup --show -f "$work/l4")
	# Its second leg an error device too, so dm cannot copy the regions away;
	# with handle_errors, as without it dm records a failed copy in sync.
	DM_DISABLE_UDEV=1 dmsetup create ubt-err --table "0 $MIRROR_SECTORS error" || t_fail "dm error"
	DM_DISABLE_UDEV=1 dmsetup create ubt-m --table \
		"0 $MIRROR_SECTORS mirror disk 2 $ll 1024 2 $la 0 /dev/mapper/ubt-err 0 1 handle_errors" ||
		t_fail "dmsetup create over our log"
	[ "$(dmsetup status ubt-m | sync_count)" = "121/128" ] ||
		t_fail "dm's count over our log: $(dmsetup status ubt-m)"
	DM_DISABLE_UDEV=1 dmsetup remove ubt-m ubt-err
	losetup -d "$la" "$ll"
}

test_mirror_matches_device_mapper() {
	trap 'cleanup; DM_DISABLE_UDEV=1 dmsetup remove_all >/dev/null 2>&1; losetup -D' EXIT
	modprobe dm_mirror 2>/dev/null || true
	head -c 256K /dev/urandom > "$work/mpat"
	mirror_same_writes
	mirror_dm_log_to_ours
	mirror_our_log_to_dm
	rm -f "$work"/[abl][1-4]
	left_nothing
}

# kill -9 while writes run; the same table again copies only the regions
# the log had dirty, and the legs end up identical.
test_mirror_restart_after_kill() {
	trap cleanup EXIT
	local dev id out n
	truncate -s 64M "$work/ka" "$work/kb"
	truncate -s 1M "$work/kl"
	# The second leg's writes are held 50 ms: at the kill, the legs differ
	# in the regions being written, which the log must record dirty.
	dev=$($B create --spec "mirror($work/ka, delay($work/kb, read=0, write=50), region=512K, \
		log=$work/kl, nosync)") || t_fail "create"
	id=${dev#/dev/ublkb}
	# fio itself in the background (not a function's subshell), its job a
	# thread of that process, so one SIGKILL ends all of it.
	fio --name=kw --filename="$dev" --direct=1 --ioengine=io_uring --thread \
		--verify_state_save=0 --rw=randwrite --bs=4k --iodepth=16 --offset=8M --size=4M \
		--time_based --runtime=30 > "$work/kw.out" 2>&1 &
	sleep 3
	kill9_daemon_and_fio "$id" $!	# with writes in flight
	out=$($B create --spec "mirror($work/ka, $work/kb, region=512K, log=$work/kl)" 2>&1) ||
		t_fail "create again: $out"
	n=$(echo "$out" | sed -n 's/.* records \([0-9]*\) of 128 regions out of sync.*/\1/p')
	# fio wrote in 8 regions (8M..12M): at most those can be dirty.  None
	# is possible too: a write waits for its region's mark to be on disk,
	# so the kill may find every written region recorded clean.
	[ -n "$n" ] && [ "$n" -le 8 ] || t_fail "create said: $out; fio: $(head -c 600 "$work/kw.out")"
	echo "    $n of 128 regions were dirty after kill -9"
	dev=$(echo "$out" | tail -n1)
	id=${dev#/dev/ublkb}
	wait_our_sync "$id" || t_fail "not in sync: $(our_mirror_status "$id")"
	$B delete -n "$id"
	cmp "$work/ka" "$work/kb" || t_fail "legs differ after the resync"
	left_nothing
}

# fio verifies while a leg fails and comes back: no error, and the legs
# are identical once the returning leg has been copied to.
test_mirror_fio_through_leg_failure() {
	trap cleanup EXIT
	local dev id out
	truncate -s 64M "$work/fa" "$work/fb"
	truncate -s 1M "$work/fl"
	dev=$($B create --spec "mirror($work/fa, flakey($work/fb, up=3600, down=0, name=f), \
		region=512K, log=$work/fl, nosync, handle_errors, read=roundrobin, resync_rate=32M, \
		name=m)") ||
		t_fail "create"
	id=${dev#/dev/ublkb}
	# While f is down, one write of our own past fio's 32M makes sure a
	# write meets the failed leg.
	( sleep 2; $B message -n "$id" f down
	  dd if=/dev/zero of="$dev" bs=4k seek=12000 count=1 oflag=direct status=none
	  $B status -n "$id"; sleep 2; $B message -n "$id" f up ) > "$work/flap.out" 2>&1 &
	out=$(fio_job "$dev" fv --rw=randrw --bs=4k --iodepth=16 --size=32M --verify=crc32c \
		--do_verify=1 --verify_fatal=1 --time_based --runtime=8 2>&1) ||
		t_fail "fio while a leg failed: $out"
	wait
	# D (a write failed on it), R (a read), or F: a flush to every leg goes
	# before a region is logged clean, and it may be the first to meet the
	# leg down (dm-raid1 shows F first too).
	our_mirror_status "$id" | grep -q " 1 A[DFR] 3 disk" ||
		t_fail "the leg was not marked: $(our_mirror_status "$id"); $(cat "$work/flap.out")"
	# No request follows: the message itself gets a queue to start the copy.
	$B message -n "$id" m replace f || t_fail "replace f"
	wait_our_sync "$id" || t_fail "not in sync: $(our_mirror_status "$id")"
	grep -q "regions in sync" "$work/wait.out" ||
		t_fail "status --wait drew no progress: $(cat "$work/wait.out")"
	our_mirror_status "$id" | grep -q " 128/128 1 AA 3 disk" ||
		t_fail "after replace: $(our_mirror_status "$id")"
	$B delete -n "$id"
	cmp "$work/fa" "$work/fb" || t_fail "legs differ after the copy"
	left_nothing
}

# Hot replace: fio verifies its data while leg 1 becomes a new file; once
# copied, the new file equals leg 0.  A replacement that cannot be is
# refused with one line and changes nothing.
test_mirror_hot_replace_under_fio() {
	trap cleanup EXIT
	local dev id out
	truncate -s 64M "$work/ha" "$work/hb" "$work/hc"
	truncate -s 32M "$work/hsmall"
	truncate -s 1M "$work/hl"
	dev=$($B create --spec "mirror($work/ha, $work/hb, region=512K, log=$work/hl, nosync, \
		handle_errors, read=roundrobin, resync_rate=32M, name=m)") || t_fail "create"
	id=${dev#/dev/ublkb}
	out=$($B message -n "$id" m replace 1 "$work/hsmall" 2>&1) &&
		t_fail "a leg smaller than the mirror was taken"
	[ "$(wc -l <<<"$out")" = 1 ] && [[ $out == *"smaller than the 67108864 it must hold"* ]] ||
		t_fail "refusal: $out"
	( sleep 2; $B message -n "$id" m replace 1 "$work/hc" ) > "$work/replace.out" 2>&1 &
	out=$(fio_job "$dev" hv --rw=randrw --bs=4k --iodepth=16 --size=32M --verify=crc32c \
		--do_verify=1 --verify_fatal=1 --time_based --runtime=6 2>&1) ||
		t_fail "fio across the replace: $out"
	wait
	our_mirror_status "$id" | grep -q "^2 file:1 file:4 " ||
		t_fail "leg 1 is not the new file: $(our_mirror_status "$id"); $(cat "$work/replace.out")"
	wait_our_sync "$id" || t_fail "not in sync: $(our_mirror_status "$id")"
	our_mirror_status "$id" | grep -q " 128/128 1 AA 3 disk" ||
		t_fail "after replace: $(our_mirror_status "$id")"
	# The run record follows the stack: list shows it, a recovery rebuilds it.
	$B list | grep -q "mirror($work/ha, $work/hc, region=512K, log=$work/hl," ||
		t_fail "list: $($B list)"
	if [ "$($B list --json | sed -n 's/.*"recovery": "\([a-z-]*\)".*/\1/p')" = reissue ]; then
		kill -9 "$(daemon_pid "$id")"
		timeout 30 $B recover -n "$id" >/dev/null 2>&1 || t_fail "recover after the replace"
		# What is written now lands in the new leg, not in the one it replaced.
		head -c 65536 /dev/urandom > "$work/hpat"
		dd if="$work/hpat" of="$dev" bs=64k seek=100 oflag=direct conv=fsync status=none ||
			t_fail "write after the recovery"
	fi
	$B delete -n "$id"
	cmp "$work/ha" "$work/hc" || t_fail "the new leg differs from leg 0 after the copy"
	if [ -f "$work/hpat" ]; then
		cmp -s -i 0:$((100 * 65536)) -n 65536 "$work/hpat" "$work/hb" &&
			t_fail "the recovered device wrote the replaced leg"
	fi
	left_nothing
}

tests="$tests test_mirror_matches_device_mapper test_mirror_restart_after_kill
	test_mirror_fio_through_leg_failure test_mirror_hot_replace_under_fio"
