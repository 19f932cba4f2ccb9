/*
 * test_gateway.c - the gateway's pure parts: [gateway] keys (forward,
 * forward_address, dns, errors with their line), the DNS relay's message
 * parser on byte fixtures, and the resolv.conf reader
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "app_conf.h"
#include "config.h"
#include "dns_msg.h"

#define BUILTINS app_builtin_confs, app_builtin_nconfs

static int load(struct tapird_config *c, const char *text, char *err, size_t errlen)
{
	config_init(c);
	err[0] = '\0';
	int rc = config_parse_ini(c, "t.conf", text, strlen(text), err, errlen);
	if (!rc)
		rc = config_finish(c, BUILTINS, "t.conf", err, errlen);
	return rc;
}

#define HEAD "[ipv4]\naddress = 192.0.2.2/24\ngateway = 192.0.2.1\n[gateway]\nenabled = true\n"

static void test_gateway_keys(void **state)
{
	struct tapird_config c;
	char err[CONFIG_ERR_MAX];
	assert_int_equal(load(&c, "[ipv4]\naddress = 192.0.2.2/24\n", err, sizeof(err)), 0);
	assert_false(c.gw.enabled);
	assert_int_equal(c.gw.nforwards, 0);
	assert_int_equal(c.gw.forward_addr, 0x7f000001);
	assert_true(c.gw.forward_v4 && c.gw.forward_v6);  /* 127.0.0.1,::1 */
	assert_int_equal(c.gw.forward_addr6[15], 1);
	assert_int_equal(c.gw.ndns, 0);
	config_free(&c);

	assert_int_equal(load(&c, HEAD "forward = tcp/8080:80, udp/5353:53 ,tcp/2222\n"
				  "forward_address = 0.0.0.0\ndns = 198.51.100.53, 192.0.2.53\n",
			      err, sizeof(err)), 0);
	assert_true(c.gw.enabled);
	assert_int_equal(c.gw.nforwards, 3);
	assert_int_equal(c.gw.forwards[0].proto, CONFIG_FWD_TCP);
	assert_int_equal(c.gw.forwards[0].host_port, 8080);
	assert_int_equal(c.gw.forwards[0].ns_port, 80);
	assert_int_equal(c.gw.forwards[1].proto, CONFIG_FWD_UDP);
	assert_int_equal(c.gw.forwards[1].host_port, 5353);
	assert_int_equal(c.gw.forwards[1].ns_port, 53);
	assert_int_equal(c.gw.forwards[2].host_port, 2222);
	assert_int_equal(c.gw.forwards[2].ns_port, 2222);
	assert_int_equal(c.gw.forward_addr, 0);
	assert_true(c.gw.forward_v4 && !c.gw.forward_v6);  /* an IPv4 alone: no IPv6 */
	assert_int_equal(c.gw.ndns, 2);
	assert_int_equal(c.gw.dns[0].v4, 0xc6336435);
	assert_int_equal(c.gw.dns[1].v4, 0xc0000235);
	config_free(&c);

	/* one address per family, either order */
	assert_int_equal(load(&c, HEAD "forward_address = ::, 192.0.2.2\n", err, sizeof(err)), 0);
	assert_true(c.gw.forward_v4 && c.gw.forward_v6);
	assert_int_equal(c.gw.forward_addr, 0xc0000202);
	assert_int_equal(c.gw.forward_addr6[15], 0);
	config_free(&c);

	/* "none" clears a list */
	assert_int_equal(load(&c, HEAD "forward = tcp/1\nforward = none\ndns = 192.0.2.9\ndns =\n",
			      err, sizeof(err)), 0);
	assert_int_equal(c.gw.nforwards, 0);
	assert_int_equal(c.gw.ndns, 0);
	config_free(&c);
}

static void expect_error(const char *text, const char *where, const char *what)
{
	struct tapird_config c;
	char err[CONFIG_ERR_MAX];
	assert_int_equal(load(&c, text, err, sizeof(err)), -EINVAL);
	if (!strstr(err, where) || !strstr(err, what))
		fail_msg("expected '%s' ... '%s', got: %s", where, what, err);
	config_free(&c);
}

