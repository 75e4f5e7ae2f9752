#!/bin/sh
# Downloads Debian's linux-image-amd64 kernel (the versioned package it depends on, and only that)
# into DIR with `apt-get download`, unpacks it there with `dpkg -x` and generates modules.dep for
# it. Nothing is installed. Reuses what an earlier run left in DIR.
# Prints two lines: KERNEL=<vmlinuz> and MODULES=<lib/modules/VERSION directory>.
set -eu
dir=${1:?usage: fetch-kernel.sh DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
root="$dir/root"

find_unpacked() {
  vmlinuz=$(ls "$root"/boot/vmlinuz-* 2>/dev/null | head -n1 || true)
  [ -n "$vmlinuz" ] || return 1
  version=${vmlinuz##*/vmlinuz-}
  moddir="$root/lib/modules/$version"
  [ -f "$moddir/modules.dep" ] || return 1
}

if ! find_unpacked; then
  # linux-image-amd64 is a metapackage; the kernel itself is the versioned package it depends on.
  resolve() {
    apt-cache depends linux-image-amd64 2>/dev/null |
      sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n1
  }
  pkg=$(resolve)
  if [ -z "$pkg" ]; then
    apt-get update -qq >&2 || true
    pkg=$(resolve)
  fi
  [ -n "$pkg" ] || { echo "fetch-kernel: cannot resolve linux-image-amd64 with apt-cache" >&2; exit 1; }
  deb=$(ls "$dir"/"$pkg"_*.deb 2>/dev/null | head -n1 || true)
  if [ -z "$deb" ]; then
    echo "fetch-kernel: downloading $pkg" >&2
    # apt drops privileges to _apt for downloads; it cannot write to build folders, so the
    # download runs as the caller (what apt would warn about anyway).
    (cd "$dir" && apt-get download -q -o APT::Sandbox::User=root "$pkg" >&2)
    deb=$(ls "$dir"/"$pkg"_*.deb | head -n1)
  fi
  rm -rf "$root"
  dpkg -x "$deb" "$root"
  vmlinuz=$(ls "$root"/boot/vmlinuz-* | head -n1)
  version=${vmlinuz##*/vmlinuz-}
  depmod -b "$root" "$version"
  find_unpacked || { echo "fetch-kernel: $deb did not unpack as expected" >&2; exit 1; }
fi
echo "KERNEL=$vmlinuz"
echo "MODULES=$moddir"
