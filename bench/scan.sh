#!/usr/bin/env bash
# sockit scan side by side with nmap's connect scan (-sT at -T4 and -T5), nmap's SYN scan
# (-sS, root only) and scan_serial (the tutorials' scanner in C: one blocking connect after
# the other, the CPU floor of a connect), in one run on this machine:
#
#   1. all 65,535 ports of 127.0.0.1, with listeners on a few of them;
#   2. a test host in a network namespace (root only): 5,000 ports, 1,000 of them dropped by
#      iptables, a few open, the rest closed.
#
# Prints, per target, each scanner's wall time, CPU time (user + system) and CPU per port,
# and the ratio of each time to sockit's (theirs / ours: above 1, sockit is faster); and
# whether each scanner found the same open/closed/filtered sets as sockit (it must). The
# machine is shared and noisy: compare the ratios of one run, repeat, quote medians.
#
# Usage: bench/scan.sh BUILD_DIR   (a Release build with SOCKIT_BENCH=ON; nothing is built here)
set -euo pipefail

build=${1:?usage: bench/scan.sh SOCKIT_BUILD_DIR}
sockit=$build/tools/sockit
serial=$build/bench/scan_serial
limit=600  # seconds any one scan may take before it is stopped (a hang guard)

for program in "$sockit" "$serial"; do
  if [[ ! -x $program ]]; then
    echo "scan.sh: $program is not built (configure $build with -DSOCKIT_BENCH=ON)" >&2
    exit 2
  fi
done
command -v nmap >/dev/null || { echo "scan.sh: nmap is not installed (scripts/setup-deps)" >&2; exit 2; }

tmp=$(mktemp -d)
listener=''
namespace=''
veth=''
# Every step runs whatever the one before it returned: under set -e a failed step (wait
# returns the killed listener's status) would end the trap and leave the namespace behind.
cleanup() {
  if [[ -n $listener ]]; then
    kill "$listener" 2>/dev/null || true
    wait "$listener" 2>/dev/null || true
  fi
  if [[ -n $namespace ]]; then ip netns del "$namespace" 2>/dev/null || true; fi
  if [[ -n $veth ]]; then ip link del "$veth" 2>/dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Listeners on free ports of ADDRESS, in the background (in namespace NS when given), until
# the script ends: listen ADDRESS COUNT [NS [PORT...]]. Prints their ports.
listen() {
  local address=$1 count=$2 ns=${3:-} prefix=() ports
  shift 3 || shift $#
  [[ -n $ns ]] && prefix=(ip netns exec "$ns")
  mkfifo "$tmp/ports"
  "${prefix[@]}" python3 -c '
import socket, sys, time
ports = [int(p) for p in sys.argv[3:]] or [0] * int(sys.argv[2])
socks = []
for port in ports:
    s = socket.socket()
    s.bind((sys.argv[1], port))
    s.listen(128)
    socks.append(s)
print(" ".join(str(s.getsockname()[1]) for s in socks), flush=True)
time.sleep(3600)' "$address" "$count" "$@" >"$tmp/ports" &
  listener=$!
  IFS= read -r ports <"$tmp/ports"
  rm -f "$tmp/ports"
  echo "$ports"
}

names=()
walls=()
cpus=()
sames=()

# Runs one scanner (name, expected-XML check or "-", command...), recording wall and CPU
# seconds from GNU time's report; its XML (when it writes one) goes to $tmp/NAME.xml.
measure() {
  local name=$1 status=0 wall user sys
  shift
  timeout -k 5 "$limit" /usr/bin/time -f "%e %U %S" -o "$tmp/time" "$@" >"$tmp/$name.out" \
    2>"$tmp/$name.err" || status=$?
  if [[ $status != 0 ]]; then
    echo "scan.sh: $name failed (status $status):" >&2
    tail -3 "$tmp/$name.err" >&2
    names+=("$name") walls+=(ERR) cpus+=(ERR)
    return
  fi
  read -r wall user sys <"$tmp/time"
  names+=("$name")
  walls+=("$wall")
  cpus+=("$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.2f", u + s }')")
}

# Whether scanner NAME found what sockit found: the open ports (from XML or scan_serial's
# list), and with XML also the closed and filtered counts.
compare() {
  python3 - "$tmp" "$@" <<'PY'
import re, sys, xml.etree.ElementTree as ET
tmp, ours, theirs = sys.argv[1:4]
def states(name):
    text = open(f"{tmp}/{name}.out").read()
    if not text.startswith("<?xml"):
        return {"open": sorted(int(l.split()[0]) for l in text.splitlines())}, None
    found, counts = {"open": []}, {}
    for port in ET.fromstring(text).iter("port"):
        state = port.find("state").get("state")
        counts[state] = counts.get(state, 0) + 1
        if state == "open":
            found["open"].append(int(port.get("portid")))
    for extra in ET.fromstring(text).iter("extraports"):
        counts[extra.get("state")] = counts.get(extra.get("state"), 0) + int(extra.get("count"))
    return found, counts
a, ac = states(ours)
b, bc = states(theirs)
same = a["open"] == b["open"] and (bc is None or ac == bc)
print("same" if same else f"DIFFERENT: {a['open']} {ac} / {b['open']} {bc}")
PY
}

ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN {
    if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && a > 0) printf "%.2f\n", b / a; else print "n/a" }'
}

