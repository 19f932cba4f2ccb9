/*
 * runtime.c - the tapir runtime (tapir_run()): configuration, libuv loop,
 *             backend, stack, key-value stores, apps; tapird is a main() over it
 *
 * Theory of operation
 *
 * tapir_run() builds the whole configuration first (built-in default or --config
 * FILE, then boot arguments, then config_finish() with every app type: the
 * built-in ones, then the caller's, one list by name) and exits 2 with
 * "WHERE: what is wrong" if anything is wrong, before touching the network.
 * It then opens the TAP, links the netif filters between it and the stack
 * (tapir_netif_chain(), netif.h: the capture next to the device, then the
 * impairment when one is configured), creates the stack on the top of the
 * chain, opens the [kv.NAME] stores, starts the apps (each with a struct
 * tapir_app_ctx, tapir/app.h) and runs a libuv loop, waiting in io_uring with
 * the TAP's read queued where the kernel allows it (uring.h; a frame then
 * comes to on_uring_frame(), already read, and libuv runs when its own
 * descriptor or timer says so), else in libuv's epoll:
 *
 *   uv_poll (TAP readable) -> tap_read_batch(): each frame to the bottom of
 *                             the chain (d->rx), whose filters pass it up
 *                             to to_stack(): traceroute's watch, then
 *                             tapir_stack_input(); then tapir_stack_flush()
 *   uv_timer               -> impair_poll(), tap_read_batch() (what is queued
 *                             already: timers judge no flow on a view older
 *                             than the TAP's queue), tapir_stack_poll(),
 *                             tapir_dns_poll() (the instance's resolver),
 *                             tapir_stack_flush()
 *   uv_timer (per app      -> the app's callback, then tapir_stack_flush()
 *     timer, tapir_timer)
 *   uv_signal INT, TERM    -> stop the apps, close the handles; main frees
 *                             everything and exits 0
 *   uv_signal HUP          -> stores_reload() (stores.c; as the control "reload")
 *
 * After every event the one timer is re-armed from the earlier of
 * tapir_stack_next_deadline(), tapir_dns_next_deadline() and impair_next_deadline().  Time is uv_hrtime()
 * (monotonic ns), read again for every frame; the stack's randomness comes from OpenSSL's RAND_bytes() (through
 * a 256-byte pool: runtime_random()).  The apps' devices (timers, stores, clocks)
 * are in app_ctx.c, the stores' opening and reload in stores.c; runtime.h holds
 * the state the three share.
 *
 * Exit status: 0 after SIGINT/SIGTERM or --help/--version, 2 for a bad
 * configuration or argument, 1 when the network cannot be set up or fails.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <uv.h>

#include <time.h>

#include "apps.h"
#include "runtime.h"
#include "config.h"
#include "gateway.h"
#include "dhcp.h"
#include "ipv6_secret.h"
#include "impair.h"
#include "tapir/dns.h"
#include "service.h"
#include "uring.h"
#include "services.h"
#include "tapir/kv.h"
#include "tapir/log.h"
#include "tapir/stack.h"
#include "tap.h"
#include "tapir/app.h"
#include "tapir_version.h"
#include "tapird_ctl.h"
#include "wire/eth.h"


/* ---- randomness and logging for the stack ---- */

/*
 * The stack asks for a few bytes at a time, often (IPv4 IDs, ISNs, ports):
 * they come from a pool of RAND_bytes() output refilled 256 bytes at a time
 * (each RAND_bytes() call costs a getpid() and a DRBG run); bytes handed out
 * are wiped from the pool.  tapird never forks, so no copy of it is shared.
 */
void runtime_random(void *ctx, void *buf, size_t len)
{
	struct daemon *d = ctx;
	if (d && len <= sizeof(d->rnd) / 4) {
		if (d->rnd_left < len) {
			if (RAND_bytes(d->rnd, (int)sizeof(d->rnd)) != 1)
				goto direct;
			d->rnd_left = sizeof(d->rnd);
		}
		uint8_t *p = d->rnd + sizeof(d->rnd) - d->rnd_left;
		memcpy(buf, p, len);
		OPENSSL_cleanse(p, len);
		d->rnd_left -= len;
		return;
	}
direct:
	if (RAND_bytes(buf, (int)len) == 1)
		return;
	/* OpenSSL failed (it never should): ask the kernel directly. */
	uint8_t *p = buf;
	while (len) {
		ssize_t n = getrandom(p, len, 0);
		if (n < 0)
			continue;  /* EINTR; the call does not otherwise fail */
		p += n;
		len -= (size_t)n;
	}
}

static void stack_log(void *ctx, enum tapir_stack_log_level level, const char *msg)
{
	struct daemon *d = ctx;
	tapir_log_msg(&d->log, (enum tapir_log_level)level, "stack: %s", msg);
}

/* ---- the loop ---- */

static void on_timer(uv_timer_t *t);

