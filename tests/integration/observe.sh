#!/bin/bash
# observe.sh - watching a live instance: `tapir metrics` and the metrics app's
# GET /metrics (curl from the kernel side) parse with prometheus_client (both
# the Prometheus text format and OpenMetrics) and agree with `tapir stats
# --json`; `tapir top` under tmux against a connection carrying traffic shows
# the connection and its rates, fits 80x24, degrades without colour and quits
# on q; `--once` fits 80 columns; [log] format = json lines parse and carry
# their fields (the access log of a request).
set -euo pipefail
TAPIRD=$(realpath "$1")
TAPIR=$(realpath "$2")
HERE=$(dirname "$(realpath "$0")")
. "$HERE/lib.sh"
enter_netns "$@"
export TAPIR_RUNTIME_DIR="$TMP/run"
TMUX_SOCK="$TMP/tmux.sock"
TMUX_STARTED=""
obs_cleanup() {
	[ -n "$TMUX_STARTED" ] && { tmux -S "$TMUX_SOCK" kill-server 2>/dev/null || true; }
	cleanup
}
trap obs_cleanup EXIT

cat >"$TMP/tapird.conf" <<CONF
[netif]
backend = tap
name = tap0
mac = 02:00:00:00:00:02

[ipv4]
address = 192.0.2.2/24
gateway = 192.0.2.1

[log]
format = json

[app.discard]
port = 9

[app.m]
type = metrics
port = 9100
access_log = true

[control]
name = obs
CONF

make_tap tap0 192.0.2.1/24
TAPIRD_LOG="$TMP/tapird.err"
"$TAPIRD" --config "$TMP/tapird.conf" >"$TMP/tapird.out" 2>"$TAPIRD_LOG" &
TAPIRD_PID=$!
PIDS="$PIDS $TAPIRD_PID"
wait_ping 192.0.2.2
for _ in $(seq 1 50); do [ -S "$TMP/run/obs.sock" ] && break; sleep 0.1; done

# Traffic: about 1.3 MB/s into discard, paced, for at most 150 s.
"$PY" - <<'PYEOF' &
import socket, time
s = socket.create_connection(("192.0.2.2", 9))
end = time.time() + 150
while time.time() < end:
    s.sendall(b"\0" * 65536)
    time.sleep(0.05)
PYEOF
TRAFFIC=$!
PIDS="$PIDS $TRAFFIC"

# check_metrics KIND STATS_BEFORE METRICS STATS_AFTER [strict]: every counter
# of stats is in the metrics with a value between the two stats (equal where
# it did not move; everywhere with strict), every counter sample is one of
# stats, HELP and TYPE are there, and the gauges say what we know.
check_metrics() {
	"$PY" - "$@" <<'PYEOF'
import json, sys
kind, before, text, after = sys.argv[1:5]
strict = len(sys.argv) > 5
s1 = json.load(open(before)); s2 = json.load(open(after))
text = open(text).read()
if kind == "openmetrics":
    from prometheus_client.openmetrics.parser import text_string_to_metric_families
    assert text.endswith("# EOF\n"), "OpenMetrics text must end with # EOF"
else:
    from prometheus_client.parser import text_string_to_metric_families
    assert "# EOF" not in text
fams = list(text_string_to_metric_families(text))
samples = {}
for f in fams:
    assert f.documentation, "no HELP for " + f.name
    assert f.type in ("counter", "gauge"), (f.name, f.type)
    for s in f.samples:
        if f.type == "counter" and s.name.endswith("_created"):
            continue
        assert s.labels.get("instance") == "obs", s
        key = (s.name, tuple(sorted(s.labels.items())))
        assert key not in samples, "duplicate sample %s" % (key,)
        samples[key] = (f.type, s.value)
# HELP and TYPE lines precede each family's samples in the text itself
for line in text.splitlines():
    if line.startswith("#"):
        assert line.split()[1] in ("HELP", "TYPE", "EOF"), line
expect = {}
for layer, ctrs in s2.items():
    for k, v2 in ctrs.items():
        v1 = s1[layer][k]
        labels = {"instance": "obs", "layer": layer}
        if "." in k:
            group, rest = k.split(".", 1)
            name = "tapir_drops_total" if group == "drop" else "tapir_%s_total" % group
            labels["reason" if group == "drop" else "kind"] = rest
        else:
            name = "tapir_%s_total" % k
        expect[(name, tuple(sorted(labels.items())))] = (layer + "." + k, v1, v2)
moved = 0
for key, (stat, v1, v2) in expect.items():
    assert key in samples, "stats counter %s missing from the metrics (%s)" % (stat, key)
    typ, v = samples[key]
    assert typ == "counter", (stat, typ)
    if strict or v1 == v2:
        assert v == v1 == v2, "%s: metrics %s, stats %s then %s" % (stat, v, v1, v2)
    else:
        assert v1 <= v <= v2, "%s: metrics %s not within stats %s..%s" % (stat, v, v1, v2)
        moved += 1
counters = [k for k, (t, _) in samples.items() if t == "counter"]
extra = [k for k in counters if k not in expect]
assert not extra, "counters not in stats: %s" % extra[:5]
assert len(expect) > 100, len(expect)
def gauge(name, **lab):
    lab["instance"] = "obs"
    for (n, labels), (t, v) in samples.items():
        if n == name and all(dict(labels).get(a) == b for a, b in lab.items()):
            assert t == "gauge", name
            return v
    raise AssertionError("gauge %s %s missing" % (name, lab))
assert gauge("tapir_tcp_flows", layer="tcp") >= 1
assert gauge("tapir_arp_entries", layer="arp", state="reachable") >= 1
assert gauge("tapir_udp_listeners", layer="udp") == 1        # discard
assert gauge("tapir_tcp_memory_bytes", layer="tcp") >= 0
assert gauge("tapir_reasm_bytes", layer="reasm") == 0
assert gauge("tapir_uptime_seconds") > 0
assert gauge("tapir_build_info") == 1
print("%d counters agree with stats (%d moved meanwhile), %d families" %
      (len(expect), moved, len(fams)))
PYEOF
}

