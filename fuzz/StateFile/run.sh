#!/usr/bin/env bash
# Builds the arbiter state file reader's libFuzzer harness and fuzzes it for N seconds (default 60).
#
#   fuzz/StateFile/run.sh [seconds|check] [extra libFuzzer flags...]
#
# `check` runs the seed corpus and regressions/ once (-runs=0) instead of fuzzing.
# The harness is compiled with StateFileFormat.swift, ClaimTable.swift, ArbitrationError.swift and
# ArbitrationOutcome.swift of Sources/Arbitration only (no Crypto: the SHA-256 is replaced by a
# stand-in, see FuzzStateFile.swift).
# Environment: FUZZ_WORK (default /tmp/lockstep-fuzz-statefile) holds the binary, the corpus, and
# any crash-*/timeout-*/oom-* reproducers; JOBS (default 1) runs that many fuzzing processes.
# Reproduce a finding with: $FUZZ_WORK/fuzz-statefile $FUZZ_WORK/artifacts/crash-<hash>
set -euo pipefail

seconds="${1:-60}"
shift || true
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../common.sh"
work="${FUZZ_WORK:-/tmp/lockstep-fuzz-statefile}"
src="$lockstep_fuzz_root/Sources/Arbitration"

lockstep_fuzz_modules
lockstep_fuzz_build "$work/fuzz-statefile" "$here/FuzzStateFile.swift" "$src/StateFileFormat.swift" \
    "$src/ClaimTable.swift" "$src/ArbitrationError.swift" "$src/ArbitrationOutcome.swift"
lockstep_fuzz_run "$work/fuzz-statefile" "$here" "$here/statefile.dict" "$seconds" "$@"
