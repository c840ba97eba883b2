"""Shared helpers of sockit's Python tests: the binary under test and loopback peers.

Every peer binds port 0 on loopback and is stopped by the test that started it.
"""
import contextlib
import datetime
import os
import re
import resource
import select
import signal
import socket
import struct
import subprocess
import threading
import time
import unittest

SOCKIT = os.environ.get("SOCKIT_BIN", "sockit")
# Generous: sanitizer builds are slow, and a hang must still end the test.
DEFAULT_TIMEOUT = 30
# A name no resolver can answer, rejected by the resolver itself (an empty label), so a test
# of an unresolvable name sends no DNS query off this machine.
UNRESOLVABLE = "nosuch..invalid"


def run(*args, input=None, timeout=DEFAULT_TIMEOUT, **kwargs):
    """Runs `sockit ARGS...` to completion and returns the CompletedProcess (bytes)."""
    return subprocess.run([SOCKIT, *map(str, args)], input=input, capture_output=True,
                          timeout=timeout, **kwargs)


def run_failing_stdout(how, *args, input=None, timeout=DEFAULT_TIMEOUT):
    """Runs `sockit ARGS...` to completion with a standard output that fails every write:
    "full" (/dev/full, ENOSPC), "pipe" (a pipe whose reader has gone, EPIPE) or "closed"
    (descriptor 1 closed). Returns the CompletedProcess, its stderr captured."""
    argv = [SOCKIT, *map(str, args)]
    options = dict(input=input, stderr=subprocess.PIPE, timeout=timeout)
    if how == "full":
        with open("/dev/full", "wb") as full:
            return subprocess.run(argv, stdout=full, **options)
    if how == "pipe":
        reader, writer = os.pipe()
        os.close(reader)
        try:
            return subprocess.run(argv, stdout=writer, **options)
        finally:
            os.close(writer)
    assert how == "closed", how
    return subprocess.run(argv, stdout=subprocess.DEVNULL, preexec_fn=lambda: os.close(1),
                          **options)


