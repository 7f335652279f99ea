#!/bin/bash
# SPDX-License-Identifier: MIT
# Cache benchmark, run inside the test guest (scripts/bench/run.sh --cache
# starts it): our cache and the kernel's dm-cache (smq) over the same kind
# of devices, in one guest run.  The origin is slow (a 1 GiB file behind a
# 2 ms delay: our delay node, dm-delay over a loop device for dm), the
# cache and metadata are files on tmpfs (behind loop devices for dm); 64K
# blocks, writeback.  fio sends 4k requests, 90% of them to the first 10%
# of the volume (a hot set smaller than the cache), in one run of INTERVALS
# x INTERVAL_S seconds on a fresh cache; the cache's own counters, sampled
# every 0.1 s from the first request on (cache-counters.py, beside this
# script), give each interval's IOPS (every request is one hit or one
# miss) and hit rate: the warm-up, also in windows of 0.2 s (and at least
# 200 requests).
# Both caches then stay, warm, for the steady state side by side: 3 rounds
# of 5-s runs of the same workload on each in turn, each cache written
# clean before its run, so the two runs of a round are close in time (the
# timelines of the two systems are minutes apart).  Then hits against the
# ceiling, the cache device alone (our file target,
# the kernel's loop, on a file of their own that lives through the whole
# run): in each of 3 rounds, once the cache has written back what was
# dirty, the hot set alone for 5 s on the device alone, then on the warm
# cache; each round's two runs are side by side in time, so their ratio
# is.  The guest's speed drifts by tens of percent over minutes: the whole
# comparison runs REPEATS times (default 3), ours first and dm first by
# turns, and the summary gives medians and each ratio's spread.
#   cache-vs-dm.sh BUILD_DIR [INTERVAL_S] [INTERVALS] [REPEATS]
set -euo pipefail

me=cache-vs-dm
usage="usage: $me BUILD_DIR [INTERVAL_S] [INTERVALS] [REPEATS]"
here=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 1 ] && [ $# -le 4 ] || { echo "$usage" >&2; exit 2; }
B=$1/ublk-target
interval=${2:-5}
intervals=${3:-12}
repeats=${4:-3}
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
[[ $repeats =~ ^[1-9][0-9]*$ ]] || die "REPEATS must be a positive integer, not '$repeats'"
[ "$(id -u)" = 0 ] || die "must run as root (in the test guest: scripts/bench/run.sh --cache)"
[ -x "$B" ] || die "$B is not built (run make)"
for t in fio losetup dmsetup timeout awk /usr/bin/python3; do
	command -v "$t" >/dev/null || die "$t is not installed"
done
[ -x "$here/cache-counters.py" ] || die "$here/cache-counters.py is missing"
[ -c /dev/ublk-control ] || die "no /dev/ublk-control (ublk_drv not loaded)"
[ "$(stat -f -c %T /tmp)" = tmpfs ] || die "/tmp is not a tmpfs (run in the test guest)"
modprobe dm_cache 2>/dev/null || true
modprobe dm_cache_smq 2>/dev/null || true
modprobe dm_delay 2>/dev/null || true
# Two origins (each system writes its own), two caches, the ceiling.
mount -o remount,size=$((2 * origin_mb + 5 * cache_mb + 512))m /tmp
work=$(mktemp -d /tmp/ubt-cbench.XXXXXX)

ours_id= loops=() dms=() ceil_id= ceil_loop=
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
	rm -f "$work"/fast.*.img "$work"/meta.*.img
}
drop_ceilings() {
	[ -z "$ceil_id" ] || "$B" delete -n "$ceil_id" >/dev/null 2>&1 ||
		echo "$me: could not delete our device $ceil_id" >&2
	[ -z "$ceil_loop" ] || losetup -d "$ceil_loop" 2>/dev/null ||
		echo "$me: could not detach $ceil_loop" >&2
	ceil_id= ceil_loop=
}
trap 'teardown; drop_ceilings; "$B" delete --all >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM

