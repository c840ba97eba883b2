"""What every sockit command shares, end to end: durations bounded and checked, closed
standard descriptors that no socket may take over, output that fails (a full disk, a closed
pipe, a closed stdout) making the command fail with the reason, output files opened before
the work, and the usage errors of empty and out-of-range arguments."""
import os
import socket
import subprocess
import threading
import unittest

from sockit_test import (DEFAULT_TIMEOUT, SOCKIT, LeakCheckedTestCase, Serve, ThreadedServer, run,
                         run_failing_stdout)

# What write(2) says for each kind of failing stdout of run_failing_stdout.
REASONS = {"full": "No space left on device", "pipe": "Broken pipe",
           "closed": "Bad file descriptor"}
YEAR = "31536000s"


def echo(conn):
    while data := conn.recv(65536):
        conn.sendall(data)


class Recorder:
    """A TCP peer that keeps what each client sent until it shut down writing, then answers
    with reply and closes."""

    def __init__(self, reply=b""):
        self.reply = reply
        self.received = []
        self.done = threading.Event()

    def __call__(self, conn):
        conn.settimeout(DEFAULT_TIMEOUT)
        data = b""
        while chunk := conn.recv(65536):
            data += chunk
        self.received.append(data)
        self.done.set()
        conn.sendall(self.reply)


