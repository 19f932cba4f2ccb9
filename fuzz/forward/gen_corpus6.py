#!/usr/bin/env python3
"""gen_corpus6.py - IPv6 seeds for the forward corpus (needs scapy): SYNs for a
foreign IPv6 address through the TCP forwarder (destination port % 4 picks the
answer: accept now, accept later, RST, ICMPv6 unreachable), then the peer's
ACK and data; and packets the forwarder must not take (link-local, ::/8
destinations, hop limit 1); names start with ipv6_fwd_."""
import os, struct, logging
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import Ether, IPv6, ICMPv6ND_NA, ICMPv6NDOptDstLLAddr, TCP, UDP, Raw

D = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
US_MAC, PEER_MAC = "02:00:00:00:00:02", "02:00:00:00:00:01"
US, PEER, FOREIGN = "2001:db8::2", "2001:db8::1", "2001:db8:ffff::7"

def frame(p):
    b = bytes(Ether(src=PEER_MAC, dst=US_MAC) / p)
    return bytes([0]) + struct.pack("!H", len(b)) + b

def clock(n):
    return bytes([1, n])

na = frame(IPv6(src=PEER, dst=US, hlim=255) / ICMPv6ND_NA(tgt=PEER, S=1, O=1) /
           ICMPv6NDOptDstLLAddr(lladdr=PEER_MAC))
dad = clock(200) + clock(200)   # our addresses are tentative until DAD is over

def syn(dport, dst=FOREIGN, hlim=64):
    return frame(IPv6(src=PEER, dst=dst, hlim=hlim) /
                 TCP(sport=40000 + dport, dport=dport, seq=1000, flags="S",
                     options=[("MSS", 1440), ("SAckOK", b""), ("Timestamp", (5, 0))]))

def ack(dport, data=b""):
    # the ISS is unknown: a cookie-style ACK the stack must check and refuse
    return frame(IPv6(src=PEER, dst=FOREIGN) / TCP(sport=40000 + dport, dport=dport, seq=1001,
                                                   ack=12345, flags="A") / Raw(data))

seeds = {
    "ipv6_fwd_accept": dad + syn(80) + na + ack(80, b"hi") + clock(4),
    "ipv6_fwd_later": dad + syn(81) + na + clock(2) + syn(81) + clock(4),
    "ipv6_fwd_rst": dad + syn(82) + na + clock(2),
    "ipv6_fwd_unreach": dad + syn(83) + na + clock(2),
    "ipv6_fwd_bad_dst": dad + syn(80, dst="fe80::7") + syn(80, dst="::7") + syn(80, hlim=1) +
                        na + frame(IPv6(src=PEER, dst=FOREIGN) / UDP(dport=53)) + clock(2),
}
for name, data in seeds.items():
    with open(os.path.join(D, name), "wb") as f:
        f.write(data)
