/*
 * config.h - tapird's configuration: INI file, built-in default, boot-argument
 *            overrides, validation
 *
 * Theory of operation
 *
 * A configuration is built in three steps, each of which returns an error
 * message instead of exiting (so the whole path is unit-tested and fuzzed):
 *
 *   config_init()          code defaults (no address, no apps)
 *   config_parse_ini()     an INI text (a file read by config_load_file(),
 *                          or config_default_ini); keys are applied as read
 *   config_apply_args()    boot arguments (--section.key=value), tokenised
 *                          as in bootargs.h, applied with the same setter
 *   config_finish()        resolve the apps (type, keys) and check what
 *                          involves several keys (gateway on the subnet,
 *                          address given, UDP ports unique)
 *
 * Every value is checked when set, and the place it came from ("FILE:LINE"
 * or "argument '--x.y=z'") is kept, so every message reads
 * "FILE:LINE: what is wrong" or "argument '--x.y=z': what is wrong".
 * Unknown sections and keys are errors.  The INI syntax is inih's (comments
 * start with ';' or '#', inline comments with " ;", a line starting with
 * whitespace continues the previous value); lines are limited to
 * CONFIG_MAX_LINE bytes and files to CONFIG_MAX_FILE bytes.
 *
 * Applications are [app.NAME] sections (NAME: letters, digits, '-', '_', at
 * most CONFIG_APP_NAME_MAX), with a type= key defaulting to NAME.  Their
 * keys are kept as given until config_finish() knows the type: each type
 * (struct tapir_app_conf_type) brings its own key table and checks, the built-in
 * ones from apps/ (app_conf.h), out-of-tree ones from tapir_run()'s caller.
 *
 * Key-value stores are [kv.NAME] sections: store = SPEC (required, any
 * tapir_kv_open() spec) and writable = BOOL (default false).  They are opened when
 * tapird starts; apps name them with kv = NAME.
 *
 * No global state; a struct tapird_config owns everything it points to.
 */
#ifndef TAPIR_CONFIG_H
#define TAPIR_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "impair.h"
#include "tapir/addr.h"
#include "tapir/app.h"
#include "tapir/conf.h"
#include "tapir/log.h"
#include "tapir/ipv6_config.h"
#include "tapir/tcp_config.h"

#define CONFIG_MAX_FILE (1u << 20)
#define CONFIG_MAX_LINE 195       /* inih's 200-byte line buffer, minus CR LF NUL */
#define CONFIG_MAX_APPS 64
#define CONFIG_MAX_APP_KEYS 32
#define CONFIG_APP_NAME_MAX 32
#define CONFIG_WHERE_MAX 200
#define CONFIG_IFNAME_MAX 15      /* IFNAMSIZ - 1 */
#define CONFIG_ERR_MAX 512        /* a good size for error buffers */


/* Where a value came from: "FILE:LINE" or "argument '--x.y=z'" */
struct config_where {
	char text[CONFIG_WHERE_MAX];
};

/* ---- applications ---- */

struct tapird_config;
struct app_config;


/* The port field @field (a uint16_t) of params struct @type, for udp_port/tcp_port */

struct app_key {
	char *key, *value;
	struct config_where where;
};

/* [kv.NAME]: a key-value store the apps can use (kv = NAME) */
#define CONFIG_MAX_KV 32
struct kv_config {
	char name[CONFIG_APP_NAME_MAX + 1];
	struct config_where where;       /* the section */
	char *spec;                      /* store = SPEC (kv.h: mem:, dir:, tar:, embedded:) */
	struct config_where where_spec;
	bool writable;                   /* writable = true (default false) */
};

struct app_config {
	char name[CONFIG_APP_NAME_MAX + 1];
	struct config_where where;       /* where the section was first seen */
	/* Raw keys, as given (resolved by config_finish()) */
	struct app_key keys[CONFIG_MAX_APP_KEYS];
	size_t nkeys;
	/* After config_finish(): */
	const char *type;                /* type name (the type's) */
	const struct tapir_app_conf_type *ctype;  /* the type, from config_finish()'s list */
	size_t type_index;               /* its index in that list */
	void *params;                    /* ctype->params_size bytes (at least 1), malloc'd:
	                                    the defaults, then the keys given */
};

