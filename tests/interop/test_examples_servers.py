"""The examples' scanners and servers (the tutorials' programs in C++) against Python peers
that behave like the tutorials' counterparts, on loopback only.

The scanners scan listeners on OS-chosen ports of a /24 of 127.0.0.0/8 picked at random, so
that no other test's listener on 127.0.0.1 is ever reached, and must find exactly what the
tutorials' Python scanners find on the same targets. The chat server serves Python clients
that leave cleanly and with a reset; the tutorial's own chat server runs the same scenario to
show the bug the example fixes. The web servers serve http.client, urllib and curl, and the
simple one answers as the tutorial's Python original does.
"""
import http.client
import os
import random
import re
import socket
import subprocess
import sys
import unittest
import urllib.error
import urllib.request

from sockit_test import DEFAULT_TIMEOUT, LeakCheckedTestCase, background, read_line, reset

EXAMPLES = os.environ.get("SOCKIT_EXAMPLES", "examples")

# The tutorials' scanners as they wrote them, but with the target and ranges from argv. Both
# try a port with the same portscan(port), which connects to the global target.
PORTSCAN = """
def portscan(port):
    try:
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        conn = s.connect((target, port))
        return True
    except:
        return False
"""

SERIAL_SCANNER = """
import socket
import sys

target = sys.argv[1]
""" + PORTSCAN + """
for port in range(int(sys.argv[2]), int(sys.argv[3]) + 1):
    if portscan(port):
        print("Port", port, "is open!")
    else:
        print("Port", port, "is closed.")
"""

# The workers record each port as one tuple (the tutorial's two parallel lists can pair a port
# with another's status), print only the summary (their per-port prints tear each other
# apart), and end with the queue, as the tutorial's never do.
THREADED_SCANNER = """
import socket
import queue
import sys
import threading

ports = []
target = sys.argv[1]
q = queue.Queue()
for x in range(int(sys.argv[2]), int(sys.argv[3]) + 1):
    q.put(x)
""" + PORTSCAN + """
def worker():
    while True:
        port = q.get()
        if portscan(port):
            ports.append((port, 'Open'))
        else:
            ports.append((port, 'Closed'))
        q.task_done()

for x in range(30):
    t = threading.Thread(target=worker, daemon=True)
    t.start()
q.join()

for number, status in ports:
    if status == 'Open':
        print("Port {} is {}".format(number, status))
"""

NETWORK_SCANNER = """
import socket
import sys

NETWORK = sys.argv[1]
PORT_RANGE = range(int(sys.argv[4]), int(sys.argv[5]) + 1)

for host in (NETWORK + str(i) for i in range(int(sys.argv[2]), int(sys.argv[3]) + 1)):
    for port in PORT_RANGE:
        try:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.settimeout(0.5)
            result = sock.connect_ex((host, port))

            if result == 0:
                print(f"{host}:{port} is open")

            sock.close()
        except:
            pass
"""

# The tutorial's servers as they wrote them, but on a port the OS picks, which they print.
CHAT_SERVER = """
import socket
import threading

SERVER_ADDRESS = ('127.0.0.1', 0)

sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.bind(SERVER_ADDRESS)
sock.listen(1)
print(f"Server is listening on {SERVER_ADDRESS[0]}:{sock.getsockname()[1]}")

def handle_client(client_sock, client_address):
    print(f"New client connected: {client_address[0]}:{client_address[1]}")

    while True:
        data = client_sock.recv(1024).decode()

        if not data:
            print(f"Client {client_address[0]}:{client_address[1]} disconnected")
            client_sock.close()
            break

        for sock, address in client_socks:
            if sock != client_sock:
                sock.send(data.encode())

client_socks = []
while True:
    client_sock, client_address = sock.accept()
    client_socks.append((client_sock, client_address))
    threading.Thread(target=handle_client, args=(client_sock, client_address)).start()
"""

SIMPLE_WEB_SERVER = '''
import socket

SERVER_ADDRESS = ('127.0.0.1', 0)

RESPONSE = """HTTP/1.1 200 OK
Content-Type: text/html

<!DOCTYPE html>
<html>
<head>
    <title>Simple Web Server</title>
</head>
<body>
    <h1>Hello, World!</h1>
</body>
</html>
"""

sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
sock.bind(SERVER_ADDRESS)
sock.listen(1)
print(f"Server is listening on {SERVER_ADDRESS[0]}:{sock.getsockname()[1]}")

while True:
    client_sock, client_address = sock.accept()
    print(f"New client connected: {client_address[0]}:{client_address[1]}")
    request_data = client_sock.recv(1024).decode()
    print(f"Received request: {request_data}")
    client_sock.send(RESPONSE.encode())
    client_sock.close()
'''

