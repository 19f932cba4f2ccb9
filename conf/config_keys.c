/*
 * config_keys.c - tapird's key tables: the fixed sections and [kv.NAME]
 *
 * One struct tapir_conf_key table per section (tapir/conf.h): the name, the kind and
 * limits of the value, its default, where it goes, a line of help.  The
 * checks that a kind alone cannot say (a unicast address, an interface
 * name) are the small functions beside the tables, or, for the lists of
 * [dns] and [gateway], config_servers.c's.  [netif] impair.* keys
 * are backends/impair's (config.c hands them over); the [app.NAME] keys are
 * each app type's (struct tapir_app_conf_type: apps/app_conf.h for the built-in
 * ones).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "tapir/conf.h"
#include "proto.h"
#include "tapir/addr.h"
#include "units.h"
#include "wire/dns.h"

#define SEC 1000000000ull
#define N(t) (sizeof(t) / sizeof((t)[0]))

/* ---- checks ---- */

static int backend_check(const void *field, const char *value, char *msg, size_t msglen)
{
	if (strcmp(value, "tap") && strcmp(value, "pcap") && strcmp(value, "vmnet")) {
		snprintf(msg, msglen, "'%s' is not a backend (tap, pcap or vmnet)", value);
		return -EINVAL;
	}
#ifndef __APPLE__
	if (!strcmp(value, "vmnet")) {  /* backends/vmnet.c is built on macOS only */
		snprintf(msg, msglen, "vmnet is macOS-only (vmnet.framework); use tap or pcap");
		return -EINVAL;
	}
#endif
	return 0;
}

static int ifname_check(const void *field, const char *value, char *msg, size_t msglen)
{
	bool ok = strcmp(value, ".") && strcmp(value, "..");
	for (const char *p = value; ok && *p; p++)
		if (*p == '/' || *p == ':' || (unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f)
			ok = false;
	return ok ? 0 : -EINVAL;
}

static int mac_check(const void *field, const char *value, char *msg, size_t msglen)
{
	static const uint8_t zero[6];
	const uint8_t *m = field;
	if (m[0] & 1)
		snprintf(msg, msglen, "%s is a multicast address (need unicast)", value);
	else if (!memcmp(m, zero, 6))
		snprintf(msg, msglen, "%s is all zeros", value);
	else
		return 0;
	return -EINVAL;
}

/* A usable unicast address (the address and the gateway) */
const char *config_unicast_problem(uint32_t a)
{
	if ((a >> 24) == 0)
		return "is in 0.0.0.0/8 (this network)";
	if ((a >> 24) == 127)
		return "is a loopback address";
	if ((a >> 28) == 0xe)
		return "is a multicast address";
	if ((a >> 28) == 0xf)
		return "is a reserved or broadcast address";
	return NULL;
}

uint32_t config_prefix_mask(uint8_t p)
{
	return p ? 0xffffffffu << (32 - p) : 0;
}

/* [ipv4] address = A/P: addr, prefix_len, addr_set, w_addr */
static int set_address(void *base, const char *value, const char *where, char *msg,
		       size_t msglen)
{
	struct tapird_config *c = base;
	char buf[32];
	const char *slash = strchr(value, '/');
	if (!strcmp(value, "dhcp")) {
		c->addr = 0;
		c->prefix_len = 0;
		c->dhcp = c->addr_set = true;
		snprintf(c->w_addr.text, sizeof(c->w_addr.text), "%s", where);
		return 0;
	}
	c->dhcp = false;
	size_t alen = slash ? (size_t)(slash - value) : strlen(value);
	uint32_t a;
	uint64_t p;
	if (!slash || alen >= sizeof(buf)) {
		snprintf(msg, msglen, "'%s' is not ADDRESS/PREFIX (e.g. 192.0.2.2/24) or dhcp", value);
		return -EINVAL;
	}
	memcpy(buf, value, alen);
	buf[alen] = '\0';
	const char *why = NULL;
	if (units_parse_ipv4(buf, &a))
		snprintf(msg, msglen, "'%s' is not an IPv4 address", buf);
	else if (units_parse_u64(slash + 1, 32, &p))
		snprintf(msg, msglen, "prefix length '%s' is not 0 to 32", slash + 1);
	else if ((why = config_unicast_problem(a)))
		snprintf(msg, msglen, "%s %s", buf, why);
	else if (p <= 30 && (a & ~config_prefix_mask((uint8_t)p)) == 0)
		snprintf(msg, msglen, "%s is the network address of /%u", buf, (unsigned)p);
	else if (p <= 30 && (a & ~config_prefix_mask((uint8_t)p)) == ~config_prefix_mask((uint8_t)p))
		snprintf(msg, msglen, "%s is the broadcast address of /%u", buf, (unsigned)p);
	else {
		c->addr = a;
		c->prefix_len = (uint8_t)p;
		c->addr_set = true;
		snprintf(c->w_addr.text, sizeof(c->w_addr.text), "%s", where);
		return 0;
	}
	return -EINVAL;
}

/* A unicast IPv4 address, or "" / none (0) into *@out: 0 or -EINVAL with @msg */
int config_unicast_or_none(const char *value, uint32_t *out, char *msg, size_t msglen)
{
	const char *why;
	*out = 0;
	if (!*value || !strcmp(value, "none"))
		return 0;
	if (units_parse_ipv4(value, out)) {
		snprintf(msg, msglen, "'%s' is not an IPv4 address", value);
		return -EINVAL;
	}
	if ((why = config_unicast_problem(*out))) {
		snprintf(msg, msglen, "%s %s", value, why);
		return -EINVAL;
	}
	return 0;
}

/* [ipv4] gateway = A, or "" / none */
static int set_gateway(void *base, const char *value, const char *where, char *msg,
		       size_t msglen)
{
	struct tapird_config *c = base;
	uint32_t a;
	if (config_unicast_or_none(value, &a, msg, msglen))
		return -EINVAL;
	c->gateway = a;
	snprintf(c->w_gateway.text, sizeof(c->w_gateway.text), "%s", where);
	return 0;
}

/* A host name for DHCP option 12: labels of letters, digits and '-' */
static int hostname_check(const void *field, const char *value, char *msg, size_t msglen)
{
	size_t lab = 0;
	for (const char *p = value; *p; p++) {
		if (*p == '.') {
			if (!lab)
				return -EINVAL;
			lab = 0;
		} else if (((*p | 0x20) >= 'a' && (*p | 0x20) <= 'z') || (*p >= '0' && *p <= '9') ||
			   *p == '-') {
			lab++;
		} else {
			return -EINVAL;
		}
	}
	return lab ? 0 : -EINVAL;
}

static int printable_check(const void *field, const char *value, char *msg, size_t msglen)
{
	for (const char *p = value; *p; p++)
		if ((unsigned char)*p < ' ' || (unsigned char)*p >= 0x7f)
			return -EINVAL;
	return 0;
}

static int name_check(const void *field, const char *value, char *msg, size_t msglen)
{
	return control_name_ok(value) ? 0 : -EINVAL;
}

static int socket_check(const void *field, const char *value, char *msg, size_t msglen)
{
	return value[0] == '/' ? 0 : -EINVAL;
}

static int user_check(const void *field, const char *value, char *msg, size_t msglen)
{
	for (const char *p = value; *p; p++)
		if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f || *p == ':' || *p == '/')
			return -EINVAL;
	return 0;
}

