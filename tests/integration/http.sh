#!/bin/bash
# http.sh - the http and kvhttp apps against real clients (curl, wrk, python)
# over a TAP in a private namespace: every file of a tar-backed and a
# dir-backed site by SHA-256, ranges, ETag/304, 100 requests on one
# connection, wrk for 10 s with 100 connections, a 1 GiB value with constant
# RSS, malformed requests from http_bad_requests.txt, a slow client's 408,
# kvhttp PUT/GET/DELETE/batch surviving a restart on a dir store, chunked
# request bodies (curl -T -, 413, malformed, pipelined).
set -euo pipefail
TAPIRD=$(realpath "$1")
HERE=$(dirname "$(realpath "$0")")
. "$HERE/lib.sh"
enter_netns "$@"
command -v curl >/dev/null || fail "curl is not installed (tools/deps --test)"
command -v wrk >/dev/null || fail "wrk is not installed (tools/deps --test)"

IP=192.0.2.2
SITE=$TMP/site
mkdir -p "$SITE/sub/deeper" "$SITE/empty_dir" "$TMP/big" "$TMP/data"
# A site: text, binary of odd sizes, an empty file, nested dictionaries.
printf '<h1>home</h1>\n' >"$SITE/index.html"
printf 'body{}\n' >"$SITE/style.css"
head -c 1024 /dev/urandom >"$SITE/1k.bin"
head -c 100000 /dev/urandom >"$SITE/sub/100k.dat"
head -c 3000001 /dev/urandom >"$SITE/sub/deeper/3m.bin"
: >"$SITE/sub/empty.txt"
printf 'sub index\n' >"$SITE/sub/index.html"
printf '{"a":1}\n' >"$SITE/sub/deeper/x.json"
tar -C "$SITE" -cf "$TMP/site.tar" .
# 1 GiB, sparse: served from the page cache, never from tapird's memory.
truncate -s 1G "$TMP/big/1g.bin"

cat >"$TMP/tapird.conf" <<CONF
[netif]
name = tap0
[ipv4]
address = $IP/24
[control]
enabled = false
[kv.tarsite]
store = tar:$TMP/site.tar
[kv.dirsite]
store = dir:$SITE
[kv.big]
store = dir:$TMP/big
[kv.data]
store = dir:$TMP/data
writable = true
[app.tar]
type = http
kv = tarsite
port = 80
[app.dir]
type = http
kv = dirsite
port = 81
[app.big]
type = http
kv = big
port = 82
[app.bench]
type = http
kv = dirsite
port = 84
access_log = false
[app.short]
type = http
kv = dirsite
port = 83
idle_timeout = 1s
[app.kv]
type = kvhttp
kv = data
port = 8080
token = s3cret
max_body = 64KiB
[app.kvbig]
type = kvhttp
kv = data
port = 8081
token = s3cret
max_body = 512KiB
CONF
# Under AddressSanitizer, freed memory waits in a quarantine (256 MiB by
# default) that would count as RSS: keep it small, to measure tapird's own.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}quarantine_size_mb=1"

make_tap tap0 192.0.2.1/24
start_tapird "$TMP/tapird.conf"
wait_ping $IP

CURL=(curl -sS --max-time 20)

