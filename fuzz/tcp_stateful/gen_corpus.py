#!/usr/bin/env python3
"""gen_corpus.py - seeds for fuzz_tcp_stateful (see the record format in tcp_stateful.c)

Each seed opens a connection from peer port 1000 to the listener with options
(MSS 1440, window scale, SACK, timestamps) and then does one thing the issue 11
hardening is about: offload mode with TSO writes and GRO/checksum flags, a RST
or SYN|ACK with data near RCV.NXT, a blind huge-TSval segment, a FIN in
TIME_WAIT with the wrong sequence number, SACK blocks beside small MSS.

Usage: gen_corpus.py OUTDIR
"""
import hashlib
import os
import sys

SYN, FIN, RST, PSH, ACK = 0x02, 0x01, 0x04, 0x08, 0x10


def seg(op=0, port=0, flags=ACK, dseq=0, dack=0, win=0xffff, opts=0x08, b7=0x5a, b8=0, b9=0,
        payload=b""):
    """A segment record: op (bits 3-4: rx flags in offload mode), port selector byte."""
    rec = bytes([op, port, flags, dseq & 0xff, dack & 0xff, win >> 8, win & 0xff, opts, b7, b8, b9])
    return rec + payload


def handshake(mss_b7=0x5a, opts=0x0f):
    # SYN: the track is not seen yet, so seq = b2 << 24 | b3 << 8
    out = seg(flags=SYN, dseq=0x11, dack=0x22, opts=opts, b7=mss_b7)
    out += seg(flags=ACK, opts=0x08)
    return out


def write(n):
    """application write of n * 11 bytes (n in 0..15 or 128..143)"""
    return bytes([5, n])


def timers(ms5):
    return bytes([3, ms5])


def seeds():
    s = {}
    # offload mode: TSO writes acked in pieces, data in with every rx flag
    m = bytes([0x18])
    body = handshake() + write(0x8f) + write(0x8f) + timers(2)
    body += seg(flags=ACK, dack=0) + timers(10)
    for op in (0x08, 0x10):
        body += seg(op=op, flags=ACK | PSH, b8=1, b9=40, payload=bytes(240))
    body += seg(op=0x18, flags=ACK | PSH, b8=0, b9=200, payload=bytes(8000))
    s["offload_tso_gro"] = m + body + timers(50) + bytes([4, 5])
    s["offload_cubic"] = bytes([0x58]) + body
    # RST with data just behind RCV.NXT (blind RST in [RCV.NXT - N, RCV.NXT])
    base = bytes([0x00]) + handshake()
    s["rst_with_data"] = base + seg(flags=RST, dseq=0xf6, b9=10, payload=b"x" * 10) + \
        seg(flags=ACK | PSH, b9=5, payload=b"hello")
    # SYN|ACK carrying data that ends at RCV.NXT
    s["synack_data_behind"] = base + seg(flags=SYN | ACK, dseq=0xf6, b9=12, payload=b"y" * 12) + \
        seg(flags=ACK | PSH, b9=5, payload=b"hello")
    # a segment with a huge TSval (opts bit 0x80 clear: TSval + 1e6) at an
    # in-window sequence number but a bad ACK, then a normal one
    s["huge_tsval"] = base + seg(flags=ACK | PSH, dseq=0x05, dack=0x7f, opts=0x08, b9=4,
                                 payload=b"zzzz") + \
        seg(flags=ACK | PSH, opts=0x88, b9=5, payload=b"hello")
    # the stack closes first; the peer's FIN; then FINs with wrong and right seq in TIME_WAIT
    tw = base + bytes([5, 0x10]) + timers(1) + seg(flags=ACK) + seg(flags=FIN | ACK)
    tw += seg(flags=FIN | ACK, dseq=0x40) + timers(100) + seg(flags=FIN | ACK, dseq=0xff)
    tw += seg(flags=RST, dseq=0) + seg(flags=SYN, port=0x20, dseq=0x7f, dack=0x7f, opts=0x08)
    s["time_wait_fin_seq"] = tw
    # small MSS (b7 = 0x05 -> MSS 80) with SACK: out-of-order data makes SACK
    # blocks ride beside the data and the FIN
    sm = bytes([0x00]) + handshake(mss_b7=0x05) + write(0x0f)
    sm += seg(flags=ACK | PSH, dseq=0x20, b9=8, payload=b"a" * 8)
    sm += seg(flags=ACK | PSH, dseq=0x40, b9=8, payload=b"b" * 8)
    sm += seg(flags=ACK | PSH, dseq=0x60, b9=8, payload=b"c" * 8)
    sm += bytes([5, 0x10]) + timers(10) + seg(flags=ACK, dack=0) + timers(200)
    s["small_mss_sack_fin"] = sm
    # SACK recovery with the FIN lost: data, close, SACK above the first segment
    rc = bytes([0x00]) + handshake() + write(0x8f) + bytes([5, 0x10]) + timers(1)
    for _ in range(4):
        rc += seg(flags=ACK, dack=0, opts=0x18, b7=0x00, b8=3, b9=30)
    rc += timers(50) + seg(flags=ACK, dack=0) + timers(250) + bytes([4, 3])
    s["sack_recovery_fin"] = rc
    return s


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, data in seeds().items():
        h = hashlib.sha1(data).hexdigest()
        with open(os.path.join(out, h), "wb") as f:
            f.write(data)
        print(name, h, len(data))


if __name__ == "__main__":
    main()
