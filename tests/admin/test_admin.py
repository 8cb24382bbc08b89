"""tests/admin: operations, for real.

- cmmo-admin on the database with the server down (create, list, reset, delete, refusals), on
  SQLite and on a throwaway PostgreSQL (tests/support/pg.sh; not starting it is a failure);
- the admin socket of a running server (online, kick, broadcast; mode 0600, peer uid, limits,
  stale and live sockets, removal at shutdown), with real WebSocket players;
- packaging: `make install PREFIX=...`, the systemd unit (`systemd-analyze verify`), the nginx
  site in deploy/nginx/cmmo.conf run in a real nginx and played through (ws:// and wss://).

Each test prints PASS, FAIL or NOT RUN (with why); the last line is "RESULT: P passed, F failed".
NOT RUN counts as neither. Binaries: CMMO_SERVER (build/asan/cmmo-server), CMMO_ADMIN
(build/asan/cmmo-admin). Arguments: substrings of test names to run only those.
"""

import asyncio
import json
import os
import shutil
import signal
import socket
import sqlite3
import ssl
import stat
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request

import websockets

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import tutorial_db  # noqa: E402

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
SERVER = os.environ.get("CMMO_SERVER", os.path.join(REPO, "build", "asan", "cmmo-server"))
ADMIN = os.environ.get("CMMO_ADMIN", os.path.join(REPO, "build", "asan", "cmmo-admin"))
NGINX = os.environ.get("NGINX", "/usr/sbin/nginx")
SANITIZER = ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer")
TIMEOUT = 10.0  # one packet, one admin command (argon2id under ASan included)
HASH_PREFIX = "$argon2id$v=19$m=12288,t=3,p=1$"  # AUTH_OPSLIMIT 3, AUTH_MEMLIMIT 12 MiB


class NotRun(Exception):
    """The test cannot run here (says why); it counts as neither passed nor failed."""


TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def check(cond, what):
    if not cond:
        raise AssertionError(what)


# ------------------------------------------------------------------------------------------
# processes
# ------------------------------------------------------------------------------------------

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def db_arg(db):
    """A store URL for a database: a postgres:// URL as is, a file path as sqlite:PATH."""
    return db if "://" in db else "sqlite:" + db


def admin(*args, stdin=None, env=None, db=None):
    """Runs cmmo-admin; returns (exit code, stdout, stderr). db: a file path or a URL."""
    argv = [ADMIN] + (["--db", db_arg(db)] if db else []) + list(args)
    e = dict(os.environ)
    for k in ("CMMO_DB", "CMMO_ADMIN_SOCKET", "CMMO_CONFIG"):
        e.pop(k, None)
    e.update(env or {})
    r = subprocess.run(argv, input=stdin, capture_output=True, text=True, timeout=60, env=e)
    for pat in SANITIZER:
        check(pat not in r.stderr, "sanitizer report from cmmo-admin %s:\n%s" % (args, r.stderr))
    return r.returncode, r.stdout, r.stderr


class Server:
    """One cmmo-server on a temp database (or a given one), port 0, with an admin socket."""

    def __init__(self, d, db=None, admin_socket=None, extra=()):
        self.dir = d
        self.db = db or os.path.join(d, "cmmo.db")
        self.socket = admin_socket if admin_socket is not None else os.path.join(d, "cmmo-admin.sock")
        self.log_path = os.path.join(d, "server-%d.log" % time.monotonic_ns())
        args = [SERVER, "--host", "127.0.0.1", "--port", "0", "--db", db_arg(self.db),
                "--web-root", os.path.join(REPO, "web"), "--log-level", "info",
                "--drain-seconds", "0"]
        if self.socket:
            args += ["--admin-socket", self.socket]
        args += list(extra)
        self.log = open(self.log_path, "w")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=self.log, cwd=d)
        self.port = None
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            text = self.text()
            for line in text.splitlines():
                if " listening " in line and "port=" in line:
                    self.port = int(line.split("port=")[1].split()[0])
                    return
            if self.proc.poll() is not None:
                return
            time.sleep(0.05)

    def text(self):
        with open(self.log_path) as f:
            return f.read()

    def require_admin(self):
        check(self.port, "server did not start:\n" + self.text()[-2000:])
        if not os.path.exists(self.socket):
            raise AssertionError(
                "the server accepts --admin-socket but created no socket at %s: admin_start is "
                "not wired into src/server/server.c yet (see the patch in the admin report)"
                % self.socket)

    @property
    def url(self):
        return "ws://127.0.0.1:%d/" % self.port

    def stop(self, sig=signal.SIGTERM):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        text = self.text()
        for pat in SANITIZER:
            check(pat not in text, "sanitizer report from the server:\n" + text[-3000:])
        return self.proc.returncode


# ------------------------------------------------------------------------------------------
# players
# ------------------------------------------------------------------------------------------

