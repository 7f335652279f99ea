# SPDX-License-Identifier: MIT
# End-to-end tests of the cache on a real ublk device.  Sourced by e2e.sh
# (it sets B, work and the t_* helpers).

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
