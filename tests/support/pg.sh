#!/usr/bin/env bash
# A throwaway PostgreSQL server for tests: its own data directory and unix socket in DIR, listening
# on a free port on 127.0.0.1 only, trust authentication, fsync off. Never a system service.
#
#   pg.sh start [DIR]   initialise and start; DIR defaults to a new /tmp/cmmo-pg.XXXXXX. Prints the
#                       URL (postgres://cmmo@127.0.0.1:PORT/cmmo) on stdout, last line; DIR is on
#                       stderr and in $DIR/url beside it.
#   pg.sh halt DIR      stop the server, keeping its data and port (to test reconnection)
#   pg.sh resume DIR    start a halted server again on the same port
#   pg.sh stop DIR      stop the server and delete DIR
#
# initdb refuses to run as root: as root the server runs as `nobody` (via runuser), which owns DIR.
# PostgreSQL's binaries are looked up in $PG_BINDIR, then /usr/lib/postgresql/<newest>/bin, then
# pg_config --bindir, then PATH.
set -euo pipefail

MARKER=.cmmo-throwaway-pg # stop only ever deletes a directory that has this file
DB_USER=cmmo
DB_NAME=cmmo

die() {
  echo "pg.sh: $*" >&2
  exit 1
}

find_bindir() {
  if [ -n "${PG_BINDIR:-}" ] && [ -x "$PG_BINDIR/initdb" ]; then echo "$PG_BINDIR"; return; fi
  local d
  d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$d" ] && [ -x "$d/initdb" ]; then echo "$d"; return; fi
  if command -v pg_config >/dev/null && [ -x "$(pg_config --bindir)/initdb" ]; then
    pg_config --bindir
    return
  fi
  d=$(dirname "$(command -v initdb 2>/dev/null || echo /nonexistent/initdb)")
  [ -x "$d/initdb" ] || die "initdb not found (install postgresql, or set PG_BINDIR)"
  echo "$d"
}

# Runs a command as the server's owner: ourselves, or nobody when we are root.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u nobody -- "$@"
  else
    "$@"
  fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

check_dir() {
  [ -n "${1:-}" ] || die "usage: pg.sh $2 DIR"
  [ -f "$1/$MARKER" ] || die "$1 is not a directory made by pg.sh start"
}

pg_start() {
  local bin=$1 dir=$2
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 start >/dev/null ||
    { tail -n 20 "$dir/server.log" >&2; die "server did not start (log above)"; }
}

cmd_start() {
  local dir=${1:-} bin port
  bin=$(find_bindir)
  if [ -z "$dir" ]; then
    dir=$(mktemp -d /tmp/cmmo-pg.XXXXXX)
  else
    mkdir -p "$dir"
    [ -z "$(ls -A "$dir")" ] || die "$dir is not empty"
  fi
  touch "$dir/$MARKER"
  mkdir -p "$dir/sock"
  if [ "$(id -u)" -eq 0 ]; then chown -R nobody "$dir"; fi
  as_owner "$bin/initdb" -D "$dir/data" -U "$DB_USER" --auth=trust --encoding=UTF8 \
    --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; die "initdb failed"; }
  # A few tries: another process may take the free port between the probe and the bind.
  for try in 1 2 3 4 5; do
    port=$(free_port)
    cat >>"$dir/data/postgresql.conf" <<EOF
# cmmo throwaway test server (tests/support/pg.sh)
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir/sock'
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 50
EOF
    if as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 start >/dev/null; then
      break
    fi
    port=
  done
  [ -n "$port" ] || { tail -n 20 "$dir/server.log" >&2; die "server did not start (log above)"; }
  "$bin/createdb" -h 127.0.0.1 -p "$port" -U "$DB_USER" "$DB_NAME" ||
    die "createdb failed"
  echo "$port" >"$dir/port"
  echo "postgres://$DB_USER@127.0.0.1:$port/$DB_NAME" >"$dir/url"
  echo "pg.sh: started in $dir" >&2
  cat "$dir/url"
}

cmd_halt() {
  check_dir "${1:-}" halt
  as_owner "$(find_bindir)/pg_ctl" -D "$1/data" -m fast -w stop >/dev/null
}

cmd_resume() {
  check_dir "${1:-}" resume
  pg_start "$(find_bindir)" "$1"
}

cmd_stop() {
  check_dir "${1:-}" stop
  if [ -f "$1/data/postmaster.pid" ]; then
    as_owner "$(find_bindir)/pg_ctl" -D "$1/data" -m immediate -w stop >/dev/null || true
  fi
  rm -rf -- "$1"
}

case "${1:-}" in
start) cmd_start "${2:-}" ;;
halt) cmd_halt "${2:-}" ;;
resume) cmd_resume "${2:-}" ;;
stop) cmd_stop "${2:-}" ;;
*) die "usage: pg.sh start [DIR] | halt DIR | resume DIR | stop DIR" ;;
esac
