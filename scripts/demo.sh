#!/usr/bin/env bash
# The main job on its default: what Lockstep is for, on this machine. Installs what is missing,
# builds the default Linux guest and Lockstep, then, as root, starts a pool of three hosts (network
# namespaces, each with a `lockstep agent` and an etcd member), declares the Redis VM, drives a
# client over one TCP connection, kills the primary's host and prints a timeline (protected;
# primary lost; backup live; protected again on the third host; client stalled N ms, connection
# kept, 0 writes lost) before it cleans up. With --pair, or not as root, two hosts and an arbiter
# (namespaces as root; loopback and user-mode networking otherwise, and it says which).
#
#   scripts/demo.sh            the failover demo (as root: a pool of three hosts on etcd; --pair: two hosts)
#   scripts/demo.sh --shell    the guest's busybox shell on this terminal instead (`lockstep run`;
#                              Ctrl-A X quits); further arguments go to `lockstep run`
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/install-deps.sh
guests/build.sh
guests/linux/build.sh >/dev/null
quiet() { grep -vE '^\[|^Building|^Compiling|^Write' || true; }
if [[ "${1:-}" == --shell ]]; then
    shift
    swift build -c release --product lockstep 2>&1 | quiet
    echo "== lockstep run   (Ctrl-A X quits)"
    exec "$root/.build/release/lockstep" run "$@"
fi
for product in lockstep lockstep-kv lockstep-soak; do swift build -c release --product "$product" 2>&1 | quiet; done
exec "$root/.build/release/lockstep-soak" demo --lockstep "$root/.build/release/lockstep" \
    --lockstep-kv "$root/.build/release/lockstep-kv" "$@"
