#!/bin/bash
# cli_netns.sh - `tapir up --netns new` as an unprivileged user (nobody): a
# new user + network namespace made by the CLI itself, the TAP and its kernel
# side inside, tapird detached; `tapir exec` runs ping, a UDP and a TCP echo
# there; two such instances at once; logs; down removes everything.
#
# Needs root to become nobody and to open /dev/net/tun to others for the run
# (its mode is restored on exit).
set -euo pipefail
TAPIRD=$(realpath "$1")
TAPIR=$(realpath "$2")
[ "$(id -u)" = 0 ] || { echo "cli_netns.sh needs root (CI runs as root)" >&2; exit 1; }

TMP=$(mktemp -d)
chmod 0755 "$TMP"
TUN_MODE=$(stat -c %a /dev/net/tun)
cleanup() {
	chmod "$TUN_MODE" /dev/net/tun
	for p in $(cat "$TMP"/*.pid 2>/dev/null); do kill "$p" 2>/dev/null || true; done
	rm -rf "$TMP"
}
trap cleanup EXIT
fail() {
	echo "FAIL: $*" >&2
	for l in "$TMP"/run/*.log; do [ -f "$l" ] && { echo "--- $l" >&2; tail -20 "$l" >&2; }; done
	exit 1
}
pass() { echo "ok: $*"; }

chmod 0666 /dev/net/tun
mkdir -m 0700 "$TMP/run"
chown 65534:65534 "$TMP/run"
for i in 1 2; do
	cat >"$TMP/n$i.conf" <<CONF
[netif]
name = tap0
mac = 02:00:00:00:0$i:02

[ipv4]
address = 192.0.2.2/24
gateway = 192.0.2.1

[app.echo]
port = 7
CONF
done
chmod 0644 "$TMP"/*.conf

# as_nobody CMD...: run as uid/gid 65534 with our runtime dir
as_nobody() {
	setpriv --reuid=65534 --regid=65534 --clear-groups \
		env TAPIR_RUNTIME_DIR="$TMP/run" TAPIRD="$TAPIRD" HOME=/ "$@"
}

for i in 1 2; do
	out=$(as_nobody "$TAPIR" up "n$i" --config "$TMP/n$i.conf" --netns new) ||
		fail "up n$i: $out"
	as_nobody "$TAPIR" --json status "n$i" | jq -r .pid >"$TMP/n$i.pid"
done
pass "up --netns new as nobody, twice"

# The daemon runs as nobody (outside), in namespaces of its own.
pid=$(cat "$TMP/n1.pid")
[ "$(stat -c %u "/proc/$pid")" = 65534 ] || fail "tapird runs as uid $(stat -c %u "/proc/$pid")"
[ "$(readlink "/proc/$pid/ns/net")" != "$(readlink /proc/self/ns/net)" ] ||
	fail "tapird is in our network namespace"
[ "$(readlink /proc/"$(cat "$TMP/n2.pid")"/ns/net)" != "$(readlink "/proc/$pid/ns/net")" ] ||
	fail "the two instances share a namespace"
pass "each instance in a namespace of its own, as uid 65534"

for i in 1 2; do
	as_nobody "$TAPIR" exec "n$i" -- ping -c 2 -i 0.2 -W 2 192.0.2.2 >/dev/null ||
		fail "exec n$i ping"
	r=$(echo "hello n$i" | as_nobody "$TAPIR" exec "n$i" -- socat -T 3 - UDP:192.0.2.2:7) ||
		fail "exec n$i udp echo"
	[ "$r" = "hello n$i" ] || fail "udp echo n$i: '$r'"
	r=$(echo "tcp n$i" | as_nobody "$TAPIR" exec "n$i" -- socat -T 3 - TCP:192.0.2.2:7) ||
		fail "exec n$i tcp echo"
	[ "$r" = "tcp n$i" ] || fail "tcp echo n$i: '$r'"
	# ... and the instance sees its peer from inside.
	as_nobody "$TAPIR" --json ping "n$i" 192.0.2.1 -c 1 | jq -e '.received == 1' >/dev/null ||
		fail "ping from inside n$i"
done
pass "exec: ping, UDP and TCP echo from the namespace; ping from the stack"

as_nobody "$TAPIR" logs n1 | grep -q "control: listening" || fail "logs n1"
as_nobody "$TAPIR" --json logs n1 | jq -e '.lines | length > 0' >/dev/null || fail "logs --json"
as_nobody "$TAPIR" --json list | jq -e 'map(.name) | sort == ["n1", "n2"]' >/dev/null ||
	fail "list: $(as_nobody "$TAPIR" list)"
rc=0; as_nobody "$TAPIR" up n1 --config "$TMP/n1.conf" --netns new >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "second up n1 exited $rc"
pass "logs, list, up of a running instance refused"

for i in 1 2; do
	as_nobody "$TAPIR" down "n$i" >/dev/null || fail "down n$i"
	pid=$(cat "$TMP/n$i.pid")
	for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
	kill -0 "$pid" 2>/dev/null && fail "tapird n$i still running after down"
	[ ! -e "$TMP/run/n$i.sock" ] || fail "n$i socket left"
done
rc=0; as_nobody "$TAPIR" exec n1 -- true 2>/dev/null || rc=$?
[ "$rc" = 2 ] || fail "exec on a stopped instance exited $rc"
pass "down stops both; their namespaces go with them"
echo "cli_netns: all passed"
