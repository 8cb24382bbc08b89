"""Running cmmo in production: TLS on the game port, /metrics, /healthz, the config file and
--print-config, JSON logs and --log-file, SIGHUP, and the shutdown announcement."""
import asyncio
import json
import os
import re
import signal
import ssl
import subprocess
import tempfile
import time
import unittest

import websockets

from harness import (SERVER_BIN, Client, Server, ServerTestCase, async_test, http_get, is_chat,
                     pkt, unique_name)


def make_certificate(directory, name="localhost"):
    """A self-signed certificate and key made with the openssl command, as an operator would."""
    cert, key = os.path.join(directory, "cert.pem"), os.path.join(directory, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key,
                    "-out", cert, "-days", "2", "-subj", "/CN=" + name],
                   check=True, capture_output=True)
    return cert, key


def client_tls_context():
    # The tutorial's v1.1 client does not verify certificates; neither does this test client.
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def https_get(port, path):
    import http.client
    conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=5, context=client_tls_context())
    conn.request("GET", path)
    r = conn.getresponse()
    body = r.read()
    cert = conn.sock.getpeercert(binary_form=True)
    conn.close()
    return r.status, body, cert


_tls_dir = tempfile.mkdtemp(prefix="cmmo-it-tls-")
_cert, _key = make_certificate(_tls_dir)


class Tls(ServerTestCase):
    server_options = {"extra_args": ["--tls-cert", _cert, "--tls-key", _key]}

    async def tls_player(self, tag):
        name = unique_name(tag)
        c = await Client.connect("wss://127.0.0.1:%d/" % self.server.port, name,
                                 ssl=client_tls_context())
        self._clients.append(c)
        self.assertEqual(await c.register(name, "pw-" + name, 1), {"a": "Ok"})
        self.assertEqual(await c.login(name, "pw-" + name), {"a": "Ok"})
        return c

    @async_test
    async def test_wss_client_registers_logs_in_and_chats_with_a_plain_ws_client(self):
        secure = await self.tls_player("tls")
        plain = await self.player("plain")
        await secure.wait_for(lambda p: p.get("a") == "ModelDelta" and p["p0"]["id"] == plain.aid,
                              what="the plain player's model over TLS")
        await secure.chat("hello over tls")
        got = await plain.wait_for(is_chat("hello over tls"))
        self.assertEqual(got["p0"], secure.name if hasattr(secure, "name") else got["p0"])
        await plain.chat("hello over plain")
        await secure.wait_for(is_chat("hello over plain"))

    @async_test
    async def test_wss_client_sees_movement_deltas(self):
        secure = await self.tls_player("tlsmove")
        await secure.send(pkt("Target", 30, 0))
        await secure.wait_for(lambda p: p.get("a") == "ModelDelta" and p["p0"]["id"] == secure.aid
                              and p["p0"].get("instanced_entity", {}).get("x") == 30,
                              what="arrival delta over TLS")

    def test_https_serves_static_files_and_metrics(self):
        status, body, cert = https_get(self.server.port, "/")
        self.assertEqual(status, 200)
        self.assertIn(b"integration index", body)
        with open(_cert) as f:
            self.assertTrue(cert, "the server presented a certificate")
        status, body, _ = https_get(self.server.port, "/metrics")
        self.assertEqual(status, 200)
        self.assertIn(b"cmmo_players", body)

    def test_garbage_instead_of_a_tls_handshake_does_not_hurt_the_server(self):
        import socket
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=5) as s:
            s.sendall(b"\x16\x03\x01\x00\x05hello-not-tls" * 10)
            try:
                s.recv(100)
            except OSError:
                pass
        status, _, _ = https_get(self.server.port, "/healthz")
        self.assertEqual(status, 200)

    def test_sighup_reloads_a_replaced_certificate(self):
        _, _, before = https_get(self.server.port, "/healthz")
        new_dir = tempfile.mkdtemp(prefix="cmmo-it-tls2-")
        cert2, key2 = make_certificate(new_dir, "renewed")
        os.replace(cert2, _cert)
        os.replace(key2, _key)
        self.server.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 5
        while "tls=ok" not in self.server.stderr_text() and time.monotonic() < deadline:
            time.sleep(0.05)
        self.assertIn("reloaded", self.server.stderr_text())
        _, _, after = https_get(self.server.port, "/healthz")
        self.assertNotEqual(before, after, "new connections get the renewed certificate")


