#!/bin/sh
# SPDX-License-Identifier: MIT
# The configuration a build uses: IN (.config or configs/defconfig) with
# every symbol it does not mention set to its Kconfig default, the way
# `olddefconfig` fills a config in.  So a target folder added after the
# config was written is built as its Kconfig entry says (`default y`), not
# silently left out.  Reads the top Kconfig and every file it sources
# (globs included); needs only sh and awk, so a build works without
# kconfiglib.
#
#   scripts/kconfig/resolve.sh IN OUT
#
# Defaults are taken as written on a `default VALUE` line without a
# condition; a symbol with none is left unset (n), as kconfig leaves it.
set -e
in=$1 out=$2
top=$(dirname "$0")/../..

# Every Kconfig file, in the order `source` names them.
kconfigs() {
	echo "$top/Kconfig"
	sed -n 's/^[[:space:]]*o\{0,1\}source[[:space:]]*"\(.*\)"/\1/p' "$top/Kconfig" |
	while read -r pat; do
		# The pattern is a glob relative to the source tree: let the shell expand it.
		for f in $top/$pat; do
			[ -f "$f" ] && echo "$f"
		done
	done
}

tmp=$out.tmp
# shellcheck disable=SC2046
awk -v given="$in" '
	BEGIN {
		while ((getline line < given) > 0) {
			if (match(line, /^CONFIG_[A-Za-z0-9_]+=/)) {
				set[substr(line, 8, RLENGTH - 8)] = 1
				print line
			} else if (match(line, /^# CONFIG_[A-Za-z0-9_]+ is not set/)) {
				split(line, w, " ")
				set[substr(w[2], 8)] = 1
				print line
			}
		}
	}
	# Help text may say anything: it ends where a line starts at column 0.
	/^[^[:space:]]/ { inhelp = 0 }
	/^[[:space:]]+(help|---help---)[[:space:]]*$/ { inhelp = 1; next }
	inhelp { next }
	/^[[:space:]]*(menu)?config[[:space:]]/ { sym = $2; next }
	/^[[:space:]]*default[[:space:]]/ {
		if (sym == "" || (sym in set) || (sym in done) || $0 ~ /[[:space:]]if[[:space:]]/)
			next
		v = $0
		sub(/^[[:space:]]*default[[:space:]]+/, "", v)
		sub(/[[:space:]]+$/, "", v)
		done[sym] = 1
		if (v == "n")
			print "# CONFIG_" sym " is not set"
		else
			print "CONFIG_" sym "=" v
	}
	/^[[:space:]]*(endmenu|menu|choice|endchoice|if|endif|comment)([[:space:]]|$)/ { sym = "" }
' $(kconfigs) > "$tmp"
if [ -f "$out" ] && cmp -s "$tmp" "$out"; then
	rm -f "$tmp"
else
	mv "$tmp" "$out"
fi
