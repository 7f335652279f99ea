#!/bin/bash
# SPDX-License-Identifier: MIT
# Run the kernel-baseline benchmark in the test guest and print its table.
#   scripts/bench/run.sh [RUNTIME_S] [REPEATS]
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top"
make -j"$(nproc)" >/dev/null
exec tests/vm/vm-run --mem 5G -- scripts/bench/ublk-vs-kernel.sh "$top/build" "${1:-5}" "${2:-3}"
