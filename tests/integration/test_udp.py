"""sockit udp end to end against Python peers on loopback: replies printed exactly, the empty
datagram, escapes, timeouts and retries, ICMP refusals, listening and echoing, IPv6, broadcast
on the loopback network, 60000-byte datagrams and every usage error."""
import os
import select
import socket
import threading
import time
import unittest

from sockit_test import (DEFAULT_TIMEOUT, SOCKIT, UNRESOLVABLE, LeakCheckedTestCase, background, free_port,
                         has_ipv6_loopback, listening_on, port_of, run)

# How long sockit waits for a reply that a test knows is not coming.
SHORT = 0.5
LARGE = 60000


class UdpServer:
    """A UDP peer on a port 0 of host that answers each datagram with reply(data), or stays
    silent when that is None, in a thread. Use as a context manager; .port is the bound port
    and .received lists the datagrams in arrival order."""

    def __init__(self, reply, host="127.0.0.1"):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.port = self.sock.getsockname()[1]
        self.received = []
        self._reply = reply
        # Closing a socket does not wake a thread blocked on it; a byte on this pair does.
        self._stop, self._stopper = socket.socketpair()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self):
        while True:
            ready = select.select([self.sock, self._stop], [], [], DEFAULT_TIMEOUT)[0]
            if self.sock not in ready or self._stop in ready:
                return
            data, address = self.sock.recvfrom(65536)
            self.received.append(data)
            answer = self._reply(data)
            if answer is not None:
                self.sock.sendto(answer, address)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stopper.send(b"x")
        self._thread.join(timeout=DEFAULT_TIMEOUT)
        for sock in (self.sock, self._stop, self._stopper):
            sock.close()


def echo(data):
    return data


def silent(data):
    return None


def udp(*args, **kwargs):
    """`sockit udp ARGS...` in the background (see sockit_test.background)."""
    return background([SOCKIT, "udp", *args], **kwargs)


def client_socket(family=socket.AF_INET):
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.settimeout(DEFAULT_TIMEOUT)
    return sock


def large_payload():
    """LARGE random bytes without a newline, so that they travel as one stdin line."""
    return os.urandom(LARGE).replace(b"\n", b"n")


class ClientTest(LeakCheckedTestCase):
    def test_reply_is_printed_exactly(self):
        with UdpServer(echo) as peer:
            result = run("udp", "127.0.0.1", peer.port, "--send", "hello world")
        self.assertSucceeds(result)
        self.assertEqual(result.stdout, b"hello world\n")
        self.assertEqual(result.stderr, b"")
        self.assertEqual(peer.received, [b"hello world"])

    def test_reply_ending_in_newline_gets_no_second_one(self):
        with UdpServer(echo) as peer:
            result = run("udp", "127.0.0.1", peer.port, "--send", r"line\n")
        self.assertSucceeds(result)
        self.assertEqual(result.stdout, b"line\n")
        self.assertEqual(peer.received, [b"line\n"])

    def test_each_stdin_line_is_one_datagram_and_replies_come_in_order(self):
        with UdpServer(bytes.upper) as peer:
            result = run("udp", "127.0.0.1", peer.port, input=b"one\ntwo\nthree")
        self.assertSucceeds(result)
        self.assertEqual(peer.received, [b"one", b"two", b"three"])
        self.assertEqual(result.stdout, b"ONE\nTWO\nTHREE\n")

    def test_empty_datagram_is_sent_and_empty_reply_printed_as_a_line(self):
        with UdpServer(echo) as peer:
            result = run("udp", "127.0.0.1", peer.port, "--send", "")
        self.assertSucceeds(result)
        self.assertEqual(peer.received, [b""])
        self.assertEqual(result.stdout, b"\n")

    def test_escapes_are_decoded(self):
        with UdpServer(echo) as peer:
            result = run("udp", "127.0.0.1", peer.port, "--send", r"a\tb\r\n\0\x00\xfF\x41\\")
        self.assertSucceeds(result)
        self.assertEqual(peer.received, [b"a\tb\r\n\x00\x00\xffA\\"])

    def test_bad_escapes_are_usage_errors_and_send_nothing(self):
        with UdpServer(echo) as peer:
            for text, said in [(r"\q", r"unknown escape \q"), (r"\x4", "two hex digits"),
                               (r"\xzz", "two hex digits"), ("end\\", "lone backslash")]:
                with self.subTest(text=text):
                    self.assertFails(run("udp", "127.0.0.1", peer.port, "--send", text), 2, said)
        self.assertEqual(peer.received, [])

    def test_verbose_names_the_replying_peer(self):
        with UdpServer(echo) as peer:
            result = run("udp", "-v", "127.0.0.1", peer.port, "--send", "hello")
        self.assertSucceeds(result)
        self.assertEqual(result.stderr.decode(),
                         f"sockit udp: reply from 127.0.0.1:{peer.port} (5 bytes)\n")

    def test_large_datagram_round_trips_exactly(self):
        payload = large_payload()
        with UdpServer(echo) as peer:
            result = run("udp", "127.0.0.1", peer.port, input=payload + b"\n")
        self.assertSucceeds(result)
        self.assertEqual(len(peer.received), 1)
        self.assertTrue(peer.received[0] == payload, "sent bytes differ")
        self.assertTrue(result.stdout == payload + b"\n", "printed reply differs")


