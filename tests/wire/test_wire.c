/*
 * test_wire.c - runner of the wire-format tests: all groups, or the one named in argv[1]
 */
#include "wire_test.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint8_t *dup_bytes(const void *p, size_t len)
{
	uint8_t *d = malloc(len ? len : 1);

	assert_non_null(d);
	if (len)
		memcpy(d, p, len);
	return d;
}

uint8_t *filled_buf(size_t len)
{
	uint8_t *d = malloc(len);

	assert_non_null(d);
	memset(d, FILL, len);
	return d;
}

void assert_all_fill(const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (p[i] != FILL)
			fail_msg("byte %zu is 0x%02x, expected untouched 0x%02x", i, p[i], FILL);
	}
}

static const struct {
	const char *name;
	int (*run)(void);
} groups[] = {
	{ "checksum", run_checksum_tests },
	{ "eth", run_eth_tests },
	{ "arp", run_arp_tests },
	{ "ipv4", run_ipv4_tests },
	{ "icmp", run_icmp_tests },
	{ "udp", run_udp_tests },
	{ "addr", run_addr_tests },
	{ "dns", run_dns_tests },
	{ "ipv6", run_ipv6_tests },
	{ "icmpv6", run_icmpv6_tests },
};

int main(int argc, char **argv)
{
	int failed = 0, ran = 0;
	size_t i;

	for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++) {
		if (argc > 1 && strcmp(argv[1], groups[i].name))
			continue;
		failed += groups[i].run();
		ran++;
	}
	if (!ran) {
		fprintf(stderr, "unknown group %s\n", argv[1]);
		return 2;
	}
	return failed ? 1 : 0;
}
