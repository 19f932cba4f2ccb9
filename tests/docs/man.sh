#!/bin/bash
# man.sh - the man pages render without warnings and miss no command, option or config key
#
# Usage: man.sh TAPIR TAPIRD DUMP_KEYS [PAGE...]   (meson passes the built pages)
#
# For each page, `man --warnings` and `groff -ww` (every warning category)
# must print nothing on stderr.
# Then, in the rendered text (man -l | col -b, wide enough that no line
# breaks inside a sentence):
#   tapir(1)       every command `tapir help` lists has its subsection
#                  "tapir CMD" and the usage line `tapir CMD --help` prints;
#   tapird(8)      every option `tapird --help` names;
#   tapir.conf(5)  every section and key dump_keys --list gives (the key
#                  tables, built-in app types included), each key under
#                  its own section's heading, and the [netif] impair.*
#                  keys conf/tapird.conf documents.
# Each checker is also run once on a list with an invented entry and must
# fail, so that a checker that finds everything cannot pass.
set -u

TAPIR=$1 TAPIRD=$2 DUMP_KEYS=$3
shift 3
fail=0
err() { echo "man.sh: $*" >&2; fail=1; }

declare -A PAGE
for p in "$@"; do
	PAGE[$(basename "$p")]=$p
done
for want in tapir.1 tapird.8 tapir.conf.5; do
	if [ -z "${PAGE[$want]:-}" ] || [ ! -s "${PAGE[$want]}" ]; then
		echo "man.sh: $want was not built (scdoc missing? run tools/deps)" >&2
		exit 1
	fi
done
command -v man >/dev/null || { echo "man.sh: man missing (tools/deps --test: man-db)" >&2; exit 1; }

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

render() {  # PAGE WIDTH -> plain text on stdout, warnings in $TMP/warn
	MANWIDTH=$2 MAN_KEEP_FORMATTING= man --warnings -E UTF-8 -l "$1" 2>"$TMP/warn" | col -b
}

# 1. No warnings, at the width of a terminal and wide
for name in tapir.1 tapird.8 tapir.conf.5; do
	for w in 80 2000; do
		render "${PAGE[$name]}" "$w" >"$TMP/$name.$w"
		if [ -s "$TMP/warn" ]; then
			err "$name at width $w: warnings:"
			cat "$TMP/warn" >&2
		fi
		[ "$(wc -l <"$TMP/$name.$w")" -gt 20 ] || err "$name at width $w: rendered almost nothing"
	done
	# every groff warning category, not only man's default ones
	groff -ww -z -man -Tutf8 "${PAGE[$name]}" >"$TMP/warn" 2>&1
	if [ -s "$TMP/warn" ]; then
		err "$name: groff -ww warnings:"
		cat "$TMP/warn" >&2
	fi
done

# 2. tapir(1): CMD<TAB>USAGE lines
"$TAPIR" help | awk '/^  [a-z]/ { print $1 }' >"$TMP/commands"
[ "$(wc -l <"$TMP/commands")" -ge 10 ] || err "tapir help listed only $(wc -l <"$TMP/commands") commands"
: >"$TMP/usages"
while read -r cmd; do
	if [ "$cmd" = help ]; then
		usage="tapir help"
	else
		usage=$("$TAPIR" "$cmd" --help | sed -n 's/^usage: //p' | head -1)
		[ -n "$usage" ] || err "tapir $cmd --help prints no usage line"
	fi
	printf '%s\t%s\n' "$cmd" "$usage" >>"$TMP/usages"
done <"$TMP/commands"

check_commands() {  # USAGES-FILE PAGE-TEXT: every command's heading and usage
	local bad=0 cmd usage
	while IFS=$'\t' read -r cmd usage; do
		if ! grep -qx "   tapir $cmd" "$2"; then
			echo "tapir.1: no subsection for 'tapir $cmd'"
			bad=1
		fi
		# whitespace-insensitive: the page fills the usage line
		if ! tr -s ' \t' '  ' <"$2" | grep -qF -- "$(echo "$usage" | tr -s ' \t' '  ')"; then
			echo "tapir.1: no usage line '$usage'"
			bad=1
		fi
	done <"$1"
	return $bad
}
check_commands "$TMP/usages" "$TMP/tapir.1.2000" >&2 || fail=1

