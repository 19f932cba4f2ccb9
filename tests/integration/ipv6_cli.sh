#!/bin/bash
# ipv6_cli.sh - the operator's tools over IPv6, tapird on a TAP with the kernel
# as peer (2001:db8::1) and as the router to a second namespace R
# (2001:db8:1::2, behind a veth of MTU 1280): tapir ping of every size to
# 2001:db8::1 (fragmented both ways), tapir traceroute to the kernel (one hop,
# Port Unreachable) and through it to R (Time Exceeded, then Port
# Unreachable), tapir route (the static router, the on-link prefix, the path
# MTU a Packet Too Big from the kernel set, and pings that fit it after),
# tapir reasm (a lone IPv6 fragment from the test, scapy), tapir stats (the
# IPv6, ICMPv6, NDP and reassembly counters) and tapir top (the NDP column).
# Then RFC 7217's secret: made at the first start in the state directory
# (0600), the link-local and SLAAC addresses the same after a restart with
# another (random) MAC, new ones without the file, [ipv6] stable_secret used
# instead of it.  tapir route shows the RA's router and prefix with their
# lifetimes.
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
gateway = 2001:db8::1
dad = false

[control]
name = t6
CONF

# The kernel: tap0 towards tapird, a veth (MTU 1280) towards R, forwarding
ip tuntap add dev tap0 mode tap
ip addr add 192.0.2.1/24 dev tap0
ip addr add 2001:db8::1/64 dev tap0 nodad
ip link set tap0 up
sysctl -qw net.ipv6.conf.all.forwarding=1
sysctl -qw net.ipv6.icmp.ratelimit=0
unshare -n sleep 600 &
RPID=$!
PIDS="$PIDS $RPID"
sleep 0.2
ip link add v0 type veth peer name v1
ip link set v1 netns "$RPID"
ip link set v0 mtu 1280 up
ip addr add 2001:db8:1::1/64 dev v0 nodad
R() { nsenter -t "$RPID" -n "$@"; }
R ip link set lo up
R ip link set v1 mtu 1280 up
R ip addr add 2001:db8:1::2/64 dev v1 nodad
R ip -6 route add default via 2001:db8:1::1
R sysctl -qw net.ipv6.icmp.ratelimit=0

start_tapird "$TMP/tapird.conf"
for _ in $(seq 1 20); do
	ping -6 -c 1 -W 1 2001:db8::2 >/dev/null 2>&1 && break
	kill -0 "$TAPIRD_PID" 2>/dev/null || fail "tapird died"
	sleep 0.5
done

# ---- ping: every size, replies matched (fragmented both ways above 1452)
for size in 0 56 1452 1453 8000 65000 65519; do
	out=$("$TAPIR" ping t6 2001:db8::1 -c 2 -s "$size") || fail "tapir ping -s $size: $out"
	[ "$(echo "$out" | grep -c "^$((size + 8)) bytes from 2001:db8::1: seq=")" = 2 ] ||
		fail "tapir ping -s $size: not two replies of $((size + 8)) bytes: $out"
	echo "$out" | grep -q "^2 sent, 2 received" || fail "tapir ping -s $size: $out"
done
pass "tapir ping 2001:db8::1 of 0, 56, 1452, 1453, 8000, 65000 and 65519 bytes"
out=$("$TAPIR" ping t6 2001:db8::1 -c 1 -s 65520 2>&1) && fail "ping -s 65520 worked: $out"
echo "$out" | grep -q "EINVAL" || fail "ping -s 65520: $out"
out=$("$TAPIR" ping t6 2001:db8::99 -c 1 -w 1500 2>&1) && fail "ping of nobody worked: $out"
echo "$out" | grep -q "^seq=1 timeout" || fail "ping of nobody: $out"
pass "tapir ping: 65520 bytes refused, a silent address times out (exit 2)"
"$TAPIR" --json ping t6 2001:db8::1 -c 3 | jq -e '.family == 6 and .received == 3 and
	([.replies[] | select(.from == "2001:db8::1" and .rtt_us >= 0)] | length) == 3' \
	>/dev/null || fail "tapir --json ping"
