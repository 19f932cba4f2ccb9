#!/bin/bash
# bench/tcp.sh - TCP throughput and latency of tapird next to the Linux kernel
#
# Usage: bench/tcp.sh [TAPIRD [TCPBENCH]]
#        (defaults: build/daemon/tapird, build/bench/tcpbench; or
#        `ninja -C BUILD bench-tcp`)
#
# TAPIRD_ARGS adds boot arguments, e.g. TAPIRD_ARGS=--tcp.congestion_control=newreno
#
# Build tapird for this without sanitizers and optimised:
#   meson setup build-bench --buildtype=release && ninja -C build-bench
#   bench/tcp.sh build-bench/daemon/tapird build-bench/bench/tcpbench
#
# In a private network namespace (made here; nothing outside it is touched):
#   tapir:  tap0, MTU 1500, the kernel at 192.0.2.1, tapird at 192.0.2.2 with
#           its discard (9), source (19) and echo (7) apps;
#   kernel: a veth pair, MTU 1500, to a second namespace where
#           `tcpbench server` plays the same three apps at 198.51.100.2.
# The same client (tcpbench, in the first namespace) measures both:
#   bulk kernel->peer (send to discard), bulk peer->kernel (receive from
#   source), and 64-byte echo round trips (median, p99; BENCH_RR_ROUNDS runs
#   of each, tapir's and the kernel's alternating, the median of each figure;
#   both servers on CPU 1 and the client on CPU 0 meanwhile, BENCH_RR_PIN=0: not;
#   with the CPU time each server used per round trip), and the round trips
#   again with tapird sleeping as soon as it is idle (--netif.busy_poll=0:
#   tapird polls before it sleeps by default, daemon/uring.h).  Then the same over
#   IPv6 (tapird at 2001:db8::2 on tap0, the kernel server at 2001:db8:1::2 on
#   the veth), and tapir's IPv6 bulk against its IPv4 bulk from runs side by
#   side (BENCH_FAMILY_ROUNDS rounds, 3, the median of each).  Then again
#   with 1 % random loss each way, dropped by nftables on the client's side;
#   then the bulk runs with 0.1 % and with 5 % loss each way, and with 20 ms of
#   delay and 1 % loss of frames each way: tapird's impair wrapper delays and
#   drops tapir's frames (--netif.impair.delay, .loss), and the kernel's path
#   becomes two TAP devices joined by bench/tapdelay, which delays and drops
#   frames alike (this kernel has no netem), in place of the veth pair.
#   (nftables drops the kernel's GSO packets whole, before they are cut into
#   frames, so the delay rows drop frames on both paths instead.)
# Ratios: throughput tapir/kernel (higher is better); latency tapir/kernel
# (lower is better; <= 1.00 means tapir is no slower).
# Load: each measurement prints the load average and the CPU time everything
# else used meanwhile (bench/load.sh); its ratios are refused when that was
# more than a core.
#
# The kernel's congestion control is printed: the machine's default
# (net.ipv4.tcp_congestion_control; bbr on some hosts, which ignores random
# loss, where tapir runs CUBIC), or BENCH_KERNEL_CC=cubic for the kernel's
# sockets (tcpbench's TCPBENCH_CC, TCP_CONGESTION).  It moves the lossless
# rows too: bbr paces, cubic does not (over veth, measured busy: the kernel's
# lossless bulk about 40 Gbit/s with cubic).
#
# BENCH_KERNEL_BUSY_POLL=US: the kernel's echo server busy-polls too, as
# tapird does by default: SO_BUSY_POLL (tcpbench's TCPBENCH_BUSY_POLL) with
# GRO on the veth, which gives it the NAPI busy polling needs.  (Measured on a
# 2-CPU VM, runs side by side: without GRO SO_BUSY_POLL changes nothing, 21.0
# us at 0, 50 or 200 us; with GRO it polls, and is slower: 33.8 against 29.6.)
#
# Environment: BENCH_SECS (bulk seconds, 5), BENCH_LOSS_SECS (10),
# BENCH_RR (round trips per run, 20000), BENCH_RR_ROUNDS (3), BENCH_RR_PIN (1), BENCH_FAMILY_ROUNDS (3), BENCH_IMPAIRED=0 to skip the 0.1 %, 5 % and
# delay rows.
set -euo pipefail

. "$(dirname "$(realpath "$0")")/lib.sh"
bench_own_ns "$@"

