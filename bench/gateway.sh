#!/bin/bash
# bench/gateway.sh - tapir's gateway next to slirp4netns and pasta: the same client and server
#
# Usage: bench/gateway.sh [TAPIRD [TAPIR [TCPBENCH]]]
#        (defaults: build/daemon/tapird, build/cli/tapir, build/bench/tcpbench)
#
# Build for real figures without sanitizers and optimised:
#   meson setup build-bench --buildtype=release -Dtests=false && ninja -C build-bench
#   bench/gateway.sh build-bench/daemon/tapird build-bench/cli/tapir build-bench/bench/tcpbench
#
# Everything runs in namespaces made here, as root: H (unshare -n) plays the
# host, and each tool gets a fresh namespace N (a child, `unshare -n sleep`)
# with the tcpbench servers in it (echo 5007, discard 5009, source 5019: pasta
# runs them unprivileged).  The client runs in H on 127.0.0.1 and reaches them
# through the tool's port forwards, host ports BASE+7/9/19 -> N's 500x (BASE
# per tool and MTU, so that no tool meets another's leftovers):
#   tapir:       tapir up --netns new --gateway from H: N has the TAP with the
#                kernel side 192.0.2.1/24, tapird's host sockets stay in H,
#                [gateway] forward = tcp/BASE+7:5007, ...; servers via tapir exec
#   slirp4netns: --configure --cidr 192.0.2.0/24 (N at 192.0.2.100), add_hostfwd
#                through its API socket;
#   pasta:       makes N itself and runs the servers there (pasta -- CMD),
#                -t BASE+7:5007,...; H has a veth
#                pair, one end with 198.51.100.1/24 and a default route for pasta
#                to copy, N gets 192.0.2.100/24.
# Those are the "forward" rows.  The other way, flows the namespace opens to
# the host through each tool's gateway (the client in N, tcpbench's servers
# in H on every address, ports 6007/6009/6019):
#   "loopback" rows: to the address that stands for H's 127.0.0.1:
#                tapir's [gateway] host_loopback = 198.51.100.254,
#                slirp4netns's gateway 192.0.2.2 (its host loopback mapping,
#                on unless --disable-host-loopback), pasta's gateway
#                192.0.2.2 (mapped to the host's loopback unless --no-map-gw);
#   "veth" rows: to H's veth address 198.51.100.1 (each tool's host socket
#                connects to it).
# Figures, at MTU 1500 and 65520, for each kind: bulk host -> namespace and
# namespace -> host (the sender writes to discard, or the receiver reads from
# source), 64-byte round trips (median and p99, on one connection) and
# connections per second (connect, one 64-byte round trip, close).  Ratios:
# tapir / slirp4netns and tapir / pasta (throughput and connections: higher
# is better for tapir; latency: lower).
#
# Load: the load average and the CPU time everything else used during the
# run are printed (bench/load.sh: the machine's time less this script's
# descendants, the processes of H and the detached tapird); the ratios are
# refused when that was more than a core.
#
# Environment: BENCH_SECS (bulk and connection seconds, default 5),
# BENCH_RR (round trips, 20000), BENCH_MTUS ("1500 65520"), BENCH_TOOLS
# ("tapir slirp4netns pasta").
set -euo pipefail

if [ -z "${TAPIR_BENCH_NS:-}" ]; then
	[ "$(id -u)" = 0 ] || { echo "bench/gateway.sh: run as root (namespaces, TAP)" >&2; exit 1; }
	export TAPIR_BENCH_OUTER_NS
	TAPIR_BENCH_OUTER_NS=$(readlink /proc/self/ns/net)
	TAPIR_BENCH_NS=1 exec unshare -n "$0" "$@"
fi
if [ "$(readlink /proc/self/ns/net)" = "${TAPIR_BENCH_OUTER_NS:-}" ]; then
	echo "bench/gateway.sh: still in the original network namespace, giving up" >&2
	exit 1
fi

TAPIRD=$(realpath "${1:-build/daemon/tapird}")
TAPIR=$(realpath "${2:-$(dirname "$TAPIRD")/../cli/tapir}")
TCPBENCH=$(realpath "${3:-$(dirname "$TAPIRD")/../bench/tcpbench}")
SECS=${BENCH_SECS:-5}
RR=${BENCH_RR:-20000}
MTUS=${BENCH_MTUS:-1500 65520}
TOOLS=${BENCH_TOOLS:-tapir slirp4netns pasta}
for b in "$TAPIRD" "$TAPIR" "$TCPBENCH"; do [ -x "$b" ] || { echo "no $b" >&2; exit 1; }; done
for t in slirp4netns pasta socat; do
	command -v "$t" >/dev/null || { echo "bench/gateway.sh: needs $t (tools/deps --bench)" >&2; exit 1; }
