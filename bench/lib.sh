# shellcheck shell=bash disable=SC2154
# What the comparison scripts of bench/ share: a temporary directory, the processes they start
# (stopped with SIGTERM, then SIGKILL after stop_limit seconds, also when the script fails or
# is interrupted), the check for the programs they need, a free port and the ratio of two
# figures, and reading the port `sockit serve` announces. A script sets `script` (its name, for
# messages) and `stop_limit` (and `service` and `start_limit` to use announce_sockit), then
# sources this file.

tmp=$(mktemp -d)
live=()  # processes started here and not yet stopped

# Whether process $1 has exited (gone, or a zombie waiting to be reaped).
exited() {
  local stat
  read -r stat 2>/dev/null <"/proc/$1/stat" || return 0
  stat=${stat##*) }
  [[ ${stat%% *} == Z ]]
}

forget() {
  local pid=$1 kept=() other
  for other in "${live[@]}"; do [[ $other == "$pid" ]] || kept+=("$other"); done
  live=("${kept[@]}")
}

# SIGTERM, up to stop_limit seconds for the process to exit, then SIGKILL; returns its status.
stop() {
  local pid=$1 status=0 i
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < stop_limit * 10; i++)); do
    exited "$pid" && break
    sleep 0.1
  done
  if ! exited "$pid"; then
    echo "$script: process $pid still running ${stop_limit}s after SIGTERM; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" || status=$?
  forget "$pid"
  return "$status"
}

cleanup() {
  local pid
  trap '' INT TERM
  for pid in "${live[@]}"; do stop "$pid" || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
# On Ctrl-C or SIGTERM exit at once, which runs cleanup. bash runs a trap only once the
# foreground command has ended: a script runs its long commands in the background under a
# bounded `wait`, which a signal interrupts.
trap 'exit 130' INT
trap 'exit 143' TERM

# Exits 2 naming the first of the programs given that is not installed.
require_tools() {
  local tool
  for tool in "$@"; do
    if ! command -v "$tool" >/dev/null; then
      echo "$script: $tool is not installed (scripts/setup-deps installs it)" >&2
      exit 2
    fi
  done
}

# A TCP port on 127.0.0.1 that the OS just handed out.
free_port() {
  python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

# $1 / $2 with two decimals, or n/a when either is not a number.
ratio() {
  awk -v a="$1" -v b="$2" 'BEGIN {
    if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0) printf "%.2f\n", a / b; else print "n/a" }'
}

# Reads sockit serve's announcement from descriptor $1: "listening SERVICE tcp|udp ADDRESS ..."
# lines, one per listener, then "ready". Prints the port of $service's TCP listener.
announce_sockit() {
  local line port='' deadline=$((SECONDS + start_limit))
  while ((SECONDS < deadline)) && IFS= read -r -t "$start_limit" -u "$1" line; do
    if [[ $line =~ ^listening[[:space:]]+([^[:space:]]+)[[:space:]]+(tcp|udp)[[:space:]]+([^[:space:]]+) ]] &&
      [[ ${BASH_REMATCH[1]} == "$service" && ${BASH_REMATCH[2]} == tcp ]]; then
      port=${BASH_REMATCH[3]##*:}
    elif [[ $line == ready* ]]; then
      [[ -n $port ]] && echo "$port"
      return
    fi
  done
  return 1
}
