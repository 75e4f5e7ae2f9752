#!/bin/sh
# The guest test suite (busybox sh), run by /init with the virtio-serial port as $1. For each mount
# configuration in $CONFIGS it mounts the export with the real v9fs client through
# `$MOUNT_CMD ... fd:3 DIR 3<>PORT` (our kernel-mount path, relaying the port through a
# socketpair), runs every check in its own directory, unmounts, and goes on with the next one.
#
# Output, one line each on the console: "NINEP-TEST: PASS cfg/name (N ms)",
# "NINEP-TEST: FAIL cfg/name: ..." followed by "NINEP-TEST: | ..." lines (the traced commands, the
# failing one last), "NINEP-TEST: TIME cfg/name MS", "NINEP-TEST: INFO ...", and
# "NINEP-TEST: SHA256 path sum" for the host-side comparison.
port=$1
. /etc/ninep-test.conf
# From the config: MOUNT_CMD, UMOUNT_CMD, ANAME, CONFIGS ("name:cache:msize ..."), EXPECT_MSIZE_CAP,
# ESCAPE_ABS_TARGET, HOST_FS_BYTES, ONLY (when set: run only these checks, for debugging).
MNT=/mnt/9p
F=$MNT/fixtures
mkdir -p $MNT

say() { echo "NINEP-TEST: $*"; }
now() { ntest now; }

# t NAME FUNCTION: runs FUNCTION in a subshell with -e and -x in the current configuration's
# directory; a failure prints the last traced commands (the failing one last).
t() {
  local name=$1 start out rc ms
  shift
  if [ -n "$ONLY" ]; then
    case " $ONLY " in *" $name "*) ;; *) return 0 ;; esac
  fi
  start=$(now)
  out=$( (set -ex; "$@") 2>&1)
  rc=$?
  ms=$(($(now) - start))
  if [ $rc -eq 0 ]; then
    say "PASS $CFG/$name ($ms ms)"
  else
    say "FAIL $CFG/$name: exit status $rc; the failing command is the last one below"
    printf '%s\n' "$out" | tail -n 15 | sed 's/^/NINEP-TEST: | /'
  fi
  say "TIME $CFG/$name $ms"
  printf '%s\n' "$out" | grep '^INFO ' | sed "s/^INFO /NINEP-TEST: INFO $CFG\/$name: /"
  return $rc
}

# ---- the checks ----------------------------------------------------------------------------------

check_ls_la() {
  ls -la $MNT >/tmp/ls.out
  grep -q ' fixtures$' /tmp/ls.out
  grep -q ' \.\.$' /tmp/ls.out
  ls -la $F | grep -q ' host-file.txt$'
  [ "$(cat $F/host-file.txt)" = "written on the host" ]
  [ "$(stat -c %a $F/host-file.txt)" = 644 ]
}

check_file_ops() {
  echo "first line" >f
  [ "$(cat f)" = "first line" ]
  echo "second line" >>f
  [ "$(cat f)" = "$(printf 'first line\nsecond line')" ]
  [ "$(stat -c %s f)" = 23 ]
  truncate -s 5 f
  [ "$(cat f)" = first ]
  [ "$(stat -c %s f)" = 5 ]
  truncate -s 100000 f
  [ "$(stat -c %s f)" = 100000 ]
  [ "$(dd if=f bs=1 skip=99999 count=1 2>/dev/null | od -An -tx1 | tr -d ' ')" = 00 ]
  printf 'XY' | dd of=f bs=1 seek=2 conv=notrunc 2>/dev/null
  [ "$(head -c 5 f)" = fiXYt ]
  mv f g
  [ ! -e f ]
  [ -f g ]
  mkdir sub
  mv g sub/h
  [ "$(head -c 5 sub/h)" = fiXYt ]
  rm sub/h
  [ ! -e sub/h ]
  rmdir sub
  dd if=/dev/zero of=synced bs=4k count=3 conv=fsync 2>/dev/null
  [ "$(stat -c %s synced)" = 12288 ]
  rm synced
  # Names: spaces, UTF-8, the longest a name may be (255 bytes), one byte more.
  long=$(awk 'BEGIN { while (i++ < 255) printf "n" }')
  echo s >"name with spaces"
  echo u >"ünïcødé-名前"
  echo l >"$long"
  [ "$(cat "name with spaces")$(cat "ünïcødé-名前")$(cat "$long")" = sul ]
  # (busybox ls prints non-ASCII bytes as '?'; find prints names as they are)
  [ "$(find . -maxdepth 1 -name "ünïcødé-名前")" = "./ünïcødé-名前" ]
  [ "$(find . -maxdepth 1 -name "$long")" = "./$long" ]
  if (echo x >"${long}x") 2>/tmp/err; then false; fi
  grep -q 'too long' /tmp/err
  rm "name with spaces" "ünïcødé-名前" "$long"
  echo a >r1
  echo b >r2
  mv r1 r2
  [ "$(cat r2)" = a ]
  [ ! -e r1 ]
  rm r2
}

