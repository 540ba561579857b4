#!/usr/bin/env python3
"""Mirrored disks (issue 15), all in one run on this machine:

1. Disk write throughput and fsync latency inside the guest (guests/linux/diskbench.c on an ext4
   filesystem on the disk), on Lockstep unreplicated (`lockstep run`), replicated with
   `--disk-sync primary` and with `--disk-sync both` (two `lockstep node`s and the arbiter on
   this machine), and on QEMU (same kernel, initramfs and image, virtio-blk, its default cache).
2. Re-protection: a new backup joins a running guest (128 and 256 MiB of memory, a 1 GiB ext4
   disk), idle and under a write load: the time until the backup follows, the guest's pause at
   the final step, and the bytes on the wire.
3. Resync after a short absence against a full copy: the backup is killed, the guest writes,
   the backup comes back with its disk.

Every figure comes from the programs' own output (diskbench's lines, the nodes' logs).
"""
import argparse, os, re, select, shutil, signal, socket, subprocess, sys, tempfile, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LOCKSTEP = os.environ.get("LOCKSTEP_BINARY") or os.path.join(ROOT, ".build", "release", "lockstep")
PROMPT = b"~ # "
APPEND = "console=ttyS0 quiet lockstep.data=/dev/vda"


def make_image(path, mib):
    with open(path, "wb") as f:
        f.truncate(mib << 20)
    subprocess.run(["mkfs.ext4", "-q", "-F", path], check=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PipeConsole:
    """A guest whose console is the process's standard input and output."""

    def __init__(self, command):
        self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.output = b""

    def source(self):
        return self.process.stdout

    def receive(self):
        return os.read(self.process.stdout.fileno(), 65536)

    def read_until(self, marker, timeout):
        end = time.time() + timeout
        while marker not in self.output:
            if time.time() > end:
                sys.exit(f"timeout waiting for {marker!r}; output:\n{self.output[-3000:].decode(errors='replace')}")
            ready, _, _ = select.select([self.source()], [], [], 0.5)
            if ready:
                chunk = self.receive()
                if not chunk:
                    sys.exit(f"the guest's console ended; output:\n{self.output[-3000:].decode(errors='replace')}")
                self.output += chunk
        text = self.output.decode(errors="replace")
        self.output = b""
        return text

    def send(self, line):
        self.process.stdin.write(line.encode() + b"\n")
        self.process.stdin.flush()

    def close(self):
        try:
            self.send("poweroff -f")
            self.process.wait(timeout=30)
        except Exception:
            self.process.kill()


class TCPConsole(PipeConsole):
    """A replicated guest's console: the live node's TCP port."""

    def __init__(self, port, timeout=120):
        end = time.time() + timeout
        while True:
            try:
                self.socket = socket.create_connection(("127.0.0.1", port))
                break
            except OSError:
                if time.time() > end:
                    sys.exit(f"no console on port {port}")
                time.sleep(0.2)
        self.output = b""

    def source(self):
        return self.socket

    def receive(self):
        return self.socket.recv(65536)

    def send(self, line):
        self.socket.sendall(line.encode() + b"\n")

    def close(self):
        self.socket.close()


counter = [0]


def command(console, line, timeout=600):
    """Runs `line` in the guest's shell; returns what it printed."""
    counter[0] += 1
    # The shell computes the tag, so the echo of the typed line does not match it.
    console.send(f"{line}; echo DONE$(({counter[0]} + 0))")
    return console.read_until(f"DONE{counter[0]}".encode(), timeout)


def wait_for_shell(console, timeout=300):
    """Types a probe every 2 s until the guest's shell answers it (what is typed before the shell
    starts is lost)."""
    end = time.time() + timeout
    while time.time() < end:
        counter[0] += 1
        console.send(f"echo READY$(({counter[0]} + 0))")
        try:
            console.read_until(f"READY{counter[0]}".encode(), 2)
            return
        except SystemExit:
            continue
    sys.exit("the guest's shell never answered")


def diskbench(console, write_mib, fsyncs):
    """Runs both tests; times each from here (host wall clock: the console round trip adds about
    a millisecond to seconds of work). Lockstep's guest clock follows the instruction count while
    the guest runs, and a disk request completes inside one instruction, so the guest's own
    timings (diskbench's p50/p99) say nothing about the host's disk there; they are kept as the
    guest saw them."""
    command(console, "rm -f /data/bench-write /data/bench-fsync; sync")
    started = time.perf_counter()
    out = command(console, f"diskbench write /data/bench-write {write_mib}")
    write_seconds = time.perf_counter() - started
    started = time.perf_counter()
    out += command(console, f"diskbench fsync /data/bench-fsync {fsyncs}")
    fsync_seconds = time.perf_counter() - started
    guest_fsync = re.search(r"diskbench fsync count=\d+ p50_ms=([0-9.]+) p99_ms=([0-9.]+)", out)
    if "diskbench write" not in out or not guest_fsync:
        sys.exit(f"diskbench did not report:\n{out}")
    return (write_mib * 1.048576 / write_seconds, fsync_seconds * 1000 / fsyncs, fsyncs / fsync_seconds,
            float(guest_fsync.group(1)), float(guest_fsync.group(2)))


def io_row(name, result):
    return f"{name} | {result[0]:.1f} | {result[1]:.2f} | {result[2]:.0f} | {result[3]:.3f} / {result[4]:.3f}"


class Pair:
    """An arbiter and two `lockstep node`s on loopback, with a disk each."""

    def __init__(self, work, memory, disk_sync="primary", disk_mib=256):
        os.sync()   # what earlier runs left to write back is not this pair's cost
        self.work = work
        self.key = os.path.join(work, "key")
        with open(self.key, "w") as f:
            f.write("benchmark-key-" + str(os.getpid()) + "\n")
        self.arbiter_port = free_port()
        self.lines = [[free_port(), free_port()], [free_port(), free_port()]]
        self.consoles = [free_port(), free_port()]
        self.images = [os.path.join(work, "A.img"), os.path.join(work, "B.img")]
        make_image(self.images[0], disk_mib)
        with open(self.images[1], "wb") as f:
            f.truncate(disk_mib << 20)
        self.memory, self.disk_sync = memory, disk_sync
        self.processes, self.logs = {}, {}
        self.start("arbiter", ["arbiter", "--listen", f"127.0.0.1:{self.arbiter_port}", "--state",
                               os.path.join(work, "arbiter.state"), "--key-file", self.key])
        self.wait_log("arbiter", "listening on")

    def start(self, name, arguments):
        path = os.path.join(self.work, f"{name}-{time.time_ns()}.log")
        self.logs[name] = path
        self.processes[name] = subprocess.Popen([LOCKSTEP] + arguments, stdout=subprocess.DEVNULL, stderr=open(path, "w"))

    def log(self, name):
        with open(self.logs[name]) as f:
            return f.read()

    def wait_log(self, name, text, timeout=300):
        end = time.time() + timeout
        while text not in self.log(name):
            if time.time() > end or self.processes[name].poll() is not None:
                sys.exit(f"{name}: no '{text}'; log:\n{self.log(name)[-3000:]}")
            time.sleep(0.05)

    def node(self, index, extra=()):
        name = "AB"[index]
        arguments = ["node", "--vm", "bench", "--node-id", name, "--key-file", self.key, "--arbiter", f"127.0.0.1:{self.arbiter_port}",
                     "--console", f"127.0.0.1:{self.consoles[index]}", "--disk", self.images[index], "--disk-sync", self.disk_sync,
                     "--append", APPEND, "--memory", str(self.memory), "--statistics-interval", "3600"]
        for port in self.lines[index]:
            arguments += ["--listen", f"127.0.0.1:{port}"]
        for port in self.lines[1 - index]:
            arguments += ["--peer", f"127.0.0.1:{port}"]
        self.start(name, arguments + list(extra))

    def kill(self, name):
        self.processes[name].send_signal(signal.SIGKILL)
        self.processes[name].wait()

    def stop(self):
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
                process.wait()


def join_figures(log):
    """The primary's figures of the last join: pause (ms), MiB on the wire (memory, disk)."""
    pauses = re.findall(r"the guest paused (\d+) ms for the initial state", log)
    final = re.findall(r"live copy: final pause: (\d+) memory pages(?: and (\d+) disk extents in (\d+) round\(s\) \(([0-9.]+) MiB on the wire\))?; memory: (\d+) pages in (\d+) round\(s\) \(([0-9.]+) MiB on the wire\)", log)
    quick = re.findall(r"(quick|full) resync of the backup's disk: (\d+) of (\d+) extents \(([0-9.]+) MiB\)", log)
    return (int(pauses[-1]) if pauses else None, final[-1] if final else None, quick[-1] if quick else None)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", required=True, help="the default guest's directory (guests/linux/build.sh)")
    parser.add_argument("--write-mib", type=int, default=64)
    parser.add_argument("--fsyncs", type=int, default=300)
    parser.add_argument("--skip", default="", help="comma-separated sections to skip: io, reprotect, resync")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    kernel, initrd = os.path.join(args.images, "Image"), os.path.join(args.images, "initramfs.cpio.gz")
    work = tempfile.mkdtemp(prefix="lockstep-disk-bench-")
    print(f"# work directory {work}; diskbench: write {args.write_mib} MiB, {args.fsyncs} x (4 KiB write + fdatasync)")
    try:
        if "io" not in skip:
            print("\n## Guest disk I/O (host wall clock): system | write MB/s | ms per 4 KiB write + fdatasync | fdatasyncs per s | guest-clock p50 / p99 ms")
            image = os.path.join(work, "run.img")
            make_image(image, 256)
            console = PipeConsole([LOCKSTEP, "run", "--disk", image, "--memory", "256", "--kernel", kernel, "--initrd", initrd,
                                   "--append", APPEND])
            console.read_until(PROMPT, 300)
            result = diskbench(console, args.write_mib, args.fsyncs)
            console.close()
            print(io_row("lockstep run (unreplicated)", result))
            for mode in ["primary", "both"]:
                os.makedirs(os.path.join(work, f"pair-{mode}"))
                pair = Pair(os.path.join(work, f"pair-{mode}"), 256, mode)
                try:
                    pair.node(0)
                    pair.wait_log("A", "console on")
                    pair.node(1, ["--resync", "full"])
                    pair.wait_log("B", "backup of VM")
                    console = TCPConsole(pair.consoles[0])
                    wait_for_shell(console)
                    result = diskbench(console, args.write_mib, args.fsyncs)
                    console.close()
                    print(io_row(f"lockstep node pair, --disk-sync {mode}", result))
                finally:
                    pair.stop()
            image = os.path.join(work, "qemu.img")
            make_image(image, 256)
            console = PipeConsole(["qemu-system-riscv64", "-M", "virt", "-m", "256M", "-smp", "1", "-nographic", "-bios", "default",
                                   "-kernel", kernel, "-initrd", initrd, "-append", APPEND,
                                   "-drive", f"file={image},if=virtio,format=raw"])
            console.read_until(PROMPT, 300)
            result = diskbench(console, args.write_mib, args.fsyncs)
            console.close()
            print(io_row("QEMU TCG (virtio-blk, default cache)", result))

        if "reprotect" not in skip:
            print("\n## Re-protection: a new backup joins (1 GiB ext4 disk, full resync of a blank image)")
            print("memory | guest | seconds to protected | final pause ms | memory pages in the pause | memory MiB on the wire (rounds) | disk MiB on the wire (rounds)")
            for memory in [128, 256]:
                for load in [False, True]:
                    directory = os.path.join(work, f"reprotect-{memory}-{'load' if load else 'idle'}")
                    os.makedirs(directory)
                    pair = Pair(directory, memory, disk_mib=1024)
                    try:
                        pair.node(0)
                        pair.wait_log("A", "console on")
                        console = TCPConsole(pair.consoles[0])
                        wait_for_shell(console)
                        if load:
                            # Writes through the page cache to the disk, and memory, all the time.
                            console.send("(while true; do dd if=/dev/urandom of=/data/load bs=64k count=64 2>/dev/null; sync; done) &")
                            time.sleep(2)
                        os.sync()   # earlier runs' dirty pages are not this join's to write back
                        started = time.time()
                        pair.node(1, ["--resync", "full"])
                        pair.wait_log("B", "backup of VM", 600)
                        seconds = time.time() - started
                        pause, final, _ = join_figures(pair.log("A"))
                        console.close()
                        if final:
                            pages, _, disk_rounds, disk_mib, _, ram_rounds, ram_mib = final
                            print(f"{memory} MiB | {'under load' if load else 'idle'} | {seconds:.2f} | {pause} | {pages} | {ram_mib} ({ram_rounds}) | {disk_mib} ({disk_rounds})")
                            breakdown = re.findall(r"the guest paused \d+ ms for the initial state \((.*)\)", pair.log("A"))
                            if breakdown:
                                print(f"    pause: {breakdown[-1]}")
                    finally:
                        pair.stop()

        if "resync" not in skip:
            print("\n## Resync: a backup back after a short absence, against a full copy (256 MiB disk)")
            directory = os.path.join(work, "resync")
            os.makedirs(directory)
            pair = Pair(directory, 256)
            try:
                pair.node(0)
                pair.wait_log("A", "console on")
                pair.node(1, ["--resync", "full"])
                pair.wait_log("B", "backup of VM")
                full = join_figures(pair.log("A"))
                console = TCPConsole(pair.consoles[0])
                wait_for_shell(console)
                pair.kill("B")
                command(console, "dd if=/dev/urandom of=/data/absent bs=1M count=4 2>/dev/null; sync", 300)
                pair.node(1)
                pair.wait_log("B", "backup of VM")
                quick = join_figures(pair.log("A"))
                console.close()
                for name, (pause, final, plan) in [("full copy", full), ("after 4 MiB written while away", quick)]:
                    kind, extents, total, planned_mib = plan
                    print(f"{name}: {kind} resync of {extents} of {total} extents ({planned_mib} MiB planned), {final[3]} MiB of disk on the wire; pause {pause} ms")
            finally:
                pair.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
