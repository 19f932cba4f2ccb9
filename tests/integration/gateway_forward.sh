#!/bin/bash
# gateway_forward.sh - the gateway's port forwards and DNS relay, all inside a
# namespace H made by the test (unshare -rn) that plays the host.
#
# From H (unshare -n): tapir up --netns new --gateway, so the namespace N has
# the TAP with its kernel side 192.0.2.1 (where forwards go) and tapird at
# 192.0.2.2 keeps its host sockets in H; dnsmasq on H's 127.0.0.1 is the
# host's resolver.  Checks:
#   - 64 concurrent `tapir exec`s all run (each writes its own resolv.conf);
#     exec refuses when the namespace's holder is gone (never runs in H);
#   - a TCP forward from the config (H:127.0.0.1:8080 -> 192.0.2.1:80) carries an
#     HTTP GET of a 2 MB file to a python http.server, SHA-256 equal;
#   - a runtime forward (tapir forward add) works, is listed (table, --json),
#     and after rm the host port refuses (ECONNREFUSED);
#   - back-pressure: a host client that does not read while the namespace
#     sends 64 MB leaves tapird's memory within 16 MiB, and then gets it all;
#   - host clients that leave mid-stream (tapird once died of SIGPIPE there);
#   - a half-close crosses the splice (the client's EOF reaches the server,
#     whose answer still comes back);
#   - a forward to a closed namespace port resets the host connection;
#   - a UDP forward (config) echoes datagrams from two peers;
#   - DNS through tapird's relay (UDP and TCP): `tapir exec` sees a
#     resolv.conf naming tapird and getent resolves dnsmasq's host-record;
#   - the counters move (stats gateway_relay);
#   - a truncated answer (dnsmasq's 60 A records over UDP without EDNS)
#     reaches the client with TC set, and its retry over TCP (a python
#     client's and glibc's) is relayed over TCP and gets all 60 records;
#   - the forwards' UDP flows end after [gateway] udp_idle_timeout;
#   - the forwards' connections count against [gateway] max_flows with the
#     gateway's own flows: with max_flows = 2 and two held, a third host
#     connection is reset, a new UDP peer dropped, a namespace connection
#     refused, each counted; tapir conns lists the two held connections;
#   - a resolver (python, on H's 127.0.0.2) whose UDP answer is a bare TC
#     header (QDCOUNT 0): the relay hands it on with the question put back,
#     and glibc's retry over TCP gets the address.
set -euo pipefail
TAPIRD=$(realpath "$1")
TAPIR=$(realpath "$2")
HERE=$(dirname "$(realpath "$0")")
[ "$(id -u)" = 0 ] || { echo "gateway_forward.sh needs root (CI runs as root)" >&2; exit 1; }
# H: a network namespace of our own (no user namespace: dnsmasq calls
# setgroups(), which a user namespace made by unshare -r denies)
if [ -z "${TAPIR_IN_NETNS:-}" ]; then
	export TAPIR_OUTER_NETNS
	TAPIR_OUTER_NETNS=$(readlink /proc/self/ns/net)
	TAPIR_IN_NETNS=1 exec unshare -n "$0" "$@"
fi
# shellcheck source=lib.sh
. "$HERE/lib.sh"
netns_check
ip link set lo up

export TAPIR_RUNTIME_DIR="$TMP/run"
mkdir -m 0700 "$TMP/run"
NAME=gwf

# dnsmasq: the "host's" resolver, on H's loopback
dnsmasq --keep-in-foreground --no-resolv --no-hosts --bind-interfaces \
	--listen-address=127.0.0.1 --port=53 --user=root \
	--pid-file="$TMP/dnsmasq.pid" --log-facility="$TMP/dnsmasq.log" \
	--host-record=svc.gw.test,198.51.100.7 \
	$(for i in $(seq 100 159); do echo "--host-record=big.gw.test,198.51.100.$i"; done) &
PIDS="$PIDS $!"

cat >"$TMP/gw.conf" <<CONF
[netif]
name = tap0

[ipv4]
address = 192.0.2.2/24
gateway = 192.0.2.1

[control]
name = $NAME