/* [control] enabled = BOOL: control_disabled is its negation */
static int set_enabled(void *base, const char *value, const char *where, char *msg,
		       size_t msglen)
{
	bool on;
	if (units_parse_bool(value, &on)) {
		snprintf(msg, msglen, "'%s' is not true or false", value);
		return -EINVAL;
	}
	((struct tapird_config *)base)->control_disabled = !on;
	return 0;
}

/* [tcp] rcvbuf also bounds the out-of-order data held per flow */
static int set_rcvbuf(void *base, const char *value, const char *where, char *msg, size_t msglen)
{
	static const struct tapir_conf_key k = {
		.name = "rcvbuf", .kind = TAPIR_CONF_SIZE, TAPIR_CONF_AT(struct tapir_tcp_config, rcvbuf),
		.min = 4096, .max = 64u << 20,
	};
	struct tapir_tcp_config *t = base;
	int rc = tapir_conf_key_set(&k, t, value, where, msg, msglen);
	if (!rc)
		t->ooo_max_bytes = t->rcvbuf;
	return rc;
}

/* [kv.NAME] store = SPEC: any tapir_kv_open() spec */
static int set_store(void *base, const char *value, const char *where, char *msg,
		     size_t msglen)
{
	static const char *const kinds[] = { "mem:", "dir:", "tar:", "embedded:" };
	struct kv_config *k = base;
	bool ok = false;
	for (size_t i = 0; i < N(kinds); i++)
		if (!strncmp(value, kinds[i], strlen(kinds[i])))
			ok = true;
	if (!ok) {
		snprintf(msg, msglen, "'%s' is not a store (mem:, dir:PATH, tar:FILE or "
			 "embedded:NAME)", value);
		return -EINVAL;
	}
	char *v = strdup(value);
	if (!v)
		return -ENOMEM;
	free(k->spec);
	k->spec = v;
	snprintf(k->where_spec.text, sizeof(k->where_spec.text), "%s", where);
	return 0;
}