# ---- every file, from both stores, by SHA-256 ----
n=0
while IFS= read -r f; do
	rel=${f#"$SITE"}
	want=$(sha256sum <"$f" | cut -d' ' -f1)
	for port in 80 81; do
		got=$("${CURL[@]}" -f "http://$IP:$port$rel" | sha256sum | cut -d' ' -f1) ||
			fail "GET $rel on port $port failed"
		[ "$got" = "$want" ] || fail "GET $rel on port $port: SHA-256 $got, want $want"
		n=$((n + 1))
	done
done < <(find "$SITE" -type f)
pass "$n files from the tar and the dir store match by SHA-256"

# Directory index and redirect, content types
[ "$("${CURL[@]}" "http://$IP/sub/")" = "sub index" ] || fail "index of /sub/"
code=$("${CURL[@]}" -o /dev/null -w '%{http_code} %{redirect_url}' "http://$IP/sub")
[ "$code" = "301 http://$IP/sub/" ] || fail "/sub: $code, want a 301 to /sub/"
[ "$("${CURL[@]}" -o /dev/null -w '%{http_code}' "http://$IP/empty_dir/")" = 404 ] ||
	fail "a dictionary without index is not 404"
ct=$("${CURL[@]}" -o /dev/null -w '%{content_type}' "http://$IP/style.css")
[ "$ct" = "text/css; charset=utf-8" ] || fail "style.css content type: $ct"
ct=$("${CURL[@]}" -o /dev/null -w '%{content_type}' "http://$IP/sub/deeper/x.json")
[ "$ct" = "application/json" ] || fail "x.json content type: $ct"
pass "index, redirect, content types"

# HEAD: headers only, the full length
hl=$("${CURL[@]}" -I "http://$IP/sub/100k.dat" | tr -d '\r' | awk 'tolower($1)=="content-length:"{print $2}')
[ "$hl" = 100000 ] || fail "HEAD Content-Length $hl"
pass "HEAD"

# ---- ranges ----
F=$SITE/sub/100k.dat
for r in 0-0 0-99 500-1499 99990- -50 99999-200000; do
	"${CURL[@]}" -r "$r" -o "$TMP/part" -w '%{http_code}' "http://$IP:81/sub/100k.dat" >"$TMP/code"
	[ "$(cat "$TMP/code")" = 206 ] || fail "range $r: status $(cat "$TMP/code")"
	case $r in
	-*) want=$(tail -c "${r#-}" "$F" | sha256sum) ;;
	*-) want=$(tail -c +"$((${r%-} + 1))" "$F" | sha256sum) ;;
	*)  a=${r%-*}; b=${r#*-}; [ "$b" -ge 100000 ] && b=99999
	    want=$(dd if="$F" iflag=skip_bytes,count_bytes skip="$a" count="$((b - a + 1))" \
		   bs=64k status=none | sha256sum) ;;
	esac
	[ "$(sha256sum <"$TMP/part")" = "$want" ] || fail "range $r: wrong bytes"
done
code=$("${CURL[@]}" -r 100000- -o /dev/null -w '%{http_code}' "http://$IP/sub/100k.dat")
[ "$code" = 416 ] || fail "unsatisfiable range: $code"
cr=$("${CURL[@]}" -r 200000-300000 -D - -o /dev/null "http://$IP/sub/100k.dat" | tr -d '\r' |
	awk 'tolower($1)=="content-range:"{print $2, $3}')
[ "$cr" = "bytes */100000" ] || fail "416 Content-Range: $cr"
# several ranges: the whole value (200)
code=$("${CURL[@]}" -r 0-1,5-6 -o "$TMP/part" -w '%{http_code}' "http://$IP/sub/100k.dat")
[ "$code" = 200 ] && cmp -s "$TMP/part" "$F" || fail "multi-range: $code"
pass "curl -r ranges: 206 with the right bytes, 416, several ranges -> 200"

# ---- ETag / 304, Last-Modified / If-Modified-Since ----
hdr=$("${CURL[@]}" -D - -o /dev/null "http://$IP:81/1k.bin" | tr -d '\r')
etag=$(echo "$hdr" | awk 'tolower($1)=="etag:"{print $2}')
lm=$(echo "$hdr" | sed -n 's/^[Ll]ast-[Mm]odified: //p')
[ -n "$etag" ] && [ -n "$lm" ] || fail "no ETag or Last-Modified: $hdr"
code=$("${CURL[@]}" -H "If-None-Match: $etag" -o "$TMP/body" -w '%{http_code}' "http://$IP:81/1k.bin")
[ "$code" = 304 ] && [ ! -s "$TMP/body" ] || fail "If-None-Match: $code"
code=$("${CURL[@]}" -H 'If-None-Match: "other"' -o /dev/null -w '%{http_code}' "http://$IP:81/1k.bin")
[ "$code" = 200 ] || fail "If-None-Match other: $code"
code=$("${CURL[@]}" -H "If-Modified-Since: $lm" -o /dev/null -w '%{http_code}' "http://$IP:81/1k.bin")
[ "$code" = 304 ] || fail "If-Modified-Since: $code"
code=$("${CURL[@]}" -H "If-Modified-Since: Thu, 01 Jan 1970 00:00:01 GMT" -o /dev/null -w '%{http_code}' "http://$IP:81/1k.bin")
[ "$code" = 200 ] || fail "If-Modified-Since 1970: $code"
# the same content has the same ETag in the tar store
etag2=$("${CURL[@]}" -D - -o /dev/null "http://$IP:80/1k.bin" | tr -d '\r' | awk 'tolower($1)=="etag:"{print $2}')
[ "$etag" = "$etag2" ] || fail "ETag differs between stores: $etag $etag2"
pass "ETag/If-None-Match and Last-Modified/If-Modified-Since -> 304"

# ---- 100 requests on one connection ----
urls=()
for i in $(seq 1 100); do urls+=(-o /dev/null "http://$IP:81/1k.bin"); done
conns=$("${CURL[@]}" -w '%{http_code} %{num_connects}\n' "${urls[@]}" |
	awk '$1==200{ok++} {c+=$2} END{print ok, c}')
[ "$conns" = "100 1" ] || fail "100 keep-alive requests: (200s, connections) = $conns"
# pipelining: 20 requests in one write, 20 responses in order
$PY - "$IP" <<'PYEOF' || fail "pipelining"
import socket, sys
s = socket.create_connection((sys.argv[1], 81), timeout=10)
reqs = b"".join(b"GET /style.css HTTP/1.1\r\nHost: a\r\n\r\n" for _ in range(19))
s.sendall(reqs + b"GET /index.html HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n")
data = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
n = data.count(b"HTTP/1.1 200 OK")
if n != 20 or not data.endswith(b"<h1>home</h1>\n"):
    print("got", n, "responses", data[-100:], file=sys.stderr)
    sys.exit(1)
PYEOF
# HTTP/1.0: closes unless keep-alive is asked for
out=$("${CURL[@]}" -0 -D - -o /dev/null "http://$IP:81/1k.bin" | tr -d '\r')
echo "$out" | grep_q -i '^connection: close' || fail "HTTP/1.0 without keep-alive: $out"
pass "100 requests on one connection, 20 pipelined, HTTP/1.0"

# ---- wrk: 10 s, 100 connections, no errors ----
wrk -t 2 -c 100 -d 10s "http://$IP:84/1k.bin" >"$TMP/wrk.out" 2>&1 || fail "wrk: $(cat "$TMP/wrk.out")"
! grep -q -e 'Socket errors' -e 'Non-2xx' "$TMP/wrk.out" || fail "wrk errors: $(cat "$TMP/wrk.out")"
reqs=$(awk '/requests in/{print $1}' "$TMP/wrk.out")
[ "${reqs:-0}" -gt 1000 ] || fail "wrk did only ${reqs:-0} requests: $(cat "$TMP/wrk.out")"
pass "wrk 10 s x 100 connections: $reqs requests, $(awk '/Requests\/sec/{print $2}' "$TMP/wrk.out") req/s, no errors"

# ---- malformed requests: their status, then the connection closes ----
$PY - "$IP" "$HERE/http_bad_requests.txt" <<'PYEOF' || fail "malformed requests"
import ast, socket, sys
ip, path = sys.argv[1], sys.argv[2]
bad = 0
n = 0
for line in open(path, encoding="utf-8"):
    if not line.strip() or line.startswith("#"):
        continue
    want, expr = line.rstrip("\n").split("\t", 1)
    req = eval(expr, {"__builtins__": {}})  # fixtures: bytes literals and * / +
    s = socket.create_connection((ip, 81), timeout=5)
    try:
        s.sendall(req)
    except OSError:
        pass
    data = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
    except socket.timeout:
        print(f"{want} {expr[:60]}: no close after {data[:40]!r}", file=sys.stderr)
        bad += 1
        continue
    except ConnectionResetError:
        pass
    status = data[9:12].decode(errors="replace")
    if status != want:
        print(f"{expr[:70]}: got {status!r} ({data[:60]!r}), want {want}", file=sys.stderr)
        bad += 1
    n += 1
print(f"{n} malformed requests checked", file=sys.stderr)
sys.exit(1 if bad else 0)
PYEOF
pass "malformed requests get their status ($(grep -c '^[0-9]' "$HERE/http_bad_requests.txt") fixtures)"

# ---- a slow client: 408 after idle_timeout (1 s), no hang ----
$PY - "$IP" <<'PYEOF' || fail "slow client"
import socket, sys, time
s = socket.create_connection((sys.argv[1], 83), timeout=5)
s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\n")   # never finished
t = time.time()
data = s.recv(1000)
if not data.startswith(b"HTTP/1.1 408") or time.time() - t > 3.5:
    print("got", data[:40], "after", time.time() - t, file=sys.stderr)
    sys.exit(1)
# an idle connection is closed too
s = socket.create_connection((sys.argv[1], 83), timeout=5)
if s.recv(100) != b"":
    sys.exit(1)
PYEOF
pass "slow request head: 408 after idle_timeout; idle connection closed"

# ---- the access log ----
grep -q 'app dir: 192.0.2.1 "GET /1k.bin HTTP/1.1" 304 0' "$TAPIRD_LOG" || fail "no access log line for the 304"
pass "access log"

# ---- 1 GiB with constant RSS ----
rss() { awk -v k="$1:" '$1==k{print $2}' "/proc/$TAPIRD_PID/status"; }
"${CURL[@]}" -o /dev/null "http://$IP:82/1g.bin" -r 0-1048575   # warm up (and the digest)
before=$(rss VmRSS)
hwm_before=$(rss VmHWM)
got=$(curl -sS --max-time 120 "http://$IP:82/1g.bin" | sha256sum | cut -d' ' -f1)
want=$(sha256sum <"$TMP/big/1g.bin" | cut -d' ' -f1)
[ "$got" = "$want" ] || fail "1 GiB: SHA-256 $got, want $want"
hwm=$(rss VmHWM)
grow=$(( (hwm - (hwm_before > before ? hwm_before : before)) / 1024 ))
[ "$grow" -le 8 ] || fail "1 GiB download: peak RSS grew by $grow MiB ($hwm_before -> $hwm KiB)"
pass "1 GiB download, SHA-256 equal, peak RSS $((hwm / 1024)) MiB (grew ${grow} MiB)"

# ---- kvhttp ----
K=(curl -sS --max-time 10 -H "Authorization: Bearer s3cret")
code=$(curl -sS -o /dev/null -w '%{http_code}' "http://$IP:8080/")
[ "$code" = 401 ] || fail "kvhttp without token: $code"
code=$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer wrong" "http://$IP:8080/")
[ "$code" = 401 ] || fail "kvhttp with a wrong token: $code"
# The token is checked on the head: a PUT announcing 500 kB (under max_body)
# without it gets 401 at once, with Connection: close, and the connection is
# closed; the body is never waited for (before: held until the whole body or
# the idle timeout, buffered up to max_body per connection).
hr=$(/usr/bin/python3 - "$IP" <<'PY'
import socket, sys, time
s = socket.create_connection((sys.argv[1], 8081), timeout=5)
s.sendall(b"PUT /held HTTP/1.1\r\nHost: x\r\nContent-Length: 500000\r\n\r\n" + b"x" * 1000)
t = time.time()
data = b""
while True:
    d = s.recv(4096)
    if not d:
        break
    data += d
head = data.split(b"\r\n\r\n")[0].decode()
print(head.split("\r\n")[0], "close" if "\r\nConnection: close" in head else "keep-alive",
      "%.1f" % (time.time() - t))
PY
) || fail "kvhttp: unauthorised PUT: no answer or the connection stayed open"
read -r _ st _ conn secs <<<"$hr"
[ "$st" = 401 ] && [ "$conn" = close ] || fail "kvhttp unauthorised PUT, body pending: $hr"
awk -v s="$secs" 'BEGIN { exit !(s < 2) }' || fail "kvhttp 401 took ${secs}s: waited for the body?"
# curl, no Expect: the whole 400 kB body on its way: 401, not 201, nothing stored.
head -c 400000 /dev/urandom >"$TMP/v400k"
code=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' -H 'Expect:' \
	-H "Authorization: Bearer wrong" -T "$TMP/v400k" "http://$IP:8081/held" || true)
[ "$code" = 401 ] || fail "kvhttp PUT 400 kB with a wrong token: $code"
[ ! -e "$TMP/data/held" ] || fail "an unauthorised PUT stored a value"
pass "kvhttp: 401 on the head (${secs}s), body not read, connection closed"
head -c 50000 /dev/urandom >"$TMP/v1"
code=$("${K[@]}" -o /dev/null -w '%{http_code}' -T "$TMP/v1" "http://$IP:8080/a/b/v1")
[ "$code" = 201 ] || fail "PUT new: $code"
code=$("${K[@]}" -o /dev/null -w '%{http_code}' -T "$TMP/v1" "http://$IP:8080/a/b/v1")
[ "$code" = 204 ] || fail "PUT again: $code"
"${K[@]}" -o "$TMP/got" "http://$IP:8080/a/b/v1"
cmp -s "$TMP/got" "$TMP/v1" || fail "GET after PUT differs"
cmp -s "$TMP/data/a/b/v1" "$TMP/v1" || fail "the dir store's file differs"
list=$("${K[@]}" "http://$IP:8080/a")
[ "$list" = '[{"name":"b","type":"dictionary"}]' ] || fail "listing: $list"
head -c 70000 /dev/urandom >"$TMP/toobig"
code=$("${K[@]}" -o /dev/null -w '%{http_code}' -T "$TMP/toobig" "http://$IP:8080/big")
[ "$code" = 413 ] || fail "PUT over max_body: $code"
# batch: all or nothing
printf 'SET /x/one 3\nabc\nSET /x/two 0\n\nDELETE /a/b/v1\n' >"$TMP/batch"
code=$("${K[@]}" -o /dev/null -w '%{http_code}' --data-binary @"$TMP/batch" "http://$IP:8080/_batch")
[ "$code" = 204 ] || fail "batch: $code"
[ "$("${K[@]}" "http://$IP:8080/x/one")" = abc ] || fail "batch SET"
[ "$("${K[@]}" -o /dev/null -w '%{http_code}' "http://$IP:8080/a/b/v1")" = 404 ] || fail "batch DELETE"
printf 'SET /x/three 1\nz\nDELETE /no/such\n' >"$TMP/batch"
code=$("${K[@]}" -o /dev/null -w '%{http_code}' --data-binary @"$TMP/batch" "http://$IP:8080/_batch")
[ "$code" = 404 ] || fail "failing batch: $code"
[ "$("${K[@]}" -o /dev/null -w '%{http_code}' "http://$IP:8080/x/three")" = 404 ] ||
	fail "a failed batch wrote something"
code=$("${K[@]}" -o /dev/null -w '%{http_code}' -X DELETE "http://$IP:8080/x/two")
[ "$code" = 204 ] || fail "DELETE: $code"
code=$("${K[@]}" -o /dev/null -w '%{http_code}' -X DELETE "http://$IP:8080/x/two")
[ "$code" = 404 ] || fail "DELETE again: $code"
pass "kvhttp: token, PUT 201/204, GET, listing, 413, atomic batch, DELETE"

# ---- chunked request bodies ----
# curl -T - cannot know the size: it sends Transfer-Encoding: chunked.
head -c 307200 /dev/urandom >"$TMP/v300k"
out=$("${K[@]}" -v -o /dev/null -w '%{http_code}' -T - "http://$IP:8081/c/300k" <"$TMP/v300k" 2>"$TMP/curl.err")
[ "$out" = 201 ] || fail "chunked PUT of 300 KiB: $out"
grep -qi '^> transfer-encoding: chunked' "$TMP/curl.err" || fail "curl -T - did not send chunked"
got=$("${K[@]}" "http://$IP:8081/c/300k" | sha256sum | cut -d' ' -f1)
[ "$got" = "$(sha256sum <"$TMP/v300k" | cut -d' ' -f1)" ] || fail "GET after a chunked PUT: SHA-256 $got"
# over max_body (512 KiB), chunk by chunk: 413 (curl may also see the close)
head -c 600000 /dev/urandom >"$TMP/v600k"
code=$("${K[@]}" -o /dev/null -w '%{http_code}' -T - "http://$IP:8081/c/600k" <"$TMP/v600k" 2>/dev/null || true)
[ "$code" = 413 ] || fail "chunked PUT over max_body: $code"
[ "$("${K[@]}" -o /dev/null -w '%{http_code}' "http://$IP:8081/c/600k")" = 404 ] ||
	fail "a refused chunked PUT wrote something"
# one chunk-size over max_body (64 KiB on 8080): 413 before any data
auth='Authorization: Bearer s3cret\r\n'
resp=$(printf "PUT /c/x HTTP/1.1\r\nHost: a\r\n${auth}Transfer-Encoding: chunked\r\n\r\n10001\r\n" |
	socat -t 5 - "TCP:$IP:8080" | head -c 12)
[ "$resp" = "HTTP/1.1 413" ] || fail "chunk-size over max_body: $resp"
# malformed chunked bodies: 400 (bare LF, no CRLF after the data, not hex), then close
for body in '5\nhello\r\n0\r\n\r\n' '5\r\nhelloX\r\n0\r\n\r\n' 'zz\r\n' \
	    '5\r\nhello\r\n0\r\nX: a\n\r\n'; do
	resp=$(printf "PUT /c/bad HTTP/1.1\r\nHost: a\r\n${auth}Transfer-Encoding: chunked\r\n\r\n$body" |
		socat -t 5 - "TCP:$IP:8080" | head -c 12)
	[ "$resp" = "HTTP/1.1 400" ] || fail "malformed chunked body $body: $resp"
done
for te in 'gzip, chunked:501' 'chunked, gzip:400'; do
	resp=$(printf "PUT /c/bad HTTP/1.1\r\nHost: a\r\n${auth}Transfer-Encoding: ${te%:*}\r\n\r\n0\r\n\r\n" |
		socat -t 5 - "TCP:$IP:8080" | head -c 12)
	[ "$resp" = "HTTP/1.1 ${te#*:}" ] || fail "Transfer-Encoding: ${te%:*}: $resp"
done
[ "$("${K[@]}" -o /dev/null -w '%{http_code}' "http://$IP:8080/c/bad")" = 404 ] ||
	fail "a malformed chunked PUT wrote something"
# pipelined: a chunked PUT, a chunked batch and a GET in one write, on kvhttp;
# a chunked body the site does not need, then a GET, on http
$PY - "$IP" <<'PYEOF' || fail "pipelined chunked requests"
import re, socket, sys
def exchange(port, data, want):
    s = socket.create_connection((sys.argv[1], port), timeout=10)
    s.sendall(data)
    got = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        got += b
    statuses = [int(x) for x in re.findall(rb"HTTP/1\.1 (\d\d\d) ", got)]
    if statuses != want:
        print(port, "statuses", statuses, "want", want, got[-200:], file=sys.stderr)
        sys.exit(1)
    return got
A = b"Host: a\r\nAuthorization: Bearer s3cret\r\n"
got = exchange(8080,
    b"PUT /c/pipe HTTP/1.1\r\n" + A + b"Transfer-Encoding: chunked\r\n\r\n"
    b"6;x=y\r\npiped \r\n4\r\nbody\r\n0\r\nTrailer: t\r\n\r\n"
    b"POST /_batch HTTP/1.1\r\n" + A + b"Transfer-Encoding: chunked\r\n\r\n"
    b"d\r\nSET /c/two 2\n\r\n3\r\nok\n\r\n0\r\n\r\n"
    b"GET /c/pipe HTTP/1.1\r\n" + A + b"\r\n"
    b"GET /c/two HTTP/1.1\r\n" + A + b"Connection: close\r\n\r\n",
    [201, 204, 200, 200])
if b"\r\n\r\npiped body" not in got or not got.endswith(b"\r\n\r\nok"):
    print("wrong bodies:", got[-300:], file=sys.stderr)
    sys.exit(1)
got = exchange(81,
    b"GET /style.css HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"3\r\nabc\r\n0\r\n\r\n"
    b"GET /index.html HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n", [200, 200])
if not got.endswith(b"<h1>home</h1>\n"):
    sys.exit(1)
# Expect: 100-continue with a chunked body: 100, then the answer
s = socket.create_connection((sys.argv[1], 8080), timeout=10)
s.sendall(b"PUT /c/cont HTTP/1.1\r\n" + A + b"Transfer-Encoding: chunked\r\n"
          b"Expect: 100-continue\r\nConnection: close\r\n\r\n")
first = s.recv(100)
if not first.startswith(b"HTTP/1.1 100 Continue\r\n\r\n"):
    print("no 100 Continue:", first, file=sys.stderr)
    sys.exit(1)
s.sendall(b"2\r\nhi\r\n0\r\n\r\n")
rest = s.recv(1000)
if not (first[25:] + rest).startswith(b"HTTP/1.1 201"):
    print("after 100:", first, rest, file=sys.stderr)
    sys.exit(1)
PYEOF
[ "$("${K[@]}" "http://$IP:8080/c/cont")" = hi ] || fail "chunked PUT after 100 Continue"
pass "chunked bodies: curl -T - 300 KiB by SHA-256, 413 over max_body, malformed -> 400/501, pipelined, 100-continue"

# restart on the same dir store: the data is still there
stop_tapird
start_tapird "$TMP/tapird.conf"
wait_ping $IP
[ "$("${K[@]}" "http://$IP:8080/x/one")" = abc ] || fail "x/one lost over a restart"
[ "$("${K[@]}" -o /dev/null -w '%{http_code}' "http://$IP:8080/x/two")" = 404 ] ||
	fail "x/two came back after a restart"
stop_tapird
pass "kvhttp data survives a restart"
