#!/bin/sh
# Turns benchmark CSV files (written by the bench scripts' --csv FILE) into PNG bar charts with
# gnuplot: one chart per CSV, one group of bars per workload, one bar per target. Workloads have
# different units, so each bar is the target's speed relative to the CSV's baseline target (the
# baseline is 1.0; for times, baseline time / time: above 1 is always better), labelled with that
# ratio and the measured value; a group with both "ours" and "diod" is also marked with ours/diod.
# Many bars are split over several rows of panels; ratios far apart put the y axis on a log scale.
#
#   bench/plot.sh [-o OUTDIR] CSV...      (default OUTDIR: docs/img; CSV a.csv gives OUTDIR/a.png)
#
# CSV format: lines starting with '#' carry "# title: ...", "# baseline: TARGET" and
# "# machine: ..." (CPUs, date; without it the title shows the file's date); then the header
# "workload,unit,better,target,value" and one row per workload and target (better: higher or
# lower; value: the median the script printed, a positive number).
set -eu
out=docs/img
while getopts "o:" opt; do
  case $opt in
    o) out=$OPTARG ;;
    *) sed -n '2,14p' "$0" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || { sed -n '2,14p' "$0" >&2; exit 2; }
command -v gnuplot >/dev/null || { echo "plot.sh: gnuplot is not installed (gnuplot-nox)" >&2; exit 1; }
# pngcairo (antialiased) where gnuplot has it, else the libgd png terminal.
if gnuplot -e 'set terminal' 2>&1 | grep -q '^ *pngcairo '; then
  terminal='pngcairo font "DejaVu Sans,12"'
else
  terminal='png font ",12"'
fi
mkdir -p "$out"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ninep-plot.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

