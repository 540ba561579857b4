#!/usr/bin/env bash
# Mirrored disks (issue 15): guest disk throughput and fsync latency on Lockstep unreplicated,
# replicated (--disk-sync primary and both) and QEMU; re-protection time and pause; resync
# after a short absence against a full copy. All in one run (benchmarks/disk.py says how).
#   benchmarks/disk.sh [--write-mib N] [--fsyncs N] [--skip io,reprotect,resync]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/install-deps.sh
images="$(guests/linux/build.sh | tail -n 1)"
swift build -c release --product lockstep >/dev/null
exec python3 benchmarks/disk.py --images "$images" "$@"
