/*
 * ini_read.h - the INI reader under tapird's configuration
 *
 * inih parses the syntax (comments start with ';' or '#', inline comments
 * with " ;", a line starting with whitespace continues the previous value);
 * this reader hands it one line at a time, so that every key comes with its
 * "NAME:LINE", section headers are seen even without keys, NUL bytes and
 * lines over CONFIG_MAX_LINE bytes are refused (inih would split them), and
 * the first error stops the parse.  Files are at most CONFIG_MAX_FILE bytes.
 * What the sections and keys mean is the caller's (@ops).
 */
#ifndef TAPIR_CONF_INI_READ_H
#define TAPIR_CONF_INI_READ_H

#include <stddef.h>

struct conf_ini_ops {
	/* A [section] header (may be NULL).  Return: 0 or negative errno
	 * (message, "WHERE: what is wrong", in @err) */
	int (*section)(void *ctx, const char *section, const char *where, char *err,
		       size_t errlen);
	/* A key = value in @section ("" before any).  Return: as @section */
	int (*set)(void *ctx, const char *section, const char *key, const char *value,
		   const char *where, char *err, size_t errlen);
};

/**
 * conf_ini_parse() - Parse an INI text
 * @name:   Source name for messages ("tapird.conf", "(built-in)")
 * @text:   The text, @len bytes, need not be NUL-terminated
 *
 * Return: 0, -EINVAL ("NAME:LINE: what is wrong" in @err), -ENOMEM, or the
 *         first error of @ops
 */
int conf_ini_parse(const char *name, const char *text, size_t len, const struct conf_ini_ops *ops,
		   void *ctx, char *err, size_t errlen);

/* Read @path and conf_ini_parse() it.
 * Return: as conf_ini_parse(), or -errno of the read ("PATH: reason" in @err) */
int conf_ini_load(const char *path, const struct conf_ini_ops *ops, void *ctx, char *err,
		  size_t errlen);

#endif /* TAPIR_CONF_INI_READ_H */
