"""sockit tcp against software nobody here wrote, on 127.0.0.1: the tutorials' programs
(echo, daytime and HEAD servers, the echo client), and the real ncat and socat as listeners
and as clients, with exact bytes both ways and socat's half-close."""
import contextlib
import os
import re
import subprocess
import sys
import tempfile
import unittest

from sockit_test import (DEFAULT_TIMEOUT, SOCKIT, LeakCheckedTestCase, background, free_port,
                         listening_on, port_of, read_exactly, read_line, run)

# The tutorials' servers as they wrote them, but on a port the OS picks, which they print
# first, and serving one client: each defines serve(con), and SERVE_ONE_CLIENT runs it. The
# daytime and HEAD servers then print what they exchanged.
SERVE_ONE_CLIENT = """
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    s.listen()
    print(s.getsockname()[1], flush=True)
    con, addr = s.accept()
    with con:
        serve(con)
"""

ECHO_SERVER = """
import socket

def serve(con):
    while True:
        data = con.recv(1024)
        if not data:
            break
        con.sendall(data)
""" + SERVE_ONE_CLIENT

DAYTIME_SERVER = """
import socket
import time

def serve(con):
    now = time.ctime() + "\\r\\n"
    con.sendall(now.encode())
    print(now, end="", flush=True)
""" + SERVE_ONE_CLIENT

HEAD_SERVER = """
import socket
import sys
import tempfile

RESPONSE = (b"HTTP/1.1 200 OK\\r\\nServer: tutorial\\r\\nContent-Type: text/html\\r\\n"
            b"Content-Length: 394\\r\\nConnection: close\\r\\n\\r\\n")

def serve(con):
    request = b""
    while b"\\r\\n\\r\\n" not in request:
        chunk = con.recv(1024)
        if not chunk:
            break
        request += chunk
    if request.startswith(b"HEAD / HTTP/1.1\\r\\n"):
        con.sendall(RESPONSE)
    else:
        con.sendall(b"HTTP/1.1 400 Bad Request\\r\\n\\r\\n")
    sys.stdout.buffer.write(request)
""" + SERVE_ONE_CLIENT

ECHO_CLIENT = """
import socket
import sys
import tempfile

with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
    s.connect(("127.0.0.1", int(sys.argv[1])))
    s.sendall(b"hello there")
    print(str(s.recv(4096), "utf-8"))
"""

HEAD_REQUEST = r"HEAD / HTTP/1.1\r\nHost: webcode.me\r\nAccept: text/html\r\n\r\n"


def python(program, *args):
    """A tutorial's program, given as its source, running in the background."""
    return background([sys.executable, "-c", program, *args])


def tcp(*args, **kwargs):
    """`sockit tcp ARGS...` in the background."""
    return background([SOCKIT, "tcp", *args], **kwargs)


@contextlib.contextmanager
def files(data):
    """A file holding data to be a child's stdin, and an empty one to be its stdout: unlike
    pipes, neither fills up while the test waits on another process."""
    with tempfile.TemporaryFile() as source, tempfile.TemporaryFile() as sink:
        source.write(data)
        source.seek(0)
        yield source, sink


def contents(sink):
    sink.seek(0)
    return sink.read()


def line_matching(stream, pattern, lines=20):
    """The first match of pattern in the next lines of a child's stderr or stdout."""
    seen = []
    for _ in range(lines):
        line = read_line(stream).decode(errors="replace")
        seen.append(line)
        match = re.search(pattern, line)
        if match:
            return match
    raise AssertionError(f"no line matched {pattern!r}: {seen!r}")


class TutorialPeersTest(LeakCheckedTestCase):
    def test_echo_server_returns_every_byte(self):
        payload = os.urandom(1 << 20)
        with python(ECHO_SERVER) as server:
            port = int(read_line(server.stdout))
            result = run("tcp", "127.0.0.1", port, input=payload, timeout=120)
            self.assertEqual(server.wait(timeout=DEFAULT_TIMEOUT), 0)
        self.assertSucceeds(result)
        self.assertTrue(result.stdout == payload, f"{len(result.stdout)} bytes came back")

    def test_daytime_server_with_empty_send(self):
        # The tutorial's client: connect, sendall(b''), print what the server says.
        with python(DAYTIME_SERVER) as server:
            port = int(read_line(server.stdout))
            result = run("tcp", "127.0.0.1", port, "--send", "")
            self.assertEqual(server.wait(timeout=DEFAULT_TIMEOUT), 0)
            sent = server.stdout.read()
        self.assertSucceeds(result)
        self.assertRegex(sent, rb"\A\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}\r\n\Z")
        self.assertEqual(result.stdout, sent)

    def test_daytime_server_with_nothing_on_stdin(self):
        with python(DAYTIME_SERVER) as server:
            port = int(read_line(server.stdout))
            result = run("tcp", "127.0.0.1", port, input=b"")
            self.assertEqual(server.wait(timeout=DEFAULT_TIMEOUT), 0)
            sent = server.stdout.read()
        self.assertSucceeds(result)
        self.assertEqual(result.stdout, sent)

    def test_head_request_to_http_server(self):
        with python(HEAD_SERVER) as server:
            port = int(read_line(server.stdout))
            result = run("tcp", "127.0.0.1", port, "--send", HEAD_REQUEST)
            self.assertEqual(server.wait(timeout=DEFAULT_TIMEOUT), 0)
            request = server.stdout.read()
        self.assertSucceeds(result)
        self.assertEqual(request,
                         b"HEAD / HTTP/1.1\r\nHost: webcode.me\r\nAccept: text/html\r\n\r\n")
        self.assertEqual(result.stdout,
                         b"HTTP/1.1 200 OK\r\nServer: tutorial\r\nContent-Type: text/html\r\n"
                         b"Content-Length: 394\r\nConnection: close\r\n\r\n")

    def test_echo_client_against_listener(self):
        with tcp("-l", "127.0.0.1", "0", "-v") as listener:
            port = port_of(listening_on(listener))
            listener.stdin.write(b"general kenobi")
            listener.stdin.close()
            with python(ECHO_CLIENT, port) as client:
                self.assertEqual(client.wait(timeout=DEFAULT_TIMEOUT), 0)
                self.assertEqual(client.stdout.read(), b"general kenobi\n")
            self.assertEqual(listener.wait(timeout=DEFAULT_TIMEOUT), 0)
            self.assertEqual(listener.stdout.read(), b"hello there")


