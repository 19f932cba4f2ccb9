#!/usr/bin/python3
"""attacks.py - crafted frames against tapird on tap0, from the RFCs and from
known attacks on embedded TCP/IP stacks (AMNESIA:33, Ripple20, INFRA:HALT,
NUMBER:JACK, ping of death, teardrop, land, SYN flood, blind in-window
injection, ...).

Run by attacks.sh inside its private network namespace:

    attacks.py CTL_SOCKET TAPIRD_PID [CASE-SUBSTRING...]

Frames are built byte by byte (so that any field can be wrong) and sent
through an AF_PACKET socket on tap0: the kernel does not see them, tapird
reads them.  tapird's frames are read from the same socket; scapy parses
them.  The attacker is 192.0.2.99 with MAC 02:00:00:00:aa:01 (this script
answers tapird's ARP requests for it).

"Nothing was sent back" is checked without sleeping: after the attack a
"sync" echo request is sent, and tapird handles frames in order, so any
answer to the attack comes before the sync's reply.  The counters read
after the sync include the attack.

Every case prints "ok: NAME"; after every case tapird must still answer a
ping, a TCP echo and an HTTP GET from the kernel.  A failing case prints
"FAIL: NAME: why" and the script goes on; it exits 1 if any failed.
"""
import json
import logging
import os
import random
import select
import socket
import struct
import subprocess
import sys
import time

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import ARP, ICMP, IP, TCP, UDP, Ether, conf  # noqa: E402

conf.verb = 0

IFACE = "tap0"
US_IP, US_MAC = "192.0.2.2", "02:00:00:00:00:02"
K_IP = "192.0.2.1"
A_IP, A_MAC = "192.0.2.99", "02:00:00:00:aa:01"
A2_IP, A2_MAC = "192.0.2.98", "02:00:00:00:aa:02"
BCAST = "192.0.2.255"
ATTACKERS = {A_IP: A_MAC, A2_IP: A2_MAC}

CTL = sys.argv[1]
PID = int(sys.argv[2])
ONLY = sys.argv[3:]


class Fail(Exception):
    pass


def check(cond, why):
    if not cond:
        raise Fail(why)


# ---- bytes ------------------------------------------------------------------

def mac_b(m):
    return bytes.fromhex(m.replace(":", ""))


def ip_b(a):
    return socket.inet_aton(a)


def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff


def eth(payload, etype=0x0800, dst=US_MAC, src=A_MAC):
    return mac_b(dst) + mac_b(src) + struct.pack("!H", etype) + payload


def ipv4(payload, proto, src=A_IP, dst=US_IP, ttl=64, ident=None, df=False, mf=False,
         off=0, opts=b"", ihl=None, tot=None, chk=None, version=4, tos=0):
    """An IPv4 header + @payload; any field can be forced to a wrong value."""
    if len(opts) % 4:
        opts += b"\0" * (4 - len(opts) % 4)
    hl = 20 + len(opts)
    ihl = hl // 4 if ihl is None else ihl
    tot = hl + len(payload) if tot is None else tot
    ident = random.getrandbits(16) if ident is None else ident
    fl = (0x4000 if df else 0) | (0x2000 if mf else 0) | (off // 8)
    h = struct.pack("!BBHHHBBH4s4s", (version << 4) | (ihl & 15), tos, tot & 0xffff, ident,
                    fl, ttl, proto, 0, ip_b(src), ip_b(dst)) + opts
    c = csum(h) if chk is None else chk
    return h[:10] + struct.pack("!H", c) + h[12:] + payload


FLAGS = {"F": 0x01, "S": 0x02, "R": 0x04, "P": 0x08, "A": 0x10, "U": 0x20, "E": 0x40, "C": 0x80}


def flagbits(f):
    return f if isinstance(f, int) else sum(FLAGS[c] for c in f)


def tcp(sport, dport, seq=0, ack=0, flags="S", win=65535, opts=b"", data=b"", urg=0,
        doff=None, chk=None, src=A_IP, dst=US_IP):
    """A TCP segment with a correct checksum unless @chk is given."""
    if len(opts) % 4:
        opts += b"\0" * (4 - len(opts) % 4)
    doff = (20 + len(opts)) // 4 if doff is None else doff
    seg = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xffffffff, ack & 0xffffffff,
                      (doff & 15) << 4, flagbits(flags), win, 0, urg) + opts + data
    if chk is None:
        chk = csum(ip_b(src) + ip_b(dst) + struct.pack("!BBH", 0, 6, len(seg)) + seg)
    return seg[:16] + struct.pack("!H", chk) + seg[18:]


def udp(sport, dport, data, ulen=None, chk=None, src=A_IP, dst=US_IP):
    """A UDP datagram; the checksum covers @ulen bytes as a receiver reads them."""
    ulen = 8 + len(data) if ulen is None else ulen
    d = struct.pack("!HHHH", sport, dport, ulen & 0xffff, 0) + data
    if chk is None:
        n = min(ulen, len(d))
        chk = csum(ip_b(src) + ip_b(dst) + struct.pack("!BBH", 0, 17, ulen & 0xffff) + d[:n])
        chk = chk or 0xffff
    return d[:6] + struct.pack("!H", chk) + d[8:]


def icmp(typ, code, rest, data=b"", chk=None):
    h = struct.pack("!BBHI", typ, code, 0, rest) + data
    c = csum(h) if chk is None else chk
    return h[:2] + struct.pack("!H", c) + h[4:]


def arp(op, sha, spa, tha, tpa, htype=1, ptype=0x0800, hlen=6, plen=4):
    return struct.pack("!HHBBH6s4s6s4s", htype, ptype, hlen, plen, op, mac_b(sha), ip_b(spa),
                       mac_b(tha), ip_b(tpa))


def opt_mss(v):
    return struct.pack("!BBH", 2, 4, v)


def opt_ws(v):
    return bytes([1, 3, 3, v])


def opt_ts(val, ecr):
    return struct.pack("!BBBBII", 1, 1, 8, 10, val & 0xffffffff, ecr & 0xffffffff)


OPT_SACK_PERM = bytes([1, 1, 4, 2])


def opt_sack(blocks):
    b = bytes([1, 1, 5, 2 + 8 * len(blocks)])
    for left, right in blocks:
        b += struct.pack("!II", left & 0xffffffff, right & 0xffffffff)
    return b


# ---- the wire ---------------------------------------------------------------

class Frame:
    """A frame tapird sent: raw bytes and scapy's parse."""

    def __init__(self, raw):
        self.raw = raw
        self.p = Ether(raw)

    def has(self, layer):
        return self.p.haslayer(layer)

    def ip_payload(self):
        """The IP payload, cut at the IP total length (no Ethernet padding)."""
        b = self.raw[14:]
        hl = (b[0] & 15) * 4
        return b[hl:struct.unpack("!H", b[2:4])[0]]

    def tcp_data(self):
        seg = self.ip_payload()
        return seg[(seg[12] >> 4) * 4:]


class Wire:
    def __init__(self):
        self.s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
        self.s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.s.bind((IFACE, 0))
        self.s.setblocking(False)
        self.sync_id = 0x7000

    def send(self, frame):
        self.s.send(frame)

    def _read(self):
        """One frame from tapird, or None if none is ready (ARP for attackers answered)."""
        while True:
            try:
                raw, addr = self.s.recvfrom(70000)
            except BlockingIOError:
                return None
            if addr[2] == socket.PACKET_OUTGOING or raw[6:12] != mac_b(US_MAC):
                continue
            if raw[12:14] == b"\x08\x06" and len(raw) >= 42:
                op, tpa = struct.unpack("!H", raw[20:22])[0], socket.inet_ntoa(raw[38:42])
                if op == 1 and tpa in ATTACKERS:
                    self.send(eth(arp(2, ATTACKERS[tpa], tpa, US_MAC, US_IP), 0x0806,
                                  src=ATTACKERS[tpa]))
            return Frame(raw)

    def frames(self, timeout):
        """Frames from tapird until @timeout seconds have passed."""
        end = time.monotonic() + timeout
        while True:
            f = self._read()
            if f is not None:
                yield f
                continue
            left = end - time.monotonic()
            if left <= 0:
                return
            select.select([self.s], [], [], left)

    def drain(self):
        for _ in self.frames(0):
            pass

    def expect(self, pred, timeout=2.0):
        """The first frame matching @pred, or None."""
        for f in self.frames(timeout):
            if pred(f):
                return f
        return None

    def collect(self, pred, timeout):
        return [f for f in self.frames(timeout) if pred(f)]

    def sync(self, bad=None, what="an answer"):
        """Echo request from the attacker; fail if a frame matching @bad comes
        before its reply.  Return: the frames that came before the reply."""
        self.sync_id = (self.sync_id + 1) & 0xffff
        ident = self.sync_id
        self.send(eth(ipv4(icmp(8, 0, ident << 16 | 1, b"sync"), 1)))
        seen = []
        for f in self.frames(3.0):
            if f.has(ICMP) and f.p[ICMP].type == 0 and f.p[ICMP].id == ident and \
                    f.p[IP].dst == A_IP:
                return seen
            if relevant(f):
                check(bad is None or not bad(f), "%s: %s" % (what, f.p.summary()))
            seen.append(f)
        raise Fail("sync echo request got no reply")

    def quiet(self, frames, bad=lambda f: True, what="unexpected answer"):
        """Send @frames, then check that tapird sent nothing matching @bad."""
        for fr in frames if isinstance(frames, list) else [frames]:
            self.send(fr)
        return self.sync(bad, what)


W = Wire()


def relevant(f):
    """Frames that may answer an attack: to an attacker, or IP not to the kernel
    (the kernel's own traffic of the liveness checks may trail behind)."""
    return f.raw[:6] in (mac_b(A_MAC), mac_b(A2_MAC)) or (f.has(IP) and f.p[IP].dst != K_IP)


def to_attacker(f):
    return f.has(IP) and f.p[IP].dst in ATTACKERS


def learn(ip=A_IP):
    """Make tapird learn an attacker's MAC (an ARP request addressed to it)."""
    W.send(eth(arp(1, ATTACKERS[ip], ip, "00:00:00:00:00:00", US_IP), 0x0806,
               dst="ff:ff:ff:ff:ff:ff", src=ATTACKERS[ip]))
    check(W.expect(lambda f: f.has(ARP) and f.p[ARP].op == 2 and f.p[ARP].pdst == ip, 2.0),
          "no ARP reply to %s" % ip)


# ---- control socket ---------------------------------------------------------

def control(cmd, **args):
    u = socket.socket(socket.AF_UNIX)
    u.settimeout(5)
    u.connect(CTL)
    req = {"cmd": cmd}
    if args:
        req["args"] = args
    u.sendall(json.dumps(req).encode() + b"\n")
    b = b""
    while not b.endswith(b"\n"):
        d = u.recv(1 << 20)
        if not d:
            break
        b += d
    u.close()
    r = json.loads(b)
    check(r.get("ok"), "control %s: %s" % (cmd, r))
    return r["result"]


def stats():
    out = {}
    for layer, kv in control("stats").items():
        if isinstance(kv, dict):
            for k, v in kv.items():
                if isinstance(v, int):
                    out[layer + "." + k] = v
    return out


