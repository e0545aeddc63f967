#!/usr/bin/env bash
# Runs the multi-node tests: redis-server and two or three gateway processes per test class, all on
# free loopback ports, with the gateway binary in PRESENCE_GATEWAY_BIN (default
# .build/debug/presence-gateway, relative to the repository root) and the load generator in
# PRESENCE_BENCH_BIN (default .build/release/presence-bench). Prints `N passed, N failed`.
# `-k NAME` runs only the tests whose name contains NAME.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repository="$(cd "$here/../.." && pwd)"
python="${PYTHON:-/root/.pyenv/versions/3.11.7/bin/python3}"
if [[ ! -x "$python" ]]; then
    python="$(command -v python3)"
fi

if ! "$python" -c 'import websockets' 2>/dev/null; then
    echo "error: the Python package websockets is missing; install it with: $python -m pip install websockets" >&2
    echo "0 passed, 1 failed"
    exit 1
fi
if ! command -v redis-server >/dev/null; then
    echo "error: redis-server is missing; install it with: apt-get install redis-server" >&2
    echo "0 passed, 1 failed"
    exit 1
fi

cd "$repository"
exec timeout 180 "$python" "$here/run_cluster.py" "$@"
