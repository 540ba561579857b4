#!/usr/bin/env python3
"""CPU speed of Lockstep and QEMU side by side, on the same guest programs in one run.

For each program Lockstep (interpreter, then `--engine jit`) and QEMU run the same ELF to completion. The program is deterministic, so
both retire the same instructions; the count comes from Lockstep (`--stats`), which counts exactly.
Each wall time has the emulator's start-up and shut-down cost removed: the time to run
guests/out/hello.elf (about 200 instructions) on the same emulator is subtracted.
Guest MIPS = instructions / (wall time - start-up). QEMU runs twice: plain TCG, and in its
deterministic mode (`-icount shift=0,sleep=off`, exact instruction counting as Lockstep does). Each figure is the best of --repeat runs.
The CPU steal the hypervisor reported during the runs is printed last: this machine is shared,
and with more than a few percent of steal the figures are low. To compare two builds of
Lockstep, use benchmarks/ab.py, which interleaves them.
"""
import argparse, os, re, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOCKSTEP = os.environ.get("LOCKSTEP_BINARY") or os.path.join(ROOT, ".build", "release", "lockstep")
QEMU_BASE = ["qemu-system-riscv64", "-M", "virt", "-bios", "none", "-nographic", "-monitor", "none", "-serial", "stdio"]
QEMU = QEMU_BASE + ["-kernel"]
# QEMU's deterministic mode: one instruction per virtual nanosecond, no sleeping (docs/devel/tcg-icount.rst).
QEMU_ICOUNT = QEMU_BASE + ["-icount", "shift=0,sleep=off", "-kernel"]


def guest(name):
    return os.path.join(ROOT, "guests", "out", name + ".elf")


def timed(command):
    start = time.perf_counter()
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"{' '.join(command)} failed with {result.returncode}: {result.stderr.decode()[-500:]}")
    return elapsed, result


def best(command, repeat):
    runs = [timed(command) for _ in range(repeat)]
    return min(r[0] for r in runs), runs[0][1]


def cpu_ticks():
    """(steal, total) clock ticks of all CPUs since boot, from /proc/stat."""
    with open("/proc/stat") as f:
        fields = [int(v) for v in f.readline().split()[1:]]
    return (fields[7] if len(fields) > 7 else 0), sum(fields[:8])


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="runs per program and emulator (best is kept)")
    parser.add_argument("programs", nargs="*", default=["bench", "loop-alu", "loop-ldst", "loop-branch", "loop-crc"])
    args = parser.parse_args()

    steal0, total0 = cpu_ticks()
    lockstep_startup, _ = best([LOCKSTEP, "run", "--engine", "interpreter", "--elf", guest("hello")], args.repeat)
    jit_startup, _ = best([LOCKSTEP, "run", "--engine", "jit", "--elf", guest("hello")], args.repeat)
    qemu_startup, _ = best(QEMU + [guest("hello")], args.repeat)
    icount_startup, _ = best(QEMU_ICOUNT + [guest("hello")], args.repeat)
    print(f"start-up: lockstep {lockstep_startup * 1000:.0f} ms, with --engine jit {jit_startup * 1000:.0f} ms, "
          f"qemu {qemu_startup * 1000:.0f} ms, qemu -icount {icount_startup * 1000:.0f} ms (subtracted)")
    print(f"{'program':<12} {'instructions':>14} {'interp MIPS':>12} {'jit MIPS':>9} {'qemu MIPS':>10} {'icount MIPS':>12} "
          f"{'jit/interp':>11} {'jit/qemu':>9} {'jit/icount':>11}")
    translator = []
    for name in args.programs:
        seconds, result = best([LOCKSTEP, "run", "--engine", "interpreter", "--elf", guest(name), "--stats"], args.repeat)
        match = re.search(rb"lockstep: (\d+) instructions", result.stderr)
        if not match:
            sys.exit(f"no instruction count from lockstep for {name}")
        count = int(match.group(1))
        jit_seconds, jit_result = best([LOCKSTEP, "run", "--engine", "jit", "--elf", guest(name), "--stats"], args.repeat)
        jit_match = re.search(rb"lockstep: (\d+) instructions", jit_result.stderr)
        if not jit_match or int(jit_match.group(1)) != count:
            sys.exit(f"the JIT retired {jit_match and int(jit_match.group(1))} instructions of {name}, the interpreter {count}")
        jit_stats = re.search(rb"lockstep: jit: (.*)", jit_result.stderr)
        if jit_stats:
            translator.append((name, jit_stats.group(1).decode()))
        qemu_seconds, _ = best(QEMU + [guest(name)], args.repeat)
        icount_seconds, _ = best(QEMU_ICOUNT + [guest(name)], args.repeat)
        ours = count / max(seconds - lockstep_startup, 1e-9) / 1e6
        jit = count / max(jit_seconds - jit_startup, 1e-9) / 1e6
        theirs = count / max(qemu_seconds - qemu_startup, 1e-9) / 1e6
        exact = count / max(icount_seconds - icount_startup, 1e-9) / 1e6
        print(f"{name:<12} {count:>14,} {ours:>12.0f} {jit:>9.0f} {theirs:>10.0f} {exact:>12.0f} "
              f"{jit / ours:>11.2f} {jit / theirs:>9.3f} {jit / exact:>11.3f}")
    print("the translator, per program (--stats of the first JIT run):")
    for name, line in translator:
        print(f"  {name}: {line}")
    steal1, total1 = cpu_ticks()
    print(f"CPU steal during the runs: {(steal1 - steal0) / max(total1 - total0, 1) * 100:.1f}% of all CPU time")


if __name__ == "__main__":
    main()
