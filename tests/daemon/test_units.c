/*
 * test_units.c - strict value parsers: durations, rates, sizes, MACs, IPv4
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>

#include "units.h"

static void test_u64(void **state)
{
	uint64_t v = 99;
	assert_int_equal(units_parse_u64("0", 10, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(units_parse_u64("18446744073709551615", UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
	v = 5;
	assert_int_equal(units_parse_u64("18446744073709551616", UINT64_MAX, &v), -ERANGE);
	assert_int_equal(units_parse_u64("11", 10, &v), -ERANGE);
	assert_int_equal(units_parse_u64("", 10, &v), -EINVAL);
	assert_int_equal(units_parse_u64("+1", 10, &v), -EINVAL);
	assert_int_equal(units_parse_u64("1.0", 10, &v), -EINVAL);
	assert_int_equal(units_parse_u64("1x", 10, &v), -EINVAL);
	assert_int_equal(units_parse_u64(" 1", 10, &v), -EINVAL);
	assert_int_equal(v, 5);
}

static void test_duration(void **state)
{
	uint64_t v;
	static const struct { const char *s; uint64_t ns; } ok[] = {
		{ "0", 0 }, { "1ns", 1 }, { "500us", 500000 }, { "10ms", 10000000 },
		{ "1s", 1000000000 }, { "1.5s", 1500000000 }, { "30s", 30000000000ull },
		{ "2min", 120000000000ull }, { "1h", 3600000000000ull }, { "0.001ms", 1000 },
		{ "0s", 0 },
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(units_parse_duration(ok[i].s, &v), 0);
		assert_true(v == ok[i].ns);
	}
	static const char *const bad[] = { "", "10", "s", "1.s", ".5s", "1 s", "10m", "1S",
					   "-1s", "1e3ms" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(units_parse_duration(bad[i], &v), -EINVAL);
	assert_int_equal(units_parse_duration("1.5ns", &v), -ERANGE);
	assert_int_equal(units_parse_duration("99999999999999999999h", &v), -ERANGE);
	assert_int_equal(units_parse_duration("6000000h", &v), -ERANGE);
}

static void test_ppm(void **state)
{
	uint32_t v;
	assert_int_equal(units_parse_ppm("1%", &v), 0);
	assert_int_equal(v, 10000);
	assert_int_equal(units_parse_ppm("0.5%", &v), 0);
	assert_int_equal(v, 5000);
	assert_int_equal(units_parse_ppm("0.0001%", &v), 0);
	assert_int_equal(v, 1);
	assert_int_equal(units_parse_ppm("2500ppm", &v), 0);
	assert_int_equal(v, 2500);
	assert_int_equal(units_parse_ppm("100%", &v), 0);
	assert_int_equal(v, 1000000);
	assert_int_equal(units_parse_ppm("0", &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(units_parse_ppm("100.0001%", &v), -ERANGE);
	assert_int_equal(units_parse_ppm("1000001ppm", &v), -ERANGE);
	assert_int_equal(units_parse_ppm("0.00001%", &v), -ERANGE);
	assert_int_equal(units_parse_ppm("1", &v), -EINVAL);
	assert_int_equal(units_parse_ppm("%", &v), -EINVAL);
	assert_int_equal(units_parse_ppm("1 %", &v), -EINVAL);
}

static void test_size(void **state)
{
	uint64_t v;
	assert_int_equal(units_parse_size("4194304", &v), 0);
	assert_int_equal(v, 4194304);
	assert_int_equal(units_parse_size("4MiB", &v), 0);
	assert_int_equal(v, 4194304);
	assert_int_equal(units_parse_size("4M", &v), 0);
	assert_int_equal(v, 4194304);
	assert_int_equal(units_parse_size("64K", &v), 0);
	assert_int_equal(v, 65536);
	assert_int_equal(units_parse_size("1GiB", &v), 0);
	assert_int_equal(v, 1073741824);
	assert_int_equal(units_parse_size("1.5K", &v), 0);
	assert_int_equal(v, 1536);
	assert_int_equal(units_parse_size("10B", &v), 0);
	assert_int_equal(v, 10);
	assert_int_equal(units_parse_size("1.5B", &v), -ERANGE);
	assert_int_equal(units_parse_size("4MB", &v), -EINVAL);
	assert_int_equal(units_parse_size("", &v), -EINVAL);
	assert_int_equal(units_parse_size("99999999999999999999G", &v), -ERANGE);
}

static void test_bool_mac_ipv4(void **state)
{
	bool b = false;
	assert_int_equal(units_parse_bool("yes", &b), 0);
	assert_true(b);
	assert_int_equal(units_parse_bool("off", &b), 0);
	assert_false(b);
	assert_int_equal(units_parse_bool("maybe", &b), -EINVAL);

	uint8_t m[6] = { 0 };
	assert_int_equal(units_parse_mac("02:00:5e:00:53:0A", m), 0);
	assert_int_equal(m[0], 2);
	assert_int_equal(m[5], 10);
	assert_int_equal(units_parse_mac("02-00-5e-00-53-0b", m), 0);
	assert_int_equal(m[5], 11);
	static const char *const badmac[] = { "", "02:00:5e:00:53", "02:00:5e:00:53:0g",
					      "02:00-5e:00:53:01", "02:00:5e:00:53:011",
					      "2:0:5e:0:53:1", "02:00:5e:00:53:01:" };
	for (size_t i = 0; i < sizeof(badmac) / sizeof(badmac[0]); i++)
		assert_int_equal(units_parse_mac(badmac[i], m), -EINVAL);

	uint32_t a = 0;
	assert_int_equal(units_parse_ipv4("192.0.2.2", &a), 0);
	assert_int_equal(a, 0xc0000202);
	assert_int_equal(units_parse_ipv4("0.0.0.0", &a), 0);
	assert_int_equal(a, 0);
	assert_int_equal(units_parse_ipv4("255.255.255.255", &a), 0);
	assert_int_equal(a, 0xffffffff);
	static const char *const badip[] = { "", "1.2.3", "1.2.3.4.5", "256.1.1.1", "01.2.3.4",
					     "1..2.3", "1.2.3.4 ", "a.b.c.d", "1.2.3.0004",
					     "1.2.3.-4" };
	for (size_t i = 0; i < sizeof(badip) / sizeof(badip[0]); i++)
		assert_int_equal(units_parse_ipv4(badip[i], &a), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_u64),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_ppm),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_bool_mac_ipv4),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