table() {
  local title=$1 ports=$2 i
  echo
  echo "$title ($ports ports)"
  printf '%-28s %8s %8s %10s %8s %8s  %s\n' scanner wall_s cpu_s cpu_us/port wall_x cpu_x result
  for i in "${!names[@]}"; do
    printf '%-28s %8s %8s %10s %8s %8s  %s\n' "${names[i]}" "${walls[i]}" "${cpus[i]}" \
      "$(awk -v c="${cpus[i]}" -v n="$ports" 'BEGIN { if (c ~ /^[0-9.]+$/) printf "%.1f", c * 1e6 / n; else print "n/a" }')" \
      "$(ratio "${walls[0]}" "${walls[i]}")" "$(ratio "${cpus[0]}" "${cpus[i]}")" "${sames[i]}"
  done
  names=() walls=() cpus=() sames=()
}

echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)," \
  "Linux $(uname -r), load $(cut -d' ' -f1-3 /proc/loadavg); $(nmap --version | head -1)"

# 1. Every loopback port.
listen 127.0.0.1 3 >/dev/null
measure sockit "$sockit" scan 127.0.0.1 -p- -oX -
sames+=("reference")
measure "nmap -sT -T4" nmap -sT -Pn -n -p- -T4 -oX - 127.0.0.1
sames+=("$(compare sockit "nmap -sT -T4")")
measure "nmap -sT -T5" nmap -sT -Pn -n -p- -T5 -oX - 127.0.0.1
sames+=("$(compare sockit "nmap -sT -T5")")
if [[ $(id -u) == 0 ]]; then
  measure "nmap -sS -T4" nmap -sS -Pn -n -p- -T4 -oX - 127.0.0.1
  sames+=("$(compare sockit "nmap -sS -T4")")
fi
measure "scan_serial (blocking loop)" "$serial" 127.0.0.1 1 65535
sames+=("$(compare sockit "scan_serial (blocking loop)")")
table "127.0.0.1, all ports, listeners on 3" 65535
kill "$listener" 2>/dev/null || true
wait "$listener" 2>/dev/null || true
listener=''

# 2. A namespace host with dropped ports.
if [[ $(id -u) != 0 ]] || ! command -v iptables >/dev/null; then
  echo "scan.sh: the namespace host needs root and iptables; skipped" >&2
  exit 0
fi
tag=$(printf '%06x' $((RANDOM * 32768 + RANDOM)))
namespace=sockit-bench-$tag
veth=skb${tag}a
ip netns add "$namespace"
ip link add "$veth" type veth peer name "skb${tag}b"
ip link set "skb${tag}b" netns "$namespace"
ip addr add 169.254.213.1/30 dev "$veth"
ip link set "$veth" up
ip netns exec "$namespace" ip addr add 169.254.213.2/30 dev "skb${tag}b"
ip netns exec "$namespace" ip link set "skb${tag}b" up
ip netns exec "$namespace" iptables -A INPUT -p tcp --dport 22000:22999 -j DROP
host=169.254.213.2
listen "$host" 3 "$namespace" 24990 24991 24992 >/dev/null
range=20000-24999
measure sockit "$sockit" scan "$host" -p "$range" -oX -
sames+=("reference")
measure "nmap -sT -T4" nmap -sT -Pn -n -p "$range" -T4 -oX - "$host"
sames+=("$(compare sockit "nmap -sT -T4")")
measure "nmap -sT -T5" nmap -sT -Pn -n -p "$range" -T5 -oX - "$host"
sames+=("$(compare sockit "nmap -sT -T5")")
table "namespace host $host: 3 open, 1000 dropped, 3997 closed" 5000
