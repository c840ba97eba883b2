"""sockit tcp --ssl end to end on loopback: the client against openssl s_server, the listener
against openssl s_client and ncat --ssl, mutual TLS both ways, and every failure. The
certificates are made by the test with the openssl command."""
import os
import socket
import subprocess
import tempfile
import unittest

from sockit_test import (DEFAULT_TIMEOUT, SOCKIT, LeakCheckedTestCase, ThreadedServer,
                         background, fingerprint_of, free_port, listening_on, port_of,
                         read_exactly, read_line, recv_all, run)

OPENSSL = "openssl"


def make_certificate(directory, name):
    """A self-signed P-256 certificate for localhost and 127.0.0.1, and its key, in directory:
    (certificate path, key path)."""
    cert = os.path.join(directory, f"{name}.pem")
    key = os.path.join(directory, f"{name}-key.pem")
    subprocess.run([OPENSSL, "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-subj", "/CN=localhost", "-addext",
                    "subjectAltName=DNS:localhost,IP:127.0.0.1", "-days", "2",
                    "-keyout", key, "-out", cert], check=True, capture_output=True,
                   timeout=DEFAULT_TIMEOUT)
    return cert, key


def tcp(*args, **kwargs):
    """`sockit tcp ARGS...` in the background (see sockit_test.background)."""
    return background([SOCKIT, "tcp", *args], **kwargs)


def s_server(port, *args):
    """openssl s_server on 127.0.0.1:port for one client, once it accepts; args add to its
    command line. Use as a context manager (the process is killed on leaving)."""
    return background([OPENSSL, "s_server", "-accept", f"127.0.0.1:{port}", "-naccept", "1",
                       *args], stdin=subprocess.DEVNULL)


def wait_accepting(server):
    """Reads s_server's output up to its ACCEPT line, which it prints once it listens."""
    for _ in range(20):
        line = read_line(server.stdout)
        if line in (b"", b"ACCEPT\n"):
            break
    if line != b"ACCEPT\n":
        raise AssertionError(f"s_server did not start: {server.stderr.read()!r}")


def s_client(port, *args, **kwargs):
    """openssl s_client to 127.0.0.1:port with pipes (kwargs may override them); args add to
    its command line. Use as a context manager (the process is killed on leaving)."""
    return background([OPENSSL, "s_client", "-connect", f"127.0.0.1:{port}", *args], **kwargs)


class TlsTestCase(LeakCheckedTestCase):
    @classmethod
    def setUpClass(cls):
        cls._directory = tempfile.TemporaryDirectory()
        directory = cls._directory.name
        cls.cert, cls.key = make_certificate(directory, "server")
        cls.client_cert, cls.client_key = make_certificate(directory, "client")
        cls.encrypted_key = os.path.join(directory, "encrypted-key.pem")
        subprocess.run([OPENSSL, "pkey", "-in", cls.key, "-aes256", "-passout", "pass:secret",
                        "-out", cls.encrypted_key], check=True, timeout=DEFAULT_TIMEOUT)
        cls.missing = os.path.join(directory, "missing.pem")

    @classmethod
    def tearDownClass(cls):
        cls._directory.cleanup()

    def client_against_s_server(self, *args, server_args=(), input=b"hello server\n"):
        """`sockit tcp --ssl ARGS 127.0.0.1 PORT` against `openssl s_server -rev` (which
        answers each line reversed) with the server certificate: the CompletedProcess."""
        port = free_port()
        with s_server(port, "-cert", self.cert, "-key", self.key, "-rev",
                      *server_args) as server:
            wait_accepting(server)
            return run("tcp", "--ssl", *args, "127.0.0.1", port, input=input)


