#!/usr/bin/env bash
# Runs the limits suite (tokens, access, client limits, slow consumers) against the gateway binary
# in PRESENCE_GATEWAY_BIN (default .build/debug/presence-gateway, relative to the repository
# root). Arguments go to run_limits.py, for example `-k rate` or `-v`. Needs the openssl command
# line and the Python package websockets.
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
if ! command -v openssl >/dev/null; then
    echo "error: the openssl command line is missing; install it with: apt-get install openssl" >&2
    echo "0 passed, 1 failed"
    exit 1
fi

cd "$repository"
exec "$python" "$here/run_limits.py" "$@"