[gateway]
enabled = true
forward = tcp/8080:80, udp/5353:7
dns = 127.0.0.1
udp_idle_timeout = 2s

[log]
level = debug
CONF

"$TAPIR" up "$NAME" --config "$TMP/gw.conf" --netns new --gateway || fail "tapir up"
TAPIRD_LOG="$TMP/run/$NAME.log"
# on a failure: the stack's nonzero TCP, ARP and IPv4 counters (the log is
# at level debug, so a forward's failed namespace connect names its errno)
fail_hook() {
	echo "--- tapir stats (nonzero tcp, arp, ipv4, gateway):"
	"$TAPIR" --json stats "$NAME" | jq -c '{tcp, arp, ipv4, gateway} | map_values(
		if type == "object" then with_entries(select(.value != 0)) else . end)'
}
cleanup_gw() { "$TAPIR" down "$NAME" >/dev/null 2>&1 || true; cleanup; }
trap cleanup_gw EXIT
for _ in $(seq 1 20); do
	"$TAPIR" exec "$NAME" -- ping -c 1 -W 1 192.0.2.2 >/dev/null 2>&1 && break
	sleep 0.5
done
"$TAPIR" exec "$NAME" -- ping -c 1 -W 1 192.0.2.2 >/dev/null || fail "tapird never answered ping"

# --- execs side by side: each writes the resolv.conf it bind-mounts (they
# once shared one temporary file, and one of two concurrent execs failed) ---
execs=""
NEXEC=64
for i in $(seq 1 "$NEXEC"); do
	"$TAPIR" exec "$NAME" -- sh -c 'grep -q "^nameserver 192.0.2.2$" /etc/resolv.conf' \
		2>"$TMP/exec.$i.err" &
	execs="$execs $!"
done
nfail=0
for p in $execs; do wait "$p" || nfail=$((nfail + 1)); done
[ "$nfail" = 0 ] || fail "$nfail of $NEXEC concurrent execs failed: $(cat "$TMP"/exec.*.err | sort | uniq -c)"
pass "$NEXEC concurrent tapir execs, each in the namespace with tapird's resolv.conf"

# --- TCP forward from the config: a 2 MB file over HTTP ---
mkdir "$TMP/www"
head -c 2000000 /dev/urandom >"$TMP/www/blob"
(cd "$TMP/www" && exec "$TAPIR" exec "$NAME" -- "$PY" -m http.server --bind 192.0.2.1 80) \
	>"$TMP/http.log" 2>&1 &
PIDS="$PIDS $!"
for _ in $(seq 1 40); do
	"$TAPIR" exec "$NAME" -- curl -s -o /dev/null http://192.0.2.1:80/ && break
	sleep 0.25
done
curl -sf -o "$TMP/got" http://127.0.0.1:8080/blob || fail "curl through the config forward"
[ "$(sha256sum <"$TMP/got")" = "$(sha256sum <"$TMP/www/blob")" ] ||
	fail "the forwarded file differs"
pass "tcp/8080 -> 192.0.2.1:80: 2 MB over HTTP, SHA-256 equal"

# --- runtime forward: add, list (table, --json), use, remove ---
"$TAPIR" forward "$NAME" add tcp 9090 80 >/dev/null || fail "forward add"
if "$TAPIR" forward "$NAME" add tcp 9090 80 2>/dev/null; then fail "a second add succeeded"; fi
"$TAPIR" forward "$NAME" ls >"$TMP/ls.txt"
grep -q "^tcp .*127.0.0.1:9090 .*192.0.2.1:80 .*runtime" "$TMP/ls.txt" || fail "ls table: $(cat "$TMP/ls.txt")"
grep -q "^tcp .*127.0.0.1:8080 .*config" "$TMP/ls.txt" || fail "ls table lacks the config forward"
grep -q "^udp .*127.0.0.1:5353 .*192.0.2.1:7 " "$TMP/ls.txt" || fail "ls table lacks udp/5353"
"$TAPIR" --json forward "$NAME" ls >"$TMP/ls.json"
[ "$(jq '[.forwards[] | select(.proto=="tcp" and .host_port==9090 and .ns_port==80
	and .origin=="runtime")] | length' "$TMP/ls.json")" = 1 ] || fail "ls --json: $(cat "$TMP/ls.json")"
