#!/usr/bin/env bash
# Echo servers side by side, in one run on this machine: `sockit serve echo` against
# echo_reference (an epoll server in plain C), both driven by the same load client, echo_load,
# which checks every echoed byte. Each timed scenario runs ROUNDS times (5) for each server,
# the two taking turns. Prints one table: each scenario's median for sockit and for the
# reference, the ratio sockit/reference of those medians, and the median and range of the
# ratios within each round. For round trips/s and MB/s higher is better; for the server memory
# each idle connection costs (growth of VmRSS, measured once), lower is better.
# The machine is shared and noisy: trust the round ratios over one run's medians.
#
# Usage: [ROUNDS=N] bench/echo.sh BUILD_DIR   (a Release build with SOCKIT_BENCH=ON; nothing is
# built here)
set -euo pipefail

build=${1:?usage: bench/echo.sh SOCKIT_BUILD_DIR}
sockit=$build/tools/sockit
reference=$build/bench/echo_reference
load=$build/bench/echo_load

seconds=3          # each timed run
rounds=${ROUNDS:-5}  # timed runs per scenario and server
idle_conns=10000
start_limit=10     # seconds a server or the idle client gets to announce itself
stop_limit=5       # seconds a process gets to exit after SIGTERM, before SIGKILL

for program in "$reference" "$load"; do
  if [[ ! -x $program ]]; then
    echo "echo.sh: $program is not built (configure $build with -DSOCKIT_BENCH=ON)" >&2
    exit 2
  fi
done

script=echo.sh
service="echo"
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
failures=0

# Ten thousand idle connections need more descriptors than the usual soft limit; the servers
# and the client inherit this.
ulimit -n "$(ulimit -Hn)"


# Reads the reference's announcement, "port N", from descriptor $1; prints N.
announce_reference() {
  local line
  IFS= read -r -t "$start_limit" -u "$1" line || return 1
  [[ $line =~ ^port\ ([0-9]+)$ ]] || return 1
  echo "${BASH_REMATCH[1]}"
}

start_reference() { start_server reference announce_reference "$reference" -t "$1" -p 0; }

start_sockit() {
  start_server sockit announce_sockit \
    "$sockit" serve echo --bind 127.0.0.1 --echo-port 0 --threads "$1"
}

stop_server() {
  local name=$1 pid=$2
  if exited "$pid"; then
    echo "echo.sh: $name (pid $pid) exited during the run" >&2
    cat "$tmp/$name.err" >&2
    failures=$((failures + 1))
  fi
  if ! stop "$pid"; then
    echo "echo.sh: $name (pid $pid) did not exit cleanly" >&2
    failures=$((failures + 1))
  fi
}

# The value of key $2 in echo_load's line $1.
field() {
  [[ " $1 " =~ \ $2=([^ ]+)\  ]] && echo "${BASH_REMATCH[1]}"
}

# Prints the value of key $1 from a finished echo_load line $2, or ERR when the run failed
# (a nonzero status $3, a missing line or any failed connection).
figure() {
  local key=$1 line=$2 status=$3 value errors
  value=$(field "$line" "$key") || true
  errors=$(field "$line" errors) || true
  if [[ $status != 0 || -z $value || $errors != 0 ]]; then
    echo ERR
  else
    echo "$value"
  fi
}

# One timed run of echo_load: name port threads mode conns key. Prints the figure.
run_load() {
  local name=$1 port=$2 threads=$3 mode=$4 conns=$5 key=$6 line status=0
  line=$(timeout -k 5 $((seconds + 60)) "$load" "$mode" -p "$port" -c "$conns" -t "$threads" \
    -d "${seconds}s" 2>"$tmp/load.err") || status=$?
  echo "  $name: ${line:-no result (status $status)}" >&2
  [[ -s $tmp/load.err ]] && sed 's/^/    /' "$tmp/load.err" >&2
  figure "$key" "$line" "$status"
}

# The resident memory of process $1 in KiB; nothing once it has gone.
rss() {
  awk '/^VmRSS:/ { print $2 }' "/proc/$1/status" 2>/dev/null || true
}

# Opens idle_conns idle connections to the server (name pid port) and prints the growth of its
# VmRSS per connection, in KiB.
idle_growth() {
  local name=$1 pid=$2 port=$3 fifo=$tmp/idle.fifo out before after line conns client status=0
  rm -f "$fifo"
  mkfifo "$fifo"
  before=$(rss "$pid")
  "$load" idle -p "$port" -c "$idle_conns" --hold 120s >"$fifo" 2>"$tmp/idle.err" &
  client=$!
  live+=("$client")
  exec {out}<"$fifo"
  # The line comes once every connection has echoed a byte: the server has accepted them all.
  IFS= read -r -t $((start_limit * 6)) -u "$out" line || true
  after=$(rss "$pid")
  exec {out}<&-
  stop "$client" || status=$?
  echo "  $name: ${line:-no result (status $status)}, VmRSS ${before} -> ${after} KiB" >&2
  [[ -s $tmp/idle.err ]] && sed 's/^/    /' "$tmp/idle.err" >&2
  conns=$(figure conns "$line" "$status")
  if [[ $conns == ERR || $conns == 0 || -z $before || -z $after ]]; then
    echo ERR
  else
    awk -v a="$after" -v b="$before" -v n="$conns" 'BEGIN { printf "%.3f\n", (a - b) / n }'
  fi
}

