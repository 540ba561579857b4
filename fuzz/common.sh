# Shared by the fuzz/<Name>/run.sh scripts (sourced, not run).
#
# lockstep_fuzz_modules NAME...  builds the named library modules of Sources/ (and what they
# import) with plain swiftc into $FUZZ_MODULES (default /tmp/lockstep-fuzz-modules/<a hash of this
# clone's path>, so that two clones never share modules), once, and again only when a source file
# is newer than the build. ELF, Machine and Replay are instrumented
# (-sanitize=fuzzer,address) so that libFuzzer sees their coverage; RISCV and CRISCVFloat, which
# only the snapshot target's restored machine runs, are plain -O to keep the build short.
# Afterwards FUZZ_MODULE_FLAGS holds the swiftc flags that import and link them.

lockstep_fuzz_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
lockstep_fuzz_mods="${FUZZ_MODULES:-/tmp/lockstep-fuzz-modules/$(printf '%s' "$lockstep_fuzz_root" | sha256sum | cut -c1-12)}"
FUZZ_MODULE_FLAGS=()
_lockstep_import=()
_lockstep_link=()

# _lockstep_stale OUTPUT DIR: true when OUTPUT is missing or older than a file of DIR.
_lockstep_stale() {
    [[ ! -f "$1" ]] || [[ -n "$(find "$2" -newer "$1" -type f -print -quit)" ]]
}

_lockstep_c_module() {   # CRISCVFloat
    local src="$lockstep_fuzz_root/Sources/CRISCVFloat" out="$lockstep_fuzz_mods/CRISCVFloat"
    mkdir -p "$out"
    if _lockstep_stale "$out/libCRISCVFloat.a" "$src"; then
        echo "== building module CRISCVFloat (clang -O2)"
        cat >"$out/module.modulemap" <<MAP
module CRISCVFloat {
    header "$src/include/CRISCVFloat.h"
    export *
}
MAP
        rm -f "$out"/*.o "$out/libCRISCVFloat.a"
        for c in "$src"/*.c; do
            clang -O2 -g -I "$src/include" -c "$c" -o "$out/$(basename "$c" .c).o"
        done
        ar rcs "$out/libCRISCVFloat.a" "$out"/*.o
    fi
    _lockstep_import+=(-Xcc -fmodule-map-file="$out/module.modulemap")
    _lockstep_link+=("$out/libCRISCVFloat.a")
}

# _lockstep_swift_module NAME instrumented|plain
_lockstep_swift_module() {
    local name="$1" mode="$2" src="$lockstep_fuzz_root/Sources/$1" out="$lockstep_fuzz_mods/$1"
    mkdir -p "$out"
    local sanitize=()
    [[ "$mode" == instrumented ]] && sanitize=(-sanitize=fuzzer,address)
    if _lockstep_stale "$out/$name.o" "$src" || [[ "$(cat "$out/mode" 2>/dev/null)" != "$mode" ]]; then
        echo "== building module $name (swiftc -O ${sanitize[*]})"
        rm -f "$out/$name.o"
        swiftc -parse-as-library -O -g -wmo -enable-testing "${sanitize[@]}" \
            -module-name "$name" -I "$lockstep_fuzz_mods" \
            -emit-module -emit-module-path "$lockstep_fuzz_mods/$name.swiftmodule" \
            "${_lockstep_import[@]}" \
            -c "$src"/*.swift -o "$out/$name.o"
        echo "$mode" >"$out/mode"
    fi
    _lockstep_link+=("$out/$name.o")
}

lockstep_fuzz_modules() {
    mkdir -p "$lockstep_fuzz_mods"
    _lockstep_import=(-I "$lockstep_fuzz_mods")
    _lockstep_link=()
    local want=" $* "
    if [[ "$want" == *" Machine "* || "$want" == *" Replay "* ]]; then
        _lockstep_c_module
        _lockstep_swift_module RISCV plain
        _lockstep_swift_module ELF instrumented
        _lockstep_swift_module Machine instrumented
    fi
    if [[ "$want" == *" Replay "* ]]; then
        _lockstep_swift_module Replay instrumented
    fi
    FUZZ_MODULE_FLAGS=("${_lockstep_import[@]}" "${_lockstep_link[@]}")
}

# lockstep_fuzz_build OUTPUT SOURCE...: compiles a harness (with fuzz/FuzzSupport.swift) against
# the modules of the last lockstep_fuzz_modules call.
lockstep_fuzz_build() {
    local output="$1"
    shift
    echo "== building $output (swiftc -sanitize=fuzzer,address)"
    mkdir -p "$(dirname "$output")"
    # lld ships with the Swift toolchain and, unlike gold, does not warn about every ASan helper.
    swiftc -sanitize=fuzzer,address -parse-as-library -O -g -use-ld=lld \
        -module-name "$(basename "$output" | tr -dc 'A-Za-z')Harness" \
        "$@" "$lockstep_fuzz_root/fuzz/FuzzSupport.swift" \
        "${FUZZ_MODULE_FLAGS[@]}" \
        -o "$output"
}

# lockstep_fuzz_run BINARY TARGET_DIR DICT SECONDS|check [libFuzzer flags...]
#
# Writes the seed corpus into TARGET_DIR/corpus (the harness makes it with the real encoders), then
# either fuzzes for SECONDS, new inputs going to $work/corpus (work = dirname of BINARY), or with
# `check` runs every input of the corpus and of TARGET_DIR/regressions once (-runs=0) and stops.
# libFuzzer's exit status (non-zero on a finding) is the function's.
lockstep_fuzz_run() {
    local binary="$1" target="$2" dict="$3" seconds="$4"
    shift 4
    local work
    work="$(dirname "$binary")"
    mkdir -p "$work/corpus" "$work/artifacts" "$target/corpus" "$target/regressions"
    echo "== writing the seed corpus to $target/corpus"
    LOCKSTEP_FUZZ_WRITE_SEEDS="$target/corpus" "$binary"
    cd "$work"
    if [[ "$seconds" == check ]]; then
        echo "== running the corpus and the regressions once"
        "$binary" -runs=0 -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$work/artifacts/" \
            "$target/corpus" "$target/regressions" "$@"
        return
    fi
    local parallel=()
    if [[ "${JOBS:-1}" -gt 1 ]]; then
        parallel=(-jobs="$JOBS" -workers="$JOBS")   # output goes to $work/fuzz-<n>.log
    fi
    echo "== fuzzing for ${seconds}s (corpus $work/corpus, artifacts $work/artifacts)"
    # New inputs go to the first directory; the seeds and past findings (regressions/) are read only.
    "$binary" "$work/corpus" "$target/corpus" "$target/regressions" \
        -dict="$dict" \
        -max_total_time="$seconds" \
        -max_len="${FUZZ_MAX_LEN:-65536}" \
        -timeout=10 \
        -rss_limit_mb=2048 \
        -print_final_stats=1 \
        "${parallel[@]}" \
        -artifact_prefix="$work/artifacts/" \
        "$@"
}
