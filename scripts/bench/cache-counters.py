#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Sample a cache's hit and miss counters, cheaply and often.

    cache-counters.py PERIOD_S COUNT ours:ID|dm:NAME READY_FILE

Reads the counters, creates READY_FILE (start the workload then), waits
for the cache's first request (its counters change), then prints
"MICROSECONDS READ_HITS READ_MISSES WRITE_HITS WRITE_MISSES": the counters
read before it, at the moment it was seen, and then every PERIOD_S
seconds after that moment, COUNT lines more.  One
process for the whole run, where a `status` or `dmsetup status` process a
sample costs 0.1-0.25 s of a guest's CPU: ours is asked over its daemon's
control socket, dm-cache with the DM_TABLE_STATUS ioctl and the noflush
flag (without it, dm-cache commits its metadata for every status).  A
sample's time is the middle of its query.
"""
import fcntl
import os
import socket
import struct
import sys
import time

DM_IOCTL_SIZE = 312			# struct dm_ioctl
DM_TABLE_STATUS = (3 << 30) | (DM_IOCTL_SIZE << 16) | (0xFD << 8) | 12
DM_NOFLUSH_FLAG = 1 << 11
DM_BUF = 16384


def die(msg):
    sys.stderr.write("cache-counters: %s\n" % msg)
    sys.exit(1)


def ours_reader(dev_id):
    path = os.path.join(os.environ.get("UBT_RUN_DIR") or "/run/ublk-target", "%s.sock" % dev_id)

    def read():
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.connect(path)
        s.sendall(b"status\n")
        reply = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            reply += chunk
        s.close()
        for line in reply.decode().splitlines():
            f = line.split()
            if len(f) > 4 and f[0] == "[0]" and f[3] == "cache":
                return f[4:]
        die("device %s: no cache in its status: %r" % (dev_id, reply[:200]))
    return read


def dm_reader(name):
    fd = os.open("/dev/mapper/control", os.O_RDWR)

    def read():
        buf = bytearray(DM_BUF)
        struct.pack_into("=3IIIIiIII", buf, 0, 4, 0, 0, DM_BUF, 0, 0, 0, DM_NOFLUSH_FLAG, 0, 0)
        struct.pack_into("128s", buf, 48, name.encode())
        fcntl.ioctl(fd, DM_TABLE_STATUS, buf)
        data_start, = struct.unpack_from("=I", buf, 16)
        # struct dm_target_spec (40 bytes), then the status text.
        text = bytes(buf[data_start + 40:]).split(b"\0", 1)[0].decode()
        return text.split()
    return read


def main():
    if len(sys.argv) != 5:
        die("usage: cache-counters.py PERIOD_S COUNT ours:ID|dm:NAME READY_FILE")
    period, count = float(sys.argv[1]), int(sys.argv[2])
    kind, _, what = sys.argv[3].partition(":")
    if kind == "ours":
        read = ours_reader(what)
    elif kind == "dm":
        read = dm_reader(what)
    else:
        die("not ours:ID or dm:NAME: %s" % sys.argv[3])

    def sample():
        t0 = time.monotonic()
        f = read()
        t1 = time.monotonic()
        # Fields 5-8 of the cache's status: read hits, read misses, write hits, write misses.
        return int((t0 + t1) / 2 * 1e6), f[4:8]

    _, first = sample()
    open(sys.argv[4], "w").close()
    deadline = time.monotonic() + 120
    while True:
        t, c = sample()
        if c != first:
            break
        if time.monotonic() > deadline:
            die("no request reached the cache in 120 s")
        time.sleep(0.005)
    start = t
    # The counters before it, at the time it was seen: the first interval counts it.
    print(t, *first, flush=True)
    for k in range(1, count + 1):
        wait = start / 1e6 + k * period - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        t, c = sample()
        print(t, *c, flush=True)


main()
