#!/bin/bash
# SPDX-License-Identifier: MIT
# Benchmark: our file target against the kernel's loop device over the same
# backing file, our null target against the kernel's null_blk, and our
# stripe over 4 files against dm-stripe over loop devices on the same files.  Runs
# inside the test guest (scripts/bench/run.sh starts it); every number in a
# row comes from the same guest run, and ratios are ours / kernel.
#   ublk-vs-kernel.sh BUILD_DIR [RUNTIME_S] [REPEATS]
set -euo pipefail
B=${1:?build dir}/ublk-target
runtime=${2:-5}
repeats=${3:-3}
# The guest's /tmp is a tmpfs of half its memory; the files need 2 GiB.
mount -o remount,size=3G /tmp
work=$(mktemp -d /tmp/ubt-bench.XXXXXX)
loopdev=
cleanup() {
	$B delete --all >/dev/null 2>&1 || true
	DM_DISABLE_UDEV=1 dmsetup remove ubt-bench-stripe >/dev/null 2>&1 || true
	losetup -D 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

# One fio job; prints IOPS and MB/s (read or write side).
run_fio() {
	local dev=$1 rw=$2 bs=$3 depth=$4 out
	out=$(fio --name=bench --filename="$dev" --direct=1 --ioengine=io_uring --rw="$rw" \
		--bs="$bs" --iodepth="$depth" --runtime="$runtime" --time_based --ramp_time=1 \
		--norandommap --randrepeat=0 --minimal)
	case $rw in
	*write) echo "$out" | awk -F';' '{ printf "%d %.1f\n", $49, $48 / 1024 }' ;;
	*) echo "$out" | awk -F';' '{ printf "%d %.1f\n", $8, $7 / 1024 }' ;;
	esac
}

# median of the IOPS over the repeats, with its MB/s
median() {
	sort -n | awk '{ a[NR] = $0 } END { print a[int((NR + 1) / 2)] }'
}

measure() {
	local dev=$1 rw=$2 bs=$3 depth=$4 i
	for i in $(seq "$repeats"); do
		run_fio "$dev" "$rw" "$bs" "$depth"
	done | median
}

row() {
	local name=$1 ours=$2 theirs=$3 rw=$4 bs=$5 depth=$6 a b
	a=$(measure "$ours" "$rw" "$bs" "$depth")
	b=$(measure "$theirs" "$rw" "$bs" "$depth")
	awk -v n="$name" -v a="$a" -v b="$b" 'BEGIN {
		split(a, x, " "); split(b, y, " ");
		printf "| %-38s | %9d | %9.1f | %9d | %9.1f | %5.2fx |\n",
			n, x[1], x[2], y[1], y[2], (y[1] ? x[1] / y[1] : 0) }'
}

truncate -s 1G "$work/backing.img"
# Fill it so that reads touch real pages on both sides.
dd if=/dev/urandom of="$work/backing.img" bs=1M count=1024 conv=notrunc status=none
ours_file=$($B create -q 1 file --file "$work/backing.img")
loopdev=$(losetup --direct-io=on --show -f "$work/backing.img")
ours_null=$($B create -q 1 null --size 250G)
nullb=/dev/nullb0
[ -b "$nullb" ] || { echo "bench: no $nullb (null_blk not loaded)"; exit 1; }

# 4 x 256 MiB: our stripe over the files, dm-stripe over loop devices on them.
table="0 $((4 * 524288)) striped 4 128"
files=()
for i in 0 1 2 3; do
	dd if=/dev/urandom of="$work/s$i.img" bs=1M count=256 status=none
	files+=(--file "$work/s$i.img")
	table="$table $(losetup --direct-io=on --show -f "$work/s$i.img") 0"
done
ours_stripe=$($B create -q 1 stripe --chunk 64K "${files[@]}")
DM_DISABLE_UDEV=1 dmsetup create ubt-bench-stripe --table "$table"
dm_stripe=/dev/mapper/ubt-bench-stripe

echo "guest: $(uname -r), $(nproc) vCPUs (QEMU TCG), fio $(fio --version | sed 's/fio-//')"
echo "backing: files on tmpfs; loop: losetup --direct-io=on; ours: -q 1 -d 128"
echo "stripe: 4 x 256 MiB files, chunk 64K; dm-stripe over loop devices (direct-io) on the same files"
echo "fio: io_uring, direct=1, ${runtime}s per run after 1s ramp, median of $repeats runs"
echo
echo "| workload                               | ours IOPS | ours MB/s | kern IOPS | kern MB/s | ratio |"
echo "|----------------------------------------|-----------|-----------|-----------|-----------|-------|"
row "file vs loop: 4k randread qd32" "$ours_file" "$loopdev" randread 4k 32
row "file vs loop: 4k randwrite qd32" "$ours_file" "$loopdev" randwrite 4k 32
row "file vs loop: 128k read qd8" "$ours_file" "$loopdev" read 128k 8
row "null vs null_blk: 4k randread qd32" "$ours_null" "$nullb" randread 4k 32
row "null vs null_blk: 4k randwrite qd32" "$ours_null" "$nullb" randwrite 4k 32
row "stripe vs dm-stripe: 4k randread qd32" "$ours_stripe" "$dm_stripe" randread 4k 32
row "stripe vs dm-stripe: 4k randwrite qd32" "$ours_stripe" "$dm_stripe" randwrite 4k 32
row "stripe vs dm-stripe: 128k read qd8" "$ours_stripe" "$dm_stripe" read 128k 8