void runtime_rearm(struct daemon *d)
{
	if (d->stopping)
		return;
	uint64_t deadline = tapir_stack_next_deadline(d->st);
	uint64_t dd = tapir_dns_next_deadline(d->dns);
	if (dd < deadline)
		deadline = dd;
	if (d->im) {
		uint64_t i = impair_next_deadline(d->im);
		if (i < deadline)
			deadline = i;
	}
	deadline = tapird_ctl_deadline(d->ctl, deadline);
	if (deadline == TAPIR_STACK_NO_DEADLINE) {
		uv_timer_stop(&d->timer);
		return;
	}
	uint64_t now = uv_hrtime();
	uint64_t ms = 0;
	/* libuv timers have millisecond resolution: round up, never early. */
	if (deadline > now)
		ms = (deadline - now + 999999) / 1000000;
	uv_update_time(&d->loop);
	uv_timer_start(&d->timer, on_timer, ms, 0);
}

/* The top of the receive chain: what the filters pass on reaches the stack. */
static void to_stack(void *ctx, const uint8_t *frame, size_t len, unsigned flags)
{
	struct daemon *d = ctx;
	/* Each frame's own time: what a batch's earlier frames made the stack
	 * write (each TAP write runs the kernel's receive path, tens of µs for a
	 * TSO frame) would otherwise make a batch's later ACKs look as old as
	 * its first, and the timers armed from them fire early. */
	d->now = uv_hrtime();
	tapird_ctl_rx(d->ctl, frame, len, d->now);
	tapir_stack_input(d->st, frame, len, flags, d->now);
}

static void stop(struct daemon *d, int code);

static void on_readable(uv_poll_t *p, int status, int events)
{
	struct daemon *d = p->data;
	if (status < 0) {
		tapir_log_err(&d->log, "%s: poll: %s", tap_name(d->tap), uv_strerror(status));
		stop(d, 1);
		return;
	}
	d->now = uv_hrtime();
	if (d->im)
		impair_poll(d->im, d->now);
	int n = tap_read_batch(d->tap, d->rx.input, d->rx.ctx);
	tapir_stack_flush(d->st);
	if (n < 0) {
		tapir_log_err(&d->log, "%s: read: %s", tap_name(d->tap), strerror(-n));
		stop(d, 1);
		return;
	}
	runtime_rearm(d);
}

/* A frame read by the ring (uring.h): as on_readable(), without the read */
static void on_uring_frame(void *ctx, int res)
{
	struct daemon *d = ctx;
	if (d->stopping)
		return;
	if (res < 0) {
		tapir_log_err(&d->log, "%s: read: %s", tap_name(d->tap), strerror(-res));
		stop(d, 1);
		return;
	}
	d->now = uv_hrtime();
	if (d->im)
		impair_poll(d->im, d->now);
	tap_rx_frame(d->tap, (size_t)res, d->rx.input, d->rx.ctx);
	tapir_stack_flush(d->st);
	runtime_rearm(d);
}

static void on_timer(uv_timer_t *t)
{
	struct daemon *d = t->data;
	d->now = uv_hrtime();
	if (d->im)
		impair_poll(d->im, d->now);
	/* libuv runs timers before it polls: after a long turn (a batch of ACKs
	 * that each sent more) the kernel's next ACKs may be queued on the TAP
	 * already.  Read them first, so that no timer (TLP, RACK, RTO) judges a
	 * flow on a view older than the device's queue: a probe or a retransmit
	 * sent then is spurious, and the duplicate ACKs it draws fill the queue. */
	int n = tap_read_batch(d->tap, d->rx.input, d->rx.ctx);
	if (n < 0) {
		tapir_log_err(&d->log, "%s: read: %s", tap_name(d->tap), strerror(-n));
		stop(d, 1);
		return;
	}
	d->now = uv_hrtime();
	tapir_stack_poll(d->st, d->now);
	tapir_dns_poll(d->dns, d->now);
	tapird_ctl_poll(d->ctl, d->now);
	tapir_stack_flush(d->st);
	runtime_rearm(d);
}

static void on_signal(uv_signal_t *s, int signum)
{
	struct daemon *d = s->data;
	tapir_log_info(&d->log, "%s: stopping", signum == SIGINT ? "SIGINT" : "SIGTERM");
	stop(d, d->exit_code);
}

static void stop_forwards(struct daemon *d)
{
	gw_services_stop(d->svc);
	d->svc = NULL;
}

static void stop_apps(struct daemon *d)
{
	stop_forwards(d);
	for (size_t i = d->napps; i-- > 0;) {
		d->apps[i].type->stop(d->apps[i].state);
		/* what the app left resolving never calls back (dns.h) */
		tapir_dns_cancel_owner(d->dns, &d->apps[i].ctx);
	}
	free(d->apps);
	d->apps = NULL;
	d->napps = 0;
	for (size_t i = 0; i < d->nkvs; i++)
		tapir_kv_close(d->kvs[i].store);
	free(d->kvs);
	d->kvs = NULL;
	d->nkvs = 0;
}

