#!/usr/bin/env python3
"""Writes the seed corpus for fuzz_server_requests: request sequences that follow the harness's
own Tversion + Tattach (fid 0 is the export root), built field by field with struct.pack."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def s(text):
    b = text.encode() if isinstance(text, str) else text
    return struct.pack("<H", len(b)) + b


def frame(type_, tag, body=b""):
    return struct.pack("<IBH", 7 + len(body), type_, tag) + body


def walk(tag, fid, newfid, *names):
    return frame(110, tag, struct.pack("<IIH", fid, newfid, len(names)) + b"".join(s(n) for n in names))


def lopen(tag, fid, flags):
    return frame(12, tag, struct.pack("<II", fid, flags))


def lcreate(tag, fid, name, flags, mode, gid=0):
    return frame(14, tag, struct.pack("<I", fid) + s(name) + struct.pack("<III", flags, mode, gid))


def read(tag, fid, off, count):
    return frame(116, tag, struct.pack("<IQI", fid, off, count))


def write(tag, fid, off, data):
    return frame(118, tag, struct.pack("<IQI", fid, off, len(data)) + data)


def clunk(tag, fid):
    return frame(120, tag, struct.pack("<I", fid))


SEQUENCES = {
    "list_root": walk(1, 0, 1) + lopen(2, 1, 0o200000) + frame(40, 3, struct.pack("<IQI", 1, 0, 8192))
    + frame(40, 4, struct.pack("<IQI", 1, 0, 100)) + clunk(5, 1),
    "create_write_read": walk(1, 0, 2) + lcreate(2, 2, "f", 2, 0o644) + write(3, 2, 0, b"hello")
    + read(4, 2, 0, 100) + frame(50, 5, struct.pack("<II", 2, 0))
    + frame(24, 6, struct.pack("<IQ", 2, 0x3FFF))
    + frame(26, 7, struct.pack("<IIIIIQQQQQ", 2, 0x8 | 0x10 | 0x20, 0, 0, 0, 3, 0, 0, 0, 0))
    + clunk(8, 2),
    "names": frame(72, 1, struct.pack("<I", 0) + s("d") + struct.pack("<II", 0o755, 0))
    + frame(16, 2, struct.pack("<I", 0) + s("l") + s("d") + struct.pack("<I", 0))
    + walk(3, 0, 3, "l") + frame(22, 4, struct.pack("<I", 3))
    + frame(74, 5, struct.pack("<I", 0) + s("d") + struct.pack("<I", 0) + s("e"))
    + frame(76, 6, struct.pack("<I", 0) + s("e") + struct.pack("<I", 0x200))
    + walk(7, 0, 4, "..", "..", "x"),
    "xattr": walk(1, 0, 2) + lcreate(2, 2, "x", 2, 0o644) + clunk(3, 2) + walk(4, 0, 6, "x")
    + frame(32, 5, struct.pack("<I", 6) + s("user.a") + struct.pack("<QI", 3, 0))
    + write(6, 6, 0, b"abc") + clunk(7, 6) + walk(8, 0, 7, "x")
    + frame(30, 9, struct.pack("<II", 7, 8) + s("user.a")) + read(10, 8, 0, 100)
    + frame(30, 11, struct.pack("<II", 7, 9) + s("")) + read(12, 9, 0, 100),
    "locks": walk(1, 0, 2) + lcreate(2, 2, "k", 2, 0o644)
    + frame(52, 3, struct.pack("<IBIQQI", 2, 1, 0, 0, 10, 42) + s("c"))
    + frame(54, 4, struct.pack("<IBQQI", 2, 1, 0, 0, 42) + s("c"))
    + frame(52, 5, struct.pack("<IBIQQI", 2, 2, 0, 0, 10, 42) + s("c")) + frame(108, 6, struct.pack("<H", 5)),
    "misc": frame(8, 1, struct.pack("<I", 0))
    + frame(18, 2, struct.pack("<I", 0) + s("fifo") + struct.pack("<IIII", 0o10644, 0, 0, 0))
    + walk(3, 0, 2, "fifo") + frame(70, 4, struct.pack("<II", 0, 2) + s("hard"))
    + frame(20, 5, struct.pack("<II", 2, 0) + s("moved")) + frame(122, 6, struct.pack("<I", 2))
    + frame(102, 7, struct.pack("<I", 5) + s("u") + s("") + struct.pack("<I", 0)),
    "reversion": frame(100, 0xFFFF, struct.pack("<I", 4096) + s("9P2000.L"))
    + frame(104, 1, struct.pack("<II", 1, 0xFFFFFFFF) + s("nobody") + s("") + struct.pack("<I", 0xFFFFFFFF))
    + walk(2, 1, 2, "a") + frame(112, 3, struct.pack("<IB", 1, 0)),
    # A change-event subscription (docs/events.md): a file made while a read waits, a flushed
    # read, a read left waiting when the stream ends.
    "events": frame(104, 1, struct.pack("<II", 9, 0xFFFFFFFF) + s("0") + s("#events")
                    + struct.pack("<I", 0))
    + lopen(2, 9, 0) + frame(24, 3, struct.pack("<IQ", 9, 0x7FF)) + read(4, 9, 0, 8192)
    + walk(5, 0, 2) + lcreate(6, 2, "ev", 2, 0o644) + read(7, 9, 0, 8192)
    + frame(108, 8, struct.pack("<H", 7)) + read(9, 9, 0, 16),
}


def main():
    out = os.path.join(HERE, "corpus")
    os.makedirs(out, exist_ok=True)
    for name, data in SEQUENCES.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
