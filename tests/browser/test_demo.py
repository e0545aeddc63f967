#!/usr/bin/env python3
"""Headless Chromium test of the demo page: two browsers as two users on one document.

It starts a gateway (PRESENCE_GATEWAY_BIN, default .build/debug/presence-gateway) on free loopback
ports serving web/, and opens the demo in two Chromium instances through Selenium and chromedriver. It
checks that a caret moved in one page appears in the other at the right line, column, colour and name.
It checks that typing shows "... is typing" in the other page and clears after the debounce, and that
closing a page removes its caret from the other within one second. It saves a screenshot of two users
in docs/images/demo-two-users.png.

Needs Debian's chromium and chromium-driver, and Selenium (pip install selenium). Run:
    python3 tests/browser/test_demo.py
It prints one line per check and a closing "N passed, N failed", and exits 1 if any check failed.
"""

import math
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback

try:
    from selenium import webdriver
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
except ImportError:
    print("selenium is missing: install it with `python3 -m pip install selenium`", file=sys.stderr)
    print("0 passed, 1 failed")
    sys.exit(1)

REPOSITORY = pathlib.Path(__file__).resolve().parents[2]
GATEWAY_BINARY = (REPOSITORY / os.environ.get("PRESENCE_GATEWAY_BIN", ".build/debug/presence-gateway")).resolve()
SCREENSHOT = REPOSITORY / "docs" / "images" / "demo-two-users.png"
CHROMIUM = os.environ.get("CHROMIUM_BIN", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("CHROMEDRIVER_BIN", "/usr/bin/chromedriver")
DOCUMENT = "browser-test"
# User ids whose colours (a hash of the id) are far apart, green and violet, so the screenshot tells
# the two users apart.
ADA = "ada-lovelace"
GRACE = "grace-hopper"
STARTUP_TIMEOUT_S = 20
# The gateway's typing debounce is 500 ms and the client throttles keystrokes to one per 100 ms, so
# "is typing" must clear well within this after the last key.
TYPING_CLEAR_TIMEOUT_S = 2.0
CLOSE_TIMEOUT_S = 1.0
# Carets are placed at whole or half pixels, and text metrics can round differently by a fraction.
POSITION_TOLERANCE_PX = 1.5


class CheckFailed(Exception):
    pass


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until(condition, description, timeout_s=5.0, interval_s=0.02):
    """Polls `condition` until it returns a truthy value, which it returns; raises CheckFailed on timeout."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise CheckFailed(f"timed out after {timeout_s} s waiting for {description}")
        time.sleep(interval_s)


class Gateway:
    """A gateway process on free loopback ports, stopped by pid."""

    def __init__(self):
        self.port = free_port()
        self.admin_port = free_port()
        self.directory = tempfile.mkdtemp(prefix="presence-browser-test-")
        self.config_path = os.path.join(self.directory, "gateway.toml")
        self.log_path = os.path.join(self.directory, "gateway.log")
        with open(self.config_path, "w", encoding="utf-8") as config:
            config.write(
                "[server]\n"
                f'listen = "127.0.0.1:{self.port}"\n'
                f"web_root = {toml_string(str(REPOSITORY / 'web'))}\n"
                "\n[admin]\n"
                f'listen = "127.0.0.1:{self.admin_port}"\n'
            )
        self.process = None

    def start(self):
        if not GATEWAY_BINARY.exists():
            raise CheckFailed(
                f"gateway binary not found at {GATEWAY_BINARY}: build it with "
                "`swift build --product presence-gateway` or set PRESENCE_GATEWAY_BIN"
            )
        self.log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            [str(GATEWAY_BINARY), "--config", self.config_path],
            cwd=REPOSITORY, stdout=self.log, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise CheckFailed(f"gateway exited during start-up with status {self.process.returncode}:\n{self.output()}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        raise CheckFailed(f"gateway did not listen on port {self.port} within {STARTUP_TIMEOUT_S} s:\n{self.output()}")

    def page_url(self, user_id):
        """Returns the demo page's address on this gateway, for the given user id."""
        return f"http://127.0.0.1:{self.port}/?user={user_id}"

    def output(self):
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as log:
                return log.read()[-4000:]
        except OSError:
            return ""

    def stop(self):
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.kill(self.process.pid, signal.SIGKILL)
                self.process.wait()
        if self.process:
            self.log.close()
        shutil.rmtree(self.directory, ignore_errors=True)


def toml_string(value):
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def new_browser():
    options = Options()
    options.binary_location = CHROMIUM
    # Chromium refuses to start as root with its sandbox, and this test runs as root in CI.
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                     "--window-size=1280,760", "--force-device-scale-factor=1", "--hide-scrollbars"):
        options.add_argument(argument)
    return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)


