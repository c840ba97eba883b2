"""sockit tcp end to end against Python peers on loopback: copying both ways, half-close,
--send, listening (TCP, Unix path, abstract, IPv6), socket options and every failure."""
import contextlib
import os
import queue
import socket
import subprocess
import tempfile
import threading
import time
import unittest

from sockit_test import (DEFAULT_TIMEOUT, SOCKIT, UNRESOLVABLE, LeakCheckedTestCase,
                         ThreadedServer, background, has_ipv6_loopback, listening_on, port_of,
                         read_exactly, read_line, recv_all, reset, run)


def echo(conn):
    # No timeout of its own: sockit's end, however it comes, ends this loop.
    while data := conn.recv(65536):
        conn.sendall(data)


def record_then_reply(received):
    """A handler that puts everything up to the client's FIN in received, then says ok."""
    def handler(conn):
        received.put(recv_all(conn))
        conn.sendall(b"ok")
    return handler


def send_to_recorder(text):
    """`sockit tcp --send text` against a record_then_reply server: the result, and the bytes
    the server received."""
    received = queue.Queue()
    with ThreadedServer(record_then_reply(received)) as server:
        result = run("tcp", "127.0.0.1", server.port, "--send", text)
    return result, received.get(timeout=DEFAULT_TIMEOUT)



def tcp(*args, **kwargs):
    """`sockit tcp ARGS...` in the background (see sockit_test.background)."""
    return background([SOCKIT, "tcp", *args], **kwargs)


class UnixServer:
    """A Unix stream listener at address (a path, or "\\0name" for an abstract socket) that
    runs handler(conn) for one client in a thread. Use as a context manager."""

    def __init__(self, address, handler):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.bind(address)
        self.sock.listen()
        self._handler = handler
        self._thread = threading.Thread(target=self._serve_one, daemon=True)

    def _serve_one(self):
        try:
            conn, _ = self.sock.accept()
        except OSError:
            return
        with conn, contextlib.suppress(OSError):
            self._handler(conn)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.sock.shutdown(socket.SHUT_RDWR)  # wakes an accept still waiting
        self._thread.join(timeout=DEFAULT_TIMEOUT)
        self.sock.close()


class TcpTestCase(LeakCheckedTestCase):
    def talk(self, proc, family, address):
        """A client at address sends and receives one message each way through proc."""
        proc.stdin.write(b"from sockit")
        proc.stdin.close()
        with socket.socket(family, socket.SOCK_STREAM) as client:
            client.settimeout(DEFAULT_TIMEOUT)
            client.connect(address)
            client.sendall(b"from client")
            client.shutdown(socket.SHUT_WR)
            self.assertEqual(recv_all(client), b"from sockit")
        self.assertEqual(proc.wait(timeout=DEFAULT_TIMEOUT), 0)
        self.assertEqual(proc.stdout.read(), b"from client")


