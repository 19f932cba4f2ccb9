#!/bin/bash
# ipv6.sh - tapird as an IPv6 host on a TAP, the kernel as peer: ping -6 of
# every size (fragmented both ways) at MTU 1500, 9000 and 65520, the kernel's
# neighbour table, SLAAC from a Router Advertisement sent by the test (the
# address and the default router), and DAD conflicts detected.
set -euo pipefail
TAPIRD=$(realpath "$1")
TAPIR=$(realpath "$2")
HERE=$(dirname "$(realpath "$0")")
. "$HERE/lib.sh"
enter_netns "$@"

MAC=02:00:00:00:00:02
export TAPIR_RUNTIME_DIR="$TMP/run"
mkdir -m 700 "$TAPIR_RUNTIME_DIR"
cat >"$TMP/tapird.conf" <<CONF
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

[control]
name = t6
CONF

wait_ping6() {
	for _ in $(seq 1 20); do
		ping -6 -c 1 -W 1 "$1" >/dev/null 2>&1 && return 0
		kill -0 "$TAPIRD_PID" 2>/dev/null || fail "tapird died"
		sleep 0.5
	done
	fail "$1 never answered ping -6"
}

pings6() {
	for size in 0 56 1452 1453 8000 65000; do
		out=$(ping -6 -c 2 -i 0.2 -W 2 -s "$size" 2001:db8::2 2>&1) ||
			fail "ping -6 -s $size (mtu $1): $out"
		echo "$out" | grep_q "$((size + 8)) bytes from 2001:db8::2" ||
			fail "ping -6 -s $size (mtu $1): no reply of $((size + 8)) bytes: $out"
		pass "ping -6 -s $size at MTU $1"
	done
}

ip tuntap add dev tap0 mode tap
ip addr add 192.0.2.1/24 dev tap0
ip addr add 2001:db8::1/64 dev tap0 nodad
ip link set tap0 up
start_tapird "$TMP/tapird.conf"
wait_ping6 2001:db8::2

ip -6 neigh show 2001:db8::2 dev tap0 | grep_q -i "lladdr $MAC" ||
	fail "IPv6 neighbour table: $(ip -6 neigh show dev tap0)"
pass "the kernel's ip -6 neigh has tapird ($MAC)"

pings6 1500
# fragments out: tapird's replies above 1500 came as fragments
frags=$("$TAPIR" stats t6 2>/dev/null | awk '$1 == "ipv6.frags_tx" {print $2}')
[ -n "$frags" ] && [ "$frags" -gt 0 ] || fail "ipv6.frags_tx is '$frags'"
pass "tapird sent $frags IPv6 fragments"
stop_tapird

for mtu in 9000 65520; do
	ip link set tap0 mtu "$mtu"
	start_tapird "$TMP/tapird.conf" "--netif.mtu=$mtu"
	wait_ping6 2001:db8::2
	pings6 "$mtu"
	stop_tapird
done
ip link set tap0 mtu 1500

# tapir neigh lists both caches; tapir status lists the addresses
start_tapird "$TMP/tapird.conf"
wait_ping6 2001:db8::2
ping -c 1 -W 2 192.0.2.2 >/dev/null || fail "ping 192.0.2.2"
out=$("$TAPIR" neigh t6)
echo "$out" | grep_q "^2001:db8::1 .*REACHABLE\|^2001:db8::1 .*STALE\|^2001:db8::1 .*DELAY" ||
	fail "tapir neigh has no 2001:db8::1: $out"
echo "$out" | grep_q "^192.0.2.1 " || fail "tapir neigh has no 192.0.2.1: $out"
[ "$("$TAPIR" arp t6 --json | jq '[.entries[] | select(.family == 6)] | length')" -ge 1 ] ||
	fail "tapir arp (the alias) has no NDP entry"
pass "tapir neigh shows the ARP and the NDP entries (and tapir arp the same)"
out=$("$TAPIR" status t6 --json)
echo "$out" | jq -e '.ipv6_addresses[] | select(.address == "2001:db8::2" and .state == "preferred"
	and .origin == "static" and .valid_ms == null)' >/dev/null ||
	fail "status: no preferred 2001:db8::2: $out"
echo "$out" | jq -e '.ipv6_addresses[] | select((.address | startswith("fe80::")) and
	.origin == "link-local")' >/dev/null || fail "status: no link-local address: $out"
"$TAPIR" status t6 | grep_q "2001:db8::2/64 static preferred" || fail "status (human)"
pass "tapir status lists the static and the link-local address, preferred"
stop_tapird

# SLAAC: no static address, DAD on; the test sends a Router Advertisement with
# a prefix and tapird makes an address in it and takes the router as default
cat >"$TMP/slaac.conf" <<CONF
[netif]
backend = tap
name = tap0
mac = $MAC

[ipv4]
address = 192.0.2.2/24

[ipv6]
addr_gen_mode = eui64

