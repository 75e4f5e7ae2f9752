#!/bin/sh
# Small-request latency and CPU cost, in one table from one sitting: the floor (a 64-byte
# ping-pong between two processes over a unix socketpair, blocking and polling), Tgetattr round
# trips and serial walk+getattr+clunk under bench_9p, stat() through FUSE mounts
# (`ninep mount --via fuse --cache none`), the CPU seconds a server and its client spend per
# 10000 operations, and the CPU an idle FUSE mount costs.
#
# Targets: "ours" is `ninep serve` and its client at their default --poll-us (50), "ours poll 0"
# is both with --poll-us 0 (no polling: the behaviour before adaptive polling), "diod" is diod
# (its client, bench_9p or the FUSE daemon, polls at the default), "diod client poll 0" is diod
# with bench_9p --poll-us 0 (the client as it was before adaptive polling), "local" is the local
# directory and "FUSE floor" a FUSE file system answered from memory by the mount's request loop
# (bench_fusefloor): what a FUSE stat costs with a server that takes no time.
# Each figure is the median of RUNS runs; within a workload the targets take turns run by run, in
# a rotating order (as in bench/9p_server/run.sh), so that a change in machine load hits all
# targets alike. The last lines are the ratios we check, with their targets.
#
# With --csv FILE, the medians and those ratios also go to FILE in bench/README.md's format (a
# record: the rows have no common baseline and idle CPU is about 0, so bench/plot.sh cannot
# chart it).
#
# usage: bench/latency/run.sh [--csv FILE] [--runs N] [--ops N] [--idle-s S] [BUILD_DIR]
#   --runs N    runs of each workload and target, the median is printed (default 5)
#   --ops N     round trips, requests or stat() calls per run (default 20000; a fifth of it
#               for the stat() of a/b/f)
#   --idle-s S  how long the idle FUSE mount is watched (default 10)
#   BUILD_DIR   a build with ninep, bench_9p, bench_pingpong, bench_statloop and bench_fusefloor
#               (default: build)
# Needs root (FUSE mounts), /dev/fuse and diod.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../csv_option.sh"         # --csv FILE, anywhere
. "$here/../9p_server/common.sh"   # need_built, wait_socket, medians
usage() { sed -n '22,28p' "$0" >&2; exit 2; }
runs=5 ops=20000 idle=10 build=""
while [ $# -gt 0 ]; do
  case $1 in
    --runs | --ops | --idle-s)
      [ $# -ge 2 ] || usage
      case $2 in '' | *[!0-9]*) echo "run.sh: $1 needs a positive number" >&2; exit 2 ;; esac
      [ "$2" -gt 0 ] || { echo "run.sh: $1 needs a positive number" >&2; exit 2; }
      case $1 in --runs) runs=$2 ;; --ops) ops=$2 ;; --idle-s) idle=$2 ;; esac
      shift 2 ;;
    -*) usage ;;
    *) [ -z "$build" ] || usage; build=$1; shift ;;
  esac
done
build=${build:-"$here/../../build"}
need_built "$build"
pingpong="$build/bench/latency/bench_pingpong"
statloop="$build/bench/latency/bench_statloop"
fusefloor="$build/bench/latency/bench_fusefloor"
for b in "$pingpong" "$statloop" "$fusefloor"; do
  [ -x "$b" ] || {
    echo "run.sh: $b is not built (targets: bench_pingpong bench_statloop bench_fusefloor)" >&2
    exit 1
  }
done
diod=$(command -v diod || echo /usr/sbin/diod)
[ -x "$diod" ] || { echo "run.sh: diod is not installed" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "run.sh: needs root (FUSE mounts)" >&2; exit 1; }
[ -e /dev/fuse ] || { echo "run.sh: no /dev/fuse" >&2; exit 1; }
tck=$(getconf CLK_TCK)
# A stat() of a/b/f through FUSE with cache=none is several round trips (a lookup of each name, a
# getattr): a fifth as many calls keep its time near the others'.
deep_ops=$(((ops + 4) / 5))

