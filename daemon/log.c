/*
 * log.c - tapird's logger (see log.h): text lines, or JSON lines built with jansson
 */
#include "config.h"
#include "tapir/log.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

void tapir_logger_init(struct tapir_logger *l, enum tapir_log_level level, bool timestamps)
{
	l->level = level;
	l->timestamps = timestamps;
	l->out = stderr;
	l->json = false;
	l->instance[0] = 0;
}

void tapir_logger_set_json(struct tapir_logger *l, bool json, const char *instance)
{
	l->json = json;
	snprintf(l->instance, sizeof(l->instance), "%s", instance ? instance : "");
}

/* Length of the valid UTF-8 sequence at @s (@n bytes left), 0 if invalid */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	uint32_t cp;
	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		cp = c & 0x1f;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		cp = c & 0x0f;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		cp = c & 0x07;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

/* A JSON string of @s, each byte that is not part of valid UTF-8 as U+FFFD */
static json_t *utf8_string(const char *s)
{
	size_t n = strlen(s);
	char *buf = malloc(n * 3 + 1), *o = buf;
	if (!buf)
		return NULL;
	const unsigned char *p = (const unsigned char *)s;
	while (n) {
		size_t k = utf8_len(p, n);
		if (k) {
			memcpy(o, p, k);
			o += k;
		} else {
			memcpy(o, "\xef\xbf\xbd", 3);
			o += 3;
			k = 1;
		}
		p += k;
		n -= k;
	}
	json_t *j = json_stringn(buf, (size_t)(o - buf));
	free(buf);
	return j;
}

static void emit(struct tapir_logger *l, enum tapir_log_level level, const char *const *fields,
		 const char *msg)
{
	struct timespec now;
	struct tm tm;
	char day[32], ts[64] = "";
	if (l->timestamps || l->json) {
		clock_gettime(CLOCK_REALTIME, &now);
		gmtime_r(&now.tv_sec, &tm);
		strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(ts, sizeof(ts), "%s.%03dZ", day, (int)(now.tv_nsec / 1000000) % 1000);
	}
	if (l->json) {
		json_t *f = json_object(), *o = json_object();
		for (size_t i = 0; fields && fields[i]; i += 2)
			if (fields[i + 1])
				json_object_set_new(f, fields[i], utf8_string(fields[i + 1]));
		json_object_set_new(o, "time", json_string(ts));
		json_object_set_new(o, "level", json_string(config_log_level_name(level)));
		json_object_set_new(o, "instance", utf8_string(l->instance));
		json_object_set_new(o, "message", utf8_string(msg));
		json_object_set_new(o, "fields", f);
		char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
		json_decref(o);
		if (line) {
			fprintf(l->out, "%s\n", line);
			free(line);
			fflush(l->out);
			return;
		}
		/* out of memory: the text line below still says it */
	}
	/* One fprintf per line, so lines from one process do not interleave. */
	fprintf(l->out, "%s%stapird: %s: %s\n", ts, *ts ? " " : "", config_log_level_name(level),
		msg);
	fflush(l->out);
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
	emit(l, level, NULL, msg);
}

void tapir_log_fields(struct tapir_logger *l, enum tapir_log_level level,
		      const char *const *fields, const char *fmt, ...)
{
	if (level > l->level)
		return;
	char msg[1024];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	emit(l, level, fields, msg);
}