TAPIRD=$(realpath "${1:-build/daemon/tapird}")
TCPBENCH=$(realpath "${2:-$(dirname "$TAPIRD")/../bench/tcpbench}")
TAPDELAY=$(dirname "$TCPBENCH")/tapdelay
SECS=${BENCH_SECS:-5}
LOSS_SECS=${BENCH_LOSS_SECS:-10}
RR=${BENCH_RR:-20000}
RR_ROUNDS=${BENCH_RR_ROUNDS:-3}
RR_PIN=${BENCH_RR_PIN:-1}
[ "$(nproc)" -ge 2 ] && command -v taskset >/dev/null || RR_PIN=0
[ -x "$TAPIRD" ] || { echo "no tapird at $TAPIRD" >&2; exit 1; }
[ -x "$TCPBENCH" ] || { echo "no tcpbench at $TCPBENCH" >&2; exit 1; }
if [ -n "${BENCH_KERNEL_CC:-}" ]; then
	export TCPBENCH_CC=$BENCH_KERNEL_CC
	KERNEL_CC="$BENCH_KERNEL_CC (BENCH_KERNEL_CC)"
else
	KERNEL_CC="$(sysctl -n net.ipv4.tcp_congestion_control 2>/dev/null || echo unknown) (the default)"
fi
if grep -q __asan_init "$TAPIRD"; then
	echo "warning: $TAPIRD is built with AddressSanitizer: figures are not meaningful" >&2
fi

TMP=$(mktemp -d)
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	for p in $PIDS; do wait "$p" 2>/dev/null || true; done
	rm -rf "$TMP"
}
trap cleanup EXIT
die() { echo "bench/tcp.sh: $*" >&2; [ -f "$TMP/tapird.log" ] && tail -20 "$TMP/tapird.log" >&2; exit 1; }

ip link set lo up

# ---- tapir: tap0 + tapird (built-in config: echo 7, discard 9, source 19)
ip tuntap add dev tap0 mode tap
ip addr add 192.0.2.1/24 dev tap0
ip addr add 2001:db8::1/64 dev tap0 nodad
ip link set tap0 mtu 1500 up
# start_tapird ARGS...: tapird on tap0 at 192.0.2.2 with ARGS, then TAPIRD_ARGS
start_tapird() {
	# shellcheck disable=SC2086 # TAPIRD_ARGS: extra boot arguments, split on spaces
	"$TAPIRD" --netif.name=tap0 --netif.mtu=1500 --netif.mac=02:00:00:00:00:02 \
		--ipv4.address=192.0.2.2/24 "$@" ${TAPIRD_ARGS:-} >"$TMP/tapird.log" 2>&1 &
	TAPIRD_PID=$!
	PIDS="$PIDS $TAPIRD_PID"
}
stop_tapird() {
	kill -TERM "$TAPIRD_PID"
	wait "$TAPIRD_PID" || die "tapird exited with $? on SIGTERM"
}
# wait_ping ADDR...: dies unless each answers ping within 10 s
wait_ping() {
	local a ok
	for a in "$@"; do
		ok=0
		for _ in $(seq 1 40); do
			if ping -c 1 -W 1 "$a" >/dev/null 2>&1; then ok=1; break; fi
			sleep 0.25
		done
		[ "$ok" = 1 ] || die "$a does not answer ping"
	done
}
TAPIRD_V6="--ipv6.address=2001:db8::2/64 --ipv6.dad=false"
# shellcheck disable=SC2086 # two arguments
start_tapird $TAPIRD_V6

# ---- kernel: a veth pair into a second namespace, tcpbench server there
bench_server_ns 6
if [ -n "${BENCH_KERNEL_BUSY_POLL:-}" ]; then
	export TCPBENCH_BUSY_POLL=$BENCH_KERNEL_BUSY_POLL
	nsenter -t "$SRV_NS" -n ethtool -K veth1 gro on >/dev/null || die "ethtool -K veth1 gro on failed"
fi
nsenter -t "$SRV_NS" -n "$TCPBENCH" server >"$TMP/server.log" 2>&1 &
SERVER_PID=$!
PIDS="$PIDS $SERVER_PID"

wait_ping 192.0.2.2 198.51.100.2 2001:db8::2 2001:db8:1::2
sleep 0.5

TAPIR=192.0.2.2
KERNEL=198.51.100.2
TAPIR6=2001:db8::2
KERNEL6=2001:db8:1::2

