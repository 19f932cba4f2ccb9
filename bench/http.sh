#!/bin/bash
# bench/http.sh - tapird's http app next to nginx on the Linux kernel, with wrk
#
# Usage: bench/http.sh [TAPIRD]   (default build/daemon/tapird; as root or
#        with user namespaces; needs wrk and nginx-light: tools/deps --test,
#        apt-get install nginx-light)
#
# Build tapird without sanitizers for this:
#   meson setup build-bench --buildtype=release && ninja -C build-bench
#   bench/http.sh build-bench/daemon/tapird
#
# In a private network namespace made here (nothing outside it is touched):
#   tapir:  tap0, MTU 1500; tapird at 192.0.2.2, the http app (access log
#           off) serving a dir store with 1k.bin and 100m.bin;
#   kernel: a veth pair, MTU 1500, to a second namespace where nginx (one
#           worker, access log off, sendfile) serves the same directory at
#           198.51.100.2.
# The same wrk commands run against both, one after the other:
#   1 KiB file, 1 connection and 100 connections (requests/s), 100 MiB file,
#   1 connection (MB/s).  Ratio: tapir/kernel, higher is better.
# HTTPS rows: the same over TLS (port 443 on both), with the same
#   certificate (an EC P-256 one made here) and the same TLS 1.2 ciphers and
#   TLS 1.3 suites (tapir's defaults, given to nginx), plus new TLS
#   connections per second (100 clients, Connection: close: a full
#   handshake per request).  Set BENCH_HTTPS=0 to skip them.
#
# tools/deps --bench installs wrk and nginx-light.
#
# Load: the load average and the CPU time everything else used during the
# run are printed (bench/load.sh); the ratios are refused when that was more
# than a core.
#
# Environment: BENCH_SECS (seconds per wrk run, 10); TAPIRD_ARGS (boot
# arguments for tapird, e.g. --netif.offload=false).
set -euo pipefail

. "$(dirname "$(realpath "$0")")/lib.sh"
bench_own_ns "$@"

TAPIRD=$(realpath "${1:-build/daemon/tapird}")
SECS=${BENCH_SECS:-10}
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$TAPIRD" ] || { echo "no tapird at $TAPIRD" >&2; exit 1; }
[ -x "$NGINX" ] || { echo "no nginx (apt-get install nginx-light)" >&2; exit 1; }
command -v wrk >/dev/null || { echo "no wrk (apt-get install wrk)" >&2; exit 1; }
if grep -q __asan_init "$TAPIRD"; then
	echo "warning: $TAPIRD is built with AddressSanitizer: figures are not meaningful" >&2
fi

echo "http benchmark: $(nproc) CPUs, $(uname -r), MTU 1500, wrk ${SECS} s per run"
echo "tapird: $TAPIRD"
echo "nginx: $("$NGINX" -v 2>&1 | sed 's/.*: //')"
# from before tapird and nginx start: what they use is the benchmark's
load_begin

TMP=$(mktemp -d)
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	for p in $PIDS; do wait "$p" 2>/dev/null || true; done
	rm -rf "$TMP"
}
trap cleanup EXIT
die() { echo "bench/http.sh: $*" >&2; [ -f "$TMP/tapird.log" ] && tail -20 "$TMP/tapird.log" >&2; exit 1; }

ip link set lo up
mkdir -p "$TMP/www" "$TMP/nginx/logs" "$TMP/certs/default"
HTTPS=${BENCH_HTTPS:-1}
# One certificate for both (tapir reads it from a store, nginx from files)
# and one cipher configuration: tapir's defaults (apps/http/http_conf.c).
CIPHERS="ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384"
CIPHERS="$CIPHERS:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"
SUITES="TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-keyout "$TMP/certs/default/key.pem" -out "$TMP/certs/default/cert.pem" \
	-subj "/CN=bench.test" -addext "subjectAltName=IP:192.0.2.2,IP:198.51.100.2" 2>/dev/null ||
	die "openssl cannot make the certificate"
head -c 1024 /dev/urandom >"$TMP/www/1k.bin"
head -c $((100 << 20)) /dev/urandom >"$TMP/www/100m.bin"

# ---- tapir
ip tuntap add dev tap0 mode tap
ip addr add 192.0.2.1/24 dev tap0
ip link set tap0 mtu 1500 up
cat >"$TMP/tapird.conf" <<CONF
[netif]
name = tap0
mtu = 1500
[ipv4]
address = 192.0.2.2/24
[control]
enabled = false
[kv.www]
store = dir:$TMP/www
[app.http]
kv = www
port = 80
access_log = false
[kv.certs]
store = dir:$TMP/certs
[app.https]
type = http
kv = www
port = 443
access_log = false
tls_store = certs
tls_ciphers = $CIPHERS
tls_ciphersuites = $SUITES
tls_max_handshakes = 1024
CONF
# shellcheck disable=SC2086  # TAPIRD_ARGS: boot arguments, split on spaces
"$TAPIRD" --config "$TMP/tapird.conf" ${TAPIRD_ARGS:-} >"$TMP/tapird.log" 2>&1 &
TAPIRD_PID=$!
PIDS="$PIDS $TAPIRD_PID"

