#!/usr/bin/env python3
"""Where each request's CPU goes (issue 14): Redis in the default guest under redis-benchmark
with 8 clients, on one `lockstep run` and on a replicated pair (an arbiter and two `lockstep
node`s on loopback), both through libslirp port forwards. Prints, per thread of each Lockstep
process, the CPU microseconds per request and the context switches (from /proc), the client's
own CPU, and what the sum allows on this machine's cores: the most requests per second the pair
could serve if nothing else ran, against what the single machine served.

Run by benchmarks/cpu-per-request.sh (which builds what it needs)."""
import argparse, os, re, resource, shutil, socket, subprocess, tempfile, time

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close(); return port

def threads(pid):
    """{tid: (name, cpu seconds, voluntary, involuntary switches)} of a process."""
    out, tick = {}, os.sysconf("SC_CLK_TCK")
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            stat = open(f"/proc/{pid}/task/{tid}/stat").read()
            name = stat[stat.index("(") + 1:stat.rindex(")")]
            fields = stat[stat.rindex(")") + 2:].split()
            status = dict(l.split(":", 1) for l in open(f"/proc/{pid}/task/{tid}/status").read().splitlines() if ":" in l)
            out[tid] = (name, (int(fields[11]) + int(fields[12])) / tick,
                        int(status["voluntary_ctxt_switches"]), int(status["nonvoluntary_ctxt_switches"]))
        except (FileNotFoundError, ProcessLookupError):
            pass
    return out

def wait_for_redis(port, seconds=180):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"PING\r\n")
                if s.recv(16).startswith(b"+PONG"):
                    return
        except OSError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"cpu-per-request: Redis on port {port} never answered")

def benchmark(port, clients, requests):
    """Runs redis-benchmark; returns (requests per second averaged over SET and GET, its CPU seconds)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = subprocess.run(["redis-benchmark", "-p", str(port), "-c", str(clients), "-n", str(requests),
                             "-t", "set,get", "-q"], capture_output=True, text=True, check=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    rates = [float(m) for m in re.findall(r"([0-9.]+) requests per second", result.stdout.replace("\r", "\n"))]
    if len(rates) != 2:
        raise SystemExit(f"cpu-per-request: unexpected redis-benchmark output: {result.stdout[-300:]}")
    return sum(rates) / 2, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)

def measure(label, pids, port, clients, requests):
    """Warms up, then measures; prints the table and returns (rate, CPU µs per request of everything)."""
    benchmark(port, clients, requests // 4)   # translate the hot code first
    before = {pid: threads(pid) for pid in pids}
    start = time.time()
    rate, client_cpu = benchmark(port, clients, requests)
    wall = time.time() - start
    after = {pid: threads(pid) for pid in pids}
    total_requests = 2 * requests
    print(f"{label}: {rate:.0f} requests/s ({clients} clients, {total_requests} requests in {wall:.1f} s)")
    print(f"  {'process':8} {'thread':16} {'µs/request':>10} {'busy':>6} {'woken/request':>13} {'preempted/request':>17}")
    total = 0.0
    for pid, role in pids.items():
        for tid, (name, cpu, vol, invol) in sorted(after[pid].items(), key=lambda kv: -kv[1][1]):
            old = before[pid].get(tid, (name, 0.0, 0, 0))
            spent = cpu - old[1]
            if spent < 0.01:
                continue
            total += spent
            print(f"  {role:8} {name:16} {1e6 * spent / total_requests:10.1f} {100 * spent / wall:5.0f}% "
                  f"{(vol - old[2]) / total_requests:13.2f} {(invol - old[3]) / total_requests:17.2f}")
    total += client_cpu
    print(f"  {'client':8} {'redis-benchmark':16} {1e6 * client_cpu / total_requests:10.1f} {100 * client_cpu / wall:5.0f}%")
    per_request = 1e6 * total / total_requests
    print(f"  all: {per_request:.1f} µs of CPU per request")
    return rate, per_request

def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--lockstep", required=True)
    parser.add_argument("--requests", type=int, default=40000)
    parser.add_argument("--clients", type=int, default=8)
    args = parser.parse_args()
    cores = os.cpu_count()
    guest = ["--memory", "256", "--append", "console=ttyS0 quiet lockstep.service=redis"]
    work = tempfile.mkdtemp(prefix="lockstep-cpu-per-request.")
    processes = []

    def start(argv, log):
        processes.append(subprocess.Popen(argv, stdout=open(os.path.join(work, log), "w"), stderr=subprocess.STDOUT))
        return processes[-1].pid

    try:
        port = free_port()
        single = start([args.lockstep, "run", "--console-port", "0", *guest,
                        "--netdev", f"user,hostfwd=tcp:127.0.0.1:{port}-:6379"], "run.log")
        wait_for_redis(port)
        single_rate, single_cpu = measure("Lockstep, unreplicated", {single: "run"}, port, args.clients, args.requests)
        for p in processes: p.kill(); p.wait()
        processes.clear()

        key = os.path.join(work, "key")
        with open(key, "w") as f: f.write(os.urandom(32).hex())
        os.chmod(key, 0o600)
        arbiter, a1, a2, b1, b2, port, port_b = (free_port() for _ in range(7))
        start([args.lockstep, "arbiter", "--listen", f"127.0.0.1:{arbiter}", "--state", os.path.join(work, "arbiter.state"),
               "--key-file", key], "arbiter.log")
        def node(name, own, peer, redis):
            return start([args.lockstep, "node", "--vm", "kv", "--node-id", name, "--key-file", key,
                          "--arbiter", f"127.0.0.1:{arbiter}", "--listen", f"127.0.0.1:{own[0]}", "--listen", f"127.0.0.1:{own[1]}",
                          "--peer", f"127.0.0.1:{peer[0]}", "--peer", f"127.0.0.1:{peer[1]}", "--console", "127.0.0.1:0", *guest,
                          "--netdev", f"user,hostfwd=tcp:127.0.0.1:{redis}-:6379"], f"{name}.log")
        primary = node("A", (a1, a2), (b1, b2), port)
        time.sleep(1)
        backup = node("B", (b1, b2), (a1, a2), port_b)
        wait_for_redis(port)
        time.sleep(3)   # the backup joins
        pair_rate, pair_cpu = measure("Lockstep, replicated", {primary: "primary", backup: "backup"}, port, args.clients, args.requests)
    finally:
        for p in processes:
            p.kill(); p.wait()
        shutil.rmtree(work, ignore_errors=True)

    bound = cores * 1e6 / pair_cpu
    print(f"\nreplicated/unreplicated: {pair_rate / single_rate:.3f}")
    print(f"on {cores} cores the pair's {pair_cpu:.0f} µs per request allow at most {bound:.0f} requests/s "
          f"(with nothing else running), {bound / single_rate:.3f} of the unreplicated rate; "
          f"the unreplicated machine spent {single_cpu:.0f} µs")

if __name__ == "__main__":
    main()
