#!/bin/bash
# gateway.sh - `tapir up --netns new --gateway`: tapird as the router of a
# namespace, each flow spliced to a socket in the namespace tapir up ran in.
#
# The test makes a namespace H (unshare -rn) that plays the host: a veth pair
# with 198.51.100.1/24 and 198.51.100.2/24, servers on 198.51.100.2 and on
# H's 127.0.0.1, ping sockets allowed (ping_group_range).  From H it runs
# tapir up G --netns new --gateway; from inside G (tapir exec) it checks:
# a 100 MB HTTP download (SHA-256 equal), H's loopback through host_loopback
# (and nothing else of it), a UDP echo, a refused port (ECONNREFUSED), an
# unreachable host (EHOSTUNREACH from the ICMP), half-closes and resets both
# ways, ping, tapir conns and stats, 1,000 concurrent spliced connections from
# four client processes, that a slow reader on either side does not grow
# tapird's memory (back-pressure counters move, RSS stays within bounds), UDP
# idle expiry, and max_flows refusing (and counting) the flow past the cap.
# Nothing leaves H: tapird's sockets are H's, and H has no route but the veth.
set -euo pipefail
TAPIRD=$(realpath "$1")
TAPIR=$(realpath "$2")
export TAPIRD TAPIR
. "$(dirname "$0")/lib.sh"
enter_netns "$@"

export TAPIR_RUNTIME_DIR="$TMP/run"
mkdir -m 0700 "$TAPIR_RUNTIME_DIR"
ulimit -n 8192 2>/dev/null || true
INST=gw$$
cleanup_gw() {
	"$TAPIR" down "$INST" >/dev/null 2>&1 || true
	cleanup
}
trap cleanup_gw EXIT
TAPIRD_LOG="$TAPIR_RUNTIME_DIR/$INST.log"
in_g() { "$TAPIR" exec "$INST" -- "$@"; }

# ---- H: the host side ----
ip link add vh type veth peer name vp
ip addr add 198.51.100.1/24 dev vh
ip addr add 198.51.100.2/24 dev vp
ip link set vh up
ip link set vp up
# (only gid 0 exists in H: the range must be mapped there)
sysctl -qw net.ipv4.ping_group_range="0 0"
HOST=198.51.100.2

mkdir "$TMP/www" "$TMP/lo"
head -c 100000000 /dev/urandom >"$TMP/www/big"
echo "the host's loopback" >"$TMP/lo/index.html"
WANT=$(sha256sum <"$TMP/www/big" | cut -d' ' -f1)
(cd "$TMP/www" && exec $PY -m http.server --bind $HOST 8000) >/dev/null 2>&1 &
PIDS="$PIDS $!"
(cd "$TMP/lo" && exec $PY -m http.server --bind 127.0.0.1 8001) >/dev/null 2>&1 &
PIDS="$PIDS $!"
socat UDP4-RECVFROM:7007,bind=$HOST,fork SYSTEM:cat &
PIDS="$PIDS $!"

# Servers for the half-close, the echo of 1,000 connections and the slow readers
cat >"$TMP/servers.py" <<'PY'
import asyncio, sys, os
TMP = sys.argv[1]

async def read_to_eof(r):
    n = 0
    while True:
        b = await r.read(65536)
        if not b:
            return n
        n += len(b)

async def half_in(r, w):
    # the client shuts down first: count to EOF, then answer and close
    n = await read_to_eof(r)
    w.write(b"got %d\n" % n)
    await w.drain()
    w.close()

async def half_out(r, w):
    # we shut down first: a banner and FIN, then whatever the client sends
    w.write(b"banner\n")
    await w.drain()
    w.write_eof()
    data = b""
    while True:
        b = await r.read(65536)
        if not b:
            break
        data += b
    with open(os.path.join(TMP, "half_out.got"), "wb") as f:
        f.write(data)
    w.close()

async def echo(r, w):
    while True:
        b = await r.read(65536)
        if not b:
            break
        w.write(b)
        await w.drain()
    w.close()

async def blast(r, w):
    # sends 200 MB to a namespace reader that does not read for a while
    chunk = b"x" * 65536
    try:
        for _ in range(3200):
            w.write(chunk)
            await w.drain()
    except Exception:
        pass
    w.close()

async def sink_later(r, w):
    # does not read for 6 s, then reads everything
    await asyncio.sleep(6)
    n = await read_to_eof(r)
    with open(os.path.join(TMP, "sink.got"), "w") as f:
        f.write(str(n))
    w.close()

async def rst_from_host(r, w):
    # reads a line, then resets the connection (SO_LINGER 0)
    await r.readline()
    import socket, struct
    s = w.get_extra_info("socket")
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    w.transport.abort()

