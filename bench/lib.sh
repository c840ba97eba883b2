# shellcheck shell=bash disable=SC2154,SC2034
# What the comparison scripts of bench/ share: a temporary directory, the processes they start
# (stopped with SIGTERM, then SIGKILL after stop_limit seconds, also when the script fails or
# is interrupted), the check for the programs they need, a free port, medians and ratios of
# figures, and starting servers that announce their port (sockit serve among them) and nginx.
# A script sets `script` (its name, for messages) and `stop_limit` (and `start_limit` to start
# servers, `service` to use announce_sockit), then sources this file.

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

# The median of the numbers on stdin, one a line, or ERR if any line is ERR.
median() {
  sort -g | awk '$1 == "ERR" { err = 1 } { v[NR] = $1 } END {
    if (err || NR == 0) print "ERR"
    else if (NR % 2) print v[(NR + 1) / 2]
    else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Field $1 (1-based) of each line of $2, ERR for the lines that are ERR.
column() {
  awk -v f="$1" '{ print ($1 == "ERR") ? "ERR" : $f }' <<<"$2"
}

# Runs taken in turns drift together with the machine: the ratio within each round is steadier
# than the ratio of two medians. $1 and $2 hold one figure a line, round by round; prints
# "MEDIAN (MIN-MAX)" of the rounds' ratios $1/$2, or ERR if a figure is missing.
round_ratios() {
  local ratios middle
  ratios=$(paste -d ' ' <(printf '%s\n' "$1") <(printf '%s\n' "$2") | awk '{
    if ($1 ~ /^[0-9.]+$/ && $2 ~ /^[0-9.]+$/ && $2 > 0) print $1 / $2; else print "ERR" }')
  middle=$(median <<<"$ratios")
  if [[ $middle == ERR ]]; then
    echo ERR
    return
  fi
  sort -g <<<"$ratios" | awk -v m="$middle" 'NR == 1 { low = $1 } { high = $1 }
    END { printf "%.2f (%.2f-%.2f)\n", m, low, high }'
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

# Starts a server with stdout on a FIFO and reads its announcement with the function $2; sets
# server_pid and server_port. Later output is copied to a file so that the server never
# blocks on a full pipe.
start_server() {
  local name=$1 announce=$2 fifo=$tmp/$1.fifo out
  shift 2
  rm -f "$fifo"
  mkfifo "$fifo"
  "$@" >"$fifo" 2>"$tmp/$name.err" &
  server_pid=$!
  live+=("$server_pid")
  exec {out}<"$fifo"
  if ! server_port=$("$announce" "$out"); then
    echo "$script: $name did not announce its port within ${start_limit}s: $*" >&2
    cat "$tmp/$name.err" >&2
    exit 1
  fi
  cat <&"$out" >>"$tmp/$name.out" &
  exec {out}<&-
}

# nginx with $1 workers ("auto": one per CPU) serving directory $2 on a free loopback port,
# no daemon, everything (pid, logs, temp files) under its own prefix; sets server_pid and
# server_port once it answers. Settings beyond the defaults, those of a typical tuned
# static-file config:
#   sendfile on                 file bodies go from the page cache to the socket in the kernel
#                               (sockit sends files with sendfile too)
#   tcp_nopush on               headers and the start of the file leave in full segments
#   keepalive_requests 1000000  a keep-alive connection is not closed after 1000 requests
#                               (sockit has no such limit)
#   access_log off              sockit logs nothing without -v; errors still go to a file
#   listen ... reuseport        one listening socket per worker, spread by the kernel: what
#                               sockit does with more than one thread
start_nginx() {
  local workers=$1 root=$2 prefix=$tmp/nginx port i
  port=$(free_port)
  mkdir -p "$prefix"
  cat >"$prefix/nginx.conf" <<EOF
worker_processes $workers;
daemon off;
pid $prefix/nginx.pid;
error_log $prefix/error.log error;
events {
    worker_connections 4096;
}
http {
    types {
        text/html html;
    }
    default_type application/octet-stream;
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    client_body_temp_path $prefix/client_body;
    proxy_temp_path $prefix/proxy;
    fastcgi_temp_path $prefix/fastcgi;
    uwsgi_temp_path $prefix/uwsgi;
    scgi_temp_path $prefix/scgi;
    server {
        listen 127.0.0.1:$port reuseport;
        root $root;
    }
}
EOF
  nginx -p "$prefix" -e "$prefix/error.log" -c "$prefix/nginx.conf" \
    >"$tmp/nginx.out" 2>"$tmp/nginx.err" &
  server_pid=$!
  live+=("$server_pid")
  server_port=$port
  for ((i = 0; i < start_limit * 10; i++)); do
    if exited "$server_pid"; then break; fi
    if curl -s -o /dev/null --max-time 1 "http://127.0.0.1:$port/"; then return; fi
    sleep 0.1
  done
  echo "$script: nginx did not answer on port $port within ${start_limit}s" >&2
  cat "$tmp/nginx.err" "$prefix/error.log" >&2 2>/dev/null || true
  exit 1
}
