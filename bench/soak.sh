#!/bin/sh
# Soak: the load mix of bench/load (bench_load: C connections x D requests in flight, walk,
# getattr, open, read, write, create, readdir, remove, clunk over a tree, several uids) and an
# fsx-style run over a FUSE mount of the same export (bench_fsx: random writes, truncates, reads
# checked against a model), together against one `ninep serve` for MINUTES. Prints bench_load's
# report (ops/s, p50/p99/p99.9 per request, errors), the fsx summary, the server's resident
# memory once a minute (a leak shows as growth), and its descriptors (before, peak, after) and
# memory (before, peak, after) once everything has disconnected.
# Exit status 1 on any load error, fsx mismatch or failed call, or descriptors not back.
#
# usage: bench/soak.sh [-m MINUTES] [-c CONNECTIONS] [-d DEPTH] [BUILD_DIR]
#   -m  minutes (default 10)
#   -c  load connections (default 64)
#   -d  requests in flight per connection (default 32)
#   BUILD_DIR  a build with ninep, bench_load and bench_fsx (default: build)
# Needs root (FUSE mount, per-uid directories) and /dev/fuse.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/9p_server/common.sh" # wait_socket
usage() { sed -n '11,15p' "$0" >&2; exit 2; }
minutes=10 conns=64 depth=32 build=""
while [ $# -gt 0 ]; do
  case $1 in
    -m | -c | -d)
      [ $# -ge 2 ] || usage
      case $2 in '' | *[!0-9]* | 0) echo "soak.sh: $1 needs a positive number" >&2; exit 2 ;; esac
      case $1 in -m) minutes=$2 ;; -c) conns=$2 ;; -d) depth=$2 ;; esac
      shift 2 ;;
    -*) usage ;;
    *) [ -z "$build" ] || usage; build=$1; shift ;;
  esac
done
build=${build:-"$here/../build"}
ninep="$build/tools/ninep/ninep"
load="$build/bench/load/bench_load"
fsx="$build/bench/fsx/bench_fsx"
for b in "$ninep" "$load" "$fsx"; do
  [ -x "$b" ] || { echo "soak.sh: $b is not built (targets: ninep bench_load bench_fsx)" >&2; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "soak.sh: needs root" >&2; exit 1; }
[ -e /dev/fuse ] || { echo "soak.sh: no /dev/fuse" >&2; exit 1; }
uids=1,2,3,65534
secs=$((minutes * 60))

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ninep-soak.XXXXXX")
chmod 755 "$tmp"
mnt="$tmp/mnt"
pids=""
mounted() { awk -v m="$1" '$2 == m { f = 1 } END { exit !f }' /proc/mounts; }
cleanup() {
  if mounted "$mnt"; then "$ninep" umount "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true; fi
  for p in $pids; do kill "$p" 2>/dev/null || true; done
  for p in $pids; do wait "$p" 2>/dev/null || true; done
  mounted "$mnt" || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

mkdir -m 755 "$tmp/export" "$mnt"
"$load" --make-tree "$tmp/export" --uids "$uids"
mkdir -m 1777 "$tmp/export/fsx" # root is squashed: the mount writes as the anonymous uid
"$ninep" serve "$tmp/export" --listen "unix:$tmp/sock" 2>"$tmp/serve.log" &
srv=$!
pids=$srv
wait_socket ninep "$tmp/sock" "$tmp/serve.log"
fds() { ls "/proc/$srv/fd" | wc -l; }
rss_kib() { awk '$1 == "VmRSS:" { print $2 }' "/proc/$srv/status"; }
fds_before=$(fds) rss_before=$(rss_kib)

"$ninep" mount --via fuse "unix:$tmp/sock" "$mnt" 2>"$tmp/mount.log" &
pids="$! $pids"
i=0
until mounted "$mnt"; do
  i=$((i + 1))
  [ $i -le 500 ] || { echo "soak.sh: the mount did not come up:" >&2; cat "$tmp/mount.log" >&2; exit 1; }
  sleep 0.01
done

echo "soak: ${minutes} min of ${conns} connections x ${depth} in flight plus fsx over a FUSE mount," \
  "one ninep serve, $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$fsx" --dir "$mnt/fsx" --seconds "$secs" >"$tmp/fsx.out" 2>"$tmp/fsx.err" &
fsx_pid=$!
# The server's descriptors every second (for the peak) and its memory once a minute, while the
# two run (the baseline is from before the mount).
(
  t=0
  while :; do
    sleep 1
    t=$((t + 1))
    fds >>"$tmp/fds"
    [ $((t % 60)) != 0 ] || echo "minute $((t / 60)): server RSS $(($(rss_kib) / 1024)) MiB, $(fds) descriptors" >>"$tmp/samples"
  done
) &
sampler=$!
pids="$sampler $pids"
failed=0
"$load" --uids "$uids" -c "$conns" -d "$depth" -t "$secs" "unix:$tmp/sock" || failed=1
wait "$fsx_pid" || failed=1
kill "$sampler" 2>/dev/null || true
wait "$sampler" 2>/dev/null || true
echo
cat "$tmp/fsx.out"
head -20 "$tmp/fsx.err"
[ ! -f "$tmp/samples" ] || cat "$tmp/samples"

"$ninep" umount "$mnt" || failed=1
# The server's descriptors come back to the baseline once the mount's connection has ended.
i=0
while [ "$(fds)" -ne "$fds_before" ] && [ $i -lt 100 ]; do
  i=$((i + 1))
  sleep 0.05
done
fds_after=$(fds)
echo "server after everything disconnected: descriptors $fds_before before, $(sort -n "$tmp/fds" | tail -1) peak," \
  "$fds_after after;" \
  "RSS $((rss_before / 1024)) MiB before, $(($(rss_kib) / 1024)) MiB after," \
  "peak $(($(awk '$1 == "VmHWM:" { print $2 }' "/proc/$srv/status") / 1024)) MiB"
[ "$fds_after" -eq "$fds_before" ] || { echo "soak.sh: descriptors not back to the baseline" >&2; failed=1; }
kill -0 "$srv" 2>/dev/null || { echo "soak.sh: the server died" >&2; failed=1; }
[ "$failed" = 0 ] && echo "soak: passed" || echo "soak: FAILED"
exit "$failed"