class ClientTest(TlsTestCase):
    def test_trustfile_verifies_and_data_goes_both_ways(self):
        result = self.client_against_s_server("-v", "--ssl-trustfile", self.cert)
        self.assertSucceeds(result)
        # The answer came after sockit's close_notify and FIN: the reply is still read.
        self.assertEqual(result.stdout, b"revres olleh\n")
        self.assertRegex(result.stderr.decode(),
                         r"sockit tcp: TLS TLSv1\.3 \S+\n"
                         r"sockit tcp: closed \(sent 13 bytes, received 13 bytes\)\n\Z")

    def test_send_over_tls(self):
        result = self.client_against_s_server("-k", "--send", r"hello\n", input=None)
        self.assertSucceeds(result)
        self.assertEqual(result.stdout, b"olleh\n")

    def test_without_trustfile_a_self_signed_server_fails(self):
        result = self.client_against_s_server()
        self.assertFails(result, 1, "sockit tcp: TLS handshake with 127.0.0.1:")
        self.assertIn(": certificate verify failed: self-signed certificate", result.stderr.decode())
        self.assertEqual(result.stdout, b"")

    def test_insecure_accepts_it(self):
        for flag in ("-k", "--insecure"):
            with self.subTest(flag=flag):
                result = self.client_against_s_server(flag)
                self.assertSucceeds(result)
                self.assertEqual(result.stdout, b"revres olleh\n")

    def test_wrong_servername_is_a_hostname_mismatch(self):
        result = self.client_against_s_server("--ssl-trustfile", self.cert,
                                              "--ssl-servername", "other.example")
        self.assertFails(result, 1,
                         "TLS handshake with other.example:")
        self.assertIn("certificate verify failed: hostname mismatch", result.stderr.decode())

    def test_alpn_is_offered(self):
        result = self.client_against_s_server("-k", "-v", "--ssl-alpn", "x-none,x-sockit",
                                              server_args=("-alpn", "x-sockit"))
        self.assertSucceeds(result)
        self.assertRegex(result.stderr.decode(), r"TLS TLSv1\.3 \S+ ALPN x-sockit\n")

    def test_client_certificate_for_mutual_tls(self):
        server_args = ("-Verify", "1", "-CAfile", self.client_cert)
        for names in (("--cert", "--key"), ("--ssl-cert", "--ssl-key")):
            with self.subTest(names=names):
                result = self.client_against_s_server(
                    "--ssl-trustfile", self.cert, names[0], self.client_cert, names[1],
                    self.client_key, server_args=server_args)
                self.assertSucceeds(result)
                self.assertEqual(result.stdout, b"revres olleh\n")

    def test_mutual_tls_without_a_certificate_fails(self):
        result = self.client_against_s_server("--ssl-trustfile", self.cert,
                                              server_args=("-Verify", "1", "-CAfile",
                                                           self.client_cert))
        self.assertFails(result, 1, "sockit tcp: TLS ")
        self.assertIn("certificate required", result.stderr.decode())

    def test_wait_bounds_the_handshake(self):
        # A server that never answers the ClientHello; it reads until sockit has gone.
        with ThreadedServer(recv_all) as server:
            result = run("tcp", "--ssl", "-w", "300ms", "127.0.0.1", server.port,
                         input=b"never sent")
        self.assertFails(result, 1, f"TLS handshake with 127.0.0.1:{server.port}: ")
        self.assertIn("timed out", result.stderr.decode())


