"""Start and stop the real presence-gateway binary on free loopback ports, with a temporary config."""

import http.client
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import tempfile
import time

REPOSITORY = pathlib.Path(__file__).resolve().parents[2]
GATEWAY_BINARY = (REPOSITORY / os.environ.get("PRESENCE_GATEWAY_BIN", ".build/debug/presence-gateway")).resolve()
ADMIN_TOKEN = "scenario-admin-token"
STARTUP_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 10.0

# Timings small enough that the suite runs in seconds. Idle and away are far off here, so they
# never interleave with the events other scenarios count. The activity scenarios start their own
# gateway with timeouts near the smallest the configuration accepts.
BASE_CONFIG = {
    "server": {
        "event_loops": 2,
        "ping_interval_ms": 10000,
        "pong_timeout_ms": 20000,
        "shutdown_timeout_ms": 2000,
        "web_root": "",
        # Scenarios send bursts well above a browser's rate; the rate limit has its own scenario.
        "messages_per_second": 10000,
    },
    "admin": {"token": ADMIN_TOKEN},
    "log": {"level": "warning"},
    "presence": {
        "cursor_throttle_ms": 50,
        "typing_debounce_ms": 200,
        "activity_timeout_ms": 600000,
        "away_timeout_ms": 1200000,
        "flush_interval_ms": 16,
    },
    "plugins": {"enabled": False},
}


def free_port():
    """Return a TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def toml_value(value):
    """Write a Python bool, int, float, str or list as a TOML value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    raise TypeError(f"cannot write {value!r} as a TOML value")


def render_config(sections):
    """Write a dict of table name to dict of key and value as a TOML document."""
    lines = []
    for table, keys in sections.items():
        lines.append(f"[{table}]")
        for key, value in keys.items():
            lines.append(f"{key} = {toml_value(value)}")
        lines.append("")
    return "\n".join(lines)


def merged_config(overrides):
    """Return BASE_CONFIG with `overrides` (table name to keys) laid over it, key by key."""
    sections = {table: dict(keys) for table, keys in BASE_CONFIG.items()}
    for table, keys in (overrides or {}).items():
        sections.setdefault(table, {}).update(keys)
    return sections


class Gateway:
    """One gateway process. `start()` waits until /healthz responds; `stop()` sends SIGTERM by pid."""

    def __init__(self, name, overrides=None):
        self.name = name
        self.port = free_port()
        self.admin_port = free_port()
        self.config = merged_config(overrides)
        self.config["server"]["listen"] = f"127.0.0.1:{self.port}"
        self.config["admin"]["listen"] = f"127.0.0.1:{self.admin_port}"
        self.directory = pathlib.Path(tempfile.mkdtemp(prefix=f"presence-scenario-{name}-"))
        self.config_path = self.directory / "config.toml"
        self.stderr_path = self.directory / "stderr.log"
        self.process = None
        self.exit_code = None

    @property
    def ws_url(self):
        return f"ws://127.0.0.1:{self.port}/v1/ws"

    @property
    def token(self):
        return self.config["admin"].get("token", "")

    def start(self):
        if not GATEWAY_BINARY.exists():
            raise RuntimeError(
                f"gateway binary {GATEWAY_BINARY} not found; build it with `swift build --product presence-gateway` "
                "or set PRESENCE_GATEWAY_BIN")
        self.config_path.write_text(render_config(self.config))
        with open(self.stderr_path, "wb") as stderr:
            self.process = subprocess.Popen(
                [str(GATEWAY_BINARY), "--config", str(self.config_path)],
                cwd=self.directory, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=stderr)
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gateway {self.name} exited with {self.process.returncode} at start:\n{self.stderr()}")
            try:
                status, _, _ = self.admin_get("/healthz", timeout=0.5)
                if status == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"gateway {self.name} did not respond to /healthz within {STARTUP_TIMEOUT_S} s:\n{self.stderr()}")

    def stop(self):
        """Send SIGTERM to this gateway's pid and wait; SIGKILL it if it does not exit. Returns the exit code."""
        if self.process is None:
            return self.exit_code
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=STOP_TIMEOUT_S)
        self.exit_code = self.process.returncode
        self.process = None
        return self.exit_code

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def stderr(self):
        try:
            return self.stderr_path.read_text(errors="replace")
        except OSError:
            return ""

    def admin_get(self, path, token=None, timeout=5.0):
        """GET `path` from the admin listener; returns (status, headers dict, body text).

        `token` None sends this gateway's admin token; "" sends no Authorization header."""
        if token is None:
            token = self.token
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        connection = http.client.HTTPConnection("127.0.0.1", self.admin_port, timeout=timeout)
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            body = response.read().decode("utf-8", errors="replace")
            return response.status, {name.lower(): value for name, value in response.getheaders()}, body
        finally:
            connection.close()


class GatewayPool:
    """Gateways shared by the scenarios, started on first use and stopped by the runner at the end."""

    def __init__(self):
        self.running = {}

    def get(self, name, overrides=None):
        if name not in self.running:
            self.running[name] = Gateway(name, overrides).start()
        return self.running[name]

    def stop_all(self):
        for gateway in self.running.values():
            gateway.cleanup()
        self.running.clear()


POOL = GatewayPool()


def main_gateway():
    """The gateway most scenarios share: default limits, idle and away far off, admin token set."""
    return POOL.get("main")
