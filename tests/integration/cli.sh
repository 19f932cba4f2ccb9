#!/bin/bash
# cli.sh - the tapir CLI against running tapird instances in a private network
# namespace: every subcommand in both output modes (JSON checked with jq),
# usage and runtime exit codes, a refused uid, capture read back by tshark,
# ping/traceroute from inside the stack, two instances at once, shutdown.
#
# Runs as real root (CI): `unshare -n` only, so that another uid (nobody)
# exists for the refused-peer test.
set -euo pipefail
TAPIRD=$(realpath "$1")
TAPIR=$(realpath "$2")
HERE=$(dirname "$(realpath "$0")")
if [ -z "${TAPIR_IN_NETNS:-}" ]; then
	[ "$(id -u)" = 0 ] || { echo "cli.sh needs root (CI runs as root)" >&2; exit 1; }
	TAPIR_IN_NETNS=1 exec unshare -n "$0" "$@"
fi
. "$HERE/lib.sh"
ip link set lo up
export TAPIR_RUNTIME_DIR="$TMP/run"

conf() {  # conf NAME IFNAME ADDR GW MAC
	cat <<CONF
[netif]
backend = tap
name = $2
mac = $5

[ipv4]
address = $3/24
gateway = $4

[app.echo]
port = 7

[kv.data]
store = mem:
writable = true

[control]
name = $1
CONF
}
conf one tap0 192.0.2.2 192.0.2.1 02:00:00:00:00:02 >"$TMP/one.conf"
conf two tap1 198.51.100.2 198.51.100.1 02:00:00:00:01:02 >"$TMP/two.conf"
# Instance two drops to nobody with no capabilities under seccomp.
printf 'user = nobody\nsandbox = true\n' >>"$TMP/two.conf"

make_tap tap0 192.0.2.1/24
make_tap tap1 198.51.100.1/24
start_tapird "$TMP/one.conf"; PID1=$TAPIRD_PID; LOG1=$TAPIRD_LOG
start_tapird "$TMP/two.conf"; PID2=$TAPIRD_PID
TAPIRD_PID=$PID1
wait_ping 192.0.2.2
TAPIRD_PID=$PID2 wait_ping 198.51.100.2
TAPIRD_LOG=$LOG1
SOCK="$TMP/run/one.sock"

# The socket: 0600 in a 0700 directory.
[ "$(stat -c %a "$TMP/run")" = 700 ] || fail "runtime dir mode $(stat -c %a "$TMP/run")"
[ "$(stat -c %a "$SOCK")" = 600 ] || fail "socket mode $(stat -c %a "$SOCK")"
pass "socket 0600 in a 0700 directory"

t() { "$TAPIR" "$@"; }
# jqok FILTER CMD...: run CMD with --json, check the output with jq -e FILTER
jqok() {
	local f=$1; shift
	local out
	out=$("$TAPIR" --json "$@") || fail "tapir --json $* exited $?"
	echo "$out" | jq -e "$f" >/dev/null || fail "tapir --json $*: '$f' false on: $out"
}
# human CMD... PATTERN: human output contains PATTERN
human() {
	local pat=${*: -1}
	local out
	out=$("$TAPIR" "${@:1:$#-1}") || fail "tapir ${*:1:$#-1} exited $?"
	echo "$out" | grep_q -- "$pat" || fail "tapir ${*:1:$#-1}: no '$pat' in: $out"
}
code() {  # code EXPECTED CMD...
	local want=$1; shift
	local rc=0
	"$TAPIR" "$@" >/dev/null 2>&1 || rc=$?
	[ "$rc" = "$want" ] || fail "tapir $* exited $rc, expected $want"
}

# Raw protocol by hand, as a user would with socat and jq.
r=$(echo '{"v":1,"id":7,"cmd":"status"}' | socat - "UNIX-CONNECT:$SOCK")
echo "$r" | jq -e '.v == 1 and .id == 7 and .ok == true and .result.name == "one"' >/dev/null ||
	fail "raw status: $r"
r=$(printf '{"cmd":\n' | socat - "UNIX-CONNECT:$SOCK")
echo "$r" | jq -e '.ok == false and .error.code == "EBADMSG"' >/dev/null || fail "malformed: $r"
r=$(echo '{"cmd":"nope","id":"x"}' | socat - "UNIX-CONNECT:$SOCK")
echo "$r" | jq -e '.ok == false and .error.code == "ENOSYS" and .id == "x"' >/dev/null ||
	fail "unknown command: $r"
r=$(echo '{"v":2,"cmd":"status"}' | socat - "UNIX-CONNECT:$SOCK")
echo "$r" | jq -e '.error.code == "EPROTONOSUPPORT"' >/dev/null || fail "version: $r"
r=$(head -c 70000 /dev/zero | tr '\0' a | socat - "UNIX-CONNECT:$SOCK")
echo "$r" | jq -e '.error.code == "EMSGSIZE"' >/dev/null || fail "long line: $r"
r=$(printf '{"cmd":"status"}\n{"cmd":"udp"}\n' | socat -t 2 - "UNIX-CONNECT:$SOCK" | wc -l)
[ "$r" = 2 ] || fail "two requests on one connection gave $r replies"
pass "raw protocol: envelope, EBADMSG, ENOSYS, EPROTONOSUPPORT, EMSGSIZE, pipelining"

