#!/usr/bin/env bash
# Installs what cmmo needs to build, run and test, from Debian's packages only.
# Idempotent: packages already present are skipped, so `make run` stays fast after the first time.
# Usage: scripts/install-deps.sh [run|test]
set -euo pipefail
mode=${1:-test}

run_pkgs=(build-essential pkg-config libuv1-dev libhttp-parser-dev libssl-dev
  libjansson-dev libsodium-dev libsqlite3-dev libpq-dev libhiredis-dev liblua5.4-dev
  liburing-dev) # liburing: cmmo-floor --io uring (the bench's floor, built by make build)
test_pkgs=(libcmocka-dev python3 python3-websockets clang libclang-rt-14-dev chromium nodejs npm
  sqlite3 procps postgresql redis-server nginx-light openssl systemd groff-base man-db)

pkgs=("${run_pkgs[@]}")
[ "$mode" = test ] && pkgs+=("${test_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
  # nodejs/npm may come from elsewhere than Debian on a developer machine: accept any working one.
  case "$p" in
    nodejs) command -v node >/dev/null 2>&1 && continue ;;
    npm) command -v npm >/dev/null 2>&1 && continue ;;
  esac
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}"
SUDO=
[ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
