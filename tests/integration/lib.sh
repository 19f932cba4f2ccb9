# tests/integration/lib.sh - helpers for the namespace integration tests
#
# A test script sources this after re-executing itself in a private user +
# network namespace (enter_netns); everything it creates (tap0, tapird
# processes, temporary files) lives there and is cleaned up by the EXIT trap.

# Re-run the calling script inside a fresh user+network namespace.
# grep -q for the end of a pipeline: reads all its input, so that under
# pipefail the writer never dies of SIGPIPE when the match comes early
grep_q() { grep "$@" >/dev/null; }

enter_netns() {
	if [ -z "${TAPIR_IN_NETNS:-}" ]; then
		export TAPIR_OUTER_NETNS
		TAPIR_OUTER_NETNS=$(readlink /proc/self/ns/net)
		TAPIR_IN_NETNS=1 exec unshare -rn "$0" "$@"
	fi
	netns_check
	ip link set lo up
}

# Never go on in the namespace the test was started in (a script that
# re-executed itself records that namespace in TAPIR_OUTER_NETNS).
netns_check() {
	if [ -n "${TAPIR_OUTER_NETNS:-}" ] &&
		[ "$(readlink /proc/self/ns/net)" = "$TAPIR_OUTER_NETNS" ]; then
		echo "lib.sh: still in the original network namespace, giving up" >&2
		exit 1
	fi
}

TMP=$(mktemp -d)
# tapird keeps its RFC 7217 secret in the state directory: the test's own
export TAPIR_STATE_DIR="$TMP/state"
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	for p in $PIDS; do wait "$p" 2>/dev/null || true; done
	rm -rf "$TMP"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*" >&2
	# a test may define fail_hook to print what it knows (counters, captures)
	if declare -F fail_hook >/dev/null; then fail_hook >&2 || true; fi
	if [ -n "${TAPIRD_LOG:-}" ] && [ -f "$TAPIRD_LOG" ]; then
		echo "--- tapird log:" >&2
		tail -50 "$TAPIRD_LOG" >&2
	fi
	exit 1
}
pass() { echo "ok: $*"; }

# make_tap NAME ADDR/PREFIX [MTU]: the kernel side of a TAP device
make_tap() {
	ip tuntap add dev "$1" mode tap
	ip addr add "$2" dev "$1"
	[ -n "${3:-}" ] && ip link set "$1" mtu "$3"
	ip link set "$1" up
}

# start_tapird CONFIG [ARGS...]: start tapird in the background, wait for it
start_tapird() {
	TAPIRD_LOG="$TMP/tapird.$$.$RANDOM.log"
	"$TAPIRD" --config "$@" >"$TAPIRD_LOG" 2>&1 &
	TAPIRD_PID=$!
	PIDS="$PIDS $TAPIRD_PID"
}

stop_tapird() {
	kill -TERM "$TAPIRD_PID"
	local rc=0
	wait "$TAPIRD_PID" || rc=$?
	[ "$rc" = 0 ] || fail "tapird exited with $rc on SIGTERM"
}

# wait_ping ADDR: until ADDR answers (10 s at most)
wait_ping() {
	for _ in $(seq 1 20); do
		ping -c 1 -W 1 "$1" >/dev/null 2>&1 && return 0
		kill -0 "$TAPIRD_PID" 2>/dev/null || fail "tapird died"
		sleep 0.5
	done
	fail "$1 never answered ping"
}

PY=/usr/bin/python3
# connect_errno.py ADDR PORT [TIMEOUT]: "connected" or the errno's name
CONNECT="$(dirname "$(realpath "${BASH_SOURCE[0]}")")/connect_errno.py"
