#!/bin/bash
# SPDX-License-Identifier: MIT
# Install, from Debian's archive, what building and testing ublk-target needs
# and this machine lacks.  Idempotent; needs root when something is missing.
set -euo pipefail

packages=(
	build-essential		# cc, make
	liburing-dev		# io_uring
	libaio-dev		# the Linux AIO engine
	libisal-dev		# CRC-32C (ISA-L's SIMD code)
	pkgconf			# building targets outside the tree (pkg-config ublk-target)
	libcunit1-dev		# unit tests
	python3-kconfiglib	# make menuconfig / defconfig (optional for plain builds)
	fio			# end-to-end tests and benchmarks
	qemu-system-x86		# the VM tier: a guest kernel with ublk_drv
	busybox-static		# the guest's initramfs
	xz-utils		# decompressing the guest's kernel modules
	e2fsprogs		# mkfs.ext4 / fsck.ext4 in the guest tests
	util-linux		# blockdev, blkdiscard, setpriv, losetup
	procps			# pgrep
	dmsetup			# the kernel device-mapper baseline
	systemd			# systemd-analyze: checking the installed unit
	clang			# the fuzz tier (libFuzzer)
	libclang-rt-14-dev	# libFuzzer's runtime
)

missing=()
for p in "${packages[@]}"; do
	p=${p%%#*}
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: these packages are missing and installing them needs root: ${missing[*]}" >&2
	exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >/dev/null
apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
