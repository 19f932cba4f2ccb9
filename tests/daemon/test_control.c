/*
 * test_control.c - the control protocol's dispatcher without sockets:
 * envelope and errors, status, kv, arp flush, deferred ping (timeout) and
 * traceroute (an ICMP error frame completes it), client gone; over IPv6:
 * echo replies matched by identifier, sequence and source, traceroute
 * answered by ICMPv6 Time Exceeded and Port Unreachable
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <jansson.h>

#include "control.h"
#include "tapir/ipv6.h"
#include "tapir/kv.h"
#include "wire/bytes.h"
#include "wire/icmpv6.h"

static uint8_t sink[70000];
static unsigned frames_out;

static size_t sink_mtu(void *dev) { return 1500; }
static void sink_mac(void *dev, uint8_t mac[6])
{
	static const uint8_t m[6] = { 2, 0, 0, 0, 0, 2 };
	memcpy(mac, m, 6);
}
static int sink_write(void *dev, size_t size, tapir_netif_fill_fn fill, void *ctx)
{
	fill(sink, size, ctx);
	frames_out++;
	return 0;
}
static const struct tapir_netif_ops sink_ops = { sink_mtu, sink_mac, sink_write, NULL };
static void rnd(void *ctx, void *buf, size_t len) { memset(buf, 7, len); }

struct fx {
	struct tapir_stack *st;
	struct tapir_kv_store *kv;
	struct control_kv kvs[1];
	struct tapir_logger log;
	struct control *c;
	json_t *delivered;
	uint64_t delivered_to;
	bool shutdown;
};

static void deliver(void *ctx, uint64_t client, char *reply, size_t len)
{
	struct fx *f = ctx;
	json_decref(f->delivered);
	f->delivered = json_loadb(reply, len, 0, NULL);
	f->delivered_to = client;
	free(reply);
}

static void on_shutdown(void *ctx) { ((struct fx *)ctx)->shutdown = true; }

static bool with_ipv6;

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct tapir_stack_config sc;
	tapir_stack_config_defaults(&sc);
	sc.addr = 0xc0000202;
	sc.gateway = 0xc0000201;
	sc.random = rnd;
	if (with_ipv6) {  /* 2001:db8::2/64, router 2001:db8::1 */
		static const uint8_t us[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
		sc.ipv6.enabled = true;
		sc.ipv6.dad = false;
		sc.ipv6.slaac = false;
		memcpy(sc.ipv6.addrs[0].addr, us, 16);
		sc.ipv6.addrs[0].prefix_len = 64;
		sc.ipv6.naddrs = 1;
		memcpy(sc.ipv6.gateway, us, 16);
		sc.ipv6.gateway[15] = 1;
		sc.ipv6.gateway_set = true;
	}
	struct tapir_netif nif = { &sink_ops, NULL };
	assert_int_equal(tapir_stack_new(&f->st, &sc, &nif, 1000000000ull), 0);
	assert_int_equal(tapir_kv_open("mem:", true, &f->kv, NULL, 0), 0);
	f->kvs[0] = (struct control_kv){ "data", f->kv };
	tapir_logger_init(&f->log, TAPIR_LOG_LEVEL_INFO, false);
	f->log.out = fopen("/dev/null", "w");
	struct control_env env = {
		.st = f->st, .log = &f->log, .name = "t", .version = "9", .backend = "sink",
		.ifname = "s0", .mtu = 1500, .prefix_len = 24, .gateway = sc.gateway,
		.started = 1000000000ull, .pid = 42, .kv = f->kvs, .nkv = 1, .ctx = f,
		.deliver = deliver, .shutdown = on_shutdown,
	};
	f->c = control_new(&env);
	assert_non_null(f->c);
	tapir_stack_start(f->st, 1000000000ull);
	*state = f;
	return 0;
}

static int setup6(void **state)
{
	with_ipv6 = true;
	int rc = setup(state);
	with_ipv6 = false;
	return rc;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	control_free(f->c);
	tapir_stack_free(f->st);
	tapir_kv_close(f->kv);
	fclose(f->log.out);
	json_decref(f->delivered);
	free(f);
	return 0;
}

