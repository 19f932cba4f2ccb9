#!/bin/bash
# tcp.sh - tapird's TCP against the Linux kernel over a TAP, lossless:
#   * 100 MB kernel->tapird->kernel through echo (socat, half-close at EOF),
#     SHA-256 of what came back equal to what was sent;
#   * 100 MB tapird->kernel from source, SHA-256 equal to the pattern's;
#   * 200 concurrent connections to echo, each with its own data echoed intact;
#   * connecting to a closed port is refused at once (nc -z, and ECONNREFUSED);
#   * close states as the kernel sees them (ss):
#     - kernel closes first, tapird answers: FIN_WAIT_2 (held while tapird's
#       FIN waits behind data) -> TIME_WAIT, tapird sends exactly one FIN and
#       no RST;
#     - tapird closes first (SIGTERM stops tapird, its apps close every
#       flow): the kernel sees tapird's FIN after all data (CLOSE_WAIT), then
#       LAST_ACK when it closes; a restarted tapird answers the kernel's
#       retransmitted FIN with RST and the kernel's socket goes away.
set -euo pipefail
TAPIRD=$(realpath "$1")
HERE=$(dirname "$(realpath "$0")")
. "$HERE/tcp_lib.sh"
tcp_enter_netns "$@"
T_START=$(now_ms)

tcp_setup

echo_bulk 100000000 "lossless"
source_bulk 100000000 "lossless"

# ---- 200 concurrent connections to echo
$PY - 200 <<'PYEOF' || fail "200 concurrent echo connections"
import errno, os, selectors, socket, subprocess, sys, time
n = int(sys.argv[1])
sel = selectors.DefaultSelector()
conns = []
for i in range(n):
    s = socket.socket()
    s.setblocking(False)
    rc = s.connect_ex(("192.0.2.2", 7))
    if rc not in (0, errno.EINPROGRESS):
        sys.exit(f"connect {i}: {os.strerror(rc)}")
    # distinct data per connection: its index, then random bytes
    data = i.to_bytes(4, "big") + os.urandom(20000 + 97 * i)
    conns.append({"s": s, "i": i, "data": data, "sent": 0, "got": bytearray(),
                  "connected": False, "eof": False})
    sel.register(s, selectors.EVENT_WRITE, conns[-1])
# wait until all are established before sending anything
deadline = time.time() + 30
pending = n
while pending:
    if time.time() > deadline:
        sys.exit(f"only {n - pending} of {n} connections established")
    for key, _ in sel.select(1):
        c = key.data
        if c["connected"]:
            continue
        err = c["s"].getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        if err:
            sys.exit(f"connection {c['i']}: {os.strerror(err)}")
        c["connected"] = True
        sel.modify(c["s"], selectors.EVENT_READ, c)
        pending -= 1
est = subprocess.run(["ss", "-tanH", "state", "established", "dst", "192.0.2.2"],
                     capture_output=True, text=True).stdout.count("\n")
if est < n:
    sys.exit(f"ss shows {est} established connections, want {n}")
print(f"  {n} connections established at once (ss: {est})")
for c in conns:
    sel.modify(c["s"], selectors.EVENT_READ | selectors.EVENT_WRITE, c)
done = 0
deadline = time.time() + 120
while done < n:
    if time.time() > deadline:
        bad = [c["i"] for c in conns if not c["eof"]]
        sys.exit(f"timeout: {len(bad)} connections unfinished, e.g. {bad[:5]}")
    for key, ev in sel.select(1):
        c = key.data
        s = c["s"]
        if ev & selectors.EVENT_WRITE and c["sent"] < len(c["data"]):
            try:
                c["sent"] += s.send(c["data"][c["sent"]:c["sent"] + 65536])
            except BlockingIOError:
                pass
            if c["sent"] == len(c["data"]):
                s.shutdown(socket.SHUT_WR)
                sel.modify(s, selectors.EVENT_READ, c)
        if ev & selectors.EVENT_READ:
            try:
                b = s.recv(65536)
            except BlockingIOError:
                continue
            if b:
                c["got"] += b
                continue
            if c["got"] != c["data"]:
                sys.exit(f"connection {c['i']}: {len(c['got'])} of {len(c['data'])} "
                         "bytes echoed, content " +
                         ("equal so far" if c["data"].startswith(c["got"]) else "differs"))
            c["eof"] = True
            sel.unregister(s)
            s.close()
            done += 1