async def rst_to_host(r, w):
    # waits for the client's reset and records how the read ended
    try:
        while await r.read(65536):
            pass
        how = "EOF"
    except ConnectionResetError:
        how = "ECONNRESET"
    with open(os.path.join(TMP, "rst_to_host.got"), "w") as f:
        f.write(how)
    w.close()

async def main():
    host = "198.51.100.2"
    srv = [await asyncio.start_server(half_in, host, 9001),
           await asyncio.start_server(half_out, host, 9002),
           await asyncio.start_server(echo, host, 9003, backlog=2048),
           await asyncio.start_server(blast, host, 9004),
           await asyncio.start_server(sink_later, host, 9005),
           await asyncio.start_server(rst_from_host, host, 9006),
           await asyncio.start_server(rst_to_host, host, 9007)]
    open(os.path.join(TMP, "servers.ready"), "w").close()
    await asyncio.gather(*(s.serve_forever() for s in srv))

asyncio.run(main())
PY
$PY "$TMP/servers.py" "$TMP" &
PIDS="$PIDS $!"
for _ in $(seq 1 50); do [ -f "$TMP/servers.ready" ] && break; sleep 0.1; done
[ -f "$TMP/servers.ready" ] || fail "the servers did not start"

# ---- G: the namespace behind tapird ----
cat >"$TMP/g.conf" <<CONF
[netif]
name = tap0

[ipv4]
address = 192.0.2.2/24
gateway = 192.0.2.1

[gateway]
host_loopback = 198.51.100.254
flow_buffer = 256KiB
total_buffer = 16MiB
udp_idle_timeout = 3s
CONF
"$TAPIR" up "$INST" --config "$TMP/g.conf" --netns new --gateway >/dev/null ||
	fail "tapir up --gateway"
TAPIRD_PID=$("$TAPIR" status "$INST" --json | jq -r .pid)
[ "$(readlink /proc/"$TAPIRD_PID"/ns/net)" = "$(readlink /proc/self/ns/net)" ] ||
	fail "tapird is not in H's namespace"
[ "$(in_g readlink /proc/self/ns/net)" != "$(readlink /proc/self/ns/net)" ] ||
	fail "tapir exec ran in H, not in the new namespace"
routes=$(in_g ip route)
grep -q "default via 192.0.2.2 dev tap0" <<<"$routes" || fail "no default route via tapird: $routes"
pass "tapir up --gateway: tapird in H, the namespace routed through it"

stat_of() { "$TAPIR" stats "$INST" --json | jq -r ".gateway.$1"; }
rss_kb() { awk '/^VmRSS/ {print $2}' /proc/"$TAPIRD_PID"/status; }

# 100 MB over HTTP, the SHA-256 equal
GOT=$(in_g curl -sS -m 120 "http://$HOST:8000/big" | sha256sum | cut -d' ' -f1)
[ "$GOT" = "$WANT" ] || fail "100 MB download: sha256 $GOT, want $WANT"
pass "100 MB through the gateway, SHA-256 equal"