# A fresh cache and metadata (zeros) for each run; the origin, random bytes
# (reads touch real pages), is made once.
files() {	# SYS
	rm -f "$work/fast.$1.img" "$work/meta.$1.img"
	truncate -s ${cache_mb}M "$work/fast.$1.img"
	truncate -s 8M "$work/meta.$1.img"
}
# Each sets dev (and what teardown undoes); not in $(...), which would lose that.
new_loop() { dev=$(losetup --show -f "$1"); loops+=("$dev"); }
make_ours() {
	dev=$("$B" create -q 1 -d 128 --spec "cache(origin=delay($work/slow.ours.img, \
read=$delay_ms, write=$delay_ms), cache=$work/fast.ours.img, meta=$work/meta.ours.img, \
block=$block)") ||
		die "create our cache"
	ours_id=${dev#/dev/ublkb}
}
make_dm() {
	local lo lc lm sectors=$((origin_mb * 2048))
	new_loop "$work/slow.dm.img"; lo=$dev
	new_loop "$work/fast.dm.img"; lc=$dev
	new_loop "$work/meta.dm.img"; lm=$dev
	DM_DISABLE_UDEV=1 dmsetup create ubt-slow --table "0 $sectors delay $lo 0 $delay_ms" ||
		die "dmsetup create delay"
	dms=(ubt-slow)
	DM_DISABLE_UDEV=1 dmsetup create ubt-cache --table \
		"0 $sectors cache $lm $lc /dev/mapper/ubt-slow 128 1 writeback smq 0" ||
		die "dmsetup create cache"
	dms=(ubt-cache ubt-slow)
	dev=/dev/mapper/ubt-cache
}
# The ceilings: our file target and loop over one file of random bytes the
# size of the cache, made once; idle while the caches run.
make_ceilings() {
	dd if=/dev/urandom of="$work/ceil.img" bs=1M count=$cache_mb status=none
	ceiling[ours]=$("$B" create -q 1 -d 128 --spec "$work/ceil.img") ||
		die "create our file device"
	ceil_id=${ceiling[ours]#/dev/ublkb}
	ceil_loop=$(losetup --show -f "$work/ceil.img") || die "losetup $work/ceil.img"
	ceiling[dm]=$ceil_loop
}

# The cache's raw status line on DEV (one process: sampling must be cheap).
raw_status() {
	if [ "$1" = /dev/mapper/ubt-cache ]; then
		dmsetup status ubt-cache
	else
		"$B" status -n "${1#/dev/ublkb}"
	fi
}

# "read hits, read misses, write hits, write misses" of a raw status line.
raw_counters() { raw_fields "$1" '$5, $6, $7, $8'; }

# Fields of a raw status line, numbered from the cache's first (the
# metadata block size), as awk's print takes them: e.g. '$11'.
raw_fields() {	# DEV FIELDS
	if [ "$1" = /dev/mapper/ubt-cache ]; then
		cut -d' ' -f4- | awk "{ print $2 }"
	else
		sed -n 's/^\[0\] [0-9]* [0-9]* cache //p' | awk "{ print $2 }"
	fi
}

# "read hits, read misses, write hits, write misses" of the cache on DEV.
counters() { raw_status "$1" | raw_counters "$1"; }

# The number of dirty blocks of the cache on DEV.
dirty() { raw_status "$1" | raw_fields "$1" '$11'; }

# Until the cache on DEV has written back every dirty block (both do when
# idle), so that no writeback runs beside a measurement of another device.
wait_clean() {
	local i
	for i in $(seq 1200); do
		[ "$(dirty "$1")" != 0 ] || return 0
		sleep 0.25
	done
	die "the cache on $1 still has $(dirty "$1") dirty blocks after 300 s idle"
}

# One interval of fio: prints its IOPS (reads and writes).  With hot,
# uniform over the hot 10% only (after warm-up: all hits), for hot_s
# seconds; with steady, the workload's own spread for hot_s seconds.
fio_interval() {	# DEV RW SEED [hot|steady]
	local out spread=(--random_distribution=$dist) secs=$interval
	case ${4:-} in
	hot) spread=(--size=$((origin_mb / 10))M); secs=$hot_s ;;
	steady) secs=$hot_s ;;
	esac
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

# The warm-up of one system: one fio run, its cache's counters sampled
# every 0.1 s from its first request on (fio takes seconds to start in
# the guest) by cache-counters.py, one process for the run: a status
# process a sample would cost the guest 0.1 s (ours) to 0.25 s (dmsetup)
# of CPU each time.  Prints "SECONDS IOPS HIT%" for each interval; leaves
# "END_S HIT%" for each window of at least 0.2 s and 200 requests (a
# stall's few requests say nothing of a hit rate) in $work/fine.  The rates
# come from the times measured, so a late sample shifts the next instead
# of skewing.
timeline() {	# DEV RW
	local sp fp target ready=$work/ready samples=$work/samples
	if [ "$1" = /dev/mapper/ubt-cache ]; then target=dm:ubt-cache; else target=ours:${1#/dev/ublkb}; fi
	rm -f "$ready"
	"$here/cache-counters.py" 0.1 $((interval * intervals * 10)) "$target" "$ready" \
		> "$samples" 2>"$work/sampler.err" &
	sp=$!
	while [ ! -e "$ready" ]; do
		kill -0 "$sp" 2>/dev/null || die "sampling $1: $(tail -n1 "$work/sampler.err")"
		sleep 0.05
	done
	timeout -k 10 $((interval * intervals + 120)) fio --name=cb --filename="$1" --direct=1 \
		--ioengine=io_uring --rw="$2" --rwmixread=70 --bs=4k --iodepth=$depth \
		--random_distribution=$dist --runtime=$((interval * intervals + 10)) --time_based \
		--randseed=1 --minimal >/dev/null 2>"$work/fio.err" &
	fp=$!
	wait "$sp" || { kill "$fp" 2>/dev/null; die "sampling $1: $(tail -n1 "$work/sampler.err")"; }
	wait "$fp" || die "fio on $1 failed: $(tail -n1 "$work/fio.err")"
	awk 'NR == 1 || ($1 - t >= 200000 && $2 - a + $3 - b + $4 - c + $5 - d >= 200) {
		print; t = $1; a = $2; b = $3; c = $4; d = $5 }' "$samples" |
		rates | awk '{ printf "%.1f %s\n", $1, $3 }' > "$work/fine"
	awk -v k=$((interval * 10)) 'NR % k == 1' "$samples" | rates | awk '{ printf "%.0f %s %s\n", $1, $2, $3 }'
}
# From samples "MICROSECONDS RH RM WH WM" (the first at the first request),
# "SECONDS_SINCE_THE_FIRST IOPS HIT%" for each but the first (every
# request is one hit or one miss).
rates() {
	awk 'NR == 1 { t0 = $1 } NR > 1 { n = $2 - a + $3 - b + $4 - c + $5 - d
		h = $2 - a + $4 - c; dt = ($1 - t) / 1e6
		printf "%.6f %.0f %.1f\n", ($1 - t0) / 1e6, (dt > 0) ? n / dt : 0, (n > 0) ? 100 * h / n : 0 }
		{ t = $1; a = $2; b = $3; c = $4; d = $5 }'
}

