#!/bin/bash
# demo.sh - tools/demo --check: the demo installs what its printed commands
# need (tools/deps --demo), starts tapird in a network namespace of its own
# (ip netns add, removed at the end) and runs every command it prints, as
# printed (ping, UDP and TCP echo with socat, 100 MB from source, curl of
# the built-in site, ping -6 of tapird, tapir ping of the kernel's
# 2001:db8::1, tapir status), checking what each one prints.  The curl -6
# line it prints is not run: it needs TCP over IPv6.
set -euo pipefail
TAPIRD=$(realpath "$1")
HERE=$(dirname "$(realpath "$0")")
SRC=$(realpath "$HERE/../..")
BUILD=$(dirname "$(dirname "$TAPIRD")")
[ "$(id -u)" = 0 ] || { echo "demo.sh needs root (CI runs as root)" >&2; exit 1; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir -m 700 "$TMP/run"
TAPIR_BUILD=$BUILD TAPIR_RUNTIME_DIR=$TMP/run TAPIR_STATE_DIR=$TMP/state "$SRC/tools/demo" --check
echo "ok: every command tools/demo prints works as printed"
