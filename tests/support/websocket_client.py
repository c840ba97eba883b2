"""A minimal WebSocket (RFC 6455) client for tests: the opening handshake, frames exactly as
they travel, messages reassembled from fragments, and the closing handshake.

It checks what a server sends and sends whatever a test asks for, also what a conforming
client never would (unmasked frames, RSV bits, bytes that are no frame at all: use .sock).
"""
import base64
import hashlib
import os
import socket
import struct
import time

from sockit_test import DEFAULT_TIMEOUT, parse_head

CONTINUATION, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
# Status codes of close frames (RFC 6455 section 7.4.1).
NORMAL, GOING_AWAY, PROTOCOL_ERROR, UNSUPPORTED_DATA = 1000, 1001, 1002, 1003
INVALID_DATA, POLICY_VIOLATION, TOO_BIG = 1007, 1008, 1009
MAX_HEAD = 64 * 1024


class HandshakeError(Exception):
    """The server did not switch protocols; .status, .headers (lower-case names), .body."""

    def __init__(self, status, headers, body, why):
        super().__init__(f"{why}: HTTP {status} {headers} {body[:200]!r}")
        self.status, self.headers, self.body = status, headers, body


class Closed(Exception):
    """The peer sent a close frame (.code, .reason; code None when it had no payload) or,
    when .code is None and .reason is "end of stream", closed the connection without one."""

    def __init__(self, code, reason):
        super().__init__(f"closed: {code} {reason!r}")
        self.code, self.reason = code, reason


def accept_key(key):
    """The Sec-WebSocket-Accept value that answers a Sec-WebSocket-Key."""
    return base64.b64encode(hashlib.sha1((key + GUID).encode()).digest()).decode()


def new_key():
    return base64.b64encode(os.urandom(16)).decode()