[ "$(jq '.forwards | length' "$TMP/ls.json")" = 3 ] || fail "ls --json has not 3 forwards"
curl -sf -o "$TMP/got2" http://127.0.0.1:9090/blob || fail "curl through the runtime forward"
cmp -s "$TMP/got2" "$TMP/www/blob" || fail "runtime forward: file differs"
[ "$(jq '.forwards[] | select(.host_port==8080) | .bytes_out' \
	<("$TAPIR" --json forward "$NAME" ls))" -ge 2000000 ] || fail "bytes_out not counted"
"$TAPIR" forward "$NAME" rm tcp 9090 >/dev/null || fail "forward rm"
if "$TAPIR" forward "$NAME" rm tcp 9090 2>/dev/null; then fail "rm of a removed forward succeeded"; fi
out=$("$PY" - <<'EOF'
import socket
s = socket.socket()
try:
    s.connect(("127.0.0.1", 9090)); print("connected")
except ConnectionRefusedError:
    print("refused")
EOF
)
[ "$out" = refused ] || fail "after rm: $out (expected ECONNREFUSED)"
pass "runtime forward: added, listed (table, --json), used, removed (then ECONNREFUSED)"

# --- half-close: the client's EOF reaches the server, its answer comes back ---
(exec "$TAPIR" exec "$NAME" -- socat TCP-LISTEN:81,bind=192.0.2.1,reuseaddr \
	SYSTEM:'cat >/dev/null; echo server-saw-eof') >/dev/null 2>&1 &
PIDS="$PIDS $!"
"$TAPIR" forward "$NAME" add tcp 8081 81 >/dev/null || fail "forward add 8081"
sleep 0.5
out=$("$PY" - <<'EOF'
import socket
s = socket.create_connection(("127.0.0.1", 8081), timeout=10)
s.sendall(b"x" * 100000)
s.shutdown(socket.SHUT_WR)
data = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
print(data.decode().strip())
EOF
)
[ "$out" = server-saw-eof ] || fail "half-close: got '$out'"
pass "half-close carried across (client EOF -> server, answer back, then EOF)"

# --- back-pressure: a host client that does not read holds tapird's memory down ---
# The server in the namespace sends 64 MB; the client reads nothing for 3 s,
# then everything.  tapird may hold one forward's queue (256 KiB) plus the
# flow's receive window, not the 64 MB.
(exec "$TAPIR" exec "$NAME" -- socat TCP-LISTEN:83,bind=192.0.2.1,reuseaddr \
	SYSTEM:'head -c 67108864 /dev/zero') >/dev/null 2>&1 &
PIDS="$PIDS $!"
"$TAPIR" forward "$NAME" add tcp 8083 83 >/dev/null || fail "forward add 8083"
sleep 0.5
TPID=$("$TAPIR" --json status "$NAME" | jq .pid)
RSS0=$(awk '/^VmRSS/ { print $2 }' "/proc/$TPID/status")
out=$("$PY" - "$TPID" <<'EOF'
import socket, sys, time
pid = sys.argv[1]
def rss():
    for l in open(f"/proc/{pid}/status"):
        if l.startswith("VmRSS"):
            return int(l.split()[1])
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
s.settimeout(30)
s.connect(("127.0.0.1", 8083))
time.sleep(3)
peak = rss()
n = 0
while True:
    b = s.recv(1 << 20)
    if not b:
        break
    n += len(b)
print(n, peak)
EOF
)
read -r got peak <<<"$out"
[ "$got" = 67108864 ] || fail "slow reader got $got bytes, not 64 MB"
[ $((peak - RSS0)) -lt 16384 ] || fail "tapird grew by $((peak - RSS0)) KiB with a slow reader"
pass "slow host reader: tapird grew $((peak - RSS0)) KiB while 64 MB waited; all 64 MB then arrived"

# --- a host client that goes away mid-stream: tapird lives on (EPIPE, not SIGPIPE) ---
(exec "$TAPIR" exec "$NAME" -- socat TCP-LISTEN:84,bind=192.0.2.1,reuseaddr,fork \
	SYSTEM:'cat /dev/zero') >/dev/null 2>&1 &
