#!/usr/bin/env bash
# Builds every bare-metal guest into guests/out/NAME.elf.
# Installs Debian's RISC-V cross compiler (gcc-riscv64-linux-gnu) if missing.
# On success prints a single summary line; otherwise only errors.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

need_pkgs=()
command -v riscv64-linux-gnu-gcc >/dev/null 2>&1 || need_pkgs+=(gcc-riscv64-linux-gnu)
command -v make >/dev/null 2>&1 || need_pkgs+=(make)
if ((${#need_pkgs[@]})); then
    sudo=()
    [[ "$(id -u)" == 0 ]] || sudo=(sudo)
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq >/dev/null
    "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi

mkdir -p "$here/out"
stamp="$(mktemp)"
trap 'rm -f "$stamp"' EXIT
touch "$stamp"

jobs="$(nproc 2>/dev/null || echo 2)"
make -s --no-print-directory -C "$here" -j"$jobs" all

total=$(find "$here/out" -maxdepth 1 -name '*.elf' | wc -l)
rebuilt=$(find "$here/out" -maxdepth 1 -name '*.elf' -newer "$stamp" | wc -l)
echo "guests: $total ELFs in guests/out ($rebuilt rebuilt)"