/* [gateway] forward = tcp/HOSTPORT:NSPORT, ...: one port forward into the namespace */
#define CONFIG_MAX_FORWARDS 32
#define CONFIG_MAX_DNS 4
enum { CONFIG_FWD_TCP = 6, CONFIG_FWD_UDP = 17 };  /* IP protocol numbers */
struct config_forward {
	uint8_t proto;                   /* CONFIG_FWD_TCP or CONFIG_FWD_UDP */
	uint16_t host_port, ns_port;
};

/**
 * config_forward_parse() - Parse one forward: "tcp/8080:80", "udp/5353" (NSPORT = HOSTPORT)
 * @s:   The text (surrounding blanks allowed)
 * @out: Filled on success
 * @msg: Receives what is wrong
 *
 * Return: 0 or -EINVAL
 */
int config_forward_parse(const char *s, struct config_forward *out, char *msg, size_t msglen);

/* [gateway]: tapird as a namespace's router (daemon/gateway/gateway.h) */
struct gateway_config {
	bool enabled;                    /* forwarder mode, flows spliced to host sockets */
	uint32_t host_loopback;          /* flows to it go to the host's 127.0.0.1; 0: none */
	uint8_t host_loopback6[16];      /* flows to it go to the host's ::1 (if set) */
	bool host_loopback6_set;
	uint32_t max_flows;              /* spliced TCP + UDP flows + pending connects */
	uint64_t flow_buffer;            /* bytes buffered per flow and direction */
	uint64_t total_buffer;           /* bytes buffered by all flows together */
	uint64_t udp_idle_ns;            /* a UDP flow without traffic ends */
	uint64_t connect_timeout_ns;     /* host connect() before the SYN is dropped */
	bool icmp_echo;                  /* ping through ping sockets */
	struct config_where w_host_loopback, w_host_loopback6;
	/* port forwards and the DNS relay (daemon/gateway/forward.h, dns_relay.h) */
	struct config_forward forwards[CONFIG_MAX_FORWARDS];  /* forward = tcp/H:N, ... */
	size_t nforwards;
	uint32_t forward_addr;           /* forward_address's IPv4 (host order; default 127.0.0.1) */
	bool forward_v4, forward_v6;     /* forward_address has one of that family */
	uint8_t forward_addr6[16];       /* its IPv6 (default ::1; used when IPv6 is on) */
	struct tapir_addr dns[CONFIG_MAX_DNS];  /* dns = A, ... (0 servers: the host's resolv.conf) */
	size_t ndns;
};
/* [dns] hosts = NAME=ADDR: one static name */
#define CONFIG_DNS_NAME_MAX 253
struct config_dns_host {
	char name[CONFIG_DNS_NAME_MAX + 1];
	struct tapir_addr addr;
};
#define CONFIG_DNS_MAX_SERVERS 4        /* TAPIR_DNS_MAX_SERVERS */
#define CONFIG_DNS_MAX_SEARCH 6         /* TAPIR_DNS_MAX_SEARCH */
#define CONFIG_DNS_MAX_HOSTS 1024       /* TAPIR_DNS_MAX_HOSTS */

/* ---- the whole configuration ---- */

/* [log] format */
enum { CONFIG_LOG_TEXT, CONFIG_LOG_JSON };

