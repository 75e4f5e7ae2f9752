#!/bin/bash
# Runs the kernel test suite: the real Linux v9fs client, in a QEMU guest (software emulation, no
# network), mounting a host directory served by `ninep serve` (or diod) over a virtio-serial port
# that QEMU connects to the server's unix socket. Inside the guest, `ninep mount --via kernel`
# relays the port through a socketpair and hands one end to mount(2) with trans=fd.
#
#   run-suite.sh --work DIR --ninep BIN --ntest BIN [--server ninep|diod]
#                [--timeout SECONDS] [--idle-timeout SECONDS] [--only "CHECK..."] [--smp N]
#                [--guest-mount "CMD"] [--guest-umount "CMD"] [--guest-bin BIN]...
#                [--server-arg ARG]... [--keep] [--verbose]
#
# DIR holds the downloaded kernel (DIR/linux-image, reused between runs) and one directory per
# run (DIR/run.*, removed afterwards unless --keep). One guest boot runs every mount
# configuration. Prints one line per check (PASS/FAIL, failing commands shown), the timings of
# each check per configuration, and exits 0 only if everything passed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
work="" ninep="" ntest="" server=ninep timeout=1200 idle_timeout=300 keep=0 verbose=0 only="" smp=1
server_args=()
guest_mount="ninep mount --via kernel"
guest_umount="ninep umount"
guest_bins=()
while [ $# -gt 0 ]; do
  case "$1" in
    --work) work=$2; shift 2 ;;
    --ninep) ninep=$2; shift 2 ;;
    --ntest) ntest=$2; shift 2 ;;
    --server) server=$2; shift 2 ;;
    --timeout) timeout=$2; shift 2 ;;
    --idle-timeout) idle_timeout=$2; shift 2 ;;
    --guest-mount) guest_mount=$2; shift 2 ;;
    --guest-umount) guest_umount=$2; shift 2 ;;
    --guest-bin) guest_bins+=("$2"); shift 2 ;;
    --only) only=$2; shift 2 ;;
    --smp) smp=$2; shift 2 ;;
    --server-arg) server_args+=("$2"); shift 2 ;;
    --keep) keep=1; shift ;;
    --verbose) verbose=1; shift ;;
    *) echo "run-suite: unknown argument '$1'" >&2; exit 2 ;;
  esac
done
if [ -z "$work" ] || [ -z "$ntest" ] || { [ "$server" = ninep ] && [ -z "$ninep" ]; }; then
  echo "usage: run-suite.sh --work DIR --ninep BIN --ntest BIN [--server ninep|diod] ..." >&2
  exit 2
fi
for tool in qemu-system-x86_64 busybox cpio depmod; do
  command -v "$tool" >/dev/null || { echo "run-suite: $tool not found (run scripts/setup.sh)" >&2; exit 1; }
done
[ "$server" != diod ] || command -v diod >/dev/null || { echo "run-suite: diod not found" >&2; exit 1; }
for bin in "$ntest" ${ninep:+"$ninep"} ${guest_bins[@]+"${guest_bins[@]}"}; do
  [ -x "$bin" ] || { echo "run-suite: $bin is not an executable (build it first)" >&2; exit 1; }
done

mkdir -p "$work"
work=$(cd "$work" && pwd)
eval "$("$here/fetch-kernel.sh" "$work/linux-image")"  # KERNEL=..., MODULES=...

run=$(mktemp -d "$work/run.XXXXXX")
chmod 755 "$run"  # servers that drop privileges must reach the export
export_dir=$run/export
outside=$run/outside
sock=$run/9p.sock
server_pid=""
qemu_pid=""
cleanup() {
  if [ -n "$qemu_pid" ] && kill -0 "$qemu_pid" 2>/dev/null; then
    kill -9 "$qemu_pid" 2>/dev/null || true
  fi
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ "$keep" = 0 ]; then rm -rf "$run"; fi
}
trap cleanup EXIT
trap 'exit 143' INT TERM HUP