/* ---- [ipv6] ---- */

/* A unicast IPv6 address fit to be ours or a gateway: why not, or NULL */
static const char *unicast6_problem(const uint8_t a[16])
{
	static const uint8_t zero[16], lo[16] = { [15] = 1 };
	if (!memcmp(a, zero, 16))
		return "is the unspecified address";
	if (!memcmp(a, lo, 16))
		return "is the loopback address";
	if (a[0] == 0xff)
		return "is a multicast address";
	if (!memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12))
		return "is an IPv4-mapped address";
	return NULL;
}

int config_parse6(const char *s, uint8_t out[16], char *msg, size_t msglen)
{
	struct tapir_addr a;
	const char *why;
	if (tapir_addr_parse(s, &a) || a.family != TAPIR_AF_INET6) {
		snprintf(msg, msglen, "'%s' is not an IPv6 address", s);
		return -EINVAL;
	}
	if ((why = unicast6_problem(a.v6))) {
		snprintf(msg, msglen, "%s %s", s, why);
		return -EINVAL;
	}
	memcpy(out, a.v6, 16);
	return 0;
}

/* [ipv6] address = A/P[, A/P...]: repeatable, each appended */
static int set_address6(void *base, const char *value, const char *where, char *msg,
			size_t msglen)
{
	struct tapir_ipv6_config *c = base;
	char buf[128];
	if (strlen(value) >= sizeof(buf)) {
		snprintf(msg, msglen, "'%s' is too long", value);
		return -EINVAL;
	}
	strcpy(buf, value);
	for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ' || *tok == '\t')
			tok++;
		char *end = tok + strlen(tok);
		while (end > tok && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		char *slash = strchr(tok, '/');
		uint64_t p;
		uint8_t a[16];
		if (!slash) {
			snprintf(msg, msglen, "'%s' is not ADDRESS/PREFIX (e.g. 2001:db8::2/64)", tok);
			return -EINVAL;
		}
		*slash = '\0';
		if (config_parse6(tok, a, msg, msglen))
			return -EINVAL;
		if (units_parse_u64(slash + 1, 128, &p) || p == 0) {
			snprintf(msg, msglen, "prefix length '%s' is not 1 to 128", slash + 1);
			return -EINVAL;
		}
		if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80) {
			snprintf(msg, msglen, "%s is link-local (tapird makes its own)", tok);
			return -EINVAL;
		}
		bool dup = false;
		for (size_t i = 0; i < c->naddrs; i++)
			dup |= !memcmp(c->addrs[i].addr, a, 16);
		if (dup)
			continue;
		if (c->naddrs == TAPIR_IPV6_MAX_STATIC) {
			snprintf(msg, msglen, "more than %d addresses", TAPIR_IPV6_MAX_STATIC);
			return -EINVAL;
		}
		memcpy(c->addrs[c->naddrs].addr, a, 16);
		c->addrs[c->naddrs].prefix_len = (uint8_t)p;
		c->naddrs++;
	}
	return 0;
}

/* [ipv6] gateway = A, or "" / none */
static int set_gateway6(void *base, const char *value, const char *where, char *msg,
			size_t msglen)
{
	struct tapir_ipv6_config *c = base;
	if (!*value || !strcmp(value, "none")) {
		c->gateway_set = false;
		return 0;
	}
	if (config_parse6(value, c->gateway, msg, msglen))
		return -EINVAL;
	c->gateway_set = true;
	return 0;
}

/* [ipv6] stable_secret = 32 hex digits (RFC 7217's secret key, 128 bits) */
static int set_stable_secret(void *base, const char *value, const char *where, char *msg,
			     size_t msglen)
{
	static const uint8_t zero[16];
	struct tapir_ipv6_config *c = base;
	uint8_t k[16];
	if (units_parse_hex(value, k, 16)) {
		snprintf(msg, msglen, "'%.40s' is not 32 hex digits (128 bits)", value);
		return -EINVAL;
	}
	if (!memcmp(k, zero, 16)) {
		snprintf(msg, msglen, "all zero is not a secret");
		return -EINVAL;
	}
	memcpy(c->stable_secret, k, 16);
	return 0;
}

/* ---- the fixed sections ---- */

#define TC struct tapird_config

