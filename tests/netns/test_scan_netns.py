"""sockit scan against test hosts in a network namespace this test creates (ip netns, a veth
pair with link-local addresses, iptables inside the namespace): ports that are open, that
REJECT with a TCP reset, that DROP, and that nothing listens on give the same states as
nmap -sT; ports that REJECT with ICMP port unreachable, which the kernel rate-limits to about
one a second, finish in seconds, with the open ports right and the rest labelled by what came
back. Everything the test creates is removed when it ends, also when it fails. Needs root,
ip and iptables; otherwise it says so and is skipped."""
import json
import os
import random
import shutil
import subprocess
import sys
import unittest

from scan_oracle import NMAP, nmap_scan, sockit_scan
from sockit_test import DEFAULT_TIMEOUT, LeakCheckedTestCase, background, read_line, run

IP = shutil.which("ip")
IPTABLES = shutil.which("iptables")
WHY_SKIPPED = ("needs root" if os.geteuid() != 0 else
               "needs ip (iproute2)" if not IP else
               "needs iptables" if not IPTABLES else None)

OPEN_COUNT = 3
RESET = range(20010, 20020)    # REJECT --reject-with tcp-reset
DROP = range(20020, 20030)     # DROP
CLOSED = range(20030, 20040)   # no rule, nothing listening: the kernel resets
ICMP = range(21000, 26000)     # REJECT: ICMP port unreachable, rate-limited by the kernel
# All of them below the ephemeral range (32768-60999), where the listeners' ports come from.
# A hang guard for the ICMP scan, not a timing assertion.
ICMP_SCAN_LIMIT = 120

LISTENER = """
import socket, sys
socks = []
for _ in range(int(sys.argv[2])):
    s = socket.socket()
    s.bind((sys.argv[1], 0))
    s.listen(128)
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks), flush=True)
sys.stdin.read()
"""


def sh(*argv):
    subprocess.run(argv, check=True, capture_output=True, timeout=DEFAULT_TIMEOUT)


