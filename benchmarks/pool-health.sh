#!/usr/bin/env bash
# Health by latency (issue 16, item 8): probe-to-decision time for a gray failure. A pool of three
# agents on 127.0.1.1-3 and a three-member etcd on this machine; each run declares the key-value VM
# probed on its console, slows its primary's node down to a few % of a CPU (a cgroup), and times
# the health policy's decision (the leader's log) and the new primary's first answer, from the
# slow-down. Needs root and etcd.
#   benchmarks/pool-health.sh [--runs N] [--percent P] [--memory MiB] [--lockstep PATH]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/install-deps.sh
guests/linux/build.sh >/dev/null
swift build -c release --product lockstep >/dev/null
swift build -c release --product lockstep-soak >/dev/null
exec .build/release/lockstep-soak pool-health --lockstep .build/release/lockstep "$@"