# run MODE ADDR PORT ARG: one tcpbench client run, its output line
run() {
	$CLIENT_PIN "$TCPBENCH" "$1" "$2" "$3" "$4" || die "tcpbench $* failed"
	kill -0 "$TAPIRD_PID" 2>/dev/null || die "tapird died"
}
# rr_pin on|off: during the round trips both servers (tapird and the kernel's
# tcpbench server; nsenter exec'd it, so its PID is the server's) run on CPU 1
# and the client on CPU 0 (BENCH_RR_PIN=0: not), the same placement for both,
# so that neither figure depends on where the scheduler put whom
CLIENT_PIN=
rr_pin() {
	[ "$RR_PIN" = 1 ] || return 0
	if [ "$1" = on ]; then
		taskset -apc 1 "$TAPIRD_PID" >/dev/null && taskset -apc 1 "$SERVER_PID" >/dev/null ||
			die "taskset failed"
		CLIENT_PIN="taskset -c 0"
	else
		taskset -apc "0-$(($(nproc) - 1))" "$TAPIRD_PID" >/dev/null
		taskset -apc "0-$(($(nproc) - 1))" "$SERVER_PID" >/dev/null
		CLIENT_PIN=
	fi
}
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }
# ratio A B: load.sh's, refused when the section's measurement was disturbed
ratio() { load_ratio "$1" "$2"; }
row() { printf "%-34s %12s %14s %8s %s\n" "$@"; }

echo "tcp benchmark: $(nproc) CPUs, $(uname -r), MTU 1500, bulk ${SECS} s, $RR round trips"
echo "congestion control: tapird ${TAPIRD_ARGS:+(TAPIRD_ARGS: $TAPIRD_ARGS) }its [tcp] default; the kernel $KERNEL_CC"
if [ -n "${BENCH_KERNEL_BUSY_POLL:-}" ]; then
	KWAIT="busy-polls $BENCH_KERNEL_BUSY_POLL us (SO_BUSY_POLL, GRO on veth1)"
else
	KWAIT="sleeps at once (BENCH_KERNEL_BUSY_POLL unset)"
fi
echo "waiting: tapird $(grep -o "waiting in .*" "$TMP/tapird.log" | head -1); the kernel's echo server $KWAIT"
echo "tapird: $TAPIRD"
echo

declare -A R BUSY
# median of the numbers on stdin
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
# cpu_us PID: the CPU time PID has used so far (user and system, all its
# threads), in microseconds
TICK_US=$((1000000 / $(getconf CLK_TCK)))
cpu_us() { awk -v t="$TICK_US" '{ sub(/^.*\) /, ""); print ($12 + $13) * t }' "/proc/$1/stat"; }
# rr_rounds SUFFIX [6]: RR_ROUNDS runs of round trips, tapir's and the
# kernel's side by side; R[rr50_WHO$SUFFIX] and R[rr99_...] the median of
# their medians and of their p99s, R[rrcpu_...] the CPU time the server
# (tapird, or the kernel's tcpbench server) used per round trip (us)
rr_rounds() {
	local sfx=$1 v6=${2:-} out m50 m99 who addr pid c0
	rr_pin on
	for _ in $(seq 1 "$RR_ROUNDS"); do
		for who in tapir kernel; do
			if [ "$who" = tapir ]; then addr=$TAPIR pid=$TAPIRD_PID; else addr=$KERNEL pid=$SERVER_PID; fi
			if [ -n "$v6" ]; then
				if [ "$who" = tapir ]; then addr=$TAPIR6; else addr=$KERNEL6; fi
			fi
			c0=$(cpu_us "$pid")
			out=$(run rr "$addr" 7 "$RR")
			R[rrcpu_$who$sfx]=$(( ${R[rrcpu_$who$sfx]:-0} + $(cpu_us "$pid") - c0 ))
			m50=$(echo "$out" | field median_us)
			m99=$(echo "$out" | field p99_us)
			R[rr50s_$who$sfx]="${R[rr50s_$who$sfx]:-} $m50"
			R[rr99s_$who$sfx]="${R[rr99s_$who$sfx]:-} $m99"
		done
	done
	rr_pin off
	for who in tapir kernel; do
		R[rr50_$who$sfx]=$(echo "${R[rr50s_$who$sfx]}" | median)
		R[rr99_$who$sfx]=$(echo "${R[rr99s_$who$sfx]}" | median)
		R[rrcpu_$who$sfx]=$(awk -v c="${R[rrcpu_$who$sfx]}" -v n="$((RR * RR_ROUNDS))" \
			'BEGIN { printf "%.1f", c / n }')
	done
}
# measure SUFFIX SECS [6]: fills R[send_tapir$1] ... (over IPv6 with 6), and
# BUSY[SUFFIX or base] when others used more than a core meanwhile (load.sh)
measure() {
	local sfx=$1 secs=$2 v6=${3:-} who addr
	load_begin
	for who in tapir kernel; do
		if [ "$who" = tapir ]; then addr=$TAPIR; else addr=$KERNEL; fi
		if [ -n "$v6" ]; then
			if [ "$who" = tapir ]; then addr=$TAPIR6; else addr=$KERNEL6; fi
		fi
		R[send_$who$sfx]=$(run send "$addr" 9 "$secs" | field gbps)
		R[recv_$who$sfx]=$(run recv "$addr" 19 "$secs" | field gbps)
	done
	if [ "$sfx" = "" ] || [ "$sfx" = "6" ]; then
		rr_rounds "$sfx" "$v6"
	fi
	load_end
	BUSY[${sfx:-base}]=$LOAD_BUSY
}

