#!/usr/bin/env bash
# The whole test suite: install what is missing, build the guests, run every test.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/install-deps.sh
guests/build.sh
swift build --build-tests
swift test --skip-build
