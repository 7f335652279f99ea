# SPDX-License-Identifier: MIT
# End-to-end tests of the volatile target.  Sourced by tests/vm/e2e.sh (it
# sets B, work and the t_* helpers); adds its tests to $tests.

# A crash message loses what was not flushed: the file is what the flush left.
test_volatile_crash() {
	trap cleanup EXIT
	local dev id out
	head -c 16M /dev/urandom > "$work/v.img"
	dev=$($B create --spec "volatile($work/v.img, name=v)") || t_fail "create"
	id=${dev#/dev/ublkb}
	[ "$(cat /sys/block/${dev#/dev/}/queue/write_cache)" = "write back" ] ||
		t_fail "no write cache shown: $(cat /sys/block/${dev#/dev/}/queue/write_cache)"
	head -c 1M /dev/urandom > "$work/va"
	dd if="$work/va" of="$dev" bs=64k seek=16 conv=fsync status=none || t_fail "write A"
	cp "$work/v.img" "$work/v.flushed"
	dd if=/dev/zero of="$dev" bs=64k seek=8 count=32 oflag=direct status=none || t_fail "write B"
	cmp -s "$work/v.img" "$work/v.flushed" && t_fail "write B did not reach the file"
	out=$($B message -n "$id" v crash) || t_fail "crash: $out"
	[[ $out =~ ^"volatile: 0 of "[1-9][0-9]*" unsafe writes survive the crash"$ ]] ||
		t_fail "crash said: $out"
	for _ in $(seq 50); do
		$B status -n "$id" | grep -q " crashed$" && break
		sleep 0.1
	done
	$B status -n "$id" | grep -q "volatile 0 0 [0-9]* crashed$" ||
		t_fail "status: $($B status -n "$id")"
	dd if="$dev" of=/dev/null bs=4k count=1 iflag=direct status=none 2>/dev/null &&
		t_fail "a crashed device served a read"
	$B delete -n "$id" || t_fail "delete"
	cmp "$work/v.img" "$work/v.flushed" || t_fail "the file is not what the flush left"
	left_nothing
}

# A reload that leaves the volatile node out keeps every write it took:
# the node's writes reach its child at once (its memory is an undo log,
# used only by `crash`), so the new stack reads them, flushed or not; and
# they are the child's from then on (a later crash does not undo them).
test_reload_dropping_volatile_keeps_writes() {
	trap cleanup EXIT
	local dev id st
	head -c 16M /dev/urandom > "$work/v.img"
	head -c 1M /dev/urandom > "$work/vp"
	dev=$($B create --spec "volatile($work/v.img, name=v)") || t_fail "create"
	id=${dev#/dev/ublkb}
	dd if="$work/vp" of="$dev" bs=64k seek=32 oflag=direct status=none || t_fail "write"
	st=$($B status -n "$id")
	echo "$st" | grep -q "volatile [1-9][0-9]* 1048576 " || t_fail "no unsafe writes: $st"
	$B reload -n "$id" --spec "file($work/v.img)" || t_fail "reload"
	$B resume -n "$id" || t_fail "resume"
	$B status -n "$id" | grep -q "^\[0\] .* file " || t_fail "status: $($B status -n "$id")"
	cmp -s -n 1M -i 0:2097152 "$work/vp" "$dev" || t_fail "the unflushed writes are gone"
	# Back under a new volatile node, whose crash has nothing to undo.
	$B reload -n "$id" --spec "volatile($work/v.img, name=v)" || t_fail "reload back"
	$B resume -n "$id" || t_fail "resume back"
	$B message -n "$id" v crash >/dev/null || t_fail "crash"
	for _ in $(seq 50); do
		$B status -n "$id" | grep -q " crashed$" && break
		sleep 0.1
	done
	$B delete -n "$id" || t_fail "delete"
	cmp -s -n 1M -i 0:2097152 "$work/vp" "$work/v.img" || t_fail "the crash undid writes from before the reload"
	left_nothing
}

tests="$tests test_volatile_crash test_reload_dropping_volatile_keeps_writes"
