"""Runs the integration suite: each test_*.py module in its own process (each starts its own
servers on free ports), several at once, then prints one summary line:

    RESULT: P passed, F failed

Errors count as failed; skipped tests are not counted as passed; a module that crashes or times
out counts all of its tests as failed. Exit status: 0 only if F == 0 and P > 0.

    runner.py                      the whole suite
    runner.py test_flows ...       only these modules
    runner.py -k chat              only tests whose id contains "chat"
Environment: CMMO_IT_JOBS (parallel modules, default 4), CMMO_IT_MODULE_TIMEOUT (s, default 200).
"""

import os
import re
import subprocess
import sys
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
PY = "/usr/bin/python3"
RESULT_RE = re.compile(r"^@@RESULT passed=(\d+) failed=(\d+) skipped=(\d+)$", re.M)
TOTAL_RE = re.compile(r"^@@TOTAL (\d+)$", re.M)


class CountingResult(unittest.TextTestResult):
    def __init__(self, *a, **kw):
        super().__init__(*a, **kw)
        self.successes = []
        self.class_teardown_errors = 0

    def addSuccess(self, test):
        super().addSuccess(test)
        self.successes.append(test)

    def addError(self, test, err):
        super().addError(test, err)
        if not isinstance(test, unittest.TestCase) and "tearDownClass" in str(test):
            self.class_teardown_errors += 1


def filter_suite(suite, needle):
    out = unittest.TestSuite()
    for t in suite:
        if isinstance(t, unittest.TestSuite):
            sub = filter_suite(t, needle)
            if sub.countTestCases():
                out.addTest(sub)
        elif needle is None or needle in t.id():
            out.addTest(t)
    return out


def run_module(name, needle):
    sys.path.insert(0, HERE)
    suite = filter_suite(unittest.defaultTestLoader.loadTestsFromName(name), needle)
    total = suite.countTestCases()
    print("@@TOTAL %d" % total, flush=True)
    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=2, resultclass=CountingResult)
    result = runner.run(suite)
    passed = len(result.successes)
    skipped = len(result.skipped)
    failed = total - passed - skipped + result.class_teardown_errors
    print("@@RESULT passed=%d failed=%d skipped=%d" % (passed, failed, skipped), flush=True)
    return 0 if failed == 0 else 1


# Slowest first, so that the parallel run ends sooner.
ORDER = ["test_robustness", "test_persistence", "test_movement", "test_auth", "test_flows",
         "test_limits", "test_passwords", "test_cli_http"]


def main(argv):
    if len(argv) >= 2 and argv[0] == "--module":
        needle = argv[3] if len(argv) >= 4 and argv[2] == "-k" else None
        return run_module(argv[1], needle)

    needle = None
    names = []
    i = 0
    while i < len(argv):
        if argv[i] == "-k" and i + 1 < len(argv):
            needle = argv[i + 1]
            i += 2
            continue
        names.append(argv[i].removesuffix(".py"))
        i += 1
    if not names:
        names = sorted(f[:-3] for f in os.listdir(HERE) if re.match(r"test_.*\.py$", f))
        names.sort(key=lambda n: ORDER.index(n) if n in ORDER else len(ORDER))

    jobs = int(os.environ.get("CMMO_IT_JOBS", "4"))
    module_timeout = float(os.environ.get("CMMO_IT_MODULE_TIMEOUT", "200"))
    pending = list(names)
    running = {}  # name -> (proc, start, logfile)
    total_p = total_f = total_s = 0
    started = time.monotonic()
    while pending or running:
        while pending and len(running) < jobs:
            name = pending.pop(0)
            log = open(os.path.join("/tmp", "cmmo-it-%d-%s.log" % (os.getpid(), name)), "w+")
            cmd = [PY, os.path.abspath(__file__), "--module", name]
            if needle:
                cmd += ["-k", needle]
            proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=HERE)
            running[name] = (proc, time.monotonic(), log)
        time.sleep(0.1)
        for name, (proc, t0, log) in list(running.items()):
            timed_out = proc.poll() is None and time.monotonic() - t0 > module_timeout
            if proc.poll() is None and not timed_out:
                continue
            if timed_out:
                proc.kill()
                proc.wait()
            del running[name]
            log.seek(0)
            out = log.read()
            log.close()
            os.unlink(log.name)
            print("=" * 70)
            print("module %s (%.1f s)" % (name, time.monotonic() - t0))
            print("=" * 70)
            print("\n".join(l for l in out.splitlines() if not l.startswith("@@")))
            m = RESULT_RE.search(out)
            if m and not timed_out:
                p, f, s = map(int, m.groups())
            else:
                t = TOTAL_RE.search(out)
                p, s = 0, 0
                f = int(t.group(1)) if t else 1
                f = max(f, 1)
                why = "timed out after %.0f s" % module_timeout if timed_out else \
                    "exited with %s without a result" % proc.returncode
                print("module %s %s: counting its %d tests as failed" % (name, why, f))
            total_p += p
            total_f += f
            total_s += s
            sys.stdout.flush()
    print("=" * 70)
    print("integration suite: %.1f s, %d skipped" % (time.monotonic() - started, total_s))
    print("RESULT: %d passed, %d failed" % (total_p, total_f))
    return 0 if total_f == 0 and total_p > 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
