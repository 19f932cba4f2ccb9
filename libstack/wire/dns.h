/*
 * dns.h - DNS message view, names and a builder (RFC 1035, 3596, 6891)
 *
 * Names are handled in uncompressed wire form (struct dns_name: length-
 * prefixed labels ending with the root's zero byte, at most 255 bytes).
 * dns_name_read() decompresses a name out of a message with every check
 * RFC 1035 4.1.4 leaves to the implementation:
 *   - a pointer must point strictly before the label that holds it (no
 *     forward pointers, hence no loops) and inside the message;
 *   - labels are 1..63 bytes; the 0x40 and 0x80 label types are refused;
 *   - the decompressed name is at most 255 bytes.
 * dns_msg_parse() checks a whole message once: the header, then every
 * question and record of all four sections (names, fixed fields, RDLENGTH
 * within the message), so counts larger than the message fail there.  After
 * a successful parse, dns_msg_rr() reads records by offset without failing.
 *
 * The builder writes a message into a caller's buffer without compression;
 * it records the first error and every later call does nothing.
 */
#ifndef TAPIR_WIRE_DNS_H
#define TAPIR_WIRE_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DNS_HDR_LEN 12
#define DNS_NAME_MAX 255        /* wire bytes of a name, root byte included */
#define DNS_LABEL_MAX 63
/* Text of a name: every byte escaped as \DDD at worst, dots, NUL */
#define DNS_NAME_TEXT_MAX (4 * DNS_NAME_MAX + 1)
#define DNS_PTR_HOPS_MAX 126    /* compression pointers followed per name */

#define DNS_FLAG_QR 0x8000
#define DNS_FLAG_AA 0x0400
#define DNS_FLAG_TC 0x0200
#define DNS_FLAG_RD 0x0100
#define DNS_FLAG_RA 0x0080
#define DNS_OPCODE(flags) (((flags) >> 11) & 0xf)
#define DNS_RCODE(flags) ((flags) & 0xf)

enum dns_rcode {
	DNS_RCODE_NOERROR = 0,
	DNS_RCODE_FORMERR = 1,
	DNS_RCODE_SERVFAIL = 2,
	DNS_RCODE_NXDOMAIN = 3,
	DNS_RCODE_NOTIMP = 4,
	DNS_RCODE_REFUSED = 5,
};

enum dns_type {
	DNS_TYPE_A = 1,
	DNS_TYPE_NS = 2,
	DNS_TYPE_CNAME = 5,
	DNS_TYPE_SOA = 6,
	DNS_TYPE_PTR = 12,
	DNS_TYPE_MX = 15,
	DNS_TYPE_TXT = 16,
	DNS_TYPE_AAAA = 28,
	DNS_TYPE_OPT = 41,
};

#define DNS_CLASS_IN 1

enum dns_section { DNS_SEC_QD, DNS_SEC_AN, DNS_SEC_NS, DNS_SEC_AR, DNS_SEC__COUNT };

/* A name in uncompressed wire form: @len bytes of @b, the last one 0. */
struct dns_name {
	uint8_t len;
	uint8_t b[DNS_NAME_MAX];
};

struct dns_question {
	struct dns_name name;
	uint16_t type, qclass;
};

/**
 * struct dns_rr - one resource record
 * @rdata:    Points into the message the record was read from
 * @rdata_off: Offset of @rdata in that message (names in RDATA may point
 *             anywhere before it)
 */
struct dns_rr {
	struct dns_name name;
	uint16_t type, rclass;
	uint32_t ttl;
	const uint8_t *rdata;
	uint16_t rdlen;
	size_t rdata_off;
};

/* A checked message: only from dns_msg_parse(); @buf is borrowed. */
struct dns_msg {
	const uint8_t *buf;
	size_t len;
	uint16_t id, flags;
	uint16_t count[DNS_SEC__COUNT];
	size_t off[DNS_SEC__COUNT];   /* where each section starts */
	size_t end;                   /* end of the last record */
};