def mask(key, payload):
    """payload XOR the 4-byte key repeated (masking and unmasking are the same)."""
    size = len(payload)
    repeated = (key * (size // 4 + 1))[:size]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(size, "big")


def encode_frame(opcode, payload, fin=True, mask_key=None, rsv=0):
    """One frame as bytes; masked when mask_key (4 bytes) is given. rsv is the 3-bit RSV field."""
    first = (0x80 if fin else 0) | (rsv & 0x7) << 4 | opcode & 0xF
    size = len(payload)
    mask_bit = 0x80 if mask_key is not None else 0
    if size < 126:
        head = struct.pack("!BB", first, mask_bit | size)
    elif size < 1 << 16:
        head = struct.pack("!BBH", first, mask_bit | 126, size)
    else:
        head = struct.pack("!BBQ", first, mask_bit | 127, size)
    if mask_key is None:
        return head + payload
    return head + mask_key + mask(mask_key, payload)


def close_payload(code=None, reason=""):
    """The payload of a close frame: empty without a code, else the code and the UTF-8 reason."""
    return b"" if code is None else struct.pack("!H", code) + reason.encode()


def parse_close(payload):
    """(code, reason) of a close frame's payload; (None, "") when it is empty."""
    if not payload:
        return None, ""
    return struct.unpack("!H", payload[:2])[0], payload[2:].decode(errors="replace")


def upgrade_request(host, path, key, headers=None):
    """The opening handshake request; headers add to or replace the standard ones (a value of
    None leaves that header out)."""
    fields = {"Host": host, "Upgrade": "websocket", "Connection": "Upgrade",
              "Sec-WebSocket-Key": key, "Sec-WebSocket-Version": "13"}
    fields.update(headers or {})
    lines = [f"GET {path} HTTP/1.1"]
    lines += [f"{name}: {value}" for name, value in fields.items() if value is not None]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


class WebSocket:
    """A client connection after a successful handshake. Use as a context manager (it closes
    the socket, without a closing handshake; see close()).

    .sock is the connected socket, for raw bytes; .headers the server's 101 response headers
    (lower-case names). Frames the server sent right after its response are kept and returned
    first.
    """

    def __init__(self, sock, headers=None, buffered=b""):
        self.sock = sock
        self.headers = headers or {}
        self._buffer = bytearray(buffered)

    @classmethod
    def connect(cls, address, path="/", headers=None, early=b"", timeout=DEFAULT_TIMEOUT):
        """Connects to address (host, port), asks for path and checks the server's 101 answer
        (Upgrade, Connection and Sec-WebSocket-Accept). Raises HandshakeError otherwise.
        early: bytes (frames) sent right behind the request, in the same write."""
        key = new_key()
        host = f"[{address[0]}]" if ":" in address[0] else address[0]
        request = upgrade_request(f"{host}:{address[1]}", path, key, headers)
        sock = socket.create_connection(address, timeout=timeout)
        try:
            status, fields, rest = cls._exchange_head(sock, request + early,
                                                      time.monotonic() + timeout)
            if status != 101:
                body = rest[:int(fields.get("content-length", len(rest)))]
                raise HandshakeError(status, fields, body, "no protocol switch")
            problems = [name for name, want in (("upgrade", "websocket"), ("connection", "upgrade"))
                        if want not in fields.get(name, "").lower()]
            if fields.get("sec-websocket-accept") != accept_key(key):
                problems.append("sec-websocket-accept")
            if problems:
                raise HandshakeError(status, fields, rest, f"wrong {', '.join(problems)}")
            return cls(sock, fields, rest)
        except BaseException:
            sock.close()
            raise

    @staticmethod
    def _exchange_head(sock, request, deadline):
        """Sends request, reads a response head; returns (status, headers, bytes after it).
        The bytes after a non-101 head are read until the body is complete or the peer closes."""
        sock.sendall(request)
        data = bytearray()
        while b"\r\n\r\n" not in data:
            chunk = _recv(sock, deadline)
            if not chunk or len(data) > MAX_HEAD:
                raise HandshakeError(0, {}, bytes(data), "no complete response head")
            data += chunk
        head, _, rest = bytes(data).partition(b"\r\n\r\n")
        status, fields = parse_head(head)
        if status != 101:
            length = int(fields.get("content-length", "-1"))
            while (length < 0 or len(rest) < length) and (chunk := _recv(sock, deadline)):
                rest += chunk
        return status, fields, rest

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.sock.close()

    def send_raw(self, data):
        self.sock.sendall(data)

    def send_frame(self, opcode, payload=b"", fin=True, mask=True, rsv=0):
        """Sends one frame, masked with a random key unless mask is False."""
        if isinstance(payload, str):
            payload = payload.encode()
        key = os.urandom(4) if mask else None
        self.sock.sendall(encode_frame(opcode, payload, fin=fin, mask_key=key, rsv=rsv))

    def send_text(self, text):
        self.send_frame(TEXT, text.encode())

    def _fill(self, size, deadline):
        """Waits until the buffer holds at least size bytes; raises Closed at end of stream."""
        while len(self._buffer) < size:
            chunk = _recv(self.sock, deadline)
            if not chunk:
                raise Closed(None, "end of stream")
            self._buffer += chunk

    def _take(self, size, deadline):
        self._fill(size, deadline)
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def recv_frame(self, timeout=DEFAULT_TIMEOUT):
        """The next frame as (fin, opcode, payload), unmasked. Raises TimeoutError, or Closed
        at end of stream. A server must not mask or set RSV bits: AssertionError if it does."""
        deadline = time.monotonic() + timeout
        first, second = self._take(2, deadline)
        if first & 0x70:
            raise AssertionError(f"server frame with RSV bits: {first:#04x}")
        size = second & 0x7F
        if size == 126:
            size = struct.unpack("!H", self._take(2, deadline))[0]
        elif size == 127:
            size = struct.unpack("!Q", self._take(8, deadline))[0]
        if second & 0x80:
            raise AssertionError("server frame is masked")
        return bool(first & 0x80), first & 0xF, self._take(size, deadline)

    def recv_message(self, timeout=DEFAULT_TIMEOUT):
        """The next data message as (opcode, payload), reassembled from its fragments. Pings
        are answered, pongs skipped; a close frame raises Closed (and is not answered)."""
        deadline = time.monotonic() + timeout
        opcode, parts = None, []
        while True:
            fin, kind, payload = self.recv_frame(_left(deadline))
            if kind == CLOSE:
                raise Closed(*parse_close(payload))
            if kind == PING:
                self.send_frame(PONG, payload)
                continue
            if kind == PONG:
                continue
            if (kind == CONTINUATION) != (opcode is not None):
                raise AssertionError(f"frame of opcode {kind} out of sequence")
            opcode = kind if opcode is None else opcode
            parts.append(payload)
            if fin:
                return opcode, b"".join(parts)

    def recv_text(self, timeout=DEFAULT_TIMEOUT):
        """The next text message as str; AssertionError if the next message is binary."""
        opcode, payload = self.recv_message(timeout)
        if opcode != TEXT:
            raise AssertionError(f"expected a text message, got opcode {opcode}: {payload[:100]!r}")
        return payload.decode()

    def recv_close(self, timeout=DEFAULT_TIMEOUT):
        """Skips frames until a close frame and returns its (code, reason)."""
        deadline = time.monotonic() + timeout
        while True:
            _, kind, payload = self.recv_frame(_left(deadline))
            if kind == CLOSE:
                return parse_close(payload)

    def recv_eof(self, timeout=DEFAULT_TIMEOUT):
        """Waits until the server ends the connection; returns the bytes it sent before (a
        reset counts as an end)."""
        deadline = time.monotonic() + timeout
        data = bytes(self._buffer)
        self._buffer.clear()
        try:
            while chunk := _recv(self.sock, deadline):
                data += chunk
        except ConnectionResetError:
            pass
        return data

    def close(self, code=NORMAL, reason="", timeout=DEFAULT_TIMEOUT):
        """The closing handshake started by the client: sends a close frame, waits for the
        server's and for its end of the connection. Returns the server's (code, reason)."""
        self.send_frame(CLOSE, close_payload(code, reason))
        answer = self.recv_close(timeout)
        self.recv_eof(timeout)
        self.sock.close()
        return answer


def _left(deadline):
    """The seconds until deadline; TimeoutError when it has passed (so that a peer that keeps
    sending cannot keep a loop going)."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("websocket: no such frame before the deadline")
    return left


def _recv(sock, deadline):
    """One recv that gives up at deadline (a time.monotonic() value) with TimeoutError."""
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError("websocket: no data before the deadline")
    sock.settimeout(left)
    return sock.recv(65536)