# Warm, the hot set alone against the ceiling CEIL: "IOPS HIT% CEIL_IOPS"
# for each of 3 rounds, the ceiling's run just before the cache's.
hot_rounds() {	# DEV RW CEIL
	local i c0 c1 iops ceil
	for i in 1 2 3; do
		wait_clean "$1"
		ceil=$(fio_interval "$3" "$2" "$((intervals + i))" hot)
		c0=$(counters "$1")
		iops=$(fio_interval "$1" "$2" "$((intervals + i))" hot)
		c1=$(counters "$1")
		echo "$iops $(hit_rate "$c0" "$c1") $ceil"
	done
}

# The median of the numbers on stdin, one per line.
median() {
	sort -g | awk '{ v[NR] = $1 } END { if (!NR) print "-"
		else print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# The median of column COL over the last quarter of the lines (at least 3).
steady() {
	local n=$((intervals / 4))
	[ "$n" -ge 3 ] || n=3
	tail -n"$n" | awk -v c="$1" '{ print $c }' | median
}
# Seconds until an interval's hit rate (column COL, default 3) first reached
# 90% of the steady one.
warmup() {	# STEADY [COL]
	awk -v s="$1" -v c="${2:-3}" '$c >= 0.9 * s { print $1; found = 1; exit }
		END { if (!found) print "-" }'
}
# "WARM-UP_S STEADY%" of a timeline's windows ("END_S HIT%" on stdin): the
# steady hit rate is the median of the last quarter's windows, the warm-up
# the end of the first window that reached 90% of it.
fine_warmup() {
	local w s
	w=$(cat)
	s=$(tail -n $(($(wc -l <<<"$w") / 4)) <<<"$w" | awk '{ print $2 }' | median)
	echo "$(warmup "$s" 2 <<<"$w") $(printf %.1f "$s")"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
# "MEDIANx (MIN-MAX)" of the ratios on stdin.
ratios() {
	local r
	r=$(grep -v '^-$' || true)
	[ -n "$r" ] || { echo "-"; return; }
	printf '%.2fx (%.2f-%.2f)\n' "$(median <<<"$r")" "$(sort -g <<<"$r" | head -n1)" \
		"$(sort -g <<<"$r" | tail -n1)"
}

# One repeat of one workload on both systems, each step in the order
# given: the warm-up timeline on a fresh cache (the other cache, if made,
# idle and clean), the side-by-side rounds, the hot-set rounds.  Leaves
# $work/SYS.REP.tl ("SECONDS IOPS HIT%"), SYS.REP.fine ("WARM-UP_S
# STEADY%" from the fine windows), SYS.REP.side ("IOPS HIT%") and SYS.REP.hot.
declare -A cache_dev ceiling	# by system: its cache, made in run_repeat; its cache device alone
run_repeat() {	# RW TITLE REP FIRST SECOND
	local rw=$1 title=$2 r=$3 sys i c0 iops ow os dw ds
	: > "$work/ours.$r.side"
	: > "$work/dm.$r.side"
	for sys in "$4" "$5"; do
		files "$sys"
		echo "... $title, repeat $r: $sys ($intervals x ${interval}s)" >&2
		"make_$sys"
		cache_dev[$sys]=$dev
		timeline "$dev" "$rw" > "$work/$sys.$r.tl"
		fine_warmup < "$work/fine" > "$work/$sys.$r.fine"
		wait_clean "$dev"
	done
	echo "... $title, repeat $r: side by side, then the hot set" >&2
	for i in 1 2 3; do
		for sys in "$4" "$5"; do
			dev=${cache_dev[$sys]}
			c0=$(counters "$dev")
			iops=$(fio_interval "$dev" "$rw" "$((intervals + i))" steady)
			echo "$iops $(hit_rate "$c0" "$(counters "$dev")")" >> "$work/$sys.$r.side"
			wait_clean "$dev"
		done
	done
	for sys in "$4" "$5"; do
		hot_rounds "${cache_dev[$sys]}" "$rw" "${ceiling[$sys]}" > "$work/$sys.$r.hot"
	done
	teardown
	echo
	echo "### 4k $title, repeat $r (qd$depth, 90% of requests to 10% of a 1 GiB volume, 128 MiB cache)"
	echo
	echo "| seconds | ours IOPS | ours hit % | dm-cache IOPS | dm-cache hit % |"
	echo "|---|---|---|---|---|"
	paste -d' ' "$work/ours.$r.tl" "$work/dm.$r.tl" |
		awk '{ printf "| %s | %s | %s | %s | %s |\n", $1, $2, $3, $5, $6 }'
	echo
	read -r ow os < "$work/ours.$r.fine"
	read -r dw ds < "$work/dm.$r.fine"
	echo "In windows of at least 0.2 s and 200 requests: ours warm after $ow s (steady hit"
	echo "rate $os%), dm-cache after $dw s ($ds%)."
	echo
	echo "Warm, side by side: ${hot_s}-s runs of the same workload on each in turn:"
	echo
	echo "| round | ours IOPS (hit %) | dm-cache IOPS (hit %) | ours / dm |"
	echo "|---|---|---|---|"
	paste -d' ' "$work/ours.$r.side" "$work/dm.$r.side" | awk '{ printf "| %d | %s (%s) | %s (%s) | %s |\n",
		NR, $1, $2, $3, $4, ($3 > 0) ? sprintf("%.2fx", $1 / $3) : "-" }'
	echo
	echo "Hot set alone, each round against the cache device alone just before it:"
	echo
	echo "| round | ours IOPS (hit %) | our file target | dm-cache IOPS (hit %) | kernel loop |"
	echo "|---|---|---|---|---|"
	paste -d' ' "$work/ours.$r.hot" "$work/dm.$r.hot" |
		awk '{ printf "| %d | %s (%s) | %s | %s (%s) | %s |\n", NR, $1, $2, $3, $4, $5, $6 }'
}

# Every repeat of a workload, then its summary rows.
run_workload() {	# RW TITLE
	local rw=$1 title=$2 r sys col hit
	local -A f
	for r in $(seq "$repeats"); do
		if [ $((r % 2)) = 1 ]; then run_repeat "$rw" "$title" "$r" ours dm
		else run_repeat "$rw" "$title" "$r" dm ours; fi
	done
	# Per repeat: steady IOPS, steady hit %, warm-up s; the ratio of the steady IOPS.
	for sys in ours dm; do
		for r in $(seq "$repeats"); do
			hit=$(steady 3 < "$work/$sys.$r.tl")
			echo "$(steady 2 < "$work/$sys.$r.tl") $hit $(warmup "$hit" < "$work/$sys.$r.tl")"
		done > "$work/$sys.steady"
	done
	for col in 1 2 3; do
		eval "mo$col=\$(awk -v c=$col '{ print \$c }' \"\$work/ours.steady\" | grep -v '^-\$' | median)"
		eval "md$col=\$(awk -v c=$col '{ print \$c }' \"\$work/dm.steady\" | grep -v '^-\$' | median)"
	done
	summary+=("| 4k $title | $mo1 | $mo2 | $mo3 s ($(awk '{ print $3 }' "$work/ours.steady" | paste -sd/)) | $md1 | $md2 | $md3 s ($(awk '{ print $3 }' "$work/dm.steady" | paste -sd/)) | $(paste -d' ' "$work/ours.steady" "$work/dm.steady" | while read -r a _ _ b _ _; do ratio "$a" "$b"; echo; done | ratios) |")
	# In the fine windows: the median warm-up and steady hit rate, each repeat's warm-up.
	for sys in ours dm; do
		cat "$work"/$sys.*.fine > "$work/$sys.fine"
		f[$sys]="$(awk '{ print $1 }' "$work/$sys.fine" | grep -v '^-$' | median) s"
		f[$sys]+=" ($(awk '{ print $1 }' "$work/$sys.fine" | paste -sd/))"
		f[$sys]+=" | $(awk '{ print $2 }' "$work/$sys.fine" | median)"
	done
	fine+=("| 4k $title | ${f[ours]} | ${f[dm]} |")
	# Side by side: medians over every round of every repeat; ratios per round.
	cat "$work"/ours.*.side > "$work/ours.side"
	cat "$work"/dm.*.side > "$work/dm.side"
	side+=("| 4k $title | $(awk '{ print $1 }' "$work/ours.side" | median) ($(awk '{ print $2 }' "$work/ours.side" | median)) | $(awk '{ print $1 }' "$work/dm.side" | median) ($(awk '{ print $2 }' "$work/dm.side" | median)) | $(paste -d' ' "$work/ours.side" "$work/dm.side" | while read -r a _ b _; do ratio "$a" "$b"; echo; done | ratios) |")
	# Hot set: medians over every round of every repeat; ratios per round.
	cat "$work"/ours.*.hot > "$work/ours.hot"
	cat "$work"/dm.*.hot > "$work/dm.hot"
	hot+=("| $rw | $(awk '{ print $1 }' "$work/ours.hot" | median) ($(awk '{ print $2 }' "$work/ours.hot" | median)) | $(awk '{ print $3 }' "$work/ours.hot" | median) | $(while read -r a _ c; do ratio "$a" "$c"; echo; done < "$work/ours.hot" | ratios) | $(awk '{ print $1 }' "$work/dm.hot" | median) ($(awk '{ print $2 }' "$work/dm.hot" | median)) | $(awk '{ print $3 }' "$work/dm.hot" | median) | $(while read -r a _ c; do ratio "$a" "$c"; echo; done < "$work/dm.hot" | ratios) |")
}

summary=() fine=() side=() hot=()
dd if=/dev/urandom of="$work/slow.ours.img" bs=1M count=$origin_mb status=none
cp "$work/slow.ours.img" "$work/slow.dm.img"
make_ceilings
echo "# cache benchmark, kernel $(uname -r), $(date -u +%Y-%m-%d), $repeats repeats"
run_workload randread randread
run_workload randrw "randrw (70% reads)"
echo
echo "### Summary: medians of $repeats repeats (ours first in the odd ones, dm first in the even ones)"
echo
echo "Steady: the median of the last quarter of the ${interval}-s intervals; warm-up: until an"
echo "interval's hit rate is 90% of the steady one (each repeat's after the median);"
echo "ours / dm: the median of the repeats' ratios (lowest-highest)."
echo
echo "| workload | ours IOPS | ours hit % | ours warm-up | dm-cache IOPS | dm-cache hit % | dm-cache warm-up | ours / dm |"
echo "|---|---|---|---|---|---|---|---|"
printf '%s\n' "${summary[@]}"
echo
echo "Warm-up from the same runs in windows of at least 0.2 s and 200 requests: warm from"
echo "the end of the first window whose hit rate is 90% of the steady one (the median of"
echo "the last quarter's windows):"
echo
echo "| workload | ours warm-up (per repeat) | ours steady hit % | dm-cache warm-up (per repeat) | dm-cache steady hit % |"
echo "|---|---|---|---|---|"
printf '%s\n' "${fine[@]}"
echo
echo "Steady, side by side: both caches warm, ${hot_s}-s runs of the workload on each in"
echo "turn, each cache written clean before its run (3 rounds a repeat; medians; a ratio"
echo "is the median of the rounds' ratios, lowest-highest):"
echo
echo "| workload | ours IOPS (hit %) | dm-cache IOPS (hit %) | ours / dm |"
echo "|---|---|---|---|"
printf '%s\n' "${side[@]}"
echo
echo "Hits: the hot 10% alone on the warm cache, against the cache device alone run just"
echo "before it (${hot_s}-s runs, 3 rounds a repeat; medians; a ratio is the median of the"
echo "rounds' ratios, lowest-highest):"
echo
echo "| 4k, hot set only | ours IOPS (hit %) | our file target | ours / file | dm-cache IOPS (hit %) | kernel loop | dm / loop |"
echo "|---|---|---|---|---|---|---|"
printf '%s\n' "${hot[@]}"
