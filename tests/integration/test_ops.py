"""Running cmmo in production: TLS on the game port, /metrics, /healthz, the config file and
--print-config, JSON logs and --log-file, SIGHUP, and the shutdown announcement."""
import asyncio
import json
import os
import re
import signal
import subprocess
import tempfile
import time
import unittest

import websockets

from harness import (SERVER_BIN, Client, Server, ServerTestCase, async_test, client_tls_context,
                     http_get, is_chat, make_certificate, pkt, unique_name)


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


# ---- A checker for the Prometheus text exposition format 0.0.4 and the naming guide ----------
# (prometheus.io: "Exposition formats" and "Metric and label naming"). Written for these tests, no
# client library: it reads the page the way Prometheus does and is stricter where the guide says
# SHOULD.

class ExpositionError(AssertionError):
    pass


METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
# A value as Go's ParseFloat reads it (what Prometheus uses), and the special values.
VALUE = re.compile(r"[+-]?(\d+\.?\d*([eE][+-]?\d+)?|\.\d+([eE][+-]?\d+)?|Inf|NaN)")
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")
# Units that have a base unit the guide asks for instead.
NON_BASE_UNITS = {"milliseconds", "microseconds", "nanoseconds", "minutes", "hours", "days",
                  "ms", "us", "ns", "kilobytes", "megabytes", "gigabytes", "kb", "mb", "gb",
                  "bits", "percent", "percentage"}
BASE_UNITS = {"seconds", "bytes", "ratio", "meters", "volts", "amperes", "joules", "grams",
              "celsius"}
PREFIXES = ("cmmo_", "process_")


def parse_sample(line):
    """`name{a="x",b="y"} value` -> (name, ((a, x), (b, y)), value), label values unescaped."""
    m = METRIC_NAME.match(line)
    if not m:
        raise ExpositionError("sample without a valid metric name: %r" % line)
    name, i, labels = m.group(0), m.end(), []
    if line[i:i + 1] == "{":
        i += 1
        while True:
            if line[i:i + 1] == "}":
                i += 1
                break
            lm = LABEL_NAME.match(line, i)
            if not lm or line[lm.end():lm.end() + 2] != '="':
                raise ExpositionError("bad label name or no =\" at %d: %r" % (i, line))
            label, i, value = lm.group(0), lm.end() + 2, []
            while True:
                if i >= len(line):
                    raise ExpositionError("unterminated label value: %r" % line)
                ch = line[i]
                if ch == "\\":
                    esc = line[i + 1:i + 2]
                    if esc not in ('\\', '"', 'n'):
                        raise ExpositionError("bad escape \\%s in a label value: %r" % (esc, line))
                    value.append("\n" if esc == "n" else esc)
                    i += 2
                elif ch == '"':
                    i += 1
                    break
                else:
                    value.append(ch)
                    i += 1
            labels.append((label, "".join(value)))
            if line[i:i + 1] == ",":
                i += 1
            elif line[i:i + 1] != "}":
                raise ExpositionError("expected , or } after a label: %r" % line)
    rest = line[i:]
    if not rest.startswith(" "):
        raise ExpositionError("no space before the value: %r" % line)
    fields = rest.split()
    if len(fields) not in (1, 2) or not VALUE.fullmatch(fields[0]):
        raise ExpositionError("bad value (or timestamp): %r" % line)
    if len(fields) == 2 and not re.fullmatch(r"-?\d+", fields[1]):
        raise ExpositionError("bad timestamp: %r" % line)
    return name, tuple(labels), float(fields[0])


def family_of(name, types):
    """The family a sample name belongs to: itself, or a histogram/summary's _bucket, _sum or
    _count."""
    if name in types:
        return name
    for suffix in ("_bucket", "_sum", "_count"):
        base = name[:-len(suffix)]
        if name.endswith(suffix) and types.get(base) in ("histogram", "summary"):
            if suffix == "_bucket" and types[base] != "histogram":
                break
            return base
    raise ExpositionError("sample %s has no TYPE line before it" % name)


