#!/bin/sh
# /init of the test guest: mounts the pseudo file systems, loads the 9p and virtio modules, finds
# the virtio-serial port named "ninep", runs /suite.sh and powers the guest off. Every result goes
# to the serial console as a line starting with "NINEP-TEST:".
export PATH=/bin
export TZ=UTC
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mount -t tmpfs -o size=600m tmp /tmp
echo "NINEP-TEST: BOOTED $(uname -r)"

while read -r module; do
  insmod "/lib/modules/$module.ko" || echo "NINEP-TEST: FAIL boot/insmod: insmod $module"
done </lib/modules/load-order

# The port's name arrives from QEMU shortly after the driver binds.
port=""
i=0
while [ -z "$port" ] && [ $i -lt 100 ]; do
  for p in /sys/class/virtio-ports/*; do
    [ "$(cat "$p/name" 2>/dev/null)" = ninep ] && port=/dev/${p##*/}
  done
  [ -n "$port" ] || { sleep 0.1; i=$((i + 1)); }
done
if [ -n "$port" ] && [ -e "$port" ]; then
  mkdir -p /dev/virtio-ports
  ln -sf "$port" /dev/virtio-ports/ninep
  echo "NINEP-TEST: PASS boot/port $port"
  sh /suite.sh /dev/virtio-ports/ninep
else
  echo "NINEP-TEST: FAIL boot/port: no virtio port named ninep in /sys/class/virtio-ports"
  ls -l /sys/class/virtio-ports/ 2>&1 | sed 's/^/NINEP-TEST: | /'
fi
echo "NINEP-TEST: DONE"
sync
poweroff -f
