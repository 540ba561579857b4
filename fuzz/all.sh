#!/usr/bin/env bash
# Runs every fuzz target in turn for N seconds each (default 30), or with `check` runs each
# target's seed corpus and regressions/ once without fuzzing.
#
#   fuzz/all.sh [seconds|check] [target...]     (targets: the directories of fuzz/ with a run.sh)
#
# Each target works in /tmp/lockstep-fuzz-<target> (FUZZ_WORK is set per target); JOBS is passed
# on. Logs go to /tmp/lockstep-fuzz-all/<target>.log; a summary line per target (executions per
# second and coverage) is printed at the end. Exits non-zero if any target found something or
# failed to build.
set -uo pipefail

seconds="${1:-30}"
shift || true
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
    for script in "$here"/*/run.sh; do targets+=("$(basename "$(dirname "$script")")"); done
fi
logs=/tmp/lockstep-fuzz-all
mkdir -p "$logs"

failed=()
summary=()
for target in "${targets[@]}"; do
    lower="$(echo "$target" | tr 'A-Z' 'a-z')"
    log="$logs/$target.log"
    echo "== $target (${seconds}): log in $log"
    start=$SECONDS
    if FUZZ_WORK="/tmp/lockstep-fuzz-$lower" "$here/$target/run.sh" "$seconds" >"$log" 2>&1; then
        status=ok
    else
        status="FAILED (see $log and /tmp/lockstep-fuzz-$lower/artifacts)"
        failed+=("$target")
    fi
    stats="$(grep -a -E '^#[0-9]+[[:space:]]+(DONE|INITED)' "$log" | tail -n 1 | grep -o -E 'cov: [0-9]+|exec/s: [0-9]+' | tr '\n' ' ')"
    summary+=("$(printf '%-12s %-8s %4ss  %s' "$target" "${status%% *}" "$((SECONDS - start))" "$stats")")
    echo "   $status"
done

echo
echo "== summary"
printf '%s\n' "${summary[@]}"
if [[ ${#failed[@]} -gt 0 ]]; then
    echo "findings or failures in: ${failed[*]}"
    exit 1
fi