PIDS="$PIDS $!"
"$TAPIR" forward "$NAME" add tcp 8084 84 >/dev/null || fail "forward add 8084"
sleep 0.5
set +e
"$PY" - <<'EOF'
import socket
for _ in range(20):
    s = socket.create_connection(("127.0.0.1", 8084), timeout=10)
    n = 0
    while n < 4 << 20:
        n += len(s.recv(1 << 20))
    s.close()
EOF
rc=$?
set -e
[ "$rc" = 0 ] || fail "host clients leaving mid-stream: the forward broke (tapird died?)"
sleep 0.5
kill -0 "$TPID" 2>/dev/null || fail "tapird died when a host client left mid-stream"
"$TAPIR" status "$NAME" >/dev/null || fail "tapird does not answer after a client left mid-stream"
pass "host clients leaving mid-stream: tapird lives on"

# --- a closed namespace port: the host connection is reset ---
"$TAPIR" forward "$NAME" add tcp 8082 82 >/dev/null || fail "forward add 8082"
out=$("$PY" - <<'EOF'
import socket
try:
    s = socket.create_connection(("127.0.0.1", 8082), timeout=10)
    d = s.recv(10); print("eof" if not d else "data")
except ConnectionResetError:
    print("reset")
EOF
)
[ "$out" = reset ] || fail "closed namespace port: $out (expected a reset)"
pass "refused in the namespace -> the host connection is reset"

# --- UDP forward from the config: two peers, each gets its own answers ---
(exec "$TAPIR" exec "$NAME" -- socat UDP4-RECVFROM:7,bind=192.0.2.1,fork SYSTEM:'cat') \
	>/dev/null 2>&1 &
PIDS="$PIDS $!"
sleep 0.5
out=$("$PY" - <<'EOF'
import socket
res = []
for tag in (b"peer-one", b"peer-two"):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    for _ in range(5):
        s.sendto(tag, ("127.0.0.1", 5353))
        try:
            d, _a = s.recvfrom(100); res.append(d.decode()); break
        except socket.timeout:
            pass
print(" ".join(res))
EOF
)
[ "$out" = "peer-one peer-two" ] || fail "udp forward: '$out'"
pass "udp/5353 -> 192.0.2.1:7: two peers echoed"

# --- DNS through the relay, UDP and TCP ---
"$TAPIR" exec "$NAME" -- cat /etc/resolv.conf >"$TMP/resolv"
grep -q "^nameserver 192.0.2.2$" "$TMP/resolv" || fail "exec's resolv.conf: $(cat "$TMP/resolv")"
out=$("$TAPIR" exec "$NAME" -- getent hosts svc.gw.test) || fail "getent through the relay"
[ "$(echo "$out" | awk '{print $1}')" = 198.51.100.7 ] || fail "getent: '$out'"
# outside exec the host's resolv.conf is untouched
grep -q "192.0.2.2" /etc/resolv.conf && fail "/etc/resolv.conf changed outside exec"
out=$("$TAPIR" exec "$NAME" -- "$PY" - <<'EOF'
import socket, struct
def query(name, qid):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for l in name.split("."):
        q += bytes([len(l)]) + l.encode()
    return q + b"\0" + struct.pack(">HH", 1, 1)
def addr(ans, qid):
    assert struct.unpack(">H", ans[:2])[0] == qid, "id not restored"
    assert struct.unpack(">H", ans[6:8])[0] >= 1, "no answer"
    return socket.inet_ntoa(ans[-4:])
s = socket.create_connection(("192.0.2.2", 53), timeout=5)
m = query("SVC.gw.test", 0x4242)
s.sendall(struct.pack(">H", len(m)) + m)
n = struct.unpack(">H", s.recv(2, socket.MSG_WAITALL))[0]
a = s.recv(n, socket.MSG_WAITALL)
print(addr(a, 0x4242))
EOF
)
[ "$out" = 198.51.100.7 ] || fail "DNS over TCP through the relay: '$out'"
"$TAPIR" --json stats "$NAME" >"$TMP/stats.json"
[ "$(jq '.gateway_relay.dns_answers' "$TMP/stats.json")" -ge 2 ] || fail "dns_answers"
[ "$(jq '.gateway_relay.dns_queries_tcp' "$TMP/stats.json")" -ge 1 ] || fail "dns_queries_tcp"
[ "$(jq '.gateway_relay.fwd_tcp_ns_refused' "$TMP/stats.json")" -ge 1 ] || fail "ns_refused"
pass "DNS relayed over UDP (getent via exec's resolv.conf) and TCP (ID restored); counters"