# H's loopback through host_loopback only
out=$(in_g curl -sS -m 10 http://198.51.100.254:8001/index.html)
[ "$out" = "the host's loopback" ] || fail "host_loopback: got '$out'"
in_g curl -sS -m 5 -o /dev/null http://127.0.0.1:8001/ 2>/dev/null &&
	fail "the namespace's own 127.0.0.1 reached H's loopback"
pass "host_loopback reaches H's 127.0.0.1; 127.0.0.1 in the namespace is its own"

# UDP echo
out=$(echo "ping over udp" | in_g socat -t 2 - UDP4:$HOST:7007)
[ "$out" = "ping over udp" ] || fail "UDP echo: got '$out'"
[ "$(stat_of udp_opened)" -ge 1 ] || fail "no UDP flow counted"
pass "UDP echo through the gateway"

# A refused port is ECONNREFUSED (the host's refusal as a RST), an
# unreachable host is EHOSTUNREACH (the ICMP host unreachable we send)
out=$(in_g $PY "$CONNECT" $HOST 8999)
[ "$out" = ECONNREFUSED ] || fail "refused port: got $out"
[ "$(stat_of tcp_host_refused)" -ge 1 ] || fail "tcp_host_refused not counted"
out=$(in_g $PY "$CONNECT" 198.51.100.77 80)
[ "$out" = EHOSTUNREACH ] || fail "unreachable host: got $out"
[ "$(stat_of tcp_host_unreach)" -ge 1 ] || fail "tcp_host_unreach not counted"
pass "refused port: ECONNREFUSED; unreachable host: EHOSTUNREACH"

# Half-close, the namespace first: the host sees EOF, then answers
out=$(head -c 300000 /dev/zero | in_g socat -t 5 - TCP4:$HOST:9001)
[ "$out" = "got 300000" ] || fail "half-close from the namespace: got '$out'"
# Half-close, the host first: the namespace reads to EOF, then still sends
cat >"$TMP/half_out.py" <<'PY'
import socket, sys
s = socket.create_connection((sys.argv[1], 9002), timeout=10)
data = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
s.sendall(b"after your FIN: " + data)
s.shutdown(socket.SHUT_WR)
s.recv(1)
print(data.decode().strip())
PY
out=$(in_g $PY "$TMP/half_out.py" $HOST)
[ "$out" = banner ] || fail "half-close from the host: read '$out'"
for _ in $(seq 1 20); do [ -s "$TMP/half_out.got" ] && break; sleep 0.1; done
[ "$(cat "$TMP/half_out.got")" = "after your FIN: banner" ] ||
	fail "half-close from the host: the host got '$(cat "$TMP/half_out.got" 2>/dev/null)'"
pass "half-close carried both ways"

# Resets both ways: the host's RST reaches the namespace client as
# ECONNRESET, the namespace client's RST reaches the host server as one
cat >"$TMP/rst.py" <<'PY'
import socket, struct, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
if sys.argv[3] == "expect":
    s.sendall(b"reset me\n")
    try:
        print("EOF" if s.recv(100) == b"" else "data")
    except ConnectionResetError:
        print("ECONNRESET")
else:
    s.sendall(b"about to reset\n")
    time.sleep(0.5)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
    print("reset")
PY
out=$(in_g $PY "$TMP/rst.py" $HOST 9006 expect)
[ "$out" = ECONNRESET ] || fail "host's reset: the namespace client saw $out"
in_g $PY "$TMP/rst.py" $HOST 9007 send >/dev/null
for _ in $(seq 1 30); do [ -s "$TMP/rst_to_host.got" ] && break; sleep 0.1; done
[ "$(cat "$TMP/rst_to_host.got" 2>/dev/null)" = ECONNRESET ] ||
	fail "namespace's reset: the host saw '$(cat "$TMP/rst_to_host.got" 2>/dev/null)'"
[ "$(stat_of tcp_rst_to_ns)" -ge 1 ] && [ "$(stat_of tcp_rst_to_host)" -ge 1 ] ||
	fail "resets not counted"
pass "resets carried both ways"

# Ping through ping sockets
in_g ping -c 2 -W 2 $HOST >/dev/null || fail "ping $HOST through the gateway"
[ "$(stat_of icmp_echo_replies)" -ge 2 ] || fail "icmp_echo_replies not counted"
pass "ping through ping sockets"

# tapir conns: a held connection with both ends, bytes and state
cat >"$TMP/hold.py" <<'PY'
import socket, sys, time
s = socket.create_connection((sys.argv[1], 9003))
s.sendall(b"hello\n")
s.recv(100)
time.sleep(float(sys.argv[2]))
PY
in_g $PY "$TMP/hold.py" $HOST 4 &
HOLD=$!
sleep 1.5
"$TAPIR" conns "$INST" --json >"$TMP/conns.json"
jq -e '.spliced[] | select(.proto == "tcp" and .dst_port == 9003 and .ns_addr == "192.0.2.1"
	and .dst_addr == "198.51.100.2" and .host_peer_port == 9003 and .state == "OPEN"
	and .bytes_to_host == 6 and .bytes_to_ns == 6 and .host_local_port > 0)' \
	"$TMP/conns.json" >/dev/null || fail "conns --json: $(cat "$TMP/conns.json")"
table=$("$TAPIR" conns "$INST")
grep -q "^tcp   OPEN .*192.0.2.1:.*198.51.100.2:9003" <<<"$table" || fail "conns table: $table"
wait "$HOLD"
pass "tapir conns shows the spliced flow, both ends, bytes and state"

# 1,000 concurrent spliced connections from four client processes
cat >"$TMP/many.py" <<'PY'
import asyncio, sys, os
host, n, ready, go = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]

async def main():
    conns = []
    for i in range(n):
        r, w = await asyncio.open_connection(host, 9003)
        conns.append((r, w))
    for i, (r, w) in enumerate(conns):
        w.write(b"conn %d\n" % i)
    for i, (r, w) in enumerate(conns):
        line = await asyncio.wait_for(r.readline(), 30)
        assert line == b"conn %d\n" % i, line
    open(ready, "w").close()
    while not os.path.exists(go):
        await asyncio.sleep(0.1)
    for r, w in conns:
        w.close()
    print("ok")

asyncio.run(main())
PY
for i in 1 2 3 4; do
	in_g $PY "$TMP/many.py" $HOST 250 "$TMP/many$i.ready" "$TMP/many.go" >"$TMP/many$i.out" 2>&1 &
	eval "MANY$i=\$!"
