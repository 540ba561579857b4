#!/usr/bin/env bash
# The guest's network (issue 14): Redis in the default guest under Debian's redis-benchmark, on
# Lockstep unreplicated, replicated (two nodes and the arbiter on this machine) and QEMU TCG with
# the same kernel and initramfs, all through libslirp port forwards, in one run: requests per
# second (1 and 8 clients), p50/p99 latency, bulk transfer in and out, CPU time per process, and
# the logging channel's bandwidth.
#   benchmarks/network.sh [--requests N] [--clients N] [--memory MiB]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/install-deps.sh
images="$(guests/linux/build.sh | tail -n 1)"
swift build -c release --product lockstep >/dev/null
swift build -c release --product lockstep-soak >/dev/null
swift build -c release --product lockstep-kv >/dev/null
exec .build/release/lockstep-soak net-bench --lockstep .build/release/lockstep --images "$images" "$@"