# ---- kernel: veth into a second namespace, nginx there
bench_server_ns
bench_nginx_conf "$TMP/nginx/nginx.conf" \
	"listen 198.51.100.2:80;" \
	"listen 198.51.100.2:443 ssl;" \
	"ssl_certificate $TMP/certs/default/cert.pem;" \
	"ssl_certificate_key $TMP/certs/default/key.pem;" \
	"ssl_protocols TLSv1.2 TLSv1.3;" \
	"ssl_ciphers $CIPHERS;" \
	"ssl_conf_command Ciphersuites $SUITES;" \
	"ssl_prefer_server_ciphers on;" \
	"ssl_session_cache shared:tls:1m;" \
	"root $TMP/www;"
nsenter -t "$SRV_NS" -n "$NGINX" -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" \
	>"$TMP/nginx/out.log" 2>&1 &
PIDS="$PIDS $!"

for a in 192.0.2.2 198.51.100.2; do
	bench_wait_http "http://$a/1k.bin"
done
for a in 192.0.2.2 198.51.100.2; do
	[ "$(curl -sf "http://$a/100m.bin" | sha256sum)" = "$(sha256sum <"$TMP/www/100m.bin")" ] ||
		die "http://$a/100m.bin differs"
	[ "$HTTPS" = 0 ] && continue
	[ "$(curl -sf --cacert "$TMP/certs/default/cert.pem" "https://$a/100m.bin" | sha256sum)" = \
		"$(sha256sum <"$TMP/www/100m.bin")" ] || die "https://$a/100m.bin differs"
done

# wrk_run ARGS...: its output; fails on socket errors or non-2xx answers
wrk_run() {
	local out
	out=$(wrk "$@" 2>&1) || die "wrk $*: $out"
	if echo "$out" | grep -q -e 'Socket errors' -e 'Non-2xx'; then
		echo "warning: wrk $*: $(echo "$out" | grep -e 'Socket errors' -e 'Non-2xx')" >&2
	fi
	kill -0 "$TAPIRD_PID" 2>/dev/null || die "tapird died"
	echo "$out"
}
rps() { awk '/^Requests\/sec/{print $2}'; }
# Transfer/sec in MB/s (wrk prints KB, MB or GB)
mbps() { awk '/^Transfer\/sec/{v=$2; u=substr(v, length(v)-1); v=v+0;
	if (u=="GB") v*=1024; else if (u=="KB") v/=1024; printf "%.1f", v}'; }
row() { printf "%-36s %12s %14s %8s\n" "$@"; }

declare -A R
for who in tapir kernel; do
	if [ "$who" = tapir ]; then a=192.0.2.2; else a=198.51.100.2; fi
	R[c1_$who]=$(wrk_run -t 1 -c 1 -d "${SECS}s" "http://$a/1k.bin" | rps)
	R[c100_$who]=$(wrk_run -t 2 -c 100 -d "${SECS}s" "http://$a/1k.bin" | rps)
	R[big_$who]=$(wrk_run -t 1 -c 1 -d "${SECS}s" --timeout 30s "http://$a/100m.bin" | mbps)
	[ "$HTTPS" = 0 ] && continue
	R[tc1_$who]=$(wrk_run -t 1 -c 1 -d "${SECS}s" "https://$a/1k.bin" | rps)
	R[tc100_$who]=$(wrk_run -t 2 -c 100 -d "${SECS}s" "https://$a/1k.bin" | rps)
	R[tnew_$who]=$(wrk_run -t 2 -c 100 -d "${SECS}s" -H "Connection: close" \
		"https://$a/1k.bin" | rps)
	R[tbig_$who]=$(wrk_run -t 1 -c 1 -d "${SECS}s" --timeout 30s "https://$a/100m.bin" | mbps)
done
load_end
echo
row "test" "tapir" "kernel(nginx)" "ratio"
row "1 KiB, 1 connection (req/s)" "${R[c1_tapir]}" "${R[c1_kernel]}" "$(load_ratio "${R[c1_tapir]}" "${R[c1_kernel]}")"
row "1 KiB, 100 connections (req/s)" "${R[c100_tapir]}" "${R[c100_kernel]}" "$(load_ratio "${R[c100_tapir]}" "${R[c100_kernel]}")"
row "100 MiB, 1 connection (MB/s)" "${R[big_tapir]}" "${R[big_kernel]}" "$(load_ratio "${R[big_tapir]}" "${R[big_kernel]}")"
if [ "$HTTPS" != 0 ]; then
	row "HTTPS 1 KiB, 1 connection (req/s)" "${R[tc1_tapir]}" "${R[tc1_kernel]}" \
		"$(load_ratio "${R[tc1_tapir]}" "${R[tc1_kernel]}")"
	row "HTTPS 1 KiB, 100 connections (req/s)" "${R[tc100_tapir]}" "${R[tc100_kernel]}" \
		"$(load_ratio "${R[tc100_tapir]}" "${R[tc100_kernel]}")"
	row "HTTPS new connections/s (100)" "${R[tnew_tapir]}" "${R[tnew_kernel]}" \
		"$(load_ratio "${R[tnew_tapir]}" "${R[tnew_kernel]}")"
	row "HTTPS 100 MiB, 1 connection (MB/s)" "${R[tbig_tapir]}" "${R[tbig_kernel]}" \
		"$(load_ratio "${R[tbig_tapir]}" "${R[tbig_kernel]}")"
fi
load_refusal
