"""The gateway process: SIGTERM shuts down cleanly, and --check validates a configuration."""

import asyncio
import signal
import subprocess
import tempfile
import pathlib

from client import Client, ScenarioCase
from gateway import GATEWAY_BINARY, REPOSITORY, Gateway, render_config, merged_config

CHECK_TIMEOUT_S = 20


def run_check(config_path, cwd):
    return subprocess.run([str(GATEWAY_BINARY), "--check", "--config", str(config_path)], cwd=cwd,
                          capture_output=True, text=True, timeout=CHECK_TIMEOUT_S)


class ShutdownTests(ScenarioCase):
    async def test_sigterm_closes_with_1001_and_exits_zero(self):
        loop = asyncio.get_running_loop()
        gateway = await loop.run_in_executor(None, Gateway("sigterm").start)
        try:
            document = self.document()
            ada = await Client.connect(gateway.ws_url, "ada")
            grace = await Client.connect(gateway.ws_url, "grace")
            self.clients += [ada, grace]
            await ada.join(document, "ada")
            await grace.join(document, "grace")

            gateway.process.send_signal(signal.SIGTERM)
            self.assertEqual(await ada.wait_closed(timeout=5), 1001)
            self.assertEqual(await grace.wait_closed(timeout=5), 1001)
            exit_code = await loop.run_in_executor(None, gateway.stop)
            self.assertEqual(exit_code, 0, gateway.stderr())
        finally:
            await loop.run_in_executor(None, gateway.cleanup)


class ConfigCheckTests(ScenarioCase):
    async def test_check_accepts_shipped_config(self):
        result = run_check(REPOSITORY / "config.toml", cwd=REPOSITORY)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("valid", result.stdout)

    async def test_check_rejects_unknown_key_by_name(self):
        with tempfile.TemporaryDirectory(prefix="presence-scenario-check-") as directory:
            config = merged_config({"presence": {"cursor_throttle_msec": 50}})
            path = pathlib.Path(directory) / "config.toml"
            path.write_text(render_config(config))
            result = run_check(path, cwd=directory)
        self.assertEqual(result.returncode, 1)
        self.assertIn("cursor_throttle_msec", result.stderr)
        self.assertIn("presence", result.stderr)

    async def test_check_rejects_out_of_range_value(self):
        with tempfile.TemporaryDirectory(prefix="presence-scenario-check-") as directory:
            config = merged_config({"presence": {"activity_timeout_ms": 300}})
            path = pathlib.Path(directory) / "config.toml"
            path.write_text(render_config(config))
            result = run_check(path, cwd=directory)
        self.assertEqual(result.returncode, 1)
        self.assertIn("activity_timeout_ms", result.stderr)
        self.assertIn("300", result.stderr)
