/*
 * cli.h - what the subcommand files of tapir share with tapir.c
 *
 * tapir.c holds the subcommand table, the talking to an instance and the
 * output mode; subcommands in other files (diag.c: route, reasm, ping,
 * traceroute; cmds.c: kv, capture, forward) reach them through these.  Exit codes as tapir.c's: 0, 1
 * (usage), 2 (runtime).
 */
#ifndef TAPIR_CLI_CLI_H
#define TAPIR_CLI_CLI_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#define CLI_EXIT_USAGE 1
#define CLI_EXIT_RUNTIME 2

/* Send @cmd to instance @name: the result (owned by *@rep, which the caller
 * releases), or NULL with the error printed */
json_t *cli_call(const char *name, const char *cmd, json_t *args, json_t **rep);
/* --json was given */
bool cli_json_out(void);
void cli_print_json(json_t *v);
/* Run @cmd on @name, print JSON or @table(result, @arg).  Return: exit code */
int cli_show(const char *name, const char *cmd, json_t *args,
	     void (*table)(json_t *r, const char *arg), const char *arg);
/* Print @msg and the usage line.  Return: CLI_EXIT_USAGE */
int cli_usage_err(const char *msg, const char *usage);
/* --help or -h before "--": usage and @help printed, true */
bool cli_want_help(int argc, char **argv, const char *usage, const char *help);
/* A decimal number up to @max.  Return: 0 or -EINVAL */
int cli_parse_u64(const char *s, uint64_t max, uint64_t *out);
/* @addr and @port as a.b.c.d:port or [v6]:port in @buf; returns @buf */
char *cli_endpoint(char *buf, size_t size, const char *addr, long long port);

/* A reply's string field (or "-") and integer field (or 0) */
static inline const char *cli_s(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));
	return s ? s : "-";
}

static inline long long cli_i(json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

/* cmds.c: the subcommands */
int kv_main(int argc, char **argv);
int capture_main(int argc, char **argv);
int forward_main(int argc, char **argv);

/* diag.c: the subcommands */
int route_main(int argc, char **argv);
int reasm_main(int argc, char **argv);
int ping_main(int argc, char **argv);
int traceroute_main(int argc, char **argv);

#endif /* TAPIR_CLI_CLI_H */
