#!/usr/bin/env bash
# Chat servers side by side, in one run on this machine: `sockit serve chat` with one and with
# two threads, `ncat --chat`, and chat_floor (the least a broadcast server can do: one send per
# client and nothing else, dropping what would block), all driven by the same client, chat_bench (receivers on
# sockit's event loop, one sender of "@@bench SEQ SEND_NS" lines; every delivery checked for
# loss, repetition and order). Our server runs with --chat-rate 0: the bench sender is the
# only sender, and the rate limit would otherwise read it at 10 lines/s. Scenarios:
#   1. 10,000 receivers, the sender at 10 lines/s for 10 s: broadcast latency p50/p99,
#      deliveries/s and the server's CPU time per delivery (sockit only: ncat serves at most
#      FD_SETSIZE = 1024 descriptors);
#   2. the server's memory per idle client: the growth of its VmRSS from before the 10,000
#      connect to after they have settled (same run as 1, before the sender connects);
#   3. 1,000 receivers and a flood of lines (sent as fast as the socket takes them):
#      deliveries/s = deliveries / (last arrival - first send), CPU per delivery, and the
#      memory per idle client of each server;
#   4. 1,000 receivers, the sender at 100 lines/s for 3 s: latency p50/p99 and CPU;
#   5. 1,000 clients of which one never reads, and a flood: the share of the lines the 999
#      others received within 10 s, and deliveries/s (the slow member must not hold them up).
# Every server is fresh for each run and stopped by PID. Prints one table: each figure for
# sockit at 1 and 2 threads and for ncat, the ratios sockit/ncat, and the issue's target.
# Higher is better for deliveries/s; lower for latency, CPU and memory. Each run's line on
# stderr also gives the CPU time the driver used: it shares the machine with the server.
# The machine is shared and noisy: compare the ratios of one run, repeat, quote medians.
#
# Usage: bench/chat.sh BUILD_DIR   (a Release build with SOCKIT_BENCH=ON; nothing is built here)
set -euo pipefail

build=${1:?usage: bench/chat.sh SOCKIT_BUILD_DIR}
sockit=$build/tools/sockit
driver=$build/bench/chat_bench
floor_server=$build/bench/chat_floor

many=10000           # receivers of scenarios 1 and 2
many_rate=10         # lines/s of scenario 1
many_lines=100       # lines of scenario 1 (10 s)
few=1000             # receivers of scenarios 3 and 4
flood_lines=20000    # lines of scenario 3
few_rate=100         # lines/s of scenario 4
few_lines=300        # lines of scenario 4 (3 s)
stalled_limit=10s    # how long scenario 5 waits for deliveries
quiet=1s             # silence that counts as settled, for chat_bench
phase_limit=60s      # chat_bench's bound on each phase of a run
run_limit=300        # seconds a whole chat_bench run may take (a hang guard)
start_limit=10       # seconds a server gets to announce itself or listen
stop_limit=10        # seconds a process gets to exit after SIGTERM, before SIGKILL
# ncat's select() handles descriptors below FD_SETSIZE (1024): the receivers, the sender,
# its listener and stdio must fit. chat_bench opens at most 8 connections at once to it:
# its accept queue holds 10, and when it overflows ncat gets connections that are already
# reset and quits ("getpeername ... failed").
ncat_fd_limit=1024
ncat_connectors=8

if [[ ! -x $driver || ! -x $floor_server ]]; then
  echo "chat.sh: $driver or $floor_server is not built (configure $build with -DSOCKIT_BENCH=ON)" >&2
  exit 2
fi
if ! "$sockit" serve --help 2>/dev/null | grep -q -- --chat-port; then
  echo "chat.sh: $sockit has no chat service (sockit serve --help names no --chat-port)" >&2
  exit 2
fi
script=chat.sh
service="chat"
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
require_tools ncat ss python3
failures=0

# The receivers need more descriptors than the usual soft limit; servers and client inherit it.
ulimit -n "$(ulimit -Hn)"
if (($(ulimit -n) < many + 100)); then
  echo "chat.sh: $many clients need more descriptors than the hard limit, $(ulimit -Hn)" >&2
  exit 2
fi
if ((few + 5 > ncat_fd_limit)); then
  echo "chat.sh: ncat cannot serve $few clients (FD_SETSIZE $ncat_fd_limit)" >&2
  exit 2
fi

