#!/usr/bin/env python3
"""Boots Lockstep's Linux guest on QEMU and drives its console: a smoke test.

    guests/linux/smoke-qemu.py [--dir DIR] [--boots N] [--log FILE] [--show]
    guests/linux/smoke-qemu.py --services [--dir DIR] [--requests N] [--clients C]

Boots the images from guests/linux/build.sh (or --dir) through
guests/linux/run-qemu.sh with virtio-blk (an ext4 image made here with
mkfs.ext4), virtio-net and virtio-rng, waits for the shell prompt, then checks
/proc/cpuinfo, /dev, /dev/hwrng, eth0, job control, mounting and writing the
ext4 disk, and that `poweroff -f` ends QEMU with status 0. The file the guest
wrote is read back on the host with debugfs. --boots N boots N times in all
(the later boots only wait for the prompt and power off) to measure the time
from starting QEMU to the prompt. --show prints the guest's answers and the
kernel's virtio/8250/sbi lines. Exit status 0 when every check passes.

--services checks the guest's network services instead, as a client on this
machine sees them. It boots twice with virtio-net (QEMU user networking) and
eth0 configured by the kernel (ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:off):
with lockstep.service=redis and a forwarded port to the guest's 6379, it runs
`redis-cli ping`, a SET and a GET, `redis-benchmark -n N -t set,get -q -c C`
(reporting requests per second), kills redis-server in the guest and waits for
/init to start it again; with lockstep.service=http and a forwarded port to the
guest's 80, it fetches / (the index page) and a missing page (404). redis-tools
is installed with apt-get when redis-cli or redis-benchmark is missing.
"""
import argparse
import os
import re
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
PROMPT = b"~ # "
MARKER = b"lockstep-linux: init ready"
# QEMU user networking's addresses, given to the kernel's IP autoconfiguration.
IP_ARG = "ip=10.0.2.15::10.0.2.2:255.255.255.0::eth0:off"


class Failure(Exception):
    pass