st=$("$TAPIR" --json stats t6)
for k in .ipv6.frags_tx .reasm6.completed .icmpv6.echo_replies_rx; do
	[ "$(echo "$st" | jq "$k")" -gt 0 ] || fail "stats $k is $(echo "$st" | jq "$k")"
done
pass "tapir --json ping; the big pings went out as fragments and came back reassembled"

# ---- traceroute: the kernel itself, then through it to R
out=$("$TAPIR" traceroute t6 2001:db8::1) || fail "traceroute 2001:db8::1: $out"
[ "$(echo "$out" | wc -l)" = 1 ] && echo "$out" | grep -q "^ 1  2001:db8::1  " ||
	fail "traceroute 2001:db8::1: $out"
out=$("$TAPIR" traceroute t6 2001:db8:1::2 -m 8) || fail "traceroute 2001:db8:1::2: $out"
echo "$out" | grep -q "^ 1  2001:db8::1  " && echo "$out" | grep -q "^ 2  2001:db8:1::2  " &&
	[ "$(echo "$out" | wc -l)" = 2 ] || fail "traceroute 2001:db8:1::2: $out"
"$TAPIR" --json traceroute t6 2001:db8:1::2 | jq -e '.reached and .family == 6 and
	.hops[0].icmp_type == 3 and .hops[0].icmp_code == 0 and
	.hops[1].icmp_type == 1 and .hops[1].icmp_code == 4 and .hops[1].reached' >/dev/null ||
	fail "tapir --json traceroute: $("$TAPIR" --json traceroute t6 2001:db8:1::2)"
out=$("$TAPIR" traceroute t6 2001:db8:2::1 -m 2 -w 1000 2>&1) && fail "traceroute to nowhere: $out"
[ "$out" = "$(printf ' 1  2001:db8::1  %s ms !N' "$(echo "$out" | awk '{print $3}')")" ] ||
	fail "traceroute to nowhere (the kernel has no route: !N, exit 2): $out"
pass "tapir traceroute: one hop to the kernel, two to R (Time Exceeded, Port Unreachable), !N without a route"

# ---- route: the router, the prefix; a Packet Too Big sets a path MTU
"$TAPIR" ping t6 2001:db8:1::2 -c 1 -s 1400 -w 1000 >/dev/null 2>&1 || true
out=$("$TAPIR" ping t6 2001:db8:1::2 -c 2 -s 1400) || fail "ping through the 1280 link: $out"
r=$("$TAPIR" --json route t6)
echo "$r" | jq -e '.ipv6.mtu == 1500 and
	(.ipv6.routers[] | select(.address == "2001:db8::1" and .origin == "static" and .default
		and .expires_ms == null)) and
	(.ipv6.prefixes[] | select(.prefix == "2001:db8::/64" and .origin == "static")) and
	(.ipv6.pmtu[] | select(.dst == "2001:db8:1::2" and .mtu == 1280 and .expires_ms > 0))' \
	>/dev/null || fail "tapir --json route: $r"
out=$("$TAPIR" route t6)
for l in "default via 2001:db8::1 proto static (in use)" "2001:db8::/64 on-link proto static" \
	"ipv6 mtu 1500" "2001:db8:1::2 pmtu 1280 expires"; do
	echo "$out" | grep -qF "$l" || fail "tapir route has no '$l': $out"
done
pass "tapir route: the static router, the on-link prefix, the path MTU from a Packet Too Big"

