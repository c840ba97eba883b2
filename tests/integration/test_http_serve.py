"""`sockit serve http` on loopback against real clients: curl, ab and wrk, and raw sockets for
what those will not send: pipelined requests, traversal attempts, malformed requests, and a
thousand slow clients (slowloris) holding half-sent heads."""
import contextlib
import gzip
import hashlib
import json
import os
import re
import resource
import shutil
import socket
import struct
import subprocess
import tempfile
import time
import unittest

from sockit_test import (DEFAULT_TIMEOUT, LeakCheckedTestCase, Serve, curl, has_ipv6_loopback,
                         parse_responses)

KIB = 1024
MIB = 1024 * KIB
SECRET = b"this file lies outside the root"
# Statuses a refused traversal may get: never the file, never a crash.
REFUSED = {400, 403, 404}


def make_site(base):
    """A root with a page, a binary file big enough for sendfile, a directory, a .gz sibling
    and symlinks; and a secret file next to the root, which no request may reach."""
    root = os.path.join(base, "root")
    os.makedirs(os.path.join(root, "docs", "sub dir"))
    with open(os.path.join(base, "secret.txt"), "wb") as f:
        f.write(SECRET)
    files = {
        "index.html": b"<!DOCTYPE html><title>home</title><p>hello</p>\n",
        "page.html": (b"<p>" + b"x" * 390 + b"</p>\n"),
        "big.bin": os.urandom(3 * MIB + 17),
        "style.css": b"body { color: black }\n",
        "docs/notes.txt": b"notes\n" * 100,
        "docs/<b>&'\".txt": b"odd name\n",
    }
    for name, data in files.items():
        with open(os.path.join(root, name), "wb") as f:
            f.write(data)
    with open(os.path.join(root, "style.css.gz"), "wb") as f:
        f.write(gzip.compress(files["style.css"]))
    os.symlink(os.path.join(base, "secret.txt"), os.path.join(root, "escape"))
    os.symlink("../secret.txt", os.path.join(root, "escape-relative"))
    os.symlink("docs", os.path.join(root, "docs-link"))
    return root, files


def raw_exchange(address, request, timeout=DEFAULT_TIMEOUT):
    """Sends request bytes and returns everything the server sends until it closes."""
    with socket.create_connection(address, timeout=timeout) as sock:
        sock.sendall(request)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
        return b"".join(chunks)


