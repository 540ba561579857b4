#!/usr/bin/env bash
# Builds the replication frame and message decoders' libFuzzer harness and fuzzes it for N
# seconds (default 60).
#
#   fuzz/Replication/run.sh [seconds|check] [extra libFuzzer flags...]
#
# `check` runs the seed corpus and regressions/ once (-runs=0) instead of fuzzing.
# The harness is compiled with the NIO-free decoding files of Sources/Replication
# (ReplicationFrameFormat.swift, ReplicationMessage.swift, ReplicationError.swift, DiskReport.swift,
# DiskCopyPlan.swift, and HostIO's DiskRecord.swift and ExtentSet.swift) against the Machine and Replay modules; SwiftNIO is not needed.
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
# The messages carry a disk's record and copy plan (HostIO's DiskRecord and ExtentSet, which need
# only Machine): their files are compiled into the harness, with `import HostIO` dropped from
# staged copies, so that HostIO (SwiftNIO, libslirp) need not be built.
staged="$work/sources"
rm -rf "$staged"
mkdir -p "$staged"
for file in "$src"/{ReplicationFrameFormat,ReplicationMessage,ReplicationError,DiskReport,DiskCopyPlan}.swift \
            "$lockstep_fuzz_root"/Sources/HostIO/{DiskRecord,ExtentSet}.swift; do
    sed '/^import HostIO$/d' "$file" >"$staged/$(basename "$file")"
done
lockstep_fuzz_build "$work/fuzz-replication" "$here/FuzzReplication.swift" "$staged"/*.swift
lockstep_fuzz_run "$work/fuzz-replication" "$here" "$here/replication.dict" "$seconds" "$@"
