#!/bin/bash
# https.sh - the http and kvhttp apps over TLS, certificates from a KV store.
#
# A CA, an intermediate and leaf certificates made here with openssl; the
# store (dir:) holds NAME/cert.pem + NAME/key.pem per name and default/.
# Checked with the real clients: curl --cacert verifies the chain,
# openssl s_client -tls1_2 / -tls1_3 negotiate each version, SNI picks the
# certificate (default/ without SNI or for an unknown name), ALPN is
# http/1.1, resumption by ticket (TLS 1.2 and 1.3) and by session cache
# (-no_ticket) shows "Reused", a rotated certificate is served after
# `tapir reload` while a download under way finishes, a broken store is
# refused (exit 2, reason logged, old certificate kept), kvhttp PUT/GET with
# its token over TLS, HSTS and the http -> https redirect, `tapir conns`
# and `tapir stats` show the TLS state.  Bad input: random bytes, a junk
# handshake record, a truncated ClientHello, a whole handshake sent one byte
# per segment, 1,000 connections that stop mid-handshake: the server stays
# up, every connection is counted once, and the TLS connections, the TCP
# flows and tapird's memory return to their baseline.
set -euo pipefail
TAPIRD=$(realpath "$1")
TAPIR=$(realpath "$2")
HERE=$(dirname "$(realpath "$0")")
. "$HERE/lib.sh"
enter_netns "$@"
export TAPIR_RUNTIME_DIR="$TMP/run"
PEER="$PY $HERE/tls_peer.py"
ulimit -n 8192 2>/dev/null || true

# ---- certificates ----
P="$TMP/pki"
mkdir -p "$P"
ossl() {
	openssl "$@" 2>>"$P/openssl.log" || fail "openssl $1 failed: $(tail -3 "$P/openssl.log")"
}
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$P/ca.key" \
	-subj "/CN=tapir test CA" -days 2 -out "$P/ca.pem" \
	-addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
ossl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$P/int.key" \
	-subj "/CN=tapir test intermediate" -out "$P/int.csr"
printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\n' \
	>"$P/int.ext"
ossl x509 -req -in "$P/int.csr" -CA "$P/ca.pem" -CAkey "$P/ca.key" -CAcreateserial -days 2 \
	-extfile "$P/int.ext" -out "$P/int.pem"

# leaf DIR CN SAN [rsa]: DIR/cert.pem (leaf, then the intermediate), DIR/key.pem
leaf() {
	mkdir -p "$1"
	local kt=(-newkey ec -pkeyopt ec_paramgen_curve:P-256)
	[ "${4:-}" = rsa ] && kt=(-newkey rsa:2048)
	ossl req -new "${kt[@]}" -nodes -keyout "$1/key.pem" -subj "/CN=$2" -out "$P/leaf.csr"
	printf 'subjectAltName=%s\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n' "$3" \
		>"$P/leaf.ext"
	ossl x509 -req -in "$P/leaf.csr" -CA "$P/int.pem" -CAkey "$P/int.key" -CAcreateserial \
		-days 2 -extfile "$P/leaf.ext" -out "$P/leaf.pem"
	cat "$P/leaf.pem" "$P/int.pem" >"$1/cert.pem"
}
C="$TMP/certs"
leaf "$C/www.example.test" www.example.test "DNS:www.example.test"
leaf "$C/api.example.test" api.example.test "DNS:api.example.test"
leaf "$C/default" default.example.test "DNS:default.example.test,IP:192.0.2.2" rsa

mkdir -p "$TMP/site" "$TMP/data"
echo "hello over tls" >"$TMP/site/index.html"
head -c 4194304 /dev/urandom >"$TMP/site/big.bin"

