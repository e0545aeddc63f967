#!/usr/bin/env bash
# Runs the demo page in two headless Chromium instances against a real gateway.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
swift build --product presence-gateway
export PRESENCE_GATEWAY_BIN="${PRESENCE_GATEWAY_BIN:-.build/debug/presence-gateway}"
python3 tests/browser/test_demo.py
