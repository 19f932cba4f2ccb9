#!/bin/bash
# dhcp_timers.sh - the DHCP client's timers against a scripted scapy server
# (dhcp_server.py: a 12 s lease, T1 4 s, T2 8 s, which dnsmasq's 2-minute
# minimum does not allow): renewal at T1 by unicast, rebinding at T2 by
# broadcast when the server ignores the renewals, a NAK takes the address
# away and the client starts over, an expired lease takes it away and resets
# the TCP connections on it, and a server that never answers gets DISCOVERs
# with the RFC 2131 back-off (4 s, then 8 s, each +-1 s).
set -euo pipefail
TAPIRD=$(realpath "$1")
TAPIR=$(realpath "$2")
HERE=$(dirname "$(realpath "$0")")
. "$HERE/lib.sh"
enter_netns "$@"
export TAPIR_RUNTIME_DIR="$TMP/run"
$PY -c "import scapy" 2>/dev/null || fail "python3-scapy not installed (tools/deps --test)"

make_tap tap0 192.0.2.1/24
cat >"$TMP/t.conf" <<CONF
[netif]
name = tap0
[ipv4]
address = dhcp
[dhcp]
; the probe is dnsmasq's test (dhcp.sh); here it would eat the short lease
arp_probe = false
[app.echo]
port = 7
[control]
name = t
CONF

SRV_PID=""
# server MODE: (re)start the scripted server, wait until it listens
server() {
	[ -n "$SRV_PID" ] && { kill "$SRV_PID"; wait "$SRV_PID" 2>/dev/null || true; }
	SLOG="$TMP/server.$1.log"
	: >"$SLOG"
	$PY "$HERE/dhcp_server.py" "$1" tap0 "$SLOG" 2>"$TMP/server.$1.err" &
	SRV_PID=$!
	PIDS="$PIDS $SRV_PID"
	for _ in $(seq 1 100); do
		grep -q ready "$SLOG" && { sleep 0.5; return 0; }
		sleep 0.1
	done
	fail "scapy server did not start: $(cat "$TMP/server.$1.err")"
}
st() { "$TAPIR" --json status t; }
# wait_for JQ_EXPR SECONDS: until the status satisfies the expression
wait_for() {
	local n=$(($2 * 4))
	for _ in $(seq 1 "$n"); do
		st 2>/dev/null | jq -e "$1" >/dev/null 2>&1 && return 0
		kill -0 "$TAPIRD_PID" 2>/dev/null || fail "tapird died"
		sleep 0.25
	done
	fail "status never had $1: $(st | jq -c '{address, dhcp}')"
}
# when LINE_REGEX [N]: the time of the N-th (1) server log line matching
when() { grep -E "$1" "$SLOG" | sed -n "${2:-1}p" | cut -d' ' -f1; }
# between A B LO HI: LO <= B - A <= HI (seconds, decimals)
between() { awk -v a="$1" -v b="$2" -v lo="$3" -v hi="$4" 'BEGIN { d = b - a; exit !(d >= lo && d <= hi) }'; }

# Renewal at T1: a unicast REQUEST from the bound address, a new ACK
server normal
start_tapird "$TMP/t.conf"
wait_for '.address == "192.0.2.70"' 15
ack1=$(when "sent ACK")
wait_for '.dhcp.state == "BOUND"' 5
o1=$(st | jq .dhcp.obtained)
for _ in $(seq 1 40); do [ -n "$(when "REQUEST unicast ciaddr=192.0.2.70")" ] && break; sleep 0.25; done
r=$(when "REQUEST unicast ciaddr=192.0.2.70")
[ -n "$r" ] || fail "no unicast renewal: $(cat "$SLOG")"
between "$ack1" "$r" 3 5 || fail "renewal at $r, not T1 (4 s) after the ACK at $ack1"
wait_for ".dhcp.state == \"BOUND\" and .dhcp.obtained > $o1" 5
[ "$(st | jq -r .address)" = 192.0.2.70 ] || fail "address changed on renewal"
stop_tapird
pass "renewed at T1 by unicast"

