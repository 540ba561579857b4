#!/usr/bin/env python3
"""Linux boot time of Lockstep and QEMU side by side: the same kernel and initramfs (the default
guest from guests/linux/build.sh), from process start to the busybox shell prompt.

Each emulator is started with the console on pipes; the clock stops when the prompt appears,
then the guest is powered off. Lockstep reports the instructions it retired (`--stats`); its
guest MIPS during boot is that count over its boot time. QEMU does not count instructions, so
its MIPS is estimated with Lockstep's count (same kernel, same init: the same work up to the
prompt, give or take idle loops, and not counting OpenSBI, which QEMU runs first).
QEMU boots twice: plain TCG, and in its deterministic mode (`-icount shift=0,sleep=off`).
Lockstep boots on the interpreter and on the translator (`--engine jit`, issue 17), and a third
way, on the interpreter recording its inputs (`--record`, issue 4), to show what
recording costs during a boot; the log is replayed once afterwards to check it.
Each figure is the best of --repeat runs.
"""
import argparse, os, re, select, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOCKSTEP = os.environ.get("LOCKSTEP_BINARY") or os.path.join(ROOT, ".build", "release", "lockstep")
PROMPT = b"~ # "


def image_dir():
    cache = os.environ.get("LOCKSTEP_CACHE") or os.path.join(os.environ.get("HOME", "/root"), ".cache", "lockstep")
    return os.path.join(cache, "linux", "current")


def boot(command, timeout):
    """Starts `command`, returns (seconds to the prompt, everything printed)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = b""
    prompt_at = None
    while time.perf_counter() - start < timeout:
        ready, _, _ = select.select([process.stdout], [], [], 0.5)
        if not ready:
            continue
        chunk = os.read(process.stdout.fileno(), 65536)
        if not chunk:
            break
        output += chunk
        if prompt_at is None and PROMPT in output:
            prompt_at = time.perf_counter() - start
            process.stdin.write(b"poweroff -f\n")
            process.stdin.flush()
    try:
        rest, _ = process.communicate(timeout=60)
        output += rest
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
    if prompt_at is None:
        sys.exit(f"{' '.join(command)}: no prompt within {timeout} s; last output:\n{output[-2000:].decode(errors='replace')}")
    return prompt_at, output.decode(errors="replace")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeat", type=int, default=3, help="boots per emulator (best is kept)")
    parser.add_argument("--timeout", type=float, default=600)
    args = parser.parse_args()
    images = image_dir()
    kernel, initrd = os.path.join(images, "Image"), os.path.join(images, "initramfs.cpio.gz")
    lockstep_cmd = [LOCKSTEP, "run", "--engine", "interpreter", "--stats"]
    jit_cmd = [LOCKSTEP, "run", "--engine", "jit", "--stats"]
    qemu_cmd = ["qemu-system-riscv64", "-M", "virt", "-m", "128M", "-smp", "1", "-nographic", "-bios", "default",
                "-kernel", kernel, "-initrd", initrd, "-append", "console=ttyS0"]

    # QEMU's deterministic mode: exact instruction counting, one instruction per virtual ns.
    icount_cmd = qemu_cmd[:1] + ["-icount", "shift=0,sleep=off"] + qemu_cmd[1:]

    log_dir = tempfile.mkdtemp(prefix="lockstep-boot-")
    log_path = os.path.join(log_dir, "boot.log")
    recording_cmd = lockstep_cmd + ["--record", log_path]

    lockstep_runs, jit_runs, recording_runs, qemu_runs, icount_runs = [], [], [], [], []
    instructions = None
    jit_instructions = None
    jit_line = None
    for _ in range(args.repeat):
        seconds, output = boot(lockstep_cmd, args.timeout)
        lockstep_runs.append(seconds)
        jit_seconds, jit_output = boot(jit_cmd, args.timeout)
        jit_runs.append(jit_seconds)
        jit_match = re.search(r"lockstep: (\d+) instructions in ([0-9.]+) s", jit_output)
        jit_stats = re.search(r"lockstep: jit: .*", jit_output)
        if jit_stats:
            jit_line = jit_stats.group(0)
        if jit_match:
            jit_total = int(jit_match.group(1))
            jit_instructions = jit_total if jit_instructions is None else min(jit_instructions, jit_total)
        recording_runs.append(boot(recording_cmd, args.timeout)[0])
        match = re.search(r"lockstep: (\d+) instructions in ([0-9.]+) s", output)
        if match:
            total = int(match.group(1))
            # Instructions to the prompt: the total minus what poweroff took is not separable; the
            # run ends right after the prompt, so the total is used (an upper bound, < 1% over).
            instructions = total if instructions is None else min(instructions, total)
        qemu_runs.append(boot(qemu_cmd, args.timeout)[0])
        icount_runs.append(boot(icount_cmd, args.timeout)[0])

    replay = subprocess.run([LOCKSTEP, "replay", "--quiet", log_path], capture_output=True, text=True)
    if replay.returncode != 0:
        sys.exit(f"the recorded boot does not replay: {replay.stdout}{replay.stderr}")
    log_bytes = os.path.getsize(log_path)
    os.remove(log_path)
    os.rmdir(log_dir)

    lockstep_best, recording_best, qemu_best, icount_best = min(lockstep_runs), min(recording_runs), min(qemu_runs), min(icount_runs)
    jit_best = min(jit_runs)
    print(f"images: {images}")
    print(f"{'emulator':<20} {'boot to prompt (s)':>20} {'guest MIPS':>12}")
    lockstep_mips = instructions / lockstep_best / 1e6 if instructions else float("nan")
    qemu_mips = instructions / qemu_best / 1e6 if instructions else float("nan")
    print(f"{'Lockstep':<20} {lockstep_best:>20.2f} {lockstep_mips:>12.0f}")
    jit_mips = jit_instructions / jit_best / 1e6 if jit_instructions else float("nan")
    print(f"{'Lockstep, JIT':<20} {jit_best:>20.2f} {jit_mips:>12.0f}")
    recording_mips = instructions / recording_best / 1e6 if instructions else float("nan")
    print(f"{'Lockstep, recording':<20} {recording_best:>20.2f} {recording_mips:>12.0f}")
    print(f"{'QEMU':<20} {qemu_best:>20.2f} {qemu_mips:>11.0f}*")
    icount_mips = instructions / icount_best / 1e6 if instructions else float("nan")
    print(f"{'QEMU -icount':<20} {icount_best:>20.2f} {icount_mips:>11.0f}*")
    print(f"instructions to the prompt (Lockstep, exact): {instructions}; with the JIT: {jit_instructions}")
    if jit_line:
        print(f"the translator during the last JIT boot (to the prompt and poweroff): {jit_line[len('lockstep: jit: '):]}")
    print(f"recording: {recording_best / lockstep_best - 1:+.1%} boot time, log {log_bytes} bytes (replayed: ok)")
    print(f"ratio Lockstep/QEMU boot time: {lockstep_best / qemu_best:.2f}; Lockstep/QEMU -icount: {lockstep_best / icount_best:.2f}")
    print(f"ratio JIT/QEMU boot time: {jit_best / qemu_best:.2f}; JIT/QEMU -icount: {jit_best / icount_best:.2f}")
    print("* estimated with Lockstep's instruction count")


if __name__ == "__main__":
    main()
