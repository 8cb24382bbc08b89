"""The HTTP side of the port against the attacks of issue 11, over a real socket: a symlinked
directory in the web root, request heads over the limit sent in one write, repeated header
fields, a key split over two fields, loosely matched subprotocols and request bodies
(docs/SECURITY.md sections 2-3, docs/PROTOCOL.md section 1)."""

import os
import shutil
import socket
import tempfile

import websockets

from harness import PACKET_TIMEOUT, ServerTestCase, async_test, http_get

KEY = "dGhlIHNhbXBsZSBub25jZQ=="


def exchange(port, data, piece=None, until_close=False, timeout=PACKET_TIMEOUT):
    """Sends data (in one write, or in writes of `piece` bytes) and reads the answer up to the
    end of its head (or everything, until_close); returns (status, headers dict, raw bytes). Status None: the
    server closed without answering."""
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        try:
            if piece is None:
                s.sendall(data)
            else:
                for i in range(0, len(data), piece):
                    s.sendall(data[i:i + piece])
        except (BrokenPipeError, ConnectionResetError):
            pass  # refused before it read everything: the answer is still in the socket
        raw = b""
        while until_close or b"\r\n\r\n" not in raw:
            try:
                chunk = s.recv(65536)
            except (ConnectionResetError, socket.timeout):
                break  # a timeout: the server kept the connection open (checked by the caller)
            if not chunk:
                break
            raw += chunk
    if not raw.startswith(b"HTTP/1.1 "):
        return None, {}, raw
    head = raw.partition(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")
    headers = {}
    for line in head[1:]:
        k, _, v = line.partition(":")
        headers.setdefault(k.strip().lower(), []).append(v.strip())
    return int(head[0].split()[1]), headers, raw


def upgrade(extra, key_line="Sec-WebSocket-Key: %s\r\n" % KEY):
    return ("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n%s%s"
            "Sec-WebSocket-Version: 13\r\n\r\n" % (extra, key_line)).encode()


class HttpHostile(ServerTestCase):

    @classmethod
    def setUpClass(cls):
        d = tempfile.mkdtemp(prefix="cmmo-web-")
        cls.base = d
        web = os.path.join(d, "web")
        os.makedirs(os.path.join(web, "sub"))
        with open(os.path.join(web, "index.html"), "w") as f:
            f.write("<!doctype html><p>hostile index 16309</p>\n")
        with open(os.path.join(web, "sub", "page.txt"), "w") as f:
            f.write("inside 48151\n")
        with open(os.path.join(d, "secret.txt"), "w") as f:
            f.write("TOP SECRET 62342\n")
        os.symlink("..", os.path.join(web, "linkdir"))
        os.symlink("sub", os.path.join(web, "alias"))
        cls.server_options = {"web_root": web}
        super().setUpClass()

    @classmethod
    def tearDownClass(cls):
        try:
            super().tearDownClass()
        finally:
            shutil.rmtree(cls.base, ignore_errors=True)

    # ---- 5: symlinks

    def test_symlinked_directory_does_not_serve_files_outside_the_root(self):
        for path in ("/linkdir/secret.txt", "/linkdir/web/index.html", "/alias/page.txt"):
            status, _, body = http_get(self.server.port, path)
            self.assertEqual(status, 404, path)
            self.assertNotIn(b"TOP SECRET", body, path)
        status, _, body = http_get(self.server.port, "/sub/page.txt")
        self.assertEqual((status, body), (200, b"inside 48151\n"))

    # ---- 6: the head limit, however the bytes arrive

    def test_head_of_2000_headers_in_one_write_is_431(self):
        head = b"GET / HTTP/1.1\r\nHost: x\r\n" + b"X-A: bbbbbbb\r\n" * 2000 + b"\r\n"
        self.assertEqual(exchange(self.server.port, head)[0], 431)

    def test_one_12_kb_header_is_431_in_one_write_and_in_small_writes(self):
        head = b"GET / HTTP/1.1\r\nHost: x\r\nX-Long: " + b"c" * 12288 + b"\r\n\r\n"
        self.assertEqual(exchange(self.server.port, head)[0], 431)
        self.assertEqual(exchange(self.server.port, head, piece=512)[0], 431)

    def test_long_request_line_is_414(self):
        line = b"GET /" + b"a" * 4000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
        self.assertEqual(exchange(self.server.port, line)[0], 414)

    def test_head_just_under_the_limit_is_served(self):
        head = b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Pad: "
        head += b"p" * (8192 - len(head) - 4) + b"\r\n\r\n"
        self.assertEqual(len(head), 8192)
        status, _, raw = exchange(self.server.port, head)
        self.assertEqual(status, 200)

    # ---- 7: repeated fields are lists; the key is one field

    def test_connection_split_over_two_fields_upgrades(self):
        status, headers, raw = exchange(
            self.server.port, upgrade("Connection: keep-alive\r\nConnection: Upgrade\r\n"))
        self.assertEqual(status, 101, raw[:200])
        self.assertEqual(headers["sec-websocket-accept"], ["s3pPLMBiTxaQ9kYGzzhZRbK+xOo="])

    def test_key_split_over_two_fields_is_400(self):
        status, _, _ = exchange(self.server.port, upgrade(
            "Connection: Upgrade\r\n",
            key_line="Sec-WebSocket-Key: dGhlIHNhbXBsZS\r\nSec-WebSocket-Key: Bub25jZQ==\r\n"))
        self.assertEqual(status, 400)

    def test_key_with_nonzero_padding_bits_is_400(self):
        status, _, _ = exchange(self.server.port, upgrade(
            "Connection: Upgrade\r\n", key_line="Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZR==\r\n"))
        self.assertEqual(status, 400)

    # ---- 8: the subprotocol is the client's exact token

    def test_subprotocol_in_other_case_is_not_selected(self):
        status, headers, _ = exchange(
            self.server.port, upgrade("Connection: Upgrade\r\nSec-WebSocket-Protocol: CMMO.V2\r\n"))
        self.assertEqual(status, 101)
        self.assertNotIn("sec-websocket-protocol", headers)

    def test_long_offer_list_ending_in_a_longer_token_is_not_truncated(self):
        offers = "p, " * 82 + "p,cmmo.v2x"
        status, headers, _ = exchange(self.server.port, upgrade(
            "Connection: Upgrade\r\nSec-WebSocket-Protocol: %s\r\n" % offers))
        self.assertEqual(status, 101)
        self.assertNotIn("sec-websocket-protocol", headers)

    def test_cmmo_v2_at_the_end_of_a_long_list_in_a_second_field_is_selected(self):
        status, headers, _ = exchange(self.server.port, upgrade(
            "Connection: Upgrade\r\nSec-WebSocket-Protocol: chat\r\n"
            "Sec-WebSocket-Protocol: %scmmo.v2\r\n" % ("x, " * 300)))
        self.assertEqual(status, 101)
        self.assertEqual(headers.get("sec-websocket-protocol"), ["cmmo.v2"])

    def test_no_offer_gets_no_subprotocol_header(self):
        status, headers, raw = exchange(self.server.port, upgrade("Connection: Upgrade\r\n"))
        self.assertEqual(status, 101)
        self.assertEqual(raw, b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                              b"Connection: Upgrade\r\n"
                              b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")

    @async_test
    async def test_conforming_client_offering_other_case_connects(self):
        # A client that offered CMMO.V2 and got cmmo.v2 back would fail the handshake.
        ws = await websockets.connect(self.server.url, subprotocols=["CMMO.V2"], open_timeout=10,
                                      ping_interval=None, compression=None)
        try:
            self.assertIsNone(ws.subprotocol)
        finally:
            await ws.close()

    # ---- bodies

    def test_request_with_a_body_is_400_and_its_body_is_never_a_request(self):
        smuggled = b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n"
        for head in (b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(smuggled),
                     b"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                     b"%x\r\n" % len(smuggled)):
            status, _, raw = exchange(self.server.port, head + smuggled, until_close=True)
            self.assertEqual(status, 400, raw[:200])
            self.assertNotIn(b"hostile index", raw)


if __name__ == "__main__":
    import unittest
    unittest.main()
