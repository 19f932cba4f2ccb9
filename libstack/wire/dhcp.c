/*
 * dhcp.c - DHCPv4 message parse and emit, options, RFC 3397 search lists
 */
#include <errno.h>
#include <string.h>

#include "wire/bytes.h"
#include "wire/dhcp.h"

#define OFF_SNAME 44
#define SNAME_LEN 64
#define OFF_FILE 108
#define FILE_LEN 128
#define OPT_MAX_JOINED 1024          /* longest joined option we decode (RFC 3396) */

struct region {
	const uint8_t *p;
	size_t len;
};

/* The option areas in RFC 3396 order: options, then file, then sname */
struct regions {
	struct region r[3];
	int n;
};

/* Check that @reg is a well-formed option area.  Return: 0 or -EBADMSG */
static int walk_check(const struct region *reg, bool need_end)
{
	size_t i = 0;

	while (i < reg->len) {
		uint8_t code = reg->p[i];

		if (code == DHCP_OPT_PAD) {
			i++;
			continue;
		}
		if (code == DHCP_OPT_END)
			return 0;
		if (i + 1 >= reg->len || reg->p[i + 1] > reg->len - i - 2)
			return -EBADMSG;
		i += 2 + (size_t)reg->p[i + 1];
	}
	return need_end ? -EBADMSG : 0;
}

/*
 * Join every instance of option @code across the areas into @out (at most
 * @cap bytes; longer is cut and reported as -E2BIG).
 * Return: the joined length, -ENOENT when absent, -E2BIG
 */
static long opt_get(const struct regions *rs, uint8_t code, uint8_t *out, size_t cap)
{
	size_t n = 0;
	bool found = false, cut = false;

	for (int k = 0; k < rs->n; k++) {
		const struct region *reg = &rs->r[k];
		size_t i = 0;

		while (i < reg->len) {
			uint8_t c = reg->p[i];

			if (c == DHCP_OPT_PAD) {
				i++;
				continue;
			}
			if (c == DHCP_OPT_END || i + 1 >= reg->len)
				break;
			size_t ol = reg->p[i + 1];

			if (ol > reg->len - i - 2)
				break;
			if (c == code) {
				found = true;
				if (n + ol > cap) {
					cut = true;
					ol = cap - n;
				}
				memcpy(out + n, reg->p + i + 2, ol);
				n += ol;
			}
			i += 2 + (size_t)reg->p[i + 1];
		}
	}
	if (!found)
		return -ENOENT;
	return cut ? -E2BIG : (long)n;
}

static bool get_u32(const struct regions *rs, uint8_t code, uint32_t *v)
{
	uint8_t b[OPT_MAX_JOINED];

	if (opt_get(rs, code, b, sizeof(b)) != 4)
		return false;
	*v = get_be32(b);
	return true;
}

static bool hostchar(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

/* A domain name as text: labels of 1..63 host characters joined by dots. */
static bool domain_ok(const char *s, size_t len)
{
	size_t lab = 0;

	if (len == 0 || len > DHCP_NAME_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '.') {
			if (lab == 0)
				return false;
			lab = 0;
		} else if (hostchar((uint8_t)s[i]) && ++lab <= 63) {
			continue;
		} else {
			return false;
		}
	}
	return true;
}

int dhcp_search_decode(const uint8_t *data, size_t len, char (*out)[DHCP_NAME_MAX + 1],
		       size_t max)
{
	size_t pos = 0, count = 0;

	while (pos < len) {
		char name[DHCP_NAME_MAX + 2];
		size_t nlen = 0, p = pos, limit = pos; /* pointers must go below @limit */
		bool jumped = false;
		unsigned hops = 0;

		for (;;) {
			if (p >= len)
				return -EBADMSG;
			uint8_t l = data[p];

			if (l == 0) {
				if (!jumped)
					pos = p + 1;
				break;
			}
			if ((l & 0xc0) == 0xc0) {
				if (p + 1 >= len)
					return -EBADMSG;
				size_t target = (size_t)(l & 0x3f) << 8 | data[p + 1];

				if (target >= limit || ++hops > 127)
					return -EBADMSG;
				if (!jumped)
					pos = p + 2;
				jumped = true;
				limit = target;
				p = target;
				continue;
			}
			if (l & 0xc0)
				return -EBADMSG;
			if (p + 1 + l > len || nlen + l + 1 > DHCP_NAME_MAX + 1)
				return -EBADMSG;
			for (size_t i = 0; i < l; i++)
				if (!hostchar(data[p + 1 + i]))
					return -EBADMSG;
			if (nlen)
				name[nlen++] = '.';
			memcpy(name + nlen, data + p + 1, l);
			nlen += l;
			p += 1 + l;
		}
		if (nlen == 0 || nlen > DHCP_NAME_MAX)
			return -EBADMSG;
		name[nlen] = '\0';
		if (count < max)
			memcpy(out[count], name, nlen + 1);
		count++;
	}
	return (int)(count < max ? count : max);
}

