#!/bin/bash
# bench/conns.sh - a million idle TCP connections held against tapird, and new connections per second next to nginx
#
# Usage: bench/conns.sh [TAPIRD [CONNHOLD [TAPIR]]]   (defaults
#        build/daemon/tapird, build/bench/connhold, build/cli/tapir; as root
#        or with user namespaces; needs wrk, curl, jq and nginx-light:
#        tools/deps --bench)
#
# Build without sanitizers for this:
#   meson setup build-bench --buildtype=release && ninja -C build-bench
#   bench/conns.sh build-bench/daemon/tapird build-bench/bench/connhold build-bench/cli/tapir
#
# In a private network namespace made here (nothing outside it is touched):
#   tap0 with 192.0.2.1 and 16 more addresses 192.0.2.10-25 (the clients'
#   sources), txqueuelen 10000; tapird at 192.0.2.2 with its echo app
#   (port 7) and http app (port 80, a dir store with 1k.bin, access log off),
#   max_connections sized for the run;
#   a veth pair to a second namespace where nginx (one worker, access log
#   off, sendfile) serves the same file at 198.51.100.2, as bench/http.sh.
# Held connections: BENCH_CONNS (default 1,000,000) connections from the
#   kernel to tapird's echo port, N/16 from each of the 16 source
#   addresses, by connhold processes of at most 19,000 connections each
#   (those of one address split its ports 1024-65535 and bind their own:
#   no kernel port search), BENCH_INFLIGHT (8,000) connects in flight in
#   all, failures retried (5 tries, 10 s each).  Printed: how many opened and failed (and why), the time to
#   open them all, tapird's RSS before and with them held, bytes per idle
#   connection (RSS growth / connections), and the time of an HTTP request
#   on a new connection (curl: connect and total; the median and the worst
#   of 5, from ports of their own) while they are held.
#   Where attempts went (tapird's counters through its control socket, and
#   the kernel's): SYN cookies sent/accepted/failed, SYNs dropped for the
#   backlog, the connection limit or memory, half-open flows evicted, ARP
#   pending-queue drops, frames tapird could not send, and frames the
#   kernel dropped on tap0's queue.
# New connections per second: wrk, 100 connections, "Connection: close"
#   (open, one 1 KiB request, close), against tapird and against nginx.
#   Ratio tapir/kernel, higher is better.
#
# Load: printed (bench/load.sh); the ratio is refused when other processes
# used more than a core during the run.
#
# Environment: BENCH_CONNS (1000000), BENCH_INFLIGHT (8000 in all), BENCH_SECS
# (seconds of the wrk runs, 10), BENCH_OPEN_SECS (the time allowed to open
# them, 900), TAPIRD_ARGS (boot arguments for tapird).
set -euo pipefail

. "$(dirname "$(realpath "$0")")/lib.sh"
bench_own_ns "$@"