LISTENING = re.compile(r"Server is listening on 127\.0\.0\.1:(\d+)\n")
# Ignores http_proxy and friends: every request here goes to loopback.
URL_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def example(name, *args):
    """The argv of the example called name."""
    return [os.path.join(EXAMPLES, name), *map(str, args)]


def run(argv):
    return subprocess.run(argv, capture_output=True, timeout=DEFAULT_TIMEOUT)


def python(script, *args):
    """The argv that runs a Python script, unbuffered so that its prints arrive at once."""
    return [sys.executable, "-u", "-c", script, *map(str, args)]


def name(sock):
    """"127.0.0.1:PORT", the form both the examples and the tutorials print an address in."""
    return "%s:%d" % sock.getsockname()


def bound_port(sock):
    return sock.getsockname()[1]


def random_network():
    """"127.X.Y.": a /24 of loopback addresses no other test listens on (they use 127.0.0.1)."""
    return f"127.{random.randint(1, 254)}.{random.randint(0, 255)}."


def clustered_ports(host, count, pool=64):
    """count sockets bound (not listening) on host to ports the OS chose: of pool such ports,
    the count closest together, so that a scan of the range they span stays short."""
    socks, chosen = [], []
    try:
        for _ in range(pool):
            socks.append(socket.socket())
            socks[-1].bind((host, 0))
        socks.sort(key=bound_port)
        start = min(range(pool - count + 1),
                    key=lambda i: bound_port(socks[i + count - 1]) - bound_port(socks[i]))
        chosen = socks[start:start + count]
        return chosen
    finally:
        for s in socks:
            if s not in chosen:
                s.close()


def receive(sock, size):
    """size bytes from sock (fewer if the peer closes first)."""
    data = b""
    while len(data) < size and (chunk := sock.recv(size - len(data))):
        data += chunk
    return data


def found_ports(text, pattern):
    """The ports of the lines of text that match pattern, whose one group is the port."""
    return {int(port) for port in re.findall(pattern, text, re.M)}



class ExampleTestCase(LeakCheckedTestCase):

    def serve(self, argv):
        """Starts a server that prints its listening line first; returns (process, port)."""
        proc = self.enterContext(background(argv, stdin=subprocess.DEVNULL))
        line = read_line(proc.stdout).decode()
        match = LISTENING.fullmatch(line)
        self.assertIsNotNone(match, f"not a listening line: {line!r}")
        return proc, int(match[1])

    def connect(self, port):
        sock = socket.create_connection(("127.0.0.1", port), timeout=DEFAULT_TIMEOUT)
        self.addCleanup(sock.close)
        return sock

    def expect_in_output(self, proc, *needles):
        """Reads proc's stdout until every needle has appeared, whatever the line breaks: the
        tutorial's threaded server prints from several threads, and its lines can interleave."""
        seen = ""
        while not all(needle in seen for needle in needles):
            line = read_line(proc.stdout)
            self.assertTrue(line, f"output ended before {needles}: {seen!r}")
            seen += line.decode()

    def expect_line(self, proc, line):
        self.assertEqual(read_line(proc.stdout).decode(), line + "\n")

    def assertExits(self, proc):
        """The process exits 0 by itself; its stderr is shown when not."""
        if proc.wait(timeout=DEFAULT_TIMEOUT) != 0:
            self.fail(f"exit {proc.returncode}: {proc.stderr.read().decode(errors='replace')}")

    def assertFailsWithOneLine(self, argv, stderr_has):
        self.assertFails(run(argv), 1, stderr_has)


