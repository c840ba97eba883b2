#!/usr/bin/env bash
# HTTPS servers side by side, in one run on this machine: `sockit serve http` against nginx,
# one worker each, the same directory, certificate and key (made here with openssl: ECDSA
# P-256, and RSA 2048 for the handshake rows), nginx with TLS 1.2 and 1.3 and session tickets
# as sockit. Scenarios, each with its target:
#   keep-alive      the 400-byte page through wrk -t1 -c50: requests/s and server CPU per
#                   request (target 1.5x nginx's requests/s)
#   new connections the page with "Connection: close", one TLS handshake per request, with each
#                   certificate: through wrk, which resumes its last session on every new
#                   connection (a TLS 1.3 PSK with a fresh ECDHE, no certificate signature),
#                   and through ab, whose connections start from scratch (full handshakes);
#                   requests/s and server CPU per handshake (target 1.0x nginx's)
#   1 MiB file      big.bin through wrk -t1 -c4 with keep-alive: MiB/s (target 1.0x nginx's)
#   idle            IDLE_CONNS (2000) TLS connections, each after one request, held idle by
#                   bench/tls_idle.py: growth of the server's Pss (smaps_rollup) per connection
#                   (target at most nginx's) and the seconds the client took to open them;
#                   measured once
#   client          `sockit bench` against wrk over HTTPS on the same nginx: requests/s and
#                   the client's CPU per request, or n/a while bench speaks plain HTTP only
# The server's CPU is its worker's utime + stime over a run, divided by the operations done:
# on a shared machine requests/s moves with the other load, CPU per operation far less.
# Every figure is the median of REPEATS runs (3), the two sides taking turns. Prints one table:
# the medians, their ratio sockit/nginx, the median and range of the ratios within rounds, and
# the target.
#
# Usage: [REPEATS=N] [IDLE_CONNS=N] bench/tls.sh BUILD_DIR   (a Release build)
set -euo pipefail

build=${1:?usage: bench/tls.sh SOCKIT_BUILD_DIR}
sockit=$build/tools/sockit
here=$(dirname "$0")

seconds=3          # each wrk run
handshakes=3000    # each ab run of full handshakes
repeats=${REPEATS:-3}  # runs per scenario and side; the median is reported
idle_conns=${IDLE_CONNS:-2000}
idle_hold=180      # seconds the idle client holds its connections at most
start_limit=10     # seconds a server gets to announce itself or answer
stop_limit=5       # seconds a process gets to exit after SIGTERM, before SIGKILL

if [[ ! -x $sockit ]]; then
  echo "tls.sh: $sockit is not built" >&2
  exit 2
fi
if [[ ! $repeats =~ ^[1-9][0-9]{0,2}$ || ! $idle_conns =~ ^[1-9][0-9]{0,5}$ ]]; then
  echo "tls.sh: REPEATS ($repeats) and IDLE_CONNS ($idle_conns) must be positive counts" >&2
  exit 2
fi
script=tls.sh
service=http
scheme=https
# shellcheck source=bench/lib.sh
source "$here/lib.sh"
require_tools nginx wrk ab curl openssl python3 sha256sum pgrep /usr/bin/time
failures=0

# The idle connections need more descriptors than the usual soft limit; the servers and the
# client inherit this.
ulimit -n "$(ulimit -Hn)"
if (($(ulimit -n) < idle_conns + 100)); then
  echo "tls.sh: $idle_conns connections need more descriptors than the hard limit, $(ulimit -Hn)" >&2
  exit 2
fi

root=$tmp/root
write_pages "$root"

# A self-signed certificate for 127.0.0.1 with a new key of the kind openssl's -newkey $2
# names, as $tmp/$1.pem and $tmp/$1.key.
make_certificate() {
  local name=$1 kind=$2 extra=()
  [[ $kind == ec ]] && extra=(-pkeyopt ec_paramgen_curve:P-256)
  if ! openssl req -x509 -newkey "$kind" "${extra[@]}" -nodes -days 2 -subj /CN=127.0.0.1 \
    -addext subjectAltName=IP:127.0.0.1 -keyout "$tmp/$name.key" -out "$tmp/$name.pem" \
    2>"$tmp/openssl.err"; then
    echo "tls.sh: openssl could not make the $name certificate:" >&2
    cat "$tmp/openssl.err" >&2
    exit 1
  fi
}
make_certificate ecdsa ec
make_certificate rsa rsa:2048
declare -A cert_name=([ecdsa]="ECDSA P-256" [rsa]="RSA 2048")
cacert=$tmp/trusted.pem
cat "$tmp/ecdsa.pem" "$tmp/rsa.pem" >"$cacert"