class Console:
    """A QEMU child with the guest console on a pipe; expect-style reading."""

    def __init__(self, cmd, log):
        self.log = log
        self.buf = b""
        self.pos = 0
        self.start = time.monotonic()
        self.proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT)
        self.fd = self.proc.stdout.fileno()
        self.tag = 0

    def _read(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        ready, _, _ = select.select([self.fd], [], [], remaining)
        if not ready:
            return False
        data = os.read(self.fd, 65536)
        if not data:
            raise Failure("QEMU exited (status %s)" % self.proc.wait())
        self.buf += data
        self.log.write(data)
        self.log.flush()
        return True

    def expect(self, pattern, timeout):
        """Waits for the regex (bytes) after the read position; returns the match."""
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        while True:
            m = regex.search(self.buf, self.pos)
            if m:
                self.pos = m.end()
                return m
            if not self._read(deadline):
                raise Failure("timed out after %ds waiting for %r; last output:\n%s" % (
                    timeout, pattern, self.buf[-600:].decode(errors="replace")))

    def expect_all(self, patterns, timeout):
        """Waits for every regex (bytes) after the read position, in any order; moves the
        read position past the last of them."""
        deadline = time.monotonic() + timeout
        regexes = [re.compile(p) for p in patterns]
        while True:
            matches = [r.search(self.buf, self.pos) for r in regexes]
            if all(matches):
                self.pos = max(m.end() for m in matches)
                return matches
            if not self._read(deadline):
                missing = [p for p, m in zip(patterns, matches) if not m]
                raise Failure("timed out after %ds waiting for %r; last output:\n%s" % (
                    timeout, missing, self.buf[-600:].decode(errors="replace")))

    def send(self, text):
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def run(self, command, timeout=60, check=True):
        """Runs a shell command; returns (status, output without the echoed command)."""
        self.tag += 1
        start = len(self.buf)
        self.send("%s; echo __rc%d=$?__\n" % (command, self.tag))
        m = self.expect(rb"__rc%d=(\d+)__\r?\n" % self.tag, timeout)
        status = int(m.group(1))
        self.expect(re.escape(PROMPT), timeout)
        text = self.buf[start:m.start()].decode(errors="replace").replace("\r", "")
        output = text.split("\n", 1)[1] if "\n" in text else ""
        if check and status != 0:
            raise Failure("`%s` exited %d:\n%s" % (command, status, output))
        return status, output

    def wait_exit(self, timeout):
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            try:
                self._read(min(deadline, time.monotonic() + 0.5))
            except Failure:
                break
            if time.monotonic() > deadline:
                raise Failure("QEMU still running %ds after poweroff -f" % timeout)
        return self.proc.wait()

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


def check(cond, what):
    if not cond:
        raise Failure(what)
    print("ok   %s" % what)


def make_disk(tmp):
    if shutil.which("mkfs.ext4") is None or shutil.which("debugfs") is None:
        raise Failure("mkfs.ext4/debugfs missing: apt-get install e2fsprogs")
    src = os.path.join(tmp, "disk-src")
    os.mkdir(src)
    with open(os.path.join(src, "hello.txt"), "w") as f:
        f.write("hello from the host\n")
    disk = os.path.join(tmp, "disk.ext4")
    subprocess.run(["mkfs.ext4", "-q", "-F", "-L", "lockstep", "-d", src, disk, "16M"],
                   check=True)
    return disk


def boot(args, disk, log, full):
    cmd = [os.path.join(HERE, "run-qemu.sh"), "--dir", args.dir, "--all", "--disk", disk]
    con = Console(cmd, log)
    try:
        con.expect(re.escape(MARKER), args.timeout)
        t_marker = time.monotonic() - con.start
        con.expect(re.escape(PROMPT), args.timeout)
        t_prompt = time.monotonic() - con.start
        boot_text = con.buf.decode(errors="replace").replace("\r", "")
        if full:
            full_checks(con, disk, boot_text, args.show)
        con.send("poweroff -f\n")
        status = con.wait_exit(60)
        if full:
            check(status == 0, "poweroff -f ended QEMU with status 0")
            check(b"reboot: Power down" in con.buf, "kernel printed 'reboot: Power down'")
        elif status != 0:
            raise Failure("QEMU exited with status %d after poweroff -f" % status)
        return t_marker, t_prompt
    finally:
        con.kill()


def full_checks(con, disk, boot_text, show):
    check("job control turned off" not in boot_text, "shell has job control (no 'job control turned off')")
    check("Kernel panic" not in boot_text, "no kernel panic")

    _, out = con.run("cat /proc/cpuinfo")
    check(re.search(r"isa\s*:\s*rv64", out) is not None, "/proc/cpuinfo shows an rv64 hart")
    if show:
        print(out.rstrip())

    _, out = con.run("ls --color=never /dev")
    names = out.split()
    for dev in ("console", "ttyS0", "vda", "hwrng", "null"):
        check(dev in names, "/dev/%s exists" % dev)

    _, out = con.run("dd if=/dev/hwrng bs=16 count=1 2>/dev/null | od -x")
    words = re.findall(r"\b[0-9a-f]{4}\b", out.split("\n")[0])
    check(len(words) == 8, "16 bytes read from /dev/hwrng (virtio-rng): %s" % " ".join(words))

    _, out = con.run("ip addr show eth0")
    check(re.search(r"<[^>]*\bUP\b[^>]*>", out) is not None and "10.0.2.15/24" in out,
          "eth0 is up with 10.0.2.15/24 (virtio-net)")
    if show:
        print(out.rstrip())

    _, out = con.run("sleep 100 & jobs; kill %1")
    check("Running" in out, "job control: `jobs` lists a background job")
    con.send("sleep 100\n")
    time.sleep(1)
    con.send("\x03")
    con.expect(re.escape(PROMPT), 30)
    check(con.run("echo alive")[1].strip() == "alive", "Ctrl-C interrupts a foreground command")
    con.send("exit\n")
    con.expect(rb"shell exited with status 0, starting a new one", 30)
    con.expect(re.escape(PROMPT), 30)
    check(con.run("echo again")[1].strip() == "again", "/init starts a new shell after `exit`")

    con.run("mount -t ext4 /dev/vda /mnt")
    _, out = con.run("cat /mnt/hello.txt")
    check(out.strip() == "hello from the host", "ext4 on virtio-blk mounted, host file read")
    con.run("echo written by the guest >/mnt/guest.txt")
    con.run("umount /mnt")

    _, out = con.run("dmesg | grep -iE 'virtio|8250|ttyS|sbi|plic|poweroff'", check=False)
    if show:
        print(out.rstrip())

    # The guest has unmounted the disk, so the host can read it now.
    got = subprocess.run(["debugfs", "-R", "cat /guest.txt", disk], capture_output=True,
                         text=True).stdout.strip()
    check(got == "written by the guest", "file written by the guest read back on the host")


def free_port():
    """A TCP port on 127.0.0.1 that is free now (QEMU binds it a moment later)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ensure_redis_tools():
    if shutil.which("redis-cli") and shutil.which("redis-benchmark"):
        return
    sudo = [] if os.geteuid() == 0 else ["sudo"]
    apt = sudo + ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "-o", "DPkg::Lock::Timeout=900"]
    print("installing redis-tools (redis-cli, redis-benchmark) with apt-get")
    subprocess.run(apt + ["update", "-qq"], check=True, stdout=sys.stderr)
    subprocess.run(apt + ["install", "-y", "-qq", "--no-install-recommends", "redis-tools"],
                   check=True, stdout=sys.stderr)


def service_boot(args, log, service, guest_port):
    """Boots with lockstep.service=SERVICE and ip=; returns (console, host port)."""
    port = free_port()
    cmd = [os.path.join(HERE, "run-qemu.sh"), "--dir", args.dir,
           "--forward", "%d:%d" % (port, guest_port),
           "--append", "lockstep.service=%s %s" % (service, IP_ARG)]
    log.write(b"\n===== lockstep.service=%s, 127.0.0.1:%d -> guest %d =====\n"
              % (service.encode(), port, guest_port))
    con = Console(cmd, log)
    try:
        con.expect(re.escape(MARKER), args.timeout)
        # The service starts in the background: its ready line and the shell's
        # prompt come in either order.
        ready = re.escape(b"lockstep-linux: %s ready" % service.encode())
        con.expect_all([ready, re.escape(PROMPT)], args.timeout)
        print("%s ready %.2f s after starting QEMU (forwarded from 127.0.0.1:%d)"
              % (service, time.monotonic() - con.start, port))
        con.run("true")   # in step with the prompt again
        boot_text = con.buf.decode(errors="replace").replace("\r", "")
        check("Kernel panic" not in boot_text, "no kernel panic")
        check(re.search(r"IP-Config: Complete", boot_text) is not None,
              "the kernel configured the network from ip= (IP-Config: Complete)")
        _, out = con.run("ip addr show eth0; ip route")
        check(re.search(r"<[^>]*\bUP\b[^>]*>", out) is not None
              and out.count("inet 10.0.2.15/24") == 1
              and re.search(r"default via 10\.0\.2\.2 dev eth0", out) is not None,
              "eth0 is up with 10.0.2.15/24 (once) and the default route via 10.0.2.2")
        return con, port
    except BaseException:
        con.kill()
        raise


def power_off(con):
    con.send("poweroff -f\n")
    status = con.wait_exit(60)
    check(status == 0, "poweroff -f ended QEMU with status 0")


def redis_cli(port, *words):
    """redis-cli's answer lines (one for each element of an array), without the last newline."""
    out = subprocess.run(["redis-cli", "-p", str(port)] + list(words), capture_output=True,
                         text=True, timeout=30).stdout
    return out[:-1] if out.endswith("\n") else out


def redis_checks(args, log):
    ensure_redis_tools()
    con, port = service_boot(args, log, "redis", 6379)
    try:
        check(redis_cli(port, "ping") == "PONG", "redis-cli ping answers PONG")
        check(redis_cli(port, "set", "lockstep", "hello") == "OK"
              and redis_cli(port, "get", "lockstep") == "hello", "SET then GET over TCP")
        check(redis_cli(port, "config", "get", "save").split("\n")[1:] == [""]
              and redis_cli(port, "config", "get", "appendonly").split("\n")[1:] == ["no"]
              and redis_cli(port, "config", "get", "protected-mode").split("\n")[1:] == ["no"],
              "no persistence (save \"\", appendonly no), protected mode off")
        bench = ["redis-benchmark", "-p", str(port), "-n", str(args.requests), "-t", "set,get",
                 "-q", "-c", str(args.clients)]
        t0 = time.monotonic()
        r = subprocess.run(bench, capture_output=True, text=True, timeout=300)
        took = time.monotonic() - t0
        # -q still draws progress lines ending in \r; the results end in \n.
        results = re.findall(r"^(SET|GET): ([0-9.]+) requests per second(.*)$",
                             r.stdout.replace("\r", "\n"), re.M)
        if r.returncode != 0 or len(results) != 2:
            tail = (r.stdout + r.stderr).replace("\r", "\n").strip().split("\n")[-3:]
            raise Failure("%s: status %d after %.1f s, %d results; last output:\n%s"
                          % (" ".join(bench), r.returncode, took, len(results), "\n".join(tail)))
        check(True, "%s finished in %.1f s" % (" ".join(bench), took))
        for name, rps, rest in results:
            print("     %s: %s requests per second%s" % (name, rps, rest))
        con.send("kill $(pidof redis-server)\n")
        con.expect(rb"redis exited with status \d+, starting it again", 60)
        con.expect(re.escape(b"lockstep-linux: redis ready"), 60)
        check(redis_cli(port, "ping") == "PONG" and redis_cli(port, "dbsize") == "0",
              "killed redis-server came back (empty) after /init restarted it")
        con.run("true")
        power_off(con)
    finally:
        con.kill()


def http_get(port, path):
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=30) as r:
            return r.status, r.read().decode(errors="replace")
    except urllib.error.HTTPError as e:
        return e.code, ""


