#!/usr/bin/env bash
# The whole test suite: install what is missing, build the guests (bare-metal programs and the
# default Linux guest, cached outside the clone), build Lockstep, run every test.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/install-deps.sh
guests/build.sh
guests/linux/build.sh >/dev/null
swift build --build-tests
# The arbitration tests are async and time out after a few seconds; the rest of the suite has
# long synchronous tests (Linux boots, fault injection with real processes) that occupy the
# concurrency pool's threads on a 2-core machine. Run them apart so that their timeouts measure
# the arbiter, not the pool.
swift test --skip-build --filter ArbitrationTests
swift test --skip-build --skip ArbitrationTests