declare -A worker  # side -> the process that serves: sockit itself, nginx's one worker

# Starts sockit serve http with certificate $1 (ecdsa or rsa) on one thread.
start_sockit() {
  start_server sockit announce_sockit "$sockit" serve http --bind 127.0.0.1 --http-port 0 \
    --https-port 0 --root "$root" --threads 1 --tls-cert "$tmp/$1.pem" --tls-key "$tmp/$1.key"
  worker[sockit]=$server_pid
}

# Starts nginx with certificate $1 and one worker.
start_tls_nginx() {
  local children
  start_nginx 1 "$root" "$tmp/$1.pem" "$tmp/$1.key"
  children=$(pgrep -P "$server_pid") || true
  if [[ ! $children =~ ^[0-9]+$ ]]; then
    echo "tls.sh: nginx (pid $server_pid) has not one worker but '$children'" >&2
    exit 1
  fi
  worker[nginx]=$children
}

stop_server() {
  local name=$1 pid=$2
  if exited "$pid"; then
    echo "tls.sh: $name (pid $pid) exited during the run" >&2
    cat "$tmp/$name.err" >&2
    failures=$((failures + 1))
  fi
  if ! stop "$pid"; then
    echo "tls.sh: $name (pid $pid) did not exit cleanly" >&2
    failures=$((failures + 1))
  fi
}

# measured NAME PORT COMMAND ARGS...: runs "COMMAND NAME PORT ARGS..." (which sets result, its
# last field the number of requests) and appends the server's CPU microseconds per request.
measured() {
  local name=$1 port=$2 command=$3 pid=${worker[$1]} before after
  shift 3
  before=$(cpu_seconds "$pid" 2>/dev/null) || before=''
  "$command" "$name" "$port" "$@"
  after=$(cpu_seconds "$pid" 2>/dev/null) || after=''
  if [[ -z $before || -z $after ]]; then
    echo "  $name (pid $pid) is gone: no CPU time" >&2
    result=ERR
  fi
  [[ $result == ERR ]] && return
  result+=" $(awk -v a="$after" -v b="$before" -v n="${result##* }" \
    'BEGIN { printf "%.1f\n", (a - b) * 1e6 / n }')"
  echo "    server CPU ${result##* } us/request" >&2
}

# run_ab, failed unless ab negotiated TLS 1.3: the handshakes measured are TLS 1.3's.
run_ab_tls13() {
  run_ab "$@"
  if [[ $result != ERR ]] && ! grep -q '^SSL/TLS Protocol: *TLSv1.3,' "$tmp/load.out"; then
    echo "  ab did not negotiate TLS 1.3:" >&2
    grep '^SSL/TLS Protocol' "$tmp/load.out" >&2 || true
    result=ERR
  fi
}

scenarios=()
ours=()
theirs=()
rounds=()
targets=()

record() {
  scenarios+=("$1")
  ours+=("$2")
  theirs+=("$3")
  rounds+=("$4")
  targets+=("$5")
  [[ $2 != ERR && $3 != ERR ]] || failures=$((failures + 1))
}

# Records field $2 of the runs in our_runs and their_runs as scenario $1 with target $3.
record_field() {
  local our_figures their_figures
  our_figures=$(column "$2" "$our_runs")
  their_figures=$(column "$2" "$their_runs")
  record "$1" "$(median <<<"$our_figures")" "$(median <<<"$their_figures")" \
    "$(round_ratios "$our_figures" "$their_figures")" "$3"
}

