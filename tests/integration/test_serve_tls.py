"""`sockit serve` over TLS on loopback: HTTPS against curl, Python's ssl module and headless
Chromium, the TLS chat against openssl s_client, next to plain TCP members; plaintext on a
TLS port, stalled handshakes, the handshake cap, mutual TLS, certificate errors and the
banner's fingerprint. The certificates are made with the openssl CLI: sockit_test's CA,
server and client, and make_strangers' files beside them."""
import base64
import contextlib
import hashlib
import os
import re
import shlex
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

from chat_client import ChatClient
from chat_page import open_chat_page, type_line, wait_for_line
from chromium import Chromium
from sockit_test import (DEFAULT_TIMEOUT, LeakCheckedTestCase, Serve, background, curl,
                         fingerprint_of, make_certificates, openssl, parse_head,
                         parse_responses, read_line, recv_all, run)

KIB = 1024
MIB = 1024 * KIB
PASSWORD = "s3cret"  # make_certificates' password, given to one more key here
WELCOME = re.compile(r"\*\*\* Welcome to sockit chat, (guest\d+)\. You are in #lobby\. "
                     r"/help lists the commands\.")
PLAIN_TO_HTTPS = b"This port speaks HTTPS: send the request with https:// instead\r\n"
PLAIN_TO_TLS_CHAT = b"This port speaks TLS: connect with sockit tcp --ssl or openssl s_client\r\n"
# How long a stalled handshake may take to be closed beyond the timeout it was given: generous
# for a sanitizer build on a loaded machine, and short of the default timeout (10 s), so that
# a server that ignored the one given would fail.
CLOSE_MARGIN = 5


def make_strangers(directory):
    """Next to make_certificates' files: the server's key encrypted with PASSWORD, a client
    certificate of no CA the server knows, a key of no certificate, and a file that is no
    PEM. Returns the path of each file in directory by name."""
    openssl("pkey", "-in", "server.key", "-aes256", "-passout", f"pass:{PASSWORD}", "-out",
            "server-encrypted.key", cwd=directory)
    openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", "stranger.key", "-out", "stranger.pem", "-subj", "/CN=sockit stranger",
            "-days", "2", "-addext", "basicConstraints=CA:FALSE", "-addext",
            "extendedKeyUsage=clientAuth", cwd=directory)
    openssl("genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out",
            "other.key", cwd=directory)
    with open(os.path.join(directory, "not-a-certificate.pem"), "w") as f:
        f.write("this is no PEM\n")
    return {name: os.path.join(directory, name) for name in os.listdir(directory)}


def fingerprint(certificate):
    """The SHA-256 fingerprint of a PEM certificate file, as openssl prints it (AB:CD:...)."""
    with open(certificate, "rb") as f:
        return fingerprint_of(f.read())


def client_hello():
    """The first flight of a real TLS client: its ClientHello record."""
    context = ssl.create_default_context()
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    session = context.wrap_bio(incoming, outgoing, server_hostname="localhost")
    with contextlib.suppress(ssl.SSLWantReadError):
        session.do_handshake()
    return outgoing.read()


def closed_after(sock, timeout):
    """(seconds until the peer closes sock, by end of stream or reset; what it sent before);
    TimeoutError if it stays open for timeout seconds."""
    started = time.monotonic()
    received = bytearray()
    sock.settimeout(timeout)
    try:
        while chunk := sock.recv(65536):
            received += chunk
            sock.settimeout(max(timeout - (time.monotonic() - started), 0.001))
    except ConnectionResetError:
        pass
    return time.monotonic() - started, bytes(received)


def recv_reply(sock):
    """One HTTP response with a Content-Length from sock, read without taking anything after
    it: (status, headers, body)."""
    data = b""
    while True:
        head, found, body = data.partition(b"\r\n\r\n")
        if found and len(body) >= int(parse_head(head)[1]["content-length"]):
            return parse_responses(data)[0]
        if not (chunk := sock.recv(65536)):
            raise AssertionError(f"the stream ended after {data[:300]!r}")
        data += chunk