/* Send @req, return the parsed reply (NULL when deferred) */
static json_t *req(struct fx *f, const char *r, uint64_t now)
{
	size_t len = 0;
	char *out = control_handle(f->c, 1, r, strlen(r), now, &len);
	if (!out)
		return NULL;
	assert_true(len > 0 && out[len - 1] == '\n');
	json_t *j = json_loadb(out, len, 0, NULL);
	free(out);
	assert_non_null(j);
	assert_int_equal(json_integer_value(json_object_get(j, "v")), 1);
	return j;
}

static const char *err_code(json_t *j)
{
	assert_true(json_is_false(json_object_get(j, "ok")));
	return json_string_value(json_object_get(json_object_get(j, "error"), "code"));
}

static void test_errors(void **state)
{
	struct fx *f = *state;
	const struct { const char *r, *code; } cases[] = {
		{ "{\"cmd\":", "EBADMSG" }, { "[]", "EBADMSG" }, { "", "EBADMSG" },
		{ "{}", "EINVAL" }, { "{\"cmd\":5}", "EINVAL" },
		{ "{\"cmd\":\"frob\"}", "ENOSYS" }, { "{\"v\":2,\"cmd\":\"status\"}", "EPROTONOSUPPORT" },
		{ "{\"cmd\":\"arp\",\"args\":[]}", "EINVAL" },
		{ "{\"cmd\":\"arp\",\"args\":{\"action\":\"x\"}}", "EINVAL" },
		{ "{\"cmd\":\"ping\",\"args\":{}}", "EINVAL" },
		{ "{\"cmd\":\"ping\",\"args\":{\"addr\":\"1.2.3\"}}", "EINVAL" },
		{ "{\"cmd\":\"ping\",\"args\":{\"addr\":\"192.0.2.1\",\"count\":0}}", "EINVAL" },
		{ "{\"cmd\":\"capture\",\"args\":{\"action\":\"start\"}}", "ENOTSUP" },
		{ "{\"cmd\":\"log\",\"args\":{\"level\":\"loud\"}}", "EINVAL" },
		{ "{\"cmd\":\"kv\",\"args\":{\"action\":\"get\",\"key\":\"nope\"}}", "ENOENT" },
		{ "{\"cmd\":\"kv\",\"args\":{\"action\":\"ls\",\"store\":\"x\"}}", "ENOENT" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *j = req(f, cases[i].r, 2000000000ull);
		assert_string_equal(err_code(j), cases[i].code);
		json_decref(j);
	}
	/* The id comes back, whatever its type */
	json_t *j = req(f, "{\"id\":[1,\"a\"],\"cmd\":\"frob\"}", 0);
	assert_int_equal(json_array_size(json_object_get(j, "id")), 2);
	json_decref(j);
	size_t len;
	char *big = malloc(CONTROL_MAX_LINE + 2);
	memset(big, ' ', CONTROL_MAX_LINE + 1);
	char *out = control_handle(f->c, 1, big, CONTROL_MAX_LINE + 1, 0, &len);
	assert_non_null(strstr(out, "EMSGSIZE"));
	free(out);
	free(big);
}

static void test_status_and_log(void **state)
{
	struct fx *f = *state;
	json_t *j = req(f, "{\"v\":1,\"id\":3,\"cmd\":\"status\"}", 3500000000ull);
	assert_true(json_is_true(json_object_get(j, "ok")));
	assert_int_equal(json_integer_value(json_object_get(j, "id")), 3);
	json_t *r = json_object_get(j, "result");
	assert_string_equal(json_string_value(json_object_get(r, "address")), "192.0.2.2");
	assert_string_equal(json_string_value(json_object_get(r, "gateway")), "192.0.2.1");
	assert_string_equal(json_string_value(json_object_get(r, "mac")), "02:00:00:00:00:02");
	assert_int_equal(json_integer_value(json_object_get(r, "uptime_ms")), 2500);
	assert_int_equal(json_integer_value(json_object_get(r, "pid")), 42);
	json_decref(j);
	j = req(f, "{\"cmd\":\"log\",\"args\":{\"level\":\"debug\"}}", 0);
	assert_int_equal(f->log.level, TAPIR_LOG_LEVEL_DEBUG);
	json_decref(j);
	j = req(f, "{\"cmd\":\"stats\"}", 0);
	assert_true(json_is_integer(json_object_get(json_object_get(json_object_get(j, "result"),
								    "eth"), "rx")));
	json_decref(j);
	j = req(f, "{\"cmd\":\"shutdown\"}", 0);
	assert_true(f->shutdown);
	json_decref(j);
}

static void test_kv(void **state)
{
	struct fx *f = *state;
	json_decref(req(f, "{\"cmd\":\"kv\",\"args\":{\"action\":\"put\",\"key\":\"a/b\","
			   "\"value\":\"hi\"}}", 0));
	json_t *j = req(f, "{\"cmd\":\"kv\",\"args\":{\"action\":\"get\",\"key\":\"a/b\"}}", 0);
	assert_string_equal(json_string_value(json_object_get(json_object_get(j, "result"),
							      "value")), "hi");
	json_decref(j);
	json_decref(req(f, "{\"cmd\":\"kv\",\"args\":{\"action\":\"rm\",\"key\":\"a/b\"}}", 0));
	j = req(f, "{\"cmd\":\"kv\",\"args\":{\"action\":\"get\",\"key\":\"a/b\"}}", 0);
	assert_string_equal(err_code(j), "ENOENT");
	json_decref(j);
}

/* metrics: every counter of stats once, named by the rule, with HELP and
 * TYPE before its family; the gauges; the OpenMetrics dialect; bad format */
static void test_metrics(void **state)
{
	struct fx *f = *state;
	json_t *j = req(f, "{\"cmd\":\"metrics\"}", 3000000000ull);
	json_t *r = json_object_get(j, "result");
	const char *t = json_string_value(json_object_get(r, "text"));
	assert_non_null(t);
	assert_string_equal(json_string_value(json_object_get(r, "content_type")),
			    "text/plain; version=0.0.4; charset=utf-8");
	assert_non_null(strstr(t, "# HELP tapir_rx_total "));
	assert_non_null(strstr(t, "# TYPE tapir_rx_total counter\n"
				  "tapir_rx_total{instance=\"t\",layer=\"eth\"} 0\n"));
	assert_non_null(strstr(t, "# TYPE tapir_drops_total counter\n"));
	assert_non_null(strstr(t, "tapir_drops_total{instance=\"t\",layer=\"tcp\","
				  "reason=\"no_listener\"} 0\n"));
	assert_non_null(strstr(t, "# TYPE tapir_tcp_flows gauge\n"
				  "tapir_tcp_flows{instance=\"t\",layer=\"tcp\"} 0\n"));
	assert_non_null(strstr(t, "tapir_uptime_seconds{instance=\"t\"} 2.000\n"));
	assert_non_null(strstr(t, "tapir_build_info{instance=\"t\",version=\"9\"} 1\n"));
	assert_null(strstr(t, "# EOF"));
	/* one sample per counter: as many _total samples as counters */
	size_t n = 0;
	for (const char *p = t; (p = strstr(p, "_total{")); p++)
		n++;
	assert_int_equal(n, TAPIR_CTR__COUNT);
	/* the samples of a family follow its TYPE line, all of them */
	const char *second = strstr(strstr(t, "tapir_drops_total{") + 1, "# TYPE tapir_drops_total");
	assert_null(second);
	json_decref(j);

	j = req(f, "{\"cmd\":\"metrics\",\"args\":{\"format\":\"openmetrics\"}}", 0);
	t = json_string_value(json_object_get(json_object_get(j, "result"), "text"));
	assert_non_null(strstr(t, "# TYPE tapir_rx counter\ntapir_rx_total{"));
	assert_true(strlen(t) > 6 && !strcmp(t + strlen(t) - 6, "# EOF\n"));
	json_decref(j);
	j = req(f, "{\"cmd\":\"metrics\",\"args\":{\"format\":\"xml\"}}", 0);
	assert_string_equal(err_code(j), "EINVAL");
	json_decref(j);
}

static void test_ping_times_out(void **state)
{
	struct fx *f = *state;
	unsigned before = frames_out;
	assert_null(req(f, "{\"id\":5,\"cmd\":\"ping\",\"args\":{\"addr\":\"192.0.2.1\","
			   "\"count\":2,\"timeout_ms\":500}}", 1000000000ull));
	tapir_stack_flush(f->st);
	assert_true(frames_out > before);  /* the ARP request for 192.0.2.1 */
	assert_int_equal(control_next_deadline(f->c), 1500000000ull);
	control_poll(f->c, 1499999999ull);
	assert_null(f->delivered);
	control_poll(f->c, 1500000000ull);
	assert_non_null(f->delivered);
	assert_int_equal(json_integer_value(json_object_get(f->delivered, "id")), 5);
	json_t *r = json_object_get(f->delivered, "result");
	assert_int_equal(json_integer_value(json_object_get(r, "sent")), 2);
	assert_int_equal(json_integer_value(json_object_get(r, "received")), 0);
	assert_int_equal(control_next_deadline(f->c), UINT64_MAX);
}

static size_t put_ip(uint8_t *p, const uint8_t src[4], const uint8_t dst[4], uint8_t proto,
		     uint8_t ttl, size_t payload)
{
	memset(p, 0, 20);
	p[0] = 0x45;
	p[2] = (uint8_t)((20 + payload) >> 8);
	p[3] = (uint8_t)(20 + payload);
	p[8] = ttl;
	p[9] = proto;
	memcpy(p + 12, src, 4);
	memcpy(p + 16, dst, 4);
	return 20;
}

static void test_traceroute_completes_on_icmp(void **state)
{
	struct fx *f = *state;
	assert_null(req(f, "{\"cmd\":\"traceroute\",\"args\":{\"addr\":\"198.51.100.1\","
			   "\"max_hops\":3}}", 1000000000ull));
	/* Which source port did it use?  The first probe is in the pending ARP queue;
	 * the control module numbers its traceroutes from 49153. */
	static const uint8_t us[4] = { 192, 0, 2, 2 }, gw[4] = { 192, 0, 2, 1 },
			     far[4] = { 198, 51, 100, 1 };
	for (int hop = 1; hop <= 2; hop++) {
		uint8_t fr[14 + 20 + 8 + 20 + 8] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 8, 0 };
		uint8_t *ip = fr + 14;
		put_ip(ip, hop == 1 ? gw : far, us, 1, 64, 8 + 28);
		uint8_t *icmp = ip + 20;
		icmp[0] = hop == 1 ? 11 : 3;
		icmp[1] = hop == 1 ? 0 : 3;
		uint8_t *q = icmp + 8;
		put_ip(q, us, far, 17, 1, 8 + 32);
		q[20] = 49153 >> 8;
		q[21] = 49153 & 255;
		q[22] = (uint8_t)((33434 + hop - 1) >> 8);
		q[23] = (uint8_t)(33434 + hop - 1);
		control_rx_frame(f->c, fr, sizeof(fr), 1000000000ull + (uint64_t)hop * 1000000);
		if (hop == 1)
			assert_null(f->delivered);
	}
	assert_non_null(f->delivered);
	json_t *r = json_object_get(f->delivered, "result");
	assert_true(json_is_true(json_object_get(r, "reached")));
	json_t *hops = json_object_get(r, "hops");
	assert_int_equal(json_array_size(hops), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(hops, 0), "from")),
			    "192.0.2.1");
	assert_int_equal(json_integer_value(json_object_get(json_array_get(hops, 0), "rtt_us")),
			 1000);
	assert_string_equal(json_string_value(json_object_get(json_array_get(hops, 1), "from")),
			    "198.51.100.1");
}

