#!/usr/bin/env bash
# Runs one bare-metal guest on QEMU's `virt` machine and exits with the
# guest's exit code (from the SiFive test device).
#   usage: guests/run-qemu.sh guests/out/hello.elf
# Set QEMU_TIMEOUT=SECONDS to kill runaway guests (exit code 124).
# htif-hello cannot run here: QEMU virt has no HTIF.
set -euo pipefail

if (($# != 1)); then
    echo "usage: $0 ELF" >&2
    exit 2
fi

if ! command -v qemu-system-riscv64 >/dev/null 2>&1; then
    sudo=()
    [[ "$(id -u)" == 0 ]] || sudo=(sudo)
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq >/dev/null
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends qemu-system-misc >/dev/null
fi

cmd=(qemu-system-riscv64 -M virt -bios none -nographic -monitor none
     -serial stdio -kernel "$1")
if [[ -n "${QEMU_TIMEOUT:-}" ]]; then
    cmd=(timeout "$QEMU_TIMEOUT" "${cmd[@]}")
fi
set +e
"${cmd[@]}" </dev/null
rc=$?
set -e
exit "$rc"
