/*
 * log.h - tapird's logger: leveled messages on stderr, as text or JSON lines
 *
 * One line per message.  Text (the default): "tapird: LEVEL: message",
 * optionally prefixed with the UTC time ("2024-05-01T12:00:00.123Z ").
 * JSON ([log] format = json, for journald/Loki): one object per line,
 *
 *   {"time":"2024-05-01T12:00:00.123Z","level":"info","instance":"tap0",
 *    "message":"...","fields":{...}}
 *
 * where fields holds what tapir_log_fields() was given (strings; {} for
 * the other calls).  Bytes that are not UTF-8 become U+FFFD in JSON.
 * Messages above the configured level are dropped.  Never writes to stdout.
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
	bool json;           /* JSON lines (tapir_logger_set_json()) */
	char instance[64];   /* JSON's "instance" */
};

/* Text lines on stderr, at @level, with the time if @timestamps */
void tapir_logger_init(struct tapir_logger *l, enum tapir_log_level level, bool timestamps);

/* Switch to JSON lines (@json) naming @instance (copied; NULL: ""), or back to text */
void tapir_logger_set_json(struct tapir_logger *l, bool json, const char *instance);

/* Log one message (a trailing newline is added). */
void tapir_log_msg(struct tapir_logger *l, enum tapir_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/**
 * tapir_log_fields() - Log one message with structured fields
 * @fields: "key", "value" pairs ending with a NULL key (lent for the call);
 *          a NULL value is left out.  JSON lines carry them in "fields";
 *          text lines show the message alone, so say it there too.
 */
void tapir_log_fields(struct tapir_logger *l, enum tapir_log_level level,
		      const char *const *fields, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#define tapir_log_err(l, ...) tapir_log_msg((l), TAPIR_LOG_LEVEL_ERR, __VA_ARGS__)
#define tapir_log_warn(l, ...) tapir_log_msg((l), TAPIR_LOG_LEVEL_WARN, __VA_ARGS__)
#define tapir_log_info(l, ...) tapir_log_msg((l), TAPIR_LOG_LEVEL_INFO, __VA_ARGS__)
#define tapir_log_debug(l, ...) tapir_log_msg((l), TAPIR_LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif /* TAPIR_LOG_H */