class NoReplyTest(LeakCheckedTestCase):
    def test_silent_peer_times_out_with_one_line(self):
        with UdpServer(silent) as peer:
            began = time.monotonic()
            result = run("udp", "127.0.0.1", peer.port, "--timeout", SHORT, "--send", "ping")
            elapsed = time.monotonic() - began
        self.assertFails(result, 1, f"sockit udp: no reply from 127.0.0.1:{peer.port} after 1 "
                                    f"attempt(s) (timeout {SHORT}s)")
        self.assertGreaterEqual(elapsed, SHORT)
        self.assertEqual(result.stdout, b"")
        self.assertEqual(peer.received, [b"ping"])

    def test_timeout_takes_units(self):
        with UdpServer(silent) as peer:
            result = run("udp", "127.0.0.1", peer.port, "--timeout", "300ms", "--send", "ping")
        self.assertFails(result, 1, "after 1 attempt(s) (timeout 0.3s)")

    def test_retry_gets_the_reply_the_first_datagram_did_not(self):
        with UdpServer(lambda data: b"pong" if peer.received[1:] else None) as peer:
            result = run("udp", "127.0.0.1", peer.port, "--timeout", SHORT, "--retries", 3,
                         "--send", "ping")
        self.assertSucceeds(result)
        self.assertEqual(result.stdout, b"pong\n")
        self.assertEqual(peer.received, [b"ping", b"ping"])

    def test_retries_give_up_after_every_attempt(self):
        with UdpServer(silent) as peer:
            began = time.monotonic()
            result = run("udp", "127.0.0.1", peer.port, "--timeout", SHORT, "--retries", 2,
                         "--send", "ping")
            elapsed = time.monotonic() - began
        self.assertFails(result, 1, f"no reply from 127.0.0.1:{peer.port} after 3 attempt(s)")
        self.assertGreaterEqual(elapsed, 3 * SHORT)
        self.assertEqual(peer.received, [b"ping"] * 3)

    def test_no_reply_to_a_line_stops_before_the_next(self):
        with UdpServer(lambda data: b"ONE" if data == b"one" else None) as peer:
            result = run("udp", "127.0.0.1", peer.port, "--timeout", SHORT,
                         input=b"one\ntwo\nthree\n")
        self.assertFails(result, 1, "no reply")
        self.assertEqual(result.stdout, b"ONE\n")
        self.assertEqual(peer.received, [b"one", b"two"])

    def test_closed_port_is_refused_at_once(self):
        port = free_port(socket.SOCK_DGRAM)
        began = time.monotonic()
        result = run("udp", "127.0.0.1", port, "--timeout", 20, "--send", "anyone?")
        self.assertFails(result, 1, f"127.0.0.1:{port}: Connection refused")
        # The ICMP error ended the wait, not the timeout.
        self.assertLess(time.monotonic() - began, 20)


