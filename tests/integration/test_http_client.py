"""sockit http against real servers the tests start on loopback: python3 -m http.server
(HTTP/1.0, bodies that end at close), nginx (keep-alive, gzip in chunks, IPv6, a Unix socket,
HTTPS with a CA and certificate made here), a Python HTTP/1.1 handler (chunked bodies,
redirects, request bodies) and raw sockets that stall or answer garbage."""
import contextlib
import gzip
import hashlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import unittest
from http import server as http_server

from sockit_test import (DEFAULT_TIMEOUT, SOCKIT, UNRESOLVABLE, LeakCheckedTestCase,
                         ThreadedServer, free_port, has_ipv6_loopback, make_certificates, run,
                         stop, wait_listening)

SMALL = b"hello from sockit's tests\n"
BIG_SIZE = 5 * 1024 * 1024 + 17  # several MiB, not a multiple of any buffer


def http(*args, **kwargs):
    return run("http", *args, **kwargs)


def sha256(data):
    return hashlib.sha256(data).hexdigest()


def make_files(root):
    """The files the servers serve: a small text file and a multi-MiB binary one."""
    with open(os.path.join(root, "small.txt"), "wb") as f:
        f.write(SMALL)
    big = os.urandom(BIG_SIZE)
    with open(os.path.join(root, "big.bin"), "wb") as f:
        f.write(big)
    with open(os.path.join(root, "text.txt"), "wb") as f:
        f.write(b"".join(b"line %d of a compressible text\n" % i for i in range(20000)))
    return big


NGINX_CONF = """
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log;
events {{ worker_connections 64; }}
http {{
  log_format counted '$connection $connection_requests $request';
  access_log {dir}/access.log counted;
  client_body_temp_path {dir}/body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
  default_type application/octet-stream;
  keepalive_requests 100;
  gzip on;
  gzip_types *;
  gzip_min_length 0;
  server {{
    listen 127.0.0.1:{port};
    {ipv6_listen}
    listen unix:{dir}/nginx.sock;
    listen 127.0.0.1:{tls_port} ssl;
    ssl_certificate {dir}/server.pem;
    ssl_certificate_key {dir}/server.key;
    root {dir}/www;
    location = /old {{ return 301 /small.txt; }}
    location = /loop {{ return 302 /loop; }}
  }}
  server {{
    listen 127.0.0.1:{mtls_port} ssl;
    ssl_certificate {dir}/server.pem;
    ssl_certificate_key {dir}/server.key;
    ssl_client_certificate {dir}/ca.pem;
    ssl_verify_client on;
    root {dir}/www;
  }}
}}
"""


