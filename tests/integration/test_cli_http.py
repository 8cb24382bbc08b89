"""The command line (exit codes) and the HTTP side of the port: static files from --web-root,
no escape from it, and GET /stats (docs/PROTOCOL.md sections 1 and 8)."""

import json
import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

from harness import REPO, SERVER_BIN, Server, ServerTestCase, async_test, http_get, pkt, unique_name


def run_cli(*args, timeout=10):
    with tempfile.TemporaryDirectory(prefix="cmmo-cli-") as d:
        base = [SERVER_BIN, "--host", "127.0.0.1", "--db", "sqlite:" + os.path.join(d, "c.db")]
        return subprocess.run(base + list(args), capture_output=True, text=True,
                              timeout=timeout, stdin=subprocess.DEVNULL)


def read_version_file():
    with open(os.path.join(REPO, "VERSION")) as f:
        return f.read().strip()


def parse_version(stdout):
    """`cmmo-server 0.3.0 (commit 4035d65)` -> ("0.3.0", "4035d65")."""
    m = re.fullmatch(r"cmmo-server (\d+\.\d+\.\d+) \(commit ([0-9A-Za-z.-]+)\)\n", stdout)
    assert m, "unexpected --version output: %r" % stdout
    return m.group(1), m.group(2)


def assert_commit_is_this_checkouts(test, commit):
    """Built in a git checkout, the commit names a real commit of it (with -dirty if the tree
    had changes); built elsewhere, it says unknown."""
    if not os.path.exists(os.path.join(REPO, ".git")):
        test.assertEqual(commit, "unknown")
        return
    test.assertNotEqual(commit, "unknown", "built in a git checkout, the commit is known")
    sha = commit[:-len("-dirty")] if commit.endswith("-dirty") else commit
    r = subprocess.run(["git", "-C", REPO, "cat-file", "-e", sha + "^{commit}"],
                       capture_output=True, text=True)
    test.assertEqual(r.returncode, 0, "%r is not a commit of this checkout" % commit)