static void test_client_gone_drops_op(void **state)
{
	struct fx *f = *state;
	assert_null(req(f, "{\"cmd\":\"ping\",\"args\":{\"addr\":\"192.0.2.1\"}}", 0));
	control_client_gone(f->c, 1);
	assert_int_equal(control_next_deadline(f->c), UINT64_MAX);
	control_poll(f->c, UINT64_MAX - 1);
	assert_null(f->delivered);
}

static const uint8_t us6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };
static const uint8_t rtr6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t far6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 1 };

/* An Ethernet frame to us with an IPv6 header from @src and ICMPv6 @msg (checksum set) */
static size_t frame6(uint8_t *fr, const uint8_t src[16], const uint8_t dst[16], uint8_t *msg,
		     size_t len)
{
	static const uint8_t eth[14] = { 2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x86, 0xdd };
	memcpy(fr, eth, 14);
	uint8_t *ip = fr + 14;
	memset(ip, 0, 40);
	ip[0] = 0x60;
	put_be16(ip + 4, (uint16_t)len);
	ip[6] = 58;
	ip[7] = 64;
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, dst, 16);
	icmpv6_set_csum(src, dst, msg, len);
	memcpy(ip + 40, msg, len);
	return 14 + 40 + len;
}

static void echo_reply6(struct fx *f, const uint8_t src[16], uint16_t id, uint16_t seq,
			uint64_t now)
{
	uint8_t msg[8 + 56], fr[14 + 40 + sizeof(msg)];
	memset(msg, 0, sizeof(msg));
	msg[0] = 129;
	put_be16(msg + 4, id);
	put_be16(msg + 6, seq);
	for (size_t i = 0; i < 56; i++)
		msg[8 + i] = (uint8_t)i;
	tapir_stack_input(f->st, fr, frame6(fr, src, us6, msg, sizeof(msg)), 0, now);
}