async def recv_until(ws, pred, timeout=TIMEOUT):
    """Receives packets until pred(packet) is true; returns that packet."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            raise AssertionError("no matching packet within %.0f s" % timeout)
        p = json.loads(await asyncio.wait_for(ws.recv(), left))
        if pred(p):
            return p


async def connect(url, **kw):
    return await websockets.connect(url, max_size=None, open_timeout=TIMEOUT, **kw)


async def register(url, name, password, avatar=0, **kw):
    ws = await connect(url, **kw)
    await ws.send(json.dumps({"a": "Register", "p0": name, "p1": password, "p2": avatar}))
    reply = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
    await ws.close()
    return reply


async def login(url, name, password, **kw):
    """Returns (websocket, first reply)."""
    ws = await connect(url, **kw)
    await ws.send(json.dumps({"a": "Login", "p0": name, "p1": password}))
    reply = json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT))
    return ws, reply


async def close_code(ws, timeout=TIMEOUT):
    """Reads until the server closes; returns the close code it sent."""
    try:
        while True:
            await asyncio.wait_for(ws.recv(), timeout)
    except websockets.ConnectionClosed as e:
        return e.rcvd.code if e.rcvd else None


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


# ------------------------------------------------------------------------------------------
# the admin socket, raw
# ------------------------------------------------------------------------------------------

class Raw:
    """A raw admin-socket connection."""

    def __init__(self, path):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.settimeout(TIMEOUT)
        self.s.connect(path)
        self.buf = b""

    def send(self, data):
        self.s.sendall(data)

    def line(self):
        while b"\n" not in self.buf:
            chunk = self.s.recv(65536)
            if not chunk:
                raise EOFError("closed; unread: %r" % self.buf)
            self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        return line.decode()

    def reply(self):
        """Data lines and the status line of one reply."""
        data = []
        while True:
            ln = self.line()
            if ln == "OK" or ln.startswith("OK ") or ln == "ERR" or ln.startswith("ERR "):
                return data, ln
            data.append(ln)

    def command(self, text):
        self.send(text.encode() + b"\n")
        return self.reply()

    def at_eof(self):
        try:
            return self.s.recv(1) == b"" and not self.buf
        except ConnectionResetError:
            return True

    def close(self):
        self.s.close()


# ------------------------------------------------------------------------------------------
# one shared world for the live tests: a database made by cmmo-admin while the server was down
# ------------------------------------------------------------------------------------------

class World:
    server = None
    dir = None


def world():
    if World.server is None:
        World.dir = tempfile.mkdtemp(prefix="cmmo-admin-")
        db = os.path.join(World.dir, "cmmo.db")
        for name, pw in (("alice", "alice pw"), ("bob", "bob pw")):
            rc, out, err = admin("create", name, "--avatar", "2", stdin=pw + "\n", db=db)
            check(rc == 0, "create %s: %s" % (name, err))
        World.server = Server(World.dir, db=db)
    World.server.require_admin()
    return World.server


# ==========================================================================================
# cmmo-admin with the server down
# ==========================================================================================

@test
def test_help_documents_every_command_and_option():
    rc, out, err = admin("--help")
    check(rc == 0, "exit %d" % rc)
    for word in ("list", "create", "delete", "reset-password", "online", "kick", "broadcast",
                 "--db", "--admin-socket", "--config", "--avatar", "CMMO_DB",
                 "CMMO_ADMIN_SOCKET", "exit status", "stdin", "import-tutorial", "--dry-run",
                 "ban", "unban", "mute", "unmute", "--for", "--reason", "audit", "--json"):
        check(word in out, "--help lacks %r" % word)


@test
def test_usage_errors_exit_2():
    for args in ([], ["frobnicate"], ["create"], ["kick"], ["list", "extra"],
                 ["create", "x", "--avatar", "9"], ["--bogus", "list"], ["--db"],
                 ["--db", "mysql://x", "list"], ["--db", "sqlite:", "list"],
                 ["online", "--avatar", "1"]):
        rc, out, err = admin(*args)
        check(rc == 2, "%s: exit %d, want 2" % (args, rc))
        check(err.strip(), "%s: no message" % args)


@test
def test_create_while_down_makes_the_database_and_list_shows_it():
    d = tempfile.mkdtemp(prefix="cmmo-admin-")
    db = os.path.join(d, "new.db")
    rc, out, err = admin("create", "Carol_1", "--avatar", "4", stdin="s3cret!\n", db=db)
    check(rc == 0, "create: exit %d %s" % (rc, err))
    check("created Carol_1" in out, out)
    rc, out, err = admin("list", db=db)
    check(rc == 0, err)
    rows = [ln.split() for ln in out.splitlines()[1:-1]]
    check(len(rows) == 1 and rows[0][1] == "Carol_1" and rows[0][2] == "4", out)
    check(out.splitlines()[-1] == "1 user", out)
    con = sqlite3.connect(db)
    counts = [con.execute("SELECT count(*) FROM " + t).fetchone()[0]
              for t in ("user", "entity", "instanced_entity", "actor")]
    check(counts == [1, 1, 1, 1], "rows per table: %s" % counts)
    h = con.execute("SELECT password_hash FROM user").fetchone()[0]
    check(h.startswith(HASH_PREFIX), "hash parameters: %s" % h[:40])
    check("s3cret" not in h, "the password is in the hash column")
    shutil.rmtree(d)


@test
def test_create_refuses_taken_reserved_and_bad_names_and_passwords():
    d = tempfile.mkdtemp(prefix="cmmo-admin-")
    db = os.path.join(d, "c.db")
    check(admin("create", "dave", stdin="pw\n", db=db)[0] == 0, "first create")
    cases = [(("create", "DAVE"), "pw\n", "already taken"),
             (("create", "server"), "pw\n", "reserved"),
             (("create", "bad name"), "pw\n", "letters, digits"),
             (("create", "x" * 21), "pw\n", "letters, digits"),
             (("create", "erin"), "\n", "must not be empty"),
             (("create", "erin"), "", "no password"),
             (("create", "erin"), "p" * 129 + "\n", "at most 128 bytes")]
    for args, stdin, why in cases:
        rc, out, err = admin(*args, stdin=stdin, db=db)
        check(rc == 1, "%s: exit %d, want 1" % (args, rc))
        check(why in err, "%s: %r lacks %r" % (args, err, why))
    rc, out, err = admin("create", "erin", stdin="p" * 128 + "\r\n", db=db)
    check(rc == 0, "a 128-byte password (CRLF line) must be accepted: %s" % err)
    check(sqlite3.connect(db).execute("SELECT count(*) FROM user").fetchone()[0] == 2,
          "only dave and erin exist")
    shutil.rmtree(d)


def check_listing_of_many(out, names):
    """out is a `list` of exactly names (sorted ignoring case), each once."""
    lines = out.splitlines()
    listed = [ln.split()[1] for ln in lines[1:-1]]
    check(listed == sorted(names, key=str.lower),
          "%d listed, want %d in order" % (len(listed), len(names)))
    check(lines[-1] == "%d users" % len(names), lines[-1])


@test
def test_list_reads_every_page_of_a_large_database():
    # 2,500 accounts are three store pages (1000 each): the listing must join them without a
    # repeat or a gap. Bare user rows are enough (list shows accounts without an actor too).
    d = tempfile.mkdtemp(prefix="cmmo-admin-")
    db = os.path.join(d, "many.db")
    check(admin("create", "Zed", stdin="pw\n", db=db)[0] == 0, "create")
    con = sqlite3.connect(db)
    names = ["u%05d" % i for i in range(2499)]
    con.executemany("INSERT INTO user(username, password_hash) VALUES (?, 'h')",
                    [(n,) for n in names])
    con.commit()
    con.close()
    rc, out, err = admin("list", db=db)
    check(rc == 0, err)
    check_listing_of_many(out, names + ["Zed"])
    shutil.rmtree(d)


@test
def test_password_is_never_printed():
    d = tempfile.mkdtemp(prefix="cmmo-admin-")
    db = os.path.join(d, "c.db")
    secret = "Tr0ub4dor&3-unique"
    outs = []
    for args in (("create", "frank"), ("reset-password", "frank")):
        rc, out, err = admin(*args, stdin=secret + "\n", db=db)
        check(rc == 0, "%s: %s" % (args, err))
        outs.append(out + err)
    rc, out, err = admin("list", db=db)
    outs.append(out + err)
    check(all(secret not in o for o in outs), "the password was printed")
    shutil.rmtree(d)


@test
def test_account_commands_on_a_missing_database_fail_cleanly():
    d = tempfile.mkdtemp(prefix="cmmo-admin-")
    db = os.path.join(d, "none.db")
    for args in (("list",), ("delete", "x"), ("reset-password", "x")):
        rc, out, err = admin(*args, stdin="pw\n", db=db)
        check(rc == 1 and "no database" in err, "%s: exit %d %r" % (args, rc, err))
    check(not os.path.exists(db), "a database was created by a read command")
    shutil.rmtree(d)


@test
def test_delete_and_reset_unknown_user_exit_1():
    d = tempfile.mkdtemp(prefix="cmmo-admin-")
    db = os.path.join(d, "c.db")
    admin("create", "gina", stdin="pw\n", db=db)
    for args in (("delete", "nobody"), ("reset-password", "nobody")):
        rc, out, err = admin(*args, stdin="pw\n", db=db)
        check(rc == 1 and "no user named nobody" in err, "%s: %d %r" % (args, rc, err))
    shutil.rmtree(d)


@test
def test_live_commands_without_a_server_exit_3():
    d = tempfile.mkdtemp(prefix="cmmo-admin-")
    db = os.path.join(d, "c.db")
    for args in (("online",), ("kick", "alice"), ("broadcast", "hi")):
        rc, out, err = admin(*args, db=db)
        check(rc == 3, "%s: exit %d, want 3 (%s)" % (args, rc, err))
        check(os.path.join(d, "cmmo-admin.sock") in err, "names the socket it tried: " + err)
    shutil.rmtree(d)


# ==========================================================================================
# cmmo-admin on PostgreSQL
# ==========================================================================================

PG_SH = os.path.join(REPO, "tests", "support", "pg.sh")


class PG:
    """One throwaway PostgreSQL server for the suite (tests/support/pg.sh), started on first use
    and stopped by main(); each test takes a database of its own."""
    url = None
    dir = None
    count = 0


def pg_database():
    """A new empty database on the suite's PostgreSQL; returns its URL."""
    if PG.url is None:
        r = subprocess.run([PG_SH, "start"], capture_output=True, text=True, timeout=120)
        check(r.returncode == 0, "pg.sh could not start PostgreSQL:\n" + r.stderr[-2000:])
        PG.url = r.stdout.strip().splitlines()[-1]
        for line in r.stderr.splitlines():
            if "started in" in line:
                PG.dir = line.split("started in", 1)[1].strip()
    PG.count += 1
    name = "admin_%d_%d" % (os.getpid(), PG.count)
    psql(PG.url, "CREATE DATABASE " + name)
    return PG.url.rsplit("/", 1)[0] + "/" + name


def psql(url, sql):
    """Runs one SQL statement with psql; returns its unaligned output."""
    r = subprocess.run(["psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-d", url, "-c", sql],
                       capture_output=True, text=True, timeout=30)
    check(r.returncode == 0, "psql %r: %s" % (sql, r.stderr))
    return r.stdout.strip()


def pg_rows_per_table(url):
    return [int(psql(url, 'SELECT count(*) FROM "%s"' % t))
            for t in ("user", "entity", "instanced_entity", "actor")]


@test
def test_account_commands_work_on_postgresql():
    url = pg_database()
    secret = "pg s3cret-unique"
    rc, out, err = admin("create", "Carol_1", "--avatar", "4", stdin=secret + "\n", db=url)
    check(rc == 0 and "created Carol_1" in out, "create: %d %r %r" % (rc, out, err))
    rc, out, err = admin("create", "CAROL_1", stdin="pw\n", db=url)
    check(rc == 1 and "already taken" in err, "taken: %d %r" % (rc, err))
    check(admin("create", "dave", stdin="pw\n", db=url)[0] == 0, "create dave")
    check(pg_rows_per_table(url) == [2, 2, 2, 2], "rows: %s" % pg_rows_per_table(url))
    h = psql(url, "SELECT password_hash FROM \"user\" WHERE username = 'Carol_1'")
    check(h.startswith(HASH_PREFIX) and secret not in h, "hash: %s" % h[:40])
    rc, out, err = admin("list", db=url)
    check(rc == 0, "list: %r" % err)
    rows = [ln.split() for ln in out.splitlines()[1:-1]]
    check([r[1] for r in rows] == ["Carol_1", "dave"] and rows[0][2] == "4", out)
    check(out.splitlines()[-1] == "2 users", out)
    rc, out, err = admin("reset-password", "DAVE", stdin=secret + "\n", db=url)
    check(rc == 0 and out.strip() == "password of DAVE reset", "reset: %d %r %r" % (rc, out, err))
    h2 = psql(url, "SELECT password_hash FROM \"user\" WHERE username = 'dave'")
    check(h2.startswith(HASH_PREFIX) and h2 != h, "dave's hash not replaced")
    for args in (("delete", "nobody"), ("reset-password", "nobody")):
        rc, out, err = admin(*args, stdin="pw\n", db=url)
        check(rc == 1 and "no user named nobody" in err, "%s: %d %r" % (args, rc, err))
    rc, out, err = admin("delete", "carol_1", db=url)
    check(rc == 0 and out.strip() == "deleted Carol_1", "delete: %d %r %r" % (rc, out, err))
    check(pg_rows_per_table(url) == [1, 1, 1, 1], "rows after delete: %s" % pg_rows_per_table(url))
    rc, out, err = admin("list", db=url)
    check(rc == 0 and out.splitlines()[-1] == "1 user" and "dave" in out, out)
    check(secret not in out + err, "the password was printed")
    psql(url, "INSERT INTO \"user\"(username, password_hash) "
              "SELECT 'u' || lpad(g::text, 5, '0'), 'h' FROM generate_series(0, 2498) g")
    rc, out, err = admin("list", db=url)
    check(rc == 0, err)
    check_listing_of_many(out, ["u%05d" % i for i in range(2499)] + ["dave"])


