#!/bin/bash
# SPDX-License-Identifier: MIT
# Where a request's time goes, run inside the test guest (scripts/bench/run.sh
# --profile starts it): our server beside kublk on the same request, every
# device on the scheduler `none`, one queue of depth 128.  For each device,
# one fio run (4k randread qd32 unless WORKLOAD says otherwise) while the
# server's CPU time, context switches and io_uring_enter calls are counted,
# then a second run under `perf record -a` (cpu-clock, the only clock TCG
# has) whose top symbols are printed by process.  Per-request figures divide
# by the requests fio completed in the same window.
#   profile.sh BUILD_DIR [RUNTIME_S]
# Environment: UBT_PROFILE_WORKLOAD, "rw bs depth" (default "randread 4k
# 32"); UBT_PROFILE_DEVICES, a regex on the device labels below;
# UBT_PROFILE_PERF=yes adds perf (io_uring_enter counts from the syscall
# tracepoint, then perf record's shares and symbols).  Off by default: in
# the TCG guest, perf switching its events on has crashed both kernels (an
# int3 oops in __schedule while the kernel patches its own code for them,
# 6.12 once and 7.3 once in three runs).
set -euo pipefail

me=profile
B=$1/ublk-target
runtime=${2:-5}
w=${UBT_PROFILE_WORKLOAD:-}
read -r rw bs depth <<<"${w:-randread 4k 32}"
peers=${UBT_PEERS:-/work/shared/peers}
kublk=$peers/kublk
devices_re=${UBT_PROFILE_DEVICES:-}
die() { echo "$me: $*" >&2; exit 1; }
trap 'echo "$me: a command failed at line $LINENO" >&2' ERR

[ "$(id -u)" = 0 ] || die "must run as root (in the test guest)"
[ -x "$B" ] || die "$B is not built"
[ -x "$kublk" ] || die "peer server $kublk missing"
use_perf=${UBT_PROFILE_PERF:-no}
[ "$use_perf" != yes ] || command -v perf >/dev/null || die "perf is not installed (linux-perf)"
[[ $runtime =~ ^[1-9][0-9]*$ ]] || die "RUNTIME_S must be a positive integer"
[[ $depth =~ ^[1-9][0-9]*$ ]] || die "UBT_PROFILE_WORKLOAD must be 'rw bs depth'"
mountpoint -q /sys/kernel/tracing 2>/dev/null || mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null || true

auto_zc=
"$kublk" features 2>/dev/null | grep -qi auto_buf_reg && auto_zc=--auto_zc
work=$(mktemp -d /tmp/ubt-profile.XXXXXX)
ours_ids=() kublk_ids=() nullbs=()
cleanup() {
	local i
	for i in "${ours_ids[@]}"; do "$B" delete -n "$i" >/dev/null 2>&1 || true; done
	for i in "${kublk_ids[@]}"; do "$kublk" del -n "$i" >/dev/null 2>&1 || true; done
	for i in "${nullbs[@]}"; do echo 0 >"$i/power" 2>/dev/null; rmdir "$i" 2>/dev/null || true; done
	rm -rf "$work"
}
trap cleanup EXIT

mk_nullb() {	# NAME MB -> $nullb_dev, memory-backed
	local d=/sys/kernel/config/nullb/$1 dev
	mkdir "$d" && nullbs+=("$d")
	echo "$2" >"$d/size"
	echo 1 >"$d/memory_backed"
	echo 1 >"$d/power"
	for dev in "/dev/$1" "/dev/nullb$(cat "$d/index")"; do
		[ -b "$dev" ] && { nullb_dev=$dev; echo none >"/sys/block/${dev#/dev/}/queue/scheduler"; return 0; }
	done
	die "null_blk $1 has no device node"
}

# The backings: a 256 MiB file on the tmpfs and a memory-backed null_blk
# device, each twice (ours claims its own).
dd if=/dev/urandom of="$work/src" bs=1M count=256 status=none
cp "$work/src" "$work/ours.img"
cp "$work/src" "$work/kublk.img"
mk_nullb ubt-prof-ours 256; bdev_ours=$nullb_dev
dd if="$work/src" of="$bdev_ours" bs=1M oflag=direct status=none
mk_nullb ubt-prof-kublk 256; bdev_kublk=$nullb_dev
dd if="$work/src" of="$bdev_kublk" bs=1M oflag=direct status=none

# "LABEL|how": ours SPEC, or kublk ARGS (-n ID and -q/-d added here).
devices=(
	"ours null|ours null(size=250G)"
	"kublk null $auto_zc|kublk -t null $auto_zc"
	"ours file, tmpfs|ours file($work/ours.img)"
	"kublk loop $auto_zc, tmpfs|kublk -t loop $auto_zc $work/kublk.img"
	"ours file, null_blk|ours file($bdev_ours)"
	"kublk loop $auto_zc, null_blk|kublk -t loop $auto_zc $bdev_kublk"
)