class CopyTest(TcpTestCase):
    def test_echo_round_trip_of_4_mib_is_exact(self):
        payload = os.urandom(4 << 20)
        with ThreadedServer(echo) as server:
            result = run("tcp", "127.0.0.1", server.port, input=payload, timeout=120)
        self.assertSucceeds(result)
        self.assertEqual(len(result.stdout), len(payload))
        self.assertTrue(result.stdout == payload, "echoed bytes differ")
        self.assertEqual(result.stderr, b"")

    def test_regular_file_as_stdin(self):
        payload = os.urandom(1 << 20)
        with tempfile.TemporaryFile() as source, ThreadedServer(echo) as server:
            source.write(payload)
            source.seek(0)
            result = run("tcp", "127.0.0.1", server.port, stdin=source)
        self.assertSucceeds(result)
        self.assertTrue(result.stdout == payload, "echoed bytes differ")

    def test_verbose_reports_connection_and_byte_counts(self):
        with ThreadedServer(echo) as server:
            result = run("tcp", "-v", "127.0.0.1", server.port, input=b"hello\n")
        self.assertSucceeds(result)
        self.assertEqual(result.stdout, b"hello\n")
        self.assertRegex(
            result.stderr.decode(),
            rf"\Asockit tcp: connected to 127\.0\.0\.1:{server.port} from 127\.0\.0\.1:\d+\n"
            r"sockit tcp: closed \(sent 6 bytes, received 6 bytes\)\n\Z")

    def test_reply_after_stdin_ends_is_printed(self):
        payload = os.urandom(100_000)

        def count_then_reply(conn):
            received = recv_all(conn)  # returns only once sockit has sent its FIN
            conn.sendall(b"got %d bytes" % len(received))

        with ThreadedServer(count_then_reply) as server:
            result = run("tcp", "127.0.0.1", server.port, input=payload)
        self.assertSucceeds(result)
        self.assertEqual(result.stdout, b"got 100000 bytes")

    def test_peer_closing_first_leaves_stdin_flowing(self):
        received = queue.Queue()

        def greet_close_then_listen(conn):
            conn.sendall(b"hello")
            conn.shutdown(socket.SHUT_WR)
            received.put(recv_all(conn))

        with ThreadedServer(greet_close_then_listen) as server, \
                tcp("127.0.0.1", server.port) as proc:
            self.assertEqual(read_exactly(proc.stdout, 5), b"hello")
            proc.stdin.write(b"sent after your FIN")
            proc.stdin.close()
            self.assertEqual(proc.wait(timeout=DEFAULT_TIMEOUT), 0)
            self.assertEqual(received.get(timeout=DEFAULT_TIMEOUT), b"sent after your FIN")
            self.assertEqual(proc.stdout.read(), b"")

    def test_exit_on_close_exits_while_stdin_is_open(self):
        def say_bye(conn):
            conn.sendall(b"bye")

        with ThreadedServer(say_bye) as server, \
                tcp("--exit-on-close", "127.0.0.1", server.port) as proc:
            self.assertEqual(proc.wait(timeout=DEFAULT_TIMEOUT), 0)
            self.assertEqual(proc.stdout.read(), b"bye")
            self.assertEqual(proc.stderr.read(), b"")

    def test_socket_options_reach_the_socket(self):
        def ready_then_echo(conn):
            conn.sendall(b"ready")
            echo(conn)

        with ThreadedServer(ready_then_echo) as server, \
                tcp("--nodelay", "--keepalive-idle", "7", "--sndbuf", "65536", "--rcvbuf",
                    "131072", "127.0.0.1", server.port) as proc:
            self.assertEqual(read_exactly(proc.stdout, 5), b"ready")
            ss = subprocess.run(["ss", "-tnoHm", "state", "established",
                                 f"( dport = :{server.port} )"],
                                capture_output=True, text=True, timeout=DEFAULT_TIMEOUT)
            proc.stdin.close()
            self.assertEqual(proc.wait(timeout=DEFAULT_TIMEOUT), 0)
        self.assertIn("timer:(keepalive,", ss.stdout)
        # The kernel doubles both buffer sizes for its bookkeeping.
        self.assertIn("tb131072", ss.stdout)
        self.assertIn("rb262144", ss.stdout)


class SendTest(TcpTestCase):
    def test_head_request_in_one_argument(self):
        result, received = send_to_recorder(r"HEAD / HTTP/1.0\r\n\r\n")
        self.assertSucceeds(result)
        self.assertEqual(received, b"HEAD / HTTP/1.0\r\n\r\n")
        self.assertEqual(result.stdout, b"ok")

    def test_every_escape_is_decoded(self):
        result, received = send_to_recorder(r"a\tb\\c\0d\x41\xff\n")
        self.assertSucceeds(result)
        self.assertEqual(received, b"a\tb\\c\0dA\xff\n")

    def test_empty_text_reads_a_daytime_style_greeting(self):
        result, received = send_to_recorder("")
        self.assertSucceeds(result)
        self.assertEqual(received, b"")
        self.assertEqual(result.stdout, b"ok")

    def test_idle_peer_ends_send(self):
        finished = threading.Event()

        def reply_and_stay(conn):
            recv_all(conn)
            conn.sendall(b"partial")
            finished.wait(DEFAULT_TIMEOUT)  # open, and quiet, until sockit has gone

        with ThreadedServer(reply_and_stay) as server:
            began = time.monotonic()
            result = run("tcp", "127.0.0.1", server.port, "--send", "x", "-q", "0.5")
            elapsed = time.monotonic() - began
            finished.set()
        self.assertSucceeds(result)
        self.assertEqual(result.stdout, b"partial")
        self.assertGreaterEqual(elapsed, 0.5)

    def test_no_shutdown_keeps_writing_open(self):
        early_fin = queue.Queue()

        def read_ping_then_reply(conn):
            ping = b""
            while len(ping) < 4 and (chunk := conn.recv(4 - len(ping))):
                ping += chunk
            # Waiting for a FIN that must not come needs a bound; loopback delivers in far less.
            conn.settimeout(0.3)
            try:
                early_fin.put(conn.recv(1) == b"")
            except TimeoutError:
                early_fin.put(False)
            conn.settimeout(None)
            conn.sendall(b"pong")
            conn.recv(1)

        with ThreadedServer(read_ping_then_reply) as server:
            result = run("tcp", "127.0.0.1", server.port, "--send", "ping", "--no-shutdown",
                         "-q", "1")
        self.assertSucceeds(result)
        self.assertEqual(result.stdout, b"pong")
        self.assertFalse(early_fin.get(timeout=DEFAULT_TIMEOUT), "FIN sent despite the flag")


