#!/bin/sh
# Our server and diod under the same load, in one run: bench_load's C connections x D requests
# in flight for T seconds (walk, getattr, open, read, write, create, readdir, remove, clunk over a
# tree of a few directories of 4 KiB - 1 MiB files, connections attaching as uids 1, 2, 3 and
# 65534, each writing in a directory of its own), against `ninep serve` and against diod, both
# run as root on unix sockets in a temporary directory, each over its own copy of the tree.
# With several runs the two take turns, in a rotating order, and the table shows medians.
#
# The table: ops/s and p50/p99/p99.9 latency per request type and in total, errors (there must
# be none: the mix is collision-free by design), and per server its descriptors (/proc/PID/fd:
# before the clients connect, the peak while they run, after they disconnect, and whether that
# is back to the baseline) and resident memory (VmRSS before and after, VmHWM as the peak).
# Exit status 1 when any run had errors.
#
# With --csv FILE, the medians also go to FILE in bench/README.md's format (baseline: diod).
#
# usage: bench/load/run.sh [--csv FILE] [-c CONNECTIONS] [-d DEPTH] [-t SECONDS] [-r RUNS]
#                          [BUILD_DIR] [-- bench_load options...]
#   -c  connections (default $LOAD_CONNECTIONS or 64)
#   -d  requests in flight per connection (default $LOAD_DEPTH or 32)
#   -t  seconds per run (default $LOAD_SECONDS or 60)
#   -r  runs per server (default $LOAD_RUNS or 1)
#   BUILD_DIR  a build with ninep and bench_load (default: build)
# Needs root (the tree's per-uid directories; both servers switch to the attaching uid) and diod.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../csv_option.sh"  # --csv FILE, anywhere
. "$here/../9p_server/common.sh"  # wait_socket
usage() { sed -n '17,23p' "$0" >&2; exit 2; }
conns=${LOAD_CONNECTIONS:-64} depth=${LOAD_DEPTH:-32} secs=${LOAD_SECONDS:-60} runs=${LOAD_RUNS:-1}
build=""
# positive OPTION VALUE: exits unless VALUE is a positive number.
positive() {
  case $2 in '' | *[!0-9]*) echo "run.sh: $1 needs a positive number" >&2; exit 2 ;; esac
  [ "$2" -gt 0 ] || { echo "run.sh: $1 needs a positive number" >&2; exit 2; }
}
while [ $# -gt 0 ]; do
  case $1 in
    -c | -d | -t | -r)
      [ $# -ge 2 ] || usage
      positive "$1" "$2"
      case $1 in -c) conns=$2 ;; -d) depth=$2 ;; -t) secs=$2 ;; -r) runs=$2 ;; esac
      shift 2 ;;
    --) shift; break ;;
    -*) usage ;;
    *) [ -z "$build" ] || usage; build=$1; shift ;;
  esac
done
positive "-c (LOAD_CONNECTIONS)" "$conns"
positive "-d (LOAD_DEPTH)" "$depth"
positive "-t (LOAD_SECONDS)" "$secs"
positive "-r (LOAD_RUNS)" "$runs"
build=${build:-"$here/../../build"}
ninep="$build/tools/ninep/ninep"
load="$build/bench/load/bench_load"
for b in "$ninep" "$load"; do
  [ -x "$b" ] || { echo "run.sh: $b is not built (targets: ninep bench_load)" >&2; exit 1; }
done
diod=$(command -v diod || echo /usr/sbin/diod)
[ -x "$diod" ] || { echo "run.sh: diod is not installed" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "run.sh: needs root" >&2; exit 1; }
uids=1,2,3,65534
# Every fid of diod's may hold a descriptor: C x D of them at once, and more.
# shellcheck disable=SC3045  # dash and bash both have ulimit -n and -H
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ninep-bench-load.XXXXXX")
chmod 755 "$tmp"  # diod works on paths: the uids must be able to reach its export
pids=""
cleanup() {
  for p in $pids; do kill "$p" 2>/dev/null || true; done
  for p in $pids; do wait "$p" 2>/dev/null || true; done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

for t in ours diod; do
  mkdir -m 755 "$tmp/$t"
  "$load" --make-tree "$tmp/$t" --uids "$uids"
done
"$ninep" serve "$tmp/ours" --listen "unix:$tmp/ours.sock" 2>"$tmp/ours.log" &
srv_ours=$!
"$diod" -f -n -c /dev/null -e "$tmp/diod" -l "$tmp/diod.sock" -L "$tmp/diod.log" &
srv_diod=$!
pids="$srv_ours $srv_diod"
for t in ours diod; do wait_socket "$t" "$tmp/$t.sock" "$tmp/$t.log"; done

echo "load: ${conns} connections x ${depth} in flight, ${secs} s, ${runs} run(s) each;" \
  "ninep serve vs diod $(dpkg-query -W -f '${Version}' diod 2>/dev/null || true)," \
  "$(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"
failed=0
# one TARGET RUN: bench_load against TARGET, its report on stdout, its CSV in $tmp/TARGET.RUN.csv.
# Further arguments go to bench_load.
one() {
  _tg=$1 _rn=$2
  shift 2
  case $_tg in
    ours) _pid=$srv_ours _aname="" ;;
    diod) _pid=$srv_diod _aname="$tmp/diod" ;;
  esac
  echo "--- $_tg, run $_rn"
  if ! "$load" -c "$conns" -d "$depth" -t "$secs" --uids "$uids" --watch-pid "$_pid" \
    --aname "$_aname" --csv "$tmp/$_tg.$_rn.csv" "$@" "unix:$tmp/$_tg.sock"; then
    failed=1
  fi
}
run=1
while [ "$run" -le "$runs" ]; do
  if [ $((run % 2)) = 1 ]; then order="ours diod"; else order="diod ours"; fi
  for t in $order; do one "$t" "$run" "$@"; done
  run=$((run + 1))