# --- a truncated answer: the relay passes TC over UDP, the retry over TCP gets it all ---
# dnsmasq holds 60 A records for big.gw.test: over 512 bytes, so its UDP
# answer (no EDNS) has TC set; the client retries over TCP to tapird, which
# relays the query over TCP to dnsmasq (RFC 7766)
tcp0=$(jq '.gateway_relay.dns_queries_tcp' <("$TAPIR" --json stats "$NAME"))
out=$("$TAPIR" exec "$NAME" -- "$PY" - <<'EOF'
import socket, struct
def query(name, qid):
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    for l in name.split("."):
        q += bytes([len(l)]) + l.encode()
    return q + b"\0" + struct.pack(">HH", 1, 1)
def show(how, a, qid):
    flags, an = struct.unpack(">HH", a[2:4] + a[6:8])
    assert struct.unpack(">H", a[:2])[0] == qid, "id not restored"
    return "%s %s %d" % (how, "TC" if flags & 0x0200 else "whole", an)
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(5)
u.sendto(query("big.gw.test", 0x1111), ("192.0.2.2", 53))
a, _ = u.recvfrom(65535)
res = [show("udp", a, 0x1111)]
s = socket.create_connection(("192.0.2.2", 53), timeout=5)
m = query("big.gw.test", 0x2222)
s.sendall(struct.pack(">H", len(m)) + m)
n = struct.unpack(">H", s.recv(2, socket.MSG_WAITALL))[0]
res.append(show("tcp", s.recv(n, socket.MSG_WAITALL), 0x2222))
print(", ".join(res))
EOF
) || fail "the truncated answer client"
[ "$out" = "udp TC 30, tcp whole 60" ] || fail "TC over UDP, then TCP: got '$out'"
# glibc's resolver does the same retry by itself
n=$("$TAPIR" exec "$NAME" -- getent ahostsv4 big.gw.test | awk '{print $1}' | sort -u | wc -l)
[ "$n" = 60 ] || fail "getent through the relay got $n of the 60 addresses"
tcp1=$(jq '.gateway_relay.dns_queries_tcp' <("$TAPIR" --json stats "$NAME"))
[ $((tcp1 - tcp0)) -ge 2 ] || fail "dns_queries_tcp went from $tcp0 to $tcp1"
pass "a truncated answer: TC passed over UDP, the TCP retries (ours and glibc's) get all 60 records"

# --- the forwards' UDP flows end after udp_idle_timeout (2 s) ---
sleep 3
[ "$(jq '.gateway_relay.fwd_udp_expired' <("$TAPIR" --json stats "$NAME"))" -ge 2 ] ||
	fail "the forward's two UDP flows did not expire after udp_idle_timeout"
pass "the forward's UDP flows expired after udp_idle_timeout"

# --- max_flows is one cap for the forwards and the gateway ---
"$TAPIR" down "$NAME" >/dev/null || fail "tapir down"
if grep -E "Sanitizer|runtime error" "$TAPIRD_LOG" >&2; then fail "sanitizer reports in the log"; fi
# --- a truncated answer without its question (QDCOUNT 0, as some servers send) ---
# A resolver of our own on H's 127.0.0.2 answers UDP with a bare TC header
# and TCP with the address; the relay matches the bare TC by server and ID,
# puts the question back in, and glibc's stub retries over TCP
cat >"$TMP/baretc.py" <<'EOF'
import socket, struct, sys, threading, os
def answer(q):
    qid = q[:2]
    qd_end = 12
    while q[qd_end]:
        qd_end += 1 + q[qd_end]
    question = q[12:qd_end + 5]
    rr = b"\xc0\x0c" + struct.pack(">HHIH", 1, 1, 60, 4) + socket.inet_aton("198.51.100.77")
    return qid + b"\x81\x80" + struct.pack(">HHHH", 1, 1, 0, 0) + question + rr
