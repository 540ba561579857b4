#!/usr/bin/env bash
# The pool (issue 16): three `lockstep agent`s on loopback addresses and a three-member etcd on
# this machine; etcd traffic per VM, planned switchover stalls, and host loss to every VM live and
# to every VM protected again (256 MiB guests with a 1 GiB mirrored disk by default).
#   benchmarks/pool.sh [--vms N] [--memory MiB] [--disk MiB] [--host-losses N] [--switchovers N]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/install-deps.sh
guests/linux/build.sh >/dev/null
swift build -c release --product lockstep >/dev/null
swift build -c release --product lockstep-soak >/dev/null
exec .build/release/lockstep-soak pool-bench --lockstep .build/release/lockstep "$@"
