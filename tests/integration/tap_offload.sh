#!/bin/bash
# tap_offload.sh - a persistent TAP does not keep one instance's offloads for
# the next: tapird with offloads (virtio-net header, checksum and TSO
# offloads on the TAP) on a persistent tap0, stopped, then tapird with
# --netif.offload=false on the same tap0 must get frames with full checksums:
# TCP works (curl to the http app, a TCP echo) and tcp.drop.checksum stays 0.
# Then offloads on again: still fine.  Each of these once waiting in io_uring
# (daemon/uring.h, the default: the log must say so, since this kernel allows
# it) and once in epoll (--netif.io_uring=false).  In a private namespace (lib.sh).
set -euo pipefail
TAPIRD=$(realpath "$1")
TAPIR=$(realpath "$2")
HERE=$(dirname "$(realpath "$0")")
. "$HERE/lib.sh"
enter_netns "$@"
command -v curl >/dev/null || fail "curl is not installed (tools/deps --test)"
command -v jq >/dev/null || fail "jq is not installed (tools/deps --test)"

IP=192.0.2.2
cat >"$TMP/tapird.conf" <<CONF
[netif]
name = tap0
[ipv4]
address = $IP/24
[kv.site]
store = embedded:site
[app.http]
kv = site
port = 80
access_log = false
[app.echo]
port = 7
[control]
socket = $TMP/ctl.sock
CONF

# Persistent: the device outlives every tapird attached to it.
make_tap tap0 192.0.2.1/24

features() {
	ethtool -k tap0 2>/dev/null | grep -E '^(tx-checksumming|tcp-segmentation-offload):' |
		paste -sd, - || true
}

# run_once LABEL [ARGS...]: start tapird, check TCP and the checksum drops, stop it
run_once() {
	local label=$1
	shift
	rm -f "$TMP/ctl.sock"
	start_tapird "$TMP/tapird.conf" "$@"
	wait_ping $IP
	for _ in $(seq 1 50); do [ -S "$TMP/ctl.sock" ] && break; sleep 0.1; done
	# Bigger than one segment each way, so TSO / partial checksums would show.
	code=$(curl -sS --max-time 10 -o "$TMP/got" -w '%{http_code}' "http://$IP/") ||
		fail "$label: curl failed ($(features))"
	[ "$code" = 200 ] || fail "$label: GET / answered $code"
	head -c 200000 /dev/urandom >"$TMP/echo.in"
	$PY - "$IP" "$TMP/echo.in" <<'PY' || fail "$label: TCP echo of 200 kB failed ($(features))"
import socket, sys
data = open(sys.argv[2], "rb").read()
s = socket.create_connection((sys.argv[1], 7), timeout=10)
s.sendall(data)
s.shutdown(socket.SHUT_WR)
got = b""
while len(got) < len(data):
    d = s.recv(65536)
    if not d:
        break
    got += d
sys.exit(0 if got == data else 1)
PY
	TAPIR_RUNTIME_DIR=$TMP "$TAPIR" --json stats ctl >"$TMP/stats.json" ||
		fail "$label: tapir stats failed"
	drops=$(jq '[.. | objects | select(has("drop.checksum")) | ."drop.checksum"] | add' \
		"$TMP/stats.json")
	[ "$drops" = 0 ] || fail "$label: $drops segments dropped for their checksum ($(features))"
	stop_tapird
	local wait=epoll
	grep -q "tap0: waiting in io_uring" "$TAPIRD_LOG" && wait=io_uring
	[ "$wait" = "$WANT_WAIT" ] || fail "$label: waited in $wait, not $WANT_WAIT ($(grep -m1 waiting "$TAPIRD_LOG"))"
	pass "$label: TCP works, no checksum drops ($(features)), waiting in $wait"
}

for WANT_WAIT in io_uring epoll; do
	if [ "$WANT_WAIT" = io_uring ]; then u=true; else u=false; fi
	run_once "offloads on" --netif.io_uring=$u
	run_once "offloads off after an instance with offloads" --netif.offload=false --netif.io_uring=$u
	run_once "offloads on again" --netif.offload=true --netif.io_uring=$u
	run_once "offloads off again" --netif.offload=false --netif.io_uring=$u
done
