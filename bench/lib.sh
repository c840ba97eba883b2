# shellcheck shell=bash disable=SC2154,SC2034
# What the comparison scripts of bench/ share: a temporary directory, the processes they start
# (stopped with SIGTERM, then SIGKILL after stop_limit seconds, also when the script fails or
# is interrupted), the check for the programs they need, a free port, medians and ratios of
# figures, starting servers that announce their port (sockit serve among them) and nginx, and
# what the web servers' comparisons share: the served pages, the check of their content, the
# server's CPU time, wrk and ab runs, and runs of two sides taken in turns.
# A script sets `script` (its name, for messages) and `stop_limit` (and `start_limit` to start
# servers, `service` to use announce_sockit), then sources this file. Its servers speak plain
# HTTP unless it sets `scheme=https` and `cacert` (the certificates that clients trust). The
# load runs (run_wrk, run_ab) read `seconds` (each wrk run) and interleave reads `repeats`.

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

# The URL of the server on port $1 of 127.0.0.1, without its path.
origin() {
  echo "${scheme:-http}://127.0.0.1:$1"
}

# curl, trusting $cacert when it is set.
fetch() {
  curl ${cacert:+--cacert "$cacert"} "$@"
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

# Reads sockit serve's announcement from descriptor $1: "listening SERVICE tcp|udp|tls ADDRESS
# ..." lines, one per listener, then "ready". Prints the port of $service's TCP listener, or of
# its TLS listener when scheme is https.
announce_sockit() {
  local line port='' deadline=$((SECONDS + start_limit)) transport=tcp
  [[ ${scheme:-http} == https ]] && transport=tls
  while ((SECONDS < deadline)) && IFS= read -r -t "$start_limit" -u "$1" line; do
    if [[ $line =~ ^listening[[:space:]]+([^[:space:]]+)[[:space:]]+(tcp|udp|tls)[[:space:]]+([^[:space:]]+) ]] &&
      [[ ${BASH_REMATCH[1]} == "$service" && ${BASH_REMATCH[2]} == "$transport" ]]; then
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
# With scheme https, $3 the certificate chain and $4 its key: HTTPS on that port instead, TLS
# 1.2 and 1.3, sessions resumed with tickets as sockit does (nginx's default session cache is
# none; sendfile is idle, as nginx cannot send a file into a TLS connection in the kernel).
start_nginx() {
  local workers=$1 root=$2 prefix=$tmp/nginx port i tls='' listen=''
  port=$(free_port)
  mkdir -p "$prefix"
  if [[ ${scheme:-http} == https ]]; then
    listen=' ssl'
    tls="ssl_certificate $3;
        ssl_certificate_key $4;
        ssl_protocols TLSv1.2 TLSv1.3;
        ssl_session_tickets on;"
  fi
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
        listen 127.0.0.1:$port$listen reuseport;
        root $root;
        $tls
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
    if fetch -s -o /dev/null --max-time 1 "$(origin "$port")/"; then return; fi
    sleep 0.1
  done
  echo "$script: nginx did not answer on port $port within ${start_limit}s" >&2
  cat "$tmp/nginx.err" "$prefix/error.log" >&2 2>/dev/null || true
  exit 1
}

# The served directory $1 of the web servers' comparisons: page.html, a page of about 400
# bytes, and big.bin, 1 MiB of random bytes. nginx's workers run as nobody when the script runs
# as root, so the tree must be readable by all.
write_pages() {
  local root=$1
  mkdir -p "$root"
  chmod 755 "$tmp" "$root"
  cat >"$root/page.html" <<'PAGE'
<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>sockit bench page</title>
<link rel="stylesheet" href="/style.css">
</head>
<body>
<h1>A small static page</h1>
<p>About four hundred bytes of HTML, the size of a typical small document or API answer,
served from disk by each server in turn. The load client asks for it again and again.</p>
<p><a href="/big.bin">One mebibyte of random bytes</a></p>
</body>
</html>
PAGE
  head -c 1048576 /dev/urandom >"$root/big.bin"
  chmod 644 "$root/page.html" "$root/big.bin"
}

# Fetches page.html and big.bin of directory $3 from server $1 at port $2 with curl and compares
# their SHA-256 with the files': a benchmark of the wrong bytes is worthless.
verify_content() {
  local name=$1 port=$2 root=$3 file want got
  for file in page.html big.bin; do
    want=$(sha256sum <"$root/$file")
    got=$(fetch -sf --max-time 10 "$(origin "$port")/$file" | sha256sum) || got=failed
    if [[ $got != "$want" ]]; then
      echo "$script: $name served /$file wrong: sha256 ${got%% *}, file ${want%% *}" >&2
      exit 1
    fi
  done
}

# The CPU seconds process $1 has used so far (utime + stime, all its threads).
cpu_seconds() {
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); print ($12 + $13) / hz }' "/proc/$1/stat"
}

