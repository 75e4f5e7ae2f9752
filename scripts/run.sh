#!/bin/sh
# The main job: set up, build, serve DIR over 9P2000.L on a unix socket and mount it at MOUNTPOINT
# (through the kernel's 9p when it has it, else FUSE). Ctrl-C unmounts and stops the server.
# Usage: scripts/run.sh [DIR] [MOUNTPOINT]     (defaults: the current directory, /tmp/ninep-mnt)
set -eu
DIR=$(realpath "${1:-.}")
MNT=${2:-/tmp/ninep-mnt}
cd "$(dirname "$0")/.."
sh scripts/setup.sh
sh scripts/build.sh build
NINEP=$(pwd)/build/tools/ninep/ninep
SOCK=${TMPDIR:-/tmp}/ninep-run-$$.sock
mkdir -p "$MNT"
# One user serves and mounts on one host: requests come from that same user, so squashing root
# (the default, for guests) would only lock root out of its own files.
"$NINEP" serve --export "export=$DIR" --listen "unix:$SOCK" --no-root-squash &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null' EXIT INT TERM
i=0
while [ ! -S "$SOCK" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
echo "serving $DIR on unix:$SOCK, mounting at $MNT (Ctrl-C to unmount and stop)"
"$NINEP" mount "unix:$SOCK" "$MNT"