check_unlink_open() {
  echo "still here" >u
  exec 4<u
  rm u
  [ ! -e u ]
  [ "$(cat <&4)" = "still here" ]
  exec 4<&-
}

check_dirs() {
  mkdir -p a/b/c
  [ -d a/b/c ]
  if rmdir a 2>/tmp/err; then false; fi
  grep -q 'not empty' /tmp/err
  rmdir a/b/c a/b a
  [ ! -e a ]
  mkdir d1
  mv d1 d2
  [ -d d2 ]
  [ ! -e d1 ]
  rmdir d2
  mkdir -m 0700 pd
  [ "$(stat -c %a pd)" = 700 ]
  [ "$(ls -la pd | grep -c ' \.\.*$')" = 2 ]
  rmdir pd
}

check_symlink() {
  echo target-data >tgt
  ln -s tgt lnk
  [ -L lnk ]
  [ "$(readlink lnk)" = tgt ]
  [ "$(cat lnk)" = target-data ]
  ls -l lnk | grep -q 'lnk -> tgt$'
  ln -s /nonexistent/path dangling
  [ "$(readlink dangling)" = /nonexistent/path ]
  [ ! -e dangling ]
  target=$(awk 'BEGIN { while (i++ < 50) printf "/very/long/target" }')
  ln -s "$target" longlink
  [ "$(readlink longlink)" = "$target" ]
  rm longlink
  mkdir sd
  ln -s ../tgt sd/up
  [ "$(cat sd/up)" = target-data ]
  rm sd/up lnk dangling tgt
  rmdir sd
}

check_hardlink() {
  echo data >h1
  ln h1 h2
  [ "$(stat -c %h h1)" = 2 ]
  [ "$(stat -c %i h1)" = "$(stat -c %i h2)" ]
  echo more >>h2
  [ "$(cat h1)" = "$(printf 'data\nmore')" ]
  rm h1
  [ "$(stat -c %h h2)" = 1 ]
  rm h2
}

check_chmod_chown() {
  touch p
  chmod 0751 p
  [ "$(stat -c %a p)" = 751 ]
  chmod 4755 p
  [ "$(stat -c %a p)" = 4755 ]
  chmod 0600 p
  [ "$(stat -c %a p)" = 600 ]
  chown 1234:5678 p
  [ "$(stat -c %u:%g p)" = 1234:5678 ]
  chgrp 77 p
  [ "$(stat -c %u:%g p)" = 1234:77 ]
  chown 0:0 p
  [ "$(stat -c %u:%g p)" = 0:0 ]
  mkdir cd1
  chmod 0705 cd1
  [ "$(stat -c %a cd1)" = 705 ]
  rmdir cd1
  rm p
}

check_times() {
  touch -d '2001-02-03 04:05:06' tm
  [ "$(stat -c %Y tm)" = 981173106 ]
  [ "$(stat -c %X tm)" = 981173106 ]
  echo x >>tm
  [ "$(stat -c %Y tm)" -gt 981173106 ]
  touch -d '1999-12-31 23:59:59' tm
  [ "$(stat -c %Y tm)" = 946684799 ]
  rm tm
}

check_special() {
  mkfifo fifo
  [ -p fifo ]
  (echo through-the-fifo >fifo &)
  [ "$(cat fifo)" = through-the-fifo ]
  mknod cdev c 1 3
  [ -c cdev ]
  [ "$(stat -c %t:%T cdev)" = 1:3 ]
  [ -z "$(cat cdev)" ]
  mknod bdev b 7 0
  [ -b bdev ]
  [ "$(stat -c %t:%T bdev)" = 7:0 ]
  rm fifo cdev bdev
}

check_xattr() {
  touch xf
  ntest xattr set xf user.ninep "guest value"
  [ "$(ntest xattr get xf user.ninep)" = "guest value" ]
  ntest xattr list xf | grep -qx user.ninep
  ntest xattr setsize xf user.big 3000
  [ "$(ntest xattr get xf user.big | wc -c)" = 3001 ]
  ntest xattr set xf user.ninep "replaced"
  [ "$(ntest xattr get xf user.ninep)" = replaced ]
  ntest xattr remove xf user.ninep
  if ntest xattr get xf user.ninep 2>/tmp/err; then false; fi
  grep -q 'No data' /tmp/err
  rm xf
}

