#!/bin/bash
# SPDX-License-Identifier: MIT
# What the source tree's layout promises, checked on the source itself:
#   - core/ and tools/ name no target: no string literal there is a
#     target's name or device-mapper name, or writes one's spec form
#     ("name("); they reach targets through the registry only;
#   - core/'s rooms depend one way (lib <- config <- engine <- device),
#     by what each file includes;
#   - a target includes the public headers (ubt/...) and its own files,
#     nothing private to the core or to another target.
# Usage: tests/func/layout.sh
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
T_SUITE=layout
. "$top/tests/lib.sh"

# Every target's names: its folder, its type's .name, its dm_names.
target_names() {
	local d
	for d in "$top"/targets/*/; do
		basename "$d"
	done
	sed -n 's/^[[:space:]]*\.name = "\([a-z0-9_]*\)",.*/\1/p' "$top"/targets/*/*.c
	grep -h 'dm_names\[\] = {' "$top"/targets/*/*.c | grep -o '"[a-z0-9_-]*"' | tr -d '"'
}

# The string literals of C files (comments and character constants left out),
# one a line, as FILE:LINE:"literal".
literals() {
	local f
	for f in "$@"; do
		awk -v file="$f" '
		{
			line = $0
			out = ""
			while (length(line)) {
				if (incomment) {
					i = index(line, "*/")
					if (!i) { line = ""; break }
					line = substr(line, i + 2)
					incomment = 0
					continue
				}
				if (match(line, /\/\*|\/\/|"|'\''/) == 0)
					break
				tok = substr(line, RSTART, RLENGTH)
				rest = substr(line, RSTART + RLENGTH)
				if (tok == "//")
					break
				if (tok == "/*") { incomment = 1; line = rest; continue }
				# a literal: up to the closing quote, past escapes
				s = ""
				while (length(rest) && substr(rest, 1, 1) != tok) {
					c = substr(rest, 1, 1)
					if (c == "\\") { s = s substr(rest, 1, 2); rest = substr(rest, 3); continue }
					s = s c
					rest = substr(rest, 2)
				}
				if (tok == "\"")
					print file ":" NR ":\"" s "\""
				line = substr(rest, 2)
			}
		}' "$f"
	done
}

test_core_and_tools_name_no_target() {
	local names hits n lits
	names=$(target_names | sort -u)
	[ "$(echo "$names" | wc -l)" -ge 10 ] || t_fail "found too few target names: $names"
	lits=$(literals $(find "$top/core" "$top/tools" -name '*.[ch]'))
	[ "$(echo "$lits" | wc -l)" -gt 200 ] || t_fail "found too few string literals"
	hits=
	for n in $names; do
		hits+=$(echo "$lits" | grep -E ":\"$n\"\$|[^A-Za-z0-9_]$n\(|:\"$n\(" || true)
	done
	[ -z "$hits" ] || t_fail "core/ or tools/ name a target:
$hits"
}

# The check itself finds a name where one is written.
test_the_name_check_finds_one() {
	local f=$(mktemp /tmp/ubt-layout.XXXXXX.c)
	printf '/* "stripe" in a comment */\nstatic const char *a = "striped";\nstatic const char *b = "x(y) file(a.img)";\n' > "$f"
	literals "$f" | grep -q ':2:"striped"$' || { rm -f "$f"; t_fail "no literal found"; }
	literals "$f" | grep -qE '[^A-Za-z0-9_]file\(' || { rm -f "$f"; t_fail "no spec form found"; }
	! literals "$f" | grep -q 'in a comment' || { rm -f "$f"; t_fail "a comment read as a literal"; }
	rm -f "$f"
}

# What files of a room include, as ROOM/FILE:HEADER lines.
includes() {
	local f
	for f in "$@"; do
		sed -n 's/^#include "\(.*\)"/\1/p' "$f" | sed "s|^|${f#"$top"/}:|"
	done
}

test_rooms_depend_one_way() {
	local bad
	# lib: public headers only.
	bad=$(includes "$top"/core/lib/*.[ch] | grep -v ':ubt/' || true)
	[ -z "$bad" ] || t_fail "core/lib reaches past itself: $bad"
	# config: itself, lib (through ubt/), the generated config; not engine or device.
	bad=$(includes "$top"/core/config/*.[ch] | grep -E ':(\.\./)?(engine|device)/|:engine\.h|:device_priv\.h|:frontend_ublk\.h|:aio\.h' || true)
	[ -z "$bad" ] || t_fail "core/config reaches up: $bad"
	# engine: not device.
	bad=$(includes "$top"/core/engine/*.[ch] | grep -E ':(\.\./)?device/|:device_priv\.h|:frontend_ublk\.h' || true)
	[ -z "$bad" ] || t_fail "core/engine reaches up: $bad"
}

test_targets_use_the_sdk_only() {
	local bad
	bad=$(includes $(find "$top/targets" -name '*.[ch]' -not -path '*/tests/*') |
	      grep -vE ':(ubt/|generated/autoconf\.h$)|:[a-z0-9_]+\.h$' || true)
	[ -z "$bad" ] || t_fail "a target includes what is not its own nor the SDK: $bad"
	bad=$(includes $(find "$top/tools" -name '*.[ch]') | grep -E 'config\.h|engine\.h|core/' || true)
	[ -z "$bad" ] || t_fail "the CLI includes the core's private headers: $bad"
}

t_run test_core_and_tools_name_no_target
t_run test_the_name_check_finds_one
t_run test_rooms_depend_one_way
t_run test_targets_use_the_sdk_only
t_summary
