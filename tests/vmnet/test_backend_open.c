/*
 * test_backend_open.c - tap_open_backend() picks the backend by name and
 * refuses, with a message, the ones this system does not have (no device is
 * opened: every case fails before touching the network)
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <string.h>

#include "tap.h"

static const uint8_t MAC[6] = { 0x02, 0, 0x5e, 0, 0x53, 1 };

static int open_err(const char *backend, const char *name, size_t mtu, char *err, size_t len)
{
	struct tap *t = NULL;
	err[0] = '\0';
	int rc = tap_open_backend(&t, backend, name, mtu, MAC, false, err, len);
	assert_null(t);
	return rc;
}

static void test_unknown(void **state)
{
	char err[256];
	assert_int_equal(open_err("tun", "tap0", 1500, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "'tun' is not a backend (tap, pcap or vmnet)");
	assert_int_equal(open_err("", "tap0", 1500, err, sizeof(err)), -EINVAL);
}

static void test_vmnet(void **state)
{
	char err[256];
	int rc = open_err("vmnet", "ignored", 1500, err, sizeof(err));
#ifdef __APPLE__
	(void)rc;  /* needs root or the entitlement; not run here */
#else
	assert_int_equal(rc, -ENOTSUP);
	assert_string_equal(err, "the vmnet backend is macOS-only (vmnet.framework)");
#endif
}

/* tap and pcap are reached: their own argument checks answer */
static void test_tap_pcap_reached(void **state)
{
	char err[256];
	const char *longname = "abcdefghijklmnopq";
#ifdef __linux__
	assert_int_equal(open_err("tap", longname, 1500, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "bad interface name"));
	assert_int_equal(open_err("tap", "tap0", 67, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "MTU 67 out of range"));
#else
	assert_int_equal(open_err("tap", "tap0", 1500, err, sizeof(err)), -ENOTSUP);
#endif
	assert_int_equal(open_err("pcap", longname, 1500, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "bad interface name"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_vmnet),
		cmocka_unit_test(test_tap_pcap_reached),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