check_exec_mmap() {
  # Programs run from the share are mapped from it.
  cp /bin/ntest prog
  [ "$(./prog lstat prog)" = "file $(stat -c %s /bin/ntest)" ]
  ntest mmap prog readonly
  if [ "$CACHE" = none ]; then
    # Without a page cache v9fs refuses shared writable mappings (EINVAL).
    if ntest mmap mapped shared 2>/tmp/err; then false; fi
    grep -q 'Invalid argument' /tmp/err
  else
    echo 3 >/proc/sys/vm/drop_caches
    ntest mmap mapped shared
  fi
  rm -f prog mapped
}

check_locks() {
  touch lk
  echo "INFO flock: $(ntest locks lk flock)"
  echo "INFO posix: $(ntest locks lk posix)"
  rm lk
}

check_df() {
  df $MNT | tail -n 1 >/tmp/df.out
  cat /tmp/df.out
  [ "$(awk '{print $2}' /tmp/df.out)" -gt 0 ]
  blocks=$(stat -f -c %b $MNT)
  bsize=$(stat -f -c %S $MNT)
  [ "$blocks" -gt 0 ]
  total=$((blocks * bsize))
  echo "INFO statfs total $total bytes, host $HOST_FS_BYTES"
  # The export's file system as the host sees it (1% slack for rounding of units).
  [ "$total" -ge $((HOST_FS_BYTES - HOST_FS_BYTES / 100)) ]
  [ "$total" -le $((HOST_FS_BYTES + HOST_FS_BYTES / 100)) ]
}

check_latency() {
  # One stat is a walk, a getattr and a clunk (cache=none), or nothing at all (cached).
  echo "INFO $(ntest statloop $F/host-file.txt 500)"
}

check_bigdir_count() {
  # Counts (no duplicates, none lost), then rewinddir and seekdir to telldir positions.
  ntest dircheck $F/big10k 10000
}

check_bigdir_stat() {
  ls -l $F/big10k >/tmp/ls-l.out 2>/tmp/ls-l.err
  [ ! -s /tmp/ls-l.err ]
  [ "$(grep -c '^-rw-r--r--' /tmp/ls-l.out)" = 10000 ]
}

check_guest_dir() {
  mkdir -p keep/many
  ntest mkfiles keep/many 500 g
  ntest dircheck keep/many 500 --stat
}

check_bigfile_write() {
  cp /tmp/big keep/big
  sync
  [ "$(stat -c %s keep/big)" = 67108864 ]
}

check_bigfile_read() {
  # Dropping the guest's caches makes the data really come back from the server.
  echo 3 >/proc/sys/vm/drop_caches
  cat keep/big >/tmp/readback
}

check_bigfile_sum() {
  sum=$(sha256sum </tmp/readback | cut -d' ' -f1)
  rm /tmp/readback
  [ "$sum" = "$BIG_SHA256" ]
}

check_keep() {
  # Left in place for the host-side checks (run-suite.sh verifies contents, modes, owners).
  printf 'line one\nline two\n' >keep/data.txt
  chmod 0640 keep/data.txt
  chown 1234:5678 keep/data.txt
  mkdir -m 0750 keep/dir
  ln -s data.txt keep/link
  ln keep/data.txt keep/hard
  mkfifo -m 0620 keep/fifo
  mknod keep/chr c 1 3
  touch -d '2001-02-03 04:05:06' keep/timed
  touch keep/xattr
  ntest xattr set keep/xattr user.ninep "guest value"
  echo gone >keep/deleted
  rm keep/deleted
  echo moved >keep/before-rename
  mv keep/before-rename keep/renamed
}

check_escape() {
  # Symlinks in the export that point outside it (absolute and relative) are resolved by the guest
  # in the guest's namespace; nothing of the host outside the export may come through.
  [ "$(ntest lstat $F/escape-abs)" = "symlink ${#ESCAPE_ABS_TARGET}" ]
  [ "$(readlink $F/escape-abs)" = "$ESCAPE_ABS_TARGET" ]
  if cat $F/escape-abs/secret; then false; fi
  if cat $F/escape-rel/secret; then false; fi
  if ls $F/escape-abs/; then false; fi
  if truncate -s 0 $F/escape-file; then false; fi
  got=$(cat $F/escape-abs/secret $F/escape-rel/secret $F/escape-file 2>/dev/null || true)
  case "$got" in *HOST-SECRET*) false ;; esac
  # Changing the owner of a symlink must change the link, not what it points to on the host.
  chown -h "$ESCAPE_UID" $F/escape-abs
  [ "$(stat -c %u $F/escape-abs)" = "$ESCAPE_UID" ]
  # A hard link to a symlink links the symlink (link(2) does not follow): were the server to
  # follow it, the guest would get a name for the host file outside the export.
  ln $F/escape-file keep/escape-hardlink
  [ -L keep/escape-hardlink ]
  [ "$(readlink keep/escape-hardlink)" = "$(readlink $F/escape-file)" ]
  # Extended attributes of a symlink are the link's own, never its target's.
  if ntest xattr list $F/escape-file | grep secret; then false; fi
  if ntest xattr get $F/escape-file user.secret; then false; fi
}

