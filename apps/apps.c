/*
 * apps.c - the table of application types (runtime side)
 */
#include "apps.h"

#include <string.h>

static const struct tapir_app_type app_types[] = {
	{ "echo", NULL, echo_start, echo_stop, NULL },
	{ "discard", NULL, discard_start, discard_stop, NULL },
	{ "source", NULL, source_start, source_stop, NULL },
	{ "http", NULL, http_start, http_stop, http_reloaded },
	{ "kvhttp", NULL, kvhttp_start, http_stop, http_reloaded },
};

const struct tapir_app_type *app_type_find(const char *name)
{
	for (size_t i = 0; i < sizeof(app_types) / sizeof(app_types[0]); i++)
		if (!strcmp(app_types[i].name, name))
			return &app_types[i];
	return NULL;
}
