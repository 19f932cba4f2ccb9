/*
 * apps.h - applications tapird runs on its stack
 *
 * The runtime side of each application type: start() on a running stack
 * with the app's resolved configuration (config.h), stop() before the stack
 * is freed.  The config side (keys, checks) is the table in config.c; a new
 * type needs an entry in both tables.
 */
#ifndef TAPIR_APPS_H
#define TAPIR_APPS_H

#include "config.h"
#include "log.h"
#include "stack.h"

struct app_type {
	const char *name;
	/* Return: 0 and the app's state in *@state, or a negative errno
	 * (logged by the app) */
	int (*start)(struct stack *st, const struct app_config *cfg, struct logger *log,
		     void **state);
	/* Stop and free @state. */
	void (*stop)(void *state);
};

/* Return: the type called @name, or NULL */
const struct app_type *app_type_find(const char *name);

/* app_echo.c: echo (RFC 862) over UDP and TCP */
int echo_start(struct stack *st, const struct app_config *cfg, struct logger *log,
	       void **state);
void echo_stop(void *state);

/* app_discard.c: discard (RFC 863) over UDP and TCP; source (TCP bulk sender) */
int discard_start(struct stack *st, const struct app_config *cfg, struct logger *log,
		  void **state);
void discard_stop(void *state);
int source_start(struct stack *st, const struct app_config *cfg, struct logger *log,
		 void **state);
void source_stop(void *state);

#endif /* TAPIR_APPS_H */
