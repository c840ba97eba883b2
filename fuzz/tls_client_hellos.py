#!/usr/bin/env python3
"""Writes the seed corpus of tls_server_fuzz into corpus/tls_server: real first flights of
`openssl s_client` (captured on a loopback listener that never answers), and a few that no
client sends (an alert, records after the hello, plain HTTP). Run once; the files are
committed.

    python3 fuzz/tls_client_hellos.py
"""
import os
import socket
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus", "tls_server")
TIMEOUT = 10

# name: the s_client options of each capture
CLIENTS = {
    "hello_default": ["-servername", "localhost", "-alpn", "http/1.1"],
    "hello_tls12": ["-tls1_2", "-servername", "localhost"],
    "hello_tls13_p256": ["-tls1_3", "-groups", "P-256", "-alpn", "h2,http/1.1"],
    "hello_no_sni": ["-noservername", "-cipher", "ECDHE-RSA-AES128-GCM-SHA256"],
}


def first_record(sock):
    """The bytes of the first TLS record the client sends, whole."""
    data = b""
    sock.settimeout(TIMEOUT)
    while len(data) < 5 or len(data) < 5 + int.from_bytes(data[3:5], "big"):
        chunk = sock.recv(65536)
        if not chunk:
            raise RuntimeError("the client closed before its first record ended")
        data += chunk
    return data


def capture(options):
    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]
        client = subprocess.Popen(
            ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", *options],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            listener.settimeout(TIMEOUT)
            conn, _ = listener.accept()
            with conn:
                return first_record(conn)
        finally:
            client.kill()
            client.wait()


def main():
    os.makedirs(CORPUS, exist_ok=True)
    hellos = {name: capture(options) for name, options in CLIENTS.items()}
    change_cipher_spec = bytes.fromhex("140303000101")
    made = dict(hellos)
    made["hello_then_records"] = (hellos["hello_default"] + change_cipher_spec +
                                  bytes.fromhex("1703030010") + bytes(16))
    made["hello_twice"] = hellos["hello_tls13_p256"] * 2
    made["alert_handshake_failure"] = bytes.fromhex("15030300020228")
    made["plain_http"] = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n"
    for name, data in made.items():
        with open(os.path.join(CORPUS, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
