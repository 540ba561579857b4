#!/usr/bin/env bash
# Builds the replication frame and message decoders' libFuzzer harness and fuzzes it for N
# seconds (default 60).
#
#   fuzz/Replication/run.sh [seconds|check] [extra libFuzzer flags...]
#
# `check` runs the seed corpus and regressions/ once (-runs=0) instead of fuzzing.
# The harness is compiled with the NIO-free decoding files of Sources/Replication
# (ReplicationFrameFormat.swift, ReplicationMessage.swift, ReplicationError.swift) against the
# Machine and Replay modules; SwiftNIO is not needed.
# Environment: FUZZ_WORK (default /tmp/lockstep-fuzz-replication) holds the binary, the corpus,
# and any crash-*/timeout-*/oom-* reproducers; JOBS (default 1) runs that many fuzzing processes;
# FUZZ_MODULES (default /tmp/lockstep-fuzz-modules/<clone hash>) caches the Machine and Replay modules.
# Reproduce a finding with: $FUZZ_WORK/fuzz-replication $FUZZ_WORK/artifacts/crash-<hash>
set -euo pipefail

seconds="${1:-60}"
shift || true
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../common.sh"
work="${FUZZ_WORK:-/tmp/lockstep-fuzz-replication}"
src="$lockstep_fuzz_root/Sources/Replication"

lockstep_fuzz_modules Replay
lockstep_fuzz_build "$work/fuzz-replication" "$here/FuzzReplication.swift" \
    "$src/ReplicationFrameFormat.swift" "$src/ReplicationMessage.swift" "$src/ReplicationError.swift"
lockstep_fuzz_run "$work/fuzz-replication" "$here" "$here/replication.dict" "$seconds" "$@"
