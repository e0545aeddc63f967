#!/usr/bin/env bash
# Runs the JavaScript client's tests under `node --test` against a real gateway, with Debian's
# node-ws as the WebSocket implementation.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
swift build --product presence-gateway
export NODE_PATH=/usr/share/nodejs
export PRESENCE_GATEWAY_BIN="${PRESENCE_GATEWAY_BIN:-.build/debug/presence-gateway}"
node --test clients/js/test/
