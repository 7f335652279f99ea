#!/bin/bash
# SPDX-License-Identifier: MIT
# Build, then run the kernel-baseline benchmark (ublk-vs-kernel.sh: ours, the
# kernel's loop / null_blk / dm-stripe and the peer ublk servers) in the test
# guest, once per kernel, printing each kernel's tables.  With --cache, the
# cache benchmark instead (cache-vs-dm.sh: our cache and dm-cache over a slow
# origin, warm-up and hit rates), its arguments an interval, their count and
# how many times the whole comparison runs.
# With --lifecycle, the recovery and restart benchmark (lifecycle-vs-kublk.sh:
# I/O pauses against the kernel's kublk), its argument the number of runs.
# With --profile, where a request's time goes (profile.sh: server CPU,
# context switches and io_uring_enter calls per request, perf's top
# symbols; ours beside kublk), its argument the runtime of each run.
#   scripts/bench/run.sh [--kernel K] [RUNTIME_S] [REPEATS]
#   scripts/bench/run.sh --cache [--kernel K] [INTERVAL_S] [INTERVALS] [REPEATS]
#   scripts/bench/run.sh --lifecycle [--kernel K] [RUNS]
#   scripts/bench/run.sh --profile [--kernel K] [RUNTIME_S]
# Kernels: --kernel K, else $UBT_VM_KERNELS (default "7.3 6.12").
# Sections: $UBT_BENCH_SECTIONS (default "file null stripe mirror balance raid"); backings:
# $UBT_BENCH_BACKINGS (default "tmpfs bdev"); queue counts: $UBT_BENCH_QUEUES
# (default "1 2"); schedulers: $UBT_BENCH_SCHED (none, the default, for every
# device, or default: each its own); workloads: $UBT_BENCH_WORKLOADS, a regex
# on their names; rows: $UBT_BENCH_ROWS, a regex on their labels;
# $UBT_BENCH_BEFORE, the build directory of another version, adds its rows
# beside ours (ublk-vs-kernel.sh).
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
usage="usage: scripts/bench/run.sh [--kernel 6.12|7.3] [RUNTIME_S] [REPEATS]
       scripts/bench/run.sh --cache [--kernel 6.12|7.3] [INTERVAL_S] [INTERVALS] [REPEATS]
       scripts/bench/run.sh --lifecycle [--kernel 6.12|7.3] [RUNS]
       scripts/bench/run.sh --profile [--kernel 6.12|7.3] [RUNTIME_S]"

kernels=${UBT_VM_KERNELS:-7.3 6.12}
script=ublk-vs-kernel.sh
args=()
while [ $# -gt 0 ]; do
	case $1 in
	--kernel) [ $# -ge 2 ] || { echo "$usage" >&2; exit 2; }; kernels=$2; shift 2 ;;
	--kernel=*) kernels=${1#--kernel=}; shift ;;
	--cache) script=cache-vs-dm.sh; shift ;;
	--lifecycle) script=lifecycle-vs-kublk.sh; shift ;;
	--profile) script=profile.sh; shift ;;
	-h | --help) echo "$usage"; exit 0 ;;
	-*) echo "run.sh: unknown option '$1'" >&2; echo "$usage" >&2; exit 2 ;;
	*) args+=("$1"); shift ;;
	esac
