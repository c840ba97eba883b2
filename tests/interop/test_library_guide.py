"""The programs of docs/library.md (built from the guide by examples/library.cmake) against
Python peers on loopback: what the guide says each program does, it does."""
import hashlib
import http.server
import os
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import unittest

from sockit_test import (DEFAULT_TIMEOUT, LeakCheckedTestCase, ThreadedServer, free_port,
                         read_line, recv_all)

EXAMPLES = os.environ.get("SOCKIT_EXAMPLES", "examples")


def guide_program(name, *args, **kwargs):
    return subprocess.run([os.path.join(EXAMPLES, name), *map(str, args)], capture_output=True,
                          timeout=DEFAULT_TIMEOUT, **kwargs)


def echo_lines(conn):
    """Echoes what it reads until the client's FIN."""
    while data := conn.recv(4096):
        conn.sendall(data)


class BlockingClient(LeakCheckedTestCase):
    def test_prints_each_line_as_the_echo_server_returns_it(self):
        with ThreadedServer(echo_lines) as server:
            result = guide_program("guide_blocking_client", "127.0.0.1", server.port, "hello",
                                   "zwei drei")
        self.assertSucceeds(result)
        self.assertEqual(result.stdout, b"hello\nzwei drei\n")

    def test_a_refused_connection_is_one_clear_line_and_status_1(self):
        port = free_port()
        result = guide_program("guide_blocking_client", "127.0.0.1", port, "hello")
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stderr.decode(),
                         f"guide_blocking_client: connect 127.0.0.1:{port}: Connection refused "
                         "(ECONNREFUSED)\n")


class EchoServer(LeakCheckedTestCase):
    def start_server(self):
        proc = subprocess.Popen([os.path.join(EXAMPLES, "guide_echo_server"), "127.0.0.1", "0"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.addCleanup(self.stop, proc)
        line = read_line(proc.stdout).decode()
        self.assertTrue(line.startswith("listening on 127.0.0.1:"), line)
        return proc, int(line.rsplit(":", 1)[1])

    @staticmethod
    def stop(proc):
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=DEFAULT_TIMEOUT)

    def test_echoes_and_drains_on_sigterm(self):
        proc, port = self.start_server()
        with socket.create_connection(("127.0.0.1", port), timeout=DEFAULT_TIMEOUT) as conn:
            conn.sendall(b"ping\n" * 1000)
            conn.shutdown(socket.SHUT_WR)
            self.assertEqual(recv_all(conn), b"ping\n" * 1000)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=DEFAULT_TIMEOUT)
        self.assertEqual(proc.returncode, 0, err.decode())
        self.assertEqual(out.decode(), "served 1 connections, 5000 bytes\n")

    def test_a_port_in_use_is_refused_with_its_number(self):
        with socket.socket() as holder:
            holder.bind(("127.0.0.1", 0))
            holder.listen()
            port = holder.getsockname()[1]
            result = guide_program("guide_echo_server", "127.0.0.1", port)
        self.assertEqual(result.returncode, 1)
        self.assertIn(str(port), result.stderr.decode())
        self.assertIn("EADDRINUSE", result.stderr.decode())


class FirstAnswer(LeakCheckedTestCase):
    def test_the_first_line_wins_and_the_silent_peer_is_cancelled(self):
        silent_closed = threading.Event()

        def silent(conn):
            conn.settimeout(DEFAULT_TIMEOUT)
            if conn.recv(1) == b"":  # the client gave up on us: its attempt was cancelled
                silent_closed.set()

        def answers(conn):
            conn.sendall(b"hello\n")

        with ThreadedServer(silent) as quiet, ThreadedServer(answers) as talker:
            result = guide_program("guide_first_answer", f"127.0.0.1:{quiet.port}",
                                   f"127.0.0.1:{talker.port}")
            self.assertTrue(silent_closed.wait(DEFAULT_TIMEOUT))
        self.assertSucceeds(result)
        self.assertEqual(result.stdout.decode(), f"127.0.0.1:{talker.port} hello\n")
        self.assertEqual(result.stderr.decode(), "1 other attempt(s) cancelled\n")

    def test_no_answer_at_all_is_an_error(self):
        result = guide_program("guide_first_answer", f"127.0.0.1:{free_port()}")
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stderr.decode(), "guide_first_answer: no answer within 5 s\n")


class HttpGet(LeakCheckedTestCase):
    def setUp(self):
        super().setUp()
        root = tempfile.TemporaryDirectory()
        self.addCleanup(root.cleanup)
        with open(os.path.join(root.name, "hello.txt"), "w") as f:
            f.write("hello from http.server\n")
        handler = lambda *a: http.server.SimpleHTTPRequestHandler(*a, directory=root.name)
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        self.addCleanup(thread.join, DEFAULT_TIMEOUT)
        self.addCleanup(self.server.server_close)
        self.addCleanup(self.server.shutdown)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"

    def test_prints_the_body_of_a_file(self):
        result = guide_program("guide_http_get", self.base + "/hello.txt")
        self.assertSucceeds(result)
        self.assertEqual(result.stdout, b"hello from http.server\n")
        self.assertEqual(result.stderr, b"200 OK\n")

    def test_a_missing_file_is_status_1_with_the_server_s_404(self):
        result = guide_program("guide_http_get", self.base + "/nothing-here")
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stderr, b"404 File not found\n")


class TlsEchoServer(LeakCheckedTestCase):
    def start_server(self, *files):
        proc = subprocess.Popen(
            [os.path.join(EXAMPLES, "guide_tls_echo_server"), "127.0.0.1", "0", *files],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.addCleanup(EchoServer.stop, proc)
        fingerprint = read_line(proc.stdout).decode().strip()
        self.assertTrue(fingerprint.startswith("certificate SHA-256 "), fingerprint)
        line = read_line(proc.stdout).decode()
        self.assertTrue(line.startswith("listening on 127.0.0.1:"), line)
        return proc, int(line.rsplit(":", 1)[1]), fingerprint.split()[-1]

    def test_echoes_over_tls_with_the_printed_fingerprint(self):
        proc, port, fingerprint = self.start_server()
        # A throwaway certificate: the client pins its fingerprint instead of a CA.
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
        with socket.create_connection(("127.0.0.1", port), timeout=DEFAULT_TIMEOUT) as raw:
            with context.wrap_socket(raw) as conn:
                der = conn.getpeercert(binary_form=True)
                self.assertEqual(hashlib.sha256(der).hexdigest().upper(),
                                 fingerprint.replace(":", ""))
                self.assertEqual(conn.version(), "TLSv1.3")
                conn.sendall(b"ping\n" * 1000)
                received = b""
                while len(received) < 5000:
                    data = conn.recv(65536)
                    if not data:
                        break
                    received += data
                self.assertEqual(received, b"ping\n" * 1000)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=DEFAULT_TIMEOUT)
        self.assertEqual(proc.returncode, 0, err.decode())
        self.assertEqual(out.decode(), "served 1 connections\n")

    def test_a_missing_certificate_is_named(self):
        result = guide_program("guide_tls_echo_server", "127.0.0.1", "0", "/nonexistent/c.pem",
                               "/nonexistent/k.pem")
        self.assertEqual(result.returncode, 1)
        self.assertEqual(result.stderr.decode(),
                         "guide_tls_echo_server: TLS certificate /nonexistent/c.pem: No such file "
                         "or directory (ENOENT)\n")


if __name__ == "__main__":
    unittest.main()