make_tap tap0 192.0.2.1/24
cat >"$TMP/t.conf" <<CONF
[netif]
name = tap0
[ipv4]
address = 192.0.2.2/24
[tcp]
max_connections = 4096
backlog = 2048
[kv.site]
store = dir:$TMP/site
[kv.data]
store = dir:$TMP/data
writable = true
[kv.certs]
store = dir:$C
[app.web]
type = http
kv = site
port = 443
tls_store = certs
hsts_max_age = 24h
tls_handshake_timeout = 2s
tls_max_handshakes = 300
max_connections = 2000
idle_timeout = 30s
access_log = false
[app.plain]
type = http
kv = site
port = 80
redirect_https = true
[app.kv]
type = kvhttp
kv = data
port = 8443
token = s3cret
tls_store = certs
tls_min_version = 1.3
tls_ticket_rotation = 2s
[control]
name = t
CONF
# Under AddressSanitizer, freed memory waits in a quarantine (256 MiB by
# default) before it is reused: keep it small so that RSS shows leaks.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=4"
start_tapird "$TMP/t.conf"
wait_ping 192.0.2.2
kill -0 "$TAPIRD_PID" || fail "tapird died"
R=(--resolve www.example.test:443:192.0.2.2 --resolve api.example.test:443:192.0.2.2
	--resolve www.example.test:8443:192.0.2.2 --resolve www.example.test:80:192.0.2.2)
CURL=(curl -sS --max-time 20 --cacert "$P/ca.pem" "${R[@]}")

stat_tls() { "$TAPIR" --json stats t | jq -r ".[\"tls.${2:-web}\"].$1"; }

# ---- the chain, versions, SNI, ALPN ----
[ "$("${CURL[@]}" https://www.example.test/)" = "hello over tls" ] ||
	fail "curl --cacert https://www.example.test/"