# Keep-alive, new connections and the 1 MiB file against the servers with the ECDSA
# certificate, then new connections with the RSA one.
load_scenarios() {
  local cert our_pid our_port their_pid their_port label
  for cert in ecdsa rsa; do
    start_sockit "$cert"
    our_pid=$server_pid our_port=$server_port
    start_tls_nginx "$cert"
    their_pid=$server_pid their_port=$server_port
    verify_content sockit "$our_port" "$root"
    verify_content nginx "$their_port" "$root"

    if [[ $cert == ecdsa ]]; then
      label="keep-alive page, wrk -t1 -c50"
      echo "$label" >&2
      interleave "$our_port" nginx "$their_port" measured run_wrk 1 50 /page.html
      record_field "$label: req/s" 1 ">= 1.5x"
      record_field "  same: server CPU us/request" 5 lower
    fi

    label="${cert_name[$cert]}: resumed handshakes (wrk -t1 -c50, Connection: close)"
    echo "$label" >&2
    interleave "$our_port" nginx "$their_port" measured run_wrk 1 50 /page.html \
      -H 'Connection: close'
    record_field "$label: conns/s" 1 ">= 1.0x"
    record_field "  same: server CPU us/resumption" 5 lower

    label="${cert_name[$cert]}: full TLS 1.3 handshakes (ab -c 50 -n $handshakes)"
    echo "$label" >&2
    interleave "$our_port" nginx "$their_port" measured run_ab_tls13 50 "$handshakes" /page.html
    record_field "$label: conns/s" 1 ">= 1.0x"
    record_field "  same: server CPU us/handshake" 3 lower

    if [[ $cert == ecdsa ]]; then
      label="1 MiB file keep-alive, wrk -t1 -c4"
      echo "$label" >&2
      interleave "$our_port" nginx "$their_port" measured run_wrk 1 4 /big.bin
      record_field "$label: MiB/s" 3 ">= 1.0x"
      record_field "  same: server CPU us/MiB" 5 lower
      client_scenario "$their_port"
    fi
    stop_server nginx "$their_pid"
    stop_server sockit "$our_pid"
  done
}

# The Pss (proportional set size: shared pages split among the processes that map them) of
# process $1 in KiB.
pss() {
  awk '/^Pss:/ { print $2 }' "/proc/$1/smaps_rollup" 2>/dev/null || true
}

# Holds idle_conns idle TLS connections to the server (name pid port) and prints the growth of
# its Pss per connection in KiB and the seconds the client took to open them, or ERR.
idle_growth() {
  local name=$1 pid=$2 port=$3 fifo=$tmp/idle.fifo out before after line='' client conns took
  rm -f "$fifo"
  mkfifo "$fifo"
  before=$(pss "$pid")
  python3 "$here/tls_idle.py" "$port" "$cacert" "$idle_conns" "$idle_hold" /page.html \
    >"$fifo" 2>"$tmp/idle.err" &
  client=$!
  live+=("$client")
  exec {out}<"$fifo"
  # The line comes once every connection has had its answer, or the client gave up on some.
  IFS= read -r -t 90 -u "$out" line || true
  after=$(pss "$pid")
  exec {out}<&-
  stop "$client" || true
  echo "  $name: ${line:-no result}, Pss ${before} -> ${after} KiB" >&2
  [[ -s $tmp/idle.err ]] && sed 's/^/    /' "$tmp/idle.err" >&2
  conns='' took=''
  [[ $line =~ ^conns=([0-9]+)\ errors=0\ seconds=([0-9.]+)$ ]] &&
    conns=${BASH_REMATCH[1]} took=${BASH_REMATCH[2]}
  if [[ $conns != "$idle_conns" || -z $before || -z $after ]]; then
    echo ERR
  else
    awk -v a="$after" -v b="$before" -v n="$conns" -v s="$took" \
      'BEGIN { printf "%.2f %s\n", (a - b) / n, s }'
  fi
}

