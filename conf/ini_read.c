/*
 * ini_read.c - the INI reader under tapird's configuration (inih, one line at a time)
 */
#include "ini_read.h"

#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

static void where_msg(char *msg, size_t len, const char *where, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void where_msg(char *msg, size_t len, const char *where, const char *fmt, ...)
{
	char m[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(m, sizeof(m), fmt, ap);
	va_end(ap);
	snprintf(msg, len, "%s: %s", where, m);
}

/*
 * The reader hands inih one line at a time, so that we know the line number
 * of every key, see sections that have no keys, refuse NUL bytes and
 * overlong lines (which inih would silently split), and get an error out.
 */
struct ini_state {
	const struct conf_ini_ops *ops;
	void *ctx;
	const char *name;
	const char *text;
	size_t len, pos;
	unsigned line;
	bool prev_name;  /* a key was seen since the last section (continuation) */
	int rc;          /* first error */
	unsigned err_line;
	char *err;
	size_t errlen;
};

static void ini_error(struct ini_state *s, int rc, const char *msg)
{
	if (s->rc)
		return;
	s->rc = rc;
	s->err_line = s->line;
	if (msg && s->err && s->errlen)
		snprintf(s->err, s->errlen, "%s", msg);
}

static void where_line(const struct ini_state *s, char *buf, size_t len)
{
	snprintf(buf, len, "%s:%u", s->name, s->line);
}

static bool is_inline_comment(const char *start, const char *p)
{
	return *p == ';' && p > start && (p[-1] == ' ' || p[-1] == '\t');
}

/* Mirror of inih's line classification, for section headers only. */
static void ini_see_line(struct ini_state *s, const char *line)
{
	const char *start = line;
	if (s->line == 1 && (unsigned char)start[0] == 0xEF && (unsigned char)start[1] == 0xBB &&
	    (unsigned char)start[2] == 0xBF)
		start += 3;
	while (*start == ' ' || *start == '\t' || *start == '\r' || *start == '\n' ||
	       *start == '\f' || *start == '\v')
		start++;
	if (*start == '\0' || *start == ';' || *start == '#')
		return;
	if (s->prev_name && start > line)
		return;  /* continuation of the previous value */
	if (*start == '[') {
		const char *p = start + 1;
		while (*p && *p != ']' && !is_inline_comment(start + 1, p))
			p++;
		if (*p != ']')
			return;  /* inih reports it */
		char section[CONFIG_WHERE_MAX];
		size_t n = (size_t)(p - start - 1);
		char where[CONFIG_WHERE_MAX];
		where_line(s, where, sizeof(where));
		s->prev_name = false;
		if (n >= 50) {  /* inih would truncate it */
			char msg[CONFIG_ERR_MAX];
			where_msg(msg, sizeof(msg), where, "section name too long");
			ini_error(s, -EINVAL, msg);
			return;
		}
		memcpy(section, start + 1, n);
		section[n] = '\0';
		char msg[CONFIG_ERR_MAX];
		int rc = s->ops->section ? s->ops->section(s->ctx, section, where, msg, sizeof(msg))
					 : 0;
		if (rc)
			ini_error(s, rc, msg);
		return;
	}
	/* name=value (or name:value): a name that later lines may continue */
	const char *p = start;
	while (*p && *p != '=' && *p != ':' && !is_inline_comment(start, p))
		p++;
	if (*p == '=' || *p == ':') {
		const char *e = p;
		while (e > start && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		s->prev_name = e > start;
	}
}

static char *cfg_ini_reader(char *str, int num, void *stream)
{
	struct ini_state *s = stream;
	if (s->pos >= s->len || num < 2)
		return NULL;
	const char *p = s->text + s->pos;
	size_t rest = s->len - s->pos;
	const char *nl = memchr(p, '\n', rest);
	size_t n = nl ? (size_t)(nl - p) + 1 : rest;
	s->line++;
	if (memchr(p, '\0', n)) {
		char where[CONFIG_WHERE_MAX], msg[CONFIG_ERR_MAX];
		where_line(s, where, sizeof(where));
		where_msg(msg, sizeof(msg), where, "NUL byte in the line");
		ini_error(s, -EINVAL, msg);
		return NULL;
	}
	size_t content = n;
	if (content && p[content - 1] == '\n')
		content--;
	if (content && p[content - 1] == '\r')
		content--;
	if (content > CONFIG_MAX_LINE || n > (size_t)num - 1) {
		char where[CONFIG_WHERE_MAX], msg[CONFIG_ERR_MAX];
		where_line(s, where, sizeof(where));
		where_msg(msg, sizeof(msg), where, "line too long (at most %d characters)",
		     CONFIG_MAX_LINE);
		ini_error(s, -EINVAL, msg);
		return NULL;
	}
	memcpy(str, p, n);
	str[n] = '\0';
	s->pos += n;
	ini_see_line(s, str);
	return str;
}

static int cfg_ini_handler(void *user, const char *section, const char *name, const char *value)
{
	struct ini_state *s = user;
	char where[CONFIG_WHERE_MAX], msg[CONFIG_ERR_MAX];
	if (s->rc)
		return 1;  /* the first error is the one reported */
	where_line(s, where, sizeof(where));
	int rc = s->ops->set(s->ctx, section, name, value, where, msg, sizeof(msg));
	if (rc) {
		ini_error(s, rc, rc == -ENOMEM ? "out of memory" : msg);
		return 0;
	}
	return 1;
}

int conf_ini_parse(const char *name, const char *text, size_t len, const struct conf_ini_ops *ops,
		   void *ctx, char *err, size_t errlen)
{
	struct ini_state s = {
		.ops = ops, .ctx = ctx, .name = name, .text = text, .len = len, .err = err, .errlen = errlen,
	};
	int r = ini_parse_stream(cfg_ini_reader, &s, cfg_ini_handler, &s);
	/* Our first error, unless inih found a syntax error on an earlier line. */
	if (r > 0 && (!s.rc || (unsigned)r < s.err_line)) {
		if (err && errlen)
			snprintf(err, errlen,
				 "%s:%d: syntax error (expected [section], key = value or a "
				 "comment)", name, r);
		return -EINVAL;
	}
	if (s.rc)
		return s.rc;
	if (r == -2) {
		if (err && errlen)
			snprintf(err, errlen, "%s: out of memory", name);
		return -ENOMEM;
	}
	if (r < 0) {
		if (err && errlen)
			snprintf(err, errlen, "%s: cannot be parsed", name);
		return -EINVAL;
	}
	return 0;
}

int conf_ini_load(const char *path, const struct conf_ini_ops *ops, void *ctx, char *err,
		  size_t errlen)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		int e = errno;
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path, strerror(e));
		return -e;
	}
	char *buf = malloc(CONFIG_MAX_FILE + 1);
	if (!buf) {
		fclose(f);
		return -ENOMEM;
	}
	size_t len = fread(buf, 1, CONFIG_MAX_FILE + 1, f);
	int rerr = ferror(f) ? errno : 0;
	fclose(f);
	int rc;
	if (rerr) {
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path, strerror(rerr));
		rc = -rerr;
	} else if (len > CONFIG_MAX_FILE) {
		if (err && errlen)
			snprintf(err, errlen, "%s: file too large (at most %u bytes)", path,
				 CONFIG_MAX_FILE);
		rc = -EINVAL;
	} else {
		rc = conf_ini_parse(path, buf, len, ops, ctx, err, errlen);
	}
	free(buf);
	return rc;
}
