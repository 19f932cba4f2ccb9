# tests/integration/tcp_lib.sh - helpers shared by the TCP integration tests
#
# Sourced by tcp*.sh instead of calling enter_netns directly:
#
#   TAPIRD=$(realpath "$1"); HERE=...; . "$HERE/tcp_lib.sh"; tcp_enter_netns "$@"
#
# Run as root, the scripts re-execute themselves under a plain `unshare -n`
# (a new network namespace, no user namespace) so that tcpdump can drop its
# privileges and nftables works; otherwise under `unshare -rn` as lib.sh does
# (the tests that need tcpdump then skip).  lib.sh is sourced only inside the
# namespace, so the outer process leaves no temporary directory behind.

tcp_enter_netns() {
	if [ -z "${TAPIR_IN_NETNS:-}" ]; then
		export TAPIR_OUTER_NETNS
		TAPIR_OUTER_NETNS=$(readlink /proc/self/ns/net)
		if [ "$(id -u)" = 0 ]; then
			TAPIR_IN_NETNS=1 exec unshare -n "$0" "$@"
		fi
		TAPIR_IN_NETNS=1 exec unshare -rn "$0" "$@"
	fi
	# Never run the rest in the namespace we were started in.
	if [ -n "${TAPIR_OUTER_NETNS:-}" ] &&
		[ "$(readlink /proc/self/ns/net)" = "$TAPIR_OUTER_NETNS" ]; then
		echo "tcp_lib.sh: still in the original network namespace, giving up" >&2
		exit 1
	fi
	. "$HERE/lib.sh"
	enter_netns "$@"
	TCP_REAL_ROOT=0
	# In a user namespace /proc/self/uid_map maps 0 to someone else.
	if awk '$1 == 0 && $2 == 0 { ok = 1 } END { exit !ok }' /proc/self/uid_map; then
		TCP_REAL_ROOT=1
	fi
}

# now_ms: monotonic-enough wall clock in milliseconds
now_ms() { date +%s%3N; }

# tcp_tapird_conf FILE: a config with echo (7), discard (9) and source (19)
tcp_tapird_conf() {
	cat >"$1" <<CONF
[netif]
backend = tap
name = tap0
mac = 02:00:00:00:00:02
mtu = 1500

[ipv4]
address = 192.0.2.2/24
gateway = 192.0.2.1

[app.echo]
port = 7

[app.discard]
port = 9

[app.source]
port = 19
CONF
}

# tcp_setup [TAPIRD-ARGS...]: tap0 with the kernel at 192.0.2.1/24 and tapird
# at 192.0.2.2/24 (echo, discard, source), reachable
tcp_setup() {
	make_tap tap0 192.0.2.1/24
	tcp_tapird_conf "$TMP/tapird.conf"
	start_tapird "$TMP/tapird.conf" "$@"
	wait_ping 192.0.2.2
}

# tapird_alive: fail unless tapird still runs
tapird_alive() {
	kill -0 "$TAPIRD_PID" 2>/dev/null || fail "tapird died"
}

# tapird_mem: "VmRSS=... VmHWM=..." of the running tapird, in KiB
tapird_mem() {
	awk '/^VmRSS:/ { r = $2 } /^VmHWM:/ { h = $2 }
	     END { printf "VmRSS=%d VmHWM=%d\n", r, h }' "/proc/$TAPIRD_PID/status"
}

# Is tapird built with AddressSanitizer?  (The RSS target is for a plain build.)
tapird_is_asan() {
	grep -q __asan_init "$TAPIRD" 2>/dev/null ||
		nm -D "$TAPIRD" 2>/dev/null | grep_q __asan
}

# source_sha256 N: SHA-256 of the first N bytes of the source app's stream
# (byte i is ' ' + i % 95, see apps/discard.c)
source_sha256() {
	$PY - "$1" <<'PYEOF'
import hashlib, sys
n = int(sys.argv[1])
block = bytes(32 + i % 95 for i in range(95 * 11038))  # ~1 MiB, whole periods
h = hashlib.sha256()
while n > 0:
    k = min(n, len(block))
    h.update(block[:k])
    n -= k
print(h.hexdigest())
PYEOF
}

# The address echo_bulk and source_bulk reach tapird at, as socat takes it
# (tcp6.sh: TCP_SOCAT="TCP6:[2001:db8::2]")
TCP_SOCAT=${TCP_SOCAT:-TCP:192.0.2.2}

# echo_bulk BYTES LABEL: send BYTES random bytes to echo with socat (half-close
# at EOF), read everything back, compare SHA-256 of both ends
echo_bulk() {
	local n=$1 label=$2 t0 t1 a b
	head -c "$n" /dev/urandom >"$TMP/bulk.in"
	t0=$(now_ms)
	timeout 300 socat -b 65536 -t 60 - "$TCP_SOCAT:7" <"$TMP/bulk.in" >"$TMP/bulk.out" ||
		fail "$label: socat to echo failed or timed out" \
			"($(stat -c %s "$TMP/bulk.out") of $n bytes back)"
	t1=$(now_ms)
	a=$(sha256sum <"$TMP/bulk.in" | cut -d' ' -f1)
	b=$(sha256sum <"$TMP/bulk.out" | cut -d' ' -f1)
	[ "$a" = "$b" ] || fail "$label: echo of $n bytes differs:" \
		"$(stat -c %s "$TMP/bulk.out") bytes back, sha256 $b, sent $a"
	rm -f "$TMP/bulk.in" "$TMP/bulk.out"
	pass "$label: $n bytes kernel->tapird->kernel through echo, SHA-256 equal" \
		"($((t1 - t0)) ms, $(awk -v n="$n" -v ms="$((t1 - t0))" \
		'BEGIN { printf "%.0f", n * 8 / (ms > 0 ? ms : 1) / 1000 }') Mbit/s each way)"
	tapird_alive
}

# source_bulk BYTES LABEL: read BYTES from the source app with socat, compare
# with the pattern's SHA-256
source_bulk() {
	local n=$1 label=$2 t0 t1 want got size
	want=$(source_sha256 "$n")
	t0=$(now_ms)
	# socat gets EPIPE once head has enough: its status does not matter.
	{ timeout 300 socat -u -b 65536 "$TCP_SOCAT:19" - 2>/dev/null || true; } |
		head -c "$n" >"$TMP/src.out"
	t1=$(now_ms)
	size=$(stat -c %s "$TMP/src.out")
	got=$(sha256sum <"$TMP/src.out" | cut -d' ' -f1)
	rm -f "$TMP/src.out"
	[ "$size" = "$n" ] || fail "$label: source gave $size of $n bytes"
	[ "$got" = "$want" ] || fail "$label: source stream differs from the pattern" \
		"(sha256 $got, want $want)"
	pass "$label: $n bytes tapird->kernel from source, SHA-256 of the pattern" \
		"($((t1 - t0)) ms, $(awk -v n="$n" -v ms="$((t1 - t0))" \
		'BEGIN { printf "%.0f", n * 8 / (ms > 0 ? ms : 1) / 1000 }') Mbit/s)"
	tapird_alive
}