class ListenTest(LeakCheckedTestCase):
    def test_prints_each_datagram_and_stops_after_max(self):
        with udp("-l", "-v", "127.0.0.1", 0, "--max", 2) as proc, client_socket() as client:
            address = listening_on(proc)
            self.assertRegex(address, r"^127\.0\.0\.1:[1-9][0-9]*$")
            client.sendto(b"first", ("127.0.0.1", port_of(address)))
            client.sendto(b"second\n", ("127.0.0.1", port_of(address)))
            out, err = proc.communicate(timeout=DEFAULT_TIMEOUT)
            source = f"127.0.0.1:{client.getsockname()[1]}"
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(out, b"first\nsecond\n")
        self.assertEqual(err.decode().splitlines(),
                         [f"sockit udp: datagram from {source} (5 bytes)",
                          f"sockit udp: datagram from {source} (7 bytes)"])

    def test_echo_answers_each_client_at_its_own_address(self):
        with udp("-l", "-v", "127.0.0.1", 0, "--echo", "--max", 3) as proc, \
                client_socket() as first, client_socket() as second:
            target = ("127.0.0.1", port_of(listening_on(proc)))
            for client, data in [(first, b"from first"), (second, b""), (first, b"again")]:
                client.sendto(data, target)
                self.assertEqual(client.recvfrom(65536), (data, target))
            out, err = proc.communicate(timeout=DEFAULT_TIMEOUT)
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(out, b"from first\n\nagain\n")

    def test_echo_of_a_large_datagram_is_exact(self):
        payload = large_payload()
        with udp("-l", "-v", "127.0.0.1", 0, "--echo", "--max", 1) as proc, \
                client_socket() as client:
            client.sendto(payload, ("127.0.0.1", port_of(listening_on(proc))))
            echoed = client.recv(65536)
            out, err = proc.communicate(timeout=DEFAULT_TIMEOUT)
        self.assertEqual(proc.returncode, 0, err)
        self.assertTrue(echoed == payload, "echoed bytes differ")
        self.assertTrue(out == payload + b"\n", "printed datagram differs")

    def test_port_in_use_fails_with_one_line(self):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
            taken.bind(("127.0.0.1", 0))
            port = taken.getsockname()[1]
            result = run("udp", "-l", "127.0.0.1", port, "--max", 1)
        self.assertFails(result, 1, f"127.0.0.1:{port}: Address already in use")

    def test_listen_option_misuse_is_a_usage_error(self):
        with UdpServer(echo) as peer:
            for args in [["--echo"], ["--max", 1], ["-l", "--send", "x"], ["-l", "--max", 0]]:
                with self.subTest(args=args):
                    result = run("udp", "127.0.0.1", peer.port, *args, input=b"x\n")
                    self.assertEqual(result.returncode, 2, result.stderr)
                    self.assertEqual(result.stdout, b"")
        self.assertEqual(peer.received, [])