static void stop(struct daemon *d, int code)
{
	if (d->stopping)
		return;
	d->stopping = true;
	d->exit_code = code;
	stop_apps(d);
	if (d->dh) {  /* DHCPRELEASE ([dhcp] release_on_stop) */
		tapird_dhcp_stop(d->dh, uv_hrtime());
		tapir_stack_flush(d->st);
	}
	gateway_stop(d->gw);
	tapird_ctl_stop(d->ctl);
	if (d->handles_open) {
		uv_close((uv_handle_t *)&d->poll, NULL);
		uv_close((uv_handle_t *)&d->timer, NULL);
		uv_close((uv_handle_t *)&d->sigint, NULL);
		uv_close((uv_handle_t *)&d->sigterm, NULL);
		uv_close((uv_handle_t *)&d->sighup, NULL);
		d->handles_open = false;
	}
}

/* ---- DHCP ---- */

/* The runtime's lease hook: tell the apps of a new or lost address */
static void lease_to_apps(void *ctx, const struct tapir_dhcp_lease *l)
{
	struct daemon *d = ctx;
	uint32_t old = d->addr, now_addr = l ? l->addr : 0;
	char a[16];
	if (l)
		tapir_log_info(&d->log, "dhcp: address %s/%u%s", tapir_ipv4_addr_format(l->addr, a),
			       l->prefix_len, old == l->addr ? " (renewed)" : "");
	else
		tapir_log_info(&d->log, "dhcp: no address");
	d->addr = now_addr;
	if (old == now_addr)
		return;
	for (size_t i = 0; i < d->napps; i++)
		if (d->apps[i].type->addr_changed)
			d->apps[i].type->addr_changed(d->apps[i].state, old, now_addr);
}

/* The resolver's lease hook: the lease's DNS servers and search list (its
 * domain name when it has no list, as resolv.conf's "domain") become the
 * resolver's DHCP source, used when [dns] gives none; a lost lease clears it. */
static void lease_to_dns(void *ctx, const struct tapir_dhcp_lease *l)
{
	struct daemon *d = ctx;
	struct tapir_addr servers[TAPIR_DNS_MAX_SERVERS];
	const char *search[TAPIR_DNS_MAX_SEARCH];
	size_t ns = 0, nq = 0;

	if (!d->dns)
		return;
	for (size_t i = 0; l && i < l->ndns && ns < TAPIR_DNS_MAX_SERVERS; i++)
		servers[ns++] = tapir_addr_v4(l->dns[i]);
	for (size_t i = 0; l && i < l->nsearch && nq < TAPIR_DNS_MAX_SEARCH; i++)
		search[nq++] = l->search[i];
	if (l && !nq && l->domain[0])
		search[nq++] = l->domain;
	if (tapir_dns_set_servers(d->dns, TAPIR_DNS_SRC_DHCP, servers, ns) ||
	    tapir_dns_set_search(d->dns, TAPIR_DNS_SRC_DHCP, search, nq))
		tapir_log_warn(&d->log, "dhcp: the lease's DNS servers or search list not taken");
}

/* ---- start-up ---- */

static void usage(FILE *f)
{
	fprintf(f,
		"usage: tapird [--config FILE] [--section.key=value ...]\n"
		"       tapird --help | --version\n"
		"\n"
		"Run a tapir stack on a TAP interface with the applications configured.\n"
		"\n"
		"  --no-sandbox    for debugging: no privilege drop or seccomp, whatever\n"
		"                  [control] sandbox says\n"
		"  --config FILE   read the configuration from FILE (INI) instead of the\n"
		"                  built-in default (shipped as conf/tapird.conf)\n"
		"  --section.key=value\n"
		"                  boot argument: override any key, e.g. --netif.mtu=9000,\n"
		"                  --ipv4.address=198.51.100.2/24, --app.echo.port=7007,\n"
		"                  --netif.impair.loss=1%%; split as MirageOS does (\\\n"
		"                  escapes, \"...\" quotes)\n"
		"  --help          show this help\n"
		"  --version       show the version\n"
		"\n"
		"Environment: TAPIR_TAP_FD=N[,vnet] takes TAP descriptor N, attached in\n"
		"another namespace (tapir up --netns new --gateway), instead of opening\n"
		"[netif] name here.\n"
		"\n"
		"Exit status: 0 stopped by SIGINT/SIGTERM, 1 network error,\n"
		"2 bad configuration or argument.\n");
}

/* After a gateway callback touched the stack: send, and re-arm the timer */
static void gateway_after(void *ctx)
{
	struct daemon *d = ctx;

	tapir_stack_flush(d->st);
	runtime_rearm(d);
}