class Nginx:
    """nginx with its own configuration, files and logs in a temporary directory."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="sockit-nginx-")
        os.chmod(self.dir, 0o755)  # workers may run as another user
        www = os.path.join(self.dir, "www")
        os.mkdir(www)
        self.big = make_files(www)
        with open(os.path.join(www, "text.txt"), "rb") as f:
            self.text = f.read()
        make_certificates(self.dir)
        self.port = free_port()
        self.tls_port = free_port()
        self.mtls_port = free_port()
        self.ipv6 = has_ipv6_loopback()
        self.socket_path = os.path.join(self.dir, "nginx.sock")
        conf = os.path.join(self.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_CONF.format(
                dir=self.dir, port=self.port, tls_port=self.tls_port, mtls_port=self.mtls_port,
                ipv6_listen=f"listen [::1]:{self.port};" if self.ipv6 else ""))
        self.proc = subprocess.Popen(
            ["nginx", "-c", conf, "-p", self.dir, "-e", os.path.join(self.dir, "error.log"),
             "-g", "daemon off;"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE)
        try:
            wait_listening(self.port, proc=self.proc)
            wait_listening(self.tls_port, proc=self.proc)
            wait_listening(self.mtls_port, proc=self.proc)
        except AssertionError as e:
            error = self.proc.stderr.read().decode(errors="replace") if self.proc.poll() else ""
            self.close()
            raise AssertionError(f"{e}: {error}") from None

    def url(self, path, host="127.0.0.1"):
        return f"http://{host}:{self.port}{path}"

    def tls_url(self, path, host="localhost"):
        return f"https://{host}:{self.tls_port}{path}"

    def access_log(self):
        with open(os.path.join(self.dir, "access.log")) as f:
            return [line.split(" ", 2) for line in f.read().splitlines()]

    def close(self):
        stop(self.proc)
        self.proc.stderr.close()
        shutil.rmtree(self.dir, ignore_errors=True)


class Recorder(http_server.BaseHTTPRequestHandler):
    """HTTP/1.1 handler: /echo answers with what it received as JSON, /chunked sends a
    chunked body with an extension and a trailer, /redirect/CODE?to=PATH redirects."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def setup(self):
        super().setup()
        self.server.connections += 1

    def _body(self):
        length = int(self.headers.get("Content-Length", 0))
        return self.rfile.read(length)

    def _reply(self, status, body, headers=()):
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _handle(self):
        body = self._body()
        if self.path.startswith("/redirect/"):
            code = int(self.path.split("/")[2].split("?")[0])
            target = self.path.partition("?to=")[2] or "/echo"
            return self._reply(code, b"moved\n", [("Location", target)])
        if self.path == "/chunked":
            self.send_response(200)
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            self.wfile.write(b"5;name=value\r\nhello\r\n1\r\n \r\n"
                             b"6\r\nworld!\r\n0\r\nX-Trailer: yes\r\n\r\n")
            return None
        received = {"method": self.command, "path": self.path, "body": body.decode("latin-1"),
                    "headers": [[k, v] for k, v in self.headers.items()]}
        return self._reply(200, json.dumps(received).encode())

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _handle

    def do_HEAD(self):
        self.send_response(200)
        self.send_header("Content-Length", "1234")
        self.end_headers()


class RecordingServer(http_server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), Recorder)
        self.connections = 0
        self.port = self.server_address[1]
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def close(self):
        self.shutdown()
        self.server_close()
        self.thread.join(timeout=DEFAULT_TIMEOUT)


