#!/bin/sh
# Turn a .config into a C header, the way the kernel's autoconf.h reads:
#   CONFIG_X=y -> #define CONFIG_X 1      CONFIG_X=m -> #define CONFIG_X_MODULE 1
#   CONFIG_X="s" / CONFIG_X=123 -> #define CONFIG_X "s" / 123
# Needs nothing but sed, so the build works without kconfiglib.
set -e
in=$1 out=$2
tmp=$out.tmp
{
	echo "/* Generated from $in: do not edit. */"
	echo "#ifndef UBT_AUTOCONF_H"
	echo "#define UBT_AUTOCONF_H"
	sed -n \
		-e 's/^\(CONFIG_[A-Za-z0-9_]*\)=y$/#define \1 1/p' \
		-e 's/^\(CONFIG_[A-Za-z0-9_]*\)=m$/#define \1_MODULE 1/p' \
		-e 's/^\(CONFIG_[A-Za-z0-9_]*\)=\(".*"\)$/#define \1 \2/p' \
		-e 's/^\(CONFIG_[A-Za-z0-9_]*\)=\(-\{0,1\}[0-9][0-9a-fA-Fx]*\)$/#define \1 \2/p' \
		"$in"
	echo "#endif"
} > "$tmp"
if [ -f "$out" ] && cmp -s "$tmp" "$out"; then
	rm -f "$tmp"
else
	mv "$tmp" "$out"
fi
