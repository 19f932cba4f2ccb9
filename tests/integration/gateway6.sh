#!/bin/bash
# gateway6.sh - the gateway over IPv6: `tapir up --netns new --gateway` gives
# the namespace an IPv6 default route via tapird, and its IPv6 flows are
# spliced to AF_INET6 sockets in the namespace tapir up ran in.
#
# The test makes a namespace H (unshare -rn) that plays the host: a veth pair
# with 2001:db8:1::1/64 and 2001:db8:1::2/64 (nodad), servers on
# 2001:db8:1::2 and on H's ::1, ping sockets allowed.  From H it runs tapir up
# G --netns new --gateway; from inside G (tapir exec) it checks: the IPv6
# address and default route, a 10 MB download over IPv6 (SHA-256 equal), H's
# ::1 through host_loopback6 (and the namespace's ::1 its own), a UDP echo
# over IPv6, a refused IPv6 port (ECONNREFUSED), an unreachable IPv6 address
# (ENETUNREACH from the ICMPv6 tapird sends), ping -6 through IPv6 ping
# sockets, the DNS relay answering on tapird's IPv6 address and relaying to
# the IPv6 resolver of its resolv.conf, tapir conns
# showing [v6]:port ends, and the port forwards over IPv6: H's [::1]:HOSTPORT
# to a server on G's 2001:db8::1 (TCP, 1 MB each way, SHA-256 equal; UDP),
# one added at run time (listed with both bindings, used, removed).  Nothing
# leaves H.
set -euo pipefail
TAPIRD=$(realpath "$1")
TAPIR=$(realpath "$2")
export TAPIRD TAPIR
. "$(dirname "$0")/lib.sh"
enter_netns "$@"

export TAPIR_RUNTIME_DIR="$TMP/run"
mkdir -m 0700 "$TAPIR_RUNTIME_DIR"
INST=gw6$$
cleanup_gw() {
	"$TAPIR" down "$INST" >/dev/null 2>&1 || true
	cleanup
}
trap cleanup_gw EXIT
TAPIRD_LOG="$TAPIR_RUNTIME_DIR/$INST.log"
in_g() { "$TAPIR" exec "$INST" -- "$@"; }
stat_of() { "$TAPIR" stats "$INST" --json | jq -r ".gateway.$1"; }

# ---- H: the host side ----
ip link add vh type veth peer name vp
ip -6 addr add 2001:db8:1::1/64 dev vh nodad
ip -6 addr add 2001:db8:1::2/64 dev vp nodad
ip link set vh up
ip link set vp up
sysctl -qw net.ipv4.ping_group_range="0 0"
HOST=2001:db8:1::2

mkdir "$TMP/www" "$TMP/lo"
head -c 10000000 /dev/urandom >"$TMP/www/big"
echo "the host's ::1" >"$TMP/lo/index.html"
WANT=$(sha256sum <"$TMP/www/big" | cut -d' ' -f1)
(cd "$TMP/www" && exec $PY -m http.server --bind $HOST 8000) >/dev/null 2>&1 &
PIDS="$PIDS $!"
(cd "$TMP/lo" && exec $PY -m http.server --bind ::1 8001) >/dev/null 2>&1 &
PIDS="$PIDS $!"
socat UDP6-RECVFROM:7007,bind=[$HOST],fork SYSTEM:cat &
PIDS="$PIDS $!"
# The host's resolver, on H's IPv6 address, named by the resolv.conf that
# tapird reads (a private /etc/resolv.conf: unshare -m, a bind mount): an A
# record for any name
cat >"$TMP/resolver.py" <<'PY'
import socket, struct
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.bind(("2001:db8:1::2", 53))
while True:
    q, a = s.recvfrom(512)
    end = 12
    while q[end]:
        end += q[end] + 1
    end += 5
    ans = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + bytes([198, 51, 100, 66])
    s.sendto(q[:2] + b"\x81\x80" + q[4:6] + b"\x00\x01\x00\x00\x00\x00" + q[12:end] + ans, a)
PY
$PY "$TMP/resolver.py" &
PIDS="$PIDS $!"
sleep 1

# ---- G: the namespace behind tapird ----
cat >"$TMP/g.conf" <<CONF
[netif]
name = tap0

[ipv4]
address = 192.0.2.2/24
gateway = 192.0.2.1

[gateway]
host_loopback6 = 2001:db8:ff::1
forward = tcp/8080:80, udp/5353:7
CONF
printf 'nameserver 2001:db8:1::2\n' >"$TMP/resolv.conf"
unshare -m sh -c 'mount --bind "$1" /etc/resolv.conf && exec "$2" up "$3" --config "$4" --netns new --gateway' \
	sh "$TMP/resolv.conf" "$TAPIR" "$INST" "$TMP/g.conf" >/dev/null || fail "tapir up --gateway"