@test
def test_postgresql_url_errors_hide_the_password_and_live_commands_need_a_socket():
    bad = "postgres://cmmo:Sekrit-pw@127.0.0.1:1/cmmo?connect_timeout=2"
    for args in (("list",), ("delete", "x"), ("reset-password", "x"), ("create", "x")):
        rc, out, err = admin(*args, stdin="pw\n", db=bad)
        check(rc == 1 and "cannot open the store" in err, "%s: %d %r" % (args, rc, err))
        check("Sekrit-pw" not in out + err, "%s: the URL's password was printed" % (args,))
    for args in (("online",), ("kick", "x"), ("broadcast", "hi")):
        rc, out, err = admin(*args, db="postgres://cmmo@127.0.0.1:1/cmmo")
        check(rc == 2 and "--admin-socket" in err, "%s: %d %r" % (args, rc, err))
    rc, out, err = admin("--db", "postgres://u:Sekrit-pw@h/d?no_such_option=1", "list")
    check(rc == 2 and "Sekrit-pw" not in err, "bad URL: %d %r" % (rc, err))


@test
def test_delete_of_an_online_player_on_postgresql_kicks_them_and_removes_every_row():
    url = pg_database()
    d = tempfile.mkdtemp(prefix="cmmo-admin-")
    sock = os.path.join(d, "admin.sock")
    check(admin("create", "ivy", stdin="ivy pw\n", db=url)[0] == 0, "create ivy")
    s = Server(d, db=url, admin_socket=sock)
    try:
        s.require_admin()

        async def go():
            ws, reply = await login(s.url, "ivy", "ivy pw")
            check(reply == {"a": "Ok"}, "login: %s" % reply)
            rc, out, err = admin("--admin-socket", sock, "online", db=url)
            check(rc == 0 and "ivy" in out, "online: %d %r %r" % (rc, out, err))
            rc, out, err = admin("--admin-socket", sock, "delete", "IVY", db=url)
            check(rc == 0 and out.strip() == "deleted ivy (was online: kicked)",
                  "delete: %d %r %r" % (rc, out, err))
            check(await close_code(ws) == 1008, "not kicked with 1008")
            ws, reply = await login(s.url, "ivy", "ivy pw")
            check(reply.get("a") == "Deny", "a deleted account logged in: %s" % reply)
            await ws.close()
        run(go())
        check(pg_rows_per_table(url) == [0, 0, 0, 0], "rows left: %s" % pg_rows_per_table(url))
    finally:
        check(s.stop() == 0, "server exit code")
    shutil.rmtree(d, ignore_errors=True)


# ==========================================================================================
# import-tutorial: the tutorial server's players into cmmo
# ==========================================================================================

async def first_own_model(ws):
    """After Login's Ok: the first ModelDelta is the player's own full model."""
    p = await recv_until(ws, lambda p: p.get("a") == "ModelDelta")
    return p["p0"]


def v10_database(d):
    """A v1.0 database: plaintext passwords, names cmmo takes and names it refuses."""
    t = tutorial_db.TutorialDb(os.path.join(d, "db.sqlite3"), "1.0")
    bob = t.add_user("Bob_2", "bob old pw")
    alice = t.add_user("alice", "alice old pw")
    # Actors made in another order than users: actor ids are not user ids.
    t.add_actor(alice, "alice", 3, 100.5, 200.25)
    t.add_actor(bob, "Bob_2", 1, 640.0, 320.0)
    for name, pw in (("bad name", "x"), ("averyveryverylongname", "x"), ("server", "x"),
                     ("ALICE", "other pw"), ("emptypw", "")):
        t.add_actor(t.add_user(name, pw), name, 0, 1.0, 1.0)
    t.add_user("no_actor", "na pw")
    t.close()
    return os.path.join(d, "db.sqlite3")


@test
def test_import_tutorial_v10_reports_refusals_and_players_log_in_where_they_left():
    d = tempfile.mkdtemp(prefix="cmmo-import-")
    tut = v10_database(d)
    db = os.path.join(d, "cmmo.db")
    rc, out, err = admin("import-tutorial", "--dry-run", tut, db=db)
    check(rc == 0, "dry run: %d %r" % (rc, err))
    check(not os.path.exists(db), "a dry run made the cmmo database")
    check("dry run, nothing written: 3 to import, 0 already present, 5 to skip" in out, out)
    rc, out, err = admin("import-tutorial", tut, db=db)
    check(rc == 0, "import: %d %r" % (rc, err))
    lines = out.splitlines()
    for want in ("imported Bob_2 ", "imported alice ", "skipped bad name: cmmo names are",
                 "skipped averyveryverylongname: cmmo names are",
                 "skipped server: the name Server is reserved",
                 "skipped ALICE: the same name as tutorial user 2",
                 "skipped emptypw: its password is empty", "imported no_actor "):
        check(any(ln.startswith(want) for ln in lines), "no line %r in:\n%s" % (want, out))
    check(lines[-1] == "3 imported, 0 already present, 5 skipped", out)
    check("alice old pw" not in out + err, "a password was printed")
    con = sqlite3.connect(db)
    hashes = [h for (h,) in con.execute("SELECT password_hash FROM user")]
    con.close()
    check(len(hashes) == 3 and all(h.startswith(HASH_PREFIX) for h in hashes), hashes)
    # A second run changes nothing.
    rc, out2, err = admin("import-tutorial", tut, db=db)
    check(rc == 0 and out2.splitlines()[-1] == "0 imported, 3 already present, 5 skipped", out2)
    s = Server(d, db=db)
    try:
        check(s.port, "server did not start")

        async def go():
            ws, reply = await login(s.url, "alice", "alice old pw")
            check(reply == {"a": "Ok"}, "alice with her old password: %s" % reply)
            me = await first_own_model(ws)
            check(me["avatar_id"] == 3, "avatar: %s" % me)
            pos = me["instanced_entity"]
            check((pos["x"], pos["y"]) == (100.5, 200.25), "position: %s" % me)
            ws2, reply = await login(s.url, "bob_2", "bob old pw")
            check(reply == {"a": "Ok"}, "Bob_2: %s" % reply)
            me = await first_own_model(ws2)
            check((me["instanced_entity"]["x"], me["instanced_entity"]["y"]) == (640, 320), me)
            for ws_ in (ws, ws2):
                await ws_.close()
            ws, reply = await login(s.url, "ALICE", "other pw")
            check(reply.get("a") == "Deny", "the skipped duplicate's password logs in: %s" % reply)
            await ws.close()
        run(go())
    finally:
        check(s.stop() == 0, "server exit code")
    shutil.rmtree(d, ignore_errors=True)


