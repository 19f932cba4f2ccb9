/*
 * apps.c - the list of built-in application types
 */
#include "apps.h"

const struct tapir_app_type *const app_builtin_types[] = {
	&app_echo_type,
	&app_discard_type,
	&app_source_type,
	&app_http_type,
	&app_kvhttp_type,
};

const size_t app_builtin_ntypes = sizeof(app_builtin_types) / sizeof(app_builtin_types[0]);
