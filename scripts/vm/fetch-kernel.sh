#!/bin/bash
# Fetch one of Debian's backports kernels (they have ublk_drv and every dm
# target as modules) into a cache folder, for the QEMU end-to-end tier.
#
#   scripts/vm/fetch-kernel.sh KERNEL CACHE_DIR
#
# KERNEL is 6.12 (bookworm-backports) or 7.3 (trixie-backports).  Leaves
# CACHE_DIR/vmlinuz, CACHE_DIR/modules/*.ko (decompressed),
# CACHE_DIR/kernel.version and CACHE_DIR/modules.load: the modules the guest
# needs, each after the ones its .modinfo depends= names (modules.want: the
# list they were fetched for; a cache for another list is fetched again).  The machine's apt
# configuration is not touched: a private sources list derived from the
# machine's Debian source is used for the download.
#
# In bookworm-backports linux-image-amd64 depends on linux-image-6.12.*,
# which holds boot/vmlinuz-* and lib/modules/VERSION/.  In trixie-backports
# linux-image-7.3.* is empty and depends on linux-binary-* (vmlinuz) and
# linux-modules-* (the modules), both under usr/lib/modules/VERSION/.
set -euo pipefail

die() {
	echo "fetch-kernel: $*" >&2
	exit 1
}

[ $# -eq 2 ] || die "usage: fetch-kernel.sh 6.12|7.3 CACHE_DIR"
kernel=$1
cache=$2
case $kernel in
6.12) suite=bookworm-backports ;;
7.3) suite=trixie-backports ;;
*) die "unknown kernel '$kernel' (choose 6.12 or 7.3)" ;;
esac
# Modules that are built in, or gone, in a kernel are skipped (libcrc32c and
# crc32c_generic no longer exist in 7.3: crc32c is in lib/).
want_modules="ublk_drv netfs 9pnet 9pnet_virtio 9p crc32c_generic libcrc32c ext4
	loop null_blk brd dm-mod dm-log dm-region-hash dm-mirror dm-zero
	dm-flakey dm-delay dm-bufio dm-bio-prison dm-persistent-data dm-cache
	dm-cache-smq raid456 dm-raid"

# A cache fetched for another module list is fetched again.
want_line=$(echo $want_modules)
if [ -f "$cache/modules.load" ] && [ -f "$cache/vmlinuz" ] &&
	[ "$(cat "$cache/modules.want" 2>/dev/null)" = "$want_line" ]; then
	exit 0
fi
mkdir -p "$cache" 2> /dev/null || die "cannot create $cache"
# apt takes relative Dir:: paths as relative to its own folders.
cache=$(cd "$cache" && pwd)
work=$(mktemp -d "$cache/fetch.XXXXXX" 2> /dev/null) || die "cannot write to $cache"
trap 'rm -rf "$work"' EXIT

# A private apt setup: the machine's Debian mirror, the kernel's suite.
mirror=$(sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null |
	grep -v security | head -n1 || true)
if [ -z "$mirror" ]; then
	mirror=$(awk '$1 == "deb" && $3 !~ /security/ { print $2; exit }' \
		/etc/apt/sources.list 2>/dev/null || true)
fi
[ -n "$mirror" ] || die "cannot find the machine's Debian mirror"
mkdir -p "$work/apt/lists/partial" "$work/apt/archives/partial"
echo "deb $mirror $suite main" > "$work/apt/sources.list"
aptopts=(-o "Dir::Etc::SourceList=$work/apt/sources.list"
	-o "Dir::Etc::SourceParts=/nonexistent"
	-o "Dir::State::Lists=$work/apt/lists"
	-o "Dir::Cache::Archives=$work/apt/archives"
	-o "APT::Sandbox::User=root" -q)
apt-get "${aptopts[@]}" update > /dev/null 2> "$work/err" ||
	die "apt-get update of $suite from $mirror failed: $(tail -n1 "$work/err")"

# linux-image-amd64 -> linux-image-VERSION [-> linux-binary-*, linux-modules-*]
depends() {
	apt-cache "${aptopts[@]}" depends "$1" 2>/dev/null |
		sed -n 's/^ *|\{0,1\}Depends: \([^< ][^ ]*\).*/\1/p'
}
image=$(depends linux-image-amd64 | grep -E "^linux-image-${kernel//./\\.}[.+-]" | head -n1 || true)
[ -n "$image" ] || die "no $kernel linux-image in $suite (linux-image-amd64 does not depend on one)"
pkgs=("$image")
for p in $(depends "$image" | grep -E '^linux-(binary|modules)-' || true); do
	pkgs+=("$p")
done
(cd "$work" && apt-get "${aptopts[@]}" download "${pkgs[@]}" > /dev/null 2> "$work/err") ||
	die "apt-get download ${pkgs[*]} failed: $(tail -n1 "$work/err")"
for deb in "$work"/*.deb; do
	dpkg-deb -x "$deb" "$work/root" || die "cannot unpack $(basename "$deb")"
done

mods=
for d in "$work"/root/lib/modules/* "$work"/root/usr/lib/modules/*; do
	if [ -d "$d/kernel" ]; then
		mods=$d
		break
	fi
done
[ -n "$mods" ] || die "no modules in ${pkgs[*]}"
kver=$(basename "$mods")
vmlinuz=
for f in "$work/root/boot/vmlinuz-$kver" "$work/root/usr/lib/modules/$kver/vmlinuz" \
	"$work/root/lib/modules/$kver/vmlinuz"; do
	if [ -f "$f" ]; then
		vmlinuz=$f
		break
	fi
done
[ -n "$vmlinuz" ] || die "no vmlinuz for $kver in ${pkgs[*]}"
rm -rf "$cache/modules"
mkdir -p "$cache/modules"

# Decompress one module, then visit its dependencies: each lands in the
# load order after the modules it needs.
declare -A seen
order=()
visit() {
	local m=$1 pat f deps d
	[ -n "${seen[$m]:-}" ] && return 0
	seen[$m]=1
	# Module names use - and _ interchangeably.
	pat=${m//[-_]/[-_]}
	f=$(find "$mods/kernel" \( -name "$pat.ko" -o -name "$pat.ko.xz" -o \
		-name "$pat.ko.zst" \) | head -n1)
	if [ -z "$f" ]; then
		# Built into the kernel: nothing to load.
		return 0
	fi
	case $f in
	*.xz) xz -dc "$f" > "$cache/modules/$m.ko" || die "cannot decompress $f" ;;
	*.zst)
		command -v zstd > /dev/null || die "$m is zstd-compressed: install zstd"
		zstd -q -dc "$f" > "$cache/modules/$m.ko" || die "cannot decompress $f"
		;;
	*) cp "$f" "$cache/modules/$m.ko" ;;
	esac
	deps=$(tr '\0' '\n' < "$cache/modules/$m.ko" | sed -n 's/^depends=//p' | tr ',' ' ')
	for d in $deps; do
		visit "$d"
	done
	order+=("$m")
}
for m in $want_modules; do
	visit "$m"
done
[ -f "$cache/modules/ublk_drv.ko" ] || die "$kver has no ublk_drv module"
cp "$vmlinuz" "$cache/vmlinuz"
echo "$kver" > "$cache/kernel.version"
printf '%s\n' "${order[@]}" > "$cache/modules.load.tmp"
echo "$want_line" > "$cache/modules.want"
mv "$cache/modules.load.tmp" "$cache/modules.load"
