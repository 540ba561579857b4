#!/usr/bin/env bash
# The main job on its default: install what is missing, build the guests and Lockstep,
# and run the demo guest (the timer-interrupt demo, then the CPU benchmark) on the terminal.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/install-deps.sh
guests/build.sh
swift build -c release --product lockstep 2>&1 | grep -vE '^\[|^Building|^Compiling|^Write' || true
bin="$root/.build/release/lockstep"
echo "== lockstep run --elf guests/out/timer.elf"
"$bin" run --elf guests/out/timer.elf
echo "== lockstep run --elf guests/out/bench.elf --stats"
"$bin" run --elf guests/out/bench.elf --stats
