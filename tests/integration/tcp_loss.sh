#!/bin/bash
# tcp_loss.sh - tapird's TCP against the Linux kernel over a lossy TAP:
#   * tapird's impair wrapper: 2 % loss, 2 % duplication, 2 % reordering of
#     frames both ways (fixed seed): 100 MB through echo and 100 MB from
#     source, SHA-256 equal;
#   * nftables on the kernel side drops 1 % of tap0's packets at random, in
#     and out: the same transfers.
# Each transfer must finish (socat -t / timeout bound them) with the exact bytes.
set -euo pipefail
TAPIRD=$(realpath "$1")
HERE=$(dirname "$(realpath "$0")")
. "$HERE/tcp_lib.sh"
tcp_enter_netns "$@"
T_START=$(now_ms)
SIZE=${TCP_LOSS_BYTES:-100000000}

# 1. impairment inside tapird (both directions)
tcp_setup --netif.impair.loss=2% --netif.impair.duplicate=2% \
	--netif.impair.reorder=2% --netif.impair.seed=1
echo_bulk "$SIZE" "impair 2% loss+dup+reorder"
source_bulk "$SIZE" "impair 2% loss+dup+reorder"
stop_tapird
ip link del tap0

# 2. 1 % random loss by nftables on the kernel side, both directions
command -v nft >/dev/null || fail "nft not found (apt-get install nftables)"
tcp_setup
nft -f - <<'NFT' || fail "cannot load the nftables rules"
table inet tapirloss {
	chain in {
		type filter hook input priority 0;
		iifname "tap0" ip protocol tcp numgen random mod 100 < 1 counter drop
	}
	chain out {
		type filter hook output priority 0;
		oifname "tap0" ip protocol tcp numgen random mod 100 < 1 counter drop
	}
}
NFT
echo_bulk "$SIZE" "nftables 1% loss"
source_bulk "$SIZE" "nftables 1% loss"
echo "  nftables dropped: $(nft list table inet tapirloss | grep -o 'packets [0-9]*' | tr '\n' ' ')"
nft delete table inet tapirloss
stop_tapird
echo "tcp_loss: all passed in $(( ($(now_ms) - T_START) / 1000 )) s"
