#!/usr/bin/env bash
# Load generators side by side, in one run on this machine: `sockit bench` against wrk and ab,
# all driving the same nginx (its own config, a free port, a page of about 400 bytes), with
# the same threads and connections:
#   keep-alive      wrk -t1 -c50 and -t2 -c100 for a few seconds; ab -k -c 50 -n 100000
#   no keep-alive   ab -c 50 -n 100000; wrk -t1 -c50 with "Connection: close"
# For each: the requests/s the generator achieved and the generator's own CPU time (user +
# system, from /usr/bin/time) per request. Every figure is the median of REPEATS runs (5), the
# generators taking turns. Prints one table: sockit's figure, the other's, the ratio
# sockit/other of those medians, the median and range of the ratios within each round, and
# whether higher or lower is better.
# The machine is shared and noisy: trust the round ratios over one run's medians.
#
# Usage: [REPEATS=N] bench/loadgen.sh BUILD_DIR   (a Release build; nothing is built here)
set -euo pipefail

build=${1:?usage: bench/loadgen.sh SOCKIT_BUILD_DIR}
sockit=$build/tools/sockit

seconds=3           # each wrk-style run
requests=100000     # each ab-style run
repeats=${REPEATS:-5}  # runs per scenario and generator; the median is reported
start_limit=10      # seconds nginx gets to answer
stop_limit=5        # seconds a process gets to exit after SIGTERM, before SIGKILL

if [[ ! -x $sockit ]]; then
  echo "loadgen.sh: $sockit is not built" >&2
  exit 2
fi
script=loadgen.sh
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
require_tools nginx wrk ab curl python3 /usr/bin/time
failures=0

# The served page. nginx's workers run as nobody when the script runs as root, so the tree
# must be readable by all.
root=$tmp/root
mkdir -p "$root"
chmod 755 "$tmp" "$root"
python3 -c 'print("<!DOCTYPE html>\n<title>sockit bench page</title>\n<p>" + "x" * 340 + "</p>")' \
  >"$root/page.html"
chmod 644 "$root/page.html"

# Sets result to "REQUESTS_PER_S CPU_US_PER_REQUEST" from the rate and request count given
# and $tmp/cpu, or to ERR when the run failed ($1 nonzero) or a figure is missing.
finish() {
  local status=$1 name=$2 rate=$3 count=$4
  if [[ $status != 0 || -z $rate || -z $count || $count == 0 ]]; then
    echo "  $name failed (status $status):" >&2
    sed 's/^/    /' "$tmp/load.out" >&2
    result=ERR
    return
  fi
  result="$(awk -v r="$rate" -v n="$count" '{ printf "%.0f %.2f\n", r, ($1 + $2) * 1e6 / n }' "$tmp/cpu")"
  echo "  $name: $rate req/s, ${result#* } us CPU/request" >&2
}