# ---- host fixtures -------------------------------------------------------------------------------
mkdir -p "$export_dir/fixtures/big10k" "$outside"
umask 022
echo "written on the host" >"$export_dir/fixtures/host-file.txt"
"$ntest" mkfiles "$export_dir/fixtures/big10k" 10000 f
echo "HOST-SECRET" >"$outside/secret"
chmod 0600 "$outside/secret"
setfattr -n user.secret -v HOST "$outside/secret"
ln -s "$outside" "$export_dir/fixtures/escape-abs"
ln -s ../../outside "$export_dir/fixtures/escape-rel"
ln -s "$outside/secret" "$export_dir/fixtures/escape-file"
secret_before=$(stat -c '%a %u:%g %s %Y' "$outside/secret")
host_fs_bytes=$(($(stat -f -c '%b * %S' "$export_dir")))

# ---- the server ----------------------------------------------------------------------------------
case "$server" in
  ninep)
    aname=kernel-test
    msize_cap=1048576
    # The guest's root acts as a VM's root on its own filesystem (chown, mknod, root-only
    # permissions), which is what --no-root-squash is for; tests/security covers the default.
    "$ninep" serve --export "$aname=$export_dir" --listen "unix:$sock" --no-root-squash \
      ${server_args[@]+"${server_args[@]}"} >"$run/server.log" 2>&1 &
    ;;
  diod)
    aname=$export_dir
    msize_cap=65536
    diod -f -n -c /dev/null -e "$export_dir" -l "$sock" -L "$run/server.log" \
      ${server_args[@]+"${server_args[@]}"} &
    ;;
  *) echo "run-suite: unknown server '$server'" >&2; exit 2 ;;
esac
server_pid=$!
for _ in $(seq 100); do
  [ -S "$sock" ] && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
if ! [ -S "$sock" ]; then
  echo "NINEP-TEST: FAIL host/server: the $server server did not listen on $sock"
  cat "$run/server.log" >&2 || true
  exit 1
fi

# ---- the guest -----------------------------------------------------------------------------------
cat >"$run/ninep-test.conf" <<EOF
MOUNT_CMD="$guest_mount"
UMOUNT_CMD="$guest_umount"
ANAME="$aname"
CONFIGS="none:none:131072 loose:loose:1048576"
EXPECT_MSIZE_CAP=$msize_cap
ESCAPE_ABS_TARGET="$outside"
HOST_FS_BYTES=$host_fs_bytes
ONLY="$only"
EOF
bins=(--bin "$ntest")
[ -z "$ninep" ] || bins+=(--bin "$ninep")
for bin in ${guest_bins[@]+"${guest_bins[@]}"}; do bins+=(--bin "$bin"); done
"$here/build-initramfs.sh" --modules "$MODULES" --init "$here/guest-init.sh" \
  --out "$run/initrd.img" "${bins[@]}" \
  --file "$here/guest-suite.sh:/suite.sh" --file "$run/ninep-test.conf:/etc/ninep-test.conf"

console=$run/console.log
# no_timer_check: under emulation on a busy host the kernel's IO-APIC timer check can miss ticks
# and panic ("IO-APIC + timer doesn't work"); the emulated timer is fine.
boot_start=$(date +%s)
qemu-system-x86_64 -accel tcg -m 1024 -smp "$smp" -nographic -nic none -no-reboot \
  -kernel "$KERNEL" -initrd "$run/initrd.img" -append "console=ttyS0 quiet panic=-1 no_timer_check" \
  -device virtio-serial -chardev "socket,id=c9p,path=$sock" \
  -device virtserialport,chardev=c9p,name=ninep </dev/null >"$console" 2>&1 &
qemu_pid=$!
tail_pid=""
if [ "$verbose" = 1 ]; then
  tail -n +1 -f "$console" &
  tail_pid=$!
