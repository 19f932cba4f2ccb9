#!/bin/bash
# debian.sh - the Debian package: builds, passes lintian, installs, runs, is removed again
#
# Usage: debian.sh SOURCE_ROOT   (meson passes the source root; run as root)
#
# A copy of the source tree (the files git knows, committed or not, without
# build directories) is built with `dpkg-source -b` and `dpkg-buildpackage
# -us -uc -b` in a temporary directory; lintian must report no error (E:)
# on the binary and source packages; the two .debs
# are installed with dpkg -i; then from /usr: tapird --version and tapir
# --version print the project's version, the man pages are found by man,
# the unit and sysusers file are where systemd looks, the example config is
# a conffile, and examples/hello builds against libtapir-dev with
# pkg-config alone.  The packages are purged on exit (and the system user
# tapir removed if this test's install made it).
set -euo pipefail

SRC=$(realpath "$1")
fail() { echo "debian.sh: FAIL: $*" >&2; exit 1; }
npass=0
pass() { echo "debian.sh: ok: $*"; npass=$((npass + 1)); }

[ "$(id -u)" = 0 ] || fail "needs root (dpkg -i); CI runs as root"
for t in dpkg-buildpackage dh lintian fakeroot man; do
	command -v "$t" >/dev/null || fail "$t missing (tools/deps --test)"
done
for p in tapir libtapir-dev; do
	if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
		fail "package $p is installed already: this test installs and purges its own"
	fi
done

