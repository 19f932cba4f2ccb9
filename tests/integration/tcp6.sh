#!/bin/bash
# tcp6.sh - tapird's TCP over IPv6 against the Linux kernel over a TAP
# (kernel 2001:db8::1/64, tapird 2001:db8::2/64, and IPv4 beside it):
#   * curl -6 against the http app gets the page curl -4 gets (one dual-stack
#     listener serves both families);
#   * a held connection is in the kernel's `ss -6` and in `tapir conns` with
#     its IPv6 endpoints as [addr]:port (and in --json as plain addresses);
#   * 100 MB kernel->tapird->kernel through echo and 100 MB tapird->kernel
#     from source over IPv6, SHA-256 equal, with the TAP's offloads on and
#     with them off (--netif.offload=false);
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
stop_tapird
start6 --netif.offload=false
echo_bulk "$SIZE" "IPv6, offloads off ($(features))"
source_bulk "$SIZE" "IPv6, offloads off"
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
