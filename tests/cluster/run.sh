#!/usr/bin/env bash
# cmmo cluster tests: real PostgreSQL and Redis servers (Debian's packages) on loopback, started
# and stopped by the tests, and cmmo nodes sharing them (build/asan/cmmo-server, or CMMO_SERVER).
# Arguments: unittest names (test_cluster.TestRegions ...); default: every test.
# Last line: "RESULT: P passed, F failed"; exits non-zero on any failure or when nothing ran.
set -uo pipefail
cd "$(dirname "$0")"
export PYTHONDONTWRITEBYTECODE=1
exec /usr/bin/python3 -u - "$@" <<'PY'
import sys
import unittest

names = sys.argv[1:] or ["test_cluster", "test_faults"]
suite = unittest.defaultTestLoader.loadTestsFromNames(names)
total = suite.countTestCases()


class Result(unittest.TextTestResult):
    passed = 0

    def addSuccess(self, test):
        super().addSuccess(test)
        self.passed += 1


result = unittest.TextTestRunner(stream=sys.stdout, verbosity=2, resultclass=Result).run(suite)
# Errors in setUpClass/tearDownClass are not tests of their own: count them as failures too.
failed = total - result.passed - len(result.skipped)
failed += sum(1 for t, _ in result.errors if not isinstance(t, unittest.TestCase))
print("RESULT: %d passed, %d failed" % (result.passed, failed))
sys.exit(0 if failed == 0 and result.passed > 0 else 1)
PY
