"""Shared helpers of sockit's Python tests: the binary under test and loopback peers.

Every peer binds port 0 on loopback and is stopped by the test that started it.
"""
import os
import socket
import subprocess
import threading
import unittest

SOCKIT = os.environ.get("SOCKIT_BIN", "sockit")
# Generous: sanitizer builds are slow, and a hang must still end the test.
DEFAULT_TIMEOUT = 30


def run(*args, input=None, timeout=DEFAULT_TIMEOUT, **kwargs):
    """Runs `sockit ARGS...` to completion and returns the CompletedProcess (bytes)."""
    return subprocess.run([SOCKIT, *map(str, args)], input=input, capture_output=True,
                          timeout=timeout, **kwargs)


def start(*args, **kwargs):
    """Starts `sockit ARGS...` with pipes on stdin, stdout and stderr."""
    return subprocess.Popen([SOCKIT, *map(str, args)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)


def free_port(kind=socket.SOCK_STREAM, host="127.0.0.1"):
    """A port the OS just handed out on host; the socket is closed before returning."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, kind) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def has_ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


class ThreadedServer:
    """A TCP server on a loopback port 0 that runs handler(conn) for each client in a thread.

    Use as a context manager; .port is the bound port, .connections counts accepted clients.
    """

    def __init__(self, handler, host="127.0.0.1", family=socket.AF_INET):
        self.handler = handler
        self.sock = socket.socket(family, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((host, 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self._threads = []
        self._acceptor = threading.Thread(target=self._accept_loop, daemon=True)

    def _accept_loop(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            t = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            t.start()
            self._threads.append(t)

    def _serve(self, conn):
        with conn:
            try:
                self.handler(conn)
            except OSError:
                pass

    def __enter__(self):
        self._acceptor.start()
        return self

    def __exit__(self, *exc):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self._acceptor.join(timeout=5)
        for t in self._threads:
            t.join(timeout=5)


class TestCase(unittest.TestCase):
    """Adds the assertions every sockit CLI test repeats."""

    def assertFails(self, result, code, stderr_has):
        """The command exited with code and said stderr_has in exactly one stderr line."""
        err = result.stderr.decode(errors="replace")
        self.assertEqual(result.returncode, code, f"stderr: {err!r}")
        self.assertIn(stderr_has, err)
        self.assertEqual(len(err.strip().splitlines()), 1, f"expected one line: {err!r}")