have_sockit=false
if "$sockit" serve --help >/dev/null 2>&1; then have_sockit=true; fi
unavailable="sockit serve not available"

scenarios=()
ours=()
theirs=()
in_rounds=()

record() {
  scenarios+=("$1")
  ours+=("$2")
  theirs+=("$3")
  in_rounds+=("${4:-}")
  [[ $2 != ERR && $3 != ERR ]] || failures=$((failures + 1))
}

# One timed scenario against both servers (at ref_port and our_port of timed_scenarios):
# label threads mode conns key. Which server goes first alternates from one round to the
# next, so that drift of the machine favours neither.
timed_scenario() {
  local label=$1 threads=$2 mode=$3 conns=$4 key=$5 round our_runs='' ref_runs=''
  local load_args=("$threads" "$mode" "$conns" "$key")
  echo "$label" >&2
  for ((round = 0; round < rounds; round++)); do
    if ((round % 2 == 0)); then
      ref_runs+=$(run_load reference "$ref_port" "${load_args[@]}")$'\n'
    fi
    if $have_sockit; then
      our_runs+=$(run_load sockit "$our_port" "${load_args[@]}")$'\n'
    fi
    if ((round % 2 == 1)); then
      ref_runs+=$(run_load reference "$ref_port" "${load_args[@]}")$'\n'
    fi
  done
  our_runs=${our_runs%$'\n'} ref_runs=${ref_runs%$'\n'}
  if $have_sockit; then
    record "$label" "$(median <<<"$our_runs")" "$(median <<<"$ref_runs")" \
      "$(round_ratios "$our_runs" "$ref_runs")"
  else
    record "$label" "$unavailable" "$(median <<<"$ref_runs")"
  fi
}

# The timed scenarios at one thread count: the servers and the client each run that many.
timed_scenarios() {
  local threads=$1 ref_pid ref_port our_pid='' our_port='' conns
  start_reference "$threads"
  ref_pid=$server_pid ref_port=$server_port
  if $have_sockit; then
    start_sockit "$threads"
    our_pid=$server_pid our_port=$server_port
  fi
  for conns in 1 50 500; do
    timed_scenario "pingpong conns=$conns threads=$threads (round trips/s)" "$threads" \
      pingpong "$conns" rate
  done
  timed_scenario "stream conns=50 threads=$threads 64 KiB writes (MB/s)" "$threads" \
    stream 50 mb_per_s
  stop_server reference "$ref_pid"
  if $have_sockit; then stop_server sockit "$our_pid"; fi
}

# Memory per idle connection, each server fresh and on one thread.
idle_scenario() {
  local label="idle conns=$idle_conns threads=1 (server KiB/conn)" ours_value=$unavailable
  local ref_value
  echo "$label" >&2
  if $have_sockit; then
    start_sockit 1
    ours_value=$(idle_growth sockit "$server_pid" "$server_port")
    stop_server sockit "$server_pid"
  fi
  start_reference 1
  ref_value=$(idle_growth reference "$server_pid" "$server_port")
  stop_server reference "$server_pid"
  record "$label" "$ours_value" "$ref_value"
}

print_table() {
  local i ours_shown
  printf '%-52s %12s %12s %8s %18s\n' scenario sockit reference ratio "in rounds"
  for i in "${!scenarios[@]}"; do
    ours_shown=${ours[i]}
    [[ $ours_shown == "$unavailable" ]] && ours_shown=n/a
    printf '%-52s %12s %12s %8s %18s\n' "${scenarios[i]}" "$ours_shown" "${theirs[i]}" \
      "$(ratio "${ours[i]}" "${theirs[i]}")" "${in_rounds[i]:--}"
  done
}

cores=$(nproc)
echo "machine: ${cores} CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)," \
  "Linux $(uname -r); ${seconds}s per run, $rounds rounds"
$have_sockit || echo "sockit: $unavailable ($sockit serve --help failed); reference only"

timed_scenarios 1
if ((cores > 1)); then timed_scenarios "$cores"; fi
idle_scenario

print_table
if ((failures > 0)); then
  echo "echo.sh: ${failures} run(s) failed; see the messages above" >&2
  exit 1
fi
