/*
 * harness.h - stacks on a vnetif wire with a fake clock, for the stack tests
 *
 * A world holds up to four stacks on one vnetif switch and a "raw" port that
 * records every frame switched to it and can inject crafted frames; it
 * answers ARP requests for its own address so stacks can reach it.
 */
#ifndef TAPIR_TEST_HARNESS_H
#define TAPIR_TEST_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tapir/stack.h"
#include "impair.h"
#include "vnetif.h"

#define W_MAX_HOSTS 4
#define RAW_MAX_FRAMES 4096

struct world;

struct host {
	struct world *w;
	struct tapir_stack *st;
	struct tapir_netif nif;       /* the stack's device: the switch port, or the impairment on it */
	struct tapir_netif port_nif;  /* the switch port */
	struct impair *im;      /* NULL unless added with world_add_impaired() */
	struct tapir_netif_rx rx;     /* received frames: the impairment's rx, or the stack */
	uint8_t mac[6];
	uint32_t ip;
};

struct raw_frame {
	uint8_t *data;
	size_t len;
};

struct world {
	struct vnet *net;
	uint64_t now;
	uint64_t rng;
	struct host hosts[W_MAX_HOSTS];
	int nhosts;
	/* raw port */
	struct tapir_netif raw_nif;
	uint8_t raw_mac[6];
	uint32_t raw_ip;
	bool raw_answers_arp;
	struct raw_frame raw[RAW_MAX_FRAMES];
	size_t nraw;
};

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))
/* An IPv4 address (host order) as a struct tapir_addr pointer, for the TCP API */
#define A4(x) (&(struct tapir_addr){ .family = TAPIR_AF_INET, .v4 = (x) })

/* New world with a raw port at 192.0.2.99 (02:00:00:00:00:99). */
struct world *world_new(void);
void world_free(struct world *w);
/* Add a host 192.0.2.@last with MAC 02:00:00:00:00:@last; @cfg may be NULL. */
struct host *world_add(struct world *w, uint8_t last, const struct tapir_stack_config *cfg);
/* The same, with @icfg impairing the host's frames in the directions it names. */
struct host *world_add_impaired(struct world *w, uint8_t last, const struct tapir_stack_config *cfg,
				const struct impair_config *icfg);
/* Deliver every queued frame. */
void world_pump(struct world *w);
/* Advance the clock by @ns, running every timer that falls due on the way. */
void world_advance(struct world *w, uint64_t ns);
/* Inject a frame from the raw port (queued on the switch; pump to deliver). */
void raw_send(struct world *w, const uint8_t *frame, size_t len);
void raw_clear(struct world *w);
/* Count recorded frames with @ethertype and, for IPv4, IP protocol @proto (0 = any). */
size_t raw_count(const struct world *w, uint16_t ethertype, uint8_t proto);

#endif
