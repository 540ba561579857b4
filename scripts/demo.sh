#!/usr/bin/env bash
# The main job on its default: install what is missing, build the default Linux guest and
# Lockstep, and boot the guest to a busybox shell on this terminal (`lockstep run` with no
# arguments). Ctrl-A X quits, or type `poweroff -f` in the guest.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/install-deps.sh
guests/build.sh
guests/linux/build.sh >/dev/null
swift build -c release --product lockstep 2>&1 | grep -vE '^\[|^Building|^Compiling|^Write' || true
echo "== lockstep run   (Ctrl-A X quits)"
exec "$root/.build/release/lockstep" run "$@"
