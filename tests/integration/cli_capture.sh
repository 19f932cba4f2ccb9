#!/bin/bash
# cli_capture.sh - tapir capture against a sandboxed tapird on a TAP in a
# private user + network namespace, read back by tshark: snap length, size
# limit with rotation (FILE newest, FILE.1, FILE.2; FILE.3 never), both
# directions (ping -s 1000, UDP echo), timestamps inside the test's
# wall-clock window, frame counts against the counters, a --count limit
# across rotated files and in one file, argument errors, a failed rotation
# (the capture stops and says why, the daemon lives on), --json with jq.
set -euo pipefail
TAPIRD=$(realpath "$1")
TAPIR=$(realpath "$2")
HERE=$(dirname "$(realpath "$0")")
. "$HERE/lib.sh"
enter_netns "$@"
export TAPIR_RUNTIME_DIR="$TMP/run"
export HOME="$TMP"  # tshark's profile directory

t() { "$TAPIR" "$@"; }
# jqok FILTER ARGS...: `tapir --json ARGS` succeeds and FILTER holds
jqok() {
	local f=$1 out
	shift
	out=$("$TAPIR" --json "$@") || fail "tapir $*: exit $? ($out)"
	echo "$out" | jq -e "$f" >/dev/null || fail "tapir $*: '$f' does not hold: $out"
}
# jqerr CODE FILTER ARGS...: exit CODE, and with FILTER on the JSON error reply
jqerr() {
	local want=$1 f=$2 out rc=0
	shift 2
	out=$("$TAPIR" --json "$@" 2>"$TMP/err") || rc=$?
	[ "$rc" = "$want" ] || fail "tapir $*: exit $rc, want $want ($out $(cat "$TMP/err"))"
	[ -z "$f" ] || echo "$out" | jq -e "$f" >/dev/null ||
		fail "tapir $*: '$f' does not hold: $out"
}
# frames FILE: one CSV line per frame:
# epoch,len,cap_len,icmp.type,ip.src,ip.dst,udp.srcport,udp.dstport
frames() {
	tshark -r "$1" -T fields -E separator=, -E occurrence=f -e frame.time_epoch \
		-e frame.len -e frame.cap_len -e icmp.type -e ip.src -e ip.dst -e udp.srcport \
		-e udp.dstport 2>"$TMP/tshark.err" || fail "tshark cannot read $1: $(cat "$TMP/tshark.err")"
}
now() { date +%s.%N; }

cat >"$TMP/c.conf" <<CONF
[netif]
backend = tap
name = tap0
mac = 02:00:00:00:00:02

[ipv4]
address = 192.0.2.2/24
gateway = 192.0.2.1

[app.echo]
port = 7

[control]
name = cap
CONF
make_tap tap0 192.0.2.1/24
start_tapird "$TMP/c.conf"
wait_ping 192.0.2.2
C="$TMP/cap/c.pcap"
mkdir "$TMP/cap"

# ---- arguments ----
jqerr 2 '.error.code == "EINVAL" and (.error.message | test("snaplen"))' \
	capture cap start "$C" --snaplen 10
jqerr 2 '.error.code == "EINVAL" and (.error.message | test("snaplen"))' \
	capture cap start "$C" --snaplen 262145
jqerr 2 '.error.code == "EINVAL" and (.error.message | test("files"))' \
	capture cap start "$C" --size 20000 --files 1
jqerr 2 '.error.code == "EINVAL" and (.error.message | test("files"))' \
	capture cap start "$C" --size 20000 --files 1001
jqerr 2 '.error.code == "EINVAL" and (.error.message | test("max_bytes"))' \
	capture cap start "$C" --files 3
jqerr 1 '' capture cap start "$C" --size 20x
jqerr 1 '' capture cap start "$C" --files
jqerr 1 '' capture cap start "$C" --rotate 3
jqerr 2 '.error.code == "ENOENT"' capture cap stop
[ ! -e "$C" ] || fail "a refused start made $C"
t capture --help | grep_q -- "--files N" || fail "capture --help has no --files"
pass "capture arguments: EINVAL for snaplen/files, usage errors for malformed options"

# ---- snaplen 96, 20000-byte files, 3 kept ----
T0=$(now)
jqok '.active and .snaplen == 96 and .max_bytes == 20000 and .max_files == 3 and .files == 1
	and .rotations == 0 and .end == null and .error == null' \
	capture cap start "$C" --snaplen 96 --size 20000 --files 3
out=$(ping -c 400 -i 0.005 -s 1000 -W 2 -q 192.0.2.2) || fail "ping: $out"
echo "$out" | grep_q "400 received" || fail "ping: $out"
for i in 1 2 3; do
	r=$(echo "echo $i" | socat -T 3 - UDP:192.0.2.2:7) || fail "udp echo"
	[ "$r" = "echo $i" ] || fail "udp echo: '$r'"
done
jqok '.active and .files >= 4 and .rotations == .files - 1 and .truncated > 0' \
	capture cap status
t capture cap status | grep_q "rotations" || fail "human status: $(t capture cap status)"
"$TAPIR" --json capture cap stop >"$TMP/st.json" || fail "capture stop"
T1=$(now)
jq -e '.active == false and .end == "stop" and .frames >= 800' "$TMP/st.json" >/dev/null ||
	fail "after stop: $(cat "$TMP/st.json")"
