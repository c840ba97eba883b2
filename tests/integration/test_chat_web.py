"""`sockit serve chat http`: the chat page at /chat and the WebSocket (RFC 6455) at /chat/ws
that joins the chat's rooms. A raw WebSocket client checks the opening handshake, messages
both ways with a TCP member, fragments with control frames between them, and every frame the
RFC says to refuse (unmasked, RSV bits, too big, not UTF-8, bad close frames); headless
Chromium runs the page next to a TCP member, as a browser user and an nc user would."""
import os
import re
import socket
import struct
import time
import unittest

from chat_client import ChatClient
from chat_page import LINES, LOG, open_chat_page, type_line, wait_for_line
from chromium import Chromium
from sockit_test import DEFAULT_TIMEOUT, LeakCheckedTestCase, Serve, parse_head, recv_all
from websocket_client import (BINARY, CLOSE, CONTINUATION, GOING_AWAY, INVALID_DATA, NORMAL, PING,
                              PONG, PROTOCOL_ERROR, TEXT, TOO_BIG, UNSUPPORTED_DATA,
                              HandshakeError, WebSocket, close_payload, encode_frame)

KIB = 1024
MAX_MESSAGE = 64 * KIB
PAGE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools", "servers",
                    "chat.html")
WELCOME = re.compile(r"\*\*\* Welcome to sockit chat, (guest\d+)\. You are in #lobby\. "
                     r"/help lists the commands\.")


def serve():
    return Serve("chat", "http", "--bind", "127.0.0.1", "--chat-port", "0", "--http-port", "0")


def masked(opcode, payload, fin=True, rsv=0):
    """A frame as a client sends it."""
    return encode_frame(opcode, payload, fin=fin, mask_key=os.urandom(4), rsv=rsv)


def heard(client, wanted):
    """Reads a TCP member's lines up to the line wanted (AssertionError if the server closes
    first); returns the lines before it."""
    return client.until(lambda line: line == wanted)[0]


def recv_until(ws, wanted, timeout=DEFAULT_TIMEOUT):
    """Reads text messages until one equals wanted; returns the messages read before it."""
    deadline = time.monotonic() + timeout
    before = []
    while (text := ws.recv_text(max(deadline - time.monotonic(), 0.001))) != wanted:
        before.append(text)
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {wanted!r} after {timeout}s; got {before}")
    return before


class ChatWebTestCase(LeakCheckedTestCase):
    """Runs `sockit serve chat http` around each test."""

    def setUp(self):
        super().setUp()
        self.server = self.enterContext(serve())

    def tcp_member(self):
        """A member over TCP, as nc is, and its guest name from the welcome."""
        client = self.enterContext(ChatClient(self.server.address("chat")))
        return client, WELCOME.fullmatch(client.line())[1]

    def websocket(self, headers=None):
        """A member over WebSocket, and its guest name from the welcome, its first message."""
        ws = self.enterContext(WebSocket.connect(self.server.address("http"), "/chat/ws",
                                                 headers=headers))
        return ws, WELCOME.fullmatch(ws.recv_text())[1]

    def assertClosedWith(self, ws, code):
        """The server sends a close frame with code and then ends the connection."""
        self.assertEqual(ws.recv_close()[0], code)
        self.assertEqual(ws.recv_eof(), b"")

    def http_exchange(self, request):
        """The status, headers and body of the http service's answer to a raw request that
        ends with "Connection: close"."""
        with socket.create_connection(self.server.address("http"),
                                      timeout=DEFAULT_TIMEOUT) as sock:
            sock.sendall(request)
            head, _, body = recv_all(sock).partition(b"\r\n\r\n")
        return (*parse_head(head), body)


