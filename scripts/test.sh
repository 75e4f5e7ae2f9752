#!/bin/sh
# Sets up the machine (Debian packages), builds ninep and runs the whole test suite through CTest.
#   scripts/test.sh              normal build in build/, every test (unit, diod, fuse, kernel)
#   scripts/test.sh --sanitize   ASan+UBSan build in build-asan/, every test but the QEMU guest suite
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh
if [ "${1:-}" = "--sanitize" ]; then
  # -O1 -g1: half the compile time of -O2 -g, line tables enough for the sanitizers' reports.
  sh scripts/build.sh build-asan -DNINEP_SANITIZE=ON -DNINEP_BENCH=OFF \
    "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1 -DNDEBUG"
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  export LSAN_OPTIONS=suppressions=$(pwd)/scripts/lsan.supp
  ctest --test-dir build-asan -j2 --output-on-failure --timeout 600 -LE kernel
else
  sh scripts/build.sh build
  ctest --test-dir build -j2 --output-on-failure --timeout 900
fi
