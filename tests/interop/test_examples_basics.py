"""The examples (the tutorials' basic programs in C++, in $SOCKIT_EXAMPLES) against Python
peers written the tutorials' way, on loopback.

Where a tutorial shows both sides, each side of ours meets the other side in Python: our
client against the tutorial's server, the tutorial's client against our server. And where a
tutorial shows a client, the tutorial's client runs against the same peer as ours, so that the
bytes each prints can be compared. The tutorials' programs appear below with only their
addresses taken from argv (and a server's port printed once listening, so that the OS can choose
it).
"""
import contextlib
import functools
import http.server
import math
import os
import re
import select
import socket
import stat
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
import unittest

from sockit_test import (DEFAULT_TIMEOUT, UNRESOLVABLE, LeakCheckedTestCase, ThreadedServer,
                         background, free_port, has_ipv6_loopback, read_line, recv_all)
from tutorial_programs import DAYTIME_CLIENT, QOTD_CLIENT

EXAMPLES = os.environ.get("SOCKIT_EXAMPLES", "examples")

QUOTE = (b'"When a stupid man is doing something he is ashamed of, he always declares that it '
         b'is his duty." George Bernard Shaw (1856-1950)')
DAYTIME = b"59638 22-02-28 04:16:20 00 0 0 125.0 UTC(NIST) * \n"

# The HEAD and GET clients of the tutorial of qotd_client.py and the daytime client (which
# are in tutorial_programs, shared with the serve suite).
HEAD_REQUEST = textwrap.dedent("""
    import socket
    import sys

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:

        host = sys.argv[1]
        s.connect((host, int(sys.argv[2])))
        s.sendall(f"HEAD / HTTP/1.1\\r\\nHost: {host}\\r\\nAccept: text/html\\r\\n\\r\\n".encode())
        print(str(s.recv(1024), 'utf-8'))
""")

GET_REQUEST = textwrap.dedent("""
    import socket
    import sys

    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:

        host = sys.argv[1]
        s.connect((host, int(sys.argv[2])))
        s.sendall(f"GET / HTTP/1.1\\r\\nHost: {host}\\r\\nAccept: text/html\\r\\n"
                  "Connection: close\\r\\n\\r\\n".encode())

        while True:

            data = s.recv(1024)

            if not data:
                break

            print(data.decode())
""")

# The tutorial's echo server and client; the family is an argument, so that the same pair
# also runs over IPv6 and Unix domain sockets (where the address is a path). The server says
# where it listens once it does, as ours do, so that a client can connect at once.
ECHO_SERVER = textwrap.dedent("""
    import socket
    import sys

    family = getattr(socket, sys.argv[1])
    with socket.socket(family) as s:

        addr = sys.argv[2] if family == socket.AF_UNIX else (sys.argv[2], int(sys.argv[3]))

        s.bind(addr)
        s.listen()
        name = s.getsockname()
        print(f'socket binded to {name if family == socket.AF_UNIX else name[1]}', flush=True)

        con, addr = s.accept()

        with con:

            while True:

                data = con.recv(1024)

                if not data:
                    break

                con.sendall(data)
""")

ECHO_CLIENT = textwrap.dedent("""
    import socket
    import sys

    family = getattr(socket, sys.argv[1])
    with socket.socket(family, socket.SOCK_STREAM) as s:

        addr = sys.argv[2] if family == socket.AF_UNIX else (sys.argv[2], int(sys.argv[3]))

        s.connect(addr)
        s.sendall(b'hello there')
        print(str(s.recv(4096), 'utf-8'))
""")

# The tutorial's asyncio server (a fresh loop: get_event_loop() outside a coroutine is
# deprecated).
ASYNC_SERVER = textwrap.dedent("""
    import asyncio
    import sys


    async def handle_client(reader, writer):

        data = (await reader.read(1024))

        writer.write(data)
        writer.close()


    loop = asyncio.new_event_loop()
    server = loop.run_until_complete(
        asyncio.start_server(handle_client, sys.argv[1], int(sys.argv[2])))
    print(f"Serving on {server.sockets[0].getsockname()[1]}", flush=True)
    loop.run_forever()
""")

