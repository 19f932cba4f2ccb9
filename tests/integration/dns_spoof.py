#!/usr/bin/python3
# dns_spoof.py - answer tapir's DNS queries to a silent server with forged
# replies (RFC 5452): a wrong ID, a wrong question, a wrong source port and
# a wrong destination port, each carrying a bogus address.  The real answer
# comes later from the next server; the resolver must ignore all four.
#
# Usage: dns_spoof.py IFACE SERVER NAME BOGUS READYFILE COUNTFILE
import sys
import time

from scapy.all import DNS, DNSQR, DNSRR, IP, UDP, AsyncSniffer, send  # noqa: E402

iface, server, name, bogus, ready, countfile = sys.argv[1:7]
sent = 0


def forge(p):
    global sent
    q = p[DNS]
    if q.qr != 0 or q.qd is None:
        return
    qname = q.qd.qname.decode() if isinstance(q.qd.qname, bytes) else q.qd.qname
    if qname.rstrip('.').lower() != name:
        return
    src, sport, qid = p[IP].src, p[UDP].sport, q.id
    good_q = DNSQR(qname=qname, qtype=q.qd.qtype)
    ans = DNSRR(rrname=qname, type='A', ttl=300, rdata=bogus)
    forged = [
        # wrong ID
        IP(src=server, dst=src) / UDP(sport=53, dport=sport) /
        DNS(id=(qid + 1) & 0xffff, qr=1, aa=1, rd=1, ra=1, qd=good_q, an=ans),
        # wrong question
        IP(src=server, dst=src) / UDP(sport=53, dport=sport) /
        DNS(id=qid, qr=1, aa=1, rd=1, ra=1, qd=DNSQR(qname='evil.' + qname, qtype=q.qd.qtype),
            an=DNSRR(rrname='evil.' + qname, type='A', ttl=300, rdata=bogus)),
        # wrong source port
        IP(src=server, dst=src) / UDP(sport=5353, dport=sport) /
        DNS(id=qid, qr=1, aa=1, rd=1, ra=1, qd=good_q, an=ans),
        # wrong destination port
        IP(src=server, dst=src) / UDP(sport=53, dport=sport ^ 1) /
        DNS(id=qid, qr=1, aa=1, rd=1, ra=1, qd=good_q, an=ans),
    ]
    t0 = time.monotonic()
    send(forged, verbose=False)
    sent += len(forged)
    print(f'{time.time():.3f} query id {qid} port {sport} at {p.time:.3f}, '
          f'forged in {time.monotonic() - t0:.3f}s', flush=True)
    with open(countfile, 'w') as f:
        f.write(f'{sent}\n')


sn = AsyncSniffer(iface=iface, store=False, prn=forge,
                  filter=f'udp and dst host {server} and dst port 53')
# scapy's first send is slow (routes, sockets): pay for it before the race
send(IP(dst='192.0.2.2') / UDP(sport=9, dport=9), verbose=False)
sn.start()
while not getattr(sn, 'running', False):
    pass
open(ready, 'w').close()
sn.join()