class UdpEcho:
    """A UDP echo peer on a loopback port 0, in a thread; a context manager."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self):
        while True:
            try:
                data, peer = self.sock.recvfrom(65536)
                self.sock.sendto(data, peer)
            except OSError:
                return

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.sock.close()
        self.thread.join(timeout=5)


class DurationTest(LeakCheckedTestCase):
    def test_beyond_a_year_is_a_usage_error_that_names_the_limit(self):
        # 1e10 s used to overflow the clock's arithmetic: huge timeouts acted as 0 or spun.
        cases = [("tcp", "-w", "1e10s", "127.0.0.1", "1"),
                 ("udp", "--timeout", "1e10", "127.0.0.1", "7"),
                 ("serve", "--idle-timeout", "1e10s"),
                 ("serve", "--drain-timeout", "1e30s"),
                 ("bench", "-d", "600000m", "tcp://127.0.0.1:1"),
                 ("scan", "--max-rtt-timeout", "31536001", "127.0.0.1")]
        for args in cases:
            with self.subTest(args=args):
                self.assertFails(run(*args), 2, f"above the limit of {YEAR}")

    def test_nan_inf_and_negative_are_usage_errors(self):
        for text in ("nan", "inf", "-1s", "-inf", "1e400"):
            with self.subTest(text=text):
                self.assertFails(run("tcp", f"--wait={text}", "127.0.0.1", "1"), 2,
                                 f"not a duration: '{text}'")

    def test_a_year_is_accepted(self):
        with ThreadedServer(echo) as server:
            result = run("tcp", "-w", YEAR, "--send", "hi", "127.0.0.1", server.port)
        self.assertSucceeds(result)
        self.assertEqual(result.stdout, b"hi")


class StandardDescriptorsTest(LeakCheckedTestCase):
    def run_closed(self, fds, *args, input=None):
        """sockit ARGS with the descriptors fds closed; stdout and stderr captured unless
        closed."""
        pipes = {fd: (subprocess.DEVNULL if fd == 0 and input is None else subprocess.PIPE)
                 for fd in (0, 1, 2)}
        return subprocess.run([SOCKIT, *map(str, args)], input=input, stdin=None if input else
                              pipes[0], stdout=pipes[1], stderr=pipes[2], timeout=DEFAULT_TIMEOUT,
                              preexec_fn=lambda: [os.close(fd) for fd in fds])

    def test_a_closed_stdout_is_not_taken_by_the_socket(self):
        # The socket would be descriptor 1: the reply would go back to the server, forever.
        recorder = Recorder(reply=b"reply from the server\n")
        with ThreadedServer(recorder) as server:
            result = self.run_closed([1], "tcp", "127.0.0.1", server.port, input=b"request\n")
            self.assertTrue(recorder.done.wait(DEFAULT_TIMEOUT))
        self.assertFails(result, 1, "write stdout: Bad file descriptor")
        self.assertEqual(recorder.received, [b"request\n"])

    def test_a_closed_stderr_does_not_put_the_log_into_the_request(self):
        recorder = Recorder()
        with ThreadedServer(recorder) as server:
            result = self.run_closed([2], "tcp", "-v", "--send", "request\\n", "-q", "200ms",
                                     "127.0.0.1", server.port)
            self.assertTrue(recorder.done.wait(DEFAULT_TIMEOUT))
        self.assertEqual(result.returncode, 0)
        self.assertEqual(recorder.received, [b"request\n"])

    def test_a_closed_stdin_is_an_empty_one(self):
        recorder = Recorder(reply=b"hello\n")
        with ThreadedServer(recorder) as server:
            result = self.run_closed([0], "tcp", "127.0.0.1", server.port)
            self.assertTrue(recorder.done.wait(DEFAULT_TIMEOUT))
        self.assertSucceeds(result)
        self.assertEqual(result.stdout, b"hello\n")
        self.assertEqual(recorder.received, [b""])


class FailingOutputTest(LeakCheckedTestCase):
    def assertOutputFails(self, *args, input=None):
        for how, reason in REASONS.items():
            with self.subTest(how=how):
                result = run_failing_stdout(how, *args, input=input)
                self.assertFails(result, 1, f"write stdout: {reason}")

    def test_resolve(self):
        self.assertOutputFails("resolve", "localhost")

    def test_udp(self):
        with UdpEcho() as peer:
            self.assertOutputFails("udp", "--send", "ping", "127.0.0.1", peer.port)

    def test_tcp(self):
        with ThreadedServer(echo) as server:
            self.assertOutputFails("tcp", "--send", "ping", "127.0.0.1", server.port)

    def test_scan(self):
        with ThreadedServer(echo) as server:
            self.assertOutputFails("scan", "-p", server.port, "127.0.0.1")

    def test_bench(self):
        with ThreadedServer(echo) as server:
            self.assertOutputFails("bench", "-n", "10", "-c", "1", f"tcp://127.0.0.1:{server.port}")

    def test_scan_output_file_that_fails(self):
        with ThreadedServer(echo) as server:
            result = run("scan", "-p", server.port, "-oX", "/dev/full", "127.0.0.1")
        self.assertFails(result, 1, "write /dev/full: No space left on device")


class OutputFileTest(LeakCheckedTestCase):
    def test_scan_opens_its_output_files_before_scanning(self):
        missing = "/nonexistent-sockit-dir/scan.xml"
        for option in ("-oX", "-oG", "-oN", "-oJ"):
            with self.subTest(option=option), ThreadedServer(echo) as server:
                result = run("scan", "-p", server.port, option, missing, "127.0.0.1")
                self.assertFails(result, 2, f"cannot write {missing}: No such file or directory")
                self.assertEqual(server.connections, 0, "it scanned before opening the file")

    def test_bench_opens_its_html_report_before_the_run(self):
        with ThreadedServer(echo) as server:
            result = run("bench", "-n", "10", "--html", "/nonexistent-sockit-dir/r.html",
                         f"tcp://127.0.0.1:{server.port}")
            self.assertFails(result, 2, "No such file or directory")
            self.assertEqual(server.connections, 0)

    def test_files_read_name_the_reason(self):
        missing = "/nonexistent-sockit-dir/file"
        cases = [("scan", "-iL", missing),
                 ("bench", "--body-file", missing, "http://127.0.0.1:1/"),
                 ("serve", "qotd", "--quotes", missing)]
        for args in cases:
            with self.subTest(args=args):
                self.assertFails(run(*args), 2, f"{missing}: No such file or directory")


class UsageTest(LeakCheckedTestCase):
    def test_empty_arguments(self):
        for args in (("resolve", ""), ("resolve", "localhost", ""), ("scan", "-p", "", "127.0.0.1")):
            with self.subTest(args=args):
                self.assertFails(run(*args), 2, "empty")

    def test_resolve_minus_6_of_an_ipv4_address_is_an_error_not_an_answer(self):
        result = run("resolve", "-6", "127.0.0.1")
        self.assertFails(result, 1, "127.0.0.1 is an IPv4 address, and only IPv6 was asked for")
        self.assertEqual(result.stdout, b"")
        result = run("resolve", "-4", "::1")
        self.assertFails(result, 1, "::1 is an IPv6 address, and only IPv4 was asked for")

    def test_tcp_to_port_0(self):
        self.assertFails(run("tcp", "127.0.0.1", "0"), 2, "cannot connect to port 0")

    def test_serve_numbers(self):
        for args in (("--threads=-1",), ("--chat-rate=nan",), ("--chat-rate=inf",),
                     ("--chat-rate=-1",)):
            with self.subTest(args=args):
                result = run("serve", *args)
                self.assertEqual(result.returncode, 2, result.stderr)
                self.assertIn(args[0].partition("=")[0], result.stderr.decode())

    def test_list_options_of_serve_take_one_value_each(self):
        # The service named after them used to be taken as one more address or block.
        for args in (("--bind", "127.0.0.1", "echo"),
                     ("--allow", "127.0.0.0/8", "echo", "--bind", "127.0.0.1"),
                     ("--deny", "192.0.2.0/24", "echo", "--bind", "127.0.0.1")):
            with self.subTest(option=args[0]):
                with Serve(*args, "--echo-port", "0") as server:
                    self.assertEqual({service for service, _ in server.listeners}, {"echo"})

    def test_an_oversized_quotes_file_is_refused_at_start(self):
        self.assertFails(run("serve", "qotd", "--quotes", "/dev/zero"), 2,
                         "quotes file /dev/zero is over 4 MiB")


if __name__ == "__main__":
    unittest.main()