grep -q "DNS relay on port 53 to 2001:db8:1::2" "$TAPIRD_LOG" ||
	fail "the relay did not take the IPv6 resolver of resolv.conf: $(cat "$TAPIRD_LOG")"
routes=$(in_g ip -6 route)
grep -q "default via 2001:db8::2 dev tap0" <<<"$routes" ||
	fail "no IPv6 default route via tapird: $routes"
addrs=$(in_g ip -6 addr show dev tap0)
grep -q "2001:db8::1/64" <<<"$addrs" || fail "no IPv6 address in G: $addrs"
pass "tapir up --gateway: the namespace has IPv6 and a default route via tapird"

# 10 MB over HTTP and IPv6, the SHA-256 equal (wait for tapird's DAD first)
for _ in $(seq 1 50); do in_g ping -6 -c 1 -W 1 2001:db8::2 >/dev/null 2>&1 && break; sleep 0.2; done
GOT=$(in_g curl -6 -sS -m 60 "http://[$HOST]:8000/big" | sha256sum | cut -d' ' -f1)
[ "$GOT" = "$WANT" ] || fail "10 MB download over IPv6: sha256 $GOT, want $WANT"
[ "$(stat_of tcp_opened)" -ge 1 ] || fail "no TCP flow counted"
pass "10 MB over IPv6 through the gateway, SHA-256 equal"

# H's ::1 through host_loopback6 only
out=$(in_g curl -6 -sS -m 10 "http://[2001:db8:ff::1]:8001/index.html")
[ "$out" = "the host's ::1" ] || fail "host_loopback6: got '$out'"
in_g curl -sS -m 5 -o /dev/null "http://[::1]:8001/" 2>/dev/null &&
	fail "the namespace's own ::1 reached H's loopback"
pass "host_loopback6 reaches H's ::1; ::1 in the namespace is its own"

# UDP echo over IPv6
out=$(echo "ping over udp6" | in_g socat -t 2 - "UDP6:[$HOST]:7007")
[ "$out" = "ping over udp6" ] || fail "UDP echo over IPv6: got '$out'"
[ "$(stat_of udp_opened)" -ge 1 ] || fail "no UDP flow counted"
pass "UDP echo over IPv6 through the gateway"

# Refused port: ECONNREFUSED; unreachable address: EHOSTUNREACH (ICMPv6)
out=$(in_g $PY "$CONNECT" $HOST 8999)
[ "$out" = ECONNREFUSED ] || fail "refused IPv6 port: got $out"
[ "$(stat_of tcp_host_refused)" -ge 1 ] || fail "tcp_host_refused not counted"
# (H has no route to 2001:db8:2::/48: its connect() fails with ENETUNREACH,
# which comes back as an ICMPv6 no-route unreachable)
out=$(in_g $PY "$CONNECT" 2001:db8:2::77 80)
[ "$out" = ENETUNREACH ] || fail "unreachable IPv6 address: got $out"
[ "$(stat_of tcp_host_unreach)" -ge 1 ] || fail "tcp_host_unreach not counted"
pass "refused IPv6 port: ECONNREFUSED; unreachable IPv6 address: ENETUNREACH"

# ping -6 through IPv6 ping sockets
in_g ping -6 -c 2 -W 2 $HOST >/dev/null || fail "ping -6 $HOST through the gateway"
[ "$(stat_of icmp_echo_replies)" -ge 2 ] || fail "icmp_echo_replies not counted"
pass "ping -6 through IPv6 ping sockets"

# DNS over IPv6: the relay answers on tapird's IPv6 address
cat >"$TMP/query.py" <<'PY'
import socket, struct, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
s.settimeout(5)
q = struct.pack(">HHHHHH", 0x1234, 0x0100, 1, 0, 0, 0)
q += b"".join(bytes([len(l)]) + l.encode() for l in sys.argv[2].split(".")) + b"\0"
q += struct.pack(">HH", 1, 1)
s.sendto(q, (sys.argv[1], 53))
r, a = s.recvfrom(512)
assert r[:2] == b"\x12\x34" and a[0] == sys.argv[1], (r, a)
print(".".join(str(b) for b in r[-4:]))
PY
out=$(in_g $PY "$TMP/query.py" 2001:db8::2 svc.gw.test)
[ "$out" = 198.51.100.66 ] || fail "DNS over IPv6 through the relay: got '$out'"
pass "DNS over IPv6: the relay answers on tapird's IPv6 address, relaying to an IPv6 resolver"

