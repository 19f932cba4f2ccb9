#!/usr/bin/env python3
"""gen_corpus6.py - IPv6 seeds for the eth_input corpus (needs scapy): echo,
fragments, extension headers, NDP, MLD; names start with ipv6_."""
import os, struct, logging
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import (Ether, IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop,
                       IPv6ExtHdrRouting, ICMPv6EchoRequest, ICMPv6ND_NS, ICMPv6ND_NA,
                       ICMPv6ND_RA, ICMPv6NDOptSrcLLAddr, ICMPv6NDOptDstLLAddr,
                       ICMPv6NDOptPrefixInfo, ICMPv6MLQuery2, HBHOptUnknown, UDP, Raw, fragment6,
                       ICMPv6DestUnreach, ICMPv6PacketTooBig, ICMPv6NDOptRDNSS)

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
# UDP over IPv6: a closed port (port unreachable), checksums bad and zero (RFC
# 8200 8.1), all-nodes, a fragmented 8000-byte echo, ICMPv6 errors about our
# datagrams (from the echo port, and from an ephemeral one the stack sent),
# and an RA naming DNS servers (RDNSS, RFC 8106); "dad" first: DAD done
dad = clock(40) + clock(40) + clock(40)   # link-local DAD, then the static address's
udp = IPv6(src=PEER, dst=US) / UDP(sport=4000, dport=7) / Raw(b"x" * 24)
udp_bad = bytearray(bytes(udp))
udp_bad[46] ^= 0x55
udp_zero = bytearray(bytes(udp))
udp_zero[46:48] = b"\0\0"
big_udp = IPv6(src=PEER, dst=US) / IPv6ExtHdrFragment(id=77) / UDP(sport=4000, dport=7) / \
    Raw(bytes(range(256)) * 31 + b"x" * 64)
ours = IPv6(src=US, dst=PEER) / UDP(sport=7, dport=4000) / Raw(b"y" * 1400)
ours_eph = IPv6(src=US, dst="2001:db8::5") / UDP(sport=50000, dport=9) / Raw(b"B" * 64)
seeds.update({
    "ipv6_udp_closed": dad + frame(na) + frame(IPv6(src=PEER, dst=US) / UDP(sport=4000, dport=9) /
                                     Raw(b"anyone")),
    "ipv6_udp_bad_csum": dad + frame(IPv6(bytes(udp_bad))) + frame(IPv6(bytes(udp_zero))),
    "ipv6_udp_allnodes": dad + frame(IPv6(src=PEER, dst="ff02::1") / UDP(sport=4000, dport=7) /
                               Raw(b"all"), dst="33:33:00:00:00:01") +
                         frame(IPv6(src=PEER, dst="ff02::1") / UDP(sport=4000, dport=9) /
                               Raw(b"all"), dst="33:33:00:00:00:01"),
    "ipv6_udp_frags": dad + frame(na) + b"".join(frame(f) for f in fragment6(big_udp, 1500)) +
                      clock(2),
    "ipv6_udp_errors": dad + frame(na) + frame(IPv6(src=PEER, dst=US) / ICMPv6DestUnreach(code=4) /
                                         bytes(ours)[:1232]) +
                       frame(IPv6(src=PEER, dst=US) / ICMPv6PacketTooBig(mtu=1300) /
                             bytes(ours)[:1232]) +
                       bytes([11, 1, 5]) + frame(na) +
                       frame(IPv6(src=PEER, dst=US) / ICMPv6DestUnreach(code=4) / bytes(ours_eph)),
    "ipv6_ra_rdnss": frame(IPv6(src=PLL, dst="ff02::1", hlim=255) / ICMPv6ND_RA(routerlifetime=0) /
                           ICMPv6NDOptRDNSS(lifetime=60, dns=[PEER, "ff02::1"]),
                           dst="33:33:00:00:00:01") + clock(40),
})
for name, data in seeds.items():
    with open(os.path.join(D, name), "wb") as f:
        f.write(data)