class BothWaysTestCase(LeakCheckedTestCase):
    """sockit and a peer send each other a file's worth of random bytes at once."""

    def assert_sockit_client(self, listening_peer, name, to_peer, to_sockit):
        """listening_peer(stdin, stdout) is the peer, listening: a context manager that gives
        the process and its port."""
        with files(to_sockit) as (source, sink), listening_peer(source, sink) as (peer, port):
            result = run("tcp", "127.0.0.1", port, input=to_peer)
            self.assertEqual(peer.wait(timeout=DEFAULT_TIMEOUT), 0)
            received = contents(sink)
        self.assertSucceeds(result)
        self.assertTrue(result.stdout == to_sockit, f"bytes from {name} differ")
        self.assertTrue(received == to_peer, f"bytes to {name} differ")

    def assert_sockit_listener(self, client_argv, name, to_peer, to_sockit):
        """client_argv(port): the peer's command line that connects to sockit on port."""
        with files(to_peer) as (source, sink), \
                tcp("-l", "127.0.0.1", "0", "-v", stdin=source, stdout=sink) as listener:
            port = port_of(listening_on(listener))
            peer = subprocess.run(client_argv(port), input=to_sockit, capture_output=True,
                                  timeout=DEFAULT_TIMEOUT)
            self.assertEqual(listener.wait(timeout=DEFAULT_TIMEOUT), 0)
            received = contents(sink)
        self.assertSucceeds(peer)
        self.assertTrue(peer.stdout == to_peer, f"bytes to {name} differ")
        self.assertTrue(received == to_sockit, f"bytes from {name} differ")


class NcatTest(BothWaysTestCase):
    @contextlib.contextmanager
    def listening_ncat(self, stdin, stdout):
        port = free_port()  # ncat reports port 0 literally, so it gets a concrete one
        with background(["ncat", "-v", "-l", "127.0.0.1", port], stdin=stdin,
                        stdout=stdout) as ncat:
            line_matching(ncat.stderr, rf"Listening on 127\.0\.0\.1:{port}")
            yield ncat, port

    def test_ncat_listener(self):
        self.assert_sockit_client(self.listening_ncat, "ncat", os.urandom(300_000),
                                  os.urandom(200_000))

    def test_ncat_client(self):
        self.assert_sockit_listener(lambda port: ["ncat", "127.0.0.1", str(port)], "ncat",
                                    os.urandom(200_000), os.urandom(300_000))


class SocatTest(BothWaysTestCase):
    # -t: how long socat keeps the other direction going after one side's EOF (default 0.5s,
    # too short to be sure of on a loaded machine).
    SOCAT = ["socat", "-t", str(DEFAULT_TIMEOUT)]

    def socat_listener(self, address, **kwargs):
        return background([*self.SOCAT, "-d", "-d", "TCP-LISTEN:0,bind=127.0.0.1", address],
                          **kwargs)

    def socat_port(self, socat):
        return int(line_matching(socat.stderr, r"listening on AF=2 127\.0\.0\.1:(\d+)")[1])

    @contextlib.contextmanager
    def listening_socat(self, stdin, stdout):
        with self.socat_listener("STDIO", stdin=stdin, stdout=stdout) as socat:
            yield socat, self.socat_port(socat)

    def test_socat_listener_both_ways(self):
        self.assert_sockit_client(self.listening_socat, "socat", os.urandom(300_000),
                                  os.urandom(200_000))

    def test_socat_client_both_ways(self):
        self.assert_sockit_listener(lambda port: [*self.SOCAT, "STDIO", f"TCP:127.0.0.1:{port}"],
                                    "socat", os.urandom(300_000), os.urandom(200_000))

    def test_reply_after_our_fin_through_socat(self):
        # socat hands sockit's FIN to `wc -c` as end of input; the count is the reply.
        payload = os.urandom(500_000)
        with self.socat_listener("EXEC:wc -c") as socat:
            result = run("tcp", "127.0.0.1", self.socat_port(socat), input=payload)
            self.assertEqual(socat.wait(timeout=DEFAULT_TIMEOUT), 0)
        self.assertSucceeds(result)
        self.assertEqual(result.stdout, b"500000\n")

    def test_socat_client_closing_first(self):
        # socat sends its question and its FIN; sockit must still deliver the answer.
        with tcp("-l", "127.0.0.1", "0", "-v") as listener:
            port = port_of(listening_on(listener))
            with background([*self.SOCAT, "STDIO", f"TCP:127.0.0.1:{port}"]) as socat:
                socat.stdin.write(b"question")
                socat.stdin.close()
                self.assertEqual(read_exactly(listener.stdout, 8), b"question")
                listener.stdin.write(b"the answer after your FIN")
                listener.stdin.close()
                self.assertEqual(socat.wait(timeout=DEFAULT_TIMEOUT), 0)
                self.assertEqual(socat.stdout.read(), b"the answer after your FIN")
            self.assertEqual(listener.wait(timeout=DEFAULT_TIMEOUT), 0)
            self.assertEqual(listener.stdout.read(), b"")


if __name__ == "__main__":
    unittest.main()
