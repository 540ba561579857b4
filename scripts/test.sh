#!/usr/bin/env bash
# The whole test suite: install what is missing, build the guests (bare-metal programs, the
# default Linux guest and the Debian guest, cached outside the clone), build Lockstep, run every
# test.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/install-deps.sh
# The Debian guest (guests/debian/build.sh: debootstrap under qemu-user, about 7 minutes of one
# core when not cached) builds in the background while the rest builds; its boot test
# (DebianBootTests) skips when the image is missing. It needs root: otherwise it is skipped.
debian_pid=
if [[ "$(id -u)" == 0 ]]; then
    debian_log="$(mktemp -t lockstep-debian-build.XXXXXX)"
    # In a process group of its own, so that a failure of the steps below stops it whole.
    setsid guests/debian/build.sh >/dev/null 2>"$debian_log" &
    debian_pid=$!
    trap 'if [[ -n "$debian_pid" ]] && kill -0 "$debian_pid" 2>/dev/null; then kill -- "-$debian_pid"; wait; fi; rm -f "$debian_log"' EXIT
else
    echo "scripts/test.sh: not root, so the Debian guest is not built (DebianBootTests will skip)" >&2
fi
guests/build.sh
guests/linux/build.sh >/dev/null
swift build --build-tests
if [[ -n "$debian_pid" ]]; then
    debian_status=0
    wait "$debian_pid" || debian_status=$?
    debian_pid=
    if [[ "$debian_status" -ne 0 ]]; then
        tail -n 40 "$debian_log" >&2
        echo "scripts/test.sh: guests/debian/build.sh failed (its output is above)" >&2
        exit 1
    fi
fi
# The arbitration tests (and the key-file agreement test, which runs an arbiter) are async and
# time out after a few seconds; the rest of the suite has
# long synchronous tests (Linux boots, fault injection with real processes) that occupy the
# concurrency pool's threads on a 2-core machine. Run them apart so that their timeouts measure
# the arbiter, not the pool.
#
# Both runs are also written to a log. If a run fails, the issues it recorded are printed again at
# the end, shortened, because a failure report (with the logs of the processes involved) can be
# long enough to scroll out of a CI log's tail.
log="$(mktemp -t lockstep-test.XXXXXX)"
status=0
# The pool's etcd tests are async too: run in the main pass, one once waited 20 minutes for a
# thread, and etcd had closed its connection by then.
async_suites="ArbitrationTests|KeyFileAgreementTests|PoolMACAddressTests|PoolSnapshotTests|VMClaimsTests|WaitUntilProtectedTests"
swift test --skip-build --filter "$async_suites" 2>&1 | tee "$log" || status=$?
if [ "$status" -eq 0 ]; then
    swift test --skip-build --skip "$async_suites" 2>&1 | tee "$log" || status=$?
fi
# Both engines: the suites above run `lockstep` processes on the JIT (the commands' default on
# x86-64 Linux) and the machines they make in-process on the interpreter; the machine-level
# suites run again with every machine on the JIT (LOCKSTEP_TEST_ENGINE, read when the test
# bundle loads; about a minute and a half).
if [ "$status" -eq 0 ]; then
    LOCKSTEP_TEST_ENGINE=jit swift test --skip-build \
        --filter "MachineTests|ReplayTests|SimulationTests|ReplicationTests|HostIOTests|KVWorkloadTests|RISCVTests" 2>&1 | tee "$log" || status=$?
fi
if [ "$status" -ne 0 ]; then
    echo
    echo "=== the issues recorded in the failing run (shortened; the whole report is above) ==="
    grep -a -A 6 "recorded an issue" "$log" | cut -c 1-300 | head -n 120 || true
fi
# The cluster simulation: a few hundred seeded runs with faults (docs/simulation.md).
if [ "$status" -eq 0 ]; then
    .build/debug/lockstep-sim run --seeds 200 || status=$?
fi
if [ "$status" -eq 0 ]; then
    .build/debug/lockstep-sim run --guest linux --seeds 2 --first-seed 1000 || status=$?
fi
rm -f "$log"
exit "$status"
