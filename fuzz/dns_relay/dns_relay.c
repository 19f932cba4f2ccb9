/*
 * fuzz/dns_relay/dns_relay.c - the DNS relay's parsers on arbitrary bytes
 *
 * The input is a DNS message for relay_msg_parse() (as a query from the
 * namespace or an answer from a host resolver) and a resolv.conf text for
 * dns_resolv_conf_parse().  Checks: a parsed question lies inside the
 * message and is at most DNS_QUESTION_MAX bytes, compares equal to itself
 * and to a case-flipped copy, the ID written back reads back, a SERVFAIL
 * made from it parses again with the same question and RCODE 2, and at most
 * @max nameservers come out of a resolv.conf.  A truncated answer without a
 * question (relay_msg_bare_tc()) rebuilt with one parses with TC and its ID.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tapir_addr ns[4];
	CHECK(dns_resolv_conf_parse((const char *)data, size, ns, 4) <= 4);
	CHECK(dns_resolv_conf_parse((const char *)data, size, ns, 1) <= 1);

	uint16_t tid;
	if (relay_msg_bare_tc(data, size, &tid)) {
		/* rebuilt with a question, it parses as a truncated answer with it */
		static const uint8_t qn[] = { 1, 'a', 0, 0, 1, 0, 1 };
		uint8_t out[DNS_HEADER_LEN + sizeof(qn)];
		struct relay_msg_info t;
		CHECK(size >= DNS_HEADER_LEN && tid == (data[0] << 8 | data[1]));
		CHECK(relay_msg_tc_answer(out, data, qn, sizeof(qn)) == sizeof(out));
		CHECK(relay_msg_parse(out, sizeof(out), &t) == 0 && t.qr && t.tc && t.id == tid);
		CHECK(relay_question_eq(t.question, t.question_len, qn, sizeof(qn)));
	}

	struct relay_msg_info m;
	if (relay_msg_parse(data, size, &m))
		return 0;
	CHECK(size >= DNS_HEADER_LEN);
	CHECK(m.question == data + DNS_HEADER_LEN);
	CHECK(m.question_len >= 5 && m.question_len <= DNS_QUESTION_MAX);
	CHECK(DNS_HEADER_LEN + m.question_len <= size);
	CHECK(relay_question_eq(m.question, m.question_len, m.question, m.question_len));
	uint8_t q[DNS_QUESTION_MAX];
	memcpy(q, m.question, m.question_len);
	for (size_t i = 0; i + 4 < m.question_len; i++)
		if ((q[i] >= 'a' && q[i] <= 'z') || (q[i] >= 'A' && q[i] <= 'Z'))
			q[i] ^= 0x20;
	CHECK(relay_question_eq(q, m.question_len, m.question, m.question_len));

	uint8_t *copy = malloc(size);
	CHECK(copy);
	memcpy(copy, data, size);
	uint16_t id = (uint16_t)(m.id ^ 0xffff);
	relay_msg_set_id(copy, id);
	struct relay_msg_info c;
	CHECK(relay_msg_parse(copy, size, &c) == 0 && c.id == id);
	size_t n = relay_msg_servfail(copy, &c);
	CHECK(n == DNS_HEADER_LEN + m.question_len);
	struct relay_msg_info f;
	CHECK(relay_msg_parse(copy, n, &f) == 0);
	CHECK(f.qr && f.rcode == 2 && f.opcode == m.opcode && f.question_len == m.question_len);
	CHECK(relay_question_eq(f.question, f.question_len, m.question, m.question_len));
	free(copy);
	return 0;
}