/**
 * dns_name_read() - Decompress one name out of a message
 * @msg:  The whole message (pointers are offsets into it)
 * @len:  Its length
 * @off:  In: where the name starts.  Out: just after it (after the first
 *        pointer, if any); untouched on error
 * @out:  The name, uncompressed
 *
 * Return: 0, or -EBADMSG (truncated, pointer out of bounds or not strictly
 *         backwards, bad label type, label or name too long, too many hops)
 */
int dns_name_read(const uint8_t *msg, size_t len, size_t *off, struct dns_name *out);

/**
 * dns_name_from_text() - A name from its text form ("www.example.com", a
 *                        final dot allowed, "." the root)
 *
 * Labels are taken as they are (no \ escapes); empty labels, labels over 63
 * bytes, names over 255 bytes and bytes outside 0x21..0x7e are refused.
 *
 * Return: 0 or -EINVAL
 */
int dns_name_from_text(const char *s, struct dns_name *out);

/**
 * dns_name_to_text() - Text form of a name, without the final dot ("." for
 *                      the root); bytes other than letters, digits, '-' and
 *                      '_' are written as \DDD, a dot in a label as "\."
 * @buf: At least DNS_NAME_TEXT_MAX bytes
 * Return: @buf
 */
char *dns_name_to_text(const struct dns_name *n, char *buf);

/* Same name, ASCII letters compared without case (RFC 4343). */
bool dns_name_eq(const struct dns_name *a, const struct dns_name *b);
/* Number of labels (0 for the root). */
unsigned dns_name_labels(const struct dns_name *n);
/* @a's labels followed by @b's (@a relative).  Return: 0 or -EINVAL (too long) */
int dns_name_join(const struct dns_name *a, const struct dns_name *b, struct dns_name *out);

/**
 * dns_msg_parse() - Check a whole message
 * @m:   Filled on success
 * @buf: The message (borrowed: @m points into it)
 * @len: Its length
 *
 * Every question and record is walked; bytes after the last record are
 * allowed and ignored (@m->end says where the records end).
 *
 * Return: 0, or -EBADMSG (shorter than a header, a bad name, a record or
 *         question that does not fit: counts larger than the message)
 */
int dns_msg_parse(struct dns_msg *m, const uint8_t *buf, size_t len);

/* Read the question at *@off of a parsed message, advance *@off.  Return: 0 or -EBADMSG */
int dns_msg_question(const struct dns_msg *m, size_t *off, struct dns_question *q);
/* Read the record at *@off of a parsed message, advance *@off.  Return: 0 or -EBADMSG */
int dns_msg_rr(const struct dns_msg *m, size_t *off, struct dns_rr *rr);

/* The builder: a message written into @buf (borrowed) of @cap bytes. */
struct dns_builder {
	uint8_t *buf;
	size_t cap, len;
	uint16_t count[DNS_SEC__COUNT];
	enum dns_section sec;       /* sections must be added in order */
	int err;                    /* first error: -EMSGSIZE, -EINVAL */
};

void dns_build_init(struct dns_builder *b, uint8_t *buf, size_t cap, uint16_t id, uint16_t flags);
void dns_build_question(struct dns_builder *b, const struct dns_name *n, uint16_t type,
			uint16_t qclass);
/* A record in section @sec (not before the last one used) */
void dns_build_rr(struct dns_builder *b, enum dns_section sec, const struct dns_name *n,
		  uint16_t type, uint16_t rclass, uint32_t ttl, const void *rdata, uint16_t rdlen);
/* The EDNS0 OPT pseudo-record (RFC 6891 6.1.2) in the additional section */
void dns_build_opt(struct dns_builder *b, uint16_t udp_size, uint8_t ext_rcode, bool dnssec_ok);
/**
 * dns_build_finish() - Write the counts into the header
 * Return: the message length, or the first error (negative)
 */
long dns_build_finish(struct dns_builder *b);

/* "A", "AAAA", ... or NULL for an unknown type */
const char *dns_type_name(uint16_t type);
/* "NOERROR", "NXDOMAIN", ... or "RCODE<n>" style NULL for unknown ones */
const char *dns_rcode_name(unsigned rcode);

#endif /* TAPIR_WIRE_DNS_H */
