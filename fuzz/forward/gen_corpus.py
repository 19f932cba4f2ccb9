#!/usr/bin/env python3
"""gen_corpus.py - write the forward seed corpus: frames to foreign addresses
through the stack (192.0.2.2) from its peer 192.0.2.1 (eth_input's format:
op 0 + 2-byte length + frame; op 1 + byte: clock step, deferred accepts)."""
import os, struct

US_MAC = bytes([2, 0, 0, 0, 0, 2])
PEER_MAC = bytes([2, 0, 0, 0, 0, 1])
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

def ip(proto, payload, dst):
    h = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 1, 0, 64, proto, 0, PEER, dst)
    return h[:10] + struct.pack("!H", csum(h)) + h[12:] + payload

def icmp_echo(ident, seq, data):
    m = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + data
    return m[:2] + struct.pack("!H", csum(m)) + m[4:]

FOREIGN = bytes([198, 51, 100, 7])

def tcp(sport, dport, seq, ack, flags, dst=FOREIGN, opts=b"", data=b""):
    off = (20 + len(opts)) // 4
    h = struct.pack("!HHIIBBHHH", sport, dport, seq, ack, off << 4, flags, 65535, 0, 0) + opts
    seg = h + data
    ph = PEER + dst + struct.pack("!BBH", 0, 6, len(seg))
    c = csum(ph + seg)
    return seg[:16] + struct.pack("!H", c) + seg[18:]

def udp(sport, dport, data, dst=FOREIGN):
    seg = struct.pack("!HHHH", sport, dport, 8 + len(data), 0) + data
    ph = PEER + dst + struct.pack("!BBH", 0, 17, len(seg))
    c = csum(ph + seg) or 0xffff
    return seg[:6] + struct.pack("!H", c) + seg[8:]

def frame(payload):
    return b"\x00" + struct.pack("!H", len(payload)) + payload

def rec_ip(proto, l4, dst=FOREIGN, ttl=64):
    h = ip(proto, l4, dst=dst)
    if ttl != 64:
        h = h[:8] + bytes([ttl]) + h[9:10] + b"\0\0" + h[12:]
        h = h[:10] + struct.pack("!H", csum(h[:20])) + h[12:]
    return frame(eth(US_MAC, 0x0800, h))

MSS = b"\x02\x04\x05\xb4\x01\x03\x03\x07\x04\x02\x08\x0a\x00\x00\x00\x01\x00\x00\x00\x00"
seeds = {
    "syn_accept_now": rec_ip(6, tcp(40000, 80, 1000, 0, 0x02, opts=MSS)) + b"\x01\x04",
    "syn_accept_later": rec_ip(6, tcp(40001, 81, 2000, 0, 0x02, opts=MSS)) + b"\x01\x02"
                        + rec_ip(6, tcp(40001, 81, 2000, 0, 0x02, opts=MSS)) + b"\x01\x04",
    "syn_refuse_rst": rec_ip(6, tcp(40002, 82, 3000, 0, 0x02)),
    "syn_refuse_icmp": rec_ip(6, tcp(40003, 83, 4000, 0, 0x02)),
    "stray_ack": rec_ip(6, tcp(40004, 80, 5000, 777, 0x10)),
    "udp_foreign": rec_ip(17, udp(5000, 53, b"query")),
    "udp_ttl1": rec_ip(17, udp(5000, 53, b"dies"), ttl=1),
    "echo_foreign": rec_ip(1, icmp_echo(7, 1, b"ping")),
    "to_loopback": rec_ip(17, udp(5000, 53, b"lo"), dst=bytes([127, 0, 0, 1])),
}
# A handshake completed: the SYN, a step, then an ACK of a guessed ISS (the
# fuzzer finds the right one from here)
seeds["handshake_guess"] = seeds["syn_accept_now"] + rec_ip(6, tcp(40000, 80, 1001, 1, 0x10))

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
os.makedirs(out, exist_ok=True)
for name, data in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
