#!/usr/bin/env python3
"""gen_corpus.py - write fuzz/dhcp's seed corpus (records as dhcp.c reads them)"""
import hashlib
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def msg(mtype, yiaddr=0xc0000232, opts=b"", op=2, file=b""):
    m = struct.pack("!BBBBIHHIIII", op, 1, 6, 0, 0, 0, 0x8000, 0, yiaddr, 0, 0)
    m += bytes([2, 0, 0, 0, 0, 2]) + bytes(10) + bytes(64)
    m += file.ljust(128, b"\0")
    m += struct.pack("!I", 0x63825363)
    m += bytes([53, 1, mtype, 54, 4, 192, 0, 2, 1, 1, 4, 255, 255, 255, 0, 3, 4, 192, 0, 2, 1])
    m += opts + b"\xff"
    return m.ljust(300, b"\0")


def reply(m, to_us=False):
    op = 4 | (0x10 if to_us else 0)
    return bytes([op]) + struct.pack("!H", len(m)) + m


def adv(tenths):
    return bytes([1, tenths])


LEASE = bytes([51, 4, 0, 0, 0, 60, 58, 4, 0, 0, 0, 20, 59, 4, 0, 0, 0, 40])
SEARCH = bytes([119, 27, 3]) + b"eng" + bytes([5]) + b"apple" + bytes([3]) + b"com" + \
    bytes([0, 9]) + b"marketing" + bytes([0xC0, 4])
EXTRA = LEASE + bytes([6, 8, 198, 51, 100, 53, 198, 51, 100, 54, 26, 2, 5, 120]) + \
    bytes([15, 11]) + b"example.org" + SEARCH
seeds = {
    "acquire": adv(10) + reply(msg(2)) + reply(msg(5, opts=EXTRA)) + adv(100) + adv(200) +
    adv(250) + reply(msg(5, opts=EXTRA), True) + adv(250) + adv(250) + adv(250),
    "nak": adv(10) + reply(msg(2)) + reply(msg(5, opts=LEASE)) + adv(100) + bytes([2, 1]) + adv(200) +
    reply(msg(6), True) + adv(20),
    "conflict": adv(10) + reply(msg(2)) + reply(msg(5, opts=LEASE)) + adv(15) + bytes([6]) +
    adv(120) + adv(50),
    "reboot": bytes([0x81, 10]) + reply(msg(5, opts=LEASE)) + adv(100) + bytes([3, 1]) +
    bytes([3, 0]) + adv(10) + bytes([3, 2]),
    "overload": adv(10) + reply(msg(2, opts=bytes([52, 1, 1]),
                                   file=bytes([15, 3]) + b"a.b" + bytes([255]))),
    "parse_only": msg(5, opts=EXTRA + bytes([52, 1, 3])),
    "search_loop": bytes([3]) + b"abc" + bytes([0xC0, 0]),
}
for name, data in seeds.items():
    path = os.path.join(HERE, "corpus", hashlib.sha1(data).hexdigest())
    with open(path, "wb") as f:
        f.write(data)
    print(name, os.path.basename(path), len(data))
