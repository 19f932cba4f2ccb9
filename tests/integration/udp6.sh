#!/bin/bash
# udp6.sh - UDP over IPv6 against tapird on a TAP, the kernel as peer: echo of
# 1, 1452 and 8000 bytes (8000 fragmented both ways at MTU 1500), ICMPv6 port
# unreachable for a closed port (ECONNREFUSED on a connected socket), the
# `tapir udp` listing with [v6]:port, and the resolver through dnsmasq reached
# over IPv6: as [dns] servers = 2001:db8::1, and as RDNSS from a Router
# Advertisement the test sends (scapy).
#
# Runs as real root (CI): `unshare -n`, so dnsmasq can bind port 53 and keep
# its user.
set -euo pipefail
TAPIRD=$(realpath "$1")
TAPIR=$(realpath "$2")
HERE=$(dirname "$(realpath "$0")")
if [ -z "${TAPIR_IN_NETNS:-}" ]; then
	[ "$(id -u)" = 0 ] || { echo "udp6.sh needs root (CI runs as root)" >&2; exit 1; }
	export TAPIR_OUTER_NETNS
	TAPIR_OUTER_NETNS=$(readlink /proc/self/ns/net)
	TAPIR_IN_NETNS=1 exec unshare -n "$0" "$@"
fi
. "$HERE/lib.sh"
netns_check
ip link set lo up
export TAPIR_RUNTIME_DIR="$TMP/run"
mkdir -m 700 "$TAPIR_RUNTIME_DIR"

MAC=02:00:00:00:00:02
make_tap tap0 192.0.2.1/24
ip addr add 2001:db8::1/64 dev tap0 nodad

dnsmasq --no-daemon --conf-file=/dev/null --no-resolv --no-hosts --bind-interfaces \
	--listen-address=2001:db8::1 --port=53 --user=root --group=root --log-queries \
	--local=/example.test/ --local-ttl=60 \
	--host-record=www.example.test,192.0.2.80,2001:db8::80 \
	--host-record=v6only.example.test,2001:db8::81 >"$TMP/dnsmasq.log" 2>&1 &
PIDS="$PIDS $!"

conf() {   # conf FILE [DNS-SECTION-LINES]
	cat >"$1" <<CONF
[netif]
backend = tap
name = tap0
mac = $MAC
mtu = 1500

[ipv4]
address = 192.0.2.2/24

[ipv6]
address = 2001:db8::2/64
dad = false

[app.echo]
port = 7

$2

[control]
name = u6
CONF
}

wait_ping6() {
	for _ in $(seq 1 20); do
		ping -6 -c 1 -W 1 "$1" >/dev/null 2>&1 && return 0
		kill -0 "$TAPIRD_PID" 2>/dev/null || fail "tapird died"
		sleep 0.5
	done
	fail "$1 never answered ping -6"
}

json() { "$TAPIR" --json "$@"; }
ctr() { json stats u6 | jq -r ".$1"; }

conf "$TMP/static.conf" "[dns]
servers = 2001:db8::1
timeout = 800ms"
start_tapird "$TMP/static.conf"
wait_ping6 2001:db8::2

# ---- echo ----
frags0=$(ctr 'ipv6.frags_tx')
reasm0=$(ctr 'reasm6.completed')
for size in 1 1452 8000; do
	head -c "$size" /dev/urandom >"$TMP/in"
	socat -b 65536 -T 3 - 'UDP6:[2001:db8::2]:7' <"$TMP/in" >"$TMP/out" ||
		fail "socat udp6 echo $size"
	cmp -s "$TMP/in" "$TMP/out" || fail "UDP echo over IPv6 of $size bytes differs" \
		"($(stat -c %s "$TMP/out" 2>/dev/null || echo 0) bytes back)"
	pass "UDP echo over IPv6, $size bytes"
done
# 8000 bytes at MTU 1500: 6 fragments each way
frags=$(( $(ctr 'ipv6.frags_tx') - frags0 ))
reasm=$(( $(ctr 'reasm6.completed') - reasm0 ))
[ "$frags" -ge 6 ] || fail "tapird sent $frags IPv6 fragments for the 8000-byte echo"
[ "$reasm" -ge 1 ] || fail "tapird reassembled $reasm datagrams"
pass "the 8000-byte datagram came in fragments ($reasm reassembled) and went out in $frags"
[ "$(ctr 'udp["drop.checksum"]')" = 0 ] || fail "checksum drops: $(json stats u6 | jq -c .udp)"

# ---- a closed port: ICMPv6 port unreachable, ECONNREFUSED on a connected socket ----
nl0=$(ctr 'udp["drop.no_listener"]')
err0=$(ctr 'icmpv6.errors_sent')
"$PY" - <<'PYEOF' || fail "no ECONNREFUSED from a closed UDP port over IPv6"
import socket, sys, errno
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.settimeout(3)
s.connect(("2001:db8::2", 9))
s.send(b"anyone?")
try:
    s.recv(100)