@test
def test_import_tutorial_v11_keeps_pbkdf2_and_upgrades_it_at_first_login_on_postgresql():
    url = pg_database()
    d = tempfile.mkdtemp(prefix="cmmo-import-")
    t = tutorial_db.TutorialDb(os.path.join(d, "db.sqlite3"), "1.1")
    carol = t.add_user("carol", tutorial_db.django_pbkdf2("carol old pw", "Qw8sVn2LkPz7", 1000))
    t.add_actor(carol, "carol", 5, 32.0, 48.0)
    vec = t.add_user("vector", tutorial_db.DJANGO_VECTOR)
    t.add_actor(vec, "vector", 2, 10.0, 20.0)
    for name, stored in (("bcrypt_user", "bcrypt_sha256$$2b$12$AbCdEfGhIjKlMnOpQrStUu"),
                         ("unusable", "!kP3yq0aN2bXw7Zc"),
                         ("sha1_user", "sha1$salt$0123456789abcdef0123456789abcdef01234567")):
        t.add_actor(t.add_user(name, stored), name, 0, 0.0, 0.0)
    t.close()
    tut = os.path.join(d, "db.sqlite3")
    rc, out, err = admin("import-tutorial", tut, db=url)
    check(rc == 0, "import: %d %r %r" % (rc, out, err))
    for want in ("imported carol ", "imported vector ",
                 "skipped bcrypt_user: its password hash (bcrypt_sha256) is not pbkdf2_sha256",
                 "skipped unusable: its password hash (!) is not pbkdf2_sha256",
                 "skipped sha1_user: its password hash (sha1) is not pbkdf2_sha256"):
        check(any(ln.startswith(want) for ln in out.splitlines()), "no %r in:\n%s" % (want, out))
    check(out.splitlines()[-1] == "2 imported, 0 already present, 3 skipped", out)
    stored = psql(url, "SELECT password_hash FROM \"user\" WHERE username = 'carol'")
    check(stored.startswith("pbkdf2_sha256$1000$"), "not kept: %s" % stored[:20])
    sock = os.path.join(d, "admin.sock")
    s = Server(d, db=url, admin_socket=sock)
    try:
        check(s.port, "server did not start")

        async def go():
            ws, reply = await login(s.url, "carol", "wrong pw")
            check(reply.get("a") == "Deny", "a wrong password: %s" % reply)
            await ws.close()
            ws, reply = await login(s.url, "carol", "carol old pw")
            check(reply == {"a": "Ok"}, "carol with her old password: %s" % reply)
            me = await first_own_model(ws)
            check(me["avatar_id"] == 5 and me["instanced_entity"]["x"] == 32.0, me)
            await ws.close()
            ws, reply = await login(s.url, "vector", tutorial_db.DJANGO_VECTOR_PASSWORD)
            check(reply == {"a": "Ok"}, "Django's vector: %s" % reply)
            await ws.close()
            deadline = time.monotonic() + TIMEOUT
            while time.monotonic() < deadline:
                h = psql(url, "SELECT password_hash FROM \"user\" WHERE username = 'carol'")
                if h.startswith(HASH_PREFIX):
                    break
                await asyncio.sleep(0.05)
            check(h.startswith(HASH_PREFIX), "not upgraded to argon2id: %s" % h[:20])
            ws, reply = await login(s.url, "carol", "carol old pw")
            check(reply == {"a": "Ok"}, "after the upgrade: %s" % reply)
            await ws.close()
        run(go())
        check("carol old pw" not in s.text(), "password in the server log")
        check("password_upgraded" in s.text(), "no password_upgraded log line")
    finally:
        check(s.stop() == 0, "server exit code")
    shutil.rmtree(d, ignore_errors=True)


@test
def test_import_tutorial_refuses_what_is_not_a_tutorial_database():
    d = tempfile.mkdtemp(prefix="cmmo-import-")
    other = os.path.join(d, "other.sqlite3")
    sqlite3.connect(other).execute("CREATE TABLE t(x)").connection.close()
    for path in (other, os.path.join(d, "missing.sqlite3")):
        rc, out, err = admin("import-tutorial", path, db=os.path.join(d, "cmmo.db"))
        check(rc == 1 and err.strip(), "%s: %d %r" % (path, rc, err))
    rc, out, err = admin("import-tutorial", db=os.path.join(d, "cmmo.db"))
    check(rc == 2, "no PATH: %d" % rc)
    shutil.rmtree(d, ignore_errors=True)


# ==========================================================================================
# moderation: ban, mute, the audit log
# ==========================================================================================

async def chat(ws, text):
    await ws.send(json.dumps({"a": "Chat", "p0": "me", "p1": text}))


async def packets_for(ws, seconds):
    """Every packet received within seconds."""
    got = []
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return got
        try:
            got.append(json.loads(await asyncio.wait_for(ws.recv(), left)))
        except asyncio.TimeoutError:
            return got


def server_chats(packets):
    return [p["p1"] for p in packets if p.get("a") == "Chat" and p.get("p0") == "Server"]


@test
def test_ban_while_down_then_live_ban_kicks_and_each_login_is_denied_with_reason_and_end():
    d = tempfile.mkdtemp(prefix="cmmo-mod-")
    db = os.path.join(d, "cmmo.db")
    for name in ("mallory", "trent"):
        check(admin("create", name, stdin=name + " pw\n", db=db)[0] == 0, "create " + name)
    rc, out, err = admin("ban", "MALLORY", "--for", "2h", "--reason", "cheating, twice", db=db)
    check(rc == 0 and out.startswith("banned mallory until ") and "not reached" in out,
          "ban while down: %d %r %r" % (rc, out, err))
    for args in (("ban", "nobody"), ("mute", "nobody"), ("unban", "nobody")):
        rc, out, err = admin(*args, db=db)
        check(rc == 1 and "no user named nobody" in err, "%s: %d %r" % (args, rc, err))
    for args in (("ban", "x", "--for", "3y"), ("ban", "x", "--for", "0h"), ("unban", "x", "--for",
                 "1h"), ("kick", "x", "--reason", "y"), ("audit", "x"), ("online", "--json"),
                 ("ban", "mallory", "--reason", "bell\x07"), ("mute", "mallory", "--reason",
                 "x" * 201)):
        check(admin(*args, db=db)[0] == 2, "usage error: %s" % (args,))
    s = Server(d, db=db)
    try:
        s.require_admin()

        async def go():
            ws, reply = await login(s.url, "mallory", "mallory pw")
            check(reply.get("a") == "Deny" and reply["p0"].startswith("You are banned until 20")
                  and reply["p0"].endswith(" UTC: cheating, twice"), "banned login: %s" % reply)
            await ws.close()
            ws, reply = await login(s.url, "mallory", "wrong")
            check(reply == {"a": "Deny", "p0": "Username or password incorrect"},
                  "a ban is told only to whoever knows the password: %s" % reply)
            await ws.close()
            t, reply = await login(s.url, "trent", "trent pw")
            check(reply == {"a": "Ok"}, "trent: %s" % reply)
            rc, out, err = admin("ban", "trent", "--reason", "griefing", db=db)
            check(rc == 0 and out.strip() == "banned trent for good (kicked if online)",
                  "live ban: %d %r %r" % (rc, out, err))
            check(await close_code(t) == 1008, "an online player is kicked at once")
            ws, reply = await login(s.url, "trent", "trent pw")
            check(reply == {"a": "Deny", "p0": "You are banned: griefing"}, "next login: %s" % reply)
            await ws.close()
            rc, out, err = admin("unban", "trent", db=db)
            check(rc == 0 and out.strip() == "unbanned trent", "unban: %d %r %r" % (rc, out, err))
            ws, reply = await login(s.url, "trent", "trent pw")
            check(reply == {"a": "Ok"}, "after unban: %s" % reply)
            await ws.close()
        run(go())
    finally:
        check(s.stop() == 0, "server exit code")
    con = sqlite3.connect(db)
    rows = con.execute("SELECT actor, action, target, detail FROM audit_log ORDER BY id").fetchall()
    con.close()
    me = str(os.getuid())
    want = [("cli:" + me, "create", "mallory", "avatar 0"), ("cli:" + me, "create", "trent",
            "avatar 0"), ("cli:" + me, "ban", "mallory", "2h; cheating, twice"),
            ("socket:" + me, "ban", "trent", "forever; griefing"),
            ("socket:" + me, "unban", "trent", "")]
    check(rows == want, "audit log:\n%s" % "\n".join(map(str, rows)))
    rc, out, err = admin("audit", db=db)
    lines = out.splitlines()
    check(rc == 0 and len(lines) == 6 and lines[0].split()[:3] == ["time", "(UTC)", "actor"], out)
    check(lines[4].split()[1:4] == ["socket:" + me, "ban", "trent"], out)
    rc, out, err = admin("audit", "--json", db=db)
    entries = json.loads(out)
    check([(e["actor"], e["action"], e["target"], e["detail"]) for e in entries] == want, out)
    check(all(e["at"].endswith("Z") and e["id"] > 0 for e in entries), out)
    shutil.rmtree(d, ignore_errors=True)


@test
def test_mute_drops_chat_and_tells_the_player_once_a_second_and_unmute_lifts_it():
    d = tempfile.mkdtemp(prefix="cmmo-mod-")
    db = os.path.join(d, "cmmo.db")
    for name in ("quiet", "ear", "loud"):
        check(admin("create", name, stdin=name + " pw\n", db=db)[0] == 0, "create " + name)
    check(admin("mute", "loud", "--reason", "shouting", db=db)[0] == 0, "mute while down")
    s = Server(d, db=db)
    try:
        s.require_admin()

        async def go():
            q, _ = await login(s.url, "quiet", "quiet pw")
            e, _ = await login(s.url, "ear", "ear pw")
            loud, _ = await login(s.url, "loud", "loud pw")
            await packets_for(e, 0.3)
            # Muted from the login on (recorded while the server was down).
            await chat(loud, "HELLO")
            got = await packets_for(loud, 0.5)
            check(server_chats(got) == ["You are muted: shouting; nobody sees your chat"],
                  "loud's notice: %s" % got)
            rc, out, err = admin("mute", "quiet", "--for", "10m", "--reason", "calm down", db=db)
            check(rc == 0 and out.startswith("muted quiet until "), "mute: %d %r %r" % (rc, out, err))
            for text in ("one", "two", "three"):
                await chat(q, text)
            got = await packets_for(q, 0.5)
            notices = server_chats(got)
            check(len(notices) == 1 and notices[0].startswith("You are muted until ")
                  and notices[0].endswith(" UTC: calm down; nobody sees your chat"),
                  "one notice for three lines within a second: %s" % got)
            heard = [p for p in await packets_for(e, 0.3) if p.get("a") == "Chat"]
            check(heard == [], "a muted player's chat was relayed: %s" % heard)
            rc, out, err = admin("unmute", "quiet", db=db)
            check(rc == 0 and out.strip() == "unmuted quiet", "unmute: %d %r %r" % (rc, out, err))
            await chat(q, "back")
            p = await recv_until(e, lambda p: p.get("a") == "Chat")
            check(p == {"a": "Chat", "p0": "quiet", "p1": "back"}, "after unmute: %s" % p)
            for ws in (q, e, loud):
                await ws.close()
        run(go())
    finally:
        check(s.stop() == 0, "server exit code")
    shutil.rmtree(d, ignore_errors=True)


