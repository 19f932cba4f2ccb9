#!/usr/bin/env python3
"""gen_corpus.py - seeds for fuzz/ndp (see ndp.c for the record format); needs scapy."""
import os, struct, logging
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import (ICMPv6ND_NS, ICMPv6ND_NA, ICMPv6ND_RA, ICMPv6ND_RS, ICMPv6ND_Redirect,
                       ICMPv6NDOptSrcLLAddr, ICMPv6NDOptDstLLAddr, ICMPv6NDOptPrefixInfo,
                       ICMPv6NDOptMTU, ICMPv6NDOptRDNSS, ICMPv6NDOptRedirectedHdr, ICMPv6MLQuery,
                       ICMPv6MLQuery2, ICMPv6EchoRequest, ICMPv6PacketTooBig,
                       ICMPv6ParamProblem, IPv6)

D = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")
os.makedirs(D, exist_ok=True)
MAC = "02:00:00:00:00:01"

def msg(how, m):
    b = bytes(m)
    return bytes([0, how]) + struct.pack("!H", len(b)) + b

def clock(n):
    return bytes([1, n])

ra = (ICMPv6ND_RA(chlim=64, routerlifetime=1800, reachabletime=20000, retranstimer=500) /
      ICMPv6NDOptSrcLLAddr(lladdr=MAC) / ICMPv6NDOptMTU(mtu=1400) /
      ICMPv6NDOptPrefixInfo(prefixlen=64, L=1, A=1, validlifetime=600, preferredlifetime=300,
                            prefix="2001:db8:1::") /
      ICMPv6NDOptRDNSS(lifetime=600, dns=["2001:db8::53", "2001:db8::54"]))
ns = ICMPv6ND_NS(tgt="2001:db8::2") / ICMPv6NDOptSrcLLAddr(lladdr=MAC)
na = ICMPv6ND_NA(tgt="fe80::1", R=1, S=1, O=1) / ICMPv6NDOptDstLLAddr(lladdr=MAC)
seeds = {
    "ra_slaac": msg(4, ra) + clock(30) + clock(30) + bytes([3, 7]) + clock(50) + bytes([2]),
    "ns_to_us": msg(8, ns) + bytes([3, 1]) + clock(20),
    "ns_dad": msg(8 | 2, ICMPv6ND_NS(tgt="2001:db8::2")),
    "resolve_na": bytes([3, 1]) + msg(0 | 0, ICMPv6ND_NA(tgt="2001:db8::1", S=1, O=1) /
                                     ICMPv6NDOptDstLLAddr(lladdr=MAC)) + clock(255) + clock(255),
    "router_then_offlink": msg(4, ra) + msg(0, na) + bytes([7, 9]) + clock(20),
    "redirect": msg(4, ra) + msg(0, na) + bytes([7, 9]) +
                msg(0, ICMPv6ND_Redirect(tgt="fe80::2", dst="2001:db8:77::9") /
                    ICMPv6NDOptDstLLAddr(lladdr="02:00:00:00:00:05") /
                    ICMPv6NDOptRedirectedHdr(pkt=bytes(IPv6()))) + bytes([7, 9]),
    "bad_len0": msg(4, bytes(ICMPv6ND_RA()) + b"\x01\x00" + b"\0" * 6),
    "hop_limit": msg(4 | 0x10, ra),
    "mld_query": msg(4 | 0x40, ICMPv6MLQuery2(mrd=1000)) + msg(4 | 0x40, ICMPv6MLQuery()) +
                 clock(20),
    "echo_ptb": msg(0, ICMPv6EchoRequest(data=b"x" * 100)) +
                msg(0, ICMPv6PacketTooBig(mtu=1280) / IPv6(src="2001:db8::2", dst="2001:db8::9",
                                                          plen=1400) / (b"\0" * 64)),
    "param_problem": msg(0, ICMPv6ParamProblem(code=1, ptr=6) /
                     IPv6(src="2001:db8::2", dst="2001:db8::9", nh=17) / (b"\0" * 8)),
    "rs_ignored": msg(4, ICMPv6ND_RS() / ICMPv6NDOptSrcLLAddr(lladdr=MAC)),
}
for name, data in seeds.items():
    with open(os.path.join(D, name), "wb") as f:
        f.write(data)
