#!/bin/bash
# tcp6.sh - tapird's TCP over IPv6 against the Linux kernel over a TAP
# (kernel 2001:db8::1/64, tapird 2001:db8::2/64, and IPv4 beside it):
#   * curl -6 against the http app gets the page curl -4 gets (one dual-stack
#     listener serves both families); a value PUT to the kvhttp app over IPv6
#     is read back over IPv4 and deleted over IPv6;
#   * a held connection is in the kernel's `ss -6` and in `tapir conns` with
#     its IPv6 endpoints as [addr]:port (and in --json as plain addresses);
#   * 100 MB kernel->tapird->kernel through echo and 100 MB tapird->kernel
#     from source over IPv6, SHA-256 equal, with the TAP's offloads on and
#     with them off (--netif.offload=false); with them on, TSO6 super-segments
#     go out and GRO'd IPv6 super-segments come in (tcp.tso_tx, tcp.rx_coalesced);
#   * the same under 1 % random loss by nftables (ip6 rules, both directions).
set -euo pipefail
TAPIRD=$(realpath "$1")
TAPIR=$(realpath "$2")
HERE=$(dirname "$(realpath "$0")")
. "$HERE/tcp_lib.sh"
tcp_enter_netns "$@"
T_START=$(now_ms)
command -v curl >/dev/null || fail "curl is not installed (tools/deps --test)"
command -v jq >/dev/null || fail "jq is not installed (tools/deps --test)"
command -v socat >/dev/null || fail "socat is not installed (tools/deps --test)"
command -v ss >/dev/null || fail "ss is not installed (iproute2)"
SIZE=${TCP6_BULK_BYTES:-100000000}
TCP_SOCAT="TCP6:[2001:db8::2]"

mkdir -p "$TMP/data"
cat >"$TMP/tapird.conf" <<CONF
[netif]
backend = tap
name = tap0
mac = 02:00:00:00:00:02
mtu = 1500

[ipv4]
address = 192.0.2.2/24

[ipv6]
address = 2001:db8::2/64
dad = false

[kv.site]
store = embedded:site

[app.http]
kv = site
port = 80
access_log = false

[kv.data]
store = dir:$TMP/data
writable = true

[app.kv]
type = kvhttp
kv = data
port = 8080
token = s3cret

[app.echo]
port = 7

[app.discard]
port = 9

[app.source]
port = 19

[control]
socket = $TMP/ctl.sock
CONF

wait_ping6() {
	for _ in $(seq 1 20); do
		ping -6 -c 1 -W 1 2001:db8::2 >/dev/null 2>&1 && return 0
		tapird_alive
		sleep 0.5
	done
	fail "2001:db8::2 never answered ping -6"
}

# start6 [ARGS...]: tapird with the config above, reachable over both families
start6() {
	rm -f "$TMP/ctl.sock"
	start_tapird "$TMP/tapird.conf" "$@"
	wait_ping 192.0.2.2
	wait_ping6
	for _ in $(seq 1 50); do [ -S "$TMP/ctl.sock" ] && break; sleep 0.1; done
}

# ctr NAME: a TCP counter of the running tapird (tapir --json stats)
ctr() {
	TAPIR_RUNTIME_DIR=$TMP "$TAPIR" --json stats ctl >"$TMP/stats.json" ||
		fail "tapir stats failed"
	jq --arg n "$1" '[.. | objects | select(has($n)) | .[$n]] | add // 0' "$TMP/stats.json"
}

features() {
	ethtool -k tap0 2>/dev/null | grep -E '^(tx-checksumming|tcp-segmentation-offload):' |
		paste -sd, - || true
}

make_tap tap0 192.0.2.1/24
ip addr add 2001:db8::1/64 dev tap0 nodad
start6

# ---- curl -6 against the http app, the same page as over IPv4
code=$(curl -6 -sS --max-time 10 -o "$TMP/page6" -w '%{http_code}' 'http://[2001:db8::2]/') ||
	fail "curl -6 http://[2001:db8::2]/ failed"
[ "$code" = 200 ] || fail "curl -6: GET / answered $code"
code=$(curl -4 -sS --max-time 10 -o "$TMP/page4" -w '%{http_code}' 'http://192.0.2.2/') ||
	fail "curl -4 http://192.0.2.2/ failed"
[ "$code" = 200 ] || fail "curl -4: GET / answered $code"
[ -s "$TMP/page6" ] && cmp -s "$TMP/page4" "$TMP/page6" ||
	fail "the page over IPv6 differs from the page over IPv4"
pass "curl -6 'http://[2001:db8::2]/' answered 200 with the page curl -4 gets"

# ---- kvhttp over IPv6: PUT over IPv6, GET over IPv4, DELETE over IPv6
K=(curl -sS --max-time 10 -H "Authorization: Bearer s3cret")
head -c 5000 /dev/urandom >"$TMP/v6val"
code=$("${K[@]}" -6 -o /dev/null -w '%{http_code}' -T "$TMP/v6val" 'http://[2001:db8::2]:8080/six/v') ||
	fail "kvhttp PUT over IPv6 failed"
