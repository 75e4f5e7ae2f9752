#!/bin/sh
# Builds the .deb from a built tree (cpack), installs it with apt, checks the installed files and
# serves + mounts (FUSE) a directory from them, then purges the package. Run as root; every step
# is bounded in time, and a trap unmounts, stops the server and purges the package on failure.
#   scripts/package_test.sh [BUILD_DIR]    (default build/, as scripts/test.sh leaves it)
set -eu
cd "$(dirname "$0")/.."
start=$(date +%s)
fail() { echo "package_test: FAILED: $*" >&2; exit 1; }
[ -f "${1:-build}/CMakeCache.txt" ] || fail "${1:-build} is not a configured build directory"
build=$(cd "${1:-build}" && pwd)
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$build/CMakeCache.txt")
[ -n "$version" ] || fail "no project version in $build/CMakeCache.txt"
[ "$(id -u)" = 0 ] || fail "needs root (apt-get install, FUSE mounts)"
if dpkg-query -W -f='${Status}' ninep 2>/dev/null | grep -q "install ok installed"; then
  fail "a ninep package is already installed; remove it first (apt-get purge ninep)"
fi
export DEBIAN_FRONTEND=noninteractive

work=$(mktemp -d /tmp/ninep-package-test.XXXXXX)
server=""
cleanup() {
  rc=$?
  trap - EXIT INT TERM
  if mountpoint -q "$work/mnt" 2>/dev/null; then
    timeout 10 /usr/bin/ninep umount "$work/mnt" 2>/dev/null || umount -l "$work/mnt" 2>/dev/null || true
  fi
  if [ -n "$server" ]; then
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
  fi
  if dpkg-query -W ninep >/dev/null 2>&1; then
    timeout 60 apt-get purge -y -qq ninep >/dev/null 2>&1 || echo "package_test: could not purge ninep" >&2
  fi
  rm -rf "$work"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The package, from the install rules of the built tree.
rm -f "$build"/ninep_*.deb
(cd "$build" && timeout 120 cpack -G DEB >"$work/cpack.log" 2>&1) ||
  fail "cpack failed: $(tail -20 "$work/cpack.log")"
deb=$(ls "$build"/ninep_"$version"_*.deb 2>/dev/null) || fail "cpack made no ninep_${version}_*.deb"
echo "package_test: $(basename "$deb"), $(du -k "$deb" | cut -f1) KiB"
echo "package_test: Depends: $(dpkg-deb -f "$deb" Depends)"
dpkg-deb -f "$deb" Depends | grep -q 'fuse3' || fail "the package does not depend on fuse3"
dpkg-deb -f "$deb" Depends | grep -q 'libc6' || fail "no shared library dependencies (dpkg-shlibdeps)"

# Everything it depends on is already on the machine: apt installs it without the network.
timeout 60 apt-get install -y -qq "$deb" >"$work/apt.log" 2>&1 ||
  fail "apt-get install failed: $(tail -20 "$work/apt.log")"

# From here on, the installed files only.
for bin in ninep cbpf; do
  out=$(timeout 10 /usr/bin/$bin --version) || fail "/usr/bin/$bin --version failed"
  case "$out" in  # "ninep 0.3.0", or with the commit: "ninep 0.3.0 (git 4d7a8b2)"
    "$bin $version" | "$bin $version "*) ;;
    *) fail "/usr/bin/$bin --version printed '$out', not '$bin $version'" ;;
  esac
done
for bin in /usr/bin/ninep /usr/bin/cbpf; do
  if readelf -d "$bin" | grep -Eq 'RPATH|RUNPATH'; then fail "$bin has an RPATH"; fi
  if readelf -S "$bin" | grep -q '\.debug_info'; then fail "$bin is not stripped"; fi
done
for page in ninep ninep-serve ninep-mount ninep-client cbpf; do
  f=/usr/share/man/man1/$page.1.gz
  [ -f "$f" ] || fail "no man page $f"
  gzip -dc "$f" | grep -q '^\.SH "*NAME' || fail "$f is not a man page"
done
for c in ninep cbpf; do
  f=/usr/share/bash-completion/completions/$c
  grep -q "complete .*$c" "$f" 2>/dev/null || fail "no bash completion for $c in $f"
done
unit=/usr/lib/systemd/system/ninep-serve@.service
[ -f "$unit" ] || fail "no $unit"
grep -q '^ExecStart=/usr/bin/ninep serve ' "$unit" ||
  fail "$unit: ExecStart= does not start /usr/bin/ninep: $(grep ExecStart= "$unit")"
[ -f /usr/lib/systemd/system/ninep-serve@.socket ] || fail "no ninep-serve@.socket"
for f in README.md README.systemd.md; do
  [ -f "/usr/share/doc/ninep/$f" ] || fail "no /usr/share/doc/ninep/$f"
done

# Serve a directory and mount it through FUSE, both from the package.
mkdir "$work/export" "$work/mnt"
chmod 0777 "$work/export"  # root is squashed to nobody (the default): let nobody write here
echo "from the host" >"$work/export/host.txt"
/usr/bin/ninep serve "$work/export" --listen "unix:$work/sock" 2>"$work/serve.log" &
server=$!
i=0
until [ -S "$work/sock" ]; do
  i=$((i + 1))
  [ $i -le 100 ] || fail "the server did not listen within 10 s: $(cat "$work/serve.log")"
  kill -0 "$server" 2>/dev/null || fail "the server exited: $(cat "$work/serve.log")"
  sleep 0.1
done
timeout 20 /usr/bin/ninep mount --via fuse --daemon "unix:$work/sock" "$work/mnt" ||
  fail "ninep mount --via fuse failed"
mountpoint -q "$work/mnt" || fail "nothing mounted on $work/mnt"
out=$(timeout 10 cat "$work/mnt/host.txt") || fail "reading host.txt through the mount"
[ "$out" = "from the host" ] || fail "host.txt read through the mount: '$out'"
timeout 10 sh -c 'echo "from the mount" >"$1"' sh "$work/mnt/guest.txt" ||
  fail "writing guest.txt through the mount"
[ "$(cat "$work/export/guest.txt")" = "from the mount" ] || fail "the write did not reach the host"
[ "$(stat -c %u "$work/export/guest.txt")" = 65534 ] || fail "root was not squashed to 65534"
timeout 10 /usr/bin/ninep umount "$work/mnt" || fail "ninep umount failed"
if mountpoint -q "$work/mnt"; then fail "still mounted after ninep umount"; fi
kill "$server"
wait "$server" 2>/dev/null || true
server=""

timeout 60 apt-get purge -y -qq ninep >/dev/null 2>&1 || fail "apt-get purge ninep failed"
for f in /usr/bin/ninep /usr/bin/cbpf "$unit" /usr/lib/systemd/system/ninep-serve@.socket \
  /usr/share/man/man1/ninep.1.gz /usr/share/man/man1/cbpf.1.gz \
  /usr/share/bash-completion/completions/ninep /usr/share/doc/ninep; do
  [ ! -e "$f" ] || fail "$f is still there after apt-get purge"
done
if dpkg-query -W ninep >/dev/null 2>&1; then fail "dpkg still knows ninep after purge"; fi
echo "package_test: built, installed, served and mounted from the package, purged: ok ($(( $(date +%s) - start )) s)"