def stays_open(sock, seconds):
    """Whether sock is still open, with nothing to read, after waiting seconds for data."""
    sock.settimeout(seconds)
    try:
        sock.recv(1)
    except TimeoutError:
        return True
    except OSError:
        pass
    return False


def make_site(directory):
    """A root to serve, with a 1 MiB file among its files; returns it and the files' bytes."""
    root = os.path.join(directory, "root")
    os.makedirs(root)
    files = {"index.html": b"<!DOCTYPE html><title>home</title><p>hello</p>\n",
             "style.css": b"body { color: black }\n",
             "big.bin": os.urandom(MIB)}
    for name, data in files.items():
        with open(os.path.join(root, name), "wb") as f:
            f.write(data)
    return root, files


def setUpModule():
    base = tempfile.mkdtemp(prefix="sockit-tls-")
    unittest.addModuleCleanup(shutil.rmtree, base)
    TlsTestCase.base = base
    make_certificates(base)
    TlsTestCase.certs = make_strangers(base)
    TlsTestCase.root, TlsTestCase.files = make_site(base)


class TlsTestCase(LeakCheckedTestCase):
    """Tests of the certificates and site that setUpModule makes once, in a temporary
    directory: .certs maps file names to paths, .files the site's names to bytes."""

    base = certs = root = files = None

    def tls_args(self, key="server.key", *more):
        return ("--tls-cert", self.certs["server.pem"], "--tls-key", self.certs[key], *more)

    def serve_https(self, *args):
        """`sockit serve http --root` with http and https on ports the OS picks."""
        return Serve("http", "--bind", "127.0.0.1", "--http-port", "0", "--https-port", "0",
                     "--root", self.root, *args)

    def https_url(self, server, path="/"):
        host, port = server.address("http", "tls")
        return f"https://{host}:{port}{path}"

    def curl_https(self, *args):
        return curl("--cacert", self.certs["ca.pem"], *args)

    def tls_connection(self, server, service="http"):
        """A TLS client socket connected to service's TLS port, verifying the test's CA. Its
        reads end with b"" only after the server's close_notify: an end of the stream without
        one (a truncation) raises ssl.SSLEOFError."""
        context = ssl.create_default_context(cafile=self.certs["ca.pem"])
        sock = socket.create_connection(server.address(service, "tls"), timeout=DEFAULT_TIMEOUT)
        return context.wrap_socket(sock, server_hostname="127.0.0.1", suppress_ragged_eofs=False)

    def assertServesHttps(self, server):
        """A TLS client still gets the right bytes."""
        result = self.curl_https(self.https_url(server, "/index.html"))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout, self.files["index.html"])