done
for _ in $(seq 1 600); do
	n=$(find "$TMP" -maxdepth 1 -name 'many*.ready' | wc -l)
	[ "$n" = 4 ] && break
	sleep 0.1
done
[ "$n" = 4 ] || fail "1,000 connections: only $n of 4 clients ready; $(cat "$TMP"/many*.out)"
flows=$(stat_of flows)
[ "$flows" -ge 1000 ] || fail "1,000 connections: the gateway holds $flows flows"
touch "$TMP/many.go"
for i in 1 2 3 4; do
	eval "wait \$MANY$i" || fail "client $i: $(cat "$TMP/many$i.out")"
done
pass "1,000 concurrent spliced connections ($flows flows at once)"

# A slow reader in the namespace: the host blasts 200 MB, nobody reads for
# 5 s; tapird stops reading the host socket instead of growing
cat >"$TMP/slow.py" <<'PY'
import socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
if sys.argv[3] == "read-late":
    time.sleep(5)
    n = 0
    while True:
        b = s.recv(1 << 20)
        if not b:
            break
        n += len(b)
    print(n)
else:
    # write 100 MB to a host that does not read for 6 s
    chunk = b"y" * 65536
    for _ in range(1600):
        s.sendall(chunk)
    s.shutdown(socket.SHUT_WR)
    s.recv(1)
    print("sent")
PY
before=$(rss_kb)
in_g $PY "$TMP/slow.py" $HOST 9004 read-late >"$TMP/slow1.out" &
SLOW=$!
sleep 4
during=$(rss_kb)
paused=$(stat_of tcp_host_paused)
wait "$SLOW" || fail "slow reader client"
[ "$(cat "$TMP/slow1.out")" = 209715200 ] || fail "slow reader got $(cat "$TMP/slow1.out") bytes"
[ "$paused" -ge 1 ] || fail "host reading never paused for the slow namespace reader"
[ $((during - before)) -lt 32768 ] ||
	fail "tapird grew from $before to $during KiB with a slow namespace reader"
pass "slow namespace reader: host reading paused, tapird RSS +$((during - before)) KiB"

# A slow reader on the host: the namespace sends 100 MB, the host reads late
before=$(rss_kb)
in_g $PY "$TMP/slow.py" $HOST 9005 write >"$TMP/slow2.out" &
SLOW=$!
sleep 4
during=$(rss_kb)
paused=$(stat_of tcp_ns_paused)
wait "$SLOW" || fail "slow host reader client"
for _ in $(seq 1 50); do [ -s "$TMP/sink.got" ] && break; sleep 0.2; done
[ "$(cat "$TMP/sink.got")" = 104857600 ] || fail "the slow host reader got $(cat "$TMP/sink.got")"
[ "$paused" -ge 1 ] || fail "the namespace side never paused for the slow host reader"
[ $((during - before)) -lt 32768 ] ||
	fail "tapird grew from $before to $during KiB with a slow host reader"
pass "slow host reader: namespace side paused, tapird RSS +$((during - before)) KiB"

# UDP flows end after udp_idle_timeout
sleep 4.5
[ "$(stat_of udp_expired)" -ge 1 ] || fail "the UDP flow did not expire"
pass "UDP flow expired after udp_idle_timeout"

"$TAPIR" down "$INST" >/dev/null || fail "tapir down"
pass "tapir down"

# max_flows: with room for two flows, a third connection is refused (RST,
# ECONNREFUSED in the namespace) and counted.  And pings refused and counted
# (icmp_echo = false; an empty ping_group_range cannot be set in H, whose
# only group is 0, but takes the same path: no ping socket)
"$TAPIR" up "$INST" --config "$TMP/g.conf" --netns new --gateway -- --gateway.max_flows=2 \
	--gateway.icmp_echo=false >/dev/null || fail "tapir up with max_flows = 2"
in_g ping -c 1 -W 1 $HOST >/dev/null 2>&1 && fail "ping answered with icmp_echo = false"
[ "$(stat_of icmp_refused)" = 1 ] || fail "icmp_refused: $(stat_of icmp_refused)"
in_g $PY "$TMP/hold.py" $HOST 3 &
H1=$!
in_g $PY "$TMP/hold.py" $HOST 3 &
H2=$!
sleep 1.5
out=$(in_g $PY "$CONNECT" $HOST 9003)
[ "$out" = ECONNREFUSED ] || fail "a third flow past max_flows: got $out"
[ "$(stat_of tcp_refused_limit)" = 1 ] || fail "tcp_refused_limit: $(stat_of tcp_refused_limit)"
wait "$H1" "$H2" || fail "the two held connections"
"$TAPIR" down "$INST" >/dev/null || fail "tapir down"
pass "max_flows: the flow past the cap refused and counted; pings refused and counted"
