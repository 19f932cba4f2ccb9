/*
 * dhcp.h - the stack's DHCPv4 client (RFC 2131, 2132; ARP probe of RFC 5227)
 *
 * Theory of operation
 *
 * tapir_dhcp_start() runs a DHCP client inside a stack that was created
 * without an address (struct tapir_stack_config addr = 0).  Sans-I/O like
 * the rest of libstack: it sends through the stack's UDP (port 68, from
 * 0.0.0.0 to 255.255.255.255 while it has no address), takes its time from
 * tapir_stack_poll()/tapir_stack_input() and its randomness from the
 * stack's callback; tapir_stack_next_deadline() includes its timer.
 *
 * States (RFC 2131 figure 5):
 *   INIT        -> DISCOVER (after a random wait of up to 1 s)   -> SELECTING
 *   SELECTING   -> the first acceptable OFFER: REQUEST            -> REQUESTING
 *   REQUESTING  -> ACK: ARP-probe the address                     -> PROBING
 *                  NAK, or 4 unanswered REQUESTs                  -> INIT
 *   PROBING     -> RFC 5227: 3 probes from 0.0.0.0 1-2 s apart, 2 s more;
 *                  any ARP from another host for the address: DECLINE,
 *                  10 s wait, INIT; silence: the address is ours  -> BOUND
 *   INIT-REBOOT -> (a remembered address) REQUEST it              -> REBOOTING
 *   REBOOTING   -> ACK: probe -> BOUND; NAK or 2 unanswered: INIT
 *   BOUND       -> at T1                                          -> RENEWING
 *   RENEWING    -> REQUEST unicast to the server; ACK: BOUND; at T2 -> REBINDING
 *   REBINDING   -> REQUEST broadcast; ACK: BOUND; at expiry: the address
 *                  is taken away                                  -> INIT
 *   A NAK in any state with an address takes it away -> INIT.
 * Retransmission (RFC 2131 4.1): 4 s, 8 s, ... up to 64 s, each -1..+1 s at
 * random; RENEWING and REBINDING retransmit after half of the time left to
 * T2 (expiry), at least 60 s.  T1 and T2 are the server's (options 58, 59)
 * or 0.5 and 0.875 of the lease; an infinite lease (0xffffffff) has none.
 *
 * When the address changes the client calls tapir_stack_set_addr(), which
 * resets the TCP flows bound to the old one, and then the lease callback.
 *
 * Ownership: the client belongs to the stack (tapir_stack_free() frees it).
 * Lease structs passed to callbacks are lent for the call.
 */
#ifndef TAPIR_DHCP_H
#define TAPIR_DHCP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tapir_stack;

#define TAPIR_DHCP_MAX_DNS 4
#define TAPIR_DHCP_MAX_SEARCH 6
#define TAPIR_DHCP_NAME_MAX 254
#define TAPIR_DHCP_INFINITE UINT64_MAX  /* a time that never comes */

enum tapir_dhcp_state {
	TAPIR_DHCP_STOPPED,
	TAPIR_DHCP_INIT,
	TAPIR_DHCP_SELECTING,
	TAPIR_DHCP_REQUESTING,
	TAPIR_DHCP_PROBING,
	TAPIR_DHCP_INIT_REBOOT,
	TAPIR_DHCP_REBOOTING,
	TAPIR_DHCP_BOUND,
	TAPIR_DHCP_RENEWING,
	TAPIR_DHCP_REBINDING,
	TAPIR_DHCP_DECLINED,   /* waiting 10 s after a DECLINE before INIT */
	TAPIR_DHCP__NSTATES
};

/**
 * struct tapir_dhcp_lease - a lease, as the server gave it
 * @addr:       Our address (host order)
 * @prefix_len: From the subnet mask (option 1), or the address class
 * @router:     The first router (option 3), 0: none
 * @dns:        DNS servers (option 6), host order, @ndns of them
 * @domain:     Domain name (option 15), "" when none
 * @search:     Domain search list (option 119), @nsearch names
 * @mtu:        Interface MTU (option 26), 0: not given
 * @server:     The server identifier (option 54)
 * @lease_secs, @t1_secs, @t2_secs: as given or derived (0xffffffff: infinite)
 * @obtained:   When the ACK arrived (the stack's clock, ns)
 * @t1, @t2, @expiry: when renewing, rebinding and expiry start (the
 *              stack's clock, ns; TAPIR_DHCP_INFINITE for an infinite lease)
 */
