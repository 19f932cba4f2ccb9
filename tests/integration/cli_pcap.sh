#!/bin/bash
# cli_pcap.sh - the pcap backend: tapird on one end of a veth pair through
# libpcap ([netif] backend = pcap, device = veth0), the kernel on the other:
# ARP, ping, UDP and TCP echo, and the instance reports its backend.
set -euo pipefail
TAPIRD=$(realpath "$1")
TAPIR=$(realpath "$2")
HERE=$(dirname "$(realpath "$0")")
. "$HERE/lib.sh"
enter_netns "$@"
export TAPIR_RUNTIME_DIR="$TMP/run"

ip link add veth0 type veth peer name veth1
ip link set veth0 up
ip addr add 192.0.2.1/24 dev veth1
ip link set veth1 up
# The kernel leaves UDP/TCP checksums to the "hardware" on a veth; a frame
# taken off the wire by libpcap would carry a partial one.
ethtool -K veth1 tx off >/dev/null
cat >"$TMP/p.conf" <<CONF
[netif]
backend = pcap
device = veth0
mac = 02:00:00:00:00:22

[ipv4]
address = 192.0.2.2/24
gateway = 192.0.2.1

[app.echo]
port = 7

[control]
name = pc
CONF
start_tapird "$TMP/p.conf"
wait_ping 192.0.2.2
ip neigh show 192.0.2.2 dev veth1 | grep_q -i "lladdr 02:00:00:00:00:22" ||
	fail "neighbour: $(ip neigh show dev veth1)"
out=$(ping -c 3 -i 0.2 -s 1472 -W 2 192.0.2.2) || fail "ping: $out"
pass "ARP and ping over the pcap backend"
r=$(echo "over pcap" | socat -T 3 - UDP:192.0.2.2:7) || fail "udp echo"
[ "$r" = "over pcap" ] || fail "udp echo: '$r'"
head -c 200000 /dev/urandom >"$TMP/in"
socat -T 5 - TCP:192.0.2.2:7 <"$TMP/in" >"$TMP/out" || fail "tcp echo"
cmp -s "$TMP/in" "$TMP/out" || fail "TCP echo of 200000 bytes differs ($(stat -c %s "$TMP/out"))"
pass "UDP and TCP echo (200 kB) over the pcap backend"
"$TAPIR" --json status pc | jq -e '.backend == "pcap" and .interface == "veth0"' >/dev/null ||
	fail "status: $("$TAPIR" --json status pc)"
pass "status reports backend pcap on veth0"
stop_tapird
echo "cli_pcap: all passed"
