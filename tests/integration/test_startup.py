"""A server that cannot start does not start: every failure while starting (the port, the store,
the admin socket, the TLS files, Redis) is logged with its real reason and the process exits
non-zero before the game port has accepted a single connection (docs/OPERATIONS.md, "Starting
and stopping")."""
import os
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from harness import SANITIZER_PATTERNS, SERVER_BIN, Server
from test_ops import _cert, _key

# A failed start must end by itself: a server still running after this long is half-up.
EXIT_TIMEOUT = 20.0


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Prober(threading.Thread):
    """Tries to connect to the port every few ms while the server runs; counts who got in."""

    def __init__(self, port):
        super().__init__(daemon=True)
        self.port, self.accepted, self.done = port, 0, threading.Event()

    def run(self):
        while not self.done.is_set():
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    self.accepted += 1
            except OSError:
                pass
            time.sleep(0.003)


class FailedStart(unittest.TestCase):

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="cmmo-it-start-")
        self.web = os.path.join(self.dir, "web")
        os.makedirs(self.web)

    def start_failing(self, extra, port=None, probe=True):
        """Runs the server with extra arguments; returns (exit code, stderr) after checking that
        it ended by itself, never said it was listening, never accepted on its port and left no
        sanitizer report."""
        port = port or free_port()
        args = [SERVER_BIN, "--host", "127.0.0.1", "--port", str(port), "--web-root", self.web]
        if not any(a == "--db" for a in extra):
            args += ["--db", "sqlite:" + os.path.join(self.dir, "ok.db")]
        env = {k: v for k, v in os.environ.items() if not k.startswith("CMMO_")}
        env.setdefault("ASAN_OPTIONS", "abort_on_error=0:detect_leaks=1")
        err_path = os.path.join(self.dir, "stderr-%d.log" % port)
        with open(err_path, "wb") as err:
            proc = subprocess.Popen(args + extra, stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=err)
        prober = Prober(port)
        if probe:
            prober.start()
        try:
            code = proc.wait(EXIT_TIMEOUT)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            code = None
        prober.done.set()
        if probe:
            prober.join()
        with open(err_path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
        self.assertIsNotNone(code, "still running %.0f s after a failed start (half-up):\n%s"
                             % (EXIT_TIMEOUT, text[-2000:]))
        self.assertFalse([l for l in text.splitlines() if any(p in l for p in SANITIZER_PATTERNS)],
                         text[-3000:])
        self.assertEqual(code, 1, text[-2000:])
        self.assertNotIn(" listening ", text)
        self.assertIn("startup_failed", text)
        self.assertEqual(prober.accepted, 0, "the game port accepted a connection:\n" + text)
        return text

    def test_a_taken_port_fails_with_address_in_use(self):
        holder = socket.socket()
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        try:
            text = self.start_failing([], port=holder.getsockname()[1], probe=False)
        finally:
            holder.close()
        self.assertIn("listen_failed", text)
        self.assertIn("EADDRINUSE", text)

    def test_a_file_that_is_not_a_database_fails_naming_it(self):
        bad = os.path.join(self.dir, "bad.db")
        with open(bad, "w") as f:
            f.write("this is not an SQLite database\n" * 100)
        text = self.start_failing(["--db", "sqlite:" + bad])
        self.assertIn("file is not a database", text)
        self.assertIn("stage=store", text)

    def test_a_database_in_a_missing_directory_fails_naming_it(self):
        path = os.path.join(self.dir, "missing", "cmmo.db")
        text = self.start_failing(["--db", "sqlite:" + path])
        self.assertIn("store_open_failed", text)
        self.assertIn("unable to open database file", text)

    def test_admin_socket_in_a_missing_directory_fails_saying_so(self):
        path = os.path.join(self.dir, "missing", "admin.sock")
        text = self.start_failing(["--admin-socket", path])
        self.assertIn("admin_start_failed", text)
        self.assertIn("directory does not exist", text)
        self.assertNotIn("permission denied", text)

    def test_admin_socket_served_by_a_live_server_fails_and_leaves_it_alone(self):
        path = os.path.join(self.dir, "admin.sock")
        first = Server(extra_args=["--admin-socket", path])
        first.start()
        try:
            text = self.start_failing(["--admin-socket", path])
            self.assertIn("another server is answering on it", text)
            # The first server still has its socket and its port.
            self.assertTrue(os.path.exists(path))
            with socket.socket(socket.AF_UNIX) as s:
                s.connect(path)
                s.sendall(b"online\n")
                self.assertIn(b"OK 0 online", s.recv(4096))
        finally:
            first.stop_and_check()
            first.assert_clean()
            first.cleanup_files()

    def test_a_missing_tls_certificate_fails_naming_the_error(self):
        text = self.start_failing(["--tls-cert", os.path.join(self.dir, "none.pem"),
                                   "--tls-key", _key])
        self.assertIn("tls_load_failed", text)
        self.assertIn("No such file or directory", text)

    def test_a_garbage_tls_certificate_fails_naming_the_error(self):
        bad = os.path.join(self.dir, "bad.pem")
        with open(bad, "w") as f:
            f.write("not a certificate\n")
        text = self.start_failing(["--tls-cert", bad, "--tls-key", _key])
        self.assertIn("tls_load_failed", text)
        self.assertIn("no start line", text)

    def test_a_garbage_tls_key_fails_naming_the_error(self):
        bad = os.path.join(self.dir, "bad-key.pem")
        with open(bad, "w") as f:
            f.write("not a key\n")
        text = self.start_failing(["--tls-cert", _cert, "--tls-key", bad])
        self.assertIn("tls_load_failed", text)
        self.assertIn("file=key", text)

    def test_unreachable_redis_fails_instead_of_serving_alone(self):
        text = self.start_failing(["--redis", "redis://127.0.0.1:1"])
        self.assertIn("cluster_unreachable", text)
        self.assertIn("Connection refused", text)
        self.assertIn("stage=redis", text)

    def test_with_a_log_file_the_reason_also_reaches_stderr(self):
        # Operators read the terminal or the journal when a service will not start; a reason
        # written only to --log-file is one they do not find (docs/OPERATIONS.md, section 10).
        log = os.path.join(self.dir, "cmmo.log")
        holder = socket.socket()
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        try:
            text = self.start_failing(["--log-file", log], port=holder.getsockname()[1],
                                      probe=False)
        finally:
            holder.close()
        self.assertIn("listen_failed", text)
        self.assertIn("EADDRINUSE", text)
        with open(log) as f:
            self.assertIn("listen_failed", f.read(), "the log file has it too")


if __name__ == "__main__":
    unittest.main()
