#!/usr/bin/env bash
# Builds what is needed and prints Linux boot time to the shell prompt on Lockstep and QEMU.
#   benchmarks/boot.sh [--repeat N]
set -euo pipefail
# LOCKSTEP_SCRATCH_PATH: the build directory to use (default .build), e.g. a worktree's own.
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/install-deps.sh
guests/linux/build.sh >/dev/null
scratch="${LOCKSTEP_SCRATCH_PATH:-.build}"
swift build -c release --scratch-path "$scratch" --product lockstep >/dev/null
case "$scratch" in /*) ;; *) scratch="$root/$scratch" ;; esac
export LOCKSTEP_BINARY="$scratch/release/lockstep"
exec python3 benchmarks/boot.py "$@"
