#!/bin/sh
# The cBPF comparison in one sitting, pinned to one CPU: the anchors' harnesses (Go's x/net/bpf
# VM, libpcap's bpf_filter and hand-written C) and then ours (bench_bpf_vm: our engines, libpcap
# linked in, hand-written C++), over the same capture and filters.
# With --csv FILE, the medians (ns per packet) also go to FILE in bench/plot.sh's format:
# Go's VM, libpcap's bpf_filter, our interpreter and JIT, hand-written C++.
# Usage: bench/bpf/run.sh [--csv FILE] BUILD_DIR [runs] [ms-per-run] [cpu]   (--csv FILE anywhere)
set -e
. "$(cd "$(dirname "$0")" && pwd)/../csv_option.sh"  # --csv FILE, anywhere
BUILD=${1:?usage: run.sh [--csv FILE] BUILD_DIR [runs] [ms-per-run] [cpu]}
RUNS=${2:-7}; MS=${3:-300}; CPU=${4:-1}
HERE=$(cd "$(dirname "$0")" && pwd)
ANCHORS=${NINEP_BPF_ANCHORS:-$HERE/../../../shared/anchors/bpf}
BENCH=$BUILD/bench/bpf/bench_bpf_vm
[ -x "$BENCH" ] || { echo "run.sh: $BENCH not built (cmake --build $BUILD --target bench_bpf_vm)" >&2; exit 1; }
[ -d "$ANCHORS" ] || { echo "run.sh: anchors not found at $ANCHORS" >&2; exit 1; }
OUT=$(mktemp "${TMPDIR:-/tmp}/ninep-bench-bpf.XXXXXX")
trap 'rm -f "$OUT"' EXIT
{
  "$ANCHORS/run.sh" "$RUNS" "$MS" "$CPU"
  taskset -c "$CPU" "$BENCH" "$ANCHORS/mix.pcap" "$ANCHORS/filters" "$RUNS" "$MS"
} | tee "$OUT"
[ -n "$csv" ] || exit 0
# The tables: a 41-column filter name, then (Go's) the figures, or (the others) a 21-column
# implementation name and the figures; the median is the third figure from the end.
{
  echo "# title: classic BPF: ns per packet over mix.pcap, ours vs libpcap and Go's x/net/bpf"
  echo "# baseline: libpcap bpf_filter"
  echo "# machine: $(nproc) CPUs, $(date -u +%F), cpu $CPU pinned, median of $RUNS runs"
  echo "workload,unit,better,target,value"
  awk '
    /^# x\/net\/bpf/ { go = 1; next }
    /^#/ { go = 0; next }
    /^filter / || /^\(loop/ || NF < 6 { next }
    {
      name = substr($0, 1, 41); sub(/ +$/, "", name); gsub(/,/, ";", name)
      if (go) impl = "Go x/net/bpf"
      else { impl = substr($0, 42, 21); sub(/ +$/, "", impl) }
      # Only these rows (not the anchors C baselines, nor the summary tables after them).
      if (impl == "pcap bpf_filter") impl = "libpcap bpf_filter"
      else if (impl != "Go x/net/bpf" && impl != "ninep interpreter" && impl != "ninep jit" &&
               impl != "native C++") next
      if (!(name in seen)) { seen[name] = 1; order[++n] = name }
      if (!((name, impl) in v)) { if (!(impl in ti)) { ti[impl] = 1; targets[++m] = impl } }
      v[name, impl] = $(NF - 2)  # the last table (ours, same process) wins for libpcap
    }
    END {
      for (i = 1; i <= n; i++)
        for (j = 1; j <= m; j++)
          if ((order[i], targets[j]) in v)
            printf "%s,ns/packet,lower,%s,%s\n", order[i], targets[j], v[order[i], targets[j]]
    }' "$OUT"
} >"$csv"
echo "run.sh: wrote $csv"