fi
# A guest that stops making progress (no console output for $idle_timeout s: every check prints
# when it ends) or overruns $timeout s is killed and reported.
killed=""
last_size=-1
last_change=$boot_start
while kill -0 "$qemu_pid" 2>/dev/null; do
  sleep 1
  now=$(date +%s)
  size=$(stat -c %s "$console" 2>/dev/null || echo 0)
  if [ "$size" != "$last_size" ]; then
    last_size=$size
    last_change=$now
  fi
  if [ $((now - last_change)) -ge "$idle_timeout" ]; then
    killed="no output from the guest for ${idle_timeout}s"
  elif [ $((now - boot_start)) -ge "$timeout" ]; then
    killed="the guest did not finish within ${timeout}s"
  fi
  if [ -n "$killed" ]; then
    kill "$qemu_pid" 2>/dev/null || true
    sleep 2
    kill -9 "$qemu_pid" 2>/dev/null || true
    break
  fi
done
set +e
wait "$qemu_pid"
qemu_rc=$?
set -e
[ -z "$tail_pid" ] || kill "$tail_pid" 2>/dev/null || true
boot_seconds=$(($(date +%s) - boot_start))

# ---- results -------------------------------------------------------------------------------------
results=$run/results.txt
tr -d '\r' <"$console" | sed -n 's/.*\(NINEP-TEST: .*\)$/\1/p' >"$results"
failures=0
passes=0
fail() {
  echo "NINEP-TEST: FAIL $*"
  failures=$((failures + 1))
}

echo "== guest checks (kernel $(sed -n 's/^NINEP-TEST: BOOTED //p' "$results"), server: $server)"
grep -E '^NINEP-TEST: (PASS|FAIL|\|)' "$results" || true
passes=$(grep -c '^NINEP-TEST: PASS' "$results" || true)
failures=$(grep -c '^NINEP-TEST: FAIL' "$results" || true)
if [ -n "$killed" ]; then
  fail "host/guest: $killed; it was killed (console below)"
elif ! grep -q '^NINEP-TEST: DONE' "$results"; then
  fail "host/guest: the guest stopped before the end of the suite (qemu exit status $qemu_rc)"
fi
if ! kill -0 "$server_pid" 2>/dev/null; then
  fail "host/server: the $server server exited during the run"
fi

# ---- host-side view of what the guest left ------------------------------------------------------
hcheck() {  # NAME COMMAND...: a check on the host
  local name=$1 out
  shift
  if out=$("$@" 2>&1); then
    echo "NINEP-TEST: PASS host/$name"
    passes=$((passes + 1))
  else
    fail "host/$name: ${out:-$*}"
  fi
}
same_inode() { [ "$(stat -c %i "$1")" = "$(stat -c %i "$2")" ]; }
eq() { [ "$1" = "$2" ] || { echo "got '$1', expected '$2'"; return 1; }; }