def udp():
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.2", 53))
    while True:
        q, a = u.recvfrom(4096)
        u.sendto(q[:2] + b"\x83\x80" + b"\0" * 8, a)   # QR TC RD RA, every count 0
def tcp():
    l = socket.socket()
    l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    l.bind(("127.0.0.2", 53))
    l.listen(8)
    open(sys.argv[1], "w").close()
    while True:
        c, _ = l.accept()
        n = struct.unpack(">H", c.recv(2, socket.MSG_WAITALL))[0]
        m = answer(c.recv(n, socket.MSG_WAITALL))
        c.sendall(struct.pack(">H", len(m)) + m)
        c.close()
threading.Thread(target=udp, daemon=True).start()
tcp()
EOF
"$PY" "$TMP/baretc.py" "$TMP/baretc.ready" &
PIDS="$PIDS $!"
for _ in $(seq 1 50); do [ -f "$TMP/baretc.ready" ] && break; sleep 0.1; done
"$TAPIR" up "$NAME" --config "$TMP/gw.conf" --netns new --gateway -- --gateway.max_flows=2 \
	--gateway.dns=127.0.0.2 >/dev/null || fail "tapir up with max_flows = 2"
(exec "$TAPIR" exec "$NAME" -- socat TCP-LISTEN:80,bind=192.0.2.1,reuseaddr,fork SYSTEM:'cat') \
	>/dev/null 2>&1 &
PIDS="$PIDS $!"
(exec "$TAPIR" exec "$NAME" -- socat UDP4-RECVFROM:7,bind=192.0.2.1,fork SYSTEM:'cat') \
	>/dev/null 2>&1 &
PIDS="$PIDS $!"
for _ in $(seq 1 40); do
	"$TAPIR" exec "$NAME" -- socat -T 1 /dev/null TCP4:192.0.2.1:80 2>/dev/null && break
	sleep 0.25
done
sleep 0.5
cat >"$TMP/hold2.py" <<'EOF'
import os, socket, sys, time
held = []
for i in range(2):
    s = socket.create_connection(("127.0.0.1", 8080), timeout=10)
    s.sendall(b"held %d\n" % i)
    assert s.recv(100) == b"held %d\n" % i
    held.append(s)
try:  # (the reset may come before connect() has returned)
    s = socket.create_connection(("127.0.0.1", 8080), timeout=10)
    s.sendall(b"third\n")
    third = "data" if s.recv(100) else "eof"
except ConnectionResetError:
    third = "reset"
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.settimeout(1)
u.sendto(b"new peer", ("127.0.0.1", 5353))
try:
    u.recvfrom(100)
    udp = "answered"
except socket.timeout:
    udp = "dropped"
with open(sys.argv[1] + "/hold2.out", "w") as f:
    f.write("%s %s\n" % (third, udp))
# hold the two until the namespace side has been tried
while not os.path.exists(sys.argv[1] + "/flows.done"):
    time.sleep(0.1)
EOF
"$PY" "$TMP/hold2.py" "$TMP" &
HOLDER=$!
for _ in $(seq 1 100); do [ -s "$TMP/hold2.out" ] && break; sleep 0.1; done
ns=$("$TAPIR" exec "$NAME" -- "$PY" "$CONNECT" 198.51.100.9 80 10)
"$TAPIR" --json conns "$NAME" >"$TMP/conns2.json"
"$TAPIR" conns "$NAME" >"$TMP/conns2.txt"
"$TAPIR" --json stats "$NAME" >"$TMP/stats2.json"
touch "$TMP/flows.done"
wait "$HOLDER" || fail "the holding client: $(cat "$TMP/hold2.out" 2>/dev/null);" \
	"$(jq -c '.gateway, .gateway_relay' "$TMP/stats2.json")"
[ "$(cat "$TMP/hold2.out")" = "reset dropped" ] ||
	fail "past max_flows, the host saw '$(cat "$TMP/hold2.out")' (want: reset dropped)"
