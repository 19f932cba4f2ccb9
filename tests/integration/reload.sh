#!/bin/bash
# reload.sh - `tapir reload` and SIGHUP re-open the read-only KV stores under a
# running http app: a replaced site tar is served at once (new ETag), a
# download under way finishes from the old archive, a store that cannot be
# re-opened changes nothing, writable stores (kvhttp) keep their data.  The
# instance runs with the default sandbox (seccomp, no capabilities), and
# `tapir stats` carries the device counters.
set -euo pipefail
TAPIRD=$(realpath "$1")
TAPIR=$(realpath "$2")
HERE=$(dirname "$(realpath "$0")")
. "$HERE/lib.sh"
enter_netns "$@"
export TAPIR_RUNTIME_DIR="$TMP/run"

# site VERSION DIR: a site whose index says VERSION, with a 4 MiB file
site() {
	mkdir -p "$2"
	echo "version $1" >"$2/index.html"
	head -c 4194304 /dev/urandom >"$2/big.bin"
}
site A "$TMP/a"
site B "$TMP/b"
site C "$TMP/c"
tar -C "$TMP/a" -cf "$TMP/site.tar" .
mkdir "$TMP/data"

make_tap tap0 192.0.2.1/24
cat >"$TMP/r.conf" <<CONF
[netif]
name = tap0
[ipv4]
address = 192.0.2.2/24
[kv.site]
store = tar:$TMP/site.tar
[kv.data]
store = dir:$TMP/data
writable = true
[kv.scratch]
store = mem:
writable = true
[app.http]
kv = site
port = 80
[app.kv]
type = kvhttp
kv = data
port = 8080
[control]
name = r
CONF
start_tapird "$TMP/r.conf"
wait_ping 192.0.2.2
URL=http://192.0.2.2

# The default sandbox: seccomp filter, no_new_privs, no capabilities left.
st=/proc/$TAPIRD_PID/status
grep -q "^Seccomp:[[:space:]]*2" "$st" || fail "no seccomp filter by default: $(grep Seccomp "$st")"
grep -q "^NoNewPrivs:[[:space:]]*1" "$st" || fail "no_new_privs not set"
grep -q "^CapEff:[[:space:]]*0*$" "$st" || fail "capabilities left: $(grep Cap "$st")"
pass "sandboxed by default: seccomp, no_new_privs, no capabilities"

[ "$(curl -sf $URL/)" = "version A" ] || fail "site A not served"
etag_a=$(curl -sfI $URL/ | tr -d '\r' | sed -n 's/^ETag: //Ip')
[ -n "$etag_a" ] || fail "no ETag"
curl -sf -X PUT --data-binary "kept across reloads" $URL:8080/note >/dev/null ||
	fail "kvhttp PUT"

# A slow download of A's big file, under way while the archive is replaced.
curl -sf --limit-rate 1M -o "$TMP/big.out" $URL/big.bin &
CURL=$!
PIDS="$PIDS $CURL"
sleep 1
tar -C "$TMP/b" -cf "$TMP/site.tar.new" . && mv "$TMP/site.tar.new" "$TMP/site.tar"
out=$("$TAPIR" --json reload r) || fail "reload failed: $out"
echo "$out" | jq -e '.reopened == ["site"]' >/dev/null || fail "reopened: $out"
echo "$out" | jq -e '[.kept[].name] == ["data", "scratch"] and .kept[0].reason == "writable"' \
	>/dev/null || fail "kept: $out"
[ "$(curl -sf $URL/)" = "version B" ] || fail "site B not served after reload"
etag_b=$(curl -sfI $URL/ | tr -d '\r' | sed -n 's/^ETag: //Ip')
[ -n "$etag_b" ] && [ "$etag_b" != "$etag_a" ] || fail "ETag did not change: $etag_a $etag_b"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag_a" $URL/)
[ "$code" = 200 ] || fail "the old ETag still matches ($code)"
pass "tapir reload: the new archive is served at once, with a new ETag"

wait "$CURL" || fail "the download under way failed across the reload"
cmp -s "$TMP/big.out" "$TMP/a/big.bin" || fail "the download under way changed content"
curl -sf -o "$TMP/big2.out" $URL/big.bin && cmp -s "$TMP/big2.out" "$TMP/b/big.bin" ||
	fail "a new download is not B's"
pass "a download under way finishes from the old archive; a new one gets the new"

[ "$(curl -sf $URL:8080/note)" = "kept across reloads" ] || fail "kvhttp data lost"
pass "writable stores kept, their data intact"

# SIGHUP does the same.
tar -C "$TMP/c" -cf "$TMP/site.tar.new" . && mv "$TMP/site.tar.new" "$TMP/site.tar"
kill -HUP "$TAPIRD_PID"
for _ in $(seq 1 50); do
	[ "$(curl -sf $URL/)" = "version C" ] && break
	sleep 0.1
done
[ "$(curl -sf $URL/)" = "version C" ] || fail "SIGHUP did not reload"
grep -q "SIGHUP: reloading" "$TAPIRD_LOG" || fail "SIGHUP not logged"
pass "SIGHUP reloads"

# A store that cannot be re-opened: nothing changes, the old one serves on.
mv "$TMP/site.tar" "$TMP/site.tar.away"
rc=0; out=$("$TAPIR" reload r 2>&1) || rc=$?
[ "$rc" = 2 ] || fail "reload of a missing archive exited $rc: $out"
echo "$out" | grep_q "cannot re-open" || fail "no clear error: $out"
rc=0; out=$("$TAPIR" --json reload r 2>/dev/null) || rc=$?
[ "$rc" = 2 ] && echo "$out" | jq -e '.error.code == "ENOENT"' >/dev/null ||
	fail "--json error: $rc $out"
[ "$(curl -sf $URL/)" = "version C" ] || fail "the old store is gone after a failed reload"
mv "$TMP/site.tar.away" "$TMP/site.tar"
pass "a failed reload (ENOENT) changes nothing"

# A corrupt archive is refused the same way.
head -c 10000 /dev/urandom >"$TMP/site.tar.bad"
cp "$TMP/site.tar" "$TMP/site.tar.good"
mv "$TMP/site.tar.bad" "$TMP/site.tar"
rc=0; "$TAPIR" reload r >/dev/null 2>&1 || rc=$?
[ "$rc" = 2 ] || fail "reload of a corrupt archive exited $rc"
[ "$(curl -sf $URL/)" = "version C" ] || fail "a corrupt archive replaced the store"
pass "a corrupt archive is refused; the old store serves on"

# Human output, and the device counters in stats.
mv "$TMP/site.tar.good" "$TMP/site.tar"
out=$("$TAPIR" reload r) || fail "reload: $out"
echo "$out" | grep_q "^re-opened site" && echo "$out" | grep_q "^kept *data (writable)" ||
	fail "reload table: $out"
out=$("$TAPIR" --json stats r)
echo "$out" | jq -e '.dev.rx_frames > 0 and .dev.tx_frames > 0 and .dev.tx_bytes > 0' \
	>/dev/null || fail "no device counters: $out"
"$TAPIR" stats r | grep_q "^dev.rx_frames" || fail "no dev.* in the stats table"
pass "stats: device counters (dev.*)"

kill -0 "$TAPIRD_PID" || fail "tapird died"
stop_tapird
echo "reload: all passed"
