#!/bin/bash
# SPDX-License-Identifier: MIT
# Benchmark: the framework's own cost.  `ublk-target bench` on a stripe of
# 4 files on tmpfs against fio's io_uring engine on the same 4 files with
# the same total depth; no kernel ublk involved.  Median of REPEATS runs,
# ratio ours / fio.
#   scripts/bench/inproc-vs-fio.sh [RUNTIME_S] [REPEATS]
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
runtime=${1:-5}
repeats=${2:-3}
B=$top/build/ublk-target
# Both run pinned to the same CPU: unpinned runs on this machine swing by 30%.
cpu=$(( $(nproc) - 1 ))
make -C "$top" -s -j"$(nproc)" >/dev/null
dir=$(mktemp -d /dev/shm/ubt-bench.XXXXXX)
trap 'rm -rf "$dir"' EXIT
for i in 0 1 2 3; do
	dd if=/dev/urandom of="$dir/f$i" bs=1M count=256 status=none
done
files="$dir/f0:$dir/f1:$dir/f2:$dir/f3"
spec="stripe($dir/f0, $dir/f1, $dir/f2, $dir/f3, chunk=128K)"

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

ours_once() {	# rw bs depth -> IOPS
	taskset -c "$cpu" $B bench --spec "$spec" --rw "$1" --bs "$2" --iodepth "$3" --runtime "$runtime" \
		--json 2>/dev/null | sed 's/.*"iops": \([0-9]*\).*/\1/'
}

fio_once() {	# rw bs depth -> IOPS
	taskset -c "$cpu" fio --name=b --filename="$files" --direct=1 --ioengine=io_uring --rw="$1" --bs="$2" \
		--iodepth="$3" --runtime="$runtime" --time_based --norandommap --randrepeat=0 \
		--minimal | awk -F';' '{ print $8 }'
}

# Runs alternate between the two, so drift on the machine hits both alike.
row() {
	local a=() b=() i am bm
	for i in $(seq "$repeats"); do
		a+=("$(ours_once "$2" "$3" "$4")")
		b+=("$(fio_once "$2" "$3" "$4")")
	done
	am=$(printf '%s\n' "${a[@]}" | median)
	bm=$(printf '%s\n' "${b[@]}" | median)
	awk -v n="$1" -v a="$am" -v b="$bm" -v bs="$3" 'BEGIN {
		m = (bs ~ /128/) ? 131072 : 4096;
		printf "| %-28s | %9d | %9.0f | %9d | %9.0f | %5.2fx |\n",
			n, a, a * m / 1048576, b, b * m / 1048576, b ? a / b : 0 }'
}

echo "host: $(uname -r), $(nproc) CPUs; 4 x 256 MiB files on tmpfs; one queue / one fio job"
echo "ours: ublk-target bench --spec 'stripe(4 files, chunk=128K)'; fio: io_uring, direct=1, the 4 files"
echo "${runtime}s per run, median of $repeats, runs alternating, both pinned to CPU $cpu"
echo
echo "| workload                     | ours IOPS | ours MB/s |  fio IOPS |  fio MB/s | ratio |"
echo "|------------------------------|-----------|-----------|-----------|-----------|-------|"
row "4k randread qd32" randread 4K 32
row "128k sequential read qd32" read 128K 32
