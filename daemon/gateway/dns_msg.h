/*
 * dns_msg.h - just enough of a DNS message (RFC 1035 4.1) for the relay: header and question
 *
 * The relay never resolves: it checks that a message has a sane header and
 * exactly one well-formed question, and remembers the question to match
 * the answer to it.  Names in the question must be uncompressed labels
 * (RFC 1035 4.1.4 allows pointers only to earlier names; the question's is
 * the first), at most 63 bytes a label and 255 in all.
 */
#ifndef TAPIR_GATEWAY_DNS_MSG_H
#define TAPIR_GATEWAY_DNS_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tapir/addr.h"

#define DNS_HEADER_LEN 12
#define DNS_QUESTION_MAX (255 + 4)      /* the name, QTYPE, QCLASS */

struct relay_msg_info {
	uint16_t id;
	bool qr;                         /* a response */
	uint8_t opcode, rcode;
	bool tc;
	const uint8_t *question;         /* into the message: name, QTYPE, QCLASS */
	size_t question_len;
};

/**
 * relay_msg_parse() - Check a message's header and its one question
 * @msg: The message (lent for the call; @out points into it)
 * @len: Its length
 * @out: Filled on success
 *
 * Return: 0, or -EBADMSG (too short, QDCOUNT other than 1, a bad name)
 */
int relay_msg_parse(const uint8_t *msg, size_t len, struct relay_msg_info *out);

/* Return: whether two questions are the same (names compared without case) */
bool relay_question_eq(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen);

/* Set a message's ID (@msg has at least DNS_HEADER_LEN bytes) */
void relay_msg_set_id(uint8_t *msg, uint16_t id);

/* Make @msg (a query, at least DNS_HEADER_LEN bytes) into a SERVFAIL answer
 * to it: QR set, RA copied from nothing (0), RCODE 2, the counts after
 * QDCOUNT zero.  Return: the answer's length (header + question) */
size_t relay_msg_servfail(uint8_t *msg, const struct relay_msg_info *q);

/**
 * relay_msg_bare_tc() - Whether a message is a truncated answer without its question
 * @msg: The message, @len bytes
 * @id:  Receives its ID
 *
 * RFC 1035 leaves what a truncated message keeps to the server; some answer
 * TC with QDCOUNT 0.  The relay matches such an answer by server and ID only
 * and gives the client relay_msg_tc_answer() (so that its stub, which
 * matches the question, retries over TCP).
 *
 * Return: true for a response (QR) with TC set, QDCOUNT 0 and at least a header
 */
bool relay_msg_bare_tc(const uint8_t *msg, size_t len, uint16_t *id);

/* Write to @out (DNS_HEADER_LEN + @qlen bytes) a truncated answer: @hdr's
 * header (ID, flags, RCODE) with QDCOUNT 1 and the other counts 0, then the
 * question @q (@qlen bytes).  Return: its length */
size_t relay_msg_tc_answer(uint8_t *out, const uint8_t *hdr, const uint8_t *q, size_t qlen);

/**
 * dns_resolv_conf_parse() - The nameservers of a resolv.conf text, either family
 * @text: The file's text, @len bytes (need not end in NUL)
 * @out:  Receives up to @max addresses (IPv4 ones as TAPIR_AF_INET)
 *
 * Lines "nameserver ADDR" (resolv.conf(5)); other lines, 0.0.0.0, ::,
 * multicast and link-local IPv6 addresses (a scope this relay cannot carry)
 * are skipped.  Return: the number of addresses found
 */
size_t dns_resolv_conf_parse(const char *text, size_t len, struct tapir_addr *out, size_t max);

#endif /* TAPIR_GATEWAY_DNS_MSG_H */
