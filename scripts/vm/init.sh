#!/bin/busybox sh
# PID 1 of the test guest: load modules, mount the host's root read-only and
# the work folder writable over virtio-9p, run the command in a chroot, report
# its exit status and power off.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev

for m in $(cat /modules.load); do
	insmod /modules/$m.ko 2>/dev/null || echo "init: insmod $m failed" > /dev/console
done

arg() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" /proc/cmdline; }
work=$(arg ubt.work)
run=$(arg ubt.run)
o="trans=virtio,version=9p2000.L,msize=524288,cache=none"
mkdir -p /host
mount -t 9p -o "$o,ro" host /host || { echo "init: cannot mount host root"; poweroff -f; }
mount -t proc proc /host/proc
mount -t sysfs sysfs /host/sys
mount -t devtmpfs devtmpfs /host/dev
mkdir -p /host/dev/pts /host/dev/shm
mount -t devpts devpts /host/dev/pts
mount -t tmpfs tmpfs /host/dev/shm
mount -t tmpfs tmpfs /host/tmp
mount -t tmpfs tmpfs /host/run
mount -t tmpfs tmpfs /host/var/tmp
mount -t configfs configfs /host/sys/kernel/config 2>/dev/null
# The work folder last: it may live under one of the tmpfs mounted above.
mkdir -p "/host$work" 2>/dev/null
mount -t 9p -o "$o" work "/host$work" || { echo "init: cannot mount $work"; poweroff -f; }

: > "/host$run/started"
chroot /host /bin/sh -c "cd '$work' && exec /bin/bash '$run/cmd.sh'" < /dev/console > /dev/console 2>&1
rc=$?
echo "$rc" > "/host$run/status"
sync
echo "UBT-VM-EXIT $rc" > /dev/console
poweroff -f