class ListenerTest(TlsTestCase):
    def test_s_client_both_ways_and_the_printed_fingerprint(self):
        with tcp("-l", "-v", "--ssl", "127.0.0.1", "0") as proc:
            port = port_of(listening_on(proc))
            line = read_line(proc.stderr).decode()
            self.assertRegex(line, r"\Asockit tcp: TLS certificate SHA-256 fingerprint "
                                   r"([0-9A-F]{2}:){31}[0-9A-F]{2} \(self-signed\)\n\Z")
            printed = line.split()[6]
            with s_client(port, "-ign_eof") as client:
                client.stdin.write(b"from s_client\n")
                client.stdin.flush()
                self.assertEqual(read_exactly(proc.stdout, 14), b"from s_client\n")
                proc.stdin.write(b"from sockit\n")
                proc.stdin.close()  # close_notify and FIN: s_client ends
                self.assertEqual(client.wait(timeout=DEFAULT_TIMEOUT), 0)
                shown = client.stdout.read()
            self.assertEqual(proc.wait(timeout=DEFAULT_TIMEOUT), 0)
        self.assertIn(b"\nfrom sockit\n", shown)
        self.assertEqual(fingerprint_of(shown), printed)

    def test_ncat_both_ways(self):
        with tcp("-l", "-v", "--ssl", "127.0.0.1", "0") as proc:
            port = port_of(listening_on(proc))
            read_line(proc.stderr)  # the fingerprint
            with background(["ncat", "--ssl", "127.0.0.1", port]) as client:
                client.stdin.write(b"from ncat\n")
                client.stdin.flush()
                self.assertEqual(read_exactly(proc.stdout, 10), b"from ncat\n")
                proc.stdin.write(b"from sockit\n")
                proc.stdin.close()
                self.assertEqual(read_exactly(client.stdout, 12), b"from sockit\n")
                client.stdin.close()
                self.assertEqual(client.wait(timeout=DEFAULT_TIMEOUT), 0)
            self.assertEqual(proc.wait(timeout=DEFAULT_TIMEOUT), 0)

    def test_given_certificate_is_presented(self):
        with tcp("-l", "-v", "--ssl", "--ssl-cert", self.cert, "--ssl-key", self.key,
                 "127.0.0.1", "0", stdin=subprocess.DEVNULL) as proc:
            port = port_of(listening_on(proc))
            self.assertRegex(read_line(proc.stderr).decode(),
                             r"\Asockit tcp: TLS certificate SHA-256 fingerprint \S+\n\Z")
            with s_client(port, "-CAfile", self.cert, "-verify_return_error", "-ign_eof",
                          "-verify_hostname", "localhost", stdin=subprocess.DEVNULL) as client:
                self.assertEqual(client.wait(timeout=DEFAULT_TIMEOUT), 0,
                                 client.stderr.read())
                shown = client.stdout.read()
            self.assertEqual(proc.wait(timeout=DEFAULT_TIMEOUT), 0)
        self.assertIn(b"Verify return code: 0 (ok)", shown)
        with open(self.cert, "rb") as cert:
            self.assertEqual(fingerprint_of(shown), fingerprint_of(cert.read()))

    def test_mutual_tls_refuses_a_client_without_certificate_and_serves_the_next(self):
        with tcp("-l", "-k", "--exit-on-close", "--ssl", "--ssl-cert", self.cert, "--ssl-key",
                 self.key, "--ssl-trustfile", self.client_cert, "127.0.0.1", "0",
                 "-v") as proc:
            port = port_of(listening_on(proc))
            read_line(proc.stderr)  # the fingerprint
            refused = subprocess.run(
                [OPENSSL, "s_client", "-connect", f"127.0.0.1:{port}", "-quiet"],
                input=b"anonymous\n", capture_output=True, timeout=DEFAULT_TIMEOUT)
            self.assertIn(b"accepted from", read_line(proc.stderr))
            self.assertRegex(read_line(proc.stderr).decode(),
                             r"\Asockit tcp: TLS handshake with 127\.0\.0\.1:\d+: "
                             r"peer did not return a certificate\n\Z")
            self.assertNotEqual(refused.stdout, b"anonymous\n")
            accepted = subprocess.run(
                [OPENSSL, "s_client", "-connect", f"127.0.0.1:{port}", "-quiet",
                 "-no_ign_eof", "-cert", self.client_cert, "-key", self.client_key],
                input=b"with a certificate\n", capture_output=True, timeout=DEFAULT_TIMEOUT)
            self.assertEqual(read_exactly(proc.stdout, 19), b"with a certificate\n",
                             accepted.stderr)
            self.assertIsNone(proc.poll(), "a -k listener must keep running")

    def test_plain_text_client_gets_an_error_line_and_the_next_is_served(self):
        with tcp("-l", "-k", "--exit-on-close", "--ssl", "127.0.0.1", "0", "-v") as proc:
            port = port_of(listening_on(proc))
            read_line(proc.stderr)  # the fingerprint
            with socket.create_connection(("127.0.0.1", port), DEFAULT_TIMEOUT) as plain:
                # Its first five bytes are no TLS record header: the listener answers at once.
                plain.sendall(b"hello in plain text\n")
                self.assertIn(b"accepted from", read_line(proc.stderr))
                self.assertRegex(read_line(proc.stderr).decode(),
                                 r"\Asockit tcp: TLS handshake with 127\.0\.0\.1:\d+: "
                                 r"wrong version number\n\Z")
            accepted = subprocess.run(
                [OPENSSL, "s_client", "-connect", f"127.0.0.1:{port}", "-quiet",
                 "-no_ign_eof"],
                input=b"in TLS\n", capture_output=True, timeout=DEFAULT_TIMEOUT)
            self.assertEqual(read_exactly(proc.stdout, 7), b"in TLS\n", accepted.stderr)
            self.assertIsNone(proc.poll(), "a -k listener must keep running")

    def test_unix_socket_between_two_sockits(self):
        with tempfile.TemporaryDirectory() as directory:
            path = os.path.join(directory, "tls.sock")
            with tcp("-l", "-v", "--ssl", "--ssl-cert", self.cert, "--ssl-key", self.key,
                     f"unix:{path}", stdin=subprocess.DEVNULL) as proc:
                self.assertEqual(listening_on(proc), f"unix:{path}")
                # The name verified for a Unix socket is localhost.
                result = run("tcp", "--ssl", "--ssl-trustfile", self.cert, f"unix:{path}",
                             input=b"over unix\n")
                self.assertSucceeds(result)
                self.assertEqual(proc.wait(timeout=DEFAULT_TIMEOUT), 0)
                self.assertEqual(proc.stdout.read(), b"over unix\n")


