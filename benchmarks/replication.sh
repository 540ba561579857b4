#!/usr/bin/env bash
# Replicated vs unreplicated in one run (issue 5): request latency, guest throughput, the logging
# channel's bandwidth, and the failover pause from SIGKILL of the primary to the first answer of
# the new one. Two `lockstep node` processes and the arbiter on this machine, the shell guest.
#   benchmarks/replication.sh [--requests N] [--loop N] [--failovers N] [--file-arbiter]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/install-deps.sh
guests/linux/build.sh >/dev/null
swift build -c release --product lockstep >/dev/null
swift build -c release --product lockstep-soak >/dev/null
exec .build/release/lockstep-soak bench --lockstep .build/release/lockstep "$@"