# Every subcommand, both modes
jqok '.name == "one" and .address == "192.0.2.2" and .mtu == 1500 and .backend == "tap" and
      .mac == "02:00:00:00:00:02" and .uptime_ms >= 0 and (.pid|type) == "number"' status one
human status one "192.0.2.2/24"
jqok '.eth.rx > 0 and .arp.rx > 0 and .icmp != null' stats one
human stats one "eth.rx"
# the wait's counters (daemon/uring.h) when tapird waits in io_uring
if grep -q "waiting in io_uring" "$LOG1"; then
	jqok '.wait.sleeps > 0 and .wait.polls >= .wait.poll_hits and (.wait.poll_ns|type) == "number"' stats one
	human stats one "wait.sleeps"
fi
jqok '[.entries[] | select(.ip == "192.0.2.1" and .state == "reachable")] | length == 1' arp one
human arp one "192.0.2.1"
jqok '. == {}' arp one flush
jqok '.entries | length == 0' arp one list
ping -c 1 -W 2 192.0.2.2 >/dev/null || fail "ping after flush"
jqok '.gateway == "192.0.2.1" and .mtu == 1500 and (.entries|type) == "array"' route one
human route one "default via 192.0.2.1"
jqok '.listeners | map(.port) | index(7) != null' udp one
human udp one "192.0.2.2:7"
jqok '.datagrams | length == 0' reasm one
human reasm one "SRC"
jqok '.level == "info"' log one
jqok '.level == "debug"' log one debug
human log one "debug"
t log one info >/dev/null
code 2 log one loud
pass "status stats arp route udp reasm log: human and JSON"

# A TCP connection held open while conns looks at it
$PY - <<'PYEOF' &
import socket, time
s = socket.create_connection(("192.0.2.2", 7), timeout=5)
s.sendall(b"x" * 1000)
got = 0
while got < 1000:
    got += len(s.recv(4096))
time.sleep(3)
PYEOF
HOLD=$!
sleep 1
jqok '[.connections[] | select(.local_port == 7 and .remote == "192.0.2.1" and
      .state == "ESTABLISHED" and .bytes_received == 1000 and .rtt_us >= 0 and .cwnd > 0 and
      .retransmits >= 0)] | length == 1' conns one
human conns one "ESTABLISHED"
human conns one "cwnd:"
wait $HOLD
pass "conns: 4-tuple, state, queues, RTT, cwnd, retransmits"

# kv on the instance's store
jqok '.stores == ["data"] and .journals_refused == 0' kv one stores
jqok '.key == "a/b"' kv one put a/b hello
human kv one get a/b hello
jqok '.value == "hello" and .size == 5' kv one get a/b
jqok '.entries == [{"name":"a","kind":"dict"}]' kv one ls
human kv one ls "a/"
jqok '.key == "a/b"' kv one rm a/b
code 2 kv one get a/b
code 2 kv one get a/b --store nope
code 1 kv one frob
pass "kv stores/ls/get/put/rm"

# ping and traceroute from inside the stack
jqok '.sent == 3 and .received == 3 and (.replies | all(.from == "192.0.2.1"))' ping one 192.0.2.1
human ping one 192.0.2.1 -c 2 "2 received"
code 2 ping one 192.0.2.99 -c 1 -w 300
jqok '.reached == true and .hops[0].from == "192.0.2.1" and .hops[0].icmp_type == 3' \
	traceroute one 192.0.2.1 -m 4
human traceroute one 192.0.2.1 -m 4 " 1  192.0.2.1"
pass "ping and traceroute from inside the stack"

# Capture: both directions, read back by tshark
jqok '.active == true and .file == "'"$TMP"'/c.pcap"' capture one start "$TMP/c.pcap"
jqok '.active == true' capture one status
ping -c 3 -i 0.2 -W 2 192.0.2.2 >/dev/null || fail "ping during capture"
jqok '.active == false and .frames >= 6' capture one stop
code 2 capture one stop
n=$(tshark -r "$TMP/c.pcap" -Y "icmp.type == 8 && ip.dst == 192.0.2.2" 2>/dev/null | wc -l)
m=$(tshark -r "$TMP/c.pcap" -Y "icmp.type == 0 && ip.src == 192.0.2.2" 2>/dev/null | wc -l)
[ "$n" = 3 ] && [ "$m" = 3 ] || fail "capture: $n requests, $m replies (want 3 and 3)"
ts=$(tshark -r "$TMP/c.pcap" -T fields -e frame.time_epoch -c 1 2>/dev/null | cut -d. -f1)
now=$(date +%s)
[ $((now - ts)) -ge 0 ] && [ $((now - ts)) -lt 60 ] || fail "capture timestamp $ts, now $now"
# A count limit stops the capture by itself.
t capture one start "$TMP/d.pcap" --count 2 >/dev/null
ping -c 3 -i 0.2 -W 2 192.0.2.2 >/dev/null
jqok '.active == false and .frames == 2' capture one status
[ "$(tshark -r "$TMP/d.pcap" 2>/dev/null | wc -l)" = 2 ] || fail "count-limited capture"
human capture one status "captured to"
pass "capture: tshark reads both directions with current timestamps; --count limit"

