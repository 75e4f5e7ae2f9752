#!/bin/sh
# Our server against diod under the same client load (bench/9p's bench_9p), in one run: both on
# unix sockets in a temporary directory, both at msize 64 KiB (diod's maximum), and ours again at
# its default msize (1 MiB). Each figure is the median of 5 runs; the three targets take turns
# run by run, in a rotating order, so that a change in machine load or file-system state hits
# all columns alike. Ratio = ours / diod at the same msize, for "higher is better" figures, and
# diod / ours for times: above 1 means our server is faster.
#
# With --csv FILE, the medians also go to FILE in bench/plot.sh's format.
#
# usage: bench/9p_server/run.sh [--csv FILE] [BUILD_DIR] [bench_9p options...]
#        (default BUILD_DIR: build)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../csv_option.sh"  # --csv FILE, anywhere
. "$here/common.sh"         # need_built, wait_socket, medians
build=${1:-"$here/../../build"}
[ $# -gt 0 ] && shift
need_built "$build"
diod=$(command -v diod || echo /usr/sbin/diod)
[ -x "$diod" ] || { echo "run.sh: diod is not installed" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ninep-bench-server.XXXXXX")
mkdir "$tmp/ours" "$tmp/diod"
"$ninep" serve "$tmp/ours" --listen "unix:$tmp/ours.sock" --no-root-squash 2>"$tmp/ours.log" &
ours_pid=$!
"$diod" -f -n -c /dev/null -e "$tmp/diod" -l "$tmp/diod.sock" -L "$tmp/diod.log" &
diod_pid=$!
trap 'kill $ours_pid $diod_pid 2>/dev/null; wait $ours_pid $diod_pid 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
for s in ours diod; do wait_socket "$s" "$tmp/$s.sock" "$tmp/$s.log"; done

echo "bench_9p against diod $(dpkg-query -W -f '${Version}' diod 2>/dev/null || true) and ninep serve," \
  "$(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
runs=5
for w in walk write create readdir; do
  i=0
  while [ $i -lt $runs ]; do
    # The order rotates: a target's deletes slow the next one's creates (ext4 scans recently
    # deleted inodes when it allocates), so no target may always go first.
    for k in 0 1 2; do
      case $(((i + k) % 3)) in
        0) "$bench" --runs 1 --only "$w" --msize 65536 --aname "$tmp/diod" "$@" "unix:$tmp/diod.sock" >>"$tmp/diod.txt" ;;
        1) "$bench" --runs 1 --only "$w" --msize 65536 "$@" "unix:$tmp/ours.sock" >>"$tmp/ours64.txt" ;;
        2) "$bench" --runs 1 --only "$w" --msize 1048576 "$@" "unix:$tmp/ours.sock" >>"$tmp/ours1m.txt" ;;
      esac
    done
    i=$((i + 1))
  done
done

medians "$tmp/diod.txt" >"$tmp/d"
medians "$tmp/ours64.txt" >"$tmp/o"
medians "$tmp/ours1m.txt" >"$tmp/m"
printf '\n%-42s %-8s %12s %12s %8s %14s\n' "workload" "unit" "diod 64K" "ours 64K" "ratio" "ours 1M"
paste -d'|' "$tmp/d" "$tmp/o" "$tmp/m" | awk -F'|' '{
  ratio = ($3 == "ms") ? ($2 / $5) : ($5 / $2);
  printf "%-42s %-8s %12.1f %12.1f %7.2fx %14.1f\n", $1, $3, $2, $5, ratio, $8
}'

if [ -n "$csv" ]; then
  {
    echo "# title: 9P server: bench_9p on a unix socket, ninep serve vs diod"
    echo "# baseline: diod 64K"
    echo "# machine: $(nproc) CPUs, $(date -u +%F), median of $runs runs"
    echo "workload,unit,better,target,value"
    paste -d'|' "$tmp/d" "$tmp/o" "$tmp/m" | awk -F'|' '{
      gsub(/,/, ";", $1); better = ($3 == "ms") ? "lower" : "higher"
      printf "%s,%s,%s,diod 64K,%s\n%s,%s,%s,ours 64K,%s\n%s,%s,%s,ours 1M,%s\n",
        $1, $3, better, $2, $1, $3, better, $5, $1, $3, better, $8
    }'
  } >"$csv"
  echo "run.sh: wrote $csv"
fi
