#!/bin/sh
# Turns benchmark CSV files (written by the bench scripts' --csv FILE) into PNG bar charts with
# gnuplot: one chart per CSV, one group of bars per workload, one bar per target. Workloads have
# different units, so each bar is the target's speed relative to the CSV's baseline target (the
# baseline is 1.0; for times, baseline time / time), labelled with that ratio and the measured
# value; a group with both "ours" and "diod" is also marked with ours/diod.
#
#   bench/plot.sh [-o OUTDIR] CSV...      (default OUTDIR: docs/img; CSV a.csv gives OUTDIR/a.png)
#
# CSV format: lines starting with '#' carry "# title: ...", "# baseline: TARGET" and
# "# machine: ..."; then the header "workload,unit,better,target,value" and one row per workload
# and target (better: higher or lower; value: the median the script printed).
set -eu
out=docs/img
while getopts "o:" opt; do
  case $opt in
    o) out=$OPTARG ;;
    *) sed -n '2,12p' "$0"; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || { sed -n '2,12p' "$0" >&2; exit 2; }
command -v gnuplot >/dev/null || { echo "plot.sh: gnuplot is not installed (gnuplot-nox)" >&2; exit 1; }
mkdir -p "$out"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ninep-plot.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

for csv in "$@"; do
  rm -f "$tmp"/*
  name=$(basename "$csv" .csv)
  meta() { sed -n "s/^# $1: *//p" "$csv" | head -1; }
  title=$(meta title); baseline=$(meta baseline); machine=$(meta machine)
  [ -n "$title" ] || title=$name
  # Bars: x, relative value, label; groups: x, label (workload and unit); marks: x, y, text.
  if ! awk -F, -v base="$baseline" -v bars="$tmp/bars" -v groups="$tmp/groups" \
    -v marks="$tmp/marks" -v gp="$tmp/targets.gp" '
    function bad(msg) { printf "plot.sh: %s line %d: %s\n", FILENAME, FNR, msg > "/dev/stderr"; err = 1; exit 1 }
    /^#/ || /^[ \t]*$/ { next }
    !header { if ($0 != "workload,unit,better,target,value") bad("expected the header workload,unit,better,target,value"); header = 1; next }
    {
      if (NF != 5) bad("expected 5 fields")
      if ($3 != "higher" && $3 != "lower") bad("better must be higher or lower")
      if ($5 !~ /^[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?$/ || $5 + 0 <= 0) bad("value must be a positive number")
      if (!($1 in wi)) { wi[$1] = ++nw; wname[nw] = $1; wunit[nw] = $2; wbetter[nw] = $3 }
      if (!($4 in ti)) { ti[$4] = ++nt; tname[nt] = $4 }
      val[wi[$1], ti[$4]] = $5 + 0
    }
    END {
      if (err) exit 1
      if (nw == 0) { printf "plot.sh: %s: no rows\n", FILENAME > "/dev/stderr"; exit 1 }
      if (!(base in ti)) { printf "plot.sh: %s: the baseline target \"%s\" has no rows\n", FILENAME, base > "/dev/stderr"; exit 1 }
      w = 0.8 / nt
      oneunit = 1
      for (i = 2; i <= nw; i++) if (wunit[i] != wunit[1] || wbetter[i] != wbetter[1]) oneunit = 0
      for (i = 1; i <= nw; i++) {
        b = val[i, ti[base]]
        if (b == "") { printf "plot.sh: %s: no %s value for %s\n", FILENAME, base, wname[i] > "/dev/stderr"; exit 1 }
        # Long names wrap at a space; the unit is on every tic only when units differ.
        label = wname[i]
        if (length(label) > 22) {
          cut = 0
          for (c = 2; c <= 22; c++) if (substr(label, c, 1) == " ") cut = c
          if (cut) label = substr(label, 1, cut - 1) "\\n" substr(label, cut + 1)
        }
        if (!oneunit) label = label "\\n(" wunit[i] ", " wbetter[i] " is better)"
        printf "%d \"%s\"\n", i, label > groups
        top = 0
        for (j = 1; j <= nt; j++) {
          v = val[i, j]; if (v == "") continue
          rel = (wbetter[i] == "higher") ? v / b : b / v
          if (rel > top) top = rel
          if (ymin == "" || rel < ymin) ymin = rel
          printf "%d %g %g \"%.2fx\\n%.4g\"\n", j, i + (j - (nt + 1) / 2) * w, rel, rel, v > bars
        }
        if (("ours" in ti) && ("diod" in ti) && base != "diod" && val[i, ti["ours"]] != "" && val[i, ti["diod"]] != "") {
          o = val[i, ti["ours"]]; d = val[i, ti["diod"]]
          printf "%g %g \"ours/diod %.2fx\"\n", i, top, (wbetter[i] == "higher") ? o / d : d / o > marks
        }
        if (top > ymax) ymax = top
      }
      # Ratios far apart (a local disk against FUSE mounts): a log scale keeps every bar readable.
      logy = (ymax / ymin > 10)
      printf "nt = %d\nnw = %d\nboxw = %g\nlogy = %d\n", nt, nw, w, logy > gp
      # Wide enough for every bar label (about 60 pixels a bar).
      printf "width = %d\n", (nw * nt * 60 + 200 > 1280) ? nw * nt * 60 + 200 : 1280 > gp
      printf "unitnote = \"%s\"\n", oneunit ? sprintf(" (%s, %s is better)", wunit[1], wbetter[1]) : " (unit of the measured value)" > gp
      if (logy) printf "set logscale y\nset yrange [%g:%g]\n", ymin / 2, ymax * 4 > gp
      else printf "set yrange [0:%g]\n", ymax * 1.35 > gp
      for (j = 1; j <= nt; j++) printf "tname%d = \"%s\"\n", j, tname[j] > gp
    }' "$csv"; then
    exit 1
  fi
  marks=""
  [ -s "$tmp/marks" ] && marks=", \"$tmp/marks\" using 1:2:3 with labels offset 0,3.6 font \",10\" notitle"
  gnuplot <<GP || { echo "plot.sh: gnuplot failed on $csv" >&2; exit 1; }
load "$tmp/targets.gp"
set terminal pngcairo size width,720 font "DejaVu Sans,12" noenhanced
set output "$out/$name.png"
set title "$title\n$machine; relative to $baseline = 1.0; labels: ratio to $baseline and measured value"
set ylabel "speed relative to $baseline (higher is better)" . (logy ? ", log scale" : "")
set xlabel "workload" . unitnote
set xrange [0.4:nw + 0.6]
set boxwidth boxw
set style fill solid 0.85 border -1
set grid ytics
set key top left
set xtics nomirror font ",10"
set xtics ($(awk '{ x = $1; $1 = ""; sub(/^ /, ""); printf "%s%s %s", (NR > 1 ? ", " : ""), $0, x }' "$tmp/groups"))
set arrow from graph 0, first 1 to graph 1, first 1 nohead dashtype 2 lc rgb "#555555"
colors = "#1f77b4 #d62728 #2ca02c #ff7f0e #9467bd"
plot for [j=1:nt] "$tmp/bars" using (\$1 == j ? \$2 : NaN):3 with boxes lc rgb word(colors, j) title value("tname".j), \
     "$tmp/bars" using 2:3:4 with labels offset 0,1.6 font ",9" notitle $marks
GP
  echo "plot.sh: $out/$name.png"
done