METRIC_LINE = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*"'
                         r'(,[a-zA-Z_][a-zA-Z0-9_]*="[^"\\]*")*\})? -?[0-9.eE+-]+$|^[a-zA-Z_:].* \+?Inf$')


def parse_metrics(text):
    """A strict reading of the Prometheus text format: every line is a HELP, a TYPE or a
    sample; every sample's family has a TYPE. Returns {sample name with labels: value}."""
    samples, types = {}, {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            assert kind in ("counter", "gauge", "histogram", "summary"), line
            types[name] = kind
            continue
        assert METRIC_LINE.match(line), "not a metric line: %r" % line
        key, value = line.rsplit(" ", 1)
        family = re.sub(r"(_bucket|_sum|_count)$", "", key.split("{")[0])
        assert family in types or key.split("{")[0] in types, "sample without TYPE: %r" % line
        samples[key] = float(value)
    return samples, types


class Metrics(ServerTestCase):

    def metrics(self):
        status, headers, body = http_get(self.server.port, "/metrics")
        self.assertEqual(status, 200)
        self.assertTrue(headers.get("content-type", "").startswith("text/plain"))
        return parse_metrics(body.decode())

    @async_test
    async def test_metrics_count_players_logins_chats_and_ticks(self):
        before, types = self.metrics()
        self.assertEqual(types["cmmo_tick_duration_seconds"], "histogram")
        a = await self.player("ma")
        b = await self.player("mb")
        await a.chat("counted")
        await b.wait_for(is_chat("counted"))
        bad = await self.client("mbad")
        await bad.send(pkt("Login", "nobody_here", "wrong"))
        await bad.reply()
        await asyncio.sleep(0.2)
        after, _ = self.metrics()
        self.assertEqual(after["cmmo_players"], 2)
        self.assertEqual(after['cmmo_logins_total{result="ok"}'] -
                         before['cmmo_logins_total{result="ok"}'], 2)
        self.assertGreaterEqual(after['cmmo_logins_total{result="failed"}'] -
                                before['cmmo_logins_total{result="failed"}'], 1)
        self.assertEqual(after['cmmo_packets_in_total{action="Chat"}'] -
                         before['cmmo_packets_in_total{action="Chat"}'], 1)
        self.assertGreaterEqual(after['cmmo_packets_out_total{action="Chat"}'] -
                                before['cmmo_packets_out_total{action="Chat"}'], 1)
        self.assertGreater(after["cmmo_tick_duration_seconds_count"],
                           before["cmmo_tick_duration_seconds_count"])
        self.assertEqual(after['cmmo_tick_duration_seconds_bucket{le="+Inf"}'],
                         after["cmmo_tick_duration_seconds_count"])
        buckets = [v for k, v in sorted(after.items()) if k.startswith("cmmo_tick_duration_seconds_bucket")]
        self.assertTrue(all(v <= after["cmmo_tick_duration_seconds_count"] for v in buckets))

    @async_test
    async def test_metrics_count_position_batches_written_behind(self):
        before, _ = self.metrics()
        a = await self.player("mw")
        await a.send(pkt("Target", 20, 0))
        await asyncio.sleep(1.6)
        after, _ = self.metrics()
        self.assertGreaterEqual(after["cmmo_store_batches_total"] - before["cmmo_store_batches_total"], 1)
        self.assertGreaterEqual(after["cmmo_store_batch_seconds_count"], 1)

    def test_build_info_and_the_listening_line_carry_the_version_and_commit(self):
        from test_cli_http import parse_version
        r = subprocess.run([SERVER_BIN, "--version"], capture_output=True, text=True, timeout=10)
        version, commit = parse_version(r.stdout)
        samples, types = self.metrics()
        self.assertEqual(types["cmmo_build_info"], "gauge")
        self.assertEqual(samples['cmmo_build_info{version="%s",commit="%s"}' % (version, commit)], 1)
        listening = [l for l in self.server.stderr_text().splitlines() if " listening " in l]
        self.assertEqual(len(listening), 1)
        self.assertIn(' version="%s" commit="%s"' % (version, commit), listening[0])

    def test_healthz_answers_ok(self):
        status, _, body = http_get(self.server.port, "/healthz")
        self.assertEqual((status, body), (200, b"ok\n"))


class Origins(ServerTestCase):
    server_options = {"extra_args": ["--allowed-origins", "https://play.example, http://localhost:8081"]}

    @async_test
    async def test_a_foreign_origin_is_refused_with_403(self):
        with self.assertRaises(websockets.exceptions.InvalidStatusCode) as cm:
            await Client.connect(self.server.url, "evil", origin="https://evil.example")
        self.assertEqual(cm.exception.status_code, 403)

    @async_test
    async def test_listed_origins_and_clients_without_origin_may_play(self):
        ok = await self.client("good", origin="https://play.example")
        self.assertEqual(await ok.login("nobody_x", "pw"),
                         {"a": "Deny", "p0": "Username or password incorrect"})
        await self.player("noorigin")  # the Godot client sends no Origin


class BehindAProxy(ServerTestCase):
    """A reverse proxy on this machine brings every player from 127.0.0.1 and names the real
    client in X-Real-IP: throttling must count the real client, not the proxy."""

    async def via_proxy(self, ip, label="px"):
        return await self.client(label, extra_headers={"X-Real-IP": ip})

    @async_test
    async def test_registrations_are_limited_per_real_client_address(self):
        a = await self.via_proxy("203.0.113.7")
        for i in range(10):
            n = unique_name("rp%d" % i)
            self.assertEqual(await a.register(n, "pw-" + n, 0), {"a": "Ok"}, "registration %d" % i)
        r = await a.register(unique_name("rp10"), "pw", 0)
        self.assertEqual(r.get("a"), "Deny")
        self.assertIn("Too many registrations", r.get("p0", ""))
        b = await self.via_proxy("203.0.113.8")
        n = unique_name("rpb")
        self.assertEqual(await b.register(n, "pw-" + n, 0), {"a": "Ok"}, "another client is not held up")

    @async_test
    async def test_failed_logins_of_one_client_do_not_lock_out_the_others(self):
        reg = await self.client("reg")
        names = [unique_name("lp%d" % i) for i in range(6)]
        for n in names:
            self.assertEqual(await reg.register(n, "pw-" + n, 0), {"a": "Ok"})
        attacker = await self.via_proxy("198.51.100.9", "attacker")
        for n in names[:5]:
            for i in range(4):
                r = await attacker.login(n, "wrong-%d" % i)
                self.assertEqual(r, {"a": "Deny", "p0": "Username or password incorrect"})
        r = await attacker.login(names[5], "pw-" + names[5])
        self.assertIn("Too many failed attempts", r.get("p0", ""), "the attacker's address is throttled")
        honest = await self.via_proxy("198.51.100.10", "honest")
        self.assertEqual(await honest.login(names[5], "pw-" + names[5]), {"a": "Ok"})

    @async_test
    async def test_a_malformed_x_real_ip_is_ignored(self):
        c = await self.via_proxy("not-an-ip; DROP TABLE")
        self.assertEqual(await c.login("nobody_here_x", "pw"),
                         {"a": "Deny", "p0": "Username or password incorrect"})
        self.assertNotIn("DROP TABLE", self.server.stderr_text())


class ConfigFile(unittest.TestCase):

    def run_server(self, args, env=None, timeout=10):
        e = dict(os.environ)
        for k in list(e):
            if k.startswith("CMMO_") and k not in ("CMMO_SERVER",):
                del e[k]
        e.update(env or {})
        return subprocess.run([SERVER_BIN] + args, capture_output=True, text=True, env=e,
                              timeout=timeout)

    def test_print_config_shows_each_value_and_where_it_came_from(self):
        d = tempfile.mkdtemp(prefix="cmmo-it-conf-")
        conf = os.path.join(d, "cmmo.conf")
        with open(conf, "w") as f:
            f.write("# a comment\nport = 9100\ntick-hz 30\nworld = 2000x1000\n")
        r = self.run_server(["--config", conf, "--port", "9200", "--print-config"],
                            env={"CMMO_TICK_HZ": "25"})
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = dict(l.split(" = ", 1) for l in r.stdout.splitlines())
        self.assertEqual(lines["port"], "9200  # flag")
        self.assertEqual(lines["tick-hz"], "25  # env CMMO_TICK_HZ")
        self.assertEqual(lines["world"], "2000x1000  # file %s:4" % conf)
        self.assertEqual(lines["host"], "0.0.0.0  # default")

    def test_config_file_errors_name_the_setting_line_and_range(self):
        d = tempfile.mkdtemp(prefix="cmmo-it-conf-")
        conf = os.path.join(d, "bad.conf")
        with open(conf, "w") as f:
            f.write("port = 8081\ntick-hz = 500\n")
        r = self.run_server(["--config", conf, "--print-config"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("tick-hz", r.stderr)
        self.assertIn(":2", r.stderr)
        self.assertIn("1 to 120", r.stderr)
        with open(conf, "w") as f:
            f.write("colour = blue\n")
        r = self.run_server(["--config", conf])
        self.assertEqual(r.returncode, 2)
        self.assertIn("colour", r.stderr)

    def test_tls_cert_without_key_is_refused(self):
        r = self.run_server(["--tls-cert", _cert, "--print-config"])
        self.assertEqual(r.returncode, 2)
        self.assertIn("tls-key", r.stderr)


class Logging(unittest.TestCase):

    def test_json_log_lines_are_one_object_each_without_secrets(self):
        secret = "pw-json-secret-%d" % os.getpid()
        srv = Server(log_level="debug", extra_args=["--log-format", "json"])
        err_path = os.path.join(srv.dir, "json.log")
        with open(err_path, "wb") as err:
            proc = subprocess.Popen([SERVER_BIN] + srv.args()[1:], stdout=subprocess.DEVNULL,
                                    stderr=err)
        try:
            port = None
            deadline = time.monotonic() + 10
            while port is None and time.monotonic() < deadline:
                for line in open(err_path).read().splitlines():
                    if line.startswith("{") and json.loads(line).get("event") == "listening":
                        port = json.loads(line)["port"]
                time.sleep(0.05)
            self.assertIsInstance(port, int, "the listening event carries the port as a number")

            async def play():
                c = await Client.connect("ws://127.0.0.1:%d/" % port, "js")
                name = unique_name("js")
                self.assertEqual(await c.register(name, secret, 0), {"a": "Ok"})
                self.assertEqual(await c.login(name, secret), {"a": "Ok"})
                await c.close()
                return name
            name = asyncio.run(play())
            time.sleep(0.3)
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(proc.wait(20), 0)
            text = open(err_path).read()
            events = [json.loads(l) for l in text.splitlines() if l.strip()]
            self.assertTrue(all({"time", "level", "event"} <= set(e) for e in events))
            joined = [e for e in events if e["event"] == "player_joined"]
            self.assertEqual(joined[0]["user"], name)
            self.assertNotIn(secret, text)
            self.assertFalse([l for l in text.splitlines() if "Sanitizer" in l or "runtime error" in l])
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


class LogFile(unittest.TestCase):

    def test_log_file_is_reopened_on_sighup(self):
        d = tempfile.mkdtemp(prefix="cmmo-it-log-")
        log = os.path.join(d, "cmmo.log")
        srv = Server(extra_args=["--log-file", log])
        # Server.start reads the port from stderr; with --log-file the line is in the file.
        proc = subprocess.Popen([SERVER_BIN] + srv.args()[1:], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                if os.path.exists(log) and "listening" in open(log).read():
                    break
                time.sleep(0.05)
            self.assertIn("listening", open(log).read())
            os.rename(log, log + ".1")  # what logrotate does
            proc.send_signal(signal.SIGHUP)
            deadline = time.monotonic() + 5
            while not os.path.exists(log) and time.monotonic() < deadline:
                time.sleep(0.05)
            proc.send_signal(signal.SIGTERM)
            self.assertEqual(proc.wait(20), 0)
            self.assertIn("shutdown_complete", open(log).read())
            self.assertNotIn("shutdown_complete", open(log + ".1").read())
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


class Shutdown(ServerTestCase):

    @async_test
    async def test_sigterm_tells_players_then_closes_with_1001(self):
        a = await self.player("sd")
        healthz = http_get(self.server.port, "/healthz")[0]
        self.assertEqual(healthz, 200)
        self.server.proc.send_signal(signal.SIGTERM)
        got = await a.wait_for(is_chat(), what="the shutdown announcement")
        self.assertEqual(got["p0"], "Server")
        await a.wait_closed()
        self.assertEqual(a.ws.close_code, 1001)
        self.assertEqual(self.server.proc.wait(20), 0)
        self.assertFalse(self.server.sanitizer_lines())
        self.server.start()  # the class's server: teardown stops this one

    @async_test
    async def test_nobody_can_register_the_name_server(self):
        c = await self.client("reg")
        r = await c.register("sErVeR", "pw", 0)
        self.assertEqual(r, {"a": "Deny", "p0": "This username is reserved"})


if __name__ == "__main__":
    unittest.main()
