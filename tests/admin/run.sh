#!/usr/bin/env bash
# tests/admin: cmmo-admin (on SQLite and on a throwaway PostgreSQL from tests/support/pg.sh), the
# admin socket, make install, the systemd unit and the nginx site, all for real (see
# test_admin.py). Binaries: CMMO_SERVER (build/asan/cmmo-server) and CMMO_ADMIN
# (build/asan/cmmo-admin); `make asan` builds both. Arguments: test-name substrings.
# Always the Debian interpreter (python3-websockets). Last line: "RESULT: P passed, F failed".
set -uo pipefail
cd "$(dirname "$0")"
export PYTHONDONTWRITEBYTECODE=1
exec /usr/bin/python3 -u test_admin.py "$@"
