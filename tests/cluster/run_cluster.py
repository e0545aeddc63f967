"""Runs the multi-node tests and prints `N passed, N failed`; exits non-zero on any failure."""

import sys
import time
import unittest

import test_cluster


def main():
    loader = unittest.TestLoader()
    if len(sys.argv) > 2 and sys.argv[1] == "-k":
        loader.testNamePatterns = [f"*{sys.argv[2]}*"]
    suite = loader.loadTestsFromModule(test_cluster)
    started = time.monotonic()
    result = unittest.TextTestRunner(verbosity=2, stream=sys.stderr).run(suite)
    failed = len(result.failures) + len(result.errors)
    passed = result.testsRun - failed - len(result.skipped)
    print(f"{passed} passed, {failed} failed ({time.monotonic() - started:.1f} s)")
    return 1 if failed or result.testsRun == 0 else 0


if __name__ == "__main__":
    sys.exit(main())
