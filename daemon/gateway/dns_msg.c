/*
 * dns_msg.c - the DNS relay's parsers: a message's header and one question (checked for
 *             length before each read), and the nameservers of a resolv.conf
 */
#include <errno.h>
#include <string.h>

#include "dns_msg.h"
#include "wire/ipv4.h"

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

int relay_msg_parse(const uint8_t *msg, size_t len, struct relay_msg_info *out)
{
	if (!msg || len < DNS_HEADER_LEN)
		return -EBADMSG;
	if (be16(msg + 4) != 1)  /* QDCOUNT */
		return -EBADMSG;
	size_t off = DNS_HEADER_LEN, name = 0;
	for (;;) {
		if (off >= len)
			return -EBADMSG;
		uint8_t l = msg[off];
		if (l & 0xc0)  /* a pointer or a reserved label type */
			return -EBADMSG;
		name += (size_t)l + 1;
		if (name > 255)
			return -EBADMSG;
		off++;
		if (l == 0)
			break;
		if (len - off < l)
			return -EBADMSG;
		off += l;
	}
	if (len - off < 4)
		return -EBADMSG;
	off += 4;
	out->id = be16(msg);
	out->qr = msg[2] & 0x80;
	out->opcode = (msg[2] >> 3) & 0x0f;
	out->tc = msg[2] & 0x02;
	out->rcode = msg[3] & 0x0f;
	out->question = msg + DNS_HEADER_LEN;
	out->question_len = off - DNS_HEADER_LEN;
	return 0;
}

bool relay_question_eq(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	if (alen != blen || alen < 5)
		return false;
	/* The name: label lengths are below 64, so folding ASCII case over
	 * the whole name changes only letters */
	for (size_t i = 0; i < alen - 4; i++) {
		uint8_t x = a[i], y = b[i];
		if (x >= 'A' && x <= 'Z')
			x = (uint8_t)(x + 32);
		if (y >= 'A' && y <= 'Z')
			y = (uint8_t)(y + 32);
		if (x != y)
			return false;
	}
	return !memcmp(a + alen - 4, b + blen - 4, 4);
}

void relay_msg_set_id(uint8_t *msg, uint16_t id)
{
	msg[0] = (uint8_t)(id >> 8);
	msg[1] = (uint8_t)id;
}

size_t relay_msg_servfail(uint8_t *msg, const struct relay_msg_info *q)
{
	msg[2] = (uint8_t)(0x80 | (msg[2] & 0x79));  /* QR, the opcode and RD kept */
	msg[3] = 2;                                   /* SERVFAIL */
	memset(msg + 6, 0, 6);                        /* AN, NS, AR counts */
	return DNS_HEADER_LEN + q->question_len;
}

bool relay_msg_bare_tc(const uint8_t *msg, size_t len, uint16_t *id)
{
	if (!msg || len < DNS_HEADER_LEN || !(msg[2] & 0x80) || !(msg[2] & 0x02) ||
	    be16(msg + 4) != 0)
		return false;
	*id = be16(msg);
	return true;
}

size_t relay_msg_tc_answer(uint8_t *out, const uint8_t *hdr, const uint8_t *q, size_t qlen)
{
	memcpy(out, hdr, 4);
	out[4] = 0;
	out[5] = 1;                                   /* QDCOUNT */
	memset(out + 6, 0, 6);                        /* AN, NS, AR counts */
	memcpy(out + DNS_HEADER_LEN, q, qlen);
	return DNS_HEADER_LEN + qlen;
}

size_t dns_resolv_conf_parse(const char *text, size_t len, struct tapir_addr *out, size_t max)
{
	size_t n = 0, i = 0;
	while (i < len && n < max) {
		size_t e = i;
		while (e < len && text[e] != '\n')
			e++;
		char line[256];
		size_t l = e - i < sizeof(line) - 1 ? e - i : sizeof(line) - 1;
		memcpy(line, text + i, l);
		line[l] = 0;
		i = e + 1;
		char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (strncmp(p, "nameserver", 10) || (p[10] != ' ' && p[10] != '\t'))
			continue;
		p += 10;
		while (*p == ' ' || *p == '\t')
			p++;
		char *end = p;
		while (*end && *end != ' ' && *end != '\t' && *end != '\r' && *end != '#' &&
		       *end != ';')
			end++;
		*end = 0;
		struct tapir_addr a;
		static const uint8_t zero[16];
		if (tapir_addr_parse(p, &a))
			continue;
		if (a.family == TAPIR_AF_INET ? a.v4 != 0 :
		    memcmp(a.v6, zero, 16) && a.v6[0] != 0xff &&
		    !(a.v6[0] == 0xfe && (a.v6[1] & 0xc0) == 0x80))
			out[n++] = a;
	}
	return n;
}