static const struct tapir_conf_key netif_keys[] = {
	{ "backend", TAPIR_CONF_STRING, TAPIR_CONF_AT(TC, backend), .max = 7, .def = "tap",
	  .check = backend_check, .help = "tap, pcap (an existing interface) or vmnet (macOS)" },
	{ "name", TAPIR_CONF_STRING, TAPIR_CONF_AT(TC, ifname), .min = 1, .max = CONFIG_IFNAME_MAX,
	  .def = "tap0", .check = ifname_check,
	  .what = "an interface name (1 to 15 printable characters, no '/', ':' or spaces)",
	  .help = "the TAP device (created if missing) or the pcap interface" },
	{ "device", TAPIR_CONF_STRING, TAPIR_CONF_AT(TC, ifname), .min = 1, .max = CONFIG_IFNAME_MAX,
	  .check = ifname_check,
	  .what = "an interface name (1 to 15 printable characters, no '/', ':' or spaces)",
	  .help = "the same as name (pcap's word)" },
	{ "mac", TAPIR_CONF_MAC, TAPIR_CONF_AT(TC, mac), TAPIR_CONF_FLAG(TC, mac_set), .check = mac_check,
	  .help = "our MAC address (default: a random locally administered one)" },
	{ "mtu", TAPIR_CONF_UINT, TAPIR_CONF_AT(TC, mtu), .min = 68, .max = 65521, .def = "1500",
	  .help = "the device's MTU" },
	{ "offload", TAPIR_CONF_BOOL, TAPIR_CONF_AT(TC, offload), .def = "true",
	  .help = "TAP offloads (virtio-net header, TSO out, GRO'd frames in)" },
	{ "io_uring", TAPIR_CONF_BOOL, TAPIR_CONF_AT(TC, io_uring), .def = "true",
	  .help = "wait in io_uring with the TAP's read queued, where the kernel allows it (not with the gateway)" },
	{ "busy_poll", TAPIR_CONF_DURATION, TAPIR_CONF_AT(TC, busy_poll_ns), .max = 1000000,
	  .range = "0 to 1ms", .def = "50us",
	  .help = "waiting in io_uring, poll for the next frame before sleeping for at most this long, "
		  "as long as frames come within it (adaptive: an idle tapird never polls); 0: never" },
};

static const struct tapir_conf_key ipv4_keys[] = {
	{ "address", TAPIR_CONF_CUSTOM, .set = set_address,
	  .help = "ADDRESS/PREFIX, or dhcp: from a DHCP lease ([dhcp]) (required)" },
	{ "gateway", TAPIR_CONF_CUSTOM, .set = set_gateway,
	  .help = "the default router; none: none (ignored with address = dhcp: the lease's)" },
	{ "ttl", TAPIR_CONF_UINT, TAPIR_CONF_AT(TC, ttl), .min = 1, .max = 255, .def = "64",
	  .help = "TTL of the datagrams we send" },
	{ "reassembly_max_bytes", TAPIR_CONF_SIZE, TAPIR_CONF_AT(TC, reasm_max_bytes), .min = 65535,
	  .max = 1ull << 30, .range = "64KiB to 1GiB", .def = "4MiB",
	  .help = "fragments held for reassembly, all datagrams" },
	{ "reassembly_timeout", TAPIR_CONF_DURATION, TAPIR_CONF_AT(TC, reasm_timeout_ns), .min = 1000000,
	  .max = 3600 * SEC, .range = "1ms to 1h", .def = "30s",
	  .help = "how long an incomplete datagram is kept" },
	{ "min_pmtu", TAPIR_CONF_UINT, TAPIR_CONF_AT(TC, min_pmtu), .min = 68, .max = 65535, .def = "552",
	  .help = "lowest path MTU an ICMP report can set; below it: this, without DF" },
};

#define V6 struct tapir_ipv6_config

static const struct tapir_conf_enum addr_gen_names[] = {
	{ "stable-privacy", TAPIR_IPV6_ADDR_GEN_STABLE_PRIVACY }, { "eui64", TAPIR_IPV6_ADDR_GEN_EUI64 },
	{ NULL, 0 },
};