except ConnectionRefusedError:
    sys.exit(0)
except socket.timeout:
    print("timed out: no port unreachable", file=sys.stderr)
sys.exit(1)
PYEOF
[ "$(ctr 'udp["drop.no_listener"]')" -gt "$nl0" ] || fail "udp.drop.no_listener not counted"
[ "$(ctr 'icmpv6.errors_sent')" -gt "$err0" ] || fail "icmpv6.errors_sent not counted"
pass "a closed port over IPv6: ICMPv6 port unreachable, the kernel's socket got ECONNREFUSED"

# ---- tapir udp ----
out=$("$TAPIR" udp u6)
echo "$out" | grep_q -x '\[2001:db8::2\]:7' || fail "tapir udp has no [2001:db8::2]:7: $out"
echo "$out" | grep_q -x '192.0.2.2:7' || fail "tapir udp has no 192.0.2.2:7: $out"
json udp u6 | jq -e '.listeners[] | select(.endpoint == "[2001:db8::2]:7" and
	.local == "2001:db8::2" and .port == 7 and .family == "inet6")' >/dev/null ||
	fail "tapir udp --json: $(json udp u6)"
pass "tapir udp lists [2001:db8::2]:7 next to 192.0.2.2:7 (human and JSON)"

# ---- the resolver over IPv6: [dns] servers = 2001:db8::1 ----
for _ in $(seq 1 20); do
	ss -lnu 2>/dev/null | grep_q '\[2001:db8::1\]:53' && break
	sleep 0.2
done
out=$("$TAPIR" resolve u6 www.example.test) || fail "resolve over IPv6 exited $?: $out"
echo "$out" | grep_q '^192.0.2.80' || fail "no A in: $out"
echo "$out" | grep_q '^2001:db8::80' || fail "no AAAA in: $out"
grep -q 'query\[AAAA\] www.example.test from 2001:db8::2' "$TMP/dnsmasq.log" ||
	fail "dnsmasq did not get the query from 2001:db8::2: $(tail -5 "$TMP/dnsmasq.log")"
pass "tapir resolve through dnsmasq at 2001:db8::1 ([dns] servers): $(echo "$out" | tr '\n' ' ')"
stop_tapird

# ---- RDNSS: no [dns] servers, the RA names 2001:db8::1 ----
conf "$TMP/rdnss.conf" "[dns]
timeout = 800ms"
start_tapird "$TMP/rdnss.conf"
wait_ping6 2001:db8::2
rc=0
"$TAPIR" resolve u6 v6only.example.test >"$TMP/out" 2>"$TMP/err" || rc=$?
[ "$rc" != 0 ] || fail "resolved without any server: $(cat "$TMP/out")"
KLL=$(ip -6 addr show dev tap0 scope link | awk '/inet6/ {sub("/.*", "", $2); print $2; exit}')
[ -n "$KLL" ] || fail "the kernel has no link-local address on tap0"
KMAC=$(ip -o link show tap0 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
"$PY" - "$KLL" "$KMAC" <<'PYEOF' || fail "sending the RA"
import sys, time
from scapy.all import conf, sendp, Ether, IPv6, ICMPv6ND_RA, ICMPv6NDOptSrcLLAddr, ICMPv6NDOptRDNSS
conf.verb = 0
src, mac = sys.argv[1], sys.argv[2]
ra = (Ether(src=mac, dst="33:33:00:00:00:01") / IPv6(src=src, dst="ff02::1", hlim=255) /
      ICMPv6ND_RA(routerlifetime=0) / ICMPv6NDOptSrcLLAddr(lladdr=mac) /
      ICMPv6NDOptRDNSS(lifetime=600, dns=["2001:db8::1"]))
for _ in range(2):
    sendp(ra, iface="tap0")
    time.sleep(0.2)
PYEOF
for _ in $(seq 1 20); do
	[ "$(ctr 'ndp.ra_accepted')" -ge 1 ] && break
	sleep 0.2
done
out=$("$TAPIR" resolve u6 v6only.example.test -6) || fail "resolve with RDNSS exited $?: $out"
echo "$out" | grep_q '^2001:db8::81' || fail "no AAAA through RDNSS in: $out"
grep -q 'query\[AAAA\] v6only.example.test from 2001:db8::2' "$TMP/dnsmasq.log" ||
	fail "dnsmasq did not get the RDNSS query: $(tail -5 "$TMP/dnsmasq.log")"
pass "tapir resolve through RDNSS from a Router Advertisement: $out"
stop_tapird