class Counters:
    """Counters at the start of a case; moved() compares with now."""

    def __init__(self):
        self.before = stats()
        self.now = None

    def refresh(self):
        self.now = stats()
        return self

    def delta(self, name):
        if self.now is None:
            self.refresh()
        check(name in self.now, "no counter %s" % name)
        return self.now[name] - self.before.get(name, 0)

    def moved(self, *names, at_least=1):
        self.refresh()
        for n in names:
            d = self.delta(n)
            check(d >= at_least, "counter %s moved by %d, want >= %d" % (n, d, at_least))

    def still(self, *names):
        self.refresh()
        for n in names:
            check(self.delta(n) == 0, "counter %s moved by %d" % (n, self.delta(n)))


def conns():
    return control("conns")["connections"]


def flow_of(c):
    for e in conns():
        if e["remote_port"] == c.sport and e["local_port"] == c.dport and \
                e["remote"] == c.src:
            return e
    return None


# ---- crafted TCP connections from the attacker -------------------------------

class Conn:
    def __init__(self, dport, sport=None, src=A_IP, mss=1460, ws=None, sack=False, ts=False,
                 win=65535, syn_opts=None):
        self.dport = dport
        self.sport = sport or random.randint(20000, 60000)
        self.src = src
        self.isn = random.getrandbits(32)
        self.snd_nxt = self.isn
        self.rcv_nxt = 0
        self.win = win
        self.ts = ts
        self.tsval = random.getrandbits(20) + 1000
        self.peer_ts = 0
        self.syn_opts = syn_opts
        self.ooo = {}
        self.inbuf = b""
        if syn_opts is None:
            self.syn_opts = opt_mss(mss) if mss is not None else b""
            if ws is not None:
                self.syn_opts += opt_ws(ws)
            if sack:
                self.syn_opts += OPT_SACK_PERM
            if ts:
                self.syn_opts += opt_ts(self.tsval, 0)

    def mine(self, f):
        return f.has(TCP) and f.p[IP].dst == self.src and f.p[TCP].dport == self.sport and \
            f.p[TCP].sport == self.dport

    def expect(self, pred=lambda t: True, timeout=2.0):
        f = W.expect(lambda f: self.mine(f) and pred(f.p[TCP]), timeout)
        if f is not None:
            self.note_ts(f)
        return f

    def note_ts(self, f):
        for o in f.p[TCP].options:
            if o[0] == "Timestamp":
                self.peer_ts = o[1][0]

    def seg(self, flags="A", data=b"", seq=None, ack=None, win=None, opts=None, urg=0,
            tsval=None, **kw):
        if opts is None:
            opts = b""
            if self.ts:
                self.tsval += 1
                opts = opt_ts(self.tsval if tsval is None else tsval, self.peer_ts)
        return eth(ipv4(tcp(self.sport, self.dport, self.snd_nxt if seq is None else seq,
                            self.rcv_nxt if ack is None else ack, flags,
                            self.win if win is None else win, opts, data, urg,
                            src=self.src, **kw), 6, src=self.src),
                   src=ATTACKERS[self.src])

    def send(self, *a, **kw):
        W.send(self.seg(*a, **kw))

    def open(self):
        W.drain()
        self.send("S", seq=self.isn, ack=0, opts=self.syn_opts)
        f = self.expect(lambda t: t.flags == "SA")
        check(f is not None, "no SYN-ACK from port %d" % self.dport)
        self.synack = f
        self.rcv_nxt = (f.p[TCP].seq + 1) & 0xffffffff
        self.snd_nxt = (self.isn + 1) & 0xffffffff
        self.send("A")
        return f

    def write(self, data, flags="PA", **kw):
        self.send(flags, data, **kw)
        self.snd_nxt = (self.snd_nxt + len(data)) & 0xffffffff

    def take(self, f, segs=None):
        """Keep the data of @f, one of our frames; move what is in order to
        self.inbuf.  Return: True if RCV.NXT moved."""
        d = f.tcp_data()
        if d:
            if segs is not None:
                segs.append(len(d))
            seq = f.p[TCP].seq
            if len(d) > len(self.ooo.get(seq, b"")):
                self.ooo[seq] = d
        moved = True
        start = self.rcv_nxt
        while moved:
            moved = False
            for seq, d in list(self.ooo.items()):
                off = (self.rcv_nxt - seq) & 0xffffffff
                if off >= 1 << 31:
                    continue                      # beyond RCV.NXT: wait
                del self.ooo[seq]
                if off < len(d):
                    self.inbuf += d[off:]
                    self.rcv_nxt = (seq + len(d)) & 0xffffffff
                    moved = True
        return self.rcv_nxt != start

    def read(self, n, timeout=3.0, ack=True, segs=None):
        """Read @n bytes in order (ACKing each new segment unless @ack is False)."""
        end = time.monotonic() + timeout
        while len(self.inbuf) < n:
            left = end - time.monotonic()
            if left <= 0:
                break
            f = self.expect(lambda t: True, left)
            if f is None:
                break
            if self.take(f, segs) and ack:
                self.send("A")
        out, self.inbuf = self.inbuf[:n], self.inbuf[n:]
        return out

    def reset(self):
        self.send("R", seq=self.snd_nxt, ack=0, opts=b"")


def is_rst(t):
    return "R" in str(t.flags)


# ---- liveness: the kernel's own tools ---------------------------------------

def alive():
    try:
        os.kill(PID, 0)
    except OSError:
        raise Fail("tapird died")
    r = subprocess.run(["ping", "-c", "1", "-W", "2", US_IP], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL)
    check(r.returncode == 0, "tapird no longer answers ping")
    msg = os.urandom(16).hex().encode()
    with socket.create_connection((US_IP, 7), timeout=3) as s:
        s.sendall(msg)
        got = b""
        while len(got) < len(msg):
            d = s.recv(100)
            if not d:
                break
            got += d
    check(got == msg, "TCP echo from the kernel: got %r" % got)
    with socket.create_connection((US_IP, 80), timeout=3) as s:
        s.sendall(b"GET / HTTP/1.0\r\nHost: tapir\r\n\r\n")
        got = b""
        while True:
            d = s.recv(65536)
            if not d:
                break
            got += d
    check(got.split(b"\r\n", 1)[0].split(b" ")[1:2] == [b"200"],
          "HTTP GET from the kernel: %r" % got[:60])


# ---- the cases --------------------------------------------------------------

CASES = []


def case(name):
    def reg(fn):
        CASES.append((name, fn))
        return fn
    return reg


def echo_frame(ident=0x4242, data=b"tapir-attack", **ip):
    return eth(ipv4(icmp(8, 0, ident << 16 | 1, data), 1, **ip))


def echo_reply_to(ident, dst=A_IP):
    return lambda f: f.has(ICMP) and f.p[ICMP].type == 0 and f.p[ICMP].id == ident and \
        f.p[IP].dst == dst


def icmp_error(typ, code=None):
    return lambda f: f.has(ICMP) and f.p[ICMP].type == typ and \
        (code is None or f.p[ICMP].code == code)


# Ethernet --------------------------------------------------------------------

@case("eth: 14-byte frames (header only, no payload) are dropped as truncated")
def _():
    c = Counters()
    W.quiet([eth(b""), eth(b"", 0x0806)])
    c.moved("ipv4.drop.truncated", "arp.drop.malformed")


@case("eth: frame to another unicast MAC is not ours")
def _():
    c = Counters()
    W.quiet(eth(ipv4(icmp(8, 0, 1, b"x"), 1), dst="02:00:00:00:00:77"))
    c.moved("eth.drop.not_us")


@case("eth: group (multicast) source MAC is dropped")
def _():
    c = Counters()
    W.quiet(eth(ipv4(icmp(8, 0, 0x1111 << 16, b"x"), 1), src="03:00:00:00:00:01"))
    c.moved("eth.drop.src_multicast")


@case("eth: unknown EtherType (0x88b5) and 802.3 length/LLC frames (STP) are dropped")
def _():
    c = Counters()
    W.quiet([eth(bytes(60), 0x88b5), eth(b"\x42\x42\x03" + bytes(35), 38,
                                        dst="01:80:c2:00:00:00")])
    c.moved("eth.drop.ethertype", at_least=2)


@case("eth: an IPv6 frame of zeros is dropped by IPv6 (version 0), not answered")
def _():
    c = Counters()
    W.quiet(eth(bytes(60), 0x86dd))
    c.moved("ipv6.drop.version")


@case("eth: 802.1Q VLAN-tagged echo request is dropped (no VLAN support), not answered")
def _():
    c = Counters()
    inner = ipv4(icmp(8, 0, 0x1212 << 16 | 1, b"vlan"), 1)
    W.quiet(eth(struct.pack("!HH", 5, 0x0800) + inner, 0x8100), echo_reply_to(0x1212),
            "VLAN echo answered")
    c.moved("eth.drop.ethertype")


@case("eth: Ethernet padding after the IP datagram is ignored (UDP echo is exact)")
def _():
    c = Counters()
    W.send(eth(ipv4(udp(5555, 7, b"pad"), 17) + b"\xee" * 40))
    f = W.expect(lambda f: f.has(UDP) and f.p[UDP].dport == 5555)
    check(f is not None, "no UDP echo")
    check(f.ip_payload()[8:] == b"pad", "echo carries padding: %r" % f.ip_payload())
    c.moved("udp.delivered")


@case("eth: short frames are padded with zeros, not old memory (Etherleak)")
def _():
    W.send(eth(ipv4(tcp(4500, 4444, 1, 0, "S"), 6)))
    W.send(eth(arp(1, A_MAC, A_IP, "00:00:00:00:00:00", US_IP), 0x0806))
    seen = W.sync()
    rst = [f for f in seen if f.has(TCP) and f.p[TCP].dport == 4500]
    rep = [f for f in seen if f.has(ARP) and f.p[ARP].op == 2 and f.raw[:6] == mac_b(A_MAC)]
    check(rst and rep, "no RST or no ARP reply")
    r, a = rst[0].raw, rep[0].raw
    check(len(r) == 60 and r[54:] == bytes(6), "RST frame %d bytes, pad %s" % (len(r), r[54:].hex()))
    check(len(a) == 60 and a[42:] == bytes(18), "ARP frame %d bytes, pad %s" % (len(a), a[42:].hex()))


@case("eth: frame larger than the MTU (tap0 at 9000) is answered, fragmented to the MTU")
def _():
    subprocess.run(["ip", "link", "set", IFACE, "mtu", "9000"], check=True)
    try:
        W.send(echo_frame(0x5151, os.urandom(3000)))
        seen = W.sync()
    finally:
        subprocess.run(["ip", "link", "set", IFACE, "mtu", "1500"], check=True)
    frags = [f for f in seen if f.has(IP) and f.p[IP].dst == A_IP and f.p[IP].proto == 1]
    check(len(frags) == 3, "reply in %d frames" % len(frags))
    check(all(len(f.raw) <= 1514 for f in frags), "a reply frame beyond the MTU")


# ARP -------------------------------------------------------------------------

@case("arp: gratuitous request claiming our address is a conflict, not learned")
def _():
    c = Counters()
    W.quiet(eth(arp(1, A_MAC, US_IP, "00:00:00:00:00:00", US_IP), 0x0806,
                dst="ff:ff:ff:ff:ff:ff"))
    c.moved("arp.drop.conflict")


@case("arp: spoofed reply claiming our address is a conflict")
def _():
    c = Counters()
    W.quiet(eth(arp(2, A_MAC, US_IP, US_MAC, US_IP), 0x0806))
    c.moved("arp.drop.conflict")


@case("arp: unsolicited reply for an unknown address creates no entry")
def _():
    c = Counters()
    W.quiet(eth(arp(2, A_MAC, "192.0.2.77", "02:00:00:00:00:55", "192.0.2.55"), 0x0806))
    c.moved("arp.drop.not_for_us")
    check(all(e["ip"] != "192.0.2.77" for e in control("arp")["entries"]),
          "192.0.2.77 was learned")


