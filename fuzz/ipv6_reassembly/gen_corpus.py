#!/usr/bin/env python3
"""gen_corpus.py - seeds for fuzz/ipv6_reassembly (see the harness for the format)."""
import os, struct

D = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
os.makedirs(D, exist_ok=True)

def frag(key, off, flags, length):
    return bytes([0, key]) + struct.pack("!HBH", off // 8, flags, length)

def clock(n):
    return bytes([3, n])

seeds = {
    # a 3000-byte packet in 3 pieces, out of order, with a duplicate
    "in_order_of_three": b"\x01" + frag(1, 1024, 1 | 8, 1024) + frag(1, 0, 1 | 8, 1024) +
                         frag(1, 0, 1 | 8, 1024) + frag(1, 2048, 0, 952),
    # the same with hop-by-hop and destination options before the fragment header
    "ext_headers": b"\x01" + frag(2, 0, 1 | 6 | 8, 512) + frag(2, 512, 6, 100),
    # overlap (RFC 5722) then more fragments of the dead packet
    "overlap": b"\x00" + frag(3, 0, 1 | 8, 64) + frag(3, 32, 1 | 8, 64) + frag(3, 96, 0, 8),
    # the first fragment only, then the 60 s timeout (quote)
    "timeout": b"\x02" + frag(4, 0, 1 | 8, 2000) + clock(200),
    # a 65,535-byte payload limit reached
    "too_big": b"\x02" + frag(5, 65528, 0, 100) + frag(5, 0, 1 | 8, 1024),
    # a flood of first fragments against the 16 KiB cap
    "flood": b"\x00" + b"".join(frag(k, 0, 1 | 8, 1200) for k in range(32)) + clock(130),
    # tiny fragments
    "tiny": b"\x01" + b"".join(frag(6, o, 1 | 0x20 | 8, 8 + 64 * 5) for o in range(0, 256, 8)) +
            frag(6, 256, 0x20, 70),
}
for name, data in seeds.items():
    with open(os.path.join(D, name), "wb") as f:
        f.write(data)
