/*
 * addr.h - tapir's public address type: an IPv4 or IPv6 address, by value
 *
 * IPv4 addresses elsewhere in the API are host-order uint32_t; struct
 * tapir_addr carries either family where an interface must take both (DNS
 * answers, dual-stack endpoints).  IPv4 sits in @v4 in host order; IPv6 in
 * @v6 in network order (as on the wire).  Compare with tapir_addr_eq(),
 * never memcmp() (the unused bytes are not defined to be zero).
 */
#ifndef TAPIR_ADDR_H
#define TAPIR_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum tapir_family {
	TAPIR_AF_UNSPEC = 0,
	TAPIR_AF_INET = 4,
	TAPIR_AF_INET6 = 6,
};

struct tapir_addr {
	uint8_t family;          /* enum tapir_family */
	union {
		uint32_t v4;     /* host order */
		uint8_t v6[16];  /* network order */
	};
};

/* Longest text tapir_addr_format() writes, with its NUL ("ffff:...:255.255.255.255"). */
#define TAPIR_ADDR_STRLEN 46

/* An IPv4 address (host order) as a struct tapir_addr. */
static inline struct tapir_addr tapir_addr_v4(uint32_t v4)
{
	struct tapir_addr a = { .family = TAPIR_AF_INET };

	a.v4 = v4;
	return a;
}

/* Same family and same address. */
bool tapir_addr_eq(const struct tapir_addr *a, const struct tapir_addr *b);

/* ::ffff:a.b.c.d (RFC 4291 2.5.5.2); *v4 gets a.b.c.d in host order if non-NULL. */
bool tapir_addr_is_v4mapped(const struct tapir_addr *a, uint32_t *v4);

/* An IPv4 address as an IPv4-mapped IPv6 address; an IPv6 one as itself. */
struct tapir_addr tapir_addr_to_v6(const struct tapir_addr *a);

/**
 * tapir_addr_parse() - Parse a dotted quad or an IPv6 address (RFC 4291 2.2)
 * @s:   The text; no brackets, no zone ("%eth0"), no prefix length
 * @out: The address, family set from the form
 *
 * Return: 0, or -EINVAL (with @out untouched) when @s is neither form.
 */
int tapir_addr_parse(const char *s, struct tapir_addr *out);

/**
 * tapir_addr_format() - Format @a: a dotted quad, or IPv6 in RFC 5952's form
 * @a:   The address
 * @buf: At least TAPIR_ADDR_STRLEN bytes
 *
 * Return: @buf ("?" for an unknown family).
 */
char *tapir_addr_format(const struct tapir_addr *a, char *buf);

#endif /* TAPIR_ADDR_H */
