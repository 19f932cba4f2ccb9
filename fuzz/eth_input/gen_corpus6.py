#!/usr/bin/env python3
"""gen_corpus6.py - IPv6 seeds for the eth_input corpus (needs scapy): echo,
fragments, extension headers, NDP, MLD; names start with ipv6_."""
import os, struct, logging
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import (Ether, IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop,
                       IPv6ExtHdrRouting, ICMPv6EchoRequest, ICMPv6ND_NS, ICMPv6ND_NA,
                       ICMPv6ND_RA, ICMPv6NDOptSrcLLAddr, ICMPv6NDOptDstLLAddr,
                       ICMPv6NDOptPrefixInfo, ICMPv6MLQuery2, HBHOptUnknown, UDP, Raw, fragment6)

D = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
US_MAC, PEER_MAC = "02:00:00:00:00:02", "02:00:00:00:00:01"
US, PEER, PLL = "2001:db8::2", "2001:db8::1", "fe80::1"

def frame(p, dst=US_MAC):
    b = bytes(Ether(src=PEER_MAC, dst=dst) / p)
    return bytes([0]) + struct.pack("!H", len(b)) + b

def clock(n):
    return bytes([1, n])

na = IPv6(src=PEER, dst=US, hlim=255) / ICMPv6ND_NA(tgt=PEER, S=1, O=1) / \
     ICMPv6NDOptDstLLAddr(lladdr=PEER_MAC)
big = IPv6(src=PEER, dst=US) / IPv6ExtHdrFragment(id=9) / ICMPv6EchoRequest(data=b"a" * 4000)
frags = fragment6(big, 1280)
seeds = {
    "ipv6_echo": frame(IPv6(src=PEER, dst=US) / ICMPv6EchoRequest(data=b"ping")) + frame(na),
    "ipv6_frags": b"".join(frame(f) for f in reversed(frags)) + frame(na),
    "ipv6_frag_timeout": frame(frags[0]) + bytes([2, 2]),
    "ipv6_ext": frame(IPv6(src=PEER, dst=US) / IPv6ExtHdrHopByHop() / IPv6ExtHdrDestOpt(
        options=[HBHOptUnknown(otype=0x9e, optdata=b"xx")]) / ICMPv6EchoRequest()),
    "ipv6_rh0": frame(IPv6(src=PEER, dst=US) / IPv6ExtHdrRouting(segleft=1, addresses=["::1"]) /
                      ICMPv6EchoRequest()),
    "ipv6_udp": frame(IPv6(src=PEER, dst=US) / UDP(sport=9, dport=7) / Raw(b"hello")),
    "ipv6_ns": frame(IPv6(src=PEER, dst="ff02::1:ff00:2", hlim=255) / ICMPv6ND_NS(tgt=US) /
                     ICMPv6NDOptSrcLLAddr(lladdr=PEER_MAC), dst="33:33:ff:00:00:02"),
    "ipv6_ra": frame(IPv6(src=PLL, dst="ff02::1", hlim=255) / ICMPv6ND_RA(routerlifetime=600) /
                     ICMPv6NDOptSrcLLAddr(lladdr=PEER_MAC) /
                     ICMPv6NDOptPrefixInfo(prefix="2001:db8:3::", validlifetime=100,
                                           preferredlifetime=50), dst="33:33:00:00:00:01") +
                 clock(40) + bytes([7, 4, 1]) + clock(100),
    "ipv6_send_queue": bytes([7, 100, 1]) + frame(na) + clock(10),
    "ipv6_mld": frame(IPv6(src=PLL, dst="ff02::1", hlim=1) / IPv6ExtHdrHopByHop(
        options=[]) / ICMPv6MLQuery2(), dst="33:33:00:00:00:01") + clock(200),
}
for name, data in seeds.items():
    with open(os.path.join(D, name), "wb") as f:
        f.write(data)
