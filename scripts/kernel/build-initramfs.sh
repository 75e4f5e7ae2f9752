#!/bin/sh
# Builds the guest's initramfs (cpio newc, zstd or gzip): static busybox with its applets, the
# kernel modules the 9p mount needs (with their dependencies, in load order), the given programs
# with the shared libraries they need (ldd, loader included), /init and the guest test suite.
#
#   build-initramfs.sh --modules DIR --init FILE --out FILE [--bin PROGRAM]... [--file SRC:DEST]...
set -eu

modules="" init="" out="" bins="" files=""
while [ $# -gt 0 ]; do
  case "$1" in
    --modules) modules=$2; shift 2 ;;
    --init) init=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --bin) bins="$bins $2"; shift 2 ;;
    --file) files="$files $2"; shift 2 ;;
    *) echo "build-initramfs: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ -n "$modules" ] && [ -n "$init" ] && [ -n "$out" ] || {
  echo "usage: build-initramfs.sh --modules DIR --init FILE --out FILE [--bin P]... [--file S:D]..." >&2
  exit 2
}

busybox=$(command -v busybox) || { echo "build-initramfs: busybox not found (busybox-static)" >&2; exit 1; }
file -L "$busybox" 2>/dev/null | grep -q 'statically linked' ||
  ldd "$busybox" 2>&1 | grep -q 'not a dynamic executable' ||
  { echo "build-initramfs: $busybox is not static (install busybox-static)" >&2; exit 1; }

stage=$(mktemp -d "${out%/*}/initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bin" "$stage/dev" "$stage/proc" "$stage/sys" "$stage/tmp" "$stage/mnt" \
  "$stage/etc" "$stage/lib/modules" "$stage/root"

cp "$busybox" "$stage/bin/busybox"
for applet in $("$busybox" --list); do
  [ "$applet" = busybox ] || ln -s busybox "$stage/bin/$applet"
done

# Modules: the wanted ones plus what modules.dep says they need. A module's dependencies are
# listed with the one to load first last, so loading them in reverse order, then the module
# itself, respects every dependency.
wanted="virtio_pci virtio_console netfs fscache 9pnet 9pnet_fd 9p"
order=""
add_module() {  # $1 = path relative to the modules directory
  case " $order " in *" $1 "*) return ;; esac
  order="$order $1"
}
for name in $wanted; do
  line=$(grep -E "(^|/)$name\.ko(\.[a-z]+)?:" "$modules/modules.dep" | head -n1) ||
    { echo "build-initramfs: module $name not in $modules/modules.dep" >&2; exit 1; }
  path=${line%%:*}
  deps=${line#*:}
  reversed=""
  for dep in $deps; do reversed="$dep $reversed"; done
  for dep in $reversed; do add_module "$dep"; done
  add_module "$path"
done
: >"$stage/lib/modules/load-order"
for path in $order; do
  base=${path##*/}
  case "$base" in
    *.ko) cp "$modules/$path" "$stage/lib/modules/$base" ;;
    *.ko.xz) xz -dc "$modules/$path" >"$stage/lib/modules/${base%.xz}" ;;
    *.ko.zst) zstd -qdc "$modules/$path" >"$stage/lib/modules/${base%.zst}" ;;
    *.ko.gz) gzip -dc "$modules/$path" >"$stage/lib/modules/${base%.gz}" ;;
    *) echo "build-initramfs: unexpected module file $path" >&2; exit 1 ;;
  esac
  base=${base%.ko*}
  echo "$base" >>"$stage/lib/modules/load-order"
done

# Programs and the libraries they load, at the same paths as on the host.
copy_with_libs() {
  prog=$1
  cp "$prog" "$stage/bin/${prog##*/}"
  strip --strip-debug "$stage/bin/${prog##*/}" 2>/dev/null || true
  ldd "$prog" 2>/dev/null | awk '/=> \// {print $3} /^[[:space:]]*\// {print $1}' |
    while read -r lib; do
      [ -e "$stage$lib" ] && continue
      mkdir -p "$stage${lib%/*}"
      cp -L "$lib" "$stage$lib"
      strip --strip-debug "$stage$lib" 2>/dev/null || true
    done
}
for prog in $bins; do copy_with_libs "$prog"; done
for spec in $files; do
  src=${spec%%:*}
  dest=${spec#*:}
  mkdir -p "$stage${dest%/*}"
  cp "$src" "$stage$dest"
done
cp "$init" "$stage/init"
chmod 755 "$stage/init"

if command -v zstd >/dev/null 2>&1; then
  compress="zstd -q -3 -T0"
else
  compress="gzip -1"
fi
(cd "$stage" && find . | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) | $compress >"$out.tmp"
mv "$out.tmp" "$out"