class HeadRequests(ServerTestCase):
    """HEAD gets the status line and headers a GET would get, Content-Length included, and no
    body (RFC 9110 9.3.2): for the server's own endpoints as for static files."""

    def head(self, path):
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=5) as s:
            s.sendall(("HEAD %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                       % path).encode())
            data = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        head, sep, rest = data.partition(b"\r\n\r\n")
        self.assertEqual(sep, b"\r\n\r\n", data[:200])
        return head.decode("latin-1"), rest

    def test_head_of_the_endpoints_sends_no_body(self):
        for path in ("/metrics", "/healthz", "/stats", "/"):
            head, rest = self.head(path)
            self.assertTrue(head.startswith("HTTP/1.1 200"), (path, head))
            length = re.search(r"(?im)^content-length:\s*(\d+)", head)
            self.assertTrue(length and int(length.group(1)) > 0, (path, head))
            self.assertEqual(rest, b"", "%s: HEAD answered with a body" % path)


class StatsReset(ServerTestCase):
    """GET /stats?reset=1 restarts the tick figures for cmmo-bench, which connects over loopback;
    from anywhere else (a remote peer, or anyone relayed by a local reverse proxy) it is refused
    with 403 and resets nothing (docs/OPERATIONS.md)."""

    def ticks_after_warmup(self):
        time.sleep(0.6)
        ticks = json.loads(http_get(self.server.port, "/stats")[2])["ticks"]
        self.assertGreaterEqual(ticks, 8)
        return ticks

    def test_reset_from_this_machine_restarts_the_tick_figures(self):
        self.ticks_after_warmup()
        status, _, _ = http_get(self.server.port, "/stats?reset=1")
        self.assertEqual(status, 200)
        after = json.loads(http_get(self.server.port, "/stats")[2])["ticks"]
        self.assertLess(after, 5, "the reset did not reset")

    def test_reset_relayed_by_a_local_proxy_is_refused_and_resets_nothing(self):
        before = self.ticks_after_warmup()
        status, _, body = http_get(self.server.port, "/stats?reset=1",
                                   extra_headers="X-Real-IP: 203.0.113.9\r\n")
        self.assertEqual(status, 403)
        self.assertIn(b"only allowed from this machine", body)
        after = json.loads(http_get(self.server.port, "/stats")[2])["ticks"]
        self.assertGreaterEqual(after, before)


class CommandLine(unittest.TestCase):

    def assert_usage_error(self, *args):
        r = run_cli(*args)
        self.assertEqual(r.returncode, 2, "exit code for %s; stderr: %s" % (args, r.stderr[-500:]))
        self.assertTrue((r.stderr + r.stdout).strip(), "a message for %s" % (args,))

    def test_help_exits_0_and_mentions_port(self):
        r = subprocess.run([SERVER_BIN, "--help"], capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 0)
        self.assertIn("--port", r.stdout + r.stderr)

    def test_version_prints_the_version_file_and_the_built_commit_and_exits_0(self):
        r = subprocess.run([SERVER_BIN, "--version"], capture_output=True, text=True, timeout=10)
        self.assertEqual(r.returncode, 0, r.stderr)
        version, commit = parse_version(r.stdout)
        self.assertEqual(version, read_version_file())
        assert_commit_is_this_checkouts(self, commit)

    def test_unknown_flag_exits_2(self):
        self.assert_usage_error("--port", "0", "--bogus")

    def test_port_99999_exits_2(self):
        self.assert_usage_error("--port", "99999")

    def test_non_numeric_port_exits_2(self):
        self.assert_usage_error("--port", "http")

    def test_world_with_zero_width_exits_2(self):
        self.assert_usage_error("--port", "0", "--world", "0x5")

    def test_world_without_height_exits_2(self):
        self.assert_usage_error("--port", "0", "--world", "100")

    def test_unknown_log_level_exits_2(self):
        self.assert_usage_error("--port", "0", "--log-level", "loud")

    def test_missing_flag_value_exits_2(self):
        self.assert_usage_error("--port")


MAN_PAGE = os.path.join(REPO, "docs", "cmmo-server.8")


def man_sections(path):
    """The man page's source by section: {"OPTIONS": [lines], ...}, with \\- read as -."""
    sections, current = {}, None
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n").replace("\\-", "-")
            if line.startswith(".SH "):
                current = line[4:].strip('"')
                sections[current] = []
            elif current:
                sections[current].append(line)
    return sections


def man_option_entries(options_lines):
    """The options the OPTIONS section gives an entry (.TP) of its own, by their first flag."""
    entries = set()
    for prev, line in zip(options_lines, options_lines[1:]):
        if prev == ".TP":
            m = re.search(r"(--[a-z][a-z-]*)", line)
            assert m, "a .TP entry without an option: %r" % line
            entries.add(m.group(1))
    return entries


class ManPage(unittest.TestCase):
    """docs/cmmo-server.8 (installed as man8/cmmo-server.8) against what the binary accepts."""

    @classmethod
    def setUpClass(cls):
        r = subprocess.run([SERVER_BIN, "--help"], capture_output=True, text=True, timeout=10)
        assert r.returncode == 0, r.stderr
        cls.help = r.stdout
        cls.sections = man_sections(MAN_PAGE)

    def test_every_option_in_help_has_an_entry_in_the_man_page(self):
        in_help = set(re.findall(r"--[a-z][a-z-]*", self.help))
        self.assertIn("--port", in_help)
        in_man = man_option_entries(self.sections["OPTIONS"])
        self.assertEqual(sorted(in_help - in_man), [], "options missing from the man page")
        self.assertEqual(sorted(in_man - in_help), [], "man page options --help does not know")

    def test_every_environment_variable_in_help_is_in_the_man_page(self):
        in_help = set(re.findall(r"CMMO_[A-Z_]+", self.help))
        self.assertIn("CMMO_PORT", in_help)
        in_man = set(re.findall(r"CMMO_[A-Z_]+", "\n".join(self.sections["ENVIRONMENT"])))
        self.assertEqual(sorted(in_help ^ in_man), [], "environment variables that differ")

    def test_the_man_page_documents_signals_endpoints_and_exit_status(self):
        for name in ("SYNOPSIS", "DESCRIPTION", "OPTIONS", "ENVIRONMENT", "CONFIG FILE", "SIGNALS",
                     "HTTP ENDPOINTS", "EXIT STATUS", "FILES", "SEE ALSO"):
            self.assertIn(name, self.sections)
        signals = "\n".join(self.sections["SIGNALS"])
        for sig in ("SIGTERM", "SIGINT", "SIGHUP"):
            self.assertIn(sig, signals)
        endpoints = "\n".join(self.sections["HTTP ENDPOINTS"])
        for path in ("/healthz", "/metrics", "/stats"):
            self.assertIn(path, endpoints)
        status = "\n".join(self.sections["EXIT STATUS"])
        for code in ("0", "1", "2"):
            self.assertIn("\n.B %s\n" % code, "\n" + status + "\n")

    def test_the_man_page_renders_without_warnings(self):
        # groff's -ww turns on every warning; -z formats without output. groff-base is in
        # scripts/install-deps.sh (man-db's man uses it too).
        r = subprocess.run(["groff", "-man", "-Tutf8", "-ww", "-z", MAN_PAGE],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual((r.returncode, r.stderr), (0, ""))


class Http(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        d = tempfile.mkdtemp(prefix="cmmo-web-")
        cls.secret_dir = d
        web = os.path.join(d, "web")
        os.makedirs(os.path.join(web, "sub"))
        with open(os.path.join(web, "index.html"), "w") as f:
            f.write("<!doctype html><p>cmmo integration index 31415</p>\n")
        with open(os.path.join(web, "sub", "index.html"), "w") as f:
            f.write("sub index 27182\n")
        with open(os.path.join(web, "app.js"), "w") as f:
            f.write("console.log('app 16180');\n")
        with open(os.path.join(d, "secret.txt"), "w") as f:
            f.write("TOP SECRET 99999\n")
        cls.server_options = {"web_root": web}
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            shutil.rmtree(cls.secret_dir, ignore_errors=True)

    def get(self, path):
        return http_get(self.server.port, path)

    def test_get_root_serves_index_html(self):
        status, headers, body = self.get("/")
        self.assertEqual(status, 200)
        self.assertIn(b"cmmo integration index 31415", body)

    def test_get_file_serves_it(self):
        status, _, body = self.get("/app.js")
        self.assertEqual(status, 200)
        self.assertEqual(body, b"console.log('app 16180');\n")

    def test_path_ending_in_slash_serves_its_index_html(self):
        status, _, body = self.get("/sub/")
        self.assertEqual(status, 200)
        self.assertIn(b"sub index 27182", body)

    def test_missing_file_is_404(self):
        status, _, _ = self.get("/no-such-file.html")
        self.assertEqual(status, 404)

    def test_dot_dot_does_not_escape_the_web_root(self):
        for path in ("/../etc/passwd", "/../secret.txt", "/sub/../../secret.txt", "/..",
                     "/%2e%2e/secret.txt", "/sub/%2e%2e/%2e%2e/secret.txt", "/..%2fsecret.txt"):
            status, _, body = self.get(path)
            self.assertIn(status, (400, 403, 404), path)
            self.assertNotIn(b"TOP SECRET", body, path)
            self.assertNotIn(b"root:", body, path)

    def test_stats_returns_the_documented_json(self):
        status, _, body = self.get("/stats")
        self.assertEqual(status, 200)
        s = json.loads(body)
        for key in ("connections", "players", "ticks"):
            self.assertIsInstance(s[key], int, key)
        for key in ("p50", "p99", "max"):
            self.assertIsInstance(s["tick_ms"][key], (int, float), key)
        t0 = s["ticks"]
        time.sleep(0.5)
        s2 = json.loads(self.get("/stats")[2])
        self.assertGreaterEqual(s2["ticks"] - t0, 5, "ticks advance at about 20 Hz")

    @async_test
    async def test_stats_counts_connections_and_players(self):
        before = json.loads(self.get("/stats")[2])
        a = await self.player("stat")
        b = await self.player("stat")
        lobby = await self.client()
        await lobby.register(unique_name("lobby"), "pw", 0)
        s = json.loads(self.get("/stats")[2])
        self.assertEqual(s["players"] - before["players"], 2)
        self.assertEqual(s["connections"] - before["connections"], 3)


if __name__ == "__main__":
    unittest.main()