@unittest.skipUnless(has_ipv6_loopback(), "no IPv6 loopback")
class Ipv6Test(LeakCheckedTestCase):
    def test_client_with_plain_and_bracketed_address(self):
        with UdpServer(echo, host="::1") as peer:
            for host in ["::1", "[::1]"]:
                with self.subTest(host=host):
                    result = run("udp", "-6", "-v", host, peer.port, "--send", "six")
                    self.assertSucceeds(result)
                    self.assertEqual(result.stdout, b"six\n")
                    self.assertIn(f"reply from [::1]:{peer.port}", result.stderr.decode())
        self.assertEqual(peer.received, [b"six", b"six"])

    def test_listener_echoes_over_ipv6(self):
        with udp("-l", "-v", "::1", 0, "--echo", "--max", 1) as proc, \
                client_socket(socket.AF_INET6) as client:
            address = listening_on(proc)
            self.assertRegex(address, r"^\[::1\]:[1-9][0-9]*$")
            client.sendto(b"over six", ("::1", port_of(address)))
            self.assertEqual(client.recv(65536), b"over six")
            out, err = proc.communicate(timeout=DEFAULT_TIMEOUT)
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(out, b"over six\n")

    def test_refused_over_ipv6(self):
        port = free_port(socket.SOCK_DGRAM, host="::1")
        self.assertFails(run("udp", "::1", port, "--send", "x"), 1,
                         f"[::1]:{port}: Connection refused")

    def test_family_flags_restrict_the_address(self):
        with UdpServer(echo) as peer:
            self.assertFails(run("udp", "-6", "127.0.0.1", peer.port, "--send", "x"), 1,
                             "127.0.0.1")
            self.assertFails(run("udp", "-4", "::1", peer.port, "--send", "x"), 1, "::1")
        self.assertEqual(peer.received, [])


class BroadcastTest(LeakCheckedTestCase):
    """127.255.255.255 is the broadcast address of the loopback network, so nothing leaves
    this machine; the peer binds it to hear exactly those broadcasts."""

    def test_broadcast_address_needs_the_flag(self):
        with UdpServer(echo, host="127.255.255.255") as peer:
            result = run("udp", "127.255.255.255", peer.port, "--send", "x")
        self.assertFails(result, 1, "Permission denied")
        self.assertEqual(peer.received, [])

    def test_broadcast_reaches_the_peer_and_its_reply_is_taken(self):
        with UdpServer(lambda data: b"pong", host="127.255.255.255") as peer:
            result = run("udp", "--broadcast", "-v", "127.255.255.255", peer.port,
                         "--send", "anyone?")
        self.assertSucceeds(result)
        self.assertEqual(peer.received, [b"anyone?"])
        self.assertEqual(result.stdout, b"pong\n")
        # The reply comes from the peer's own address, not the broadcast one it was sent to.
        self.assertIn(f"reply from 127.0.0.1:{peer.port}", result.stderr.decode())


class BadInputTest(LeakCheckedTestCase):
    def test_port_out_of_range(self):
        self.assertFails(run("udp", "127.0.0.1", 70000, "--send", "x"), 2,
                         "port 70000 out of range 0-65535")

    def test_unknown_service(self):
        self.assertFails(run("udp", "127.0.0.1", "nosuchservice", "--send", "x"), 2,
                         "unknown port or service: nosuchservice")

    def test_service_name_is_looked_up_for_udp(self):
        # -6 makes the IPv4 address fail to resolve, so the message shows the port without
        # any datagram going out.
        port = socket.getservbyname("echo", "udp")
        self.assertFails(run("udp", "-6", "127.0.0.1", "echo", "--send", "x"), 1,
                         f"127.0.0.1:{port}")

    def test_unresolvable_name(self):
        port = free_port(socket.SOCK_DGRAM)
        self.assertFails(run("udp", UNRESOLVABLE, port, "--send", "x"), 1, UNRESOLVABLE)

    def test_missing_port(self):
        self.assertFails(run("udp", "127.0.0.1", "--send", "x"), 2, "missing PORT")

    def test_unix_target(self):
        self.assertFails(run("udp", "unix:/tmp/x", "--send", "x"), 2, "unix:")

    def test_bad_option_values(self):
        with UdpServer(echo) as peer:
            target = ["127.0.0.1", peer.port, "--send", "x"]
            for args in [[], ["-4", "-6", *target], ["--timeout", "soon", *target],
                         ["--retries", -1, *target]]:
                with self.subTest(args=args):
                    result = run("udp", *args)
                    self.assertEqual(result.returncode, 2, result.stderr)
                    self.assertEqual(result.stdout, b"")
        self.assertEqual(peer.received, [])


if __name__ == "__main__":
    unittest.main()