static void test_gateway_errors(void **state)
{
	expect_error(HEAD "forward = sctp/1\n", "t.conf:6", "tcp/ or udp/");
	expect_error(HEAD "forward = tcp/0:80\n", "t.conf:6", "ports are 1 to 65535");
	expect_error(HEAD "forward = udp/70000\n", "t.conf:6", "ports are 1 to 65535");
	expect_error(HEAD "forward = tcp/80:\n", "t.conf:6", "ports are 1 to 65535");
	expect_error(HEAD "forward = tcp/80:x\n", "t.conf:6", "ports are 1 to 65535");
	expect_error(HEAD "forward = tcp/80, , tcp/81\n", "t.conf:6", "not a forward");
	expect_error(HEAD "forward = tcp/8080:80, tcp/8080:81\n", "t.conf:6", "forwarded twice");
	expect_error(HEAD "forward_address = 224.0.0.1\n", "t.conf:6", "multicast");
	expect_error(HEAD "forward_address = localhost\n", "t.conf:6",
		     "not an IPv4 or IPv6 address");
	expect_error(HEAD "forward_address = ::1, ::2\n", "t.conf:6", "one IPv6 address at most");
	expect_error(HEAD "forward_address = 127.0.0.1,127.0.0.2\n", "t.conf:6",
		     "one IPv4 address at most");
	expect_error(HEAD "forward_address = ff02::1\n", "t.conf:6", "multicast");
	expect_error(HEAD "dns = 0.0.0.0\n", "t.conf:6", "not a unicast IPv4 or IPv6 address");
	expect_error(HEAD "dns = ff02::1\n", "t.conf:6", "not a unicast IPv4 or IPv6 address");
	expect_error(HEAD "dns = ::\n", "t.conf:6", "not a unicast IPv4 or IPv6 address");
	expect_error(HEAD "dns = 192.0.2.1,192.0.2.2,192.0.2.3,192.0.2.4,192.0.2.5\n", "t.conf:6",
		     "more than 4");
	/* forwards go to [ipv4] gateway, the namespace's kernel side */
	expect_error("[ipv4]\naddress = 192.0.2.2/24\n[gateway]\nenabled = true\nforward = tcp/1\n",
		     "t.conf", "forward needs [ipv4] gateway");
	struct config_forward f;
	char msg[128];
	assert_int_equal(config_forward_parse("  udp/53  ", &f, msg, sizeof(msg)), 0);
	assert_int_equal(f.proto, CONFIG_FWD_UDP);
	assert_int_equal(f.ns_port, 53);
	assert_int_equal(config_forward_parse("", &f, msg, sizeof(msg)), -EINVAL);
	assert_int_equal(config_forward_parse("tcp/", &f, msg, sizeof(msg)), -EINVAL);
	assert_int_equal(config_forward_parse("tcp/-1", &f, msg, sizeof(msg)), -EINVAL);
}

/* A query for svc.gw.test A IN, ID 0x1234, RD */
static const uint8_t query[] = {
	0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0,
	3, 's', 'v', 'c', 2, 'g', 'w', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1,
};

static void test_dns_parse(void **state)
{
	struct relay_msg_info m;
	assert_int_equal(relay_msg_parse(query, sizeof(query), &m), 0);
	assert_int_equal(m.id, 0x1234);
	assert_false(m.qr);
	assert_int_equal(m.opcode, 0);
	assert_ptr_equal(m.question, query + 12);
	assert_int_equal(m.question_len, sizeof(query) - 12);

	/* every truncation is refused, never read past */
	for (size_t n = 0; n < sizeof(query); n++)
		assert_int_equal(relay_msg_parse(query, n, &m), -EBADMSG);

	uint8_t b[sizeof(query) + 16];
	memcpy(b, query, sizeof(query));
	b[5] = 2;  /* QDCOUNT 2 */
	assert_int_equal(relay_msg_parse(b, sizeof(query), &m), -EBADMSG);
	b[5] = 0;
	assert_int_equal(relay_msg_parse(b, sizeof(query), &m), -EBADMSG);
	b[5] = 1;
	b[12] = 0xc0;  /* a compression pointer as the question's name */
	assert_int_equal(relay_msg_parse(b, sizeof(query), &m), -EBADMSG);
	b[12] = 0x40;  /* a reserved label type */
	assert_int_equal(relay_msg_parse(b, sizeof(query), &m), -EBADMSG);

	/* names over 255 bytes */
	uint8_t big[12 + 5 * 64 + 5];
	memset(big, 0, sizeof(big));
	big[5] = 1;
	for (int i = 0; i < 4; i++) {
		big[12 + i * 64] = 63;
		memset(big + 13 + i * 64, 'a', 63);
	}
	/* 4 labels of 63 + root: 257 bytes */
	assert_int_equal(relay_msg_parse(big, 12 + 4 * 64 + 5, &m), -EBADMSG);
	big[12 + 3 * 64] = 61;  /* 64*3 + 62 + 1 = 255: fits */
	big[12 + 3 * 64 + 62] = 0;
	assert_int_equal(relay_msg_parse(big, 12 + 3 * 64 + 62 + 5, &m), 0);
	assert_int_equal(m.question_len, 255 + 4);

	/* case-insensitive names, exact type and class */
	uint8_t up[sizeof(query)];
	memcpy(up, query, sizeof(query));
	up[13] = 'S';
	up[20] = 'T';
	assert_true(relay_question_eq(up + 12, sizeof(up) - 12, query + 12, sizeof(query) - 12));
	up[sizeof(up) - 3] = 28;  /* AAAA */
	assert_false(relay_question_eq(up + 12, sizeof(up) - 12, query + 12, sizeof(query) - 12));
	assert_false(relay_question_eq(query + 12, 5, query + 12, 6));

	/* SERVFAIL made from a query */
	uint8_t sf[sizeof(query)];
	memcpy(sf, query, sizeof(query));
	assert_int_equal(relay_msg_parse(sf, sizeof(sf), &m), 0);
	relay_msg_set_id(sf, 0xbeef);
	assert_int_equal(relay_msg_servfail(sf, &m), sizeof(query));
	assert_int_equal(relay_msg_parse(sf, sizeof(sf), &m), 0);
	assert_true(m.qr);
	assert_int_equal(m.rcode, 2);
	assert_int_equal(m.id, 0xbeef);
	assert_int_equal(sf[3] & 0x0f, 2);
	assert_int_equal(sf[2] & 0x01, 1);  /* RD kept */
}

