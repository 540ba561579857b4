#!/usr/bin/env bash
# Where each request's CPU goes (issue 14): per thread of `lockstep run` and of a replicated pair
# serving Redis to redis-benchmark (8 clients), CPU microseconds and context switches per request,
# and the most requests per second this machine's cores allow the pair (see cpu-per-request.py).
#   benchmarks/cpu-per-request.sh [--requests N] [--clients N]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/install-deps.sh
guests/linux/build.sh >/dev/null
swift build -c release --product lockstep >/dev/null
exec python3 benchmarks/cpu-per-request.py --lockstep .build/release/lockstep "$@"