/* The resolver and its [dns] configuration.  Return: 0 or -1 (logged) */
static int start_dns(struct daemon *d)
{
	const struct tapird_config *c = &d->cfg;
	struct tapir_dns_config dc;
	const char *search[CONFIG_DNS_MAX_SEARCH];
	int rc;

	tapir_dns_config_defaults(&dc);
	dc.cache_size = c->dns_cache_size;
	dc.timeout_ns = c->dns_timeout_ns;
	dc.attempts = c->dns_attempts;
	dc.ndots = c->dns_ndots;
	rc = tapir_dns_new(&d->dns, d->st, &dc);
	if (rc) {
		tapir_log_err(&d->log, "cannot create the resolver: %s", strerror(-rc));
		return -1;
	}
	for (size_t i = 0; i < c->dns_nsearch; i++)
		search[i] = c->dns_search[i];
	if ((rc = tapir_dns_set_servers(d->dns, TAPIR_DNS_SRC_CONFIG, c->dns_servers,
					c->dns_nservers)) ||
	    (rc = tapir_dns_set_search(d->dns, TAPIR_DNS_SRC_CONFIG, search, c->dns_nsearch))) {
		tapir_log_err(&d->log, "[dns]: %s", strerror(-rc));
		return -1;
	}
	for (size_t i = 0; i < c->dns_nhosts; i++) {
		rc = tapir_dns_add_host(d->dns, c->dns_hosts[i].name, &c->dns_hosts[i].addr);
		if (rc) {
			tapir_log_err(&d->log, "[dns] hosts %s: %s", c->dns_hosts[i].name,
				      strerror(-rc));
			return -1;
		}
	}
	return 0;
}

