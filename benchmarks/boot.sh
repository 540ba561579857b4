#!/usr/bin/env bash
# Builds what is needed and prints Linux boot time to the shell prompt on Lockstep and QEMU.
#   benchmarks/boot.sh [--repeat N]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/install-deps.sh
guests/linux/build.sh >/dev/null
swift build -c release --product lockstep >/dev/null
exec python3 benchmarks/boot.py "$@"