[control]
name = t6
CONF
KLL=$(ip -6 addr show dev tap0 scope link | awk '/inet6/ {sub("/.*", "", $2); print $2; exit}')
[ -n "$KLL" ] || fail "the kernel has no link-local address on tap0"
start_tapird "$TMP/slaac.conf"
KMAC=$(ip -o link show tap0 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
"$PY" - "$KLL" "$KMAC" <<'PYEOF' || fail "sending the RA"
import sys, time
from scapy.all import conf, sendp, Ether, IPv6, ICMPv6ND_RA, ICMPv6NDOptPrefixInfo, ICMPv6NDOptSrcLLAddr
conf.verb = 0
src = sys.argv[1]
mac = sys.argv[2]
ra = (Ether(src=mac, dst="33:33:00:00:00:01") / IPv6(src=src, dst="ff02::1", hlim=255) /
      ICMPv6ND_RA(routerlifetime=1800) / ICMPv6NDOptSrcLLAddr(lladdr=mac) /
      ICMPv6NDOptPrefixInfo(prefixlen=64, L=1, A=1, validlifetime=3600,
                            preferredlifetime=1800, prefix="2001:db8:5::"))
time.sleep(0.5)
for _ in range(3):
    sendp(ra, iface="tap0")
    time.sleep(0.3)
PYEOF
# EUI-64 of 02:00:00:00:00:02: 0000:00ff:fe00:0002
SL=2001:db8:5::ff:fe00:2
for _ in $(seq 1 20); do
	"$TAPIR" status t6 --json | jq -e --arg a "$SL" \
		'.ipv6_addresses[] | select(.address == $a and .state == "preferred")' >/dev/null && break
	sleep 0.25
done
out=$("$TAPIR" status t6 --json)
echo "$out" | jq -e --arg a "$SL" '.ipv6_addresses[] | select(.address == $a and
	.origin == "slaac" and .state == "preferred" and .valid_ms > 3500000
	and .preferred_ms > 1700000)' >/dev/null || fail "SLAAC: no $SL: $out"
echo "$out" | jq -e --arg r "$KLL" '.ipv6_routers[] | select(.address == $r and .default)' \
	>/dev/null || fail "SLAAC: $KLL is not the default router: $out"
pass "SLAAC: an RA gave $SL (lifetimes from the prefix) and the default router $KLL"
# The address works (on-link by the prefix's L flag)
ip -6 addr add 2001:db8:5::1/64 dev tap0 nodad
wait_ping6 "$SL"
pass "ping -6 of the SLAAC address"
ip -6 addr del 2001:db8:5::1/64 dev tap0
# The default router is used: a reply to an off-link source goes to it
ip -6 addr add 2001:db8:9::1/128 dev lo
ip -6 route add 2001:db8:5::/64 dev tap0
ping -6 -c 2 -W 2 -I 2001:db8:9::1 "$SL" >/dev/null || fail "off-link ping: no reply via the router"
pass "replies to an off-link source go through the default router"
ip -6 route del 2001:db8:5::/64 dev tap0
ip -6 addr del 2001:db8:9::1/128 dev lo
stop_tapird

# DAD: the test answers tapird's DAD probe for 2001:db8::7 (as a node that
# has it would) and tapird must not use it
cat >"$TMP/dad.conf" <<CONF
[netif]
backend = tap
name = tap0
mac = $MAC

[ipv4]
address = 192.0.2.2/24

[ipv6]
address = 2001:db8::7/64, 2001:db8::8/64
slaac = false

[control]
name = t6
CONF
"$PY" - >"$TMP/dad.out" 2>&1 <<'PYEOF' &
from scapy.all import conf, sniff, sendp, Ether, IPv6, ICMPv6ND_NS, ICMPv6ND_NA, ICMPv6NDOptDstLLAddr
conf.verb = 0
def claim(p):
    if ICMPv6ND_NS in p and p[IPv6].src == "::" and p[ICMPv6ND_NS].tgt == "2001:db8::7":
        sendp(Ether(src="02:00:00:00:00:99", dst="33:33:00:00:00:01") /
              IPv6(src="2001:db8::7", dst="ff02::1", hlim=255) /
              ICMPv6ND_NA(tgt="2001:db8::7", R=0, S=0, O=1) /
              ICMPv6NDOptDstLLAddr(lladdr="02:00:00:00:00:99"), iface="tap0")
        print("claimed", flush=True)
        return True
    return False
print("ready", flush=True)
sniff(iface="tap0", stop_filter=claim, timeout=15)
PYEOF
SNIFF=$!
PIDS="$PIDS $SNIFF"
for _ in $(seq 1 40); do grep -q ready "$TMP/dad.out" && break; sleep 0.25; done
sleep 0.5
start_tapird "$TMP/dad.conf"
wait "$SNIFF" || true
grep -q claimed "$TMP/dad.out" || fail "tapird sent no DAD probe for 2001:db8::7: $(cat "$TMP/dad.out")"
for _ in $(seq 1 20); do
	"$TAPIR" status t6 --json | jq -e '.ipv6_addresses[] | select(.address == "2001:db8::8"
		and .state == "preferred")' >/dev/null && break
	sleep 0.25
done
out=$("$TAPIR" status t6 --json)
echo "$out" | jq -e '.ipv6_addresses[] | select(.address == "2001:db8::7" and
	.state == "duplicate")' >/dev/null || fail "DAD: 2001:db8::7 not duplicate: $out"
echo "$out" | jq -e '.ipv6_addresses[] | select(.address == "2001:db8::8" and
	.state == "preferred")' >/dev/null || fail "DAD: 2001:db8::8 not preferred: $out"
ping -6 -c 1 -W 1 2001:db8::7 >/dev/null 2>&1 && fail "the duplicate 2001:db8::7 answers ping"
ping -6 -c 1 -W 2 2001:db8::8 >/dev/null || fail "2001:db8::8 does not answer ping"
[ "$("$TAPIR" stats t6 --json | jq '.ndp.dad_conflicts')" -ge 1 ] || fail "ndp.dad_conflicts is 0"
grep -q "duplicate address 2001:db8::7" "$TAPIRD_LOG" || fail "no log line about the duplicate"
pass "DAD: a claimed address is duplicate and unused (logged, counted); the other one is used"
stop_tapird
echo "ipv6: all passed"
