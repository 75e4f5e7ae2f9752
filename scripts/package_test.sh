#!/bin/sh
# Builds the .deb from a built tree (cpack), installs it with apt, checks the installed files and
# serves + mounts (FUSE) a directory from them, then purges the package. Run as root.
#   scripts/package_test.sh [BUILD_DIR]    (default build/, as scripts/test.sh leaves it)
set -eu
cd "$(dirname "$0")/.."
build=$(cd "${1:-build}" && pwd)
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
fail() { echo "package_test: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || fail "needs root (apt-get install, FUSE mounts)"
dpkg-query -W -f='${Status}' ninep 2>/dev/null | grep -q "install ok installed" &&
  fail "a ninep package is already installed; remove it first (apt-get purge ninep)"

rm -f "$build"/ninep_*.deb
(cd "$build" && cpack -G DEB >/dev/null) || fail "cpack failed"
deb=$(ls "$build"/ninep_"$version"_*.deb)
echo "package_test: $(basename "$deb"): Depends: $(dpkg-deb -f "$deb" Depends)"

work=$(mktemp -d /tmp/ninep-package-test.XXXXXX)
server=""
cleanup() {
  mountpoint -q "$work/mnt" 2>/dev/null && { /usr/bin/ninep umount "$work/mnt" || umount -l "$work/mnt"; }
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null
  dpkg-query -W ninep >/dev/null 2>&1 && apt-get purge -y -qq ninep >/dev/null 2>&1
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

# Everything it depends on is already here: apt installs it without the network.
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$deb" >/dev/null ||
  fail "apt-get install failed"

# The installed files only, from here on.
/usr/bin/ninep --version | grep -q "^ninep $version" || fail "ninep --version: $(/usr/bin/ninep --version)"
/usr/bin/cbpf --version | grep -q "^cbpf $version" || fail "cbpf --version: $(/usr/bin/cbpf --version)"
for page in ninep ninep-serve ninep-mount ninep-client cbpf; do
  f=/usr/share/man/man1/$page.1.gz
  zcat "$f" | grep -q '^\.SH' || fail "$f is missing or not a man page"
done
for c in ninep cbpf; do
  grep -q "complete -F" "/usr/share/bash-completion/completions/$c" || fail "no bash completion for $c"
done
unit=/usr/lib/systemd/system/ninep-serve@.service
grep -q '^ExecStart=ninep serve ' "$unit" || fail "$unit: unexpected ExecStart"
[ -f /usr/lib/systemd/system/ninep-serve@.socket ] || fail "no ninep-serve@.socket"
[ -f /usr/share/doc/ninep/README.md ] || fail "no README in /usr/share/doc/ninep"

# Serve a directory and mount it through FUSE, both from the package.
mkdir "$work/export" "$work/mnt"
chmod 0777 "$work/export"  # root is squashed to nobody (the default): let nobody write here
echo "from the host" >"$work/export/host.txt"
/usr/bin/ninep serve "$work/export" --listen "unix:$work/sock" 2>"$work/serve.log" &
server=$!
i=0
until [ -S "$work/sock" ]; do
  i=$((i + 1)); [ $i -le 500 ] || fail "the server did not start: $(cat "$work/serve.log")"
  sleep 0.01
done
timeout 20 /usr/bin/ninep mount --via fuse --daemon "unix:$work/sock" "$work/mnt" ||
  fail "ninep mount failed"
[ "$(timeout 10 cat "$work/mnt/host.txt")" = "from the host" ] || fail "reading through the mount"
echo "from the mount" >"$work/mnt/guest.txt" || fail "writing through the mount"
[ "$(cat "$work/export/guest.txt")" = "from the mount" ] || fail "the write did not reach the host"
[ "$(stat -c %u "$work/export/guest.txt")" = 65534 ] || fail "root was not squashed to 65534"
/usr/bin/ninep umount "$work/mnt" || fail "ninep umount failed"
! mountpoint -q "$work/mnt" || fail "still mounted after ninep umount"
kill "$server"; wait "$server" 2>/dev/null || true
server=""

DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq ninep >/dev/null || fail "apt-get purge failed"
for f in /usr/bin/ninep /usr/bin/cbpf "$unit" /usr/share/man/man1/ninep.1.gz \
  /usr/share/bash-completion/completions/ninep /usr/share/doc/ninep; do
  [ ! -e "$f" ] || fail "$f is still there after purge"
done
echo "package_test: installed, served and mounted from the package, purged: ok"