def check_naming(name, kind, helps):
    """The naming guide's rules for one family."""
    if not name.startswith(PREFIXES):
        raise ExpositionError("%s: no application prefix (%s)" % (name, ", ".join(PREFIXES)))
    if not re.fullmatch(r"[a-z][a-z0-9_]*", name) or "__" in name:
        raise ExpositionError("%s: not lower snake_case (colons are for recording rules)" % name)
    if name not in helps or not helps[name].strip():
        raise ExpositionError("%s: no HELP text" % name)
    words = name.split("_")
    if kind == "counter" and words[-1] != "total":
        raise ExpositionError("%s: a counter's name ends in _total" % name)
    if kind != "counter" and words[-1] == "total":
        raise ExpositionError("%s: only counters end in _total (this is a %s)" % (name, kind))
    if kind in ("histogram", "summary", "gauge") and words[-1] in ("bucket", "sum", "count"):
        raise ExpositionError("%s: ends in a suffix reserved for histograms and summaries" % name)
    for w in words:
        if w in NON_BASE_UNITS:
            raise ExpositionError("%s: '%s' is not a base unit (seconds, bytes, ...)" % (name, w))
    units = [i for i, w in enumerate(words) if w in BASE_UNITS]
    if units:
        last = len(words) - (2 if kind == "counter" else 1)
        if units != [last]:
            raise ExpositionError("%s: the unit must be the name's last word (before _total): "
                                  "..._%s%s" % (name, words[units[0]],
                                                "_total" if kind == "counter" else ""))
    if name.endswith("_info") and kind != "gauge":
        raise ExpositionError("%s: an _info metric is a gauge" % name)


def check_exposition(text):
    """Checks a whole /metrics page. Returns ({sample name with labels: value}, {family: type}).
    Raises ExpositionError on the first rule broken."""
    if not text.endswith("\n"):
        raise ExpositionError("the page does not end with a line feed")
    types, helps, samples, series = {}, {}, {}, set()
    order, done, current = [], set(), None  # families in order; ones whose group has ended
    by_family = {}
    for line in text.split("\n")[:-1]:
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[1] in ("HELP", "TYPE"):
                name = parts[2]
                if not METRIC_NAME.fullmatch(name):
                    raise ExpositionError("bad metric name in %r" % line)
                if parts[1] == "HELP":
                    if name in helps:
                        raise ExpositionError("second HELP for %s" % name)
                    doc = parts[3] if len(parts) == 4 else ""
                    if re.search(r"\\[^\\n]", doc.replace("\\\\", "")):
                        raise ExpositionError("HELP may escape only \\\\ and \\n: %r" % line)
                    helps[name] = doc
                else:
                    if len(parts) != 4 or parts[3] not in TYPES:
                        raise ExpositionError("bad TYPE line: %r" % line)
                    if name in types:
                        raise ExpositionError("second TYPE for %s" % name)
                    if name in by_family:
                        raise ExpositionError("TYPE for %s after its samples" % name)
                    types[name] = parts[3]
            continue
        if not line.strip():
            continue
        name, labels, value = parse_sample(line)
        family = family_of(name, types)
        if family != current:
            if family in done or family in by_family:
                raise ExpositionError("%s's samples are not one group (again at %r)"
                                      % (family, line))
            if current:
                done.add(current)
            current = family
            order.append(family)
        label_names = [k for k, _ in labels]
        if len(set(label_names)) != len(label_names):
            raise ExpositionError("a label twice: %r" % line)
        for k in label_names:
            if k.startswith("__"):
                raise ExpositionError("label names starting with __ are reserved: %r" % line)
            if not re.fullmatch(r"[a-z][a-z0-9_]*", k):
                raise ExpositionError("label %s is not lower snake_case" % k)
        key = (name, frozenset(labels))
        if key in series:
            raise ExpositionError("duplicate series: %r" % line)
        series.add(key)
        by_family.setdefault(family, []).append((name, dict(labels), value))
        if types[family] == "counter" and value < 0:
            raise ExpositionError("negative counter: %r" % line)
        shown = name + ("{%s}" % ",".join('%s="%s"' % kv for kv in labels) if labels else "")
        samples[shown] = value
    for family, kind in types.items():
        if family not in by_family:
            raise ExpositionError("TYPE for %s but no samples" % family)
        check_naming(family, kind, helps)
        rows = by_family[family]
        if kind == "histogram":
            check_histogram(family, rows)
        if kind == "summary":
            names = {n for n, _, _ in rows}
            if not {family + "_sum", family + "_count"} <= names:
                raise ExpositionError("summary %s lacks _sum or _count" % family)
        if family.endswith("_info") and any(v != 1 for _, _, v in rows):
            raise ExpositionError("%s: an _info metric's value is 1" % family)
    for name in helps:
        if name not in types:
            raise ExpositionError("HELP for %s without a TYPE" % name)
    return samples, types