# 3. tapird(8): every --option of tapird --help
"$TAPIRD" --help | grep -oE -- '(^|[ \[|])--?[a-zA-Z][a-zA-Z-]*' | sed 's/^[ [|]//' | sort -u \
	>"$TMP/options"
[ "$(wc -l <"$TMP/options")" -ge 4 ] || err "tapird --help named only $(wc -l <"$TMP/options") options"
check_options() {  # OPTIONS-FILE PAGE-TEXT
	local bad=0 o
	while read -r o; do
		if ! grep -qE -- "(^|[^a-zA-Z-])$o([^a-zA-Z-]|\$)" "$2"; then
			echo "tapird.8: option $o is not described"
			bad=1
		fi
	done <"$1"
	return $bad
}
check_options "$TMP/options" "$TMP/tapird.8.2000" >&2 || fail=1

# 4. tapir.conf(5): [SECTION]<TAB>KEY from the key tables, each key under
# its section's heading (a line "   [SECTION]...", keys at 7 spaces)
"$DUMP_KEYS" --list >"$TMP/keys" || err "dump_keys --list failed"
[ "$(wc -l <"$TMP/keys")" -ge 40 ] || err "dump_keys listed only $(wc -l <"$TMP/keys") keys"
check_keys() {  # KEYS-FILE PAGE-TEXT
	awk -F'\t' '
		NR == FNR { want[$1 "\t" $2] = 1; order[++n] = $1 "\t" $2; next }
		/^   [^ ]/ { sec = substr($0, 4); next }
		/^       [^ ]/ {
			k = substr($0, 8); sub(/ .*/, "", k)
			have[sec "\t" k] = 1
		}
		END {
			bad = 0
			for (i = 1; i <= n; i++)
				if (!(order[i] in have)) {
					split(order[i], f, "\t")
					printf "tapir.conf.5: key %s of %s is missing\n", f[2], f[1]
					bad = 1
				}
			exit bad
		}' "$1" "$2"
}
check_keys "$TMP/keys" "$TMP/tapir.conf.5.2000" >&2 || fail=1

# [netif] impair.* keys are no key table's (backends/impair.c parses them):
# the ones the example configuration documents must be in the page too.
SRC=$(realpath "$(dirname "$0")/../..")
grep -oE '^;?impair\.[a-z_]+' "$SRC/conf/tapird.conf" | tr -d ';' | sort -u >"$TMP/impair"
[ "$(wc -l <"$TMP/impair")" -ge 6 ] || err "conf/tapird.conf documents only $(wc -l <"$TMP/impair") impair keys"
while read -r k; do
	grep -qE "(^|[ ,])$k([ ,]|\$)" "$TMP/tapir.conf.5.2000" || err "tapir.conf.5: $k is missing"
done <"$TMP/impair"

# 5. The checkers fail on an invented entry
printf 'frobnicate\ttapir frobnicate NAME\n' >>"$TMP/usages"
check_commands "$TMP/usages" "$TMP/tapir.1.2000" >/dev/null && err "check_commands missed a command"
echo "--frobnicate" >>"$TMP/options"
check_options "$TMP/options" "$TMP/tapird.8.2000" >/dev/null && err "check_options missed an option"
printf '[netif]\tfrobnicate\n' >>"$TMP/keys"
check_keys "$TMP/keys" "$TMP/tapir.conf.5.2000" >/dev/null && err "check_keys missed a key"
# A key of one section found under another does not count
printf '[arp]\tmtu\n' >"$TMP/keys2"
check_keys "$TMP/keys2" "$TMP/tapir.conf.5.2000" >/dev/null && err "check_keys took a key of another section"

if [ "$fail" = 0 ]; then
	echo "man.sh: 3 pages render without warnings; $(wc -l <"$TMP/commands") commands," \
	     "$(($(wc -l <"$TMP/options") - 1)) tapird options and $(($(wc -l <"$TMP/keys") - 1))" \
	     "config keys found in them"
fi
exit $fail