# ---- reasm: a lone first fragment waits in the IPv6 queue
KMAC=$(ip -o link show tap0 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
"$PY" - "$KMAC" "$MAC" <<'PYEOF' || fail "sending the fragment"
import sys
from scapy.all import conf, sendp, Ether, IPv6, IPv6ExtHdrFragment, ICMPv6EchoRequest, Raw
conf.verb = 0
f = (Ether(src=sys.argv[1], dst=sys.argv[2]) / IPv6(src="2001:db8::1", dst="2001:db8::2") /
     IPv6ExtHdrFragment(id=0xabcdef, m=1, offset=0, nh=58) /
     Raw(bytes(ICMPv6EchoRequest(id=1, seq=1)) + b"x" * 1000))
sendp(f, iface="tap0")
PYEOF
for _ in $(seq 1 20); do
	"$TAPIR" --json reasm t6 | jq -e '.datagrams | length > 0' >/dev/null && break
	sleep 0.1
done
"$TAPIR" --json reasm t6 | jq -e '.datagrams[] | select(.family == 6 and .src == "2001:db8::1"
	and .dst == "2001:db8::2" and .id == 11259375 and .bytes_held == 1008 and .proto == null
	and .expires_ms > 50000)' >/dev/null || fail "tapir reasm: $("$TAPIR" --json reasm t6)"
"$TAPIR" reasm t6 | grep -q "^2001:db8::1  *2001:db8::2  *11259375  *-  *1008 " ||
	fail "tapir reasm (table): $("$TAPIR" reasm t6)"
pass "tapir reasm lists the IPv6 datagram being reassembled"

# ---- stats and top
st=$("$TAPIR" stats t6)
for k in ipv6.rx ipv6.drop.ext_hdr reasm6.frags_in reasm6.drop.overlap icmpv6.rx \
	icmpv6.echo_replies_rx icmpv6.errors_rx ndp.ns_sent ndp.learned ndp.drop.hop_limit; do
	echo "$st" | grep -q "^$k  *[0-9]" || fail "tapir stats has no $k"
done
pass "tapir stats: the IPv6, reassembly, ICMPv6 and NDP counters"
out=$(TERM=dumb "$TAPIR" top t6 --once --interval 0.2) || fail "tapir top: $out"
echo "$out" | grep -Eq "^tables: arp [0-9]+ \([0-9]+ pending\)  ndp [1-9][0-9]* \([0-9]+ incomplete, [0-9.]+k? ns/s\)$" ||
	fail "tapir top has no NDP column: $out"
echo "$out" | grep -Eq "^ +reasm 1 dgrams 1.0[0-9]kB  tcp flows 0$" || fail "tapir top: reasm: $out"
pass "tapir top: the NDP column next to ARP's"
stop_tapird

# ---- RFC 7217: the secret kept in the state directory survives restarts
cat >"$TMP/sp.conf" <<CONF
[netif]
backend = tap
name = tap0

[ipv4]
address = 192.0.2.2/24

[ipv6]
dad = false

