#!/bin/bash
# dns.sh - tapird's stub resolver against a real dnsmasq on the kernel side
# of the TAP: A, AAAA, a CNAME chain, search domains, static hosts, NXDOMAIN,
# NODATA, the cache, an answer too big for UDP (TC, asked again over TCP), a
# first server that never answers (the next one is used), forged replies
# with a wrong ID, question, source or destination port (ignored, counted),
# and examples/fetch downloading a file by name (SHA-256 equal).
#
# Runs as real root (CI): `unshare -n`, so dnsmasq can bind port 53 and keep
# its user.
set -euo pipefail
TAPIRD=$(realpath "$1")
TAPIR=$(realpath "$2")
HERE=$(dirname "$(realpath "$0")")
SRC=$(realpath "$HERE/../..")
BUILD=$(dirname "$(dirname "$TAPIRD")")   # BUILD/daemon/tapird
if [ -z "${TAPIR_IN_NETNS:-}" ]; then
	[ "$(id -u)" = 0 ] || { echo "dns.sh needs root (CI runs as root)" >&2; exit 1; }
	export TAPIR_OUTER_NETNS
	TAPIR_OUTER_NETNS=$(readlink /proc/self/ns/net)
	TAPIR_IN_NETNS=1 exec unshare -n "$0" "$@"
fi
. "$HERE/lib.sh"
netns_check
ip link set lo up
export TAPIR_RUNTIME_DIR="$TMP/run"

make_tap tap0 192.0.2.1/24
# 192.0.2.9: the first server, which never answers (a socket that reads and
# drops, so the kernel sends no port unreachable either)
ip addr add 192.0.2.9/24 dev tap0

# The zone: example.test is dnsmasq's own (unknown names are NXDOMAIN)
DM_ARGS=(--no-daemon --conf-file=/dev/null --no-resolv --no-hosts --bind-interfaces
	--listen-address=192.0.2.1 --port=53 --user=root --group=root --log-queries
	--local=/example.test/ --local=/nosuch/ --local-ttl=60
	--host-record=www.example.test,192.0.2.80,2001:db8::80
	--cname=alias.example.test,www.example.test
	--cname=alias2.example.test,alias.example.test
	--host-record=v4only.example.test,192.0.2.81
	--host-record=spoof.example.test,192.0.2.90
	--host-record=files.example.test,192.0.2.1)
# big: 120 addresses, more than the 1232 bytes of our EDNS0 buffer
for i in $(seq 1 120); do
	DM_ARGS+=(--host-record=big.example.test,198.51.100.$i)
done
dnsmasq "${DM_ARGS[@]}" >"$TMP/dnsmasq.log" 2>&1 &
DM_PID=$!
PIDS="$PIDS $DM_PID"
socat -u UDP-RECV:53,bind=192.0.2.9 OPEN:/dev/null &
PIDS="$PIDS $!"

cat >"$TMP/dns.conf" <<CONF
[netif]
backend = tap
name = tap0

[ipv4]
address = 192.0.2.2/24
gateway = 192.0.2.1

[dns]
servers = 192.0.2.9, 192.0.2.1
search = example.test
hosts = static.test=192.0.2.77, static.test=2001:db8::77
timeout = 800ms
attempts = 2

[control]
name = d
CONF
start_tapird "$TMP/dns.conf"
wait_ping 192.0.2.2
for _ in $(seq 1 20); do
	dig_ok=$(ss -lnu 2>/dev/null | grep -c '192.0.2.1:53' || true)
	[ "$dig_ok" -ge 1 ] && break
	sleep 0.2
done
[ "$dig_ok" -ge 1 ] || { cat "$TMP/dnsmasq.log" >&2; fail "dnsmasq is not listening"; }

t() { "$TAPIR" "$@"; }
json() { "$TAPIR" --json "$@"; }
ctr() { json stats d | jq -r ".dns[\"$1\"]"; }
# expect_fail CODE PATTERN CMD...: exit CODE and PATTERN on stderr
expect_fail() {
	local want=$1 pat=$2 rc=0
	shift 2
	"$TAPIR" "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
	[ "$rc" = "$want" ] || fail "tapir $* exited $rc, expected $want: $(cat "$TMP/err")"
	grep -q -- "$pat" "$TMP/err" || fail "tapir $*: no '$pat' in: $(cat "$TMP/err")"
}