@test
def test_chat_over_the_rate_limit_tells_the_legacy_player_to_slow_down_once_a_second():
    s = world()

    async def go():
        a, _ = await login(s.url, "alice", "alice pw")
        b, _ = await login(s.url, "bob", "bob pw")
        await packets_for(a, 0.3)
        for i in range(14):  # a burst of 10 passes; the other 4 are over the limit
            await chat(a, "line %d" % i)
        got = await packets_for(a, 0.6)
        check(server_chats(got) == ["You are chatting too fast; slow down"],
              "exactly one notice: %s" % got)
        heard = [p for p in await packets_for(b, 0.3) if p.get("a") == "Chat"]
        check(len(heard) == 10, "bob heard %d lines" % len(heard))
        await a.close()
        await b.close()
    run(go())


@test
def test_list_json_exports_every_account():
    d = tempfile.mkdtemp(prefix="cmmo-mod-")
    db = os.path.join(d, "cmmo.db")
    rc, out, err = admin("list", "--json", db=db)
    check(rc == 1, "a missing database: %d" % rc)
    for name, avatar in (("zed", "1"), ("Amy", "4")):
        check(admin("create", name, "--avatar", avatar, stdin="pw\n", db=db)[0] == 0, name)
    rc, out, err = admin("list", "--json", db=db)
    check(rc == 0, err)
    rows = json.loads(out)
    check([(r["name"], r["avatar"], r["x"], r["y"]) for r in rows] == [("Amy", 4, 0, 0),
                                                                       ("zed", 1, 0, 0)], out)
    check(all(isinstance(r["id"], int) and r["created"].endswith("Z") for r in rows), out)
    shutil.rmtree(d, ignore_errors=True)


# ==========================================================================================
# a running server: the admin socket with real players
# ==========================================================================================

@test
def test_socket_is_a_0600_socket_owned_by_the_server_user():
    s = world()
    st = os.lstat(s.socket)
    check(stat.S_ISSOCK(st.st_mode), "not a socket")
    check(stat.S_IMODE(st.st_mode) == 0o600, "mode %o, want 600" % stat.S_IMODE(st.st_mode))
    check(st.st_uid == os.getuid(), "owner %d" % st.st_uid)
    check("admin_listening" in s.text(), "no admin_listening log line")


@test
def test_user_created_while_down_logs_in_and_online_shows_them():
    s = world()

    async def go():
        ws, reply = await login(s.url, "alice", "alice pw")
        check(reply == {"a": "Ok"}, "login reply %s" % reply)
        rc, out, err = admin("online", db=s.db)
        check(rc == 0, "online: %d %s" % (rc, err))
        rows = [ln.split() for ln in out.splitlines()]
        check(rows[0][:2] == ["name", "actor"], out)
        check(any(r[0] == "alice" and r[4] == "127.0.0.1" for r in rows[1:]), out)
        check(out.splitlines()[-1] == "1 online", out)
        await ws.close()
    run(go())


@test
def test_broadcast_reaches_players_as_chat_from_server():
    s = world()

    async def go():
        a, _ = await login(s.url, "alice", "alice pw")
        b, _ = await login(s.url, "bob", "bob pw")
        rc, out, err = admin("broadcast", "Restart", "in", "[5]", "minutes", db=s.db)
        check(rc == 0 and out.strip() == "reached 2", "broadcast: %d %r %r" % (rc, out, err))
        for ws in (a, b):
            p = await recv_until(ws, lambda p: p.get("a") == "Chat")
            check(p == {"a": "Chat", "p0": "Server", "p1": "Restart in \uff3b5\uff3d minutes"},
                  "chat %s" % p)
        await a.close()
        await b.close()
    run(go())
    check("Restart in" not in s.text(), "broadcast text was logged")


@test
def test_kick_closes_the_player_with_1008_and_others_see_disconnect():
    s = world()

    async def go():
        a, _ = await login(s.url, "alice", "alice pw")
        b, _ = await login(s.url, "bob", "bob pw")
        rc, out, err = admin("kick", "ALICE", db=s.db)
        check(rc == 0 and out.strip() == "kicked ALICE", "kick: %d %r %r" % (rc, out, err))
        code = await close_code(a)
        check(code == 1008, "close code %s, want 1008" % code)
        await recv_until(b, lambda p: p.get("a") == "Disconnect")
        rc, out, err = admin("kick", "alice", db=s.db)
        check(rc == 1 and "not online: alice" in err, "second kick: %d %r" % (rc, err))
        rc, out, err = admin("online", db=s.db)
        check("alice" not in out and "bob" in out, out)
        await b.close()
    run(go())


@test
def test_reset_password_then_only_the_new_one_logs_in():
    s = world()

    async def go():
        rc, out, err = admin("reset-password", "bob", stdin="bob new pw\n", db=s.db)
        check(rc == 0, "reset: %s" % err)
        ws, reply = await login(s.url, "bob", "bob pw")
        check(reply.get("a") == "Deny", "old password: %s" % reply)
        await ws.close()
        ws, reply = await login(s.url, "Bob", "bob new pw")
        check(reply == {"a": "Ok"}, "new password: %s" % reply)
        await ws.close()
        admin("reset-password", "bob", stdin="bob pw\n", db=s.db)
    run(go())
    check("bob new pw" not in s.text(), "password in the server log")


@test
def test_reset_password_revokes_the_browsers_resume_tokens():
    """A password reset logs every browser out: the cmmo.v2 resume token stops working
    (docs/SECURITY.md, "Resume tokens")."""
    s = world()

    async def resume(token):
        ws = await connect(s.url, subprotocols=["cmmo.v2"])
        await ws.send(json.dumps({"a": "Resume", "p0": "bob", "p1": token}))
        reply = await recv_until(ws, lambda p: p.get("a") in ("Ok", "Deny"))
        await ws.close()
        return reply

    async def go():
        ws, reply = await login(s.url, "bob", "bob pw", subprotocols=["cmmo.v2"])
        check(reply == {"a": "Ok"}, "login: %s" % reply)
        token = (await recv_until(ws, lambda p: p.get("a") == "Token"))["p0"]
        await ws.close()
        await asyncio.sleep(0.3)  # bob has left the world
        check(await resume(token) == {"a": "Ok"}, "the token resumes before the reset")
        await asyncio.sleep(0.3)
        rc, out, err = admin("reset-password", "bob", stdin="bob pw\n", db=s.db)
        check(rc == 0, "reset: %s" % err)
        reply = await resume(token)
        check(reply == {"a": "Deny", "p0": "Resume token invalid or expired"},
              "after the reset: %s" % reply)
    run(go())


@test
def test_delete_of_an_online_player_kicks_them_and_removes_every_row():
    s = world()

    async def go():
        check((await register(s.url, "henry", "h pw")) == {"a": "Ok"}, "register")
        ws, reply = await login(s.url, "henry", "h pw")
        check(reply == {"a": "Ok"}, "login")
        rc, out, err = admin("delete", "HENRY", db=s.db)
        check(rc == 0 and out.strip() == "deleted henry (was online: kicked)",
              "delete: %d %r %r" % (rc, out, err))
        check(await close_code(ws) == 1008, "not kicked with 1008")
        con = sqlite3.connect(s.db)
        q = lambda sql: con.execute(sql).fetchone()[0]
        check(q("SELECT count(*) FROM user WHERE username = 'henry'") == 0, "user row left")
        check(q("SELECT count(*) FROM entity WHERE name = 'henry'") == 0, "entity row left")
        check(q("SELECT count(*) FROM actor WHERE user_id NOT IN (SELECT id FROM user)") == 0,
              "orphan actor")
        check(q("SELECT count(*) FROM instanced_entity WHERE id NOT IN "
                "(SELECT instanced_entity_id FROM actor)") == 0, "orphan instanced_entity")
        check(q("SELECT count(*) FROM entity WHERE id NOT IN "
                "(SELECT entity_id FROM instanced_entity)") == 0, "orphan entity")
        ws, reply = await login(s.url, "henry", "h pw")
        check(reply.get("a") == "Deny", "a deleted account logged in: %s" % reply)
        await ws.close()
        check((await register(s.url, "henry", "h2")) == {"a": "Ok"}, "the name is free again")
        rc, out, err = admin("delete", "henry", db=s.db)
        check(rc == 0 and out.strip() == "deleted henry", "offline delete: %r %r" % (out, err))
    run(go())


