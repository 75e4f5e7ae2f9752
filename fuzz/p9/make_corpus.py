#!/usr/bin/env python3
"""Writes the seed corpus for the p9 fuzzers: small valid frames built field by field with
struct.pack (independently of the encoder under test), plus a few multi-frame streams prefixed
with the two control bytes fuzz_p9_frames reads (msize selector, chunk size)."""
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def s(text):
    b = text.encode()
    return struct.pack("<H", len(b)) + b


def qid(t, version, path):
    return struct.pack("<BIQ", t, version, path)


def frame(type_, tag, body=b""):
    return struct.pack("<IBH", 7 + len(body), type_, tag) + body


FRAMES = {
    "tversion": frame(100, 0xFFFF, struct.pack("<I", 8192) + s("9P2000.L")),
    "rversion": frame(101, 0xFFFF, struct.pack("<I", 8192) + s("9P2000.L")),
    "tattach": frame(104, 1, struct.pack("<II", 0, 0xFFFFFFFF) + s("root") + s("") + struct.pack("<I", 0)),
    "rattach": frame(105, 1, qid(0x80, 0, 2)),
    "twalk": frame(110, 2, struct.pack("<IIH", 0, 1, 2) + s("usr") + s("bin")),
    "rwalk": frame(111, 2, struct.pack("<H", 2) + qid(0x80, 1, 3) + qid(0x80, 1, 4)),
    "tlopen": frame(12, 3, struct.pack("<II", 1, 0o2 | 0o100)),
    "rlerror": frame(7, 3, struct.pack("<I", 2)),
    "tlcreate": frame(14, 4, struct.pack("<I", 1) + s("f") + struct.pack("<III", 0o101, 0o644, 0)),
    "tread": frame(116, 5, struct.pack("<IQI", 1, 0, 4096)),
    "rread": frame(117, 5, struct.pack("<I", 5) + b"hello"),
    "twrite": frame(118, 6, struct.pack("<IQI", 1, 5, 3) + b"abc"),
    "tgetattr": frame(24, 7, struct.pack("<IQ", 1, 0x3FFF)),
    "rgetattr": frame(25, 7, struct.pack("<Q", 0x7FF) + qid(0, 1, 9)
                      + struct.pack("<III", 0o100644, 0, 0) + struct.pack("<15Q", *range(15))),
    "tsetattr": frame(26, 8, struct.pack("<5I5Q", 1, 0x39, 0o600, 0, 0, 10, 1, 2, 3, 4)),
    "treaddir": frame(40, 9, struct.pack("<IQI", 1, 0, 8192)),
    "rreaddir": frame(41, 9, struct.pack("<I", 50) + qid(0x80, 0, 1) + struct.pack("<QB", 1, 4) + s(".")
                      + qid(0, 0, 2) + struct.pack("<QB", 2, 8) + s("f")),
    "tlock": frame(52, 10, struct.pack("<IBIQQI", 1, 1, 1, 0, 0, 42) + s("host")),
    "tgetlock": frame(54, 11, struct.pack("<IBQQI", 1, 0, 0, 10, 42) + s("host")),
    "txattrwalk": frame(30, 12, struct.pack("<II", 1, 2) + s("user.x")),
    "trenameat": frame(74, 13, struct.pack("<I", 1) + s("a") + struct.pack("<I", 1) + s("b")),
    "tunlinkat": frame(76, 14, struct.pack("<I", 1) + s("d") + struct.pack("<I", 0x200)),
    "rstatfs": frame(9, 15, struct.pack("<II6QI", 0x01021994, 4096, 1, 2, 3, 4, 5, 6, 255)),
    "tclunk": frame(120, 16, struct.pack("<I", 1)),
    "rclunk": frame(121, 16),
}

STREAMS = {
    "stream_session": bytes([0, 7]) + FRAMES["tversion"] + FRAMES["tattach"] + FRAMES["twalk"]
    + FRAMES["tclunk"],
    "stream_replies": bytes([64, 13]) + FRAMES["rversion"] + FRAMES["rwalk"] + FRAMES["rread"]
    + FRAMES["rreaddir"],
    "stream_oversize": bytes([1, 3]) + FRAMES["tversion"] + struct.pack("<I", 100000),
}


def event(kind, flags, dir_qid, qid_, path, name, to_dir_qid=qid(0, 0, 0), to_path="", to_name=""):
    """One change-event record (docs/events.md), for fuzz_p9_events."""
    body = struct.pack("<BB", kind, flags) + dir_qid + qid_ + s(path) + s(name) + to_dir_qid \
        + s(to_path) + s(to_name)
    return struct.pack("<I", 4 + len(body)) + body


EVENTS = {
    "events_create": event(1, 0, qid(0x80, 1, 2), qid(0, 3, 4), "", "f"),
    "events_rename": event(3, 1, qid(0x80, 1, 2), qid(0x80, 3, 5), "d1", "x", qid(0x80, 1, 6),
                           "d2", "y"),
    # An overflow, an unwatched directory, and a record of an unknown kind (99) to skip.
    "events_batch": event(6, 0, qid(0, 0, 0), qid(0, 0, 0), "", "")
    + event(7, 1, qid(0x80, 1, 7), qid(0x80, 1, 7), "a/b", "") + struct.pack("<IBB", 6, 99, 0),
}


def main():
    out = os.path.join(HERE, "corpus")
    os.makedirs(out, exist_ok=True)
    for name, data in {**FRAMES, **STREAMS, **EVENTS}.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
