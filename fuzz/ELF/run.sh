#!/usr/bin/env bash
# Builds the ELF parser's libFuzzer harness and fuzzes it for N seconds (default 60).
#
#   fuzz/ELF/run.sh [seconds|check] [extra libFuzzer flags...]
#
# `check` runs the seeds and regressions/ once (-runs=0) instead of fuzzing.
# Inputs in fuzz/ELF/regressions/ (past findings) are always part of the corpus.
# Environment: FUZZ_WORK (default /tmp/lockstep-fuzz-elf) holds the binary, the corpus, and any
# crash-*/timeout-*/oom-* reproducers; JOBS (default 1) runs that many fuzzing processes.
# Reproduce a finding with: $FUZZ_WORK/fuzz-elf $FUZZ_WORK/artifacts/crash-<hash>
set -euo pipefail

seconds="${1:-60}"
shift || true
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
work="${FUZZ_WORK:-/tmp/lockstep-fuzz-elf}"
corpus="$work/corpus"
seeds="$work/seeds"
artifacts="$work/artifacts"
mkdir -p "$corpus" "$seeds" "$artifacts"

echo "== building $work/fuzz-elf (swiftc -sanitize=fuzzer,address)"
# lld ships with the Swift toolchain and, unlike gold, does not warn about every ASan helper.
swiftc -sanitize=fuzzer,address -parse-as-library -O -g -use-ld=lld \
    -module-name ELFFuzz \
    "$here/FuzzELF.swift" "$root"/Sources/ELF/*.swift \
    -o "$work/fuzz-elf"

echo "== generating the seed corpus in $seeds"
if command -v riscv64-linux-gnu-gcc >/dev/null; then
    src="$seeds/src"
    mkdir -p "$src"
    cat >"$src/program.c" <<'C'
volatile unsigned long counter = 42;
unsigned long scratch[64];
static unsigned long hidden_total;
__attribute__((weak)) unsigned long tunable = 3;
static void accumulate(unsigned long x) { hidden_total += x; }
void helper(void) { scratch[0] = counter; accumulate(counter + tunable); }
void _start(void) { helper(); for (;;) {} }
C
    flags=(-march=rv64gc -mabi=lp64d -mcmodel=medany -nostdlib -static -fno-pie -no-pie
           -Wl,--build-id=none -Wl,-Ttext=0x80000000)
    riscv64-linux-gnu-gcc "${flags[@]}" -O1 -o "$seeds/program.elf" "$src/program.c"
    riscv64-linux-gnu-gcc "${flags[@]}" -O0 -g -o "$seeds/program-debug.elf" "$src/program.c"
    riscv64-linux-gnu-gcc "${flags[@]}" -Os -Wl,-z,max-page-size=16 -o "$seeds/program-small.elf" "$src/program.c"
    riscv64-linux-gnu-strip -o "$seeds/program-stripped.elf" "$seeds/program.elf"
    riscv64-linux-gnu-gcc -march=rv64gc -mabi=lp64d -nostdlib -fpie -pie -o "$seeds/program-pie.elf" "$src/program.c"
    rm -rf "$src"
else
    echo "warning: riscv64-linux-gnu-gcc not found (apt-get install gcc-riscv64-linux-gnu);" \
         "seeding with host files only" >&2
fi
cp /bin/true "$seeds/host-true.elf" 2>/dev/null || true
printf '\177ELF' >"$seeds/magic-only"
# Truncated copies at the ELF header, program header and section header boundaries.
if [[ -f "$seeds/program.elf" ]]; then
    head -c 64 "$seeds/program.elf" >"$seeds/header-only"
    head -c 120 "$seeds/program.elf" >"$seeds/one-phdr"
fi

# A dictionary of ELF tokens helps the fuzzer reach the deeper checks.
cat >"$work/elf.dict" <<'DICT'
magic="\x7fELF"
ident64le="\x7fELF\x02\x01\x01"
em_riscv="\xf3\x00"
et_exec="\x02\x00"
et_dyn="\x03\x00"
pt_load="\x01\x00\x00\x00"
pt_interp="\x03\x00\x00\x00"
sht_symtab="\x02\x00\x00\x00"
sht_strtab="\x03\x00\x00\x00"
phentsize="\x38\x00"
shentsize="\x40\x00"
pn_xnum="\xff\xff"
max64="\xff\xff\xff\xff\xff\xff\xff\xff"
start="_start\x00"
DICT

if [[ "$seconds" == check ]]; then
    echo "== running the seeds and the regressions once"
    cd "$work"
    exec "$work/fuzz-elf" -runs=0 -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$artifacts/" \
        "$seeds" "$here/regressions" "$@"
fi

parallel=()
if [[ "${JOBS:-1}" -gt 1 ]]; then
    parallel=(-jobs="$JOBS" -workers="$JOBS")   # output goes to $work/fuzz-<n>.log
fi

echo "== fuzzing for ${seconds}s (corpus $corpus, artifacts $artifacts)"
cd "$work"
# New inputs go to the first directory; the seeds and past findings (regressions/) are read only.
"$work/fuzz-elf" "$corpus" "$seeds" "$here/regressions" \
    -dict="$work/elf.dict" \
    -max_total_time="$seconds" \
    -max_len=65536 \
    -timeout=10 \
    -rss_limit_mb=2048 \
    -print_final_stats=1 \
    "${parallel[@]}" \
    -artifact_prefix="$artifacts/" \
    "$@"
