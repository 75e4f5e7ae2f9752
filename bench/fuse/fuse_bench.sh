#!/bin/bash
# FUSE mount benchmark (not a test): the same workloads on a local directory, on a FUSE mount of
# our server (`ninep serve`) and on a FUSE mount of diod, printed as times and ratios to local.
#
#   bench/fuse/fuse_bench.sh [-n NINEP] [-r REPEATS] [-c CACHE] [-s] [--csv FILE]
#     -n NINEP    the ninep binary (default: build/tools/ninep/ninep)
#     -r REPEATS  runs of each workload; the median is shown (default 3)
#     -c CACHE    cache mode for the FUSE mounts: none (default) or loose
#     -s          small sizes (quick check of the script itself)
#     --csv FILE  also write the medians to FILE (bench/plot.sh's format)
# Needs root, /dev/fuse, git, tar and (for the diod column) diod.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
ninep="$here/../../build/tools/ninep/ninep"
repeats=3
cache=none
files=10000 small=2000 bigmb=256 untar_files=5000
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
while getopts "n:r:c:s" opt; do
  case $opt in
    n) ninep=$OPTARG ;;
    r) repeats=$OPTARG ;;
    c) cache=$OPTARG ;;
    s) files=500 small=200 bigmb=16 untar_files=300 ;;
    *) sed -n '2,12p' "$0"; exit 2 ;;
  esac
done
[ -x "$ninep" ] || { echo "fuse_bench: $ninep is not executable (use -n)" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "fuse_bench: needs root (FUSE mounts)" >&2; exit 1; }

work=$(mktemp -d /tmp/ninep-fuse-bench.XXXXXX)
pids=()
mounts=()
cleanup() {
  for m in "${mounts[@]}"; do "$ninep" umount -l "$m" 2>/dev/null || true; done
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# gc.auto=0: a commit of thousands of files would start a background `git gc` that keeps the
# mount busy (and the machine loaded) after the workload.
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
median() { tr ' ' '\n' | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

# A tree of N small files in 100 directories.
make_tree() {
  local dir=$1 n=$2 i
  mkdir -p "$dir"
  for i in $(seq 0 99); do mkdir -p "$dir/d$i"; done
  for i in $(seq 0 $((n - 1))); do echo "file $i $RANDOM" > "$dir/d$((i % 100))/f$i.txt"; done
}

# The untar source: a local tarball of a source-like tree (made once).
make_tree "$work/untar-src" "$untar_files"
head -c 4000000 /dev/urandom > "$work/untar-src/blob"
tar -C "$work/untar-src" -cf "$work/src.tar" .

# ---- workloads; $1 is the directory to work in (fresh per call) ----
w_git_status() {  # setup untimed: a committed repository of $files files
  local d=$1/git
  make_tree "$d" "$files"
  (cd "$d" && git init -q -b main . && git add -A && git commit -q -m init && git status -s)
  timed sh -c "cd '$d' && git status --porcelain"
}
w_untar() { mkdir -p "$1/untar"; timed tar -C "$1/untar" -xf "$work/src.tar"; }
w_write() { timed dd if=/dev/zero of="$1/big" bs=1M count="$bigmb" conv=fsync; }
w_read() {
  [ -f "$1/big" ] || dd if=/dev/zero of="$1/big" bs=1M count="$bigmb" 2>/dev/null
  timed dd if="$1/big" of=/dev/null bs=1M
}
w_create() {
  mkdir -p "$1/small"
  timed bash -c "cd '$1/small' && for i in \$(seq $small); do echo data > f\$i; done"
}
w_ls() {  # setup untimed: $files entries
  mkdir -p "$1/many"
  (cd "$1/many" && seq "$files" | sed 's/^/entry-/' | xargs touch)
  timed ls -l "$1/many"
}
workloads=(w_git_status w_untar w_write w_read w_create w_ls)
labels=("git status ($files files)" "untar ($untar_files files + 4 MB)" "write ${bigmb} MiB" \
  "read ${bigmb} MiB" "create $small small files" "ls -l $files entries")

# ---- targets ----
start_ours() {  # $1 export dir, $2 socket
  "$ninep" serve --export bench="$1" --listen "unix:$2" --no-root-squash > "$work/ours.log" 2>&1 &
  pids+=($!)
}
start_diod() {
  diod -f -n -c /dev/null -e "$1" -l "$2" > "$work/diod.log" 2>&1 &
  pids+=($!)
}
wait_socket() { for _ in $(seq 200); do [ -S "$1" ] && return 0; sleep 0.05; done; return 1; }

# Prints the median time of workload $1 on target $2 (local | ours | diod).
measure() {
  local w=$1 target=$2 r times=()
  for r in $(seq "$repeats"); do
    local base="$work/$target-$w-$r"
    mkdir -p "$base/export" "$base/mnt"
    local dir="$base/export"
    if [ "$target" != local ]; then
      local sock="$base/9p.sock" aname=bench
      if [ "$target" = ours ]; then start_ours "$base/export" "$sock"; else
        start_diod "$base/export" "$sock"; aname="$base/export"; fi
      wait_socket "$sock" || { echo "fuse_bench: $target did not start" >&2; exit 1; }
      "$ninep" mount --via fuse --daemon --cache "$cache" --aname "$aname" "unix:$sock" "$base/mnt"
      mounts+=("$base/mnt")
      dir="$base/mnt"
    fi
    times+=("$($w "$dir")")
    if [ "$target" != local ]; then
      "$ninep" umount "$base/mnt"
      kill "${pids[-1]}"; wait "${pids[-1]}" 2>/dev/null || true
    fi
    rm -rf "$base"
  done
  echo "${times[*]}" | median
}

targets=(local ours)
command -v diod > /dev/null && targets+=(diod)
printf "FUSE benchmark: cache=%s, median of %s run(s), %s\n" "$cache" "$repeats" "$(date -u +%F)"
printf "%-34s %10s" "workload" "local s"
for t in "${targets[@]:1}"; do printf " %10s %8s" "$t s" "x local"; done
printf "\n"
csv_rows=""
for i in "${!workloads[@]}"; do
  declare -A res=()
  for t in "${targets[@]}"; do
    measure "${workloads[$i]}" "$t" > "$work/result"  # not in a subshell: cleanup sees the mounts
    res[$t]=$(cat "$work/result")
  done
  for t in "${targets[@]}"; do
    csv_rows+="${labels[$i]//,/;},s,lower,$t,${res[$t]}"$'\n'
  done
  printf "%-34s %10s" "${labels[$i]}" "${res[local]}"
  for t in "${targets[@]:1}"; do
    printf " %10s %8s" "${res[$t]}" \
      "$(awk -v a="${res[$t]}" -v b="${res[local]}" 'BEGIN { printf "%.1f", (b > 0 ? a / b : 0) }')"
  done
  printf "\n"
  unset res
done
if [ -n "$csv" ]; then
  {
    echo "# title: FUSE mounts (ninep mount --via fuse, cache=$cache): ninep serve vs diod vs local"
    echo "# baseline: local"
    echo "# machine: $(nproc) CPUs, $(date -u +%F), median of $repeats run(s)"
    echo "workload,unit,better,target,value"
    printf "%s" "$csv_rows"
  } >"$csv"
  echo "fuse_bench: wrote $csv"
fi
