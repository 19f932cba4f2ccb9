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
# Real root in a new network namespace (as cli.sh): the unit's credentials
# are played with setpriv, which needs a uid (nobody) besides root.
if [ -z "${TAPIR_IN_NETNS:-}" ]; then
	[ "$(id -u)" = 0 ] || { echo "cli_systemd.sh needs root (CI runs as root)" >&2; exit 1; }
	export TAPIR_OUTER_NETNS
	TAPIR_OUTER_NETNS=$(readlink /proc/self/ns/net)
	TAPIR_IN_NETNS=1 exec unshare -n "$0" "$@"
fi
. "$HERE/lib.sh"
netns_check
ip link set lo up
TUN_MODE=$(stat -c %a /dev/net/tun)
trap 'chmod "$TUN_MODE" /dev/net/tun; cleanup' EXIT

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
# systemd's own measure of the hardening (0 = locked down, 10 = exposed;
# --threshold counts in tenths).
out=$(cd "$TMP" && systemd-analyze security --offline=true --threshold=30 \
	"$TMP/tapird@example.service" 2>&1) || fail "exposure above 3.0: $(echo "$out" | tail -3)"
pass "systemd-analyze security: $(echo "$out" | grep -o 'exposure level.*' | head -1)"

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

# The unit's credentials, played without systemd (PID 1 here is not
# systemd): the user it names (nobody stands in for tapir) with
# CAP_NET_ADMIN as its only ambient and bounding capability and
# no_new_privs.  tapird creates its TAP with that capability, then drops it
# and enters its seccomp sandbox (the default); ExecReload's SIGHUP reloads.
grep -q "^User=tapir$" "$UNIT" && grep -q "^AmbientCapabilities=CAP_NET_ADMIN$" "$UNIT" &&
	grep -q "^ExecReload=/bin/kill -HUP \$MAINPID$" "$UNIT" || fail "unit credentials changed"
chmod 0666 /dev/net/tun  # Debian's udev rule; restored on exit
chmod 0755 "$TMP"
mkdir -m 0700 "$TMP/run" && chown 65534:65534 "$TMP/run"
cat >"$TMP/u.conf" <<CONF
[netif]
name = tapu
[ipv4]
address = 198.51.100.2/24
[kv.site]
store = tar:$TMP/site.tar
[app.http]
kv = site
port = 80
[control]
name = u
socket = $TMP/run/u.sock
CONF
mkdir "$TMP/site" && echo hello >"$TMP/site/index.html" && tar -C "$TMP/site" -cf "$TMP/site.tar" .
chmod 0644 "$TMP/site.tar" "$TMP/u.conf"
TAPIRD_LOG="$TMP/u.log"
setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all,+net_admin \
	--ambient-caps=-all,+net_admin --bounding-set=-all,+net_admin --no-new-privs -- \
	"$TAPIRD" --config "$TMP/u.conf" >"$TAPIRD_LOG" 2>&1 &
TAPIRD_PID=$!
PIDS="$PIDS $TAPIRD_PID"
for _ in $(seq 1 50); do ip link show tapu >/dev/null 2>&1 && break; sleep 0.1; done
ip link show tapu >/dev/null 2>&1 || fail "tapird as the service user made no TAP"
ip addr add 198.51.100.1/24 dev tapu
wait_ping 198.51.100.2
st=/proc/$TAPIRD_PID/status
grep -q "^Uid:[[:space:]]*65534" "$st" && grep -q "^CapEff:[[:space:]]*0*$" "$st" &&
	grep -q "^CapPrm:[[:space:]]*0*$" "$st" && grep -q "^CapAmb:[[:space:]]*0*$" "$st" &&
	grep -q "^NoNewPrivs:[[:space:]]*1" "$st" && grep -q "^Seccomp:[[:space:]]*2" "$st" ||
	fail "not dropped: $(grep -E 'Uid|Cap|NoNew|Seccomp' "$st")"
[ "$(curl -sf --max-time 5 http://198.51.100.2/)" = hello ] || fail "no HTTP from the service"
TAPIR_RUNTIME_DIR="$TMP/run" "$TAPIR" status u | grep_q "tapu" || fail "root's tapir status"
pass "as the service user with CAP_NET_ADMIN: TAP made, capability dropped, seccomp; serving"
echo hello2 >"$TMP/site/index.html" && tar -C "$TMP/site" -cf "$TMP/site.tar.new" . &&
	chmod 0644 "$TMP/site.tar.new" && mv "$TMP/site.tar.new" "$TMP/site.tar"
kill -HUP "$TAPIRD_PID"  # = ExecReload
for _ in $(seq 1 50); do grep -q "reload: 1 store" "$TAPIRD_LOG" && break; sleep 0.1; done
[ "$(curl -sf --max-time 5 http://198.51.100.2/)" = hello2 ] || fail "ExecReload did not reload"
stop_tapird
pass "ExecReload (SIGHUP) re-opens the site; SIGTERM exits 0"
echo "cli_systemd: all passed"
