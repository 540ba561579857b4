#!/usr/bin/env bash
# Builds the event log reader's libFuzzer harness and fuzzes it for N seconds (default 60).
#
#   fuzz/EventLog/run.sh [seconds|check] [extra libFuzzer flags...]
#
# `check` runs the seed corpus and regressions/ once (-runs=0) instead of fuzzing.
# Environment: FUZZ_WORK (default /tmp/lockstep-fuzz-eventlog) holds the binary, the corpus, and
# any crash-*/timeout-*/oom-* reproducers; JOBS (default 1) runs that many fuzzing processes;
# FUZZ_MODULES (default /tmp/lockstep-fuzz-modules/<clone hash>) caches the Machine and Replay modules.
# Reproduce a finding with: $FUZZ_WORK/fuzz-eventlog $FUZZ_WORK/artifacts/crash-<hash>
set -euo pipefail

seconds="${1:-60}"
shift || true
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../common.sh"
work="${FUZZ_WORK:-/tmp/lockstep-fuzz-eventlog}"

lockstep_fuzz_modules Replay
lockstep_fuzz_build "$work/fuzz-eventlog" "$here/FuzzEventLog.swift"
lockstep_fuzz_run "$work/fuzz-eventlog" "$here" "$here/eventlog.dict" "$seconds" "$@"
