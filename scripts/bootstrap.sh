#!/usr/bin/env bash
# Installs what presence-gateway needs to build, run and test, and does nothing when all of it is
# present, so `make run` and `make test` call it every time.
#
# Usage: scripts/bootstrap.sh [run|test]
#   run   the Debian packages needed to build and run the gateway
#   test  (default) everything: all Debian packages below, Python `websockets` for python3, and
#         `autobahntestsuite` (wstest) for Python 2.7
#
# As root, missing Debian packages are installed with apt-get. Otherwise the script prints the
# apt-get line to run as root and exits 1.
set -euo pipefail

mode="${1:-test}"
case "$mode" in
    run | test) ;;
    *)
        echo "usage: $0 [run|test]" >&2
        exit 2
        ;;
esac

# Python 2.7 for the Autobahn|Testsuite; pyenv installs it here. Override with PYTHON27=/path/to/python2.7.
python27="${PYTHON27:-/root/.pyenv/versions/2.7.18/bin/python}"

run_packages=(liblua5.4-dev libhiredis-dev libssl-dev libtomlplusplus-dev pkg-config openssl)
test_packages=(redis-server node-ws chromium chromium-driver python3)
packages=("${run_packages[@]}")
if [[ "$mode" == test ]]; then
    packages+=("${test_packages[@]}")
fi

is_root() { [[ "$(id -u)" -eq 0 ]]; }

# dpkg -s also succeeds for removed packages whose configuration files remain, so check the status.
is_installed() { dpkg -s "$1" 2>/dev/null | grep -q '^Status: install ok installed$'; }

if ! command -v swift >/dev/null 2>&1; then
    echo "error: the Swift toolchain is not on PATH. Install Swift 6.3 (this machine has it in /opt/swift/usr/bin) and add its bin directory to PATH." >&2
    exit 1
fi

missing=()
for package in "${packages[@]}"; do
    is_installed "$package" || missing+=("$package")
done
if ((${#missing[@]} > 0)); then
    install_line="apt-get update && apt-get install -y ${missing[*]}"
    if ! is_root; then
        echo "error: missing Debian packages: ${missing[*]}" >&2
        echo "Install them as root, then run this again:" >&2
        echo "  $install_line" >&2
        exit 1
    fi
    echo "bootstrap: installing ${missing[*]}"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
fi

if [[ "$mode" == run ]]; then
    exit 0
fi

# Python `websockets`: an independent WebSocket client for the end-to-end tests.
if ! python3 -c 'import websockets' >/dev/null 2>&1; then
    echo "bootstrap: installing the Python package websockets for $(command -v python3)"
    if ! python3 -m pip install --quiet websockets; then
        # Debian's own python3 rejects pip installs into the system (PEP 668); its package works too.
        if is_root; then
            DEBIAN_FRONTEND=noninteractive apt-get install -y python3-websockets
        else
            echo "error: pip could not install websockets. As root, run: apt-get install -y python3-websockets" >&2
            exit 1
        fi
    fi
fi

# Selenium drives headless Chromium in the browser test; it uses Debian's chromedriver, never a download.
if ! python3 -c 'import selenium' >/dev/null 2>&1; then
    echo "bootstrap: installing the Python package selenium for $(command -v python3)"
    if ! python3 -m pip install --quiet selenium; then
        if is_root; then
            DEBIAN_FRONTEND=noninteractive apt-get install -y python3-selenium
        else
            echo "error: pip could not install selenium. As root, run: apt-get install -y python3-selenium" >&2
            exit 1
        fi
    fi
fi

# Autobahn|Testsuite runs only on Python 2.7.
if [[ ! -x "$python27" ]]; then
    echo "error: Python 2.7 is missing at $python27; make conformance needs it for wstest (Autobahn|Testsuite)." >&2
    echo "Install pyenv, then run: pyenv install 2.7.18" >&2
    echo "or point PYTHON27 at another Python 2.7 interpreter." >&2
    exit 1
fi
if ! "$python27" -c 'import autobahntestsuite' >/dev/null 2>&1; then
    echo "bootstrap: installing autobahntestsuite for $python27"
    "$python27" -m pip install --quiet autobahntestsuite
fi
wstest="$(dirname "$python27")/wstest"
if [[ ! -x "$wstest" ]]; then
    echo "error: autobahntestsuite is installed but $wstest does not exist; reinstall it with: $python27 -m pip install --force-reinstall autobahntestsuite" >&2
    exit 1
fi
