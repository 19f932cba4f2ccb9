#!/usr/bin/env python3
"""gen_corpus.py - write the eth_input seed corpus (plain struct packing, no scapy)."""
import os, struct

US_MAC = bytes([2, 0, 0, 0, 0, 2])
PEER_MAC = bytes([2, 0, 0, 0, 0, 1])
BCAST = b"\xff" * 6
US, PEER = bytes([192, 0, 2, 2]), bytes([192, 0, 2, 1])

def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return (~s) & 0xffff

def eth(dst, typ, payload):
    return dst + PEER_MAC + struct.pack("!H", typ) + payload

def arp(op, sha, spa, tha, tpa):
    return struct.pack("!HHBBH", 1, 0x0800, 6, 4, op) + sha + spa + tha + tpa

def ip(proto, payload, ident=1, frag=0, src=PEER, dst=US, opts=b""):
    ihl = 5 + len(opts) // 4
    h = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, ihl * 4 + len(payload), ident, frag, 64,
                    proto, 0, src, dst) + opts
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + payload

def icmp_echo(ident, seq, data):
    m = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + data
    return m[:2] + struct.pack("!H", csum(m)) + m[4:]

def udp(sport, dport, data, src=PEER, dst=US):
    h = struct.pack("!HHHH", sport, dport, 8 + len(data), 0)
    ph = src + dst + struct.pack("!BBH", 0, 17, 8 + len(data))
    c = csum(ph + h + data) or 0xffff
    return h[:6] + struct.pack("!H", c) + data

def frame(f):
    return b"\0" + struct.pack("!H", len(f)) + f

def tick(n):
    return b"\x01" + bytes([n])

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
os.makedirs(out, exist_ok=True)
arp_req = eth(BCAST, 0x0806, arp(1, PEER_MAC, PEER, b"\0" * 6, US))
arp_rep = eth(US_MAC, 0x0806, arp(2, PEER_MAC, PEER, US_MAC, US))
echo = eth(US_MAC, 0x0800, ip(1, icmp_echo(1, 1, b"x" * 56)))
big = icmp_echo(2, 1, bytes(range(256)) * 12)
frags = [eth(US_MAC, 0x0800, ip(1, big[o:o + 1480], ident=9,
                                frag=(o // 8) | (0x2000 if o + 1480 < len(big) else 0)))
         for o in range(0, len(big), 1480)]
seeds = {
    "arp_request": frame(arp_req),
    "arp_reply_then_echo": frame(arp_rep) + frame(echo),
    "echo": frame(echo) + tick(10),
    "udp_echo": frame(arp_rep) + frame(eth(US_MAC, 0x0800, ip(17, udp(5000, 7, b"hello")))),
    "udp_closed": frame(eth(US_MAC, 0x0800, ip(17, udp(5000, 9, b"hello")))),
    "frags_in_order": b"".join(frame(f) for f in frags),
    "frags_reverse": b"".join(frame(f) for f in reversed(frags)),
    "frag_timeout": frame(frags[0]) + b"\x02" + tick(1),
    "send_unresolved": b"\x03\x10\x01" + tick(30) + frame(arp_rep) + tick(30),
    "send_big": frame(arp_rep) + b"\x03\xff\x01",
    "record_route": frame(eth(US_MAC, 0x0800, ip(1, icmp_echo(1, 1, b"rr"),
                                                  opts=bytes([7, 7, 4, 0, 0, 0, 0, 0])))),
    "bcast_udp": frame(eth(BCAST, 0x0800, ip(17, udp(68, 67, b"d"), dst=b"\xff" * 4))),
    "runt": frame(b"\x01\x02\x03"),
}
for name, data in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
