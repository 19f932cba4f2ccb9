/*
 * test_addr.c - struct tapir_addr: text both ways (RFC 5952 form), equality, IPv4-mapped
 */
#include "wire_test.h"

#include <errno.h>
#include <string.h>

#include "tapir/addr.h"

static void roundtrip(const char *in, const char *want, int family)
{
	struct tapir_addr a;
	char buf[TAPIR_ADDR_STRLEN];

	assert_int_equal(tapir_addr_parse(in, &a), 0);
	assert_int_equal(a.family, family);
	assert_string_equal(tapir_addr_format(&a, buf), want);
}

static void test_addr_text(void **state)
{
	(void)state;
	roundtrip("192.0.2.1", "192.0.2.1", TAPIR_AF_INET);
	roundtrip("2001:db8::1", "2001:db8::1", TAPIR_AF_INET6);
	/* RFC 5952 4.2.2/4.2.3/4.3: the longest run of zeros, the first of equals, lower case */
	roundtrip("2001:0DB8:0:0:1:0:0:1", "2001:db8::1:0:0:1", TAPIR_AF_INET6);
	roundtrip("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1", TAPIR_AF_INET6);
	roundtrip("::", "::", TAPIR_AF_INET6);
	roundtrip("::ffff:192.0.2.7", "::ffff:192.0.2.7", TAPIR_AF_INET6);
}

static void test_addr_bad(void **state)
{
	static const char *bad[] = {
		"", "192.0.2", "192.0.2.256", "2001:db8::1::2", "[2001:db8::1]",
		"2001:db8::1%eth0", "2001:db8::/64", "1:2:3:4:5:6:7:8:9", "g::1",
	};
	struct tapir_addr a = { .family = 99 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(tapir_addr_parse(bad[i], &a), -EINVAL);
		assert_int_equal(a.family, 99);
	}
	assert_int_equal(tapir_addr_parse(NULL, &a), -EINVAL);
}

static void test_addr_eq_mapped(void **state)
{
	struct tapir_addr a = tapir_addr_v4(0xc0000201), b, m;
	uint32_t v4 = 0;
	char buf[TAPIR_ADDR_STRLEN];

	(void)state;
	assert_int_equal(tapir_addr_parse("192.0.2.1", &b), 0);
	assert_true(tapir_addr_eq(&a, &b));
	m = tapir_addr_to_v6(&a);
	assert_false(tapir_addr_eq(&a, &m));
	assert_string_equal(tapir_addr_format(&m, buf), "::ffff:192.0.2.1");
	assert_true(tapir_addr_is_v4mapped(&m, &v4));
	assert_int_equal(v4, 0xc0000201);
	assert_false(tapir_addr_is_v4mapped(&a, NULL));
	assert_int_equal(tapir_addr_parse("2001:db8::ffff:c000:201", &b), 0);
	assert_false(tapir_addr_is_v4mapped(&b, NULL));
	b.family = 0;
	assert_string_equal(tapir_addr_format(&b, buf), "?");
}

int run_addr_tests(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_text),
		cmocka_unit_test(test_addr_bad),
		cmocka_unit_test(test_addr_eq_mapped),
	};

	return cmocka_run_group_tests_name("addr", tests, NULL, NULL);
}
