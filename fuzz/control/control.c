/*
 * fuzz/control/control.c - tapird's control protocol dispatcher on arbitrary bytes
 *
 * The input is split at '\n'; each piece is a request line for
 * control_handle() (a piece starting with 0xff is a received frame for
 * control_rx_frame() instead), with the clock advancing 100 ms per piece so
 * that deferred pings and traceroutes time out.  The stack under it writes
 * into a sink; the instance has one writable mem: store.  Checks: every
 * reply is one JSON object on one line with "v": 1 and a boolean "ok", and
 * nothing leaks (ASan).
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control.h"
#include "tapir/dns.h"
#include "tapir/dhcp.h"
#include "tapir/kv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort(); } while (0)

static uint8_t sink[65536 + 14];

static size_t sink_mtu(void *dev) { return 1500; }
static void sink_mac(void *dev, uint8_t mac[6])
{
	static const uint8_t m[6] = { 2, 0, 0, 0, 0, 2 };
	memcpy(mac, m, 6);
}
static int sink_write(void *dev, size_t size, tapir_netif_fill_fn fill, void *ctx)
{
	if (size > sizeof(sink))
		return -90;
	fill(sink, size, ctx);
	return 0;
}
static const struct tapir_netif_ops sink_ops = { sink_mtu, sink_mac, sink_write, NULL };

static void rnd(void *ctx, void *buf, size_t len)
{
	memset(buf, 0x5a, len);
}

static void check_reply(const char *r, size_t len)
{
	CHECK(r && len >= 2 && r[len - 1] == '\n' && strlen(r) == len);
	CHECK(!memchr(r, '\n', len - 1));
	json_t *o = json_loadb(r, len, 0, NULL);
	CHECK(json_is_object(o));
	CHECK(json_integer_value(json_object_get(o, "v")) == 1);
	CHECK(json_is_boolean(json_object_get(o, "ok")));
	json_decref(o);
}

static void deliver(void *ctx, uint64_t client, char *reply, size_t len)
{
	check_reply(reply, len);
	free(reply);
}

static void shutdown_cb(void *ctx) {}

/* The gateway's forwards, as a table of proto/host port: what the
 * dispatcher hands the runtime must be in range */
static int forward_cb(void *ctx, const char *action, uint8_t proto, uint16_t host_port,
		      uint16_t ns_port, void *json_result, char *err, size_t errlen)
{
	static uint32_t table[8];
	if (!strcmp(action, "ls")) {
		json_object_set_new(json_result, "forwards", json_array());
		return 0;
	}
	CHECK(proto == 6 || proto == 17);
	CHECK(host_port != 0);
	uint32_t key = (uint32_t)proto << 16 | host_port;
	for (int i = 0; i < 8; i++)
		if (table[i] == key) {
			if (!strcmp(action, "rm"))
				table[i] = 0;
			return strcmp(action, "rm") ? -17 : 0;  /* EEXIST */
		}
	if (!strcmp(action, "rm"))
		return -2;  /* ENOENT */
	CHECK(!strcmp(action, "add") && ns_port != 0);
	for (int i = 0; i < 8; i++)
		if (!table[i]) {
			table[i] = key;
			return 0;
		}
	snprintf(err, errlen, "full");
	return -28;  /* ENOSPC */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static FILE *devnull;
	if (!devnull)
		devnull = fopen("/dev/null", "w");
	struct tapir_stack_config sc;
	tapir_stack_config_defaults(&sc);
	sc.addr = 0xc0000202;  /* 192.0.2.2/24 */
	sc.gateway = 0xc0000201;
	sc.random = rnd;
	struct tapir_netif nif = { &sink_ops, NULL };
	struct tapir_stack *st;
	uint64_t now = 1000000000ull;
	/* An input that starts with '#' runs a stack without an address and
	 * its DHCP client (the dhcp command, status's dhcp object) */
	bool dhcp = size && data[0] == '#';
	if (dhcp)
		sc.addr = sc.gateway = 0;
	/* IPv6: 2001:db8::2/64, router 2001:db8::1 (ping, traceroute, route, reasm) */
	static const uint8_t a6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
	sc.ipv6.enabled = true;
	sc.ipv6.dad = false;
	memcpy(sc.ipv6.addrs[0].addr, a6, 16);
	sc.ipv6.addrs[0].prefix_len = 64;
	sc.ipv6.naddrs = 1;
	memcpy(sc.ipv6.gateway, a6, 16);
	sc.ipv6.gateway[15] = 1;
	sc.ipv6.gateway_set = true;
	CHECK(tapir_stack_new(&st, &sc, &nif, now) == 0);
	if (dhcp)
		CHECK(tapir_dhcp_start(st, &(struct tapir_dhcp_config){ .hostname = "f" }, now) == 0);
	struct tapir_kv_store *kv;
	CHECK(tapir_kv_open("mem:", true, &kv, NULL, 0) == 0);
	struct control_kv kvs[1] = { { "data", kv } };
	struct tapir_logger log;
	tapir_logger_init(&log, TAPIR_LOG_LEVEL_INFO, false);
	log.out = devnull;
	/* a resolver with a static host and a server that never answers */
	struct tapir_dns *dns;
	struct tapir_addr srv = tapir_addr_v4(0xc0000201), h = tapir_addr_v4(0xc0000207);
	CHECK(tapir_dns_new(&dns, st, NULL) == 0);
	CHECK(tapir_dns_set_servers(dns, TAPIR_DNS_SRC_CONFIG, &srv, 1) == 0);
	CHECK(tapir_dns_add_host(dns, "db.test", &h) == 0);
	struct control_env env = {
		.st = st, .log = &log, .name = "fuzz", .version = "0", .backend = "sink",
		.ifname = "sink0", .mtu = 1500, .prefix_len = 24, .gateway = sc.gateway,
		.started = now, .pid = 1, .cap = NULL, .kv = kvs, .nkv = 1,
		.deliver = deliver, .shutdown = shutdown_cb, .dns = dns,
		.gateway_on = size & 1, .forward = (size & 1) ? forward_cb : NULL,
	};
	struct control *c = control_new(&env);
	CHECK(c);
	size_t start = 0;
	uint64_t client = 1;
	for (size_t i = 0; i <= size; i++) {
		if (i < size && data[i] != '\n')
			continue;
		const char *line = (const char *)data + start;
		size_t len = i - start;
		start = i + 1;
		now += 100000000ull;
		if (len && (uint8_t)line[0] == 0xff) {
			control_rx_frame(c, (const uint8_t *)line + 1, len - 1, now);
		} else {
			size_t rlen = 0;
			char *r = control_handle(c, client, line, len, now, &rlen);
			if (r)
				check_reply(r, rlen);
			free(r);
			if (len && line[0] == 'x')
				control_client_gone(c, client++);
		}
		control_poll(c, now);
		tapir_stack_poll(st, now);
		tapir_dns_poll(dns, now);
	}
	control_free(c);
	tapir_dns_free(dns);
	tapir_stack_free(st);
	tapir_kv_close(kv);
	return 0;
}