static const struct tapir_conf_key ipv6_keys[] = {
	{ "enabled", TAPIR_CONF_BOOL, TAPIR_CONF_AT(V6, enabled), .def = "true",
	  .help = "IPv6 (link-local address, NDP, SLAAC); false: IPv4 only" },
	{ "address", TAPIR_CONF_CUSTOM, .set = set_address6,
	  .help = "ADDRESS/PREFIX, repeatable or comma-separated (default: none; SLAAC)" },
	{ "gateway", TAPIR_CONF_CUSTOM, .set = set_gateway6,
	  .help = "a static default router (default: the routers of RAs); none: none" },
	{ "slaac", TAPIR_CONF_BOOL, TAPIR_CONF_AT(V6, slaac), .def = "true",
	  .help = "addresses and routers from Router Advertisements (RFC 4862)" },
	{ "addr_gen_mode", TAPIR_CONF_ENUM, TAPIR_CONF_AT(V6, addr_gen), .names = addr_gen_names,
	  .def = "stable-privacy", .what = "stable-privacy or eui64",
	  .help = "interface IDs: stable-privacy (RFC 7217) or eui64 (from the MAC)" },
	{ "stable_secret", TAPIR_CONF_CUSTOM, .set = set_stable_secret,
	  .help = "RFC 7217's secret, 32 hex digits (default: a random one kept in the state dir)" },
	{ "dad", TAPIR_CONF_BOOL, TAPIR_CONF_AT(V6, dad), .def = "true",
	  .help = "Duplicate Address Detection before an address is used" },
	{ "hop_limit", TAPIR_CONF_UINT, TAPIR_CONF_AT(V6, hop_limit), .min = 1, .max = 255, .def = "64",
	  .help = "hop limit of the packets we send (an RA may change it)" },
	{ "reassembly_max_bytes", TAPIR_CONF_SIZE, TAPIR_CONF_AT(V6, reasm_max_bytes), .min = 65535,
	  .max = 1ull << 30, .range = "64KiB to 1GiB", .def = "4MiB",
	  .help = "fragments held for IPv6 reassembly, all packets (IPv4 has its own)" },
	{ "reassembly_timeout", TAPIR_CONF_DURATION, TAPIR_CONF_AT(V6, reasm_timeout_ns), .min = 1000000,
	  .max = 3600 * SEC, .range = "1ms to 1h", .def = "60s",
	  .help = "how long an incomplete packet is kept (RFC 8200: 60s)" },
};

static const struct tapir_conf_key arp_keys[] = {
	{ "cache_size", TAPIR_CONF_UINT, TAPIR_CONF_AT(TC, arp_cache_size), .min = 1, .max = 1u << 20,
	  .def = "1024", .help = "entries of the ARP cache" },
	{ "timeout", TAPIR_CONF_DURATION, TAPIR_CONF_AT(TC, arp_timeout_ns), .min = SEC, .max = 86400 * SEC,
	  .range = "1s to 24h", .def = "60s", .help = "lifetime of a resolved entry" },
};

static const struct tapir_conf_key icmp_keys[] = {
	{ "error_rate", TAPIR_CONF_UINT, TAPIR_CONF_AT(TC, icmp_error_rate), .max = 1000000, .def = "100",
	  .help = "ICMP errors sent per second (token bucket rate)" },
	{ "error_burst", TAPIR_CONF_UINT, TAPIR_CONF_AT(TC, icmp_error_burst), .max = 1000000, .def = "50",
	  .help = "ICMP errors sent in a burst (token bucket size)" },
};

static const struct tapir_conf_enum log_levels[] = {
	{ "error", TAPIR_LOG_LEVEL_ERR }, { "err", TAPIR_LOG_LEVEL_ERR },
	{ "warn", TAPIR_LOG_LEVEL_WARN }, { "warning", TAPIR_LOG_LEVEL_WARN },
	{ "info", TAPIR_LOG_LEVEL_INFO }, { "debug", TAPIR_LOG_LEVEL_DEBUG },
	{ NULL, 0 },
};

static const struct tapir_conf_enum log_formats[] = {
	{ "text", CONFIG_LOG_TEXT }, { "json", CONFIG_LOG_JSON }, { NULL, 0 },
};

static const struct tapir_conf_key log_keys[] = {
	{ "level", TAPIR_CONF_ENUM, TAPIR_CONF_AT(TC, log_level), .names = log_levels, .def = "info",
	  .what = "a level (error, warn, info, debug)", .help = "messages up to this level" },
	{ "timestamps", TAPIR_CONF_BOOL, TAPIR_CONF_AT(TC, log_timestamps), .def = "false",
	  .help = "prefix every line with the UTC time" },
	{ "format", TAPIR_CONF_ENUM, TAPIR_CONF_AT(TC, log_format), .names = log_formats,
	  .def = "text", .what = "text or json",
	  .help = "text lines, or one JSON object per line (time, level, instance, message, "
		  "fields)" },
};

/*
 * [tcp]: the defaults of every flow (libstack's struct tapir_tcp_config, whose
 * defaults are libstack's tapir_tcp_config_defaults()).  The floors follow
 * RFC 1122 4.2.3.5 (R2 of at least 100 s: with a 200 ms minimum RTO and
 * doubling, 8 retransmissions take more than 100 s) and 3 minutes for SYNs
 * (6 retries from a 1 s RTO).
 */
#define TCPC struct tapir_tcp_config

static const struct tapir_conf_enum cc_names[] = {
	{ "newreno", TAPIR_TCP_CC_NEWRENO }, { "cubic", TAPIR_TCP_CC_CUBIC }, { NULL, 0 },
};