# Rebinding at T2: the renewals are ignored; a broadcast REQUEST with ciaddr
server rebind
start_tapird "$TMP/t.conf"
wait_for '.address == "192.0.2.70"' 15
ack1=$(when "sent ACK")
wait_for '.dhcp.state == "RENEWING"' 6
wait_for '.dhcp.state == "REBINDING" or (.dhcp.state == "BOUND" and .dhcp.obtained > 0)' 6
for _ in $(seq 1 40); do [ -n "$(when "REQUEST bcast ciaddr=192.0.2.70")" ] && break; sleep 0.25; done
r=$(when "REQUEST bcast ciaddr=192.0.2.70")
[ -n "$r" ] || fail "no rebinding broadcast: $(cat "$SLOG")"
between "$ack1" "$r" 7 9 || fail "rebinding at $r, not T2 (8 s) after the ACK at $ack1"
[ -n "$(when "REQUEST unicast ciaddr=192.0.2.70")" ] || fail "no renewal before rebinding"
wait_for '.dhcp.state == "BOUND" and .address == "192.0.2.70"' 5
stop_tapird
pass "rebound at T2 by broadcast"

# NAK on renewal: the address goes, the client starts over with a DISCOVER
server nak
start_tapird "$TMP/t.conf"
wait_for '.address == "192.0.2.70"' 15
wait_for '.dhcp.naks >= 1' 8
grep -q "dhcp: NAK: address 192.0.2.70 taken away" "$TAPIRD_LOG" || fail "no NAK in the log"
nak=$(when "sent NAK")
# the client waits a random 0-1 s after a NAK (against NAK storms) before its DISCOVER
for _ in $(seq 1 30); do
	[ -n "$(grep -E "DISCOVER" "$SLOG" | awk -v n="$nak" '$1 > n')" ] && break
	sleep 0.1
done
[ -n "$(grep -E "DISCOVER" "$SLOG" | awk -v n="$nak" '$1 > n')" ] || fail "no DISCOVER after the NAK"
wait_for '.address == "192.0.2.70" and .dhcp.state == "BOUND"' 8
stop_tapird
pass "NAK took the address away; bound again from DISCOVER"

# Expiry: nothing answers after the first lease; a TCP connection on the
# address is reset when it goes
server expire
start_tapird "$TMP/t.conf"
wait_for '.address == "192.0.2.70"' 15
exec 3<>/dev/tcp/192.0.2.70/7
echo ping >&3
read -r -t 3 line <&3 || fail "no echo over TCP"
[ "$line" = ping ] || fail "echo said '$line'"
wait_for '.address == null' 15
[ "$(st | jq .dhcp.expired)" = 1 ] || fail "expired: $(st | jq .dhcp.expired)"
grep -q "lease expired: address 192.0.2.70 taken away" "$TAPIRD_LOG" || fail "no expiry in the log"
rc=0
read -r -t 5 line <&3 || rc=$?
exec 3<&-
[ "$rc" -lt 128 ] || fail "the connection was not reset (read timed out)"
[ "$("$TAPIR" --json stats t | jq '.tcp.resets_sent')" -ge 1 ] || fail "no RST counted"
[ -n "$(when "REQUEST bcast ciaddr=192.0.2.70")" ] || fail "no rebinding before expiry"
wait_for '.dhcp.state == "SELECTING"' 3
stop_tapird
pass "lease expired: address gone, TCP connection reset, back to SELECTING"

# No answer at all: DISCOVERs 4 s (+-1) then 8 s (+-1) apart, no address
server silent
start_tapird "$TMP/t.conf"
sleep 15
d1=$(when DISCOVER 1); d2=$(when DISCOVER 2); d3=$(when DISCOVER 3)
[ -n "$d3" ] || fail "fewer than 3 DISCOVERs in 15 s: $(cat "$SLOG")"
between "$d1" "$d2" 3 5 || fail "first retransmission after $d1 -> $d2, not 4 s"
between "$d2" "$d3" 7 9 || fail "second retransmission after $d2 -> $d3, not 8 s"
st | jq -e '.address == null and .dhcp.state == "SELECTING"' >/dev/null ||
	fail "status without a server: $(st | jq -c '{address, dhcp}')"
stop_tapird
pass "no server: back-off 4 s, 8 s; still no address"
