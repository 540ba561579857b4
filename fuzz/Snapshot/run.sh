#!/usr/bin/env bash
# Builds the snapshot reader's libFuzzer harness and fuzzes it for N seconds (default 60).
#
#   fuzz/Snapshot/run.sh [seconds|check] [extra libFuzzer flags...]
#
# `check` runs the seed corpus and regressions/ once (-runs=0) instead of fuzzing.
# Environment: FUZZ_WORK (default /tmp/lockstep-fuzz-snapshot) holds the binary, the corpus, and
# any crash-*/timeout-*/oom-* reproducers; JOBS (default 1) runs that many fuzzing processes;
# FUZZ_MODULES (default /tmp/lockstep-fuzz-modules/<clone hash>) caches the RISCV, ELF and Machine modules.
# Reproduce a finding with: $FUZZ_WORK/fuzz-snapshot $FUZZ_WORK/artifacts/crash-<hash>
set -euo pipefail

seconds="${1:-60}"
shift || true
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../common.sh"
work="${FUZZ_WORK:-/tmp/lockstep-fuzz-snapshot}"

lockstep_fuzz_modules Machine
lockstep_fuzz_build "$work/fuzz-snapshot" "$here/FuzzSnapshot.swift"
lockstep_fuzz_run "$work/fuzz-snapshot" "$here" "$here/snapshot.dict" "$seconds" "$@"