class PythonHttpServerTest(LeakCheckedTestCase):
    """python3 -m http.server: HTTP/1.0, one connection per request."""

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="sockit-http-server-")
        cls.big = make_files(cls.dir)
        cls.port = free_port()
        cls.proc = subprocess.Popen(
            ["python3", "-m", "http.server", str(cls.port), "--bind", "127.0.0.1",
             "--directory", cls.dir], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        wait_listening(cls.port, proc=cls.proc)

    @classmethod
    def tearDownClass(cls):
        stop(cls.proc)
        shutil.rmtree(cls.dir, ignore_errors=True)

    def url(self, path):
        return f"http://127.0.0.1:{self.port}{path}"

    def test_body_is_written_exactly(self):
        result = http(self.url("/small.txt"))
        self.assertSucceeds(result)
        self.assertEqual(result.stdout, SMALL)
        self.assertEqual(result.stderr, b"")

    def test_multi_mib_binary_body_is_byte_exact(self):
        result = http(self.url("/big.bin"))
        self.assertSucceeds(result)
        self.assertEqual(len(result.stdout), BIG_SIZE)
        self.assertEqual(sha256(result.stdout), sha256(self.big))

    def test_output_file(self):
        with tempfile.TemporaryDirectory() as d:
            path = os.path.join(d, "out.bin")
            result = http("-o", path, self.url("/big.bin"))
            self.assertSucceeds(result)
            self.assertEqual(result.stdout, b"")
            with open(path, "rb") as f:
                self.assertEqual(sha256(f.read()), sha256(self.big))

    def test_head_prints_the_response_head(self):
        result = http("-I", self.url("/small.txt"))
        self.assertSucceeds(result)
        lines = result.stdout.split(b"\r\n")
        self.assertEqual(lines[0], b"HTTP/1.0 200 OK")
        self.assertIn(b"Content-Length: %d" % len(SMALL), lines)
        self.assertTrue(result.stdout.endswith(b"\r\n\r\n"))

    def test_include_puts_the_head_before_the_body(self):
        result = http("-i", self.url("/small.txt"))
        self.assertSucceeds(result)
        head, _, body = result.stdout.partition(b"\r\n\r\n")
        self.assertTrue(head.startswith(b"HTTP/1.0 200 OK\r\n"))
        self.assertEqual(body, SMALL)

    def test_not_found_exits_0_and_22_with_fail(self):
        result = http(self.url("/missing"))
        self.assertSucceeds(result)
        self.assertIn(b"404", result.stdout)
        failed = http("--fail", self.url("/missing"))
        self.assertFails(failed, 22, "returned error: 404")
        self.assertEqual(failed.stdout, b"")

    def test_verbose_shows_the_exchange_like_curl(self):
        result = http("-v", self.url("/small.txt"))
        self.assertSucceeds(result)
        err = result.stderr.decode()
        self.assertIn("> GET /small.txt HTTP/1.1\n", err)
        self.assertIn(f"> Host: 127.0.0.1:{self.port}\n", err)
        self.assertIn("> User-Agent: sockit/0.1.0\n", err)
        self.assertIn("> Accept: */*\n", err)
        self.assertIn("< HTTP/1.0 200 OK\n", err)
        self.assertIn("* Connected to 127.0.0.1 (127.0.0.1) port", err)
        self.assertEqual(result.stdout, SMALL)

    def test_http_1_0_server_gets_a_new_connection_per_url(self):
        result = http("-v", self.url("/small.txt"), self.url("/small.txt"))
        self.assertSucceeds(result)
        self.assertEqual(result.stdout, SMALL * 2)
        self.assertNotIn(b"Re-using", result.stderr)
        self.assertEqual(result.stderr.count(b"* Connected to"), 2)

    def test_timing_breakdown(self):
        result = http("-w", self.url("/small.txt"))
        self.assertSucceeds(result)
        err = result.stderr.decode()
        for step in ("resolve", "connect", "tls", "first byte", "total"):
            self.assertRegex(err, rf"(?m)^ *{step}  \d+\.\d{{6}} s$")


class NginxTest(LeakCheckedTestCase):
    """nginx: keep-alive, gzip sent in chunks, IPv6, a Unix socket and HTTPS."""

    @classmethod
    def setUpClass(cls):
        if shutil.which("nginx") is None:
            raise unittest.SkipTest("nginx is not installed (scripts/setup-deps installs it)")
        cls.nginx = Nginx()

    @classmethod
    def tearDownClass(cls):
        cls.nginx.close()

    def test_keep_alive_reuses_one_connection(self):
        before = len(self.nginx.access_log())
        urls = [self.nginx.url(p) for p in ("/small.txt", "/big.bin", "/small.txt")]
        result = http("-v", *urls)
        self.assertSucceeds(result)
        self.assertEqual(result.stdout, SMALL + self.nginx.big + SMALL)
        self.assertEqual(result.stderr.count(b"* Re-using existing connection"), 2)
        entries = self.nginx.access_log()[before:]
        self.assertEqual(len(entries), 3)
        self.assertEqual(len({connection for connection, _, _ in entries}), 1)
        self.assertEqual([requests for _, requests, _ in entries], ["1", "2", "3"])

    def test_gzip_in_chunks_is_passed_through_exactly(self):
        result = http("-v", "-H", "Accept-Encoding: gzip", self.nginx.url("/text.txt"))
        self.assertSucceeds(result)
        self.assertIn(b"< Transfer-Encoding: chunked", result.stderr)
        self.assertEqual(gzip.decompress(result.stdout), self.nginx.text)

    def test_redirect_followed_with_L(self):
        plain = http(self.nginx.url("/old"))
        self.assertSucceeds(plain)
        self.assertIn(b"301", plain.stdout)
        followed = http("-L", self.nginx.url("/old"))
        self.assertSucceeds(followed)
        self.assertEqual(followed.stdout, SMALL)

    def test_redirect_limit(self):
        result = http("-L", "--max-redirs", "3", self.nginx.url("/loop"))
        self.assertFails(result, 1, "maximum (3) redirects followed")

    def test_ipv6_literal(self):
        if not self.nginx.ipv6:
            self.skipTest("no IPv6 loopback")
        result = http("-v", f"http://[::1]:{self.nginx.port}/small.txt")
        self.assertSucceeds(result)
        self.assertEqual(result.stdout, SMALL)
        self.assertIn(f"> Host: [::1]:{self.nginx.port}".encode(), result.stderr)

    def test_unix_socket(self):
        result = http("--unix-socket", self.nginx.socket_path, "http://localhost/small.txt")
        self.assertSucceeds(result)
        self.assertEqual(result.stdout, SMALL)

    def test_resolve_override(self):
        result = http("--resolve", f"name.invalid:{self.nginx.port}:127.0.0.1",
                      f"http://name.invalid:{self.nginx.port}/small.txt")
        self.assertSucceeds(result)
        self.assertEqual(result.stdout, SMALL)

    def https(self, *args, host="localhost", path="/small.txt"):
        return http("--resolve", f"{host}:{self.nginx.tls_port}:127.0.0.1", *args,
                    self.nginx.tls_url(path, host))

    def test_https_with_the_test_ca(self):
        result = self.https("-v", "--cacert", os.path.join(self.nginx.dir, "ca.pem"))
        self.assertSucceeds(result)
        self.assertEqual(result.stdout, SMALL)
        self.assertRegex(result.stderr.decode(), r"\* TLS connection using TLSv1\.[23] / ")
        self.assertIn(b"* ALPN: server accepted http/1.1", result.stderr)

    def test_https_big_body_over_one_connection(self):
        ca = os.path.join(self.nginx.dir, "ca.pem")
        result = http("-v", "--cacert", ca, self.nginx.tls_url("/big.bin", "127.0.0.1"),
                      self.nginx.tls_url("/small.txt", "127.0.0.1"))
        self.assertSucceeds(result)
        self.assertEqual(sha256(result.stdout), sha256(self.nginx.big + SMALL))
        self.assertEqual(result.stderr.count(b"* Re-using existing connection"), 1)

    def test_https_untrusted_certificate_fails(self):
        result = self.https()
        self.assertFails(result, 1, "certificate verify failed")

    def test_https_insecure_accepts_it(self):
        result = self.https("--insecure")
        self.assertSucceeds(result)
        self.assertEqual(result.stdout, SMALL)

    def test_https_wrong_host_name_fails(self):
        result = self.https("--cacert", os.path.join(self.nginx.dir, "ca.pem"),
                            host="wrong.invalid")
        self.assertFails(result, 1, "certificate verify failed: hostname mismatch")

    def mtls(self, *args):
        return http("--cacert", os.path.join(self.nginx.dir, "ca.pem"), *args,
                    f"https://127.0.0.1:{self.nginx.mtls_port}/small.txt")

    def test_https_client_certificate_is_presented(self):
        result = self.mtls("-E", os.path.join(self.nginx.dir, "client.pem"), "--key",
                           os.path.join(self.nginx.dir, "client.key"))
        self.assertSucceeds(result)
        self.assertEqual(result.stdout, SMALL)

    def test_https_encrypted_client_key_needs_its_password(self):
        args = ["-E", os.path.join(self.nginx.dir, "client.pem"), "--key",
                os.path.join(self.nginx.dir, "client-encrypted.key")]
        result = self.mtls(*args, "--pass", "s3cret")
        self.assertSucceeds(result)
        self.assertEqual(result.stdout, SMALL)
        result = self.mtls(*args)
        self.assertFails(result, 1, "client-encrypted.key is encrypted: give its password")

    def test_https_without_the_client_certificate_gets_nginx_s_400(self):
        result = self.mtls("-f")
        self.assertEqual(result.returncode, 22, result.stderr.decode())

    def test_https_to_a_plain_port_fails(self):
        result = http("--insecure", f"https://127.0.0.1:{self.nginx.port}/")
        self.assertFails(result, 1, "TLS handshake with 127.0.0.1")


class RequestTest(LeakCheckedTestCase):
    """A Python HTTP/1.1 server that reports what it received."""

    def setUp(self):
        super().setUp()
        self.server = RecordingServer()
        self.addCleanup(self.server.close)

    def received(self, *args):
        result = http(*args)
        self.assertSucceeds(result)
        return json.loads(result.stdout)

    def test_post_data(self):
        got = self.received("-d", "a=1&b=2", self.server.url("/echo"))
        self.assertEqual(got["method"], "POST")
        self.assertEqual(got["body"], "a=1&b=2")
        self.assertIn(["Content-Type", "application/x-www-form-urlencoded"], got["headers"])

    def test_put_binary_file(self):
        payload = bytes(range(256)) * 64
        with tempfile.NamedTemporaryFile() as f:
            f.write(payload)
            f.flush()
            got = self.received("PUT", self.server.url("/echo"), "--data-file", f.name)
        self.assertEqual(got["method"], "PUT")
        self.assertEqual(got["body"].encode("latin-1"), payload)

    def test_headers_replace_remove_and_add(self):
        got = self.received("-H", "User-Agent: tester", "-H", "Accept:", "-H", "X-One: 1",
                            self.server.url("/echo"))
        headers = dict(got["headers"])
        self.assertEqual(headers["User-Agent"], "tester")
        self.assertNotIn("Accept", headers)
        self.assertEqual(headers["X-One"], "1")

    def test_chunked_body_is_decoded(self):
        result = http(self.server.url("/chunked"))
        self.assertSucceeds(result)
        self.assertEqual(result.stdout, b"hello world!")

    def test_keep_alive_counts_one_connection(self):
        result = http(self.server.url("/chunked"), self.server.url("/chunked"),
                      self.server.url("/echo"))
        self.assertSucceeds(result)
        self.assertTrue(result.stdout.startswith(b"hello world!hello world!{"))
        self.assertEqual(self.server.connections, 1)

    def test_301_303_turn_post_into_get_307_308_keep_it(self):
        for code, method, body in ((301, "GET", ""), (302, "GET", ""), (303, "GET", ""),
                                   (307, "POST", "x=1"), (308, "POST", "x=1")):
            with self.subTest(code=code):
                got = self.received("-L", "-d", "x=1", self.server.url(f"/redirect/{code}"))
                self.assertEqual((got["method"], got["body"], got["path"]),
                                 (method, body, "/echo"))

    def test_relative_redirect(self):
        got = self.received("-L", self.server.url("/redirect/302?to=../echo?q=1"))
        self.assertEqual(got["path"], "/echo?q=1")

    def test_head_method(self):
        result = http("-I", self.server.url("/x"))
        self.assertSucceeds(result)
        self.assertIn(b"Content-Length: 1234", result.stdout)

    def test_explicit_method(self):
        self.assertEqual(self.received("DELETE", self.server.url("/echo"))["method"], "DELETE")
        self.assertEqual(self.received("-X", "PATCH", self.server.url("/echo"))["method"],
                         "PATCH")


def reply_with(data, read_request=True):
    """A raw handler that reads the request head and sends data, then closes."""
    def handler(conn):
        if read_request:
            conn.recv(65536)
        conn.sendall(data)
    return handler


class FailureTest(LeakCheckedTestCase):
    """Every failure is one line on stderr and exit 1 (usage: 2), never a hang."""

    def test_malformed_response(self):
        with ThreadedServer(reply_with(b"HELLO THERE\r\n\r\n")) as server:
            result = http(f"http://127.0.0.1:{server.port}/")
        self.assertFails(result, 1, "malformed response")

    def test_truncated_body(self):
        with ThreadedServer(reply_with(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")) \
                as server:
            result = http(f"http://127.0.0.1:{server.port}/")
        self.assertFails(result, 1, "connection closed after 3 of 10 body bytes")
        self.assertEqual(result.stdout, b"abc")

    def test_empty_reply(self):
        with ThreadedServer(reply_with(b"")) as server:
            result = http(f"http://127.0.0.1:{server.port}/")
        self.assertFails(result, 1, "empty reply")

    def test_stalling_server_times_out(self):
        release = threading.Event()

        def stall(conn):
            conn.recv(65536)
            release.wait(DEFAULT_TIMEOUT)

        with ThreadedServer(stall) as server:
            result = http("--timeout", "0.3s", f"http://127.0.0.1:{server.port}/")
            release.set()
        self.assertFails(result, 1, "timed out")

    def test_refused(self):
        result = http(f"http://127.0.0.1:{free_port()}/")
        self.assertFails(result, 1, "Connection refused")

    def test_unresolvable(self):
        result = http(f"http://{UNRESOLVABLE}/")
        self.assertFails(result, 1, UNRESOLVABLE)

    def test_malformed_urls(self):
        for url, reason in (("http://[::1/", "IPv6"), ("ftp://h/", "unsupported scheme"),
                            ("http://h:99999/", "port out of range"),
                            ("http://u:p@h/", "credentials")):
            with self.subTest(url=url):
                self.assertFails(http(url), 1, reason)

    def test_usage_errors(self):
        self.assertFails(http("-H", "no colon", "http://127.0.0.1/"), 2, "Name: value")
        self.assertFails(http("--resolve", "h:80", "http://h/"), 2, "HOST:PORT:ADDRESS")
        self.assertFails(http("-I", "-d", "x", "http://127.0.0.1/"), 2, "no body")


def read_head(conn):
    """Reads one request head (and a Content-Length body) from conn; None at its close."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            break
        body += chunk
    return head


def ok(body):
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)


def drain(conn):
    """Waits (bounded) for the client to close conn."""
    conn.settimeout(DEFAULT_TIMEOUT)
    with contextlib.suppress(OSError):
        while conn.recv(65536):
            pass


class HostileServerTest(LeakCheckedTestCase):
    """Servers that refuse, reset, fail, redirect across ports, send more than they framed or
    close a kept-alive connection under a request: what the client must not do then."""

    def setUp(self):
        super().setUp()
        self.dir = tempfile.mkdtemp(prefix="sockit-http-out-")
        self.addCleanup(shutil.rmtree, self.dir, ignore_errors=True)
        self.path = os.path.join(self.dir, "out.txt")
        with open(self.path, "wb") as f:
            f.write(b"old contents\n")

    def assertOldFileIntact(self):
        with open(self.path, "rb") as f:
            self.assertEqual(f.read(), b"old contents\n")
        self.assertEqual(os.listdir(self.dir), ["out.txt"])

    def test_output_file_untouched_when_refused(self):
        result = http("-o", self.path, f"http://127.0.0.1:{free_port()}/")
        self.assertFails(result, 1, "Connection refused")
        self.assertOldFileIntact()

    def test_output_file_untouched_on_404_with_fail(self):
        def not_found(conn):
            read_head(conn)
            conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found")
            drain(conn)

        with ThreadedServer(not_found) as server:
            result = http("--fail", "-o", self.path, f"http://127.0.0.1:{server.port}/")
        self.assertFails(result, 22, "404")
        self.assertOldFileIntact()

    def test_output_file_untouched_when_reset_mid_body(self):
        def reset(conn):
            read_head(conn)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial")
            time.sleep(0.1)
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")

        with ThreadedServer(reset) as server:
            result = http("-o", self.path, f"http://127.0.0.1:{server.port}/")
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertOldFileIntact()

    def test_output_file_replaced_when_the_transfer_completes(self):
        def answer(conn):
            read_head(conn)
            conn.sendall(ok(b"new contents\n"))
            drain(conn)

        with ThreadedServer(answer) as server:
            result = http("-o", self.path, f"http://127.0.0.1:{server.port}/")
        self.assertSucceeds(result)
        with open(self.path, "rb") as f:
            self.assertEqual(f.read(), b"new contents\n")
        self.assertEqual(os.listdir(self.dir), ["out.txt"])

    def test_write_error_on_stdout_exits_23(self):
        def answer(conn):
            read_head(conn)
            conn.sendall(ok(b"x" * 100000))
            drain(conn)

        with ThreadedServer(answer) as server, open("/dev/full", "wb") as full:
            result = subprocess.run([SOCKIT, "http", f"http://127.0.0.1:{server.port}/"],
                                    stdout=full, stderr=subprocess.PIPE, timeout=DEFAULT_TIMEOUT)
        self.assertEqual(result.returncode, 23, result.stderr)
        self.assertIn(b"No space left on device", result.stderr)

    def test_credentials_dropped_on_a_redirect_to_another_port(self):
        target = RecordingServer()
        self.addCleanup(target.close)

        def redirect(conn):
            read_head(conn)
            location = target.url("/echo").encode()
            conn.sendall(b"HTTP/1.1 302 Found\r\nLocation: %s\r\nContent-Length: 0\r\n\r\n"
                         % location)
            drain(conn)

        with ThreadedServer(redirect) as server:
            result = http("-L", "-H", "Authorization: Bearer secret", "-H", "Cookie: id=1",
                          "-H", "X-Kept: yes", f"http://127.0.0.1:{server.port}/")
        self.assertSucceeds(result)
        names = [name.lower() for name, _ in json.loads(result.stdout)["headers"]]
        self.assertNotIn("authorization", names)
        self.assertNotIn("cookie", names)
        self.assertIn("x-kept", names)

    def test_bytes_past_a_response_are_not_the_next_response(self):
        def inject(conn):
            if read_head(conn) is None:
                return
            if server.connections == 1:
                conn.sendall(ok(b"ok") + ok(b"fake"))
            else:
                conn.sendall(ok(b"real"))
            while read_head(conn) is not None:
                conn.sendall(ok(b"real"))

        with ThreadedServer(inject) as server:
            url = f"http://127.0.0.1:{server.port}/"
            result = http(url, url)
            connections = server.connections
        self.assertSucceeds(result)
        self.assertEqual(result.stdout, b"okreal")
        self.assertEqual(connections, 2)

    def closing_after_the_second_request(self, *args):
        """Runs the client against a server whose first connection answers one request and
        closes under the next; the result and the requests the server received."""
        heads = []

        def serve(conn):
            first = server.connections == 1
            while (head := read_head(conn)) is not None:
                heads.append(head.split(b"\r\n")[0])
                if first and len(heads) == 2:
                    return
                conn.sendall(ok(b"ok"))

        with ThreadedServer(serve) as server:
            url = f"http://127.0.0.1:{server.port}/"
            result = http(*args, url, url)
        return result, heads

    def test_post_on_a_closed_connection_is_not_sent_again(self):
        result, heads = self.closing_after_the_second_request("-d", "x=1")
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertEqual(heads, [b"POST / HTTP/1.1"] * 2)

    def test_get_on_a_closed_connection_is_retried(self):
        result, heads = self.closing_after_the_second_request()
        self.assertSucceeds(result)
        self.assertEqual(result.stdout, b"okok")
        self.assertEqual(heads, [b"GET / HTTP/1.1"] * 3)


if __name__ == "__main__":
    unittest.main()
