#!/bin/sh
# tap_smoke.sh BINARY - run the TAP smoke test in a private user + network
# namespace (nothing outside it is touched); skip (77) if that is impossible.
BIN=$(realpath "$1")
if ! unshare -rn true 2>/dev/null; then
	echo "SKIP: cannot create a network namespace" >&2
	exit 77
fi
exec unshare -rn sh -c 'ip link set lo up && exec "$0"' "$BIN"