hdr=$("${CURL[@]}" -D - -o /dev/null https://www.example.test/ | tr -d '\r')
echo "$hdr" | grep_q -i '^Strict-Transport-Security: max-age=86400$' || fail "no HSTS: $hdr"
pass "curl verifies the chain (leaf + intermediate) and gets the page, with HSTS"

sc() { # sc ARGS...: s_client against 192.0.2.2:443, a GET, its output
	printf 'GET / HTTP/1.0\r\nHost: x\r\n\r\n' |
		timeout 20 openssl s_client -connect 192.0.2.2:"${PORT:-443}" -CAfile "$P/ca.pem" \
			-verify_return_error -ign_eof "$@" 2>&1 || true
}
for v in 1_2 1_3; do
	out=$(sc -tls$v -servername www.example.test -verify_hostname www.example.test)
	echo "$out" | grep_q "Verify return code: 0 (ok)" || fail "tls$v: not verified: $out"
	echo "$out" | grep -Eq "Protocol *: TLSv${v/_/.}" || fail "tls$v: protocol: $out"
	echo "$out" | grep_q "hello over tls" || fail "tls$v: no page"
done
[ "$(stat_tls tls1_2)" -ge 1 ] && [ "$(stat_tls tls1_3)" -ge 1 ] || fail "version counters"
pass "openssl s_client -tls1_2 and -tls1_3 verify the chain and get the page"

subject() { sc "$@" | sed -n 's/^subject=.*CN *= *//p' | head -1; }
[ "$(subject -servername www.example.test)" = www.example.test ] || fail "SNI www"
[ "$(subject -servername api.example.test)" = api.example.test ] || fail "SNI api"
[ "$(subject -servername nope.example.test)" = default.example.test ] || fail "unknown name"
[ "$(subject -noservername)" = default.example.test ] || fail "no SNI"
pass "SNI picks the certificate; default/ for no or an unknown name"

out=$(sc -servername www.example.test -alpn h2,http/1.1)
echo "$out" | grep_q "ALPN protocol: http/1.1" || fail "ALPN: $out"
out=$(sc -servername www.example.test -alpn h2)
echo "$out" | grep_q "no application protocol" || fail "ALPN h2 only was accepted: $out"
pass "ALPN http/1.1; a client offering only h2 gets no_application_protocol"

# ---- resumption ----
r0=$(stat_tls resumed)
for v in 1_2 1_3; do
	sc -tls$v -servername www.example.test -sess_out "$TMP/sess$v" >"$TMP/s1" || true
	grep -q "^New," "$TMP/s1" || fail "tls$v: first connection not new"
	sc -tls$v -servername www.example.test -sess_in "$TMP/sess$v" >"$TMP/s2"
	grep -q "^Reused," "$TMP/s2" || fail "tls$v: session not reused (ticket): $(cat "$TMP/s2")"
done
sc -tls1_2 -no_ticket -servername www.example.test -sess_out "$TMP/sessc" >/dev/null
sc -tls1_2 -no_ticket -servername www.example.test -sess_in "$TMP/sessc" >"$TMP/s3"
grep -q "^Reused," "$TMP/s3" || fail "TLS 1.2 session cache: not reused"
[ "$(($(stat_tls resumed) - r0))" = 3 ] || fail "resumed counter: $r0 -> $(stat_tls resumed)"
[ "$(stat_tls ticket_keys)" -ge 1 ] || fail "no ticket key made"
pass "resumption: tickets (TLS 1.2, 1.3) and the session cache show Reused, counted"

# Ticket keys rotate (app kv: every 2 s; a ticket is good for two periods).
k0=$(stat_tls ticket_keys kv)
PORT=8443 sc -servername www.example.test -sess_out "$TMP/sessk" >/dev/null
PORT=8443 sc -servername www.example.test -sess_in "$TMP/sessk" | grep_q "^Reused," ||
	fail "kv: ticket not reused at once"
sleep 2.5
PORT=8443 sc -servername www.example.test -sess_in "$TMP/sessk" | grep_q "^Reused," ||
	fail "kv: a ticket of the previous key was not accepted"
sleep 3
PORT=8443 sc -servername www.example.test -sess_in "$TMP/sessk" | grep_q "^New," ||
	fail "kv: a ticket two periods old was accepted"
[ $(($(stat_tls ticket_keys kv) - k0)) -ge 2 ] || fail "kv: ticket keys did not rotate"
pass "ticket keys rotate: a ticket of the previous key resumes, an older one does not"

# ---- kvhttp over TLS with its token (TLS 1.3 only) ----
K=https://www.example.test:8443
code=$("${CURL[@]}" -o /dev/null -w '%{http_code}' -X PUT --data-binary v1 $K/note)
[ "$code" = 401 ] || fail "PUT without the token: $code"
"${CURL[@]}" -f -X PUT -H "Authorization: Bearer s3cret" --data-binary "kept over tls" $K/note \
	>/dev/null || fail "PUT with the token"
[ "$("${CURL[@]}" -f -H "Authorization: Bearer s3cret" $K/note)" = "kept over tls" ] ||
	fail "GET with the token"
PORT=8443 sc -tls1_2 -servername www.example.test >"$TMP/s4"
if grep -q "^New, TLS" "$TMP/s4" || ! grep -q "alert protocol version" "$TMP/s4"; then
	fail "tls_min_version = 1.3 accepted TLS 1.2: $(cat "$TMP/s4")"
fi
[ "$(stat_tls fail_version kv)" -ge 1 ] || fail "fail_version not counted"
pass "kvhttp over TLS: PUT/GET with the token, 401 without; TLS 1.2 refused by min 1.3"

# ---- redirect ----
hdr=$(curl -sS -D - -o /dev/null "${R[@]}" "http://www.example.test/a/b?c=1" | tr -d '\r')
echo "$hdr" | grep_q "^HTTP/1.1 301" && echo "$hdr" | grep_q \
	"^Location: https://www.example.test/a/b?c=1$" || fail "redirect: $hdr"
hdr=$(curl -sS -D - -o /dev/null "${R[@]}" -X POST -d x "http://www.example.test/f" | tr -d '\r')
echo "$hdr" | grep_q "^HTTP/1.1 308" || fail "POST redirect: $hdr"
[ "$("${CURL[@]}" -L http://www.example.test/)" = "hello over tls" ] || fail "curl -L"
abs='GET http://www.example.test/abs?q HTTP/1.1\r\nHost: www.example.test:80\r\n'
hdr=$(printf "$abs"'Connection: close\r\n\r\n' |
	socat -t 5 - TCP:192.0.2.2:80 | tr -d '\r')
echo "$hdr" | grep_q "^Location: https://www.example.test/abs?q$" || fail "absolute form: $hdr"
hdr=$(printf 'GET / HTTP/1.1\r\nHost: a<b>\r\nConnection: close\r\n\r\n' |
	socat -t 5 - TCP:192.0.2.2:80 | tr -d '\r' | head -1)
echo "$hdr" | grep_q "^HTTP/1.1 400" || fail "a Host that is no name was redirected: $hdr"
pass "redirect_https: 301 (308 for POST) to https:// on the Host"

# ---- conns ----
(printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\n'; sleep 4) |
	openssl s_client -connect 192.0.2.2:443 -servername api.example.test -tls1_3 \
		-CAfile "$P/ca.pem" >/dev/null 2>&1 &
SC=$!
PIDS="$PIDS $SC"
sleep 1.5
out=$("$TAPIR" --json conns t)
echo "$out" | jq -e '[.connections[] | select(.local_port == 443 and .tls_version == "TLSv1.3"
	and .tls_sni == "api.example.test" and (.tls_cipher | startswith("TLS_")))] | length == 1' \
	>/dev/null || fail "conns: no TLS state: $out"
