"""sockit resolve end to end against this machine's own resolver (/etc/hosts, nsswitch), with
Python's socket module as the reference for every answer: names, families, JSON Lines,
reverse lookups, --self, failures that spare the other queries, and usage errors."""
import json
import socket
import unittest

from sockit_test import UNRESOLVABLE, LeakCheckedTestCase, run


def addresses(name, family=socket.AF_UNSPEC):
    """What getaddrinfo gives for name, as sockit lists it: (family label, address) without
    repeats, in the resolver's order; empty when the name has no address of that family."""
    try:
        infos = socket.getaddrinfo(name, None, family, socket.SOCK_STREAM)
    except socket.gaierror:
        return []
    labels = {socket.AF_INET: "IPv4", socket.AF_INET6: "IPv6"}
    found = [(labels[info[0]], info[4][0]) for info in infos]
    return list(dict.fromkeys(found))


def address_lines(stdout):
    """The (family label, address) pairs of sockit's text output."""
    return [tuple(line.split()) for line in stdout.decode().splitlines() if line.startswith("  ")]


def canonical_name(name):
    return socket.getaddrinfo(name, None, 0, socket.SOCK_STREAM, 0, socket.AI_CANONNAME)[0][3]


def resolver_reason(name):
    """The resolver's own text for why name does not resolve (as bytes, the name skips
    Python's IDNA encoding, which would refuse it before the resolver sees it)."""
    try:
        socket.getaddrinfo(name.encode(), None, 0, socket.SOCK_STREAM)
    except socket.gaierror as e:
        return e.strerror
    raise AssertionError(f"{name} resolves on this machine")


class NameTest(LeakCheckedTestCase):
    def test_localhost_lists_127_0_0_1(self):
        result = run("resolve", "localhost")
        self.assertSucceeds(result)
        self.assertTrue(result.stdout.startswith(b"localhost\n"), result.stdout)
        self.assertIn(("IPv4", "127.0.0.1"), address_lines(result.stdout))

    def test_lists_exactly_what_getaddrinfo_gives(self):
        result = run("resolve", "localhost")
        self.assertSucceeds(result)
        self.assertEqual(address_lines(result.stdout), addresses("localhost"))

    def test_ipv4_only(self):
        result = run("resolve", "-4", "localhost")
        self.assertSucceeds(result)
        self.assertEqual(address_lines(result.stdout), addresses("localhost", socket.AF_INET))

    def test_ipv6_only(self):
        # /etc/hosts may or may not give localhost an IPv6 address; Python says which.
        expected = addresses("localhost", socket.AF_INET6)
        result = run("resolve", "-6", "localhost")
        if expected:
            self.assertSucceeds(result)
            self.assertEqual(address_lines(result.stdout), expected)
        else:
            self.assertFails(result, 1, "localhost")
            self.assertEqual(result.stdout, b"")

    def test_json_lines(self):
        result = run("resolve", "--json", "localhost", "127.0.0.1")
        self.assertSucceeds(result)
        name, address = [json.loads(line) for line in result.stdout.decode().splitlines()]
        self.assertEqual(name["query"], "localhost")
        self.assertEqual(name["canonical"], canonical_name("localhost"))
        self.assertEqual([(a["family"], a["address"]) for a in name["addresses"]],
                         addresses("localhost"))
        self.assertEqual(address, {"query": "127.0.0.1", "name": "localhost",
                                   "addresses": [{"family": "IPv4", "address": "127.0.0.1"}]})

    def test_json_with_ipv4_only(self):
        result = run("resolve", "-4", "--json", "localhost")
        self.assertSucceeds(result)
        answer = json.loads(result.stdout)
        self.assertEqual({a["family"] for a in answer["addresses"]}, {"IPv4"})


class ReverseTest(LeakCheckedTestCase):
    def test_127_0_0_1_is_named_localhost(self):
        self.assertEqual(socket.gethostbyaddr("127.0.0.1")[0], "localhost")
        result = run("resolve", "127.0.0.1")
        self.assertSucceeds(result)
        self.assertEqual(result.stdout, b"127.0.0.1 -> localhost\n")


class SelfTest(LeakCheckedTestCase):
    def test_hostname_and_fqdn_are_pythons(self):
        result = run("resolve", "--self")
        self.assertSucceeds(result)
        self.assertEqual(result.stdout.decode(),
                         f"hostname  {socket.gethostname()}\nfqdn      {socket.getfqdn()}\n")

    def test_json(self):
        result = run("resolve", "--self", "--json")
        self.assertSucceeds(result)
        self.assertEqual(json.loads(result.stdout),
                         {"hostname": socket.gethostname(), "fqdn": socket.getfqdn()})


class FailureTest(LeakCheckedTestCase):
    def test_unresolvable_name_fails_alone(self):
        result = run("resolve", "localhost", UNRESOLVABLE, "127.0.0.1")
        self.assertFails(result, 1, UNRESOLVABLE)
        self.assertIn(resolver_reason(UNRESOLVABLE), result.stderr.decode())
        out = result.stdout.decode()
        self.assertTrue(out.startswith("localhost\n"), out)
        self.assertIn("  IPv4  127.0.0.1\n", out)
        self.assertTrue(out.endswith("127.0.0.1 -> localhost\n"), out)
        self.assertNotIn("nosuch", out)

    def test_both_families_is_a_usage_error(self):
        result = run("resolve", "-4", "-6", "localhost")
        self.assertEqual(result.returncode, 2, result.stderr)
        self.assertIn("-4 excludes -6", result.stderr.decode())
        self.assertEqual(result.stdout, b"")

    def test_no_query_is_a_usage_error(self):
        self.assertFails(run("resolve"), 2, "give a NAME or ADDRESS, or --self")


if __name__ == "__main__":
    unittest.main()
