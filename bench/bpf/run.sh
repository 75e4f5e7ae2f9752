#!/bin/sh
# The cBPF comparison in one sitting, pinned to one CPU: the anchors' harnesses (Go's x/net/bpf
# VM, libpcap's bpf_filter and hand-written C) and then ours (bench_bpf_vm: our engines, libpcap
# linked in, hand-written C++), over the same capture and filters.
# Usage: bench/bpf/run.sh BUILD_DIR [runs] [ms-per-run] [cpu]
set -e
BUILD=${1:?usage: run.sh BUILD_DIR [runs] [ms-per-run] [cpu]}
RUNS=${2:-7}; MS=${3:-300}; CPU=${4:-1}
HERE=$(cd "$(dirname "$0")" && pwd)
ANCHORS=${NINEP_BPF_ANCHORS:-$HERE/../../../shared/anchors/bpf}
BENCH=$BUILD/bench/bpf/bench_bpf_vm
[ -x "$BENCH" ] || { echo "run.sh: $BENCH not built (cmake --build $BUILD --target bench_bpf_vm)" >&2; exit 1; }
[ -d "$ANCHORS" ] || { echo "run.sh: anchors not found at $ANCHORS" >&2; exit 1; }
"$ANCHORS/run.sh" "$RUNS" "$MS" "$CPU"
taskset -c "$CPU" "$BENCH" "$ANCHORS/mix.pcap" "$ANCHORS/filters" "$RUNS" "$MS"
