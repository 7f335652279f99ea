#!/bin/bash
# SPDX-License-Identifier: MIT
# The torture run: random stacks of every target over files, fault nodes
# under their legs and origins steered while I/O runs, and random
# lifecycle events among the I/O, every block checked by a model
# (torture_io) against what the rules promise:
#   - nothing ever reads back wrong;
#   - after kill -9 and a recovery (or a restart, a reload, a hot replace, a
#     cache's mode change) every acknowledged write is there;
#   - after a volatile node's crash, every write a flush covered is there;
#   - redundancy hides a failing leg: no I/O error reaches the client.
# A mismatch, an I/O error where none may be, a hang (every wait is
# bounded), or a device, daemon or file left behind fails the run and
# prints the seed, which replays the same stacks and events.
#
#   tests/torture/torture.sh [--seconds N] [--seed S] [--stacks 'KIND...'] [BUILD_DIR]
# (--stacks: only these kinds of stack: stripe linear mirror raid cache
# volatile composed, the default being all of them.)
#
# Runs as root where ublk_drv is loaded (the test guest: tests/vm/vm-run;
# tests/torture/run starts one).  Each event is logged with the time.
{
set -u
seconds=120 seed=$(date +%s)
stacks="stripe linear mirror raid cache volatile composed"
while [ $# -gt 0 ]; do
	case $1 in
	--seconds) seconds=$2; shift 2 ;;
	--seed) seed=$2; shift 2 ;;
	--stacks) stacks=$2; shift 2 ;;
	-*) echo "usage: torture.sh [--seconds N] [--seed S] [--stacks 'KIND...'] [BUILD_DIR]"
	    exit 2 ;;
	*) break ;;
	esac
done
top=$(cd "$(dirname "$0")/../.." && pwd)
O=$(cd "${1:-$top/build}" && pwd) || { echo "torture: no build folder ${1:-$top/build}"; exit 2; }
B=$O/ublk-target
T=$O/tests/torture/torture_io
[ -x "$T" ] || { echo "torture: $T is not built (make tests)"; exit 2; }
[ -e /dev/ublk-control ] || { echo "torture: /dev/ublk-control missing: ublk_drv not loaded"; exit 2; }
export UBT_RUN_DIR=${UBT_RUN_DIR:-/run/ublk-target}
work=$(mktemp -d /tmp/ubt-torture.XXXXXX)
RANDOM=$seed
start=$(date +%s)
declare -A survived
nstacks=0 verified_blocks=0 mismatches=0 io_errors=0
dev="" id="" spec="" kind="" checker=""

# The log goes to the run's own output (fd 3), whatever a caller redirects.
exec 3>&1
log() { printf '%s %s\n' "$(date +%T.%N | cut -c1-12)" "$*" >&3; }

cleanup() {
	[ -z "$checker" ] || kill -9 "$checker" 2>/dev/null
	timeout 60 $B delete --all --force >/dev/null 2>&1
	rm -rf "$work"
}

fail() {
	log "FAIL: $*"
	[ -z "$id" ] || timeout 10 $B status -n "$id" 2>&1 | sed 's/^/    /' >&3
	log "torture failed: seed $seed (replay: torture.sh --seconds $seconds --seed $seed)"
	cleanup
	exit 1
}

# A command that must end within $1 seconds and succeed; its output
# printed, what it said on stderr logged.
must() {
	local limit=$1 out rc=0
	shift
	out=$(timeout "$limit" "$@" 2> "$work/stderr") || rc=$?
	[ $rc != 124 ] || fail "hang: '$*' did not end in $limit s"
	[ $rc = 0 ] || fail "'$*' failed ($rc): $out $(cat "$work/stderr")"
	[ ! -s "$work/stderr" ] || sed 's/^/    | /' "$work/stderr" >&3
	printf '%s' "$out"
}

