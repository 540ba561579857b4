#!/usr/bin/env bash
# Where a replicated pair's CPU goes under load (issue 14): an arbiter and two `lockstep node`s on
# loopback running the Redis guest (user-mode networking), `redis-benchmark -c 8` against the
# primary, and `perf record -g` on both nodes meanwhile; prints the samples per thread and
# the hottest symbols. Needs perf (apt package linux-perf) and redis-tools.
#   benchmarks/profile-pair.sh [seconds of profile, default 15]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
scripts/install-deps.sh
command -v perf >/dev/null || apt-get install -y -q linux-perf >/dev/null
guests/linux/build.sh >/dev/null
swift build -c release --product lockstep >/dev/null
bin=.build/release/lockstep
seconds="${1:-15}"
d="$(mktemp -d -t lockstep-profile-pair.XXXXXX)"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$d/key"; chmod 600 "$d/key"
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
arbiter=$(port); a1=$(port); a2=$(port); b1=$(port); b2=$(port); redis=$(port); redis_b=$(port)
"$bin" arbiter --listen "127.0.0.1:$arbiter" --state "$d/arbiter.state" --key-file "$d/key" > "$d/arbiter.log" 2>&1 &
pids+=($!)
node() {  # name, own line ports, peer line ports, redis port
    "$bin" node --vm kv --node-id "$1" --key-file "$d/key" --arbiter "127.0.0.1:$arbiter" \
        --listen "127.0.0.1:$2" --listen "127.0.0.1:$3" --peer "127.0.0.1:$4" --peer "127.0.0.1:$5" \
        --console 127.0.0.1:0 --append "console=ttyS0 quiet lockstep.service=redis" --memory 256 \
        --netdev "user,hostfwd=tcp:127.0.0.1:$6-:6379" > "$d/$1.log" 2>&1 &
    pids+=($!)
}
node A "$a1" "$a2" "$b1" "$b2" "$redis"; primary=$!
sleep 1
node B "$b1" "$b2" "$a1" "$a2" "$redis_b"; backup=$!
answered=
for _ in $(seq 1 240); do
    if redis-cli -p "$redis" ping 2>/dev/null | grep -q PONG; then answered=1; break; fi
    sleep 0.5
done
if [[ -z "$answered" ]]; then
    tail -n 20 "$d/A.log" "$d/B.log" >&2
    echo "benchmarks/profile-pair.sh: Redis in the primary's guest never answered (the nodes' logs are above, all of them in $d)" >&2
    exit 1
fi
sleep 3
perf record -F 499 -g -p "$primary,$backup" -o "$d/perf.data" -- sleep "$seconds" >/dev/null 2>&1 &
profiler=$!
redis-benchmark -p "$redis" -c 8 -n 40000 -t set,get -q 2>&1 | tr '\r' '\n' | grep "requests per second"
wait "$profiler"
echo "CPU time (primary, backup):"; ps -o pid,time -p "$primary,$backup"
echo "samples by thread and object:"
perf report -i "$d/perf.data" --no-children --sort pid,dso -g none --percent-limit 0.5 --stdio 2>/dev/null | grep -v '^#' | grep -v '^$'
echo "hottest symbols:"
perf report -i "$d/perf.data" --no-children --sort pid,symbol -g none --percent-limit 0.8 --stdio 2>/dev/null | grep -v '^#' | grep -v '^$' | cut -c1-160
echo "the nodes' logs and perf.data: $d"
