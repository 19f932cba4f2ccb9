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

# grep -q for the end of a pipeline: reads all its input, so that under
# pipefail the writer never dies of SIGPIPE when the match comes early
grep_q() { grep "$@" >/dev/null; }

TMP=$(mktemp -d)
chmod 0755 "$TMP"
TUN_MODE=$(stat -c %a /dev/net/tun)
NETNS=tapir-test-$$
cleanup() {
	chmod "$TUN_MODE" /dev/net/tun
	for p in $(cat "$TMP"/*.pid 2>/dev/null); do kill "$p" 2>/dev/null || true; done
	ip netns del "$NETNS" 2>/dev/null || true
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

[kv.site]
store = embedded:site

[app.http]
kv = site
port = 80
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
	# IPv6: 2001:db8::1 (no DAD) on the kernel side, 2001:db8::2 for tapird
	ok6=""
	for _ in $(seq 1 20); do
		as_nobody "$TAPIR" exec "n$i" -- ping -6 -c 1 -W 1 2001:db8::2 >/dev/null 2>&1 &&
			ok6=1 && break
		sleep 0.25
	done
	[ -n "$ok6" ] || fail "exec n$i ping -6 2001:db8::2"
	as_nobody "$TAPIR" exec "n$i" -- ip -6 addr show | grep_q "2001:db8::1/64" ||
		fail "exec n$i: no 2001:db8::1/64 on the kernel side"
	r=$(echo "hello n$i" | as_nobody "$TAPIR" exec "n$i" -- socat -T 3 - UDP:192.0.2.2:7) ||
		fail "exec n$i udp echo"
	[ "$r" = "hello n$i" ] || fail "udp echo n$i: '$r'"
	r=$(echo "tcp n$i" | as_nobody "$TAPIR" exec "n$i" -- socat -T 3 - TCP:192.0.2.2:7) ||
		fail "exec n$i tcp echo"
	[ "$r" = "tcp n$i" ] || fail "tcp echo n$i: '$r'"
	as_nobody "$TAPIR" exec "n$i" -- curl -sf --max-time 5 http://192.0.2.2/ |
		grep -q "<title>tapir" || fail "exec n$i curl: no built-in site"
	# ... and the instance sees its peer from inside.
	as_nobody "$TAPIR" --json ping "n$i" 192.0.2.1 -c 1 | jq -e '.received == 1' >/dev/null ||
		fail "ping from inside n$i"
done
pass "exec: ping (and ping -6), UDP and TCP echo, curl from the namespace; ping from the stack"

as_nobody "$TAPIR" logs n1 | grep_q "control: listening" || fail "logs n1"
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

# up --netns PATH: attach to a namespace that exists.  First, as nobody, to
# /proc/PID/ns/net of a process in a user + network namespace of nobody's
# own (the CLI joins the owning user namespace, as `pasta PID` does).
setpriv --reuid=65534 --regid=65534 --clear-groups unshare -rn sleep 600 >/dev/null 2>&1 &
HOLDER=$!  # setpriv execs unshare, which execs sleep: one pid
echo "$HOLDER" >"$TMP/holder.pid"
for _ in $(seq 1 50); do
	[ "$(readlink "/proc/$HOLDER/ns/net")" != "$(readlink /proc/self/ns/net)" ] && break
	sleep 0.1
done
[ "$(readlink "/proc/$HOLDER/ns/net")" != "$(readlink /proc/self/ns/net)" ] &&
	[ "$(stat -c %u "/proc/$HOLDER")" = 65534 ] || fail "no namespace holder as nobody"
out=$(as_nobody "$TAPIR" up att --config "$TMP/n1.conf" --netns "/proc/$HOLDER/ns/net" \
	--host-addr 192.0.2.1/24) || fail "up --netns /proc/PID/ns/net: $out"
as_nobody "$TAPIR" --json status att | jq -r .pid >"$TMP/att.pid"
pid=$(cat "$TMP/att.pid")
[ "$(readlink "/proc/$pid/ns/net")" = "$(readlink "/proc/$HOLDER/ns/net")" ] ||
	fail "tapird is not in the holder's namespace"
as_nobody "$TAPIR" exec att -- ping -c 2 -i 0.2 -W 2 192.0.2.2 >/dev/null || fail "exec att ping"
r=$(echo "tcp att" | as_nobody "$TAPIR" exec att -- socat -T 3 - TCP:192.0.2.2:7) ||
	fail "exec att tcp echo"
[ "$r" = "tcp att" ] || fail "tcp echo att: '$r'"
as_nobody "$TAPIR" down att >/dev/null || fail "down att"
for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$HOLDER" || fail "down took the holder's namespace with it"
out=$(as_nobody nsenter -t "$HOLDER" -U -n --preserve-credentials ip -o addr show dev tap0 2>&1) ||
	true
echo "$out" | grep_q "192.0.2.1/24" ||
	fail "the TAP's kernel side is not in the holder's namespace: $out"
out=$(as_nobody "$TAPIR" up att --config "$TMP/n1.conf" --netns "/proc/$HOLDER/ns/net") ||
	fail "up again on the persistent TAP: $out"
as_nobody "$TAPIR" exec att -- ping -c 1 -W 2 192.0.2.2 >/dev/null || fail "ping after re-up"
as_nobody "$TAPIR" down att >/dev/null || fail "down att (2)"
pass "up --netns /proc/PID/ns/net as nobody: attached, TAP kept after down, re-attached"

# Then as root, to a named namespace (ip netns add).
ip netns add "$NETNS"
out=$(TAPIR_RUNTIME_DIR="$TMP/rootrun" TAPIRD="$TAPIRD" "$TAPIR" up rt \
	--config "$TMP/n2.conf" --netns "/run/netns/$NETNS" --host-addr 192.0.2.1/24) ||
	fail "up --netns /run/netns/NAME: $out"
TAPIR_RUNTIME_DIR="$TMP/rootrun" "$TAPIR" --json status rt | jq -r .pid >"$TMP/rt.pid"
ip netns exec "$NETNS" ping -c 2 -i 0.2 -W 2 192.0.2.2 >/dev/null || fail "no ping in $NETNS"
TAPIR_RUNTIME_DIR="$TMP/rootrun" "$TAPIR" down rt >/dev/null || fail "down rt"
ip netns del "$NETNS"
pass "up --netns /run/netns/NAME as root"
echo "cli_netns: all passed"
