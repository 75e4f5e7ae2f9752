#!/bin/sh
# Builds the libFuzzer targets with clang and runs each for a bounded time; fails on any finding.
# Usage: scripts/fuzz.sh [SECONDS_PER_TARGET]   (default 30; the 9P decoder gets twice as long)
set -eu
cd "$(dirname "$0")/.."
SECS=${1:-30}
sh scripts/setup.sh
# Only the fuzz targets (and the libraries they link), not the whole tree.
targets=$(for f in fuzz/*/fuzz_*.cpp; do basename "$f" .cpp; done)
CC=clang-16 CXX=clang++-16 cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DNINEP_FUZZ=ON "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG" >/dev/null
# shellcheck disable=SC2086 # one target per word
cmake --build build-fuzz -j"$(nproc)" --target $targets
status=0
for bin in build-fuzz/fuzz/*/fuzz_*; do
  [ -x "$bin" ] || continue
  name=$(basename "$bin")
  corpus=fuzz/$(basename "$(dirname "$bin")")/corpus
  work=build-fuzz/corpus-work/$name
  mkdir -p "$work"
  t=$SECS
  [ "$name" = fuzz_p9_decode ] && t=$((SECS * 2))
  if "$bin" -max_total_time="$t" -print_final_stats=1 -artifact_prefix="build-fuzz/$name-" \
      "$work" "$corpus" >"build-fuzz/$name.log" 2>&1; then
    echo "fuzz: $name: $(grep -m1 'stat::number_of_executed_units' "build-fuzz/$name.log" | awk '{print $2}') executions, no finding"
  else
    echo "fuzz: $name: FINDING (log follows)"; tail -40 "build-fuzz/$name.log"; status=1
  fi
done
exit $status
