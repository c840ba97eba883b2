#!/usr/bin/env python3
"""Holds idle TLS connections open to an HTTPS server on 127.0.0.1, for bench/tls.sh.

Opens COUNT connections from a few threads; on each it completes the handshake, asks for PATH
once with keep-alive and reads the whole answer, which proves the server has finished the
handshake and still holds the connection. Then it prints one line,
"conns=N errors=E seconds=S" (N connections held, E that failed, S seconds it took), and holds
them idle for at most HOLD seconds or until SIGTERM, and exits 0.

Usage: tls_idle.py PORT CAFILE COUNT HOLD PATH
"""

import signal
import socket
import ssl
import sys
import threading
import time

THREADS = 4
TIMEOUT = 10.0  # seconds for each connect, handshake and answer
# Seconds for opening them all; the rest are given up as errors. Below both servers' idle
# timeouts (sockit's --idle-timeout 60 s, nginx's keepalive_timeout 75 s), so that no held
# connection has been closed for idleness when the script reads the server's memory.
OPEN_LIMIT = 50.0


def read_answer(conn):
    """Reads one HTTP answer with a Content-Length; raises unless it is a whole 200."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            raise ConnectionError("closed before the answer's head")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    lines = head.split(b"\r\n")
    if not lines[0].startswith(b"HTTP/1.1 200"):
        raise ConnectionError("answer " + lines[0].decode(errors="replace"))
    length = None
    for line in lines[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length is None:
        raise ConnectionError("answer without Content-Length")
    while len(body) < length:
        chunk = conn.recv(65536)
        if not chunk:
            raise ConnectionError("closed within the body")
        body += chunk


def open_some(port, context, request, count, deadline, held, errors, lock):
    for _ in range(count):
        if time.monotonic() > deadline:
            with lock:
                errors.append("not opened within %.0f s" % OPEN_LIMIT)
            continue
        try:
            raw = socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT)
            conn = context.wrap_socket(raw, server_hostname="127.0.0.1")
            conn.sendall(request)
            read_answer(conn)
            with lock:
                held.append(conn)
        except (OSError, ValueError) as error:
            with lock:
                errors.append(str(error))


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__.strip().splitlines()[-1])
    port, cafile, count, hold, path = (int(sys.argv[1]), sys.argv[2], int(sys.argv[3]),
                                       float(sys.argv[4]), sys.argv[5])
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    context = ssl.create_default_context(cafile=cafile)
    request = ("GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n\r\n" % (path, port)).encode()
    held, errors, lock = [], [], threading.Lock()
    start = time.monotonic()
    deadline = start + OPEN_LIMIT
    shares = [count // THREADS + (1 if i < count % THREADS else 0) for i in range(THREADS)]
    threads = [threading.Thread(target=open_some,
                                args=(port, context, request, share, deadline, held, errors, lock))
               for share in shares]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    print("conns=%d errors=%d seconds=%.1f" % (len(held), len(errors), time.monotonic() - start),
          flush=True)
    for error in sorted(set(errors))[:5]:
        print("  " + error, file=sys.stderr, flush=True)
    time.sleep(hold)


if __name__ == "__main__":
    main()
