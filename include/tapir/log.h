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

/* Same order as enum tapir_stack_log_level (stack.h) */
enum tapir_log_level {
	TAPIR_LOG_LEVEL_ERR,
	TAPIR_LOG_LEVEL_WARN,
	TAPIR_LOG_LEVEL_INFO,
	TAPIR_LOG_LEVEL_DEBUG,
};

struct tapir_logger {
	enum tapir_log_level level;
	bool timestamps;
	FILE *out;  /* stderr */
};

void tapir_logger_init(struct tapir_logger *l, enum tapir_log_level level, bool timestamps);

/* Log one message (a trailing newline is added). */
void tapir_log_msg(struct tapir_logger *l, enum tapir_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#define tapir_log_err(l, ...) tapir_log_msg((l), TAPIR_LOG_LEVEL_ERR, __VA_ARGS__)
#define tapir_log_warn(l, ...) tapir_log_msg((l), TAPIR_LOG_LEVEL_WARN, __VA_ARGS__)
#define tapir_log_info(l, ...) tapir_log_msg((l), TAPIR_LOG_LEVEL_INFO, __VA_ARGS__)
#define tapir_log_debug(l, ...) tapir_log_msg((l), TAPIR_LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif /* TAPIR_LOG_H */