stats() { "$TAPIR" --json stats obs >"$1" || fail "tapir stats"; }

# 1. tapir metrics, while traffic runs: within the stats around it
sleep 1
stats "$TMP/s1.json"
"$TAPIR" metrics obs >"$TMP/m.txt" || fail "tapir metrics"
stats "$TMP/s2.json"
out=$(check_metrics prometheus "$TMP/s1.json" "$TMP/m.txt" "$TMP/s2.json") ||
	fail "tapir metrics vs stats: $out"
pass "tapir metrics: $out"
grep -q '^tapir_rx_total{instance="obs",layer="eth"} [1-9]' "$TMP/m.txt" ||
	fail "no eth frames counted: $(grep rx_total "$TMP/m.txt" | head -3)"
"$TAPIR" metrics obs --openmetrics >"$TMP/om.txt" || fail "tapir metrics --openmetrics"
stats "$TMP/s3.json"
out=$(check_metrics openmetrics "$TMP/s2.json" "$TMP/om.txt" "$TMP/s3.json") ||
	fail "tapir metrics --openmetrics: $out"
pass "tapir metrics --openmetrics: $out"
"$TAPIR" --json metrics obs | jq -e '.content_type | startswith("text/plain; version=0.0.4")' \
	>/dev/null || fail "metrics --json: content_type"
"$TAPIR" metrics obs --bogus >/dev/null 2>&1 && fail "metrics --bogus accepted"

# 2. GET /metrics over the stack, from the kernel side
stats "$TMP/s4.json"
curl -sS -f -D "$TMP/h.txt" -o "$TMP/g.txt" http://192.0.2.2:9100/metrics ||
	fail "curl /metrics"
stats "$TMP/s5.json"
grep -qi '^content-type: text/plain; version=0.0.4' "$TMP/h.txt" ||
	fail "content type: $(cat "$TMP/h.txt")"
out=$(check_metrics prometheus "$TMP/s4.json" "$TMP/g.txt" "$TMP/s5.json") ||
	fail "GET /metrics vs stats: $out"
pass "GET /metrics: $out"
stats "$TMP/s6.json"
curl -sS -f -D "$TMP/h2.txt" -o "$TMP/g2.txt" \
	-H 'Accept: application/openmetrics-text; version=1.0.0, text/plain;q=0.5' \
	http://192.0.2.2:9100/metrics || fail "curl /metrics (OpenMetrics)"
stats "$TMP/s7.json"
grep -qi '^content-type: application/openmetrics-text; version=1.0.0' "$TMP/h2.txt" ||
	fail "OpenMetrics content type: $(cat "$TMP/h2.txt")"
out=$(check_metrics openmetrics "$TMP/s6.json" "$TMP/g2.txt" "$TMP/s7.json") ||
	fail "GET /metrics (OpenMetrics) vs stats: $out"