static int start_network(struct daemon *d)
{
	struct tapird_config *c = &d->cfg;
	char err[CONFIG_ERR_MAX];
	char mac[18], addr[16];

	if (!c->mac_set) {
		runtime_random(NULL, c->mac, 6);
		c->mac[0] = (uint8_t)((c->mac[0] & 0xfe) | 0x02);  /* unicast, local */
	}
	/* Offloads change frames (super-segments, partial checksums) that the
	 * impairment layer works on one by one: not with it. */
	bool offload = c->offload && !impair_config_active(&c->impair);
	/* `tapir up --netns new --gateway` opened the TAP in the new namespace
	 * and hands it over: we stay in this one for the gateway's sockets */
	const char *handed = getenv("TAPIR_TAP_FD");
	int rc;
	if (handed && !strcmp(c->backend, "tap")) {
		char *end;
		long fd = strtol(handed, &end, 10);
		if (fd < 3 || fd > 65535 || (*end && strcmp(end, ",vnet"))) {
			tapir_log_err(&d->log, "TAPIR_TAP_FD='%s': not FD or FD,vnet", handed);
			return -1;
		}
		rc = tap_open_fd(&d->tap, (int)fd, *end != 0, c->mtu, c->mac, err, sizeof(err));
		unsetenv("TAPIR_TAP_FD");
	} else {
		handed = NULL;
		rc = tap_open_backend(&d->tap, c->backend, c->ifname, c->mtu, c->mac, offload, err,
				      sizeof(err));
	}
	if (rc) {
		tapir_log_err(&d->log, "%s", err);
		return -1;
	}
	if (offload && !handed && !tap_offloads(d->tap) && !strcmp(c->backend, "tap"))
		tapir_log_warn(&d->log, "%s: offloads unavailable (%s); running without",
			 tap_name(d->tap), tap_offload_error(d->tap));
	tap_mac(d->tap, c->mac);  /* vmnet assigns its own */
	if (!tap_created(d->tap) && !handed) {
		int kmtu = tap_kernel_mtu(d->tap);
		if (kmtu > 0 && (uint32_t)kmtu != c->mtu)
			tapir_log_warn(&d->log, "%s existed with MTU %d; ours is %u", tap_name(d->tap),
				 kmtu, c->mtu);
	}
	if (tapird_ctl_new(&d->ctl, c)) {
		tapir_log_err(&d->log, "out of memory");
		return -1;
	}
	/* The filters, from the device up: the capture (records what the wire
	 * carries), then the impairment. */
	struct tapir_netif_filter *filters[2];
	size_t nfilters = 0;
	if (tapird_ctl_filter(d->ctl))
		filters[nfilters++] = tapird_ctl_filter(d->ctl);
	if (impair_config_active(&c->impair)) {
		if (!c->impair_seed_set)
			runtime_random(NULL, &c->impair.seed, sizeof(c->impair.seed));
		d->im = impair_new(&c->impair);
		if (!d->im) {
			tapir_log_err(&d->log, "out of memory");
			return -1;
		}
		const struct impair_config *i = &c->impair;
		tapir_log_info(&d->log,
			 "impairment (%s): loss %uppm duplicate %uppm reorder %uppm corrupt "
			 "%uppm delay %lluns jitter %lluns seed %llu",
			 i->tx && i->rx ? "both" : i->tx ? "tx" : "rx", i->loss_ppm, i->dup_ppm,
			 i->reorder_ppm, i->corrupt_ppm, (unsigned long long)i->delay_ns,
			 (unsigned long long)i->jitter_ns, (unsigned long long)i->seed);
		filters[nfilters++] = impair_filter(d->im);
	}
	struct tapir_netif dev, nif;
	struct tapir_netif_rx up = { to_stack, d };
	tap_netif(d->tap, &dev);
	tapir_netif_chain(&dev, &up, filters, nfilters, &nif, &d->rx);

	struct tapir_stack_config sc;
	tapir_stack_config_defaults(&sc);
	sc.addr = c->addr;
	sc.prefix_len = c->prefix_len;
	sc.gateway = c->gateway;
	sc.default_ttl = c->ttl;
	sc.arp_cache_size = (size_t)c->arp_cache_size;
	sc.arp_timeout_ns = c->arp_timeout_ns;
	sc.reasm_max_bytes = (size_t)c->reasm_max_bytes;
	sc.reasm_timeout_ns = c->reasm_timeout_ns;
	sc.min_pmtu = c->min_pmtu;
	sc.icmp_error_rate = c->icmp_error_rate;
	sc.icmp_error_burst = c->icmp_error_burst;
	sc.tcp = c->tcp;
	sc.ipv6 = c->ipv6;
	/* RFC 7217: Net_Iface is the interface's name (the MAC is random by
	 * default), the secret [ipv6] stable_secret or the one kept in the state
	 * directory, so that the addresses survive restarts */
	const char *ifn = tap_name(d->tap);
	memcpy(sc.ipv6.net_iface, ifn, strnlen(ifn, sizeof(sc.ipv6.net_iface) - 1));
	static const uint8_t no_secret[16];
	if (sc.ipv6.enabled && sc.ipv6.addr_gen == TAPIR_IPV6_ADDR_GEN_STABLE_PRIVACY &&
	    !memcmp(sc.ipv6.stable_secret, no_secret, 16) &&
	    tapird_ipv6_secret(c->control_name[0] ? c->control_name : ifn, sc.ipv6.stable_secret,
			       runtime_random, &d->log))
		return -1;
	sc.random = runtime_random;
	sc.random_ctx = d;  /* its pool */
	sc.log = stack_log;
	sc.log_ctx = d;
	d->now = uv_hrtime();
	if (d->im)
		impair_poll(d->im, d->now);
	rc = tapir_stack_new(&d->st, &sc, &nif, d->now);
	if (rc) {
		tapir_log_err(&d->log, "cannot create the stack: %s", strerror(-rc));
		return -1;
	}
	d->addr = c->addr;
	if (c->dhcp) {
		/* The one place a lease change is announced: tapird_dhcp_on_lease() */
		d->dh = tapird_dhcp_new(c, &d->log);
		if (!d->dh || tapird_dhcp_on_lease(d->dh, lease_to_apps, d) ||
		    tapird_dhcp_on_lease(d->dh, lease_to_dns, d)) {
			tapir_log_err(&d->log, "out of memory");
			return -1;
		}
	}
	if (!d->im) {  /* offloads pass through the capture wrapper's write() */
		struct tapir_netif_offload off;
		tap_netif_offload(d->tap, &off);
		tapir_stack_set_offload(d->st, &off);
		if (off.ops)
			tapir_log_info(&d->log, "%s: offloads on (TSO over IPv4 and IPv6, checksum, GRO)", tap_name(d->tap));
	}

	if (start_dns(d) < 0)
		return -1;
	service_raise_nofile();  /* streamed values hold their files open */
	if (stores_open(d) < 0)
		return -2;
	d->apps = calloc(c->napps ? c->napps : 1, sizeof(*d->apps));
	if (!d->apps) {
		tapir_log_err(&d->log, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < c->napps; i++) {
		const struct tapir_app_type *t = d->types[c->apps[i].type_index];
		struct running_app *ra = &d->apps[d->napps];
		ra->ctx = (struct tapir_app_ctx){
			.name = c->apps[i].name,
			.cfg = &c->apps[i],
			.params = c->apps[i].params,
			.st = d->st,
			.log = &d->log,
			.runtime = d,
			.dns = d->dns,
		};
		app_ctx_devices(&ra->ctx);
		rc = t->start(&ra->ctx, &ra->state);
		if (rc)
			return -1;
		ra->type = t;
		d->napps++;
	}
	if (c->gw.enabled) {
		rc = gateway_start(&d->gw, &d->loop, d->st, &c->gw, &d->log, gateway_after, d);
		if (rc)
			return -1;
	}
	tapir_stack_start(d->st, d->now);
	if (d->dh && tapird_dhcp_start(d->dh, d->st, d->now))
		return -1;
	tapir_stack_flush(d->st);

	eth_addr_format(c->mac, mac);
	char where[24];
	if (c->dhcp)
		snprintf(where, sizeof(where), "dhcp");
	else
		snprintf(where, sizeof(where), "%s/%u", tapir_ipv4_addr_format(c->addr, addr),
			 c->prefix_len);
	printf("tapird: %s %s %s mtu %u up\n", tap_name(d->tap), mac, where, c->mtu);
	fflush(stdout);
	tapir_log_info(&d->log, "%s %s %s mtu %u%s, %zu app(s)", tap_name(d->tap), mac, where,
		 c->mtu, tap_created(d->tap) ? " (created)" : "", d->napps);
	return 0;
}

static void ctl_shutdown(void *ctx)
{
	struct daemon *d = ctx;
	tapir_log_info(&d->log, "control: shutdown");
	stop(d, 0);
}

static void ctl_rearm(void *ctx)
{
	runtime_rearm(ctx);
}

static int ctl_reload(void *ctx, void *json_result, char *err, size_t errlen)
{
	return stores_reload(ctx, json_result, err, errlen);
}

static void on_sighup(uv_signal_t *s, int signum)
{
	struct daemon *d = s->data;
	char err[CONFIG_ERR_MAX + 128];
	if (d->stopping)
		return;
	json_t *o = json_object();
	tapir_log_info(&d->log, "SIGHUP: reloading");
	if (o && stores_reload(d, o, err, sizeof(err)))
		tapir_log_err(&d->log, "reload: %s", err);
	json_decref(o);
}

static void forward_stats(struct daemon *d, json_t *obj);

static json_t *counters_json(const char *const *names, const uint64_t *v, size_t n)
{
	json_t *o = json_object();
	for (size_t i = 0; o && i < n; i++)
		json_object_set_new(o, names[i], json_integer((json_int_t)v[i]));
	return o;
}

/* "stats": the device's counters (layer "dev") and the impairment's ("impair") */
static void ctl_dev_stats(void *ctx, void *json_obj)
{
	struct daemon *d = ctx;
	struct fdev_stats f;
	tap_get_stats(d->tap, &f);
	static const char *const fn[] = { "rx_frames", "rx_bytes", "tx_frames", "tx_bytes",
					  "tx_drops", "tx_errors", "rx_errors", "rx_empty",
					  "rx_capped" };
	const uint64_t fv[] = { f.rx_frames, f.rx_bytes, f.tx_frames, f.tx_bytes, f.tx_drops,
				f.tx_errors, f.rx_errors, f.rx_empty, f.rx_capped };
	json_object_set_new(json_obj, "dev", counters_json(fn, fv, 9));
	if (d->uring) {  /* the wait's polling (uring.h) */
		struct uring_stats w;
		uring_loop_get_stats(d->uring, &w);
		static const char *const wn[] = { "sleeps", "polls", "poll_hits", "poll_ns" };
		const uint64_t wv[] = { w.sleeps, w.polls, w.poll_hits, w.poll_ns };
		json_object_set_new(json_obj, "wait", counters_json(wn, wv, 4));
	}
	forward_stats(d, json_obj);
	gateway_stats_json(d->gw, json_obj);
	for (size_t i = 0; i < d->napps; i++) {  /* the apps' own (tls.NAME) */
		const char *layer = NULL;
		const char *const *names = NULL;
		const uint64_t *vals = NULL;
		size_t n = d->apps[i].type->counters ?
			d->apps[i].type->counters(d->apps[i].state, &layer, &names, &vals) : 0;
		if (n && layer)
			json_object_set_new(json_obj, layer, counters_json(names, vals, n));
	}
	if (!d->im)
		return;
	struct impair_stats m;
	impair_get_stats(d->im, &m);
	static const char *const mn[] = { "tx_frames", "rx_frames", "dropped", "duplicated",
					  "reordered", "corrupted", "delayed", "queue_full",
					  "lower_errors" };
	const uint64_t mv[] = { m.tx_frames, m.rx_frames, m.dropped, m.duplicated, m.reordered,
				m.corrupted, m.delayed, m.queue_full, m.lower_errors };
	json_object_set_new(json_obj, "impair", counters_json(mn, mv, 9));
}

/* ---- the gateway's port forwards and DNS relay (gateway/services.h) ---- */

/* After gateway work from a libuv callback: send what it queued, re-arm */
static void gw_kick(void *ctx)
{
	struct daemon *d = ctx;
	if (d->stopping)
		return;
	d->now = uv_hrtime();
	tapir_stack_flush(d->st);
	runtime_rearm(d);
}

static int ctl_forward(void *ctx, const char *action, uint8_t proto, uint16_t host_port,
		       uint16_t ns_port, void *json_result, char *err, size_t errlen)
{
	struct daemon *d = ctx;
	return gw_services_forward(d->svc, action, proto, host_port, ns_port, json_result, err,
				   errlen);
}

static void forward_stats(struct daemon *d, json_t *obj)
{
	gw_services_stats_json(d->svc, obj);
}

/* "conns": the gateway's spliced flows (a json_t * array) */
static void *ctl_spliced(void *ctx)
{
	struct daemon *d = ctx;
	void *arr = gateway_flows_json(d->gw);

	gw_services_flows_json(d->svc, arr);
	return arr;
}

/* "conns": the fields the app that has the connection knows (TLS) */
static void ctl_flow_extra(void *ctx, const struct tapir_tcp_flow_info *fi, void *json_obj)
{
	struct daemon *d = ctx;
	struct tapir_app_field f[8];
	for (size_t i = 0; i < d->napps; i++) {
		size_t n = d->apps[i].type->flow_info ?
			d->apps[i].type->flow_info(d->apps[i].state, fi, f, 8) : 0;
		for (size_t j = 0; j < n && j < 8; j++)
			json_object_set_new(json_obj, f[j].name, json_string(f[j].value));
		if (n) {
			json_object_set_new(json_obj, "app", json_string(d->apps[i].ctx.name));
			return;
		}
	}
}

static int start_loop(struct daemon *d)
{
	int rc;
	/* These cannot fail on an initialised loop. */
	uv_timer_init(&d->loop, &d->timer);
	uv_signal_init(&d->loop, &d->sigint);
	uv_signal_init(&d->loop, &d->sigterm);
	uv_signal_init(&d->loop, &d->sighup);
	rc = uv_poll_init(&d->loop, &d->poll, tap_fd(d->tap));
	if (rc) {
		tapir_log_err(&d->log, "%s: cannot poll: %s", tap_name(d->tap), uv_strerror(rc));
		uv_close((uv_handle_t *)&d->timer, NULL);
		uv_close((uv_handle_t *)&d->sigint, NULL);
		uv_close((uv_handle_t *)&d->sigterm, NULL);
		uv_close((uv_handle_t *)&d->sighup, NULL);
		return -1;
	}
	d->handles_open = true;
	d->poll.data = d->timer.data = d->sigint.data = d->sigterm.data = d->sighup.data = d;
	if (d->cfg.io_uring && d->cfg.gw.enabled) {
		/* the gateway's host sockets are libuv's: each of their wake-ups
		 * would cost the ring's return and then epoll_wait() (uring.h) */
		tapir_log_info(&d->log, "%s: waiting in epoll (the gateway's sockets are libuv's)",
			       tap_name(d->tap));
	} else if (d->cfg.io_uring) {
		/* made before the sandbox (tapird_ctl_start()), which allows
		 * io_uring_enter() only */
		void *buf;
		size_t len;
		rc = tap_rx_area(d->tap, &buf, &len);
		if (!rc)
			rc = uring_loop_open(&d->uring, tap_fd(d->tap), buf, len, d->cfg.busy_poll_ns);
		if (rc)
			tapir_log_info(&d->log, "%s: waiting in epoll (io_uring: %s)", tap_name(d->tap),
				       strerror(-rc));
		else {
			struct uring_stats w;
			uring_loop_get_stats(d->uring, &w);
			tapir_log_info(&d->log, "%s: waiting in io_uring, polling for at most %" PRIu64
				       " us before sleeping%s", tap_name(d->tap), w.poll_max_ns / 1000,
				       w.poll_max_ns < d->cfg.busy_poll_ns ?
				       " (less than two CPUs: the machine's, or a cgroup quota)" : "");
		}
	}
	if ((!d->uring && (rc = uv_poll_start(&d->poll, UV_READABLE, on_readable))) ||
	    (rc = uv_signal_start(&d->sigint, on_signal, SIGINT)) ||
	    (rc = uv_signal_start(&d->sigterm, on_signal, SIGTERM)) ||
	    (rc = uv_signal_start(&d->sighup, on_sighup, SIGHUP))) {
		tapir_log_err(&d->log, "libuv: %s", uv_strerror(rc));
		return -1;
	}
	if (d->cfg.gw.enabled &&
	    gw_services_start(&d->svc, &d->loop, d->st, gateway_pool(d->gw), &d->cfg, &d->log,
			      gw_kick, d) < 0)
		return -1;
	struct tapird_ctl_hooks h = { .ctx = d, .shutdown = ctl_shutdown, .rearm = ctl_rearm,
				      .reload = ctl_reload, .dev_stats = ctl_dev_stats,
				      .forward = d->cfg.gw.enabled ? ctl_forward : NULL,
				      .spliced = d->gw ? ctl_spliced : NULL,
				      .dns = d->dns,
				      .flow_extra = ctl_flow_extra };
	if (tapird_ctl_start(d->ctl, &d->loop, d->st, &d->log, tap_name(d->tap), &h) < 0)
		return -1;
	runtime_rearm(d);
	return 0;
}

static void cleanup(struct daemon *d, bool loop_ok)
{
	OPENSSL_cleanse(d->rnd, sizeof(d->rnd));
	d->stopping = true;
	stop_apps(d);
	gateway_stop(d->gw);
	tapird_ctl_stop(d->ctl);
	if (loop_ok) {
		if (d->handles_open) {
			d->stopping = true;
			uv_close((uv_handle_t *)&d->poll, NULL);
			uv_close((uv_handle_t *)&d->timer, NULL);
			uv_close((uv_handle_t *)&d->sigint, NULL);
			uv_close((uv_handle_t *)&d->sigterm, NULL);
			uv_close((uv_handle_t *)&d->sighup, NULL);
			d->handles_open = false;
		}
		uv_run(&d->loop, UV_RUN_DEFAULT);  /* run the close callbacks */
		uv_loop_close(&d->loop);
	}
	gateway_free(d->gw);
	tapir_dns_free(d->dns);
	tapir_stack_free(d->st);
	tapird_dhcp_free(d->dh);
	tapird_ctl_free(d->ctl);
	impair_free(d->im);
	uring_loop_close(d->uring);
	tap_close(d->tap);
	config_free(&d->cfg);
	free(d->confs);
	free(d->types);
}

/* Parse options, configuration and boot arguments.  Return: -1 to go on, or an exit code */
static int configure(struct daemon *d, int argc, char **argv)
{
	const char *file = NULL;
	bool no_sandbox = false;
	int i = 1;
	for (; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			return 0;
		}
		if (!strcmp(a, "--version") || !strcmp(a, "-V")) {
			printf("tapird %s\n", TAPIR_VERSION);
			return 0;
		}
		if (!strcmp(a, "--config")) {
			if (i + 1 == argc) {
				fprintf(stderr, "tapird: --config needs a FILE\n");
				usage(stderr);
				return 2;
			}
			file = argv[++i];
		} else if (!strncmp(a, "--config=", 9)) {
			file = a + 9;
		} else if (!strcmp(a, "--no-sandbox")) {
			no_sandbox = true;
		} else if (!strcmp(a, "--")) {
			i++;
			break;
		} else {
			break;  /* boot arguments from here on */
		}
	}

	char err[CONFIG_ERR_MAX];
	int rc;
	config_init(&d->cfg);
	if (file)
		rc = config_load_file(&d->cfg, file, err, sizeof(err));
	else
		rc = config_parse_ini(&d->cfg, "(built-in)", config_default_ini,
				      strlen(config_default_ini), err, sizeof(err));
	if (!rc)
		rc = config_apply_args(&d->cfg, argv + i, (size_t)(argc - i), err, sizeof(err));
	if (!rc)
		rc = config_finish(&d->cfg, d->confs, d->ntypes, file ? file : "(built-in)", err,
				   sizeof(err));
	if (rc) {
		fprintf(stderr, "%s\n", rc == -ENOMEM ? "tapird: out of memory" : err);
		return 2;
	}
	if (no_sandbox)
		d->cfg.sandbox = false;  /* debugging: [control] sandbox off */
	return -1;
}

