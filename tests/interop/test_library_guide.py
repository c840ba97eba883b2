"""The programs of docs/library.md (built from the guide by examples/library.cmake) against
Python peers on loopback: what the guide says each program does, it does."""
import os
import subprocess
import unittest

from sockit_test import DEFAULT_TIMEOUT, LeakCheckedTestCase, ThreadedServer, free_port

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


if __name__ == "__main__":
    unittest.main()
