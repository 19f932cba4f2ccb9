#!/bin/bash
# libtapir.sh - the installed libtapir: `meson install --destdir` of this
# build into a temporary root, examples/hello built out of the tree against it
# with pkg-config, then run on a TAP: its greeting (config key), its KV store
# and its timer answer over TCP; a bad key, value or kv= of its own is refused
# (its key table and check, as the built-in types have).
set -euo pipefail
TAPIRD=$(realpath "$1")
HERE=$(dirname "$(realpath "$0")")
SRC=$(realpath "$HERE/../..")
BUILD=$(dirname "$(dirname "$TAPIRD")")   # BUILD/daemon/tapird
. "$HERE/lib.sh"
enter_netns "$@"

meson install -C "$BUILD" --destdir "$TMP/root" --no-rebuild --quiet >"$TMP/install.log" 2>&1 ||
	fail "meson install: $(tail -5 "$TMP/install.log")"
pc=$(find "$TMP/root" -name tapir.pc | head -1)
[ -n "$pc" ] || fail "no tapir.pc installed"
[ -n "$(find "$TMP/root" -name libtapir.a)" ] || fail "no libtapir.a installed"
[ -n "$(find "$TMP/root" -path '*include/tapir/app.h')" ] || fail "no tapir/app.h installed"
pass "installed: libtapir.a, headers, $(basename "$pc")"

# Every public header at once, next to libuv's and the C library's network
# headers (which define TCP_LISTEN, ETHERTYPE_ARP, ICMP_* ...): prefixed names
# cannot clash.
inc=$(dirname "$(find "$TMP/root" -path '*include/tapir/stack.h' | head -1)")
{
	echo '#include <uv.h>'
	echo '#include <netinet/in.h>'
	echo '#include <netinet/tcp.h>'
	echo '#include <netinet/ip_icmp.h>'
	echo '#include <net/ethernet.h>'
	for h in "$inc"/*.h; do echo "#include <tapir/$(basename "$h")>"; done
	echo 'int main(void) { return (int)TAPIR_TCP_STATE_LISTEN + (int)TCP_LISTEN > 0 ? 0 : 1; }'
} >"$TMP/all_headers.c"
cc -std=gnu11 -Wall -Wextra -Werror -D_GNU_SOURCE -I"$(dirname "$inc")" -c "$TMP/all_headers.c" \
	-o "$TMP/all_headers.o" 2>"$TMP/all_headers.log" ||
	fail "the public headers together with <uv.h> and <netinet/*.h>: $(head -20 "$TMP/all_headers.log")"
pass "all $(ls "$inc"/*.h | wc -l) public headers compile in one unit with <uv.h> and <netinet/tcp.h>"

# The .pc says prefix=/usr/local (or the build's prefix): the sysroot maps
# its paths into the temporary root.
export PKG_CONFIG_PATH=$(dirname "$pc") PKG_CONFIG_SYSROOT_DIR=$TMP/root
meson setup "$TMP/hello-build" "$SRC/examples/hello" >"$TMP/setup.log" 2>&1 ||
	fail "meson setup examples/hello: $(tail -20 "$TMP/setup.log")"
ninja -C "$TMP/hello-build" >"$TMP/build.log" 2>&1 ||
	fail "building examples/hello: $(tail -20 "$TMP/build.log")"
HELLO=$TMP/hello-build/hello
pass "examples/hello builds against the installed libtapir"

mkdir -p "$TMP/msg"
printf 'message of the day\n' >"$TMP/msg/motd"
cat >"$TMP/hello.conf" <<CONF
[netif]
name = tap0
[ipv4]
address = 192.0.2.2/24
[control]
enabled = false
[kv.msg]
store = dir:$TMP/msg
[app.hi]
type = hello
port = 7777
greeting = hello, world
kv = msg
[app.echo]
port = 7
CONF
# An unknown key of the app's own type is a configuration error (exit 2).
rc=0
"$HELLO" --config "$TMP/hello.conf" --app.hi.colour=red >"$TMP/bad.log" 2>&1 || rc=$?
[ "$rc" = 2 ] && grep -q "unknown key 'colour' in \[app.hi\] (type hello)" "$TMP/bad.log" ||
	fail "bad key: exit $rc, $(cat "$TMP/bad.log")"
rc=0
"$HELLO" --config "$TMP/hello.conf" --app.hi.port=0 --app.hi.kv=nope >"$TMP/bad.log" 2>&1 || rc=$?
[ "$rc" = 2 ] && grep -q "argument '--app.hi.port=0': \[app.hi\] port: 0 is out of range" "$TMP/bad.log" ||
	fail "bad port: exit $rc, $(cat "$TMP/bad.log")"
rc=0
"$HELLO" --config "$TMP/hello.conf" --app.hi.kv=nope >"$TMP/bad.log" 2>&1 || rc=$?
[ "$rc" = 2 ] && grep -q "argument '--app.hi.kv=nope': \[app.hi\] kv: no section \[kv.nope\]" "$TMP/bad.log" ||
	fail "bad kv: exit $rc, $(cat "$TMP/bad.log")"
pass "an unknown key, a bad value, a check of the app's type: refused with exit 2"

make_tap tap0 192.0.2.1/24
TAPIRD=$HELLO
start_tapird "$TMP/hello.conf"
wait_ping 192.0.2.2
out=$(socat -T 5 -u TCP:192.0.2.2:7777 - 2>&1) || fail "connecting to hello: $out"
echo "$out" | head -1 | grep -Eq '^hello, world \(up [0-9]+ ms, token [0-9a-f]{8}\)$' ||
	fail "hello answered: $out"
[ "$(echo "$out" | sed -n 2p)" = "message of the day" ] || fail "no motd: $out"
# the built-in apps run next to it
[ "$(echo ping | socat -T 3 - TCP:192.0.2.2:7)" = ping ] || fail "echo next to hello"
stop_tapird
pass "hello answers over TAP: '$(echo "$out" | head -1)'"
