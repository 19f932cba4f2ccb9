#!/usr/bin/env python3
"""gen_corpus.py - write the seed corpus of the ipv4_reassembly fuzz target.

Run from anywhere: python3 gen_corpus.py  (writes ./corpus next to this file).
The format is described at the top of ipv4_reassembly.c.
"""
import os
import random
import struct

MF, HL24, HL44, HL60, ALIGN, DF, TINY = 1, 2, 4, 6, 8, 16, 32
CAP16K, CAP64K, CAP1M = 0, 1, 2


def frag(key, off, length, flags=0):
    """Fragment command: offset and length in bytes."""
    assert off % 8 == 0
    return struct.pack(">BBHBH", 0, key, off // 8, flags, length)


def clock(quarter_seconds):
    return bytes([3, quarter_seconds])


def split(total, size):
    """(offset, length, more) pieces of a datagram of @total data bytes."""
    out, off = [], 0
    while off < total:
        n = min(size, total - off)
        out.append((off, n, off + n < total))
        off += n
    return out


def dgram(key, total, size, order=None, hl=0):
    pieces = split(total, size)
    if order == "reverse":
        pieces.reverse()
    elif isinstance(order, random.Random):
        order.shuffle(pieces)
    return b"".join(frag(key, o, n, (MF if m else 0) | (hl if o == 0 else 0))
                    for o, n, m in pieces)


def main():
    rnd = random.Random(5722)
    seeds = {
        "in_order": bytes([CAP64K]) + dgram(1, 3000, 1480),
        "reverse": bytes([CAP64K]) + dgram(2, 4000, 1000, "reverse"),
        "shuffled_options": bytes([CAP64K]) + dgram(3, 6000, 512, rnd, HL60),
        "duplicate_subset": bytes([CAP64K]) + frag(4, 0, 16, MF) + frag(4, 16, 16, MF)
        + frag(4, 0, 16, MF) + frag(4, 8, 16, MF) + frag(4, 32, 5),
        "overlap_dead": bytes([CAP64K]) + frag(5, 0, 24, MF) + frag(5, 16, 24, MF)
        + frag(5, 40, 8) + clock(200) + dgram(5, 100, 40),
        "teardrop": bytes([CAP64K]) + frag(6, 0, 36, MF) + frag(6, 24, 4),
        "ping_of_death": bytes([CAP1M]) + frag(7, 0, 1480, MF) + frag(7, 65512, 100),
        "bad_len": bytes([CAP64K]) + frag(8, 0, 13, MF) + frag(8, 0, 0, MF) + frag(8, 8, 0),
        "conflicting_end": bytes([CAP64K]) + frag(9, 16, 8) + frag(9, 8, 8)
        + frag(9, 24, 8) + frag(10, 0, 64, MF) + frag(10, 8, 16),
        "timeout_first": bytes([CAP64K]) + frag(11, 0, 64, MF | HL24) + frag(12, 64, 8)
        + clock(121) + clock(0),
        "flood_evict": bytes([CAP16K]) + b"".join(frag(k, 8 * k, 8, MF) for k in range(64))
        + dgram(63, 200, 64),
        "full_64k": bytes([CAP1M]) + dgram(13, 65515, 8184, rnd),
        "tiny_frags": bytes([CAP1M]) + dgram(14, 2048, 8, rnd),
        "too_big_late_header": bytes([CAP1M]) + frag(15, 65480, 35) + frag(15, 0, 8, MF | HL60),
        "interleaved": bytes([CAP64K]) + b"".join(
            a + b for a, b in zip([frag(k, o, n, MF if m else 0)
                                   for k in (16, 17) for o, n, m in split(800, 200)][:4],
                                  [frag(k, o, n, MF if m else 0)
                                   for k in (16, 17) for o, n, m in split(800, 200)][4:])),
        "random": bytes(rnd.getrandbits(8) for _ in range(300)),
    }
    d = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
    os.makedirs(d, exist_ok=True)
    for name, blob in seeds.items():
        with open(os.path.join(d, name), "wb") as f:
            f.write(blob)


if __name__ == "__main__":
    main()
