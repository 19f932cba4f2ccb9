/*
 * cmds.c - the tapir subcommands that move data through an instance: kv (its
 *          key-value stores), capture (pcap of its frames) and forward (the
 *          gateway's port forwards)
 */
#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "units.h"

int kv_main(int argc, char **argv)
{
	static const char U[] =
		"tapir kv NAME stores | ls [KEY] | get KEY | put KEY VALUE | rm KEY  [--store S] [--json]";
	if (cli_want_help(argc, argv, U,
	       "Read and change the instance's key-value stores ([kv.NAME]); --store picks one\n"
	       "(default: the first)."))
		return 0;
	const char *store = NULL;
	int n = 0;
	char *pos[5];
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--store")) {
			if (++i == argc)
				return cli_usage_err("--store needs a name", U);
			store = argv[i];
		} else if (n < 5) {
			pos[n++] = argv[i];
		} else {
			return cli_usage_err("too many arguments", U);
		}
	}
	if (n < 2)
		return cli_usage_err("kv needs NAME and an action", U);
	const char *act = pos[1];
	int want = !strcmp(act, "stores") ? 2 : !strcmp(act, "ls") ? -1 : !strcmp(act, "put") ? 4 :
		   (!strcmp(act, "get") || !strcmp(act, "rm")) ? 3 : 0;
	if (!want)
		return cli_usage_err("kv: expected stores, ls, get, put or rm", U);
	if ((want > 0 && n != want) || (want < 0 && n > 3))
		return cli_usage_err("kv: wrong number of arguments", U);
	json_t *args = json_pack("{s:s}", "action", act);
	if (store)
		json_object_set_new(args, "store", json_string(store));
	if (n >= 3)
		json_object_set_new(args, "key", json_string(pos[2]));
	if (n == 4)
		json_object_set_new(args, "value", json_string(pos[3]));
	json_t *rep, *r = cli_call(pos[0], "kv", args, &rep);
	if (!r) {
		json_decref(rep);
		return CLI_EXIT_RUNTIME;
	}
	if (cli_json_out()) {
		cli_print_json(r);
	} else if (!strcmp(act, "stores")) {
		size_t i;
		json_t *e;
		json_array_foreach(json_object_get(r, "stores"), i, e)
			printf("%s\n", json_string_value(e));
	} else if (!strcmp(act, "ls")) {
		size_t i;
		json_t *e;
		json_array_foreach(json_object_get(r, "entries"), i, e)
			printf("%s%s\n", cli_s(e, "name"), !strcmp(cli_s(e, "kind"), "dict") ? "/" : "");
	} else if (!strcmp(act, "get")) {
		json_t *v = json_object_get(r, "value");
		if (!json_is_string(v)) {
			fprintf(stderr, "tapir: the value is not text; use --json\n");
			json_decref(rep);
			return CLI_EXIT_RUNTIME;
		}
		fwrite(json_string_value(v), 1, json_string_length(v), stdout);
	}
	json_decref(rep);
	return 0;
}

/* Human form of a capture reply */
static void capture_table(json_t *r)
{
	static const struct {
		const char *end, *text;
	} ends[] = {
		{ "stop", "stopped" },
		{ "count", "count limit reached" },
		{ "size", "file full (no rotation)" },
		{ "error", "error" },
	};
	bool active = json_is_true(json_object_get(r, "active"));
	printf("%s %s: %lld frames, %lld bytes\n", active ? "capturing to" : "captured to",
	       cli_s(r, "file"), cli_i(r, "frames"), cli_i(r, "bytes"));
	printf("files %lld (%lld rotations", cli_i(r, "files"), cli_i(r, "rotations"));
	if (cli_i(r, "max_files"))
		printf(", keeping %lld", cli_i(r, "max_files"));
	printf("); current file %lld frames, %lld bytes\n", cli_i(r, "file_frames"),
	       cli_i(r, "file_bytes"));
	if (cli_i(r, "max_bytes"))
		printf("size limit %lld bytes per file", cli_i(r, "max_bytes"));
	else
		printf("size limit none");
	if (cli_i(r, "max_frames"))
		printf("; count limit %lld frames", cli_i(r, "max_frames"));
	else
		printf("; count limit none");
	printf("; snaplen %lld (%lld frames cut)\n", cli_i(r, "snaplen"), cli_i(r, "truncated"));
	const char *end = json_string_value(json_object_get(r, "end"));
	for (size_t i = 0; end && i < sizeof(ends) / sizeof(ends[0]); i++)
		if (!strcmp(end, ends[i].end))
			printf("ended: %s\n", ends[i].text);
	if (json_is_string(json_object_get(r, "error")))
		printf("error: %s\n", cli_s(r, "error"));
}

