#!/bin/bash
# FUSE mount benchmark (not a test): the same workloads on a local directory and on FUSE mounts
# (`ninep mount --via fuse`) of our server (`ninep serve`) and of diod, each mount in every cache
# mode asked for, printed as times and ratios to local; then how long a change made on the host
# takes to be seen through each mount (bench_change_latency).
#
#   bench/fuse/fuse_bench.sh [-n NINEP] [-r REPEATS] [-c MODES] [-l LATENCY] [-s] [--csv FILE]
#     -n NINEP    the ninep binary (default: build/tools/ninep/ninep)
#     -r REPEATS  runs of each workload; the median is shown (default 3)
#     -c MODES    comma-separated cache modes of the FUSE mounts (default none,loose,auto); a mode
#                 the mount refuses shows n/a
#     -l LATENCY  the bench_change_latency binary (default: build/bench/fuse/bench_change_latency;
#                 the change latency table is skipped when it is missing)
#     -s          small sizes (quick check of the script itself)
#     --csv FILE  also write the workloads' medians to FILE (bench/plot.sh's format; targets
#                 local, ours-MODE, diod-MODE)
# Reading workloads (git status, read, ls -l) are set up on the host side, once per sitting, and
# moved into each run's exported directory before its server starts; once mounted, they run
# twice untimed and once timed: "warm". Writing ones (untar, write, create) work
# through the mount. Each run has a fresh directory, server and mount. Then the change latency:
# 1000 changes (-s: 100) per mount, or as many as fit in 15 s (-s: 5 s): a mount that only sees
# changes once a cache timeout expires makes one change a second.
# Needs root, /dev/fuse, git, tar and (for the diod columns) diod. The default sitting (3 runs, 3
# modes) takes about 13 minutes on 2 CPUs; -s -r 1 under a minute.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
ninep="$here/../../build/tools/ninep/ninep"
latency="$here/../../build/bench/fuse/bench_change_latency"
repeats=3
modes_arg=none,loose,auto
files=10000 small=2000 bigmb=256 untar_files=5000 changes=1000 change_s=15
csv=""
args=()
while [ $# -gt 0 ]; do
  if [ "$1" = --csv ]; then
    [ $# -ge 2 ] || { echo "fuse_bench: --csv needs a FILE" >&2; exit 2; }
    csv=$2
    shift 2
  else
    args+=("$1")
    shift
  fi
done
set -- "${args[@]+"${args[@]}"}"
while getopts "n:r:c:l:s" opt; do
  case $opt in
    n) ninep=$OPTARG ;;
    r) repeats=$OPTARG ;;
    c) modes_arg=$OPTARG ;;
    l) latency=$OPTARG ;;
    s) files=500 small=200 bigmb=16 untar_files=300 changes=100 change_s=5 ;;
    *) sed -n '2,24p' "$0"; exit 2 ;;
  esac