# sockit bench ARGS...: its JSON report; errors make the run fail.
drive_sockit() {
  local status=0 rate count
  bounded 300 "$sockit" bench --json "$@" "$url" || status=$?
  read -r rate count < <(python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
ok = r["error_total"] == 0 and list(r["status_codes"]) == ["200"]
print(r["requests_per_second"] if ok else "", r["requests"])' "$tmp/load.out" 2>/dev/null) || true
  finish "$status" sockit "$rate" "$count"
}

# wrk ARGS...: failed on socket errors or non-2xx answers.
drive_wrk() {
  local status=0 rate count
  bounded 300 wrk "$@" "$url" || status=$?
  rate=$(awk '/^Requests\/sec:/ { print $2 }' "$tmp/load.out")
  count=$(awk '/requests in/ { print $1 }' "$tmp/load.out")
  if grep -qE 'Non-2xx|Socket errors' "$tmp/load.out"; then status=1; fi
  finish "$status" wrk "$rate" "$count"
}

# ab ARGS...: failed unless every request succeeded.
drive_ab() {
  local status=0 rate count
  bounded 300 ab -q "$@" "$url" || status=$?
  rate=$(awk '/^Requests per second:/ { print $4 }' "$tmp/load.out")
  count=$(awk '/^Complete requests:/ { print $3 }' "$tmp/load.out")
  if ! grep -qE '^Failed requests: +0$' "$tmp/load.out" || grep -q 'Non-2xx' "$tmp/load.out"; then
    status=1
  fi
  finish "$status" ab "$rate" "$count"
}

scenarios=()
ours=()
theirs=()
rounds=()
better=()

record() {
  scenarios+=("$1")
  ours+=("$2")
  theirs+=("$3")
  rounds+=("$4")
  better+=("$5")
  [[ $2 != ERR && $3 != ERR ]] || failures=$((failures + 1))
}

# compare LABEL OTHER "SOCKIT_ARGS" "OTHER_ARGS" (arguments separated by ";", so that one
# may hold a space): repeats runs of each, taking turns and changing who goes first each
# round; records the medians of requests/s and CPU/request and the ratios round by round.
compare() {
  local label=$1 other=$2 our_args their_args round our_runs='' their_runs=''
  IFS=';' read -r -a our_args <<<"$3"
  IFS=';' read -r -a their_args <<<"$4"
  echo "$label" >&2
  for ((round = 0; round < repeats; round++)); do
    if ((round % 2 == 0)); then
      drive_sockit "${our_args[@]}"
      our_runs+=$result$'\n'
      "drive_$other" "${their_args[@]}"
      their_runs+=$result$'\n'
    else
      "drive_$other" "${their_args[@]}"
      their_runs+=$result$'\n'
      drive_sockit "${our_args[@]}"
      our_runs+=$result$'\n'
    fi
  done
  our_runs=${our_runs%$'\n'} their_runs=${their_runs%$'\n'}
  local field way name
  while read -r field way name; do
    record "$label ($name) vs $other" "$(column "$field" "$our_runs" | median)" \
      "$(column "$field" "$their_runs" | median)" \
      "$(round_ratios "$(column "$field" "$our_runs")" "$(column "$field" "$their_runs")")" "$way"
  done <<<$'1 higher req/s\n2 lower CPU us/req'
}

print_table() {
  local i
  printf '%-62s %10s %10s %6s %18s  %s\n' scenario sockit other ratio "in rounds" better
  for i in "${!scenarios[@]}"; do
    printf '%-62s %10s %10s %6s %18s  %s\n' "${scenarios[i]}" "${ours[i]}" "${theirs[i]}" \
      "$(ratio "${ours[i]}" "${theirs[i]}")" "${rounds[i]}" "${better[i]}"
  done
}

start_nginx auto "$root"
nginx_pid=$server_pid
url=http://127.0.0.1:$server_port/page.html
echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)," \
  "Linux $(uname -r); $(nginx -v 2>&1 | sed 's/^nginx version: //'), one worker per CPU;" \
  "median of $repeats"

compare "keep-alive -t1 -c50 ${seconds}s" wrk "-t1;-c50;-d${seconds}s" "-t1;-c50;-d${seconds}s"
compare "keep-alive -t2 -c100 ${seconds}s" wrk "-t2;-c100;-d${seconds}s" "-t2;-c100;-d${seconds}s"
compare "keep-alive -c 50 -n $requests" ab "-c50;-n$requests" "-k;-c50;-n$requests"
compare "no keep-alive -c 50 -n $requests" ab "--no-keepalive;-c50;-n$requests" \
  "-c50;-n$requests"
compare "no keep-alive -t1 -c50 ${seconds}s" wrk "--no-keepalive;-t1;-c50;-d${seconds}s" \
  "-t1;-c50;-d${seconds}s;-H;Connection: close"

stop "$nginx_pid" || true
print_table
if ((failures > 0)); then
  echo "loadgen.sh: ${failures} figure(s) missing; see the messages above" >&2
  exit 1
fi