# Two instances at once, list
jqok 'map(.name) | sort == ["one", "two"]' list
human list "198.51.100.2/24"
jqok '.name == "two" and .address == "198.51.100.2"' status two
pass "two instances, list"

# The sandboxed instance: nobody, no capabilities, no_new_privs, seccomp filter;
# and it still works (ping, kv, its control socket as root).
st=/proc/$PID2/status
grep -q "^Uid:.*65534" "$st" && grep -q "^CapEff:.*0000000000000000" "$st" &&
	grep -q "^CapBnd:.*0000000000000000" "$st" && grep -q "^NoNewPrivs:.*1" "$st" &&
	grep -q "^Seccomp:.*2" "$st" || fail "instance two not sandboxed: $(cat "$st")"
ping -c 2 -i 0.2 -W 2 198.51.100.2 >/dev/null || fail "sandboxed instance does not answer ping"
jqok '.received == 1' ping two 198.51.100.1 -c 1
jqok '.key == "k"' kv two put k v
jqok '.value == "v"' kv two get k
jqok '.connections | type == "array"' conns two
pass "sandbox: uid 65534, no capabilities, no_new_privs, seccomp; still serving"

# Usage and runtime errors, --help everywhere
code 1 frobnicate
code 1 status
code 1 arp one sideways
code 2 status nosuch
code 1 status 'bad/name'
for c in up down list status stats neigh arp route conns udp reasm kv capture ping traceroute log \
	 logs exec; do
	out=$("$TAPIR" "$c" --help) || fail "$c --help exited $?"
	echo "$out" | grep_q "^usage: tapir $c" || fail "$c --help: $out"
done
t --help | grep_q "traceroute" || fail "tapir --help"
pass "exit codes 1 and 2; --help for every subcommand"

# A peer of another uid is refused: by the file mode, and by SO_PEERCRED
# when the mode lets it through.
out=$(echo '{"cmd":"status"}' | setpriv --reuid=65534 --regid=65534 --clear-groups \
	socat - "UNIX-CONNECT:$SOCK" 2>&1) && fail "nobody connected through mode 0600: $out"
chmod 0711 "$TMP" "$TMP/run"
chmod 0666 "$SOCK"
out=$(setpriv --reuid=65534 --regid=65534 --clear-groups \
	socat -u "UNIX-CONNECT:$SOCK" STDOUT 2>&1) || true
echo "$out" | jq -e '.ok == false and .error.code == "EACCES"' >/dev/null ||
	fail "uid 65534 not refused: $out"
chmod 0600 "$SOCK"
chmod 0700 "$TMP/run"
grep -q "refused a client with uid 65534" "$LOG1" || fail "refusal not logged"
pass "uid 65534 refused (EACCES) and logged"

# The CLI talks only through a runtime directory that is its own (or root's)
# and not writable by others: a squatted /tmp/tapir-UID is refused.
chmod 0777 "$TMP/run"
out=$("$TAPIR" status one 2>&1) && fail "status through a mode 0777 directory: $out"
echo "$out" | grep_q "refusing the control socket directory: .*writable by group or others" ||
	fail "mode 0777 runtime directory: $out"
chmod 0700 "$TMP/run"
# uid 65533's /tmp/tapir-65533, squatted by nobody (65534).
chmod 0711 "$TMP"
mkdir -m 0755 "$TMP/squat" && chown 65534 "$TMP/squat"
out=$(TAPIR_RUNTIME_DIR="$TMP/squat" setpriv --reuid=65533 --regid=65533 --clear-groups \
	"$TAPIR" status one 2>&1) && fail "status through a squatted directory: $out"
echo "$out" | grep_q "owned by uid 65534, not by us (uid 65533)" ||
	fail "squatted runtime directory: $out"
chmod 0700 "$TMP"
ln -s "$TMP/run" "$TMP/runlink"
out=$(TAPIR_RUNTIME_DIR="$TMP/runlink" "$TAPIR" status one 2>&1) &&
	fail "status through a symlinked runtime directory: $out"
echo "$out" | grep_q "symlink" || fail "symlinked runtime directory: $out"
"$TAPIR" status one >/dev/null || fail "status after the directory is ours again"
pass "the CLI refuses a runtime directory of another owner, mode 0777 or a symlink"

# down: the instance stops and its socket goes
jqok '.stopped == true' down two
wait "$PID2" || fail "tapird two exited $?"
code 2 status two
human down one "one stopped"
wait "$PID1" || fail "tapird one exited $?"
code 2 status one
pass "down stops the instances, exit 0, sockets removed"
echo "cli: all passed"