def start(*args, **kwargs):
    """Starts `sockit ARGS...` with pipes on stdin, stdout and stderr."""
    return subprocess.Popen([SOCKIT, *map(str, args)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)


def free_port(kind=socket.SOCK_STREAM, host="127.0.0.1"):
    """A port the OS just handed out on host; the socket is closed before returning."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, kind) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def wait_listening(port, host="127.0.0.1", proc=None):
    """Waits until something accepts on host:port (bounded), failing if proc exits first."""
    deadline = time.monotonic() + DEFAULT_TIMEOUT
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"server exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
            return
        time.sleep(0.05)
    raise AssertionError(f"nothing listens on {host}:{port}")


def stop(proc):
    """Ends a peer the test started: SIGTERM, then SIGKILL if it outlives the timeout."""
    proc.terminate()
    try:
        proc.wait(timeout=DEFAULT_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def openssl(*args, cwd):
    """Runs the openssl CLI in cwd and returns its output (text); AssertionError with what it
    said when it fails."""
    result = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True,
                            timeout=DEFAULT_TIMEOUT)
    if result.returncode != 0:
        raise AssertionError(f"openssl {' '.join(args)}: {result.stderr.decode()}")
    return result.stdout.decode()


def fingerprint_of(pem_text):
    """The SHA-256 fingerprint ("AB:CD:...") of the first certificate in pem_text (bytes)."""
    result = subprocess.run(["openssl", "x509", "-fingerprint", "-sha256", "-noout"],
                            input=pem_text, capture_output=True, timeout=DEFAULT_TIMEOUT,
                            check=True)
    return result.stdout.decode().strip().partition("=")[2].upper()


def make_certificates(directory):
    """A CA, and signed by it a server certificate for localhost and 127.0.0.1 and a client
    certificate (its key also encrypted with the password s3cret)."""
    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *key, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
            "-subj", "/CN=sockit test CA", cwd=directory)
    openssl("req", *key, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost",
            cwd=directory)
    with open(os.path.join(directory, "ext.cnf"), "w") as f:
        f.write("subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
    openssl("x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "ext.cnf",
            cwd=directory)
    openssl("req", *key, "-keyout", "client.key", "-out", "client.csr", "-subj", "/CN=client",
            cwd=directory)
    with open(os.path.join(directory, "client.cnf"), "w") as f:
        f.write("extendedKeyUsage=clientAuth\nbasicConstraints=CA:FALSE\n")
    openssl("x509", "-req", "-in", "client.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
            "-CAcreateserial", "-out", "client.pem", "-days", "2", "-extfile", "client.cnf",
            cwd=directory)
    openssl("pkey", "-in", "client.key", "-aes256", "-passout", "pass:s3cret", "-out",
            "client-encrypted.key", cwd=directory)


def has_ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


class ThreadedServer:
    """A TCP server on a loopback port 0 that runs handler(conn) for each client in a thread.

    Use as a context manager; .port is the bound port, .connections counts accepted clients.
    """

    def __init__(self, handler, host="127.0.0.1", family=socket.AF_INET):
        self.handler = handler
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._threads = []
        self._acceptor = threading.Thread(target=self._accept_loop, daemon=True)

    def _accept_loop(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            t.start()
            self._threads.append(t)

    def _serve(self, conn):
        with conn:
            try:
                self.handler(conn)
            except OSError:
                pass

    def __enter__(self):
        self._acceptor.start()
        return self

    def __exit__(self, *exc):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self._acceptor.join(timeout=5)
        for t in self._threads:
            t.join(timeout=5)


class TestCase(unittest.TestCase):
    """Adds the assertions every sockit CLI test repeats."""

    def assertFails(self, result, code, stderr_has):
        """The command exited with code and said stderr_has in exactly one stderr line."""
        err = result.stderr.decode(errors="replace")
        self.assertEqual(result.returncode, code, f"stderr: {err!r}")
        self.assertIn(stderr_has, err)
        self.assertEqual(len(err.strip().splitlines()), 1, f"expected one line: {err!r}")


def open_fds():
    """How many descriptors this process has open; a test compares the count before and after."""
    return len(os.listdir("/proc/self/fd"))


@contextlib.contextmanager
def background(argv, **kwargs):
    """Runs argv with pipes on stdin, stdout and stderr (kwargs may override them).

    On leaving, the process is killed if it still runs, reaped, and its pipes are closed.
    """
    options = dict(stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    options.update(kwargs)
    with subprocess.Popen([*map(str, argv)], **options) as proc:
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait(timeout=DEFAULT_TIMEOUT)


def _read_pipe(stream, wanted, timeout):
    """Reads a child's pipe while wanted(data so far) is a positive count of bytes to ask for.

    Reads the descriptor itself, so nothing stays in a Python buffer for later reads.
    """
    deadline = time.monotonic() + timeout
    fd = stream.fileno()
    data = bytearray()
    while (count := wanted(data)) > 0:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise TimeoutError(f"pipe read unfinished after {timeout}s: {bytes(data[-200:])!r}")
        chunk = os.read(fd, count)
        if not chunk:
            break
        data += chunk
    return bytes(data)


def read_line(stream, timeout=DEFAULT_TIMEOUT):
    """One line (bytes with its newline; shorter at end of file) from a child's pipe."""
    return _read_pipe(stream, lambda data: 0 if data.endswith(b"\n") else 1, timeout)


def read_exactly(stream, size, timeout=DEFAULT_TIMEOUT):
    """size bytes (fewer at end of file) from a child's pipe."""
    return _read_pipe(stream, lambda data: size - len(data), timeout)


class LeakCheckedTestCase(TestCase):
    """A TestCase whose every test must close each descriptor it opens."""

    def setUp(self):
        super().setUp()
        # Registered first, so it runs after every other cleanup has closed its descriptors.
        self.addCleanup(self._assert_no_fd_leak, open_fds())

    def _assert_no_fd_leak(self, before):
        self.assertEqual(open_fds(), before, "descriptors leaked")

    def assertSucceeds(self, result):
        """The command exited 0; its stderr is shown when not."""
        self.assertEqual(result.returncode, 0, result.stderr.decode(errors="replace"))


def listening_on(proc):
    """The address ("127.0.0.1:PORT", "[::1]:PORT") that a `sockit CMD -l -v` child reports
    on stderr before anything else."""
    line = read_line(proc.stderr).decode()
    address = line.partition(": listening on ")[2].rstrip("\n")
    if not line.startswith("sockit ") or not address:
        raise AssertionError(f"not a listening line: {line!r}")
    return address


def port_of(address):
    """The port of an address in sockit's text form."""
    return int(address.rsplit(":", 1)[1])


def recv_all(sock):
    """Everything the peer sends until it shuts down its side."""
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def reset(sock):
    """Closes sock with a TCP reset instead of a FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def vm_rss(pid):
    """The resident memory of process pid, in bytes."""
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise AssertionError(f"no VmRSS for process {pid}")


def raise_open_file_limit(test):
    """Lets this process open as many descriptors as its hard limit allows, until the test ends."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    test.addCleanup(resource.setrlimit, resource.RLIMIT_NOFILE, (soft, hard))


def parse_head(head):
    """(status, headers with lower-case names) of an HTTP response head without its blank line."""
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers


def parse_responses(data, head_only=False):
    """The HTTP responses in data as (status, headers dict with lower-case names, body)."""
    responses = []
    while data:
        head, _, rest = data.partition(b"\r\n\r\n")
        status, headers = parse_head(head)
        length = 0 if head_only else int(headers.get("content-length", "0"))
        responses.append((status, headers, rest[:length]))
        data = rest[length:]
    return responses


def curl(*args, timeout=DEFAULT_TIMEOUT):
    """Runs `curl -sS ARGS...` to completion and returns the CompletedProcess (bytes)."""
    return subprocess.run(["curl", "-sS", *map(str, args)], capture_output=True,
                          timeout=timeout)


def split_host_port(text):
    """("::1", 7) from "[::1]:7", ("127.0.0.1", 7) from "127.0.0.1:7"."""
    host, port = text.rsplit(":", 1)
    return host.strip("[]"), int(port)


class Serve:
    """`sockit serve ARGS...` in the background, as a context manager that yields itself.

    Entering waits for the `ready` line; .listeners maps (service, "tcp", "udp" or "tls") to
    the (host, port) of its first listening address, .banner holds the lines before `ready`,
    and .certificate is (file, SHA-256 fingerprint) from the banner's `tls` line, or None.
    stop() signals the server and waits for it; after it exits, .returncode, .stdout and
    .stderr (str) hold its exit and the rest of its output, and .counters maps each service
    to its counters ({"connections": N, ...}). Leaving stops it with SIGTERM when the block
    succeeded (failing unless it exits 0) and kills it in any case.
    """

    LISTENING = re.compile(r"listening\s+(\S+)\s+(tcp|udp|tls)\s+(\S+)")
    CERTIFICATE = re.compile(r"tls\s+.* \((.+)\), SHA-256 ([0-9A-F:]+)")
    COUNTERS = re.compile(r"(\S+)\s+connections (\d+)  rejected (\d+)  datagrams (\d+)"
                          r"  bytes in (\d+)  bytes out (\d+)")
    COUNTER_NAMES = ("connections", "rejected", "datagrams", "bytes_in", "bytes_out")

    def __init__(self, *args):
        self.argv = [SOCKIT, "serve", *args]
        self.listeners = {}
        self.banner = []
        self.certificate = None
        self.returncode = self.stdout = self.stderr = None
        self.counters = {}
        self._exit = contextlib.ExitStack()

    def __enter__(self):
        with self._exit.pop_all() as stack:
            self.proc = stack.enter_context(background(self.argv, stdin=subprocess.DEVNULL))
            self._read_listeners()
            self._exit = stack.pop_all()
        return self

    def __exit__(self, exc_type, *exc):
        with self._exit:
            if exc_type is None and self.returncode is None and self.stop() != 0:
                raise AssertionError(f"sockit serve exited {self.returncode}: {self.stderr}")

    def _read_listeners(self):
        while not (line := read_line(self.proc.stdout).decode()).startswith("ready"):
            self.banner.append(line.rstrip("\n"))
            if certificate := self.CERTIFICATE.fullmatch(self.banner[-1]):
                self.certificate = certificate.groups()
                continue
            match = self.LISTENING.match(line)
            if not match:
                # An early exit says why on stderr: show it, or a failure cannot be told apart.
                why = ""
                if not line and self.proc.wait(timeout=DEFAULT_TIMEOUT) is not None:
                    why = ": " + self.proc.stderr.read().decode(errors="replace").strip()
                raise AssertionError(f"sockit serve printed {line!r} before its ready line{why}")
            self.listeners.setdefault((match[1], match[2]), split_host_port(match[3]))

    def port(self, service, transport="tcp"):
        return self.listeners[(service, transport)][1]

    def address(self, service, transport="tcp"):
        return self.listeners[(service, transport)]

    def send_signal(self, signum=signal.SIGTERM):
        self.proc.send_signal(signum)

    def wait(self, timeout=DEFAULT_TIMEOUT):
        """Waits for the server to exit and returns its exit code."""
        out, err = self.proc.communicate(timeout=timeout)
        self.returncode = self.proc.returncode
        self.stdout, self.stderr = out.decode(errors="replace"), err.decode(errors="replace")
        for line in self.stdout.splitlines():
            if match := self.COUNTERS.fullmatch(line):
                values = map(int, match.groups()[1:])
                self.counters[match[1]] = dict(zip(self.COUNTER_NAMES, values))
        return self.returncode

    def stop(self, signum=signal.SIGTERM, timeout=DEFAULT_TIMEOUT):
        """Sends signum and waits for the server to exit; returns its exit code."""
        self.send_signal(signum)
        return self.wait(timeout)


DAYTIME_HUMAN = re.compile(r"(\w+, \w+ \d\d, \d{4} \d\d:\d\d:\d\d)-UTC\r?\n")
DAYTIME_NIST = re.compile(
    r"\n(\d{5,}) (\d\d-\d\d-\d\d \d\d:\d\d:\d\d) 00 0 0   0\.0 UTC\(NIST\) \* \n")
MJD_EPOCH = datetime.date(1858, 11, 17)


def parse_daytime(data):
    """The UTC time of a daytime (RFC 867) reply, in sockit's human or NIST form.

    Raises ValueError when data is in neither form, or its NIST day number is not its date's.
    """
    text = data.decode("ascii")
    if match := DAYTIME_HUMAN.fullmatch(text):
        when = datetime.datetime.strptime(match[1], "%A, %B %d, %Y %H:%M:%S")
    elif match := DAYTIME_NIST.fullmatch(text):
        when = datetime.datetime.strptime(match[2], "%y-%m-%d %H:%M:%S")
        if int(match[1]) != (when.date() - MJD_EPOCH).days:
            raise ValueError(f"MJD {match[1]} is not the day of {when.date()}")
    else:
        raise ValueError(f"not a daytime reply: {data!r}")
    return when.replace(tzinfo=datetime.timezone.utc)