int dhcp_repr_parse(struct dhcp_repr *r, const uint8_t *buf, size_t len)
{
	struct regions rs = { .n = 0 };
	uint8_t b[OPT_MAX_JOINED];
	long n;

	memset(r, 0, sizeof(*r));
	if (len < DHCP_MIN_LEN || get_be32(buf + DHCP_FIXED_LEN) != DHCP_MAGIC)
		return -EBADMSG;
	r->op = buf[0];
	r->htype = buf[1];
	r->hlen = buf[2];
	r->hops = buf[3];
	r->xid = get_be32(buf + 4);
	r->secs = get_be16(buf + 8);
	r->flags = get_be16(buf + 10);
	r->ciaddr = get_be32(buf + 12);
	r->yiaddr = get_be32(buf + 16);
	r->siaddr = get_be32(buf + 20);
	r->giaddr = get_be32(buf + 24);
	memcpy(r->chaddr, buf + 28, 16);

	rs.r[rs.n++] = (struct region){ buf + DHCP_MIN_LEN, len - DHCP_MIN_LEN };
	if (walk_check(&rs.r[0], true) < 0)
		return -EBADMSG;
	n = opt_get(&rs, DHCP_OPT_OVERLOAD, b, sizeof(b));
	if (n == 1 && b[0] >= 1 && b[0] <= 3) {
		if (b[0] & 1)
			rs.r[rs.n++] = (struct region){ buf + OFF_FILE, FILE_LEN };
		if (b[0] & 2)
			rs.r[rs.n++] = (struct region){ buf + OFF_SNAME, SNAME_LEN };
		for (int k = 1; k < rs.n; k++)
			if (walk_check(&rs.r[k], false) < 0)
				return -EBADMSG;
	}

	if (opt_get(&rs, DHCP_OPT_MSG_TYPE, b, sizeof(b)) == 1)
		r->msg_type = b[0];
	r->has_mask = get_u32(&rs, DHCP_OPT_SUBNET_MASK, &r->mask);
	n = opt_get(&rs, DHCP_OPT_ROUTER, b, sizeof(b));
	if (n >= 4 && n % 4 == 0)
		r->router = get_be32(b);
	n = opt_get(&rs, DHCP_OPT_DNS, b, sizeof(b));
	if (n >= 4 && n % 4 == 0)
		for (long i = 0; i < n / 4 && r->ndns < DHCP_MAX_DNS; i++)
			r->dns[r->ndns++] = get_be32(b + 4 * i);
	n = opt_get(&rs, DHCP_OPT_DOMAIN, b, sizeof(b));
	if (n > 0) {
		size_t l = (size_t)n;

		while (l && (b[l - 1] == 0 || b[l - 1] == '.'))
			l--;	/* some servers count a NUL or a final dot */
		if (domain_ok((const char *)b, l)) {
			memcpy(r->domain, b, l);
			r->domain[l] = '\0';
		}
	}
	n = opt_get(&rs, DHCP_OPT_SEARCH, b, sizeof(b));
	if (n > 0) {
		int k = dhcp_search_decode(b, (size_t)n, r->search, DHCP_MAX_SEARCH);

		r->nsearch = k > 0 ? (uint8_t)k : 0;
	}
	n = opt_get(&rs, DHCP_OPT_MTU, b, sizeof(b));
	if (n == 2 && get_be16(b) >= 68) {
		r->has_mtu = true;
		r->mtu = get_be16(b);
	}
	r->has_lease = get_u32(&rs, DHCP_OPT_LEASE_TIME, &r->lease);
	r->has_t1 = get_u32(&rs, DHCP_OPT_T1, &r->t1);
	r->has_t2 = get_u32(&rs, DHCP_OPT_T2, &r->t2);
	r->has_server_id = get_u32(&rs, DHCP_OPT_SERVER_ID, &r->server_id);
	r->has_requested_ip = get_u32(&rs, DHCP_OPT_REQUESTED_IP, &r->requested_ip);
	n = opt_get(&rs, DHCP_OPT_CLIENT_ID, b, sizeof(b));
	if (n > 0 && n <= DHCP_CLIENT_ID_MAX) {
		memcpy(r->client_id, b, (size_t)n);
		r->client_id_len = (uint8_t)n;
	}
	n = opt_get(&rs, DHCP_OPT_HOSTNAME, b, sizeof(b));
	if (n > 0 && n <= DHCP_HOSTNAME_MAX && domain_ok((const char *)b, (size_t)n)) {
		memcpy(r->hostname, b, (size_t)n);
		r->hostname[n] = '\0';
	}
	return 0;
}