@case("arp: probe for our address (sender 0.0.0.0) is answered, nothing learned (RFC 5227)")
def _():
    c = Counters()
    W.send(eth(arp(1, A2_MAC, "0.0.0.0", "00:00:00:00:00:00", US_IP), 0x0806,
               dst="ff:ff:ff:ff:ff:ff", src=A2_MAC))
    f = W.expect(lambda f: f.has(ARP) and f.p[ARP].op == 2 and f.raw[:6] == mac_b(A2_MAC))
    check(f is not None and f.p[ARP].psrc == US_IP and f.p[ARP].hwsrc == US_MAC,
          "probe not answered")
    c.still("arp.learned")


@case("arp: bad hardware length, bad op, truncated packet are malformed")
def _():
    c = Counters()
    W.quiet([eth(arp(1, A_MAC, A_IP, "00:00:00:00:00:00", US_IP, hlen=8), 0x0806),
             eth(arp(3, A_MAC, A_IP, "00:00:00:00:00:00", US_IP), 0x0806),
             eth(arp(1, A_MAC, A_IP, "00:00:00:00:00:00", US_IP, ptype=0x86dd), 0x0806),
             eth(arp(1, A_MAC, A_IP, "00:00:00:00:00:00", US_IP)[:20], 0x0806)],
            lambda f: f.has(ARP), "malformed ARP answered")
    c.moved("arp.drop.malformed", at_least=4)


@case("arp: broadcast/multicast sender MAC or IP is refused")
def _():
    c = Counters()
    W.quiet([eth(arp(1, "ff:ff:ff:ff:ff:ff", "192.0.2.50", "00:00:00:00:00:00", US_IP),
                 0x0806),
             eth(arp(1, "01:00:5e:00:00:01", "192.0.2.51", "00:00:00:00:00:00", US_IP),
                 0x0806),
             eth(arp(1, A_MAC, BCAST, "00:00:00:00:00:00", US_IP), 0x0806),
             eth(arp(1, A_MAC, "224.0.0.1", "00:00:00:00:00:00", US_IP), 0x0806)],
            lambda f: f.has(ARP), "bad sender answered")
    c.moved("arp.drop.bad_sender", at_least=4)


@case("arp: cache flooding from 200 addresses stays within cache_size (64)")
def _():
    c = Counters()
    for i in range(3, 253):
        ip = "192.0.2.%d" % i
        if ip in (A_IP, A2_IP):
            continue
        W.send(eth(arp(1, "02:00:00:01:00:%02x" % i, ip, "00:00:00:00:00:00", US_IP), 0x0806,
                   dst="ff:ff:ff:ff:ff:ff", src="02:00:00:01:00:%02x" % i))
        if i % 50 == 0:
            W.sync()
    W.sync()
    n = len(control("arp")["entries"])
    check(n <= 64, "%d ARP entries" % n)
    c.moved("arp.learned", at_least=100)
    c.moved("arp.expired", at_least=100)
    learn()


@case("arp: datagrams from 100 unresolvable neighbours do not lock out a resolved one")
def _():
    c = Counters()
    for i in range(100, 200):
        W.send(eth(ipv4(icmp(8, 0, 0x1300 << 16 | i, b"who?"), 1, src="192.0.2.%d" % i)))
    W.sync()
    c.moved("arp.pending_queued", at_least=50)
    # the kernel (192.0.2.1) must be answered at once, not after the flood's
    # pending entries time out
    r = subprocess.run(["ping", "-c", "1", "-W", "1", US_IP], stdout=subprocess.DEVNULL)
    check(r.returncode == 0, "the kernel's ping was not answered during the flood")
    n = len(control("arp")["entries"])
    check(n <= 64, "%d ARP entries" % n)


# IPv4 header -----------------------------------------------------------------

@case("ipv4: bad header checksum is dropped, not answered")
def _():
    c = Counters()
    W.quiet(echo_frame(0x2001, chk=0x1234), echo_reply_to(0x2001))
    c.moved("ipv4.drop.checksum")


@case("ipv4: IHL < 5 is dropped")
def _():
    c = Counters()
    W.quiet([echo_frame(0x2002, ihl=4), echo_frame(0x2002, ihl=0)], echo_reply_to(0x2002))
    c.moved("ipv4.drop.ihl", at_least=2)


@case("ipv4: version 6 in an IPv4 frame is dropped")
def _():
    c = Counters()
    W.quiet(echo_frame(0x2003, version=6), echo_reply_to(0x2003))
    c.moved("ipv4.drop.version")


@case("ipv4: total length < IHL*4 is dropped")
def _():
    c = Counters()
    W.quiet([echo_frame(0x2004, tot=16), echo_frame(0x2004, tot=0)], echo_reply_to(0x2004))
    c.moved("ipv4.drop.total_len", at_least=2)


@case("ipv4: total length beyond the frame, IHL beyond the frame are truncated")
def _():
    c = Counters()
    W.quiet([echo_frame(0x2005, tot=1400), echo_frame(0x2005, tot=65535),
             eth(ipv4(b"", 1, ihl=15))], echo_reply_to(0x2005))
    c.moved("ipv4.drop.truncated", at_least=3)


@case("ipv4: options with length 0, length 1, overrunning the header are dropped")
def _():
    c = Counters()
    bad = [bytes([7, 0, 4, 0]),              # RR, length 0
           bytes([0x44, 1, 0, 0]),           # timestamp, length 1
           bytes([1, 1, 0x83, 40]),          # LSRR, length beyond the header
           bytes([1, 1, 1, 0x94])]           # router alert: no room for the length
    W.quiet([echo_frame(0x2006, opts=o) for o in bad], echo_reply_to(0x2006))
    c.moved("ipv4.drop.options", at_least=4)


@case("ipv4: unknown options are ignored (RFC 1122 3.2.1.8); record route is echoed")
def _():
    for ident, o in ((0x2010, bytes([0x9e, 4, 0, 0])), (0x2011, bytes([0x19, 6, 1, 2, 3, 4])),
                     (0x2012, bytes([7, 11, 4]) + bytes(8)),       # RR with room for 2
                     (0x2013, bytes([7, 7, 8]) + bytes(4)),        # RR, full
                     (0x2014, bytes([7, 11, 5]) + bytes(8))):      # RR, odd pointer
        W.send(echo_frame(ident, opts=o))
        f = W.expect(echo_reply_to(ident))
        check(f is not None, "options %s: not answered" % o.hex())
        if ident == 0x2012:
            hl = (f.raw[14] & 15) * 4
            check(ip_b(US_IP) in f.raw[34:14 + hl], "record route lacks our address")


@case("ipv4: loose and strict source routes are dropped (RFC 1122 3.3.5: we never forward)")
def _():
    c = Counters()
    lsrr = bytes([0x83, 7, 4]) + ip_b("192.0.2.77") + b"\x00"
    ssrr = bytes([0x89, 7, 4]) + ip_b("192.0.2.77") + b"\x00"
    W.quiet([echo_frame(0x2007, opts=lsrr), echo_frame(0x2007, opts=ssrr)],
            echo_reply_to(0x2007))
    c.moved("ipv4.drop.source_route", at_least=2)


@case("ipv4: broadcast, multicast, loopback, 0.0.0.0 and class E sources are dropped")
def _():
    c = Counters()
    srcs = ["255.255.255.255", BCAST, "224.0.0.1", "127.0.0.1", "0.0.0.0", "240.0.0.1"]
    W.quiet([eth(ipv4(icmp(8, 0, 0x2008 << 16, b"x"), 1, src=s)) for s in srcs],
            lambda f: f.has(ICMP), "answered")
    c.moved("ipv4.drop.bad_src", at_least=len(srcs))


@case("ipv4: land attack (SYN with source = destination = us) is dropped")
def _():
    c = Counters()
    W.quiet(eth(ipv4(tcp(7, 7, 1000, 0, "S", src=US_IP, dst=US_IP), 6, src=US_IP)),
            lambda f: f.has(TCP), "land SYN answered")
    c.moved("ipv4.drop.bad_src")
    c.still("tcp.passive_opens")


@case("ipv4: TTL 0 addressed to us is still delivered (RFC 1122 3.2.1.7)")
def _():
    W.send(echo_frame(0x2009, ttl=0))
    check(W.expect(echo_reply_to(0x2009)), "TTL 0 echo request not answered")


@case("ipv4: unicast datagram in a link-layer broadcast is dropped (RFC 1122 3.3.6)")
def _():
    c = Counters()
    W.quiet(eth(ipv4(icmp(8, 0, 0x200a << 16, b"x"), 1), dst="ff:ff:ff:ff:ff:ff"),
            echo_reply_to(0x200a))
    c.moved("ipv4.drop.link_broadcast")


@case("ipv4: datagram for another address is dropped (no forwarding)")
def _():
    c = Counters()
    W.quiet([echo_frame(0x200b, dst="192.0.2.77"),
             eth(ipv4(udp(6009, 4444, b"mc", dst="224.0.0.1"), 17, dst="224.0.0.1"),
                 dst="01:00:5e:00:00:01")], lambda f: f.has(ICMP), "answered")
    c.moved("ipv4.drop.not_us", at_least=2)


@case("ipv4: IP-in-IP (Ripple20) is not decapsulated: protocol unreachable, inner not run")
def _():
    c = Counters()
    inner = ipv4(icmp(8, 0, 0x200c << 16 | 1, b"tunnelled"), 1, src=A_IP)
    W.send(eth(ipv4(inner, 4)))
    f = W.expect(icmp_error(3, 2))
    check(f is not None, "no protocol unreachable for IP-in-IP")
    W.sync(echo_reply_to(0x200c), "inner echo request was answered")
    inner = ipv4(icmp(8, 0, 0x200d << 16 | 1, bytes(100)), 1, src=A_IP)
    for x in frags(inner, proto=4, size=48):
        W.send(x)
    check(W.expect(icmp_error(3, 2)), "no protocol unreachable for fragmented IP-in-IP")
    W.sync(echo_reply_to(0x200d), "inner echo request was answered")
    c.moved("ipv4.drop.proto", "icmp.errors_sent")


@case("ipv4: unknown protocol gets protocol unreachable quoting header + 8 bytes")
def _():
    payload = b"0123456789abcdef"
    d = ipv4(payload, 253, ident=0x3333)
    W.send(eth(d))
    f = W.expect(icmp_error(3, 2))
    check(f is not None, "no protocol unreachable")
    q = f.ip_payload()[8:]
    check(q == d[:28], "quote %r, want %r" % (q.hex(), d[:28].hex()))


# Fragments -------------------------------------------------------------------

def frags(payload, proto=1, ident=None, size=8, **kw):
    """Split @payload into fragments of @size bytes (a multiple of 8)."""
    ident = random.getrandbits(16) if ident is None else ident
    out = []
    for off in range(0, len(payload), size):
        out.append(eth(ipv4(payload[off:off + size], proto, ident=ident, off=off,
                            mf=off + size < len(payload), **kw)))
    return out


@case("frag: in-order, reversed and shuffled fragments reassemble and are answered")
def _():
    c = Counters()
    for i, order in enumerate(("fwd", "rev", "shuf")):
        ident = 0x2100 + i
        fr = frags(icmp(8, 0, ident << 16 | 1, os.urandom(200)), size=64)
        if order == "rev":
            fr.reverse()
        elif order == "shuf":
            random.shuffle(fr)
        for x in fr:
            W.send(x)
        check(W.expect(echo_reply_to(ident)), "%s fragments not answered" % order)
    c.moved("reasm.completed", at_least=3)


