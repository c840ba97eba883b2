#!/usr/bin/env bash
# Static HTTP servers side by side, in one run on this machine: `sockit serve http` against
# nginx with the same number of workers (1 and 2), both serving the same directory: a page of
# about 400 bytes through wrk with keep-alive and through ab without it, and a 1 MiB file
# through wrk; then against `python3 -m http.server` with ab on the page; then the request
# parser's microbenchmark, if it is built. Every figure is the median of three runs, the two
# servers taking turns. Prints one table: each scenario's figure for sockit and for the other
# side, the ratio sockit/other, and whether higher or lower is better.
# The machine is shared and noisy: compare the ratios of one run, repeat, quote medians.
#
# Usage: [REPEATS=N] bench/http.sh BUILD_DIR   (a Release build; the parser row needs SOCKIT_BENCH=ON)
set -euo pipefail

build=${1:?usage: bench/http.sh SOCKIT_BUILD_DIR}
sockit=$build/tools/sockit
parser_bench=$build/bench/http_parser_bench

seconds=3          # each wrk run
ab_requests=20000  # each ab run against sockit and nginx
python_requests=1000  # each ab run against python and sockit
repeats=${REPEATS:-3}  # runs per scenario and server; the median is reported
start_limit=10     # seconds a server gets to announce itself or answer
stop_limit=5       # seconds a process gets to exit after SIGTERM, before SIGKILL

if [[ ! -x $sockit ]]; then
  echo "http.sh: $sockit is not built" >&2
  exit 2
fi
script=http.sh
service="http"
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
require_tools nginx wrk ab curl python3 sha256sum /usr/bin/time
failures=0

root=$tmp/root
write_pages "$root"

# Reads http.server's announcement from descriptor $1: "Serving HTTP on ADDRESS port N ...".
announce_python() {
  local line
  IFS= read -r -t "$start_limit" -u "$1" line || return 1
  [[ $line =~ ^Serving\ HTTP\ on\ [^[:space:]]+\ port\ ([0-9]+) ]] || return 1
  echo "${BASH_REMATCH[1]}"
}

start_sockit() {
  start_server sockit announce_sockit "$sockit" serve http --bind 127.0.0.1 --http-port 0 \
    --root "$root" --threads "$1"
}

# http.server is a ThreadingHTTPServer (a thread per connection, all under one GIL) that
# answers HTTP/1.0 and closes each connection. -u: it announces its port through a pipe. It
# logs every request to stderr, which it cannot be told not to do. Its listen backlog is 5:
# under 50 concurrent connects the kernel drops SYNs, the clients send them again after 1 s
# and more, and some runs take many times longer than others; its figure includes that.
start_python() {
  start_server python announce_python python3 -u -m http.server --bind 127.0.0.1 \
    --directory "$root" 0
}

# Stops server $1 (pid $2); its exit status must be $3 (0 unless told: python dies of the
# SIGTERM, 143).
stop_server() {
  local name=$1 pid=$2 expected=${3:-0} status=0
  if exited "$pid"; then
    echo "http.sh: $name (pid $pid) exited during the run" >&2
    cat "$tmp/$name.err" >&2
    failures=$((failures + 1))
  fi
  stop "$pid" || status=$?
  if ((status != expected)); then
    echo "http.sh: $name (pid $pid) exited with status $status" >&2
    failures=$((failures + 1))
  fi
}

scenarios=()
ours=()
theirs=()
better=()

record() {
  scenarios+=("$1")
  ours+=("$2")
  theirs+=("$3")
  better+=("$4")
  [[ $2 != ERR && $3 != ERR ]] || failures=$((failures + 1))
}

# Records field $2 of the runs in our_runs and their_runs as scenario $1, $3 being better.
record_median() {
  record "$1" "$(column "$2" "$our_runs" | median)" "$(column "$2" "$their_runs" | median)" "$3"
}

