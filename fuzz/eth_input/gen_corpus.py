#!/usr/bin/env python3
"""gen_corpus.py - write the eth_input seed corpus (plain struct packing, no scapy).

With --replay BINARY (a fuzz_eth_input) also the TCP and path-MTU seeds, which
quote the ISS the harness's stack picks."""
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

# ---- TCP flows with data in flight, and ICMP errors about them ----
# The stack's ISS comes from its (fixed-seed) random key: learn it by running
# the harness on the handshake with ETH_INPUT_DUMP (the replay build, or the
# libFuzzer build: any fuzz_eth_input takes a file).
#   gen_corpus.py --replay build/fuzz/fuzz_eth_input
def tcp(sport, dport, seq, ack, flags, data=b"", opts=b"", win=65535, src=PEER, dst=US):
    off = (20 + len(opts)) // 4
    h = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, off << 4, flags, win, 0, 0) + opts
    ph = src + dst + struct.pack("!BBH", 0, 6, len(h) + len(data))
    c = csum(ph + h + data)
    return h[:16] + struct.pack("!H", c) + h[18:] + data

def icmp_err(typ, code, rest, quote):
    m = struct.pack("!BBHI", typ, code, 0, rest) + quote
    return m[:2] + struct.pack("!H", csum(m)) + m[4:]

def quote(proto, l4, total=1500, df=True, src=US, dst=PEER):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, total, 7, 0x4000 if df else 0, 64, proto, 0,
                    src, dst)
    h = h[:10] + struct.pack("!H", csum(h)) + h[12:]
    return h + l4

def frag_needed(mtu, proto, l4, **kw):
    return frame(eth(US_MAC, 0x0800, ip(1, icmp_err(3, 4, mtu & 0xffff, quote(proto, l4, **kw)))))

SPORT = 40000
PEER_ISN = 1000
syn_opts = struct.pack("!BBH", 2, 4, 1460) + bytes([1, 3, 3, 7]) + bytes([4, 2, 1, 1])
handshake = frame(arp_rep) + frame(eth(US_MAC, 0x0800, ip(6, tcp(SPORT, 80, PEER_ISN, 0, 0x02,
                                                                   opts=syn_opts))))

def learn_iss(binary):
    import subprocess, tempfile
    with tempfile.TemporaryDirectory() as d:
        seed, dump = os.path.join(d, "s"), os.path.join(d, "dump")
        with open(seed, "wb") as f:
            f.write(handshake)
        subprocess.run([binary, seed], env=dict(os.environ, ETH_INPUT_DUMP=dump), check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        b = open(dump, "rb").read()
    i = 0
    while i + 2 <= len(b):
        n = struct.unpack("!H", b[i:i + 2])[0]
        fr = b[i + 2:i + 2 + n]
        i += 2 + n
        if len(fr) >= 54 and fr[12:14] == b"\x08\x00" and fr[23] == 6:
            ihl = (fr[14] & 15) * 4
            t = fr[14 + ihl:]
            if t[13] & 0x12 == 0x12:
                return struct.unpack("!I", t[4:8])[0]
    raise SystemExit("no SYN-ACK in the dump")

import sys
if len(sys.argv) == 3 and sys.argv[1] == "--replay":
    iss = learn_iss(sys.argv[2])
    ack = frame(eth(US_MAC, 0x0800, ip(6, tcp(SPORT, 80, PEER_ISN + 1, iss + 1, 0x10))))
    est = handshake + ack
    th = lambda seq: struct.pack("!HHII", 80, SPORT, seq, iss + 1)  # quoted 8 bytes
    # MTUs the issue names; 0 = plateau; a tick lets retransmissions run, then the
    # peer acknowledges a little
    for mtu in (100, 0, 68, 551, 552, 1280, 1499, 1500, 65535):
        acks = b"".join(frame(eth(US_MAC, 0x0800, ip(6, tcp(SPORT, 80, PEER_ISN + 1,
                                                             iss + 1 + k, 0x10))))
                        for k in (500, 3000, 20001))
        seeds["pmtu_tcp_%d" % mtu] = (est + frag_needed(mtu, 6, th(iss + 1)) + tick(4) +
                                       acks + tick(40))
    seeds["pmtu_tcp_out_of_window"] = est + frag_needed(100, 6, th(iss + 900000)) + tick(4)
    seeds["pmtu_tcp_no_df"] = est + frag_needed(600, 6, th(iss + 1), df=False) + tick(4)
    seeds["pmtu_tcp_fits"] = est + frag_needed(1400, 6, th(iss + 1), total=1300) + tick(4)
    seeds["pmtu_tcp_twice"] = (est + frag_needed(1000, 6, th(iss + 1)) +
                               frag_needed(300, 6, th(iss + 1)) + tick(4))
    seeds["pmtu_udp_echo_port"] = est + frag_needed(100, 17, struct.pack("!HHHH", 7, 5000, 8, 0))
    seeds["pmtu_udp_unknown_port"] = est + frag_needed(100, 17,
                                                       struct.pack("!HHHH", 9999, 53, 8, 0))
    seeds["pmtu_icmp_echo"] = est + frag_needed(100, 1, icmp_echo(1, 1, b""))
    seeds["unreach_tcp"] = est + frame(eth(US_MAC, 0x0800, ip(1, icmp_err(3, 1, 0, quote(
        6, th(iss + 1)))))) + tick(4)

for name, data in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