measure "" "$SECS"
LOAD_BUSY=${BUSY[base]}
row "test" "tapir" "kernel(veth)" "ratio" ""
row "bulk kernel->tapird (Gbit/s)" "${R[send_tapir]}" "${R[send_kernel]}" \
	"$(ratio "${R[send_tapir]}" "${R[send_kernel]}")" \
	"$(awk -v x="${R[send_tapir]}" 'BEGIN { print (x >= 1.6 ? "target >= 1.6 Gbit/s: met" : "target >= 1.6 Gbit/s: MISSED") }')"
row "bulk tapird->kernel (Gbit/s)" "${R[recv_tapir]}" "${R[recv_kernel]}" \
	"$(ratio "${R[recv_tapir]}" "${R[recv_kernel]}")" \
	"$(awk -v x="${R[recv_tapir]}" 'BEGIN { print (x >= 1.6 ? "target >= 1.6 Gbit/s: met" : "target >= 1.6 Gbit/s: MISSED") }')"
row "echo 64 B round trip median (us)" "${R[rr50_tapir]}" "${R[rr50_kernel]}" \
	"$(ratio "${R[rr50_tapir]}" "${R[rr50_kernel]}")" \
	"$(awk -v a="${R[rr50_tapir]}" -v b="${R[rr50_kernel]}" 'BEGIN { print (a <= b ? "target <= kernel: met" : "target <= kernel: MISSED") }')"
row "echo 64 B round trip p99 (us)" "${R[rr99_tapir]}" "${R[rr99_kernel]}" \
	"$(ratio "${R[rr99_tapir]}" "${R[rr99_kernel]}")" \
	"$(awk -v a="${R[rr99_tapir]}" -v b="${R[rr99_kernel]}" 'BEGIN { print (a <= b ? "target <= kernel: met" : "target <= kernel: MISSED") }')"
echo "  round trips, $RR_ROUNDS runs each side by side$([ "$RR_PIN" = 1 ] && echo ", servers on CPU 1, client on CPU 0") (median us / p99 us):" \
	"tapir${R[rr50s_tapir]} /${R[rr99s_tapir]}; kernel${R[rr50s_kernel]} /${R[rr99s_kernel]}"
echo "  CPU per round trip (us, the server process's own): tapird ${R[rrcpu_tapir]}, the kernel's server ${R[rrcpu_kernel]}"
load_refusal

# ---- the round trips again with tapird sleeping as soon as it is idle: its
# polling (daemon/uring.h) is what a sleeping CPU's wake-up costs
stop_tapird
# shellcheck disable=SC2086 # two arguments
start_tapird $TAPIRD_V6 --netif.busy_poll=0
wait_ping 192.0.2.2 2001:db8::2
load_begin
rr_rounds "_np"
load_end
BUSY[_np]=$LOAD_BUSY
stop_tapird
# shellcheck disable=SC2086 # two arguments
start_tapird $TAPIRD_V6
wait_ping 192.0.2.2 2001:db8::2
echo
echo "round trips with tapird not polling ([netif] busy_poll = 0):"
LOAD_BUSY=${BUSY[_np]}
row "test" "tapir" "kernel(veth)" "ratio" ""
row "echo 64 B round trip median (us)" "${R[rr50_tapir_np]}" "${R[rr50_kernel_np]}" \
	"$(ratio "${R[rr50_tapir_np]}" "${R[rr50_kernel_np]}")" ""