NONBLOCKING_CLIENT = textwrap.dedent("""
    import socket
    import sys

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)

    sock.setblocking(False)

    server_address = (sys.argv[1], int(sys.argv[2]))
    sock.connect_ex(server_address)

    data = b'Hello, server!'
    sock.send(data)

    try:
        received_data = sock.recv(1024)
        print("Received data:", received_data.decode())
    except socket.error as e:
        if e.errno == socket.errno.EWOULDBLOCK:
            print("Timeout: No data available")
        else:
            print("Socket error:", e)
""")

# The options the tutorial names, set and read back with setsockopt/getsockopt.
SOCKET_OPTIONS = textwrap.dedent("""
    import socket
    import sys

    bufsize = int(sys.argv[1]) if len(sys.argv) > 1 else 65536
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    for name, level, option, value in [
            ("SO_REUSEADDR", socket.SOL_SOCKET, socket.SO_REUSEADDR, 1),
            ("SO_KEEPALIVE", socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1),
            ("TCP_NODELAY", socket.IPPROTO_TCP, socket.TCP_NODELAY, 1),
            ("SO_SNDBUF", socket.SOL_SOCKET, socket.SO_SNDBUF, bufsize),
            ("SO_RCVBUF", socket.SOL_SOCKET, socket.SO_RCVBUF, bufsize)]:
        before = sock.getsockopt(level, option)
        sock.setsockopt(level, option, value)
        print(f"{name}: {before} -> {sock.getsockopt(level, option)}")
    sock.close()
""")

TIMEOUTS = textwrap.dedent("""
    import errno
    import sys
    from socket import socket

    ip, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])

    sock = socket()
    sock.settimeout(seconds)
    result = sock.connect_ex((ip, port))
    if result == 0:
        print(f"Port {port}: \\t Open")
    else:
        print (f"Port {port}: \\t Closed")
        print("Reason:", errno.errorcode[result])
    sock.close()
""")

# A client the QOTD client's way that sends a message of its own: the UDP echo's counterpart.
UDP_CLIENT = textwrap.dedent("""
    import socket
    import sys

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:

        s.sendto(sys.argv[3].encode(), (sys.argv[1], int(sys.argv[2])))

        data, address = s.recvfrom(1024)
        print(data.decode())
""")


def example(name):
    return os.path.join(EXAMPLES, name)


def run_example(name, *args):
    return subprocess.run([example(name), *map(str, args)], capture_output=True,
                          timeout=DEFAULT_TIMEOUT)


def python_argv(program, *args):
    return [sys.executable, "-c", program, *map(str, args)]


def run_python(program, *args):
    return subprocess.run(python_argv(program, *args), capture_output=True,
                          timeout=DEFAULT_TIMEOUT)


@contextlib.contextmanager
def server(argv):
    """Runs a server program, ours or a tutorial's, until it ends or the block does; yields the
    process and the port (or path) that its first line of output ends with."""
    with background(argv, stdin=subprocess.DEVNULL) as proc:
        line = read_line(proc.stdout).decode().strip()
        yield proc, line.rsplit(maxsplit=1)[-1].rsplit(":", 1)[-1]


