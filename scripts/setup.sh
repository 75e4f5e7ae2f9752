#!/bin/sh
# Installs everything ninep needs to build, test and benchmark on Debian 12 (run as root).
set -eu
export DEBIAN_FRONTEND=noninteractive
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO=sudo
PKGS="cmake ninja-build g++ make pkg-config git clang-16 libclang-rt-16-dev clang-format
  libfmt-dev libspdlog-dev libcli11-dev libgtest-dev libgmock-dev libbenchmark-dev
  libfuse3-dev fuse3 libpcap-dev tcpdump diod attr libsystemd-dev systemd
  qemu-system-x86 busybox-static cpio zstd xz-utils kmod
  golang-go golang-golang-x-net-dev nlohmann-json3-dev jq scdoc dpkg-dev gnuplot-nox"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends $missing
fi