row "echo 64 B round trip p99 (us)" "${R[rr99_tapir_np]}" "${R[rr99_kernel_np]}" \
	"$(ratio "${R[rr99_tapir_np]}" "${R[rr99_kernel_np]}")" ""
echo "  runs (median us / p99 us): tapir${R[rr50s_tapir_np]} /${R[rr99s_tapir_np]}; kernel${R[rr50s_kernel_np]} /${R[rr99s_kernel_np]}"
echo "  CPU per round trip (us): tapird ${R[rrcpu_tapir_np]} (polling: ${R[rrcpu_tapir]}), the kernel's server ${R[rrcpu_kernel_np]}"
load_refusal

# ---- the same over IPv6, and tapir's IPv6 figures against its IPv4 ones
measure "6" "$SECS" 6
echo
echo "over IPv6 (the same client, tapird at $TAPIR6, the kernel at $KERNEL6):"
LOAD_BUSY=${BUSY[6]}
row "test" "tapir" "kernel(veth)" "ratio" "tapir IPv6/IPv4 (below)"
for d in send recv; do
	if [ "$d" = send ]; then name="bulk kernel->tapird (Gbit/s)"; else name="bulk tapird->kernel (Gbit/s)"; fi
	row "$name" "${R[${d}_tapir6]}" "${R[${d}_kernel6]}" \
		"$(ratio "${R[${d}_tapir6]}" "${R[${d}_kernel6]}")" ""
done
row "echo 64 B round trip median (us)" "${R[rr50_tapir6]}" "${R[rr50_kernel6]}" \
	"$(ratio "${R[rr50_tapir6]}" "${R[rr50_kernel6]}")" "$(ratio "${R[rr50_tapir6]}" "${R[rr50_tapir]}")"
row "echo 64 B round trip p99 (us)" "${R[rr99_tapir6]}" "${R[rr99_kernel6]}" \
	"$(ratio "${R[rr99_tapir6]}" "${R[rr99_kernel6]}")" "$(ratio "${R[rr99_tapir6]}" "${R[rr99_tapir]}")"
load_refusal
# tapir's IPv6/IPv4 ratio from runs side by side: FAMILY_ROUNDS rounds of
# IPv4 then IPv6 bulk each way, the median of each (single runs minutes
# apart varied by a quarter on this shared machine, both ways)
FAMILY_ROUNDS=${BENCH_FAMILY_ROUNDS:-3}
load_begin
declare -A FAM
for _ in $(seq 1 "$FAMILY_ROUNDS"); do
	for d in send recv; do
		if [ "$d" = send ]; then port=9; else port=19; fi
		FAM[${d}4]="${FAM[${d}4]:-} $(run "$d" "$TAPIR" "$port" "$SECS" | field gbps)"
		FAM[${d}6]="${FAM[${d}6]:-} $(run "$d" "$TAPIR6" "$port" "$SECS" | field gbps)"
	done
done
load_end
BUSY[fam]=$LOAD_BUSY
echo
echo "tapir over IPv6 against tapir over IPv4, $FAMILY_ROUNDS rounds side by side (median; each run):"
LOAD_BUSY=${BUSY[fam]}
row "test" "IPv6" "IPv4" "ratio" ""
for d in send recv; do
	if [ "$d" = send ]; then name="bulk kernel->tapird (Gbit/s)"; else name="bulk tapird->kernel (Gbit/s)"; fi
	m6=$(echo "${FAM[${d}6]}" | median)
	m4=$(echo "${FAM[${d}4]}" | median)
	r46=$(ratio "$m6" "$m4")
	row "$name" "$m6" "$m4" "$r46" \
		"$([ -n "$LOAD_BUSY" ] || awk -v x="$r46" 'BEGIN { print (x >= 0.9 ? "target >= 0.90: met" : "target >= 0.90: MISSED") }') (v6:${FAM[${d}6]}; v4:${FAM[${d}4]})"
done
load_refusal