class ScannerTest(ExampleTestCase):

    def targets(self, layout, count=6):
        """Hosts of a fresh loopback /24 (numbers as layout's keys) that each hold the same
        count ports the OS chose, listening on the indexes layout gives and bound but closed
        on the others. Returns the network ("127.X.Y."), the ports ascending, the set of open
        "host:port" names and the sockets of each host; they close when the test ends."""
        network = random_network()
        first, *others = sorted(layout)
        held = {first: clustered_ports(network + str(first), count)}
        for sock in held[first]:
            self.addCleanup(sock.close)
        ports = [bound_port(sock) for sock in held[first]]
        for number in others:
            held[number] = [self.enterContext(socket.socket()) for _ in ports]
            for sock, port in zip(held[number], ports):
                sock.bind((network + str(number), port))
        opened = set()
        for number, indexes in layout.items():
            for i in indexes:
                held[number][i].listen()
                opened.add(name(held[number][i]))
        return network, ports, opened, held

    def test_port_scanner_finds_what_the_tutorials_scanner_finds(self):
        network, ports, opened, _ = self.targets({1: [0, 2, 3, 5]})
        target = network + "1"
        scan_range = (target, ports[0] - 1, ports[-1] + 1)

        ours = run(example("port_scanner", *scan_range))
        theirs = run(python(SERIAL_SCANNER, *scan_range))

        self.assertSucceeds(ours)
        self.assertSucceeds(theirs)
        # One line per port, in order, word for word what the tutorial's scanner prints.
        self.assertEqual(ours.stdout.decode(), theirs.stdout.decode())
        self.assertEqual(len(ours.stdout.splitlines()), ports[-1] - ports[0] + 3)
        found = found_ports(ours.stdout.decode(), r"^Port (\d+) is open!$")
        self.assertEqual({f"{target}:{port}" for port in found}, opened)

    def test_threaded_port_scanner_finds_what_the_tutorials_scanner_finds(self):
        network, ports, opened, _ = self.targets({1: [1, 2, 4]})
        target = network + "1"
        scan_range = (target, ports[0], ports[-1])

        ours = run(example("threaded_port_scanner", *scan_range))  # 30 threads by default
        theirs = run(python(THREADED_SCANNER, *scan_range))

        self.assertSucceeds(ours)
        self.assertSucceeds(theirs)
        *lines, summary = ours.stdout.decode().splitlines()
        # Every port exactly once, each on a line of its own, in whatever order threads finish.
        statuses = [re.fullmatch(r"Port (\d+) is (open!|closed\.)", line) for line in lines]
        self.assertTrue(all(statuses), lines)
        self.assertEqual(sorted(int(match[1]) for match in statuses),
                         list(range(ports[0], ports[-1] + 1)))
        found = {int(match[1]) for match in statuses if match[2] == "open!"}
        self.assertEqual(found, found_ports(theirs.stdout.decode(), r"^Port (\d+) is Open$"))
        self.assertEqual({f"{target}:{port}" for port in found}, opened)
        self.assertEqual(summary, f"Open ports: {len(opened)}")

    def test_threaded_port_scanner_with_more_threads_than_ports(self):
        network, ports, opened, _ = self.targets({1: [0]}, count=2)
        span = ports[1] - ports[0] + 1
        ours = run(example("threaded_port_scanner", network + "1", ports[0], ports[1], span + 8))
        self.assertSucceeds(ours)
        *lines, summary = ours.stdout.decode().splitlines()
        self.assertEqual(len(lines), span)
        self.assertEqual(found_ports("\n".join(lines), r"^Port (\d+) is open!$"), {ports[0]})
        self.assertEqual(summary, "Open ports: 1")

    def test_network_scanner_finds_what_the_tutorials_scanner_finds(self):
        # Host 3 has no open port, and one port whose listener's queue is full: the kernel
        # drops connection attempts to it, so only the half-second timeout ends them.
        network, ports, opened, held = self.targets({1: [0, 3], 2: [1, 5], 3: []})
        jammed = held[3][2]
        jammed.listen(0)
        self.enterContext(socket.create_connection(jammed.getsockname(), DEFAULT_TIMEOUT))
        scan = (network, 1, 3, ports[0], ports[-1])

        ours = run(example("network_scanner", *scan))
        theirs = run(python(NETWORK_SCANNER, *scan))

        self.assertSucceeds(ours)
        self.assertSucceeds(theirs)
        self.assertEqual(ours.stdout.decode(), theirs.stdout.decode())
        found = set(re.findall(r"^(\S+) is open$", ours.stdout.decode(), re.M))
        self.assertEqual(found, opened)

    def test_bad_arguments_are_one_line_errors(self):
        self.assertFailsWithOneLine(example("port_scanner", "127.0.0.1", 1), "usage: port_scanner")
        self.assertFailsWithOneLine(example("port_scanner", "127.0.0.1", 1, 70000),
                                    "port_scanner: last port: ")
        self.assertFailsWithOneLine(example("threaded_port_scanner", "127.0.0.1", 1, 2, "many"),
                                    "usage: threaded_port_scanner")
        self.assertFailsWithOneLine(example("network_scanner", "127.0.0.", 1),
                                    "usage: network_scanner")