done
IFS=, read -ra modes <<< "$modes_arg"
[ ${#modes[@]} -gt 0 ] || { echo "fuse_bench: -c needs at least one cache mode" >&2; exit 2; }
[ -x "$ninep" ] || { echo "fuse_bench: $ninep is not executable (use -n)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "fuse_bench: needs root (FUSE mounts)" >&2; exit 1; }

work=$(mktemp -d /tmp/ninep-fuse-bench.XXXXXX)
pids=()
mounts=()
cleanup() {
  for m in "${mounts[@]}"; do
    "$ninep" umount -l "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
  done
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
began=$(date +%s)
# A copy: the whole sitting runs one binary, even if it is rebuilt meanwhile.
cp "$ninep" "$work/ninep"
ninep=$work/ninep

# gc.auto=0: a commit of thousands of files would start a background `git gc` that keeps the
# machine loaded after the setup.
export HOME=$work GIT_CONFIG_NOSYSTEM=1 GIT_AUTHOR_NAME=b GIT_AUTHOR_EMAIL=b@b \
  GIT_COMMITTER_NAME=b GIT_COMMITTER_EMAIL=b@b \
  GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=gc.auto GIT_CONFIG_VALUE_0=0

now() { date +%s.%N; }
# Runs "$@" and prints its wall time in seconds.
timed() {
  local t0 t1
  t0=$(now)
  "$@" > /dev/null 2>&1
  t1=$(now)
  awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }'
}
# Runs "$@" twice untimed, then prints the wall time of a third run: the steady state of a
# command repeated. (On a fresh mount the first git status rewrites git's index, whose recorded
# inode and device numbers are the host's; the second reads the rewritten one into the cache.)
warm_timed() { "$@" > /dev/null 2>&1 || true; "$@" > /dev/null 2>&1 || true; timed "$@"; }
median() { tr ' ' '\n' | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# A tree of N small files in 100 directories.
make_tree() {
  local dir=$1 n=$2 i
  mkdir -p "$dir"
  for i in $(seq 0 99); do mkdir -p "$dir/d$i"; done
  for i in $(seq 0 $((n - 1))); do echo "file $i $RANDOM" > "$dir/d$((i % 100))/f$i.txt"; done
}

# Made once per sitting, on the host side: the untar source (a tarball of a source-like tree) and
# the fixtures of the reading workloads: the git status repository (a committed tree of $files
# files), the read file and the ls -l entries. Each run moves its workload's fixture into the
# exported directory before mounting and back after unmounting: a rename, where copying $files
# entries would take seconds per run.
make_tree "$work/untar-src" "$untar_files"
head -c 4000000 /dev/urandom > "$work/untar-src/blob"
tar -C "$work/untar-src" -cf "$work/src.tar" .
mkdir "$work/fixtures" "$work/fixtures/many"
make_tree "$work/fixtures/git" "$files"
(cd "$work/fixtures/git" && git init -q -b main . && git add -A && git commit -q -m init)
dd if=/dev/zero of="$work/fixtures/big" bs=1M count="$bigmb" 2> /dev/null
(cd "$work/fixtures/many" && seq "$files" | sed 's/^/entry-/' | xargs touch)
declare -A fixture=([git_status]=git [read]=big [ls]=many)

# ---- workloads: run_W prints the time of the workload in $1, the mount (or for local, the
# exported directory itself). A workload with a fixture is a reading one: it runs warm. ----
run_git_status() { warm_timed sh -c "cd '$1/git' && git status --porcelain"; }
run_untar() { mkdir -p "$1/untar"; timed tar -C "$1/untar" -xf "$work/src.tar"; }
run_write() { timed dd if=/dev/zero of="$1/big" bs=1M count="$bigmb" conv=fsync; }
run_read() { warm_timed dd if="$1/big" of=/dev/null bs=1M; }
run_create() {
  mkdir -p "$1/small"
  timed bash -c "cd '$1/small' && for i in \$(seq $small); do echo data > f\$i; done"
}
run_ls() { warm_timed ls -l "$1/many"; }
workloads=(git_status untar write read create ls)
labels=("git status, warm ($files files)" "untar ($untar_files files + 4 MB)" "write ${bigmb} MiB" \
  "read ${bigmb} MiB, warm" "create $small small files" "ls -l, warm ($files entries)")

# ---- targets: local, then SERVER-MODE for each server and cache mode ----
start_ours() {  # $1 export dir, $2 socket
  "$ninep" serve --export bench="$1" --listen "unix:$2" --no-root-squash > "$work/ours.log" 2>&1 &
  pids+=($!)
}
start_diod() {
  diod -f -n -c /dev/null -e "$1" -l "$2" > "$work/diod.log" 2>&1 &
  pids+=($!)
}
wait_socket() { for _ in $(seq 200); do [ -S "$1" ] && return 0; sleep 0.05; done; return 1; }
stop_server() { kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true; }

declare -A refused=()  # targets whose mount failed once: n/a from then on
# Serves $2/export with target $1's server and mounts it on $2/mnt in its cache mode; returns 1
# (and notes the target as refused) when the mount fails.
mount_target() {
  local target=$1 base=$2 server=${1%-*} mode=${1#*-}
  local sock="$base/9p.sock" aname=bench
  if [ "$server" = ours ]; then start_ours "$base/export" "$sock"; else
    start_diod "$base/export" "$sock"; aname="$base/export"; fi
  wait_socket "$sock" || { echo "fuse_bench: $server did not start" >&2; exit 1; }
  if ! "$ninep" mount --via fuse --daemon --cache "$mode" --aname "$aname" "unix:$sock" \
    "$base/mnt" 2> "$work/mount.err"; then
    echo "fuse_bench: $target: mount failed ($(head -1 "$work/mount.err")): n/a" >&2
    refused[$target]=1
    stop_server
    return 1
  fi
  mounts+=("$base/mnt")
}
unmount_target() { "$ninep" umount "$1/mnt"; stop_server; }

# Prints the median time of workload $1 on target $2, or n/a.
measure() {
  local w=$1 target=$2 fx=${fixture[$1]:-} r times=()
  for r in $(seq "$repeats"); do
    [ -z "${refused[$target]:-}" ] || { echo n/a; return; }
    local base="$work/$target-$w-$r" dir ok=1
    mkdir -p "$base/export" "$base/mnt"
    [ -z "$fx" ] || mv "$work/fixtures/$fx" "$base/export/"
    if [ "$target" = local ]; then
      dir="$base/export"
    elif mount_target "$target" "$base"; then
      dir="$base/mnt"
    else
      ok=""
    fi
    if [ -n "$ok" ]; then
      times+=("$("run_$w" "$dir")")
      [ "$target" = local ] || unmount_target "$base"
    fi
    [ -z "$fx" ] || mv "$base/export/$fx" "$work/fixtures/"
    rm -rf "$base"
    [ -n "$ok" ] || { echo n/a; return; }
  done
  echo "${times[*]}" | median
}

servers=(ours)
command -v diod > /dev/null && servers+=(diod)
targets=(local)
for s in "${servers[@]}"; do for m in "${modes[@]}"; do targets+=("$s-$m"); done; done
ratio() {  # $1 / $2 (local), or n/a
  if [ "$1" = n/a ]; then echo n/a; else
    awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }'; fi
}

printf "FUSE benchmark: cache modes %s, median of %s run(s), %s\n" "${modes[*]}" "$repeats" \
  "$(date -u +%F)"
printf "%-32s %8s" "workload" "local s"
for t in "${targets[@]:1}"; do printf " %11s %7s" "${t/-//} s" "x local"; done
printf "\n"
csv_rows=""
for i in "${!workloads[@]}"; do
  declare -A res=()
  for t in "${targets[@]}"; do
    measure "${workloads[$i]}" "$t" > "$work/result"  # not in a subshell: cleanup sees the mounts
    res[$t]=$(cat "$work/result")
    [ "${res[$t]}" = n/a ] || csv_rows+="${labels[$i]//,/;},s,lower,$t,${res[$t]}"$'\n'
  done
  printf "%-32s %8s" "${labels[$i]}" "${res[local]}"
  for t in "${targets[@]:1}"; do
    printf " %11s %7s" "${res[$t]}" "$(ratio "${res[$t]}" "${res[local]}")"
  done
  printf "\n"
  unset res
done

# ---- change latency: host changes seen through each mount ----
printf "\nchange to visible through the mount: %s host changes (modify, create, remove in turn;" \
  "$changes"
printf " at most %s s), ms\n" "$change_s"
if [ ! -x "$latency" ]; then
  echo "(skipped: $latency is not built; ninja -C build bench_change_latency, or -l PATH)"
else
  printf "%-12s %6s %9s %9s %9s %9s %9s %9s\n" "target/mode" n "p50" "p99" "timeouts" \
    "modify50" "create50" "remove50"
  for t in "${targets[@]:1}"; do
    base="$work/$t-latency"
    mkdir -p "$base/export" "$base/mnt"
    if [ -n "${refused[$t]:-}" ] || ! mount_target "$t" "$base"; then
      printf "%-12s %6s\n" "${t/-//}" n/a
      continue
    fi
    "$latency" "$base/export" "$base/mnt" --changes "$changes" --max-seconds "$change_s" \
      > "$work/latency.out" || echo "fuse_bench: bench_change_latency failed on $t" >&2
    unmount_target "$base"
    rm -rf "$base"
    # change-to-visible KIND n=N p50=MS p99=MS max=MS ms timeouts=N -> one row per target.
    awk -v t="${t/-//}" '$1 == "change-to-visible" {
        for (i = 3; i <= NF; i++) { split($i, kv, "="); v[$2, kv[1]] = kv[2] }
      }
      END {
        if (!(("all", "n") in v)) { printf "%-12s %6s\n", t, "failed"; exit }
        printf "%-12s %6s %9s %9s %9s %9s %9s %9s\n", t, v["all", "n"], v["all", "p50"],
          v["all", "p99"], v["all", "timeouts"], v["modify", "p50"], v["create", "p50"],
          v["remove", "p50"]
      }' "$work/latency.out"
  done
fi

if [ -n "$csv" ]; then
  {
    echo "# title: FUSE mounts (ninep mount --via fuse, cache ${modes[*]}): ninep serve vs diod vs local"
    echo "# baseline: local"
    echo "# machine: $(nproc) CPUs, $(date -u +%F), median of $repeats run(s)"
    echo "workload,unit,better,target,value"
    printf "%s" "$csv_rows"
  } >"$csv"
  echo "fuse_bench: wrote $csv"
fi
echo "fuse_bench: took $(($(date +%s) - began)) s"