def check_histogram(family, rows):
    """Per label set (without le): buckets cumulative in le order, the last le="+Inf" and equal
    to _count, and a _sum."""
    groups = {}
    for name, labels, value in rows:
        rest = frozenset((k, v) for k, v in labels.items() if k != "le")
        g = groups.setdefault(rest, {"buckets": [], "sum": None, "count": None})
        if name == family + "_bucket":
            if "le" not in labels:
                raise ExpositionError("%s bucket without le" % family)
            g["buckets"].append((float(labels["le"]), labels["le"], value))
        elif name == family + "_sum":
            g["sum"] = value
        elif name == family + "_count":
            g["count"] = value
        else:
            raise ExpositionError("%s: unexpected sample %s in a histogram" % (family, name))
    for g in groups.values():
        b = g["buckets"]
        if not b or b[-1][1] != "+Inf":
            raise ExpositionError("%s: the last bucket is not le=\"+Inf\"" % family)
        les = [le for le, _, _ in b]
        if les != sorted(les) or len(set(les)) != len(les):
            raise ExpositionError("%s: buckets not in increasing le order" % family)
        counts = [v for _, _, v in b]
        if any(x > y for x, y in zip(counts, counts[1:])):
            raise ExpositionError("%s: buckets are not cumulative: %s" % (family, counts))
        if g["count"] is None or g["sum"] is None:
            raise ExpositionError("%s: no _sum or _count" % family)
        if g["count"] != counts[-1]:
            raise ExpositionError("%s: _count %s != the +Inf bucket %s"
                                  % (family, g["count"], counts[-1]))