print(f"  {n} connections echoed {sum(len(c['data']) for c in conns)} bytes")
PYEOF
pass "200 concurrent connections to echo, each echoed intact, then closed"
tapird_alive

# ---- a closed port is refused at once
t0=$(now_ms)
if nc -z -w 2 192.0.2.2 4444 2>/dev/null; then
	fail "nc -z to closed port 4444 succeeded"
fi
t1=$(now_ms)
[ $((t1 - t0)) -lt 1000 ] || fail "nc -z to a closed port took $((t1 - t0)) ms"
$PY - <<'PYEOF' || fail "connect to a closed port was not refused"
import socket, sys, time
s = socket.socket()
s.settimeout(3)
t = time.monotonic()
try:
    s.connect(("192.0.2.2", 4444))
except ConnectionRefusedError:
    print(f"  ECONNREFUSED after {(time.monotonic() - t) * 1000:.1f} ms")
    sys.exit(0)
except OSError as e:
    sys.exit(f"connect: {e}")
sys.exit("connect to closed port 4444 succeeded")
PYEOF
pass "nc -z to a closed port refused in $((t1 - t0)) ms (ECONNREFUSED)"

# ---- close states seen by the kernel
DUMP_OK=0
if [ "$TCP_REAL_ROOT" = 1 ] && command -v tcpdump >/dev/null; then
	tcpdump -i tap0 -n -l -tt -S tcp >"$TMP/close.dump" 2>"$TMP/close.dump.err" &
	DUMP_PID=$!
	PIDS="$PIDS $DUMP_PID"
	sleep 1
	DUMP_OK=1
fi

# Kernel closes first, twice: echo (tapird's FIN follows at once) and source
# (tapird's FIN waits behind the data the kernel has not read: FIN_WAIT_2).
PORTS=$($PY - <<'PYEOF'
import socket, subprocess, sys, time

def state(port):
    out = subprocess.run(["ss", "-tanH", "sport", "=", f":{port}"],
                         capture_output=True, text=True).stdout.split()
    return out[0] if out else "gone"

def read_to_eof(s, limit, check=None):
    s.settimeout(10)
    n = 0
    while True:
        b = s.recv(65536)
        if not b:
            return n
        if check:
            check(n, b)
        n += len(b)
        if n > limit:
            sys.exit(f"more than {limit} bytes before FIN")

# 1. echo: data, half-close, the rest, FIN -> TIME_WAIT
s = socket.create_connection(("192.0.2.2", 7), timeout=5)
p1 = s.getsockname()[1]
data = bytes(range(256)) * 40
s.sendall(data)
got = b""
while len(got) < len(data):
    got += s.recv(65536)
if got != data:
    sys.exit("echo differs")
s.shutdown(socket.SHUT_WR)
if read_to_eof(s, 0) != 0:
    sys.exit("echo sent data after the echo")
st = state(p1)
if st != "TIME-WAIT":
    sys.exit(f"echo, kernel closed first: state {st} after tapird's FIN, want TIME-WAIT")
s.close()
st = state(p1)
if st != "TIME-WAIT":
    sys.exit(f"echo: state {st} after close(), want TIME-WAIT")
print(f"  echo: kernel FIN -> tapird FIN -> kernel TIME-WAIT (port {p1})", file=sys.stderr)

# 2. source: a small receive buffer, half-close while tapird's data is in
# flight: our FIN is acknowledged (FIN-WAIT-2), tapird's follows its data.
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32768)
s.settimeout(5)
s.connect(("192.0.2.2", 19))
p2 = s.getsockname()[1]
first = s.recv(1000)
time.sleep(0.3)  # let the buffers fill
s.shutdown(socket.SHUT_WR)
for _ in range(20):
    time.sleep(0.1)
    st = state(p2)
    if st == "FIN-WAIT-2":
        break
if st != "FIN-WAIT-2":
    sys.exit(f"source: state {st} after our FIN, want FIN-WAIT-2 (FIN acked, data pending)")
def check(off, b, base=len(first)):
    for k in (0, len(b) - 1):
        if b[k] != 32 + (base + off + k) % 95:
            sys.exit(f"source: byte {base + off + k} is {b[k]}")
n = read_to_eof(s, 16 << 20, check)
st = state(p2)
if st != "TIME-WAIT":
    sys.exit(f"source: state {st} after tapird's FIN, want TIME-WAIT")
s.close()
print(f"  source: FIN-WAIT-2 while {n} more bytes came, then FIN -> TIME-WAIT "
      f"(port {p2})", file=sys.stderr)
