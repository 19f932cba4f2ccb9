#!/usr/bin/python3
"""dhcp_server.py - a scripted DHCP server (scapy) for dhcp_timers.sh

usage: dhcp_server.py MODE IFACE LOG

Answers DISCOVER and REQUEST on IFACE with 192.0.2.70/24 from 192.0.2.1, a
12 s lease with T1 4 s and T2 8 s, and logs every client message as
"MONOTONIC TYPE bcast|unicast ciaddr=A" to LOG.  MODE:
  normal  answer everything
  rebind  ignore unicast REQUESTs (renewals): the client must rebind at T2
  nak     NAK every REQUEST from a bound client (ciaddr set)
  expire  answer the first exchange only, then nothing: the lease expires
  silent  answer nothing
"""
import sys
import time

from scapy.all import BOOTP, DHCP, IP, UDP, Ether, conf, get_if_hwaddr, sendp, sniff

conf.verb = 0
MODE, IFACE, LOG = sys.argv[1:4]
SERVER, ADDR = "192.0.2.1", "192.0.2.70"
SMAC = get_if_hwaddr(IFACE)
TYPES = {1: "DISCOVER", 3: "REQUEST", 4: "DECLINE", 7: "RELEASE"}
state = {"acks": 0}
log = open(LOG, "a", buffering=1)


def opt(p, name):
    for o in p[DHCP].options:
        if isinstance(o, tuple) and o[0] == name:
            return o[1]
    return None


def send(p, mtype):
    b = p[BOOTP]
    if b.ciaddr != "0.0.0.0" and not (b.flags & 0x8000):
        eth, ip = p[Ether].src, b.ciaddr
    else:
        eth, ip = "ff:ff:ff:ff:ff:ff", "255.255.255.255"
    opts = [("message-type", mtype), ("server_id", SERVER)]
    if mtype != "nak":
        opts += [("lease_time", 12), ("renewal_time", 4), ("rebinding_time", 8),
                 ("subnet_mask", "255.255.255.0"), ("router", SERVER)]
    r = (Ether(src=SMAC, dst=eth) / IP(src=SERVER, dst=ip) / UDP(sport=67, dport=68) /
         BOOTP(op=2, xid=b.xid, flags=b.flags, ciaddr=b.ciaddr,
               yiaddr="0.0.0.0" if mtype == "nak" else ADDR, siaddr=SERVER,
               chaddr=b.chaddr) / DHCP(options=opts + ["end"]))
    sendp(r, iface=IFACE)
    log.write("%.3f sent %s\n" % (time.monotonic(), mtype.upper()))


def handle(p):
    t = opt(p, "message-type")
    b = p[BOOTP]
    bcast = p[IP].dst == "255.255.255.255"
    log.write("%.3f %s %s ciaddr=%s\n" % (time.monotonic(), TYPES.get(t, str(t)),
                                         "bcast" if bcast else "unicast", b.ciaddr))
    if MODE == "silent" or (MODE == "expire" and state["acks"]):
        return
    if t == 1:
        send(p, "offer")
    elif t == 3:
        renewal = b.ciaddr != "0.0.0.0"
        if MODE == "rebind" and renewal and not bcast:
            return
        if MODE == "nak" and renewal:
            send(p, "nak")
            return
        send(p, "ack")
        state["acks"] += 1


log.write("%.3f ready\n" % time.monotonic())
sniff(iface=IFACE, store=0, prn=handle,
      lfilter=lambda p: UDP in p and p[UDP].dport == 67 and BOOTP in p and p[BOOTP].op == 1)