pass "GET /metrics, Accept: OpenMetrics: $out"
code=$(curl -s -o /dev/null -w '%{http_code}' http://192.0.2.2:9100/nope)
[ "$code" = 404 ] || fail "GET /nope: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -d x http://192.0.2.2:9100/metrics)
[ "$code" = 405 ] || fail "POST /metrics: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -I http://192.0.2.2:9100/metrics)
[ "$code" = 200 ] || fail "HEAD /metrics: $code"
pass "GET /nope 404, POST 405, HEAD 200"

# 3. tapir top --once: one frame, 80 columns, 24 lines, no escapes off a tty
"$TAPIR" top obs --once >"$TMP/top.txt" || fail "tapir top --once"
cols=$(awk '{ if (length($0) > m) m = length($0) } END { print m }' "$TMP/top.txt")
lines=$(wc -l <"$TMP/top.txt")
[ "$cols" -le 80 ] && [ "$lines" -le 24 ] || fail "top --once is ${cols}x$lines: $(cat "$TMP/top.txt")"
grep -q $'\033' "$TMP/top.txt" && fail "escapes in top --once off a terminal"
grep -Eq '^192\.0\.2\.1:[0-9]+ +ESTABLISHED +[0-9.]+[kM]? ' "$TMP/top.txt" ||
	fail "top --once: no connection: $(cat "$TMP/top.txt")"
awk '$1 == "tcp" && $2 + 0 > 0 { ok = 1 } END { exit !ok }' "$TMP/top.txt" ||
	fail "top --once: no TCP receive rate: $(cat "$TMP/top.txt")"
pass "tapir top --once: ${cols}x$lines, the connection and the rates"

# 4. tapir top live under tmux (80x24): the screen shows the connection
# receiving (a rate of kB/s or more) and the rates per layer; q quits
TMUX_STARTED=1
tmux -S "$TMUX_SOCK" -f /dev/null new-session -d -s top -x 80 -y 24 \
	"TERM=screen $TAPIR top obs; sleep 30"
screen=""
for _ in $(seq 1 30); do
	sleep 0.5
	screen=$(tmux -S "$TMUX_SOCK" capture-pane -p -t top)
	grep -Eq '^192\.0\.2\.1:[0-9]+ +ESTABLISHED +[0-9.]+[kM] ' <<<"$screen" && break
done
grep -Eq '^192\.0\.2\.1:[0-9]+ +ESTABLISHED +[0-9.]+[kM] ' <<<"$screen" ||
	fail "tmux screen shows no busy connection:
$screen"
grep -Eq '^tcp +[0-9.]+[kM]? +[0-9.]+' <<<"$screen" || fail "no tcp rates:
$screen"
grep -Eq '^dev .*rx [0-9.]+[kM]B/s' <<<"$screen" || fail "no device bytes/s:
$screen"
grep -q 'tapir top obs' <<<"$screen" || fail "no title: $screen"
colored=$(tmux -S "$TMUX_SOCK" capture-pane -p -e -t top)
grep -q $'\033\\[' <<<"$colored" || fail "no colour on a terminal"
pass "tapir top under tmux shows the connection and the rates"
echo "$screen" | sed 's/^/    | /'
tmux -S "$TMUX_SOCK" send-keys -t top q
quit=""
for _ in $(seq 1 20); do
	sleep 0.2
	tmux -S "$TMUX_SOCK" capture-pane -p -t top | grep_q 'tapir top obs' || { quit=1; break; }
done
[ -n "$quit" ] || fail "q did not quit top"
tmux -S "$TMUX_SOCK" kill-session -t top
# NO_COLOR, and TERM=dumb: the same view without colour (dumb: nor cursor
# movement, frames one after the other)
plain_top() {  # plain_top SESSION ENV...
	local s=$1
	shift
	tmux -S "$TMUX_SOCK" -f /dev/null new-session -d -s "$s" -x 80 -y 24 \
		"env $* $TAPIR top obs; sleep 30"
	for _ in $(seq 1 30); do
		sleep 0.5
		screen=$(tmux -S "$TMUX_SOCK" capture-pane -p -e -t "$s")
		grep -q 'ESTABLISHED' <<<"$screen" && break
	done
	grep -q 'ESTABLISHED' <<<"$screen" || fail "top with $*: $screen"
	grep -q $'\033\\[' <<<"$screen" && fail "colour with $*: $(cat -v <<<"$screen")"
	tmux -S "$TMUX_SOCK" kill-session -t "$s"
}
plain_top plain TERM=screen NO_COLOR=1
plain_top dumb TERM=dumb
tmux -S "$TMUX_SOCK" kill-server 2>/dev/null || true  # gone with its last session
TMUX_STARTED=""
pass "NO_COLOR, TERM=dumb: no colour"

# 5. JSON log lines: every stderr line is one object with the fields; the
# access log of GET /metrics carries the request
kill "$TRAFFIC"
"$PY" - "$TAPIRD_LOG" <<'PYEOF' || fail "JSON log lines"
import json, re, sys
lines = open(sys.argv[1]).read().splitlines()
assert len(lines) >= 3, lines
access = None
for l in lines:
    o = json.loads(l)
    assert list(o) == ["time", "level", "instance", "message", "fields"], o
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", o["time"]), o
    assert o["level"] in ("error", "warn", "info", "debug"), o
    assert o["instance"] == "obs", o
    assert isinstance(o["message"], str) and o["message"], o
    assert isinstance(o["fields"], dict), o
    f = o["fields"]
    if f.get("target") == "/metrics" and f.get("method") == "GET":
        access = o
assert access, "no access log line of GET /metrics"
f = access["fields"]
assert f["app"] == "m" and f["status"] == "200" and f["peer"] == "192.0.2.1", f
assert int(f["bytes"]) > 10000, f
print("%d JSON lines" % len(lines))
PYEOF
jq -e -s 'length > 2 and all(.[]; has("time") and has("fields"))' "$TAPIRD_LOG" >/dev/null ||
	fail "jq: log lines"
pass "JSON log lines parse (python, jq) with time, level, instance, message, fields"

stop_tapird