class BetweenTwoSockitsTest(TlsTestCase):
    def listener(self, *args, **kwargs):
        return tcp("-l", "-v", "--ssl", "--ssl-cert", self.cert, "--ssl-key", self.key,
                   *args, "127.0.0.1", "0", **kwargs)

    def test_4_mib_each_way_at_once_is_exact(self):
        to_client, to_listener = os.urandom(4 << 20), os.urandom(4 << 20)
        with tempfile.TemporaryFile() as source, tempfile.TemporaryFile() as sink:
            source.write(to_client)
            source.seek(0)
            with self.listener(stdin=source, stdout=sink) as proc:
                port = port_of(listening_on(proc))
                result = run("tcp", "--ssl", "--ssl-trustfile", self.cert, "localhost", port,
                             input=to_listener, timeout=120)
                self.assertEqual(proc.wait(timeout=DEFAULT_TIMEOUT), 0)
            sink.seek(0)
            received = sink.read()
        self.assertSucceeds(result)
        self.assertTrue(result.stdout == to_client, "bytes to the client differ")
        self.assertTrue(received == to_listener, "bytes to the listener differ")

    def test_peer_closing_first_leaves_stdin_flowing(self):
        with self.listener("--send", r"hi\n", "-q", "30s", stdin=subprocess.DEVNULL) as proc:
            port = port_of(listening_on(proc))
            with tcp("--ssl", "--ssl-trustfile", self.cert, "localhost", port) as client:
                # The listener ends its side after its text; the client still sends.
                self.assertEqual(read_exactly(client.stdout, 3), b"hi\n")
                client.stdin.write(b"after your close")
                client.stdin.close()
                self.assertEqual(client.wait(timeout=DEFAULT_TIMEOUT), 0)
            self.assertEqual(proc.wait(timeout=DEFAULT_TIMEOUT), 0)
            self.assertEqual(proc.stdout.read(), b"after your close")


class FailureTest(TlsTestCase):
    def test_missing_certificate_file_is_named(self):
        result = run("tcp", "-l", "--ssl", "--ssl-cert", self.missing, "127.0.0.1", "0")
        self.assertFails(result, 1, f"TLS certificate {self.missing}: No such file or directory")

    def test_missing_trustfile_is_named(self):
        result = run("tcp", "--ssl", "--ssl-trustfile", self.missing, "127.0.0.1", "9")
        self.assertFails(result, 1, f"{self.missing}: No such file or directory")

    def test_encrypted_key_without_password(self):
        result = run("tcp", "-l", "--ssl", "--ssl-cert", self.cert, "--ssl-key",
                     self.encrypted_key, "127.0.0.1", "0")
        self.assertFails(result, 1, f"TLS key {self.encrypted_key} is encrypted")

    def test_key_of_another_certificate(self):
        result = run("tcp", "-l", "--ssl", "--ssl-cert", self.cert, "--ssl-key",
                     self.client_key, "127.0.0.1", "0")
        self.assertFails(result, 1, "does not match the certificate")

    def test_usage_errors(self):
        cases = [
            (["--ssl-trustfile", self.cert], "--ssl"),
            (["--ssl-alpn", "h2"], "--ssl"),
            (["--insecure"], "--ssl"),
            (["--cert", self.cert], "--ssl"),
            (["-k"], "-k needs -l"),
            (["--ssl", "-k", "--ssl-trustfile", self.cert], "contradicts"),
            (["--ssl", "--ssl-alpn", "a,,b"], "empty protocol name"),
            (["-l", "--ssl", "--ssl-verify"], "needs --ssl-trustfile"),
            (["-l", "--ssl", "--ssl-servername", "x"], "--ssl-servername"),
        ]
        for args, message in cases:
            with self.subTest(args=args):
                result = run("tcp", *args, "127.0.0.1", "9")
                self.assertEqual(result.returncode, 2, result.stderr)
                self.assertIn(message, result.stderr.decode())


if __name__ == "__main__":
    unittest.main()