class ExpositionChecker(unittest.TestCase):
    """The checker itself must be able to fail: each rule against a page that breaks it."""

    GOOD = ('# HELP cmmo_x_total X.\n# TYPE cmmo_x_total counter\ncmmo_x_total{a="q\\"\\\\\\n"} 1\n'
            '# HELP cmmo_d_seconds D.\n# TYPE cmmo_d_seconds histogram\n'
            'cmmo_d_seconds_bucket{le="0.1"} 1\ncmmo_d_seconds_bucket{le="+Inf"} 2\n'
            'cmmo_d_seconds_sum 0.3\ncmmo_d_seconds_count 2\n')

    def test_a_good_page_passes_and_label_values_are_unescaped(self):
        samples, types = check_exposition(self.GOOD)
        self.assertEqual(types, {"cmmo_x_total": "counter", "cmmo_d_seconds": "histogram"})
        self.assertEqual(samples['cmmo_x_total{a="q"\\\n"}'], 1)

    def test_each_broken_rule_is_caught(self):
        g = self.GOOD
        broken = {
            "no TYPE": "cmmo_y 1\n",
            "counter without _total": "# HELP cmmo_y Y.\n# TYPE cmmo_y counter\ncmmo_y 1\n",
            "gauge with _total": "# HELP cmmo_y_total Y.\n# TYPE cmmo_y_total gauge\ncmmo_y_total 1\n",
            "unit not last": "# HELP cmmo_bytes_in_total Y.\n# TYPE cmmo_bytes_in_total counter\n"
                             "cmmo_bytes_in_total 1\n",
            "non-base unit": "# HELP cmmo_t_milliseconds Y.\n# TYPE cmmo_t_milliseconds gauge\n"
                             "cmmo_t_milliseconds 1\n",
            "no prefix": "# HELP y Y.\n# TYPE y gauge\ny 1\n",
            "no HELP": "# TYPE cmmo_y gauge\ncmmo_y 1\n",
            "bad label name": '# HELP cmmo_y Y.\n# TYPE cmmo_y gauge\ncmmo_y{1a="x"} 1\n',
            "bad escape": '# HELP cmmo_y Y.\n# TYPE cmmo_y gauge\ncmmo_y{a="\\x"} 1\n',
            "raw quote": '# HELP cmmo_y Y.\n# TYPE cmmo_y gauge\ncmmo_y{a="""} 1\n',
            "duplicate series": '# HELP cmmo_y Y.\n# TYPE cmmo_y gauge\ncmmo_y{a="1"} 1\ncmmo_y{a="1"} 2\n',
            "family twice": "# HELP cmmo_y Y.\n# TYPE cmmo_y gauge\ncmmo_y{a=\"1\"} 1\n"
                            "# HELP cmmo_z Z.\n# TYPE cmmo_z gauge\ncmmo_z 1\ncmmo_y{a=\"2\"} 1\n",
            "second TYPE": "# HELP cmmo_y Y.\n# TYPE cmmo_y gauge\n# TYPE cmmo_y gauge\ncmmo_y 1\n",
            "bad value": "# HELP cmmo_y Y.\n# TYPE cmmo_y gauge\ncmmo_y one\n",
            "info not 1": '# HELP cmmo_y_info Y.\n# TYPE cmmo_y_info gauge\ncmmo_y_info{v="1"} 2\n',
        }
        for what, extra in broken.items():
            with self.assertRaises(ExpositionError, msg=what):
                check_exposition(g + extra)
        hist = g.replace('cmmo_d_seconds_bucket{le="+Inf"} 2', 'cmmo_d_seconds_bucket{le="+Inf"} 0')
        with self.assertRaises(ExpositionError, msg="not cumulative"):
            check_exposition(hist)
        with self.assertRaises(ExpositionError, msg="no +Inf"):
            check_exposition(g.replace('cmmo_d_seconds_bucket{le="+Inf"} 2\n', ""))
        with self.assertRaises(ExpositionError, msg="no _sum"):
            check_exposition(g.replace("cmmo_d_seconds_sum 0.3\n", ""))
        with self.assertRaises(ExpositionError, msg="no final line feed"):
            check_exposition(g[:-1])


