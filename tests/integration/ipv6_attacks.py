#!/usr/bin/python3
"""ipv6_attacks.py - crafted IPv6 packets against tapird on tap0: overlapping
and tiny fragments (RFC 5722, RFC 7112), RH0 (RFC 5095), unknown options with
each action (RFC 8200 4.2), unknown Next Header, atomic fragments (RFC 6946),
reassembly timeout (Time Exceeded code 1), bad NDP (hop limit, option length
0, wrong option lengths; RFC 4861), NA/RA spoofing from off-link, and
fragment floods bounded by reassembly_max_bytes.

Run by ipv6_attacks.sh inside its private network namespace:

    ipv6_attacks.py TAPIR INSTANCE TAPIRD_PID

Frames go out through an AF_PACKET socket on tap0 (the kernel does not see
them; tapird reads them) and tapird's frames are read from the same socket.
The attacker is 2001:db8::99 / fe80::aa:1 with MAC 02:00:00:00:aa:01; this
script answers tapird's neighbour solicitations for it.  "Nothing was sent
back" is checked without sleeping: after the attack an echo request with a
fresh id goes out, and tapird handles frames in order, so any answer to the
attack comes before that echo's reply.
"""
import json
import logging
import os
import random
import select
import socket
import subprocess
import sys
import time

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import (Ether, IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrFragment,  # noqa: E402
                       IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, ICMPv6EchoRequest,
                       ICMPv6EchoReply, ICMPv6ND_NS, ICMPv6ND_NA, ICMPv6ND_RA,
                       ICMPv6NDOptSrcLLAddr, ICMPv6NDOptDstLLAddr, ICMPv6NDOptPrefixInfo,
                       ICMPv6ParamProblem, ICMPv6TimeExceeded, HBHOptUnknown, PadN, Raw, conf)

conf.verb = 0
IFACE = "tap0"
US, US_MAC = "2001:db8::2", "02:00:00:00:00:02"
A, A_LL, A_MAC = "2001:db8::99", "fe80::aa:1", "02:00:00:00:aa:01"
TAPIR, INSTANCE, PID = sys.argv[1], sys.argv[2], int(sys.argv[3])
FAILS = []


class Fail(Exception):
    pass


def check(cond, why):
    if not cond:
        raise Fail(why)


sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
sock.bind((IFACE, 0))


def stats():
    out = subprocess.run([TAPIR, "stats", INSTANCE, "--json"], capture_output=True, text=True,
                         check=True).stdout
    return json.loads(out)


def ctr(s, name):
    layer, key = name.split(".", 1)
    return s[layer][key]


def eth(pkt, dst=US_MAC):
    return Ether(src=A_MAC, dst=dst) / pkt


def send(frame):
    sock.send(bytes(frame))


def answer_ns(p):
    """Answer tapird's NS for the attacker's addresses (it resolves us)."""
    if ICMPv6ND_NS in p and p[ICMPv6ND_NS].tgt in (A, A_LL):
        tgt = p[ICMPv6ND_NS].tgt
        send(eth(IPv6(src=tgt, dst=p[IPv6].src, hlim=255) /
                 ICMPv6ND_NA(tgt=tgt, R=0, S=1, O=1) / ICMPv6NDOptDstLLAddr(lladdr=A_MAC),
                 dst=p[Ether].src))


def exchange(frames, timeout=3.0):
    """Send @frames, then an echo request; return tapird's IPv6 packets to the
    attacker that came before its reply."""
    sync = random.randrange(1, 65535)
    for f in frames:
        send(f)
    send(eth(IPv6(src=A, dst=US) / ICMPv6EchoRequest(id=sync, seq=1)))
    got = []
    end = time.time() + timeout
    while time.time() < end:
        r, _, _ = select.select([sock], [], [], end - time.time())
        if not r:
            break
        p = Ether(sock.recv(70000))
        if p.src != US_MAC or IPv6 not in p:
            continue
        answer_ns(p)
        if p[IPv6].dst not in (A, A_LL):
            continue
        if ICMPv6EchoReply in p and p[ICMPv6EchoReply].id == sync:
            return got
        got.append(p)
    raise Fail("no reply to the sync echo request")


def alive():
    check(os.path.exists("/proc/%d" % PID), "tapird died")
    exchange([])


def case(name, fn):
    try:
        fn()
        alive()
        print("ok: %s" % name, flush=True)
    except Fail as e:
        print("FAIL: %s: %s" % (name, e), flush=True)
        FAILS.append(name)


def pp(got):
    return [p for p in got if ICMPv6ParamProblem in p]