@case("frag: ping of death and Jolt2 (data beyond 65,535 bytes) are dropped")
def _():
    c = Counters()
    ident = 0x2200
    first = icmp(8, 0, ident << 16 | 1, bytes(1472))
    W.quiet([eth(ipv4(first, 1, ident=0x2200, mf=True)),
             eth(ipv4(bytes(100), 1, ident=0x2200, off=65520))],
            echo_reply_to(ident), "ping of death answered")
    c.moved("reasm.drop.too_big")
    # Jolt2: the same last fragment beyond 65,535, over and over: no entry
    before = len(control("reasm")["datagrams"])
    W.quiet([eth(ipv4(bytes(9), 1, ident=0x2202, off=65520)) for _ in range(100)])
    c.moved("reasm.drop.too_big", at_least=101)
    check(len(control("reasm")["datagrams"]) == before, "Jolt2 fragments were held")


@case("frag: the largest datagram (65,535 bytes) reassembles and is answered")
def _():
    ident = 0x2201
    fr = frags(icmp(8, 0, ident << 16 | 1, os.urandom(65535 - 28)), size=1480)
    for x in fr:
        W.send(x)
    last = W.expect(lambda f: f.has(IP) and f.p[IP].dst == A_IP and f.p[IP].proto == 1 and
                    f.p[IP].flags.MF == 0 and f.p[IP].frag > 0, 5.0)
    check(last is not None, "no last fragment of the 65,535-byte reply")
    end = last.p[IP].frag * 8 + len(last.ip_payload())
    check(end == 65515, "reply data ends at %d" % end)


@case("frag: teardrop (last fragment inside the first) is dropped")
def _():
    c = Counters()
    ident = 0x2300
    data = icmp(8, 0, ident << 16 | 1, bytes(28))
    W.quiet([eth(ipv4(data[:32], 1, ident=ident, mf=True)),
             eth(ipv4(data[24:28], 1, ident=ident, off=24))],
            echo_reply_to(ident), "teardrop answered")
    c.moved("reasm.drop.bad_end")


@case("frag: partially overlapping fragments kill the datagram (RFC 5722)")
def _():
    c = Counters()
    ident = 0x2301
    data = icmp(8, 0, ident << 16 | 1, bytes(56))
    W.quiet([eth(ipv4(data[:32], 1, ident=ident, mf=True)),
             eth(ipv4(data[24:48], 1, ident=ident, off=24, mf=True)),
             eth(ipv4(data[32:], 1, ident=ident, off=32)),
             eth(ipv4(data[:32], 1, ident=ident, mf=True))],
            echo_reply_to(ident), "overlapping datagram answered")
    c.moved("reasm.drop.overlap", "reasm.drop.dead")


@case("frag: tiny fragments splitting the TCP header (RFC 1858) reassemble normally")
def _():
    seg = tcp(4321, 4444, 0x1000, 0, "S")
    W.send(eth(ipv4(seg[:8], 6, ident=0x2400, mf=True)))
    W.send(eth(ipv4(seg[8:], 6, ident=0x2400, off=8)))
    f = W.expect(lambda f: f.has(TCP) and f.p[TCP].dport == 4321)
    check(f is not None and is_rst(f.p[TCP]), "no RST for the reassembled SYN")


@case("frag: overlapping fragment rewriting the TCP flags (RFC 3128) is dropped")
def _():
    c = Counters()
    # The first fragment: an ACK to a closed port; the second, at offset 8,
    # rewrites it into a SYN to the echo port.
    ack = tcp(4322, 4444, 0x1000, 1, "A") + bytes(8)
    syn = tcp(4322, 7, 0x1000, 0, "S") + bytes(8)
    W.quiet([eth(ipv4(ack[:24], 6, ident=0x2401, mf=True)),
             eth(ipv4(syn[8:], 6, ident=0x2401, off=8))],
            lambda f: f.has(TCP) and f.p[TCP].dport == 4322, "overlap reassembled")
    c.moved("reasm.drop.overlap")


@case("frag: exact duplicate fragment is ignored, datagram answered once")
def _():
    c = Counters()
    ident = 0x2500
    fr = frags(icmp(8, 0, ident << 16 | 1, bytes(40)), size=24)
    for x in [fr[0], fr[0]] + fr[1:]:
        W.send(x)
    seen = W.sync()
    n = sum(1 for f in seen if echo_reply_to(ident)(f))
    check(n == 1, "%d replies" % n)
    c.moved("reasm.duplicate")


@case("frag: zero-length and odd-sized non-last fragments are dropped")
def _():
    c = Counters()
    W.quiet([eth(ipv4(b"", 1, ident=0x2600, off=8, mf=True)),
             eth(ipv4(bytes(13), 1, ident=0x2601, mf=True))])
    c.moved("reasm.drop.bad_len", at_least=2)


@case("frag: data beyond the known end (Ripple20 length mismatch) kills the datagram")
def _():
    c = Counters()
    ident = 0x2700
    data = icmp(8, 0, ident << 16 | 1, bytes(40))
    W.quiet([eth(ipv4(data[24:], 1, ident=ident, off=24)),
             eth(ipv4(bytes(16), 1, ident=ident, off=48, mf=True)),
             eth(ipv4(data[:24], 1, ident=ident, mf=True))],
            echo_reply_to(ident), "answered")
    c.moved("reasm.drop.bad_end")


@case("frag: frame bytes beyond the fragment's total length are not reassembled")
def _():
    ident = 0x2701
    payload = os.urandom(64)
    data = icmp(8, 0, ident << 16 | 1, payload)
    W.send(eth(ipv4(data[:40], 1, ident=ident, mf=True) + b"\xff" * 64))
    W.send(eth(ipv4(data[40:], 1, ident=ident, off=40) + b"\xff" * 64))
    f = W.expect(echo_reply_to(ident))
    check(f is not None, "not answered")
    check(f.ip_payload()[8:] == payload, "reply data differs (padding reassembled?)")


@case("frag: timeout sends time exceeded (code 1) only with fragment 0, never about ICMP errors")
def _():
    c = Counters()
    # a: first fragment only (answered after the timeout); b: no fragment 0
    # (RFC 792: no error); e: fragment 0 of an ICMP error (RFC 1122 3.2.2: none)
    a = ipv4(udp(6000, 7, bytes(40))[:24], 17, ident=0x2800, mf=True)
    W.send(eth(a))
    W.send(eth(ipv4(bytes(16), 17, ident=0x2801, off=24, mf=True)))
    quote = ipv4(udp(7, 6000, b"abcd", src=US_IP, dst=A_IP), 17, src=US_IP, dst=A_IP)
    W.send(eth(ipv4(icmp(3, 3, 0, quote + bytes(16))[:24], 1, ident=0x2802, mf=True)))
    ours = (0x2800, 0x2801, 0x2802)
    got = W.collect(lambda f: icmp_error(11)(f) and
                    struct.unpack("!H", f.ip_payload()[12:14])[0] in ours, 3.0)
    check(len(got) == 1, "%d time exceeded messages" % len(got))
    check(got[0].p[ICMP].code == 1, "code %d" % got[0].p[ICMP].code)
    q = got[0].ip_payload()[8:]
    check(q[:20] == a[:20] and len(q) == 28, "quote %s" % q.hex())
    c.moved("reasm.drop.timeout", at_least=3)


# ICMP ------------------------------------------------------------------------

@case("icmp: echo request to a broadcast address is not answered (smurf)")
def _():
    c = Counters()
    W.quiet([eth(ipv4(icmp(8, 0, 0x3001 << 16, b"smurf"), 1, dst=BCAST),
                 dst="ff:ff:ff:ff:ff:ff"),
             eth(ipv4(icmp(8, 0, 0x3001 << 16, b"smurf"), 1, dst="255.255.255.255"),
                 dst="ff:ff:ff:ff:ff:ff"),
             eth(ipv4(icmp(8, 0, 0x3001 << 16, b"smurf"), 1, dst=BCAST))],
            echo_reply_to(0x3001), "broadcast echo answered")
    c.moved("icmp.drop.broadcast_echo", at_least=3)


@case("icmp: bad checksum and truncated messages are dropped")
def _():
    c = Counters()
    W.quiet([eth(ipv4(icmp(8, 0, 0x3002 << 16, b"x", chk=0x4321), 1)),
             eth(ipv4(icmp(8, 0, 0x3002 << 16)[:4], 1))], echo_reply_to(0x3002))
    c.moved("icmp.drop.checksum", "icmp.drop.malformed")


@case("icmp: echo with an odd length and a short IP total length is answered exactly")
def _():
    data = icmp(8, 0, 0x3003 << 16 | 1, b"odd-length-data")
    W.send(eth(ipv4(data, 1) + b"trailing-garbage-beyond-total-length"))
    f = W.expect(echo_reply_to(0x3003))
    check(f is not None, "not answered")
    check(f.ip_payload()[8:] == b"odd-length-data", "reply %r" % f.ip_payload())


@case("icmp: errors quoting a truncated header or not our datagram are dropped")
def _():
    c = Counters()
    ours = ipv4(udp(7, 6000, b"abcd", src=US_IP, dst=A_IP), 17, src=US_IP, dst=A_IP)
    other = ipv4(udp(7, 6000, b"abcd", src=A2_IP, dst=A_IP), 17, src=A2_IP, dst=A_IP)
    W.quiet([eth(ipv4(icmp(3, 3, 0, ours[:20]), 1)),        # header, no 8 bytes
             eth(ipv4(icmp(3, 3, 0, ours[:12]), 1)),        # half a header
             eth(ipv4(icmp(3, 3, 0, b""), 1)),              # nothing
             eth(ipv4(icmp(3, 3, 0, bytes([0x4f]) + ours[1:28]), 1)),  # IHL 15, 28 bytes
             eth(ipv4(icmp(3, 3, 0, other[:28]), 1))],      # from someone else
            lambda f: f.has(ICMP) and f.p[ICMP].type != 0, "an error answered an error")
    c.moved("icmp.drop.malformed", at_least=5)


@case("icmp: frag needed quoting UDP: no DF or no socket on the port: ignored (RFC 5927)")
def _():
    c = Counters()
    # port 7 has a socket, but our UDP never sets DF: no datagram of ours needed fragmenting
    quote = ipv4(udp(7, 6000, b"abcd", src=US_IP, dst=A_IP), 17, src=US_IP, dst=A_IP)
    W.quiet([eth(ipv4(icmp(3, 4, mtu, quote[:28]), 1)) for mtu in (1, 20, 67, 576)])
    c.moved("ipv4.pmtu_ignored", at_least=4)
    # DF set, from a port with no socket: not ours
    quote = ipv4(udp(40001, 53, b"abcd", src=US_IP, dst=A_IP), 17, src=US_IP, dst=A_IP,
                 df=True, tot=1500)
    W.quiet([eth(ipv4(icmp(3, 4, mtu, quote[:28]), 1)) for mtu in (100, 576)])
    c.moved("udp.drop.icmp_invalid", at_least=2)
    c.still("ipv4.pmtu_updated")
    check(all(e.get("mtu", 1500) >= 552 for e in control("pmtu").get("entries", [])),
          "path MTU below min_pmtu: %s" % control("pmtu"))