class ChatServerTest(ExampleTestCase):

    def join(self, proc, port, connected):
        """A new client, once the server has announced it among `connected` clients."""
        client = self.connect(port)
        self.expect_line(proc, f"New client connected: {name(client)} ({connected} connected)")
        return client

    def assertBroadcast(self, sender, receivers, message):
        sender.sendall(message)
        for receiver in receivers:
            self.assertEqual(receive(receiver, len(message)), message)

    def test_messages_reach_every_other_client_and_leavers_are_gone_at_once(self):
        proc, port = self.serve(example("chat_server", "127.0.0.1", 0, 4))
        a, b, c = (self.join(proc, port, count) for count in (1, 2, 3))

        self.assertBroadcast(a, [b, c], b"hello from a")
        # a's next bytes are b's message: the server sent a nothing of its own.
        self.assertBroadcast(b, [a, c], b"hello from b")

        client_name = name(c)
        c.close()
        self.expect_line(proc, f"Client disconnected: {client_name} (2 connected)")
        # In the tutorial's server, a's thread dies here sending to c's closed socket.
        self.assertBroadcast(a, [b], b"after c left")
        self.assertBroadcast(b, [a], b"b still hears a")

        d = self.join(proc, port, 3)
        client_name = name(d)
        reset(d)
        self.expect_line(proc, f"Client disconnected: {client_name} (2 connected)")
        self.assertBroadcast(a, [b], b"after d was reset")
        self.assertBroadcast(b, [a], b"a still hears b")

        a.close()
        b.close()
        self.assertExits(proc)
        # The reset is the one error the server met, and it ended d's thread only.
        errors = proc.stderr.read().decode().splitlines()
        self.assertEqual(len(errors), 1, errors)
        self.assertIn("(ECONNRESET)", errors[0])

    def test_a_reset_client_is_dropped_while_the_others_talk(self):
        proc, port = self.serve(example("chat_server", "127.0.0.1", 0, 3))
        a, b, c = (self.join(proc, port, count) for count in (1, 2, 3))
        client_name = name(c)
        reset(c)
        # Racing the reset: whichever of c's recv and a send to c meets it first, c leaves
        # the list, and a and b talk on.
        for n in range(20):
            self.assertBroadcast(a, [b], b"a%02d" % n)
            self.assertBroadcast(b, [a], b"b%02d" % n)
        self.expect_line(proc, f"Client disconnected: {client_name} (2 connected)")
        a.close()
        b.close()
        self.assertExits(proc)

    def test_the_tutorials_server_loses_a_sender_after_a_client_leaves(self):
        # The scenario above against the tutorial's own server shows the bug the example
        # fixes: the departed client stays listed, and sending to it kills a's thread.
        proc, port = self.serve(python(CHAT_SERVER))
        a, b, c = (self.connect(port) for _ in range(3))
        self.expect_in_output(proc, *(f"New client connected: {name(x)}" for x in (a, b, c)))
        client_name = name(c)
        c.close()
        self.expect_in_output(proc, f"Client {client_name} disconnected")
        self.assertBroadcast(a, [b], b"after c left")
        # The first send to c after its close may still succeed (c's kernel answers it with a
        # reset): a talks on, each line awaited at b, until one no longer arrives because a's
        # thread died on its send to c. Bounded: the second send at the latest meets the reset.
        b.settimeout(2)
        for n in range(5):
            a.sendall(b"again %d" % n)
            try:
                receive(b, len(b"again %d" % n))
            except socket.timeout:
                break
        # The tutorial prints "disconnected" before it closes the socket, so the send to the
        # departed client fails in one of three ways depending on timing; each is the bug.
        failures = (b"Bad file descriptor", b"Broken pipe", b"Connection reset")
        traceback = b""
        while not any(failure in traceback for failure in failures):
            line = read_line(proc.stderr)
            self.assertTrue(line, f"the tutorial's server printed no error: {traceback!r}")
            traceback += line

    def test_serves_forever_without_a_count(self):
        proc, port = self.serve(example("chat_server", "127.0.0.1", 0))
        for round_ in range(3):
            a, b = (self.join(proc, port, count) for count in (1, 2))
            self.assertBroadcast(a, [b], b"round %d" % round_)
            for left, client in enumerate((a, b)):
                client_name = name(client)
                client.close()
                self.expect_line(proc, f"Client disconnected: {client_name} ({1 - left} connected)")
        self.assertIsNone(proc.poll())

    def test_a_port_in_use_is_a_one_line_error(self):
        taken = self.enterContext(socket.create_server(("127.0.0.1", 0)))
        self.assertFailsWithOneLine(example("chat_server", "127.0.0.1", bound_port(taken)),
                                    "chat_server: bind 127.0.0.1:")