done
if grep -q __asan_init "$TAPIRD"; then
	echo "warning: $TAPIRD is built with AddressSanitizer: its figures are not meaningful" >&2
fi

TMP=$(mktemp -d)
export TAPIR_RUNTIME_DIR="$TMP/run"   # tapir exec as a RUNNER finds the instance
PIDS=""
cleanup() {
	[ -n "${NAME:-}" ] && TAPIR_RUNTIME_DIR="$TMP/run" "$TAPIR" down "$NAME" >/dev/null 2>&1 || true
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	for p in $PIDS; do wait "$p" 2>/dev/null || true; done
	rm -rf "$TMP"
}
trap cleanup EXIT
die() {
	echo "bench/gateway.sh: $*" >&2
	[ -n "${NAME:-}" ] && TAPIR_RUNTIME_DIR="$TMP/run" "$TAPIR" stats "$NAME" 2>&1 | grep -E "gateway|tcp\.(conn|rst|syn)" >&2 || true
	for l in "$TMP"/*.log "$TMP"/run/*.log; do [ -f "$l" ] && { echo "--- $l" >&2; tail -15 "$l" >&2; }; done
	exit 1
}

ip link set lo up
# For pasta, which copies the host's addresses and routes: an interface with
# a default route (nothing is behind it; H has no other link)
ip link add hveth0 type veth peer name hveth1
ip addr add 198.51.100.1/24 dev hveth0
ip link set hveth1 up
ip link set hveth0 up
ip route add default via 198.51.100.254 dev hveth0
H_NS=$(readlink /proc/self/ns/net)
HOST_VETH=198.51.100.1
# The servers the namespaces' clients reach (on every address of H)
"$TCPBENCH" server 6007 6009 6019 >"$TMP/hserver.log" 2>&1 &
HSRV_PID=$!
PIDS="$PIDS $HSRV_PID"

# new_ns: a namespace N for the servers, its pid in NS_PID
new_ns() {
	unshare -n sleep infinity &
	NS_PID=$!
	PIDS="$PIDS $NS_PID"
	for _ in $(seq 1 50); do
		[ "$(readlink "/proc/$NS_PID/ns/net")" != "$H_NS" ] && break
		sleep 0.1
	done
	nsenter -t "$NS_PID" -n ip link set lo up
}
# servers: tcpbench's echo, discard and source in N
servers() {
	nsenter -t "$NS_PID" -n "$TCPBENCH" server 5007 5009 5019 >"$TMP/server.log" 2>&1 &
	SRV_PID=$!
	PIDS="$PIDS $SRV_PID"
}
stop_ns() {
	kill "$SRV_PID" "$NS_PID" 2>/dev/null || true
	wait "$SRV_PID" "$NS_PID" 2>/dev/null || true
}
# wait_port HOST PORT [RUNNER...]: until HOST:PORT answers a round trip
# (RUNNER: how to run the client, in N or, empty, in H)
wait_port() {
	local h=$1 p=$2
	shift 2
	for _ in $(seq 1 80); do
		timeout 3 "$@" "$TCPBENCH" rr "$h" "$p" 1 >/dev/null 2>&1 && return 0
		sleep 0.25
	done
	die "$h:$p never answered"
}

field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }
declare -A R
# run_tb NAME RUNNER... -- tcpbench ARGS: one client run, bounded in time; a
# failed run leaves no figure ("-" in the table) and is listed under it
run_tb() {
	local what=$1
	shift
	timeout $((SECS + 60)) "$@" 2>>"$TMP/clients.log" ||
		echo "$what failed" >>"$TMP/clients.log"
}
# measure TOOL MTU KIND HOST PORTBASE [RUNNER...]: the clients (through
# RUNNER) to HOST's echo PORTBASE+7, discard +9 and source +19.  KIND:
# fwd (the client in H, "send" is host -> ns), lo and veth (the client in N,
# "send" is ns -> host)
measure() {
	local t=$1 m=$2 k=$3 h=$4 b=$5 out
	shift 5
	echo "  $t, MTU $m, $k ..." >&2
	wait_port "$h" $((b + 7)) "$@"
	R[${k}send_${t}_$m]=$(run_tb "$t/$m/$k/send" "$@" "$TCPBENCH" send "$h" $((b + 9)) "$SECS" |
		field gbps)
	R[${k}recv_${t}_$m]=$(run_tb "$t/$m/$k/recv" "$@" "$TCPBENCH" recv "$h" $((b + 19)) "$SECS" |
		field gbps)
	out=$(run_tb "$t/$m/$k/rr" "$@" "$TCPBENCH" rr "$h" $((b + 7)) "$RR")
	R[${k}rr50_${t}_$m]=$(echo "$out" | field median_us)
	R[${k}rr99_${t}_$m]=$(echo "$out" | field p99_us)
	R[${k}crr_${t}_$m]=$(run_tb "$t/$m/$k/crr" "$@" "$TCPBENCH" crr "$h" $((b + 7)) "$SECS" |
		field cps)
}
# all_flows TOOL MTU LOOPBACK_ADDR RUNNER...: the forwards (BASE), then the
# namespace's flows to H's loopback and to its veth address
all_flows() {
	local t=$1 m=$2 lo=$3
	shift 3
	measure "$t" "$m" fwd 127.0.0.1 "$BASE"
	measure "$t" "$m" lo "$lo" 6000 "$@"
	measure "$t" "$m" veth "$HOST_VETH" 6000 "$@"
}

# ---- the three tools ----

run_tapir() {
	local m=$1
	BASE=$((11000 + m % 1000))
	mkdir -p -m 0700 "$TMP/run"
	NAME=gwbench
	cat >"$TMP/tapir.conf" <<CONF
[netif]
name = gwb0
mtu = $m

[ipv4]
address = 192.0.2.2/24
gateway = 192.0.2.1

[control]
name = $NAME

[gateway]
enabled = true
forward = tcp/$((BASE + 7)):5007, tcp/$((BASE + 9)):5009, tcp/$((BASE + 19)):5019
dns = 127.0.0.1
host_loopback = 198.51.100.254
CONF
	# N: a user + network namespace made by tapir up, the TAP's kernel side
	# 192.0.2.1 there; tapird keeps its host sockets in H
	TAPIR_RUNTIME_DIR="$TMP/run" "$TAPIR" up "$NAME" --config "$TMP/tapir.conf" --netns new \
		--gateway >/dev/null || die "tapir up"
	TAPIR_RUNTIME_DIR="$TMP/run" "$TAPIR" exec "$NAME" -- "$TCPBENCH" server 5007 5009 5019 \
		>"$TMP/server.log" 2>&1 &
	SRV_PID=$!
	PIDS="$PIDS $SRV_PID"
	all_flows tapir "$m" 198.51.100.254 "$TAPIR" exec "$NAME" --
	local tp
	tp=$(TAPIR_RUNTIME_DIR="$TMP/run" "$TAPIR" --json status "$NAME" | sed -n 's/.*"pid": *\([0-9]*\).*/\1/p')
	[ -n "$tp" ] && load_keep "$tp"   # tapir up detached it: not reaped here
	kill "$SRV_PID" 2>/dev/null || true
	wait "$SRV_PID" 2>/dev/null || true
	TAPIR_RUNTIME_DIR="$TMP/run" "$TAPIR" down "$NAME" >/dev/null || true
	NAME=
}

