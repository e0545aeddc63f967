#!/usr/bin/env python3
"""Run every scenario in this folder against the real gateway binary.

Each `test_*.py` contains unittest cases that drive the gateway over real loopback sockets with the
`websockets` library. Gateways are started on free ports with temporary configs and stopped by pid
at the end. Usage:

    python3 tests/scenarios/run_scenarios.py [-k PATTERN ...]

`-k` runs only tests whose name contains PATTERN (unittest's rules). The last line printed is
"N passed, N failed", and the exit status is 1 if any test failed or raised.
"""

import argparse
import pathlib
import sys
import time
import unittest

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from gateway import GATEWAY_BINARY, POOL  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", dest="patterns", action="append", default=[],
                        help="run only tests whose name contains this text (repeatable)")
    parser.add_argument("-v", dest="verbose", action="store_true", help="print each test's name and result")
    options = parser.parse_args()

    print(f"gateway binary: {GATEWAY_BINARY}", flush=True)
    if not GATEWAY_BINARY.exists():
        print(f"error: {GATEWAY_BINARY} not found; build it with `swift build --product presence-gateway` "
              "or point PRESENCE_GATEWAY_BIN at a built binary", file=sys.stderr)
        print("0 passed, 1 failed")
        return 1
    loader = unittest.TestLoader()
    if options.patterns:
        loader.testNamePatterns = [f"*{pattern}*" for pattern in options.patterns]
    suite = loader.discover(str(HERE), pattern="test_*.py", top_level_dir=str(HERE))

    started = time.monotonic()
    runner = unittest.TextTestRunner(verbosity=2 if options.verbose else 1, stream=sys.stdout)
    try:
        result = runner.run(suite)
    finally:
        POOL.stop_all()
    # A test fails once however many of its subtests fail.
    failed_tests = {test.id().split(" ")[0] for test, _ in result.failures + result.errors}
    failed = len(failed_tests)
    passed = result.testsRun - failed - len(result.skipped)
    print(f"suite took {time.monotonic() - started:.1f} s")
    known = sorted(name for name in failed_tests if "expected_failure" in name)
    if known:
        print(f"{len(known)} of the failures are known gateway bugs: {', '.join(known)}")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
