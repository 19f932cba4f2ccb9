#!/bin/bash
# tcp_keepalive.sh - tapird's keepalive probes, watched with tcpdump on tap0
#
# tapird runs with keepalive on, idle 2 s, interval 1 s, count 3.  A kernel
# client holds an idle connection to echo:
#   * while the kernel answers: the first probe leaves 2 s (idle) after the
#     last data, every probe is acknowledged by the kernel, and the
#     connection still echoes afterwards;
#   * then the kernel peer vanishes (nftables drops everything from tapird on
#     input; tcpdump still sees the frames): tapird sends 3 (count) probes,
#     1 s (interval) apart, that go unanswered, then gives up with a RST;
#   * once the drop rule is gone, data from the kernel's (stale) socket is
#     answered with a RST: tapird really dropped the connection.
set -euo pipefail
TAPIRD=$(realpath "$1")
HERE=$(dirname "$(realpath "$0")")
. "$HERE/tcp_lib.sh"
tcp_enter_netns "$@"
T_START=$(now_ms)

if [ "$TCP_REAL_ROOT" != 1 ] || ! command -v tcpdump >/dev/null; then
	echo "SKIP: tcpdump needs real root (it cannot drop privileges in a user namespace)"
	exit 77
fi
command -v nft >/dev/null || fail "nft not found (apt-get install nftables)"

tcp_setup --tcp.keepalive=true --tcp.keepalive_idle=2s --tcp.keepalive_interval=1s \
	--tcp.keepalive_count=3
tcpdump -i tap0 -n -l -tt -S tcp port 7 >"$TMP/ka.dump" 2>"$TMP/ka.dump.err" &
DUMP_PID=$!
PIDS="$PIDS $DUMP_PID"
sleep 1

$PY - "$TMP/ka.dump" <<'PYEOF' || { tail -40 "$TMP/ka.dump" >&2; fail "keepalive"; }
import re, socket, subprocess, sys, time

IDLE, INTVL, COUNT = 2.0, 1.0, 3
dump = sys.argv[1]
line_re = re.compile(r"^(\d+\.\d+) IP (\S+)\.(\d+) > (\S+)\.(\d+): Flags \[([^\]]*)\](.*)$")

def packets(port, t_from, t_to=1e18):
    out = []
    for line in open(dump):
        m = line_re.match(line)
        if not m:
            continue
        t = float(m.group(1))
        if not t_from <= t <= t_to:
            continue
        src, sport, dst, dport = m.group(2), int(m.group(3)), m.group(4), int(m.group(5))
        if port not in (sport, dport):
            continue
        out.append((t, src, m.group(6), m.group(7).strip(), line.rstrip()))
    return out

def show(pk):
    return "\n".join("    " + p[4] for p in pk)

def echo_once(s, msg):
    s.sendall(msg)
    got = b""
    while len(got) < len(msg):
        b = s.recv(100)
        if not b:
            sys.exit("connection closed")
        got += b
    if got != msg:
        sys.exit("echo differs")

s = socket.create_connection(("192.0.2.2", 7), timeout=5)
port = s.getsockname()[1]
echo_once(s, b"hello")
t_last = time.time()

# ---- 1. the kernel answers: probes after IDLE, acknowledged, connection lives
time.sleep(IDLE + 3 * INTVL + 1.5)
t_end1 = time.time()
pk = packets(port, t_last + 0.05, t_end1)
probes = [p for p in pk if p[1] == "192.0.2.2"]
if not probes:
    sys.exit(f"no keepalive probe in {t_end1 - t_last:.1f} s of idle:\n{show(pk)}")
first = probes[0][0] - t_last
if not IDLE - 0.3 <= first <= IDLE + 0.5:
    sys.exit(f"first probe {first:.2f} s after the last data, want ~{IDLE} s:\n{show(pk)}")
for p in probes:
    if "R" in p[2] or "F" in p[2] or "S" in p[2]:
        sys.exit(f"unexpected flags from tapird while idle:\n{show(pk)}")
    acks = [q for q in pk if q[1] == "192.0.2.1" and p[0] <= q[0] <= p[0] + 0.2]
    if not acks:
        sys.exit(f"probe at {p[0]:.3f} not acknowledged by the kernel:\n{show(pk)}")
gaps = [b[0] - a[0] for a, b in zip(probes, probes[1:])]
print(f"  kernel alive: {len(probes)} probes, first {first:.2f} s after the data, "
      f"then every {', '.join(f'{g:.2f}' for g in gaps)} s, each acknowledged",
      file=sys.stderr)
print(show(probes[:3]), file=sys.stderr)
echo_once(s, b"still here")

# ---- 2. the kernel vanishes: COUNT probes INTVL apart, then RST
subprocess.run(["nft", "add table inet tapirka"], check=True)
subprocess.run(["nft", "add chain inet tapirka in { type filter hook input priority 0; }"],
               check=True)
subprocess.run(["nft", "add rule inet tapirka in ip saddr 192.0.2.2 drop"], check=True)
t_gone = time.time()
rst = None
deadline = t_gone + IDLE + (COUNT + 3) * INTVL + 2
while time.time() < deadline and rst is None:
    time.sleep(0.25)
    pk = packets(port, t_gone)
    rst = next((p for p in pk if p[1] == "192.0.2.2" and "R" in p[2]), None)
pk = packets(port, t_gone)
if rst is None:
    sys.exit(f"no RST from tapird {time.time() - t_gone:.1f} s after the peer vanished "
             f"(idle {IDLE}, interval {INTVL}, count {COUNT}):\n{show(pk)}")
probes = [p for p in pk if p[1] == "192.0.2.2" and p[0] < rst[0]]
others = [p for p in pk if p[1] == "192.0.2.1" and p[0] < rst[0]]
if others:
    sys.exit(f"the kernel sent something while it was gone:\n{show(pk)}")
if len(probes) != COUNT:
    sys.exit(f"{len(probes)} unanswered probes before the RST, want {COUNT}:\n{show(pk)}")
first = probes[0][0] - t_gone
if first > IDLE + 0.5:
    sys.exit(f"first probe {first:.2f} s after the drop, want at most ~{IDLE} s:\n{show(pk)}")
gaps = [b[0] - a[0] for a, b in zip(probes, probes[1:])] + [rst[0] - probes[-1][0]]
for g in gaps:
    if not INTVL - 0.3 <= g <= INTVL + 0.5:
        sys.exit(f"probes/RST {', '.join(f'{x:.2f}' for x in gaps)} s apart, "
                 f"want ~{INTVL} s:\n{show(pk)}")
print(f"  kernel gone: {len(probes)} unanswered probes, "
      f"{', '.join(f'{x:.2f}' for x in gaps)} s apart (last gap: to the RST)",
      file=sys.stderr)
print(show(probes + [rst]), file=sys.stderr)

# ---- 3. the kernel comes back: its stale connection is reset
subprocess.run(["nft", "delete table inet tapirka"], check=True)
try:
    s.sendall(b"anyone?")
    b = s.recv(100)
    sys.exit(f"stale connection answered {b!r}, want a reset")
except ConnectionResetError:
    pass
print("  the kernel's stale connection gets a RST", file=sys.stderr)
PYEOF
pass "keepalive: probes after 2 s idle answered; peer gone: 3 probes 1 s apart, then RST"
tapird_alive
kill "$DUMP_PID"
stop_tapird
echo "tcp_keepalive: all passed in $(( ($(now_ms) - T_START) / 1000 )) s"