# A and AAAA together, human output
out=$(t resolve d www.example.test) || fail "resolve www exited $?"
echo "$out" | grep_q '^192.0.2.80' || fail "no A in: $out"
echo "$out" | grep_q '^2001:db8::80' || fail "no AAAA in: $out"
pass "A and AAAA: $(echo "$out" | tr '\n' ' ')"
# The first server never answered: every lookup went on to the second
[ "$(ctr retransmits)" -ge 2 ] || fail "no retransmission to the second server"
[ "$(ctr timeouts)" = 0 ] || fail "a lookup timed out"
pass "silent first server: the next one answered ($(ctr retransmits) retransmissions)"

out=$(json resolve d www.example.test -6)
echo "$out" | jq -e '.addresses == [{"addr": "2001:db8::80", "family": 6, "ttl": .addresses[0].ttl}]
	and .cached == true and .addresses[0].ttl <= 60' >/dev/null || fail "AAAA only, cached: $out"
pass "the cache answers again, TTL counting down from dnsmasq's 60 s"

out=$(json resolve d alias2.example.test -4)
echo "$out" | jq -e '.canonical == "www.example.test" and .addresses[0].addr == "192.0.2.80"' \
	>/dev/null || fail "CNAME chain: $out"
pass "CNAME chain alias2 -> alias -> www"

out=$(json resolve d www -4)
echo "$out" | jq -e '.canonical == "www.example.test" and .addresses[0].addr == "192.0.2.80"' \
	>/dev/null || fail "search domain: $out"
pass "search domain: www -> www.example.test"

before=$(grep -c 'static.test' "$TMP/dnsmasq.log" || true)
out=$(json resolve d static.test)
echo "$out" | jq -e '[.addresses[].addr] == ["192.0.2.77", "2001:db8::77"]' >/dev/null ||
	fail "static hosts: $out"
[ "$(grep -c 'static.test' "$TMP/dnsmasq.log" || true)" = "$before" ] ||
	fail "a static host was asked of the server"
[ "$(ctr hosts_hits)" -ge 1 ] || fail "hosts_hits not counted"
pass "static hosts answered without a query"

expect_fail 2 NXDOMAIN resolve d nosuch.example.test
expect_fail 2 NXDOMAIN resolve d nosuch
pass "NXDOMAIN: exit 2 with the reason (also after the search list)"
expect_fail 2 NODATA resolve d v4only.example.test -6
out=$(json resolve d v4only.example.test -4)
echo "$out" | jq -e '.addresses[0].addr == "192.0.2.81"' >/dev/null || fail "v4only A: $out"
pass "NODATA told apart from NXDOMAIN"
# dnsmasq's NODATA for a host-record carries no SOA: RFC 2308 5 says such an
# answer is not cached, so it is asked again (the negative cache, which
# needs the SOA's MINIMUM, is tested in tests/dns/test_resolver.c)
q1=$(grep -c 'query\[AAAA\] v4only.example.test from' "$TMP/dnsmasq.log" || true)
expect_fail 2 NODATA resolve d v4only.example.test -6
q2=$(grep -c 'query\[AAAA\] v4only.example.test from' "$TMP/dnsmasq.log" || true)
[ "$q2" = $((q1 + 1)) ] || fail "NODATA without SOA: $q1 then $q2 queries"
pass "a negative answer without SOA is not cached (RFC 2308 5)"

out=$(json resolve d big.example.test -4)
echo "$out" | jq -e '(.addresses | length) == 16 and
	all(.addresses[]; .addr | startswith("198.51.100."))' >/dev/null || fail "big: $out"
[ "$(ctr tcp_fallbacks)" -ge 1 ] || fail "no TCP fallback counted"
grep -q 'query\[A\] big.example.test from 192.0.2.2' "$TMP/dnsmasq.log" ||
	fail "dnsmasq saw no query for big"
pass "truncated answer (120 A records) asked again over TCP"

# Forged replies from the silent server, racing the real answer
rm -f "$TMP/ready"
"$PY" "$HERE/dns_spoof.py" tap0 192.0.2.9 spoof.example.test 203.0.113.66 "$TMP/ready" \
	"$TMP/forged" >"$TMP/spoof.log" 2>&1 &
