#!/usr/bin/env bash
# The CPU time a server spends per operation, for two builds of sockit in one run: before and
# after a change. On a shared machine requests/s moves with whatever else runs; the server's
# own CPU time per operation (utime + stime from /proc/PID/stat, over an exact number of
# operations) moves far less, so it is what decides a regression there.
#
# Scenarios, each with one server thread and the same client for both builds (the old
# build's echo_load and `sockit bench`, so only the server differs):
#   echo pingpong   `serve echo`, echo_load pingpong -c 50, 64-byte messages
#   http keep-alive `serve http`, a 400-byte page, `sockit bench -c 50` with keep-alive
#   http close      the same without keep-alive
# Each runs ROUNDS times (5) per build, the builds taking turns (which goes first alternates).
# Prints each scenario's median server CPU per operation in microseconds for old and new, the
# ratio new/old of those medians and the median and range of the ratios within each round
# (lower is better).
#
# Usage: [ROUNDS=N] bench/server_cpu.sh OLD_BUILD_DIR NEW_BUILD_DIR
#        (Release builds; OLD_BUILD_DIR needs SOCKIT_BENCH=ON for echo_load)
set -euo pipefail

old=${1:?usage: bench/server_cpu.sh OLD_BUILD_DIR NEW_BUILD_DIR}
new=${2:?usage: bench/server_cpu.sh OLD_BUILD_DIR NEW_BUILD_DIR}
rounds=${ROUNDS:-5}
echo_ops=1000000
http_ops=200000
start_limit=10
stop_limit=5

for program in "$old/tools/sockit" "$new/tools/sockit" "$old/bench/echo_load"; do
  if [[ ! -x $program ]]; then
    echo "server_cpu.sh: $program is not built" >&2
    exit 2
  fi
done
script=server_cpu.sh
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
failures=0

root=$tmp/root
mkdir -p "$root"
python3 -c 'print("<!DOCTYPE html>\n<title>sockit bench page</title>\n<p>" + "x" * 340 + "</p>")' \
  >"$root/page.html"

# One measured run: build service ops client... (the client's arguments take PORT for the
# server's port). Prints the server's CPU microseconds per operation, or ERR.
measure() {
  local build=$1 service=$2 ops=$3 before after status=0 args=()
  shift 3
  case $service in
    echo) args=(echo --echo-port 0) ;;
    http) args=(http --http-port 0 --root "$root") ;;
  esac
  start_server "sockit-$service" announce_sockit \
    "$build/tools/sockit" serve "${args[@]}" --bind 127.0.0.1 --threads 1
  local pid=$server_pid port=$server_port
  before=$(cpu_seconds "$pid")
  timeout -k 5 300 "${@//PORT/$port}" >"$tmp/client.out" 2>&1 || status=$?
  after=$(cpu_seconds "$pid")
  stop "$pid" || status=$?
  if ((status != 0)); then
    echo "  $build $service: failed (status $status)" >&2
    sed 's/^/    /' "$tmp/client.out" >&2
    failures=$((failures + 1))
    echo ERR
    return
  fi
  awk -v a="$after" -v b="$before" -v n="$ops" 'BEGIN { printf "%.3f\n", (a - b) * 1e6 / n }'
}

labels=()
old_figures=()
new_figures=()

scenario() {
  local label=$1 service=$2 ops=$3 round old_runs='' new_runs='' figure
  shift 3
  echo "$label" >&2
  for ((round = 0; round < rounds; round++)); do
    local order=("$old" "$new")
    ((round % 2 == 0)) || order=("$new" "$old")
    for build in "${order[@]}"; do
      figure=$(measure "$build" "$service" "$ops" "$@")
      echo "  $build: $figure us/op" >&2
      if [[ $build == "$old" ]]; then old_runs+="$figure"$'\n'; else new_runs+="$figure"$'\n'; fi
    done
  done
  old_runs=${old_runs%$'\n'} new_runs=${new_runs%$'\n'}
  labels+=("$label")
  old_figures+=("$(median <<<"$old_runs")")
  new_figures+=("$(median <<<"$new_runs") $(round_ratios "$new_runs" "$old_runs")")
}

echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)," \
  "Linux $(uname -r); $rounds rounds; old $old, new $new"
scenario "echo pingpong -c 50, server CPU us per round trip" echo "$echo_ops" \
  "$old/bench/echo_load" pingpong -p PORT -c 50 -n "$echo_ops" -d 600s
scenario "http keep-alive -c 50, server CPU us per request" http "$http_ops" \
  "$old/tools/sockit" bench -c 50 -n "$http_ops" http://127.0.0.1:PORT/page.html
scenario "http no keep-alive -c 50, server CPU us per request" http "$((http_ops / 4))" \
  "$old/tools/sockit" bench --no-keepalive -c 50 -n "$((http_ops / 4))" \
  http://127.0.0.1:PORT/page.html

printf '%-56s %10s %10s %6s %18s\n' scenario old new ratio "in rounds"
for i in "${!labels[@]}"; do
  read -r figure in_rounds <<<"${new_figures[i]}"
  printf '%-56s %10s %10s %6s %18s\n' "${labels[i]}" "${old_figures[i]}" "$figure" \
    "$(ratio "$figure" "${old_figures[i]}")" "$in_rounds"
done
if ((failures > 0)); then
  echo "server_cpu.sh: ${failures} run(s) failed; see the messages above" >&2
  exit 1
fi
