#!/bin/sh
# What a request policy costs: `ninep serve` with a 20-rule policy (bench/policy/rules20.txt, none
# of which matches the benchmark's requests, so each runs through all 20 to the catch-all; the
# server runs it in the JIT) against the same server without one, under the same client load
# (bench/9p's bench_9p, msize 64 KiB), in one run. Each figure is the median of RUNS runs (default
# 5; this machine's runs are bimodal, more help), the two servers taking turns in alternating
# order. Change = with the policy against without, in the figure's own direction: negative means
# the policy makes it slower. Then bench_policy: the cost per request in ns (record encoding and
# the program) in the interpreter and the JIT.
#
# usage: [RUNS=N] bench/9p_server/policy.sh [BUILD_DIR] [bench_9p options...]   (default: build)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"  # need_built, wait_socket, medians
build=${1:-"$here/../../build"}
[ $# -gt 0 ] && shift
need_built "$build"
rules="$here/../policy/rules20.txt"
per_request="$build/bench/policy/bench_policy"
[ -x "$per_request" ] || { echo "policy.sh: $per_request is not built (target: bench_policy)" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ninep-bench-policy.XXXXXX")
mkdir "$tmp/with" "$tmp/without"
"$ninep" serve --export "x=$tmp/with,policy=$rules" --listen "unix:$tmp/with.sock" \
  --no-root-squash 2>"$tmp/with.log" &
with_pid=$!
"$ninep" serve "$tmp/without" --listen "unix:$tmp/without.sock" --no-root-squash \
  2>"$tmp/without.log" &
without_pid=$!
trap 'kill $with_pid $without_pid 2>/dev/null; wait $with_pid $without_pid 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
for s in with without; do wait_socket "$s" "$tmp/$s.sock" "$tmp/$s.log"; done
echo "bench_9p against ninep serve with a 20-rule policy and without, $(nproc) CPUs," \
  "load $(cut -d' ' -f1-3 /proc/loadavg)"

runs=${RUNS:-5}
for w in walk write create readdir; do
  i=0
  while [ $i -lt $runs ]; do
    for k in 0 1; do
      case $(((i + k) % 2)) in
        0) "$bench" --runs 1 --only "$w" --msize 65536 "$@" "unix:$tmp/with.sock" >>"$tmp/with.txt" ;;
        1) "$bench" --runs 1 --only "$w" --msize 65536 "$@" "unix:$tmp/without.sock" >>"$tmp/without.txt" ;;
      esac
    done
    i=$((i + 1))
  done
done

medians "$tmp/with.txt" >"$tmp/a"
medians "$tmp/without.txt" >"$tmp/b"
printf '\n%-42s %-8s %12s %12s %8s\n' "workload" "unit" "no policy" "20 rules" "change"
paste -d'|' "$tmp/b" "$tmp/a" | awk -F'|' '{
  change = ($3 == "ms") ? ($2 / $5 - 1) * 100 : ($5 / $2 - 1) * 100;
  printf "%-42s %-8s %12.1f %12.1f %+7.1f%%\n", $1, $3, $2, $5, change
}'
echo
"$per_request" "$rules"