static void test_ping6_matches_replies(void **state)
{
	struct fx *f = *state;
	uint64_t t0 = 2000000000ull;
	assert_null(req(f, "{\"id\":7,\"cmd\":\"ping\",\"args\":{\"addr\":\"2001:db8::1\","
			   "\"count\":2}}", t0));
	/* identifier 1 (the first operation), sequences 1 and 2 */
	echo_reply6(f, far6, 1, 1, t0 + 1000);       /* another source */
	echo_reply6(f, rtr6, 2, 1, t0 + 1000);       /* another identifier */
	echo_reply6(f, rtr6, 1, 3, t0 + 1000);       /* a sequence never sent */
	echo_reply6(f, rtr6, 1, 1, t0 + 3000000);    /* this one */
	echo_reply6(f, rtr6, 1, 1, t0 + 4000000);    /* its duplicate */
	assert_null(f->delivered);
	echo_reply6(f, rtr6, 1, 2, t0 + 5000000);
	assert_non_null(f->delivered);
	json_t *r = json_object_get(f->delivered, "result");
	assert_string_equal(json_string_value(json_object_get(r, "addr")), "2001:db8::1");
	assert_int_equal(json_integer_value(json_object_get(r, "family")), 6);
	assert_int_equal(json_integer_value(json_object_get(r, "received")), 2);
	json_t *p = json_array_get(json_object_get(r, "replies"), 0);
	assert_string_equal(json_string_value(json_object_get(p, "from")), "2001:db8::1");
	assert_int_equal(json_integer_value(json_object_get(p, "rtt_us")), 3000);
	assert_int_equal(json_integer_value(json_object_get(p, "bytes")), 64);
	p = json_array_get(json_object_get(r, "replies"), 1);
	assert_int_equal(json_integer_value(json_object_get(p, "rtt_us")), 5000);
	uint64_t v[TAPIR_CTR__COUNT];
	tapir_stack_stats(f->st, v);
	assert_int_equal(v[TAPIR_CTR_ICMPV6_ECHO_REPLIES_RX], 6);
	assert_int_equal(control_next_deadline(f->c), UINT64_MAX);
}