tmp=$(mktemp -d "${TMPDIR:-/tmp}/ninep-bench-latency.XXXXXX")
pids="" mounts=""
mounted() { awk -v m="$1" '$2 == m { f = 1 } END { exit !f }' /proc/mounts; }
# Unmounts first (a mount's daemon then ends by itself), then ends the servers and daemons we
# started, by their process ids; a mount that will not go is detached lazily, so that rm never
# walks into it.
cleanup() {
  for m in $mounts; do
    if mounted "$m"; then
      "$ninep" umount "$m" 2>/dev/null || "$ninep" umount -l "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
    fi
  done
  for p in $pids; do kill "$p" 2>/dev/null || true; done
  for p in $pids; do wait "$p" 2>/dev/null || true; done
  for m in $mounts; do
    ! mounted "$m" || echo "run.sh: could not unmount $m" >&2
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# The exports: each with a file two directories down; local is the local-directory target.
for t in ours ours0 diod local; do
  mkdir -p "$tmp/$t/a/b"
  : >"$tmp/$t/a/b/f"
done
"$ninep" serve "$tmp/ours" --listen "unix:$tmp/ours.sock" --no-root-squash 2>"$tmp/ours.log" &
srv_ours=$!
"$ninep" serve "$tmp/ours0" --listen "unix:$tmp/ours0.sock" --no-root-squash --poll-us 0 \
  2>"$tmp/ours0.log" &
srv_ours0=$!
"$diod" -f -n -c /dev/null -e "$tmp/diod" -l "$tmp/diod.sock" -L "$tmp/diod.log" &
srv_diod=$!
srv_diod0=$srv_diod
pids="$srv_ours $srv_ours0 $srv_diod"
for s in ours ours0 diod; do wait_socket "$s" "$tmp/$s.sock" "$tmp/$s.log"; done

# mount_fuse NAME [ninep mount options...]: mounts server NAME on $tmp/mnt-NAME, cache=none, with
# the FUSE daemon in the foreground of a background job (its pid: $fuse_NAME). NAME floor is the
# FUSE floor's file system instead.
mount_fuse() {
  _name=$1
  shift
  _mnt="$tmp/mnt-$_name"
  mkdir "$_mnt"
  mounts="$mounts $_mnt"
  if [ "$_name" = floor ]; then
    "$fusefloor" "$_mnt" 2>"$tmp/mnt-$_name.log" &
  else
    "$ninep" mount --via fuse --cache none "$@" "unix:$tmp/$_name.sock" "$_mnt" 2>"$tmp/mnt-$_name.log" &
  fi
  _pid=$!
  pids="$_pid $pids"
  eval "fuse_$_name=$_pid"
  _i=0
  until mounted "$_mnt"; do
    _i=$((_i + 1))
    if [ $_i -gt 500 ] || ! kill -0 "$_pid" 2>/dev/null; then
      echo "run.sh: the FUSE mount of $_name did not come up:" >&2
      cat "$tmp/mnt-$_name.log" >&2
      exit 1
    fi
    sleep 0.01
  done
}
mount_fuse ours
mount_fuse ours0 --poll-us 0
mount_fuse diod --aname "$tmp/diod"
mount_fuse floor

# cpu PID: the user+sys CPU time of process PID so far, in clock ticks (every thread, living or
# ended). The fields after the ") " closing the command name start at the 3rd.
cpu() { sed 's/.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
# per10k TICKS: seconds per 10000 operations of a run of $ops; secs TICKS: seconds.
per10k() { awk -v t="$1" -v k="$tck" -v n="$ops" 'BEGIN { printf "%.3f\n", t / k / n * 10000 }'; }
secs() { awk -v t="$1" -v k="$tck" 'BEGIN { printf "%.2f\n", t / k }'; }
# med FILE: the median of the numbers in FILE, one a line (the lower one of an even count).
med() { sort -g "$1" | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }
# rotated I WORD...: the words, rotated left by I (mod their count).
rotated() {
  _r=$(($1 % ($# - 1)))
  shift
  while [ $_r -gt 0 ]; do
    set -- "$@" "$1"
    shift
    _r=$((_r - 1))
  done
  echo "$@"
}
# each WORKLOAD TARGET...: runs `WORKLOAD TARGET` for every target, $runs times, rotating.
each() {
  _w=$1
  shift
  _run=0
  while [ $_run -lt "$runs" ]; do
    for _t in $(rotated $_run "$@"); do "$_w" "$_t"; done
    _run=$((_run + 1))
  done
}

# ---- workloads: each appends one run's figures to $tmp/r.FIGURE.TARGET ----
w_pingpong() {  # blocking | polling
  case $1 in blocking) _p=0 ;; polling) _p=50 ;; esac
  "$pingpong" --poll-us "$_p" --size 64 --ops "$ops" >>"$tmp/r.pp.$1"
}
# bench9p TARGET bench_9p-options...: bench_9p --runs 1 against TARGET (ours | ours0 | diod |
# diod0).
bench9p() {
  _bt=$1
  shift
  case $_bt in
    ours) "$bench" --runs 1 "$@" "unix:$tmp/ours.sock" ;;
    ours0) "$bench" --runs 1 --poll-us 0 "$@" "unix:$tmp/ours0.sock" ;;
    diod) "$bench" --runs 1 --aname "$tmp/diod" "$@" "unix:$tmp/diod.sock" ;;
    diod0) "$bench" --runs 1 --poll-us 0 --aname "$tmp/diod" "$@" "unix:$tmp/diod.sock" ;;
  esac
}
w_getattr() {  # also the CPU of the server and of bench_9p
  eval "_srv=\$srv_$1"
  _c0=$(cpu "$_srv")
  bench9p "$1" --only getattr --getattr-ops "$ops" --cpu >"$tmp/out"
  _c1=$(cpu "$_srv")
  grep '^Tgetattr' "$tmp/out" >>"$tmp/b.getattr.$1"
  per10k $((_c1 - _c0)) >>"$tmp/r.getattr-srv.$1"
  awk -v n="$ops" '$1 == "cpu:" { printf "%.3f\n", $2 / n * 10000 }' "$tmp/out" >>"$tmp/r.getattr-cli.$1"
}
w_walk() { bench9p "$1" --only walk --walk-ops "$ops" | grep '^walk+getattr+clunk serial' >>"$tmp/b.walk.$1"; }
w_stat() {  # local | floor | ours | ours0 | diod; on a mount, also the CPU of the server and FUSE daemon
  if [ "$1" = floor ]; then
    "$statloop" "$tmp/mnt-floor" "$ops" >>"$tmp/r.stat-root.$1"
    return
  fi
  if [ "$1" = local ]; then
    "$statloop" "$tmp/local" "$ops" >>"$tmp/r.stat-root.$1"
    "$statloop" "$tmp/local/a/b/f" "$deep_ops" >>"$tmp/r.stat-deep.$1"
    return
  fi
  eval "_srv=\$srv_$1 _fuse=\$fuse_$1"
  _s0=$(cpu "$_srv") _f0=$(cpu "$_fuse")
  "$statloop" "$tmp/mnt-$1" "$ops" >>"$tmp/r.stat-root.$1"
  _s1=$(cpu "$_srv") _f1=$(cpu "$_fuse")
  "$statloop" "$tmp/mnt-$1/a/b/f" "$deep_ops" >>"$tmp/r.stat-deep.$1"
  per10k $((_s1 - _s0)) >>"$tmp/r.stat-srv.$1"
  per10k $((_f1 - _f0)) >>"$tmp/r.stat-fuse.$1"
}

