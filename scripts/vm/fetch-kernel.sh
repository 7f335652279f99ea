#!/bin/bash
# Fetch Debian's bookworm-backports kernel (it has ublk_drv and every dm
# target as modules) into a cache folder, for the QEMU end-to-end tier.
#
#   scripts/vm/fetch-kernel.sh CACHE_DIR
#
# Leaves CACHE_DIR/vmlinuz, CACHE_DIR/modules/*.ko (decompressed) and
# CACHE_DIR/modules.load: the modules the guest needs, each after the ones
# its .modinfo depends= names.  The machine's apt configuration is not
# touched: a private sources list derived from the machine's Debian source
# is used for the download.
set -euo pipefail

cache=${1:?usage: fetch-kernel.sh CACHE_DIR}
want_modules="ublk_drv netfs 9pnet 9pnet_virtio 9p crc32c_generic libcrc32c ext4
	loop null_blk brd dm-mod dm-log dm-region-hash dm-mirror dm-zero
	dm-flakey dm-delay dm-bufio dm-bio-prison dm-persistent-data dm-cache
	dm-cache-smq"

if [ -f "$cache/modules.load" ] && [ -f "$cache/vmlinuz" ]; then
	exit 0
fi
mkdir -p "$cache"
work=$(mktemp -d "$cache/fetch.XXXXXX")
trap 'rm -rf "$work"' EXIT

# A private apt setup: the machine's Debian mirror, suite bookworm-backports.
mirror=$(sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null |
	grep -v security | head -n1 || true)
if [ -z "$mirror" ]; then
	mirror=$(awk '$1 == "deb" && $3 !~ /security/ { print $2; exit }' \
		/etc/apt/sources.list 2>/dev/null || true)
fi
[ -n "$mirror" ] || { echo "fetch-kernel: cannot find the machine's Debian mirror" >&2; exit 1; }
mkdir -p "$work/apt/lists/partial" "$work/apt/archives/partial"
echo "deb $mirror bookworm-backports main" > "$work/apt/sources.list"
aptopts=(-o "Dir::Etc::SourceList=$work/apt/sources.list"
	-o "Dir::Etc::SourceParts=/nonexistent"
	-o "Dir::State::Lists=$work/apt/lists"
	-o "Dir::Cache::Archives=$work/apt/archives"
	-o "APT::Sandbox::User=root" -q)
apt-get "${aptopts[@]}" update >/dev/null
pkg=$(apt-cache "${aptopts[@]}" depends linux-image-amd64 |
	sed -n 's/^ *Depends: \(linux-image-6\.12[^ ]*\)/\1/p' | head -n1)
[ -n "$pkg" ] || { echo "fetch-kernel: no 6.12 linux-image in bookworm-backports" >&2; exit 1; }
(cd "$work" && apt-get "${aptopts[@]}" download "$pkg" >/dev/null)
dpkg-deb -x "$work"/*.deb "$work/root"

kver=$(ls "$work/root/lib/modules")
mods=$work/root/lib/modules/$kver
mkdir -p "$cache/modules"
cp "$work/root/boot/vmlinuz-$kver" "$cache/vmlinuz"

# Decompress one module and echo its dependencies.
declare -A seen
order=()
visit() {
	local m=$1 f deps d
	[ -n "${seen[$m]:-}" ] && return 0
	seen[$m]=1
	f=$(find "$mods/kernel" -name "$m.ko.xz" -o -name "$m.ko" | head -n1)
	if [ -z "$f" ]; then
		# Built into the kernel: nothing to load.
		return 0
	fi
	case $f in
	*.xz) xz -dc "$f" > "$cache/modules/$m.ko" ;;
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
printf '%s\n' "${order[@]}" > "$cache/modules.load.tmp"
echo "$kver" > "$cache/kernel.version"
mv "$cache/modules.load.tmp" "$cache/modules.load"