# ---- one configuration -----------------------------------------------------------------------

run_config() {
  local cache=$2 msize=$3 start out line want shown i
  CFG=$1
  CACHE=$cache
  ESCAPE_UID=$4
  say "INFO $CFG: mounting with cache=$cache msize=$msize"
  start=$(now)
  # shellcheck disable=SC2086
  if ! out=$($MOUNT_CMD --cache "$cache" --msize "$msize" ${ANAME:+--aname "$ANAME"} fd:3 $MNT 3<>"$port" 2>&1); then
    say "FAIL $CFG/mount: $MOUNT_CMD --cache $cache --msize $msize fd:3 $MNT 3<>$port"
    printf '%s\n' "$out" | sed 's/^/NINEP-TEST: | /'
    dmesg | tail -n 5 | sed 's/^/NINEP-TEST: | /'
    return
  fi
  line=$(grep " $MNT 9p " /proc/mounts)
  say "INFO $CFG: $line"
  say "TIME $CFG/mount $(($(now) - start))"
  case "$line" in
    *trans=fd*) say "PASS $CFG/mount" ;;
    *) say "FAIL $CFG/mount: no 9p trans=fd mount on $MNT in /proc/mounts" ;;
  esac
  # The kernel shows the negotiated msize (unless it is its default, 128 KiB); it is the requested
  # one unless the server caps it.
  want=$msize
  [ "$want" -gt "$EXPECT_MSIZE_CAP" ] && want=$EXPECT_MSIZE_CAP
  shown=$(echo "$line" | sed -n 's/.*msize=\([0-9]*\).*/\1/p')
  [ -n "$shown" ] || shown=131072
  if [ "$shown" = "$want" ]; then
    say "PASS $CFG/msize"
  else
    say "FAIL $CFG/msize: negotiated msize $shown, expected $want ($line)"
  fi

  mkdir -p $MNT/$CFG/keep && cd $MNT/$CFG || { say "FAIL $CFG/setup: mkdir $MNT/$CFG"; }
  t ls_la check_ls_la
  t file_ops check_file_ops
  t unlink_open check_unlink_open
  t dirs check_dirs
  t symlink check_symlink
  t hardlink check_hardlink
  t chmod_chown check_chmod_chown
  t times check_times
  t special check_special
  t xattr check_xattr
  t exec_mmap check_exec_mmap
  t locks check_locks
  t df check_df
  t latency check_latency
  t bigdir_count check_bigdir_count
  t bigdir_stat check_bigdir_stat
  t guest_dir check_guest_dir
  t bigfile_write check_bigfile_write
  t bigfile_read check_bigfile_read
  t bigfile_sha256 check_bigfile_sum && say "SHA256 $CFG/keep/big $BIG_SHA256"
  t keep check_keep
  t escape check_escape
  cd /

  start=$(now)
  if $UMOUNT_CMD $MNT 2>/tmp/err; then
    say "PASS $CFG/umount"
  else
    say "FAIL $CFG/umount: $UMOUNT_CMD $MNT"
    sed 's/^/NINEP-TEST: | /' /tmp/err
    umount -l $MNT
  fi
  say "TIME $CFG/umount $(($(now) - start))"
  # The relay process must go away with the mount (the kernel closed its end of the pair).
  i=0
  while ps | grep -v grep | grep -q 'fd:3' && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
  if ps | grep -v grep | grep -q 'fd:3'; then
    say "FAIL $CFG/relay_exit: a relay process is still running after umount"
    ps | sed 's/^/NINEP-TEST: | /'
  else
    say "PASS $CFG/relay_exit"
  fi
}

start=$(now)
dd if=/dev/urandom of=/tmp/big bs=1M count=64 2>/dev/null
say "TIME setup/random_64MiB $(($(now) - start))"
start=$(now)
BIG_SHA256=$(sha256sum </tmp/big | cut -d' ' -f1)
say "TIME setup/sha256_64MiB $(($(now) - start))"

uid=4321
for config in $CONFIGS; do
  IFS=: read -r name cache msize <<EOF
$config
EOF
  run_config "$name" "$cache" "$msize" $uid
  uid=$((uid + 1))
done