class ListenTest(TcpTestCase):
    def test_port_0_is_reported_and_both_ways_work(self):
        with tcp("-l", "127.0.0.1", "0", "-v") as proc:
            address = listening_on(proc)
            self.assertRegex(address, r"\A127\.0\.0\.1:[1-9]\d*\Z")
            self.talk(proc, socket.AF_INET, ("127.0.0.1", port_of(address)))
            self.assertRegex(
                proc.stderr.read().decode(),
                r"\Asockit tcp: accepted from 127\.0\.0\.1:\d+\n"
                r"sockit tcp: closed \(sent 11 bytes, received 11 bytes\)\n\Z")

    def test_keep_open_serves_clients_in_turn(self):
        with tcp("-l", "-k", "127.0.0.1", "0", "-v", stdin=subprocess.DEVNULL) as proc:
            port = port_of(listening_on(proc))
            with socket.create_connection(("127.0.0.1", port), DEFAULT_TIMEOUT) as first, \
                    socket.create_connection(("127.0.0.1", port), DEFAULT_TIMEOUT) as second:
                # The second client speaks first, but is not served before the first is done.
                second.sendall(b"second")
                second.shutdown(socket.SHUT_WR)
                first.sendall(b"first")
                first.shutdown(socket.SHUT_WR)
                self.assertEqual(recv_all(first), b"")  # stdin is empty: FIN at once
                self.assertEqual(recv_all(second), b"")
            self.assertEqual(read_exactly(proc.stdout, 11), b"firstsecond")
            self.assertIsNone(proc.poll(), "a -k listener must keep running")
            self.assertEqual(read_line(proc.stderr).count(b"accepted from"), 1)
            self.assertEqual(read_line(proc.stderr).count(b"closed"), 1)
            self.assertEqual(read_line(proc.stderr).count(b"accepted from"), 1)

    def test_keep_open_survives_a_client_reset(self):
        with tcp("-l", "-k", "127.0.0.1", "0", "-v", stdin=subprocess.DEVNULL) as proc:
            port = port_of(listening_on(proc))
            with socket.create_connection(("127.0.0.1", port), DEFAULT_TIMEOUT) as doomed:
                doomed.sendall(b"doomed")
                self.assertEqual(read_exactly(proc.stdout, 6), b"doomed")
                reset(doomed)
            self.assertIn(b"accepted from", read_line(proc.stderr))
            self.assertRegex(read_line(proc.stderr).decode(),
                             r"\Asockit tcp: recv 127\.0\.0\.1:\d+: "
                             r"Connection reset by peer \(ECONNRESET\)\n\Z")
            with socket.create_connection(("127.0.0.1", port), DEFAULT_TIMEOUT) as client:
                client.sendall(b"next")
                client.shutdown(socket.SHUT_WR)
                self.assertEqual(recv_all(client), b"")
            self.assertEqual(read_exactly(proc.stdout, 4), b"next")
            self.assertIsNone(proc.poll())

    def test_send_answers_each_client(self):
        with tcp("-l", "-k", "127.0.0.1", "0", "-v", "--send", r"hi\n") as proc:
            port = port_of(listening_on(proc))
            for name in (b"one", b"two"):
                with socket.create_connection(("127.0.0.1", port), DEFAULT_TIMEOUT) as client:
                    client.sendall(name)
                    client.shutdown(socket.SHUT_WR)
                    self.assertEqual(recv_all(client), b"hi\n")
                self.assertEqual(read_exactly(proc.stdout, 3), name)