@contextlib.contextmanager
def udp_peer():
    """A UDP socket on 127.0.0.1, port 0; the block answers what arrives."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as peer:
        peer.bind(("127.0.0.1", 0))
        peer.settimeout(DEFAULT_TIMEOUT)
        yield peer


def answer_one_datagram(argv, reply):
    """Runs the UDP client argv + [peer's port] against a peer that answers its one datagram
    with reply(data); returns the client's (returncode, stdout, stderr) and the datagram."""
    with udp_peer() as peer:
        port = peer.getsockname()[1]
        with background([*argv, port], stdin=subprocess.DEVNULL) as client:
            data, address = peer.recvfrom(1024)
            peer.sendto(reply(data), address)
            out, err = client.communicate(timeout=DEFAULT_TIMEOUT)
    return (client.returncode, out, err), data


@contextlib.contextmanager
def http_server(handler):
    """An http.server on 127.0.0.1, port 0, in a thread; .requests lists (request line, Host)
    of each request served."""
    httpd = http.server.HTTPServer(("127.0.0.1", 0), handler)
    httpd.requests = []
    thread = threading.Thread(target=httpd.serve_forever)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        thread.join(DEFAULT_TIMEOUT)
        httpd.server_close()


class RecordingHandler(http.server.SimpleHTTPRequestHandler):
    """http.server's file handler with a fixed clock and name, so that two runs answer the
    same bytes, recording requests instead of logging them."""

    def date_time_string(self, timestamp=None):
        return "Mon, 28 Feb 2022 04:19:33 GMT"

    def version_string(self):
        return "TestServer/1.0"

    def log_message(self, format, *args):
        self.server.requests.append((self.requestline, self.headers.get("Host")))


SMALL_PAGE = (b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n\r\n"
              b"<!DOCTYPE html>\n<html lang=\"en\">\n<body>\n"
              b"    <p>\n        Today is a beautiful day. We go swimming and fishing.\n    </p>\n"
              b"</body>\n</html>\n")


class OneWriteHandler(RecordingHandler):
    """Answers a GET with SMALL_PAGE in one write, so that it arrives in one recv(1024)."""

    def do_GET(self):
        self.wfile.write(SMALL_PAGE)
        self.log_request(200)


def page_server(directory):
    return http_server(functools.partial(RecordingHandler, directory=directory))


@contextlib.contextmanager
def full_accept_queue():
    """A listen(0) listener whose accept queue is full, so that the kernel drops further SYNs
    and a connect can only time out; yields its port."""
    with contextlib.ExitStack() as stack:
        listener = stack.enter_context(socket.socket())
        listener.bind(("127.0.0.1", 0))
        listener.listen(0)
        for _ in range(64):
            client = stack.enter_context(socket.socket())
            client.setblocking(False)
            if client.connect_ex(listener.getsockname()) == 0:
                continue
            if not select.select([], [client], [], 0.5)[1]:
                yield listener.getsockname()[1]
                return
        raise AssertionError("the accept queue never filled")


class ExampleTestCase(LeakCheckedTestCase):
    def assertSameOutput(self, ours, theirs, expected):
        """Our program and the tutorial's both succeeded and printed expected."""
        self.assertSucceeds(ours)
        self.assertEqual(theirs.returncode, 0, theirs.stderr.decode(errors="replace"))
        self.assertEqual(ours.stdout, expected)
        self.assertEqual(theirs.stdout, expected)

    def assertEndsByItself(self, proc):
        """The server ends with 0 on its own; returns the rest of its output."""
        out, err = proc.communicate(timeout=DEFAULT_TIMEOUT)
        self.assertEqual(proc.returncode, 0, err.decode(errors="replace"))
        return out


class NameLookupTest(ExampleTestCase):
    NAMES = ("localhost", "127.0.0.1", socket.gethostname())

    def test_get_ip_prints_what_gethostbyname_returns(self):
        for name in self.NAMES:
            with self.subTest(name=name):
                result = run_example("get_ip", name)
                self.assertSucceeds(result)
                self.assertEqual(result.stdout.decode(), socket.gethostbyname(name) + "\n")

    def test_name_lookups_print_what_the_socket_module_returns(self):
        for name in self.NAMES:
            with self.subTest(name=name):
                result = run_example("name_lookups", name, 80)
                self.assertSucceeds(result)
                self.assertEqual(result.stdout.decode().splitlines(), self.python_lookups(name, 80))

    @staticmethod
    def python_lookups(host, port):
        lines = [f"gethostname: {socket.gethostname()}",
                 f"getfqdn: {socket.getfqdn()}",
                 f"getfqdn(host): {socket.getfqdn(host)}",
                 f"gethostbyname: {socket.gethostbyname(host)}",
                 f"gethostbyname_ex: {socket.gethostbyname_ex(host)}",
                 f"gethostbyaddr: {socket.gethostbyaddr(host)}"]
        for family, kind, proto, _, sockaddr in socket.getaddrinfo(host, port):
            address = f"[{sockaddr[0]}]" if family == socket.AF_INET6 else sockaddr[0]
            lines.append(f"getaddrinfo: {family.name} {kind.name} {proto} {address}:{sockaddr[1]}")
        return lines

    def test_an_unresolvable_name_fails_as_in_python(self):
        with self.assertRaises((OSError, UnicodeError)):
            socket.gethostbyname(UNRESOLVABLE)
        self.assertFails(run_example("get_ip", UNRESOLVABLE), 1,
                         f"get_ip: gethostbyname {UNRESOLVABLE}: ")
        self.assertFails(run_example("name_lookups", UNRESOLVABLE), 1,
                         f"name_lookups: gethostbyname {UNRESOLVABLE}: ")


class QotdTest(ExampleTestCase):
    def test_an_empty_datagram_gets_the_quote(self):
        for argv in ([example("qotd_client"), "127.0.0.1"], python_argv(QOTD_CLIENT, "127.0.0.1")):
            with self.subTest(client=argv[0]):
                (code, out, err), datagram = answer_one_datagram(argv, lambda data: QUOTE)
                self.assertEqual(code, 0, err)
                self.assertEqual(out, QUOTE + b"\n")
                self.assertEqual(datagram, b"")

    def test_a_silent_server_ends_the_client_after_its_timeout(self):
        with udp_peer() as peer:
            result = run_example("qotd_client", "127.0.0.1", peer.getsockname()[1])
            self.assertEqual(peer.recv(1024), b"")
        self.assertFails(result, 1, "qotd_client: recvfrom: timed out (ETIMEDOUT)")


class DaytimeTest(ExampleTestCase):
    def test_prints_what_the_server_sends(self):
        with ThreadedServer(lambda con: con.sendall(DAYTIME)) as daytime:
            ours = run_example("daytime_client", "127.0.0.1", daytime.port)
            theirs = run_python(DAYTIME_CLIENT, "127.0.0.1", daytime.port)
        self.assertSameOutput(ours, theirs, DAYTIME + b"\n")


class ClosedPortTest(ExampleTestCase):
    def test_clients_fail_as_the_tutorials_do(self):
        port = free_port()
        for name, program in (("daytime_client", DAYTIME_CLIENT), ("echo_client", ECHO_CLIENT),
                              ("head_request", HEAD_REQUEST), ("get_request", GET_REQUEST)):
            with self.subTest(example=name):
                args = ["AF_INET"] if name == "echo_client" else []
                theirs = run_python(program, *args, "127.0.0.1", port)
                self.assertEqual(theirs.returncode, 1)
                self.assertIn(b"ConnectionRefusedError", theirs.stderr)
                self.assertFails(run_example(name, "127.0.0.1", port), 1,
                                 f"{name}: connect 127.0.0.1:{port}: Connection refused "
                                 "(ECONNREFUSED)")


class HttpTest(ExampleTestCase):
    def setUp(self):
        super().setUp()
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        self.directory = directory.name

    def write_page(self, content):
        with open(os.path.join(self.directory, "index.html"), "wb") as page:
            page.write(content)

    def test_head_request_prints_the_status_line_and_headers(self):
        self.write_page(b"<p>hello</p>" * 10)
        with page_server(self.directory) as httpd:
            port = httpd.server_address[1]
            ours = run_example("head_request", "127.0.0.1", port)
            theirs = run_python(HEAD_REQUEST, "127.0.0.1", port)
        self.assertSucceeds(ours)
        self.assertEqual(ours.stdout, theirs.stdout)
        self.assertTrue(ours.stdout.startswith(b"HTTP/1.0 200 OK\r\n"), ours.stdout)
        self.assertIn(b"\r\nContent-Length: 120\r\n", ours.stdout)
        self.assertTrue(ours.stdout.endswith(b"\r\n\r\n\n"), ours.stdout)
        self.assertEqual(httpd.requests, [("HEAD / HTTP/1.1", "127.0.0.1")] * 2)

    def test_get_request_prints_a_page_that_arrives_at_once(self):
        with http_server(OneWriteHandler) as httpd:
            port = httpd.server_address[1]
            ours = run_example("get_request", "127.0.0.1", port)
            theirs = run_python(GET_REQUEST, "127.0.0.1", port)
        self.assertSameOutput(ours, theirs, SMALL_PAGE + b"\n")
        self.assertEqual(httpd.requests, [("GET / HTTP/1.1", "127.0.0.1")] * 2)

    def test_get_request_reads_a_long_page_until_the_server_closes(self):
        content = b"<p>" + b"swimming and fishing " * 300 + b"</p>"  # no newline of its own
        self.write_page(content)
        with page_server(self.directory) as httpd:
            port = httpd.server_address[1]
            ours = run_example("get_request", "127.0.0.1", port)
            theirs = run_python(GET_REQUEST, "127.0.0.1", port)
        self.assertSucceeds(ours)
        # print() ends each recv(1024) with a newline, wherever the chunks happened to end.
        self.assertEqual(ours.stdout.replace(b"\n", b""), theirs.stdout.replace(b"\n", b""))
        header, _, body = ours.stdout.partition(b"\r\n\r\n")
        self.assertIn(b"\r\nContent-Length: %d" % len(content), header)
        self.assertEqual(body.replace(b"\n", b""), content)
        chunks = body.split(b"\n")
        self.assertEqual(chunks[-1], b"")
        self.assertGreaterEqual(len(chunks) - 1, math.ceil(len(content) / 1024))
        self.assertTrue(all(len(chunk) <= 1024 for chunk in chunks), [len(c) for c in chunks])


class EchoTest(ExampleTestCase):
    def test_echo_client_against_the_tutorial_server(self):
        for argv in ([example("echo_client")], python_argv(ECHO_CLIENT, "AF_INET")):
            with self.subTest(client=argv[0]):
                with server(python_argv(ECHO_SERVER, "AF_INET", "127.0.0.1", 0)) as (peer, port):
                    client = subprocess.run([*argv, "127.0.0.1", port], capture_output=True,
                                            timeout=DEFAULT_TIMEOUT)
                    self.assertEndsByItself(peer)
                self.assertEqual(client.returncode, 0, client.stderr)
                self.assertEqual(client.stdout, b"hello there\n")

    def test_tutorial_client_against_echo_server(self):
        for argv in ([example("echo_server")], python_argv(ECHO_SERVER, "AF_INET")):
            with self.subTest(server=argv[0]):
                with server([*argv, "localhost", 0]) as (proc, port):
                    client = run_python(ECHO_CLIENT, "AF_INET", "127.0.0.1", port)
                    self.assertEqual(self.assertEndsByItself(proc), b"")
                self.assertEqual(client.returncode, 0, client.stderr)
                self.assertEqual(client.stdout, b"hello there\n")

    def test_echo_server_serves_its_count_of_clients_and_whole_streams(self):
        payload = os.urandom(1 << 20)
        with server([example("echo_server"), "127.0.0.1", 0, 2]) as (proc, port):
            for _ in range(2):
                with socket.create_connection(("127.0.0.1", int(port)), DEFAULT_TIMEOUT) as s:
                    sender = threading.Thread(target=lambda: (s.sendall(payload),
                                                              s.shutdown(socket.SHUT_WR)))
                    sender.start()
                    echoed = recv_all(s)
                    sender.join(DEFAULT_TIMEOUT)
                self.assertEqual(echoed, payload)
            self.assertEndsByItself(proc)


class AsyncEchoTest(ExampleTestCase):
    def test_tutorial_client_gets_its_words_back_again_and_again(self):
        for argv in ([example("async_echo_server")], python_argv(ASYNC_SERVER)):
            with self.subTest(server=argv[0]):
                with server([*argv, "localhost", 0]) as (_, port):
                    for _ in range(2):
                        client = run_python(ECHO_CLIENT, "AF_INET", "127.0.0.1", port)
                        self.assertEqual(client.returncode, 0, client.stderr)
                        self.assertEqual(client.stdout, b"hello there\n")

    def test_echo_client_against_the_tutorial_asyncio_server(self):
        with server(python_argv(ASYNC_SERVER, "127.0.0.1", 0)) as (_, port):
            result = run_example("echo_client", "127.0.0.1", port)
        self.assertSucceeds(result)
        self.assertEqual(result.stdout, b"hello there\n")

    def test_clients_are_served_at_once_each_with_one_read(self):
        # Ours is told to serve 3 clients and then end; the tutorial's serves forever.
        for argv, ends in (([example("async_echo_server"), "127.0.0.1", 0, 3], True),
                           (python_argv(ASYNC_SERVER, "127.0.0.1", 0), False)):
            with self.subTest(server=argv[0]):
                with server(argv) as (proc, port):
                    self.assertEqual(self.talk_in_reverse(int(port), 3), [b"0", b"1", b"2"])
                    if ends:
                        self.assertEndsByItself(proc)

    @staticmethod
    def talk_in_reverse(port, count):
        """Connects count clients, then has the last one speak first: a server that served
        one client at a time would still be waiting on the first."""
        with contextlib.ExitStack() as stack:
            clients = [stack.enter_context(socket.create_connection(("127.0.0.1", port),
                                                                    DEFAULT_TIMEOUT))
                       for _ in range(count)]
            replies = {}
            for index in reversed(range(count)):
                clients[index].sendall(b"%d" % index)
                replies[index] = recv_all(clients[index])  # one read, then the server closes
            return [replies[index] for index in range(count)]


class ThreadedServerClientTest(ExampleTestCase):
    def expected_lines(self, clients):
        return ([r"Server listening\.\.\."] +
                [r"Connected to \('127\.0\.0\.1', \d+\)", r"Received: b'Hello from client'"] *
                clients + [r"Received: b'Hello from server'"])

    def test_prints_what_the_tutorial_shows(self):
        result = run_example("threaded_server_client", "127.0.0.1", free_port())
        self.assertSucceeds(result)
        lines = result.stdout.decode().splitlines()
        self.assertEqual(len(lines), 4, lines)
        for line, pattern in zip(lines, self.expected_lines(1)):
            self.assertRegex(line, f"^{pattern}$")

    def test_the_server_thread_also_answers_the_tutorials_client(self):
        port = free_port()
        with background([example("threaded_server_client"), "127.0.0.1", port, 2],
                        stdin=subprocess.DEVNULL) as proc:
            self.assertEqual(read_line(proc.stdout), b"Server listening...\n")
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
                s.settimeout(DEFAULT_TIMEOUT)
                s.connect(("127.0.0.1", port))
                s.send(b"Hello from client")
                self.assertEqual(s.recv(1024), b"Hello from server")
            rest = self.assertEndsByItself(proc).decode().splitlines()
        # The two clients' lines interleave in any order, but each line is whole.
        self.assertEqual(len(rest), 5, rest)
        for pattern in set(self.expected_lines(2)[1:]):
            self.assertEqual(sum(bool(re.fullmatch(pattern, line)) for line in rest),
                             self.expected_lines(2).count(pattern), (pattern, rest))


class SelectServerTest(ExampleTestCase):
    def test_serves_clients_that_wait_on_select(self):
        with server([example("select_server"), "127.0.0.1", 0, 3]) as (proc, port):
            with contextlib.ExitStack() as stack:
                sockets = [stack.enter_context(socket.create_connection(("127.0.0.1", int(port)),
                                                                        DEFAULT_TIMEOUT))
                           for _ in range(3)]
                for index, sock in reversed(list(enumerate(sockets))):
                    sock.sendall(b"message %d" % index)
                received = {}
                # The tutorial's client side: select over all the sockets, read the ready ones.
                while len(received) < len(sockets):
                    readable, _, _ = select.select(sockets, [], [], DEFAULT_TIMEOUT)
                    self.assertTrue(readable, "no answer within the timeout")
                    for sock in readable:
                        received[sockets.index(sock)] = sock.recv(1024)
            self.assertEqual(received, {i: b"message %d" % i for i in range(3)})
            self.assertEndsByItself(proc)

    def test_tutorial_echo_client(self):
        with server([example("select_server"), "localhost", 0, 1]) as (proc, port):
            client = run_python(ECHO_CLIENT, "AF_INET", "127.0.0.1", port)
            self.assertEndsByItself(proc)
        self.assertEqual(client.stdout, b"hello there\n")


class NonBlockingClientTest(ExampleTestCase):
    def test_no_answer_yet_is_reported_as_the_tutorial_does(self):
        received = []
        with ThreadedServer(lambda con: received.append(recv_all(con))) as silent:
            ours = run_example("nonblocking_client", "127.0.0.1", silent.port)
            theirs = run_python(NONBLOCKING_CLIENT, "127.0.0.1", silent.port)
        self.assertSameOutput(ours, theirs, b"Timeout: No data available\n")
        self.assertEqual(received, [b"Hello, server!"] * 2)

    def test_a_refused_connection_fails_at_send_as_in_the_tutorial(self):
        port = free_port()
        theirs = run_python(NONBLOCKING_CLIENT, "127.0.0.1", port)
        self.assertEqual(theirs.returncode, 1)
        self.assertIn(b"\nConnectionRefusedError: ", theirs.stderr)
        self.assertFails(run_example("nonblocking_client", "127.0.0.1", port), 1,
                         "nonblocking_client: send: Connection refused (ECONNREFUSED)")


class SocketOptionsTest(ExampleTestCase):
    def test_prints_what_getsockopt_reports(self):
        for args in ([], [32768]):
            with self.subTest(args=args):
                ours = run_example("socket_options", *args)
                theirs = run_python(SOCKET_OPTIONS, *args)
                self.assertSameOutput(ours, theirs, theirs.stdout)
                self.assertEqual(len(ours.stdout.splitlines()), 5)


class TimeoutsTest(ExampleTestCase):
    def both(self, port, seconds=1):
        """Ours and the tutorial's connect_ex, each with how long it took."""
        results = []
        for program in (lambda: run_example("timeouts", "127.0.0.1", port, seconds),
                        lambda: run_python(TIMEOUTS, "127.0.0.1", port, seconds)):
            start = time.monotonic()
            results.append((program(), time.monotonic() - start))
        return results

    def test_an_open_port(self):
        with ThreadedServer(lambda con: None) as open_port:
            (ours, _), (theirs, _) = self.both(open_port.port)
        self.assertSameOutput(ours, theirs, b"Port %d: \t Open\n" % open_port.port)

    def test_a_refused_connection_names_its_errno(self):
        port = free_port()
        (ours, _), (theirs, _) = self.both(port)
        self.assertSameOutput(ours, theirs, b"Port %d: \t Closed\nReason: ECONNREFUSED\n" % port)

    def test_a_connect_that_gets_no_answer_ends_after_the_timeout(self):
        with full_accept_queue() as port:
            (ours, ours_took), (theirs, theirs_took) = self.both(port)
        self.assertSucceeds(ours)
        self.assertEqual(ours.stdout.splitlines()[0], theirs.stdout.splitlines()[0])
        self.assertEqual(ours.stdout.splitlines()[0], b"Port %d: \t Closed" % port)
        self.assertGreaterEqual(ours_took, 1)
        self.assertGreaterEqual(theirs_took, 1)
        self.assertLess(ours_took, DEFAULT_TIMEOUT / 2)

    def test_a_connect_that_gets_no_answer_names_the_errno_python_does(self):
        # CPython's connect_ex reports its own timeout as EWOULDBLOCK (EAGAIN), as the
        # tutorial shows; so does sockit's.
        with full_accept_queue() as port:
            (ours, _), (theirs, _) = self.both(port)
        self.assertEqual(theirs.stdout.splitlines()[1], b"Reason: EAGAIN")
        self.assertEqual(ours.stdout, theirs.stdout)


class UnixSocketTest(ExampleTestCase):
    def test_tutorial_client_against_the_server_whose_socket_is_then_removed(self):
        with server([example("unix_socket"), "server"]) as (proc, path):
            self.assertTrue(stat.S_ISSOCK(os.stat(path).st_mode), path)
            self.assertEqual(os.path.dirname(os.path.dirname(path)), tempfile.gettempdir())
            client = run_python(ECHO_CLIENT, "AF_UNIX", path)
            self.assertEndsByItself(proc)
        self.assertEqual(client.returncode, 0, client.stderr)
        self.assertEqual(client.stdout, b"hello there\n")
        self.assertFalse(os.path.exists(os.path.dirname(path)), "the directory is left behind")

    def test_client_against_the_tutorial_server(self):
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "echo.sock")
            with server(python_argv(ECHO_SERVER, "AF_UNIX", path)) as (peer, _):
                result = run_example("unix_socket", "client", path)
                self.assertEndsByItself(peer)
        self.assertSucceeds(result)
        self.assertEqual(result.stdout, b"hello there\n")

    def test_client_without_a_server(self):
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "nobody.sock")
            self.assertFails(run_example("unix_socket", "client", path), 1,
                             f"unix_socket: connect unix:{path}: No such file or directory")


