#!/usr/bin/env python3
"""A/B: two builds of Lockstep on the same guest programs, interleaved, on this machine.

This shared machine's speed drifts by 20% or more within an hour, so figures from different
runs of cpu.sh do not compare. Here the two binaries alternate (A, B, A, B, ...) and each run's
user CPU time is taken from the kernel (wait4), so a drift hits both about equally. For each
program: the instructions (from `--stats`), min and median user seconds of each build, the
change of B against A (min and median), and B's guest MIPS at its min. The CPU steal the
hypervisor reported during all the runs (/proc/stat) is printed at the end: when it is more
than a few percent of the time, run again.

    benchmarks/ab.py A_BINARY B_BINARY [--rounds N] [program ...]

Build A from another worktree, e.g. `git worktree add /tmp/a COMMIT && cd /tmp/a &&
swift build -c release --product lockstep`, and B here (`swift build -c release --product lockstep`).
"""
import argparse, os, re, statistics, subprocess, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cpu import cpu_ticks, guest  # noqa: E402


def user_seconds(command):
    """Runs `command` and returns (user CPU seconds, stderr)."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    stderr = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"{' '.join(command)} failed ({os.waitstatus_to_exitcode(status)}): {stderr.decode()[-400:]}")
    return usage.ru_utime, stderr


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("a", help="the baseline lockstep binary")
    parser.add_argument("b", help="the lockstep binary under test")
    parser.add_argument("--rounds", type=int, default=5, help="runs of each binary per program")
    parser.add_argument("programs", nargs="*", default=["bench", "loop-alu", "loop-ldst", "loop-branch"])
    args = parser.parse_intermixed_args()
    for binary in (args.a, args.b):
        if not os.access(binary, os.X_OK):
            sys.exit(f"{binary} is not an executable: build it first (see --help)")

    steal0, total0 = cpu_ticks()
    print(f"{'program':<12} {'instructions':>14} {'A min':>7} {'A med':>7} {'B min':>7} {'B med':>7} "
          f"{'change min':>10} {'change med':>10} {'B MIPS':>7}")
    for name in args.programs:
        times = {args.a: [], args.b: []}
        count = None
        for _ in range(args.rounds):
            for binary in (args.a, args.b):
                seconds, stderr = user_seconds([binary, "run", "--elf", guest(name), "--stats"])
                times[binary].append(seconds)
                match = re.search(rb"lockstep: (\d+) instructions", stderr)
                if not match:
                    sys.exit(f"no instruction count from {binary} for {name}")
                if count is not None and int(match.group(1)) != count:
                    sys.exit(f"{name}: the two builds retired different instruction counts")
                count = int(match.group(1))
        a, b = times[args.a], times[args.b]
        print(f"{name:<12} {count:>14,} {min(a):>7.2f} {statistics.median(a):>7.2f} {min(b):>7.2f} "
              f"{statistics.median(b):>7.2f} {(min(b) / min(a) - 1) * 100:>+9.0f}% "
              f"{(statistics.median(b) / statistics.median(a) - 1) * 100:>+9.0f}% {count / min(b) / 1e6:>7.0f}")
    steal1, total1 = cpu_ticks()
    print(f"CPU steal during the runs: {(steal1 - steal0) / max(total1 - total0, 1) * 100:.1f}% of all CPU time")


if __name__ == "__main__":
    main()