static const struct tapir_conf_key tcp_keys[] = {
	{ "keepalive", TAPIR_CONF_BOOL, TAPIR_CONF_AT(TCPC, keepalive), .help = "keep-alive probes (RFC 1122)" },
	{ "keepalive_idle", TAPIR_CONF_DURATION, TAPIR_CONF_AT(TCPC, keepalive_idle_ns), .min = SEC,
	  .max = 7 * 86400 * SEC, .range = "1s to 7d", .help = "idle time before the first probe" },
	{ "keepalive_interval", TAPIR_CONF_DURATION, TAPIR_CONF_AT(TCPC, keepalive_intvl_ns), .min = SEC,
	  .max = 86400 * SEC, .range = "1s to 24h", .help = "time between probes" },
	{ "keepalive_count", TAPIR_CONF_UINT, TAPIR_CONF_AT(TCPC, keepalive_count), .min = 1, .max = 1000,
	  .help = "unanswered probes before the flow is dropped" },
	{ "nodelay", TAPIR_CONF_BOOL, TAPIR_CONF_AT(TCPC, nodelay), .help = "Nagle's algorithm off" },
	{ "congestion_control", TAPIR_CONF_ENUM, TAPIR_CONF_AT(TCPC, cc), .names = cc_names,
	  .what = "cubic or newreno", .help = "the congestion controller (default cubic)" },
	{ "sndbuf", TAPIR_CONF_SIZE, TAPIR_CONF_AT(TCPC, sndbuf), .min = 4096, .max = 64u << 20,
	  .help = "send buffer per flow: its initial size (autotune grows it up to sndbuf_max)" },
	{ "rcvbuf", TAPIR_CONF_CUSTOM, .set = set_rcvbuf,
	  .help = "receive buffer per flow (4096 to 64MiB): its initial size (autotune grows it "
		  "up to rcvbuf_max), also the out-of-order limit" },
	{ "autotune", TAPIR_CONF_BOOL, TAPIR_CONF_AT(TCPC, autotune),
	  .help = "grow each flow's buffers with its delivery rate and cwnd (as Linux)" },
	{ "sndbuf_max", TAPIR_CONF_SIZE, TAPIR_CONF_AT(TCPC, sndbuf_max), .min = 4096,
	  .max = 1u << 30, .range = "4KiB to 1GiB",
	  .help = "the most autotune grows a flow's send buffer to (a quarter of Linux's tcp_wmem[2]: no TSQ)" },
	{ "rcvbuf_max", TAPIR_CONF_SIZE, TAPIR_CONF_AT(TCPC, rcvbuf_max), .min = 4096,
	  .max = 1u << 30, .range = "4KiB to 1GiB",
	  .help = "the most autotune grows a flow's receive window to (as tcp_rmem[2])" },
	{ "msl", TAPIR_CONF_DURATION, TAPIR_CONF_AT(TCPC, msl_ns), .min = SEC / 1000, .max = 600 * SEC,
	  .range = "1ms to 10min", .help = "maximum segment lifetime (TIME_WAIT is 2 MSL)" },
	{ "fin_wait2_timeout", TAPIR_CONF_DURATION, TAPIR_CONF_AT(TCPC, fin_wait2_ns), .min = SEC,
	  .max = 3600 * SEC, .range = "1s to 1h", .help = "orphaned FIN_WAIT_2 lifetime" },
	{ "backlog", TAPIR_CONF_UINT, TAPIR_CONF_AT(TCPC, backlog), .min = 1, .max = 1u << 20,
	  .help = "SYN queue and accept queue per listener" },
	{ "max_connections", TAPIR_CONF_UINT, TAPIR_CONF_AT(TCPC, max_connections), .min = 1,
	  .max = 1u << 20, .help = "flows of the stack, listeners excluded" },
	{ "max_retries", TAPIR_CONF_UINT, TAPIR_CONF_AT(TCPC, max_retries), .min = 8, .max = 100,
	  .help = "data retransmissions before the flow is aborted" },
	{ "syn_retries", TAPIR_CONF_UINT, TAPIR_CONF_AT(TCPC, syn_retries), .min = 1, .max = 100,
	  .help = "SYN retransmissions before connect() fails" },
	{ "syn_cookies", TAPIR_CONF_BOOL, TAPIR_CONF_AT(TCPC, syn_cookies),
	  .help = "answer with SYN cookies when the SYN queue or the table is full" },
	{ "max_tw", TAPIR_CONF_UINT, TAPIR_CONF_AT(TCPC, max_tw), .min = 0, .max = 1u << 20,
	  .help = "TIME_WAIT entries (not connections); when full the oldest is recycled" },
	{ "max_orphans", TAPIR_CONF_UINT, TAPIR_CONF_AT(TCPC, max_orphans), .min = 0, .max = 1u << 20,
	  .help = "connections closed by the application still finishing; beyond, the oldest "
		  "is reset" },
	{ "orphan_retries", TAPIR_CONF_UINT, TAPIR_CONF_AT(TCPC, orphan_retries), .min = 1, .max = 100,
	  .help = "zero-window probes of an orphan without progress before it is reset" },
	{ "max_memory", TAPIR_CONF_SIZE, TAPIR_CONF_AT(TCPC, max_memory), .min = 1u << 20,
	  .max = (uint64_t)64 << 30, .range = "1MiB to 64GiB",
	  .help = "buffers of all connections together; pressure above 3/4" },
};