done
for t in ours diod; do
  kill -0 "$(eval echo "\$srv_$t")" 2>/dev/null || { echo "run.sh: $t is no longer running" >&2; failed=1; }
done

# The medians over the runs, one "target|metric|unit|value" line each: errors are summed and
# "fds back" is the least (any run not back gives no).
for t in ours diod; do
  cat "$tmp/$t".*.csv 2>/dev/null | awk -F, -v t="$t" '
    $1 == "metric" || NF != 3 { next }
    {
      if (!($1 in n)) { order[++k] = $1; unit[$1] = $2 }
      v[$1, ++n[$1]] = $3
    }
    END {
      for (i = 1; i <= k; i++) {
        m = order[i]; c = n[m]
        for (a = 1; a <= c; a++) x[a] = v[m, a] + 0
        for (a = 2; a <= c; a++) { y = x[a]; b = a - 1; while (b >= 1 && x[b] > y) { x[b + 1] = x[b]; b-- }; x[b + 1] = y }
        if (unit[m] == "count" && m ~ /errors$/) { s = 0; for (a = 1; a <= c; a++) s += x[a]; val = s }
        else if (unit[m] == "bool") val = x[1]
        else val = x[int((c + 1) / 2)]
        printf "%s|%s|%s|%s\n", t, m, unit[m], val
      }
    }'
done >"$tmp/medians"

awk -F'|' '
  { val[$1, $2] = $4; if ($1 == "ours" && !($2 in seen)) { seen[$2] = 1; order[++k] = $2 } }
  function g(t, m) { return ((t, m) in val) ? val[t, m] : "-" }
  function f(t, m) { return ((t, m) in val) ? sprintf("%.1f", val[t, m]) : "-" }
  function mib(t, m) { return ((t, m) in val) ? sprintf("%.1f", val[t, m] / 1024) : "-" }
  function line(name, a1, a2, a3, a4, a5, b1, b2, b3, b4, b5) {
    printf "%-10s | %10s %9s %9s %9s %6s | %10s %9s %9s %9s %6s\n", name, a1, a2, a3, a4, a5, b1, b2, b3, b4, b5
  }
  END {
    printf "\n"
    line("", "diod", "", "", "", "", "ours", "", "", "", "")
    line("request", "ops/s", "p50 us", "p99 us", "p99.9 us", "errors", "ops/s", "p50 us", "p99 us", "p99.9 us", "errors")
    for (i = 1; i <= k; i++) {
      m = order[i]
      if (m !~ /^T[a-z]+$/) continue
      line(m, f("diod", m), f("diod", m " p50"), f("diod", m " p99"), f("diod", m " p99.9"), g("diod", m " errors"),
        f("ours", m), f("ours", m " p50"), f("ours", m " p99"), f("ours", m " p99.9"), g("ours", m " errors"))
    }
    line("total", f("diod", "total"), "", "", "", g("diod", "errors"), f("ours", "total"), "", "", "", g("ours", "errors"))
    printf "\n%-34s %22s %22s\n", "server", "diod", "ours"
    printf "%-34s %22s %22s\n", "descriptors before / peak / after",
      g("diod", "server fds before") " / " g("diod", "server fds peak") " / " g("diod", "server fds after"),
      g("ours", "server fds before") " / " g("ours", "server fds peak") " / " g("ours", "server fds after")
    printf "%-34s %22s %22s\n", "descriptors back to baseline",
      (g("diod", "server fds back") == 1 ? "yes" : "NO"), (g("ours", "server fds back") == 1 ? "yes" : "NO")
    printf "%-34s %22s %22s\n", "RSS MiB before / peak / after",
      mib("diod", "server rss before") " / " mib("diod", "server rss peak") " / " mib("diod", "server rss after"),
      mib("ours", "server rss before") " / " mib("ours", "server rss peak") " / " mib("ours", "server rss after")
  }' "$tmp/medians"

if [ -n "$csv" ]; then
  {
    echo "# title: 9P server under load: ${conns} connections x ${depth} in flight, ninep serve vs diod"
    echo "# baseline: diod"
    echo "# machine: $(nproc) CPUs, $(date -u +%F), median of $runs run(s) of ${secs} s"
    echo "workload,unit,better,target,value"
    # Per workload in the order bench_load wrote them: diod's row, then ours.
    awk -F'|' '
      $3 == "ops/s" { row($2 " ops/s", "ops/s", "higher", $1, $4) }
      $3 == "us" && $2 ~ / p99$/ { row($2, "us", "lower", $1, $4) }
      $2 == "server rss peak" { row("server peak RSS", "MiB", "lower", $1, sprintf("%.1f", $4 / 1024)) }
      $2 == "server fds peak" { row("server peak descriptors", "count", "lower", $1, $4) }
      function row(w, u, b, t, v) {
        if (!(w in seen)) { seen[w] = 1; order[++k] = w; unit[w] = u; better[w] = b }
        val[w, t] = v
      }
      END {
        for (i = 1; i <= k; i++)
          for (j = 1; j <= 2; j++) {
            t = (j == 1) ? "diod" : "ours"; w = order[i]
            if ((w, t) in val) printf "%s,%s,%s,%s,%s\n", w, unit[w], better[w], t, val[w, t]
          }
      }' "$tmp/medians"
  } >"$csv"
  echo "run.sh: wrote $csv"
fi
exit "$failed"