def echo_replies(got, ident):
    return [p for p in got if ICMPv6EchoReply in p and p[ICMPv6EchoReply].id == ident]


def frags(pkt_after_frag, ident, pieces, nh=58):
    """Fragment headers by hand: @pieces is [(offset, more, bytes)]."""
    return [eth(IPv6(src=A, dst=US) / IPv6ExtHdrFragment(nh=nh, offset=o // 8, m=m, id=ident) /
                Raw(b)) for o, m, b in pieces]


def echo_bytes(ident, data):
    return bytes(IPv6(src=A, dst=US) / ICMPv6EchoRequest(id=ident, seq=1, data=data))[40:]


# ---- cases -----------------------------------------------------------------

def t_overlap():
    b = echo_bytes(0x1111, bytes(range(256)) * 4)
    before = stats()
    got = exchange(frags(None, 0x5722, [(0, True, b[:512]), (256, True, b[256:768]),
                                        (512, False, b[512:])]))
    check(not echo_replies(got, 0x1111), "overlapping fragments were reassembled")
    after = stats()
    check(ctr(after, "reasm6.drop.overlap") > ctr(before, "reasm6.drop.overlap"),
          "reasm6.drop.overlap did not move")


def t_fragments_ok():
    b = echo_bytes(0x1112, bytes(range(256)) * 4)
    # any order, a duplicate; the duplicate comes before the datagram is whole: one after
    # it would start a new reassembly that times out (Time Exceeded) into a later case
    pieces = [(512, False, b[512:]), (0, True, b[:256]), (0, True, b[:256]),
              (256, True, b[256:512])]
    got = exchange(frags(None, 0x1234, pieces))
    check(echo_replies(got, 0x1112), "fragments in any order with a duplicate: no reply")


def t_tiny_first():
    # RFC 7112: a first fragment holding only part of the header chain
    dst = bytes(IPv6ExtHdrDestOpt(nh=58, options=[PadN(optdata=b"\0" * 12)]))
    body = echo_bytes(0x1113, b"x" * 64)
    rest = dst + body
    before = stats()
    got = exchange(frags(None, 0x7112, [(0, True, rest[:8]), (8, False, rest[8:])], nh=60))
    check(not echo_replies(got, 0x1113), "a split header chain was reassembled")
    p = pp(got)
    check(p and p[0][ICMPv6ParamProblem].code == 3, "no Parameter Problem code 3: %r" % got)
    check(ctr(stats(), "ipv6.drop.first_frag") > ctr(before, "ipv6.drop.first_frag"),
          "ipv6.drop.first_frag did not move")


def t_tiny_fragments():
    # 8-byte fragments are legal and reassembled
    b = echo_bytes(0x1114, b"y" * 56)
    pieces = [(o, o + 8 < len(b), b[o:o + 8]) for o in range(0, len(b), 8)]
    random.shuffle(pieces)
    got = exchange(frags(None, 0x1115, pieces))
    check(echo_replies(got, 0x1114), "8-byte fragments: no reply")


def t_frag_len():
    b = echo_bytes(0x1116, b"z" * 64)
    before = stats()
    got = exchange(frags(None, 0x1117, [(0, True, b[:13])]))  # not a multiple of 8
    p = pp(got)
    check(p and p[0][ICMPv6ParamProblem].code == 0 and p[0][ICMPv6ParamProblem].ptr == 4,
          "no Parameter Problem code 0 at the payload length: %r" % got)
    check(ctr(stats(), "ipv6.drop.frag_len") > ctr(before, "ipv6.drop.frag_len"), "counter")


def t_rh0():
    before = stats()
    pkt = eth(IPv6(src=A, dst=US) / IPv6ExtHdrRouting(type=0, segleft=1, addresses=["2001:db8::5"]) /
              ICMPv6EchoRequest(id=0x1118))
    got = exchange([pkt])
    check(not echo_replies(got, 0x1118), "RH0 with segments left was answered")
    p = pp(got)
    check(p and p[0][ICMPv6ParamProblem].code == 0 and p[0][ICMPv6ParamProblem].ptr == 42,
          "no Parameter Problem at the routing type: %r" % got)
    check(ctr(stats(), "ipv6.drop.rh0") > ctr(before, "ipv6.drop.rh0"), "ipv6.drop.rh0")
    # segments left 0: ignored, the packet is processed
    pkt = eth(IPv6(src=A, dst=US) / IPv6ExtHdrRouting(type=0, segleft=0, addresses=["2001:db8::5"]) /
              ICMPv6EchoRequest(id=0x1119))
    check(echo_replies(exchange([pkt]), 0x1119), "RH0 with segments left 0 was not processed")


def opt_pkt(otype, ident, dst=US, dmac=US_MAC):
    return eth(IPv6(src=A, dst=dst) /
               IPv6ExtHdrDestOpt(nh=58, options=[HBHOptUnknown(otype=otype, optdata=b"ab")]) /
               ICMPv6EchoRequest(id=ident), dst=dmac)


def t_options():
    # 00: skip; 01: discard; 10: discard + PP code 2; 11: the same, unicast only
    check(echo_replies(exchange([opt_pkt(0x1e, 0x1120)]), 0x1120), "action 00 not skipped")
    got = exchange([opt_pkt(0x5e, 0x1121)])
    check(not got, "action 01 answered: %r" % got)
    for otype, ident in ((0x9e, 0x1122), (0xde, 0x1123)):
        got = exchange([opt_pkt(otype, ident)])
        p = pp(got)
        check(not echo_replies(got, ident), "action %x: answered" % (otype >> 6))
        check(p and p[0][ICMPv6ParamProblem].code == 2 and p[0][ICMPv6ParamProblem].ptr == 42,
              "action %x: no Parameter Problem code 2 at the option: %r" % (otype >> 6, got))
    # to a multicast group: 10 still answers, 11 does not
    got = exchange([opt_pkt(0x9e, 0x1124, "ff02::1", "33:33:00:00:00:01")])
    check(pp(got), "action 10 to ff02::1: no Parameter Problem")
    got = exchange([opt_pkt(0xde, 0x1125, "ff02::1", "33:33:00:00:00:01")])
    check(not pp(got), "action 11 to ff02::1: a Parameter Problem")
    # hop-by-hop options obey the same rules
    pkt = eth(IPv6(src=A, dst=US) /
              IPv6ExtHdrHopByHop(nh=58, options=[HBHOptUnknown(otype=0x9f, optdata=b"ab")]) /
              ICMPv6EchoRequest(id=0x1126))
    check(pp(exchange([pkt])), "hop-by-hop action 10: no Parameter Problem")


def t_unknown_nh():
    pkt = eth(IPv6(src=A, dst=US, nh=253) / Raw(b"\0" * 16))
    p = pp(exchange([pkt]))
    check(p and p[0][ICMPv6ParamProblem].code == 1 and p[0][ICMPv6ParamProblem].ptr == 6,
          "unknown Next Header: no Parameter Problem code 1 at byte 6")
    # an ICMPv6 error is never answered with one
    pkt = eth(IPv6(src=A, dst=US) / IPv6ExtHdrDestOpt(nh=58, options=[
        HBHOptUnknown(otype=0x9e, optdata=b"ab")]) / ICMPv6ParamProblem() / Raw(b"\0" * 40))
    check(not pp(exchange([pkt])), "an error about an ICMPv6 error was sent")


def t_atomic():
    pkt = eth(IPv6(src=A, dst=US) / IPv6ExtHdrFragment(nh=58, offset=0, m=0, id=77) /
              ICMPv6EchoRequest(id=0x1127))
    before = stats()
    check(echo_replies(exchange([pkt]), 0x1127), "atomic fragment not answered")
    check(ctr(stats(), "ipv6.atomic_frags") > ctr(before, "ipv6.atomic_frags"), "counter")


def t_reasm_timeout():
    b = echo_bytes(0x1128, b"t" * 64)
    send(frags(None, 0x600d, [(0, True, b[:16])])[0])
    end = time.time() + 5
    while time.time() < end:
        r, _, _ = select.select([sock], [], [], 0.5)
        if not r:
            continue
        p = Ether(sock.recv(70000))
        if p.src != US_MAC or IPv6 not in p:
            continue
        answer_ns(p)
        if ICMPv6TimeExceeded in p and p[ICMPv6TimeExceeded].code == 1:
            return
    raise Fail("no Time Exceeded code 1 after the reassembly timeout")


def ns(hlim=255, opts=None, src=A):
    body = ICMPv6ND_NS(tgt=US)
    if opts is not None:
        body = body / opts
    return eth(IPv6(src=src, dst="ff02::1:ff00:2", hlim=hlim) / body, dst="33:33:ff:00:00:02")


def nas(got):
    return [p for p in got if ICMPv6ND_NA in p]


def t_bad_ndp():
    before = stats()
    check(not nas(exchange([ns(hlim=64, opts=ICMPv6NDOptSrcLLAddr(lladdr=A_MAC))])),
          "an NS with hop limit 64 was answered")
    check(ctr(stats(), "ndp.drop.hop_limit") > ctr(before, "ndp.drop.hop_limit"), "hop limit ctr")
    before = stats()
    zero = Raw(b"\x01\x00" + bytes.fromhex(A_MAC.replace(":", "")))   # length 0
    check(not nas(exchange([ns(opts=zero)])), "an NS with an option of length 0 was answered")
    bad = Raw(b"\x01\x02" + b"\0" * 14)                                # SLLA of 16 bytes
    check(not nas(exchange([ns(opts=bad)])), "an NS with a 16-byte SLLA was answered")
    past = Raw(b"\x01\x04" + b"\0" * 6)                                # past the end
    check(not nas(exchange([ns(opts=past)])), "an NS with an option past the end was answered")
    check(ctr(stats(), "ndp.drop.malformed") >= ctr(before, "ndp.drop.malformed") + 3,
          "ndp.drop.malformed")
    got = exchange([ns(opts=ICMPv6NDOptSrcLLAddr(lladdr=A_MAC))])
    check(nas(got) and nas(got)[0][ICMPv6ND_NA].S == 1, "a good NS got no solicited NA")


def t_spoof():
    # An RA that crossed a router (hop limit 254), or from a global address: ignored
    before = stats()
    ra = ICMPv6ND_RA(routerlifetime=1800) / ICMPv6NDOptPrefixInfo(
        prefixlen=64, L=1, A=1, validlifetime=3600, preferredlifetime=1800, prefix="2001:db8:66::")
    exchange([eth(IPv6(src=A_LL, dst="ff02::1", hlim=254) / ra, dst="33:33:00:00:00:01"),
              eth(IPv6(src=A, dst="ff02::1", hlim=255) / ra, dst="33:33:00:00:00:01")])
    after = stats()
    check(ctr(after, "ndp.drop.hop_limit") > ctr(before, "ndp.drop.hop_limit"), "hop limit ctr")
    check(ctr(after, "ndp.drop.bad_src") > ctr(before, "ndp.drop.bad_src"), "bad_src ctr")
    check(ctr(after, "ndp.ra_accepted") == ctr(before, "ndp.ra_accepted"), "an RA was accepted")
    st = json.loads(subprocess.run([TAPIR, "status", INSTANCE, "--json"], capture_output=True,
                                   text=True, check=True).stdout)
    check(not st["ipv6_routers"], "a router was added: %r" % st["ipv6_routers"])
    check(not [a for a in st["ipv6_addresses"] if a["address"].startswith("2001:db8:66:")],
          "a SLAAC address came from a spoofed RA")
    # An NA that crossed a router rewriting the attacker's MAC: ignored
    spoof = eth(IPv6(src=A, dst=US, hlim=64) / ICMPv6ND_NA(tgt=A, R=0, S=0, O=1) /
                ICMPv6NDOptDstLLAddr(lladdr="02:66:66:66:66:66"))
    exchange([spoof])
    out = subprocess.run([TAPIR, "neigh", INSTANCE, "--json"], capture_output=True, text=True,
                         check=True).stdout
    check("02:66:66:66:66:66" not in out, "an off-link NA changed the cache: %s" % out)


def t_frag_flood():
    # Far more first fragments than the 256 KiB cap holds: evicted, bounded
    before = stats()
    b = echo_bytes(0x1130, b"f" * 2000)
    frames = []
    for i in range(3000):
        frames += frags(None, 0x10000 + i, [(0, True, b[:1000])])
    exchange(frames, timeout=20)
    after = stats()
    check(ctr(after, "reasm6.drop.evicted") > ctr(before, "reasm6.drop.evicted"),
          "no eviction under the flood")
    check(ctr(after, "reasm6.frags_in") - ctr(before, "reasm6.frags_in") >= 2900,
          "the flood did not arrive")


case("overlapping fragments drop the datagram (RFC 5722)", t_overlap)
case("fragments in any order, a duplicate tolerated", t_fragments_ok)
case("first fragment without the whole header chain (RFC 7112)", t_tiny_first)
case("tiny (8-byte) fragments reassemble", t_tiny_fragments)
case("fragment length not a multiple of 8", t_frag_len)
case("RH0 refused (RFC 5095), segments left 0 ignored", t_rh0)
case("unknown options obey their action bits", t_options)
case("unknown Next Header, no error about an error", t_unknown_nh)
case("atomic fragment as a whole packet (RFC 6946)", t_atomic)
case("reassembly timeout: Time Exceeded code 1", t_reasm_timeout)
case("bad NDP: hop limit, length 0, wrong lengths", t_bad_ndp)
case("RA and NA spoofed from off-link ignored", t_spoof)
case("fragment flood bounded by the cap", t_frag_flood)
sys.exit(1 if FAILS else 0)