done
[ ${#args[@]} -le 2 ] || { [ $script = cache-vs-dm.sh ] && [ ${#args[@]} -le 3 ]; } ||
	{ echo "$usage" >&2; exit 2; }
runtime=${args[0]:-$([ $script = lifecycle-vs-kublk.sh ] && echo 20 || echo 5)}
repeats=${args[1]:-$([ $script = cache-vs-dm.sh ] && echo 12 || echo 3)}
[ $script != cache-vs-dm.sh ] || [[ ! $repeats =~ ^[0-9]+$ ]] || [ "$repeats" -ge 4 ] ||
	{ echo "run.sh: --cache needs INTERVALS of 4 or more" >&2; exit 2; }
[[ $runtime =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: RUNTIME_S must be a positive integer" >&2; exit 2; }
[[ $repeats =~ ^[1-9][0-9]*$ ]] || { echo "run.sh: REPEATS must be a positive integer" >&2; exit 2; }
extra=("${args[@]:2}")	# the cache benchmark's REPEATS
[ ${#extra[@]} = 0 ] || [[ ${extra[0]} =~ ^[1-9][0-9]*$ ]] ||
	{ echo "run.sh: REPEATS must be a positive integer" >&2; exit 2; }

# A build of its own, so that work in build/ cannot change the binary
# under a running measurement.
bdir=$top/.cache/bench-build
make -j"$(nproc)" O="$bdir" >/dev/null

# Up to ~30 rows x 4 workloads x REPEATS fio runs per queue count and
# backing, each the runtime plus its 1 s ramp plus a few seconds of fio
# start-up under TCG, and the set-up; twice that, as the limit is only there
# to catch a hang.
timeout=$((1800 + 2 * 4 * 30 * 4 * repeats * (runtime + 6)))

# Any other guest during a measurement shares the 2 cores with ours: watch
# for one and say so under that kernel's tables.
flag=$(mktemp)
watcher=
stop_watch() {
	if [ -n "$watcher" ]; then
		kill "$watcher" 2>/dev/null || true
		wait "$watcher" 2>/dev/null || true
		watcher=
	fi
}
trap 'stop_watch; rm -f "$flag"' EXIT

# The guest reads the script as it runs: run a copy (and of the cache
# benchmark's sampler), so that editing the original cannot change a
# measurement half-way.
cp "scripts/bench/$script" scripts/bench/cache-counters.py "$bdir/"
if [ -n "${UBT_BENCH_BEFORE:-}" ]; then
	UBT_BENCH_BEFORE=$(cd "$UBT_BENCH_BEFORE" && pwd) &&
		[ -x "$UBT_BENCH_BEFORE/ublk-target" ] ||
		{ echo "run.sh: UBT_BENCH_BEFORE: no ublk-target built in ${UBT_BENCH_BEFORE}" >&2; exit 1; }
fi

rc=0
for k in $kernels; do
	if pgrep -f '^qemu-system' >/dev/null; then
		echo "run.sh: another QEMU guest is running; the benchmark must be the only one" >&2
		exit 1
	fi
	: >"$flag"
	(while sleep 5; do
		[ "$(pgrep -cf '^qemu-system')" -le 1 ] || echo seen >"$flag"
	done) &
	watcher=$!
	echo
	echo "# kernel $k"
	tests/vm/vm-run --kernel "$k" --mem 8G --timeout "$timeout" -- \
		env UBT_BENCH_SECTIONS="${UBT_BENCH_SECTIONS:-file null stripe mirror balance}" \
		UBT_BENCH_WORKLOADS="${UBT_BENCH_WORKLOADS:-}" UBT_BENCH_BEFORE="${UBT_BENCH_BEFORE:-}" \
		UBT_BENCH_SCHED="${UBT_BENCH_SCHED:-none}" UBT_BENCH_BACKINGS="${UBT_BENCH_BACKINGS:-tmpfs bdev}" \
		UBT_BENCH_QUEUES="${UBT_BENCH_QUEUES:-1 2}" UBT_BENCH_ROWS="${UBT_BENCH_ROWS:-}" \
		UBT_PROFILE_WORKLOAD="${UBT_PROFILE_WORKLOAD:-}" UBT_PROFILE_DEVICES="${UBT_PROFILE_DEVICES:-}" \
		UBT_PROFILE_PERF="${UBT_PROFILE_PERF:-no}" \
		"$bdir/$script" "$bdir" "$runtime" "$repeats" "${extra[@]}" || {
		rc=$?
		echo "run.sh: the $k run failed (exit $rc)" >&2
	}
	stop_watch
	if [ -s "$flag" ]; then
		echo "WARNING: another QEMU guest ran during the $k measurement; these numbers are not comparable"
	fi
done
exit "$rc"