@case("icmp: redirect, source quench, timestamp, address mask and unknown types are ignored")
def _():
    c = Counters()
    quote = ipv4(udp(7, 6000, b"abcd", src=US_IP, dst=K_IP), 17, src=US_IP, dst=K_IP)
    W.quiet([eth(ipv4(icmp(5, 1, struct.unpack("!I", ip_b(A_IP))[0], quote[:28]), 1)),
             eth(ipv4(icmp(4, 0, 0, quote[:28]), 1)),
             eth(ipv4(icmp(13, 0, 0x3004 << 16, bytes(12)), 1)),
             eth(ipv4(icmp(17, 0, 0x3004 << 16, bytes(4)), 1)),
             eth(ipv4(icmp(200, 7, 0x3004 << 16, bytes(4)), 1))],
            lambda f: f.has(ICMP) and f.p[ICMP].type != 0, "answered")
    c.moved("icmp.drop.type", at_least=5)


@case("icmp: UDP to a closed port gets port unreachable, never for a broadcast")
def _():
    c = Counters()
    d = ipv4(udp(6001, 4444, b"anyone"), 17)
    W.send(eth(d))
    f = W.expect(icmp_error(3, 3))
    check(f is not None, "no port unreachable")
    check(f.ip_payload()[8:] == d[:28], "quote differs")
    W.quiet(eth(ipv4(udp(6001, 4444, b"anyone", dst=BCAST), 17, dst=BCAST),
                dst="ff:ff:ff:ff:ff:ff"), icmp_error(3), "error about a broadcast")
    c.moved("icmp.errors_suppressed")


@case("icmp: errors are rate limited (a UDP flood to closed ports)")
def _():
    c = Counters()
    for i in range(150):
        W.send(eth(ipv4(udp(6002, 5000 + i, b"x"), 17)))
    seen = W.sync()
    n = sum(1 for f in seen if icmp_error(3, 3)(f))
    check(n < 150, "%d of 150 answered" % n)
    c.moved("icmp.errors_rate_limited")


@case("ipv4: empty and short transport payloads (INFRA:HALT length checks) are malformed")
def _():
    c = Counters()
    W.quiet([eth(ipv4(b"", 1)), eth(ipv4(b"\x08\x00\xf7", 1)),
             eth(ipv4(b"", 6)), eth(ipv4(bytes(19), 6)),
             eth(ipv4(b"", 17)), eth(ipv4(bytes(7), 17))],
            lambda f: f.has(ICMP) or f.has(TCP) or f.has(UDP), "answered")
    c.moved("icmp.drop.malformed", at_least=2)
    c.moved("tcp.drop.malformed", at_least=2)
    c.moved("udp.drop.malformed", at_least=2)


# UDP -------------------------------------------------------------------------

@case("udp: length field larger than the datagram, or < 8, is dropped")
def _():
    c = Counters()
    W.quiet([eth(ipv4(udp(6003, 7, b"hello", ulen=200), 17)),
             eth(ipv4(udp(6003, 7, b"hello", ulen=7), 17))],
            lambda f: f.has(UDP), "echoed")
    c.moved("udp.drop.length", at_least=2)


@case("udp: length field smaller than the datagram: only that many bytes are read")
def _():
    W.send(eth(ipv4(udp(6004, 7, b"hello-and-more", ulen=13), 17)))
    f = W.expect(lambda f: f.has(UDP) and f.p[UDP].dport == 6004)
    check(f is not None, "not echoed")
    check(f.ip_payload()[8:] == b"hello", "echo %r" % f.ip_payload()[8:])


@case("udp: checksum 0 (none) is accepted, a bad checksum is dropped")
def _():
    c = Counters()
    W.send(eth(ipv4(udp(6005, 7, b"nocsum", chk=0), 17)))
    check(W.expect(lambda f: f.has(UDP) and f.p[UDP].dport == 6005), "checksum 0 not echoed")
    W.quiet(eth(ipv4(udp(6006, 7, b"badcsum", chk=0x1234), 17)),
            lambda f: f.has(UDP) and f.p[UDP].dport == 6006, "bad checksum echoed")
    c.moved("udp.drop.checksum")


@case("udp: destination port 0 is dropped; source port 0 is not answered")
def _():
    c = Counters()
    W.quiet([eth(ipv4(udp(6007, 0, b"zero"), 17)), eth(ipv4(udp(0, 7, b"zero"), 17))],
            lambda f: f.has(UDP) or icmp_error(3)(f), "answered")
    c.moved("udp.drop.bad_port")


@case("udp: echo to a broadcast address is not answered (fraggle)")
def _():
    c = Counters()
    W.quiet([eth(ipv4(udp(6010, 7, b"fraggle", dst=BCAST), 17, dst=BCAST),
                 dst="ff:ff:ff:ff:ff:ff"),
             eth(ipv4(udp(6010, 7, b"fraggle", dst="255.255.255.255"), 17,
                      dst="255.255.255.255"), dst="ff:ff:ff:ff:ff:ff")],
            lambda f: f.has(UDP), "broadcast echo answered")
    c.moved("udp.delivered", at_least=2)


@case("udp: echo from the ports of echo/chargen/daytime/qotd/time is not answered (echo loop)")
def _():
    c = Counters()
    W.quiet([eth(ipv4(udp(sp, 7, b"loop"), 17)) for sp in (7, 13, 17, 19, 37)],
            lambda f: f.has(UDP), "echo answered a small service's port")
    c.moved("udp.delivered", at_least=5)
    W.send(eth(ipv4(udp(6011, 7, b"not a loop"), 17)))
    f = W.expect(lambda f: f.has(UDP) and f.p[UDP].dport == 6011)
    check(f is not None, "an ordinary echo is not answered")


@case("udp: truncated header is malformed")
def _():
    c = Counters()
    W.quiet(eth(ipv4(udp(6008, 7, b"")[:4], 17)))
    c.moved("udp.drop.malformed")


# TCP without a connection ------------------------------------------------------

@case("tcp: SYN to a closed port gets RST|ACK acking SYN + data")
def _():
    c = Counters()
    W.send(eth(ipv4(tcp(4400, 4444, 5000, 0, "S", data=b"abc"), 6)))
    f = W.expect(lambda f: f.has(TCP) and f.p[TCP].dport == 4400)
    check(f is not None, "no answer")
    t = f.p[TCP]
    check(t.flags == "RA" and t.seq == 0 and t.ack == 5004, "got %s seq %d ack %d" %
          (t.flags, t.seq, t.ack))
    c.moved("tcp.drop.no_listener", "tcp.resets_sent")


@case("tcp: null and Xmas scans of a closed port get RST (RFC 9293 3.10.7.1)")
def _():
    for flags, extra in ((0, 0), ("FPU", 1)):
        W.send(eth(ipv4(tcp(4401, 4444, 7000, 0, flags, urg=1), 6)))
        f = W.expect(lambda f: f.has(TCP) and f.p[TCP].dport == 4401)
        check(f is not None, "no answer to flags %r" % flags)
        t = f.p[TCP]
        check(t.flags == "RA" and t.ack == 7000 + extra, "flags %r: got %s ack %d" %
              (flags, t.flags, t.ack))


@case("tcp: ACK to a closed port and ACK to a listener get RST with seq = SEG.ACK")
def _():
    c = Counters()
    for port in (4444, 7):
        W.send(eth(ipv4(tcp(4402, port, 1, 0xdeadbeef, "A"), 6)))
        f = W.expect(lambda f: f.has(TCP) and f.p[TCP].dport == 4402)
        check(f is not None and f.p[TCP].flags == "R" and f.p[TCP].seq == 0xdeadbeef,
              "port %d: %s" % (port, f and f.p[TCP].summary()))
    c.moved("tcp.drop.listen")


@case("tcp: null, Xmas, FIN and RST to a listener are dropped silently")
def _():
    c = Counters()
    W.quiet([eth(ipv4(tcp(4403, 7, 1, 0, f), 6)) for f in (0, "FPU", "F", "R")],
            lambda f: f.has(TCP) and f.p[TCP].dport == 4403, "answered")
    c.moved("tcp.drop.listen", at_least=4)


@case("tcp: SYN+FIN and SYN+RST to a listener are dropped (as Linux)")
def _():
    c = Counters()
    W.quiet([eth(ipv4(tcp(4404, 7, 1, 0, "SF"), 6)), eth(ipv4(tcp(4405, 7, 1, 0, "SR"), 6))],
            lambda f: f.has(TCP) and f.p[TCP].dport in (4404, 4405), "answered")
    c.still("tcp.passive_opens")
    c.moved("tcp.drop.listen", at_least=2)


@case("tcp: bad checksum, data offset < 5, beyond the segment, short header: dropped")
def _():
    c = Counters()
    W.quiet([eth(ipv4(tcp(4406, 4444, 1, 0, "S", chk=0x1234), 6)),
             eth(ipv4(tcp(4406, 4444, 1, 0, "S", doff=4), 6)),
             eth(ipv4(tcp(4406, 4444, 1, 0, "S", doff=0), 6)),
             eth(ipv4(tcp(4406, 4444, 1, 0, "S", doff=15), 6)),
             eth(ipv4(tcp(4406, 4444, 1, 0, "S", opts=bytes(8), doff=8), 6)),
             eth(ipv4(tcp(4406, 4444, 1, 0, "S")[:16], 6))],
            lambda f: f.has(TCP) and f.p[TCP].dport == 4406, "answered")
    c.moved("tcp.drop.checksum")
    c.moved("tcp.drop.malformed", at_least=5)


@case("tcp: SYN to a broadcast address, port 0 source or destination: dropped")
def _():
    c = Counters()
    W.quiet([eth(ipv4(tcp(4407, 7, 1, 0, "S", dst=BCAST), 6, dst=BCAST)),
             eth(ipv4(tcp(0, 7, 1, 0, "S"), 6)), eth(ipv4(tcp(4407, 0, 1, 0, "S"), 6))],
            lambda f: f.has(TCP) and f.p[TCP].dport in (0, 4407), "answered")
    c.moved("tcp.drop.broadcast")
    c.moved("tcp.drop.malformed", at_least=2)


@case("tcp: SYN with data: the data is not acknowledged (no TFO)")
def _():
    c = Conn(9)
    W.send(c.seg("S", b"early-data", seq=c.isn, ack=0, opts=opt_mss(1460)))
    f = c.expect(lambda t: t.flags == "SA")
    check(f is not None and f.p[TCP].ack == (c.isn + 1) & 0xffffffff, "SYN-ACK acks %s" %
          (f and f.p[TCP].ack))
    c.rcv_nxt = f.p[TCP].seq + 1
    c.snd_nxt = c.isn + 1
    c.reset()


@case("tcp: malformed SYN options (length 0, length 1, overrun) still get a SYN-ACK")
def _():
    for o in (bytes([30, 0, 0, 0]), bytes([2, 1, 5, 0xb4]), bytes([1, 2, 4, 5]),
              bytes([3, 3, 7, 8, 40, 0, 0, 0]), bytes([8, 10, 0, 0])):
        c = Conn(7, syn_opts=o)
        c.open()
        c.write(b"opts")
        check(c.read(4) == b"opts", "echo after options %s" % o.hex())
        c.reset()


@case("tcp: MSS 0 means the default (536); MSS 1 is clamped, data still flows")
def _():
    for mss, most in ((0, 536), (1, 88)):
        c = Conn(7, mss=mss)
        c.open()
        data = os.urandom(1500)
        segs = []
        for i in range(0, 1500, 500):
            c.write(data[i:i + 500])
        got = c.read(1500, 5.0, segs=segs)
        check(got == data, "MSS %d: echo of %d of 1500 bytes" % (mss, len(got)))
        check(max(segs) <= most, "MSS %d: segment of %d bytes" % (mss, max(segs)))
        c.reset()


