#!/bin/bash
# ipv6_attacks.sh - crafted IPv6 packets against tapird on a TAP in a private
# network namespace (the cases are in ipv6_attacks.py); afterwards tapird
# still answers ping -6, exits cleanly and its log has no sanitizer report.
set -euo pipefail
TAPIRD=$(realpath "$1")
TAPIR=$(realpath "$2")
HERE=$(dirname "$(realpath "$0")")
. "$HERE/lib.sh"
enter_netns "$@"
export TAPIR_RUNTIME_DIR="$TMP/run"
mkdir -m 700 "$TAPIR_RUNTIME_DIR"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1"

# Small bounds so that the floods reach them; a 2 s reassembly timeout
cat >"$TMP/tapird.conf" <<CONF
[netif]
backend = tap
name = tap0
mac = 02:00:00:00:00:02

[ipv4]
address = 192.0.2.2/24

[ipv6]
address = 2001:db8::2/64
dad = false
slaac = true
reassembly_max_bytes = 256KiB
reassembly_timeout = 2s

[icmp]
error_rate = 1000
error_burst = 1000

[control]
name = a6
CONF

ip tuntap add dev tap0 mode tap
ip addr add 2001:db8::1/64 dev tap0 nodad
ip link set tap0 up
start_tapird "$TMP/tapird.conf"
for _ in $(seq 1 20); do
	ping -6 -c 1 -W 1 2001:db8::2 >/dev/null 2>&1 && break
	sleep 0.5
done
"$PY" "$HERE/ipv6_attacks.py" "$TAPIR" a6 "$TAPIRD_PID" || fail "ipv6_attacks.py"
ping -6 -c 1 -W 2 -s 3000 2001:db8::2 >/dev/null || fail "no ping -6 after the attacks"
stop_tapird
if grep -q "Sanitizer\|runtime error" "$TAPIRD_LOG"; then
	fail "sanitizer report in tapird's log"
fi
pass "tapird answers, exits cleanly and has no sanitizer report"