[ -f "$C" ] && [ -f "$C.1" ] && [ -f "$C.2" ] || fail "files: $(ls "$TMP/cap")"
[ ! -e "$C.3" ] || fail "$C.3 exists: $(ls "$TMP/cap")"
for f in "$C.2" "$C.1" "$C"; do
	frames "$f" >>"$TMP/all"
	sz=$(stat -c %s "$f")
	[ "$sz" -le 20000 ] || fail "$f is $sz bytes (limit 20000)"
	[ "$f" = "$C" ] || [ "$sz" -gt $((20000 - 112)) ] || fail "$f rotated at $sz bytes"
done
frames "$C" >"$TMP/newest"
[ "$(wc -l <"$TMP/newest")" = "$(jq .file_frames "$TMP/st.json")" ] ||
	fail "$C: $(wc -l <"$TMP/newest") frames, status says $(jq .file_frames "$TMP/st.json")"
[ "$(stat -c %s "$C")" = "$(jq .file_bytes "$TMP/st.json")" ] || fail "$C size vs file_bytes"
kept=$(wc -l <"$TMP/all")
total=$(jq .frames "$TMP/st.json")
[ "$kept" -gt 300 ] && [ "$kept" -lt "$total" ] || fail "$kept frames kept of $total"
awk -F, -v t0="$T0" -v t1="$T1" '
	$3 > 96 { bad = "cap_len " $3 " > 96" }
	$3 < $2 { cut++ }
	$2 == 1042 && $3 == 96 && $4 == 8 && $6 == "192.0.2.2" { req++ }
	$2 == 1042 && $3 == 96 && $4 == 0 && $5 == "192.0.2.2" { rep++ }
	$8 == 7 && $5 == "192.0.2.1" { uin++ }
	$7 == 7 && $5 == "192.0.2.2" { uout++ }
	$1 < t0 || $1 > t1 + 0.5 { bad = "timestamp " $1 " outside [" t0 ", " t1 "]" }
	NR > 1 && $1 < prev { bad = "timestamp " $1 " after " prev }
	{ prev = $1 }
	END {
		if (!bad && !(req > 100 && rep > 100 && uin == 3 && uout == 3 && cut >= req + rep))
			bad = "requests " req ", replies " rep ", udp in " uin " out " uout ", cut " cut
		if (bad) { print bad; exit 1 }
	}' "$TMP/all" >"$TMP/why" || fail "capture contents: $(cat "$TMP/why")"
pass "snaplen 96, 20000-byte files rotated into c.pcap, .1, .2 ($kept of $total frames kept): both directions, ordered timestamps in the window"

# ---- a count limit across rotated files: every frame kept, exactly ----
rm -f "$TMP"/cap/*
jqok '.active and .max_frames == 100 and .max_bytes == 4096 and .snaplen == 96' \
	capture cap start "$C" --count 100 --size 4K --files 50 --snaplen 96
ping -c 80 -i 0.005 -s 1000 -W 2 -q 192.0.2.2 >/dev/null || fail "ping (count)"
"$TAPIR" --json capture cap status >"$TMP/st.json"
jq -e '.active == false and .end == "count" and .frames == 100 and .files >= 3
	and .rotations == .files - 1' "$TMP/st.json" >/dev/null ||
	fail "count over files: $(cat "$TMP/st.json")"
nf=$(jq .files "$TMP/st.json")
n=0
for k in $(seq $((nf - 1)) -1 0); do
	f=$C; [ "$k" = 0 ] || f=$C.$k
	n=$((n + $(frames "$f" | wc -l)))
done
[ "$n" = 100 ] || fail "$n frames in the $nf files, want 100"
[ ! -e "$C.$nf" ] || fail "count: $C.$nf exists"
# and in one file, no rotation
rm -f "$TMP"/cap/*
jqok '.active and .max_frames == 25 and .max_files == 0' capture cap start "$C" --count 25
ping -c 20 -i 0.005 -W 2 -q 192.0.2.2 >/dev/null || fail "ping (count 25)"
jqok '.active == false and .end == "count" and .frames == 25 and .files == 1' capture cap status
[ "$(frames "$C" | wc -l)" = 25 ] || fail "count 25: $(frames "$C" | wc -l) frames"
[ "$(ls "$TMP/cap")" = c.pcap ] || fail "count 25: $(ls "$TMP/cap")"
t capture cap status | grep_q "ended: count limit reached" || fail "human: count"
pass "--count 100 over $nf rotated files and --count 25 in one file: exactly that many frames"

# ---- a rotation that fails: the capture stops and says why, tapird lives ----
rm -f "$TMP"/cap/*
mkdir -p "$C.1/busy"
jqok '.active' capture cap start "$C" --size 2K --files 3
ping -c 30 -i 0.005 -s 200 -W 2 -q 192.0.2.2 >/dev/null || fail "ping (rotation failure)"
jqok '.active == false and .end == "error" and (.error | test("rename")) and .frames > 0' \
	capture cap status
grep -q "capture stopped" "$TAPIRD_LOG" || fail "rotation failure not logged"
[ "$(frames "$C" | wc -l)" = "$("$TAPIR" --json capture cap status | jq .frames)" ] ||
	fail "frames before the failure are not all in $C"
kill -0 "$TAPIRD_PID" || fail "tapird died"
wait_ping 192.0.2.2
jqok '.active' capture cap start "$TMP/cap/after.pcap"
jqok '.active == false and .end == "stop"' capture cap stop
pass "a failed rotation stops the capture with its reason; tapird keeps running"

stop_tapird
echo "cli_capture: all passed"
