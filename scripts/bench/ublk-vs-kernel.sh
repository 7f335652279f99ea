#!/bin/bash
# SPDX-License-Identifier: MIT
# Benchmark, run inside the test guest (scripts/bench/run.sh starts it): our
# server in each copy mode beside the kernel's own baseline (loop, null_blk,
# dm-stripe) and the two peer ublk servers (kublk, the kernel's selftest
# server, and ublksrv), over the same backing, in one guest run.  Prints one
# markdown table per section, backing and queue count.
#
# Equal footing: every request-based device of a table (ours, the peers',
# loop, null_blk) runs the same I/O scheduler, `none` unless
# UBT_BENCH_SCHED=default leaves each its own default (the kernel gives a
# ublk device mq-deadline, ours sets none); the table shows each row's.
# Every ublk device has the same queue count and depth (-q Q -d 128); with
# two queues fio runs two jobs, one per vCPU, of half the depth each, so
# each column's total depth is the same in every table.  Backings: files
# on the guest's tmpfs, or memory-backed null_blk devices (configfs,
# memory_backed=1: a blk-mq device that takes O_DIRECT and non-blocking
# I/O the way an NVMe drive does), so that no one file system decides a
# table.
#   ublk-vs-kernel.sh BUILD_DIR [RUNTIME_S] [REPEATS]
# Environment: UBT_BENCH_SECTIONS picks sections (file null stripe mirror
# balance raid; balance: the mirror's read policies over slow legs; raid:
# raid5 and raid6 beside dm-raid, healthy and degraded);
# UBT_BENCH_BACKINGS (tmpfs bdev) and UBT_BENCH_QUEUES (1 2) the tables of
# the file and stripe sections; UBT_BENCH_WORKLOADS, a regex, keeps the
# workloads whose name matches (e.g. '^4k'); UBT_BENCH_ROWS, a regex, keeps
# the ours and peer rows whose label matches (the kernel's row stays);
# UBT_BENCH_BEFORE=DIR, a second build (an older version), adds a "before"
# row beside each of our rows of the file, null and stripe sections, so that
# a change is measured against what it changes in one guest run.
set -euo pipefail

