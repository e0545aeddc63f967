#!/usr/bin/env python3
"""Run the limits suite: token rejections, access rules, client limits and slow consumers.

Each `test_*.py` in this folder contains unittest cases that drive the real gateway binary over
loopback sockets. Gateways start on free ports with temporary configs and are stopped by pid at
the end. Usage:

    python3 tests/limits/run_limits.py [-k PATTERN ...] [-v]

The last line printed is "N passed, N failed", and the exit status is 1 if any test failed.
"""

import argparse
import logging
import pathlib
import sys
import time
import unittest

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from support import GATEWAY_BINARY, cleanup  # noqa: E402


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-k", dest="patterns", action="append", default=[],
                        help="run only tests whose name contains this text (repeatable)")
    parser.add_argument("-v", dest="verbose", action="store_true", help="print each test's name and result")
    options = parser.parse_args()

    # IsolatedAsyncioTestCase runs its loop in debug mode, which logs every callback slower than
    # 100 ms; on a shared two-core machine those are noise, not failures.
    logging.getLogger("asyncio").setLevel(logging.ERROR)
    print(f"gateway binary: {GATEWAY_BINARY}", flush=True)
    loader = unittest.TestLoader()
    if options.patterns:
        loader.testNamePatterns = [f"*{pattern}*" for pattern in options.patterns]
    suite = loader.discover(str(HERE), pattern="test_*.py", top_level_dir=str(HERE))

    started = time.monotonic()
    runner = unittest.TextTestRunner(verbosity=2 if options.verbose else 1, stream=sys.stdout)
    try:
        result = runner.run(suite)
    finally:
        cleanup()
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    passed = result.testsRun - failed - len(result.skipped) - len(result.expectedFailures)
    print(f"suite took {time.monotonic() - started:.1f} s")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 and result.testsRun > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
