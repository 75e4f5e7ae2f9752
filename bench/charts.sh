#!/bin/sh
# Regenerates every chart of the README in one sitting: runs the benchmarks with --csv (the 9P
# server against diod, FUSE mounts against diod and a local disk, cBPF against libpcap and Go),
# keeps the CSV files next to the charts, and draws docs/img/*.png with bench/plot.sh.
# Run it as root on a quiet machine (no builds, no other benchmarks): it takes about 20 minutes.
#
#   bench/charts.sh [BUILD_DIR]      (default: build; targets ninep, bench_9p, bench_bpf_vm)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
img=$here/../docs/img
mkdir -p "$img"
sh "$here/9p_server/run.sh" --csv "$img/9p_server.csv" "$build"
bash "$here/fuse/fuse_bench.sh" -n "$build/tools/ninep/ninep" --csv "$img/fuse.csv"
sh "$here/bpf/run.sh" --csv "$img/bpf.csv" "$build"
sh "$here/plot.sh" -o "$img" "$img/9p_server.csv" "$img/fuse.csv" "$img/bpf.csv"
