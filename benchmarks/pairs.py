#!/usr/bin/env python3
"""Which instruction pairs to fuse next: a dispatch profile of a guest program.

Runs `lockstep run --trace` on a guest for N instructions and replays the trace under the fusion
rules of Sources/RISCV/Fusion.swift (approximated by mnemonic), then prints the dispatches per
guest instruction, the most frequent dispatches and the most frequent pairs of consecutive
dispatches: the latter are the candidates for new fused pairs.

    benchmarks/pairs.py [--instructions N] [--skip M] PROGRAM     (e.g. bench, loop-ldst)

Needs a release build (`swift build -c release --product lockstep`) and guests/out/PROGRAM.elf.
Keep the rules below in step with Fusion.swift when pairs are added.
"""
import argparse, collections, os, subprocess, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cpu import LOCKSTEP, guest  # noqa: E402

ADD = {"add", "c.add", "addi", "c.addi", "c.mv", "c.li", "lui", "c.lui", "mv", "li"}
ADDW = {"addw", "c.addw", "addiw", "c.addiw", "sext.w"}
FIRST = ADD | ADDW | {"and", "c.and", "andi", "c.andi", "sub", "c.sub", "slliw", "srli", "c.srli",
                      "lw", "c.lw", "ld", "c.ld", "lbu"}
BRANCH = {"beq", "bne", "blt", "bge", "bltu", "bgeu", "c.beqz", "c.bnez", "beqz", "bnez", "bltz", "bgez",
          "blez", "bgtz", "bgt", "ble", "bgtu", "bleu"}
SKIPPED = {"add", "c.add", "addi", "c.addi", "c.mv", "c.li", "mv", "li", "xor", "c.xor", "xori", "not"}
MEMORY = {"ld": "ld", "c.ld": "ld", "lw": "lw", "c.lw": "lw", "sd": "sd", "c.sd": "sd"}


def base_register(operands):
    inside = operands.split("(")
    return inside[1].rstrip(")") if len(inside) > 1 else None


def target(operands):
    try:
        return int(operands.split(",")[-1], 16)
    except ValueError:
        return None


def fuses(a, b, pc, length):
    (m, _, ops), (bm, blen, bops) = a, b
    if m in FIRST and bm in BRANCH:
        return True
    if m in BRANCH and target(ops) == pc + length + blen and bm in SKIPPED:
        return True
    if m in ("srli", "c.srli") and bm == "slliw":
        return True
    if m in ("slli", "c.slli") and bm in ("addiw", "c.addiw", "addw", "c.addw", "sext.w"):
        return True
    if m in MEMORY and MEMORY[m] == MEMORY.get(bm) and base_register(ops) == base_register(bops):
        return MEMORY[m] == "sd" or ops.split(",")[0] != base_register(ops)
    return False


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("program")
    parser.add_argument("--instructions", type=int, default=5_000_000, help="instructions to trace")
    parser.add_argument("--skip", type=int, default=0, help="leading trace lines to ignore (start-up)")
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    binary, elf = LOCKSTEP, guest(args.program)
    result = subprocess.run([binary, "run", "--elf", elf, "--trace", "--max-instructions", str(args.instructions)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    trace, static = [], {}
    for line in result.stderr.splitlines()[args.skip:]:
        parts = line.split(None, 3)
        if len(parts) < 3 or not parts[0].endswith(":"):
            continue
        try:
            pc = int(parts[0][:-1], 16)
        except ValueError:
            continue
        length = 2 if len(parts[1]) == 4 else 4
        ops = parts[3].strip() if len(parts) > 3 else ""
        trace.append((pc, parts[2], length, ops))
        static[pc] = (parts[2], length, ops)
    if not trace:
        sys.exit(f"no trace from {binary}: {result.stderr[-300:]}")
    dispatches, i = [], 0
    while i < len(trace):
        pc, m, length, ops = trace[i]
        b = static.get(pc + length)
        if b and fuses((m, length, ops), b, pc, length):
            dispatches.append(m + "+" + b[0])
            i += 2 if i + 1 < len(trace) and trace[i + 1][0] == pc + length else 1
        else:
            dispatches.append(m)
            i += 1
    print(f"{len(trace):,} instructions, {len(dispatches):,} dispatches ({len(dispatches) / len(trace):.3f} per instruction)")
    print("most frequent dispatches:")
    for name, count in collections.Counter(dispatches).most_common(args.top):
        print(f"  {count / len(dispatches) * 100:6.2f}%  {name}")
    print("most frequent consecutive dispatches (candidates for fusion):")
    for (a, b), count in collections.Counter(zip(dispatches, dispatches[1:])).most_common(args.top):
        print(f"  {count / len(dispatches) * 100:6.2f}%  {a} ; {b}")


if __name__ == "__main__":
    main()
