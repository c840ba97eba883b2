"""A chat client that behaves like the tutorials' ones, for tests of `sockit serve chat`.

As in a tutorial, a thread reads what the server sends and shows it line by line while the
main thread sends lines; here "shows" means a queue that the test takes lines from, each wait
bounded.
"""
import queue
import socket
import threading

from sockit_test import DEFAULT_TIMEOUT

# What line() and raw_line() return once the server has closed the connection.
EOF = None


class ChatClient:
    """One member over TCP. Use as a context manager; close() may be called more than once.

    Lines come as the server sent them, without their "\\n"; after the last one, EOF. .error is
    the OSError that ended the reading (a reset), or None after a clean end of stream. .nick is
    the test's to keep the member's name in.
    """

    def __init__(self, address, timeout=DEFAULT_TIMEOUT):
        self.timeout = timeout
        self.sock = socket.create_connection(address, timeout=timeout)
        self.error = None
        self.nick = None
        self._lines = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def _read(self):
        partial = b""
        try:
            while True:
                try:
                    chunk = self.sock.recv(65536)
                except TimeoutError:
                    continue  # a quiet chat is no error
                if not chunk:
                    break
                *complete, partial = (partial + chunk).split(b"\n")
                for line in complete:
                    self._lines.put(line)
        except OSError as error:
            self.error = error
        finally:
            if partial:
                self._lines.put(partial)
            self._lines.put(EOF)

    def send(self, *lines):
        """Sends each line (str as UTF-8, or bytes as they are) with a "\\n", in one write."""
        data = b"".join((line.encode() if isinstance(line, str) else line) + b"\n"
                        for line in lines)
        self.sock.sendall(data)

    def raw_line(self, timeout=None):
        """The next line's bytes, or EOF; TimeoutError if none comes in time."""
        try:
            return self._lines.get(timeout=self.timeout if timeout is None else timeout)
        except queue.Empty:
            raise TimeoutError(f"no line from the chat server in {self.timeout}s") from None

    def line(self, timeout=None):
        """The next line as text, or EOF. The server sends UTF-8 only: anything else raises."""
        raw = self.raw_line(timeout)
        return EOF if raw is EOF else raw.decode()

    def lines(self, count):
        """The next count lines (fewer, then EOF, if the server closes first)."""
        got = []
        while len(got) < count and got[-1:] != [EOF]:
            got.append(self.line())
        return got

    def until(self, predicate):
        """Reads lines up to the first for which predicate(line) holds; returns the lines before
        it and that line. AssertionError at EOF."""
        skipped = []
        while (line := self.line()) is not EOF:
            if predicate(line):
                return skipped, line
            skipped.append(line)
        raise AssertionError(f"the server closed the connection; before that it sent {skipped}")

    def until_end(self):
        """Every line up to the end of the stream."""
        got = []
        while (line := self.line()) is not EOF:
            got.append(line)
        return got

    def close(self):
        # Shutting down the reading side wakes the reader thread, which holds the socket
        # (and would keep it from closing) while it waits in recv().
        try:
            self.sock.shutdown(socket.SHUT_RD)
        except OSError:
            pass
        self._reader.join(self.timeout)
        self.sock.close()