@case("tcp: window scale 200 is taken as 14 (RFC 7323 2.3)")
def _():
    c = Conn(9, ws=200)
    f = c.open()
    check(any(o[0] == "WScale" for o in f.p[TCP].options), "no WScale in the SYN-ACK")
    c.send("A", win=3)
    W.sync()
    e = flow_of(c)
    check(e is not None and e["snd_wnd"] == 3 << 14, "snd_wnd %s" % (e and e["snd_wnd"]))
    c.reset()


@case("tcp: nmap-style probes: ECN SYN gets a plain SYN-ACK, T2/T3 to a listener dropped")
def _():
    c = Conn(9)
    W.drain()
    c.send("SEC", seq=c.isn, ack=0, opts=opt_mss(1460) + OPT_SACK_PERM + opt_ws(10))
    f = c.expect(lambda t: "S" in str(t.flags))
    check(f is not None and f.p[TCP].flags == "SA", "answer %s" % (f and f.p[TCP].flags))
    c.rcv_nxt = (f.p[TCP].seq + 1) & 0xffffffff
    c.snd_nxt = (c.isn + 1) & 0xffffffff
    c.reset()
    k = Counters()
    W.quiet([eth(ipv4(tcp(4410, 9, 1, 0, 0, opts=opt_mss(265) + OPT_SACK_PERM), 6)),
             eth(ipv4(tcp(4411, 9, 1, 0, "SFUP", urg=1, opts=opt_mss(265)), 6))],
            lambda f: f.has(TCP) and f.p[TCP].dport in (4410, 4411), "answered")
    k.moved("tcp.drop.listen", at_least=2)


@case("tcp: ISNs are not predictable across connections (RFC 6528, NUMBER:JACK)")
def _():
    isns = []
    for i in range(8):
        c = Conn(9, sport=30000 + i)
        f = c.open()
        isns.append(f.p[TCP].seq)
        c.reset()
    diffs = [(b - a) & 0xffffffff for a, b in zip(isns, isns[1:])]
    check(len(set(diffs)) == len(diffs), "ISN steps repeat: %s" % diffs)
    check(sum(1 for d in diffs if min(d, 2 ** 32 - d) < 1 << 20) <= 1,
          "ISNs close together: %s" % [hex(x) for x in isns])


@case("ipv4: IDs seen by one host do not count datagrams sent to others (idle scan)")
def _():
    def attacker_id(ident):
        W.send(echo_frame(ident))
        f = W.expect(echo_reply_to(ident))
        check(f is not None, "not answered")
        return f.p[IP].id

    steps = []
    for n in (20, 37):
        a = attacker_id(0x3100 + n)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.settimeout(2)
        for _ in range(n):
            s.sendto(b"x", (US_IP, 7))
            s.recv(10)
        s.close()
        b = attacker_id(0x3200 + n)
        steps.append((b - a) & 0xffff)
    check(steps != [21, 38], "IP ID steps %s reveal the datagrams sent to the kernel" % steps)


# TCP on a connection (RFC 5961, RFC 7323, RFC 2018, RFC 6093) -----------------

@case("tcp: unacceptable ACK in SYN-RECEIVED gets RST with seq = SEG.ACK (RFC 9293 3.10.7.4)")
def _():
    c = Conn(9)
    W.drain()
    c.send("S", seq=c.isn, ack=0, opts=opt_mss(1460))
    f = c.expect(lambda t: t.flags == "SA")
    check(f is not None, "no SYN-ACK")
    c.rcv_nxt = (f.p[TCP].seq + 1) & 0xffffffff
    c.snd_nxt = (c.isn + 1) & 0xffffffff
    k = Counters()
    bad = (c.rcv_nxt + 5000) & 0xffffffff
    c.send("A", ack=bad)
    r = c.expect()
    check(r is not None and r.p[TCP].flags == "R" and r.p[TCP].seq == bad,
          "answer %s" % (r and r.p[TCP].summary()))
    k.moved("tcp.drop.bad_ack")
    c.send("A")
    W.sync()
    check(flow_of(c)["state"] == "ESTABLISHED", "the right ACK did not establish")
    c.reset()


@case("tcp: SACK blocks fragmenting the scoreboard (SACK panic style) are bounded")
def _():
    c = Conn(7, sack=True, mss=536)
    c.open()
    una = c.rcv_nxt
    for _ in range(20):
        c.write(os.urandom(1000))
    got = c.read(536, ack=False)
    for _ in range(200):
        left = una + 1 + random.randrange(19000)
        blocks = [(left, left + 1)]
        for _ in range(3):
            left = una + 1 + random.randrange(19000)
            blocks.append((left, left + random.randint(1, 3)))
        c.send("A", ack=una, opts=opt_sack(blocks), win=random.choice((65535, 65534)))
    for f in W.sync():
        if c.mine(f):
            c.take(f)
    e = flow_of(c)
    check(e is not None and e["state"] == "ESTABLISHED", "connection lost")
    c.send("A")
    rest = c.read(20000 - len(got), 10.0)
    check(len(got) + len(rest) == 20000, "echo %d of 20000 bytes" % (len(got) + len(rest)))
    c.reset()


@case("tcp: timestamp echoes from the future or the past do not inflate the RTO")
def _():
    c = Conn(7, ts=True)
    c.open()
    for ecr in ((c.peer_ts + (1 << 31)) & 0xffffffff, (c.peer_ts - 10**7) & 0xffffffff, 1):
        c.write(b"ts-probe")
        check(c.read(8, ack=False) == b"ts-probe", "no echo")
        c.tsval += 1
        c.send("A", opts=opt_ts(c.tsval, ecr))
    W.sync()
    e = flow_of(c)
    check(e is not None and e["rto_ms"] <= 1000, "RTO %s ms" % (e and e["rto_ms"]))
    c.reset()


@case("tcp: in-window RST with a wrong sequence number gets a challenge ACK (RFC 5961 3.2)")
def _():
    c = Conn(9)
    c.open()
    k = Counters()
    W.drain()
    c.send("R", seq=c.snd_nxt + 1000, ack=0, opts=b"")
    f = c.expect(lambda t: t.flags == "A")
    check(f is not None and f.p[TCP].ack == c.snd_nxt, "no challenge ACK")
    k.moved("tcp.challenge_acks")
    c.write(b"still-there")
    f = c.expect(lambda t: t.ack == c.snd_nxt)
    check(f is not None, "connection did not survive")
    c.reset()


@case("tcp: out-of-window RST is dropped silently; the exact RST resets")
def _():
    c = Conn(9)
    c.open()
    k = Counters()
    W.quiet(c.seg("R", seq=c.snd_nxt + 10_000_000, ack=0, opts=b""),
            c.mine, "answered an out-of-window RST")
    k.moved("tcp.drop.out_of_window")
    check(flow_of(c) is not None, "flow gone")
    c.reset()
    W.sync()
    k.moved("tcp.resets_rx")
    e = flow_of(c)
    check(e is None or e["state"] == "CLOSED", "flow %s after the exact RST" % e)


@case("tcp: SYN on an established connection gets a challenge ACK (RFC 5961 4)")
def _():
    c = Conn(9)
    c.open()
    k = Counters()
    for seq in (c.snd_nxt + 10, c.snd_nxt - 100000):
        W.drain()
        c.send("S", seq=seq, ack=0, opts=opt_mss(1460))
        f = c.expect()
        check(f is not None and f.p[TCP].flags == "A" and f.p[TCP].ack == c.snd_nxt,
              "answer %s" % (f and f.p[TCP].summary()))
    k.moved("tcp.challenge_acks")
    check(flow_of(c)["state"] == "ESTABLISHED", "connection lost")
    c.reset()


@case("tcp: challenge ACKs are rate limited (RFC 5961 7)")
def _():
    c = Conn(9)
    c.open()
    k = Counters()
    W.drain()
    for i in range(30):
        c.send("R", seq=c.snd_nxt + 100 + i, ack=0, opts=b"")
    seen = W.sync()
    n = sum(1 for f in seen if c.mine(f))
    check(n <= 10, "%d challenge ACKs for 30 RSTs" % n)
    k.moved("tcp.challenge_acks_limited", at_least=20)
    c.reset()


@case("tcp: blind RST carrying data that ends at RCV.NXT gets a challenge ACK (RFC 5961 3.2)")
def _():
    c = Conn(7)
    c.open()
    c.write(b"0123456789")
    check(c.read(10) == b"0123456789", "no echo")
    k = Counters()
    W.drain()
    # starts 5 bytes behind RCV.NXT, ends in the window: once trimmed to
    # RCV.NXT and taken as the exact RST
    c.send("RA", b"abcdefghij", seq=c.snd_nxt - 5)
    f = c.expect(lambda t: t.flags == "A")
    check(f is not None and f.p[TCP].ack == c.snd_nxt, "no challenge ACK")
    k.moved("tcp.challenge_acks")
    e = flow_of(c)
    check(e is not None and e["state"] == "ESTABLISHED", "flow %s" % (e and e["state"]))
    c.write(b"still-there")
    check(c.read(11) == b"still-there", "connection did not survive")
    c.reset()


@case("tcp: SYN|ACK with data just behind RCV.NXT: challenge ACK, no data taken (RFC 5961 4.2)")
def _():
    c = Conn(7)
    c.open()
    k = Counters()
    W.drain()
    # the SYN sits at RCV.NXT - 1, the data from RCV.NXT on: once the SYN was
    # trimmed away and the data echoed
    c.send("SA", b"INJECTED", seq=c.snd_nxt - 1)
    seen = W.sync()
    mine = [f for f in seen if c.mine(f)]
    check(mine and all(not f.tcp_data() for f in mine), "answer %s" %
          [f.p[TCP].summary() for f in mine])
    check(any(f.p[TCP].flags == "A" and f.p[TCP].ack == c.snd_nxt for f in mine),
          "no challenge ACK")
    k.moved("tcp.challenge_acks")
    c.write(b"good")
    check(c.read(4) == b"good", "echo after the SYN|ACK: injected data taken?")
    c.reset()


@case("tcp: a blind segment with a huge TSval does not poison TS.Recent (RFC 7323 4.3)")
def _():
    c = Conn(7, ts=True, sack=True, ws=7)
    c.open()
    k = Counters()
    W.drain()
    # right sequence number, unacceptable ACK, TSval far in the future
    c.send("PA", b"evil", ack=c.rcv_nxt + 100000, tsval=0x7fff0000)
    f = c.expect()
    check(f is not None and f.p[TCP].ack == c.snd_nxt and not f.tcp_data(),
          "answer %s" % (f and f.p[TCP].summary()))
    k.moved("tcp.drop.bad_ack")
    # the peer's next real segment passes PAWS
    c.write(b"legit")
    check(c.read(5) == b"legit", "real segment dropped after the blind one")
    k.still("tcp.drop.paws")
    c.reset()


def time_wait_conn():
    """An HTTP/1.0 request to port 80: tapird answers and closes first, we ACK
    its FIN and send ours, so tapird holds the connection in TIME_WAIT."""
    c = Conn(80)
    c.open()
    c.write(b"GET / HTTP/1.0\r\n\r\n")
    buf = b""
    fin = None
    end = time.monotonic() + 3
    while fin is None and time.monotonic() < end:
        f = c.expect(lambda t: True, end - time.monotonic())
        if f is None:
            break
        d = f.tcp_data()
        if f.p[TCP].seq == c.rcv_nxt:
            buf += d
            c.rcv_nxt = (c.rcv_nxt + len(d)) & 0xffffffff
            if "F" in str(f.p[TCP].flags):
                fin = f
                c.rcv_nxt = (c.rcv_nxt + 1) & 0xffffffff
        c.send("A")
    check(fin is not None and buf.startswith(b"HTTP/1."), "no response and FIN")
    c.send("FA")
    c.snd_nxt += 1
    W.sync()
    e = flow_of(c)
    check(e is not None and e["state"] == "TIME_WAIT", "state %s" % (e and e["state"]))
    return c