# The pids serving /dev/ublkcID: whoever holds it open.
server_pids() {
	local p
	for p in /proc/[0-9]*; do
		if ls -l "$p/fd" 2>/dev/null | grep -q "/dev/ublkc$1\$"; then
			echo "${p#/proc/}"
		fi
	done
	return 0
}
# CPU ticks (user + system) of a process's threads, and their context switches.
cpu_ticks() { awk '{ s += $14 + $15 } END { print s + 0 }' /proc/"$1"/task/*/stat; }
ctx_switches() {
	cat /proc/"$1"/task/*/status | awk '/^(non)?voluntary_ctxt_switches/ { s += $2 } END { print s + 0 }'
}

fio_run() {	# DEV -> "IOPS usr% sys%" of fio itself
	fio --name=p --filename="$1" --direct=1 --ioengine=io_uring --rw="$rw" --bs="$bs" \
		--iodepth="$depth" --runtime="$runtime" --time_based --norandommap --randrepeat=0 \
		--minimal | awk -F';' -v rw="$rw" '{ i = (rw ~ /write/) ? $49 : $8; print i, $88, $89 }'
}

hz=$(getconf CLK_TCK)
echo "## where a request's time goes: guest kernel $(uname -r), $rw $bs qd$depth, ${runtime} s runs"
echo
echo "| device | IOPS | server CPU us/req | server ctx sw/req | io_uring_enter/req | fio CPU us/req |"
echo "|---|---|---|---|---|---|"
declare -A devnode
id=20
for d in "${devices[@]}"; do
	label=${d%%|*} how=${d#*|}
	[ -z "$devices_re" ] || [[ $label =~ $devices_re ]] || continue
	read -r kind args <<<"$how"
	if [ "$kind" = ours ]; then
		out=$("$B" create -q 1 -d 128 --spec "$args" 2>&1 </dev/null) || die "$label: $out"
		dev=$(grep -o '/dev/ublkb[0-9]*' <<<"$out" | tail -n1)
		ours_ids+=("${dev#/dev/ublkb}")
	else
		# shellcheck disable=SC2086
		"$kublk" add $args -q 1 -d 128 -n "$id" >"$work/kublk.log" 2>&1 </dev/null ||
			die "$label: $(tail -n1 "$work/kublk.log")"
		kublk_ids+=("$id")
		dev=/dev/ublkb$id
		for _ in $(seq 50); do [ -b "$dev" ] && break; sleep 0.2; done
	fi
	id=$((id + 1))
	echo none >"/sys/block/${dev#/dev/}/queue/scheduler"
	devnode[$label]=$dev
	pid=$(server_pids "${dev#/dev/ublkb}" | head -n1)
	[ -n "$pid" ] || die "$label: no process holds /dev/ublkc${dev#/dev/ublkb}"
	t0=$(cpu_ticks "$pid") c0=$(ctx_switches "$pid")
	: >"$work/stat"
	ps=
	if [ "$use_perf" = yes ]; then
		perf stat -e syscalls:sys_enter_io_uring_enter -p "$pid" -x, -o "$work/stat" 2>/dev/null &
		ps=$!
	fi
	read -r iops fusr fsys <<<"$(fio_run "$dev")"
	if [ -n "$ps" ]; then
		kill -INT "$ps" 2>/dev/null || true
		wait "$ps" 2>/dev/null || true
	fi
	t1=$(cpu_ticks "$pid") c1=$(ctx_switches "$pid")
	enters=$(awk -F, '/io_uring_enter/ { print $1 }' "$work/stat" || true)
	reqs=$((iops * runtime))
	awk -v l="$label" -v i="$iops" -v r="$reqs" -v t=$((t1 - t0)) -v hz="$hz" -v c=$((c1 - c0)) \
		-v e="${enters:-}" -v fu="$fusr" -v fs="$fsys" -v rt="$runtime" 'BEGIN {
		printf "| %s | %d | %.1f | %.2f | %s | %.1f |\n", l, i,
			t / hz * 1e6 / r, c / r, (e ~ /^[0-9]+$/) ? sprintf("%.2f", e / r) : "-",
			(fu + fs) / 100 * rt * 1e6 / r }'
done

[ "$use_perf" = yes ] || exit 0
echo
echo "perf record -a -e cpu-clock over a second run of each device: the share of all samples"
echo "on both vCPUs per process (swapper: idle; fio: the client; iou-wrk: io_uring's workers;"
echo "the server by name), then the top symbols outside the idle loop:"
for d in "${devices[@]}"; do
	label=${d%%|*}
	[ -n "${devnode[$label]:-}" ] || continue
	perf record -a -e cpu-clock -F 2000 -o "$work/perf.data" -- \
		fio --name=p --filename="${devnode[$label]}" --direct=1 --ioengine=io_uring --rw="$rw" \
		--bs="$bs" --iodepth="$depth" --runtime="$runtime" --time_based --norandommap \
		--randrepeat=0 >/dev/null 2>&1
	echo
	echo "### $label"
	echo '```'
	# Who ran (swapper: the vCPU idle), then what they ran.
	perf report -i "$work/perf.data" --stdio --no-children --sort comm --percent-limit 1 2>/dev/null |
		grep -v '^#' | grep -v '^$' | head -n 8
	echo '--'
	perf report -i "$work/perf.data" --stdio --no-children --sort comm,sym --percent-limit 0.7 2>/dev/null |
		grep -v '^#' | grep -v '^$' | grep -v swapper | head -n 20
	echo '```'
done