@test
def test_admin_protocol_commands_and_errors():
    s = world()
    c = Raw(s.socket)
    data, status = c.command("help")
    check(status == "OK" and any("broadcast" in d for d in data), "help: %s %s" % (data, status))
    check(c.command("frobnicate")[1].startswith("ERR unknown command"), "unknown")
    check(c.command("")[1].startswith("ERR empty"), "empty line")
    check(c.command("online now")[1].startswith("ERR"), "online with an argument")
    check(c.command("kick")[1].startswith("ERR usage"), "kick without a name")
    check(c.command("kick a b")[1].startswith("ERR usage"), "kick with a space")
    check(c.command("kick " + "x" * 21)[1].startswith("ERR usage"), "kick with a long name")
    check(c.command("broadcast \x01\x02  ")[1] == "ERR nothing to say", "control-only broadcast")
    c.send(b"broadcast \xff\xfe\n")
    check(c.reply()[1] == "ERR text must be UTF-8", "invalid UTF-8")
    c.send(b"onl\x00ine\n")
    check(c.reply()[1].startswith("ERR"), "embedded NUL")
    c.send(b"online\r\n")
    check(c.reply()[1].endswith(" online"), "CRLF line")
    # Pipelined commands are answered in order; quit closes after its reply.
    c.send(b"online\nbogus\nquit\nonline\n")
    check(c.reply()[1].endswith(" online"), "pipelined 1")
    check(c.reply()[1].startswith("ERR"), "pipelined 2")
    check(c.reply()[1] == "OK bye", "quit")
    check(c.at_eof(), "connection not closed after quit")
    c.close()


@test
def test_overlong_line_is_refused_and_closed():
    s = world()
    c = Raw(s.socket)
    c.send(b"broadcast " + b"x" * 3000)
    check(c.line() == "ERR line too long", "reply")
    check(c.at_eof(), "not closed")
    c.close()
    check(Raw(s.socket).command("online")[1].endswith("online"), "server still answers")


@test
def test_connection_limit_is_8_and_slots_come_back():
    s = world()
    held = [Raw(s.socket) for _ in range(8)]
    for c in held:
        check(c.command("online")[1].endswith("online"), "one of the 8")
    extra = Raw(s.socket)
    check(extra.line() == "ERR too many admin connections", "the 9th")
    check(extra.at_eof(), "the 9th is closed")
    extra.close()
    for c in held:
        c.close()
    deadline = time.monotonic() + 5
    while True:
        try:
            check(Raw(s.socket).command("online")[1].endswith("online"), "after closing")
            break
        except (EOFError, AssertionError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


HELP_LINES = 11  # data lines of the admin socket's `help`


@test
def test_a_client_that_does_not_read_is_paused_and_gets_every_reply_in_order():
    # 8000 pipelined `help`s are ~5 MB of replies, past the 1 MiB of unsent output at which
    # the server stops reading that connection; nothing may be lost or reordered.
    s = world()
    c = Raw(s.socket)
    n = 8000
    import threading
    sender = threading.Thread(target=lambda: c.s.sendall(b"help\n" * (n - 1) + b"quit\n"))
    sender.start()
    time.sleep(1.0)  # let the server fill its output and pause
    check(Raw(s.socket).command("online")[1].endswith("online"), "others are still served")
    got = 0
    while got < n - 1:
        data, status = c.reply()
        check(status == "OK" and len(data) == HELP_LINES, "reply %d: %s %s" % (got, data, status))
        got += 1
    check(c.reply()[1] == "OK bye", "the last reply")
    sender.join(10)
    check(c.at_eof(), "not closed after quit")
    c.close()


def as_nobody(code):
    """Runs python code as uid/gid 65534; returns (exit code, output)."""
    if os.getuid() != 0 or not shutil.which("setpriv"):
        raise NotRun("needs root and setpriv to act as another user")
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                        "/usr/bin/python3", "-c", code], capture_output=True, text=True,
                       timeout=20)
    return r.returncode, r.stdout + r.stderr


@test
def test_another_user_cannot_connect_file_mode_then_peer_uid():
    s = world()
    os.chmod(s.dir, 0o711)  # let the other user reach the file, so its mode is what is tested
    try:
        code = ("import socket,sys\ns=socket.socket(socket.AF_UNIX)\n"
                "try:\n s.connect(%r)\nexcept PermissionError:\n print('EACCES'); sys.exit(0)\n"
                "s.settimeout(5)\ntry:\n s.sendall(b'online\\n'); print('GOT', s.recv(100))\n"
                "except (ConnectionResetError, BrokenPipeError):\n print('GOT', b'')\n" % s.socket)
        rc, out = as_nobody(code)
        check("EACCES" in out, "mode 0600 did not stop uid 65534: %s" % out)
        # Second layer: with the file opened up, the server itself refuses the other uid.
        os.chmod(s.socket, 0o666)
        rc, out = as_nobody(code)
        check("GOT b''" in out, "peer uid check let uid 65534 in: %s" % out)
        check("admin_refused reason=uid" in s.text(), "no admin_refused log line")
    finally:
        os.chmod(s.socket, 0o600)
        os.chmod(s.dir, 0o700)


@test
def test_config_file_gives_cmmo_admin_the_db_and_socket():
    s = world()
    conf = os.path.join(s.dir, "cmmo.conf")
    with open(conf, "w") as f:
        f.write("# as /etc/cmmo/cmmo.conf\nport = 8081\ndb = sqlite:%s  # the db\n"
                "admin-socket=%s\n" % (s.db, s.socket))
    rc, out, err = admin("--config", conf, "online")
    check(rc == 0 and out.strip().endswith("online"), "online via --config: %d %r" % (rc, err))
    rc, out, err = admin("list", env={"CMMO_CONFIG": conf})
    check(rc == 0 and "alice" in out, "list via CMMO_CONFIG: %d %r" % (rc, err))
    rc, out, err = admin("--config", conf, "--admin-socket", "/nonexistent/s", "online")
    check(rc == 3, "a flag must win over the file")


@test
def test_stale_socket_is_replaced_live_one_refused_and_removed_at_shutdown():
    d = tempfile.mkdtemp(prefix="cmmo-admin-")
    a = Server(d)
    a.require_admin()
    a.proc.kill()  # no clean shutdown: the socket file stays
    a.proc.wait()
    a.log.close()
    check(os.path.exists(a.socket), "socket file gone after SIGKILL?")
    b = Server(d)
    b.require_admin()
    check("admin_stale_socket_removed" in b.text(), "stale socket not reported")
    check(Raw(b.socket).command("online")[1] == "OK 0 online", "the new server answers")
    # A second server on the same socket path must not steal it.
    c = Server(d, db=os.path.join(d, "other.db"), admin_socket=b.socket)
    check(c.proc.wait(20) != 0, "a second server started on a live socket")
    check("another server is answering" in c.text(), c.text()[-500:])
    c.log.close()
    check(Raw(b.socket).command("online")[1] == "OK 0 online", "the first still answers")
    check(b.stop() == 0, "clean exit")
    check(not os.path.exists(b.socket), "socket file left after a clean shutdown")
    # A path that is not a socket is never removed.
    plain = os.path.join(d, "not-a-socket")
    open(plain, "w").close()
    e = Server(d, admin_socket=plain)
    check(e.proc.wait(20) != 0 and os.path.isfile(plain), "a regular file was replaced")
    e.log.close()
    shutil.rmtree(d)


# ==========================================================================================
# packaging
# ==========================================================================================

INSTALL = {}


def make_has_install():
    r = subprocess.run(["make", "-n", "-C", REPO, "install", "PREFIX=/nonexistent"],
                       capture_output=True, text=True)
    return r.returncode == 0