@unittest.skipUnless(has_ipv6_loopback(), "no IPv6 loopback")
class Ipv6EchoTest(ExampleTestCase):
    def test_tutorial_client_against_the_server(self):
        with server([example("ipv6_echo"), "server", "::1", 0]) as (proc, port):
            client = run_python(ECHO_CLIENT, "AF_INET6", "::1", port)
            self.assertEndsByItself(proc)
        self.assertEqual(client.returncode, 0, client.stderr)
        self.assertEqual(client.stdout, b"hello there\n")

    def test_client_against_the_tutorial_server(self):
        with server(python_argv(ECHO_SERVER, "AF_INET6", "::1", 0)) as (peer, port):
            result = run_example("ipv6_echo", "client", "::1", port)
            self.assertEndsByItself(peer)
        self.assertSucceeds(result)
        self.assertEqual(result.stdout, b"hello there\n")


class UdpEchoTest(ExampleTestCase):
    def test_client_prints_the_echo_of_its_message(self):
        (code, out, err), datagram = answer_one_datagram(
            [example("udp_echo"), "client", "127.0.0.1"], lambda data: data)
        self.assertEqual(code, 0, err)
        self.assertEqual(datagram, b"hello there")
        self.assertEqual(out, b"hello there\n")

    def test_server_answers_each_datagram_to_its_sender(self):
        with server([example("udp_echo"), "server", "127.0.0.1", 0, 2]) as (proc, port):
            client = run_python(UDP_CLIENT, "127.0.0.1", port, "hello there")
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.settimeout(DEFAULT_TIMEOUT)
                s.sendto(b"", ("127.0.0.1", int(port)))
                data, address = s.recvfrom(1024)
            self.assertEndsByItself(proc)
        self.assertEqual(client.returncode, 0, client.stderr)
        self.assertEqual(client.stdout, b"hello there\n")
        self.assertEqual((data, address), (b"", ("127.0.0.1", int(port))))


class UsageTest(ExampleTestCase):
    def test_bad_arguments_get_one_line(self):
        for argv, message in ((["timeouts"], "usage: timeouts HOST PORT [SECONDS]"),
                              (["unix_socket"], "usage: unix_socket server"),
                              (["udp_echo", "serve"], "usage: udp_echo server"),
                              (["get_ip", "a", "b"], "usage: get_ip [NAME]"),
                              (["echo_client", "127.0.0.1", "x"],
                               "echo_client: port: port is not a number")):
            with self.subTest(argv=argv):
                self.assertFails(run_example(*argv), 1, message)


if __name__ == "__main__":
    unittest.main()
