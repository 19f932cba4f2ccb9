#!/usr/bin/env python3
"""gen_corpus6.py - IPv6 seeds for the dns corpus, made from the IPv4 ones:
replies from [2001:db8::1]:53 (op bit 5) after the first try timed out;
names end in 6."""
import os, struct

D = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")

def recs(name):
    b = open(os.path.join(D, name), "rb").read()
    i, out = 0, []
    while len(b) - i >= 3:
        n = min(struct.unpack("!H", b[i:i + 2])[0], len(b) - i - 2)
        out.append(b[i + 2:i + 2 + n])
        i += 2 + n
    return out

def rec(op, rest=b""):
    body = bytes([op]) + rest
    return struct.pack("!H", len(body)) + body

def v6(r, extra=0):
    return rec(r[0] | 32 | extra, r[1:])

a, sf, nx = recs("answer"), recs("servfail"), recs("nxdomain")
clock600 = rec(2 | (6 << 2))   # past the 500 ms timeout: the next try goes to 2001:db8::1
seeds = {
    "answer6": clock600 + v6(a[0]) + v6(a[1]) + rec(2),
    "early6": v6(a[0]) + rec(a[0][0], a[0][1:]),   # nothing asked there yet: a bad source
    "servfail6": clock600 + v6(sf[0]) + rec(2 | (20 << 2)),
    "nxdomain6": clock600 + v6(nx[0]) + v6(nx[1], 16),
}
for name, data in seeds.items():
    with open(os.path.join(D, name), "wb") as f:
        f.write(data)