struct tapird_config {
	/* [netif] */
	char backend[8];                 /* "tap" */
	char ifname[CONFIG_IFNAME_MAX + 1];
	uint8_t mac[6];
	bool mac_set;                    /* false: the daemon picks a random one */
	uint32_t mtu;
	bool offload;                    /* true: TAP offloads (virtio-net header, TSO) */
	bool io_uring;                   /* true: wait in io_uring (daemon/uring.h) if the kernel lets us */
	uint64_t busy_poll_ns;           /* longest poll before sleeping in io_uring; 0: none */
	struct impair_config impair;
	bool impair_seed_set;            /* false: the daemon picks a random seed */
	/* [ipv4] (addresses in host order) */
	uint32_t addr;
	uint8_t prefix_len;
	bool addr_set;
	uint32_t gateway;                /* 0: none */
	bool dhcp;                       /* address = dhcp: addr 0, the lease gives it */
	uint8_t ttl;
	uint64_t reasm_max_bytes;
	uint64_t reasm_timeout_ns;
	uint32_t min_pmtu;
	/* [ipv6] (libstack's struct; neigh_cache_size stays default; stable_secret
	 * all zero: the daemon's kept random one; net_iface: the daemon's) */
	struct tapir_ipv6_config ipv6;
	/* [arp] */
	uint64_t arp_cache_size;
	uint64_t arp_timeout_ns;
	/* [icmp] */
	uint32_t icmp_error_rate, icmp_error_burst;
	/* [tcp] */
	struct tapir_tcp_config tcp;
	/* [dns] (the resolver, tapir/dns.h) */
	struct tapir_addr dns_servers[CONFIG_DNS_MAX_SERVERS];
	size_t dns_nservers;
	char dns_search[CONFIG_DNS_MAX_SEARCH][CONFIG_DNS_NAME_MAX + 1];
	size_t dns_nsearch;
	struct config_dns_host *dns_hosts;  /* malloc'd array of @dns_nhosts */
	size_t dns_nhosts;
	uint32_t dns_cache_size;
	uint64_t dns_timeout_ns;
	uint32_t dns_attempts, dns_ndots;
	/* [dhcp] (with [ipv4] address = dhcp) */
	char dhcp_lease_file[256];       /* "": none */
	char dhcp_hostname[64];          /* option 12; "": none */
	char dhcp_client_id[65];         /* option 61 (type 0 + text); "": type 1 + MAC */
	bool dhcp_release;               /* release_on_stop */
	bool dhcp_probe;                 /* arp_probe: RFC 5227 before using an address */
	/* [log] */
	enum tapir_log_level log_level;
	bool log_timestamps;
	int log_format;                  /* CONFIG_LOG_TEXT or CONFIG_LOG_JSON */
	/* [app.*] */
	struct app_config *apps;         /* malloc'd array of @napps */
	size_t napps;
	/* [kv.*] */
	struct kv_config *kvs;           /* malloc'd array of @nkvs */
	size_t nkvs;
	/* [control] (control socket, control.h) */
	char control_name[33];           /* instance name; "": the interface name */
	char control_socket[108];        /* socket path; "": the default for the name */
	bool control_disabled;           /* enabled = false */
	char control_user[33];           /* user = NAME: drop to it once the TAP is open */
	bool sandbox;                    /* sandbox = true: sandbox.h (--no-sandbox: off) */
	/* [gateway] */
	struct gateway_config gw;

	/* Origins used by the checks across keys */
	struct config_where w_addr, w_gateway;
};

/*
 * The fixed sections ([netif], [ipv4], [ipv6], [arp], [icmp], [log], [tcp],
 * [control], [gateway]): a key table each (config_keys.c) over the struct at @offset
 * in struct tapird_config; @more ends the list of keys in messages.
 */
struct config_section {
	const char *name;
	const struct tapir_conf_key *keys;
	size_t nkeys;
	size_t offset;
	const char *more;
};
extern const struct config_section config_sections[];
extern const size_t config_nsections;
/* [kv.NAME]: keys over struct kv_config */
extern const struct tapir_conf_key config_kv_keys[];
extern const size_t config_kv_nkeys;

/*
 * The checks and setters the key tables share across files (config_keys.c,
 * config_servers.c).  The setters are TAPIR_CONF_CUSTOM's (tapir/conf.h):
 * 0, or -EINVAL with what is wrong in @msg.
 */
const char *config_unicast_problem(uint32_t a);  /* why @a is no unicast address, or NULL */
int config_unicast_or_none(const char *value, uint32_t *out, char *msg, size_t msglen);
int config_parse6(const char *s, uint8_t out[16], char *msg, size_t msglen);
int config_set_dns_servers(void *base, const char *value, const char *where, char *msg,
			   size_t msglen);
int config_set_dns_search(void *base, const char *value, const char *where, char *msg,
			  size_t msglen);
int config_set_dns_hosts(void *base, const char *value, const char *where, char *msg,
			 size_t msglen);
int config_set_forward(void *base, const char *value, const char *where, char *msg,
		       size_t msglen);