me=ublk-vs-kernel
usage="usage: $me BUILD_DIR [RUNTIME_S] [REPEATS]"
if [ $# -lt 1 ] || [ $# -gt 3 ]; then
	echo "$usage" >&2
	exit 2
fi
B=$1/ublk-target
runtime=${2:-5}
repeats=${3:-3}
peers=${UBT_PEERS:-/work/shared/peers}
sections=${UBT_BENCH_SECTIONS:-file null stripe mirror balance raid}
kublk=$peers/kublk
ublksrv=$peers/ublksrv/ublk
before=${UBT_BENCH_BEFORE:+$UBT_BENCH_BEFORE/ublk-target}
sched=${UBT_BENCH_SCHED:-none}
backings=${UBT_BENCH_BACKINGS:-tmpfs bdev}
queue_counts=${UBT_BENCH_QUEUES:-1 2}
rows_re=${UBT_BENCH_ROWS:-}

# Our rows, one line each: "LABEL|create options".  Every section measures
# each of them; a row whose --copy-mode this kernel does not offer is dropped
# with a note.  The default (auto) is one of these; the header says which.
ours_configs=(
	"copy|--copy-mode copy"
	"zero-copy|--copy-mode zero-copy"
	"user-copy|--copy-mode user-copy"
)
# The file section adds the other engine (Linux AIO needs the data in our
# memory: copy mode).
file_configs=("${ours_configs[@]}" "copy, aio engine|--copy-mode copy --engine aio")

# Peer rows per section: "LABEL|NEEDS|SERVER ARGS...".  NEEDS lists the kernel
# ublk feature flags (as 'ublk-target features' names them) the mode needs, or
# '-'; without them the row is dropped with a note.  @ID@ is the device id,
# @Q@ the queue count, @FILE@ the shared backing file (or block device),
# @FILES@ the four shared stripe files.
file_peers=(
	"kublk loop|-|kublk add -t loop -q @Q@ -d 128 -n @ID@ @FILE@"
	"kublk loop --auto_zc|auto_buf_reg|kublk add -t loop -q @Q@ -d 128 -n @ID@ --auto_zc @FILE@"
	"ublksrv loop|-|ublksrv add -t loop -q @Q@ -d 128 -n @ID@ --max_io_buf_bytes 1048576 -f @FILE@"
	"ublksrv loop -z|auto_buf_reg|ublksrv add -t loop -q @Q@ -d 128 -n @ID@ --max_io_buf_bytes 1048576 -z -f @FILE@"
)
null_peers=(
	"kublk null|-|kublk add -t null -q @Q@ -d 128 -n @ID@"
	"kublk null --auto_zc|auto_buf_reg|kublk add -t null -q @Q@ -d 128 -n @ID@ --auto_zc"
	"kublk null -b --auto_zc|auto_buf_reg batch_io|kublk add -t null -q @Q@ -d 128 -n @ID@ -b --auto_zc"
	"ublksrv null|-|ublksrv add -t null -q @Q@ -d 128 -n @ID@"
	"ublksrv null -z|auto_buf_reg|ublksrv add -t null -q @Q@ -d 128 -n @ID@ -z"
)
stripe_peers=(
	"kublk stripe|-|kublk add -t stripe -q @Q@ -d 128 -n @ID@ --chunk_size 65536 @FILES@"
	"kublk stripe --auto_zc|auto_buf_reg|kublk add -t stripe -q @Q@ -d 128 -n @ID@ --chunk_size 65536 --auto_zc @FILES@"
)

# Workloads: "NAME|rw|bs|iodepth|show MiB/s".
workloads=(
	"4k randread qd32|randread|4k|32|0"
	"4k randwrite qd32|randwrite|4k|32|0"
	"128k read qd8|read|128k|8|1"
	"1M read qd4|read|1M|4|1"
)
# keep_workloads: drop the workloads UBT_BENCH_WORKLOADS does not match.
keep_workloads() {
	local -a kept=()
	local w
	[ -n "${UBT_BENCH_WORKLOADS:-}" ] || return 0
	for w in "${workloads[@]}"; do
		[[ ! ${w%%|*} =~ $UBT_BENCH_WORKLOADS ]] || kept+=("$w")
	done
	[ ${#kept[@]} -gt 0 ] || die "UBT_BENCH_WORKLOADS='$UBT_BENCH_WORKLOADS' matches no workload"
	workloads=("${kept[@]}")
}

# Backing sizes: the file section serves one 512 MiB file, the stripe section
# four 128 MiB files (the same 512 MiB in all); null devices are 250G like
# null_blk's default.  Each of our devices needs its own copy (our daemon
# claims its files), the kernel and the peers share one.
file_mb=512
stripe_mb=128
mirror_mb=256
raid_mb=128
peer_id0=10

die() { echo "$me: $*" >&2; exit 1; }

# Refuse up front, with one line, when anything the run needs is missing.
[[ $runtime =~ ^[1-9][0-9]*$ ]] || die "RUNTIME_S must be a positive integer, not '$runtime'"
[[ $repeats =~ ^[1-9][0-9]*$ ]] || die "REPEATS must be a positive integer, not '$repeats'"
[ "$sched" = none ] || [ "$sched" = default ] ||
	die "UBT_BENCH_SCHED must be none or default, not '$sched'"
for b in $backings; do
	[ "$b" = tmpfs ] || [ "$b" = bdev ] || die "UBT_BENCH_BACKINGS: '$b' is not tmpfs or bdev"
done
for q in $queue_counts; do
	[ "$q" = 1 ] || [ "$q" = 2 ] || die "UBT_BENCH_QUEUES: '$q' is not 1 or 2"
done
[ "$(id -u)" = 0 ] || die "must run as root (in the test guest: scripts/bench/run.sh)"
[ -x "$B" ] || die "$B is not built (run make)"
[ -z "$before" ] || [ -x "$before" ] || die "UBT_BENCH_BEFORE: $before is not built"
keep_workloads
for t in fio losetup dmsetup timeout awk; do
	command -v "$t" >/dev/null || die "$t is not installed"
done
[ -c /dev/ublk-control ] || die "no /dev/ublk-control (ublk_drv not loaded)"
[ -d /sys/kernel/config/nullb ] || die "no /sys/kernel/config/nullb (null_blk not loaded, or configfs not mounted)"
[ -x "$kublk" ] || die "peer server $kublk missing"
[ -x "$ublksrv" ] || die "peer server $ublksrv missing"
[ "$(stat -f -c %T /tmp)" = tmpfs ] || die "/tmp is not a tmpfs (run in the test guest)"
[ "$(nproc)" -ge 2 ] || [[ " $queue_counts " != *" 2 "* ]] ||
	die "two queues need two vCPUs (this guest has $(nproc))"

# Kernel ublk flags and the copy modes we can use on this kernel.
features=$("$B" features) || die "'ublk-target features' failed"
flags=$(awk '/^kernel ublk features:/ { f = 1; next } /^copy modes:/ { f = 0 } f { print $1 }' <<<"$features")
copy_modes=$(sed -n 's/^copy modes: \(.*\) (auto: .*/\1/p' <<<"$features")
auto_mode=$(sed -n 's/^copy modes: .* (auto: \(.*\))$/\1/p' <<<"$features")
[ -n "$copy_modes" ] || die "'ublk-target features' lists no copy modes"
has_flag() { grep -qx "$1" <<<"$flags"; }

# Room for the largest table: its source, one copy per our config and the
# shared one, on the tmpfs or in null_blk's memory; the guest's /tmp
# defaults to half its memory.
copies=${#file_configs[@]}
[ -z "$before" ] || copies=$((2 * copies))
tmpfs_mb=$(((copies + 2) * file_mb + 256))
mem_mb=$(awk '/^MemTotal:/ { print int($2 / 1024) }' /proc/meminfo)
[ "$mem_mb" -ge $((tmpfs_mb + 2048)) ] ||
	die "guest has ${mem_mb} MiB, needs $((tmpfs_mb + 2048)) (vm-run --mem 8G)"
mount -o remount,size="${tmpfs_mb}m" /tmp
work=$(mktemp -d /tmp/ubt-bench.XXXXXX)

# What a table made, so that its end and the exit trap can undo it.
our_ids=()	# "BINARY:ID"
peer_devs=()	# "SERVER:ID"
loops=()
nullbs=()	# configfs directories of the null_blk devices made here
dm_name=
section_end() {
	local i s
	for i in "${our_ids[@]}"; do
		"${i%:*}" delete -n "${i##*:}" >/dev/null 2>&1 ||
			echo "$me: could not delete our device ${i##*:}" >&2
	done
	for s in "${peer_devs[@]}"; do
		case ${s%%:*} in
		kublk) "$kublk" del -n "${s#*:}" >/dev/null 2>&1 || true ;;
		ublksrv) "$ublksrv" del -n "${s#*:}" >/dev/null 2>&1 || true ;;
		esac
		# A peer that failed to start may have left nothing to delete, so
		# judge by the device node rather than by del's status.
		[ ! -e "/dev/ublkc${s#*:}" ] || echo "$me: could not delete peer device ${s#*:}" >&2
	done
	if [ -n "$dm_name" ]; then
		DM_DISABLE_UDEV=1 dmsetup remove "$dm_name" >/dev/null 2>&1 ||
			echo "$me: could not remove dm device $dm_name" >&2
	fi
	for i in "${loops[@]}"; do
		losetup -d "$i" 2>/dev/null || echo "$me: could not detach $i" >&2
	done
	for i in "${nullbs[@]}"; do
		echo 0 >"$i/power" 2>/dev/null || true
		rmdir "$i" 2>/dev/null || echo "$me: could not remove null_blk $i" >&2
	done
	our_ids=() peer_devs=() loops=() nullbs=() dm_name=
	# The backing files go with their table so that the next has the memory.
	rm -f "$work"/*.img "$work"/*.src
}
cleanup() {
	section_end
	# Ours interrupted between create and its bookkeeping.
	"$B" delete --all >/dev/null 2>&1 || true
	[ -z "$before" ] || "$before" delete --all >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The sysfs queue directory of a block device (a dm device by its dm-N name).
queue_dir() { echo "/sys/block/$(basename "$(readlink -f "$1")")/queue"; }

# set_sched DEV: the table's scheduler on a request-based device (a
# bio-based one, dm or brd, has none to set); prints the one in effect.
set_sched() {
	local f
	f=$(queue_dir "$1")/scheduler
	[ -r "$f" ] || { echo n/a; return 0; }
	if [ "$sched" = none ] && ! grep -q '\[none\]' "$f"; then
		echo none >"$f" 2>/dev/null || true
	fi
	sed -n 's/.*\[\(.*\)\].*/\1/p' "$f" | grep . || echo none
}

# mk_nullb NAME MB [ATTR=VALUE...]: a null_blk device with memory behind it
# (MB 0: 250G and none), its node left in $nullb_dev (not printed: its
# bookkeeping must stay in this shell).  Completions in soft interrupt
# context (null_blk's default), 512-byte blocks, a queue per vCPU and 128
# tags per queue, unless the ATTR=VALUE words set those configfs
# attributes otherwise.
nullb_dev=
mk_nullb() {
	local d=/sys/kernel/config/nullb/$1 mb=$2 idx dev a
	shift 2
	mkdir "$d" || die "cannot make null_blk ${d##*/} (configfs)"
	nullbs+=("$d")
	if [ "$mb" = 0 ]; then
		echo 256000 >"$d/size"
	else
		echo "$mb" >"$d/size"
		echo 1 >"$d/memory_backed"
	fi
	echo 512 >"$d/blocksize"
	echo "$(nproc)" >"$d/submit_queues"
	echo 128 >"$d/hw_queue_depth"
	for a in "$@"; do
		echo "${a#*=}" >"$d/${a%%=*}" || die "null_blk ${d##*/}: cannot set $a"
	done
	echo 1 >"$d/power" || die "cannot power on null_blk ${d##*/}"
	idx=$(cat "$d/index")
	# Named after its configfs directory on kernels that do so.
	for dev in "/dev/${d##*/}" "/dev/nullb$idx"; do
		if [ -b "$dev" ]; then
			nullb_dev=$dev
			return 0
		fi
	done
	die "null_blk ${d##*/} (index $idx) has no device node"
}

# The rows of the current table: name, device, kind (kernel, ours, peer), scheduler.
names=() devs=() kinds=() scheds=() notes=()
section_begin() {
	names=() devs=() kinds=() scheds=() notes=()
	peer_id=$peer_id0
	res=()
	section=$1
}
add_row() {
	names+=("$1") devs+=("$2") kinds+=("$3")
	scheds+=("$(set_sched "$2")")
}
note() { notes+=("$1"); }
# Rows the run keeps: all of them, or those UBT_BENCH_ROWS matches.
keep_row() { [ -z "$rows_re" ] || [[ $1 =~ $rows_re ]]; }

# Fill a backing file with random data so that reads touch real pages.
fill() { dd if=/dev/urandom of="$1" bs=1M count="$2" status=none; }

# backing_copy SRC NAME MB [ATTR=VALUE...]: a copy of SRC on the table's
# backing, its path left in $copy_path: a file on the tmpfs, or a null_blk
# device of MB MiB (the ATTR=VALUE words as mk_nullb takes them).
copy_path=
backing_copy() {
	local src=$1 name=$2 mb=$3
	shift 3
	if [ "$backing" = tmpfs ]; then
		cp "$src" "$work/$name.img"
		copy_path=$work/$name.img
		return 0
	fi
	mk_nullb "ubt-$name" "$mb" "$@"
	dd if="$src" of="$nullb_dev" bs=1M oflag=direct status=none || die "cannot fill $nullb_dev"
	set_sched "$nullb_dev" >/dev/null
	copy_path=$nullb_dev
}

# ours_offered CONF: is the --copy-mode of CONF (if any) one this kernel offers?
ours_offered() {
	local m
	m=$(sed -n 's/.*--copy-mode[ =]\([^ ]*\).*/\1/p' <<<"${1#*|}")
	[ -z "$m" ] || [[ " $copy_modes " == *" $m "* ]]
}

# add_ours CONF TARGET-ARGS...: create one of our devices and add its row;
# with ours_bin set to the before build, a "before" row.
ours_bin=
add_ours() {
	local conf=$1 label opts out dev id mode want bin=${ours_bin:-$B} what=ours
	shift
	label=${conf%%|*} opts=${conf#*|}
	[ "$bin" = "$B" ] || what=before
	local -a o=()
	read -ra o <<<"$opts"
	if ! out=$(timeout 60 "$bin" create -q "$nq" -d 128 "${o[@]}" "$@" 2>&1 </dev/null); then
		note "$what $section $label: dropped, create failed: $(tail -n1 <<<"$out")"
		return 0
	fi
	dev=$(grep -o '/dev/ublkb[0-9]*' <<<"$out" | tail -n1) ||
		die "$what $section $label: create printed no device: $out"
	id=${dev#/dev/ublkb}
	our_ids+=("$bin:$id")
	# The device must run the mode its row names; the default gets a mark.
	mode=$("$bin" list | awk -v id="$id" '$1 == id { print $6 }')
	want=$(sed -n 's/.*--copy-mode[ =]\([^ ]*\).*/\1/p' <<<"$opts")
	[ -z "$want" ] || [ "$mode" = "$want" ] || note "$what $section $label: the device runs $mode"
	[ "$want" != "$auto_mode" ] || [[ $opts == *--engine* ]] || label+=" (= auto)"
	add_row "$what $section $label" "$dev" "$what"
}

# add_peer CONF FILE FILES: start one peer device and add its row.
add_peer() {
	local label needs cmd f bin id log lacks=''
	IFS='|' read -r label needs cmd <<<"$1"
	keep_row "$label" || return 0
	for f in $needs; do
		[ "$f" = - ] || has_flag "$f" || lacks+=" $f"
	done
	if [ -n "$lacks" ]; then
		note "$label: dropped, this kernel lacks${lacks}"
		return 0
	fi
	id=$peer_id
	peer_id=$((peer_id + 1))
	cmd=${cmd//@ID@/$id} cmd=${cmd//@Q@/$nq} cmd=${cmd//@FILE@/$2} cmd=${cmd//@FILES@/$3}
	local -a w=()
	read -ra w <<<"$cmd"
	case ${w[0]} in
	kublk) bin=$kublk ;;
	ublksrv) bin=$ublksrv ;;
	*) die "unknown peer server '${w[0]}'" ;;
	esac
	peer_devs+=("${w[0]}:$id")
	# To a file, not $(...): the daemon it leaves may keep its stdout open.
	log=$work/peer-$id.log
	if ! timeout 60 "$bin" "${w[@]:1}" >"$log" 2>&1 </dev/null; then
		note "$label: dropped, '${w[*]}' failed: $(grep -v '^\s*$' "$log" | tail -n1)"
		return 0
	fi
	for f in $(seq 50); do
		[ -b "/dev/ublkb$id" ] && break
		sleep 0.2
	done
	if [ ! -b "/dev/ublkb$id" ]; then
		note "$label: dropped, no /dev/ublkb$id after '${w[*]}'"
		return 0
	fi
	add_row "$label" "/dev/ublkb$id" peer
}

# One fio run; prints "IOPS MiB/s" of the side that moved data, or "fail".
# With two queues, two jobs of half the depth, one on each vCPU, so that
# each submits to its own hardware queue.
run_fio() {
	local dev=$1 rw=$2 bs=$3 depth=$4 out err=$work/fio.err
	local -a jobs=(--iodepth="$depth")
	[ "$nq" = 1 ] || jobs=(--numjobs="$nq" --iodepth=$(((depth + nq - 1) / nq))
		--cpus_allowed=0-$((nq - 1)) --cpus_allowed_policy=split --group_reporting)
	if ! out=$(timeout -k 10 $((runtime + 60)) fio --name=bench --filename="$dev" \
		--direct=1 --ioengine=io_uring --rw="$rw" --bs="$bs" "${jobs[@]}" \
		--runtime="$runtime" --time_based --ramp_time=1 --norandommap --randrepeat=0 \
		--minimal 2>"$err"); then
		echo "$me: fio on $dev ($rw $bs qd$depth) failed: $(tail -n1 "$err")" >&2
		echo fail
		return 0
	fi
	case $rw in
	*write) awk -F';' '{ printf "%d %.1f\n", $49, $48 / 1024 }' <<<"$out" ;;
	*) awk -F';' '{ printf "%d %.1f\n", $8, $7 / 1024 }' <<<"$out" ;;
	esac
}

