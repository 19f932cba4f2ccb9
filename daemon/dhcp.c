/*
 * dhcp.c - tapird's side of the DHCP client: lease file, lease-change hooks
 *
 * The lease file is text, one "key=value" per line: addr, prefix_len,
 * router, server, lease_secs, obtained and expiry (Unix seconds; expiry
 * absent for an infinite lease).  Only addr (and expiry, to skip a lease
 * that is over) is read back: it is the address INIT-REBOOT asks for; the
 * server confirms or refuses it (NAK -> INIT).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "dhcp.h"
#include "tapir/stack.h"

struct hook {
	tapird_lease_fn fn;
	void *ctx;
};

struct tapird_dhcp {
	const struct tapird_config *cfg;
	struct tapir_logger *log;
	struct tapir_stack *st;
	struct hook *hooks;
	size_t nhooks;
	uint8_t client_id[66];
	size_t client_id_len;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct tapird_dhcp *tapird_dhcp_new(const struct tapird_config *cfg, struct tapir_logger *log)
{
	struct tapird_dhcp *dh = calloc(1, sizeof(*dh));
	if (!dh)
		return NULL;
	dh->cfg = cfg;
	dh->log = log;
	return dh;
}

int tapird_dhcp_on_lease(struct tapird_dhcp *dh, tapird_lease_fn fn, void *ctx)
{
	struct hook *h = realloc(dh->hooks, (dh->nhooks + 1) * sizeof(*h));
	if (!h)
		return -ENOMEM;
	dh->hooks = h;
	h[dh->nhooks++] = (struct hook){ fn, ctx };
	return 0;
}

/* Unix seconds of stack time @t (TAPIR_DHCP_INFINITE: -1) */
static long long wall_of(uint64_t t, uint64_t mono_now, int64_t wall_now)
{
	if (t == TAPIR_DHCP_INFINITE)
		return -1;
	return (long long)wall_now + ((long long)(t / 1000000000ull) -
				      (long long)(mono_now / 1000000000ull));
}

size_t tapird_dhcp_lease_format(const struct tapir_dhcp_lease *l, uint64_t mono_now,
				int64_t wall_now, char *buf, size_t len)
{
	char a[16], r[16], s[16];
	long long exp = wall_of(l->expiry, mono_now, wall_now);
	int n = snprintf(buf, len,
			 "# tapird DHCP lease\naddr=%s\nprefix_len=%u\nrouter=%s\nserver=%s\n"
			 "lease_secs=%u\nobtained=%lld\n",
			 tapir_ipv4_addr_format(l->addr, a), l->prefix_len,
			 tapir_ipv4_addr_format(l->router, r), tapir_ipv4_addr_format(l->server, s),
			 l->lease_secs, wall_of(l->obtained, mono_now, wall_now));
	if (n >= 0 && (size_t)n < len && exp >= 0)
		n += snprintf(buf + n, len - (size_t)n, "expiry=%lld\n", exp);
	return n < 0 ? 0 : (size_t)n < len ? (size_t)n : len - 1;
}

uint32_t tapird_dhcp_lease_parse(const char *text, int64_t wall_now)
{
	uint32_t addr = 0;
	long long expiry = -1;
	const char *p = text;
	while (*p) {
		const char *e = strchr(p, '\n');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		char line[64];
		if (n < sizeof(line)) {
			memcpy(line, p, n);
			line[n] = 0;
			if (!strncmp(line, "addr=", 5) && tapir_ipv4_addr_parse(line + 5, &addr))
				return 0;
			if (!strncmp(line, "expiry=", 7)) {
				char *end;
				expiry = strtoll(line + 7, &end, 10);
				if (*end)
					return 0;
			}
		}
		p += n + (e ? 1 : 0);
	}
	if (expiry >= 0 && expiry <= wall_now)
		return 0;
	return addr;
}

static void write_file(struct tapird_dhcp *dh, const struct tapir_dhcp_lease *l)
{
	const char *path = dh->cfg->dhcp_lease_file;
	char tmp[300], text[512];
	size_t n = tapird_dhcp_lease_format(l, mono_ns(), (int64_t)time(NULL), text, sizeof(text));
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0 || write(fd, text, n) != (ssize_t)n || fsync(fd) < 0 || close(fd) < 0 ||
	    rename(tmp, path) < 0) {
		tapir_log_warn(dh->log, "dhcp: cannot write %s: %s", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(tmp);
	}
}

static void lease_changed(void *ctx, const struct tapir_dhcp_lease *l)
{
	struct tapird_dhcp *dh = ctx;
	if (l && dh->cfg->dhcp_lease_file[0])
		write_file(dh, l);
	for (size_t i = 0; i < dh->nhooks; i++)
		dh->hooks[i].fn(dh->hooks[i].ctx, l);
}

int tapird_dhcp_start(struct tapird_dhcp *dh, struct tapir_stack *st, uint64_t now)
{
	const struct tapird_config *c = dh->cfg;
	struct tapir_dhcp_config dc = {
		.hostname = c->dhcp_hostname[0] ? c->dhcp_hostname : NULL,
		.no_probe = !c->dhcp_probe,
		.lease_changed = lease_changed,
		.ctx = dh,
	};
	char a[16];
	dh->st = st;
	if (c->dhcp_client_id[0]) {  /* RFC 2132 9.14: type 0, not a hardware address */
		dh->client_id_len = 1 + strlen(c->dhcp_client_id);
		dh->client_id[0] = 0;
		memcpy(dh->client_id + 1, c->dhcp_client_id, dh->client_id_len - 1);
		dc.client_id = dh->client_id;
		dc.client_id_len = dh->client_id_len;
	}
	if (c->dhcp_lease_file[0]) {
		FILE *f = fopen(c->dhcp_lease_file, "re");
		if (f) {
			char text[1024];
			size_t n = fread(text, 1, sizeof(text) - 1, f);
			fclose(f);
			text[n] = 0;
			dc.reboot_addr = tapird_dhcp_lease_parse(text, (int64_t)time(NULL));
			if (dc.reboot_addr)
				tapir_log_info(dh->log, "dhcp: asking for %s again (%s)",
					       tapir_ipv4_addr_format(dc.reboot_addr, a),
					       c->dhcp_lease_file);
		}
	}
	int rc = tapir_dhcp_start(st, &dc, now);
	if (rc)
		tapir_log_err(dh->log, "dhcp: cannot start: %s", strerror(-rc));
	return rc;
}

void tapird_dhcp_stop(struct tapird_dhcp *dh, uint64_t now)
{
	if (dh && dh->st)
		tapir_dhcp_stop(dh->st, dh->cfg->dhcp_release, now);
}

void tapird_dhcp_free(struct tapird_dhcp *dh)
{
	if (!dh)
		return;
	free(dh->hooks);
	free(dh);
}