/* A truncated answer without its question: recognised, and rebuilt with it */
static void test_dns_bare_tc(void **state)
{
	uint8_t tc[12] = { 0xab, 0xcd, 0x83, 0x80, 0, 0, 0, 3, 0, 1, 0, 2 };  /* QR TC RD RA */
	uint16_t id = 0;
	assert_true(relay_msg_bare_tc(tc, sizeof(tc), &id));
	assert_int_equal(id, 0xabcd);
	for (size_t n = 0; n < sizeof(tc); n++)
		assert_false(relay_msg_bare_tc(tc, n, &id));
	uint8_t b[sizeof(tc)];
	memcpy(b, tc, sizeof(tc));
	b[2] &= (uint8_t)~0x02;  /* not truncated */
	assert_false(relay_msg_bare_tc(b, sizeof(b), &id));
	memcpy(b, tc, sizeof(tc));
	b[2] &= 0x7f;  /* a query */
	assert_false(relay_msg_bare_tc(b, sizeof(b), &id));
	memcpy(b, tc, sizeof(tc));
	b[5] = 1;  /* it has a question: relay_msg_parse()'s */
	assert_false(relay_msg_bare_tc(b, sizeof(b), &id));

	uint8_t out[12 + DNS_QUESTION_MAX];
	memset(out, 0xa5, sizeof(out));
	size_t n = relay_msg_tc_answer(out, tc, query + 12, sizeof(query) - 12);
	assert_int_equal(n, sizeof(query));
	struct relay_msg_info m;
	assert_int_equal(relay_msg_parse(out, n, &m), 0);
	assert_true(m.qr);
	assert_true(m.tc);
	assert_int_equal(m.id, 0xabcd);
	assert_true(relay_question_eq(m.question, m.question_len, query + 12, sizeof(query) - 12));
	assert_int_equal(out[3], 0x80);  /* RA, RCODE kept */
	for (int i = 6; i < 12; i++)
		assert_int_equal(out[i], 0);  /* no answers claimed */
}

static void test_resolv_conf(void **state)
{
	const char *t = "# resolv.conf\nsearch example.org\nnameserver 192.0.2.53\n"
			"nameserver 2001:db8::53\n  nameserver\t198.51.100.53 # two\n"
			"nameserver 0.0.0.0\nnameservers 192.0.2.1\noptions edns0\n"
			"nameserver 192.0.2.54\nnameserver 192.0.2.55\nnameserver 192.0.2.56";
	struct tapir_addr a[5];
	static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 0x53 };
	assert_int_equal(dns_resolv_conf_parse(t, strlen(t), a, 5), 5);
	assert_int_equal(a[0].family, TAPIR_AF_INET);
	assert_int_equal(a[0].v4, 0xc0000235);
	assert_int_equal(a[1].family, TAPIR_AF_INET6);
	assert_memory_equal(a[1].v6, v6, 16);
	assert_int_equal(a[2].v4, 0xc6336435);
	assert_int_equal(a[3].v4, 0xc0000236);
	assert_int_equal(a[4].v4, 0xc0000237);
	/* ::, multicast and link-local IPv6 servers are skipped */
	const char *w = "nameserver ::\nnameserver ff02::1\nnameserver fe80::1\n"
			"nameserver fe80::1%eth0\nnameserver ::1\n";
	assert_int_equal(dns_resolv_conf_parse(w, strlen(w), a, 4), 1);
	assert_int_equal(a[0].family, TAPIR_AF_INET6);
	assert_int_equal(a[0].v6[15], 1);
	assert_int_equal(dns_resolv_conf_parse(t, strlen(t), a, 1), 1);
	assert_int_equal(dns_resolv_conf_parse("", 0, a, 4), 0);
	/* no NUL at the end: only @len bytes are read */
	const char u[] = "nameserver 192.0.2.1";
	assert_int_equal(dns_resolv_conf_parse(u, sizeof(u) - 1, a, 4), 1);
	assert_int_equal(a[0].v4, 0xc0000201);
	/* cut to "nameserver 192.0.2": not an address */
	assert_int_equal(dns_resolv_conf_parse(u, sizeof(u) - 3, a, 4), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gateway_keys),
		cmocka_unit_test(test_gateway_errors),
		cmocka_unit_test(test_dns_parse),
		cmocka_unit_test(test_dns_bare_tc),
		cmocka_unit_test(test_resolv_conf),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