# tapir conns: an IPv6 flow with [v6]:port ends
socat TCP6-LISTEN:9003,bind=[$HOST],fork EXEC:cat &
PIDS="$PIDS $!"
sleep 0.5
(sleep 3 | in_g socat - "TCP6:[$HOST]:9003") &
HOLD=$!
sleep 1.5
"$TAPIR" conns "$INST" --json >"$TMP/conns.json"
jq -e '.spliced[] | select(.proto == "tcp" and .dst_port == 9003 and .ns_addr == "2001:db8::1"
	and .dst_addr == "2001:db8:1::2" and .state == "OPEN")' "$TMP/conns.json" >/dev/null ||
	fail "conns --json: $(cat "$TMP/conns.json")"
table=$("$TAPIR" conns "$INST")
grep -q "^tcp   OPEN .*\[2001:db8::1\]:.*\[2001:db8:1::2\]:9003" <<<"$table" ||
	fail "conns table: $table"
wait "$HOLD" || true
pass "tapir conns shows the IPv6 spliced flow, [addr]:port both ends"

# ---- port forwards over IPv6: H's [::1]:HOSTPORT -> G's [2001:db8::1]:NSPORT ----
# (servers bound to G's IPv6 address only: what reaches them came over IPv6;
# bounded by timeout and off our stdout: killing tapir exec leaves them in G)
in_g timeout 300 socat TCP6-LISTEN:80,bind=[2001:db8::1],reuseaddr,fork EXEC:cat \
	>/dev/null 2>&1 &
PIDS="$PIDS $!"
in_g timeout 300 socat UDP6-RECVFROM:7,bind=[2001:db8::1],fork SYSTEM:cat >/dev/null 2>&1 &
PIDS="$PIDS $!"
sleep 1
head -c 1000000 /dev/urandom >"$TMP/mb"
WANT1=$(sha256sum <"$TMP/mb" | cut -d' ' -f1)
GOT1=$(socat -t 30 - "TCP6:[::1]:8080" <"$TMP/mb" | sha256sum | cut -d' ' -f1)
[ "$GOT1" = "$WANT1" ] || fail "TCP forward [::1]:8080 -> [2001:db8::1]:80: sha256 $GOT1, want $WANT1"
# the listing has both bindings (--json and the table) and counted the bytes
"$TAPIR" --json forward "$INST" ls >"$TMP/fls.json"
jq -e '.forwards[] | select(.proto == "tcp" and .host_port == 8080 and .bytes_in >= 1000000
	and .bytes_out >= 1000000 and ([.bindings[] | select(.family == "ipv6" and
	.host_address == "::1" and .ns_address == "2001:db8::1")] | length) == 1 and
	([.bindings[] | select(.family == "ipv4" and .host_address == "127.0.0.1" and
	.ns_address == "192.0.2.1")] | length) == 1)' "$TMP/fls.json" >/dev/null ||
	fail "forward ls --json: $(cat "$TMP/fls.json")"
pass "TCP forward from [::1]:8080 to [2001:db8::1]:80: 1 MB each way, SHA-256 equal, counted"

out=$(echo "udp over a v6 forward" | socat -t 2 - "UDP6:[::1]:5353")
[ "$out" = "udp over a v6 forward" ] || fail "UDP forward [::1]:5353 -> [2001:db8::1]:7: got '$out'"
[ "$("$TAPIR" stats "$INST" --json | jq -r '.gateway_relay.fwd_udp_flows')" -ge 1 ] ||
	fail "no forward UDP flow counted"
pass "UDP forward from [::1]:5353 to [2001:db8::1]:7"

# at run time: add, list (both bindings), use over IPv6, remove
"$TAPIR" forward "$INST" add tcp 9090 80 >/dev/null || fail "forward add tcp 9090 80"
table=$("$TAPIR" forward "$INST" ls)
grep -q "^tcp .*127.0.0.1:9090 .*192.0.2.1:80 .*runtime" <<<"$table" ||
	fail "forward ls table lacks 9090's IPv4 binding: $table"
grep -A1 "127.0.0.1:9090 " <<<"$table" | grep -q "^ .*\[::1\]:9090 .*\[2001:db8::1\]:80" ||
	fail "forward ls table lacks 9090's IPv6 binding: $table"
out=$(echo "runtime v6 forward" | socat -t 5 - "TCP6:[::1]:9090")
[ "$out" = "runtime v6 forward" ] || fail "runtime forward over IPv6: got '$out'"
"$TAPIR" forward "$INST" rm tcp 9090 >/dev/null || fail "forward rm tcp 9090"
out=$($PY "$CONNECT" ::1 9090)
[ "$out" = ECONNREFUSED ] || fail "[::1]:9090 after rm: got $out"
[ "$("$TAPIR" --json forward "$INST" ls | jq '[.forwards[] | select(.host_port == 9090)] | length')" = 0 ] ||
	fail "9090 still listed after rm"
pass "runtime forward: added (both bindings listed), used over IPv6, removed (then ECONNREFUSED)"