TMP=$(mktemp -d /tmp/tapir-debian.XXXXXX)
installed=0
user_before=0
getent passwd tapir >/dev/null && user_before=1
cleanup() {
	if [ "$installed" = 1 ]; then
		dpkg -P tapir libtapir-dev >"$TMP/purge.log" 2>&1 ||
			{ echo "debian.sh: dpkg -P failed:" >&2; cat "$TMP/purge.log" >&2; }
		if [ "$user_before" = 0 ] && getent passwd tapir >/dev/null; then
			userdel tapir 2>/dev/null || true
			getent group tapir >/dev/null && groupdel tapir 2>/dev/null || true
		fi
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT

version=$(sed -n "s/^  version: '\(.*\)',$/\1/p" "$SRC/meson.build")
[ -n "$version" ] || fail "no version in meson.build"
dver=$(dpkg-parsechangelog -l "$SRC/debian/changelog" -S Version)
[ "$dver" = "$version" ] || fail "debian/changelog is at $dver, meson.build at $version"

# 1. The source tree, as git has it (tracked and new files, not ignored
# ones such as build*/), else everything but build directories.
S=$TMP/tapir-$version
mkdir "$S"
if git -C "$SRC" rev-parse --show-toplevel >/dev/null 2>&1 &&
   [ "$(realpath "$(git -C "$SRC" rev-parse --show-toplevel)")" = "$SRC" ]; then
	(cd "$SRC" && git ls-files -z -co --exclude-standard | xargs -0 -r sh -c \
		'for f; do [ -e "$f" ] && printf "%s\0" "$f"; done' sh) |
		tar -C "$SRC" --null -T - -cf - | tar -C "$S" -xf -
else
	tar -C "$SRC" --exclude='./build*' --exclude=./.git -cf - . | tar -C "$S" -xf -
fi
[ -f "$S/debian/control" ] || fail "no debian/control in the copy of $SRC"
pass "source copied ($(find "$S" -type f | wc -l) files)"

# 2. Build: the source package (for lintian's source checks), then the binaries
(cd "$TMP" && dpkg-source -b "$(basename "$S")") >"$TMP/source.log" 2>&1 || {
	cat "$TMP/source.log" >&2
	fail "dpkg-source -b"
}
if ! (cd "$S" && DEB_BUILD_OPTIONS="parallel=2 nocheck" \
      dpkg-buildpackage -us -uc -b) >"$TMP/build.log" 2>&1; then
	tail -40 "$TMP/build.log" >&2
	fail "dpkg-buildpackage failed"
fi
arch=$(dpkg --print-architecture)
deb_tapir=$(ls "$TMP"/tapir_*_"$arch".deb)
deb_dev=$(ls "$TMP"/libtapir-dev_*_"$arch".deb)
changes=$(ls "$TMP"/tapir_*_"$arch".changes)
pass "dpkg-buildpackage -us -uc -b: $(basename "$deb_tapir") $(basename "$deb_dev")"

# 3. lintian: no errors (warnings are listed)
lintian --fail-on error --tag-display-limit 0 "$changes" "$TMP/tapir_$version.dsc" \
	>"$TMP/lintian.log" 2>&1 || {
	cat "$TMP/lintian.log" >&2
	fail "lintian reports errors"
}
grep -q '^E:' "$TMP/lintian.log" && { cat "$TMP/lintian.log" >&2; fail "lintian: E: lines"; }
pass "lintian: no errors, $(grep -c '^W:' "$TMP/lintian.log" || true) warnings"
grep -v "^running with root privileges" "$TMP/lintian.log" | sed 's/^/    /' || true

# 4. What the packages hold
dpkg-deb -c "$deb_tapir" >"$TMP/tapir.list"
for f in ./usr/bin/tapird ./usr/bin/tapir ./lib/systemd/system/tapird@.service \
	 ./usr/lib/sysusers.d/tapir.conf ./usr/share/man/man1/tapir.1.gz \
	 ./usr/share/man/man5/tapir.conf.5.gz ./usr/share/man/man8/tapird.8.gz \
	 ./etc/tapir/example.conf ./usr/share/doc/tapir/README.md \
	 ./usr/share/doc/tapir/copyright ./usr/share/bash-completion/completions/tapir; do
	grep -q " $f\$" "$TMP/tapir.list" || fail "tapir.deb lacks $f"
done
dpkg-deb -c "$deb_dev" >"$TMP/dev.list"
for f in ./usr/include/tapir/app.h ./usr/include/tapir/stack.h "/libtapir.a" "/pkgconfig/tapir.pc"; do
	grep -q -- "$f\$" "$TMP/dev.list" || fail "libtapir-dev.deb lacks $f"
done
dpkg-deb -I "$deb_tapir" conffiles | grep -qx /etc/tapir/example.conf ||
	fail "/etc/tapir/example.conf is not a conffile"
pass "contents: binaries, unit, sysusers, 3 man pages, example config (a conffile), headers, .a, .pc"

# 5. Install, run from /usr
installed=1
dpkg -i "$deb_tapir" "$deb_dev" >"$TMP/install.log" 2>&1 || {
	cat "$TMP/install.log" >&2
	fail "dpkg -i"
}
out=$(/usr/bin/tapird --version) || fail "/usr/bin/tapird --version failed"
[ "$out" = "tapird $version" ] || fail "tapird --version printed '$out', not 'tapird $version'"
out=$(/usr/bin/tapir --version) || fail "/usr/bin/tapir --version failed"
[ "$out" = "tapir $version" ] || fail "tapir --version printed '$out', not 'tapir $version'"
pass "installed: /usr/bin/tapird --version and /usr/bin/tapir --version print $version"
# (A minimal image may tell dpkg not to unpack man pages: then the .deb's
# list above is what shows them.)
if grep -qs '^path-exclude.*/usr/share/man' /etc/dpkg/dpkg.cfg.d/*; then
	echo "debian.sh: dpkg excludes /usr/share/man here: man pages checked in the .deb only"
else
	for page in tapir.1 tapird.8 tapir.conf.5; do
		name=${page%.*} sec=${page##*.}
		p=$(man -w "$sec" "$name") || fail "man -w $sec $name finds nothing"
		case "$p" in /usr/share/man/*) ;; *) fail "man $sec $name is $p, not the package's" ;; esac
	done
	MANWIDTH=80 man 8 tapird 2>/dev/null | grep -q "SIGHUP" || fail "man 8 tapird does not render"
fi
getent passwd tapir >/dev/null || fail "the postinst did not make the system user tapir (sysusers)"
pass "man finds tapir(1), tapird(8), tapir.conf(5); system user tapir exists"

# 6. libtapir-dev: examples/hello with pkg-config alone (no PKG_CONFIG_PATH)
[ "$(pkg-config --modversion tapir)" = "$version" ] || fail "pkg-config --modversion tapir"
cp -r "$SRC/examples/hello" "$TMP/hello-src"
if ! { meson setup "$TMP/hello-build" "$TMP/hello-src" && ninja -C "$TMP/hello-build"; } \
	>"$TMP/hello.log" 2>&1; then
	tail -20 "$TMP/hello.log" >&2
	fail "examples/hello does not build against libtapir-dev"
fi
"$TMP/hello-build/hello" --version >/dev/null || fail "hello --version"
pass "examples/hello builds against the installed libtapir-dev and runs"

# 7. Purge (the trap does it too if anything above failed)
dpkg -P tapir libtapir-dev >"$TMP/purge.log" 2>&1 || { cat "$TMP/purge.log" >&2; fail "dpkg -P"; }
installed=0
[ ! -e /usr/bin/tapird ] && [ ! -e /etc/tapir/example.conf ] || fail "files left after dpkg -P"
if [ "$user_before" = 0 ] && getent passwd tapir >/dev/null; then
	userdel tapir 2>/dev/null || true
	getent group tapir >/dev/null && groupdel tapir 2>/dev/null || true
fi
pass "purged"
echo "debian.sh: $npass passed, 0 failed"