echo "latency: ninep serve vs diod $(dpkg-query -W -f '${Version}' diod 2>/dev/null || true)," \
  "$(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg), median of $runs run(s) of $ops ops"
each w_pingpong blocking polling
each w_getattr ours ours0 diod diod0
each w_walk ours ours0 diod diod0
each w_stat ours ours0 diod local floor

# Idle: every mount stays attached and unused; what do the servers and FUSE daemons spend?
for t in ours ours0 diod; do
  eval "_srv=\$srv_$t _fuse=\$fuse_$t"
  cpu "$_srv" >"$tmp/idle0-srv.$t"
  cpu "$_fuse" >"$tmp/idle0-fuse.$t"
done
sleep "$idle"
for t in ours ours0 diod; do
  eval "_srv=\$srv_$t _fuse=\$fuse_$t"
  secs $(($(cpu "$_srv") - $(cat "$tmp/idle0-srv.$t"))) >"$tmp/r.idle-srv.$t"
  secs $(($(cpu "$_fuse") - $(cat "$tmp/idle0-fuse.$t"))) >"$tmp/r.idle-fuse.$t"
done

# ---- the table: rows "workload|unit|better|target|value" in $tmp/rows ----
: >"$tmp/rows"
row() { [ -z "$5" ] || echo "$1|$2|$3|$4|$5" >>"$tmp/rows"; }
# bench_9p figures through common.sh's medians; a Tgetattr rate becomes microseconds a request.
b9() { medians "$tmp/b.$1.$2" | cut -d'|' -f2; }
for t in blocking polling; do row "socketpair ping-pong 64 B round trip" us lower "$t" "$(med "$tmp/r.pp.$t")"; done
for t in ours ours0 diod diod0; do
  row "Tgetattr round trip" us lower "$t" "$(b9 getattr $t | awk '{ printf "%.2f", 1e6 / $1 }')"
done
for t in ours ours0 diod diod0; do row "walk+getattr+clunk serial" ops/s higher "$t" "$(b9 walk $t)"; done
for t in ours ours0 diod local floor; do
  row "FUSE stat of the root (cache=none)" us lower "$t" "$(med "$tmp/r.stat-root.$t")"
