#!/usr/bin/env bash
# Runs the presence scenarios against presence-gateway and the Node.js baseline (three runs each by
# default, a fresh server per run) and writes one JSON file per run under bench/results/RUN_ID/,
# then the medians to summary.json and summary.md in that directory. A --full run of every scenario
# also copies them to bench/results/, where they are committed.
#
# Usage: bench/run.sh [--full] [--runs N] [--only NAME[,NAME...]] [--skip-build]
#   default  shorter runs and smaller crowds, for a check after a change
#   --full   the sizes of the performance targets (about 40 minutes on an idle two-core machine)
# Environment: NODE_PATH (default /usr/share/nodejs), BENCH_SCRATCH (default .build-bench),
#   BENCH_MAX_LOAD (default 2.0): wait up to 10 minutes for the 1-minute load average to drop below it.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
scratch=${BENCH_SCRATCH:-$root/.build-bench}
node_script=${BENCH_NODE_SCRIPT:-/work/shared/peers/node-ws-presence.js}
export NODE_PATH=${NODE_PATH:-/usr/share/nodejs}
max_load=${BENCH_MAX_LOAD:-2.0}
python=${BENCH_PYTHON:-python3}

full=0
runs=3
only=""
build=1
while [ $# -gt 0 ]; do
    case "$1" in
        --full) full=1 ;;
        --runs) runs=$2; shift ;;
        --only) only=$2; shift ;;
        --skip-build) build=0 ;;
        -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
        *) echo "run.sh: unknown option $1; see bench/run.sh --help" >&2; exit 2 ;;
    esac
    shift
done

# 20,000 connections need as many descriptors in the generator and in each server.
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
fd_limit=$(ulimit -n)

if [ "$build" = 1 ]; then
    swift build -c release --scratch-path "$scratch" --product presence-gateway
    swift build -c release --scratch-path "$scratch" --product presence-bench
fi
bench="$scratch/release/presence-bench"
gateway="$scratch/release/presence-gateway"

run_id=$(date -u +%Y%m%dT%H%M%SZ)
out="$root/bench/results/$run_id"
work=$(mktemp -d /tmp/presence-bench.XXXXXX)
mkdir -p "$out"
started_pids=()

