"""Cluster test and benchmark support: throwaway Redis and PostgreSQL servers on loopback, and
cmmo nodes that share them.

Everything runs from Debian's packages, on free ports, in temporary directories, started and
stopped here: never a system service. The WebSocket client is tests/integration/harness.py's.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(REPO, "tests", "integration"))

import harness  # noqa: E402  (the integration suite's client and server helpers)

REDIS_SERVER = os.environ.get("CMMO_REDIS_SERVER", "/usr/bin/redis-server")
PG_SH = os.path.join(REPO, "tests", "support", "pg.sh")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Redis:
    """A redis-server on a free loopback port, no persistence, in its own directory."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="cmmo-redis-")
        self.proc = None
        self.port = None

    def start(self, port=None):
        """Starts on a free port, or on port (a restart: the nodes reconnect to the same URL)."""
        if not os.path.exists(REDIS_SERVER):
            raise RuntimeError("%s is missing (scripts/install-deps.sh installs redis-server)"
                               % REDIS_SERVER)
        for _ in range(5 if port is None else 50):
            self.port = port or free_port()
            log = open(os.path.join(self.dir, "redis.log"), "ab")
            self.proc = subprocess.Popen(
                [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--daemonize", "no", "--dir", self.dir],
                stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                preexec_fn=harness._die_with_parent)
            log.close()
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and self.proc.poll() is None:
                try:
                    if self.command("PING") == "+PONG":
                        return self
                except OSError:
                    pass
                time.sleep(0.05)
            self.stop()
            if port is not None:
                time.sleep(0.1)  # the old server's port may still be closing
        raise RuntimeError("redis-server did not start; log in %s" % self.dir)

    @property
    def url(self):
        return "redis://127.0.0.1:%d" % self.port

    def command(self, *args):
        """One command over RESP; returns the first reply line (enough for tests)."""
        with socket.create_connection(("127.0.0.1", self.port), timeout=2) as s:
            msg = "*%d\r\n" % len(args) + "".join(
                "$%d\r\n%s\r\n" % (len(a.encode()), a) for a in map(str, args))
            s.sendall(msg.encode())
            data = b""
            while b"\r\n" not in data:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
            line, _, rest = data.partition(b"\r\n")
            line = line.decode()
            if line.startswith("$") and line != "$-1":
                n = int(line[1:])
                while len(rest) < n + 2:
                    rest += s.recv(65536)
                return rest[:n].decode("utf-8", "replace")
            return line

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()  # SIGKILL ends a stopped process too, unread input and all
            self.proc.wait()
        self.proc = None

    def restart(self):
        """Killed (-9) and started again on the same port, empty (no persistence)."""
        port = self.port
        self.stop()
        return self.start(port)

    def freeze(self):
        """SIGSTOP: connections stay open, nothing is answered (a stalled or paused server)."""
        self.proc.send_signal(signal.SIGSTOP)

    def thaw(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGCONT)

    def client_ids(self, name_prefix):
        """Ids of the clients whose CLIENT SETNAME starts with name_prefix."""
        ids = []
        for line in self.command("CLIENT", "LIST").splitlines():
            fields = dict(f.split("=", 1) for f in line.split() if "=" in f)
            if fields.get("name", "").startswith(name_prefix):
                ids.append(fields["id"])
        return ids

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class Proxy:
    """A TCP relay on a free loopback port to a target port: one node's own path to Redis, to
    cut that node off alone. While frozen it stops relaying (connections stay open, as over a
    network that drops everything); thaw relays again what was held."""

    def __init__(self, target_port):
        self.target_port = target_port
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]
        self.open = threading.Event()
        self.open.set()
        self.closing = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self):
        return "redis://127.0.0.1:%d" % self.port

    def _accept(self):
        while not self.closing:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                server = socket.create_connection(("127.0.0.1", self.target_port), timeout=2)
                server.settimeout(None)
            except OSError:
                client.close()
                continue
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                self.open.wait()
                dst.sendall(data)
        except OSError:
            pass
        for s in (src, dst):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def freeze(self):
        self.open.clear()

    def thaw(self):
        self.open.set()

    def close(self):
        self.closing = True
        self.thaw()
        self.listener.close()


class Postgres:
    """tests/support/pg.sh: a throwaway PostgreSQL server."""

    def __init__(self):
        self.url = None
        self.dir = None

    def start(self):
        out = subprocess.run([PG_SH, "start"], capture_output=True, text=True, timeout=120)
        if out.returncode != 0:
            raise RuntimeError("pg.sh start failed: %s" % out.stderr[-2000:])
        self.url = out.stdout.strip().splitlines()[-1]
        for line in out.stderr.splitlines():
            if "started in" in line:
                self.dir = line.split("started in", 1)[1].strip()
        return self

    def halt(self):
        """Stops the server, keeping its data and port (pg.sh halt)."""
        subprocess.run([PG_SH, "halt", self.dir], check=True, capture_output=True, timeout=60)

    def resume(self):
        subprocess.run([PG_SH, "resume", self.dir], check=True, capture_output=True, timeout=60)

    def _pids(self):
        """The postmaster and its children (every backend, the checkpointer, ...)."""
        with open(os.path.join(self.dir, "data", "postmaster.pid")) as f:
            main = int(f.readline())
        out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(main)], capture_output=True,
                             text=True)
        return [main] + [int(p) for p in out.stdout.split()]

    def freeze(self):
        """SIGSTOP to every process of the server: connections stay open, nothing answers."""
        self._frozen = self._pids()
        for pid in self._frozen:
            os.kill(pid, signal.SIGSTOP)

    def thaw(self):
        for pid in getattr(self, "_frozen", []):
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass
        self._frozen = []

    def cleanup(self):
        if self.dir:
            self.thaw()
            subprocess.run([PG_SH, "stop", self.dir], capture_output=True, timeout=60)
            self.dir = None


class Node(harness.Server):
    """A cmmo node of the cluster: the shared database, the shared Redis, its own port."""

    def __init__(self, db_url, redis_url, node_id, extra_args=(), log_level="debug"):
        super().__init__(log_level=log_level, extra_args=extra_args)
        self.db_url = db_url
        self.redis_url = redis_url
        self.node_id = node_id

    def args(self):
        a = super().args()
        i = a.index("--db")
        a[i + 1] = self.db_url
        return a + ["--redis", self.redis_url, "--node-id", self.node_id]
