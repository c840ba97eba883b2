"""sockit bench end to end against Python servers on loopback: exact request counts (counted
at the server), keep-alive and not, pipelining, several URLs, the latency of a server that
takes a known 10 ms, coordinated omission with and without a rate, errors by kind (refused,
reset, garbage, timeout), tcp:// and udp:// against sockit serve echo, the output formats
(the HTML report rendered by headless Chromium) and --fail-if; https:// against nginx
(handshakes per connection, resumed sessions, verification) and tcp:// --ssl against socat."""
import http.client
import json
import os
import re
import resource
import shutil
import socket
import statistics
import struct
import subprocess
import tempfile
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from sockit_test import (DEFAULT_TIMEOUT, LeakCheckedTestCase, Serve, ThreadedServer, free_port,
                         make_certificates, run, stop, wait_listening)


class CountingServer(ThreadingHTTPServer):
    """HTTP/1.1 with keep-alive on a loopback port 0; counts requests and connections.

    delay: seconds every reply waits; stall_at: the request number (from 1) that waits a
    whole second, once; status: the status of every reply.
    """

    daemon_threads = True

    def __init__(self, delay=0.0, stall_at=0, status=200):
        super().__init__(("127.0.0.1", 0), Handler)
        self.delay = delay
        self.stall_at = stall_at
        self.status = status
        self.requests = 0
        self.connections = 0
        self.seen = []  # (method, X-Test header, body) of each request
        self.lock = threading.Lock()
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}/"

    def get_request(self):
        accepted = super().get_request()
        with self.lock:
            self.connections += 1
        return accepted

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()
        self.thread.join(timeout=5)


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Each reply in one write, sent at once: no Nagle delay against the client's delayed ACK.
    wbufsize = -1
    disable_nagle_algorithm = True

    def do_GET(self):
        server = self.server
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with server.lock:
            server.requests += 1
            number = server.requests
            server.seen.append((self.command, self.headers.get("X-Test"), body))
        if number == server.stall_at:
            time.sleep(1)
        elif server.delay:
            time.sleep(server.delay)
        body = b"ok\n"
        self.send_response(server.status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_POST = do_GET

    def log_message(self, *args):
        pass


CHROMIUM = shutil.which("chromium")


def bench(*args, **kwargs):
    """Runs sockit bench ... --json; returns (CompletedProcess, the parsed report or None)."""
    result = run("bench", *args, "--json", **kwargs)
    try:
        report = json.loads(result.stdout)
    except ValueError:
        report = None
    return result, report


class CountTest(LeakCheckedTestCase):
    def bench_counted(self, *args):
        """`sockit bench URL ARGS...` against a CountingServer, which must succeed: the server
        (stopped) and the report."""
        with CountingServer() as server:
            result, report = bench(server.url, *args)
            self.assertSucceeds(result)
        return server, report

    def test_exact_count_with_keepalive(self):
        server, report = self.bench_counted("-c", 10, "-t", 2, "-n", 1000)
        self.assertEqual(server.requests, 1000)
        self.assertEqual(report["requests"], 1000)
        self.assertEqual(report["status_codes"], {"200": 1000})
        self.assertEqual(report["error_total"], 0)
        self.assertLessEqual(server.connections, 10)
        self.assertEqual(report["latency"]["count"], 1000)
        self.assertEqual(sum(report["per_second"]), 1000)

    def test_exact_count_without_keepalive(self):
        server, report = self.bench_counted("-c", 4, "-n", 200, "--no-keepalive")
        self.assertEqual(server.requests, 200)
        self.assertEqual(server.connections, 200)
        self.assertEqual(report["connect"]["count"], 200)

    def test_pipelined(self):
        server, report = self.bench_counted("-c", 3, "-n", 301, "--pipeline", 8)
        self.assertEqual(server.requests, 301)
        self.assertEqual(report["requests"], 301)

    def test_several_urls_share_the_connections(self):
        with CountingServer() as first, CountingServer() as second:
            result, report = bench(first.url, second.url, "-c", 4, "-n", 400)
            self.assertSucceeds(result)
        self.assertEqual(first.requests + second.requests, 400)
        self.assertGreater(first.requests, 0)
        self.assertGreater(second.requests, 0)

    def test_warmup_is_not_counted(self):
        server, report = self.bench_counted("-c", 2, "-n", 100, "--warmup", "300ms")
        self.assertEqual(report["requests"], 100)
        self.assertEqual(report["latency"]["count"], 100)
        self.assertGreater(server.requests, 100)

    def test_method_headers_and_body(self):
        with tempfile.TemporaryDirectory() as tmp, CountingServer() as server:
            path = os.path.join(tmp, "body")
            with open(path, "wb") as f:
                f.write(b"from a file\n")
            inline, _ = bench(server.url, "-n", 2, "-m", "POST", "-H", "X-Test: 1", "--body",
                              "hello")
            from_file, _ = bench(server.url, "-n", 1, "-m", "POST", "--body-file", path)
        self.assertSucceeds(inline)
        self.assertSucceeds(from_file)
        self.assertEqual(sorted(server.seen, key=repr),
                         sorted([("POST", "1", b"hello")] * 2 + [("POST", None, b"from a file\n")],
                                key=repr))

    def test_duration(self):
        server, report = self.bench_counted("-c", 2, "-d", "1s")
        self.assertGreater(report["requests"], 0)
        # Requests cut short at the deadline are neither answered nor errors.
        self.assertGreaterEqual(server.requests, report["requests"])
        self.assertEqual(report["error_total"], 0)


def reference_median_us(url, count):
    """The median latency, in microseconds, of count sequential GETs on one keep-alive
    connection from Python's http.client: what the same server costs in this run."""
    host, port = url.split("/")[2].split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=DEFAULT_TIMEOUT)
    times = []
    try:
        for _ in range(count):
            start = time.perf_counter()
            connection.request("GET", "/")
            connection.getresponse().read()
            times.append(time.perf_counter() - start)
    finally:
        connection.close()
    return statistics.median(times) * 1e6