@test
def test_make_install_puts_everything_under_prefix():
    prefix = tempfile.mkdtemp(prefix="cmmo-prefix-")
    if make_has_install():
        argv, how = ["make", "-C", REPO, "install", "PREFIX=" + prefix,
                     "SYSTEMD_UNITDIR=" + prefix + "/lib/systemd/system"], "make install"
    else:
        # The rules are deploy/install.mk; until the Makefile includes it, run them directly.
        argv = ["make", "-C", REPO, "-f", "Makefile", "-f", "deploy/install.mk", "install",
                "PREFIX=" + prefix]
        how = "make -f Makefile -f deploy/install.mk install (Makefile does not include it yet)"
    r = subprocess.run(argv, capture_output=True, text=True, timeout=900)
    check(r.returncode == 0, "%s failed:\n%s" % (how, (r.stdout + r.stderr)[-3000:]))
    for rel in ("bin/cmmo-server", "bin/cmmo-admin", "share/cmmo/web/index.html",
                "share/cmmo/web/js/main.js", "share/man/man1/cmmo-admin.1",
                "share/man/man8/cmmo-server.8",
                "share/doc/cmmo/OPERATIONS.md", "share/doc/cmmo/PROTOCOL.md",
                "share/doc/cmmo/examples/cmmo.conf", "share/doc/cmmo/examples/nginx/cmmo.conf",
                "share/doc/cmmo/SCRIPTING.md", "share/doc/cmmo/examples/scripts/greeter.lua",
                "lib/systemd/system/cmmo.service"):
        check(os.path.exists(os.path.join(prefix, rel)), "missing %s" % rel)
    for b in ("cmmo-server", "cmmo-admin"):
        check(os.access(os.path.join(prefix, "bin", b), os.X_OK), b + " not executable")
        r = subprocess.run([os.path.join(prefix, "bin", b), "--help"], capture_output=True,
                           text=True, timeout=20)
        check(r.returncode == 0 and "usage" in r.stdout, b + " --help")
    unit = open(os.path.join(prefix, "lib/systemd/system/cmmo.service")).read()
    check("ExecStart=%s/bin/cmmo-server" % prefix in unit and "/usr/local" not in unit,
          "unit paths not rewritten for PREFIX")
    man = subprocess.run(["man", "--warnings", "-l", os.path.join(
        prefix, "share/man/man1/cmmo-admin.1")], capture_output=True, text=True,
        env=dict(os.environ, MANWIDTH="100", MAN_KEEP_FORMATTING="0"))
    check(man.returncode == 0 and "reset-password" in man.stdout, "man page does not render")
    check(not man.stderr.strip(), "man warnings: " + man.stderr)
    man = subprocess.run(["man", "--warnings", "-l", os.path.join(
        prefix, "share/man/man8/cmmo-server.8")], capture_output=True, text=True,
        env=dict(os.environ, MANWIDTH="100", MAN_KEEP_FORMATTING="0"))
    check(man.returncode == 0 and "print-config" in man.stdout, "server man page does not render")
    check(not man.stderr.strip(), "man warnings: " + man.stderr)
    # The installed server serves the installed web client.
    d = tempfile.mkdtemp(prefix="cmmo-admin-")
    srv = subprocess.Popen([os.path.join(prefix, "bin/cmmo-server"), "--host", "127.0.0.1",
                            "--port", "0", "--db", "sqlite:" + d + "/c.db", "--web-root",
                            os.path.join(prefix, "share/cmmo/web")], stderr=subprocess.PIPE,
                           text=True)
    try:
        port = None
        for line in srv.stderr:
            if " listening " in line:
                port = int(line.split("port=")[1].split()[0])
                break
        body = urllib.request.urlopen("http://127.0.0.1:%d/" % port, timeout=5).read()
        check(body == open(os.path.join(REPO, "web/index.html"), "rb").read(), "index.html")
    finally:
        srv.terminate()
        srv.wait(20)
    INSTALL["prefix"] = prefix
    INSTALL["how"] = how
    print("  (%s)" % how)


@test
def test_make_install_puts_the_unit_where_systemd_reads_it():
    # systemd reads /usr/local/lib/systemd/system but nothing under /opt: an install elsewhere
    # puts the unit in /etc/systemd/system (under DESTDIR), where `systemctl enable` finds it.
    for prefix, unitdir in (("/usr/local", "/usr/local/lib/systemd/system"),
                            ("/opt/cmmo", "/etc/systemd/system")):
        dest = tempfile.mkdtemp(prefix="cmmo-destdir-")
        r = subprocess.run(["make", "-C", REPO, "install", "PREFIX=" + prefix, "DESTDIR=" + dest],
                           capture_output=True, text=True, timeout=900)
        check(r.returncode == 0,
              "make install PREFIX=%s: %s" % (prefix, (r.stdout + r.stderr)[-2000:]))
        unit = os.path.join(dest + unitdir, "cmmo.service")
        check(os.path.isfile(unit), "PREFIX=%s: no unit at %s" % (prefix, unitdir))
        check("ExecStart=%s/bin/cmmo-server" % prefix in open(unit).read(),
              "PREFIX=%s: ExecStart not rewritten" % prefix)
        shutil.rmtree(dest)


@test
def test_systemd_unit_verifies():
    if not shutil.which("systemd-analyze"):
        raise NotRun("systemd-analyze is not installed")
    # verify checks that ExecStart exists and that man: documentation resolves: point the unit
    # at an installed tree, as `make install` renders it.
    prefix = INSTALL.get("prefix")
    if not prefix:
        prefix = tempfile.mkdtemp(prefix="cmmo-unit-")
        os.makedirs(prefix + "/bin")
        os.makedirs(prefix + "/share/man/man1")
        shutil.copy(SERVER, prefix + "/bin/cmmo-server")
        shutil.copy(os.path.join(REPO, "tools/admin/cmmo-admin.1"), prefix + "/share/man/man1/")
    d = tempfile.mkdtemp(prefix="cmmo-unit-")
    unit = os.path.join(d, "cmmo.service")
    with open(os.path.join(REPO, "deploy/cmmo.service")) as f:
        text = f.read()
    check("/usr/local/bin/cmmo-server" in text, "deploy/cmmo.service ExecStart changed shape")
    with open(unit, "w") as f:
        f.write(text.replace("/usr/local", prefix))
    r = subprocess.run(["systemd-analyze", "verify", unit], capture_output=True, text=True,
                       timeout=60, env=dict(os.environ, MANPATH=prefix + "/share/man"), cwd=d)
    check(r.returncode == 0 and not (r.stdout + r.stderr).strip(),
          "systemd-analyze verify: exit %d\n%s" % (r.returncode, r.stdout + r.stderr))
    shutil.rmtree(d)


def dockerfile_packages(stage_from):
    """The packages `apt-get install`ed in the Dockerfile stage that starts FROM stage_from."""
    with open(os.path.join(REPO, "deploy/Dockerfile")) as f:
        stages = f.read().split("\nFROM ")
    stage = next(st for st in stages if st.startswith(stage_from))
    run = stage[stage.index("apt-get install"):].split("&&")[0].replace("\\\n", " ")
    return {w for w in run.split()[2:] if not w.startswith("-")}


