#!/bin/bash
# SPDX-License-Identifier: MIT
# `make demo`: install what is missing, build, and run the main job on the
# real ublk driver -- directly when this kernel has ublk_drv, otherwise in
# a QEMU guest booting Debian's 6.12 kernel over this machine's root.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

echo "==> installing missing packages (Debian)"
scripts/install-deps.sh
echo "==> building"
make -j"$(nproc)" >/dev/null
if [ -e /dev/ublk-control ] || { [ "$(id -u)" = 0 ] && modprobe ublk_drv 2>/dev/null; }; then
	echo "==> this kernel has ublk_drv: running the demo here"
	exec scripts/demo-job.sh "$top/build"
fi
echo "==> this kernel ($(uname -r)) has no ublk_drv: running the demo in a QEMU guest"
echo "    (Debian's bookworm-backports 6.12 kernel; the first run downloads it)"
exec tests/vm/vm-run -- scripts/demo-job.sh "$top/build"