class LatencyTest(LeakCheckedTestCase):
    def test_median_of_a_10ms_server(self):
        # Against a reference measured in the same run rather than 10 ms itself: under a
        # sanitizer on a loaded machine the server's reply takes longer than its 10 ms sleep,
        # for every client alike. A unit error (10x) or a clock read in the wrong place is
        # still far outside these bounds.
        delay_us = 10_000
        with CountingServer(delay=delay_us / 1e6) as server:
            result, report = bench(server.url, "-c", 2, "-n", 200)
            self.assertSucceeds(result)
            reference = reference_median_us(server.url, 50)
        p50 = report["latency"]["percentiles_us"]["50"]
        self.assertGreaterEqual(p50 / delay_us, 0.95, report["latency"])
        self.assertLess(p50 / reference, 1.25, f"reference {reference:.0f}us: {report['latency']}")

    def test_coordinated_omission(self):
        # One connection; the 300th request stalls for a second. Without a rate the stall is
        # one slow request among thousands; with one, every request due during the stall
        # waits for it, and the high percentiles show it.
        with CountingServer(stall_at=300) as server:
            result, plain = bench(server.url, "-c", 1, "-d", "3s")
            self.assertSucceeds(result)
        with CountingServer(stall_at=300) as server:
            result, paced = bench(server.url, "-c", 1, "-d", "3s", "-R", 200)
            self.assertSucceeds(result)
        self.assertGreater(plain["requests"], 300)
        self.assertGreaterEqual(plain["latency"]["max_us"], 900_000)
        self.assertLess(plain["latency"]["percentiles_us"]["99"], 500_000, plain["latency"])
        self.assertGreaterEqual(paced["latency"]["percentiles_us"]["99"], 500_000, paced["latency"])
        self.assertGreaterEqual(paced["latency"]["percentiles_us"]["90"], 100_000, paced["latency"])


# struct tcp_info (linux/tcp.h): tcpi_segs_in, the segments a socket has received.
TCPI_SEGS_IN = 140


