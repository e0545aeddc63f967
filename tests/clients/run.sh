#!/usr/bin/env bash
# Runs the client tests of the transport against a real gateway: Python `websockets` over ws://
# and wss://, and Node `ws` over ws:// and wss://.
#
# Usage: tests/clients/run.sh
#
# Environment:
#   PRESENCE_GATEWAY_BIN  gateway binary (default .build/debug/presence-gateway; build it with
#                         `swift build` first)
#   PYTHON                Python 3 with the websockets package
#                         (default /root/.pyenv/versions/3.11.7/bin/python3)
#   NODE_PATH             where `ws` is found (default /usr/share/nodejs, Debian's node-ws)
#
# Starts two gateways, plain and TLS, on free loopback ports with a temporary configuration and a
# certificate generated with the openssl command, and stops them by pid at the end. Every test
# prints PASS or FAIL lines. The last line is "N passed, N failed", and the exit status is 1 when
# anything failed.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
here="$root/tests/clients"
cd "$root"

gateway="${PRESENCE_GATEWAY_BIN:-$root/.build/debug/presence-gateway}"
python="${PYTHON:-/root/.pyenv/versions/3.11.7/bin/python3}"
export NODE_PATH="${NODE_PATH:-/usr/share/nodejs}"
test_timeout=300

if [[ ! -x "$gateway" ]]; then
    echo "error: gateway binary $gateway not found; run 'swift build' or set PRESENCE_GATEWAY_BIN" >&2
    exit 1
fi
if ! "$python" -c 'import websockets' 2>/dev/null; then
    echo "error: $python cannot import websockets; install it with: $python -m pip install websockets" >&2
    exit 1
fi
if ! node -e "require('ws')" 2>/dev/null; then
    echo "error: node cannot load ws from NODE_PATH=$NODE_PATH; install it with: apt-get install node-ws" >&2
    exit 1
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/client-tests.XXXXXX")"
pids=()

cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            kill -TERM "$pid" 2>/dev/null || true
            for _ in $(seq 1 50); do
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
            done
            kill -KILL "$pid" 2>/dev/null || true
        fi
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap cleanup EXIT

# Prints $1 free loopback ports: bind port 0, read the port, release it.
free_ports() {
    "$python" - "$1" <<'EOF'
import socket
import sys
sockets = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in sockets:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in sockets))
for s in sockets:
    s.close()
EOF
}

# A self-signed certificate for 127.0.0.1 and localhost, so that clients can verify it against
# the certificate itself.
if ! openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
    -subj "/CN=localhost" -addext "subjectAltName=IP:127.0.0.1,DNS:localhost" \
    -keyout "$work/key.pem" -out "$work/cert.pem" > "$work/openssl.log" 2>&1; then
    cat "$work/openssl.log" >&2
    echo "error: openssl could not generate the test certificate" >&2
    exit 1
fi

# Writes a configuration and starts a gateway on it; sets `port` to its public port.
start_gateway() {
    local name="$1" tls="$2" admin_port
    read -r port admin_port < <(free_ports 2)
    {
        echo "[server]"
        echo "listen = \"127.0.0.1:$port\""
        echo "echo_path = \"/echo\""
        echo "max_message_bytes = 65536"
        echo "allowed_origins = [\"https://app.test\"]"
        echo "web_root = \"\""
        if [[ "$tls" == tls ]]; then
            echo "[server.tls]"
            echo "cert_file = \"$work/cert.pem\""
            echo "key_file = \"$work/key.pem\""
        fi
        echo "[admin]"
        echo "listen = \"127.0.0.1:$admin_port\""
        echo "[plugins]"
        echo "enabled = false"
        echo "[log]"
        echo "level = \"warning\""
    } > "$work/$name.toml"

    "$gateway" --config "$work/$name.toml" > "$work/$name.log" 2>&1 &
    local pid=$!
    pids+=("$pid")
    for _ in $(seq 1 300); do
        if ! kill -0 "$pid" 2>/dev/null; then
            cat "$work/$name.log" >&2
            echo "error: the $name gateway exited during start-up; its log is above" >&2
            exit 1
        fi
        if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        sleep 0.1
    done
    cat "$work/$name.log" >&2
    echo "error: the $name gateway did not accept connections on 127.0.0.1:$port within 30 s" >&2
    exit 1
}

start_gateway plain plain
plain_port=$port
start_gateway tls tls
tls_port=$port

passed=0
failed=0

# Runs one test command, echoes its output and adds its PASS and FAIL lines to the totals. A
# command that fails without printing a FAIL line (a crash, a timeout) counts as one failure.
run_test() {
    local name="$1"
    shift
    local output="$work/$name.out" status=0
    echo "== $name"
    timeout "$test_timeout" "$@" > "$output" 2> "$work/$name.err" || status=$?
    cat "$output"
    local pass_count fail_count
    pass_count=$(grep -c '^PASS ' "$output" || true)
    fail_count=$(grep -c '^FAIL ' "$output" || true)
    if (( status != 0 && fail_count == 0 )); then
        cat "$work/$name.err" >&2
        echo "FAIL $name: exited with status $status (124 means it ran longer than $test_timeout s)"
        fail_count=1
    elif (( fail_count > 0 )); then
        cat "$work/$name.err" >&2
    fi
    passed=$((passed + pass_count))
    failed=$((failed + fail_count))
}

run_test python-plain "$python" "$here/websockets_client_test.py" "ws://127.0.0.1:$plain_port"
run_test python-tls "$python" "$here/websockets_client_test.py" "wss://127.0.0.1:$tls_port" --cafile "$work/cert.pem"
run_test node-plain node "$here/ws_client_test.js" "ws://127.0.0.1:$plain_port"
run_test node-tls node "$here/ws_client_test.js" "wss://127.0.0.1:$tls_port" "$work/cert.pem"

for name in plain tls; do
    if grep -qE ' (error|critical) ' "$work/$name.log"; then
        echo "note: the $name gateway logged errors:" >&2
        grep -E ' (error|critical) ' "$work/$name.log" | head -n 20 >&2
    fi
done

echo "$passed passed, $failed failed"
(( failed == 0 ))
