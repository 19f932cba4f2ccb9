/*
 * bootargs.h - boot arguments: MirageOS parse-argv tokenizer and the
 *              --section.key=value split
 *
 * tapird joins its arguments (after its own options) with spaces and splits
 * the line again with the rules of MirageOS 3.5's Parse_argv:
 *   - tokens are separated by unescaped, unquoted spaces (' ' only); runs of
 *     spaces separate once, leading and trailing spaces are ignored;
 *   - a backslash makes the next character literal (space, quote, backslash);
 *     a backslash at the very end is an error;
 *   - "..." quotes: spaces inside are kept and the quotes removed; quotes may
 *     appear inside a token (--a.b="x y" gives --a.b=x y); an empty pair ""
 *     gives an empty token; an unterminated quote is an error.
 * Both functions are pure: no I/O, no global state.
 */
#ifndef TAPIR_BOOTARGS_H
#define TAPIR_BOOTARGS_H

#include <stddef.h>

/**
 * bootargs_tokenize() - Split a boot-argument line into tokens
 * @line:   NUL-terminated line
 * @out:    Receives a malloc'd array of @n malloc'd strings (NULL when @n is
 *          0); free with bootargs_free()
 * @n:      Receives the number of tokens
 * @err:    Receives a message on error (may be NULL)
 * @errlen: Size of @err
 *
 * Return: 0, -EINVAL (syntax error, described in @err) or -ENOMEM; on error
 *         *@out and *@n are set to NULL and 0
 */
int bootargs_tokenize(const char *line, char ***out, size_t *n, char *err, size_t errlen);

/* Free what bootargs_tokenize() returned.  NULL is allowed. */
void bootargs_free(char **tokens, size_t n);

/*
 * A --section.key=value argument, split.  The section is the first dotted
 * component, or the first two when the first is "app" or "kv"
 * (--app.echo.port=7 -> app.echo / port; --netif.impair.loss=1% -> netif /
 * impair.loss).  The value may be empty and may contain '=' and '.'.
 */
struct bootarg {
	char *section, *key, *value;  /* malloc'd, owned by the struct */
};

/**
 * bootarg_split() - Split one token into section, key and value
 * @tok:    Token, e.g. "--ipv4.address=192.0.2.2/24"
 * @out:    Filled on success; release with bootarg_release()
 * @err:    Receives a message on error (may be NULL)
 * @errlen: Size of @err
 *
 * Return: 0, -EINVAL (not --section.key=value; described in @err), -ENOMEM
 */
int bootarg_split(const char *tok, struct bootarg *out, char *err, size_t errlen);

/* Free the strings of @a (not @a itself). */
void bootarg_release(struct bootarg *a);

#endif /* TAPIR_BOOTARGS_H */