int capture_main(int argc, char **argv)
{
	static const char U[] = "tapir capture NAME start FILE [--count N] [--snaplen N] "
				"[--size BYTES [--files N]] | stop | status [--json]";
	if (cli_want_help(argc, argv, U,
	       "Record every frame the instance sends and receives (both directions, with\n"
	       "wall-clock timestamps) to a pcap FILE that opens in tcpdump/tshark.\n"
	       "\n"
	       "start FILE        FILE is made absolute from the current directory\n"
	       "  --count N       stop after N frames in all (over all files)\n"
	       "  --snaplen N     keep at most N bytes of each frame: 60 to 262144\n"
	       "                  (default 262144); frames keep their original length\n"
	       "  --size BYTES    limit each file to BYTES, headers included (suffixes K/k,\n"
	       "                  M, G: powers of 1024; --max-bytes is the same); a file\n"
	       "                  always takes at least one frame, frames are never split\n"
	       "  --files N       with --size: rotate instead of stopping when the file is\n"
	       "                  full, keeping N files (2 to 1000): FILE is the newest,\n"
	       "                  then FILE.1 ... FILE.(N-1), the oldest is replaced\n"
	       "                  (like tcpdump -C -W, logrotate)\n"
	       "Without --files the capture stops when the file is full.\n"
	       "stop              end the capture\n"
	       "status            frames and bytes (in all and in the current file),\n"
	       "                  files written and rotations, limits, snaplen, and why\n"
	       "                  the capture ended (stop, count, size or an error)"))
		return 0;
	if (argc < 3)
		return cli_usage_err("capture needs NAME and start, stop or status", U);
	const char *act = argv[2];
	json_t *args = json_pack("{s:s}", "action", act);
	if (!strcmp(act, "start")) {
		if (argc < 4)
			return json_decref(args), cli_usage_err("capture start needs FILE", U);
		char *abs = realpath(".", NULL);
		char file[4096];
		if (argv[3][0] == '/' || !abs)
			snprintf(file, sizeof(file), "%s", argv[3]);
		else
			snprintf(file, sizeof(file), "%s/%s", abs, argv[3]);
		free(abs);
		json_object_set_new(args, "file", json_string(file));
		for (int i = 4; i < argc; i += 2) {
			const char *o = argv[i];
			bool size = !strcmp(o, "--size") || !strcmp(o, "--max-bytes");
			const char *key = !strcmp(o, "--count") ? "count" :
					  !strcmp(o, "--snaplen") ? "snaplen" :
					  !strcmp(o, "--files") ? "files" :
					  size ? "max_bytes" : NULL;
			uint64_t v;
			if (!key || i + 1 == argc) {
				json_decref(args);
				return cli_usage_err("capture start: bad option", U);
			}
			if (size ? units_parse_size(argv[i + 1], &v) || v > (UINT64_MAX >> 1)
				 : cli_parse_u64(argv[i + 1], UINT32_MAX, &v) != 0) {
				fprintf(stderr, "tapir: capture start: %s: '%s' is not %s\n", o,
					argv[i + 1], size ? "a size (e.g. 20000, 64K, 10M)" : "a number");
				json_decref(args);
				return cli_usage_err("capture start: bad option", U);
			}
			json_object_set_new(args, key, json_integer((json_int_t)v));
		}
	} else if ((strcmp(act, "stop") && strcmp(act, "status")) || argc != 3) {
		json_decref(args);
		return cli_usage_err("capture: expected start FILE, stop or status", U);
	}
	json_t *rep, *r = cli_call(argv[1], "capture", args, &rep);
	if (!r) {
		json_decref(rep);
		return CLI_EXIT_RUNTIME;
	}
	if (cli_json_out())
		cli_print_json(r);
	else
		capture_table(r);
	json_decref(rep);
	return 0;
}

