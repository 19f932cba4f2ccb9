#!/bin/bash
# tcp_time_wait.sh - server-closed connections do not lock clients out
#
# tapird runs with --tcp.max_connections=64 and an http app.  A python client
# makes 2,000 HTTP/1.0 requests in a row, one connection each: tapird closes
# every connection first, so each ends in TIME_WAIT on tapird's side (2 MSL,
# 60 s).  TIME_WAIT is kept outside the connection table (issue 11, item 2),
# so every request must succeed, and so must one more connection afterwards,
# with all 2,000 still in TIME_WAIT.
set -euo pipefail
TAPIRD=$(realpath "$1")
HERE=$(dirname "$(realpath "$0")")
. "$HERE/tcp_lib.sh"
tcp_enter_netns "$@"
T_START=$(now_ms)
N=${TCP_TW_CONNS:-2000}

mkdir -p "$TMP/site"
printf 'hello\n' >"$TMP/site/a.txt"
cat >"$TMP/tapird.conf" <<CONF
[netif]
backend = tap
name = tap0
mac = 02:00:00:00:00:02
mtu = 1500

[ipv4]
address = 192.0.2.2/24
gateway = 192.0.2.1

[control]
enabled = false

[kv.site]
store = dir:$TMP/site

[app.web]
type = http
kv = site
port = 80
CONF

make_tap tap0 192.0.2.1/24
start_tapird "$TMP/tapird.conf" --tcp.max_connections=64
wait_ping 192.0.2.2

cat >"$TMP/tw.py" <<'PYEOF'
import socket, sys, time

n = int(sys.argv[1])

def get(i):
    s = socket.create_connection(("192.0.2.2", 80), timeout=5)
    s.sendall(b"GET /a.txt HTTP/1.0\r\n\r\n")
    data = b""
    while True:
        b = s.recv(4096)
        if not b:
            break          # tapird closed first: its side goes to TIME_WAIT
        data += b
    s.close()
    if not data.startswith(b"HTTP/1.") or b" 200 " not in data.split(b"\r\n")[0] \
            or not data.endswith(b"hello\n"):
        print(f"FAIL request {i}: {data[:80]!r}", flush=True)
        sys.exit(1)

t0 = time.monotonic()
for i in range(n):
    try:
        get(i)
    except OSError as e:
        print(f"FAIL request {i}: {e}", flush=True)
        sys.exit(1)
print(f"  {n} server-closed connections in {time.monotonic() - t0:.1f} s", flush=True)
# one more, with every one of them in TIME_WAIT on tapird's side
try:
    get(n)
except OSError as e:
    print(f"FAIL the connection after {n}: {e}", flush=True)
    sys.exit(1)
print("  a new connection after them: ok", flush=True)
PYEOF

"$PY" "$TMP/tw.py" "$N" || fail "clients locked out (see above)"
tapird_alive
stop_tapird
echo "PASS tcp_time_wait ($(( $(now_ms) - T_START )) ms)"
