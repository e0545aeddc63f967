#!/usr/bin/env bash
# Runs the Autobahn|Testsuite fuzzing client against the gateway's echo endpoint.
#
# Usage: scripts/conformance.sh
#
# Builds the gateway in release mode, starts it on free loopback ports with a temporary
# configuration (echo_path = "/echo", max_message_bytes = 16 MiB for the large messages of
# section 9), runs `wstest -m fuzzingclient` for cases 1.* to 7.*, 9.* and 10.*, writes the reports
# to reports/autobahn/ and fails unless every case's behavior and behaviorClose is OK, NON-STRICT
# or INFORMATIONAL. The last line is "N passed, N failed".
#
# Environment:
#   WSTEST                 wstest command (default /root/.pyenv/versions/2.7.18/bin/wstest)
#   PRESENCE_GATEWAY_BIN   use this gateway binary instead of building one
#   SWIFT_SCRATCH_PATH     --scratch-path for the release build (default .build)
#   CONFORMANCE_TIMEOUT    seconds the whole wstest run may take (default 1800)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

wstest="${WSTEST:-/root/.pyenv/versions/2.7.18/bin/wstest}"
run_timeout="${CONFORMANCE_TIMEOUT:-1800}"
report_dir="$root/reports/autobahn"

if [[ ! -x "$wstest" ]]; then
    cat >&2 <<EOF
error: the Autobahn|Testsuite client wstest was not found at $wstest.
It runs on Python 2.7. Install it with:
    /root/.pyenv/versions/2.7.18/bin/pip install autobahntestsuite
(if Python 2.7.18 itself is missing: pyenv install 2.7.18), or point WSTEST at an existing wstest.
EOF
    exit 1
fi

python="$(command -v python3 || true)"
if [[ -z "$python" ]]; then
    echo "error: python3 is needed to pick free ports and read the report; install python3" >&2
    exit 1
fi

# --- Gateway binary -------------------------------------------------------------------------

if [[ -n "${PRESENCE_GATEWAY_BIN:-}" ]]; then
    gateway="$PRESENCE_GATEWAY_BIN"
else
    scratch="${SWIFT_SCRATCH_PATH:-$root/.build}"
    echo "== building presence-gateway (release) in $scratch"
    swift build -c release --scratch-path "$scratch" --product presence-gateway
    gateway="$scratch/release/presence-gateway"
fi
if [[ ! -x "$gateway" ]]; then
    echo "error: gateway binary $gateway is missing or not executable" >&2
    exit 1
fi

# --- Temporary configuration ----------------------------------------------------------------

work="$(mktemp -d "${TMPDIR:-/tmp}/conformance.XXXXXX")"
gateway_pid=""

stop_gateway() {
    [[ -z "$gateway_pid" ]] && return 0
    if kill -0 "$gateway_pid" 2>/dev/null; then
        kill -TERM "$gateway_pid" 2>/dev/null || true
        for _ in $(seq 1 100); do
            kill -0 "$gateway_pid" 2>/dev/null || break
            sleep 0.1
        done
        if kill -0 "$gateway_pid" 2>/dev/null; then
            echo "warning: the gateway (pid $gateway_pid) did not stop within 10 s of SIGTERM; sending SIGKILL" >&2
            kill -KILL "$gateway_pid" 2>/dev/null || true
        fi
    fi
    wait "$gateway_pid" 2>/dev/null || true
    gateway_pid=""
}
cleanup() {
    stop_gateway
    rm -rf "$work"
}
trap cleanup EXIT

# Two free loopback ports: bind port 0, read the port, release it.
read -r port admin_port < <("$python" - <<'EOF'
import socket
sockets = [socket.socket() for _ in range(2)]
for s in sockets:
    s.bind(("127.0.0.1", 0))
print(*(s.getsockname()[1] for s in sockets))
for s in sockets:
    s.close()
EOF
)

cat > "$work/gateway.toml" <<EOF
# Configuration for the Autobahn run only.
[server]
listen = "127.0.0.1:$port"
echo_path = "/echo"
max_message_bytes = 16777216
# Section 9 echoes 16 MiB messages, and cases 9.7 and 9.8 send 1000 messages without waiting.
send_queue_bytes = 268435456
web_root = ""

[admin]
listen = "127.0.0.1:$admin_port"

[plugins]
enabled = false

[log]
level = "warning"
EOF

cat > "$work/spec.json" <<EOF
{
  "outdir": "$report_dir",
  "servers": [{"agent": "presence-gateway", "url": "ws://127.0.0.1:$port/echo"}],
  "cases": ["1.*", "2.*", "3.*", "4.*", "5.*", "6.*", "7.*", "9.*", "10.*"],
  "exclude-cases": [],
  "exclude-agent-cases": {}
}
EOF

# --- Run ------------------------------------------------------------------------------------

"$gateway" --config "$work/gateway.toml" > "$work/gateway.log" 2>&1 &
gateway_pid=$!

ready=0
for _ in $(seq 1 300); do
    if ! kill -0 "$gateway_pid" 2>/dev/null; then
        cat "$work/gateway.log" >&2
        echo "error: the gateway exited during start-up; its log is above" >&2
        exit 1
    fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
        ready=1
        break
    fi
    sleep 0.1
done
if (( ready == 0 )); then
    cat "$work/gateway.log" >&2
    echo "error: the gateway did not accept connections on 127.0.0.1:$port within 30 s" >&2
    exit 1
fi

rm -rf "$report_dir"
mkdir -p "$report_dir"
echo "== running wstest -m fuzzingclient against ws://127.0.0.1:$port/echo (at most $run_timeout s)"
if ! timeout "$run_timeout" "$wstest" -m fuzzingclient -s "$work/spec.json" > "$work/wstest.log" 2>&1; then
    tail -n 30 "$work/wstest.log" >&2
    echo "error: wstest failed or ran longer than $run_timeout s; its output ends above" >&2
    exit 1
fi

if ! kill -0 "$gateway_pid" 2>/dev/null; then
    cat "$work/gateway.log" >&2
    echo "error: the gateway exited during the run; its log is above" >&2
    exit 1
fi
stop_gateway

# --- Verdict --------------------------------------------------------------------------------

"$python" - "$report_dir/index.json" <<'EOF'
import json
import sys

accepted = {"OK", "NON-STRICT", "INFORMATIONAL"}
path = sys.argv[1]
try:
    with open(path) as handle:
        index = json.load(handle)
except (OSError, ValueError) as error:
    print(f"error: cannot read the Autobahn report {path}: {error}", file=sys.stderr)
    sys.exit(1)

def case_key(case_id):
    return [int(part) for part in case_id.split(".")]

passed = failed = 0
for agent, cases in index.items():
    for case_id in sorted(cases, key=case_key):
        result = cases[case_id]
        behavior = result.get("behavior")
        behavior_close = result.get("behaviorClose")
        if behavior in accepted and behavior_close in accepted:
            passed += 1
        else:
            failed += 1
            print(f"FAILED case {case_id}: behavior {behavior}, behaviorClose {behavior_close} "
                  f"(report: reports/autobahn/{result.get('reportfile')})", file=sys.stderr)

if passed + failed == 0:
    print(f"error: {path} lists no cases", file=sys.stderr)
    sys.exit(1)
print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
EOF