done
for t in ours ours0 diod local; do row "FUSE stat of a/b/f (cache=none)" us lower "$t" "$(med "$tmp/r.stat-deep.$t")"; done
for t in ours ours0 diod diod0; do row "CPU per 10000 Tgetattr: server" s lower "$t" "$(med "$tmp/r.getattr-srv.$t")"; done
for t in ours ours0 diod diod0; do row "CPU per 10000 Tgetattr: bench_9p" s lower "$t" "$(med "$tmp/r.getattr-cli.$t")"; done
for t in ours ours0 diod; do row "CPU per 10000 FUSE stat (root): server" s lower "$t" "$(med "$tmp/r.stat-srv.$t")"; done
for t in ours ours0 diod; do row "CPU per 10000 FUSE stat (root): FUSE daemon" s lower "$t" "$(med "$tmp/r.stat-fuse.$t")"; done
for t in ours ours0 diod; do row "idle CPU in ${idle} s: server" s lower "$t" "$(cat "$tmp/r.idle-srv.$t")"; done
for t in ours ours0 diod; do row "idle CPU in ${idle} s: FUSE daemon" s lower "$t" "$(cat "$tmp/r.idle-fuse.$t")"; done

# value WORKLOAD TARGET: a figure of the table.
value() { awk -F'|' -v w="$1" -v t="$2" '$1 == w && $4 == t { print $5 }' "$tmp/rows"; }
# The ratios we check, in $tmp/ratios: name|unit|better|value|target|limit|met when (le lt ge;
# "-": shown, not checked).
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && b > 0) printf "%.2f", a / b }'; }
floor=$(value "socketpair ping-pong 64 B round trip" polling)
idle_pct=$(awk -v a="$(value "idle CPU in ${idle} s: server" ours)" -v b="$(value "idle CPU in ${idle} s: FUSE daemon" ours)" \
  -v s="$idle" 'BEGIN { printf "%.2f", (a + b) / s * 100 }')
{
  echo "Tgetattr ours / polling floor|x|lower|$(ratio "$(value "Tgetattr round trip" ours)" "$floor")|<= 2x|2|le"
  echo "walk serial ours / diod|x|higher|$(ratio "$(value "walk+getattr+clunk serial" ours)" \
    "$(value "walk+getattr+clunk serial" diod)")|>= 4x|4|ge"
  echo "walk serial ours / diod client poll 0|x|higher|$(ratio "$(value "walk+getattr+clunk serial" ours)" \
    "$(value "walk+getattr+clunk serial" diod0)")|-|-|-"
  echo "FUSE stat root ours / polling floor|x|lower|$(ratio "$(value "FUSE stat of the root (cache=none)" ours)" \
    "$floor")|<= 5x|5|le"
  # What a FUSE stat cannot go below: the FUSE floor plus one Tgetattr round trip.
  echo "FUSE stat root ours / (FUSE floor + Tgetattr)|x|lower|$(ratio \
    "$(value "FUSE stat of the root (cache=none)" ours)" "$(awk -v a="$(value "FUSE stat of the root (cache=none)" floor)" \
    -v b="$(value "Tgetattr round trip" ours)" 'BEGIN { print a + b }')")|-|-|-"
  echo "idle CPU: ours server + FUSE daemon|% of a core|lower|$idle_pct|< 1%|1|lt"
} >"$tmp/ratios"

names() {
  case $1 in
    ours0) echo "ours poll 0" ;;
    diod0) echo "diod client poll 0" ;;
    floor) echo "FUSE floor" ;;
    *) echo "$1" ;;
  esac
}
printf '\n%-44s %-20s %12s  %s\n' "measurement" "target" "value" "unit"
while IFS='|' read -r w u b t v; do
  printf '%-44s %-20s %12s  %s\n' "$w" "$(names "$t")" "$v" "$u"
done <"$tmp/rows"
printf '\n%-48s %12s  %-12s %s\n' "checked ratio" "value" "target" "met"
while IFS='|' read -r w u b v text limit op; do
  ok=$(awk -v v="$v" -v l="$limit" -v op="$op" 'BEGIN {
    if (v == "") { print "n/a"; exit }
    if (op == "-") { print "-"; exit }
    m = (op == "le") ? (v <= l) : (op == "lt") ? (v < l) : (v >= l); print m ? "yes" : "NO" }')
  printf '%-48s %12s  %-12s %s\n' "$w" "$v" "$text" "$ok"
done <"$tmp/ratios"

if [ -n "$csv" ]; then
  {
    echo "# title: Latency and CPU: ninep serve (poll 50 us and poll 0) vs diod, ping-pong floor, FUSE stat"
    echo "# baseline: ours"
    echo "# machine: $(nproc) CPUs, $(date -u +%F), median of $runs runs"
    echo "workload,unit,better,target,value"
    while IFS='|' read -r w u b t v; do
      echo "$(echo "$w" | tr , ';'),$u,$b,$(names "$t"),$v"
    done <"$tmp/rows"
    while IFS='|' read -r w u b v text limit op; do
      [ -z "$v" ] || echo "$(echo "$w" | tr , ';'),$u,$b,ours,$v"
    done <"$tmp/ratios"
  } >"$csv"
  echo "run.sh: wrote $csv"
fi