# One of the words, in $P (not printed: a subshell would not advance $RANDOM).
pick() {
	local a=("$@")
	P=${a[RANDOM % ${#a[@]}]}
}

file() {	# NAME: a new 32 MiB file of random bytes
	head -c 32M /dev/urandom > "$work/$1"
	echo "$work/$1"
}

meta() {	# NAME [SIZE]: a new file of zeros (4 MiB), for a log, journal or metadata
	truncate -s "${2:-4M}" "$work/$1"
	echo "$work/$1"
}

# ---- Stacks ---------------------------------------------------------------
# Each sets spec, kind and the events it takes; the fault nodes a leg
# failure may go through (flap_nodes), legs to swap for new files
# (plain_legs), and the node that owns the legs (array).

stack_stripe() {
	kind=stripe
	pick 4K 64K 256K
	spec="stripe($(file s0), $(file s1), $(file s2), chunk=$P)"
	events="kill9 restart watch reload kill9_suspended"
}

stack_linear() {
	kind=linear
	spec="concat(linear($(file l0), offset=4M, size=20M), $(file l1), linear($(file l2), size=12M))"
	events="kill9 restart reload"
}

stack_mirror() {
	kind=mirror
	pick 256K 1M
	spec="mirror(flakey($(file m0), up=3600, down=0, name=ma), delay($(file m1), read=0, \
name=mb), $(file m2), region=$P, log=$(meta mlog), handle_errors, name=m)"
	events="kill9 restart leg_flap leg_replace slow_leg"
	flap_nodes=(ma) plain_legs=(2) array=m
}

stack_raid() {
	local level chunk extra=""
	pick raid4 raid5 raid6
	level=$P
	pick 16K 64K
	chunk=$P
	pick none log journal
	case $P in
	log) extra="log=$(meta rlog), " ;;
	journal) extra="journal=$(meta rj 16M), " ;;
	esac
	kind=$level
	spec="$level(flakey($(file r0), up=3600, down=0, name=ra), $(file r1), \
flakey($(file r2), up=3600, down=0, name=rb), $(file r3), chunk=$chunk, ${extra}name=r)"
	events="kill9 restart leg_flap leg_replace check"
	flap_nodes=(ra) plain_legs=(1 3) array=r
	[ "$level" != raid6 ] || flap_nodes=(ra rb)
}

cache_spec() { spec="cache($cfiles, block=$cblock, mode=$cmode, name=c)"; }

stack_cache() {
	kind=cache
	pick writeback writethrough passthrough
	cmode=$P
	pick 32K 64K
	cblock=$P
	cfiles="origin=delay($(file co), read=0, name=cd), cache=$(file cc), meta=$(meta cm)"
	cache_spec
	events="kill9 restart cleaner mode slow_origin"
}

stack_volatile() {
	local child
	kind=volatile
	pick one two
	if [ "$P" = one ]; then
		child=$(file v0)
	else
		child="stripe($(file v0), $(file v1), chunk=64K)"
	fi
	pick 1M 16M
	spec="volatile($child, cache=$P, name=v)"
	events="crash kill9"
}

# Targets over each other: a volatile over a cache whose origin is a mirror
# (a leg fails while the cache writes back; a crash while the mirror resyncs).
stack_composed() {
	kind=composed
	pick writeback writethrough
	spec="volatile(cache(origin=mirror(flakey($(file m0), up=3600, down=0, name=ma), \
$(file m1), region=512K, log=$(meta mlog), handle_errors, name=m), cache=$(file cc), \
meta=$(meta cm), block=64K, mode=$P, name=c), cache=16M, name=v)"
	events="kill9 restart leg_flap leg_replace cleaner crash kill9_suspended"
	flap_nodes=(ma) plain_legs=(1) array=m
}

# ---- The checker ----------------------------------------------------------

checker_start() {	# SECONDS
	"$T" "$dev" "$work/model" run "$1" > "$work/run.out" 2>&1 &
	checker=$!
}

# Wait for the checker; its I/O errors may be $1 ("none" or "some").
checker_end() {	# none|some SECONDS-LEFT
	local rc=0 i
	for ((i = 0; i < $2 * 10; i++)); do
		kill -0 "$checker" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$checker" 2>/dev/null && fail "hang: the checker did not end (I/O stuck)"
	wait "$checker" || rc=$?
	checker=""
	log "  io: $(tail -n1 "$work/run.out")"
	[ $rc = 0 ] || { cat "$work/run.out"; fail "the checker found data read back wrong"; }
	local e
	e=$(tail -n1 "$work/run.out" | sed -n 's/.* errors \([0-9]*\) .*/\1/p')
	io_errors=$((io_errors + ${e:-0}))
	[ "$1" = some ] || [ "${e:-0}" = "$prev_errors" ] ||
		fail "$(( e - prev_errors )) I/O errors reached the client where none may"
	prev_errors=${e:-0}
}

verify() {	# acked|flushed
	local out rc=0 n
	out=$(timeout 600 "$T" "$dev" "$work/model" verify "$1" 2>&1) || rc=$?
	[ $rc != 124 ] || fail "hang: verify did not end"
	log "  $(echo "$out" | grep '^verified')"
	[ $rc = 0 ] || { echo "$out"; fail "blocks are not what rule '$1' promises"; }
	n=$(echo "$out" | sed -n 's/^verified \([0-9]*\) blocks.*/\1/p')
	verified_blocks=$((verified_blocks + n))
}

create() {
	dev=$(must 120 $B create --spec "$spec") || exit 1
	id=${dev#/dev/ublkb}
	log "  $dev: $spec"
}

daemon_pid() { sed -n 's/^pid=//p' "$UBT_RUN_DIR/$id.dev"; }

wait_status() {	# WORDS-REGEX LIMIT-S: a status line matches
	local i
	for ((i = 0; i < $2 * 5; i++)); do
		$B status -n "$id" 2>/dev/null | grep -qE "$1" && return 0
		sleep 0.2
	done
	fail "hang: status never matched '$1' in $2 s: $($B status -n "$id" 2>&1)"
}

# ---- Events ---------------------------------------------------------------
# Each runs while the checker writes (unless it says otherwise) and sets
# errs (some: I/O errors may reach the client) and rule (how to verify).

ev_kill9() {
	kill -9 "$(daemon_pid)"
	sleep 0.$((RANDOM % 9 + 1))
	must 120 $B recover -n "$id" >/dev/null
}

# The daemon dies while the device is suspended (its requests held).
ev_kill9_suspended() {
	must 60 $B suspend -n "$id" >/dev/null
	sleep 0.$((RANDOM % 5 + 1))
	kill -9 "$(daemon_pid)"
	must 120 $B recover -n "$id" >/dev/null
}

ev_watch() {
	local w
	$B recover --watch -n "$id" > "$work/watch.out" 2>&1 &
	w=$!
	sleep 1
	kill -9 "$(daemon_pid)"
	wait_status "." 60
	sleep 2
	kill "$w" 2>/dev/null
	wait "$w" 2>/dev/null
}

ev_restart() { must 120 $B restart -n "$id" >/dev/null; }

ev_reload() {
	must 60 $B suspend -n "$id" >/dev/null
	sleep 0.$((RANDOM % 5 + 1))
	must 60 $B reload -n "$id" --spec "$spec" >/dev/null
	must 60 $B resume -n "$id" >/dev/null
}

# A leg's node fails its I/O for a while; the array carries on, then takes it back.
# (Then the array is whole again before the next event takes a leg away.)
ev_leg_flap() {
	pick "${flap_nodes[@]}"
	must 30 $B message -n "$id" "$P" down >/dev/null
	sleep 1.$((RANDOM % 9))
	must 30 $B message -n "$id" "$P" up >/dev/null
	# The leg failed if I/O reached it meanwhile: take it back, rebuilt.
	$B message -n "$id" "$array" replace "$P" >/dev/null 2>&1 || true
	must 900 $B status -n "$id" --wait >/dev/null
}

ev_leg_replace() {
	local new
	pick "${plain_legs[@]}"
	new=$(file "new$RANDOM")
	must 30 $B message -n "$id" "$array" fail "$P" >/dev/null
	must 60 $B message -n "$id" "$array" replace "$P" "$new" >/dev/null
	must 900 $B status -n "$id" --wait >/dev/null
}

ev_slow_leg() {
	must 30 $B message -n "$id" mb read $((RANDOM % 20 + 1)) write $((RANDOM % 20 + 1)) >/dev/null
	sleep 1
	must 30 $B message -n "$id" mb read 0 write 0 >/dev/null
}

ev_slow_origin() {
	must 30 $B message -n "$id" cd read $((RANDOM % 10 + 1)) write $((RANDOM % 10 + 1)) >/dev/null
	sleep 1
	must 30 $B message -n "$id" cd read 0 write 0 >/dev/null
}

ev_check() {
	must 30 $B message -n "$id" r check >/dev/null
	must 900 $B status -n "$id" --wait >/dev/null
}

ev_cleaner() {
	must 30 $B message -n "$id" c cleaner >/dev/null
	must 300 $B status -n "$id" --wait clean >/dev/null
}

# Stopped and made again in another mode (passthrough needs a clean cache).
ev_mode() {
	pick writeback writethrough passthrough
	if [ "$cmode" = writeback ] && [ "$P" = passthrough ]; then
		must 30 $B message -n "$id" c cleaner >/dev/null
		must 300 $B status -n "$id" --wait clean >/dev/null
	fi
	must 120 $B delete -n "$id" >/dev/null
	cmode=$P
	cache_spec
	create
}

ev_crash() {
	pick all prefix random torn
	[ "$P" = all ] || P="$P $RANDOM"
	must 30 $B message -n "$id" v crash $P >/dev/null
	wait_status " crashed$" 120
}

# ---- A round: one stack, its events, the checks ---------------------------

# First fio, verifying as it writes (crc32c, a backlog checked every 64
# writes, then the whole area), across one of the stack's events that no
# error may surface through.
fio_round() {
	local f ev rc=0 out
	pick $events
	ev=$P
	case $ev in crash|mode) ev=kill9 ;; esac
	timeout 300 fio --name=torture --filename="$dev" --direct=1 --ioengine=io_uring \
		--rw=randwrite --bs=4k-64k --iodepth=16 --size=16M --verify=crc32c \
		--verify_backlog=64 --verify_fatal=1 --do_verify=1 --verify_state_save=0 \
		--output="$work/fio.out" &
	f=$!
	sleep 1.$((RANDOM % 9))
	log "event $ev under fio --verify"
	"ev_$ev"
	wait "$f" || rc=$?
	[ $rc != 124 ] || fail "hang: fio did not end"
	out=$(grep -E "err= *[0-9]+" "$work/fio.out" | head -n1)
	[ $rc = 0 ] && echo "$out" | grep -q "err= *0" ||
		fail "fio --verify across $ev: exit $rc: $(tail -n 20 "$work/fio.out")"
	log "  fio: $(grep -oE "WRITE: bw=[^,]*" "$work/fio.out") verified, $out"
	survived["$ev+fio"]=$(( ${survived["$ev+fio"]:-0} + 1 ))
}

round() {
	local ev n i left errs rule
	pick $stacks
	"stack_$P"
	nstacks=$((nstacks + 1))
	log "stack $nstacks: $kind"
	create
	fio_round
	must 300 "$T" "$dev" "$work/model" init "$seed" >/dev/null
	prev_errors=0
	n=$((RANDOM % 4 + 3))
	for ((i = 0; i < n; i++)); do
		left=$((seconds - ($(date +%s) - start)))
		[ $left -gt 10 ] || break
		pick $events
		ev=$P
		errs=none rule=acked
		checker_start $((RANDOM % 6 + 4))
		sleep 1.$((RANDOM % 9))
		log "event $ev"
		case $ev in
		crash)
			ev_crash
			errs=some rule=flushed
			checker_end some 120
			# Made again from the files the crash left.
			must 120 $B delete -n "$id" >/dev/null
			create ;;
		mode)
			checker_end none 120
			ev_mode ;;
		*)
			"ev_$ev"
			checker_end $errs 180 ;;
		esac
		verify $rule
		survived[$ev]=$(( ${survived[$ev]:-0} + 1 ))
	done
	must 120 $B delete -n "$id" >/dev/null
	id="" dev=""
	# Nothing left behind.
	sleep 0.5
	! pgrep -x ublk-target >/dev/null || fail "a daemon is left: $(pgrep -a -x ublk-target)"
	[ -z "$(ls -A "$UBT_RUN_DIR" 2>/dev/null)" ] || fail "run records left: $(ls "$UBT_RUN_DIR")"
	! ls /dev/ublkb* >/dev/null 2>&1 || fail "devices left: $(ls /dev/ublkb*)"
	rm -rf "${work:?}"/*
}

log "torture: $seconds s, seed $seed, kernel $(uname -r)"
while [ $(( $(date +%s) - start )) -lt $((seconds - 15)) ]; do
	round
done
summary=""
for k in "${!survived[@]}"; do summary+=" $k=${survived[$k]}"; done
log "torture passed: seed $seed, $(( $(date +%s) - start )) s, $nstacks stacks, events survived:$summary;" \
	"$verified_blocks blocks verified after events ($((verified_blocks * 4 / 1024)) MiB)," \
	"I/O errors where allowed: $io_errors; mismatches 0, hangs 0, leaks 0"
rm -rf "$work"
exit 0
}