static void test_ping6_bad_args(void **state)
{
	struct fx *f = *state;
	static const char *const bad[] = {
		"{\"cmd\":\"ping\",\"args\":{\"addr\":\"ff02::1\"}}",
		"{\"cmd\":\"ping\",\"args\":{\"addr\":\"::\"}}",
		"{\"cmd\":\"ping\",\"args\":{\"addr\":\"::ffff:192.0.2.1\"}}",
		"{\"cmd\":\"ping\",\"args\":{\"addr\":\"2001:db8::1\",\"size\":65520}}",
		"{\"cmd\":\"ping\",\"args\":{\"addr\":\"192.0.2.1\",\"size\":65508}}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_t *j = req(f, bad[i], 0);
		assert_non_null(j);
		assert_string_equal(err_code(j), "EINVAL");
		json_decref(j);
	}
	/* the largest sizes are accepted (and sent as fragments) */
	unsigned before = frames_out;
	assert_null(req(f, "{\"cmd\":\"ping\",\"args\":{\"addr\":\"2001:db8::1\",\"size\":65519,"
			   "\"count\":1}}", 0));
	assert_null(req(f, "{\"cmd\":\"ping\",\"args\":{\"addr\":\"192.0.2.1\",\"size\":65507,"
			   "\"count\":1}}", 0));
	tapir_stack_flush(f->st);
	assert_true(frames_out > before);
}

