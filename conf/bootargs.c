/*
 * bootargs.c - boot-argument tokenizer and --section.key=value split
 */
#include "bootargs.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tokvec {
	char **v;
	size_t n, cap;
};

static int push(struct tokvec *t, const char *s, size_t len)
{
	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 8;
		char **v = realloc(t->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		t->v = v;
		t->cap = cap;
	}
	char *c = malloc(len + 1);
	if (!c)
		return -ENOMEM;
	memcpy(c, s, len);
	c[len] = '\0';
	t->v[t->n++] = c;
	return 0;
}

void bootargs_free(char **tokens, size_t n)
{
	if (!tokens)
		return;
	for (size_t i = 0; i < n; i++)
		free(tokens[i]);
	free(tokens);
}

int bootargs_tokenize(const char *line, char ***out, size_t *n, char *err, size_t errlen)
{
	struct tokvec t = { 0 };
	size_t len = strlen(line);
	/* A token is never longer than the line: one scratch buffer does. */
	char *buf = malloc(len + 1);
	size_t blen = 0;
	bool in_token = false, quoted = false;
	size_t quote_at = 0;
	int rc = 0;

	*out = NULL;
	*n = 0;
	if (!buf)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++) {
		char c = line[i];
		if (c == '\\') {
			if (i + 1 == len) {
				if (err && errlen)
					snprintf(err, errlen, "trailing backslash at offset %zu", i);
				rc = -EINVAL;
				goto out;
			}
			buf[blen++] = line[++i];
			in_token = true;
		} else if (c == '"') {
			quoted = !quoted;
			quote_at = i;
			in_token = true;
		} else if (c == ' ' && !quoted) {
			if (in_token) {
				rc = push(&t, buf, blen);
				if (rc)
					goto out;
			}
			blen = 0;
			in_token = false;
		} else {
			buf[blen++] = c;
			in_token = true;
		}
	}
	if (quoted) {
		if (err && errlen)
			snprintf(err, errlen, "unterminated quote (opened at offset %zu)", quote_at);
		rc = -EINVAL;
		goto out;
	}
	if (in_token)
		rc = push(&t, buf, blen);
out:
	free(buf);
	if (rc) {
		bootargs_free(t.v, t.n);
		if (rc == -ENOMEM && err && errlen)
			snprintf(err, errlen, "out of memory");
		return rc;
	}
	*out = t.v;
	*n = t.n;
	return 0;
}

void bootarg_release(struct bootarg *a)
{
	free(a->section);
	free(a->key);
	free(a->value);
	a->section = a->key = a->value = NULL;
}

static int fail(char *err, size_t errlen, const char *msg)
{
	if (err && errlen)
		snprintf(err, errlen, "%s", msg);
	return -EINVAL;
}

int bootarg_split(const char *tok, struct bootarg *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if (strncmp(tok, "--", 2) != 0)
		return fail(err, errlen, "expected --section.key=value");
	const char *name = tok + 2;
	const char *eq = strchr(name, '=');
	if (!eq)
		return fail(err, errlen, "expected --section.key=value (no '=')");
	size_t nlen = (size_t)(eq - name);
	const char *dot1 = memchr(name, '.', nlen);
	if (!dot1 || dot1 == name)
		return fail(err, errlen, "expected --section.key=value (no section)");
	const char *split = dot1;
	size_t first = (size_t)(dot1 - name);
	if ((first == 3 && !memcmp(name, "app", 3)) || (first == 2 && !memcmp(name, "kv", 2))) {
		const char *dot2 = memchr(dot1 + 1, '.', (size_t)(eq - dot1 - 1));
		if (!dot2)
			return fail(err, errlen, first == 3
				    ? "expected --app.NAME.key=value"
				    : "expected --kv.NAME.key=value");
		if (dot2 == dot1 + 1)
			return fail(err, errlen, "empty name after the section prefix");
		split = dot2;
	}
	if (split + 1 == eq)
		return fail(err, errlen, "expected --section.key=value (no key)");
	out->section = strndup(name, (size_t)(split - name));
	out->key = strndup(split + 1, (size_t)(eq - split - 1));
	out->value = strdup(eq + 1);
	if (!out->section || !out->key || !out->value) {
		bootarg_release(out);
		if (err && errlen)
			snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	return 0;
}
