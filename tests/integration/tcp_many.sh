#!/bin/bash
# tcp_many.sh - 10,000 concurrent connections from the kernel to tapird's echo
#
# A python client opens 10,000 connections (in batches, non-blocking) and
# holds them all open; every connection echoes its own few bytes twice (once
# as soon as all are open, and again after tapird's memory is read), then all
# are closed with FIN and each must see tapird's FIN.  ss must show all of
# them established at once.  tapird's VmRSS/VmHWM with everything open is
# reported; the target (under 100 MiB) is asserted for a build without
# AddressSanitizer (whose shadow memory inflates RSS), only reported with it.
set -euo pipefail
TAPIRD=$(realpath "$1")
HERE=$(dirname "$(realpath "$0")")
. "$HERE/tcp_lib.sh"
tcp_enter_netns "$@"
T_START=$(now_ms)
N=${TCP_MANY_CONNS:-10000}
RSS_LIMIT_KIB=$((100 * 1024))

ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
[ "$(ulimit -n)" -ge $((N + 100)) ] || fail "ulimit -n is $(ulimit -n), need $((N + 100))"

tcp_setup
echo "  tapird at start: $(tapird_mem)"

mkfifo "$TMP/to_py" "$TMP/from_py"
cat >"$TMP/many.py" <<'PYEOF'
import errno, os, selectors, socket, subprocess, sys, time

n = int(sys.argv[1])
ctl_in = sys.stdin  # the shell says when to go on

def say(msg):
    print(msg, flush=True)

sel = selectors.DefaultSelector()
socks = []
t0 = time.monotonic()
BATCH = 500
for start in range(0, n, BATCH):
    batch = []
    for i in range(start, min(n, start + BATCH)):
        s = socket.socket()
        s.setblocking(False)
        rc = s.connect_ex(("192.0.2.2", 7))
        if rc not in (0, errno.EINPROGRESS):
            say(f"FAIL connect {i}: {os.strerror(rc)}")
            sys.exit(1)
        batch.append(s)
        sel.register(s, selectors.EVENT_WRITE, i)
    left = len(batch)
    deadline = time.monotonic() + 60
    while left:
        if time.monotonic() > deadline:
            say(f"FAIL batch at {start}: {left} of {len(batch)} not established in 60 s")
            sys.exit(1)
        for key, _ in sel.select(1):
            err = key.fileobj.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if err:
                say(f"FAIL connection {key.data}: {os.strerror(err)}")
                sys.exit(1)
            sel.unregister(key.fileobj)
            left -= 1
    socks += batch
t_conn = time.monotonic() - t0

def echo_round(tag):
    """Every connection sends its own bytes; all must come back."""
    want = {}
    got = {}
    for i, s in enumerate(socks):
        msg = f"{tag}:{i:05d};".encode()
        want[i] = msg
        got[i] = b""
        s.send(msg)  # a few bytes always fit in an empty socket buffer
        sel.register(s, selectors.EVENT_READ, i)
    left = len(socks)
    deadline = time.monotonic() + 120
    while left:
        if time.monotonic() > deadline:
            bad = [i for i in want if got[i] != want[i]][:5]
            say(f"FAIL {tag}: {left} connections did not echo in 120 s, e.g. {bad}")
            sys.exit(1)
        for key, _ in sel.select(1):
            i = key.data
            b = key.fileobj.recv(100)
            if not b:
                say(f"FAIL {tag}: connection {i} closed by tapird")
                sys.exit(1)
            got[i] += b
            if len(got[i]) >= len(want[i]):
                if got[i] != want[i]:
                    say(f"FAIL {tag}: connection {i} echoed {got[i]!r}, want {want[i]!r}")
                    sys.exit(1)
                sel.unregister(key.fileobj)
                left -= 1

t1 = time.monotonic()
echo_round("a")
t_echo = time.monotonic() - t1
est = subprocess.run(["ss", "-tanH", "state", "established", "dst", "192.0.2.2"],
                     capture_output=True, text=True).stdout.count("\n")
if est < n:
    say(f"FAIL ss shows {est} established connections, want {n}")
    sys.exit(1)
say(f"OPEN {n} connected in {t_conn:.1f} s, all echoed in {t_echo:.1f} s, ss: {est} established")
ctl_in.readline()  # the shell has read tapird's memory
t1 = time.monotonic()
echo_round("b")
t_echo = time.monotonic() - t1
# close all: our FIN, then tapird's
t1 = time.monotonic()
for i, s in enumerate(socks):
    s.shutdown(socket.SHUT_WR)
    sel.register(s, selectors.EVENT_READ, i)
left = len(socks)
deadline = time.monotonic() + 120
while left:
    if time.monotonic() > deadline:
        say(f"FAIL close: {left} connections got no FIN from tapird in 120 s")
        sys.exit(1)
    for key, _ in sel.select(1):
        b = key.fileobj.recv(100)
        if b:
            say(f"FAIL close: connection {key.data} sent {b!r} after the echo")
            sys.exit(1)
        sel.unregister(key.fileobj)
        key.fileobj.close()
        left -= 1
say(f"DONE second echo round in {t_echo:.1f} s, all {n} closed (FIN both ways) "
    f"in {time.monotonic() - t1:.1f} s")
PYEOF
$PY "$TMP/many.py" "$N" <"$TMP/to_py" >"$TMP/from_py" &
PY_PID=$!
PIDS="$PIDS $PY_PID"
exec 8>"$TMP/to_py" 9<"$TMP/from_py"

read -r -t 600 line <&9 || fail "client: no answer"
case "$line" in OPEN*) ;; *) fail "client: $line" ;; esac
echo "  $line"
tapird_alive
MEM=$(tapird_mem)
echo "  tapird with $N connections open: $MEM (KiB)"
echo go >&8
read -r -t 600 line <&9 || fail "client: no answer after the memory reading"
case "$line" in DONE*) ;; *) fail "client: $line" ;; esac
echo "  $line"
wait "$PY_PID" || fail "client failed"
tapird_alive
echo "  tapird after closing: $(tapird_mem)"

rss=$(echo "$MEM" | sed 's/.*VmRSS=\([0-9]*\).*/\1/')
hwm=$(echo "$MEM" | sed 's/.*VmHWM=\([0-9]*\).*/\1/')
if tapird_is_asan; then
	pass "$N concurrent connections, each echoing; tapird RSS $((rss / 1024)) MiB" \
		"(peak $((hwm / 1024)) MiB; ASan build: target of 100 MiB not asserted)"
else
	[ "$hwm" -lt "$RSS_LIMIT_KIB" ] ||
		fail "tapird peak RSS $((hwm / 1024)) MiB with $N connections, target < 100 MiB"
	pass "$N concurrent connections, each echoing; tapird RSS $((rss / 1024)) MiB" \
		"(peak $((hwm / 1024)) MiB, < 100 MiB)"
fi
stop_tapird
echo "tcp_many: all passed in $(( ($(now_ms) - T_START) / 1000 )) s"