run_slirp() {
	local m=$1
	BASE=$((12000 + m % 1000))
	new_ns
	servers
	slirp4netns --configure --mtu="$m" --cidr=192.0.2.0/24 --api-socket "$TMP/slirp.sock" \
		"$NS_PID" tap0 >"$TMP/slirp.log" 2>&1 &
	local sp=$!
	PIDS="$PIDS $sp"
	for _ in $(seq 1 40); do [ -S "$TMP/slirp.sock" ] && break; sleep 0.25; done
	for p in 7 9 19; do  # host BASE+x -> N 500x
		echo "{\"execute\":\"add_hostfwd\",\"arguments\":{\"proto\":\"tcp\",\"host_addr\":\"127.0.0.1\",\"host_port\":$((BASE + p)),\"guest_port\":$((5000 + p))}}" |
			socat - "UNIX-CONNECT:$TMP/slirp.sock" >>"$TMP/slirp.log" || die "slirp add_hostfwd"
	done
	all_flows slirp4netns "$m" 192.0.2.2 nsenter -t "$NS_PID" -n
	kill "$sp" 2>/dev/null || true
	wait "$sp" 2>/dev/null || true
	rm -f "$TMP/slirp.sock"
	stop_ns
}

run_pasta() {
	local m=$1
	BASE=$((13000 + m % 1000))
	# pasta makes N itself (a user + network namespace) and runs the servers there
	pasta --foreground --quiet --config-net -i hveth0 -a 192.0.2.100 -n 24 -g 192.0.2.2 \
		-m "$m" -t $((BASE + 7)):5007,$((BASE + 9)):5009,$((BASE + 19)):5019 -u none -T none -U none --runas 0:0 \
		-- "$TCPBENCH" server 5007 5009 5019 >"$TMP/pasta.log" 2>&1 &
	local pp=$!
	PIDS="$PIDS $pp"
	# N is the namespace of pasta's child, the servers
	local child=""
	for _ in $(seq 1 40); do
		child=$(pgrep -P "$pp" | head -1) && [ -n "$child" ] &&
			[ "$(readlink "/proc/$child/ns/net")" != "$H_NS" ] && break
		sleep 0.25
	done
	[ -n "$child" ] || die "pasta's namespace not found"
	all_flows pasta "$m" 192.0.2.2 nsenter -t "$child" -n
	kill "$pp" 2>/dev/null || true
	wait "$pp" 2>/dev/null || true
}

