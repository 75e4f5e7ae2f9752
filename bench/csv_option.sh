# Sourced by the bench scripts (`. bench/csv_option.sh` before they read their arguments): takes
# "--csv FILE" out of the positional parameters, wherever it is, into $csv, and keeps the other
# arguments in their order.
csv=""
_n=$#
while [ "$_n" -gt 0 ]; do
  _a=$1
  shift
  _n=$((_n - 1))
  if [ "$_a" = --csv ]; then
    [ "$_n" -gt 0 ] || { echo "$(basename "$0"): --csv needs a FILE" >&2; exit 2; }
    csv=$1
    shift
    _n=$((_n - 1))
  else
    set -- "$@" "$_a"
  fi
done
unset _n _a