class Metrics(ServerTestCase):

    def metrics(self):
        status, headers, body = http_get(self.server.port, "/metrics")
        self.assertEqual(status, 200)
        self.assertEqual(headers.get("content-type"), "text/plain; version=0.0.4; charset=utf-8")
        return check_exposition(body.decode())

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
        self.assertEqual(after['cmmo_packets_received_total{action="Chat"}'] -
                         before['cmmo_packets_received_total{action="Chat"}'], 1)
        self.assertGreaterEqual(after['cmmo_packets_sent_total{action="Chat"}'] -
                                before['cmmo_packets_sent_total{action="Chat"}'], 1)
        self.assertGreater(after['cmmo_packets_received_bytes_total{action="Chat"}'],
                           before['cmmo_packets_received_bytes_total{action="Chat"}'])
        self.assertGreater(after["cmmo_network_received_bytes_total"],
                           before["cmmo_network_received_bytes_total"])
        self.assertGreater(after["cmmo_network_sent_bytes_total"],
                           before["cmmo_network_sent_bytes_total"])
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

    @async_test
    async def test_the_whole_page_follows_the_text_format_and_the_naming_guide(self):
        # Some of everything first, so that labelled counters and the histograms are not all 0.
        a = await self.player("mf")
        b = await self.player("mg")
        await a.chat("format")
        await b.wait_for(is_chat("format"))
        await a.send(pkt("Target", 40, 0))
        await asyncio.sleep(0.3)
        samples, types = self.metrics()  # check_exposition raises on any broken rule
        expected = {
            "cmmo_build_info": "gauge", "cmmo_players": "gauge", "cmmo_connections": "gauge",
            "cmmo_network_received_bytes_total": "counter",
            "cmmo_network_sent_bytes_total": "counter",
            "cmmo_packets_received_total": "counter", "cmmo_packets_sent_total": "counter",
            "cmmo_packets_received_bytes_total": "counter",
            "cmmo_packets_sent_bytes_total": "counter",
            "cmmo_tick_duration_seconds": "histogram", "cmmo_store_batch_seconds": "summary",
            "process_cpu_seconds_total": "counter", "process_resident_memory_bytes": "gauge",
            "process_virtual_memory_bytes": "gauge", "process_open_fds": "gauge",
            "process_max_fds": "gauge", "process_start_time_seconds": "gauge",
        }
        for name, kind in expected.items():
            self.assertEqual(types.get(name), kind, name)
        # The names renamed in 0.3.0 (docs/OPERATIONS.md) are gone.
        for old in ("cmmo_network_bytes_in_total", "cmmo_network_bytes_out_total",
                    "cmmo_packets_in_total", "cmmo_packets_out_total",
                    "cmmo_packet_bytes_in_total", "cmmo_packet_bytes_out_total"):
            self.assertNotIn(old, types)

    def test_process_metrics_describe_the_server_process(self):
        samples, _ = self.metrics()
        pid = self.server.proc.pid
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        with open("/proc/stat") as f:
            btime = int(next(l for l in f if l.startswith("btime ")).split()[1])
        started = btime + int(fields[19]) / os.sysconf("SC_CLK_TCK")
        self.assertAlmostEqual(samples["process_start_time_seconds"], started, delta=0.05)
        self.assertLessEqual(samples["process_start_time_seconds"], time.time())
        open_now = len(os.listdir("/proc/%d/fd" % pid))
        self.assertLessEqual(abs(samples["process_open_fds"] - open_now), 2)
        with open("/proc/%d/limits" % pid) as f:
            soft = next(l for l in f if l.startswith("Max open files")).split()[3]
        self.assertEqual(samples["process_max_fds"], float(soft))
        rss = int(open("/proc/%d/statm" % pid).read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        self.assertGreater(samples["process_resident_memory_bytes"], rss / 2)
        self.assertLess(samples["process_resident_memory_bytes"], rss * 2)
        self.assertGreaterEqual(samples["process_virtual_memory_bytes"],
                                samples["process_resident_memory_bytes"])
        self.assertGreater(samples["process_cpu_seconds_total"], 0)

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
            f.write("# a comment\nport = 9100\ntick-hz=30\nworld = 2000x1000\n")
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


class Drain(ServerTestCase):
    """SIGTERM with a drain window (--drain-seconds): /healthz answers 503 at once so that a load
    balancer moves new players away, new logins are refused with a Deny, the players in the world
    play on; then the usual shutdown (announcement, 1001, positions saved, exit 0). A second
    signal ends the drain at once (docs/OPERATIONS.md)."""
    start_server = False

    def setUp(self):
        super().setUp()
        self.srv = None

    def tearDown(self):
        super().tearDown()
        if self.srv is not None:
            self.srv.stop_and_check()
            self.srv.assert_clean()
            self.srv.cleanup_files()

    def start(self, seconds):
        self.srv = Server(extra_args=["--drain-seconds", str(seconds)]).start()
        return self.srv

    async def wait_healthz(self, status, within=2.0):
        deadline = time.monotonic() + within
        while True:
            got = http_get(self.srv.port, "/healthz")[0]
            if got == status or time.monotonic() > deadline:
                return got
            await asyncio.sleep(0.02)

    @async_test
    async def test_sigterm_drains_then_shuts_down_and_saves(self):
        srv = self.start(3)
        a = await self.player("dra", server=srv)
        b = await self.player("drb", server=srv)
        late = await self.client("late", server=srv)
        late_name = unique_name("late")
        self.assertEqual(await late.register(late_name, "pw-late", 0), {"a": "Ok"})
        self.assertEqual(await self.wait_healthz(200), 200)
        signalled = time.monotonic()
        srv.proc.send_signal(signal.SIGTERM)
        self.assertEqual(await self.wait_healthz(503), 503, "/healthz during the drain")
        # New logins and registrations are refused with a reason the client shows.
        refused = {"a": "Deny", "p0": "The server is shutting down, try again in a moment"}
        self.assertEqual(await late.login(late_name, "pw-late"), refused)
        self.assertEqual(await late.register(unique_name("later"), "pw", 0), refused)
        # The players in the world play on: movement and chat still reach the others.
        await self.walk_and_wait(a, 56, 42, viewers=(b,))
        await a.chat("still here")
        await b.wait_for(is_chat("still here"), what="a chat during the drain")
        self.assertIsNone(srv.proc.poll(), "the server stopped before the drain ended")
        # Then the shutdown proper.
        got = await a.wait_for(is_chat("The server is shutting down. Your position is saved."),
                               timeout=10, what="the shutdown announcement")
        self.assertGreaterEqual(time.monotonic() - signalled, 2.5, "the drain lasted 3 s")
        await a.wait_closed(10)
        self.assertEqual(a.ws.close_code, 1001)
        self.assertEqual(srv.proc.wait(20), 0)
        self.assertFalse(srv.sanitizer_lines())
        log = srv.stderr_text()
        self.assertIn("drain_started signal=SIGTERM seconds=3", log)
        self.assertIn("shutdown_started cause=drained", log)
        srv.proc = None
        srv.start()
        again = await self.client("again", server=srv)
        self.assertEqual(await again.login(a.name, "pw-" + a.name), {"a": "Ok"})
        ie = again.own["instanced_entity"]
        self.assertEqual((ie["x"], ie["y"]), (56, 42), "the position walked to during the drain")
        self.assertEqual(await self.wait_healthz(200), 200)

    @async_test
    async def test_a_second_signal_ends_the_drain_at_once(self):
        srv = self.start(60)
        a = await self.player("drs", server=srv)
        srv.proc.send_signal(signal.SIGTERM)
        self.assertEqual(await self.wait_healthz(503), 503)
        await asyncio.sleep(0.3)
        self.assertIsNone(srv.proc.poll(), "the drain did not wait")
        second = time.monotonic()
        srv.proc.send_signal(signal.SIGINT)
        await a.wait_for(is_chat("The server is shutting down. Your position is saved."),
                         what="the shutdown announcement")
        await a.wait_closed()
        self.assertEqual(a.ws.close_code, 1001)
        self.assertEqual(srv.proc.wait(20), 0)
        self.assertLess(time.monotonic() - second, 10, "the second signal ended the drain")
        self.assertIn("shutdown_started cause=SIGINT", srv.stderr_text())
        srv.check_sanitizers()
        srv.proc = None  # stopped here; tearDown has nothing left to stop

    def test_drain_seconds_zero_shuts_down_at_once(self):
        srv = self.start(0)
        self.assertEqual(http_get(srv.port, "/healthz")[0], 200)
        srv.proc.send_signal(signal.SIGTERM)
        self.assertEqual(srv.proc.wait(20), 0)
        log = srv.stderr_text()
        self.assertNotIn("drain_started", log)
        self.assertIn("shutdown_started cause=SIGTERM", log)
        srv.check_sanitizers()
        srv.proc = None


if __name__ == "__main__":
    unittest.main()
