#!/bin/bash
# foundation.sh - tapird on a TAP in a private namespace, the kernel as peer:
# ARP, ping of every size, UDP echo, ICMP port unreachable, bad checksums,
# and big frames with MTU 9000 and 65520.
set -euo pipefail
TAPIRD=$(realpath "$1")
HERE=$(dirname "$(realpath "$0")")
. "$HERE/lib.sh"
enter_netns "$@"

MAC=02:00:00:00:00:02
cat >"$TMP/tapird.conf" <<CONF
[netif]
backend = tap
name = tap0
mac = $MAC
mtu = 1500

[ipv4]
address = 192.0.2.2/24
gateway = 192.0.2.1

[app.echo]
port = 7
CONF

pings() {
	for size in 56 1472 1473 8000 65507; do
		out=$(ping -c 2 -i 0.2 -W 2 -s "$size" 192.0.2.2 2>&1) ||
			fail "ping -s $size (mtu $1): $out"
		echo "$out" | grep_q "$((size + 8)) bytes from 192.0.2.2" ||
			fail "ping -s $size (mtu $1): no reply of $((size + 8)) bytes: $out"
		pass "ping -s $size at MTU $1"
	done
}

udp_echo() {
	for size in 1 1472 8000; do
		head -c "$size" /dev/urandom >"$TMP/in"
		socat -b 65536 -T 3 - UDP:192.0.2.2:7 <"$TMP/in" >"$TMP/out" ||
			fail "socat udp echo $size"
		cmp -s "$TMP/in" "$TMP/out" || fail "UDP echo of $size bytes differs" \
			"($(stat -c %s "$TMP/out") bytes back)"
		pass "UDP echo $size bytes at MTU $1"
	done
}

make_tap tap0 192.0.2.1/24
start_tapird "$TMP/tapird.conf"
wait_ping 192.0.2.2

# The kernel learnt tapird's MAC through ARP.
ip neigh show 192.0.2.2 dev tap0 | grep_q -i "lladdr $MAC" ||
	fail "neighbour table: $(ip neigh show dev tap0)"
pass "kernel neighbour table has $MAC"

pings 1500
udp_echo 1500

# Record Route comes back with tapird's address in it (RFC 1122 3.2.2.6).
out=$(ping -R -c 1 -W 2 -s 3000 192.0.2.2 2>&1) || fail "ping -R: $out"
echo "$out" | sed -n '/^RR:/,/^$/p' | grep_q "192.0.2.2" || fail "ping -R: no 192.0.2.2 in: $out"
pass "ping -R shows 192.0.2.2 in the recorded route"

# UDP to a closed port: the kernel socket sees ECONNREFUSED (ICMP port unreachable).
$PY - <<'PYEOF' || fail "closed UDP port was not refused"
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
s.connect(("192.0.2.2", 9999))
s.send(b"anyone?")
try:
    s.recv(100)
except ConnectionRefusedError:
    sys.exit(0)
except socket.timeout:
    print("timeout: no ICMP port unreachable", file=sys.stderr)
sys.exit(1)
PYEOF
pass "UDP to a closed port gives ECONNREFUSED"

# Crafted frames: a good echo request is answered, one with a bad IPv4
# header checksum is not (and neither is a bad ICMP checksum).
$PY - "$MAC" "$(ip -br link show tap0 | awk '{print $3}')" <<'PYEOF' || fail "crafted frames"
import sys, logging
logging.getLogger("scapy.runtime").setLevel(logging.ERROR)
from scapy.all import Ether, IP, ICMP, srp1, conf
conf.verb = 0
mac = sys.argv[1]
src = sys.argv[2]
def probe(ip_kw, icmp_kw, ident):
    p = Ether(src=src, dst=mac) / IP(src="192.0.2.1", dst="192.0.2.2", **ip_kw) / \
        ICMP(id=ident, seq=1, **icmp_kw) / b"tapir-crafted"
    return srp1(p, iface="tap0", timeout=2)
good = probe({}, {}, 0x4242)
if good is None or not good.haslayer(ICMP) or good[ICMP].type != 0:
    print("good echo request got no reply", file=sys.stderr); sys.exit(1)
if probe({"chksum": 0x1234}, {}, 0x4343) is not None:
    print("bad IP checksum was answered", file=sys.stderr); sys.exit(1)
if probe({}, {"chksum": 0x1234}, 0x4444) is not None:
    print("bad ICMP checksum was answered", file=sys.stderr); sys.exit(1)
if probe({"ihl": 4}, {}, 0x4545) is not None:
    print("IHL 4 was answered", file=sys.stderr); sys.exit(1)
PYEOF
pass "bad IPv4 checksum, bad ICMP checksum and IHL 4 get no answer; a good one does"

stop_tapird
pass "tapird stops cleanly on SIGTERM"

# Big frames: the same pings and echoes with the TAP's MTU at 9000 and 65520.
for mtu in 9000 65520; do
	ip link set tap0 mtu "$mtu"
	start_tapird "$TMP/tapird.conf" "--netif.mtu=$mtu"
	wait_ping 192.0.2.2
	pings "$mtu"
	udp_echo "$mtu"
	stop_tapird
done
echo "foundation: all passed"