static const struct tapir_conf_key dns_keys[] = {
	{ "servers", TAPIR_CONF_CUSTOM, .set = config_set_dns_servers,
	  .help = "resolvers, IPv4 or IPv6 ADDR, ... (up to 4; before DHCP's and RDNSS; none: none)" },
	{ "search", TAPIR_CONF_CUSTOM, .set = config_set_dns_search,
	  .help = "search domains, DOMAIN ... (up to 6; before DHCP's)" },
	{ "hosts", TAPIR_CONF_CUSTOM, .set = config_set_dns_hosts,
	  .help = "static names, NAME=ADDR, ... (repeat the key for more), asked first" },
	{ "cache_size", TAPIR_CONF_UINT, TAPIR_CONF_AT(TC, dns_cache_size), .max = 16384,
	  .def = "256", .help = "answers cached (positive and negative); 0: no cache" },
	{ "timeout", TAPIR_CONF_DURATION, TAPIR_CONF_AT(TC, dns_timeout_ns), .min = SEC / 100,
	  .max = 60 * SEC, .range = "10ms to 60s", .def = "2s",
	  .help = "wait for an answer before the next server (doubles each round)" },
	{ "attempts", TAPIR_CONF_UINT, TAPIR_CONF_AT(TC, dns_attempts), .min = 1, .max = 10,
	  .def = "2", .help = "rounds over the servers" },
	{ "ndots", TAPIR_CONF_UINT, TAPIR_CONF_AT(TC, dns_ndots), .max = 15, .def = "1",
	  .help = "dots that make a name be tried as given before the search domains" },
};

static const struct tapir_conf_key dhcp_keys[] = {
	{ "lease_file", TAPIR_CONF_STRING, TAPIR_CONF_AT(TC, dhcp_lease_file), .min = 1, .max = 255,
	  .check = socket_check, .what = "an absolute path of at most 255 bytes",
	  .help = "remember the lease here; restart in INIT-REBOOT from it" },
	{ "hostname", TAPIR_CONF_STRING, TAPIR_CONF_AT(TC, dhcp_hostname), .min = 1, .max = 63,
	  .check = hostname_check, .what = "a host name (letters, digits, '-', dots; 1 to 63)",
	  .help = "sent as option 12" },
	{ "client_id", TAPIR_CONF_STRING, TAPIR_CONF_AT(TC, dhcp_client_id), .min = 1, .max = 63,
	  .check = printable_check, .what = "printable text of 1 to 63 bytes",
	  .help = "option 61 as type 0 and this text (default: type 1 and the MAC)" },
	{ "release_on_stop", TAPIR_CONF_BOOL, TAPIR_CONF_AT(TC, dhcp_release), .def = "true",
	  .help = "send a DHCPRELEASE on a clean stop" },
	{ "arp_probe", TAPIR_CONF_BOOL, TAPIR_CONF_AT(TC, dhcp_probe), .def = "true",
	  .help = "ARP-probe an offered address before use (RFC 5227); a conflict declines it" },
};

static const struct tapir_conf_key control_keys[] = {
	{ "name", TAPIR_CONF_STRING, TAPIR_CONF_AT(TC, control_name), .min = 1, .max = CONTROL_NAME_MAX,
	  .check = name_check,
	  .what = "an instance name (1 to 32 letters, digits, '-', '_' or '.', not first)",
	  .help = "the instance name (default: the interface name)" },
	{ "socket", TAPIR_CONF_STRING, TAPIR_CONF_AT(TC, control_socket), .min = 1, .max = 107,
	  .check = socket_check, .what = "an absolute path of at most 107 bytes",
	  .help = "the socket path (default: RUNDIR/NAME.sock)" },
	{ "enabled", TAPIR_CONF_CUSTOM, .set = set_enabled, .help = "the control socket (true)" },
	{ "user", TAPIR_CONF_STRING, TAPIR_CONF_AT(TC, control_user), .min = 1, .max = 32,
	  .check = user_check, .what = "a user name",
	  .help = "the user to become once the TAP is open" },
	{ "sandbox", TAPIR_CONF_BOOL, TAPIR_CONF_AT(TC, sandbox), .def = "true",
	  .help = "no capabilities, no new privileges, seccomp (sandbox.h)" },
};

