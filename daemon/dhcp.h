/*
 * dhcp.h - tapird's side of the DHCP client: the lease file and the one
 *          place where a lease change is announced
 *
 * libstack's client (tapir/dhcp.h) does no I/O: tapird starts it when
 * [ipv4] address = dhcp, reads the remembered address from [dhcp]
 * lease_file for INIT-REBOOT, and on every lease change writes the file
 * (atomically: a temporary file renamed over it) and calls the hooks
 * registered with tapird_dhcp_on_lease(), in the order they were added.
 */
#ifndef TAPIR_DAEMON_DHCP_H
#define TAPIR_DAEMON_DHCP_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "tapir/dhcp.h"
#include "tapir/log.h"

struct tapird_dhcp;

/*
 * A lease change: @lease is the new or renewed lease (lent for the call:
 * addresses and DNS servers host order, times on the stack's clock, ns), or
 * NULL when the address went away (NAK, expiry, release, stop).
 */
typedef void (*tapird_lease_fn)(void *ctx, const struct tapir_dhcp_lease *lease);

/* Return: a new one (nothing started yet), or NULL when out of memory */
struct tapird_dhcp *tapird_dhcp_new(const struct tapird_config *cfg, struct tapir_logger *log);
/**
 * tapird_dhcp_on_lease() - Add a hook called on every lease change
 * Return: 0 or -ENOMEM
 */
int tapird_dhcp_on_lease(struct tapird_dhcp *dh, tapird_lease_fn fn, void *ctx);
/* Start the stack's client (INIT-REBOOT from the lease file if it has one).
 * Return: 0 or negative errno (logged) */
int tapird_dhcp_start(struct tapird_dhcp *dh, struct tapir_stack *st, uint64_t now);
/* Stop it: DHCPRELEASE if [dhcp] release_on_stop */
void tapird_dhcp_stop(struct tapird_dhcp *dh, uint64_t now);
void tapird_dhcp_free(struct tapird_dhcp *dh);

/* The lease file's text for @l (wall-clock times from @mono_now/@wall_now).
 * Return: bytes written to @buf (NUL-terminated) */
size_t tapird_dhcp_lease_format(const struct tapir_dhcp_lease *l, uint64_t mono_now,
				int64_t wall_now, char *buf, size_t len);
/* The remembered address in a lease file's text, if it has not expired by
 * @wall_now.  Return: the address, or 0 */
uint32_t tapird_dhcp_lease_parse(const char *text, int64_t wall_now);

#endif /* TAPIR_DAEMON_DHCP_H */