/* ICMPv6 @type/@code from @from quoting our UDP probe @sport -> @dport to far6 */
static void trace_answer6(struct fx *f, const uint8_t from[16], uint8_t type, uint8_t code,
			  uint16_t sport, uint16_t dport, uint64_t now)
{
	uint8_t msg[8 + 40 + 8 + 32], fr[14 + 40 + sizeof(msg)];
	memset(msg, 0, sizeof(msg));
	msg[0] = type;
	msg[1] = code;
	uint8_t *q = msg + 8;
	q[0] = 0x60;
	put_be16(q + 4, 8 + 32);
	q[6] = 17;
	q[7] = 1;
	memcpy(q + 8, us6, 16);
	memcpy(q + 24, far6, 16);
	put_be16(q + 40, sport);
	put_be16(q + 42, dport);
	size_t n = frame6(fr, from, us6, msg, sizeof(msg));
	control_rx_frame(f->c, fr, n, now);
}

static void test_traceroute6(void **state)
{
	struct fx *f = *state;
	uint64_t t0 = 2000000000ull;
	assert_null(req(f, "{\"cmd\":\"traceroute\",\"args\":{\"addr\":\"2001:db8:1::1\","
			   "\"max_hops\":4}}", t0));
	/* source port 49153 (the first traceroute), ports 33434 + hop - 1 */
	trace_answer6(f, rtr6, 3, 0, 49154, 33434, t0 + 1000000);  /* another traceroute's */
	trace_answer6(f, rtr6, 2, 0, 49153, 33434, t0 + 1000000);  /* not an answer */
	trace_answer6(f, rtr6, 3, 0, 49153, 33434, t0 + 1000000);
	assert_null(f->delivered);
	trace_answer6(f, far6, 1, 4, 49153, 33435, t0 + 2000000);
	assert_non_null(f->delivered);
	json_t *r = json_object_get(f->delivered, "result");
	assert_true(json_is_true(json_object_get(r, "reached")));
	json_t *hops = json_object_get(r, "hops");
	assert_int_equal(json_array_size(hops), 2);
	json_t *h = json_array_get(hops, 0);
	assert_string_equal(json_string_value(json_object_get(h, "from")), "2001:db8::1");
	assert_int_equal(json_integer_value(json_object_get(h, "icmp_type")), 3);
	assert_int_equal(json_integer_value(json_object_get(h, "rtt_us")), 1000);
	h = json_array_get(hops, 1);
	assert_string_equal(json_string_value(json_object_get(h, "from")), "2001:db8:1::1");
	assert_int_equal(json_integer_value(json_object_get(h, "icmp_code")), 4);
	assert_true(json_is_true(json_object_get(h, "reached")));
}

/* A frame whose ICMPv6 checksum is wrong answers nothing */
static void test_traceroute6_bad_checksum(void **state)
{
	struct fx *f = *state;
	assert_null(req(f, "{\"cmd\":\"traceroute\",\"args\":{\"addr\":\"2001:db8:1::1\","
			   "\"max_hops\":1,\"timeout_ms\":100}}", 0));
	uint8_t msg[8 + 40 + 8], fr[14 + 40 + sizeof(msg)];
	memset(msg, 0, sizeof(msg));
	msg[0] = 1;
	msg[1] = 4;
	msg[8] = 0x60;
	msg[8 + 6] = 17;
	memcpy(msg + 8 + 8, us6, 16);
	memcpy(msg + 8 + 24, far6, 16);
	put_be16(msg + 48, 49153);
	put_be16(msg + 50, 33434);
	size_t n = frame6(fr, far6, us6, msg, sizeof(msg));
	fr[14 + 40 + 2] ^= 1;
	control_rx_frame(f->c, fr, n, 1000);
	assert_null(f->delivered);
	fr[14 + 40 + 2] ^= 1;
	control_rx_frame(f->c, fr, n, 1000);
	assert_non_null(f->delivered);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_and_log, setup, teardown),
		cmocka_unit_test_setup_teardown(test_kv, setup, teardown),
		cmocka_unit_test_setup_teardown(test_metrics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ping_times_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_traceroute_completes_on_icmp, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_gone_drops_op, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ping6_matches_replies, setup6, teardown),
		cmocka_unit_test_setup_teardown(test_ping6_bad_args, setup6, teardown),
		cmocka_unit_test_setup_teardown(test_traceroute6, setup6, teardown),
		cmocka_unit_test_setup_teardown(test_traceroute6_bad_checksum, setup6, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
