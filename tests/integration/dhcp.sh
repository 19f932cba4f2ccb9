#!/bin/bash
# dhcp.sh - tapird's DHCP client against a real dnsmasq (dnsmasq-base) run
# as the DHCP server on the kernel side of the TAP, in the test's own
# namespace: a lease is obtained (address, prefix, router, MTU, domain and
# search list) and shown by `tapir status`, the address answers ping, `tapir
# dhcp NAME renew` renews it, a clean stop releases it (gone from dnsmasq's
# lease file), a restart asks for the remembered address (INIT-REBOOT from
# [dhcp] lease_file), and an offered address that another host answers for
# (the kernel claims it) is probed (RFC 5227), declined (DHCPDECLINE in
# dnsmasq's log) and replaced by another.  The timer cases (T1/T2, NAK,
# expiry, no answer) are dhcp_timers.sh's, against a scapy server.
set -euo pipefail
TAPIRD=$(realpath "$1")
TAPIR=$(realpath "$2")
HERE=$(dirname "$(realpath "$0")")
. "$HERE/lib.sh"
enter_netns "$@"
export TAPIR_RUNTIME_DIR="$TMP/run"

DNSMASQ=$(command -v dnsmasq || echo /usr/sbin/dnsmasq)
[ -x "$DNSMASQ" ] || fail "dnsmasq not installed (tools/deps --test: dnsmasq-base)"
make_tap tap0 192.0.2.1/24
MAC=02:00:00:00:d4:01
LEASES="$TMP/dnsmasq.leases"
: >"$LEASES"
"$DNSMASQ" --no-daemon --conf-file=/dev/null --port=53 --no-resolv --no-hosts \
	--host-record=www.example.com,192.0.2.77 --user=root --group=root \
	--interface=tap0 --bind-interfaces --except-interface=lo --no-ping \
	--dhcp-range=192.0.2.50,192.0.2.59,255.255.255.0,2m --dhcp-leasefile="$LEASES" \
	--pid-file= --dhcp-authoritative \
	--dhcp-option=option:router,192.0.2.1 --dhcp-option=option:dns-server,192.0.2.1 \
	--dhcp-option=option:domain-name,example.org \
	--dhcp-option=option:domain-search,example.com,lab.example.net \
	--dhcp-option=option:mtu,1400 \
	--log-dhcp --log-facility="$TMP/dnsmasq.log" &
PIDS="$PIDS $!"
sleep 0.5
kill -0 "$!" 2>/dev/null || { cat "$TMP/dnsmasq.log" >&2 || true; fail "dnsmasq did not start"; }

cat >"$TMP/d.conf" <<CONF
[netif]
name = tap0
mac = $MAC
[ipv4]
address = dhcp
[dhcp]
lease_file = $TMP/tapird.lease
hostname = tapir-test
[app.echo]
port = 7
[control]
name = d
CONF

st() { "$TAPIR" --json status d; }
# wait_bound [NOT_ADDR]: until status shows an address (other than NOT_ADDR)
wait_bound() {
	for _ in $(seq 1 120); do
		a=$(st 2>/dev/null | jq -r '.address // empty' || true)
		if [ -n "$a" ] && [ "$a" != "${1:-}" ]; then
			echo "$a"
			return 0
		fi
		kill -0 "$TAPIRD_PID" 2>/dev/null || fail "tapird died"
		sleep 0.25
	done
	fail "no lease after 30 s: $(st | jq -c .dhcp)"
}

start_tapird "$TMP/d.conf"
A=$(wait_bound)
S=$(st)
case "$A" in 192.0.2.5[0-9]) ;; *) fail "address $A is not from dnsmasq's range" ;; esac
[ "$(jq -r .prefix_len <<<"$S")" = 24 ] || fail "prefix: $(jq .prefix_len <<<"$S")"
[ "$(jq -r .gateway <<<"$S")" = 192.0.2.1 ] || fail "gateway: $(jq .gateway <<<"$S")"
[ "$(jq -r .mtu <<<"$S")" = 1400 ] || fail "MTU option not applied: $(jq .mtu <<<"$S")"
D=$(jq .dhcp <<<"$S")
[ "$(jq -r .state <<<"$D")" = BOUND ] || fail "state $(jq .state <<<"$D")"
[ "$(jq -r .server <<<"$D")" = 192.0.2.1 ] || fail "server $(jq .server <<<"$D")"
[ "$(jq -r .lease_secs <<<"$D")" = 120 ] || fail "lease $(jq .lease_secs <<<"$D")"
[ "$(jq -r '.dns[0]' <<<"$D")" = 192.0.2.1 ] || fail "dns $(jq .dns <<<"$D")"
[ "$(jq -r .domain <<<"$D")" = example.org ] || fail "domain $(jq .domain <<<"$D")"
[ "$(jq -c .search <<<"$D")" = '["example.com","lab.example.net"]' ] ||
	fail "search list (option 119, compressed by dnsmasq): $(jq -c .search <<<"$D")"