# Idle connections to fresh servers (the ECDSA certificate), each warmed by the content check.
idle_scenario() {
  local our_pid their_pid our_figure their_figure
  local label="$idle_conns idle TLS conns (after one request each)"
  echo "$label" >&2
  start_sockit ecdsa
  our_pid=$server_pid
  verify_content sockit "$server_port" "$root"
  our_figure=$(idle_growth sockit "$our_pid" "$server_port")
  start_tls_nginx ecdsa
  their_pid=$server_pid
  verify_content nginx "$server_port" "$root"
  their_figure=$(idle_growth nginx "${worker[nginx]}" "$server_port")
  record "$label: server Pss KiB/conn" "${our_figure% *}" "${their_figure% *}" "(once)" "<= 1.0x"
  # A server that answers a new connection's first request late shows here: the client opens
  # its connections from 4 threads, one at a time each, and waits for each answer.
  record "  same: seconds to open them (handshake and answer)" "${our_figure#* }" \
    "${their_figure#* }" "(once)" lower
  stop_server nginx "$their_pid"
  stop_server sockit "$our_pid"
}

# One client run against the same server (port $2): sockit bench when $1 is sockit, else wrk,
# -c50 with keep-alive. Sets result to "REQUESTS_PER_S CLIENT_CPU_US_PER_REQUEST", or ERR.
run_client() {
  local name=$1 url status=0 rate count
  url="$(origin "$2")/page.html"
  if [[ $name == sockit ]]; then
    bounded $((seconds + 30)) "$sockit" bench --cacert "$cacert" -c 50 -d "${seconds}s" "$url" ||
      status=$?
    grep -q '^ *Errors: none$' "$tmp/load.out" || status=1
  else
    bounded $((seconds + 30)) wrk -t 1 -c 50 -d "${seconds}s" "$url" || status=$?
    grep -qE 'Non-2xx|Socket errors' "$tmp/load.out" && status=1
  fi
  rate=$(awk '/^Requests\/sec:/ { print $2 }' "$tmp/load.out")
  count=$(awk '/ requests in / { print $1 }' "$tmp/load.out")
  if [[ $status != 0 || -z $rate || -z $count || $count == 0 ]]; then
    echo "  $name failed (status $status):" >&2
    sed 's/^/    /' "$tmp/load.out" >&2
    result=ERR
    return
  fi
  result="$rate $(awk -v n="$count" '{ printf "%.2f\n", ($1 + $2) * 1e6 / n }' "$tmp/cpu")"
  echo "  $name: $rate req/s, ${result#* } us client CPU/request" >&2
}

# sockit bench against wrk, both loading nginx at port $1, if bench speaks HTTPS.
client_scenario() {
  local label="client: sockit bench vs wrk, -c50 keep-alive on nginx"
  echo "$label" >&2
  if bounded 30 "$sockit" bench -c 1 -n 1 "$(origin "$1")/page.html" ||
    ! grep -q 'plain HTTP only' "$tmp/load.out"; then
    interleave "$1" wrk "$1" run_client
    record_field "$label: req/s" 1 higher
    record_field "  same: client CPU us/request" 2 lower
    return
  fi
  echo "  n/a: $(cat "$tmp/load.out")" >&2
  scenarios+=("$label: n/a (bench speaks plain HTTP only)")
  ours+=(n/a) theirs+=(n/a) rounds+=(n/a) targets+=(higher)
}

print_table() {
  local i
  printf '%-74s %9s %9s %6s %18s  %s\n' scenario sockit nginx ratio "in rounds" target
  for i in "${!scenarios[@]}"; do
    printf '%-74s %9s %9s %6s %18s  %s\n' "${scenarios[i]}" "${ours[i]}" "${theirs[i]}" \
      "$(ratio "${ours[i]}" "${theirs[i]}")" "${rounds[i]}" "${targets[i]}"
  done
}

echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)," \
  "Linux $(uname -r), load average $(cut -d ' ' -f 1-3 /proc/loadavg);" \
  "$(nginx -v 2>&1 | sed 's/^nginx version: //'), $(openssl version | cut -d ' ' -f 1-2);" \
  "${seconds}s per wrk run, median of $repeats"

load_scenarios
idle_scenario

print_table
if ((failures > 0)); then
  echo "tls.sh: ${failures} figure(s) missing or run(s) failed; see the messages above" >&2
  exit 1
fi