class HandshakeTest(LeakCheckedTestCase):
    def test_the_request_carries_the_last_ack_of_the_handshake(self):
        # By the time the request has been read, a server socket has received the SYN, the
        # ACK of its SYN-ACK and the request: 3 segments, or 2 when the ACK rides on the
        # request, as the bench has it do.
        listener = socket.create_server(("127.0.0.1", 0))
        received = []

        def serve():
            for _ in range(3):
                conn, _ = listener.accept()
                with conn:
                    conn.settimeout(DEFAULT_TIMEOUT)
                    request = b""
                    while b"\r\n\r\n" not in request:
                        request += conn.recv(65536)
                    info = conn.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
                    received.append(struct.unpack_from("I", info, TCPI_SEGS_IN)[0])
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nok\n")

        thread = threading.Thread(target=serve, daemon=True)
        with listener:
            thread.start()
            port = listener.getsockname()[1]
            result, report = bench(f"http://127.0.0.1:{port}/", "-c", 1, "-n", 3, "--no-keepalive")
            thread.join(timeout=DEFAULT_TIMEOUT)
        self.assertSucceeds(result)
        self.assertEqual(report["requests"], 3)
        self.assertEqual(received, [2, 2, 2])


def reset_at_once(conn):
    conn.recv(65536)
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def garbage(conn):
    while conn.recv(65536):
        conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n\r\n")


def silent(conn):
    while conn.recv(65536):
        pass


class ErrorTest(LeakCheckedTestCase):
    def errors_of(self, url, *args):
        result, report = bench(url, "-c", 2, "-n", 10, *args)
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertEqual(report["requests"], 0)
        self.assertEqual(report["error_total"], 10)
        return report["errors"]

    def test_refused(self):
        errors = self.errors_of(f"http://127.0.0.1:{free_port()}/")
        self.assertEqual(errors["connect"], 10)

    def test_reset(self):
        with ThreadedServer(reset_at_once) as server:
            errors = self.errors_of(f"http://127.0.0.1:{server.port}/")
        self.assertEqual(errors["read"], 10)

    def test_garbage_is_malformed(self):
        with ThreadedServer(garbage) as server:
            errors = self.errors_of(f"http://127.0.0.1:{server.port}/")
        self.assertEqual(errors["malformed"], 10)

    def test_timeout(self):
        with ThreadedServer(silent) as server:
            errors = self.errors_of(f"http://127.0.0.1:{server.port}/", "--timeout", "100ms")
        self.assertEqual(errors["timeout"], 10)


def wrong_echo(conn):
    while data := conn.recv(65536):
        conn.sendall(data.upper())


class EchoTest(LeakCheckedTestCase):
    def test_tcp_and_udp_ping_pong(self):
        with Serve("echo", "--bind", "127.0.0.1", "--echo-port", 0, "--threads", 1) as serve:
            port = serve.port("echo")
            tcp_result, tcp = bench(f"tcp://127.0.0.1:{port}", "-c", 4, "-n", 500,
                                    "--payload", 100)
            udp_result, udp = bench(f"udp://127.0.0.1:{serve.port('echo', 'udp')}", "-c", 2,
                                    "-n", 300, "--payload", 3)
        self.assertSucceeds(tcp_result)
        self.assertSucceeds(udp_result)
        self.assertEqual((tcp["requests"], tcp["error_total"]), (500, 0))
        self.assertEqual(tcp["bytes"], 500 * 100)
        self.assertEqual(tcp["status_codes"], {})
        self.assertEqual((udp["requests"], udp["error_total"]), (300, 0))
        self.assertEqual(serve.counters["echo"]["datagrams"], 300)

    def test_a_wrong_echo_is_malformed(self):
        with ThreadedServer(wrong_echo) as server:
            result, report = bench(f"tcp://127.0.0.1:{server.port}", "-n", 5)
        self.assertEqual(result.returncode, 1)
        self.assertEqual(report["errors"]["malformed"], 5)

    def test_udp_without_a_listener(self):
        # The kernel answers with ICMP port unreachable: a read error, or a timeout if lost.
        result, report = bench(f"udp://127.0.0.1:{free_port(socket.SOCK_DGRAM)}", "-n", 3,
                               "--timeout", "300ms")
        self.assertEqual(result.returncode, 1)
        self.assertEqual(report["errors"]["read"] + report["errors"]["timeout"], 3)


