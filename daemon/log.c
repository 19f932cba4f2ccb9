/*
 * log.c - tapird's logger (see log.h)
 */
#include "config.h"
#include "tapir/log.h"

#include <stdarg.h>
#include <time.h>

void tapir_logger_init(struct tapir_logger *l, enum tapir_log_level level, bool timestamps)
{
	l->level = level;
	l->timestamps = timestamps;
	l->out = stderr;
}

void tapir_log_msg(struct tapir_logger *l, enum tapir_log_level level, const char *fmt, ...)
{
	if (level > l->level)
		return;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	char ts[64] = "";
	if (l->timestamps) {
		struct timespec now;
		struct tm tm;
		clock_gettime(CLOCK_REALTIME, &now);
		gmtime_r(&now.tv_sec, &tm);
		char day[32];
		strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(ts, sizeof(ts), "%s.%03dZ ", day, (int)(now.tv_nsec / 1000000) % 1000);
	}
	/* One fprintf per line, so lines from one process do not interleave. */
	fprintf(l->out, "%stapird: %s: %s\n", ts, config_log_level_name(level), msg);
	fflush(l->out);
}