o=$(jq .obtained <<<"$D"); t1=$(jq .t1 <<<"$D"); t2=$(jq .t2 <<<"$D"); e=$(jq .expiry <<<"$D")
[ $((t1 - o)) -ge 59 ] && [ $((t1 - o)) -le 61 ] || fail "T1 $t1 not obtained+60 ($o)"
[ $((t2 - o)) -ge 104 ] && [ $((t2 - o)) -le 106 ] || fail "T2 $t2 not obtained+105 ($o)"
[ $((e - o)) -ge 119 ] && [ $((e - o)) -le 121 ] || fail "expiry $e not obtained+120 ($o)"
grep -q "$A" "$LEASES" || fail "$A not in dnsmasq's lease file"
grep -q "tapir-test" "$LEASES" || fail "host name (option 12) not in dnsmasq's lease file"
grep -q "^addr=$A$" "$TMP/tapird.lease" || fail "lease file: $(cat "$TMP/tapird.lease")"
"$TAPIR" status d | grep_q "dhcp:.*BOUND" || fail "tapir status shows no dhcp state"
wait_ping "$A"
echo hi | timeout 5 socat - "TCP:$A:7" | grep_q hi || fail "TCP echo on the leased address"
pass "lease $A from dnsmasq: prefix, router, MTU 1400, DNS, domain, search list, T1/T2"

# The resolver takes its servers and search list from the lease ([dns] gives none):
# "www" has no dot, so the first search domain (example.com) is tried first.
R=$("$TAPIR" resolve d www -4 2>&1) || fail "tapir resolve d www: $R"
grep -qx "192.0.2.77" <<<"$R" || grep_q "192.0.2.77" <<<"$R" || fail "resolve www via the lease's DNS: $R"
"$TAPIR" --json stats d | jq -e '.dns.queries_sent >= 1' >/dev/null ||
	fail "no DNS query counted: $("$TAPIR" --json stats d | jq -c .dns)"
pass "the resolver asks the lease's DNS server with the lease's search list (www -> www.example.com)"

# Renew on demand: a REQUEST from the bound address, a new ACK
sleep 1.2
"$TAPIR" dhcp d renew >/dev/null || fail "tapir dhcp renew"
for _ in $(seq 1 40); do
	o2=$(st | jq .dhcp.obtained)
	[ "$(st | jq -r .dhcp.state)" = BOUND ] && [ "$o2" -gt "$o" ] && break
	sleep 0.25
done
[ "$o2" -gt "$o" ] || fail "renew: obtained still $o2 (was $o)"
[ "$(st | jq -r .address)" = "$A" ] || fail "renew changed the address"
[ "$(grep -c "DHCPACK(tap0) $A" "$TMP/dnsmasq.log")" -ge 2 ] || fail "dnsmasq did not ACK twice"
"$TAPIR" --json dhcp d | jq -e '.state == "BOUND"' >/dev/null || fail "tapir dhcp d (status)"
pass "renewed: a second ACK, the same address"

# Clean stop: DHCPRELEASE, the lease leaves dnsmasq's file
stop_tapird
for _ in $(seq 1 20); do
	grep -q "$A" "$LEASES" || break
	sleep 0.25
done
grep -q "$A" "$LEASES" && fail "$A still in dnsmasq's lease file after the stop"
grep -q "DHCPRELEASE(tap0) $A" "$TMP/dnsmasq.log" || fail "no DHCPRELEASE in dnsmasq's log"
pass "released on stop"

# Restart: INIT-REBOOT asks for the remembered address
n_disc=$(grep -c "DHCPDISCOVER" "$TMP/dnsmasq.log")
start_tapird "$TMP/d.conf"
B=$(wait_bound)
[ "$B" = "$A" ] || fail "INIT-REBOOT: got $B, not the remembered $A"
grep -q "asking for $A again" "$TAPIRD_LOG" || fail "no INIT-REBOOT in the log"
[ "$(grep -c "DHCPDISCOVER" "$TMP/dnsmasq.log")" = "$n_disc" ] ||
	fail "INIT-REBOOT sent a DISCOVER"
pass "INIT-REBOOT: $A again, without a DISCOVER"

# Release by command: no address until a renew
"$TAPIR" dhcp d release >/dev/null || fail "tapir dhcp release"
[ "$(st | jq -r .address)" = null ] || fail "address still there after release"
[ "$(st | jq -r .dhcp.state)" = INIT ] || fail "state after release: $(st | jq -r .dhcp.state)"
"$TAPIR" dhcp d release >/dev/null 2>&1 && fail "a second release succeeded"
"$TAPIR" dhcp d renew >/dev/null || fail "renew after release"
C=$(wait_bound)
pass "release by command, then renew: $C"
stop_tapird

# ARP conflict: the kernel claims the address dnsmasq will offer; the probe
# is answered, tapird declines it and takes another one
ip addr add "$C/32" dev tap0
start_tapird "$TMP/d.conf"
E=$(wait_bound "$C")
[ "$E" != "$C" ] || fail "took the address the kernel holds"
grep -q "DHCPDECLINE(tap0) $C" "$TMP/dnsmasq.log" || fail "no DHCPDECLINE for $C in dnsmasq's log"
[ "$(st | jq -r .dhcp.conflicts)" = 1 ] || fail "conflicts: $(st | jq .dhcp.conflicts)"
grep -q "$C is in use by another host" "$TAPIRD_LOG" || fail "no conflict in the log"
wait_ping "$E"
stop_tapird
ip addr del "$C/32" dev tap0
pass "ARP conflict on $C: DECLINE, then $E"
