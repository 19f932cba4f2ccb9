/*
 * fuzz/config/config.c - tapird's configuration parser on arbitrary bytes
 *
 * The input is an INI file, run through the same parse + finish path as
 * tapird's --config.  Checks: success means every value is in its range;
 * failure means a message naming the source.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app_conf.h"
#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(x) do { if (!(x)) abort(); } while (0)

static void check_valid(const struct tapird_config *c)
{
	CHECK(c->mtu >= 68 && c->mtu <= 65521);
	CHECK(c->addr_set && c->prefix_len <= 32);
	CHECK(c->ttl >= 1);
	CHECK(strlen(c->ifname) >= 1 && strlen(c->ifname) <= CONFIG_IFNAME_MAX);
	CHECK(!c->mac_set || !(c->mac[0] & 1));
	CHECK(c->impair.loss_ppm <= 1000000 && c->impair.dup_ppm <= 1000000);
	CHECK(c->impair.reorder_ppm <= 1000000 && c->impair.corrupt_ppm <= 1000000);
	CHECK(c->napps <= CONFIG_MAX_APPS);
	for (size_t i = 0; i < c->napps; i++) {
		CHECK(c->apps[i].type != NULL);
		/* every built-in type listens on TCP; no two on one port */
		CHECK(c->apps[i].params != NULL);
		CHECK(config_app_port(&c->apps[i], true) != 0);
		for (size_t j = 0; j < i; j++) {
			CHECK(strcmp(c->apps[i].name, c->apps[j].name) != 0);
			CHECK(config_app_port(&c->apps[i], true) != config_app_port(&c->apps[j], true));
		}
	}
	if (c->gateway) {
		uint32_t mask = c->prefix_len ? 0xffffffffu << (32 - c->prefix_len) : 0;
		CHECK((c->gateway & mask) == (c->addr & mask));
		CHECK(c->gateway != c->addr);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > CONFIG_MAX_FILE)
		return 0;
	struct tapird_config c;
	char err[CONFIG_ERR_MAX];
	err[0] = '\0';
	config_init(&c);
	int rc = config_parse_ini(&c, "fuzz.conf", (const char *)data, size, err, sizeof(err));
	if (!rc)
		rc = config_finish(&c, app_builtin_confs, app_builtin_nconfs, "fuzz.conf", err,
				   sizeof(err));
	if (rc) {
		CHECK(rc == -EINVAL || rc == -ENOMEM);
		CHECK(!strncmp(err, "fuzz.conf", 9));
	} else {
		check_valid(&c);
	}
	config_free(&c);
	return 0;
}
