# bench/load.sh - sourced by the benchmarks: how busy the machine was during a run
#
# A ratio measured while other processes compete for the CPUs says as much
# about them as about tapir, so every benchmark prints the load and refuses
# its ratios when the others used more than one core.
#
#   load_begin             before the first measurement: prints the load
#                          average, records every process's CPU ticks
#   load_end               after the last: prints the load average, the run's
#                          wall-clock seconds and the CPU seconds of
#                          everything else; sets LOAD_BUSY when those exceed
#                          the wall-clock seconds (more than a core on average)
#   load_keep PID          before a process of the run that was detached (not
#                          this shell's child: it is not reaped here) ends:
#                          counts what it used as the run's
#   load_ratio A B         A / B with two decimals, "-" when either is
#                          missing, "(refused)" when LOAD_BUSY
#   load_refusal           prints why the ratios are missing, if they are
#
# "Everything else" is the CPU time the machine spent in user and system
# mode (/proc/stat) during the run, less what the run's own processes used
# and less the kernel threads' (children of kthreadd: they do the run's
# network work).  The run's own: this shell's descendants (whatever namespace
# they entered) and every process in this shell's network namespace (the
# benchmarks run themselves under unshare -n, so a tool's detached daemon
# counts too), each with the children it reaped.  So another process counts
# whether it ran through the whole run or started and ended within it (a
# compiler, a test).

LOAD_BUSY=
_load_s0= _load_t0= _load_kept=0

# "TOTAL KTHREADS OURS" in clock ticks: the machine's user + nice + system
# time, the kernel threads' user + system, and the user + system (children's
# included) of our processes.  Processes that end meanwhile are skipped (cat
# and ls fail on them: not an error, under pipefail either).
_load_sample() {
	local ns

	ns=$(readlink /proc/self/ns/net)
	{
		head -1 /proc/stat
		{ ls -l /proc/[0-9]*/ns/net 2>/dev/null || true; } |
			awk -v ns="$ns" '$NF == ns { split($(NF - 2), a, "/"); print "ours", a[3] }'
		echo "--"
		{ cat /proc/[0-9]*/stat 2>/dev/null || true; }
	} | awk -v self=$$ '
		$1 == "cpu" { total = $2 + $3 + $4; next }
		$1 == "ours" { ours[$2] = 1; next }
		$1 == "--" { stats = 1; next }
		stats {
			pid = $1; sub(/^[^)]*\) /, "")
			if (pid == 2 || $2 == 2) { kt += $12 + $13; next }
			ppid[pid] = $2; t[pid] = $12 + $13 + $14 + $15
		}
		END {
			for (p in t) {
				mine = (p in ours)
				for (q = p; !mine && q > 1 && (q in ppid); q = ppid[q])
					if (q == self) mine = 1
				if (mine) us += t[p]
			}
			printf "%d %d %d\n", total, kt, us
		}'
}

load_keep() {
	local t

	t=$(awk '{ sub(/^[^)]*\) /, ""); print $12 + $13 + $14 + $15 }' "/proc/$1/stat" 2>/dev/null || echo 0)
	_load_kept=$((_load_kept + t))
}

load_begin() {
	_load_kept=0
	echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
	_load_s0=$(_load_sample)
	_load_t0=$(date +%s.%N)
}

load_end() {
	local t1 s1 wall others hz

	t1=$(date +%s.%N)
	s1=$(_load_sample)
	hz=$(getconf CLK_TCK)
	echo "load average at end:   $(cut -d' ' -f1-3 /proc/loadavg)"
	wall=$(awk -v a="$_load_t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }')
	others=$(echo "$_load_s0 $s1" | awk -v hz="$hz" -v kept="$_load_kept" '{
		x = ($4 - $1) - ($5 - $2) - ($6 - $3) - kept; if (x < 0) x = 0; printf "%.1f", x / hz }')
	LOAD_BUSY=$(awk -v x="$others" -v w="$wall" 'BEGIN { if (x > w) print "busy" }')
	LOAD_OTHERS=$others LOAD_WALL=$wall
	echo "run: ${wall} s; CPU used by everything else: ${others} s" \
		"($(awk -v x="$others" -v w="$wall" 'BEGIN { printf "%.2f", (w > 0 ? x / w : 0) }') cores on average)"
}

load_ratio() {
	if [ -n "$LOAD_BUSY" ]; then
		echo "(refused)"
	else
		awk -v a="$1" -v b="$2" 'BEGIN { if (a != "" && a != "-" && b > 0) printf "%.2f", a / b; else print "-" }'
	fi
}

load_refusal() {
	[ -n "$LOAD_BUSY" ] || return 0
	echo
	echo "ratios not printed: other processes used more than a core during the run"
	echo "(${LOAD_OTHERS} CPU seconds in ${LOAD_WALL} s): the figures say as much about them as about tapir."
}