class TestHost:
    """A namespace joined to this one by a veth pair: .address is its side (169.254.X.Y+2),
    .listeners the ports its listener process holds open. close() removes everything."""

    def __init__(self):
        tag = "%06x" % random.getrandbits(24)
        self.namespace = f"sockit-scan-{tag}"
        self.outside = f"sks{tag}a"
        inside = f"sks{tag}b"
        base = f"169.254.{random.randint(1, 254)}.{random.randrange(0, 256, 4)}"
        prefix, last = base.rsplit(".", 1)
        self.gateway = f"{prefix}.{int(last) + 1}"
        self.address = f"{prefix}.{int(last) + 2}"
        self._listener = None
        self._made_namespace = False
        try:
            sh(IP, "netns", "add", self.namespace)
            self._made_namespace = True
            sh(IP, "link", "add", self.outside, "type", "veth", "peer", "name", inside)
            sh(IP, "link", "set", inside, "netns", self.namespace)
            sh(IP, "addr", "add", f"{self.gateway}/30", "dev", self.outside)
            sh(IP, "link", "set", self.outside, "up")
            self.run_inside(IP, "addr", "add", f"{self.address}/30", "dev", inside)
            self.run_inside(IP, "link", "set", inside, "up")
            self.run_inside(IP, "link", "set", "lo", "up")
            self._start_listeners()
            self._firewall()
        except BaseException:
            self.close()
            raise

    def run_inside(self, *argv):
        sh(IP, "netns", "exec", self.namespace, *argv)

    def _start_listeners(self):
        self._listener = subprocess.Popen(
            [IP, "netns", "exec", self.namespace, sys.executable, "-c", LISTENER, self.address,
             str(OPEN_COUNT)], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.listeners = {int(p) for p in read_line(self._listener.stdout).split()}

    def _firewall(self):
        def rule(ports, *target):
            self.run_inside(IPTABLES, "-A", "INPUT", "-p", "tcp", "--dport",
                            f"{ports.start}:{ports.stop - 1}", "-j", *target)

        for port in self.listeners:
            self.run_inside(IPTABLES, "-A", "INPUT", "-p", "tcp", "--dport", str(port), "-j",
                            "ACCEPT")
        rule(RESET, "REJECT", "--reject-with", "tcp-reset")
        rule(DROP, "DROP")
        rule(ICMP, "REJECT")

    def close(self):
        if self._listener:
            self._listener.kill()
            self._listener.wait(timeout=DEFAULT_TIMEOUT)
            self._listener.stdin.close()
            self._listener.stdout.close()
        # Removing the namespace removes its iptables rules and the veth pair with it.
        if self._made_namespace:
            subprocess.run([IP, "netns", "del", self.namespace], capture_output=True)
        subprocess.run([IP, "link", "del", self.outside], capture_output=True)


@unittest.skipIf(WHY_SKIPPED, f"network namespace tests skipped: {WHY_SKIPPED}")
class ScanNamespaceTest(LeakCheckedTestCase):
    @classmethod
    def setUpClass(cls):
        cls.host = TestHost()
        cls.addClassCleanup(cls.host.close)

    @unittest.skipUnless(NMAP, "nmap is not installed")
    def test_open_reset_drop_and_closed_as_nmap_sees_them(self):
        ports = self.host.listeners | set(RESET) | set(DROP) | set(CLOSED)
        ours = sockit_scan(self.host.address, ports, "--show-closed")
        theirs = nmap_scan(self.host.address, ports, "-T4")
        expected = {p: "open" for p in self.host.listeners}
        expected.update({p: "closed" for p in [*RESET, *CLOSED]})
        expected.update({p: "filtered" for p in DROP})
        self.assertEqual(ours.ports, expected)
        self.assertEqual(ours.counts(), theirs.counts())
        for port, state in theirs.ports.items():
            self.assertEqual(ours.ports[port], state, f"port {port}")

    def test_reasons_of_each_kind_of_port(self):
        ports = self.host.listeners | {RESET[0], DROP[0], CLOSED[0]}
        result = run("scan", self.host.address, "-p", ",".join(map(str, sorted(ports))),
                     "--show-closed", "--json")
        self.assertEqual(result.returncode, 0, result.stderr)
        reasons = {o["port"]: (o["state"], o["reason"])
                   for o in map(json.loads, result.stdout.decode().splitlines())
                   if o["type"] == "port"}
        self.assertEqual(reasons[RESET[0]], ("closed", "conn-refused"))
        self.assertEqual(reasons[CLOSED[0]], ("closed", "conn-refused"))
        self.assertEqual(reasons[DROP[0]], ("filtered", "no-response"))
        for port in self.host.listeners:
            self.assertEqual(reasons[port], ("open", "syn-ack"))

    def test_icmp_rejecting_host_finishes_and_labels_what_it_saw(self):
        ports = sorted(self.host.listeners | set(ICMP))
        result = run("scan", self.host.address, "-p", f"{ICMP.start}-{ICMP.stop - 1},"
                     + ",".join(map(str, sorted(self.host.listeners))), "--show-closed", "--json",
                     timeout=ICMP_SCAN_LIMIT)
        self.assertEqual(result.returncode, 0, result.stderr)
        objects = [json.loads(line) for line in result.stdout.decode().splitlines()]
        states = {o["port"]: (o["state"], o["reason"]) for o in objects if o["type"] == "port"}
        self.assertEqual(sorted(states), ports)
        self.assertEqual({p for p, (s, _) in states.items() if s == "open"}, self.host.listeners)
        rejected = {states[p] for p in ICMP}
        self.assertLessEqual(rejected, {("filtered", "port-unreach"), ("filtered", "no-response")})
        # The first probes get ICMP answers before the kernel's rate limit starts to bite.
        self.assertIn(("filtered", "port-unreach"), rejected)
        self.assertEqual(objects[-1]["filtered"], len(ICMP))


if __name__ == "__main__":
    unittest.main()