class HandshakeTest(ChatWebTestCase):
    def test_a_valid_handshake_switches_and_the_welcome_comes_first(self):
        variants = {
            "plain": {},
            # Firefox's form, and names and tokens in other cases.
            "token lists": {"Connection": "keep-alive, Upgrade", "Upgrade": "WebSocket"},
            # Extensions and subprotocols the server does not speak are not agreed to.
            "offers": {"Sec-WebSocket-Extensions": "permessage-deflate; client_max_window_bits",
                       "Sec-WebSocket-Protocol": "chat, superchat",
                       "Origin": f"http://127.0.0.1:{self.server.port('http')}"},
        }
        for name, headers in variants.items():
            with self.subTest(name):
                ws, _ = self.websocket(headers)
                self.assertNotIn("sec-websocket-extensions", ws.headers)
                self.assertNotIn("sec-websocket-protocol", ws.headers)
                ws.close()

    def test_bad_handshakes_get_400_and_no_switch(self):
        key = "dGhlIHNhbXBsZSBub25jZQ=="
        cases = {
            "key not base64 of 16 bytes": {"Sec-WebSocket-Key": "not a key"},
            "key of 15 bytes": {"Sec-WebSocket-Key": "AAAAAAAAAAAAAAAAAAAA"},
            "no key": {"Sec-WebSocket-Key": None},
            "no Upgrade": {"Upgrade": None},
            "Upgrade to another protocol": {"Upgrade": "h2c"},
            "Connection without upgrade": {"Connection": "keep-alive"},
            "no version": {"Sec-WebSocket-Version": None},
        }
        for name, headers in cases.items():
            with self.subTest(name):
                with self.assertRaises(HandshakeError) as refused:
                    WebSocket.connect(self.server.address("http"), "/chat/ws",
                                      headers={"Sec-WebSocket-Key": key, **headers})
                self.assertEqual(refused.exception.status, 400, refused.exception)
                self.assertNotIn("sec-websocket-accept", refused.exception.headers)

    def test_other_versions_get_426_naming_version_13(self):
        for version in ("12", "8", "14"):
            with self.subTest(version=version):
                with self.assertRaises(HandshakeError) as refused:
                    WebSocket.connect(self.server.address("http"), "/chat/ws",
                                      headers={"Sec-WebSocket-Version": version})
                self.assertEqual(refused.exception.status, 426)
                self.assertEqual(refused.exception.headers["sec-websocket-version"], "13")

    def test_pages_of_other_origins_get_403(self):
        # RFC 6455 10.2: any page a local user opens could otherwise join the loopback chat.
        port = self.server.port("http")
        for origin in ("http://evil.example", f"http://127.0.0.1:{port + 1}",
                       "http://127.0.0.1", f"https://localhost:{port}", "null",
                       f"http://127.0.0.1:{port}.evil.example"):
            with self.subTest(origin=origin):
                with self.assertRaises(HandshakeError) as refused:
                    WebSocket.connect(self.server.address("http"), "/chat/ws",
                                      headers={"Origin": origin})
                self.assertEqual(refused.exception.status, 403, refused.exception)
                self.assertNotIn("sec-websocket-accept", refused.exception.headers)

    def test_the_servers_own_origin_and_clients_without_one_may_join(self):
        port = self.server.port("http")
        for origin in (f"http://127.0.0.1:{port}", f"HTTP://127.0.0.1:{port}", None):
            with self.subTest(origin=origin):
                ws, _ = self.websocket({"Origin": origin})
                ws.close()

    def test_chat_allow_origin_lets_a_named_origin_join(self):
        allowed = "https://chat.example:8443"
        with Serve("chat", "http", "--bind", "127.0.0.1", "--chat-port", "0", "--http-port", "0",
                   "--chat-allow-origin", allowed, "--chat-allow-origin",
                   "http://other.example") as server:
            with WebSocket.connect(server.address("http"), "/chat/ws",
                                   headers={"Origin": allowed}) as ws:
                self.assertRegex(ws.recv_text(), WELCOME)
            with self.assertRaises(HandshakeError) as refused:
                WebSocket.connect(server.address("http"), "/chat/ws",
                                  headers={"Origin": "https://chat.example"})
            self.assertEqual(refused.exception.status, 403)

    def test_a_frame_sent_with_the_handshake_is_not_lost(self):
        with WebSocket.connect(self.server.address("http"), "/chat/ws",
                               early=masked(TEXT, b"/rooms")) as ws:
            self.assertRegex(ws.recv_text(), WELCOME)
            self.assertEqual(ws.recv_text(), "*** rooms: #lobby (1)")

    def test_the_page_is_the_file_in_the_repository(self):
        status, headers, body = self.http_exchange(
            b"GET /chat HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        self.assertEqual(status, 200)
        self.assertEqual(headers["content-type"], "text/html; charset=utf-8")
        with open(PAGE, "rb") as f:
            self.assertEqual(body, f.read())
        # Self-contained: nothing to fetch from anywhere.
        self.assertNotRegex(body, rb"(?i)<link|@import|url\(|src=|https?://")
        self.assertIn(b"/chat/ws", body)
        # And run under a policy that lets it reach its own server only.
        policy = headers.get("content-security-policy", "")
        self.assertIn("default-src 'none'", policy)
        self.assertIn("connect-src 'self'", policy)
        self.assertNotIn("unsafe-eval", policy)

    def test_the_page_takes_get_and_head_only(self):
        status, headers, body = self.http_exchange(
            b"HEAD /chat HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        self.assertEqual((status, body), (200, b""))
        self.assertEqual(int(headers["content-length"]), os.path.getsize(PAGE))
        for method in ("POST", "PUT", "OPTIONS"):
            with self.subTest(method=method):
                status, headers, _ = self.http_exchange(
                    f"{method} /chat HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
                    "Connection: close\r\n\r\n".encode())
                self.assertEqual(status, 405)
                self.assertEqual(headers["allow"], "GET, HEAD")


class MessagesTest(ChatWebTestCase):
    def test_a_text_message_reaches_a_tcp_member_and_a_tcp_line_comes_back(self):
        tcp, tcp_nick = self.tcp_member()
        ws, nick = self.websocket()
        heard(tcp, f"*** {nick} joined #lobby")
        ws.send_text("hello from the web")
        heard(tcp, f"<{nick}> hello from the web")
        tcp.send("hello from nc")
        # One line, one text message in one unfragmented frame.
        self.assertEqual(ws.recv_frame(), (True, TEXT, f"<{tcp_nick}> hello from nc".encode()))

    def test_a_message_of_several_lines_is_several_chat_lines(self):
        tcp, _ = self.tcp_member()
        ws, nick = self.websocket()
        ws.send_text("one\r\ntwo\nthree")
        heard(tcp, f"<{nick}> one")
        self.assertEqual(tcp.line(), f"<{nick}> two")
        self.assertEqual(tcp.line(), f"<{nick}> three")

    def test_escape_sequences_from_a_tcp_member_arrive_escaped(self):
        tcp, tcp_nick = self.tcp_member()
        ws, _ = self.websocket()
        tcp.send("\x1b[31mred\x07")
        recv_until(ws, f"<{tcp_nick}> ^[[31mred^G")

    def test_fragments_with_a_ping_between_make_one_message(self):
        tcp, _ = self.tcp_member()
        ws, nick = self.websocket()
        # "é" is cut between the first two fragments: UTF-8 is checked across them.
        ws.send_frame(TEXT, "caf".encode() + b"\xc3", fin=False)
        ws.send_frame(PING, b"are you there?")
        ws.send_frame(CONTINUATION, b"\xa9 and ", fin=False)
        ws.send_frame(PONG, b"unsolicited, ignored")
        ws.send_frame(CONTINUATION, b"fragments")
        self.assertEqual(ws.recv_frame(), (True, PONG, b"are you there?"))
        heard(tcp, f"<{nick}> café and fragments")

    def test_a_close_frame_is_answered_with_its_code_and_the_room_is_told(self):
        tcp, _ = self.tcp_member()
        for code, reason, answer in ((NORMAL, "bye", NORMAL), (4000, "", 4000), (None, "", NORMAL)):
            with self.subTest(code=code):
                ws, nick = self.websocket()
                ws.send_frame(CLOSE, close_payload(code, reason))
                self.assertClosedWith(ws, answer)
                heard(tcp, f"*** {nick} left #lobby")

    def test_quit_says_bye_and_closes_normally(self):
        tcp, _ = self.tcp_member()
        ws, nick = self.websocket()
        ws.send_text("/quit gone fishing")
        recv_until(ws, "*** bye")
        self.assertEqual(ws.recv_close(), (NORMAL, "bye"))
        self.assertEqual(ws.recv_eof(), b"")
        heard(tcp, f"*** {nick} left (gone fishing)")

    def test_pings_of_up_to_125_bytes_are_answered_with_their_payload(self):
        ws, _ = self.websocket()
        for payload in (b"", b"\x00\xff binary is fine", b"x" * 125):
            ws.send_frame(PING, payload)
            self.assertEqual(ws.recv_frame(), (True, PONG, payload))

    def test_a_server_that_stops_closes_with_going_away(self):
        tcp, _ = self.tcp_member()
        ws, _ = self.websocket()
        self.assertEqual(self.server.stop(), 0)
        self.assertEqual(ws.recv_close(), (GOING_AWAY, "the server is shutting down"))
        self.assertEqual(ws.recv_eof(), b"")
        heard(tcp, "*** the server is shutting down")

    def test_a_message_of_exactly_64_kib_is_taken(self):
        ws, _ = self.websocket()
        ws.send_text("x" * MAX_MESSAGE)
        # One line over --chat-max-line: refused by the chat, not by the WebSocket layer.
        self.assertEqual(ws.recv_text(), "*** error: line over 1024 bytes; dropped")
        ws.send_frame(PING, b"still there")
        self.assertEqual(ws.recv_frame(), (True, PONG, b"still there"))


class RefusedFramesTest(ChatWebTestCase):
    """Each frame the RFC says to refuse ends the connection with a close frame and the code
    the RFC names (section 7.4.1), and the room is told the member left."""

    def refused(self, code, *frames):
        tcp, _ = self.tcp_member()
        ws, nick = self.websocket()
        heard(tcp, f"*** {nick} joined #lobby")
        ws.send_raw(b"".join(frames))
        self.assertClosedWith(ws, code)
        heard(tcp, f"*** {nick} left #lobby")

    def test_an_unmasked_frame_is_a_protocol_error(self):
        self.refused(PROTOCOL_ERROR, encode_frame(TEXT, b"hello"))

    def test_rsv_bits_are_a_protocol_error(self):
        for rsv in (1, 2, 4):
            with self.subTest(rsv=rsv):
                self.refused(PROTOCOL_ERROR, masked(TEXT, b"hello", rsv=rsv))

    def test_broken_framing_is_a_protocol_error(self):
        cases = {
            "unknown data opcode": [masked(3, b"x")],
            "unknown control opcode": [masked(0xB, b"x")],
            "fragmented ping": [masked(PING, b"x", fin=False)],
            "ping over 125 bytes": [masked(PING, b"x" * 126)],
            "continuation without a message": [masked(CONTINUATION, b"x")],
            "new message before the last ended": [masked(TEXT, b"a", fin=False),
                                                  masked(TEXT, b"b")],
            "close payload of one byte": [masked(CLOSE, b"\x03")],
            "close code 1005, never sent": [masked(CLOSE, struct.pack("!H", 1005))],
            "close code 999": [masked(CLOSE, struct.pack("!H", 999))],
            "64-bit length with the top bit": [struct.pack("!BBQ", 0x81, 0xFF, 1 << 63) +
                                               b"mask"],
        }
        for name, frames in cases.items():
            with self.subTest(name):
                self.refused(PROTOCOL_ERROR, *frames)

    def test_a_message_over_64_kib_is_too_big(self):
        cases = {
            "one frame": [masked(TEXT, b"x" * (MAX_MESSAGE + 1))],
            "fragments": [masked(TEXT, b"x" * (MAX_MESSAGE // 2), fin=False),
                          masked(CONTINUATION, b"x" * (MAX_MESSAGE // 2 + 1))],
            # Refused from the header alone, before any of the payload arrives.
            "a header announcing 1 TiB": [struct.pack("!BBQ", 0x81, 0xFF, 1 << 40) + b"mask"],
        }
        for name, frames in cases.items():
            with self.subTest(name):
                self.refused(TOO_BIG, *frames)

    def test_text_that_is_not_utf8_is_invalid_data(self):
        cases = {
            "a stray byte": [masked(TEXT, b"abc\xff")],
            "an overlong slash": [masked(TEXT, b"\xc0\xaf")],
            "a surrogate": [masked(TEXT, b"\xed\xa0\x80")],
            "cut at the end": [masked(TEXT, b"abc\xe2\x82")],
            # Refused from the first fragment, without waiting for the message's end.
            "in a first fragment": [masked(TEXT, b"\xff", fin=False)],
            "a close reason": [masked(CLOSE, struct.pack("!H", NORMAL) + b"\xff")],
        }
        for name, frames in cases.items():
            with self.subTest(name):
                self.refused(INVALID_DATA, *frames)

    def test_a_binary_message_is_unsupported_data(self):
        self.refused(UNSUPPORTED_DATA, masked(BINARY, b"\x00\x01"))


class BrowserTest(ChatWebTestCase):
    """The page in headless Chromium, next to a TCP member of the same room."""

    def setUp(self):
        super().setUp()
        self.browser = self.enterContext(Chromium())
        host, port = self.server.address("http")
        self.page_nick = open_chat_page(self.browser, f"http://{host}:{port}/chat", WELCOME)[1]

    def assertNoProblems(self):
        """No script errors and no Content-Security-Policy violations (the favicon the
        server does not have aside)."""
        problems = [p for p in self.browser.problems() if "favicon.ico" not in p]
        self.assertEqual(problems, [])

    def test_a_browser_user_and_a_tcp_user_see_each_other(self):
        tcp, tcp_nick = self.tcp_member()
        wait_for_line(self.browser, re.escape(f"*** {tcp_nick} joined #lobby"))
        type_line(self.browser, "/nick webby")
        type_line(self.browser, "hello from the browser")
        heard(tcp, "<webby> hello from the browser")
        self.assertEqual(self.browser.evaluate("document.getElementById('nick').textContent"),
                         "webby")
        # The sender's own line, shown by the page since the server does not echo it.
        wait_for_line(self.browser, re.escape("<webby> hello from the browser"))
        self.assertEqual(self.browser.evaluate("document.getElementById('input').value"), "")

        tcp.send("hello from nc", "\x1b[31mred")
        wait_for_line(self.browser, re.escape(f"<{tcp_nick}> ^[[31mred"))
        lines = self.browser.evaluate(LINES)
        self.assertIn(f"<{tcp_nick}> hello from nc", lines)
        self.assertFalse(any("\x1b" in line for line in lines))
        self.assertNoProblems()

    def test_lines_are_styled_by_kind_and_inserted_as_text(self):
        tcp, tcp_nick = self.tcp_member()
        wait_for_line(self.browser, re.escape(f"*** {tcp_nick} joined #lobby"))
        tcp.send("/me waves", f"/msg {self.page_nick} psst",
                 "<b id=injected>bold</b><img src=x onerror=alert(1)>")
        wait_for_line(self.browser, re.escape(f"<{tcp_nick}> <b id=injected>"))
        kinds = self.browser.evaluate(
            f"Object.fromEntries([...{LOG}.children].map(line => [line.textContent,"
            " line.className.split(' ')]))")
        self.assertIn("notice", kinds[f"*** {tcp_nick} joined #lobby"])
        self.assertIn("me", kinds[f"* {tcp_nick} waves"])
        self.assertIn("private", kinds[f"*{tcp_nick}* psst"])
        self.assertIn("chat", kinds[f"<{tcp_nick}> <b id=injected>bold</b>"
                                    "<img src=x onerror=alert(1)>"])
        self.assertIsNone(self.browser.evaluate("document.getElementById('injected')"))
        self.assertEqual(self.browser.evaluate(f"{LOG}.querySelectorAll('img').length"), 0)
        self.assertNoProblems()


if __name__ == "__main__":
    unittest.main()
