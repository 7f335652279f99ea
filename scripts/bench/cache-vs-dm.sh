#!/bin/bash
# SPDX-License-Identifier: MIT
# Cache benchmark, run inside the test guest (scripts/bench/run.sh --cache
# starts it): our cache and the kernel's dm-cache (smq) over the same kind
# of devices, in one guest run.  The origin is slow (a 1 GiB file behind a
# 2 ms delay: our delay node, dm-delay over a loop device for dm), the
# cache and metadata are files on tmpfs (behind loop devices for dm); 64K
# blocks, writeback.  fio sends 4k requests, 90% of them to the first 10%
# of the volume (a hot set smaller than the cache), in one run of INTERVALS
# x INTERVAL_S seconds on a fresh cache; the cache's own counters, read
# every INTERVAL_S seconds from the first request on, give each interval's
# IOPS (every request is one hit or one miss) and hit rate: the warm-up.
# The cache device alone (our file target, the kernel's loop) is the
# ceiling for hits: the hot set alone, on the warm cache and on the cache
# device alone, in runs of 5 seconds.
#   cache-vs-dm.sh BUILD_DIR [INTERVAL_S] [INTERVALS]
set -euo pipefail

me=cache-vs-dm
usage="usage: $me BUILD_DIR [INTERVAL_S] [INTERVALS]"
[ $# -ge 1 ] && [ $# -le 3 ] || { echo "$usage" >&2; exit 2; }
B=$1/ublk-target
interval=${2:-5}
intervals=${3:-12}
hot_s=5	# each hot-set and ceiling run: a steady state, so not too short
origin_mb=1024
cache_mb=128
depth=8
block=64K
delay_ms=2
dist="zoned:90/10:10/90"

die() { echo "$me: $*" >&2; exit 1; }
[[ $interval =~ ^[1-9][0-9]*$ ]] || die "INTERVAL_S must be a positive integer, not '$interval'"
[[ $intervals =~ ^[1-9][0-9]*$ ]] && [ "$intervals" -ge 4 ] ||
	die "INTERVALS must be an integer of 4 or more, not '$intervals'"
[ "$(id -u)" = 0 ] || die "must run as root (in the test guest: scripts/bench/run.sh --cache)"
[ -x "$B" ] || die "$B is not built (run make)"
for t in fio losetup dmsetup timeout awk; do
	command -v "$t" >/dev/null || die "$t is not installed"
done
[ -c /dev/ublk-control ] || die "no /dev/ublk-control (ublk_drv not loaded)"
[ "$(stat -f -c %T /tmp)" = tmpfs ] || die "/tmp is not a tmpfs (run in the test guest)"
modprobe dm_cache 2>/dev/null || true
modprobe dm_cache_smq 2>/dev/null || true
modprobe dm_delay 2>/dev/null || true
mount -o remount,size=$((origin_mb + 2 * cache_mb + 512))m /tmp
work=$(mktemp -d /tmp/ubt-cbench.XXXXXX)

ours_id= loops=() dms=()
teardown() {
	local d
	[ -z "$ours_id" ] || "$B" delete -n "$ours_id" >/dev/null 2>&1 ||
		echo "$me: could not delete our device $ours_id" >&2
	for d in "${dms[@]}"; do
		DM_DISABLE_UDEV=1 dmsetup remove "$d" >/dev/null 2>&1 ||
			echo "$me: could not remove dm device $d" >&2
	done
	for d in "${loops[@]}"; do
		losetup -d "$d" 2>/dev/null || echo "$me: could not detach $d" >&2
	done
	ours_id= loops=() dms=()
	rm -f "$work/fast.img" "$work/meta.img"
}
trap 'teardown; "$B" delete --all >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

# A fresh cache and metadata (zeros) for each run; the origin, random bytes
# (reads touch real pages), is made once.
files() {
	rm -f "$work/fast.img" "$work/meta.img"
	truncate -s ${cache_mb}M "$work/fast.img"
	truncate -s 8M "$work/meta.img"
}
# Each sets dev (and what teardown undoes); not in $(...), which would lose that.
new_loop() { dev=$(losetup --show -f "$1"); loops+=("$dev"); }
make_ours() {
	dev=$("$B" create -q 1 -d 128 --spec "cache(origin=delay($work/slow.img, \
read=$delay_ms, write=$delay_ms), cache=$work/fast.img, meta=$work/meta.img, block=$block)") ||
		die "create our cache"
	ours_id=${dev#/dev/ublkb}
}
make_dm() {
	local lo lc lm sectors=$((origin_mb * 2048))
	new_loop "$work/slow.img"; lo=$dev
	new_loop "$work/fast.img"; lc=$dev
	new_loop "$work/meta.img"; lm=$dev
	DM_DISABLE_UDEV=1 dmsetup create ubt-slow --table "0 $sectors delay $lo 0 $delay_ms" ||
		die "dmsetup create delay"
	dms=(ubt-slow)
	DM_DISABLE_UDEV=1 dmsetup create ubt-cache --table \
		"0 $sectors cache $lm $lc /dev/mapper/ubt-slow 128 1 writeback smq 0" ||
		die "dmsetup create cache"
	dms=(ubt-cache ubt-slow)
	dev=/dev/mapper/ubt-cache
}
make_ours_ceiling() {
	dev=$("$B" create -q 1 -d 128 --spec "$work/fast.img") || die "create our file device"
	ours_id=${dev#/dev/ublkb}
}
make_loop_ceiling() { new_loop "$work/fast.img"; }

# The cache's raw status line on DEV (one process: sampling must be cheap).
raw_status() {
	if [ "$1" = /dev/mapper/ubt-cache ]; then
		dmsetup status ubt-cache
	else
		"$B" status -n "${1#/dev/ublkb}"
	fi
}

# "read hits, read misses, write hits, write misses" of a raw status line.
raw_counters() {
	if [ "$1" = /dev/mapper/ubt-cache ]; then
		cut -d' ' -f4- | awk '{ print $5, $6, $7, $8 }'
	else
		sed -n 's/^\[0\] [0-9]* [0-9]* cache //p' | awk '{ print $5, $6, $7, $8 }'
	fi
}

# "read hits, read misses, write hits, write misses" of the cache on DEV.
counters() { raw_status "$1" | raw_counters "$1"; }

# One interval of fio: prints its IOPS (reads and writes).  With HOT set,
# uniform over the hot 10% only (after warm-up: all hits), for hot_s seconds.
fio_interval() {	# DEV RW SEED [HOT]
	local out spread=(--random_distribution=$dist) secs=$interval
	[ -z "${4:-}" ] || { spread=(--size=$((origin_mb / 10))M); secs=$hot_s; }
	out=$(timeout -k 10 $((secs + 60)) fio --name=cb --filename="$1" --direct=1 \
		--ioengine=io_uring --rw="$2" --rwmixread=70 --bs=4k --iodepth=$depth \
		"${spread[@]}" --runtime="$secs" --time_based --randseed="$3" \
		--minimal 2>"$work/fio.err") || die "fio on $1 failed: $(tail -n1 "$work/fio.err")"
	awk -F';' '{ print $8 + $49 }' <<<"$out"
}

# The hit rate between two counter readings.
hit_rate() {	# BEFORE AFTER
	awk -v a="$1" -v b="$2" 'BEGIN { split(a, x); split(b, y); h = y[1] - x[1] + y[3] - x[3]
		m = y[2] - x[2] + y[4] - x[4]; printf "%.1f", (h + m > 0) ? 100 * h / (h + m) : 0 }'
}

# The warm-up of one system: one fio run, "SECONDS IOPS HIT%" for each
# interval.  The clock starts at the first request (fio takes seconds to
# start in the guest).  Each sample is a time and the raw status line;
# the intervals are worked out afterwards from the times measured, so a
# slow sample (a process start is slow in the guest) shifts the next one
# instead of skewing the rates.
timeline() {	# DEV RW
	local i c0 t0 now next fp samples=$work/samples
	c0=$(counters "$1")
	timeout -k 10 $((interval * intervals + 120)) fio --name=cb --filename="$1" --direct=1 \
		--ioengine=io_uring --rw="$2" --rwmixread=70 --bs=4k --iodepth=$depth \
		--random_distribution=$dist --runtime=$((interval * intervals + 10)) --time_based \
		--randseed=1 --minimal >/dev/null 2>"$work/fio.err" &
	fp=$!
	while [ "$(counters "$1")" = "$c0" ]; do
		kill -0 "$fp" 2>/dev/null || die "fio on $1 ended early: $(tail -n1 "$work/fio.err")"
		sleep 0.1
	done
	: > "$samples"
	t0=${EPOCHREALTIME/[.,]/}	# microseconds
	echo "$t0 $c0" >> "$samples"
	for i in $(seq "$intervals"); do
		next=$((t0 + i * interval * 1000000))
		now=${EPOCHREALTIME/[.,]/}
		[ "$now" -ge "$next" ] || sleep "$(( (next - now) / 1000000 )).$(printf %06d $(( (next - now) % 1000000 )))"
		now=${EPOCHREALTIME/[.,]/}
		echo "$now $(raw_status "$1" | raw_counters "$1")" >> "$samples"
	done
	wait "$fp" || die "fio on $1 failed: $(tail -n1 "$work/fio.err")"
	awk 'NR == 1 { t0 = $1 } NR > 1 { n = $2 - a + $3 - b + $4 - c + $5 - d
		h = $2 - a + $4 - c; dt = ($1 - t) / 1e6
		printf "%.0f %.0f %.1f\n", ($1 - t0) / 1e6, (dt > 0) ? n / dt : 0, (n > 0) ? 100 * h / n : 0 }
		{ t = $1; a = $2; b = $3; c = $4; d = $5 }' "$samples"
}

# Warm, the hot set alone: "IOPS HIT%" for each of 3 intervals.
hot_intervals() {	# DEV RW
	local i c0 c1 iops
	c0=$(counters "$1")
	for i in 1 2 3; do
		iops=$(fio_interval "$1" "$2" "$((intervals + i))" hot)
		c1=$(counters "$1")
		echo "$((i * hot_s)) $iops $(hit_rate "$c0" "$c1")"
		c0=$c1
	done
}

# The median of column COL over the last quarter of the lines (at least 3).
steady() {
	local n=$((intervals / 4))
	[ "$n" -ge 3 ] || n=3
	tail -n"$n" | awk -v c="$1" '{ print $c }' | sort -n |
		awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# Seconds until an interval's hit rate first reached 90% of the steady one.
warmup() {
	awk -v s="$1" '$3 >= 0.9 * s { print $1; found = 1; exit } END { if (!found) print "-" }'
}

run_workload() {	# RW TITLE FIRST SECOND
	local rw=$1 title=$2 sys so sd ho hd
	for sys in "$3" "$4"; do
		files
		echo "... $title: $sys ($intervals x ${interval}s)" >&2
		if [ "$sys" = ours ]; then make_ours; else make_dm; fi
		timeline "$dev" "$rw" > "$work/$sys.tl"
		# Warm: the hot set alone, every request a hit.
		hot_intervals "$dev" "$rw" > "$work/$sys.hot"
		teardown
	done
	echo
	echo "### 4k $title, qd$depth, 90% of requests to 10% of a 1 GiB volume, 128 MiB cache"
	echo
	echo "| seconds | ours IOPS | ours hit % | dm-cache IOPS | dm-cache hit % |"
	echo "|---|---|---|---|---|"
	paste -d' ' "$work/ours.tl" "$work/dm.tl" | awk '{ printf "| %s | %s | %s | %s | %s |\n", $1, $2, $3, $5, $6 }'
	so=$(steady 2 < "$work/ours.tl") sd=$(steady 2 < "$work/dm.tl")
	ho=$(steady 3 < "$work/ours.tl") hd=$(steady 3 < "$work/dm.tl")
	hot_ours[$rw]="$(steady 2 < "$work/ours.hot") $(steady 3 < "$work/ours.hot")"
	hot_dm[$rw]="$(steady 2 < "$work/dm.hot") $(steady 3 < "$work/dm.hot")"
	summary+=("| 4k $title | $so | $ho | $(warmup "$ho" < "$work/ours.tl") s | $sd | $hd | $(warmup "$hd" < "$work/dm.tl") s | $(ratio "$so" "$sd") |")
	steady_ours[$rw]=$so steady_dm[$rw]=$sd
}

# The cache device alone: the hot-set requests (the same offsets and sizes).
ceiling() {	# RW
	local r all=""
	truncate -s ${cache_mb}M "$work/fast.img"
	dd if=/dev/urandom of="$work/fast.img" bs=1M count=$cache_mb conv=notrunc status=none
	make_ours_ceiling
	for r in 1 2 3; do all+="$(fio_interval "$dev" "$1" "$r" hot)"$'\n'; done
	ceil_ours[$1]=$(grep -v '^$' <<<"$all" | sort -n | sed -n 2p)
	teardown
	dd if=/dev/urandom of="$work/fast.img" bs=1M count=$cache_mb status=none
	make_loop_ceiling
	all=""
	for r in 1 2 3; do all+="$(fio_interval "$dev" "$1" "$r" hot)"$'\n'; done
	ceil_loop[$1]=$(grep -v '^$' <<<"$all" | sort -n | sed -n 2p)
	teardown
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'; }

summary=()
dd if=/dev/urandom of="$work/slow.img" bs=1M count=$origin_mb status=none
declare -A steady_ours steady_dm ceil_ours ceil_loop hot_ours hot_dm
echo "# cache benchmark, kernel $(uname -r), $(date -u +%Y-%m-%d)"
run_workload randread randread ours dm
run_workload randrw "randrw (70% reads)" dm ours
for rw in randread randrw; do ceiling "$rw"; done
echo
echo "### Summary (steady: median of the last quarter of the intervals; warm-up: until an interval's hit rate is 90% of the steady one)"
echo
echo "| workload | ours IOPS | ours hit % | ours warm-up | dm-cache IOPS | dm-cache hit % | dm-cache warm-up | ours / dm |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${summary[@]}"
echo
echo "Hits: once warm, the same requests over the hot 10% alone (median of 3 runs of ${hot_s} s),"
echo "against the cache device alone (the ceiling):"
echo
echo "| 4k, hot set only | ours IOPS (hit %) | dm-cache IOPS (hit %) | our file target | kernel loop | ours / our file | dm / loop |"
echo "|---|---|---|---|---|---|---|"
for rw in randread randrw; do
	read -r a b c d <<<"${hot_ours[$rw]:-- -} ${hot_dm[$rw]:-- -}"
	set -- "$a" "$b" "$c" "$d"
	echo "| $rw | $1 ($2) | $3 ($4) | ${ceil_ours[$rw]} | ${ceil_loop[$rw]} | $(ratio "$1" "${ceil_ours[$rw]}") | $(ratio "$3" "${ceil_loop[$rw]}") |"
done