# Runs "$2..." under /usr/bin/time in the background for at most $1 seconds, output in
# $tmp/load.out, its user and system seconds in $tmp/cpu; returns its status.
bounded() {
  local limit=$1 pid status=0
  shift
  timeout -k 5 "$limit" /usr/bin/time -f '%U %S' -o "$tmp/cpu" "$@" >"$tmp/load.out" 2>&1 &
  pid=$!
  live+=("$pid")
  wait "$pid" || status=$?
  forget "$pid"
  return "$status"
}

# A wrk duration ("812.00us", "1.52ms", "2.01s") in milliseconds.
milliseconds() {
  awk -v d="$1" 'BEGIN {
    n = d + 0; unit = d; sub(/^[0-9.]+/, "", unit)
    if (unit == "us") n /= 1000; else if (unit == "s") n *= 1000; else if (unit == "m") n *= 60000
    else if (unit != "ms") { print "ERR"; exit }
    printf "%.3f\n", n }'
}

# A wrk amount per second ("1.02GB", "512.30MB") in MiB (wrk counts in powers of 1024).
mebibytes() {
  awk -v a="$1" 'BEGIN {
    n = a + 0; unit = a; sub(/^[0-9.]+/, "", unit)
    if (unit == "B") n /= 1048576; else if (unit == "KB") n /= 1024
    else if (unit == "GB") n *= 1024; else if (unit == "TB") n *= 1048576
    else if (unit != "MB") { print "ERR"; exit }
    printf "%.1f\n", n }'
}

# One wrk run: name port threads conns path [wrk options...]. Sets result to
# "REQUESTS_PER_S P99_MS MIB_PER_S REQUESTS", or to ERR when wrk failed or saw errors or non-2xx
# answers.
run_wrk() {
  local name=$1 port=$2 threads=$3 conns=$4 path=$5 out=$tmp/load.out status=0 rate p99 transfer
  local count
  shift 5
  bounded $((seconds + 30)) wrk -t "$threads" -c "$conns" -d "${seconds}s" --latency "$@" \
    "$(origin "$port")$path" || status=$?
  rate=$(awk '/^Requests\/sec:/ { print $2 }' "$out")
  p99=$(awk '$1 == "99%" { print $2 }' "$out")
  transfer=$(awk '/^Transfer\/sec:/ { print $2 }' "$out")
  count=$(awk '/ requests in / { print $1 }' "$out")
  echo "  $name: ${rate:-?} req/s, p99 ${p99:-?}, ${transfer:-?}/s" >&2
  if [[ $status != 0 || -z $rate || -z $p99 || -z $transfer || -z $count ]] ||
    grep -qE 'Non-2xx|Socket errors' "$out"; then
    echo "  wrk failed (status $status):" >&2
    sed 's/^/    /' "$out" >&2
    result=ERR
    return
  fi
  result="$rate $(milliseconds "$p99") $(mebibytes "$transfer") $count"
}

# One ab run without keep-alive: name port conns requests path. Sets result to
# "REQUESTS_PER_S REQUESTS", or to ERR when ab failed or counted a failed or non-2xx request.
run_ab() {
  local name=$1 port=$2 conns=$3 requests=$4 path=$5 out=$tmp/load.out status=0 rate
  bounded 120 ab -q -c "$conns" -n "$requests" "$(origin "$port")$path" || status=$?
  rate=$(awk '/^Requests per second:/ { print $4 }' "$out")
  echo "  $name: ${rate:-?} req/s" >&2
  if [[ $status != 0 || -z $rate ]] || ! grep -qE '^Failed requests: +0$' "$out" ||
    grep -q 'Non-2xx' "$out"; then
    echo "  ab failed (status $status):" >&2
    sed 's/^/    /' "$out" >&2
    result=ERR
    return
  fi
  result="$rate $requests"
}

# Runs "$4 NAME PORT $5..." (which sets result) repeats times against ours (port $1) and theirs
# (named $2, port $3), taking turns and changing who goes first each round. Leaves the results,
# one line per run, in our_runs and their_runs.
interleave() {
  local our_port=$1 their_name=$2 their_port=$3 command=$4 round
  shift 4
  our_runs='' their_runs=''
  for ((round = 0; round < repeats; round++)); do
    if ((round % 2 == 0)); then
      "$command" sockit "$our_port" "$@"
      our_runs+=$result$'\n'
      "$command" "$their_name" "$their_port" "$@"
      their_runs+=$result$'\n'
    else
      "$command" "$their_name" "$their_port" "$@"
      their_runs+=$result$'\n'
      "$command" sockit "$our_port" "$@"
      our_runs+=$result$'\n'
    fi
  done
  our_runs=${our_runs%$'\n'} their_runs=${their_runs%$'\n'}
}