cleanup() {
    for pid in "${started_pids[@]+"${started_pids[@]}"}"; do kill -TERM "$pid" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

free_port() {
    "$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

wait_for_port() {
    local port=$1
    for _ in $(seq 1 100); do
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
        sleep 0.1
    done
    echo "run.sh: nothing listens on 127.0.0.1:$port after 10 s" >&2
    return 1
}

wait_for_quiet_machine() {
    for _ in $(seq 1 60); do
        if awk -v max="$max_load" '{ exit !($1 < max) }' /proc/loadavg; then return 0; fi
        echo "run.sh: load average $(cut -d' ' -f1 /proc/loadavg) is above $max_load; waiting" >&2
        sleep 10
    done
    echo "run.sh: the machine stayed busy; results will be noisy" >&2
}

# start_server KIND [REDIS_URL] prints "PID PORT" of a new server. It runs in a subshell, so the
# caller records the pid in started_pids for the exit trap.
start_server() {
    local kind=$1 redis_url=${2:-} port admin_port dir
    port=$(free_port)
    dir=$(mktemp -d "$work/$kind.XXXX")
    if [ "$kind" = node ]; then
        node "$node_script" --port "$port" >"$dir/log" 2>&1 &
    else
        admin_port=$(free_port)
        cat >"$dir/config.toml" <<CONFIG
[server]
listen = "127.0.0.1:$port"
web_root = ""
messages_per_second = 1000
max_connections = 100000
max_connections_per_ip = 100000
[admin]
listen = "127.0.0.1:$admin_port"
[log]
level = "warning"
[presence]
max_users_per_document = 100000
[plugins]
enabled = false
[redis]
url = "$redis_url"
CONFIG
        "$gateway" --config "$dir/config.toml" >"$dir/log" 2>&1 &
    fi
    local pid=$!
    wait_for_port "$port" >&2
    echo "$pid $port"
}

# stop_server PID ends a server this script started and removes its pid from started_pids, so that
# the exit trap can never signal a later process that reuses the number.
stop_server() {
    local pid=$1 remaining=() other
    for other in "${started_pids[@]+"${started_pids[@]}"}"; do [ "$other" = "$pid" ] || remaining+=("$other"); done
    started_pids=("${remaining[@]+"${remaining[@]}"}")
    kill -TERM "$pid" 2>/dev/null || return 0
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}

# Scenario table: NAME, then the presence-bench arguments. Sizes depend on --full.
if [ "$full" = 1 ]; then
    idle_connections=$(( fd_limit >= 20100 ? 20000 : fd_limit - 100 ))
    scenarios=(
        "busy-room|busy-room --members 200 --movers 20 --rate 20 --duration 30"
        "busy-room-batched|busy-room --members 1000 --movers 50 --rate 20 --duration 30 --batch-ms 20"
        "many-rooms|many-rooms --documents 100 --members 10 --rate 20 --duration 30"
        "idle-crowd|idle-crowd --connections $idle_connections --hold 5"
        "join-storm|join-storm --connections 5000 --window 2"
        "churn|churn --connections 400 --documents 20 --rate 50 --duration 60"
        "capacity|capacity --members 100 --growth 1.25 --duration 10 --max-members 3000"
    )
else
    scenarios=(
        "busy-room|busy-room --members 200 --movers 20 --rate 20 --duration 8"
        "busy-room-batched|busy-room --members 1000 --movers 50 --rate 20 --duration 8 --batch-ms 20"
        "many-rooms|many-rooms --documents 50 --members 10 --rate 20 --duration 8"
        "idle-crowd|idle-crowd --connections 5000 --hold 2"
        "join-storm|join-storm --connections 5000 --window 2"
        "churn|churn --connections 200 --documents 10 --rate 50 --duration 15"
        "capacity|capacity --members 100 --growth 1.5 --duration 4 --max-members 3000"
    )
fi

selected() {
    [ -z "$only" ] && return 0
    case ",$only," in *",$1,"*) return 0 ;; esac
    return 1
}

echo "run.sh: results go to $out (descriptor limit $fd_limit)"
for entry in "${scenarios[@]}"; do
    name=${entry%%|*}
    args=${entry#*|}
    selected "$name" || continue
    for run in $(seq 1 "$runs"); do
        for server in gateway node; do
            wait_for_quiet_machine
            read -r pid port < <(start_server "$server")
            started_pids+=("$pid")
            url="ws://127.0.0.1:$port/v1/ws"
            # A short warm-up, so that Node's JIT and the gateway's allocator start warm in every run.
            "$bench" busy-room --url "$url" --members 50 --movers 10 --duration 2 --document-prefix warmup >/dev/null
            json="$out/$name-$server-$run.json"
            echo "run.sh: $name, $server, run $run"
            # shellcheck disable=SC2086
            if ! "$bench" $args --url "$url" --server-pid "$pid" --label "$server" --seed "$run" \
                --document-prefix "$name-$run" --json "$json"; then
                echo "run.sh: $name against $server failed; see the message above" >&2
            fi
            stop_server "$pid"
        done
    done
done

# Churn across two gateway nodes that share one Redis server.
if selected churn-redis && command -v redis-server >/dev/null; then
    for run in $(seq 1 "$runs"); do
        wait_for_quiet_machine
        redis_port=$(free_port)
        redis-server --port "$redis_port" --bind 127.0.0.1 --save "" --appendonly no >"$work/redis.log" 2>&1 &
        redis_pid=$!
        started_pids+=("$redis_pid")
        wait_for_port "$redis_port"
        read -r pid_a port_a < <(start_server gateway "redis://127.0.0.1:$redis_port")
        read -r pid_b port_b < <(start_server gateway "redis://127.0.0.1:$redis_port")
        started_pids+=("$pid_a" "$pid_b")
        duration=$([ "$full" = 1 ] && echo 60 || echo 15)
        echo "run.sh: churn-redis, gateway x2, run $run"
        "$bench" churn --url "ws://127.0.0.1:$port_a/v1/ws" --url "ws://127.0.0.1:$port_b/v1/ws" \
            --server-pid "$pid_a" --server-pid "$pid_b" --label gateway-redis --seed "$run" \
            --connections 200 --documents 10 --rate 50 --duration "$duration" --hold 3 \
            --document-prefix "churn-redis-$run" --json "$out/churn-redis-gateway-$run.json" \
            || echo "run.sh: churn-redis failed; see the message above" >&2
        stop_server "$pid_a"
        stop_server "$pid_b"
        stop_server "$redis_pid"
    done
fi

"$python" "$root/bench/summarize.py" "$out" --summary "$out/summary.json" --markdown "$out/summary.md"
# Only a run at the target sizes replaces the committed summary that docs/benchmarks.md quotes.
if [ "$full" = 1 ] && [ -z "$only" ]; then
    cp "$out/summary.json" "$out/summary.md" "$root/bench/results/"
fi
echo "run.sh: summary in $out/summary.md; plot with: $python bench/plot.py $out"
