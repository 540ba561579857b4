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
swift test --skip-build