[control]
name = t6
CONF
SECRET=$TAPIR_STATE_DIR/t6.ipv6-secret
KLL=$(ip -6 addr show dev tap0 scope link | awk '/inet6/ {sub("/.*", "", $2); print $2; exit}')
KMAC=$(ip -o link show tap0 | sed -n 's/.*link\/ether \([0-9a-f:]*\).*/\1/p')
# up CONF: start tapird, send an RA for 2001:db8:5::/64, print "MAC LINKLOCAL SLAAC"
up() {
	start_tapird "$1"
	for _ in $(seq 1 40); do
		"$TAPIR" status t6 >/dev/null 2>&1 && break
		kill -0 "$TAPIRD_PID" 2>/dev/null || fail "tapird died"
		sleep 0.1
	done
	"$PY" - "$KLL" "$KMAC" <<'PYEOF' || fail "sending the RA"
import sys, time
from scapy.all import conf, sendp, Ether, IPv6, ICMPv6ND_RA, ICMPv6NDOptPrefixInfo, ICMPv6NDOptSrcLLAddr
conf.verb = 0
ra = (Ether(src=sys.argv[2], dst="33:33:00:00:00:01") / IPv6(src=sys.argv[1], dst="ff02::1", hlim=255) /
      ICMPv6ND_RA(routerlifetime=1800) / ICMPv6NDOptSrcLLAddr(lladdr=sys.argv[2]) /
      ICMPv6NDOptPrefixInfo(prefixlen=64, L=1, A=1, validlifetime=3600,
                            preferredlifetime=1800, prefix="2001:db8:5::"))
for _ in range(3):
    sendp(ra, iface="tap0")
    time.sleep(0.2)
PYEOF
	for _ in $(seq 1 30); do
		"$TAPIR" --json status t6 | jq -e '.ipv6_addresses[] | select(.origin == "slaac")' \
			>/dev/null && break
		sleep 0.1
	done
	r=$("$TAPIR" route t6)
	echo "$r" | grep -q "^default via $KLL proto ra expires 1[78][0-9][0-9]s (in use)$" &&
		echo "$r" | grep -q "^2001:db8:5::/64 on-link proto ra expires 3[56][0-9][0-9]s$" ||
		fail "tapir route after the RA: $r"
	"$TAPIR" --json status t6 | jq -r '[.mac,
		(.ipv6_addresses[] | select(.origin == "link-local") | .address),
		(.ipv6_addresses[] | select(.origin == "slaac") | .address)] | join(" ")'
	stop_tapird
}
[ -f "$SECRET" ] || fail "the instances above made no $SECRET"
rm "$SECRET"
read -r mac1 ll1 sl1 <<<"$(up "$TMP/sp.conf")"
[ -n "$sl1" ] && [ "${sl1#2001:db8:5:0:}" != "$sl1" ] || fail "no SLAAC address: '$mac1 $ll1 $sl1'"
[ -f "$SECRET" ] || fail "no $SECRET after the first start"
[ "$(stat -c %a "$SECRET")" = 600 ] || fail "$SECRET has mode $(stat -c %a "$SECRET")"
grep -Eqx '[0-9a-f]{32}' "$SECRET" || fail "$SECRET: $(cat "$SECRET")"
secret=$(cat "$SECRET")
read -r mac2 ll2 sl2 <<<"$(up "$TMP/sp.conf")"
[ "$mac1" != "$mac2" ] || fail "the MAC was not random: $mac1 twice"
[ "$ll1" = "$ll2" ] && [ "$sl1" = "$sl2" ] ||
	fail "addresses changed across a restart: $ll1 $sl1 -> $ll2 $sl2 (MAC $mac1 -> $mac2)"
[ "$(cat "$SECRET")" = "$secret" ] || fail "the secret file changed"
pass "RFC 7217: $ll1 and $sl1 survive a restart with another MAC (secret kept in $SECRET, 0600)"
rm "$SECRET"
read -r _ ll3 sl3 <<<"$(up "$TMP/sp.conf")"
[ "$ll3" != "$ll1" ] && [ "$sl3" != "$sl1" ] || fail "a new secret gave the same addresses"
[ "$(cat "$SECRET")" != "$secret" ] || fail "no new secret"
rm "$SECRET"
printf '\n[ipv6]\nstable_secret = 00112233445566778899AABBCCDDEEFF\n' >>"$TMP/sp.conf"
read -r _ ll4 sl4 <<<"$(up "$TMP/sp.conf")"
read -r _ ll5 sl5 <<<"$(up "$TMP/sp.conf")"
[ ! -e "$SECRET" ] || fail "[ipv6] stable_secret given, yet $SECRET was made"
[ "$ll4" = "$ll5" ] && [ "$sl4" = "$sl5" ] && [ "$ll4" != "$ll3" ] ||
	fail "stable_secret: $ll3 / $ll4 / $ll5, $sl4 / $sl5"
echo 'not a secret' >"$SECRET"
sed -i '/stable_secret/d' "$TMP/sp.conf"
start_tapird "$TMP/sp.conf"
rc=0
wait "$TAPIRD_PID" || rc=$?
[ "$rc" != 0 ] && grep -q "does not hold a secret" "$TAPIRD_LOG" ||
	fail "a bad secret file: tapird exited $rc: $(cat "$TAPIRD_LOG")"
pass "RFC 7217: a new secret without the file, [ipv6] stable_secret instead of it, a bad file refused"
