# SPDX-License-Identifier: MIT
# Shell test helpers: each test is a function run by t_run; a failed check
# ends that test.  t_summary prints "RESULT <suite> <passed> <failed>",
# the line `make check` adds up.
T_PASSED=0
T_FAILED=0
T_SUITE=${T_SUITE:-shell}

# Fail the current test with a message.
t_fail() {
	echo "    FAIL: $*" >&2
	exit 1
}

# t_expect_fail "message part" CMD... : CMD must exit non-zero and print the message part.
t_expect_fail() {
	local want=$1 out rc
	shift
	out=$("$@" 2>&1) && rc=0 || rc=$?
	[ "$rc" -ne 0 ] || t_fail "'$*' succeeded; expected an error containing: $want"
	case $out in
	*"$want"*) ;;
	*) t_fail "'$*' said '$out'; expected: $want" ;;
	esac
	[ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] || t_fail "'$*' printed more than one line: $out"
}

t_run() {
	local name=$1 start rc
	start=$(date +%s)
	# A command that fails outside t_fail ends the test too; say which one,
	# so a log shows why without rerunning.
	( set -eE
	  trap 'echo "    FAIL: ${FUNCNAME[0]:-$name}:$LINENO: $BASH_COMMAND (exit $?)" >&2' ERR
	  "$name" )
	rc=$?
	if [ "$rc" -eq 0 ]; then
		T_PASSED=$((T_PASSED + 1))
		echo "  ok   $name ($(( $(date +%s) - start ))s)"
	else
		T_FAILED=$((T_FAILED + 1))
		echo "  FAIL $name"
	fi
}

t_summary() {
	echo "RESULT $T_SUITE $T_PASSED $T_FAILED"
	[ "$T_FAILED" -eq 0 ]
}
