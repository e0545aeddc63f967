#!/usr/bin/env bash
# Measures WebSocket echo round trips per second and latency for the gateway's echo endpoint and
# for a Python `websockets` echo server, alternating between them, on loopback only.
#
# Usage: bench/echo/run.sh [RUNS] [SECONDS]
#   RUNS per server (default 3) and SECONDS measured per run (default 10, after 2 s of warm-up).
#
# Environment:
#   PRESENCE_GATEWAY_BIN  gateway binary (default: build .build/release/presence-gateway)
#   PYTHON                Python 3 with websockets (default /root/.pyenv/versions/3.11.7/bin/python3)
#   CONNECTIONS           concurrent connections (default 100)
#   PAYLOAD_BYTES         text message size (default 64)
#
# On a machine with two or more CPUs each server runs pinned to CPU 0 with one event loop and the
# load generator to CPU 1, so that both servers get one core. Prints each run's JSON, then the
# medians per server as a Markdown table.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$root/bench/echo"
cd "$root"

runs="${1:-3}"
seconds="${2:-10}"
connections="${CONNECTIONS:-100}"
payload="${PAYLOAD_BYTES:-64}"
python="${PYTHON:-/root/.pyenv/versions/3.11.7/bin/python3}"

if [[ -n "${PRESENCE_GATEWAY_BIN:-}" ]]; then
    gateway="$PRESENCE_GATEWAY_BIN"
else
    swift build -c release --product presence-gateway
    gateway="$root/.build/release/presence-gateway"
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/echo-bench.XXXXXX")"
pids=()
cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill -TERM "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

cc -O2 -o "$work/echo_load" "$here/echo_load.c"

server_cpu=()
load_cpu=()
if (( $(nproc) >= 2 )) && command -v taskset >/dev/null; then
    server_cpu=(taskset -c 0)
    load_cpu=(taskset -c 1)
fi

read -r gateway_port admin_port python_port < <("$python" - <<'EOF'
import socket
sockets = [socket.socket() for _ in range(3)]
for s in sockets:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in sockets))
for s in sockets:
    s.close()
EOF
)

cat > "$work/gateway.toml" <<EOF
[server]
listen = "127.0.0.1:$gateway_port"
event_loops = 1
echo_path = "/echo"
web_root = ""
[admin]
listen = "127.0.0.1:$admin_port"
[plugins]
enabled = false
[log]
level = "warning"
EOF

"${server_cpu[@]}" "$gateway" --config "$work/gateway.toml" > "$work/gateway.log" 2>&1 &
pids+=($!)
"${server_cpu[@]}" "$python" "$here/python_echo_server.py" "$python_port" > "$work/python.log" 2>&1 &
pids+=($!)

wait_for_port() {
    for _ in $(seq 1 300); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    cat "$work/gateway.log" "$work/python.log" >&2
    echo "error: nothing accepted connections on 127.0.0.1:$1 within 30 s" >&2
    exit 1
}
wait_for_port "$gateway_port"
wait_for_port "$python_port"

echo "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(uname -sr)"
echo "load: $connections connections, $payload-byte text messages, one in flight per connection, ${seconds} s per run"
for run in $(seq 1 "$runs"); do
    for server in gateway python; do
        port=$gateway_port
        [[ "$server" == python ]] && port=$python_port
        result="$("${load_cpu[@]}" "$work/echo_load" "$port" /echo "$connections" "$seconds" 2 "$payload")"
        echo "$server run $run: $result"
        echo "$server $result" >> "$work/results"
    done
done

"$python" - "$work/results" <<'EOF'
import json
import statistics
import sys

results = {}
with open(sys.argv[1]) as handle:
    for line in handle:
        server, _, text = line.partition(" ")
        results.setdefault(server, []).append(json.loads(text))

print()
print("| server | round trips/s (median) | p50 latency | p99 latency (median) | runs |")
print("|---|---|---|---|---|")
names = {"gateway": "presence-gateway echo endpoint", "python": "Python websockets echo server"}
for server, runs in results.items():
    rate = statistics.median(run["round_trips_per_second"] for run in runs)
    p50 = statistics.median(run["p50_us"] for run in runs)
    p99 = statistics.median(run["p99_us"] for run in runs)
    print(f"| {names[server]} | {rate:,.0f} | {p50:,.0f} µs | {p99:,.0f} µs | {len(runs)} |")
EOF
