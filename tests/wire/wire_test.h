/*
 * wire_test.h - shared helpers of the wire-format tests
 */
#ifndef TAPIR_TESTS_WIRE_TEST_H
#define TAPIR_TESTS_WIRE_TEST_H

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

/* Construct tests emit into buffers pre-filled with this, so an unwritten byte shows */
#define FILL 0xa5

/* Heap copy of exactly @len bytes, so ASan catches any read past the end; free() it */
uint8_t *dup_bytes(const void *p, size_t len);

/* Buffer of @len bytes filled with FILL; free() it */
uint8_t *filled_buf(size_t len);

/* Assert every one of @len bytes at @p is still FILL */
void assert_all_fill(const uint8_t *p, size_t len);

/* One group per format; each returns the number of failed tests */
int run_checksum_tests(void);
int run_eth_tests(void);
int run_arp_tests(void);
int run_ipv4_tests(void);
int run_icmp_tests(void);
int run_udp_tests(void);
int run_addr_tests(void);
int run_dns_tests(void);
int run_ipv6_tests(void);
int run_icmpv6_tests(void);

#endif /* TAPIR_TESTS_WIRE_TEST_H */
