# SPDX-License-Identifier: MIT
# End-to-end tests of the cache on a real ublk device.  Sourced by tests/vm/e2e.sh
# (it sets B, work and the t_* helpers); adds its tests to $tests.

# A 64 MiB origin striped over two files, a 4 MiB cache and its metadata
# in windows of one fast file: 64 blocks of 64K for a 48 MiB working set.
cache_spec() {	# MODE [more arguments]
	echo "cache(origin=stripe($work/co0, $work/co1, chunk=64K), \
cache=linear($work/cfast, offset=1M, size=4M), meta=linear($work/cfast, size=1M), \
block=64K, mode=$1${2:+, $2}, name=c)"
}

cache_files() {
	rm -f "$work/co0" "$work/co1" "$work/cfast"
	truncate -s 32M "$work/co0" "$work/co1"
	truncate -s 5M "$work/cfast"
}

# One field of our cache status, dm's order: 1 metadata block size, ...
# 10 promotions, 11 dirty.
cache_field() {	# ID FIELD
	$B status -n "$1" | sed -n 's/^\[0 c\] [0-9]* [0-9]* cache //p' | cut -d' ' -f"$2"
}

# fio's writes, then its verification, of the first 48 MiB, at mixed sizes.
cache_fio() {	# DEV NAME [fio options]
	local dev=$1 name=$2
	shift 2
	fio_job "$dev" "$name" --rw=randwrite --bsrange=4k-64k --iodepth=16 --size=48M \
		--randseed=7 --verify=crc32c --verify_fatal=1 "$@"
}

# What fio wrote, read back from the origin alone (a stripe of the same files).
origin_holds_fio_data() {
	local dev ret=0
	dev=$($B create --spec "stripe($work/co0, $work/co1, chunk=64K)") || return 1
	cache_fio "$dev" cv --verify_only=1 > "$work/cv.out" 2>&1 || ret=1
	$B delete -n "${dev#/dev/ublkb}"
	return $ret
}

# fio verify through the cache in each mode, the working set 12 times the
# cache: no error; writethrough leaves nothing dirty, passthrough caches
# nothing; after the cleaner, the origin alone holds everything fio wrote.
test_cache_fio_verify_each_mode() {
	trap cleanup EXIT
	local mode dev id out
	for mode in writeback writethrough passthrough; do
		cache_files
		dev=$($B create --spec "$(cache_spec $mode)") || t_fail "create $mode"
		id=${dev#/dev/ublkb}
		out=$(cache_fio "$dev" cw --do_verify=1 2>&1) || t_fail "fio $mode: $out"
		[ "$(echo "$out" | cut -d';' -f5)" = 0 ] || t_fail "fio error $mode: $out"
		case $mode in
		writethrough) [ "$(cache_field "$id" 11)" = 0 ] ||
			t_fail "writethrough left dirty blocks: $($B status -n "$id")" ;;
		passthrough) [ "$(cache_field "$id" 10)" = 0 ] ||
			t_fail "passthrough promoted: $($B status -n "$id")" ;;
		*) [ "$(cache_field "$id" 10)" -gt 0 ] ||
			t_fail "nothing was promoted: $($B status -n "$id")" ;;
		esac
		$B message -n "$id" c cleaner || t_fail "message cleaner"
		timeout 120 $B status --wait clean -n "$id" > "$work/cwait.out" 2>&1 ||
			t_fail "status --wait: $(cat "$work/cwait.out")"
		[ "$(cache_field "$id" 11)" = 0 ] || t_fail "dirty after the cleaner: $($B status -n "$id")"
		$B delete -n "$id" || t_fail "delete"
		origin_holds_fio_data || t_fail "$mode: the origin does not hold what fio wrote"
	done
	left_nothing
}