#define GWC struct gateway_config

static const struct tapir_conf_key gateway_keys[] = {
	{ "enabled", TAPIR_CONF_BOOL, TAPIR_CONF_AT(GWC, enabled), .def = "false",
	  .help = "be the namespace's router: splice flows to any address to host sockets" },
	{ "host_loopback", TAPIR_CONF_CUSTOM, .set = config_set_host_loopback,
	  .help = "flows to this address go to the host's 127.0.0.1 (default: none)" },
	{ "host_loopback6", TAPIR_CONF_CUSTOM, .set = config_set_host_loopback6,
	  .help = "flows to this IPv6 address go to the host's ::1 (default: none)" },
	{ "max_flows", TAPIR_CONF_UINT, TAPIR_CONF_AT(GWC, max_flows), .min = 1, .max = 1u << 20,
	  .def = "4096",
	  .help = "flows (TCP, pending connects, UDP, pings, the forwards'); beyond: refused" },
	{ "flow_buffer", TAPIR_CONF_SIZE, TAPIR_CONF_AT(GWC, flow_buffer), .min = 4096,
	  .max = 64u << 20, .def = "256KiB",
	  .help = "bytes held per flow and direction before the sender is paused" },
	{ "total_buffer", TAPIR_CONF_SIZE, TAPIR_CONF_AT(GWC, total_buffer), .min = 64u << 10,
	  .max = (uint64_t)16 << 30, .range = "64KiB to 16GiB", .def = "64MiB",
	  .help = "bytes held by all flows together; beyond, every sender is paused" },
	{ "udp_idle_timeout", TAPIR_CONF_DURATION, TAPIR_CONF_AT(GWC, udp_idle_ns), .min = SEC,
	  .max = 3600 * SEC, .range = "1s to 1h", .def = "60s",
	  .help = "a UDP flow (a forward's too, a ping socket) idle this long is closed" },
	{ "connect_timeout", TAPIR_CONF_DURATION, TAPIR_CONF_AT(GWC, connect_timeout_ns),
	  .min = SEC, .max = 600 * SEC, .range = "1s to 10min", .def = "20s",
	  .help = "a host-side connect() not done by then: the namespace's SYN goes unanswered" },
	{ "icmp_echo", TAPIR_CONF_BOOL, TAPIR_CONF_AT(GWC, icmp_echo), .def = "true",
	  .help = "forward pings through ping sockets (where net.ipv4.ping_group_range allows)" },
	{ "forward", TAPIR_CONF_CUSTOM, .set = config_set_forward,
	  .help = "host ports into the namespace: tcp/HOSTPORT:NSPORT, udp/HOSTPORT:NSPORT, ..." },
	{ "forward_address", TAPIR_CONF_CUSTOM, .set = config_set_forward_address,
	  .help = "the host addresses the forwarded ports bind to, one per family (default 127.0.0.1,::1)" },
	{ "dns", TAPIR_CONF_CUSTOM, .set = config_set_gw_dns,
	  .help = "resolvers the DNS relay asks: IPv4 or IPv6 ADDR, ... (default: the host's resolv.conf)" },
};

const struct config_section config_sections[] = {
	{ "netif", netif_keys, N(netif_keys), 0, ", impair.*" },
	{ "ipv4", ipv4_keys, N(ipv4_keys), 0, "" },
	{ "ipv6", ipv6_keys, N(ipv6_keys), offsetof(TC, ipv6), "" },
	{ "arp", arp_keys, N(arp_keys), 0, "" },
	{ "icmp", icmp_keys, N(icmp_keys), 0, "" },
	{ "log", log_keys, N(log_keys), 0, "" },
	{ "tcp", tcp_keys, N(tcp_keys), offsetof(TC, tcp), "" },
	{ "control", control_keys, N(control_keys), 0, "" },
	{ "gateway", gateway_keys, N(gateway_keys), offsetof(TC, gw), "" },
	{ "dns", dns_keys, N(dns_keys), 0, "" },
	{ "dhcp", dhcp_keys, N(dhcp_keys), 0, "" },
};
const size_t config_nsections = N(config_sections);

/* [kv.NAME]: struct kv_config */
const struct tapir_conf_key config_kv_keys[] = {
	{ "store", TAPIR_CONF_CUSTOM, .set = set_store,
	  .help = "the store: mem:, dir:PATH, tar:FILE or embedded:NAME (required)" },
	{ "writable", TAPIR_CONF_BOOL, TAPIR_CONF_AT(struct kv_config, writable), .def = "false",
	  .help = "apps may write (kvhttp needs it)" },
};
const size_t config_kv_nkeys = N(config_kv_keys);
