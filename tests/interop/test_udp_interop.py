"""sockit udp against programs nobody here wrote, on 127.0.0.1: the tutorial's QOTD client and
a QOTD responder written the tutorial's way, socat and ncat, each in both directions."""
import shutil
import socket
import subprocess
import sys
import textwrap
import unittest

from sockit_test import (DEFAULT_TIMEOUT, SOCKIT, LeakCheckedTestCase, background, free_port,
                         listening_on, port_of, read_line, run)

QUOTE = ('"When a stupid man is doing something he is ashamed of, he always declares that it '
         'is his duty." George Bernard Shaw (1856-1950)')

# The tutorial shows only the QOTD client; its server is the same few calls turned around.
# It prints its port, answers one datagram whatever it holds, then the size it was sent.
QOTD_RESPONDER = textwrap.dedent(f"""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        s.settimeout({DEFAULT_TIMEOUT})
        print(s.getsockname()[1], flush=True)
        data, address = s.recvfrom(1024)
        s.sendto({QUOTE.encode()!r}, address)
        print(len(data))
""")

# The tutorial's qotd_client.py with only the address changed (and a timeout, so that it ends).
QOTD_CLIENT = textwrap.dedent(f"""
    import socket
    import sys

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:

        message = b''
        addr = ("127.0.0.1", int(sys.argv[1]))
        s.settimeout({DEFAULT_TIMEOUT})

        s.sendto(message, addr)

        data, address = s.recvfrom(1024)
        print(data.decode())
""")


def udp(*args, **kwargs):
    """`sockit udp ARGS...` in the background (see sockit_test.background)."""
    return background([SOCKIT, "udp", *args], **kwargs)


def wait_for(stream, text):
    """Reads a peer's log lines until one says text; the peer is ready then."""
    while text not in (line := read_line(stream).decode()):
        if not line:
            raise AssertionError(f"peer ended before saying {text!r}")


class QotdTest(LeakCheckedTestCase):
    def test_empty_datagram_gets_the_quote(self):
        with background([sys.executable, "-c", QOTD_RESPONDER]) as responder:
            port = int(read_line(responder.stdout))
            result = run("udp", "127.0.0.1", port, "--send", "")
            rest, err = responder.communicate(timeout=DEFAULT_TIMEOUT)
        self.assertSucceeds(result)
        self.assertEqual(result.stdout.decode(), QUOTE + "\n")
        self.assertEqual(responder.returncode, 0, err)
        self.assertEqual(rest, b"0\n", "the responder was sent a non-empty datagram")

    def test_tutorial_client_against_the_listener(self):
        with udp("-l", "-v", "127.0.0.1", 0, "--echo", "--max", 1) as listener:
            port = port_of(listening_on(listener))
            client = subprocess.run([sys.executable, "-c", QOTD_CLIENT, str(port)],
                                    capture_output=True, timeout=DEFAULT_TIMEOUT)
            out, err = listener.communicate(timeout=DEFAULT_TIMEOUT)
        self.assertEqual(listener.returncode, 0, err)
        self.assertEqual(out, b"\n")
        self.assertRegex(err.decode(), r"datagram from 127\.0\.0\.1:\d+ \(0 bytes\)")
        self.assertSucceeds(client)
        self.assertEqual(client.stdout, b"\n")


class EchoPeerTestCase(LeakCheckedTestCase):
    def assert_peer_echoes(self, peer_argv, ready, port, data):
        """sockit udp sends data to port, where peer_argv echoes once its log says ready."""
        with background(peer_argv) as peer:
            wait_for(peer.stderr, ready)
            result = run("udp", "127.0.0.1", port, input=data)
        self.assertSucceeds(result)
        self.assertEqual(result.stdout, data)

    def assert_echoed_to_client(self, client_argv, line):
        """The client client_argv(port) sends line to sockit's echo listener and reads it back."""
        with udp("-l", "-v", "127.0.0.1", 0, "--echo", "--max", 1) as listener:
            port = port_of(listening_on(listener))
            with background(client_argv(port)) as client:
                client.stdin.write(line)
                client.stdin.flush()
                self.assertEqual(read_line(client.stdout), line)
                client.stdin.close()
                self.assertEqual(client.wait(timeout=DEFAULT_TIMEOUT), 0)
            out, err = listener.communicate(timeout=DEFAULT_TIMEOUT)
        self.assertEqual(listener.returncode, 0, err)
        self.assertEqual(out, line)


class SocatTest(EchoPeerTestCase):
    def test_sockit_client_to_socat_echo(self):
        port = free_port(socket.SOCK_DGRAM)
        self.assert_peer_echoes(
            ["socat", "-d", "-d", f"UDP4-RECVFROM:{port},bind=127.0.0.1,fork", "PIPE"],
            f"receiving on AF=2 127.0.0.1:{port}", port, b"alpha\nbeta\n\x00\xff gamma\n")

    def test_socat_client_to_sockit_echo(self):
        self.assert_echoed_to_client(lambda port: ["socat", "-", f"UDP4:127.0.0.1:{port}"],
                                     b"hello from socat\n")


class NcatTest(EchoPeerTestCase):
    def test_sockit_client_to_ncat_echo(self):
        port = free_port(socket.SOCK_DGRAM)
        self.assert_peer_echoes(
            ["ncat", "-v", "-u", "-l", "127.0.0.1", port, "--exec", shutil.which("cat")],
            f"Listening on 127.0.0.1:{port}", port, b"alpha\nbeta\n")

    def test_ncat_client_to_sockit_echo(self):
        self.assert_echoed_to_client(lambda port: ["ncat", "-u", "127.0.0.1", port],
                                     b"hello from ncat\n")


if __name__ == "__main__":
    unittest.main()