/* The human table of `tapir forward NAME ls` */
static void forward_table(json_t *r, const char *arg)
{
	(void)arg;
	printf("%-5s %-21s %-21s %-7s %6s %7s %7s %12s %12s\n", "PROTO", "HOST", "NAMESPACE",
	       "ORIGIN", "ACTIVE", "TOTAL", "REFUSED", "BYTES_IN", "BYTES_OUT");
	size_t i;
	json_t *e;
	json_array_foreach(json_object_get(r, "forwards"), i, e) {
		/* A line per binding (IPv4, IPv6), the counters (both's) on the first */
		size_t j;
		json_t *b;
		json_array_foreach(json_object_get(e, "bindings"), j, b) {
			char h[64], n[64];
			bool v6 = !strcmp(cli_s(b, "family"), "ipv6");
			snprintf(h, sizeof(h), v6 ? "[%s]:%lld" : "%s:%lld", cli_s(b, "host_address"),
				 cli_i(e, "host_port"));
			snprintf(n, sizeof(n), v6 ? "[%s]:%lld" : "%s:%lld", cli_s(b, "ns_address"),
				 cli_i(e, "ns_port"));
			if (j)
				printf("%-5s %-21s %-21s\n", "", h, n);
			else
				printf("%-5s %-21s %-21s %-7s %6lld %7lld %7lld %12lld %12lld\n",
				       cli_s(e, "proto"), h, n, cli_s(e, "origin"), cli_i(e, "active"),
				       cli_i(e, "total"), cli_i(e, "refused"), cli_i(e, "bytes_in"),
				       cli_i(e, "bytes_out"));
		}
	}
}

static void forward_done(json_t *r, const char *arg)
{
	(void)r;
	printf("%s\n", arg);
}

int forward_main(int argc, char **argv)
{
	static const char U[] = "tapir forward NAME ls | add tcp|udp HOSTPORT [NSPORT] | "
				"rm tcp|udp HOSTPORT  [--json]";
	if (cli_want_help(argc, argv, U,
	       "List, add or remove the gateway's port forwards: HOSTPORT on the host\n"
	       "([gateway] forward_address: 127.0.0.1 and ::1) to NSPORT (default HOSTPORT)\n"
	       "of the namespace's kernel-side address of the same family.\n"
	       "Needs [gateway] enabled = true."))
		return 0;
	if (argc < 2)
		return cli_usage_err("forward needs NAME", U);
	if (argc == 2 || (argc == 3 && !strcmp(argv[2], "ls")))
		return cli_show(argv[1], "forward", json_pack("{s:s}", "action", "ls"), forward_table,
			    NULL);
	bool add = !strcmp(argv[2], "add"), rm = !strcmp(argv[2], "rm");
	if ((!add && !rm) || argc < 5 || argc > (add ? 6 : 5))
		return cli_usage_err("forward needs ls, add tcp|udp HOSTPORT [NSPORT] or "
				 "rm tcp|udp HOSTPORT", U);
	if (strcmp(argv[3], "tcp") && strcmp(argv[3], "udp"))
		return cli_usage_err("the protocol is tcp or udp", U);
	uint64_t hp, np;
	if (cli_parse_u64(argv[4], 65535, &hp) || hp == 0 ||
	    (argc == 6 && (cli_parse_u64(argv[5], 65535, &np) || np == 0)))
		return cli_usage_err("ports are 1 to 65535", U);
	if (argc != 6)
		np = hp;
	json_t *args = json_pack("{s:s,s:s,s:I}", "action", argv[2], "proto", argv[3], "host_port",
				 (json_int_t)hp);
	if (add)
		json_object_set_new(args, "ns_port", json_integer((json_int_t)np));
	char msg[96];
	if (add)
		snprintf(msg, sizeof(msg), "%s/%llu -> namespace port %llu", argv[3],
			 (unsigned long long)hp, (unsigned long long)np);
	else
		snprintf(msg, sizeof(msg), "%s/%llu removed", argv[3], (unsigned long long)hp);
	return cli_show(argv[1], "forward", args, forward_done, msg);
}