int tapir_run(int argc, char **argv, const struct tapir_app_type *const *types, size_t ntypes)
{
	struct daemon *d = calloc(1, sizeof(*d));
	if (!d) {
		fprintf(stderr, "tapird: out of memory\n");
		return 1;
	}
	tapir_logger_init(&d->log, TAPIR_LOG_LEVEL_INFO, false);
	/* One list of types: the built-in ones first, as out-of-tree ones */
	size_t next = types ? ntypes : 0;
	d->types = calloc(app_builtin_ntypes + next, sizeof(*d->types));
	d->confs = calloc(app_builtin_ntypes + next, sizeof(*d->confs));
	if (!d->types || !d->confs) {
		fprintf(stderr, "tapird: out of memory\n");
		free(d->types);
		free(d->confs);
		free(d);
		return 1;
	}
	for (size_t i = 0; i < app_builtin_ntypes + next; i++) {
		const struct tapir_app_type *t = i < app_builtin_ntypes ? app_builtin_types[i] :
			types[i - app_builtin_ntypes];
		if (!t || !t->conf || !t->conf->name || !t->start || !t->stop) {
			fprintf(stderr, "tapird: app type %zu has no conf, name, start or stop\n", i);
			free(d->types);
			free(d->confs);
			free(d);
			return 1;
		}
		d->types[d->ntypes] = t;
		d->confs[d->ntypes++] = t->conf;
	}

	int code = configure(d, argc, argv);
	if (code >= 0) {
		config_free(&d->cfg);
		free(d->confs);
		free(d->types);
		free(d);
		return code;
	}
	tapir_logger_init(&d->log, d->cfg.log_level, d->cfg.log_timestamps);
	/* JSON lines name the instance as the control socket does */
	tapir_logger_set_json(&d->log, d->cfg.log_format == CONFIG_LOG_JSON,
			      d->cfg.control_name[0] ? d->cfg.control_name : d->cfg.ifname);

	/* A host socket (the gateway's, a control client's) whose peer went
	 * away fails a write with EPIPE; the default SIGPIPE would kill us */
	signal(SIGPIPE, SIG_IGN);
	int rc = uv_loop_init(&d->loop);
	if (rc) {
		tapir_log_err(&d->log, "uv_loop_init: %s", uv_strerror(rc));
		cleanup(d, false);
		free(d);
		return 1;
	}
	rc = start_network(d);
	if (rc < 0) {
		cleanup(d, true);
		free(d);
		return rc == -2 ? 2 : 1;
	}
	if (start_loop(d) < 0) {
		cleanup(d, true);
		free(d);
		return 1;
	}
	if (d->uring) {
		rc = uring_loop_run(d->uring, &d->loop, on_uring_frame, d);
		if (rc < 0 && !d->stopping) {
			tapir_log_err(&d->log, "io_uring: %s; waiting in epoll from now on", strerror(-rc));
			rc = uv_poll_start(&d->poll, UV_READABLE, on_readable);
			if (rc) {
				tapir_log_err(&d->log, "libuv: %s", uv_strerror(rc));
				stop(d, 1);
			}
		}
	}
	uv_run(&d->loop, UV_RUN_DEFAULT);
	code = d->exit_code;
	cleanup(d, true);
	free(d);
	return code;
}
