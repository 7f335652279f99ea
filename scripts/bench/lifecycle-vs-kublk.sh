#!/bin/bash
# SPDX-License-Identifier: MIT
# Lifecycle benchmark, run inside the test guest (scripts/bench/run.sh
# --lifecycle starts it): how long I/O waits when a daemon is replaced.
#   recover  kill -9 of the daemon, then `recover`: from the kill to the
#            first read that completes (a read issued right after the kill,
#            which waits in the kernel; the reading process is started before
#            the kill, so only `recover` starts in the timed part), for ours
#            and for the kernel's kublk
#            (add -r 1 -i 1, recover with the same arguments), each over a
#            file on tmpfs, one queue, depth 128; and ours with
#            `recover --watch` running, which recovers by itself (no
#            program starts after the kill)
#   restart  ours only (kublk has no such command): the longest completion
#            gap a reader at depth 1 sees while `restart` runs
#   reload   ours only: the same while `reload` (to another stack over the
#            same file) and `resume` run
# Each is the median (and min, max) of RUNS runs.
#   lifecycle-vs-kublk.sh BUILD_DIR [RUNS]
set -euo pipefail

me=lifecycle-vs-kublk
[ $# -ge 1 ] && [ $# -le 3 ] || { echo "usage: $me BUILD_DIR [RUNS]" >&2; exit 2; }
B=$1/ublk-target
runs=${2:-20}
K=${UBT_PEERS:-/work/shared/peers}/kublk
die() { echo "$me: $*" >&2; exit 1; }
[[ $runs =~ ^[1-9][0-9]*$ ]] || die "RUNS must be a positive integer, not '$runs'"
[ "$(id -u)" = 0 ] || die "must run as root (in the test guest: scripts/bench/run.sh --lifecycle)"
[ -x "$B" ] || die "$B is not built (run make)"
[ -c /dev/ublk-control ] || die "no /dev/ublk-control (ublk_drv not loaded)"
for t in fio dd awk; do command -v "$t" >/dev/null || die "$t is not installed"; done
[ -x "$K" ] || die "no kublk at $K (set UBT_PEERS)"
work=$(mktemp -d /tmp/ubt-lbench.XXXXXX)
# A reader left behind (a run that died) waits on a device with no daemon
# and would hold it open through the deletes: it goes first.
trap 'kill -9 $(jobs -p) 2>/dev/null || true
	"$B" delete --all --force >/dev/null 2>&1 || true; "$K" del -a >/dev/null 2>&1 || true
	rm -rf "$work"' EXIT
truncate -s 256M "$work/f.img"
mkfifo "$work/go"
dd if=/dev/urandom of="$work/f.img" bs=1M count=16 conv=notrunc status=none

now_us() { echo "${EPOCHREALTIME/[.,]/}"; }
# The daemon our run record names for device ID.
record_pid() { sed -n 's/^pid=//p' "/run/ublk-target/$1.dev"; }

# A reader of DEV started ahead, so that starting it is not timed: once a
# line arrives on the fifo it reads DEV's first page (a buffered read with
# the shell's own read: no process starts after the kill) and writes its
# completion time to FILE.
read_on_go() {	# DEV FILE
	blockdev --flushbufs "$1"	# the page is not cached: the read reaches the device
	(read -r _ < "$work/go" && read -r -N 1 _ < "$1" && now_us > "$2") &
}

# From kill -9 of PID to the completion of a read issued right after it,
# with RECOVER run to bring the device back: milliseconds.  RECOVER is run
# again while it fails, for at most 10 s: kublk's recover fails until the
# kernel has released the dead daemon's device (ours waits for that
# itself), so a script has to retry it.  The attempts that failed are
# counted in $work/retries.
kill_to_read() {	# DEV PID RECOVER...
	local dev=$1 pid=$2 t0 rp tries=0
	shift 2
	rm -f "$work/done"
	read_on_go "$dev" "$work/done"
	rp=$!
	sleep 0.5	# the reader waits on the fifo by now: the "echo go" below does not wait for it
	t0=$(now_us)
	kill -9 "$pid"
	echo go > "$work/go"
	until "$@" >/dev/null 2>"$work/rec.err"; do
		tries=$((tries + 1))
		[ $(( $(now_us) - t0 )) -lt 10000000 ] || die "$* failed for 10 s: $(cat "$work/rec.err")"
	done
	echo "$tries" >> "$work/retries"
	wait "$rp" || die "the read after the recovery failed"
	echo $(( ($(cat "$work/done") - t0) / 1000 ))
}

summary() {	# values on stdin: "median min max"
	sort -n | awk '{ v[NR] = $1 } END { m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%d %d %d\n", m, v[1], v[NR] }'
}

ours_recover() {
	local dev id i
	dev=$("$B" create -q 1 -d 128 file --file "$work/f.img") || die "create ours"
	id=${dev#/dev/ublkb}
	for i in $(seq "$runs"); do
		kill_to_read "$dev" "$(record_pid "$id")" \
			"$B" recover -n "$id"
	done
	"$B" delete -n "$id" >/dev/null
}

# The same with a watcher (recover --watch) doing the recovery.
ours_watch() {
	local dev id i pid wp
	dev=$("$B" create -q 1 -d 128 file --file "$work/f.img") || die "create ours"
	id=${dev#/dev/ublkb}
	"$B" recover --watch -n "$id" >/dev/null 2>"$work/watch.err" &
	wp=$!
	for i in $(seq "$runs"); do
		pid=$(record_pid "$id")
		kill_to_read "$dev" "$pid" true
		# The next run kills the new daemon: wait until the record names it.
		for _ in $(seq 500); do
			[ "$(record_pid "$id")" = "$pid" ] || break
			sleep 0.01
		done
		kill -0 "$wp" 2>/dev/null || die "the watcher ended: $(cat "$work/watch.err")"
	done
	"$B" delete -n "$id" >/dev/null
	wait "$wp" || die "the watcher failed: $(cat "$work/watch.err")"
}

kublk_recover() {
	local i pid args=(-t loop -q 1 -d 128 -n 9 -r 1 -i 1 "$work/f.img")
	"$K" add "${args[@]}" >/dev/null || die "kublk add"
	for _ in $(seq 100); do [ -b /dev/ublkb9 ] && break; sleep 0.05; done
	for i in $(seq "$runs"); do
		pid=$(pgrep -n -x kublk) || die "no kublk daemon"
		kill_to_read /dev/ublkb9 "$pid" "$K" recover "${args[@]}"
		for _ in $(seq 100); do pgrep -x kublk >/dev/null && break; sleep 0.05; done
	done
	"$K" del -n 9 >/dev/null
}

# Wait (up to 30 s) until reads of /dev/ublkbID complete (sysfs counts them).
reads_moving() {	# ID
	local first now i
	first=$(awk '{ print $1 }' "/sys/block/ublkb$1/stat")
	for i in $(seq 300); do
		now=$(awk '{ print $1 }' "/sys/block/ublkb$1/stat")
		[ "$now" = "$first" ] || return 0
		sleep 0.1
	done
	return 1
}

# Hand device ID to a new daemon.
do_restart() {	# ID RUN
	"$B" restart -n "$1" >/dev/null 2>"$work/rec.err" || die "restart: $(cat "$work/rec.err")"
}

# Switch device ID to another stack over the same file (a linear window of
# it, or the file itself, in turn): reload, then resume.
do_reload() {	# ID RUN
	local spec="file($work/f.img)"
	[ $(($2 % 2)) = 1 ] && spec="linear($work/f.img)"
	"$B" reload -n "$1" --spec "$spec" >/dev/null 2>"$work/rec.err" ||
		die "reload: $(cat "$work/rec.err")"
	"$B" resume -n "$1" >/dev/null 2>"$work/rec.err" || die "resume: $(cat "$work/rec.err")"
}

# The longest gap between completions of a depth-1 reader while CHANGE runs.
ours_pause() {	# CHANGE
	local dev id i fp change=$1
	dev=$("$B" create -q 1 -d 128 file --file "$work/f.img") || die "create ours"
	id=${dev#/dev/ublkb}
	for i in $(seq "$runs"); do
		fio --name=rs --filename="$dev" --direct=1 --ioengine=psync --rw=randread --bs=4k \
			--size=16M --runtime=8 --time_based --minimal > "$work/rs.out" 2>&1 &
		fp=$!
		# fio takes seconds to start in the guest: restart once its reads run.
		reads_moving "$id" || die "fio never read from $dev"
		sleep 1
		"$change" "$id" "$i"
		wait "$fp" || die "fio failed across $change: $(tail -n2 "$work/rs.out")"
		# terse v3: field 5 errors, 39 the reads' total latency max (us)
		[ "$(cut -d';' -f5 "$work/rs.out")" = 0 ] || die "fio saw an error across $change"
		echo $(( $(cut -d';' -f39 "$work/rs.out" | cut -d. -f1) / 1000 ))
	done
	"$B" delete -n "$id" >/dev/null
}

echo "# lifecycle benchmark, kernel $(uname -r), $(date -u +%Y-%m-%d), $runs runs each"
# The failed recover attempts of the last series, in all.
retries() { awk '{ n += $1 } END { print n + 0 }' "$work/retries"; }

echo "... ours: kill -9, recover" >&2
: > "$work/retries"
o=$(ours_recover | summary)
oretry=$(retries)
echo "... ours: kill -9, recover --watch running" >&2
: > "$work/retries"
w=$(ours_watch | summary)
echo "... kublk: kill -9, recover" >&2
: > "$work/retries"
k=$(kublk_recover | summary)
kretry=$(retries)
echo "... ours: restart" >&2
r=$(ours_pause do_restart | summary)
echo "... ours: reload + resume" >&2
l=$(ours_pause do_reload | summary)
echo
echo "| ms, median (min-max) | ours | kublk | ours / kublk |"
echo "|---|---|---|---|"
read -r om omin omax <<<"$o"
read -r km kmin kmax <<<"$k"
read -r wm wmin wmax <<<"$w"
read -r rm rmin rmax <<<"$r"
read -r lm lmin lmax <<<"$l"
echo "| kill -9 to the first read served after recover | $om ($omin-$omax) | $km ($kmin-$kmax) | $(awk -v a="$om" -v b="$km" 'BEGIN { printf "%.2fx", (b > 0) ? a / b : 0 }') |"
echo "| kill -9 to the first read served, recover --watch running | $wm ($wmin-$wmax) | $km ($kmin-$kmax) | $(awk -v a="$wm" -v b="$km" 'BEGIN { printf "%.2fx", (b > 0) ? a / b : 0 }') |"
echo "| longest I/O pause during restart | $rm ($rmin-$rmax) | - | - |"
echo "| longest I/O pause during reload + resume | $lm ($lmin-$lmax) | - | - |"
echo
echo "recover attempts that failed (the device not yet released by the kernel) and were"
echo "retried, in all $runs runs: ours $oretry, kublk $kretry"
