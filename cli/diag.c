/*
 * diag.c - tapir's network views and probes: route, reasm, ping, traceroute (IPv4 and IPv6)
 *
 * Each sends one request to the instance (through tapir.c, cli.h) and
 * prints its result as a table, or the result object with --json.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "top.h"

/* " expires 12s", or "" when the member is null (forever) */
static const char *expires(json_t *o, const char *k, char *buf, size_t len)
{
	json_t *v = json_object_get(o, k);
	if (!json_is_integer(v))
		return "";
	snprintf(buf, len, " expires %.0fs", (double)json_integer_value(v) / 1000);
	return buf;
}

/* The human table of `tapir route`: IPv4 as before, then IPv6 as `ip -6 route` */
static void route_table(json_t *r, const char *arg)
{
	(void)arg;
	char b[48];
	size_t i;
	json_t *e;
	printf("default via %s mtu %lld\n", cli_s(r, "gateway"), cli_i(r, "mtu"));
	json_array_foreach(json_object_get(r, "entries"), i, e)
		printf("%s pmtu %lld expires %.0fs\n", cli_s(e, "dst"), cli_i(e, "mtu"),
		       (double)cli_i(e, "expires_ms") / 1000);
	json_t *v6 = json_object_get(r, "ipv6");
	if (!json_is_object(v6))
		return;
	json_array_foreach(json_object_get(v6, "routers"), i, e)
		printf("default via %s proto %s%s%s\n", cli_s(e, "address"), cli_s(e, "origin"),
		       expires(e, "expires_ms", b, sizeof(b)),
		       json_is_true(json_object_get(e, "default")) ? " (in use)" : "");
	json_array_foreach(json_object_get(v6, "prefixes"), i, e)
		printf("%s on-link proto %s%s\n", cli_s(e, "prefix"), cli_s(e, "origin"),
		       expires(e, "expires_ms", b, sizeof(b)));
	printf("ipv6 mtu %lld\n", cli_i(v6, "mtu"));
	json_array_foreach(json_object_get(v6, "pmtu"), i, e)
		printf("%s pmtu %lld expires %.0fs\n", cli_s(e, "dst"), cli_i(e, "mtu"),
		       (double)cli_i(e, "expires_ms") / 1000);
}

int route_main(int argc, char **argv)
{
	static const char U[] = "tapir route NAME [--json]";
	if (cli_want_help(argc, argv, U,
			  "Show the routes: the IPv4 gateway, the MTU and the path-MTU cache; the\n"
			  "IPv6 default routers (from Router Advertisements or [ipv6] gateway; the\n"
			  "one in use marked), the on-link prefixes with their lifetimes, the IPv6\n"
			  "link MTU and the IPv6 path-MTU cache (from Packet Too Big)."))
		return 0;
	if (argc != 2)
		return cli_usage_err("route needs NAME", U);
	return cli_show(argv[1], "pmtu", NULL, route_table, NULL);
}

/* The human table of `tapir reasm`: both families (IPv6 has no protocol before completion) */
static void reasm_table(json_t *r, const char *arg)
{
	(void)arg;
	printf("%-24s %-24s %10s %5s %8s %s\n", "SRC", "DST", "ID", "PROTO", "HELD", "EXPIRES");
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(r, "datagrams"), i, e) {
		char proto[8] = "-";
		if (json_is_integer(json_object_get(e, "proto")))
			snprintf(proto, sizeof(proto), "%lld", cli_i(e, "proto"));
		printf("%-24s %-24s %10lld %5s %8lld %.1fs%s\n", cli_s(e, "src"), cli_s(e, "dst"),
		       cli_i(e, "id"), proto, cli_i(e, "bytes_held"), (double)cli_i(e, "expires_ms") / 1000,
		       json_is_true(json_object_get(e, "dead")) ? " dead" : "");
	}
}

int reasm_main(int argc, char **argv)
{
	static const char U[] = "tapir reasm NAME [--json]";
	if (cli_want_help(argc, argv, U,
			  "List the datagrams being reassembled, IPv4 and IPv6: addresses, fragment\n"
			  "ID, bytes held, time left; dead: killed by an overlap, its later fragments\n"
			  "dropped until it expires."))
		return 0;
	if (argc != 2)
		return cli_usage_err("reasm needs NAME", U);
	return cli_show(argv[1], "reasm", NULL, reasm_table, NULL);
}