# ---- random loss each way, on the client's side of both links
# nft_loss PERMILLE: drop that many of 1000 TCP packets at random
nft_loss() {
	nft -f - <<NFT || die "cannot load the nftables rules"
table inet tapirbench {
	chain in {
		type filter hook input priority 0;
		iifname { "tap0", "veth0", "tapk0" } meta l4proto tcp numgen random mod 1000 < $1 counter drop
	}
	chain out {
		type filter hook output priority 0;
		oifname { "tap0", "veth0", "tapk0" } meta l4proto tcp numgen random mod 1000 < $1 counter drop
	}
}
NFT
}
command -v nft >/dev/null || die "nft not found (apt-get install nftables)"
nft_loss 10
measure "_loss" "$LOSS_SECS"
nft delete table inet tapirbench
echo
echo "with 1 % random loss each way (nftables), bulk ${LOSS_SECS} s:"
LOAD_BUSY=${BUSY[base]}${BUSY[_loss]}
row "test" "tapir" "kernel(veth)" "ratio" "tapir lossy/lossless"
for d in send recv; do
	if [ "$d" = send ]; then name="bulk kernel->tapird (Gbit/s)"; else name="bulk tapird->kernel (Gbit/s)"; fi
	rl=$(ratio "${R[${d}_tapir_loss]}" "${R[${d}_tapir]}")
	row "$name" "${R[${d}_tapir_loss]}" "${R[${d}_kernel_loss]}" \
		"$(ratio "${R[${d}_tapir_loss]}" "${R[${d}_kernel_loss]}")" \
		"$rl $([ -n "$LOAD_BUSY" ] || awk -v x="$rl" 'BEGIN { print (x >= 0.5 ? "(target >= 0.50: met)" : "(target >= 0.50: MISSED)") }')"
done
load_refusal
if [ "${BENCH_IMPAIRED:-1}" != 0 ]; then
	# ---- 0.1 % and 5 % loss each way
	nft_loss 1
	measure "_l01" "$LOSS_SECS"
	nft delete table inet tapirbench
	nft_loss 50
	measure "_l5" "$LOSS_SECS"
	nft delete table inet tapirbench

	# ---- 20 ms of delay and 1 % loss of frames each way: tapird again with the
	# impair wrapper; the kernel's path through tapdelay instead of the veth
	[ -x "$TAPDELAY" ] || die "no tapdelay at $TAPDELAY"
	stop_tapird
	start_tapird --netif.impair.delay=20ms --netif.impair.loss=1% --netif.impair.seed=1
	ip link del veth0
	"$TAPDELAY" tapk0 "$SRV_NS" tapk1 20000 10000 >"$TMP/tapdelay.log" 2>&1 &
	TAPDELAY_PID=$!
	PIDS="$PIDS $TAPDELAY_PID"
	for _ in $(seq 1 50); do grep -q ready "$TMP/tapdelay.log" && break; sleep 0.1; done
	grep -q ready "$TMP/tapdelay.log" || die "tapdelay: $(cat "$TMP/tapdelay.log")"
	ip addr add 198.51.100.1/24 dev tapk0
	ip link set tapk0 mtu 1500 up
	nsenter -t "$SRV_NS" -n sh -c 'ip addr add 198.51.100.2/24 dev tapk1 &&
		ip link set tapk1 mtu 1500 up'
	wait_ping 192.0.2.2 198.51.100.2
	measure "_d20" "$LOSS_SECS"

	echo
	echo "under other impairments, bulk ${LOSS_SECS} s each (the kernel: over veth; with"
	echo "delay over two TAPs joined by bench/tapdelay):"
	row "test" "tapir" "kernel" "ratio" ""
	for imp in "_l01:0.1 % loss" "_l5:5 % loss" "_d20:20 ms+1 % loss"; do
		sfx=${imp%%:*}
		label=${imp#*:}
		LOAD_BUSY=${BUSY[$sfx]}
		for d in send recv; do
			if [ "$d" = send ]; then name="$label kernel->tapird"; else name="$label tapird->kernel"; fi
			row "$name (Gbit/s)" "${R[${d}_tapir$sfx]}" "${R[${d}_kernel$sfx]}" \
				"$(ratio "${R[${d}_tapir$sfx]}" "${R[${d}_kernel$sfx]}")" ""
		done
	done
	LOAD_BUSY=${BUSY[_l01]}${BUSY[_l5]}${BUSY[_d20]}
	load_refusal
fi
stop_tapird