"$TAPIR" conns t | grep_q "tls TLSv1.3" || fail "conns table: no tls line"
wait $SC || true
pass "tapir conns: version, cipher and SNI of a TLS connection"

# ---- rotation by reload ----
serial() { sc -servername www.example.test | openssl x509 -noout -serial 2>/dev/null; }
s_old=$(serial)
[ -n "$s_old" ] || fail "no serial"
"${CURL[@]}" --limit-rate 1M -o "$TMP/big.out" https://www.example.test/big.bin &
DL=$!
PIDS="$PIDS $DL"
sleep 1
leaf "$C/www.example.test" www.example.test "DNS:www.example.test"
out=$("$TAPIR" reload t) || fail "reload: $out"
s_new=$(serial)
[ -n "$s_new" ] && [ "$s_new" != "$s_old" ] || fail "rotated certificate not served: $s_old $s_new"
wait $DL || fail "the download under way broke across the reload"
cmp -s "$TMP/big.out" "$TMP/site/big.bin" || fail "the download under way changed"
pass "tapir reload: a new certificate for new connections; a download under way finishes"

# A broken store: exit 2, reason logged, the certificate served stays.
cp "$C/www.example.test/key.pem" "$TMP/key.good"
echo "not a key" >"$C/www.example.test/key.pem"
rc=0; out=$("$TAPIR" reload t 2>&1) || rc=$?
[ "$rc" = 2 ] || fail "reload of a broken store exited $rc: $out"
echo "$out" | grep_q "www.example.test/key.pem" || fail "no reason given: $out"
grep -q "reload: app web: tls_store certs: www.example.test/key.pem" "$TAPIRD_LOG" ||
	fail "reason not logged"
[ "$(serial)" = "$s_new" ] || fail "a failed reload changed the certificate"
[ "$("${CURL[@]}" https://www.example.test/)" = "hello over tls" ] || fail "not served on"
[ "$(stat_tls reload_failures)" -ge 1 ] || fail "reload_failures"
pass "a store that does not load: exit 2, reason logged, old certificates kept"

# SIGHUP re-reads them too.
leaf "$C/www.example.test" www.example.test "DNS:www.example.test"
n0=$(stat_tls reloads)
kill -HUP "$TAPIRD_PID"
for _ in $(seq 1 50); do [ "$(stat_tls reloads)" -gt "$n0" ] && break; sleep 0.1; done
s_hup=$(serial)
[ -n "$s_hup" ] && [ "$s_hup" != "$s_new" ] || fail "SIGHUP: certificate not rotated"
pass "SIGHUP: a new certificate for new connections"

