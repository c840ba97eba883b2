#!/usr/bin/env bash
# Two builds of sockit side by side, in one run on this machine: before and after a change.
# Runs each comparison script given (default: echo.sh http.sh loadgen.sh) once per round with
# each build, the two taking turns (which goes first alternates from one round to the next, so
# that drift of the machine favours neither), and reads sockit's figure of every scenario out
# of the scripts' tables. Each script also runs its own reference (nginx, wrk, the plain C echo
# server...) in the same rounds, so both builds meet the same machine.
# Prints one table: each scenario's median for the old and the new build, the ratio new/old
# of those medians, the median and range of the ratios within each round, and whether higher
# or lower is better. For "higher" rows a ratio below 1 is a loss; for "lower" rows, above 1.
#
# Usage: [ROUNDS=N] bench/versus.sh OLD_BUILD_DIR NEW_BUILD_DIR [SCRIPT...]
#        (Release builds with SOCKIT_BENCH=ON; nothing is built here)
set -euo pipefail

old=${1:?usage: bench/versus.sh OLD_BUILD_DIR NEW_BUILD_DIR [SCRIPT...]}
new=${2:?usage: bench/versus.sh OLD_BUILD_DIR NEW_BUILD_DIR [SCRIPT...]}
shift 2
scripts=("$@")
((${#scripts[@]})) || scripts=(echo.sh http.sh loadgen.sh)
rounds=${ROUNDS:-3}
here=$(cd "$(dirname "$0")" && pwd)

script=versus.sh
stop_limit=5
# shellcheck source=bench/lib.sh
source "$here/lib.sh"

# The width of the scenario column of each script's table (its print_table's first %-Ns), and
# the sockit column's place after it.
label_width() {
  case $1 in
    echo.sh) echo 52 ;;
    http.sh) echo 72 ;;
    loadgen.sh) echo 62 ;;
    *)
      echo "versus.sh: no table layout known for $1" >&2
      exit 2
      ;;
  esac
}

# Runs script $1 once against build $2 (one round, one repeat); prints its table's rows as
# "LABEL<TAB>SOCKIT<TAB>BETTER", BETTER being the script's higher/lower, or "higher" where the
# script says nothing (echo.sh: every figure but memory is a rate).
one_run() {
  local name=$1 build=$2 width out=$tmp/run.out status=0
  width=$(label_width "$name")
  echo "  $name $build" >&2
  ROUNDS=1 REPEATS=1 timeout -k 10 1800 bash "$here/$name" "$build" >"$out" 2>"$tmp/run.err" ||
    status=$?
  if ((status != 0)); then
    echo "versus.sh: $name $build failed (status $status)" >&2
    tail -n 20 "$tmp/run.err" >&2
  fi
  awk -v w="$width" '
    /^scenario / { table = 1; next }
    table && length($0) > w {
      label = substr($0, 1, w); sub(/ +$/, "", label)
      split(substr($0, w + 1), rest, " ")
      better = ($NF == "higher" || $NF == "lower") ? $NF : (label ~ /KiB\/conn/ ? "lower" : "higher")
      printf "%s\t%s\t%s\n", label, rest[1], better
    }' "$out"
}

declare -A old_runs new_runs way
labels=()

remember() {
  local side=$1 label figure better
  while IFS=$'\t' read -r label figure better; do
    [[ -n ${way[$label]:-} ]] || labels+=("$label")
    way[$label]=$better
    [[ $figure =~ ^[0-9.]+$ ]] || figure=ERR
    if [[ $side == old ]]; then
      old_runs[$label]+="$figure"$'\n'
    else
      new_runs[$label]+="$figure"$'\n'
    fi
  done
}

echo "machine: $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)," \
  "Linux $(uname -r); $rounds rounds; old $old, new $new"
for name in "${scripts[@]}"; do
  for ((round = 0; round < rounds; round++)); do
    echo "$name round $((round + 1))" >&2
    if ((round % 2 == 0)); then
      remember old < <(one_run "$name" "$old")
      remember new < <(one_run "$name" "$new")
    else
      remember new < <(one_run "$name" "$new")
      remember old < <(one_run "$name" "$old")
    fi
  done
done

printf '%-72s %10s %10s %6s %18s  %s\n' scenario old new ratio "in rounds" better
for label in "${labels[@]}"; do
  o=${old_runs[$label]:-ERR} n=${new_runs[$label]:-ERR}
  o=${o%$'\n'} n=${n%$'\n'}
  om=$(median <<<"$o") nm=$(median <<<"$n")
  printf '%-72s %10s %10s %6s %18s  %s\n' "$label" "$om" "$nm" "$(ratio "$nm" "$om")" \
    "$(round_ratios "$n" "$o")" "${way[$label]}"
done
