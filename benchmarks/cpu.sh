#!/usr/bin/env bash
# Builds what is needed and prints guest MIPS of Lockstep and QEMU side by side.
#   benchmarks/cpu.sh [--repeat N] [program ...]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/install-deps.sh
guests/build.sh >/dev/null
swift build -c release --product lockstep >/dev/null
exec python3 benchmarks/cpu.py "$@"
