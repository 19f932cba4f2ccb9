/*
 * app_conf.c - the configuration side of echo, discard and source, and the list of built-ins
 *
 * (Moved from conf/config_keys.c, which held every built-in type's table.)
 */
#include "app_conf.h"

#define N(t) (sizeof(t) / sizeof((t)[0]))
#define PORT_WHAT "a port (1 to 65535)"

static const struct tapir_conf_key echo_keys[] = {
	{ "port", TAPIR_CONF_UINT, TAPIR_CONF_AT(struct app_port_config, port), .min = 1, .max = 65535,
	  .def = "7", .what = PORT_WHAT, .help = "TCP and UDP port (RFC 862)" },
};
static const struct tapir_conf_key discard_keys[] = {
	{ "port", TAPIR_CONF_UINT, TAPIR_CONF_AT(struct app_port_config, port), .min = 1, .max = 65535,
	  .def = "9", .what = PORT_WHAT, .help = "TCP and UDP port (RFC 863)" },
};
static const struct tapir_conf_key source_keys[] = {
	{ "port", TAPIR_CONF_UINT, TAPIR_CONF_AT(struct app_port_config, port), .min = 1, .max = 65535,
	  .def = "19", .what = PORT_WHAT, .help = "TCP port; sends bytes until the peer closes" },
};

const struct tapir_app_conf_type app_echo_conf = {
	.name = "echo",
	.keys = echo_keys,
	.nkeys = N(echo_keys),
	.params_size = sizeof(struct app_port_config),
	.udp_port = TAPIR_APP_CONF_PORT(struct app_port_config, port),
	.tcp_port = TAPIR_APP_CONF_PORT(struct app_port_config, port),
};

const struct tapir_app_conf_type app_discard_conf = {
	.name = "discard",
	.keys = discard_keys,
	.nkeys = N(discard_keys),
	.params_size = sizeof(struct app_port_config),
	.udp_port = TAPIR_APP_CONF_PORT(struct app_port_config, port),
	.tcp_port = TAPIR_APP_CONF_PORT(struct app_port_config, port),
};

const struct tapir_app_conf_type app_source_conf = {
	.name = "source",
	.keys = source_keys,
	.nkeys = N(source_keys),
	.params_size = sizeof(struct app_port_config),
	.tcp_port = TAPIR_APP_CONF_PORT(struct app_port_config, port),
};

#define APP_CONF_REF(name) &app_##name##_conf,
const struct tapir_app_conf_type *const app_builtin_confs[] = { APP_BUILTINS(APP_CONF_REF) };
#undef APP_CONF_REF
const size_t app_builtin_nconfs = N(app_builtin_confs);