def http_checks(args, log):
    con, port = service_boot(args, log, "http", 80)
    try:
        status, body = http_get(port, "/")
        check(status == 200 and "Hello from Lockstep" in body, "GET / serves /var/www/index.html")
        check(http_get(port, "/missing")[0] == 404, "GET /missing is 404")
        power_off(con)
    finally:
        con.kill()


def services(args, log_path):
    with open(log_path, "wb") as log:
        redis_checks(args, log)
        http_checks(args, log)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", help="image directory (default: guests/linux/build.sh)")
    ap.add_argument("--boots", type=int, default=1, help="boots in all (default 1)")
    ap.add_argument("--timeout", type=int, default=180, help="seconds to wait for the prompt")
    ap.add_argument("--log", help="console transcript (default: a file in a temp dir)")
    ap.add_argument("--show", action="store_true", help="print command outputs")
    ap.add_argument("--services", action="store_true",
                    help="check the redis and http services from this machine instead")
    ap.add_argument("--requests", type=int, default=2000,
                    help="redis-benchmark requests per test (default 2000)")
    # QEMU's user networking listens for a forwarded port with a backlog of 1:
    # with many clients connecting at once the host drops their SYNs and the
    # retries back off for minutes, so the benchmark uses a few clients.
    ap.add_argument("--clients", type=int, default=4,
                    help="redis-benchmark clients (default 4; see README.md)")
    args = ap.parse_args()
    if not args.dir:
        args.dir = subprocess.run([os.path.join(HERE, "build.sh")], check=True,
                                  stdout=subprocess.PIPE, text=True).stdout.strip().split("\n")[-1]
    tmp = tempfile.mkdtemp(prefix="lockstep-linux-smoke.")
    log_path = args.log or os.path.join(tmp, "console.log")
    try:
        if args.services:
            services(args, log_path)
            if not args.log:
                log_path = os.path.join(tempfile.gettempdir(), "lockstep-linux-services.log")
                shutil.copy(os.path.join(tmp, "console.log"), log_path)
            shutil.rmtree(tmp, ignore_errors=True)
            print("PASS (console transcript: %s)" % log_path)
            return 0
        disk = make_disk(tmp)
        with open(log_path, "wb") as log:
            times = []
            for i in range(args.boots):
                log.write(b"\n===== boot %d =====\n" % (i + 1))
                t_marker, t_prompt = boot(args, disk, log, full=(i == 0))
                times.append(t_prompt)
                print("boot %d: init marker after %.2f s, shell prompt after %.2f s"
                      % (i + 1, t_marker, t_prompt))
        if len(times) > 1:
            print("prompt after %.2f s on average (min %.2f, max %.2f) over %d boots"
                  % (sum(times) / len(times), min(times), max(times), len(times)))
        if not args.log:
            log_path = os.path.join(tempfile.gettempdir(), "lockstep-linux-smoke.log")
            shutil.copy(os.path.join(tmp, "console.log"), log_path)
        shutil.rmtree(tmp, ignore_errors=True)
        print("PASS (console transcript: %s)" % log_path)
        return 0
    except (Failure, subprocess.CalledProcessError, subprocess.TimeoutExpired, OSError) as e:
        print("FAIL: %s\n(console transcript: %s; disk image and transcript kept in %s)"
              % (e, log_path, tmp), file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