class HttpServeTest(LeakCheckedTestCase):
    @classmethod
    def setUpClass(cls):
        cls.base = tempfile.mkdtemp(prefix="sockit-http-")
        cls.root, cls.files = make_site(cls.base)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.base)

    def serve(self, *args):
        return Serve("http", "--bind", "127.0.0.1", "--http-port", "0", "--root", self.root,
                     *args)

    def url(self, server, path="/"):
        host, port = server.address("http")
        return f"http://{host}:{port}{path}"

    def test_curl_gets_files_with_the_right_bytes_and_headers(self):
        with self.serve() as server:
            for name, data in self.files.items():
                with self.subTest(name=name):
                    path = "/" + "/".join(
                        part.replace("<", "%3C").replace(">", "%3E").replace("&", "%26")
                        .replace("'", "%27").replace('"', "%22") for part in name.split("/"))
                    result = curl("-D", "-", "-o", "/dev/stdout", self.url(server, path))
                    self.assertEqual(result.returncode, 0, result.stderr)
                    status, headers, body = parse_responses(result.stdout)[0]
                    self.assertEqual(status, 200)
                    self.assertEqual(hashlib.sha256(body).hexdigest(),
                                     hashlib.sha256(data).hexdigest())
                    self.assertEqual(int(headers["content-length"]), len(data))
                    self.assertEqual(headers["server"], "sockit/0.1.0")
                    self.assertRegex(headers["date"], r"\w{3}, \d\d \w{3} \d{4} [\d:]{8} GMT")
                    self.assertRegex(headers["etag"], r'^"[0-9a-f.]+-[0-9a-f]+"$')
                    self.assertIn("last-modified", headers)
            types = {"/index.html": "text/html", "/style.css": "text/css",
                     "/docs/notes.txt": "text/plain", "/big.bin": "application/octet-stream"}
            for path, media_type in types.items():
                result = curl("-o", "/dev/null", "-w", "%{content_type}", self.url(server, path))
                self.assertEqual(result.stdout.decode(), media_type)

    def test_head_range_and_conditional_requests(self):
        with self.serve() as server:
            url = self.url(server, "/big.bin")
            head = curl("-I", url)
            status, headers, _ = parse_responses(head.stdout, head_only=True)[0]
            self.assertEqual(status, 200)
            self.assertEqual(int(headers["content-length"]), len(self.files["big.bin"]))
            etag, modified = headers["etag"], headers["last-modified"]

            ranged = curl("-r", "1000-1999", "-o", "-", "-w", "%{http_code}", url)
            self.assertEqual(ranged.stdout[-3:], b"206")
            self.assertEqual(ranged.stdout[:-3], self.files["big.bin"][1000:2000])
            tail = curl("-r", "-100", "-o", "-", url)
            self.assertEqual(tail.stdout, self.files["big.bin"][-100:])
            beyond = curl("-r", "99999999-", "-o", "/dev/null", "-w", "%{http_code}", url)
            self.assertEqual(beyond.stdout, b"416")

            for header in (f"If-None-Match: {etag}", f"If-Modified-Since: {modified}"):
                with self.subTest(header=header):
                    result = curl("-H", header, "-o", "/dev/null", "-w", "%{http_code} %{size_download}",
                                  url)
                    self.assertEqual(result.stdout, b"304 0")
            stale = curl("-H", 'If-None-Match: "stale"', "-o", "/dev/null", "-w", "%{http_code}", url)
            self.assertEqual(stale.stdout, b"200")

    def test_precompressed_sibling_when_the_client_accepts_gzip(self):
        with self.serve() as server:
            result = curl("--compressed", "-D", "-", "-o", "/dev/stdout",
                          self.url(server, "/style.css"))
            status, headers, body = parse_responses(result.stdout)[0]
            self.assertEqual(headers["content-encoding"], "gzip")
            self.assertEqual(headers["vary"], "Accept-Encoding")
            self.assertEqual(headers["content-type"], "text/css")
            plain = curl("-D", "-", "-o", "/dev/null", self.url(server, "/style.css"))
            plain_headers = parse_responses(plain.stdout, head_only=True)[0][1]
            self.assertNotIn("content-encoding", plain_headers)
            self.assertNotEqual(plain_headers["etag"], headers["etag"])

    def test_directories_redirect_index_and_listing(self):
        with self.serve() as server:
            redirect = curl("-o", "/dev/null", "-w", "%{http_code} %{redirect_url}",
                            self.url(server, "/docs"))
            self.assertEqual(redirect.stdout.decode(), f"301 {self.url(server, '/docs/')}")
            listing = curl(self.url(server, "/docs/")).stdout.decode()
            self.assertIn('<a href="notes.txt">notes.txt</a>', listing)
            self.assertIn('<a href="sub%20dir/">sub dir/</a>', listing)
            self.assertIn("&lt;b&gt;&amp;&#39;&quot;.txt", listing)
            self.assertNotIn("<b>", listing)
            self.assertEqual(curl(self.url(server, "/")).stdout, self.files["index.html"])
            self.assertIn("notes.txt", curl(self.url(server, "/docs-link/")).stdout.decode())
        with self.serve("--no-listing") as server:
            result = curl("-o", "/dev/null", "-w", "%{http_code}", self.url(server, "/docs/"))
            self.assertEqual(result.stdout, b"403")

    def test_keep_alive_reuses_one_connection_for_many_requests(self):
        with self.serve() as server:
            urls = [self.url(server, p) for p in ("/index.html", "/big.bin", "/style.css")] * 3
            result = curl("-v", *[arg for u in urls for arg in ("-o", "/dev/null", u)])
            self.assertEqual(result.returncode, 0, result.stderr)
            self.assertEqual(result.stderr.decode().count("Re-using existing connection"), 8)
        self.assertEqual(server.counters["http"]["connections"], 1)

    def test_pipelined_requests_are_answered_in_order(self):
        with self.serve() as server:
            request = b"".join(
                f"GET {p} HTTP/1.1\r\nHost: x\r\n\r\n".encode()
                for p in ("/index.html", "/missing", "/style.css", "/page.html"))
            request += b"HEAD /index.html HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            data = raw_exchange(server.address("http"), request)
            statuses = [r[0] for r in parse_responses(data[:data.rfind(b"HTTP/1.1 200")])]
            last = parse_responses(data[data.rfind(b"HTTP/1.1 200"):], head_only=True)
            self.assertEqual(statuses, [200, 404, 200, 200])
            self.assertEqual(last[0][0], 200)
            self.assertEqual(last[0][1]["connection"], "close")
            bodies = [r[2] for r in parse_responses(data[:data.rfind(b"HTTP/1.1 200")])]
            self.assertEqual(bodies[0], self.files["index.html"])
            self.assertEqual(bodies[2], self.files["style.css"])
            self.assertEqual(bodies[3], self.files["page.html"])

    def test_pipelined_requests_beyond_one_read_are_all_answered(self):
        # Three 30 KB heads sent at once: the first 64 KiB read ends inside the third, whose
        # rest is already waiting in the socket and brings no new readiness report. The
        # client keeps its side open, so only the server's reading gets it answered (before
        # the head timeout would close the connection).
        padded = "GET /index.html HTTP/1.1\r\nHost: x\r\nX-Pad: " + "p" * 30000 + "\r\n"
        request = ((padded + "\r\n") * 2 + padded + "Connection: close\r\n\r\n").encode()
        with self.serve("--header-timeout", "3s") as server:
            for attempt in range(8):
                with self.subTest(attempt=attempt), \
                        socket.create_connection(server.address("http"),
                                                 timeout=DEFAULT_TIMEOUT) as sock:
                    sock.sendall(request)
                    chunks = []
                    while chunk := sock.recv(65536):
                        chunks.append(chunk)
                    statuses = [r[0] for r in parse_responses(b"".join(chunks))]
                    self.assertEqual(statuses, [200, 200, 200])

    def test_request_bodies_are_skipped_so_the_next_request_parses(self):
        with self.serve() as server:
            body = b"B" * 5000
            request = (b"GET /index.html HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n" +
                       body + b"GET /style.css HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            responses = parse_responses(raw_exchange(server.address("http"), request))
            self.assertEqual([r[0] for r in responses], [200, 200])
            self.assertEqual(responses[1][2], self.files["style.css"])

    def test_traversal_attempts_never_reach_outside_the_root(self):
        targets = [
            "/../secret.txt", "/../../../../etc/passwd", "/..", "/docs/../../secret.txt",
            "/%2e%2e/secret.txt", "/%2E%2E/secret.txt", "/.%2e/secret.txt", "/%2e./secret.txt",
            "/..%2fsecret.txt", "/..%2Fsecret.txt", "/%2e%2e%2fsecret.txt", "/docs/..%5c..%5csecret.txt",
            "/..\\secret.txt", "/./../secret.txt", "//../secret.txt", "/docs/./../../secret.txt",
            "/escape", "/escape-relative", "/docs-link/../../secret.txt", "/index.html%00.txt",
            "/%00", "/%252e%252e/secret.txt", "http://x/../secret.txt", "/%c0%ae%c0%ae/secret.txt",
            "/docs/%2e%2e/%2e%2e/secret.txt", "/" + "../" * 50 + "secret.txt",
        ]
        with self.serve() as server:
            for target in targets:
                with self.subTest(target=target):
                    request = f"GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
                    data = raw_exchange(server.address("http"), request.encode("latin-1"))
                    status = parse_responses(data)[0][0]
                    self.assertIn(status, REFUSED)
                    self.assertNotIn(SECRET, data)
            # Still serving.
            self.assertEqual(curl(self.url(server, "/index.html")).stdout, self.files["index.html"])
        with self.serve("--follow-symlinks") as server:
            self.assertEqual(curl(self.url(server, "/escape")).stdout, SECRET)
            data = raw_exchange(server.address("http"),
                                b"GET /../secret.txt HTTP/1.1\r\nHost: x\r\n\r\n")
            self.assertNotIn(SECRET, data)

    def test_malformed_requests_get_the_right_status(self):
        long_target = "/" + "a" * 9000
        cases = [
            (b"GARBAGE\r\n\r\n", 400),
            (b"GET /\r\n\r\n", 505),  # HTTP/0.9
            (b"GET / HTTP/1.1\r\n\r\n", 400),  # no Host
            (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400),
            (b"GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505),
            (b"GET / HTTX/1.1\r\nHost: x\r\n\r\n", 400),
            (f"GET {long_target} HTTP/1.1\r\nHost: x\r\n\r\n".encode(), 414),
            (b"GET / HTTP/1.1\r\nHost: x\r\nX: " + b"v" * 70000 + b"\r\n\r\n", 431),
            (b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(b"H%d: v\r\n" % i for i in range(200)) +
             b"\r\n", 431),
            (b"GET / HTTP/1.1\r\nHost: x\r\nX: a\r\n folded\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nHost: x\r\nBad Name: v\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nHost: x\r\nX : v\r\n\r\n", 400),
            (b"GET / HTTP/1.1\r\nHost: x\r\nX: a\x00b\r\n\r\n", 400),
            (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked"
             b"\r\n\r\n", 400),
            (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", 400),
            (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", 400),
            (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501),
            (b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc", 405),
            (b"DELETE /index.html HTTP/1.1\r\nHost: x\r\n\r\n", 405),
            (b"BREW /pot HTTP/1.1\r\nHost: x\r\n\r\n", 501),
            (b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n", 413),
            (b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 413),
        ]
        with self.serve() as server:
            for request, status in cases:
                with self.subTest(request=request[:60]):
                    data = raw_exchange(server.address("http"), request)
                    got_status, headers, body = parse_responses(data)[0]
                    self.assertEqual(got_status, status, data[:300])
                    # The framing of what follows cannot be trusted: the connection ends.
                    if status != 405 and not request.startswith(b"BREW"):
                        self.assertEqual(headers.get("connection"), "close")
                    self.assertIn(str(status).encode(), body)
            self.assertEqual(curl(self.url(server, "/index.html")).stdout, self.files["index.html"])

    def test_slowloris_clients_do_not_hold_the_server(self):
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 4096)), hard))
        self.addCleanup(resource.setrlimit, resource.RLIMIT_NOFILE, (soft, hard))
        slow = []
        try:
            with self.serve("--header-timeout", "3s", "--threads", "1") as server:
                for _ in range(1000):
                    sock = socket.create_connection(server.address("http"),
                                                    timeout=DEFAULT_TIMEOUT)
                    sock.sendall(b"GET /index.html HTTP/1.1\r\nHost: x\r\nX-Slow: ")
                    slow.append(sock)
                # A normal client is served while the thousand hold their half-sent heads.
                result = curl("--max-time", "10", self.url(server, "/index.html"))
                self.assertEqual(result.returncode, 0, result.stderr)
                self.assertEqual(result.stdout, self.files["index.html"])
                # After the head deadline the server closes them, without a reply.
                for sock in slow[:20]:
                    self.assertEqual(sock.recv(100), b"")
        finally:
            for sock in slow:
                sock.close()

    def test_idle_keep_alive_connections_are_closed(self):
        with self.serve("--idle-timeout", "1s") as server:
            with socket.create_connection(server.address("http"),
                                          timeout=DEFAULT_TIMEOUT) as sock:
                sock.sendall(b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n")
                data = b""
                while len(data) < len(self.files["index.html"]) or b"\r\n\r\n" not in data:
                    data += sock.recv(65536)
                started = time.monotonic()
                self.assertEqual(sock.recv(100), b"")
                self.assertLess(time.monotonic() - started, DEFAULT_TIMEOUT)

    def test_access_log_in_common_log_format(self):
        with self.serve("-v") as server:
            curl(self.url(server, "/index.html"))
            curl(self.url(server, "/missing"))
            server.stop()
        lines = [line for line in server.stderr.splitlines() if '"GET' in line]
        clf = re.compile(r'^127\.0\.0\.1 - - \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d \+0000\] '
                         r'"GET (\S+) HTTP/1\.1" (\d{3}) (\d+|-)$')
        parsed = [clf.match(line).groups() for line in lines]
        self.assertEqual(parsed[0], ("/index.html", "200", str(len(self.files["index.html"]))))
        self.assertEqual(parsed[1][:2], ("/missing", "404"))

    def test_ab_without_keep_alive_gets_every_byte(self):
        requests = 2000
        with self.serve() as server:
            result = subprocess.run(
                ["ab", "-q", "-c", "50", "-n", str(requests), self.url(server, "/page.html")],
                capture_output=True, timeout=120)
        out = result.stdout.decode()
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertRegex(out, rf"Complete requests:\s+{requests}\b")
        self.assertRegex(out, r"Failed requests:\s+0\b")
        self.assertNotIn("Non-2xx", out)
        html = int(re.search(r"HTML transferred:\s+(\d+)", out)[1])
        self.assertEqual(html, requests * len(self.files["page.html"]))
        # ab opens a connection per request (and may open a few spare ones at the end).
        self.assertGreaterEqual(server.counters["http"]["connections"], requests)

    def test_wrk_keep_alive_load_sees_only_200s(self):
        with self.serve("--threads", "2") as server:
            result = subprocess.run(
                ["wrk", "-t1", "-c20", "-d1s", "--timeout", "5s", self.url(server, "/page.html")],
                capture_output=True, timeout=60)
        out = result.stdout.decode()
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertNotIn("Non-2xx", out)
        self.assertNotIn("Socket errors", out)
        done = int(re.search(r"(\d+) requests in", out)[1])
        self.assertGreater(done, 0)
        # Keep-alive: a handful of connections carried every request.
        self.assertLess(server.counters["http"]["connections"], max(done // 10, 40))

    @unittest.skipUnless(has_ipv6_loopback(), "no IPv6 loopback on this host")
    def test_ipv6(self):
        with Serve("http", "--bind", "::1", "--http-port", "0", "--root", self.root) as server:
            port = server.port("http")
            result = curl(f"http://[::1]:{port}/index.html")
            self.assertEqual(result.stdout, self.files["index.html"])

    def test_without_a_root_the_page_lists_the_running_services(self):
        with Serve("--bind", "127.0.0.1", "--echo-port", "0", "--daytime-port", "0",
                   "--qotd-port", "0", "--chat-port", "0", "--http-port", "0") as server:
            host, port = server.address("http")
            page = curl(f"http://{host}:{port}/").stdout.decode()
            for service in ("echo", "daytime", "qotd", "chat", "http"):
                self.assertIn(f"{service} ", page)
            self.assertIn(f"{host}:{server.port('echo')}", page)
            missing = curl("-o", "/dev/null", "-w", "%{http_code}", f"http://{host}:{port}/x")
            self.assertEqual(missing.stdout, b"404")

    def test_a_missing_root_is_a_usage_error(self):
        result = subprocess.run([os.environ.get("SOCKIT_BIN", "sockit"), "serve", "http", "--root",
                                 os.path.join(self.base, "nope")], capture_output=True,
                                timeout=DEFAULT_TIMEOUT)
        self.assertEqual(result.returncode, 2)
        self.assertIn("--root", result.stderr.decode())


class HttpHardeningTest(LeakCheckedTestCase):
    """Limits that hold a server's slots or stall its replies."""

    @classmethod
    def setUpClass(cls):
        cls.base = tempfile.mkdtemp(prefix="sockit-http-hard-")
        cls.root = os.path.join(cls.base, "root")
        os.makedirs(cls.root)
        with open(os.path.join(cls.root, "index.html"), "wb") as f:
            f.write(b"<p>hello</p>\n")
        # Sparse: costs no disk, and more than the socket buffers of a client can hold.
        with open(os.path.join(cls.root, "huge.bin"), "wb") as f:
            f.truncate(64 * MIB)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.base)

    def serve(self, *args):
        return Serve("http", "--bind", "127.0.0.1", "--http-port", "0", "--root", self.root,
                     "--threads", "1", *args)

    def test_a_refusal_for_max_conns_is_a_503(self):
        with self.serve("--max-conns", "1") as server:
            address = server.address("http")
            with socket.create_connection(address, timeout=DEFAULT_TIMEOUT) as held:
                held.sendall(b"GET /index.html HTTP/1.1\r\nHost: x\r\n\r\n")
                self.assertIn(b"200 OK", held.recv(65536))  # and the connection stays open
                reply = raw_exchange(address, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            status, headers, _ = parse_responses(reply)[0]
            self.assertEqual(status, 503)
            self.assertEqual(headers.get("connection"), "close")
        self.assertEqual(server.counters["http"]["rejected"], 1)

    def test_clients_that_never_read_free_their_slots_after_the_send_timeout(self):
        send_timeout = 1.0
        with self.serve("--max-conns", "50", "--send-timeout", f"{send_timeout}s") as server, \
                contextlib.ExitStack() as stack:
            address = server.address("http")
            for _ in range(50):
                sock = stack.enter_context(socket.socket())
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
                sock.settimeout(DEFAULT_TIMEOUT)
                sock.connect(address)
                sock.sendall(b"GET /huge.bin HTTP/1.1\r\nHost: x\r\n\r\n")
            started = time.monotonic()
            margin = 5.0
            served = None
            while served is None and time.monotonic() - started < send_timeout + margin:
                try:
                    reply = raw_exchange(address, b"GET /index.html HTTP/1.1\r\nHost: x\r\n"
                                                  b"Connection: close\r\n\r\n", timeout=1)
                    if reply.startswith(b"HTTP/1.1 200"):
                        served = time.monotonic() - started
                except OSError:
                    pass
                time.sleep(0.1)
            self.assertIsNotNone(served, "no slot came free within the send timeout")
        self.assertGreaterEqual(server.counters["http"]["rejected"], 1)

    def test_pipelining_is_not_slower_than_one_request_at_a_time(self):
        # Nagle against delayed ACKs used to hold each pipelined batch's second reply for
        # about 40 ms: pipelined throughput was a hundredth of the unpipelined.
        with self.serve() as server:
            host, port = server.address("http")
            url = f"http://{host}:{port}/index.html"
            rates = {}
            for pipeline in ("1", "2"):
                result = subprocess.run(
                    [os.environ.get("SOCKIT_BIN", "sockit"), "bench", url, "-c", "10", "-n",
                     "4000", "--pipeline", pipeline, "--json"],
                    capture_output=True, timeout=DEFAULT_TIMEOUT * 4)
                self.assertEqual(result.returncode, 0, result.stderr)
                rates[pipeline] = json.loads(result.stdout)["requests_per_second"]
        self.assertGreater(rates["2"] * 3, rates["1"], rates)

    def test_an_aborted_reply_gets_its_access_log_line(self):
        with self.serve("-v") as server:
            with socket.create_connection(server.address("http"), timeout=DEFAULT_TIMEOUT) as s:
                s.sendall(b"GET /huge.bin HTTP/1.1\r\nHost: x\r\n\r\n")
                received = len(s.recv(65536))
                self.assertGreater(received, 0)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.assertEqual(server.stop(), 0, server.stderr)
        lines = [line for line in server.stderr.splitlines() if "GET /huge.bin" in line]
        self.assertEqual(len(lines), 1, server.stderr)
        sent = lines[0].rsplit(" ", 1)[1]
        self.assertTrue(sent.isdigit() and 0 < int(sent) < 64 * MIB, lines[0])


if __name__ == "__main__":
    unittest.main()