# Starts `sockit serve chat` with $1 threads; sets server_pid and server_port.
start_sockit() {
  start_server sockit announce_sockit "$sockit" serve chat --bind 127.0.0.1 --chat-port 0 \
    --chat-rate 0 --threads "$1"
}

# Starts ncat's chat broker on a free loopback port; sets server_pid and server_port once it
# listens. It is watched with ss, not probed: a probe would join the chat.
start_ncat() {
  local i
  server_port=$(free_port)
  ncat -l --chat --max-conns $((few + 10)) 127.0.0.1 "$server_port" \
    </dev/null >"$tmp/ncat.out" 2>"$tmp/ncat.err" &
  server_pid=$!
  live+=("$server_pid")
  for ((i = 0; i < start_limit * 10; i++)); do
    exited "$server_pid" && break
    [[ -n $(ss -Hltn "sport = :$server_port") ]] && return
    sleep 0.1
  done
  echo "chat.sh: ncat did not listen on port $server_port within ${start_limit}s" >&2
  cat "$tmp/ncat.err" >&2
  exit 1
}

# Reads chat_floor's announcement, its port alone on a line, from descriptor $1; prints it.
announce_floor() {
  local line
  IFS= read -r -t "$start_limit" -u "$1" line || return 1
  [[ $line =~ ^[0-9]+$ ]] || return 1
  echo "$line"
}

start_floor() { start_server floor announce_floor "$floor_server" 0; }

# Stops server $1 (name) with PID $2. Our server must still be running and exit cleanly.
# ncat's exit is not checked: when the receivers go all at once it may quit by itself
# (getpeername on a connection already reset), after the figures are in.
stop_server() {
  local name=$1 pid=$2 status=0
  if [[ $name == sockit ]] && exited "$pid"; then
    echo "chat.sh: sockit serve chat (pid $pid) exited during the run" >&2
    cat "$tmp/sockit.err" >&2
    failures=$((failures + 1))
  fi
  stop "$pid" || status=$?
  if [[ $name == sockit && $status != 0 ]]; then
    echo "chat.sh: sockit serve chat (pid $pid) did not exit cleanly (status $status)" >&2
    failures=$((failures + 1))
  fi
}

# Runs chat_bench against the server (name pid port) with the arguments after them, under
# a bound, in the background so that a signal interrupts the wait; sets result to the JSON
# line it printed (empty if none).
run_driver() {
  local name=$1 pid=$2 port=$3 job status=0
  shift 3
  timeout -k 5 "$run_limit" "$driver" 127.0.0.1 "$port" --server-pid "$pid" --quiet "$quiet" \
    --timeout "$phase_limit" --json "$@" >"$tmp/driver.out" 2>"$tmp/driver.err" &
  job=$!
  live+=("$job")
  wait "$job" || status=$?
  forget "$job"
  result=$(tail -n 1 "$tmp/driver.out")
  summarize "$name" "$status"
}

# Starts server $1 (sockit-1, sockit-2, ncat or floor); sets server_pid and server_port.
start_named() {
  case $1 in
    sockit-*) start_sockit "${1#sockit-}" ;;
    ncat) start_ncat ;;
    floor) start_floor ;;
  esac
}

# One line on stderr about the run in result: its figures, the CPU both sides used, and
# whatever went wrong.
summarize() {
  local name=$1 status=$2
  python3 -c 'import json, sys
name, status = sys.argv[1], sys.argv[2]
try:
    r = json.loads(sys.argv[3])
except ValueError:
    print("  %s: no result (status %s)" % (name, status)); sys.exit()
lat = r["latency_ms"]
rss = "" if r["rss_per_client_kib"] is None else ", %.3f KiB/client" % r["rss_per_client_kib"]
server = "n/a" if r["server_cpu_seconds"] is None else "%.2f (system %.2f)" % (
    r["server_cpu_seconds"], r["server_system_seconds"])
print("  %s: %d/%d clients in %.1f s%s; %d/%d deliveries, %.0f/s, latency ms p50 %s p99 %s max %s;"
      " CPU s over %.1f s: driver %.2f (system %.2f), server %s" % (
    name, r["connected"], r["clients"], r["connect_seconds"], rss, r["deliveries"],
    r["expected"], r["deliveries_per_second"], lat.get("p50"), lat.get("p99"), lat.get("max"),
    r["window_seconds"], r["driver_cpu_seconds"], r["driver_system_seconds"], server))
errors = {k: r[k] for k in ("connect_failed", "disconnected", "missing", "duplicates",
                            "out_of_order", "malformed") if r[k]}
if r["timed_out"]: errors["timed_out"] = r["timed_out"]
if errors or not r["ok"]:
    print("    errors:", ", ".join("%s %s" % kv for kv in errors.items()) or "none",
          "; first:", r["first_error"] or "-")' "$name" "$status" "$result" >&2
  [[ -s $tmp/driver.err ]] && sed 's/^/    /' "$tmp/driver.err" >&2
  return 0
}