/* traceroute's !N, !H, !X, !P ... for a Destination Unreachable that is not the end */
static const char *unreach_mark(json_t *r, json_t *hop)
{
	bool v6 = cli_i(r, "family") == 6;
	long long code = cli_i(hop, "icmp_code");
	if (json_is_true(json_object_get(hop, "reached")) ||
	    cli_i(hop, "icmp_type") != (v6 ? 1 : 3))
		return "";
	if (v6)  /* RFC 4443 3.1 */
		return code == 0 ? " !N" : code == 1 ? " !X" : code == 3 ? " !H" : " !U";
	/* RFC 792, RFC 1812 */
	return code == 0 ? " !N" : code == 1 ? " !H" : code == 2 ? " !P" : code == 4 ? " !F"
	       : code == 13 ? " !X" : " !U";
}

static int probe_main(int argc, char **argv, bool trace)
{
	const char *U = trace ? "tapir traceroute NAME ADDR [-m MAXHOPS] [-w MS] [--json]"
			      : "tapir ping NAME ADDR [-c COUNT] [-s SIZE] [-w MS] [--json]";
	if (cli_want_help(argc, argv, U,
			  trace ? "Trace the route to ADDR (IPv4 or IPv6) from inside the stack: UDP\n"
				  "probes to ports 33434 and up with TTL / hop limit 1, 2, ... MAXHOPS\n"
				  "(default 16), answered by ICMP / ICMPv6 Time Exceeded from each router\n"
				  "and Port Unreachable from ADDR.  -w: wait at most MS (default 2000)."
				: "Ping ADDR (IPv4 or IPv6) from inside the stack: COUNT (default 3, at most\n"
				  "32) ICMP / ICMPv6 echo requests of SIZE data bytes (default 56; up to\n"
				  "65507 over IPv4, 65519 over IPv6: sent as fragments above the path MTU).\n"
				  "-w: wait at most MS (default 2000).  No reply: exit 2."))
		return 0;
	if (argc < 3)
		return cli_usage_err("needs NAME and ADDR", U);
	json_t *args = json_pack("{s:s}", "addr", argv[2]);
	for (int i = 3; i < argc; i += 2) {
		const char *key = !strcmp(argv[i], "-c") && !trace ? "count" :
				  !strcmp(argv[i], "-s") && !trace ? "size" :
				  !strcmp(argv[i], "-m") && trace ? "max_hops" :
				  !strcmp(argv[i], "-w") ? "timeout_ms" : NULL;
		uint64_t v;
		if (!key || i + 1 == argc || cli_parse_u64(argv[i + 1], 100000, &v)) {
			json_decref(args);
			return cli_usage_err("bad option", U);
		}
		json_object_set_new(args, key, json_integer((json_int_t)v));
	}
	json_t *rep, *r = cli_call(argv[1], trace ? "traceroute" : "ping", args, &rep);
	if (!r) {
		json_decref(rep);
		return CLI_EXIT_RUNTIME;
	}
	bool json_out = cli_json_out();
	int code = 0;
	if (json_out)
		cli_print_json(r);
	size_t i;
	json_t *e;
	if (!trace) {
		if (!json_out) {
			json_array_foreach(json_object_get(r, "replies"), i, e) {
				if (json_is_null(json_object_get(e, "from")))
					printf("seq=%lld timeout\n", cli_i(e, "seq"));
				else
					printf("%lld bytes from %s: seq=%lld time=%.3f ms\n",
					       cli_i(e, "bytes"), cli_s(e, "from"), cli_i(e, "seq"),
					       (double)cli_i(e, "rtt_us") / 1000);
			}
			printf("%lld sent, %lld received\n", cli_i(r, "sent"), cli_i(r, "received"));
		}
		if (cli_i(r, "received") == 0)
			code = CLI_EXIT_RUNTIME;
	} else {
		if (!json_out)
			json_array_foreach(json_object_get(r, "hops"), i, e) {
				if (json_is_null(json_object_get(e, "from")))
					printf("%2lld  *\n", cli_i(e, "ttl"));
				else
					printf("%2lld  %s  %.3f ms%s\n", cli_i(e, "ttl"), cli_s(e, "from"),
					       (double)cli_i(e, "rtt_us") / 1000,
					       unreach_mark(r, e));
			}
		if (!json_is_true(json_object_get(r, "reached")))
			code = CLI_EXIT_RUNTIME;
	}
	json_decref(rep);
	return code;
}

int ping_main(int argc, char **argv)
{
	return probe_main(argc, argv, false);
}

int traceroute_main(int argc, char **argv)
{
	return probe_main(argc, argv, true);
}