[ "$code" = 201 ] || [ "$code" = 204 ] || [ "$code" = 200 ] || fail "kvhttp PUT over IPv6 answered $code"
"${K[@]}" -4 -o "$TMP/v6back" 'http://192.0.2.2:8080/six/v' || fail "kvhttp GET over IPv4 failed"
cmp -s "$TMP/v6val" "$TMP/v6back" || fail "kvhttp: the value read over IPv4 differs from the one PUT over IPv6"
code=$("${K[@]}" -6 -o /dev/null -w '%{http_code}' -X DELETE 'http://[2001:db8::2]:8080/six/v') ||
	fail "kvhttp DELETE over IPv6 failed"
code=$("${K[@]}" -6 -o /dev/null -w '%{http_code}' 'http://[2001:db8::2]:8080/six/v') || true
[ "$code" = 404 ] || fail "kvhttp: GET after DELETE over IPv6 answered $code, not 404"
pass "kvhttp over IPv6: PUT over IPv6, the same 5000 bytes over IPv4, DELETE over IPv6"

# ---- a held connection: ss -6 and tapir conns show it with IPv6 endpoints
$PY - <<'PY' &
import socket, time
s = socket.create_connection(("2001:db8::2", 9), timeout=10)
s.sendall(b"x" * 1000)
time.sleep(6)
PY
HOLD_PID=$!
PIDS="$PIDS $HOLD_PID"
sleep 1
est=$(ss -6 -tnH state established dst '[2001:db8::2]:9')
[ -n "$est" ] || fail "ss -6 shows no established connection to [2001:db8::2]:9"
lport=$(echo "$est" | awk '{ print $3 }' | sed 's/.*\]://' | head -1)
table=$(TAPIR_RUNTIME_DIR=$TMP "$TAPIR" conns ctl) || fail "tapir conns failed"
echo "$table" | grep -E "ESTABLISHED .*\[2001:db8::2\]:9 +\[2001:db8::1\]:$lport" >/dev/null ||
	fail "tapir conns does not list [2001:db8::2]:9 <- [2001:db8::1]:$lport: $table"
TAPIR_RUNTIME_DIR=$TMP "$TAPIR" --json conns ctl >"$TMP/conns.json" ||
	fail "tapir --json conns failed"
n=$(jq --argjson p "$lport" '[.connections[] | select(.remote == "2001:db8::1" and
	.remote_port == $p and .local == "2001:db8::2" and .local_port == 9)] | length' \
	"$TMP/conns.json")
[ "$n" = 1 ] || fail "tapir --json conns: want 1 entry for 2001:db8::1 port $lport, got $n"
pass "ss -6 and tapir conns show [2001:db8::1]:$lport -> [2001:db8::2]:9"
wait "$HOLD_PID" || true

# ---- bulk both ways, offloads on (the TAP's default) then off
echo_bulk "$SIZE" "IPv6, offloads on ($(features))"
source_bulk "$SIZE" "IPv6, offloads on"
tso=$(ctr tso_tx)
gro=$(ctr rx_coalesced)
[ "$tso" -gt 0 ] || fail "offloads on: no TSO super-segment went out over IPv6 (tcp.tso_tx 0)"
[ "$gro" -gt 0 ] || fail "offloads on: no GRO super-segment came in over IPv6 (tcp.rx_coalesced 0)"
[ "$(ctr drop.checksum)" = 0 ] || fail "offloads on: segments dropped for their checksum"
pass "offloads on: TSO6 out ($tso super-segments) and GRO6 in ($gro), no checksum drops"
stop_tapird
start6 --netif.offload=false
echo_bulk "$SIZE" "IPv6, offloads off ($(features))"
source_bulk "$SIZE" "IPv6, offloads off"
[ "$(ctr tso_tx)" = 0 ] && [ "$(ctr rx_coalesced)" = 0 ] ||
	fail "offloads off: super-segments counted anyway"
[ "$(ctr drop.checksum)" = 0 ] || fail "offloads off: segments dropped for their checksum"
stop_tapird

# ---- 1 % random loss by nftables on the kernel side, IPv6 only, both ways
command -v nft >/dev/null || fail "nft not found (apt-get install nftables)"
start6
nft -f - <<'NFT' || fail "cannot load the nftables rules"
table inet tapirloss6 {
	chain in {
		type filter hook input priority 0;
		iifname "tap0" meta nfproto ipv6 meta l4proto tcp numgen random mod 100 < 1 counter drop
	}
	chain out {
		type filter hook output priority 0;
		oifname "tap0" meta nfproto ipv6 meta l4proto tcp numgen random mod 100 < 1 counter drop
	}
}
NFT
echo_bulk "$SIZE" "IPv6, nftables 1% loss"
source_bulk "$SIZE" "IPv6, nftables 1% loss"
dropped=$(nft list table inet tapirloss6 | grep -o 'packets [0-9]*' | awk '{ s += $2 } END { print s + 0 }')
[ "$dropped" -gt 0 ] || fail "nftables dropped nothing: the loss was not applied"
echo "  nftables dropped $dropped IPv6 TCP packets"
nft delete table inet tapirloss6
stop_tapird

echo "tcp6: all passed in $(( ($(now_ms) - T_START) / 1000 )) s"