[ "$ns" = ECONNREFUSED ] || fail "a namespace connection past max_flows: $ns"
[ "$(jq '.gateway.flows' "$TMP/stats2.json")" = 2 ] ||
	fail "the forwards' connections are not the gateway's flows: $(jq -c .gateway "$TMP/stats2.json")"
[ "$(jq '.gateway_relay.fwd_tcp_limit' "$TMP/stats2.json")" = 1 ] || fail "fwd_tcp_limit"
[ "$(jq '.gateway_relay.fwd_udp_limit' "$TMP/stats2.json")" = 1 ] || fail "fwd_udp_limit"
[ "$(jq '.gateway.tcp_refused_limit' "$TMP/stats2.json")" = 1 ] || fail "tcp_refused_limit"
[ "$(jq '[.spliced[] | select(.forward and .proto == "tcp" and .state == "OPEN"
	and .host_local_addr == "127.0.0.1" and .host_local_port == 8080 and .host_peer_port > 0
	and .ns_addr == "192.0.2.1" and .ns_port == 80 and .bytes_to_ns == 7
	and .bytes_to_host == 7)] | length' "$TMP/conns2.json")" = 2 ] ||
	fail "conns --json lacks the two forwarded connections: $(jq -c .spliced "$TMP/conns2.json")"
[ "$(grep -c "^tcp   OPEN .*192.0.2.1:80 .*127.0.0.1:8080 " "$TMP/conns2.txt")" = 2 ] ||
	fail "conns table: $(cat "$TMP/conns2.txt")"
pass "tapir conns lists the two forwarded connections (both ends, bytes, state)"
pass "max_flows = 2, two forwarded connections held: a third reset, a new UDP peer dropped, a namespace connection refused; each counted"

out=$("$TAPIR" exec "$NAME" -- getent ahostsv4 bare.gw.test) ||
	fail "getent through a bare TC answer: $(jq -c .gateway_relay <("$TAPIR" --json stats "$NAME"))"
[ "$(echo "$out" | awk 'NR == 1 {print $1}')" = 198.51.100.77 ] || fail "bare TC, then TCP: '$out'"
"$TAPIR" --json stats "$NAME" >"$TMP/stats3.json"
[ "$(jq '.gateway_relay.dns_queries_tcp' "$TMP/stats3.json")" -ge 1 ] || fail "no TCP retry counted"
[ "$(jq '.gateway_relay.dns_bad_answers' "$TMP/stats3.json")" = 0 ] ||
	fail "the bare TC answer was dropped: $(jq -c .gateway_relay "$TMP/stats3.json")"
pass "a truncated answer without its question: relayed with the question put in, the TCP retry answered"

# exec without the namespace's holder (RUNDIR/NAME.netns naming a process
# that is not tapird's child): refused, not run in tapird's namespace (H)
NSFILE="$TMP/run/$NAME.netns"
cp "$NSFILE" "$TMP/netns.saved"
echo $$ >"$NSFILE"
if "$TAPIR" exec "$NAME" -- touch "$TMP/ran" 2>"$TMP/exec.err"; then fail "exec ran without its holder"; fi
[ ! -e "$TMP/ran" ] || fail "exec without its holder ran the command"
grep_q "namespace is gone" "$TMP/exec.err" || fail "exec without its holder said: $(cat "$TMP/exec.err")"
rm -f "$NSFILE"
if "$TAPIR" exec "$NAME" -- touch "$TMP/ran" 2>"$TMP/exec.err"; then fail "exec ran without NAME.netns"; fi
[ ! -e "$TMP/ran" ] || fail "exec without NAME.netns ran the command"
cp "$TMP/netns.saved" "$NSFILE"
"$TAPIR" exec "$NAME" -- true || fail "exec with its holder back"
pass "exec refuses a gateway instance whose namespace holder is gone or unknown (nothing runs in the host's namespace)"

"$TAPIR" down "$NAME" >/dev/null || fail "tapir down"
trap cleanup EXIT
if grep -E "Sanitizer|runtime error" "$TAPIRD_LOG" >&2; then fail "sanitizer reports in the log"; fi
echo "gateway_forward: all passed"