def open_demo(browser, gateway, user_id, name):
    browser.get(gateway.page_url(user_id))
    name_input = browser.find_element(By.ID, "name-input")
    name_input.clear()
    name_input.send_keys(name)
    document_input = browser.find_element(By.ID, "document-input")
    document_input.clear()
    document_input.send_keys(DOCUMENT)
    browser.find_element(By.ID, "join-button").click()
    wait_until(
        lambda: browser.execute_script("return window.presenceDemo.doc?.status") == "joined",
        f"{name} to join",
    )


def caret_of(browser, user_id):
    """Returns the caret element's line, column, position, colour and label in `browser`, or None."""
    return browser.execute_script(
        """
        const caret = document.querySelector(`.remote-cursor[data-user-id="${arguments[0]}"]`);
        if (!caret) return null;
        return {
          line: Number(caret.dataset.line), column: Number(caret.dataset.column),
          left: parseFloat(caret.style.left), top: parseFloat(caret.style.top),
          display: getComputedStyle(caret).display,
          background: getComputedStyle(caret).backgroundColor,
          label: caret.querySelector('.cursor-label').textContent,
          labelVisible: getComputedStyle(caret.querySelector('.cursor-label')).display !== 'none',
        };
        """,
        user_id,
    )


def expected_caret_position(browser, line, column):
    """Computes where a caret at (line, column) belongs from the monospace font's metrics alone, without
    the client's layout code: padding plus column times the glyph width, and line times the line height."""
    return browser.execute_script(
        """
        const textarea = document.getElementById('editor');
        const style = getComputedStyle(textarea);
        const context = document.createElement('canvas').getContext('2d');
        context.font = `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
        const glyphWidth = context.measureText('0123456789').width / 10;
        return {
          left: parseFloat(style.paddingLeft) + arguments[1] * glyphWidth - textarea.scrollLeft,
          top: parseFloat(style.paddingTop) + arguments[0] * parseFloat(style.lineHeight) - textarea.scrollTop,
          glyphWidth,
        };
        """,
        line,
        column,
    )


def css_color(browser, color):
    """Returns the rgb() form the browser computes for a CSS colour such as hsl(120, 70%, 50%)."""
    return browser.execute_script(
        """
        const probe = document.createElement('span');
        probe.style.color = arguments[0];
        document.body.appendChild(probe);
        const computed = getComputedStyle(probe).color;
        probe.remove();
        return computed;
        """,
        color,
    )


def move_caret(browser, line, column, select_right=0):
    """Moves the caret in the page's textarea with the keyboard, as a person would."""
    editor = browser.find_element(By.ID, "editor")
    editor.click()
    editor.send_keys(Keys.CONTROL, Keys.HOME)
    editor.send_keys(*([Keys.ARROW_DOWN] * line))
    editor.send_keys(Keys.HOME)
    editor.send_keys(*([Keys.ARROW_RIGHT] * column))
    if select_right:
        # Selenium keeps a modifier pressed from its first appearance to the end of the call.
        editor.send_keys(Keys.SHIFT, *([Keys.ARROW_RIGHT] * select_right))