class HttpsTest(TlsTestCase):
    def setUp(self):
        super().setUp()
        self.server = self.enterContext(self.serve_https(*self.tls_args()))

    def test_get_head_and_range_over_https(self):
        for name in ("index.html", "big.bin"):
            with self.subTest(name=name):
                result = self.curl_https("-D", "-", "-o", "/dev/stdout",
                                         self.https_url(self.server, f"/{name}"))
                self.assertEqual(result.returncode, 0, result.stderr)
                status, headers, body = parse_responses(result.stdout)[0]
                self.assertEqual(status, 200)
                self.assertEqual(int(headers["content-length"]), len(self.files[name]))
                self.assertEqual(body, self.files[name])
        with self.tls_connection(self.server) as sock:
            sock.sendall(b"HEAD /big.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            head, end, body = recv_all(sock).partition(b"\r\n\r\n")
        status, headers = parse_head(head)
        self.assertEqual((status, int(headers["content-length"]), end, body),
                         (200, MIB, b"\r\n\r\n", b""))
        url = self.https_url(self.server, "/big.bin")
        ranged = self.curl_https("-r", "1000-1999", "-o", "-", "-w", "%{http_code}", url)
        self.assertEqual(ranged.stdout[-3:], b"206")
        self.assertEqual(ranged.stdout[:-3], self.files["big.bin"][1000:2000])

    def test_the_same_bytes_over_http_and_https(self):
        host, port = self.server.address("http")
        for name in self.files:
            with self.subTest(name=name):
                plain = curl("-D", "-", "-o", "/dev/stdout", f"http://{host}:{port}/{name}")
                secure = self.curl_https("-D", "-", "-o", "/dev/stdout",
                                         self.https_url(self.server, f"/{name}"))
                plain_status, plain_headers, plain_body = parse_responses(plain.stdout)[0]
                status, headers, body = parse_responses(secure.stdout)[0]
                self.assertEqual((status, body), (plain_status, plain_body))
                self.assertEqual(body, self.files[name])
                self.assertEqual(headers["etag"], plain_headers["etag"])

    def test_keep_alive_carries_two_requests_on_one_connection(self):
        result = self.curl_https("-w", "%{num_connects}\\n",
                                 "-o", "/dev/null", self.https_url(self.server, "/index.html"),
                                 "-o", "/dev/null", self.https_url(self.server, "/big.bin"))
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stdout.decode().split(), ["1", "0"])
        self.server.stop()
        self.assertEqual(self.server.counters["http"]["connections"], 1)

    def test_pipelined_requests_in_one_record_are_answered_in_order(self):
        request = (b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n"
                   b"GET /style.css HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        with self.tls_connection(self.server) as sock:
            sock.sendall(request)  # one write under 16 KiB: one TLS record
            responses = parse_responses(recv_all(sock))
        self.assertEqual([(status, body) for status, _, body in responses],
                         [(200, self.files["index.html"]), (200, self.files["style.css"])])
        self.assertEqual(responses[1][1]["connection"], "close")

    def test_sigterm_lets_a_download_finish_and_ends_idle_sessions_with_close_notify(self):
        with self.tls_connection(self.server) as idle, self.tls_connection(self.server) as busy:
            idle.sendall(b"GET /style.css HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertEqual(recv_reply(idle)[2], self.files["style.css"])
            busy.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            first = busy.recv(1)
            self.server.send_signal()
            self.assertEqual(recv_all(idle), b"")
            self.assertEqual(parse_responses(first + recv_all(busy))[0][2], self.files["big.bin"])
        self.assertEqual(self.server.wait(), 0, self.server.stderr)

    def test_plain_http_to_the_https_port_gets_400_and_is_closed(self):
        with socket.create_connection(self.server.address("http", "tls"),
                                      timeout=DEFAULT_TIMEOUT) as sock:
            sock.sendall(b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n")
            reply = recv_all(sock)  # to the end: the server closes the connection
        status, headers, body = parse_responses(reply)[0]
        self.assertEqual((status, headers["connection"]), (400, "close"))
        self.assertEqual(body, PLAIN_TO_HTTPS)
        host, port = self.server.address("http", "tls")
        result = curl("-o", "/dev/null", "-w", "%{http_code}", f"http://{host}:{port}/")
        self.assertEqual(result.stdout, b"400")
        self.assertServesHttps(self.server)


class HandshakeLimitsTest(TlsTestCase):
    def test_stalled_handshakes_are_closed_after_the_header_timeout(self):
        timeout = 1.0
        hello = client_hello()
        self.assertEqual(hello[:1], b"\x16")
        stalls = {"nothing": b"", "a record header": b"\x16\x03\x01",
                  "20 bytes of a ClientHello": hello[:20]}
        with self.serve_https(*self.tls_args(), "--header-timeout", f"{timeout}s") as server, \
                contextlib.ExitStack() as stack:
            socks = {}
            for name, partial in stalls.items():
                sock = stack.enter_context(socket.create_connection(
                    server.address("http", "tls"), timeout=DEFAULT_TIMEOUT))
                sock.sendall(partial)
                socks[name] = (sock, time.monotonic())
            for name, (sock, opened) in socks.items():
                with self.subTest(stall=name):
                    _, received = closed_after(sock, timeout + CLOSE_MARGIN)
                    lasted = time.monotonic() - opened
                    self.assertGreater(lasted, timeout * 0.9)
                    self.assertLess(lasted, timeout + CLOSE_MARGIN)
                    # No plaintext refusal: the client said nothing that was not TLS.
                    self.assertEqual(received, b"")
            self.assertServesHttps(server)

    def test_a_drain_ends_handshakes_in_progress_at_once(self):
        drain = 10.0
        with self.serve_https(*self.tls_args(), "--drain-timeout", f"{drain}s",
                              "--header-timeout", "30s") as server, \
                contextlib.ExitStack() as stack:
            for partial in (b"", b"\x16\x03\x01"):
                sock = stack.enter_context(socket.create_connection(
                    server.address("http", "tls"), timeout=DEFAULT_TIMEOUT))
                sock.sendall(partial)
            time.sleep(0.2)  # both accepted and waiting
            signalled = time.monotonic()
            server.send_signal()
            self.assertEqual(server.wait(), 0, server.stderr)
            self.assertLess(time.monotonic() - signalled, drain / 2)
            self.assertNotIn("drain deadline passed", server.stderr)

    def test_handshakes_beyond_max_handshakes_are_closed_at_once(self):
        timeout = 20.0
        with self.serve_https(*self.tls_args(), "--threads", "1", "--max-handshakes", "2",
                              "--header-timeout", f"{timeout}s") as server, \
                contextlib.ExitStack() as stack:
            address = server.address("http", "tls")
            stalled = [stack.enter_context(socket.create_connection(address,
                                                                    timeout=DEFAULT_TIMEOUT))
                       for _ in range(2)]
            for sock in stalled:
                sock.sendall(b"\x16\x03\x01")
            for attempt in range(3):
                opened = time.monotonic()
                with self.subTest(extra=attempt), \
                        socket.create_connection(address, timeout=DEFAULT_TIMEOUT) as extra:
                    self.assertEqual(closed_after(extra, timeout)[1], b"")
                    self.assertLess(time.monotonic() - opened, timeout / 4)
            for sock in stalled:
                self.assertTrue(stays_open(sock, 0.2))
            # Their slots come free as they go: a real client is served again.
            for sock in stalled:
                sock.close()
            deadline = time.monotonic() + DEFAULT_TIMEOUT
            while self.curl_https("-o", "/dev/null", self.https_url(server)).returncode != 0:
                self.assertLess(time.monotonic(), deadline, "no handshake slot came free")
                time.sleep(0.05)
            self.assertServesHttps(server)
        self.assertGreaterEqual(server.counters["http"]["rejected"], 3)


class MutualTlsTest(TlsTestCase):
    def test_client_certificates_are_required_and_checked(self):
        with self.serve_https(*self.tls_args(), "--tls-client-ca", self.certs["ca.pem"]) as server:
            url = self.https_url(server, "/index.html")
            allowed = self.curl_https("--cert", self.certs["client.pem"], "--key",
                                      self.certs["client.key"], "-w", "\n%{http_code}", url)
            self.assertEqual(allowed.stdout, self.files["index.html"] + b"\n200")
            for name, args in {"no certificate": (),
                               "a certificate of another CA": (
                                   "--cert", self.certs["stranger.pem"], "--key",
                                   self.certs["stranger.key"])}.items():
                with self.subTest(name):
                    refused = self.curl_https(*args, url)
                    self.assertNotEqual(refused.returncode, 0)
                    self.assertEqual(refused.stdout, b"")
            # The same refusal to a client of Python's ssl module, which says why.
            with self.assertRaises((ssl.SSLError, ConnectionResetError)):
                with self.tls_connection(server) as sock:
                    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
                    sock.recv(1)
            again = self.curl_https("--cert", self.certs["client.pem"], "--key",
                                    self.certs["client.key"], url)
            self.assertEqual(again.stdout, self.files["index.html"])


class TlsChatTest(TlsTestCase):
    def setUp(self):
        super().setUp()
        self.server = self.enterContext(Serve("chat", "http", "--bind", "127.0.0.1", "--chat-port",
                                              "0", "--chat-tls-port", "0", "--http-port", "0",
                                              "--https-port", "0", *self.tls_args()))

    def tcp_member(self):
        client = self.enterContext(ChatClient(self.server.address("chat")))
        return client, WELCOME.fullmatch(client.line())[1]

    def test_openssl_s_client_and_a_tcp_member_talk(self):
        host, port = self.server.address("chat", "tls")
        with background(["openssl", "s_client", "-quiet", "-verify_return_error", "-CAfile",
                         self.certs["ca.pem"], "-connect", f"{host}:{port}"]) as tls:
            tls_nick = WELCOME.fullmatch(read_line(tls.stdout).decode().rstrip("\r\n"))[1]
            tcp, tcp_nick = self.tcp_member()
            self.assertEqual(read_line(tls.stdout).decode().rstrip("\r\n"),
                             f"*** {tcp_nick} joined #lobby")
            tls.stdin.write(b"hello over TLS\n")
            tls.stdin.flush()
            tcp.until(lambda line: line == f"<{tls_nick}> hello over TLS")
            tcp.send("hello over TCP")
            self.assertEqual(read_line(tls.stdout).decode().rstrip("\r\n"),
                             f"<{tcp_nick}> hello over TCP")
            tls.stdin.write(b"/quit\n")
            tls.stdin.flush()
            tls.stdin.close()
            # The server ends the session and s_client exits on its own.
            self.assertEqual(tls.wait(timeout=DEFAULT_TIMEOUT), 0, tls.stderr.read())
            tcp.until(lambda line: line.startswith(f"*** {tls_nick} left"))

    def test_plaintext_to_the_tls_chat_port_gets_a_line_and_is_closed(self):
        with socket.create_connection(self.server.address("chat", "tls"),
                                      timeout=DEFAULT_TIMEOUT) as sock:
            sock.sendall(b"hello\n")
            self.assertEqual(recv_all(sock), PLAIN_TO_TLS_CHAT)
        with self.tls_connection(self.server, "chat") as sock:
            self.assertRegex(sock.recv(4096).decode(), WELCOME.pattern)

    def test_the_chat_page_over_https_joins_with_wss(self):
        host, port = self.server.address("http", "tls")
        # Chromium takes exactly the server's key, and no other certificate error.
        pin = spki_pin(self.certs["server.pem"])
        with Chromium(flags=[f"--ignore-certificate-errors-spki-list={pin}"]) as browser:
            page_nick = open_chat_page(browser, f"https://{host}:{port}/chat", WELCOME)[1]
            tcp, tcp_nick = self.tcp_member()
            wait_for_line(browser, re.escape(f"*** {tcp_nick} joined #lobby"))
            type_line(browser, "hello from https")
            # A page loaded over https may open wss:// only: the line came over TLS.
            tcp.until(lambda line: line == f"<{page_nick}> hello from https")
            tcp.send("hello to the browser")
            wait_for_line(browser, re.escape(f"<{tcp_nick}> hello to the browser"))
            self.assertEqual(browser.evaluate("location.protocol"), "https:")


def spki_pin(certificate):
    """The base64 SHA-256 of a certificate's SubjectPublicKeyInfo, as Chromium pins keys."""
    pem = openssl("x509", "-in", certificate, "-pubkey", "-noout",
                  cwd=os.path.dirname(certificate))
    der = base64.b64decode("".join(pem.strip().splitlines()[1:-1]))
    return base64.b64encode(hashlib.sha256(der).digest()).decode()


class CertificateErrorsTest(TlsTestCase):
    def serve_args(self, *tls):
        return ("serve", "http", "--bind", "127.0.0.1", "--http-port", "0", "--https-port", "0",
                *tls)

    def test_bad_certificates_and_keys_are_one_line_errors_naming_the_file(self):
        missing = os.path.join(self.base, "missing.pem")
        garbage, encrypted = self.certs["not-a-certificate.pem"], "server-encrypted.key"
        # (arguments, exit code: 2 for what the option parser checks, the file named)
        cases = {
            "missing certificate": (("--tls-cert", missing), 2, missing),
            "missing key": (("--tls-cert", self.certs["server.pem"], "--tls-key", missing), 2,
                            missing),
            "missing client CA": (self.tls_args("server.key", "--tls-client-ca", missing), 2,
                                  missing),
            "not a certificate": (("--tls-cert", garbage, "--tls-key", self.certs["server.key"]),
                                  1, f"{garbage}: no start line"),
            "a key of another certificate": (self.tls_args("other.key"), 1,
                                             self.certs["other.key"]),
            "an encrypted key without its password": (self.tls_args(encrypted), 1,
                                                      self.certs[encrypted]),
            "an encrypted key with a wrong password": (
                self.tls_args(encrypted, "--tls-key-password", "wrong"), 1,
                self.certs[encrypted]),
        }
        for name, (args, code, named) in cases.items():
            with self.subTest(name):
                result = run(*self.serve_args(*args))
                self.assertFails(result, code, named)
                self.assertEqual(result.stdout, b"")

    def test_an_encrypted_key_with_its_password_serves(self):
        with self.serve_https(*self.tls_args("server-encrypted.key", "--tls-key-password",
                                             PASSWORD)) as server:
            self.assertServesHttps(server)

    def test_a_client_ca_without_tls_is_an_error(self):
        result = run(*self.serve_args("--tls-client-ca", self.certs["ca.pem"]))
        self.assertFails(result, 2, "--tls-client-ca needs --tls-cert or --tls-self-signed")


def try_it(server, service):
    """The command that the banner says to try service's TLS listener with, as argv."""
    line = next(line for line in server.banner
                if line.split()[:3] == ["listening", service, "tls"])
    return shlex.split(line.partition(" try: ")[2])


class BannerTest(TlsTestCase):
    def test_the_banner_shows_the_fingerprint_of_the_given_certificate(self):
        with self.serve_https(*self.tls_args()) as server:
            self.assertEqual(server.certificate,
                             (self.certs["server.pem"], fingerprint(self.certs["server.pem"])))
            host, port = server.address("http", "tls")
            self.assertEqual(try_it(server, "http"),
                             ["curl", "--cacert", self.certs["server.pem"],
                              f"https://{host}:{port}/"])

    def test_a_self_signed_certificate_is_printed_trusted_and_removed_at_exit(self):
        with Serve("http", "chat", "--bind", "127.0.0.1", "--http-port", "0", "--https-port",
                   "0", "--chat-port", "0", "--chat-tls-port", "0", "--root", self.root,
                   "--tls-self-signed") as server:
            path, printed = server.certificate
            self.assertEqual(printed, fingerprint(path))
            # The banner's try-it line works as printed: curl trusts that file.
            result = subprocess.run([*try_it(server, "http"), "-sS"], capture_output=True,
                                    timeout=DEFAULT_TIMEOUT)
            self.assertEqual(result.stdout, self.files["index.html"], result.stderr)
            self.assertTrue(os.path.exists(path))
            self.assertEqual(server.stop(), 0, server.stderr)
        self.assertFalse(os.path.exists(path))

    def test_without_tls_flags_there_is_no_tls_listener(self):
        with Serve("--bind", "127.0.0.1", "--echo-port", "0", "--daytime-port", "0",
                   "--qotd-port", "0", "--chat-port", "0", "--http-port", "0", "--https-port",
                   "0", "--chat-tls-port", "0") as server:
            self.assertEqual({transport for _, transport in server.listeners}, {"tcp", "udp"})
            self.assertIsNone(server.certificate)
            self.assertFalse([line for line in server.banner if "tls" in line.split()])


if __name__ == "__main__":
    unittest.main()
