# Sourced by the bench/9p_server scripts.

# need_built BUILD_DIR: sets $ninep and $bench to the programs built there, else exits.
need_built() {
  ninep="$1/tools/ninep/ninep"
  bench="$1/bench/9p/bench_9p"
  for _b in "$ninep" "$bench"; do
    [ -x "$_b" ] || { echo "$(basename "$0"): $_b is not built (targets: ninep bench_9p)" >&2; exit 1; }
  done
}

# wait_socket NAME PATH LOG: waits up to 5 s for the unix socket PATH of server NAME, else prints
# its LOG and exits.
wait_socket() {
  _i=0
  while [ ! -S "$2" ]; do
    _i=$((_i + 1))
    [ $_i -le 500 ] || { echo "$(basename "$0"): $1 did not start:" >&2; cat "$3" >&2; exit 1; }
    sleep 0.01
  done
}

# `medians FILE` reads bench_9p's result lines (a 44-column
# name, the figure, the unit, [min - max]) and prints name|median|unit for each workload, in the
# order they first appear.
medians() {
  sed -n -E 's/^(.{44}) +([0-9.]+) ([a-zA-Z/]+) +\[.*$/\1|\2|\3/p' "$1" | sed -E 's/ +\|/|/' |
    awk -F'|' '{
      if (!($1 in n)) { order[++k] = $1; unit[$1] = $3 }
      v[$1, ++n[$1]] = $2
    }
    END {
      for (i = 1; i <= k; i++) {
        name = order[i]; c = n[name]
        for (a = 1; a <= c; a++) x[a] = v[name, a] + 0
        for (a = 2; a <= c; a++) { t = x[a]; b = a - 1; while (b >= 1 && x[b] > t) { x[b + 1] = x[b]; b-- }; x[b + 1] = t }
        printf "%s|%s|%s\n", name, x[int((c + 1) / 2)], unit[name]
      }
    }'
}

# `compare RUNS DIR BASE OTHER BASE_LABEL OTHER_LABEL [bench_9p options...]`: RUNS runs of each
# bench_9p workload (msize 64 KiB) against the servers at DIR/BASE.sock and DIR/OTHER.sock, taking
# turns in rotating order, then a table of their medians and the change of OTHER against BASE in
# each figure's own direction (negative: OTHER is slower). With CONTROL=NAME, a third server at
# DIR/NAME.sock configured as BASE takes its turns too, and a last column gives its change
# against BASE: what this machine's noise alone makes of two identical servers.
# WORKLOADS="walk readdir" runs only those (bench_9p --only names).
compare() {
  _runs=$1 _dir=$2 _base=$3 _other=$4 _bl=$5 _ol=$6
  shift 6
  _servers="$_other $_base ${CONTROL:-}"
  _n=$(echo $_servers | wc -w)
  for _w in ${WORKLOADS:-walk write create readdir}; do
    _i=0
    while [ $_i -lt "$_runs" ]; do
      _k=0
      while [ $_k -lt "$_n" ]; do
        _t=$(echo $_servers | cut -d' ' -f$(((_i + _k) % _n + 1)))
        "$bench" --runs 1 --only "$_w" --msize 65536 "$@" "unix:$_dir/$_t.sock" >>"$_dir/$_t.txt"
        _k=$((_k + 1))
      done
      _i=$((_i + 1))
    done
  done
  medians "$_dir/$_base.txt" >"$_dir/b"
  medians "$_dir/$_other.txt" >"$_dir/a"
  if [ -n "${CONTROL:-}" ]; then
    medians "$_dir/$CONTROL.txt" >"$_dir/c"
    printf '\n%-42s %-8s %12s %12s %8s %9s\n' "workload" "unit" "$_bl" "$_ol" "change" "A/A"
  else
    cut -d'|' -f1-3 "$_dir/b" >"$_dir/c"
    printf '\n%-42s %-8s %12s %12s %8s\n' "workload" "unit" "$_bl" "$_ol" "change"
  fi
  paste -d'|' "$_dir/b" "$_dir/a" "$_dir/c" | awk -F'|' -v control="${CONTROL:-}" '
    function change(base, x) { return ($3 == "ms") ? (base / x - 1) * 100 : (x / base - 1) * 100 }
    {
      printf "%-42s %-8s %12.2f %12.2f %+7.1f%%", $1, $3, $2, $5, change($2, $5)
      if (control != "") printf " %+8.1f%%", change($2, $8)
      printf "\n"
    }'
}
