"""nmap as the oracle of sockit scan's tests: both scans of the same target and ports, read
from the XML each writes (sockit's -oX is nmap's format), the same way for both."""
import shutil
import subprocess
import xml.etree.ElementTree as ElementTree

from sockit_test import DEFAULT_TIMEOUT, run

NMAP = shutil.which("nmap")


def parse_scan_xml(text):
    """{address: Scan} from nmap-format XML; a Scan holds .ports ({port: state}) and
    .extra ({state: count}, the states nmap's extraports leave unlisted)."""
    hosts = {}
    for host in ElementTree.fromstring(text).iter("host"):
        scan = Scan()
        address = host.find("address").get("addr")
        ports = host.find("ports")
        for port in ports.iter("port"):
            scan.ports[int(port.get("portid"))] = port.find("state").get("state")
        for extra in ports.iter("extraports"):
            scan.extra[extra.get("state")] = int(extra.get("count"))
        hosts[address] = scan
    return hosts


class Scan:
    def __init__(self):
        self.ports = {}
        self.extra = {}

    def counts(self):
        """{state: count} over listed and unlisted ports."""
        counts = dict(self.extra)
        for state in self.ports.values():
            counts[state] = counts.get(state, 0) + 1
        return counts

    def with_state(self, state):
        return {port for port, seen in self.ports.items() if seen == state}


def port_list(ports):
    return ",".join(map(str, sorted(ports)))


def nmap_scan(host, ports, *extra, timeout=DEFAULT_TIMEOUT * 4):
    """nmap -sT of ports on host, as a Scan."""
    result = subprocess.run([NMAP, "-sT", "-Pn", "-n", "-p", port_list(ports), "-oX", "-", *extra,
                             host], capture_output=True, timeout=timeout, check=True)
    return parse_scan_xml(result.stdout)[host]


def sockit_scan(host, ports, *extra, timeout=DEFAULT_TIMEOUT * 4):
    """sockit scan of ports on host with -oX -, as a Scan (the run must succeed)."""
    result = run("scan", host, "-p", port_list(ports), "-oX", "-", *extra, timeout=timeout)
    if result.returncode != 0:
        raise AssertionError(f"sockit scan exited {result.returncode}: {result.stderr!r}")
    return parse_scan_xml(result.stdout)[host]