int config_set_forward_address(void *base, const char *value, const char *where, char *msg,
			       size_t msglen);
int config_set_gw_dns(void *base, const char *value, const char *where, char *msg,
		      size_t msglen);
int config_set_host_loopback(void *base, const char *value, const char *where, char *msg,
			     size_t msglen);
int config_set_host_loopback6(void *base, const char *value, const char *where, char *msg,
			      size_t msglen);

/* The built-in configuration (the same text as conf/tapird.conf). */
extern const char config_default_ini[];

/* Fill @c with the code defaults: tap0, MTU 1500, TTL 64, ... no address. */
void config_init(struct tapird_config *c);

/* Free what @c owns (not @c).  Safe on an initialised config only. */
void config_free(struct tapird_config *c);

/**
 * config_parse_ini() - Apply an INI text
 * @c:      Configuration (from config_init())
 * @name:   Source name used in messages ("tapird.conf", "(built-in)")
 * @text:   The text, @len bytes, need not be NUL-terminated
 * @len:    Its length
 * @err:    Receives "NAME:LINE: what is wrong" on error
 * @errlen: Size of @err
 *
 * Return: 0, -EINVAL (message in @err) or -ENOMEM
 */
int config_parse_ini(struct tapird_config *c, const char *name, const char *text, size_t len,
		     char *err, size_t errlen);

/* Read @path (at most CONFIG_MAX_FILE bytes) and config_parse_ini() it.
 * Return: 0, -EINVAL, -ENOMEM, or -errno of the read ("PATH: reason" in @err) */
int config_load_file(struct tapird_config *c, const char *path, char *err, size_t errlen);

/**
 * config_set() - Set one key
 * @section: "netif", "ipv4", "arp", "icmp", "log", "tcp", "kv.NAME" or "app.NAME"
 * @where:   Origin, for messages ("FILE:LINE" or "argument '...'")
 *
 * Return: 0, -EINVAL ("WHERE: what is wrong" in @err), -ENOMEM
 */
int config_set(struct tapird_config *c, const char *section, const char *key, const char *value,
	       const char *where, char *err, size_t errlen);

/**
 * config_apply_args() - Apply boot arguments
 * @args:  Arguments (tapird's own options already removed), joined with
 *         spaces and tokenised by bootargs_tokenize()
 * @nargs: Number of @args
 *
 * Return: 0, -EINVAL ("argument '--x.y=z': what is wrong" in @err), -ENOMEM
 */
int config_apply_args(struct tapird_config *c, char *const *args, size_t nargs, char *err,
		      size_t errlen);

/**
 * config_finish() - Resolve the apps and check the keys against each other
 * @types:  The app types [app.NAME] sections may name (borrowed: they must
 *          outlive @c), in the order messages list them; the first of a
 *          name wins.  The runtime gives the built-in ones and tapir_run()'s;
 *          tests and fuzzers give apps/app_conf.h's app_builtin_confs.
 * @ntypes: Number of @types
 * @source: Name of the configuration's source, for errors that belong to no
 *          line (a missing address)
 *
 * Each app gets its type (a->ctype, a->type_index in @types) and its
 * params: the type's defaults, then its keys; an unknown key is an error
 * naming the type's keys; then the type's check().
 *
 * Return: 0, -EINVAL (message in @err) or -ENOMEM
 */
int config_finish(struct tapird_config *c, const struct tapir_app_conf_type *const *types,
		  size_t ntypes, const char *source, char *err, size_t errlen);

/* Return: where @a's key @key came from ("FILE:LINE"...), else where its section did */
const char *config_app_where(const struct app_config *a, const char *key);
/* Return: the TCP (@tcp) or UDP port @a listens on (after config_finish()), 0: none */
uint16_t config_app_port(const struct app_config *a, bool tcp);

/* Return: the [kv.NAME] store called @name, or NULL */
const struct kv_config *config_kv_find(const struct tapird_config *c, const char *name);

/* Names for messages */
const char *config_log_level_name(enum tapir_log_level l);
/* The netmask of prefix length @p (0 to 32), host order */
uint32_t config_prefix_mask(uint8_t p);

#endif /* TAPIR_CONFIG_H */
