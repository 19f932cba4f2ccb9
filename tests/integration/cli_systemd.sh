#!/bin/bash
# cli_systemd.sh - the tapird@.service unit passes `systemd-analyze verify`
# (with ExecStart pointed at the built tapird), and tapird speaks the
# sd_notify protocol: READY=1 once the stack and its control socket are up,
# STOPPING=1 on the way down.
set -euo pipefail
TAPIRD=$(realpath "$1")
TAPIR=$(realpath "$2")
UNIT=$(realpath "$3")
HERE=$(dirname "$(realpath "$0")")
. "$HERE/lib.sh"
enter_netns "$@"

# The unit, as installed but with this build's tapird.
sed "s|^ExecStart=[^ ]*|ExecStart=$TAPIRD|" "$UNIT" >"$TMP/tapird@example.service"
out=$(cd "$TMP" && SYSTEMD_LOG_LEVEL=warning systemd-analyze verify --man=no \
	"$TMP/tapird@example.service" 2>&1) || fail "systemd-analyze verify: $out"
! echo "$out" | grep -i "tapird@" | grep -vi "ConditionPathExists\|Documentation" >/dev/null ||
	fail "systemd-analyze verify complains: $out"
grep -q "^Type=notify" "$UNIT" && grep -q "^CapabilityBoundingSet=CAP_NET_ADMIN$" "$UNIT" &&
	grep -q "^SystemCallFilter=@system-service" "$UNIT" && grep -q "^ProtectSystem=strict" "$UNIT" ||
	fail "unit lacks its hardening"
pass "systemd-analyze verify tapird@example.service"

make_tap tap0 192.0.2.1/24
cat >"$TMP/t.conf" <<CONF
[netif]
name = tap0
[ipv4]
address = 192.0.2.2/24
[control]
name = sd
socket = $TMP/ctl/sd.sock
CONF
# A notify socket that records what arrives
$PY - "$TMP/notify" "$TMP/notes" <<'PYEOF' &
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
s.settimeout(20)
with open(sys.argv[2], "w") as f:
    while True:
        try:
            d = s.recv(4096).decode()
        except socket.timeout:
            break
        f.write(d + "\n--\n"); f.flush()
        if "STOPPING=1" in d:
            break
PYEOF
LISTENER=$!
PIDS="$PIDS $LISTENER"
for _ in $(seq 1 50); do [ -S "$TMP/notify" ] && break; sleep 0.1; done
NOTIFY_SOCKET="$TMP/notify" start_tapird "$TMP/t.conf"
for _ in $(seq 1 50); do grep -q "READY=1" "$TMP/notes" 2>/dev/null && break; sleep 0.1; done
grep -q "READY=1" "$TMP/notes" || fail "no READY=1: $(cat "$TMP/notes" 2>/dev/null)"
grep -q "MAINPID=$TAPIRD_PID" "$TMP/notes" || fail "no MAINPID=$TAPIRD_PID: $(cat "$TMP/notes")"
# Ready means ready: the control socket answers and the stack pings.
echo '{"cmd":"status"}' | socat - "UNIX-CONNECT:$TMP/ctl/sd.sock" | jq -e '.result.name == "sd"' \
	>/dev/null || fail "control socket not up at READY"
ping -c 1 -W 2 192.0.2.2 >/dev/null || fail "no ping at READY"
pass "READY=1 with MAINPID once the stack and the control socket are up"
stop_tapird
wait "$LISTENER" || true
grep -q "STOPPING=1" "$TMP/notes" || fail "no STOPPING=1: $(cat "$TMP/notes")"
pass "STOPPING=1 on SIGTERM"
echo "cli_systemd: all passed"
