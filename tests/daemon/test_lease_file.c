/*
 * test_lease_file.c - tapird's DHCP lease file (daemon/dhcp.c): the text it
 *                     writes, and the address INIT-REBOOT reads back
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "dhcp.h"

#define NS 1000000000ull

static void test_format_parse(void **state)
{
	struct tapir_dhcp_lease l = { 0 };
	char buf[512];
	(void)state;

	l.addr = 0xc0000232;
	l.prefix_len = 24;
	l.router = 0xc0000201;
	l.server = 0xc0000201;
	l.lease_secs = 120;
	l.obtained = 500 * NS;
	l.expiry = 620 * NS;
	/* the stack's clock is at 510 s when the wall clock says 1,700,000,010 */
	size_t n = tapird_dhcp_lease_format(&l, 510 * NS, 1700000010, buf, sizeof(buf));
	assert_int_equal(n, strlen(buf));
	assert_non_null(strstr(buf, "\naddr=192.0.2.50\n"));
	assert_non_null(strstr(buf, "\nprefix_len=24\n"));
	assert_non_null(strstr(buf, "\nserver=192.0.2.1\n"));
	assert_non_null(strstr(buf, "\nobtained=1700000000\n"));
	assert_non_null(strstr(buf, "\nexpiry=1700000120\n"));
	/* read back: the address while the lease lasts, nothing after */
	assert_int_equal(tapird_dhcp_lease_parse(buf, 1700000100), 0xc0000232);
	assert_int_equal(tapird_dhcp_lease_parse(buf, 1700000120), 0);
	/* an infinite lease has no expiry and is always good */
	l.expiry = TAPIR_DHCP_INFINITE;
	tapird_dhcp_lease_format(&l, 510 * NS, 1700000010, buf, sizeof(buf));
	assert_null(strstr(buf, "expiry="));
	assert_int_equal(tapird_dhcp_lease_parse(buf, 2000000000), 0xc0000232);
	/* a small buffer is cut, never overrun */
	char small[20];
	memset(small, 'x', sizeof(small));
	n = tapird_dhcp_lease_format(&l, 510 * NS, 1700000010, small, sizeof(small));
	assert_int_equal(n, sizeof(small) - 1);
	assert_int_equal(small[19], 0);
}

static void test_parse_bad(void **state)
{
	(void)state;
	assert_int_equal(tapird_dhcp_lease_parse("", 0), 0);
	assert_int_equal(tapird_dhcp_lease_parse("addr=300.1.1.1\n", 0), 0);
	assert_int_equal(tapird_dhcp_lease_parse("addr=192.0.2.7\nexpiry=12x\n", 0), 0);
	assert_int_equal(tapird_dhcp_lease_parse("garbage\naddr=192.0.2.7", 0), 0xc0000207);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_parse),
		cmocka_unit_test(test_parse_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
