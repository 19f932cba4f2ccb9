# bench/lib.sh - sourced by the benchmarks: a network namespace of their own,
# the kernel's side (a second namespace over a veth pair), nginx's configuration
#
#   bench_own_ns "$@"      first thing: re-runs the script under unshare -n
#                          (unshare -rn when not root) and gives up if it
#                          still finds itself in the namespace it started in
#   bench_server_ns [6]    a namespace held by a sleeping process (SRV_NS,
#                          added to PIDS) joined to this one by veth0/veth1:
#                          198.51.100.1 here, 198.51.100.2 there (with 6:
#                          2001:db8:1::1 and ::2 too); dies if it does not come up
#   bench_nginx_conf FILE LINES...
#                          nginx's configuration for the kernel reference:
#                          one worker, sendfile, access log off, keep-alive
#                          without limit, every path under $TMP/nginx; LINES
#                          go inside its one server block (listen, root, ...)
#   bench_wait_http URL    dies unless URL answers within 10 s
#
# The scripts define TMP, PIDS and die() before calling the last three.
# load.sh (the machine's load during a run) is sourced from here too.

. "$(dirname "${BASH_SOURCE[0]}")/load.sh"

bench_own_ns() {
	local me
	me=$(basename "$0")
	if [ -z "${TAPIR_BENCH_NS:-}" ]; then
		export TAPIR_BENCH_OUTER_NS
		TAPIR_BENCH_OUTER_NS=$(readlink /proc/self/ns/net)
		if [ "$(id -u)" = 0 ]; then
			TAPIR_BENCH_NS=1 exec unshare -n "$0" "$@"
		fi
		TAPIR_BENCH_NS=1 exec unshare -rn "$0" "$@"
	fi
	# Never run the rest in the namespace we were started in.
	if [ "$(readlink /proc/self/ns/net)" = "${TAPIR_BENCH_OUTER_NS:-}" ]; then
		echo "bench/$me: still in the original network namespace, giving up" >&2
		exit 1
	fi
}

bench_server_ns() {
	local v6=${1:-}
	unshare -n sleep infinity &
	SRV_NS=$!
	PIDS="$PIDS $SRV_NS"
	for _ in $(seq 1 50); do
		[ "$(readlink "/proc/$SRV_NS/ns/net")" != "$(readlink /proc/self/ns/net)" ] && break
		sleep 0.1
	done
	[ "$(readlink "/proc/$SRV_NS/ns/net")" != "$(readlink /proc/self/ns/net)" ] ||
		die "the server namespace did not come up"
	ip link add veth0 type veth peer name veth1 netns "$SRV_NS"
	ip addr add 198.51.100.1/24 dev veth0
	[ -z "$v6" ] || ip addr add 2001:db8:1::1/64 dev veth0 nodad
	ip link set veth0 mtu 1500 up
	nsenter -t "$SRV_NS" -n sh -c 'ip link set lo up &&
		ip addr add 198.51.100.2/24 dev veth1 && ip link set veth1 mtu 1500 up'
	[ -z "$v6" ] || nsenter -t "$SRV_NS" -n ip addr add 2001:db8:1::2/64 dev veth1 nodad
}

bench_nginx_conf() {
	local file=$1 line
	shift
	{
		cat <<CONF
daemon off;
master_process on;
worker_processes 1;
user root root;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/logs/error.log warn;
events { worker_connections 1024; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	keepalive_requests 1000000;
	client_body_temp_path $TMP/nginx/body;
	proxy_temp_path $TMP/nginx/proxy;
	fastcgi_temp_path $TMP/nginx/fastcgi;
	uwsgi_temp_path $TMP/nginx/uwsgi;
	scgi_temp_path $TMP/nginx/scgi;
	default_type application/octet-stream;
	server {
CONF
		for line in "$@"; do
			printf '\t\t%s\n' "$line"
		done
		printf '\t}\n}\n'
	} >"$file"
}

bench_wait_http() {
	for _ in $(seq 1 40); do
		curl -sf -o /dev/null --max-time 1 "$1" && return 0
		sleep 0.25
	done
	die "$1 does not answer ($(cat "$TMP/nginx/out.log" "$TMP/nginx/logs/error.log" 2>/dev/null | tail -3))"
}
