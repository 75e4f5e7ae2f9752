#!/bin/sh
# What the server's confinement costs: `ninep serve` as it runs by default (its sandbox, and its
# seccomp filter) against the same server with both off (--sandbox none --seccomp none), under the
# same client load (bench/9p's bench_9p, msize 64 KiB), in one run. Each figure is the median of
# 5 runs, the two servers taking turns in alternating order. Change = confined against
# unconfined, in the figure's own direction: negative means confinement is slower.
#
# usage: bench/9p_server/confinement.sh [BUILD_DIR] [bench_9p options...]   (default: build)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/common.sh"  # need_built, wait_socket, compare
build=${1:-"$here/../../build"}
[ $# -gt 0 ] && shift
need_built "$build"

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ninep-bench-confinement.XXXXXX")
mkdir "$tmp/on" "$tmp/off"
"$ninep" serve "$tmp/on" --listen "unix:$tmp/on.sock" --no-root-squash -v 2>"$tmp/on.log" &
on_pid=$!
"$ninep" serve "$tmp/off" --listen "unix:$tmp/off.sock" --no-root-squash --sandbox none \
  --seccomp none -v 2>"$tmp/off.log" &
off_pid=$!
trap 'kill $on_pid $off_pid 2>/dev/null; wait $on_pid $off_pid 2>/dev/null; rm -rf "$tmp"' EXIT INT TERM
for s in on off; do wait_socket "$s" "$tmp/$s.sock" "$tmp/$s.log"; done
echo "bench_9p against ninep serve confined and not, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
grep -h -E "sandbox:|seccomp" "$tmp/on.log" "$tmp/off.log" | sed 's/^/  /'

compare 5 "$tmp" off on "unconfined" "confined" "$@"