SPOOF=$!
PIDS="$PIDS $SPOOF"
for _ in $(seq 1 100); do [ -e "$TMP/ready" ] && break; sleep 0.1; done
[ -e "$TMP/ready" ] || fail "the forger did not start: $(cat "$TMP/spoof.log")"
sleep 0.5
id0=$(ctr drop.bad_id); q0=$(ctr drop.bad_question); s0=$(ctr drop.bad_source)
nl0=$(json stats d | jq -r '.udp["drop.no_listener"]')
out=$(json resolve d spoof.example.test -4) || fail "spoof resolve failed"
echo "$out" | jq -e '[.addresses[].addr] == ["192.0.2.90"]' >/dev/null ||
	fail "a forged answer was taken: $out"
[ "$(cat "$TMP/forged" 2>/dev/null || echo 0)" -ge 4 ] || fail "nothing forged: $(cat "$TMP/spoof.log")"
[ "$(ctr drop.bad_id)" -gt "$id0" ] || fail "wrong ID not counted: $(json stats d | jq -c .dns) $(json stats d | jq -c .udp) $(cat "$TMP/spoof.log")"
[ "$(ctr drop.bad_question)" -gt "$q0" ] || fail "wrong question not counted"
[ "$(ctr drop.bad_source)" -gt "$s0" ] || fail "wrong source port not counted"
[ "$(json stats d | jq -r '.udp["drop.no_listener"]')" -gt "$nl0" ] ||
	fail "wrong destination port not dropped"
kill "$SPOOF" 2>/dev/null || true
pass "forged replies (ID, question, source port, destination port) ignored and counted"

expect_fail 1 "needs NAME and HOST" resolve d
expect_fail 2 "not a host name" resolve d 'a..b'
pass "usage and bad names"

# examples/fetch, built out of the tree against the installed libtapir (as
# libtapir.sh builds hello), downloads a file by name from python's HTTP
# server on the kernel side, once with Content-Length and once chunked
meson install -C "$BUILD" --destdir "$TMP/root" --no-rebuild --quiet >"$TMP/install.log" 2>&1 ||
	fail "meson install: $(tail -5 "$TMP/install.log")"
pc=$(find "$TMP/root" -name tapir.pc | head -1)
export PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR=$TMP/root
meson setup "$TMP/fetch-build" "$SRC/examples/fetch" >"$TMP/setup.log" 2>&1 ||
	fail "meson setup examples/fetch: $(tail -20 "$TMP/setup.log")"
ninja -C "$TMP/fetch-build" >"$TMP/build.log" 2>&1 ||
	fail "building examples/fetch: $(tail -20 "$TMP/build.log")"
FETCH=$TMP/fetch-build/fetch
pass "examples/fetch builds against the installed libtapir"

mkdir -p "$TMP/www" "$TMP/store"
head -c 3000000 /dev/urandom >"$TMP/www/blob.bin"
"$PY" "$HERE/http_chunked.py" 192.0.2.1 8080 "$TMP/www" >"$TMP/http.log" 2>&1 &
PIDS="$PIDS $!"
for _ in $(seq 1 50); do
	ss -lnt | grep_q '192.0.2.1:8080' && break
	sleep 0.1
done
stop_tapird
want=$(sha256sum <"$TMP/www/blob.bin" | cut -d' ' -f1)
for mode in length chunked; do
	sed -e '/^\[app.fetch\]/,$d' "$TMP/dns.conf" >"$TMP/fetch.conf"
	cat >>"$TMP/fetch.conf" <<CONF

[kv.store]
store = dir:$TMP/store
writable = true

[app.fetch]
type = fetch
url = http://files.example.test:8080/$mode/blob.bin
kv = store
key = /downloads/$mode.bin
CONF
	TAPIRD=$FETCH start_tapird "$TMP/fetch.conf"
	for _ in $(seq 1 150); do
		grep -q 'fetch: stored\|fetch: failed' "$TAPIRD_LOG" && break
		sleep 0.2
	done
	grep -q 'fetch: stored 3000000 bytes' "$TAPIRD_LOG" || fail "fetch ($mode) did not finish"
	got=$(sha256sum <"$TMP/store/downloads/$mode.bin" | cut -d' ' -f1)
	[ "$want" = "$got" ] || fail "fetched file ($mode) differs ($got, want $want)"
	[ ! -e "$TMP/store/downloads/$mode.bin.part" ] || fail "$mode.bin.part left behind"
	pass "examples/fetch ($mode): 3 MB by name into a KV store, SHA-256 equal"
	stop_tapird
done
TAPIRD_PID=
[ -z "$TAPIRD_PID" ] || stop_tapird
echo "dns.sh: all passed"