# Figure $1 of the run in result: p50, p99, rate (deliveries/s), cpu (server CPU µs per
# delivery, user and system) or rss (server KiB per client, from before the receivers
# connect to after they settled, before the sender connects). ERR when the figure is missing, or when $2 is
# "strict" and the run found any error (our server must lose, repeat and reorder nothing).
figure() {
  python3 -c 'import json, sys
key, strict = sys.argv[1], sys.argv[2] == "strict"
try:
    r = json.loads(sys.argv[3])
except ValueError:
    print("ERR"); sys.exit()
values = {
    "p50": r["latency_ms"].get("p50"),
    "p99": r["latency_ms"].get("p99"),
    # A server that delivered nothing of what it owed (ncat behind a stalled member, which
    # may not even let the sender in) scores 0.
    "rate": round(r["deliveries_per_second"]) if r["deliveries"] else (0 if r["messages"] else None),
    "cpu": r["server_cpu_seconds"] * 1e6 / r["deliveries"]
           if r["deliveries"] and r["server_cpu_seconds"] is not None else None,
    "share": round(100.0 * r["deliveries"] / ((r["clients"] - r["stalled"]) * r["messages"]), 1)
             if r["messages"] else None,
    "rss": r["rss_per_client_kib"],
}
value = values[key]
if value is None or (strict and not r["ok"]):
    print("ERR")
elif isinstance(value, float):
    print("%.3f" % value)
else:
    print(value)' "$1" "$2" "$result"
}

scenarios=()
one=()    # sockit, 1 thread
two=()    # sockit, 2 threads
other=()  # ncat
floor=()  # chat_floor
targets=()

record() {
  scenarios+=("$1")
  one+=("$2")
  two+=("$3")
  other+=("$4")
  floor+=("$5")
  targets+=("$6")
  local value
  for value in "$2" "$3" "$4" "$5"; do
    [[ $value != ERR ]] || failures=$((failures + 1))
  done
}

# Scenarios 1 and 2 on server $1 (sockit-1, sockit-2 or floor): sets lat50, lat99, rate, cpu
# and rss.
many_clients() {
  local server=$1 pid
  start_named "$server"
  pid=$server_pid
  run_driver "$server" "$pid" "$server_port" --clients "$many" --rate "$many_rate" \
    --messages "$many_lines"
  stop_server "${server%-*}" "$pid"
  lat50=$(figure p50 strict) lat99=$(figure p99 strict) rate=$(figure rate strict)
  cpu=$(figure cpu strict) rss=$(figure rss strict)
}

# One run of scenario 3 or 4 (the chat_bench arguments after the server's name) against a
# fresh server: sockit-1, sockit-2 or ncat. Sets result.
few_clients_run() {
  local server=$1 pid connectors=()
  shift
  [[ $server == ncat ]] && connectors=(--connectors "$ncat_connectors")
  start_named "$server"
  pid=$server_pid
  run_driver "$server" "$pid" "$server_port" --clients "$few" "${connectors[@]}" "$@"
  stop_server "${server%-*}" "$pid"
}

# Scenario 3, 4 or 5 against the servers, in the order $1 (so that drift of the machine
# favours none); the chat_bench arguments follow. Sets the results runs[SERVER].
declare -A runs
few_clients() {
  local order=$1 server
  shift
  for server in $order; do
    few_clients_run "$server" "$@"
    runs[$server]=$result
  done
}

