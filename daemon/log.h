/*
 * log.h - tapird's logger: leveled messages on stderr
 *
 * One line per message: "tapird: LEVEL: message", optionally prefixed with
 * the UTC time ("2024-05-01T12:00:00.123Z ").  Messages above the configured
 * level are dropped.  Never writes to stdout.
 */
#ifndef TAPIR_LOG_H
#define TAPIR_LOG_H

#include <stdbool.h>
#include <stdio.h>

#include "config.h"

struct logger {
	enum config_log_level level;
	bool timestamps;
	FILE *out;  /* stderr */
};

void logger_init(struct logger *l, enum config_log_level level, bool timestamps);

/* Log one message (a trailing newline is added). */
void log_msg(struct logger *l, enum config_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define log_err(l, ...) log_msg((l), CONFIG_LOG_ERR, __VA_ARGS__)
#define log_warn(l, ...) log_msg((l), CONFIG_LOG_WARN, __VA_ARGS__)
#define log_info(l, ...) log_msg((l), CONFIG_LOG_INFO, __VA_ARGS__)
#define log_debug(l, ...) log_msg((l), CONFIG_LOG_DEBUG, __VA_ARGS__)

#endif /* TAPIR_LOG_H */