class WebServerTest(ExampleTestCase):

    def get_with_http_client(self, port, path="/"):
        """(status, headers as a dict, body) from http.client."""
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=DEFAULT_TIMEOUT)
        self.addCleanup(connection.close)
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
        connection.close()
        return response.status, dict(response.getheaders()), body

    def get_with_urllib(self, port, path="/"):
        """(status, Content-Type, body) from urllib, which raises on a 4xx status."""
        url = f"http://127.0.0.1:{port}{path}"
        try:
            with URL_OPENER.open(url, timeout=DEFAULT_TIMEOUT) as response:
                return response.status, response.headers["Content-Type"], response.read()
        except urllib.error.HTTPError as error:
            with error:
                return error.code, error.headers["Content-Type"], error.read()

    def get_with_curl(self, port, path="/"):
        """(status, Content-Type, body) from curl."""
        result = run(["curl", "-sS", "--noproxy", "*", "--max-time", str(DEFAULT_TIMEOUT),
                      "-w", r"\n%{http_code} %{content_type}", f"http://127.0.0.1:{port}{path}"])
        self.assertSucceeds(result)
        body, _, trailer = result.stdout.rpartition(b"\n")
        status, content_type = trailer.decode().split(" ", 1)
        return int(status), content_type, body

    def test_simple_web_server_answers_as_the_tutorials(self):
        proc, port = self.serve(example("simple_web_server", "127.0.0.1", 0, 3))
        _, their_port = self.serve(python(SIMPLE_WEB_SERVER))

        for get in (self.get_with_http_client, self.get_with_urllib, self.get_with_curl):
            ours, theirs = get(port), get(their_port)
            self.assertEqual(ours, theirs, get.__name__)
            self.assertEqual(ours[0], 200)
            self.assertIn(b"<h1>Hello, World!</h1>", ours[2])

        self.assertExits(proc)
        requests = re.findall(r"^Received request: GET / HTTP/1\.1\r$", proc.stdout.read().decode(),
                              re.M)
        self.assertEqual(len(requests), 3)

    def test_threaded_http_server_serves_while_a_client_stalls(self):
        proc, port = self.serve(example("threaded_http_server", "127.0.0.1", 0, 7))
        # Half a request, held while the others are served: only a server that gives each
        # connection a thread of its own answers them before this one.
        stalled = self.connect(port)
        stalled.sendall(b"GET / HT")

        status, headers, body = self.get_with_http_client(port)
        self.assertEqual(status, 200)
        self.assertEqual(headers["Content-Length"], str(len(body)))
        self.assertEqual(headers["Connection"], "close")
        self.assertEqual(headers["Content-Type"], "text/html")
        self.assertIn(b"<h1>Hello!</h1>", body)
        status, headers, missing = self.get_with_http_client(port, "/missing")
        self.assertEqual(status, 404)
        self.assertEqual(headers["Content-Length"], str(len(missing)))
        self.assertEqual(headers["Connection"], "close")
        self.assertEqual(self.get_with_urllib(port), (200, "text/html", body))
        self.assertEqual(self.get_with_urllib(port, "/nope"), (404, "text/html", missing))
        self.assertEqual(self.get_with_curl(port), (200, "text/html", body))
        self.assertEqual(self.get_with_curl(port, "/index.html"), (404, "text/html", missing))

        stalled.sendall(b"TP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        reply = b"".join(iter(lambda: stalled.recv(4096), b""))
        self.assertTrue(reply.startswith(b"HTTP/1.1 200 OK\r\n"), reply)
        self.assertTrue(reply.endswith(b"\r\n\r\n" + body), reply)

        self.assertExits(proc)
        log = proc.stdout.read().decode().splitlines()
        self.assertEqual(sorted(line.split(" ", 1)[1] for line in log),
                         ["GET / 200"] * 4 + ["GET /index.html 404", "GET /missing 404",
                                              "GET /nope 404"])

    def test_a_client_that_sends_nothing_gets_nothing(self):
        proc, port = self.serve(example("threaded_http_server", "127.0.0.1", 0, 1))
        silent = self.connect(port)
        silent.shutdown(socket.SHUT_WR)
        self.assertEqual(silent.recv(4096), b"")
        self.assertExits(proc)

    def test_a_port_in_use_is_a_one_line_error(self):
        taken = self.enterContext(socket.create_server(("127.0.0.1", 0)))
        for server in ("simple_web_server", "threaded_http_server"):
            self.assertFailsWithOneLine(example(server, "127.0.0.1", bound_port(taken)),
                                        f"{server}: bind 127.0.0.1:")


if __name__ == "__main__":
    unittest.main()