# Figure $1 of the runs of few_clients: "ONE TWO NCAT FLOOR" (n/a for a server not run).
# ncat's and the floor's figures count even when they lost or broke lines (they do under a
# flood); their errors are in the run's line above. $2 "lax" excuses ours too (scenario 5,
# where the slow member is meant to be cut off).
few_figures() {
  local key=$1 mode=${2:-strict} values=() server
  for server in sockit-1 sockit-2 ncat floor; do
    if [[ -z ${runs[$server]:-} ]]; then
      values+=(n/a)
      continue
    fi
    result=${runs[$server]}
    if [[ $server == sockit-* ]]; then values+=("$(figure "$key" "$mode")"); else values+=("$(figure "$key" lax)"); fi
  done
  echo "${values[@]}"
}

print_table() {
  local i
  printf '%-62s %10s %10s %10s %10s %8s %8s %9s  %s\n' scenario "sockit -t1" "sockit -t2" \
    ncat floor "t1/ncat" "t2/ncat" "t1/floor" target
  for i in "${!scenarios[@]}"; do
    printf '%-62s %10s %10s %10s %10s %8s %8s %9s  %s\n' "${scenarios[i]}" "${one[i]}" \
      "${two[i]}" "${other[i]}" "${floor[i]}" "$(ratio "${one[i]}" "${other[i]}")" \
      "$(ratio "${two[i]}" "${other[i]}")" "$(ratio "${one[i]}" "${floor[i]}")" "${targets[i]}"
  done
}

echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)," \
  "Linux $(uname -r); $(ncat --version 2>&1 | head -1); load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "sockit serve chat runs with --chat-rate 0 (no rate limit): the bench sender is its only sender"

label="$many clients, $many_rate lines/s for $((many_lines / many_rate)) s"
echo "$label" >&2
many_clients floor
read -r lat50_f lat99_f rate_f cpu_f <<<"$lat50 $lat99 $rate $cpu"
many_clients sockit-1
read -r lat50_1 lat99_1 rate_1 cpu_1 rss_1 <<<"$lat50 $lat99 $rate $cpu $rss"
many_clients sockit-2
record "$label: p50 latency (ms)" "$lat50_1" "$lat50" n/a "$lat50_f" ""
record "$label: p99 latency (ms)" "$lat99_1" "$lat99" n/a "$lat99_f" "< 50"
record "$label: deliveries/s" "$rate_1" "$rate" n/a "$rate_f" ""
record "$label: server CPU us/delivery" "$cpu_1" "$cpu" n/a "$cpu_f" ""
record "$many idle clients: server KiB per client" "$rss_1" "$rss" n/a n/a "<= 2"

label="$few clients, flood of $flood_lines lines"
echo "$label" >&2
few_clients "ncat sockit-1 floor sockit-2" --messages "$flood_lines" --flood
read -r a b c d <<<"$(few_figures rate)"
record "$label: deliveries/s" "$a" "$b" "$c" "$d" ">= 10x ncat"
read -r a b c d <<<"$(few_figures cpu)"
record "$label: server CPU us/delivery" "$a" "$b" "$c" "$d" ""
read -r a b c d <<<"$(few_figures rss)"
record "$few idle clients (before the flood): server KiB per client" "$a" "$b" "$c" n/a "<= 2"

label="$few clients, $few_rate lines/s for $((few_lines / few_rate)) s"
echo "$label" >&2
unset 'runs[floor]'
few_clients "sockit-2 sockit-1 ncat" --messages "$few_lines" --rate "$few_rate"
read -r a b c d <<<"$(few_figures p50)"
record "$label: p50 latency (ms)" "$a" "$b" "$c" "$d" ""
read -r a b c d <<<"$(few_figures p99)"
record "$label: p99 latency (ms)" "$a" "$b" "$c" "$d" ""
read -r a b c d <<<"$(few_figures cpu)"
record "$label: server CPU us/delivery" "$a" "$b" "$c" "$d" ""

label="$few clients, one never reading, flood of $flood_lines lines"
echo "$label" >&2
phase_limit=$stalled_limit
few_clients "ncat sockit-1 sockit-2" --messages "$flood_lines" --flood --stalled 1
read -r a b c d <<<"$(few_figures share lax)"
record "$label: % delivered to the others in $stalled_limit" "$a" "$b" "$c" "$d" "100"
read -r a b c d <<<"$(few_figures rate lax)"
record "$label: deliveries/s" "$a" "$b" "$c" "$d" ">= 10x ncat"

echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
print_table
if ((failures > 0)); then
  echo "chat.sh: ${failures} figure(s) missing or from a run with errors; see the messages above" >&2
  exit 1
fi
