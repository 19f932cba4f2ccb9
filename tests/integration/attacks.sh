#!/bin/bash
# attacks.sh - crafted frames from the RFCs and from known attacks on embedded
# stacks (AMNESIA:33, Ripple20, INFRA:HALT, NUMBER:JACK, ping of death,
# teardrop, land, SYN flood, RFC 5961 blind injection, ...) against tapird on
# a TAP in a private network namespace; see attacks.py for the cases.
#
#   attacks.sh TAPIRD TAPIR [CASE-SUBSTRING...]
#
# Each case checks the answer the RFC asks for (or none), the drop counter
# that says why, and that tapird still answers ping, TCP echo and HTTP from
# the kernel.  At the end: RSS flat over 10,000 attack frames, a clean
# SIGTERM exit, and no AddressSanitizer/UBSan report in tapird's log.
#
# Needs to create a TAP device: as real root it runs under `unshare -n`,
# otherwise under `unshare -rn`.
set -euo pipefail
TAPIRD=$(realpath "$1")
TAPIR=$(realpath "$2")
shift 2
HERE=$(dirname "$(realpath "$0")")
if [ -z "${TAPIR_IN_NETNS:-}" ]; then
	export TAPIR_OUTER_NETNS
	TAPIR_OUTER_NETNS=$(readlink /proc/self/ns/net)
	if [ "$(id -u)" = 0 ]; then
		TAPIR_IN_NETNS=1 exec unshare -n "$0" "$TAPIRD" "$TAPIR" "$@"
	fi
	TAPIR_IN_NETNS=1 exec unshare -rn "$0" "$TAPIRD" "$TAPIR" "$@"
fi
# Never run the rest in the namespace we were started in.
if [ -n "${TAPIR_OUTER_NETNS:-}" ] &&
	[ "$(readlink /proc/self/ns/net)" = "$TAPIR_OUTER_NETNS" ]; then
	echo "attacks.sh: still in the original network namespace, giving up" >&2
	exit 1
fi
. "$HERE/lib.sh"
netns_check
ip link set lo up

/usr/bin/python3 -c 'import scapy.all' 2>/dev/null || {
	echo "attacks.sh: SKIP: /usr/bin/python3 has no scapy (apt-get install python3-scapy)"
	exit 77
}

# Under AddressSanitizer, freed memory waits in a quarantine (256 MiB by
# default) that would count as RSS: keep it small, to measure tapird's own.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}print_stacktrace=1"

# Small bounds, so that the floods reach them: 1 MiB of fragments that time
# out after 2 s, 64 ARP entries, 16 half-open connections per listener.
cat >"$TMP/tapird.conf" <<CONF
[netif]
backend = tap
name = tap0
mac = 02:00:00:00:00:02
mtu = 1500

[ipv4]
address = 192.0.2.2/24
gateway = 192.0.2.1
reassembly_max_bytes = 1048576
reassembly_timeout = 2s

[arp]
cache_size = 64

[tcp]
backlog = 16

[kv.site]
store = embedded:site

[app.echo]
port = 7

[app.discard]
port = 9

[app.http]
kv = site
port = 80
access_log = false

[control]
socket = $TMP/ctl.sock
CONF

make_tap tap0 192.0.2.1/24
start_tapird "$TMP/tapird.conf"
wait_ping 192.0.2.2
for _ in $(seq 1 50); do [ -S "$TMP/ctl.sock" ] && break; sleep 0.1; done

# The CLI finds the instance "ctl" as $TAPIR_RUNTIME_DIR/ctl.sock.
TAPIR_RUNTIME_DIR=$TMP "$TAPIR" --json stats ctl >"$TMP/stats0.json" ||
	fail "tapir --json stats ctl failed"
jq -e '.. | objects | select(has("drop.checksum"))' "$TMP/stats0.json" >/dev/null ||
	fail "stats have no drop counters: $(head -c 300 "$TMP/stats0.json")"
pass "tapir --json stats gives the drop counters"

t0=$(date +%s)
rc=0
/usr/bin/python3 "$HERE/attacks.py" "$TMP/ctl.sock" "$TAPIRD_PID" "$@" || rc=$?
kill -0 "$TAPIRD_PID" 2>/dev/null || fail "tapird died"
[ "$rc" = 0 ] || fail "attacks.py: some cases failed"

stop_tapird
pass "tapird exits cleanly on SIGTERM after the attacks"
if grep -E "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error|SUMMARY: " "$TAPIRD_LOG" >&2; then
	fail "sanitizer report in tapird's log"
fi
pass "no AddressSanitizer, LeakSanitizer or UBSan report in tapird's log"
echo "attacks: all passed in $(($(date +%s) - t0)) s"
