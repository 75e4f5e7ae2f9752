#!/bin/sh
# Our server against diod under the same client load (bench/9p's bench_9p), in one run: both on
# unix sockets in a temporary directory, both at msize 64 KiB (diod's maximum), and ours again at
# its default msize (1 MiB). Workloads are interleaved (diod, ours, ours at 1 MiB, then the next
# workload) so that a change in machine load hits all columns alike. Each figure is bench_9p's
# median of --runs (default 5). Ratio = ours / diod at the same msize, for "higher is better"
# figures, and diod / ours for times: above 1 means our server is faster.
#
# usage: bench/9p_server/run.sh [BUILD_DIR] [bench_9p options...]   (default BUILD_DIR: build)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-"$here/../../build"}
[ $# -gt 0 ] && shift
ninep="$build/tools/ninep/ninep"
bench="$build/bench/9p/bench_9p"
for b in "$ninep" "$bench"; do
  [ -x "$b" ] || { echo "run.sh: $b is not built (targets: ninep bench_9p)" >&2; exit 1; }
done
diod=$(command -v diod || echo /usr/sbin/diod)
[ -x "$diod" ] || { echo "run.sh: diod is not installed" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ninep-bench-server.XXXXXX")
mkdir "$tmp/ours" "$tmp/diod"
"$ninep" serve "$tmp/ours" --listen "unix:$tmp/ours.sock" 2>"$tmp/ours.log" &
ours_pid=$!
"$diod" -f -n -c /dev/null -e "$tmp/diod" -l "$tmp/diod.sock" -L "$tmp/diod.log" &
diod_pid=$!
trap 'kill $ours_pid $diod_pid 2>/dev/null; wait $ours_pid $diod_pid 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
for s in ours diod; do
  i=0
  while [ ! -S "$tmp/$s.sock" ]; do
    i=$((i + 1))
    [ $i -le 500 ] || { echo "run.sh: $s did not start:" >&2; cat "$tmp/$s.log" >&2; exit 1; }
    sleep 0.01
  done
done

echo "bench_9p against diod $(dpkg-query -W -f '${Version}' diod 2>/dev/null || true) and ninep serve," \
  "$(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
for w in walk write create readdir; do
  "$bench" --runs 5 --only "$w" --msize 65536 --aname "$tmp/diod" "$@" "unix:$tmp/diod.sock" >>"$tmp/diod.txt"
  "$bench" --runs 5 --only "$w" --msize 65536 "$@" "unix:$tmp/ours.sock" >>"$tmp/ours64.txt"
  "$bench" --runs 5 --only "$w" --msize 1048576 "$@" "unix:$tmp/ours.sock" >>"$tmp/ours1m.txt"
done

# Result lines: a 44-column name, the median, the unit, [min - max].
extract() {
  sed -n -E 's/^(.{44}) +([0-9.]+) ([a-zA-Z/]+) +\[.*$/\1|\2|\3/p' "$1" | sed -E 's/ +\|/|/'
}
extract "$tmp/diod.txt" >"$tmp/d"
extract "$tmp/ours64.txt" >"$tmp/o"
extract "$tmp/ours1m.txt" >"$tmp/m"
printf '\n%-42s %-8s %12s %12s %8s %14s\n' "workload" "unit" "diod 64K" "ours 64K" "ratio" "ours 1M"
paste -d'|' "$tmp/d" "$tmp/o" "$tmp/m" | awk -F'|' '{
  ratio = ($3 == "ms") ? ($2 / $5) : ($5 / $2);
  printf "%-42s %-8s %12.1f %12.1f %7.2fx %14.1f\n", $1, $3, $2, $5, ratio, $8
}'