print(p1, p2)
PYEOF
) || fail "kernel closes first (see above)"
pass "kernel closes first: FIN-WAIT-2 -> TIME-WAIT on echo and source"
tapird_alive

# Tapird closes first: stop it with a connection open.  Its apps close every
# flow (FIN); the kernel must see all the data, then the FIN: CLOSE-WAIT.
$PY - "$TAPIRD_PID" >"$TMP/active.out" <<'PYEOF' &
import os, socket, subprocess, sys, time
def state(port):
    out = subprocess.run(["ss", "-tanH", "sport", "=", f":{port}"],
                         capture_output=True, text=True).stdout.split()
    return out[0] if out else "gone"
s = socket.create_connection(("192.0.2.2", 7), timeout=5)
p = s.getsockname()[1]
s.sendall(b"before the end")
if s.recv(100) != b"before the end":
    sys.exit("echo differs")
print(p, flush=True)
os.kill(int(sys.argv[1]), 15)
for _ in range(50):
    time.sleep(0.1)
    st = state(p)
    if st == "CLOSE-WAIT":
        break
if st != "CLOSE-WAIT":
    sys.exit(f"after tapird closed: state {st}, want CLOSE-WAIT")
s.settimeout(2)
if s.recv(100) != b"":
    sys.exit("data after tapird's FIN")
s.close()
st = state(p)
if st != "LAST-ACK":
    sys.exit(f"after our close: state {st}, want LAST-ACK (tapird is gone)")
print("ok", flush=True)
PYEOF
ACT_PID=$!
wait "$TAPIRD_PID" && rc=0 || rc=$?
[ "$rc" = 0 ] || fail "tapird exited with $rc on SIGTERM"
wait "$ACT_PID" || fail "tapird closes first: $(cat "$TMP/active.out")"
P3=$(head -1 "$TMP/active.out")
pass "tapird closes first (SIGTERM): kernel CLOSE-WAIT after the data, LAST-ACK after its close"

# A new tapird knows nothing of the connection: the kernel's retransmitted FIN
# gets a RST and the kernel's LAST-ACK socket goes away.
start_tapird "$TMP/tapird.conf"
gone=0
for _ in $(seq 1 100); do
	if [ -z "$(ss -tanH sport = ":$P3")" ]; then gone=1; break; fi
	sleep 0.1
done
[ "$gone" = 1 ] || fail "kernel socket of port $P3 still $(ss -tanH sport = ":$P3")" \
	"10 s after tapird restarted"
pass "restarted tapird resets the kernel's LAST-ACK connection"

if [ "$DUMP_OK" = 1 ]; then
	sleep 0.5
	kill "$DUMP_PID"
	wait "$DUMP_PID" 2>/dev/null || true
	read -r P1 P2 <<<"$PORTS"
	[ -n "$P2" ] || fail "no ports from the close test"
	for p in $P1 $P2; do
		fins=$(grep -c "IP 192\.0\.2\.2\.[0-9]* > 192\.0\.2\.1\.$p: Flags \[F" "$TMP/close.dump" || true)
		rsts=$(grep -c "IP 192\.0\.2\.2\.[0-9]* > 192\.0\.2\.1\.$p: Flags \[R" "$TMP/close.dump" || true)
		[ "$fins" = 1 ] && [ "$rsts" = 0 ] || {
			grep "192\.0\.2\.1\.$p[:> ]" "$TMP/close.dump" | tail -20 >&2
			fail "port $p: tapird sent $fins FINs and $rsts RSTs, want 1 and 0"
		}
	done
	fins=$(grep -c "IP 192\.0\.2\.2\.7 > 192\.0\.2\.1\.$P3: Flags \[F" "$TMP/close.dump" || true)
	rsts=$(grep -c "IP 192\.0\.2\.2\.7 > 192\.0\.2\.1\.$P3: Flags \[R" "$TMP/close.dump" || true)
	[ "$fins" -ge 1 ] && [ "$rsts" -ge 1 ] || {
		grep "192\.0\.2\.1\.$P3[:> ]" "$TMP/close.dump" | tail -20 >&2
		fail "port $P3: $fins FINs and $rsts RSTs from tapird, want a FIN, then a RST"
	}
	pass "tcpdump: one FIN and no RST from tapird on each passive close;" \
		"FIN then RST (after restart) on tapird's active close"
fi
stop_tapird
echo "tcp: all passed in $(( ($(now_ms) - T_START) / 1000 )) s"