class UnixTest(TcpTestCase):
    def setUp(self):
        super().setUp()
        directory = tempfile.TemporaryDirectory()
        self.addCleanup(directory.cleanup)
        self.path = os.path.join(directory.name, "s.sock")

    def test_path_client(self):
        with UnixServer(self.path, echo):
            result = run("tcp", f"unix:{self.path}", input=b"over a unix path")
        self.assertSucceeds(result)
        self.assertEqual(result.stdout, b"over a unix path")

    def test_abstract_client(self):
        name = f"sockit-test-{os.getpid()}-client"
        with UnixServer("\0" + name, echo):
            result = run("tcp", "-v", f"unix:@{name}", input=b"abstract")
        self.assertSucceeds(result)
        self.assertEqual(result.stdout, b"abstract")
        self.assertIn(f"connected to unix:@{name} from unix:(unnamed)", result.stderr.decode())

    def test_path_listener_talks_and_removes_its_file(self):
        with tcp("-l", f"unix:{self.path}", "-v") as proc:
            self.assertEqual(listening_on(proc), f"unix:{self.path}")
            self.talk(proc, socket.AF_UNIX, self.path)
        self.assertFalse(os.path.exists(self.path))

    def test_abstract_listener(self):
        name = f"sockit-test-{os.getpid()}-listener"
        with tcp("-l", f"unix:@{name}", "-v") as proc:
            self.assertEqual(listening_on(proc), f"unix:@{name}")
            self.talk(proc, socket.AF_UNIX, "\0" + name)

    def test_stale_socket_file_is_replaced(self):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as stale:
            stale.bind(self.path)  # closing leaves the file behind
        with tcp("-l", f"unix:{self.path}", "-v") as proc:
            listening_on(proc)
            self.talk(proc, socket.AF_UNIX, self.path)

    def test_other_file_at_path_is_left_alone(self):
        with open(self.path, "w") as precious:
            precious.write("keep me")
        result = run("tcp", "-l", f"unix:{self.path}")
        self.assertFails(result, 1, f"bind unix:{self.path}: Address already in use (EADDRINUSE)")
        with open(self.path) as precious:
            self.assertEqual(precious.read(), "keep me")

    def test_tcp_options_are_refused_for_unix(self):
        self.assertFails(run("tcp", "--nodelay", f"unix:{self.path}"), 2, "apply to TCP only")


@unittest.skipUnless(has_ipv6_loopback(), "no IPv6 loopback on this host")
class Ipv6Test(TcpTestCase):
    def test_client_to_v6_loopback(self):
        with ThreadedServer(echo, host="::1", family=socket.AF_INET6) as server:
            result = run("tcp", "-v", "::1", server.port, input=b"six")
            bracketed = run("tcp", "-6", "[::1]", server.port, input=b"brackets")
        self.assertSucceeds(result)
        self.assertEqual(result.stdout, b"six")
        self.assertIn(f"connected to [::1]:{server.port} from [::1]:", result.stderr.decode())
        self.assertSucceeds(bracketed)
        self.assertEqual(bracketed.stdout, b"brackets")

    def test_listener_on_v6_loopback(self):
        with tcp("-l", "::1", "0", "-v") as proc:
            address = listening_on(proc)
            self.assertRegex(address, r"\A\[::1\]:\d+\Z")
            self.talk(proc, socket.AF_INET6, ("::1", port_of(address)))


class FamilyTest(TcpTestCase):
    def test_minus_4_picks_ipv4_for_a_name(self):
        with ThreadedServer(echo) as server:
            result = run("tcp", "-4", "-v", "localhost", server.port, input=b"four")
        self.assertSucceeds(result)
        self.assertEqual(result.stdout, b"four")
        self.assertIn(f"connected to 127.0.0.1:{server.port}", result.stderr.decode())

    def test_minus_6_rejects_an_ipv4_address(self):
        with ThreadedServer(echo) as server:
            result = run("tcp", "-6", "127.0.0.1", server.port, stdin=subprocess.DEVNULL)
        self.assertFails(result, 1, f"connect 127.0.0.1:{server.port}: Address family")