class DemoTest:
    def __init__(self):
        self.gateway = Gateway()
        self.ada = None
        self.grace = None
        self.passed = 0
        self.failed = 0

    def check(self, name, function):
        try:
            function()
        except Exception as error:  # noqa: BLE001 - every failure of a check is reported the same way
            self.failed += 1
            detail = str(error) if isinstance(error, CheckFailed) else traceback.format_exc()
            print(f"FAIL {name}: {detail}")
        else:
            self.passed += 1
            print(f"ok   {name}")

    def run(self):
        try:
            self.check("gateway starts and both pages join", self.start)
            if self.failed:
                print(self.gateway.output(), file=sys.stderr)
                return
            self.check("caret appears at line, column, colour and name", self.caret_appears)
            self.check("selection is highlighted in the user's colour", self.selection_highlighted)
            self.check("typing shows and clears after the debounce", self.typing_shows_and_clears)
            self.check("screenshot of two users is saved", self.take_screenshot)
            self.check("closing a page removes its caret within 1 s", self.closing_removes_caret)
        finally:
            for browser in (self.ada, self.grace):
                if browser is not None:
                    try:
                        browser.quit()
                    except Exception:  # noqa: BLE001 - a browser already gone needs no quitting
                        pass
            self.gateway.stop()

    def start(self):
        self.gateway.start()
        self.ada = new_browser()
        self.grace = new_browser()
        open_demo(self.ada, self.gateway, ADA, "Ada Lovelace")
        open_demo(self.grace, self.gateway, GRACE, "Grace Hopper")
        wait_until(
            lambda: self.ada.execute_script("return window.presenceDemo.doc.users.has(arguments[0])", GRACE),
            "Ada's page to list Grace",
        )

    def caret_appears(self):
        line, column = 8, 12
        move_caret(self.ada, line, column)
        caret = wait_until(
            lambda: (c := caret_of(self.grace, ADA)) and c["line"] == line and c["column"] == column and c,
            f"Ada's caret at line {line}, column {column} in Grace's page",
        )
        expected = expected_caret_position(self.grace, line, column)
        if abs(caret["left"] - expected["left"]) > POSITION_TOLERANCE_PX:
            raise CheckFailed(f"caret left is {caret['left']} px, expected {expected['left']:.1f} px")
        if abs(caret["top"] - expected["top"]) > POSITION_TOLERANCE_PX:
            raise CheckFailed(f"caret top is {caret['top']} px, expected {expected['top']:.1f} px")
        if caret["display"] == "none":
            raise CheckFailed("caret is hidden")

        ada_color = self.grace.execute_script("return window.presenceDemo.doc.users.get(arguments[0]).color", ADA)
        if not ada_color.startswith("hsl("):
            raise CheckFailed(f"Ada's colour is {ada_color!r}, expected hsl(H, 70%, 50%)")
        if caret["background"] != css_color(self.grace, ada_color):
            raise CheckFailed(f"caret colour is {caret['background']}, expected {ada_color}")
        if caret["label"] != "Ada Lovelace":
            raise CheckFailed(f"caret label is {caret['label']!r}, expected 'Ada Lovelace'")
        if not caret["labelVisible"]:
            raise CheckFailed("the name label is hidden right after the caret moved")

        people = self.grace.find_element(By.ID, "people").text
        if "Ada Lovelace" not in people or "Grace Hopper (you)" not in people:
            raise CheckFailed(f"people list is {people!r}, expected both users")

    def selection_highlighted(self):
        move_caret(self.ada, 2, 2, select_right=8)
        rects = wait_until(
            lambda: self.grace.execute_script(
                """
                return Array.from(document.querySelectorAll(`.remote-selection[data-user-id="${arguments[0]}"] .remote-selection-rect`),
                  (rect) => ({ width: parseFloat(rect.style.width), background: getComputedStyle(rect).backgroundColor }));
                """,
                ADA,
            ),
            "Ada's selection in Grace's page",
        )
        glyph_width = expected_caret_position(self.grace, 2, 2)["glyphWidth"]
        if len(rects) != 1:
            raise CheckFailed(f"expected one highlight rectangle for a one-line selection, got {len(rects)}")
        if not math.isclose(rects[0]["width"], 8 * glyph_width, abs_tol=POSITION_TOLERANCE_PX):
            raise CheckFailed(f"highlight is {rects[0]['width']} px wide, expected {8 * glyph_width:.1f} px")
        ada_color = self.grace.execute_script("return window.presenceDemo.doc.users.get(arguments[0]).color", ADA)
        if rects[0]["background"] != css_color(self.grace, ada_color):
            raise CheckFailed(f"highlight colour is {rects[0]['background']}, expected {ada_color}")

    def typing_indicator_text(self):
        return self.grace.find_element(By.ID, "typing-indicator").get_attribute("textContent")

    def typing_shows_and_clears(self):
        move_caret(self.ada, 14, 0)
        editor = self.ada.find_element(By.ID, "editor")
        for character in "Hello ":
            editor.send_keys(character)
            time.sleep(0.05)
        last_key_at = time.monotonic()
        wait_until(lambda: self.typing_indicator_text() == "Ada Lovelace is typing...", "'Ada Lovelace is typing...'")
        caret = caret_of(self.grace, ADA)
        if not caret["labelVisible"]:
            raise CheckFailed("the name label is hidden while Ada types")
        wait_until(lambda: self.typing_indicator_text() == "", "the typing indicator to clear", TYPING_CLEAR_TIMEOUT_S)
        cleared_after = time.monotonic() - last_key_at
        if cleared_after < 0.4:
            raise CheckFailed(f"typing cleared {cleared_after:.2f} s after the last key, before the 500 ms debounce")

    def take_screenshot(self):
        # Ada selects a phrase and is marked typing, so the picture shows a caret, its label, a selection,
        # the typing indicator and both users in the list.
        move_caret(self.ada, 7, 3, select_right=14)
        # Typing after the last cursor message has gone out leaves Ada "editing" every run, so the
        # picture does not change from run to run.
        time.sleep(0.3)
        self.ada.execute_script("window.presenceDemo.doc.setTyping(true)")
        move_caret(self.grace, 13, 5)
        wait_until(lambda: self.typing_indicator_text() == "Ada Lovelace is typing...", "Ada typing for the screenshot")
        wait_until(
            lambda: self.grace.execute_script(
                "return window.presenceDemo.doc.users.get(arguments[0]).state.activity", ADA) == "Editing",
            "Ada's activity to be Editing",
        )
        # Grace's own caret blinks, which would change the picture between runs.
        self.grace.execute_script("document.activeElement.blur()")
        wait_until(
            lambda: self.grace.execute_script(
                "return document.querySelectorAll(`.remote-selection[data-user-id=\"${arguments[0]}\"] .remote-selection-rect`).length",
                ADA,
            ),
            "Ada's selection for the screenshot",
        )
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        if not self.grace.save_screenshot(str(SCREENSHOT)):
            raise CheckFailed(f"could not write {SCREENSHOT}")
        self.ada.execute_script("window.presenceDemo.doc.setTyping(false)")

    def closing_removes_caret(self):
        if caret_of(self.grace, ADA) is None:
            raise CheckFailed("Ada's caret is not shown before closing her page")
        closed_at = time.monotonic()
        self.ada.quit()
        self.ada = None
        wait_until(lambda: caret_of(self.grace, ADA) is None, "Ada's caret to disappear", CLOSE_TIMEOUT_S)
        elapsed = time.monotonic() - closed_at
        people = self.grace.find_element(By.ID, "people").text
        if "Ada Lovelace" in people:
            raise CheckFailed(f"Ada is still listed after her page closed: {people!r}")
        print(f"     caret removed {elapsed * 1000:.0f} ms after the page closed")


def main():
    # Selenium must use the chromedriver named above and never fetch one.
    os.environ.setdefault("SE_OFFLINE", "true")
    test = DemoTest()
    test.run()
    print(f"{test.passed} passed, {test.failed} failed")
    return 1 if test.failed else 0


if __name__ == "__main__":
    sys.exit(main())
