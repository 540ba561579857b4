#!/usr/bin/env bash
# Builds the arbiter protocol's libFuzzer harness (framing and messages) and fuzzes it for N
# seconds (default 60).
#
#   fuzz/Arbiter/run.sh [seconds|check] [extra libFuzzer flags...]
#
# `check` runs the seed corpus and regressions/ once (-runs=0) instead of fuzzing.
# The harness is compiled with Sources/Arbitration/Framing.swift and WireMessage.swift only
# (no SwiftNIO, no Crypto: the HMAC is replaced by a stand-in, see FuzzArbiter.swift).
# Environment: FUZZ_WORK (default /tmp/lockstep-fuzz-arbiter) holds the binary, the corpus, and
# any crash-*/timeout-*/oom-* reproducers; JOBS (default 1) runs that many fuzzing processes.
# Reproduce a finding with: $FUZZ_WORK/fuzz-arbiter $FUZZ_WORK/artifacts/crash-<hash>
set -euo pipefail

seconds="${1:-60}"
shift || true
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../common.sh"
work="${FUZZ_WORK:-/tmp/lockstep-fuzz-arbiter}"
src="$lockstep_fuzz_root/Sources/Arbitration"

lockstep_fuzz_modules
lockstep_fuzz_build "$work/fuzz-arbiter" "$here/FuzzArbiter.swift" "$src/Framing.swift" "$src/WireMessage.swift"
FUZZ_MAX_LEN="${FUZZ_MAX_LEN:-4096}" lockstep_fuzz_run "$work/fuzz-arbiter" "$here" "$here/arbiter.dict" "$seconds" "$@"