class NoAnswerTest(LeakCheckedTestCase):
    def test_a_run_with_no_completed_request_fails_and_says_so(self):
        # No request ends within the run, and none fails either: nothing was measured.
        with ThreadedServer(silent) as server:
            result, report = bench(f"http://127.0.0.1:{server.port}/", "-c", 2, "-d", "300ms")
        self.assertFails(result, 1, "no request completed (0 errors)")
        self.assertEqual(report["requests"], 0)

    def test_connections_beyond_the_open_file_limit_are_refused_with_the_numbers(self):
        def low_limit():
            resource.setrlimit(resource.RLIMIT_NOFILE, (256, 256))

        with CountingServer() as server:
            result = run("bench", server.url, "-c", 1000, "-n", 1000, preexec_fn=low_limit)
            self.assertFails(result, 2, "-c 1000 needs 1018 open files, and the limit is 256")
            self.assertEqual(server.connections, 0)


class OutputTest(LeakCheckedTestCase):
    def test_server_errors_show_in_the_summary_and_fail_if_non2xx(self):
        with CountingServer(status=503) as server:
            summary = run("bench", server.url, "-c", 2, "-n", 20)
            failing = run("bench", server.url, "-c", 2, "-n", 20, "--fail-if", "non2xx>0")
        self.assertSucceeds(summary)
        self.assertIn("  Non-2xx or 3xx responses: 20\n", summary.stdout.decode())
        self.assertFails(failing, 1, "--fail-if 'non2xx>0' failed: non2xx is 20")

    def test_summary_and_ab_layouts(self):
        with CountingServer() as server:
            wrk = run("bench", server.url, "-c", 2, "-n", 50)
            ab = run("bench", server.url, "-c", 2, "-n", 50, "--format", "ab")
        self.assertSucceeds(wrk)
        self.assertSucceeds(ab)
        text = wrk.stdout.decode()
        for part in ("Latency Distribution", "99.99%", "Requests/sec:", "Status codes: 200: 50",
                     "Errors: none"):
            self.assertIn(part, text)
        text = ab.stdout.decode()
        for part in ("Complete requests:      50", "Failed requests:        0",
                     "Requests per second:", "Percentage of the requests served"):
            self.assertIn(part, text)

    def test_html_report(self):
        with tempfile.TemporaryDirectory() as tmp, CountingServer() as server:
            path = os.path.join(tmp, "report.html")
            result = run("bench", server.url, "-c", 2, "-d", "2s", "--html", path)
            self.assertSucceeds(result)
            with open(path) as f:
                page = f.read()
            rendered = self.render(path) if CHROMIUM else None
        # Self-contained: nothing to fetch (the SVG namespace is a name, not a fetch).
        self.assertNotRegex(page, r"<script|<link|@import|url\(|src=")
        for chart in ("percentiles", "throughput"):
            points = re.search(rf'<svg id="{chart}".*?<polyline points="([^"]+)"', page, re.S)
            self.assertIsNotNone(points, chart)
            self.assertGreater(len(points[1].split()), 1, chart)
        self.assertIn(">99.99%<", page)
        if rendered is None:
            return
        dom, log = rendered
        self.assertIn('<svg id="percentiles"', dom)
        self.assertIn('<svg id="throughput"', dom)
        self.assertNotIn(":CONSOLE", log)

    @staticmethod
    def render(path):
        """The DOM headless Chromium built from the page, and its log (console messages
        included)."""
        with tempfile.TemporaryDirectory() as profile:
            done = subprocess.run(
                [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                 f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=1",
                 "--dump-dom", f"file://{path}"],
                capture_output=True, timeout=DEFAULT_TIMEOUT, text=True)
        return done.stdout, done.stderr

    def test_fail_if(self):
        with CountingServer() as server:
            passing = run("bench", server.url, "-c", 2, "-n", 50, "--fail-if", "errors>0",
                          "--fail-if", "rps<1")
            failing = run("bench", server.url, "-c", 2, "-n", 50, "--fail-if", "p99>1us")
        self.assertSucceeds(passing)
        self.assertFails(failing, 1, "--fail-if 'p99>1us' failed: p99 is ")
        refused = run("bench", f"http://127.0.0.1:{free_port()}/", "-n", 3, "--fail-if",
                      "errors>0")
        self.assertEqual(refused.returncode, 1)
        self.assertIn(b"--fail-if 'errors>0' failed: errors is 3", refused.stderr)

    def test_usage_errors(self):
        for args in (["http://127.0.0.1:1/", "--fail-if", "latency>1ms"],
                     ["http://127.0.0.1:1/", "-R", "10", "--pipeline", "2"],
                     ["http://127.0.0.1:1/", "--ssl"],
                     ["http://127.0.0.1:1/", "--tls-resume"],
                     ["tcp://127.0.0.1"]):
            with self.subTest(args=args):
                self.assertEqual(run("bench", *args).returncode, 2)