@test
def test_dockerfile_installs_what_the_binaries_link_and_nothing_else():
    # No container engine runs here, so the Dockerfile is checked against the build instead: its
    # build stage installs the packages the build scripts install, and its runtime stage the
    # package of every library the release binaries link directly (libc is in the base image).
    with open(os.path.join(REPO, "scripts/install-deps.sh")) as f:
        text = f.read()
    run_pkgs = set(text[text.index("run_pkgs=(") + 10:text.index(")", text.index("run_pkgs=("))]
                   .split())
    check(dockerfile_packages("debian:12 AS build") == run_pkgs,
          "Dockerfile build stage %s != install-deps run packages %s"
          % (sorted(dockerfile_packages("debian:12 AS build")), sorted(run_pkgs)))
    needed = set()
    for b in ("build/cmmo-server", "build/cmmo-admin"):
        path = os.path.join(REPO, b)
        if not os.path.exists(path):
            subprocess.run(["make", "-C", REPO, b], capture_output=True, timeout=900)
        out = subprocess.run(["readelf", "-d", path], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if "(NEEDED)" in line:
                needed.add(line.split("[")[1].rstrip("]"))
    cache = subprocess.run(["/sbin/ldconfig", "-p"], capture_output=True, text=True).stdout
    packages = set()
    for lib in sorted(needed):
        paths = [l.split("=>")[1].strip() for l in cache.splitlines()
                 if l.strip().startswith(lib + " ") and "x86-64" in l]
        check(paths, "ldconfig does not know %s" % lib)
        # dpkg knows a file by the path its package ships; with merged /usr that may be the
        # /lib or the /usr/lib spelling, of the link or of its target.
        real = os.path.realpath(paths[0])
        for candidate in (paths[0], real, real.replace("/usr/", "/", 1)):
            owner = subprocess.run(["dpkg", "-S", candidate], capture_output=True, text=True)
            if owner.returncode == 0:
                break
        check(owner.returncode == 0, "no package owns %s" % paths[0])
        packages.add(owner.stdout.split(":")[0])
    packages.discard("libc6")  # in debian:12-slim
    runtime = dockerfile_packages("debian:12-slim")
    check(runtime == packages, "Dockerfile runtime stage %s, the binaries link %s"
          % (sorted(runtime), sorted(packages)))


def derive_nginx_conf(d, upstream_port, http_port, tls_port, plain_port, cert, key, acme):
    """deploy/nginx/cmmo.conf with test ports and files; every replaced line must exist once."""
    with open(os.path.join(REPO, "deploy/nginx/cmmo.conf")) as f:
        text = f.read()

    def sub(old, new):
        nonlocal text
        check(text.count(old) == 1, "deploy/nginx/cmmo.conf: expected one %r" % old)
        text = text.replace(old, new)

    sub("server 127.0.0.1:8081;", "server 127.0.0.1:%d;" % upstream_port)
    sub("    listen 80;\n", "    listen 127.0.0.1:%d;\n" % http_port)
    sub("    listen [::]:80;\n", "")
    # The TLS server block is the one players use; the test also gives it a plain listener so
    # that ws:// goes through exactly the same location block.
    sub("    listen 443 ssl;\n", "    listen 127.0.0.1:%d ssl;\n    listen 127.0.0.1:%d;\n"
        % (tls_port, plain_port))
    sub("    listen [::]:443 ssl;\n", "")
    sub("/etc/letsencrypt/live/game.example.com/fullchain.pem", cert)
    sub("/etc/letsencrypt/live/game.example.com/privkey.pem", key)
    sub("root /var/www/html;", "root %s;" % acme)
    site = os.path.join(d, "cmmo-site.conf")
    with open(site, "w") as f:
        f.write(text)
    tmp = os.path.join(d, "tmp")
    os.makedirs(tmp)
    os.chmod(tmp, 0o777)
    main = os.path.join(d, "nginx.conf")
    with open(main, "w") as f:
        f.write("worker_processes 1;\npid %s/nginx.pid;\nerror_log %s/error.log info;\n"
                "events { worker_connections 256; }\n"
                "http {\n  access_log %s/access.log;\n"
                "  client_body_temp_path %s/body; proxy_temp_path %s/proxy;\n"
                "  fastcgi_temp_path %s/fcgi; uwsgi_temp_path %s/uwsgi; scgi_temp_path %s/scgi;\n"
                "  include %s;\n}\n" % (d, d, d, tmp, tmp, tmp, tmp, tmp, site))
    return main


@test
def test_nginx_site_proxies_http_ws_and_wss_to_cmmo():
    if not os.access(NGINX, os.X_OK) or not shutil.which("openssl"):
        raise NotRun("needs %s and openssl" % NGINX)
    d = tempfile.mkdtemp(prefix="cmmo-nginx-")
    os.chmod(d, 0o755)  # nginx workers run as nobody when started as root
    srv = Server(d, admin_socket="")
    check(srv.port, "server did not start")
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key, "-out", cert], capture_output=True, text=True)
    check(r.returncode == 0, "openssl: " + r.stderr)
    acme = os.path.join(d, "acme")
    os.makedirs(acme + "/.well-known/acme-challenge")
    with open(acme + "/.well-known/acme-challenge/token", "w") as f:
        f.write("challenge-ok")
    for p in (acme, acme + "/.well-known", acme + "/.well-known/acme-challenge"):
        os.chmod(p, 0o755)
    os.chmod(acme + "/.well-known/acme-challenge/token", 0o644)
    http_port, tls_port, plain_port = free_port(), free_port(), free_port()
    conf = derive_nginx_conf(d, srv.port, http_port, tls_port, plain_port, cert, key, acme)
    t = subprocess.run([NGINX, "-t", "-p", d, "-c", conf], capture_output=True, text=True)
    check(t.returncode == 0, "nginx -t:\n" + t.stderr)
    ngx = subprocess.Popen([NGINX, "-p", d, "-c", conf, "-g", "daemon off;"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", plain_port), 1).close()
                socket.create_connection(("127.0.0.1", tls_port), 1).close()
                break
            except OSError:
                check(ngx.poll() is None, "nginx exited: " + ngx.stderr.read())
                check(time.monotonic() < deadline, "nginx did not listen")
                time.sleep(0.1)
        ctx = ssl.create_default_context(cafile=cert)
        # HTTP: the client and /stats through the proxy, plain and TLS.
        index = open(os.path.join(REPO, "web/index.html"), "rb").read()
        body = urllib.request.urlopen("http://127.0.0.1:%d/" % plain_port, timeout=5).read()
        check(body == index, "index.html through nginx (http)")
        body = urllib.request.urlopen("https://127.0.0.1:%d/" % tls_port, timeout=5,
                                      context=ctx).read()
        check(body == index, "index.html through nginx (https)")
        stats = json.loads(urllib.request.urlopen("https://127.0.0.1:%d/stats" % tls_port,
                                                  timeout=5, context=ctx).read())
        check("players" in stats, "/stats through nginx: %s" % stats)
        # Port 80: certbot's challenge is served, everything else is sent to https.
        body = urllib.request.urlopen("http://127.0.0.1:%d/.well-known/acme-challenge/token"
                                      % http_port, timeout=5).read()
        check(body == b"challenge-ok", "ACME challenge")
        conn = socket.create_connection(("127.0.0.1", http_port), 5)
        conn.sendall(b"GET /x HTTP/1.1\r\nHost: game.example.com\r\nConnection: close\r\n\r\n")
        head = conn.recv(4096).decode()
        conn.close()
        check(head.startswith("HTTP/1.1 301") and "Location: https://game.example.com/x" in head,
              "port 80 redirect: " + head[:200])

        async def play(url, tag, **kw):
            n1, n2 = "ng_%s_1" % tag, "ng_%s_2" % tag
            for n in (n1, n2):
                check((await register(url, n, "pw " + n, **kw)) == {"a": "Ok"}, "register " + n)
            a, ra = await login(url, n1, "pw " + n1, **kw)
            b, rb = await login(url, n2, "pw " + n2, **kw)
            check(ra == rb == {"a": "Ok"}, "login through nginx: %s %s" % (ra, rb))
            await a.send(json.dumps({"a": "Chat", "p0": "", "p1": "hello via nginx " + tag}))
            p = await recv_until(b, lambda p: p.get("a") == "Chat")
            check(p == {"a": "Chat", "p0": n1, "p1": "hello via nginx " + tag}, "chat %s" % p)
            await a.send(json.dumps({"a": "Target", "p0": 50, "p1": 0}))
            await recv_until(b, lambda p: p.get("a") == "ModelDelta"
                             and "instanced_entity" in p["p0"]
                             and p["p0"]["instanced_entity"].get("x", 0) > 0)
            await a.close()
            await b.close()

        tag = str(os.getpid() % 10000)
        run(play("ws://127.0.0.1:%d/" % plain_port, "w" + tag))
        run(play("wss://127.0.0.1:%d/" % tls_port, "s" + tag, ssl=ctx))
    finally:
        ngx.send_signal(signal.SIGQUIT)
        try:
            ngx.wait(10)
        except subprocess.TimeoutExpired:
            ngx.kill()
            ngx.wait()
        check(srv.stop() == 0, "server exit code")
    err_log = open(os.path.join(d, "error.log")).read()
    check("[emerg]" not in err_log and "[crit]" not in err_log, "nginx errors:\n" + err_log[-2000:])
    shutil.rmtree(d, ignore_errors=True)


@test
def test_dockerfile_matches_the_install_layout():
    # No container engine here: the Dockerfile is checked against what `make install` makes.
    text = open(os.path.join(REPO, "deploy/Dockerfile")).read()
    froms = [ln.split()[1] for ln in text.splitlines() if ln.startswith("FROM ")]
    check(froms and all(f.startswith("debian:12") for f in froms), "bases: %s" % froms)
    check("make install PREFIX=/usr/local DESTDIR=/out" in text, "builds with make install")
    for path in ("/usr/local/bin/cmmo-server", "/usr/local/share/cmmo/web"):
        check(path in text, "uses " + path)
    check("USER cmmo" in text and "STOPSIGNAL SIGTERM" in text, "unprivileged, clean stop")
    prefix = INSTALL.get("prefix")
    if prefix:
        check(os.path.isdir(prefix + "/share/cmmo/web"), "install layout has share/cmmo/web")


# ------------------------------------------------------------------------------------------

def main():
    only = sys.argv[1:]
    for b in (SERVER, ADMIN):
        if not os.access(b, os.X_OK):
            print("missing %s (run make asan)" % b)
            print("RESULT: 0 passed, 1 failed")
            return 1
    passed = failed = 0
    for fn in TESTS:
        if only and not any(o in fn.__name__ for o in only):
            continue
        t0 = time.monotonic()
        try:
            fn()
            passed += 1
            print("PASS %s (%.1f s)" % (fn.__name__, time.monotonic() - t0), flush=True)
        except NotRun as e:
            print("NOT RUN %s: %s" % (fn.__name__, e), flush=True)
        except Exception as e:
            failed += 1
            print("FAIL %s: %s" % (fn.__name__, e), flush=True)
            if not isinstance(e, AssertionError):
                traceback.print_exc()
    if World.server is not None:
        try:
            check(World.server.stop() == 0, "the shared server did not exit 0")
            check(not os.path.exists(World.server.socket), "socket left after shutdown")
        except Exception as e:
            failed += 1
            print("FAIL shared_server_clean_shutdown: %s" % e)
        shutil.rmtree(World.dir, ignore_errors=True)
    if PG.dir:
        subprocess.run([PG_SH, "stop", PG.dir], capture_output=True, timeout=60)
    print("RESULT: %d passed, %d failed" % (passed, failed))
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