class FailureTest(TcpTestCase):
    def test_port_out_of_range(self):
        self.assertFails(run("tcp", "127.0.0.1", "70000"), 2,
                         "sockit tcp: port 70000 out of range 0-65535")

    def test_host_with_a_stray_colon(self):
        self.assertFails(run("tcp", "host:", "80"), 2, "bad HOST 'host:'")

    def test_host_port_in_one_argument(self):
        self.assertFails(run("tcp", "localhost:80"), 2, "missing PORT after localhost:80")

    def test_unknown_service(self):
        self.assertFails(run("tcp", "127.0.0.1", "no-such-service"), 2,
                         "unknown port or service: no-such-service")

    def test_bad_escape_in_send(self):
        result = run("tcp", "127.0.0.1", "9", "--send", r"\q")
        self.assertEqual(result.returncode, 2)
        self.assertIn(b"unknown escape \\q", result.stderr)

    def test_zero_wait_is_a_usage_error(self):
        result = run("tcp", "-w", "0", "127.0.0.1", "9")
        self.assertEqual(result.returncode, 2)
        self.assertIn(b"--wait: must be more than 0", result.stderr)

    def test_unresolvable_name(self):
        self.assertFails(run("tcp", UNRESOLVABLE, "80"), 1,
                         f"sockit tcp: connect {UNRESOLVABLE}:80: ")

    def test_refused(self):
        with socket.socket() as closed:
            closed.bind(("127.0.0.1", 0))
            port = closed.getsockname()[1]
            result = run("tcp", "127.0.0.1", port)
        self.assertEqual(result.stderr.decode(),
                         f"sockit tcp: connect 127.0.0.1:{port}: "
                         "Connection refused (ECONNREFUSED)\n")
        self.assertEqual(result.returncode, 1)

    def test_connect_timeout(self):
        with socket.socket() as listener:
            listener.bind(("127.0.0.1", 0))
            listener.listen(0)
            port = listener.getsockname()[1]
            fillers = []
            try:
                # Once the accept queue is full the kernel drops further SYNs unanswered.
                for _ in range(8):
                    filler = socket.socket()
                    fillers.append(filler)
                    filler.settimeout(0.5)
                    try:
                        filler.connect(("127.0.0.1", port))
                    except TimeoutError:
                        break
                else:
                    self.fail("the accept queue never filled")
                began = time.monotonic()
                result = run("tcp", "-w", "0.5", "127.0.0.1", port)
                elapsed = time.monotonic() - began
            finally:
                for filler in fillers:
                    filler.close()
        self.assertEqual(result.stderr.decode(),
                         f"sockit tcp: connect 127.0.0.1:{port}: timed out (ETIMEDOUT)\n")
        self.assertEqual(result.returncode, 1)
        self.assertGreaterEqual(elapsed, 0.5)

    def test_reset_mid_stream(self):
        def send_then_reset(conn):
            conn.sendall(b"partial")
            reset(conn)

        with ThreadedServer(send_then_reset) as server, tcp("127.0.0.1", server.port) as proc:
            self.assertEqual(proc.wait(timeout=DEFAULT_TIMEOUT), 1)
            self.assertEqual(proc.stderr.read().decode(),
                             f"sockit tcp: recv 127.0.0.1:{server.port}: "
                             "Connection reset by peer (ECONNRESET)\n")

    def test_stdout_closed_early_is_one_error_not_a_signal(self):
        def flood(conn):
            block = b"x" * 65536
            for _ in range(1024):  # 64 MiB at most; sockit leaves long before
                conn.sendall(block)

        with ThreadedServer(flood) as server, tcp("127.0.0.1", server.port) as proc:
            self.assertEqual(read_exactly(proc.stdout, 1), b"x")  # as `| head -c 1` does
            proc.stdout.close()
            self.assertEqual(proc.wait(timeout=DEFAULT_TIMEOUT), 1)
            self.assertEqual(proc.stderr.read(),
                             b"sockit tcp: write stdout: Broken pipe (EPIPE)\n")


if __name__ == "__main__":
    unittest.main()
