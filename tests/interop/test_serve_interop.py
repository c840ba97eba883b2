"""sockit serve against clients nobody here wrote: the tutorials' Python clients (blocking
echo, asyncio echo, UDP QOTD, TCP daytime) run as programs of their own, ncat and socat."""
import datetime
import random
import subprocess
import sys
import tempfile
import unittest

from sockit_test import (DEFAULT_TIMEOUT, LeakCheckedTestCase, Serve, background,
                         has_ipv6_loopback, parse_daytime, read_exactly)
from tutorial_programs import DAYTIME_CLIENT, ECHO_CLIENT, QOTD_CLIENT

# The tutorial's asyncio client, with the host and port it hard-codes taken from the command
# line (its other clients are in tutorial_programs).
TUTORIAL_ASYNCIO_ECHO_CLIENT = """
import asyncio
import sys


async def echo_client(host, port):
    reader, writer = await asyncio.open_connection(host, port)
    writer.write(b'hello there')
    await writer.drain()
    data = await reader.read(1024)
    print(data.decode())
    writer.close()
    await writer.wait_closed()


asyncio.run(echo_client(sys.argv[1], int(sys.argv[2])))
"""

QUOTES = ("Talk is cheap. Show me the code.", "Read the RFC.", "Measure twice, cut once.")


def serve(*args, bind="127.0.0.1"):
    """`sockit serve` on one loopback address, every service on a port the OS picks."""
    return Serve("--bind", bind, "--echo-port", "0", "--daytime-port", "0", "--qotd-port", "0",
                 "--chat-port", "0", "--http-port", "0",
                 *args)


def run_tool(*argv, input=None):
    return subprocess.run([*map(str, argv)], input=input, capture_output=True,
                          timeout=DEFAULT_TIMEOUT)


def run_tutorial(source, address):
    """Runs a tutorial client against address (host, port) as a Python program of its own."""
    return run_tool(sys.executable, "-c", source, *address)


def datagram_exchange(argv, payload):
    """Writes payload to the stdin of a UDP client tool and waits for as many bytes on its
    stdout before closing its stdin (a datagram has no end of stream to wait for); returns
    all it printed and its exit code."""
    with background(argv, stderr=subprocess.DEVNULL) as proc:
        proc.stdin.write(payload)
        proc.stdin.flush()
        reply = read_exactly(proc.stdout, len(payload))
        proc.stdin.close()
        proc.wait(timeout=DEFAULT_TIMEOUT)
        return reply + proc.stdout.read(), proc.returncode


class InteropTestCase(LeakCheckedTestCase):
    def assertRanClean(self, result):
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertEqual(result.stderr, b"")

    def assertDaytimeNow(self, reply):
        now = datetime.datetime.now(datetime.timezone.utc)
        self.assertLess(abs(now - parse_daytime(reply)), datetime.timedelta(seconds=5), reply)


class TutorialClientTest(InteropTestCase):
    def test_blocking_echo_client(self):
        with serve("echo") as server:
            result = run_tutorial(ECHO_CLIENT, server.address("echo"))
        self.assertRanClean(result)
        self.assertEqual(result.stdout, b"hello there\n")

    def test_asyncio_echo_client(self):
        with serve("echo") as server:
            result = run_tutorial(TUTORIAL_ASYNCIO_ECHO_CLIENT, server.address("echo"))
        self.assertRanClean(result)
        self.assertEqual(result.stdout, b"hello there\n")

    def test_udp_qotd_client(self):
        with tempfile.NamedTemporaryFile("w", suffix=".quotes") as quotes:
            quotes.write("\n".join(QUOTES) + "\n")
            quotes.flush()
            with serve("qotd", "--quotes", quotes.name) as server:
                result = run_tutorial(QOTD_CLIENT, server.address("qotd", "udp"))
        self.assertRanClean(result)
        self.assertIn(result.stdout.decode().strip(), QUOTES)
        self.assertEqual(server.counters["qotd"]["datagrams"], 1)

    def test_tcp_daytime_client_as_against_time_nist_gov(self):
        with serve("daytime", "--daytime-format", "nist") as server:
            result = run_tutorial(DAYTIME_CLIENT, server.address("daytime"))
        self.assertRanClean(result)
        self.assertTrue(result.stdout.endswith(b"\n"))
        self.assertDaytimeNow(result.stdout[:-1])


class NcatTest(InteropTestCase):
    def test_tcp_echo_of_stdin(self):
        payload = random.randbytes(512 * 1024)
        with serve("echo") as server:
            host, port = server.address("echo")
            result = run_tool("ncat", host, port, input=payload)
        self.assertRanClean(result)
        self.assertTrue(result.stdout == payload, "echoed bytes differ")
        self.assertEqual(server.counters["echo"]["bytes_out"], len(payload))

    def test_daytime_with_recv_only(self):
        with serve("daytime") as server:
            host, port = server.address("daytime")
            result = run_tool("ncat", "--recv-only", host, port)
        self.assertRanClean(result)
        self.assertDaytimeNow(result.stdout)

    def test_udp_echo(self):
        with serve("echo") as server:
            host, port = server.address("echo", "udp")
            reply, code = datagram_exchange(["ncat", "-u", host, port], b"hello over udp\n")
        self.assertEqual(code, 0)
        self.assertEqual(reply, b"hello over udp\n")
        self.assertEqual(server.counters["echo"]["datagrams"], 1)

    @unittest.skipUnless(has_ipv6_loopback(), "no IPv6 loopback")
    def test_tcp_echo_over_ipv6(self):
        payload = random.randbytes(64 * 1024)
        with serve("echo", bind="::1") as server:
            result = run_tool("ncat", "-6", "::1", server.port("echo"), input=payload)
        self.assertRanClean(result)
        self.assertTrue(result.stdout == payload, "echoed bytes differ")


class SocatTest(InteropTestCase):
    def test_tcp_echo_of_stdin(self):
        payload = random.randbytes(2 * 1024 * 1024)
        with serve("echo") as server:
            host, port = server.address("echo")
            # -t: after stdin ends, wait for the server's close rather than 0.5 s.
            result = run_tool("socat", "-t", DEFAULT_TIMEOUT, "-", f"TCP:{host}:{port}",
                              input=payload)
        self.assertRanClean(result)
        self.assertTrue(result.stdout == payload, "echoed bytes differ")

    def test_udp_echo(self):
        with serve("echo") as server:
            host, port = server.address("echo", "udp")
            argv = ["socat", "-", f"UDP:{host}:{port}"]
            reply, code = datagram_exchange(argv, b"socat says hi\n")
        self.assertEqual(code, 0)
        self.assertEqual(reply, b"socat says hi\n")

    def test_daytime_one_way(self):
        with serve("daytime", "--daytime-format", "nist") as server:
            host, port = server.address("daytime")
            result = run_tool("socat", "-u", f"TCP:{host}:{port}", "-")
        self.assertRanClean(result)
        self.assertDaytimeNow(result.stdout)

    @unittest.skipUnless(has_ipv6_loopback(), "no IPv6 loopback")
    def test_udp_echo_over_ipv6(self):
        with serve("echo", bind="::1") as server:
            port = server.port("echo", "udp")
            argv = ["socat", "-", f"UDP6:[::1]:{port}"]
            reply, code = datagram_exchange(argv, b"v6 datagram\n")
        self.assertEqual(code, 0)
        self.assertEqual(reply, b"v6 datagram\n")


if __name__ == "__main__":
    unittest.main()
