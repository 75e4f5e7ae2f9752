#!/bin/sh
# Runs bench_9p against diod serving a fresh temporary directory over a unix socket.
# With --csv FILE (anywhere on the command line), the medians bench_9p prints also go to FILE in
# bench/plot.sh's format (one target: diod).
# usage: bench/9p/run_diod.sh [--csv FILE] [BENCH_9P_BINARY] [bench_9p options...]
# (default binary: build/bench/9p/bench_9p; default --runs 5)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../csv_option.sh"  # --csv FILE, anywhere
bench=${1:-"$here/../../build/bench/9p/bench_9p"}
[ $# -gt 0 ] && shift
[ -x "$bench" ] || { echo "run_diod.sh: $bench is not built (cmake --build ... --target bench_9p)" >&2; exit 1; }
diod=$(command -v diod || echo /usr/sbin/diod)
[ -x "$diod" ] || { echo "run_diod.sh: diod is not installed" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ninep-bench-diod.XXXXXX")
mkdir "$tmp/export"
"$diod" -f -n -c /dev/null -e "$tmp/export" -l "$tmp/diod.sock" -L "$tmp/diod.log" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
i=0
while [ ! -S "$tmp/diod.sock" ]; do
  i=$((i + 1))
  [ $i -le 500 ] || { echo "run_diod.sh: diod did not start:" >&2; cat "$tmp/diod.log" >&2; exit 1; }
  sleep 0.01
done
echo "diod $(dpkg-query -W -f '${Version}' diod 2>/dev/null || true) exporting $tmp/export"
if [ -z "$csv" ]; then
  "$bench" --runs 5 --aname "$tmp/export" "$@" "unix:$tmp/diod.sock"
  exit 0
fi
"$bench" --runs 5 --aname "$tmp/export" "$@" "unix:$tmp/diod.sock" >"$tmp/out"
cat "$tmp/out"
# The header line names the runs; result lines: a 44-column name, the median, the unit, [min - max].
runs=$(sed -n 's/.* runs=\([0-9]*\).*/\1/p' "$tmp/out" | head -1)
{
  echo "# title: 9P server: bench_9p against diod on a unix socket"
  echo "# baseline: diod"
  echo "# machine: $(nproc) CPUs, $(date -u +%F), median of ${runs:-5} runs"
  echo "workload,unit,better,target,value"
  sed -n -E 's/^(.{44}) +([0-9.]+) ([a-zA-Z/]+) +\[.*$/\1|\2|\3/p' "$tmp/out" | sed -E 's/ +\|/|/' |
    awk -F'|' '{ gsub(/,/, ";", $1); printf "%s,%s,%s,diod,%s\n", $1, $3, ($3 == "ms") ? "lower" : "higher", $2 }'
} >"$csv"
echo "run_diod.sh: wrote $csv"