@case("tcp: a FIN with a wrong sequence number in TIME_WAIT is not taken as the retransmitted FIN")
def _():
    c = time_wait_conn()
    k = Counters()
    W.drain()
    # wrong sequence numbers: unacceptable (counted), answered with an ACK
    # (one answer per 500 ms at most, as Linux's tcp_invalid_ratelimit)
    for seq in (c.snd_nxt + 1000, c.snd_nxt - 1000):
        time.sleep(0.6)
        c.send("FA", seq=seq)
        f = c.expect(lambda t: t.flags == "A")
        check(f is not None and f.p[TCP].ack == c.snd_nxt, "no ACK for the stray FIN")
    k.moved("tcp.drop.out_of_window", at_least=2)
    # the real retransmitted FIN (at RCV.NXT - 1) is acknowledged as such
    k = Counters()
    c.send("FA", seq=c.snd_nxt - 1)
    f = c.expect(lambda t: t.flags == "A")
    check(f is not None and f.p[TCP].ack == c.snd_nxt, "retransmitted FIN not ACKed")
    k.still("tcp.drop.out_of_window")
    check(flow_of(c)["state"] == "TIME_WAIT", "left TIME_WAIT")


@case("tcp: ACK of data never sent is refused with an ACK, its data dropped (RFC 5961 5)")
def _():
    c = Conn(7)
    c.open()
    k = Counters()
    W.drain()
    c.send("PA", b"bad-ack", ack=c.rcv_nxt + 5000)
    f = c.expect()
    check(f is not None and f.p[TCP].ack == c.snd_nxt and not f.tcp_data(),
          "answer %s" % (f and f.p[TCP].summary()))
    c.send("PA", b"old-ack", ack=c.rcv_nxt - 300000)
    f = c.expect()
    check(f is not None and f.p[TCP].ack == c.snd_nxt, "old ACK accepted")
    k.moved("tcp.drop.bad_ack", at_least=2)
    c.write(b"good")
    check(c.read(4) == b"good", "echo after bad ACKs")
    c.reset()


@case("tcp: data far outside the window is not accepted, an ACK tells the window")
def _():
    c = Conn(7)
    c.open()
    k = Counters()
    W.drain()
    c.send("PA", b"far-away", seq=c.snd_nxt + 5_000_000)
    f = c.expect()
    check(f is not None and f.p[TCP].ack == c.snd_nxt, "no ACK")
    k.moved("tcp.drop.out_of_window")
    c.write(b"near")
    check(c.read(4) == b"near", "echo after")
    c.reset()


@case("tcp: PAWS drops a segment with an old timestamp (RFC 7323 5.3)")
def _():
    c = Conn(7, ts=True)
    c.open()
    c.write(b"fresh1")
    check(c.read(6) == b"fresh1", "first echo")
    k = Counters()
    W.drain()
    c.send("PA", b"stale!", tsval=c.tsval - 100000)
    f = c.expect()
    check(f is not None and f.p[TCP].ack == c.snd_nxt, "no ACK for the stale segment")
    k.moved("tcp.drop.paws")
    c.write(b"fresh2")
    check(c.read(6) == b"fresh2", "stale data was delivered")
    c.reset()


@case("tcp: SACK blocks out of range (beyond SND.MAX, below SND.UNA, reversed) are ignored")
def _():
    c = Conn(7, sack=True)
    c.open()
    una = c.rcv_nxt
    for _ in range(3):
        c.write(os.urandom(1000))
    got = c.read(1000, ack=False)
    check(len(got) == 1000, "no echo")
    for blocks in ([(una - 100000, una + 5), (una + 10**7, una + 10**7 + 100)],
                   [(una + 500, una + 100), (0, 0xffffffff)],
                   [(una + 8, una + 8), (una - 1, una), (una, una + 1), (una + 2, una + 3)]):
        c.send("A", ack=una, opts=opt_sack(blocks))
    c.send("A")
    rest = c.read(3000 - len(got), 5.0)
    check(len(got) + len(rest) == 3000, "echo %d of 3000 bytes" % (len(got) + len(rest)))
    c.reset()


@case("tcp: urgent pointer beyond the data (AMNESIA:33) is harmless: data inline")
def _():
    c = Conn(7)
    c.open()
    c.write(b"urgent-data", flags="PAU", urg=0xffff)
    c.write(b"-more", flags="PAU", urg=0)
    c.write(b"", flags="AU", urg=1)
    check(c.read(16) == b"urgent-data-more", "urgent data not echoed inline")
    c.reset()


@case("tcp: FIN without ACK on a connection is dropped")
def _():
    c = Conn(9)
    c.open()
    k = Counters()
    W.quiet(c.seg("F"), c.mine, "answered")
    k.moved("tcp.drop.no_ack")
    check(flow_of(c)["state"] == "ESTABLISHED", "FIN without ACK was taken")
    c.reset()


@case("tcp: out-of-order flood is bounded by ooo_max_bytes")
def _():
    c = Conn(9, ws=7)
    c.open()
    k = Counters()
    for i in range(700):
        W.send(c.seg("A", b"x", seq=c.snd_nxt + 2 + 2 * i))
        if i % 100 == 99:
            W.sync()
    W.sync()
    k.moved("tcp.drop.ooo_full")
    e = flow_of(c)
    check(e is not None and e["ooo_bytes"] <= 512, "ooo_bytes %s" % (e and e["ooo_bytes"]))
    c.reset()


@case("tcp: ICMP errors with a sequence number outside the window are ignored (RFC 5927)")
def _():
    c = Conn(9)
    c.open()
    k = Counters()
    seq = c.rcv_nxt + 100000
    quote = ipv4(tcp(9, c.sport, seq, 0, "A", src=US_IP, dst=A_IP), 6, src=US_IP,
                 dst=A_IP)[:28]
    W.quiet([eth(ipv4(icmp(3, 4, 576, quote), 1)), eth(ipv4(icmp(3, 1, 0, quote), 1))])
    k.moved("tcp.drop.icmp_invalid", at_least=2)
    k.still("tcp.pmtu_updates")
    check(flow_of(c)["state"] == "ESTABLISHED", "connection lost")
    c.reset()


@case("tcp: ICMP unreachables with a valid sequence number do not reset (RFC 5927 5.2)")
def _():
    c = Conn(7)
    c.open()
    k = Counters()
    c.write(b"in-flight")
    first = c.expect(lambda t: True)
    check(first is not None and first.tcp_data() == b"in-flight", "no echo")
    quote = first.raw[14:14 + 28]
    W.quiet([eth(ipv4(icmp(3, code, 0, quote), 1)) for code in (0, 1, 2, 3, 9, 10, 13)] +
            [eth(ipv4(icmp(11, 0, 0, quote), 1)), eth(ipv4(icmp(12, 0, 0, quote), 1))])
    k.still("tcp.drop.icmp_invalid")
    c.take(first)
    c.send("A")
    c.write(b"after")
    check(c.read(9 + 5) == b"in-flightafter", "connection lost to an ICMP error")
    c.reset()


@case("tcp: frag needed: 1000 shrinks segments, 40 gives min_pmtu 552 without DF (RFC 1191)")
def _():
    c = Conn(7, src=A2_IP)
    learn(A2_IP)
    c.open()
    k = Counters()
    data = os.urandom(1400)
    c.write(data)
    first = c.expect(lambda t: True)
    check(first is not None and len(first.tcp_data()) == 1400, "no 1400-byte echo")
    quote = first.raw[14:14 + 28]
    W.send(eth(ipv4(icmp(3, 4, 1000, quote), 1)))
    segs = []
    got = c.read(1400, 5.0, segs=segs)
    check(got == data, "retransmitted echo differs")
    check(max(segs) <= 960, "segments %s" % segs)
    k.moved("tcp.pmtu_updates")
    data = os.urandom(1400)
    c.write(data)
    first = c.expect(lambda t: True)
    check(first is not None and len(first.tcp_data()) == 960, "no 960-byte echo")
    W.send(eth(ipv4(icmp(3, 4, 40, first.raw[14:14 + 28]), 1)))
    check(c.read(1400, 5.0) == data, "retransmitted echo differs")
    # what is sent now fits 552 and goes without DF, so a router may fragment it
    data = os.urandom(1400)
    c.write(data)
    segs, df = [], []
    end = time.monotonic() + 5
    while len(c.inbuf) < 1400 and time.monotonic() < end:
        f = c.expect(lambda t: True, end - time.monotonic())
        if f is None:
            break
        if f.tcp_data():
            df.append(bool(int(f.p[IP].flags) & 2))
        if c.take(f, segs):
            c.send("A")
    check(c.inbuf[:1400] == data, "echo at MTU 552 differs")
    c.inbuf = c.inbuf[1400:]
    check(segs and max(segs) <= 512, "segments %s" % segs)
    check(df and not any(df), "DF still set below min_pmtu: %s" % df)
    k.moved("ipv4.pmtu_clamped")
    e = [x for x in control("pmtu")["entries"] if x["dst"] == A2_IP]
    check(e and e[0]["mtu"] == 552, "pmtu entries %s" % control("pmtu"))
    c.reset()


def bulk_echo(nbytes, during=None, timeout=30.0):
    """@nbytes through tapird's TCP echo (port 7) from the kernel; tapird's half
    is a bulk send.  @during(done) runs in this thread while the data flows
    (done: a threading.Event set when all came back).  Return: seconds taken
    until all came back."""
    import threading
    data = os.urandom(nbytes)
    s = socket.create_connection((US_IP, 7), timeout=timeout)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    got = bytearray()
    err = []
    done = threading.Event()
    t_done = []

    def reader():
        try:
            while len(got) < nbytes:
                d = s.recv(1 << 16)
                if not d:
                    break
                got.extend(d)
        except OSError as e:
            err.append(e)
        t_done.append(time.monotonic())
        done.set()

    t0 = time.monotonic()
    th = threading.Thread(target=reader)
    th.start()
    w = threading.Thread(target=lambda: s.sendall(data))
    w.start()
    if during:
        during(done)
    w.join(timeout)
    th.join(max(0.1, timeout - (time.monotonic() - t0)))
    took = (t_done[0] if t_done else time.monotonic()) - t0
    s.close()
    check(not err, "echo: %s" % err)
    check(len(got) == nbytes and bytes(got) == data,
          "echo of %d bytes: got %d in %.1f s" % (nbytes, len(got), took))
    return took


def to_kernel_data(f):
    return f.has(TCP) and f.p[IP].dst == K_IP and f.p[TCP].sport == 7 and \
        len(f.tcp_data()) > 0


