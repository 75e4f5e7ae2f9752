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
. "$here/common.sh"  # need_built, wait_socket, compare
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

compare "${RUNS:-5}" "$tmp" without with "no policy" "20 rules" "$@"
echo
"$per_request" "$rules"