NGINX_TLS_CONF = """
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log;
events {{ worker_connections 256; }}
http {{
  log_format counted '$connection $ssl_session_reused $request';
  access_log {dir}/access.log counted;
  client_body_temp_path {dir}/body;
  proxy_temp_path {dir}/proxy;
  fastcgi_temp_path {dir}/fastcgi;
  uwsgi_temp_path {dir}/uwsgi;
  scgi_temp_path {dir}/scgi;
  keepalive_requests 100000;
  server {{
    listen 127.0.0.1:{port} ssl;
    ssl_certificate {dir}/server.pem;
    ssl_certificate_key {dir}/server.key;
    ssl_session_tickets on;
    root {dir}/www;
  }}
}}
"""


class HttpsTest(LeakCheckedTestCase):
    """https:// against nginx with a certificate of a CA made here; every request is counted
    in nginx's access log with its connection and whether its session was resumed."""

    @classmethod
    def setUpClass(cls):
        if shutil.which("nginx") is None:
            raise unittest.SkipTest("nginx is not installed (scripts/setup-deps installs it)")
        cls.dir = tempfile.mkdtemp(prefix="sockit-bench-nginx-")
        os.chmod(cls.dir, 0o755)  # workers may run as another user
        os.mkdir(os.path.join(cls.dir, "www"))
        with open(os.path.join(cls.dir, "www", "small.txt"), "w") as f:
            f.write("ok\n")
        make_certificates(cls.dir)
        cls.cacert = os.path.join(cls.dir, "ca.pem")
        port = free_port()
        cls.url = f"https://127.0.0.1:{port}/small.txt"
        conf = os.path.join(cls.dir, "nginx.conf")
        with open(conf, "w") as f:
            f.write(NGINX_TLS_CONF.format(dir=cls.dir, port=port))
        cls.nginx = subprocess.Popen(
            ["nginx", "-c", conf, "-p", cls.dir, "-e", os.path.join(cls.dir, "error.log"),
             "-g", "daemon off;"], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        try:
            wait_listening(port, proc=cls.nginx)
        except AssertionError:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        stop(cls.nginx)
        shutil.rmtree(cls.dir, ignore_errors=True)

    def access_log(self):
        """(connection, session reused "r" or ".", request line) of each request so far."""
        with open(os.path.join(self.dir, "access.log")) as f:
            return [tuple(line.split(" ", 2)) for line in f.read().splitlines()]

    def bench_logged(self, *args):
        """`sockit bench URL ARGS...`, which must succeed: its report, and the access log's
        entries of its requests."""
        before = len(self.access_log())
        result, report = bench(self.url, *args)
        self.assertSucceeds(result)
        return report, self.access_log()[before:]

    def test_keepalive_makes_one_handshake_per_connection(self):
        report, entries = self.bench_logged("-c", 3, "-n", 300, "--cacert", self.cacert)
        self.assertEqual((report["requests"], report["error_total"]), (300, 0))
        self.assertEqual(report["status_codes"], {"200": 300})
        self.assertEqual(len(entries), 300)
        self.assertEqual(len({connection for connection, _, _ in entries}), 3)
        self.assertEqual(report["handshake"]["count"], 3)
        self.assertEqual(report["tls_resumed"], 0)
        self.assertEqual(report["connect"]["count"], 3)

    def test_no_keepalive_makes_a_full_handshake_per_request(self):
        report, entries = self.bench_logged("-c", 2, "-n", 40, "--no-keepalive",
                                            "--cacert", self.cacert)
        self.assertEqual((report["requests"], report["error_total"]), (40, 0))
        self.assertEqual(len(entries), 40)
        self.assertEqual(len({connection for connection, _, _ in entries}), 40)
        self.assertEqual(report["handshake"]["count"], 40)
        self.assertEqual(report["tls_resumed"], 0)
        self.assertEqual([reused for _, reused, _ in entries], ["."] * 40)

    def test_tls_resume_resumes_the_sessions_of_earlier_connections(self):
        report, entries = self.bench_logged("-c", 2, "-n", 40, "--no-keepalive", "--tls-resume",
                                            "--cacert", self.cacert)
        self.assertEqual((report["requests"], report["error_total"]), (40, 0))
        self.assertEqual(len({connection for connection, _, _ in entries}), 40)
        self.assertEqual(report["handshake"]["count"], 40)
        resumed = [reused for _, reused, _ in entries].count("r")
        self.assertGreater(report["tls_resumed"], 0)
        # Each slot's first handshake is full; nginx agrees on every other one.
        self.assertEqual(report["tls_resumed"], resumed)
        self.assertGreaterEqual(resumed, 40 - 2)

    def test_an_unverified_certificate_fails_the_run_and_says_why(self):
        before = len(self.access_log())
        result = run("bench", self.url, "-c", 2, "-n", 10)
        self.assertFails(result, 1, "no request completed (10 errors; first: TLS handshake: "
                                    "certificate verify failed")
        self.assertEqual(len(self.access_log()), before)
        insecure, report = bench(self.url, "-c", 2, "-n", 10, "-k")
        self.assertSucceeds(insecure)
        self.assertEqual((report["requests"], report["error_total"]), (10, 0))

    def test_the_summary_shows_the_handshakes(self):
        result = run("bench", self.url, "-c", 2, "-n", 20, "--no-keepalive", "--tls-resume",
                     "--cacert", self.cacert)
        self.assertSucceeds(result)
        text = result.stdout.decode()
        self.assertRegex(text, r"\n    Handshake +\d")
        self.assertRegex(text, r"\n  20 TLS handshakes, 1[89] resumed\n")


class SslEchoTest(LeakCheckedTestCase):
    def test_tcp_with_ssl_pings_through_tls(self):
        with tempfile.TemporaryDirectory() as tmp:
            make_certificates(tmp)
            port = free_port()
            socat = subprocess.Popen(
                ["socat", f"OPENSSL-LISTEN:{port},bind=127.0.0.1,reuseaddr,fork,verify=0,"
                 f"cert={tmp}/server.pem,key={tmp}/server.key", "EXEC:cat"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            try:
                wait_listening(port, proc=socat)
                result, report = bench(f"tcp://127.0.0.1:{port}", "--ssl", "--cacert",
                                       f"{tmp}/ca.pem", "-c", 2, "-n", 200, "--payload", 100)
                plain, _ = bench(f"tcp://127.0.0.1:{port}", "-n", 1, "--timeout", "2s")
            finally:
                stop(socat)
        self.assertSucceeds(result)
        self.assertEqual((report["requests"], report["error_total"]), (200, 0))
        self.assertEqual(report["bytes"], 200 * 100)
        self.assertEqual(report["handshake"]["count"], 2)
        # Without --ssl the payload is no TLS record: socat drops the connection.
        self.assertEqual(plain.returncode, 1)


if __name__ == "__main__":
    unittest.main()