@case("icmp: forged frag needed MTU 100 quoting UDP from us to the kernel: the download goes on")
def _():
    k = Counters()
    base = bulk_echo(4 << 20)
    quote = ipv4(udp(33434, 53, b"abcd", src=US_IP, dst=K_IP), 17, src=US_IP, dst=K_IP,
                 df=True, tot=1500)[:28]

    def attack(done):
        for _ in range(5):
            W.send(eth(ipv4(icmp(3, 4, 100, quote), 1)))
            time.sleep(0.05)
    took = bulk_echo(4 << 20, attack)
    W.drain()
    k.moved("udp.drop.icmp_invalid", at_least=5)
    k.still("ipv4.pmtu_updated")
    check(took < 3 * base + 2, "4 MiB echo took %.2f s after the attack, %.2f s before" %
          (took, base))
    check(not [e for e in control("pmtu")["entries"] if e["dst"] == K_IP],
          "path MTU to the kernel changed: %s" % control("pmtu"))


@case("tcp: frag needed MTU 100 quoting our segment in window: min_pmtu, no stall")
def _():
    k = Counters()
    base = bulk_echo(4 << 20)

    def latest_data_seq():
        """seq + len of the newest data segment from tapird to the kernel now
        in the socket (raw parsing: scapy would fall behind), or None."""
        last = None
        while True:
            try:
                raw, addr = W.s.recvfrom(70000)
            except BlockingIOError:
                return last
            if addr[2] == socket.PACKET_OUTGOING or raw[6:12] != mac_b(US_MAC) or \
                    raw[12:14] != b"\x08\x00" or raw[23] != 6 or raw[30:34] != ip_b(K_IP):
                continue
            ip = raw[14:]
            hl = (ip[0] & 15) * 4
            t = ip[hl:]
            dlen = struct.unpack("!H", ip[2:4])[0] - hl - (t[12] >> 4) * 4
            if t[0:2] == b"\x00\x07" and dlen > 0 and ip[6] & 0x40:
                last = (ip[:20] + t[:8], struct.unpack("!I", t[4:8])[0] + dlen)

    def attack(done):
        # the kernel acknowledges at once: quote from the newest byte seen to
        # 256 KiB beyond it, so that one falls in SND.UNA..SND.NXT when tapird
        # reads it (the others are counted in tcp.drop.icmp_invalid)
        end = time.monotonic() + 5
        rounds = 0
        while time.monotonic() < end and not done.is_set():
            select.select([W.s], [], [], 0.5)
            got = latest_data_seq()
            if got is None:
                continue
            q = bytearray(got[0])
            for d in range(0, 256 << 10, 8 << 10):
                q[24:28] = struct.pack("!I", (got[1] + d) & 0xffffffff)
                W.send(eth(ipv4(icmp(3, 4, 100, bytes(q)), 1)))
            rounds += 1
            if rounds % 4 == 0 and k.refresh().delta("tcp.pmtu_updates") > 0:
                break
    took = bulk_echo(4 << 20, attack)
    W.drain()
    k.moved("tcp.pmtu_updates", "ipv4.pmtu_clamped")
    e = [x for x in control("pmtu")["entries"] if x["dst"] == K_IP]
    check(e and e[0]["mtu"] == 552, "pmtu entries %s" % control("pmtu"))
    check(took < 3 * base + 2, "4 MiB echo took %.2f s after the attack, %.2f s before" %
          (took, base))
    took = bulk_echo(4 << 20)
    check(took < 3 * base + 2, "4 MiB echo at path MTU 552 took %.2f s, %.2f s before" %
          (took, base))


@case("tcp: no TIME_WAIT assassination: a RST in TIME_WAIT is ignored (RFC 1337)")
def _():
    c = time_wait_conn()
    k = Counters()
    W.quiet(c.seg("R", ack=0, opts=b""), c.mine, "answered")
    k.moved("tcp.drop.rst_invalid")
    check(flow_of(c)["state"] == "TIME_WAIT", "RST killed TIME_WAIT")


@case("tcp: SYN flood from spoofed sources: backlog bounded, SYN cookies, real clients served")
def _():
    k = Counters()
    for i in range(200):
        src = "198.51.100.%d" % (1 + i % 250)
        W.send(eth(ipv4(tcp(10000 + i, 9, random.getrandbits(32), 0, "S",
                            opts=opt_mss(1460) + OPT_SACK_PERM + opt_ts(1, 0) + opt_ws(7),
                            src=src), 6, src=src), src=A_MAC))
        if i % 50 == 49:
            W.sync()
    W.sync()
    k.moved("tcp.syncookies_sent", at_least=100)
    n = sum(1 for e in conns() if e["state"] == "SYN_RECEIVED" and e["local_port"] == 9)
    check(n <= 16, "%d SYN_RECEIVED flows with a backlog of 16" % n)
    with socket.create_connection((US_IP, 9), timeout=3) as s:
        s.sendall(b"through a cookie" * 100)
    W.sync()
    k.moved("tcp.syncookies_ok")


@case("tcp: 4,000 random segments near the windows of live connections (state machine fuzz)")
def _():
    conns_ = []
    for port, ts, sack, ws in ((7, True, True, 7), (7, False, False, None), (80, True, False, 2),
                               (9, False, True, 14), (7, True, True, None)):
        c = Conn(port, ts=ts, sack=sack, ws=ws, mss=random.choice((88, 536, 1460)))
        c.open()
        if port == 80:
            c.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        else:
            c.write(os.urandom(1000))
        conns_.append(c)

    def rnd_opts(c):
        o = b""
        for _ in range(random.randint(0, 3)):
            k = random.randrange(7)
            if k == 0:
                o += opt_ts(c.tsval + random.randint(-1000, 1000), c.peer_ts + random.randint(-5, 5))
            elif k == 1:
                b = c.rcv_nxt + random.randint(-3000, 30000)
                o += opt_sack([(b, b + random.randint(-10, 3000))
                               for _ in range(random.randint(1, 3))])
            elif k == 2:
                o += opt_mss(random.randrange(65536))
            elif k == 3:
                o += opt_ws(random.randrange(256))
            elif k == 4:
                o += bytes([random.randrange(256), random.randrange(256)])
            elif k == 5:
                o += OPT_SACK_PERM
            else:
                o += os.urandom(random.randint(1, 8))
        return o[:40]

    for i in range(4000):
        c = random.choice(conns_)
        r = random.random()
        seq = c.snd_nxt + (0 if r < 0.4 else random.randint(-70000, 70000))
        ack = c.rcv_nxt + (0 if random.random() < 0.5 else random.randint(-70000, 70000))
        flags = random.choice(("A", "PA", "A", "FA", "R", "RA", "S", "SA", "U", "AU",
                               random.randrange(256)))
        data = os.urandom(random.choice((0, 0, 1, 7, 100, 1000)))
        opts = rnd_opts(c) if random.random() < 0.5 else None
        W.send(c.seg(flags, data, seq=seq, ack=ack, opts=opts,
                     win=random.choice((0, 1, 512, 65535)), urg=random.getrandbits(16)))
        if r < 0.1 and not data:
            # keep some flows moving: take what they sent
            for f in W.frames(0):
                for cc in conns_:
                    if cc.mine(f):
                        cc.take(f)
                        cc.inbuf = b""
        if i % 200 == 199:
            W.sync()
    W.sync()
    for c in conns_:
        c.reset()
    W.sync()


# Memory ----------------------------------------------------------------------

def rss_kib():
    with open("/proc/%d/status" % PID) as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise Fail("no VmRSS")


def junk_frame():
    r = random.random
    n = random.randint(0, 1480)
    kind = random.randrange(12)
    src = "192.0.2.%d" % random.choice((98, 99))
    if kind == 0:        # random bytes as IPv4 or ARP
        return eth(os.urandom(n), random.choice((0x0800, 0x0806)))
    if kind == 1:        # a fragment of a datagram that never completes
        return eth(ipv4(os.urandom(8 * random.randint(1, 150)), random.choice((1, 6, 17)),
                        src=src, off=8 * random.randint(0, 8000), mf=r() < 0.7))
    if kind == 2:        # SYN to a closed port
        return eth(ipv4(tcp(random.randint(1, 65535), 4444, random.getrandbits(32), 0, "S",
                            src=src), 6, src=src))
    if kind == 3:        # spoofed SYN to a listener (SYN cookies)
        s = "198.51.100.%d" % random.randint(1, 254)
        return eth(ipv4(tcp(random.randint(1, 65535), 9, random.getrandbits(32), 0, "S",
                            opts=os.urandom(random.choice((0, 4, 8, 20, 40))), src=s), 6,
                        src=s))
    if kind == 4:        # UDP to closed ports, bad lengths
        return eth(ipv4(udp(1234, random.randint(1, 65535), os.urandom(n % 200),
                            ulen=random.choice((None, 0, 7, 65535))), 17, src=src))
    if kind == 5:        # random IP options
        return eth(ipv4(icmp(8, 0, random.getrandbits(32), b"x"), 1, src=src,
                        opts=os.urandom(4 * random.randint(1, 10))))
    if kind == 6:        # ICMP errors with random quotes
        return eth(ipv4(icmp(random.choice((3, 4, 5, 11, 12)), random.randint(0, 15),
                             random.getrandbits(32), os.urandom(random.randint(0, 60))), 1,
                        src=src))
    if kind == 7:        # ARP from random on-link addresses
        ip = "192.0.2.%d" % random.randint(3, 250)
        return eth(arp(random.choice((1, 2)), "02:00:00:02:%02x:%02x" % (random.randrange(256),
                       random.randrange(256)), ip, "00:00:00:00:00:00",
                       random.choice((US_IP, ip))), 0x0806, dst="ff:ff:ff:ff:ff:ff")
    if kind == 8:        # TCP with random flags and options to a listener
        return eth(ipv4(tcp(random.randint(1, 65535), random.choice((7, 9, 80)),
                            random.getrandbits(32), random.getrandbits(32),
                            random.randrange(256), opts=os.urandom(4 * random.randint(0, 10)),
                            data=os.urandom(n % 100), urg=random.getrandbits(16), src=src),
                        6, src=src))
    if kind == 9:        # broken IP headers
        return eth(ipv4(os.urandom(n % 100), random.randrange(256), src=src,
                        ihl=random.randrange(16), tot=random.randrange(65536)))
    if kind == 10:       # echo requests to a broadcast
        return eth(ipv4(icmp(8, 0, 1, os.urandom(n % 100)), 1, src=src, dst=BCAST),
                   dst="ff:ff:ff:ff:ff:ff")
    # overlapping fragments
    ident = random.getrandbits(16)
    return eth(ipv4(os.urandom(64), 1, src=src, ident=ident, off=8 * random.randint(0, 4),
                    mf=True))


def flood(n):
    for i in range(n):
        W.send(junk_frame())
        if i % 200 == 199:
            W.sync()
    W.sync()


@case("memory: RSS after 10,000 more attack frames grows by less than 4 MiB")
def _():
    flood(10000)           # warm up: fill the bounded tables
    before = rss_kib()
    t0 = time.monotonic()
    flood(10000)
    after = rss_kib()
    check(after - before < 4096, "RSS %d -> %d KiB" % (before, after))
    print("   memory: RSS %d -> %d KiB over 10,000 frames in %.1f s" %
          (before, after, time.monotonic() - t0), flush=True)


def main():
    random.seed()
    learn()
    alive()
    failed = []
    for name, fn in CASES:
        if ONLY and not any(o in name for o in ONLY):
            continue
        W.drain()
        try:
            fn()
            W.drain()
            alive()
        except Fail as e:
            failed.append(name)
            print("FAIL: %s: %s" % (name, e), flush=True)
            continue
        except Exception as e:  # a bug in the test: report it as a failure
            failed.append(name)
            print("FAIL: %s: %s: %s" % (name, type(e).__name__, e), flush=True)
            continue
        print("ok: " + name, flush=True)
    if failed:
        print("attacks.py: %d case(s) failed" % len(failed), file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
