#!/bin/bash
# SPDX-License-Identifier: MIT
# The main job, end to end on the real ublk driver: a device over a file,
# formatted, written, verified, deleted, re-created and verified again.
#   scripts/demo-job.sh [BUILD_DIR]
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
B=${1:-$top/build}/ublk-target
work=$(mktemp -d /tmp/ubt-demo.XXXXXX)
dev=
cleanup() {
	umount "$work/mnt" 2>/dev/null || true
	[ -z "$dev" ] || $B delete -n "${dev#/dev/ublkb}" 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT
step() { printf '\n==> %s\n' "$*"; }

step "a 256 MiB backing file: $work/disk.img"
truncate -s 256M "$work/disk.img"

step "ublk-target create -q 2 file --file $work/disk.img"
dev=$($B create -q 2 file --file "$work/disk.img")
echo "$dev"
$B list

step "mkfs.ext4 $dev and mount it"
mkfs.ext4 -q -F "$dev"
mkdir -p "$work/mnt"
mount "$dev" "$work/mnt"

step "write 3 files of random data (24 MiB) and record their checksums"
for i in 1 2 3; do
	head -c $((i * 4 * 1048576)) /dev/urandom > "$work/mnt/file$i"
done
(cd "$work/mnt" && sha256sum file1 file2 file3) | tee "$work/sums"

step "unmount and delete $dev"
umount "$work/mnt"
$B delete -n "${dev#/dev/ublkb}"
dev=
$B list

step "create a new device over the same file"
dev=$($B create file --file "$work/disk.img")
echo "$dev"

step "fsck.ext4 -n: the file system must be clean"
fsck.ext4 -n -f "$dev"

step "mount read-only and verify every file"
mount -o ro "$dev" "$work/mnt"
(cd "$work/mnt" && sha256sum -c "$work/sums")
umount "$work/mnt"

step "delete $dev"
$B delete -n "${dev#/dev/ublkb}"
dev=
echo
echo "demo: OK: data written through /dev/ublkbN read back identical after re-creation"