# Every scenario against nginx, sockit and nginx each with $1 workers.
nginx_scenarios() {
  local workers=$1 our_pid our_port their_pid their_port
  start_sockit "$workers"
  our_pid=$server_pid our_port=$server_port
  start_nginx "$workers" "$root"
  their_pid=$server_pid their_port=$server_port
  verify_content sockit "$our_port" "$root"
  verify_content nginx "$their_port" "$root"

  local conns=$((50 * workers)) label
  label="${workers}w: page.html keep-alive, wrk -t$workers -c$conns"
  echo "$label" >&2
  interleave "$our_port" nginx "$their_port" run_wrk "$workers" "$conns" /page.html
  record_median "$label (req/s) vs nginx" 1 higher
  record_median "$label (p99 ms) vs nginx" 2 lower

  label="${workers}w: page.html no keep-alive, ab -c 50 -n $ab_requests"
  echo "$label" >&2
  interleave "$our_port" nginx "$their_port" run_ab 50 "$ab_requests" /page.html
  record_median "$label (req/s) vs nginx" 1 higher

  conns=$((10 * workers))
  label="${workers}w: big.bin 1 MiB keep-alive, wrk -t$workers -c$conns"
  echo "$label" >&2
  interleave "$our_port" nginx "$their_port" run_wrk "$workers" "$conns" /big.bin
  record_median "$label (MiB/s) vs nginx" 3 higher

  stop_server nginx "$their_pid"
  stop_server sockit "$our_pid"
}

# The small page without keep-alive against python3 -m http.server, sockit on one thread.
python_scenario() {
  local our_pid our_port their_pid their_port
  local label="1w: page.html no keep-alive, ab -c 50 -n $python_requests"
  start_sockit 1
  our_pid=$server_pid our_port=$server_port
  start_python
  their_pid=$server_pid their_port=$server_port
  verify_content sockit "$our_port" "$root"
  verify_content python "$their_port" "$root"
  echo "$label" >&2
  interleave "$our_port" python "$their_port" run_ab 50 "$python_requests" /page.html
  record_median "$label (req/s) vs python" 1 higher
  stop_server python "$their_pid" 143
  stop_server sockit "$our_pid"
}

# The parser microbenchmark: one row per benchmark, its bytes per second in GB/s against the
# target of 1 GB/s.
parser_scenario() {
  local json=$tmp/parser.json name rate
  if [[ ! -x $parser_bench ]]; then
    echo "http.sh: $parser_bench is not built; no parser figures" >&2
    record "parser: http_parser_bench not built (GB/s) vs target" "n/a" 1 higher
    return
  fi
  echo "parser: $parser_bench" >&2
  if ! bounded 300 "$parser_bench" --benchmark_min_time=0.5 --benchmark_out="$json" \
    --benchmark_out_format=json; then
    sed 's/^/    /' "$tmp/load.out" >&2
    record "parser: http_parser_bench failed (GB/s) vs target" ERR 1 higher
    return
  fi
  sed 's/^/    /' "$tmp/load.out" >&2
  while read -r name rate; do
    record "parser: $name (GB/s) vs target" "$rate" 1 higher
  done < <(python3 -c 'import json, sys
for b in json.load(open(sys.argv[1]))["benchmarks"]:
    if "bytes_per_second" in b:
        print(b["name"], "%.2f" % (b["bytes_per_second"] / 1e9))' "$json")
}

print_table() {
  local i
  printf '%-72s %10s %10s %6s  %s\n' scenario sockit other ratio better
  for i in "${!scenarios[@]}"; do
    printf '%-72s %10s %10s %6s  %s\n' "${scenarios[i]}" "${ours[i]}" "${theirs[i]}" \
      "$(ratio "${ours[i]}" "${theirs[i]}")" "${better[i]}"
  done
}

echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)," \
  "Linux $(uname -r); $(nginx -v 2>&1 | sed 's/^nginx version: //'), $(python3 --version);" \
  "${seconds}s per wrk run, median of $repeats"

nginx_scenarios 1
nginx_scenarios 2
python_scenario
parser_scenario

print_table
if ((failures > 0)); then
  echo "http.sh: ${failures} run(s) failed; see the messages above" >&2
  exit 1
fi
