/*
 * dhcp.h - DHCPv4 message representation (RFC 2131) and its options (RFC 2132)
 *
 * Theory of operation
 *
 * dhcp_repr_parse() checks the fixed part (236 bytes and the magic cookie),
 * walks the options with a length check before every read (in the options
 * field, then, when option 52 says so, in file and sname: RFC 2131 4.1),
 * joins the pieces of an option given more than once (RFC 3396) and decodes
 * the options the client uses.  An option of the wrong length is ignored
 * (as absent); a walk that runs past its field is -EBADMSG.  The domain name
 * (15) must be printable host-name text; the search list (119, RFC 3397) is
 * decoded from DNS wire names with compression pointers that must point
 * backwards (no loops), at most DHCP_MAX_SEARCH names.
 *
 * dhcp_repr_emit() writes a client message: the fixed part, the cookie,
 * then message type, client identifier, requested address, server
 * identifier, host name, parameter request list, maximum message size and
 * the end option.  Nothing here allocates; a repr's strings are its own.
 */
#ifndef TAPIR_WIRE_DHCP_H
#define TAPIR_WIRE_DHCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DHCP_SERVER_PORT 67
#define DHCP_CLIENT_PORT 68
#define DHCP_FIXED_LEN 236           /* op .. file */
#define DHCP_MAGIC 0x63825363u
#define DHCP_MIN_LEN (DHCP_FIXED_LEN + 4)
#define DHCP_OP_REQUEST 1
#define DHCP_OP_REPLY 2
#define DHCP_FLAG_BROADCAST 0x8000

enum dhcp_msg_type {
	DHCP_DISCOVER = 1,
	DHCP_OFFER = 2,
	DHCP_REQUEST = 3,
	DHCP_DECLINE = 4,
	DHCP_ACK = 5,
	DHCP_NAK = 6,
	DHCP_RELEASE = 7,
	DHCP_INFORM = 8,
};

/* Option codes (RFC 2132, 3397) */
enum {
	DHCP_OPT_PAD = 0,
	DHCP_OPT_SUBNET_MASK = 1,
	DHCP_OPT_ROUTER = 3,
	DHCP_OPT_DNS = 6,
	DHCP_OPT_HOSTNAME = 12,
	DHCP_OPT_DOMAIN = 15,
	DHCP_OPT_MTU = 26,
	DHCP_OPT_REQUESTED_IP = 50,
	DHCP_OPT_LEASE_TIME = 51,
	DHCP_OPT_OVERLOAD = 52,
	DHCP_OPT_MSG_TYPE = 53,
	DHCP_OPT_SERVER_ID = 54,
	DHCP_OPT_PARAM_REQ = 55,
	DHCP_OPT_MESSAGE = 56,
	DHCP_OPT_MAX_MSG_SIZE = 57,
	DHCP_OPT_T1 = 58,
	DHCP_OPT_T2 = 59,
	DHCP_OPT_CLIENT_ID = 61,
	DHCP_OPT_SEARCH = 119,
	DHCP_OPT_END = 255,
};

#define DHCP_MAX_DNS 4
#define DHCP_MAX_SEARCH 6
#define DHCP_NAME_MAX 254            /* text of a domain name, without the NUL */
#define DHCP_CLIENT_ID_MAX 64
#define DHCP_HOSTNAME_MAX 63
#define DHCP_INFINITE 0xffffffffu

/**
 * struct dhcp_repr - a DHCP message
 * @op, @htype, @hlen, @hops, @xid, @secs, @flags, @ciaddr, @yiaddr, @siaddr,
 * @giaddr, @chaddr: the fixed fields (addresses in host order)
 * @msg_type:  option 53, 0 when absent
 * @has_*:     whether the option was present (and well formed)
 * The rest: the options, decoded; strings NUL-terminated
 */
struct dhcp_repr {
	uint8_t op, htype, hlen, hops;
	uint32_t xid;
	uint16_t secs, flags;
	uint32_t ciaddr, yiaddr, siaddr, giaddr;
	uint8_t chaddr[16];

	uint8_t msg_type;
	bool has_mask, has_lease, has_t1, has_t2, has_server_id, has_mtu, has_requested_ip;
	uint32_t mask;
	uint32_t router;                 /* the first of option 3, 0: none */
	uint32_t dns[DHCP_MAX_DNS];
	uint8_t ndns;
	char domain[DHCP_NAME_MAX + 1];  /* option 15, "" when absent or unusable */
	char search[DHCP_MAX_SEARCH][DHCP_NAME_MAX + 1];
	uint8_t nsearch;
	uint16_t mtu;
	uint32_t lease, t1, t2;          /* seconds; DHCP_INFINITE */
	uint32_t server_id;
	uint32_t requested_ip;

	/* Emit only */
	uint8_t client_id[DHCP_CLIENT_ID_MAX];
	uint8_t client_id_len;
	char hostname[DHCP_HOSTNAME_MAX + 1];
	const uint8_t *param_req;        /* borrowed for the emit call */
	uint8_t param_req_len;
	uint16_t max_msg_size;           /* 0: not sent */
};

/**
 * dhcp_repr_parse() - Check and decode a DHCP message
 * @r:   Representation to fill (zeroed first)
 * @buf: The UDP payload
 * @len: Its length
 *
 * Return: 0, or -EBADMSG (too short, no magic cookie, an option running past
 *         its field, no end option)
 */
int dhcp_repr_parse(struct dhcp_repr *r, const uint8_t *buf, size_t len);

/* Return: the bytes dhcp_repr_emit() writes for @r (at least 300: BOOTP's minimum) */
size_t dhcp_repr_emit_len(const struct dhcp_repr *r);

/**
 * dhcp_repr_emit() - Write a message
 * @buf: At least dhcp_repr_emit_len(@r) bytes
 *
 * Return: the length written
 */
size_t dhcp_repr_emit(const struct dhcp_repr *r, uint8_t *buf, size_t len);

/**
 * dhcp_search_decode() - Decode an RFC 3397 domain search list
 * @data: The option's data (all its pieces joined)
 * @len:  Its length
 * @out:  Up to @max names, as text without the final dot
 * @max:  Capacity of @out
 *
 * Return: the number of names, or -EBADMSG (bad label, pointer forwards or
 *         out of bounds, name over 255 bytes, truncated)
 */
int dhcp_search_decode(const uint8_t *data, size_t len, char (*out)[DHCP_NAME_MAX + 1],
		       size_t max);

/* Return: the name of message type @t ("DISCOVER" ...), "?" when unknown */
const char *dhcp_msg_type_name(uint8_t t);

#endif /* TAPIR_WIRE_DHCP_H */