size_t dhcp_repr_emit_len(const struct dhcp_repr *r)
{
	size_t n = DHCP_MIN_LEN + 3 + 1;      /* cookie, type, end */

	if (r->client_id_len)
		n += 2 + r->client_id_len;
	if (r->has_requested_ip)
		n += 6;
	if (r->has_server_id)
		n += 6;
	if (r->hostname[0])
		n += 2 + strnlen(r->hostname, DHCP_HOSTNAME_MAX);
	if (r->param_req_len)
		n += 2 + r->param_req_len;
	if (r->max_msg_size)
		n += 4;
	return n < 300 ? 300 : n;
}

static uint8_t *put_opt(uint8_t *p, uint8_t code, const void *data, size_t len)
{
	p[0] = code;
	p[1] = (uint8_t)len;
	memcpy(p + 2, data, len);
	return p + 2 + len;
}

static uint8_t *put_opt32(uint8_t *p, uint8_t code, uint32_t v)
{
	uint8_t b[4];

	put_be32(b, v);
	return put_opt(p, code, b, 4);
}

size_t dhcp_repr_emit(const struct dhcp_repr *r, uint8_t *buf, size_t len)
{
	size_t total = dhcp_repr_emit_len(r);
	uint8_t *p;

	(void)len;
	memset(buf, 0, total);
	buf[0] = r->op;
	buf[1] = r->htype;
	buf[2] = r->hlen;
	buf[3] = r->hops;
	put_be32(buf + 4, r->xid);
	put_be16(buf + 8, r->secs);
	put_be16(buf + 10, r->flags);
	put_be32(buf + 12, r->ciaddr);
	put_be32(buf + 16, r->yiaddr);
	put_be32(buf + 20, r->siaddr);
	put_be32(buf + 24, r->giaddr);
	memcpy(buf + 28, r->chaddr, 16);
	put_be32(buf + DHCP_FIXED_LEN, DHCP_MAGIC);
	p = buf + DHCP_MIN_LEN;
	p = put_opt(p, DHCP_OPT_MSG_TYPE, &r->msg_type, 1);
	if (r->client_id_len)
		p = put_opt(p, DHCP_OPT_CLIENT_ID, r->client_id, r->client_id_len);
	if (r->has_requested_ip)
		p = put_opt32(p, DHCP_OPT_REQUESTED_IP, r->requested_ip);
	if (r->has_server_id)
		p = put_opt32(p, DHCP_OPT_SERVER_ID, r->server_id);
	if (r->hostname[0])
		p = put_opt(p, DHCP_OPT_HOSTNAME, r->hostname,
			    strnlen(r->hostname, DHCP_HOSTNAME_MAX));
	if (r->param_req_len)
		p = put_opt(p, DHCP_OPT_PARAM_REQ, r->param_req, r->param_req_len);
	if (r->max_msg_size) {
		uint8_t b[2];

		put_be16(b, r->max_msg_size);
		p = put_opt(p, DHCP_OPT_MAX_MSG_SIZE, b, 2);
	}
	*p = DHCP_OPT_END;
	return total;
}

const char *dhcp_msg_type_name(uint8_t t)
{
	static const char *const names[] = {
		[DHCP_DISCOVER] = "DISCOVER", [DHCP_OFFER] = "OFFER",   [DHCP_REQUEST] = "REQUEST",
		[DHCP_DECLINE] = "DECLINE",   [DHCP_ACK] = "ACK",       [DHCP_NAK] = "NAK",
		[DHCP_RELEASE] = "RELEASE",   [DHCP_INFORM] = "INFORM",
	};

	return t < sizeof(names) / sizeof(names[0]) && names[t] ? names[t] : "?";
}
