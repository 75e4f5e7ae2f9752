#!/bin/sh
# What a request policy costs: `ninep serve` with a 20-rule policy (bench/policy/rules20.txt, none
# of which matches the benchmark's requests, so each runs through all 20 to the catch-all; the
# server runs it in the JIT) against the same server without one, under the same client load
# (bench/9p's bench_9p, msize 64 KiB), in one run. Each figure is the median of RUNS runs (default
# 5; this machine's runs are bimodal, more help), the two servers taking turns in alternating
# order. Change = with the policy against without, in the figure's own direction: negative means
# the policy makes it slower. A/A = a second server without a policy against the first: the
# change this machine's noise alone shows, the yardstick for the change column. Then bench_policy:
# the cost per request in ns (record encoding and the program) and per listed entry, in the
# interpreter and the JIT.
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
mkdir "$tmp/with" "$tmp/without" "$tmp/control"
"$ninep" serve --export "x=$tmp/with,policy=$rules" --listen "unix:$tmp/with.sock" \
  --no-root-squash 2>"$tmp/with.log" &
with_pid=$!
"$ninep" serve "$tmp/without" --listen "unix:$tmp/without.sock" --no-root-squash \
  2>"$tmp/without.log" &
without_pid=$!
"$ninep" serve "$tmp/control" --listen "unix:$tmp/control.sock" --no-root-squash \
  2>"$tmp/control.log" &
control_pid=$!
trap 'kill $with_pid $without_pid $control_pid 2>/dev/null; wait $with_pid $without_pid $control_pid 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
for s in with without control; do wait_socket "$s" "$tmp/$s.sock" "$tmp/$s.log"; done
echo "bench_9p against ninep serve with a 20-rule policy and without, $(nproc) CPUs," \
  "load $(cut -d' ' -f1-3 /proc/loadavg)"

CONTROL=control compare "${RUNS:-5}" "$tmp" without with "no policy" "20 rules" "$@"
echo
"$per_request" "$rules" | tee "$tmp/per_request"

# The policy's own time as a share of each figure with the policy (the JIT's ns per request times
# the judged requests the figure counts, plus ns per entry for a listing), where the throughput
# change above is as noisy as the A/A column says. Judged requests, as bench_9p makes them: walk
# and getattr per walk op (clunks are not judged); one Twrite or Tread per 65513 bytes; clone,
# lcreate and write per created file; walk, open and one Treaddir per ~1800 entries (+1) for the
# listing. Names: bench_9p's readdir lists entry-NNNNNN (not what bench_policy's host names are).
awk -v jit_ns="$(awk '/^JIT .*per request/ {print $2}' "$tmp/per_request")" \
    -v entry_ns="$(awk '/^JIT .*per listed entry/ {print $2}' "$tmp/per_request")" -F'|' '
  BEGIN { printf "\npolicy share of each figure (JIT %s ns per request, %s ns per listed entry):\n", jit_ns, entry_ns }
  {
    name = $1; x = $2 + 0; share = -1
    if (name ~ /^walk/) share = 2 * jit_ns * x * 1e-9
    else if (name ~ /^sequential/) { match(name, /[0-9]+ MiB/); mib = substr(name, RSTART) + 0; share = (mib * 1048576 / 65513 + 1) * jit_ns * x / mib * 1e-9 }
    else if (name ~ /^create/) share = 3 * jit_ns * x * 1e-9
    else if (name ~ /^readdir/) { match(name, /[0-9]+ entries/); n = substr(name, RSTART) + 0; share = (n * entry_ns + (n / 1800 + 3) * jit_ns) / (x * 1e6) }
    if (share >= 0) printf "%-42s %8.2f%%\n", name, share * 100
  }' "$tmp/a"