host_configs="none loose"
[ -z "$only" ] || host_configs=""  # a partial run leaves nothing to check
for cfg in $host_configs; do
  k=$export_dir/$cfg/keep
  if ! [ -d "$k" ]; then
    fail "host/$cfg: the guest's directory $k does not exist"
    continue
  fi
  hcheck "$cfg/content" eq "$(cat "$k/data.txt" 2>&1)" "$(printf 'line one\nline two')"
  hcheck "$cfg/mode" eq "$(stat -c %a "$k/data.txt")" 640
  hcheck "$cfg/owner" eq "$(stat -c %u:%g "$k/data.txt")" 1234:5678
  hcheck "$cfg/dir" eq "$(stat -c '%F %a %u:%g' "$k/dir")" "directory 750 0:0"
  hcheck "$cfg/symlink" eq "$(readlink "$k/link")" data.txt
  hcheck "$cfg/hardlink" same_inode "$k/data.txt" "$k/hard"
  hcheck "$cfg/nlink" eq "$(stat -c %h "$k/data.txt")" 2
  hcheck "$cfg/fifo" eq "$(stat -c '%F %a' "$k/fifo")" "fifo 620"
  hcheck "$cfg/chardev" eq "$(stat -c '%F %t:%T' "$k/chr")" "character special file 1:3"
  hcheck "$cfg/mtime" eq "$(stat -c %Y "$k/timed")" 981173106
  hcheck "$cfg/xattr" eq "$(getfattr --absolute-names --only-values -n user.ninep "$k/xattr" 2>&1)" "guest value"
  hcheck "$cfg/unlinked" test ! -e "$k/deleted"
  hcheck "$cfg/renamed" eq "$(cat "$k/renamed" 2>&1)" moved
  hcheck "$cfg/many_files" eq "$(find "$k/many" -type f | wc -l)" 500
  guest_sum=$(sed -n "s|^NINEP-TEST: SHA256 $cfg/keep/big ||p" "$results")
  if [ -n "$guest_sum" ]; then
    hcheck "$cfg/big_sha256" eq "$(sha256sum <"$k/big" | cut -d' ' -f1)" "$guest_sum"
  else
    fail "host/$cfg/big_sha256: the guest reported no checksum for keep/big"
  fi
done
[ -n "$only" ] || {
hcheck escape/secret_untouched eq "$(cat "$outside/secret") $(stat -c '%a %u:%g %s %Y' "$outside/secret")" \
  "HOST-SECRET $secret_before"
hcheck escape/outside_unchanged eq "$(ls -A "$outside" | tr '\n' ' ')" "secret "
hcheck escape/outside_owner eq "$(stat -c %u:%g "$outside")" 0:0
hcheck escape/secret_links eq "$(stat -c %h "$outside/secret")" 1
for cfg in none loose; do
  hcheck "escape/$cfg/hardlink_is_symlink" test -L "$export_dir/$cfg/keep/escape-hardlink"
done
hcheck escape/lchown_on_link eq "$(stat -c %u "$export_dir/fixtures/escape-abs")" 4322
}

# ---- timings -------------------------------------------------------------------------------------
echo "== timings (ms, guest clock, TCG emulation)"
awk '/^NINEP-TEST: TIME / {
       split($3, p, "/"); cfg = p[1]; name = p[2];
       if (!(name in seen)) { seen[name] = 1; order[++n] = name }
       t[cfg, name] = $4; total[cfg] += $4
     }
     END {
       printf "%-22s %10s %10s\n", "check", "none", "loose";
       for (i = 1; i <= n; i++) {
         nm = order[i];
         if (("setup", nm) in t) { printf "%-22s %10s\n", "setup/" nm, t["setup", nm]; continue }
         printf "%-22s %10s %10s\n", nm, t["none", nm], t["loose", nm]
       }
       printf "%-22s %10d %10d\n", "total", total["none"], total["loose"]
     }' "$results"
grep '^NINEP-TEST: INFO' "$results" | sed 's/^NINEP-TEST: /  /' || true

if [ "$failures" -gt 0 ]; then
  echo "== kernel messages from the console"
  tr -d '\r' <"$console" | grep -E '^\[ *[0-9]+\.[0-9]+\]' | tail -n 40 || true
  echo "== console (last 60 lines)"
  tr -d '\r' <"$console" | grep -v '^NINEP-TEST' | tail -n 60 || true
  echo "== server log (last 40 lines)"
  tail -n 40 "$run/server.log" 2>/dev/null || true
  mkdir -p "$work/last-failure"
  cp "$console" "$run/server.log" "$run/ninep-test.conf" "$work/last-failure/" 2>/dev/null || true
  echo "(console and server log kept in $work/last-failure)"
fi
echo "kernel suite: $passes passed, $failures failed; guest ran ${boot_seconds}s (server: $server)"
[ "$failures" -eq 0 ]
