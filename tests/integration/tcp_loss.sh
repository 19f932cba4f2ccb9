#!/bin/bash
# tcp_loss.sh - tapird's TCP against the Linux kernel over a lossy TAP:
#   * tapird's impair wrapper: 2 % loss, 2 % duplication, 2 % reordering of
#     frames both ways (fixed seed): 100 MB through echo and 100 MB from
#     source, SHA-256 equal;
#   * nftables on the kernel side drops 1 % of tap0's packets at random, in
#     and out: the same transfers;
#   * 5 % of them (RACK-TLP, PRR and the timers under heavy loss);
#   * 20 ms of delay each way added by tapird's impair wrapper (a 40 ms round
#     trip) with 0.1 % nftables loss: RACK's reordering window and timer, TLP
#     and HyStart++ at a round trip longer than a timer tick (20 MB: at 40 ms
#     loss limits any TCP to a few Mbit/s; TCP_LOSS_DELAY_BYTES overrides).
# Each transfer must finish (socat -t / timeout bound them) with the exact bytes;
# the last two also check that RACK and PRR did the recovery (tapird's counters).
set -euo pipefail
TAPIRD=$(realpath "$1")
HERE=$(dirname "$(realpath "$0")")
. "$HERE/tcp_lib.sh"
tcp_enter_netns "$@"
T_START=$(now_ms)
SIZE=${TCP_LOSS_BYTES:-100000000}
DELAY_SIZE=${TCP_LOSS_DELAY_BYTES:-20000000}

# 1. impairment inside tapird (both directions)
tcp_setup --netif.impair.loss=2% --netif.impair.duplicate=2% \
	--netif.impair.reorder=2% --netif.impair.seed=1
echo_bulk "$SIZE" "impair 2% loss+dup+reorder"
source_bulk "$SIZE" "impair 2% loss+dup+reorder"
stop_tapird
ip link del tap0

# nft_loss PERMILLE: drop that many of 1000 TCP packets of tap0 at random,
# in and out, on the kernel side
nft_loss() {
	nft -f - <<NFT || fail "cannot load the nftables rules"
table inet tapirloss {
	chain in {
		type filter hook input priority 0;
		iifname "tap0" ip protocol tcp numgen random mod 1000 < $1 counter drop
	}
	chain out {
		type filter hook output priority 0;
		oifname "tap0" ip protocol tcp numgen random mod 1000 < $1 counter drop
	}
}
NFT
}
nft_report() {
	echo "  nftables dropped: $(nft list table inet tapirloss | grep -o 'packets [0-9]*' | tr '\n' ' ')"
	nft delete table inet tapirloss
}

# counter NAME: tapird's counter NAME (tapir stats on the control socket)
counter() {
	TAPIR_RUNTIME_DIR=$TMP "$TAPIR" --json stats loss |
		jq -r --arg k "${1#tcp.}" '.tcp[$k] // 0'
}
TAPIR=$(dirname "$TAPIRD")/../cli/tapir
[ -x "$TAPIR" ] || fail "no tapir CLI next to tapird ($TAPIR)"
command -v jq >/dev/null || fail "jq not found (apt-get install jq)"

# 2. 1 % random loss by nftables on the kernel side, both directions
command -v nft >/dev/null || fail "nft not found (apt-get install nftables)"
tcp_setup
nft_loss 10
echo_bulk "$SIZE" "nftables 1% loss"
source_bulk "$SIZE" "nftables 1% loss"
nft_report
stop_tapird
ip link del tap0

# 3. 5 % random loss each way
tcp_setup --control.socket="$TMP/loss.sock"
nft_loss 50
echo_bulk "$SIZE" "nftables 5% loss"
source_bulk "$SIZE" "nftables 5% loss"
nft_report
for c in tcp.rack.lost tcp.prr.recoveries; do
	v=$(counter "$c")
	[ "$v" -gt 0 ] || fail "5% loss: $c is $v: RACK/PRR did not run"
done
pass "5% loss: RACK marked $(counter tcp.rack.lost) losses, PRR ran $(counter tcp.prr.recoveries) recoveries, $(counter tcp.rto_timeouts) RTOs"
stop_tapird
ip link del tap0

# 4. 20 ms delay each way (tapird's impair wrapper) and 0.1 % loss
tcp_setup --control.socket="$TMP/loss.sock" --netif.impair.delay=20ms
nft_loss 1
echo_bulk "$DELAY_SIZE" "20 ms delay + 0.1% loss"
source_bulk "$DELAY_SIZE" "20 ms delay + 0.1% loss"
nft_report
v=$(counter tcp.rack.lost)
[ "$v" -gt 0 ] || fail "20 ms delay: tcp.rack.lost is $v"
pass "20 ms delay: RACK marked $v losses, $(counter tcp.tail_loss_probes) tail loss probes, $(counter tcp.rto_timeouts) RTOs"
stop_tapird
echo "tcp_loss: all passed in $(( ($(now_ms) - T_START) / 1000 )) s"
