#!/usr/bin/env bash
# cmmo integration tests: black-box tests of build/asan/cmmo-server (override with CMMO_SERVER).
# Always the Debian interpreter: it has python3-websockets 10.4. Last line: "RESULT: P passed, F failed".
# Arguments go to runner.py: module names (test_flows ...) and/or -k SUBSTRING.
set -uo pipefail
cd "$(dirname "$0")"
export PYTHONDONTWRITEBYTECODE=1
exec /usr/bin/python3 -u runner.py "$@"