TAPIRD=$(realpath "${1:-build/daemon/tapird}")
CONNHOLD=$(realpath "${2:-build/bench/connhold}")
TAPIR=$(realpath "${3:-build/cli/tapir}")
N=${BENCH_CONNS:-1000000}
INFLIGHT=${BENCH_INFLIGHT:-8000}
SECS=${BENCH_SECS:-10}
OPEN_SECS=${BENCH_OPEN_SECS:-900}
PER_PROC=19000	# with INFLIGHT and stdio, under the 20,000 descriptors a process may have here
NSRC=16
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$TAPIRD" ] || { echo "no tapird at $TAPIRD" >&2; exit 1; }
[ -x "$CONNHOLD" ] || { echo "no connhold at $CONNHOLD" >&2; exit 1; }
[ -x "$TAPIR" ] || { echo "no tapir CLI at $TAPIR" >&2; exit 1; }
command -v jq >/dev/null || { echo "no jq (apt-get install jq)" >&2; exit 1; }
[ -x "$NGINX" ] || { echo "no nginx (apt-get install nginx-light)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "no wrk (apt-get install wrk)" >&2; exit 1; }
command -v curl >/dev/null || { echo "no curl" >&2; exit 1; }
if grep -q __asan_init "$TAPIRD"; then
	echo "warning: $TAPIRD is built with AddressSanitizer: figures are not meaningful" >&2
fi
[ "$N" -le $((NSRC * 64512)) ] || { echo "at most $((NSRC * 64512)) connections ($NSRC source addresses)" >&2; exit 1; }
MAXC=$((N + 20000))
[ "$MAXC" -le $((1 << 20)) ] || MAXC=$((1 << 20))

echo "connections benchmark: $(nproc) CPUs, $(uname -r), $N connections, $NSRC source addresses"
echo "tapird: $TAPIRD"
load_begin

TMP=$(mktemp -d)
PIDS=""
HOLD_FD=
cleanup() {
	if [ -n "$HOLD_FD" ]; then exec {HOLD_FD}>&-; fi
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	for p in $PIDS; do wait "$p" 2>/dev/null || true; done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 143' TERM INT	# through cleanup: tapird, nginx and the clients end too
die() { echo "bench/conns.sh: $*" >&2; [ -f "$TMP/tapird.log" ] && tail -20 "$TMP/tapird.log" >&2; exit 1; }
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
# tapird's counters as "layer.name value" lines (the instance "ctl" is $TMP/ctl.sock)
stats() {
	TAPIR_RUNTIME_DIR=$TMP "$TAPIR" --json stats ctl |
		jq -r 'paths(scalars) as $p | "\($p | map(tostring) | join(".")) \(getpath($p))"'
}
ctr() { awk -v k="$1" '$1 == k { print $2; f = 1 } END { if (!f) print "-" }' "$TMP/stats"; }

ip link set lo up
# the clients' ports: 64,512 per source address
sysctl -qw net.ipv4.ip_local_port_range="1024 65535" 2>/dev/null ||
	echo "warning: cannot widen ip_local_port_range" >&2
mkdir -p "$TMP/www" "$TMP/nginx/logs"
head -c 1024 /dev/urandom >"$TMP/www/1k.bin"

# ---- tapir
ip tuntap add dev tap0 mode tap
ip addr add 192.0.2.1/24 dev tap0
for i in $(seq 0 $((NSRC - 1))); do
	ip addr add "192.0.2.$((10 + i))/24" dev tap0
done
ip link set tap0 mtu 1500 txqueuelen 10000 up
cat >"$TMP/tapird.conf" <<CONF
[netif]
name = tap0
mtu = 1500
[ipv4]
address = 192.0.2.2/24
[control]
socket = $TMP/ctl.sock
[tcp]
max_connections = $MAXC
[kv.www]
store = dir:$TMP/www
[app.http]
kv = www
port = 80
access_log = false
[app.echo]
port = 7
CONF
# shellcheck disable=SC2086  # TAPIRD_ARGS: boot arguments, split on spaces
"$TAPIRD" --config "$TMP/tapird.conf" ${TAPIRD_ARGS:-} >"$TMP/tapird.log" 2>&1 &
TAPIRD_PID=$!
PIDS="$PIDS $TAPIRD_PID"

# ---- kernel: veth into a second namespace, nginx there (as bench/http.sh)
bench_server_ns
bench_nginx_conf "$TMP/nginx/nginx.conf" \
	"listen 198.51.100.2:80;" \
	"root $TMP/www;"
nsenter -t "$SRV_NS" -n "$NGINX" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" \
	>"$TMP/nginx/out.log" 2>&1 &
PIDS="$PIDS $!"

for a in 192.0.2.2 198.51.100.2; do
	bench_wait_http "http://$a/1k.bin"
done

# ---- hold N connections
RSS0=$(rss_kib "$TAPIRD_PID")
mkfifo "$TMP/hold"
# Each source address takes N/NSRC connections (its 64,512 ports hold
# them); its processes split them and its ports evenly (connhold binds its
# own range: no kernel port search), and the connects in flight are
# INFLIGHT in all.
T0=$(date +%s.%N)
NPROC=0
CLIENTS=""
for s in $(seq 0 $((NSRC - 1))); do
	ns=$((N / NSRC + (s < N % NSRC ? 1 : 0)))
	[ "$ns" -gt 0 ] || continue
	np=$(((ns + PER_PROC - 1) / PER_PROC))
	span=$((64512 / np))
	for j in $(seq 0 $((np - 1))); do
		n=$((ns / np + (j < ns % np ? 1 : 0)))
		lo=$((1024 + j * span))
		echo "$s $n $lo $((lo + span - 1))"
	done
done >"$TMP/plan"
NPROC=$(wc -l <"$TMP/plan")
PER_INFLIGHT=$(((INFLIGHT + NPROC - 1) / NPROC))
i=0
while read -r s n lo hi; do
	"$CONNHOLD" "192.0.2.$((10 + s))" 192.0.2.2 7 "$n" "$PER_INFLIGHT" 5 "$lo-$hi" \
		<"$TMP/hold" >"$TMP/c$i.out" 2>&1 &
	PIDS="$PIDS $!"
	CLIENTS="$CLIENTS $!"
	i=$((i + 1))
done <"$TMP/plan"
exec {HOLD_FD}>"$TMP/hold"	# the clients hold until this closes
deadline=$(($(date +%s) + OPEN_SECS))
while :; do
	done_n=$(cat "$TMP"/c*.out 2>/dev/null | grep -c '^opened' || true)
	[ "$done_n" -ge "$NPROC" ] && break
	kill -0 "$TAPIRD_PID" 2>/dev/null || die "tapird died"
	if [ "$(date +%s)" -ge "$deadline" ]; then
		# where they are: each client's last progress line, tapird's counters
		for f in "$TMP"/c*.out; do grep '^progress' "$f" | tail -1; done |
			awk '{ o += $3; f += $5; i += $7; r += $9 }
			END { printf "clients: opened %d failed %d in flight %d retries %d\n", o, f, i, r }' >&2
		stats 2>/dev/null | grep -E '^(tcp\.(syncookies|drop\.(backlog|conn_limit|nomem)|syn_recv)|arp\.drop|dev\.tx_)' >&2 ||
			true
		die "not all clients done after ${OPEN_SECS} s ($done_n of $NPROC)"
	fi
	sleep 0.5
done
T1=$(date +%s.%N)
OPENED=$(cat "$TMP"/c*.out | awk '/^opened/ { s += $2 } END { print s + 0 }')
FAILED=$(cat "$TMP"/c*.out | awk '/^opened/ { s += $4 } END { print s + 0 }')
RETRIES=$(cat "$TMP"/c*.out | awk '/^opened/ { s += $6 } END { print s + 0 }')
WHY=$(cat "$TMP"/c*.out | awk '/^opened/ { for (i = 10; i <= NF; i++) { split($i, a, "="); e[a[1]] += a[2] } }
	END { for (k in e) printf "%s=%d ", k, e[k] }')
OPEN_S=$(awk -v a="$T0" -v b="$T1" 'BEGIN { printf "%.1f", b - a }')
sleep 2	# the last ACKs in, tapird idle
RSS1=$(rss_kib "$TAPIRD_PID")
PER=$(awk -v a="$RSS0" -v b="$RSS1" -v n="$OPENED" 'BEGIN { if (n > 0) printf "%.0f", (b - a) * 1024 / n; else print "-" }')
# new connections while they are held: connect and total time of an HTTP
# request, 5 times, each from a port of its own below the holders' (so the
# figure does not depend on the kernel's search of a port range the holders
# fill; one more with the port the kernel picks is printed for comparison)
for k in 1 2 3 4 5; do
	curl -sf -o /dev/null --max-time 5 --interface 192.0.2.1 --local-port $((1000 + k * 4))-$((1003 + k * 4)) \
		-w '%{time_connect} %{time_total}\n' "http://192.0.2.2/1k.bin" || echo "- -"
done >"$TMP/rt"
# one more with the port the kernel picks, for comparison
RT_KPORT=$(curl -sf -o /dev/null --max-time 5 -w '%{time_connect}' "http://192.0.2.2/1k.bin" |
	awk '{ printf "%.2f", $1 * 1000 }' || true)
# median and worst of the 5, in ms ("-": a request failed)
rt_stat() {
	if grep -q -e '^- ' "$TMP/rt"; then echo "-"; return; fi
	awk -v c="$1" '{ printf "%.2f\n", $c * 1000 }' "$TMP/rt" | sort -n |
		awk '{ v[NR] = $1 } END { printf "%s (max %s)", v[int((NR + 1) / 2)], v[NR] }'
}
RT_CONNECT=$(rt_stat 1)
RT_TOTAL=$(rt_stat 2)
stats >"$TMP/stats" || echo "warning: no counters from tapird" >&2
TAP_TX_DROPPED=$(ip -s -j link show tap0 | jq '.[0].stats64.tx.dropped')
exec {HOLD_FD}>&-
HOLD_FD=
# the clients close the million and end; tapird sees the FINs before the
# rate is timed
for p in $CLIENTS; do wait "$p" 2>/dev/null || true; done
sleep 5

# ---- new connections per second (open, one request, close)
wrk_rps() {
	local out
	out=$(wrk -t 1 -c 100 -d "${SECS}s" -H "Connection: close" "$1" 2>&1) || die "wrk $1: $out"
	echo "$out" | grep -e 'Socket errors' -e 'Non-2xx' >&2 || true
	echo "$out" | awk '/^Requests\/sec/ { print $2 }'
}
CPS_TAPIR=$(wrk_rps http://192.0.2.2/1k.bin)
kill -0 "$TAPIRD_PID" 2>/dev/null || die "tapird died"
CPS_KERNEL=$(wrk_rps http://198.51.100.2/1k.bin)
load_end

echo
printf "%-44s %s\n" "connections asked for" "$N ($NPROC client processes, $NSRC source addresses)"
printf "%-44s %s\n" "opened / failed / retried attempts" "$OPENED / $FAILED / $RETRIES"
printf "%-44s %s\n" "failed attempts by cause" "${WHY:-none}"
printf "%-44s %s\n" "tapird: SYN cookies sent / ok / failed" \
	"$(ctr tcp.syncookies_sent) / $(ctr tcp.syncookies_ok) / $(ctr tcp.syncookies_failed)"
printf "%-44s %s\n" "tapird: SYNs dropped: backlog / limit / memory" \
	"$(ctr tcp.drop.backlog) / $(ctr tcp.drop.conn_limit) / $(ctr tcp.drop.nomem)"
printf "%-44s %s\n" "tapird: half-open evicted / aborted" \
	"$(ctr tcp.syn_recv_evicted) / $(ctr tcp.syn_received_aborted)"
printf "%-44s %s\n" "tapird: ARP pending drops: full / timeout" \
	"$(ctr arp.drop.pending_full) / $(ctr arp.drop.pending_timeout)"
printf "%-44s %s\n" "tapird: frames not sent (tx drops / errors)" \
	"$(ctr dev.tx_drops) / $(ctr dev.tx_errors)"
printf "%-44s %s\n" "kernel: frames dropped on tap0's queue" "$TAP_TX_DROPPED"
printf "%-44s %s\n" "time to open them all (s)" "$OPEN_S"
printf "%-44s %s\n" "tapird RSS before / held (MiB)" "$((RSS0 / 1024)) / $((RSS1 / 1024))"
printf "%-44s %s\n" "bytes per idle connection" "$PER"
printf "%-44s %s\n" "new connection while held, connect (ms)" "$RT_CONNECT"
printf "%-44s %s\n" "new connection while held, HTTP total (ms)" "$RT_TOTAL"
printf "%-44s %s\n" "  the same, the kernel picking the port: connect" "${RT_KPORT:--}"
echo
printf "%-44s %12s %14s %8s\n" "test" "tapir" "kernel(nginx)" "ratio"
printf "%-44s %12s %14s %8s\n" "connections/s (open, 1 KiB request, close)" "$CPS_TAPIR" "$CPS_KERNEL" \
	"$(load_ratio "$CPS_TAPIR" "$CPS_KERNEL")"
load_refusal
[ "$OPENED" = "$N" ] || { echo "bench/conns.sh: only $OPENED of $N connections opened" >&2; exit 1; }