# ---- bad input ----
a0=$(stat_tls accepted)
f0=$(stat_tls failures)
h0=$(stat_tls handshakes)
$PEER random 192.0.2.2 443 40 || fail "random peer"
$PEER badrecord 192.0.2.2 443 || fail "junk handshake record"
$PEER truncated 192.0.2.2 443 || fail "truncated ClientHello"
line=$($PEER bytes1 192.0.2.2 443 "$P/ca.pem" www.example.test) || fail "1-byte segments"
[ "$line" = "HTTP/1.1 200 OK" ] || fail "handshake in 1-byte segments: $line"
sleep 1
a1=$(stat_tls accepted)
[ $((a1 - a0)) = 43 ] || fail "accepted $((a1 - a0)) of 43"
[ $(($(stat_tls failures) - f0)) = 42 ] && [ $(($(stat_tls handshakes) - h0)) = 1 ] ||
	fail "not all counted: $("$TAPIR" --json stats t | jq -c '.["tls.web"]')"
[ "$(stat_tls fail_not_tls)" -ge 20 ] && [ "$(stat_tls fail_eof)" -ge 1 ] ||
	fail "reasons: $("$TAPIR" --json stats t | jq -c '.["tls.web"]')"
pass "random bytes, a junk record, a truncated hello: refused and counted; 1-byte segments work"

# 1,000 connections that stop mid-handshake, three rounds: the TLS
# connections and the TCP flows go back to their baseline after each, and
# tapird's RSS after the third is within 16 MiB of the first (the peak of a
# round varies with how many were in handshake at once; state kept for each
# connection, even 8 KiB, would add 16 MiB over two rounds).  Leaks proper
# are LeakSanitizer's: tapird exits non-zero at stop_tapird below.
rss() { awk '/^VmRSS/ {print $2}' "/proc/$TAPIRD_PID/status"; }
# connections other than TIME_WAIT (which is bounded by [tcp] max_tw and expires)
flows() {
	"$TAPIR" --json conns t | jq '[.connections[] | select(.state != "TIME_WAIT")] | length'
}
round() {
	local a0 f0 b0 t0
	a0=$(stat_tls accepted); b0=$(stat_tls fail_busy); t0=$(stat_tls fail_timeout)
	f0=$(stat_tls failures)
	local pids=""
	for _ in 1 2 3 4; do
		$PEER stall 192.0.2.2 443 250 4 >"$TMP/stall.$_" &
		pids="$pids $!"
	done
	PIDS="$PIDS $pids"
	for p in $pids; do wait "$p" || fail "stalling client failed"; done
	[ "$(cat "$TMP"/stall.* | awk '{s += $1} END {print s}')" = 1000 ] || fail "not 1000 connected"
	sleep 3
	local da db dt df
	da=$(($(stat_tls accepted) - a0)); db=$(($(stat_tls fail_busy) - b0))
	dt=$(($(stat_tls fail_timeout) - t0)); df=$(($(stat_tls failures) - f0))
	[ "$da" = 1000 ] && [ "$df" = 1000 ] || fail "stalled: accepted $da, failures $df"
	# The first 300 fill tls_max_handshakes and time out; the rest are
	# refused while it is full (or, once slots free up, time out too).
	[ $((db + dt)) = 1000 ] && [ "$db" -ge 1 ] && [ "$dt" -ge 300 ] ||
		fail "stalled: busy $db, timeout $dt (300 in handshake at most)"
	[ "$(stat_tls in_handshake)" = 0 ] && [ "$(stat_tls connections)" = 0 ] ||
		fail "TLS connections left: $("$TAPIR" --json stats t | jq -c '.["tls.web"]')"
}
flows0=$(flows)
round
rss1=$(rss)
round
round
rss3=$(rss)
for _ in $(seq 1 30); do [ "$(flows)" -le "$flows0" ] && break; sleep 1; done
[ "$(flows)" -le "$flows0" ] || fail "TCP flows left: $(flows) (before: $flows0)"
[ "$rss3" -le $((rss1 + 16384)) ] || fail "memory grew: ${rss1} KiB -> ${rss3} KiB"
[ "$("${CURL[@]}" https://www.example.test/)" = "hello over tls" ] || fail "not serving after"
pass "1,000 stalled handshakes (3 rounds): refused over the cap or timed out, all counted," \
	"memory back (${rss1} -> ${rss3} KiB)"

"$TAPIR" stats t | grep_q "^tls.web.handshakes" || fail "no tls.* in the stats table"
kill -0 "$TAPIRD_PID" || fail "tapird died"
stop_tapird
echo "https: all passed"