struct tapir_dhcp_lease {
	uint32_t addr;
	uint8_t prefix_len;
	uint32_t router;
	uint32_t dns[TAPIR_DHCP_MAX_DNS];
	size_t ndns;
	char domain[TAPIR_DHCP_NAME_MAX + 1];
	char search[TAPIR_DHCP_MAX_SEARCH][TAPIR_DHCP_NAME_MAX + 1];
	size_t nsearch;
	uint16_t mtu;
	uint32_t server;
	uint32_t lease_secs, t1_secs, t2_secs;
	uint64_t obtained, t1, t2, expiry;
};

/*
 * Called on every change of the lease: @lease is the new or renewed lease,
 * NULL when the address was taken away (NAK, expiry, release, stop).
 * Lent for the call; the stack may be used from it.
 */
typedef void (*tapir_dhcp_lease_fn)(void *ctx, const struct tapir_dhcp_lease *lease);

struct tapir_dhcp_config {
	const char *hostname;          /* option 12 (at most 63 bytes); NULL: none */
	const uint8_t *client_id;      /* option 61 (1..64 bytes); NULL: type 1 + our MAC */
	size_t client_id_len;
	uint32_t reboot_addr;          /* remembered address: start in INIT-REBOOT; 0: INIT */
	bool no_probe;                 /* true: skip the RFC 5227 probe (not recommended) */
	tapir_dhcp_lease_fn lease_changed;
	void *ctx;
};

/**
 * tapir_dhcp_start() - Start the client
 * @st:  A stack created with addr = 0 (and no gateway)
 * @cfg: Configuration (copied)
 * @now: Current time, ns
 *
 * Return: 0, -EALREADY (running), -EINVAL (the stack has an address, bad
 *         hostname or client id), -EADDRINUSE (UDP port 68 taken), -ENOMEM
 */
int tapir_dhcp_start(struct tapir_stack *st, const struct tapir_dhcp_config *cfg, uint64_t now);

/**
 * tapir_dhcp_stop() - Stop the client
 * @release: Send a DHCPRELEASE first if we hold a lease
 *
 * The address is taken away (the lease callback is called with NULL).
 */
void tapir_dhcp_stop(struct tapir_stack *st, bool release, uint64_t now);

/* Renew now (BOUND: as at T1; without a lease: start over in INIT).
 * Return: 0, -ENOTCONN (not running) */
int tapir_dhcp_renew(struct tapir_stack *st, uint64_t now);
/* Release the lease (DHCPRELEASE); the client then waits in INIT, without
 * an address, until tapir_dhcp_renew().  Return: 0, -ENOTCONN (not running), -EADDRNOTAVAIL (no lease) */
int tapir_dhcp_release(struct tapir_stack *st, uint64_t now);

/* Return: the state (TAPIR_DHCP_STOPPED when not running) */
enum tapir_dhcp_state tapir_dhcp_state(const struct tapir_stack *st);
const char *tapir_dhcp_state_name(enum tapir_dhcp_state s);
/* Return: the current lease (BOUND, RENEWING, REBINDING), or NULL */
const struct tapir_dhcp_lease *tapir_dhcp_lease(const struct tapir_stack *st);

struct tapir_dhcp_stats {
	uint64_t tx[9];          /* by message type (1 DISCOVER .. 8 INFORM) */
	uint64_t rx[9];
	uint64_t rx_dropped;     /* malformed, not ours, unexpected in the state (each
				  * also a dhcp.drop.* counter of the stack) */
	uint64_t probes, conflicts, expired, naks;
};
void tapir_dhcp_get_stats(const struct tapir_stack *st, struct tapir_dhcp_stats *out);

#endif /* TAPIR_DHCP_H */
