#!/bin/sh
# bench/plot.sh: a CSV in the bench scripts' format becomes a PNG; a malformed one is refused with
# a message naming the line, and no chart.   usage: plot_test.sh SOURCE_DIR
set -eu
src=$1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ninep-plot-test.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "plot_test: $*" >&2; exit 1; }

sh "$src/bench/plot.sh" -o "$tmp" "$src/tests/bench/sample.csv" >/dev/null
png=$tmp/sample.png
[ -s "$png" ] || fail "no chart written"
[ "$(head -c 8 "$png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] || fail "not a PNG"
# A chart of 1280x720 pixels (the IHDR chunk's width and height).
[ "$(dd if="$png" bs=1 skip=16 count=8 2>/dev/null | od -An -tu1 | tr -s ' ' | sed 's/^ //;s/ $//')" = \
  "0 0 5 0 0 0 2 208" ] || fail "unexpected size"

# Malformed inputs: each refused, with the reason.
check_refused() {  # $1 expected message part; CSV on stdin
  cat >"$tmp/bad.csv"
  if sh "$src/bench/plot.sh" -o "$tmp" "$tmp/bad.csv" >"$tmp/out" 2>&1; then
    fail "accepted a CSV with $1"
  fi
  grep -q "$1" "$tmp/out" || fail "no message about $1: $(cat "$tmp/out")"
  [ ! -e "$tmp/bad.png" ] || fail "a chart was written for a CSV with $1"
}
printf 'name,value\na,1\n' | check_refused "expected the header"
printf '# baseline: x\nworkload,unit,better,target,value\nw,s,faster,x,1\n' | check_refused "better must be"
printf '# baseline: x\nworkload,unit,better,target,value\nw,s,lower,x,abc\n' | check_refused "positive number"
printf '# baseline: x\nworkload,unit,better,target,value\nw,s,lower,x\n' | check_refused "5 fields"
printf '# baseline: z\nworkload,unit,better,target,value\nw,s,lower,x,1\n' | check_refused "baseline"
printf '# baseline: x\nworkload,unit,better,target,value\n' | check_refused "no rows"
printf 'workload,unit,better,target,value\nw,s,lower,x,1\n' | check_refused 'no "# baseline'
printf '# baseline: x\nworkload,unit,better,target,value\nw,s,lower,x,1\nw,ms,lower,y,1\n' |
  check_refused "two units"

# Many bars (9 workloads of 3 targets) go over two rows of panels: a taller chart, 1600x1200.
{
  echo "# baseline: diod"
  echo "workload,unit,better,target,value"
  for w in 1 2 3 4 5 6 7 8 9; do
    for t in diod ours local; do echo "workload $w,ms,lower,$t,$w.5"; done
  done
} >"$tmp/many.csv"
sh "$src/bench/plot.sh" -o "$tmp" "$tmp/many.csv" >/dev/null
[ "$(dd if="$tmp/many.png" bs=1 skip=16 count=8 2>/dev/null | od -An -tu1 | tr -s ' ' | sed 's/^ //;s/ $//')" = \
  "0 0 6 64 0 0 4 176" ] || fail "unexpected size of a two-row chart"
echo "plot_test: ok"