# kill -9 while fio writes: re-created from the same spec, the cache maps
# what it had (every block taken as dirty), and everything written and
# flushed before the kill reads back right.
test_cache_kill9_keeps_flushed_data() {
	trap cleanup EXIT
	local dev id out
	cache_files
	dev=$($B create --spec "$(cache_spec writeback)") || t_fail "create"
	id=${dev#/dev/ublkb}
	out=$(cache_fio "$dev" ck --do_verify=0 --end_fsync=1 2>&1) || t_fail "fio: $out"
	# More writes past fio's 48 MiB, killed halfway with the daemon.
	fio --name=kx --filename="$dev" --direct=1 --ioengine=io_uring --thread \
		--verify_state_save=0 --rw=randwrite --bs=64k --iodepth=16 --offset=48M \
		--size=16M --time_based --runtime=30 > "$work/kx.out" 2>&1 &
	sleep 3
	kill9_daemon_and_fio "$id" $!
	out=$($B create --spec "$(cache_spec writeback)" 2>&1) || t_fail "create again: $out"
	grep -q "cache: the metadata maps [1-9][0-9]* of 64 blocks, .* dirty (not stopped cleanly" \
		<<<"$out" || t_fail "create said: $out"
	dev=$(echo "$out" | tail -n1)
	id=${dev#/dev/ublkb}
	out=$(cache_fio "$dev" ck --verify_only=1 2>&1) || t_fail "verify after kill -9: $out"
	$B message -n "$id" c cleaner || t_fail "message cleaner"
	timeout 120 $B status --wait -n "$id" > /dev/null 2>&1 || t_fail "status --wait"
	$B delete -n "$id" || t_fail "delete"
	origin_holds_fio_data || t_fail "the origin does not hold what fio wrote"
	left_nothing
}

# ---- Against the kernel's dm-cache ----------------------------------------

# The fields a cache status line shares with dm's, from the block size on
# (the metadata's own fields differ: the formats do), without dm's
# trailing space.
dm_fields() {
	sed 's/^8 [0-9]*\/[0-9]* //; s/ *$//'
}

# dm_fields with the counters blanked.
cache_shape() {
	dm_fields | awk '{ sub(/^[0-9]*\//, "-/", $2); for (i = 3; i <= 9; i++) $i = "-"; print }'
}

# Counters 1..8 of dm_fields minus those of an earlier line: used, read
# hits and misses, write hits and misses, demotions, promotions, dirty.
counter_deltas() {	# BEFORE AFTER
	{ echo "$1"; echo "$2"; } | dm_fields | tr '/' ' ' | cut -d' ' -f2,4-10 |
		awk 'NR == 1 { split($0, a) } NR == 2 { for (i = 1; i <= NF; i++)
			printf "%s%d", (i > 1 ? " " : ""), $i - a[i]; print "" }'
}

# The same writes and reads on any cache of 64K blocks, each request one
# block or less, so dm (which splits at blocks) and ours count alike:
# whole-block writes to 10 uncached blocks (overwrite promotions), reads
# of them (hits), 4K writes into 3 of them (write hits), reads of 5
# uncached blocks 16 apart (misses, each the first of its hotspot), a 4K
# write to an uncached block (a write miss).
cache_same_io() {
	local dev=$1 b
	for b in $(seq 100 109); do
		dd if="$work/cpat" of="$dev" bs=64k seek=$b count=1 oflag=direct conv=notrunc \
			status=none || return 1
	done
	for b in $(seq 100 109); do
		dd if="$dev" of=/dev/null bs=64k skip=$b count=1 iflag=direct status=none || return 1
	done
	for b in 1600 1616 1632; do
		dd if="$work/cpat" of="$dev" bs=4k seek=$b count=1 oflag=direct conv=notrunc \
			status=none || return 1
	done
	for b in 300 316 332 348 364; do
		dd if="$dev" of=/dev/null bs=64k skip=$b count=1 iflag=direct status=none || return 1
	done
	dd if="$work/cpat" of="$dev" bs=4k seek=8000 count=1 oflag=direct conv=notrunc status=none
}

# dm's message for a table it refuses (its last "table:" line in the
# kernel log), and ours for the same table over files: the same words,
# the refusals in the order dm's constructor checks them.
cache_refusals_match() {
	local tail lm lc lo dmmsg ours
	lm=$(losetup --show -f "$work/dm-m"); lc=$(losetup --show -f "$work/dm-c")
	lo=$(losetup --show -f "$work/dm-o")
	while IFS= read -r tail; do
		dmesg -C
		! DM_DISABLE_UDEV=1 dmsetup create ubt-cx --table "0 131072 cache $lm $lc $lo $tail" \
			2>/dev/null || t_fail "dm took: $tail"
		# (Newer kernels add the errno: "... (-EINVAL)".)
		dmmsg=$(dmesg | sed -n 's/.*device-mapper: table: [0-9:]*: cache: /cache: /p' |
			tail -n1 | sed 's/ (-E[A-Z]*)$//')
		ours=$(echo "0 131072 cache $work/c-m $work/c-c $work/c-o $tail" |
			$B create --table - 2>&1) && t_fail "ours took: $tail"
		[ -n "$dmmsg" ] && [ "${ours#*table line 1: }" = "$dmmsg" ] ||
			t_fail "'$tail': dm said '$dmmsg', ours '$ours'"
	done <<-EOF2
	x 1 writeback smq 0
	100 1 writeback smq 0
	16384 1 writeback smq 0
	128 4 writeback smq 0
	128 2 writeback
	128 1 fast smq 0
	128 2 writeback WriteThrough smq 0
	128 1 writeback
	128 1 writeback smq 2 migration_threshold
	128 1 writeback lru 0
	128 1 writeback smq 1 migration_threshold
	128 1 writeback smq 2 sequential_threshold 4
	128 1 writeback cleaner 2 migration_threshold -1
	EOF2
	losetup -d "$lm" "$lc" "$lo"
}

# Ours and dm-cache over zeroed copies of the same files, the same table
# and the same I/O: the same counters move by the same amounts, the rest
# of the status line is the same, and the devices read back the same.
# migration_threshold 0 stops smq's writebacks in both (dm's pacing), so
# the dirty count does not depend on timing.
test_cache_matches_device_mapper() {
	trap 'cleanup; DM_DISABLE_UDEV=1 dmsetup remove_all >/dev/null 2>&1; losetup -D' EXIT
	local table tail dev id before after dmbefore dmafter lm lc lo out
	modprobe dm_cache 2>/dev/null || true
	modprobe dm_cache_smq 2>/dev/null || true
	head -c 64K /dev/urandom > "$work/cpat"
	rm -f "$work"/c-[mco] "$work"/dm-[mco]
	truncate -s 1M "$work/c-m" "$work/dm-m"
	truncate -s 4M "$work/c-c" "$work/dm-c"
	truncate -s 64M "$work/c-o" "$work/dm-o"
	cache_refusals_match
	tail="128 1 writeback smq 2 migration_threshold 0"
	table="0 131072 cache $work/c-m $work/c-c $work/c-o $tail"
	dev=$(echo "$table" | $B create --table -) || t_fail "create --table cache"
	id=${dev#/dev/ublkb}
	[ "$($B status -n "$id" --table)" = "$table" ] || t_fail "our table: $($B status -n "$id" --table)"
	before=$($B status -n "$id" | sed -n 's/^\[0\] [0-9]* [0-9]* cache //p')
	cache_same_io "$dev" || t_fail "I/O through ours"
	after=$($B status -n "$id" | sed -n 's/^\[0\] [0-9]* [0-9]* cache //p')
	dd if="$dev" of="$work/c-read" bs=1M iflag=direct status=none || t_fail "read ours"
	$B delete -n "$id"
	lm=$(losetup --show -f "$work/dm-m"); lc=$(losetup --show -f "$work/dm-c")
	lo=$(losetup --show -f "$work/dm-o")
	DM_DISABLE_UDEV=1 dmsetup create ubt-c --table "0 131072 cache $lm $lc $lo $tail" ||
		t_fail "dmsetup create cache"
	dmbefore=$(dmsetup status ubt-c | cut -d' ' -f4-)
	cache_same_io /dev/mapper/ubt-c || t_fail "I/O through dm"
	dmafter=$(dmsetup status ubt-c | cut -d' ' -f4-)
	dd if=/dev/mapper/ubt-c of="$work/dm-read" bs=1M iflag=direct status=none || t_fail "read dm"
	[ "$(counter_deltas "$before" "$after")" = "10 10 5 3 1 0 10 10" ] ||
		t_fail "our counters moved by $(counter_deltas "$before" "$after"): $before -> $after"
	[ "$(counter_deltas "$dmbefore" "$dmafter")" = "$(counter_deltas "$before" "$after")" ] ||
		t_fail "dm's moved by $(counter_deltas "$dmbefore" "$dmafter"), ours by $(counter_deltas "$before" "$after")"
	# The rest: block size, total cache blocks, features, core args, policy, rw, needs_check.
	[ "$(echo "$after" | cache_shape)" = "$(echo "$dmafter" | cache_shape)" ] ||
		t_fail "status lines differ: ours '$after', dm's '$dmafter'"
	cmp "$work/c-read" "$work/dm-read" || t_fail "ours and dm read back differently"
	# Both stop cleanly with 10 dirty blocks, and both then refuse passthrough.
	DM_DISABLE_UDEV=1 dmsetup remove ubt-c || t_fail "dmsetup remove"
	! DM_DISABLE_UDEV=1 dmsetup create ubt-c --table \
		"0 131072 cache $lm $lc $lo 128 1 passthrough smq 0" 2>/dev/null ||
		t_fail "dm started passthrough over dirty blocks"
	DM_DISABLE_UDEV=1 dmsetup remove ubt-c 2>/dev/null || true
	losetup -d "$lm" "$lc" "$lo"
	out=$(echo "0 131072 cache $work/c-m $work/c-c $work/c-o 128 1 passthrough smq 0" |
		$B create --table - 2>&1) && t_fail "ours started passthrough over dirty blocks"
	echo "$out" | grep -q "cannot enter passthrough mode unless all blocks are clean (10 dirty)" ||
		t_fail "passthrough refused with: $out"
	# Ours again after the clean stop: exact dirty bits, the same data.
	out=$(echo "$table" | $B create --table - 2>&1) || t_fail "create again: $out"
	# (The read of the whole device promoted more blocks, all clean.)
	echo "$out" | head -n1 | grep -qx "cache: the metadata maps [0-9]* of 64 blocks, 10 dirty" ||
		t_fail "create again said: $out"
	dev=$(echo "$out" | tail -n1)
	id=${dev#/dev/ublkb}
	dd if="$dev" of="$work/c-read2" bs=1M iflag=direct status=none || t_fail "read again"
	cmp "$work/c-read" "$work/c-read2" || t_fail "data changed across a clean stop"
	# Killed, it was not a clean stop: nothing (not the process that made
	# the device and handed it to the daemon) marked the metadata clean.
	kill -9 "$(daemon_pid "$id")"
	timeout 30 $B delete -n "$id" || t_fail "delete after kill -9"
	out=$(echo "$table" | $B create --table - 2>&1) || t_fail "create after kill -9: $out"
	echo "$out" | head -n1 | grep -q "(not stopped cleanly: every mapped block is written back)" ||
		t_fail "create after kill -9 said: $out"
	dev=$(echo "$out" | tail -n1)
	id=${dev#/dev/ublkb}
	$B message -n "$id" 0 cleaner || t_fail "message cleaner"
	timeout 120 $B status --wait clean -n "$id" > /dev/null 2>&1 || t_fail "status --wait clean"
	$B delete -n "$id"
	dev=$(echo "0 131072 cache $work/c-m $work/c-c $work/c-o 128 1 passthrough smq 0" |
		$B create --table -) || t_fail "passthrough after the cleaner"
	dd if="$dev" of="$work/c-read2" bs=1M iflag=direct status=none || t_fail "read passthrough"
	cmp "$work/c-read" "$work/c-read2" || t_fail "passthrough reads differ"
	$B delete -n "${dev#/dev/ublkb}"
	rm -f "$work"/c-[mco] "$work"/dm-[mco] "$work"/c-read* "$work/dm-read"
	left_nothing
}

tests="$tests test_cache_fio_verify_each_mode test_cache_kill9_keeps_flushed_data
	test_cache_matches_device_mapper"