# Every workload, every round, every row once: rounds alternate the rows so
# drift in the guest hits all alike, and the first row rotates each round.
declare -A res
measure_section() {
	local w r k c n=${#names[@]} wname rw bs qd bw
	for w in "${!workloads[@]}"; do
		IFS='|' read -r wname rw bs qd bw <<<"${workloads[$w]}"
		for r in $(seq "$repeats"); do
			echo "... $section ($title_tail): $wname, round $r/$repeats ($n devices, +$(($(date +%s) - t0)) s)" >&2
			for k in $(seq 0 $((n - 1))); do
				c=$(((k + r - 1) % n))
				res[$c:$w]+="$(run_fio "${devs[$c]}" "$rw" "$bs" "$qd")"$'\n'
			done
		done
	done
}

# The median IOPS (lower middle for an even count) with its MiB/s; "fail"
# when any run of the row failed, so that no cell hides a failure.
median() {
	local all
	all=$(grep -v '^$' || true)
	if [ -z "$all" ] || grep -qx fail <<<"$all"; then
		echo fail
	else
		sort -n <<<"$all" | awk '{ a[NR] = $0 } END { print a[int((NR + 1) / 2)] }'
	fi
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'; }

# Print the table: workloads as columns, rows as configs; for our rows,
# IOPS over the best peer row's IOPS and over the kernel's.
print_table() {
	local title=$1 c w wname rw bs qd bw m best bestname kern line hdr sep cell wid
	local -A med
	local -a bestpeer=() bestpeer_name=() kernel=()
	for w in "${!workloads[@]}"; do
		best=0 bestname='' kern=0
		for c in "${!names[@]}"; do
			m=$(median <<<"${res[$c:$w]}")
			med[$c:$w]=$m
			[ "$m" = fail ] && continue
			case ${kinds[$c]} in
			peer) if [ "${m%% *}" -gt "$best" ]; then best=${m%% *} bestname=${names[$c]}; fi ;;
			kernel) kern=${m%% *} ;;
			esac
		done
		bestpeer[w]=$best bestpeer_name[w]=$bestname kernel[w]=$kern
	done
	echo
	echo "### $title"
	echo
	hdr=$(printf '| %-40s | %-11s ' config sched) sep="|$(printf '%0.s-' $(seq 42))|-------------"
	for w in "${!workloads[@]}"; do
		IFS='|' read -r wname rw bs qd bw <<<"${workloads[$w]}"
		# Each IOPS column as wide as its heading, so the raw text lines up.
		wid=$((${#wname} + 5))
		hdr+=$(printf '| %s ' "$wname IOPS") sep+="|$(printf '%0.s-' $(seq $((wid + 2))))"
		if [ "$bw" = 1 ]; then hdr+=$(printf '| %7s ' MiB/s) sep+="|---------"; fi
		hdr+=$(printf '| %7s | %7s ' "vs peer" "vs kern") sep+="|---------|---------"
	done
	echo "$hdr|"
	echo "$sep|"
	for c in "${!names[@]}"; do
		line=$(printf '| %-40s | %-11s ' "${names[$c]}" "${scheds[$c]}")
		for w in "${!workloads[@]}"; do
			IFS='|' read -r wname rw bs qd bw <<<"${workloads[$w]}"
			wid=$((${#wname} + 5))
			m=${med[$c:$w]}
			if [ "$m" = fail ]; then
				line+=$(printf '| %*s ' "$wid" failed)
				[ "$bw" = 1 ] && line+=$(printf '| %7s ' -)
				line+=$(printf '| %7s | %7s ' "" "")
				continue
			fi
			line+=$(printf '| %*s ' "$wid" "${m%% *}")
			[ "$bw" = 1 ] && line+=$(printf '| %7s ' "${m#* }")
			if [ "${kinds[$c]}" = ours ] || [ "${kinds[$c]}" = before ]; then
				line+=$(printf '| %7s | %7s ' "$(ratio "${m%% *}" "${bestpeer[$w]}")" \
					"$(ratio "${m%% *}" "${kernel[$w]}")")
			else
				line+=$(printf '| %7s | %7s ' "" "")
			fi
		done
		echo "$line|"
	done
	echo
	cell="best peer per column:"
	for w in "${!workloads[@]}"; do
		IFS='|' read -r wname rw bs qd bw <<<"${workloads[$w]}"
		cell+=" $wname: ${bestpeer_name[$w]:-none};"
	done
	echo "${cell%;}"
	for line in "${notes[@]}"; do
		echo "note: $line"
	done
	for c in "${!names[@]}"; do
		for w in "${!workloads[@]}"; do
			if [ "${med[$c:$w]}" = fail ]; then
				echo "note: ${names[$c]}: some fio run failed (${workloads[$w]%%|*}); see the fio line above"
			fi
		done
	done
}

# Add one row per offered ours config; COPY_FN INDEX makes that config's own
# copy of the backing and sets target_args to the target's arguments.
add_ours_all() {
	local copy_fn=$1 i
	local -a confs=("${ours_configs[@]}")
	[ "$section" != file ] || confs=("${file_configs[@]}")
	for i in "${!confs[@]}"; do
		keep_row "ours $section ${confs[$i]%%|*}" || continue
		if ! ours_offered "${confs[$i]}"; then
			note "ours $section ${confs[$i]%%|*}: dropped, not offered by this kernel (copy modes: $copy_modes)"
			continue
		fi
		"$copy_fn" "$i"
		add_ours "${confs[$i]}" "${target_args[@]}"
		if [ -n "$before" ]; then
			"$copy_fn" "b$i"
			ours_bin=$before add_ours "${confs[$i]}" "${target_args[@]}"
		fi
	done
}

target_args=()
file_copy() {
	backing_copy "$work/file.src" "file-ours$1" "$file_mb"
	target_args=(file --file "$copy_path")
}
stripe_copy() {
	local s
	target_args=(stripe --chunk 64K)
	for s in 0 1 2 3; do
		backing_copy "$work/s$s.src" "s$s-ours$1" "$stripe_mb"
		target_args+=(--file "$copy_path")
	done
}
null_args() { target_args=(null --size 250G); }

backing_words() {
	if [ "$backing" = tmpfs ]; then
		echo "files on the guest's tmpfs"
	else
		echo "memory-backed null_blk devices (configfs, memory_backed=1)"
	fi
}

t0=$(date +%s)
echo "## guest kernel $(uname -r)"
echo
echo "- guest: $(nproc) vCPUs (QEMU TCG), ${mem_mb} MiB; kernel ublk flags:" \
	"auto_buf_reg $(has_flag auto_buf_reg && echo yes || echo no)," \
	"batch_io $(has_flag batch_io && echo yes || echo no)"
echo "- fio $(fio --version | sed 's/^fio-//'): io_uring, direct=1, norandommap, randrepeat=0;" \
	"1 s ramp + ${runtime} s per run; median of $repeats runs, rounds alternating all rows;" \
	"with 2 queues, 2 jobs (one per vCPU) of half the depth"
echo "- ours: ublk-target -q Q -d 128; copy modes offered: $copy_modes (auto: $auto_mode)"
echo "- peers ($peers): kublk (the kernel's selftest server) and ublksrv; -q Q -d 128"
if [ "$sched" = none ]; then
	echo "- I/O scheduler: none on every request-based device (the sched column shows each)"
else
	echo "- I/O scheduler: each device's own default (the sched column shows each)"
fi
echo "- each of our devices has its own copy of the backing (same size and content);" \
	"the kernel and the peers share one"
echo "- ratios: our IOPS / the best peer row's IOPS in that column, and / the kernel's"
[ -z "$before" ] || echo "- before rows: the same configs served by $before"
[ -z "$rows_re" ] || echo "- rows: only those matching '$rows_re' (and the kernel's)"

wanted() { [[ " $sections " == *" $1 "* ]]; }

# File: a 512 MiB file; the kernel's loop device with direct I/O.
file_table() {
	local shared loop p
	section_begin file
	fill "$work/file.src" "$file_mb"
	backing_copy "$work/file.src" file-shared "$file_mb"
	shared=$copy_path
	loop=$(losetup --direct-io=on --show -f "$shared")
	loops+=("$loop")
	if [ "$(cat "/sys/block/${loop#/dev/}/loop/dio" 2>/dev/null)" != 1 ]; then
		note "kernel loop: direct I/O is not in effect on $loop"
	fi
	add_row "kernel loop (dio)" "$loop" kernel
	add_ours_all file_copy
	for p in "${file_peers[@]}"; do add_peer "$p" "$shared" ""; done
	measure_section
	print_table "file, $title_tail: one ${file_mb} MiB file (loop: losetup --direct-io=on)"
	section_end
}

# Null: nothing behind the device; null_blk with the same queues and depth.
null_table() {
	local p
	section_begin null
	mk_nullb ubt-null 0 submit_queues="$nq"
	add_row "kernel null_blk" "$nullb_dev" kernel
	add_ours_all null_args
	for p in "${null_peers[@]}"; do add_peer "$p" "" ""; done
	measure_section
	print_table "null, $nq queue(s): 250G, no backing (null_blk: submit_queues=$nq, hw_queue_depth=128)"
	section_end
}

# Stripe: 4 files, chunk 64K; dm-stripe over direct-I/O loop devices on them.
stripe_table() {
	local table s shared loop p files=
	section_begin stripe
	table="0 $((4 * stripe_mb * 2048)) striped 4 128"
	for s in 0 1 2 3; do
		fill "$work/s$s.src" "$stripe_mb"
		backing_copy "$work/s$s.src" "s$s-shared" "$stripe_mb"
		shared=$copy_path
		files+=" $shared"
		loop=$(losetup --direct-io=on --show -f "$shared")
		loops+=("$loop")
		table+=" $loop 0"
	done
	dm_name=ubt-bench-stripe
	DM_DISABLE_UDEV=1 dmsetup create "$dm_name" --table "$table"
	add_row "kernel dm-stripe" "/dev/mapper/$dm_name" kernel
	add_ours_all stripe_copy
	# dm-stripe's chunk_sectors (the block layer splits at chunks), default copy mode.
	if keep_row "ours stripe chunk_sectors"; then
		local -a cs=()
		for s in 0 1 2 3; do
			backing_copy "$work/s$s.src" "s$s-ourscs" "$stripe_mb"
			cs+=("$copy_path")
		done
		add_ours "chunk_sectors|" --spec "stripe(${cs[0]}, ${cs[1]}, ${cs[2]}, ${cs[3]}, chunk=64K, chunk_sectors)"
	fi
	for p in "${stripe_peers[@]}"; do add_peer "$p" "" "${files# }"; done
	measure_section
	print_table "stripe, $title_tail: 4 x ${stripe_mb} MiB, chunk 64K (dm-stripe over loop devices with direct I/O)"
	section_end
}

# Mirror: 2 legs; dm-mirror over direct-I/O loop devices, disk log, nosync
# (no initial copy on either side).  Only 4k: a mirror's cost is per request.
# No peer server has a mirror.
mirror_table() {
	local l i loop
	local -a saved=("${workloads[@]}")
	section_begin mirror
	workloads=(
		"4k randread qd32|randread|4k|32|0"
		"4k randwrite qd32|randwrite|4k|32|0"
	)
	for l in 0 1; do
		fill "$work/m$l.img" "$mirror_mb"
		loop=$(losetup --direct-io=on --show -f "$work/m$l.img")
		loops+=("$loop")
	done
	truncate -s 1M "$work/mlog.img"
	loop=$(losetup --direct-io=on --show -f "$work/mlog.img")
	loops+=("$loop")
	dm_name=ubt-bench-mirror
	DM_DISABLE_UDEV=1 dmsetup create "$dm_name" --table \
		"0 $((mirror_mb * 2048)) mirror disk 3 ${loops[2]} 4096 nosync 2 ${loops[0]} 0 ${loops[1]} 0"
	add_row "kernel dm-mirror (disk log)" "/dev/mapper/$dm_name" kernel
	# Ours: the same table, then other read policies and logs, each on its own copies.
	for i in 0 1 2 3; do
		cp "$work/m0.img" "$work/m0-ours$i.img"
		cp "$work/m1.img" "$work/m1-ours$i.img"
		truncate -s 1M "$work/mlog-ours$i.img"
	done
	m() { echo "$work/m0-ours$1.img, $work/m1-ours$1.img, region=2M"; }
	add_ours "disk log (= dm's table)|" --spec "mirror($(m 0), log=$work/mlog-ours0.img, nosync)"
	add_ours "disk log, read=leastpending|" \
		--spec "mirror($(m 1), log=$work/mlog-ours1.img, nosync, read=leastpending)"
	add_ours "core log|" --spec "mirror($(m 2), nosync)"
	add_ours "one leg alone (file)|" --spec "file($work/m0-ours3.img)"
	measure_section
	print_table "mirror, $title_tail: 2 x ${mirror_mb} MiB files, region 2M, nosync (dm-mirror over loop devices with direct I/O, disk log)"
	section_end
	workloads=("${saved[@]}")
}

# Balance: a mirror's read policies where they can show, over legs bound by
# latency rather than CPU: null_blk devices with memory behind them that
# complete each request after 2 ms (timer mode) with 8 tags, so one leg
# serves at most 8 requests at a time; two legs, twice that.  dm-mirror over
# the same kind of legs for the kernel.  4k random reads at depth 32.
balance_mb=128
balance_table() {
	local i l
	local -a saved=("${workloads[@]}") legs=()
	section_begin balance
	workloads=("4k randread qd32|randread|4k|32|0")
	fill "$work/bal.src" "$balance_mb"
	# slow_leg NAME: a latency-bound copy of the source, in $copy_path.
	slow_leg() {
		backing_copy "$work/bal.src" "$1" "$balance_mb" irqmode=2 completion_nsec=2000000 \
			submit_queues=1 hw_queue_depth=8
	}
	for l in 0 1; do
		slow_leg "bal-k$l"
		legs+=("$copy_path")
	done
	DM_DISABLE_UDEV=1 dmsetup create ubt-bench-balance --table \
		"0 $((balance_mb * 2048)) mirror core 2 4096 nosync 2 ${legs[0]} 0 ${legs[1]} 0" ||
		die "cannot create the dm-mirror of the balance table"
	dm_name=ubt-bench-balance
	add_row "kernel dm-mirror (core log)" "/dev/mapper/$dm_name" kernel
	slow_leg bal-one
	add_ours "one leg alone (file)|" --spec "file($copy_path)"
	for i in default roundrobin leastpending; do
		slow_leg "bal-$i-0"
		legs=("$copy_path")
		slow_leg "bal-$i-1"
		add_ours "mirror, read=$i|" --spec "mirror(${legs[0]}, $copy_path, region=2M, nosync, read=$i)"
	done
	measure_section
	print_table "balance, $title_tail: 2 legs of null_blk, 2 ms per request, 8 tags each; region 2M, nosync (dm-mirror over the same, core log)"
	section_end
	workloads=("${saved[@]}")
}

# Parity RAID beside dm-raid (md's raid456) on the same kind of legs: raid5
# on 4 legs (left-symmetric, dm's raid5_ls) and raid6 on 5 (ddf-zero-restart,
# dm's raid6_zr), 64K chunks, healthy and with legs gone (dm-raid built with
# "- -" in their place; ours with them failed by message).  A leg alone,
# for what a full-row write can reach: (legs - parity) times it.  Each
# device on its own copies of the legs; no initial resync on either side.
# Healthy raid5 also with a write-intent log and with a journal (ours only:
# dm-raid keeps both on metadata devices).
raid_table() {	# LEVEL LEGS DM_TYPE LAYOUT MISSING
	local level=$1 n=$2 dmtype=$3 layout=$4 miss=$5 i way data tbl spec f bin n_rows
	local -a saved=("${workloads[@]}") legs
	data=$((n - (level == 6 ? 2 : 1)))
	workloads=(
		"4k randread qd32|randread|4k|32|0"
		"4k randwrite qd32|randwrite|4k|32|0"
		"4k write qd32|write|4k|32|0"
		"1M write qd4|write|1M|4|1"
	)
	keep_workloads
	for way in healthy degraded; do
		section_begin raid
		fill "$work/raid.src" "$raid_mb"
		legs=() tbl=
		for i in $(seq 0 $((n - 1))); do
			backing_copy "$work/raid.src" "rk$i" "$raid_mb"
			legs+=("$copy_path")
			if [ $way = degraded ] && [[ ",$miss," == *",$i,"* ]]; then
				tbl+=" - -"
			else
				tbl+=" - $copy_path"
			fi
		done
		dm_name=ubt-bench-raid
		DM_DISABLE_UDEV=1 dmsetup create "$dm_name" --table \
			"0 $((data * raid_mb * 2048)) raid $dmtype 1 128 $n$tbl" ||
			die "cannot create dm-raid $dmtype"
		add_row "kernel dm-raid $dmtype" "/dev/mapper/$dm_name" kernel
		for bin in "$B" ${before:+"$before"}; do
			spec=
			for i in $(seq 0 $((n - 1))); do
				backing_copy "$work/raid.src" "r$([ "$bin" = "$B" ] && echo o || echo b)$i" "$raid_mb"
				spec+="$copy_path, "
			done
			n_rows=${#names[@]}
			ours_bin=$([ "$bin" = "$B" ] || echo "$bin") \
				add_ours "raid$level|" --spec "raid$level(${spec}chunk=64K, layout=$layout, nosync, name=r)"
			if [ $way = degraded ] && [ ${#names[@]} -gt "$n_rows" ]; then
				for f in ${miss//,/ }; do
					"$bin" message -n "${devs[-1]#/dev/ublkb}" r fail "$f" ||
						die "cannot fail leg $f of ${kinds[-1]}"
				done
			fi
		done
		# What the write-intent log and the journal cost: raid5 with each, on legs of
		# their own and the log (journal) on one more device of the same kind.
		if [ $way = healthy ] && [ "$level" = 5 ]; then
			for f in log journal; do
				keep_row "ours raid raid5 with $f" || continue
				spec=
				for i in $(seq 0 $((n - 1))); do
					backing_copy "$work/raid.src" "r${f:0:1}x$i" "$raid_mb"
					spec+="$copy_path, "
				done
				backing_copy "$work/raid.src" "r${f:0:1}xs" "$raid_mb"
				add_ours "raid5 with $f|" --spec "raid5(${spec}$f=$copy_path, chunk=64K, layout=$layout, nosync, name=r)"
			done
		fi
		if [ $way = healthy ]; then
			backing_copy "$work/raid.src" rl "$raid_mb"
			add_row "one leg alone (null_blk)" "$copy_path" base
			backing_copy "$work/raid.src" rf "$raid_mb"
			ours_plain "$copy_path"
			add_row "one leg alone (ours: file)" "$plain_dev" base
		fi
		measure_section
		print_table "raid$level, $title_tail, $way: $n legs of ${raid_mb} MiB, chunk 64K${miss:+, legs $miss $([ $way = degraded ] && echo gone || echo "gone in the degraded table")} (dm-raid $dmtype over the same kind of legs)"
		section_end
	done
	workloads=("${saved[@]}")
}

# A plain file device of ours over PATH, for a base row: its node in $plain_dev.
plain_dev=
ours_plain() {
	local out
	out=$(timeout 60 "$B" create -q "$nq" -d 128 --spec "file($1)" 2>&1 </dev/null) ||
		die "cannot create a file device over $1: $out"
	plain_dev=$(grep -o '/dev/ublkb[0-9]*' <<<"$out" | tail -n1) ||
		die "create printed no device: $out"
	our_ids+=("$B:${plain_dev#/dev/ublkb}")
}

# One table per queue count, section and backing.
for nq in $queue_counts; do
	if wanted file; then
		for backing in $backings; do
			title_tail="$nq queue(s), $(backing_words)"
			file_table
		done
	fi
	if wanted null; then
		backing=none title_tail="$nq queue(s)"
		null_table
	fi
	if wanted stripe; then
		for backing in $backings; do
			title_tail="$nq queue(s), $(backing_words)"
			stripe_table
		done
	fi
	if wanted mirror; then
		backing=tmpfs title_tail="$nq queue(s), files on the guest's tmpfs"
		mirror_table
	fi
	if wanted balance; then
		backing=bdev title_tail="$nq queue(s)"
		balance_table
	fi
	if wanted raid; then
		# dm-raid takes block devices: the legs are null_blk devices.
		backing=bdev title_tail="$nq queue(s), $(backing_words)"
		raid_table 5 4 raid5_ls left-symmetric 1
		raid_table 6 5 raid6_zr ddf-zero-restart 1,3
	fi
done

echo
echo "(guest run took $(($(date +%s) - t0)) s)"