for csv in "$@"; do
  [ -r "$csv" ] || { echo "plot.sh: cannot read $csv" >&2; exit 1; }
  rm -f "$tmp"/*
  name=$(basename "$csv" .csv)
  # Metadata, with the double quotes gnuplot strings cannot hold replaced.
  meta() { sed -n "s/^# $1: *//p" "$csv" | head -1 | tr '"' "'"; }
  title=$(meta title); baseline=$(meta baseline); machine=$(meta machine)
  [ -n "$title" ] || title=$name
  [ -n "$machine" ] || machine="$(date -u -r "$csv" +%F) (date of $(basename "$csv"))"
  # Bars: target index, x, relative value, label; groups: x, label (workload and unit);
  # marks: x, y, text; targets.gp: the layout.
  if ! awk -F, -v base="$baseline" -v bars="$tmp/bars" -v groups="$tmp/groups" \
    -v marks="$tmp/marks" -v gp="$tmp/targets.gp" '
    function bad(msg) { printf "plot.sh: %s line %d: %s\n", FILENAME, FNR, msg > "/dev/stderr"; err = 1; exit 1 }
    # A measured value in at most 4 characters and a suffix: 15516 -> 15.5k, 851.8 -> 852.
    function short(v) {
      if (v >= 1e6) return sprintf("%.3gM", v / 1e6)
      if (v >= 1e4) return sprintf("%.3gk", v / 1e3)
      if (v >= 100) return sprintf("%.0f", v)
      return sprintf("%.3g", v)
    }
    # A ratio with 2 or 3 significant digits: 12.6x, 1.35x, 0.61x, 0.027x.
    function ratio(r) { return sprintf(r >= 10 ? "%.1fx" : r >= 1 ? "%.2fx" : "%.2gx", r) }
    /^#/ || /^[ \t\r]*$/ { next }
    { sub(/\r$/, ""); gsub(/"/, "'\''") }
    !header { if ($0 != "workload,unit,better,target,value") bad("expected the header workload,unit,better,target,value"); header = 1; next }
    {
      if (NF != 5) bad("expected 5 fields (workload,unit,better,target,value), found " NF)
      if ($1 == "" || $4 == "") bad("empty workload or target")
      if ($3 != "higher" && $3 != "lower") bad("better must be higher or lower, not \"" $3 "\"")
      if ($5 !~ /^[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?$/ || $5 + 0 <= 0) bad("value must be a positive number, not \"" $5 "\"")
      if (!($1 in wi)) { wi[$1] = ++nw; wname[nw] = $1; wunit[nw] = $2; wbetter[nw] = $3 }
      else if (wunit[wi[$1]] != $2 || wbetter[wi[$1]] != $3) bad("workload \"" $1 "\" has two units")
      if (!($4 in ti)) { ti[$4] = ++nt; tname[nt] = $4 }
      val[wi[$1], ti[$4]] = $5 + 0
    }
    END {
      if (err) exit 1
      if (!header) { printf "plot.sh: %s: no header (workload,unit,better,target,value)\n", FILENAME > "/dev/stderr"; exit 1 }
      if (nw == 0) { printf "plot.sh: %s: no rows\n", FILENAME > "/dev/stderr"; exit 1 }
      if (base == "") { printf "plot.sh: %s: no \"# baseline: TARGET\" line\n", FILENAME > "/dev/stderr"; exit 1 }
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
          printf "%d %g %g \"%s\\n%s\"\n", j, i + (j - (nt + 1) / 2) * w, rel, ratio(rel), short(v) > bars
        }
        if (("ours" in ti) && ("diod" in ti) && base != "diod" && val[i, ti["ours"]] != "" && val[i, ti["diod"]] != "") {
          o = val[i, ti["ours"]]; d = val[i, ti["diod"]]
          printf "%g %g \"ours/diod %s\"\n", i, top, ratio((wbetter[i] == "higher") ? o / d : d / o) > marks
        }
        if (top > ymax) ymax = top
      }
      # Ratios far apart (a local disk against FUSE mounts): a log scale keeps every bar readable.
      logy = (ymax / ymin > 10)
      # About 56 pixels a bar on a 1600-pixel row: past 24 bars, the groups go over several rows.
      rows = int((nw * nt + 23) / 24)
      printf "nt = %d\nnw = %d\nboxw = %g\nlogy = %d\nrows = %d\nper = %d\n", nt, nw, w, logy, rows, int((nw + rows - 1) / rows) > gp
      printf "width = %d\nheight = %d\n", (nw * nt > 14) ? 1600 : 1280, (rows > 1) ? 80 + 560 * rows : 720 > gp
      printf "unitnote = \"%s\"\n", oneunit ? sprintf(" (%s, %s is better)", wunit[1], wbetter[1]) : " (unit of the measured value)" > gp
      # Tic labels of 1 to 3 lines: room for them and the axis label under them.
      printf "ticlines = %d\n", oneunit ? 2 : 3 > gp
      # On a log scale, tics at 1, 2 and 5 times the powers of ten.
      if (logy) printf "set logscale y\nset yrange [%g:%g]\nset ytics (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000)\nset mytics 10\n", ymin / 2, ymax * 5 > gp
      else printf "set yrange [0:%g]\n", ymax * 1.4 > gp
      for (j = 1; j <= nt; j++) printf "tname%d = \"%s\"\n", j, tname[j] > gp
    }' "$csv"; then
    exit 1
  fi
  marks=""
  [ -s "$tmp/marks" ] && marks=", \"$tmp/marks\" using 1:2:3 with labels offset 0,3.4 font \",11\" tc rgb \"#000000\" notitle"
  gnuplot <<GP || { echo "plot.sh: gnuplot failed on $csv" >&2; exit 1; }
load "$tmp/targets.gp"
set terminal $terminal size width,height noenhanced
set output "$out/$name.png"
set multiplot layout rows,1 title "$title\n$machine; bars: speed relative to $baseline = 1.0, labelled with that ratio and the measured value" font ",13"
set ylabel "speed relative to $baseline (higher is better)" . (logy ? ", log scale" : "")
set xlabel "workload" . unitnote offset 0,-(ticlines - 1) * 0.6
set lmargin 12
set rmargin 3
set tmargin 1.5
set bmargin ticlines + 3
set boxwidth boxw
set style fill solid 0.85 border -1
set grid ytics
set key outside top center horizontal samplen 2
set xtics nomirror font ",10"
set xtics ($(awk '{ x = $1; $1 = ""; sub(/^ /, ""); printf "%s%s %s", (NR > 1 ? ", " : ""), $0, x }' "$tmp/groups"))
set arrow from graph 0, first 1 to graph 1, first 1 nohead dashtype 2 lc rgb "#555555"
colors = "#1f77b4 #d62728 #2ca02c #ff7f0e #9467bd #8c564b #e377c2 #7f7f7f"
do for [r=1:rows] {
  set xrange [(r - 1) * per + 0.4:r * per + 0.6]
  # The legend above the first row only.
  if (r == 1) { set tmargin 3 } else { set key off; set tmargin 1.5 }
  plot for [j=1:nt] "$tmp/bars" using (\$1 == j ? \$2 : NaN):3 with boxes lc rgb word(colors, (j - 1) % 8 + 1) title value("tname".j), \
       "$tmp/bars" using 2:3:4 with labels offset 0,1.4 font ",9" notitle $marks
}
unset multiplot
GP
  echo "plot.sh: $out/$name.png"
done