. "$(dirname "$(realpath "$0")")/load.sh"

echo "gateway benchmark: $(nproc) CPUs, $(uname -r); bulk and connections ${SECS} s each, $RR round trips"
echo "tapird: $TAPIRD"
echo "slirp4netns: $(slirp4netns --version | head -1); pasta: $(dpkg-query -W -f='${Version}' passt 2>/dev/null || echo '?')"
load_begin
for m in $MTUS; do
	for t in $TOOLS; do
		case $t in
		tapir) run_tapir "$m" ;;
		slirp4netns) run_slirp "$m" ;;
		pasta) run_pasta "$m" ;;
		*) die "unknown tool $t" ;;
		esac
	done
done
load_end
echo

printf "%-44s %10s %12s %10s %12s %12s\n" "" tapir slirp4netns pasta tapir/slirp tapir/pasta
for m in $MTUS; do
	for k in "fwdsend:forward, host -> ns, Gbit/s" "fwdrecv:forward, ns -> host, Gbit/s" \
		 "fwdrr50:forward, 64 B RTT median, us" "fwdrr99:forward, 64 B RTT p99, us" \
		 "fwdcrr:forward, connections/s" \
		 "losend:loopback, ns -> host, Gbit/s" "lorecv:loopback, host -> ns, Gbit/s" \
		 "lorr50:loopback, 64 B RTT median, us" "lorr99:loopback, 64 B RTT p99, us" \
		 "locrr:loopback, connections/s" \
		 "vethsend:veth, ns -> host, Gbit/s" "vethrecv:veth, host -> ns, Gbit/s" \
		 "vethrr50:veth, 64 B RTT median, us" "vethrr99:veth, 64 B RTT p99, us" \
		 "vethcrr:veth, connections/s"; do
		key=${k%%:*}
		a=${R[${key}_tapir_$m]:-} b=${R[${key}_slirp4netns_$m]:-} c=${R[${key}_pasta_$m]:-}
		r1=$(load_ratio "$a" "$b") r2=$(load_ratio "$a" "$c")
		printf "%-44s %10s %12s %10s %12s %12s\n" "MTU $m ${k#*:}" "${a:--}" "${b:--}" "${c:--}" "$r1" "$r2"
	done
done
if grep -q failed "$TMP/clients.log" 2>/dev/null; then
	echo
	echo "runs that failed (no figure): $(grep -c failed "$TMP/clients.log")"
	grep -B3 failed "$TMP/clients.log" | sed 's/^/  /'
fi
load_refusal
echo
echo "forward: a client in the host namespace H to the namespace N through each tool's port"
echo "forwards (127.0.0.1:BASE+x -> N:500x).  loopback: a client in N to the address that"
echo "stands for H's 127.0.0.1 (tapir's host_loopback, slirp4netns's and pasta's gateway"
echo "address); veth: a client in N to H's veth address $HOST_VETH (each tool's host socket)."
