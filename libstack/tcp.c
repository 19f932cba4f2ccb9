/*
 * tcp.c - TCP (RFC 9293): not yet written; this holds the hooks the rest of
 *         the stack calls, so that TCP can land without touching other layers
 */
#include "internal.h"

void tcp_config_defaults(struct tcp_config *c)
{
	c->max_connections = 16384;
	c->backlog = 128;
	c->sndbuf = 256 * 1024;
	c->rcvbuf = 256 * 1024;
	c->ooo_max_bytes = 256 * 1024;
	c->msl_ns = 30 * STACK_NS_PER_SEC;
	c->fin_wait2_ns = 60 * STACK_NS_PER_SEC;
	c->max_retries = 15;
	c->syn_retries = 6;
	c->keepalive = false;
	c->keepalive_idle_ns = 7200 * STACK_NS_PER_SEC;
	c->keepalive_intvl_ns = 75 * STACK_NS_PER_SEC;
	c->keepalive_count = 9;
	c->nodelay = false;
	c->cc = TCP_CC_NEWRENO;
	c->syn_cookies = true;
	c->challenge_ack_limit = 10;
}

int tcp_init(struct stack *st)
{
	st->tcp = NULL;
	return 0;
}

void tcp_fini(struct stack *st)
{
	st->tcp = NULL;
}

void tcp_poll(struct stack *st)
{
	(void)st;
}

uint64_t tcp_next_deadline(const struct stack *st)
{
	(void)st;
	return STACK_NO_DEADLINE;
}
