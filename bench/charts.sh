#!/bin/sh
# Regenerates every chart of the README in one sitting: runs the benchmarks with --csv into a
# temporary directory (the 9P server against diod, FUSE mounts against diod and a local disk, cBPF
# against libpcap and Go), then draws them with bench/plot.sh into OUTDIR, with the CSV files
# next to the charts. OUTDIR is only written once every benchmark has finished.
# Run it as root on a quiet machine (no builds, no other benchmarks): it takes about 20 minutes.
#
#   bench/charts.sh [-q] [-o OUTDIR] [BUILD_DIR]
#     -q         quick: the smallest sizes and one run each, to check the pipeline in a minute or
#                two (meaningless figures: never commit those charts)
#     -o OUTDIR  where the charts and their CSV files go (default: docs/img)
#     BUILD_DIR  a build with the targets ninep, bench_9p and bench_bpf_vm (default: build)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=$here/../docs/img
quick=""
while getopts "qo:" opt; do
  case $opt in
    q) quick=1 ;;
    o) out=$OPTARG ;;
    *) sed -n '2,12p' "$0" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
fail() { echo "charts.sh: $*" >&2; exit 1; }
[ -d "${1:-$here/../build}" ] || fail "no build directory ${1:-$here/../build}"
build=$(cd "${1:-$here/../build}" && pwd)

# Everything the three benchmarks need, checked before the first one starts.
for b in tools/ninep/ninep bench/9p/bench_9p bench/bpf/bench_bpf_vm; do
  [ -x "$build/$b" ] || fail "$build/$b is not built (targets: ninep bench_9p bench_bpf_vm)"
done
[ "$(id -u)" = 0 ] || fail "needs root (the FUSE benchmark mounts)"
[ -e /dev/fuse ] || fail "no /dev/fuse"
command -v diod >/dev/null || [ -x /usr/sbin/diod ] || fail "diod is not installed"
command -v gnuplot >/dev/null || fail "gnuplot is not installed (gnuplot-nox)"

csv=$(mktemp -d "${TMPDIR:-/tmp}/ninep-charts.XXXXXX")
trap 'rm -rf "$csv"' EXIT INT TERM
echo "charts.sh: $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)${quick:+, quick (figures meaningless)}"
if [ -n "$quick" ]; then
  sh "$here/9p_server/run.sh" --csv "$csv/9p_server.csv" "$build" \
    --walk-ops 500 --file-mib 4 --small-files 50 --entries 500 --threads 2
  bash "$here/fuse/fuse_bench.sh" -n "$build/tools/ninep/ninep" -s -r 1 --csv "$csv/fuse.csv"
  sh "$here/bpf/run.sh" --csv "$csv/bpf.csv" "$build" 1 20
else
  sh "$here/9p_server/run.sh" --csv "$csv/9p_server.csv" "$build"
  bash "$here/fuse/fuse_bench.sh" -n "$build/tools/ninep/ninep" --csv "$csv/fuse.csv"
  sh "$here/bpf/run.sh" --csv "$csv/bpf.csv" "$build"
fi
mkdir -p "$out"
sh "$here/plot.sh" -o "$out" "$csv/9p_server.csv" "$csv/fuse.csv" "$csv/bpf.csv"
cp "$csv/9p_server.csv" "$csv/fuse.csv" "$csv/bpf.csv" "$out/"
echo "charts.sh: charts and CSV files in $out"
