/*
 * top.h - `tapir top`: a live terminal view of an instance
 */
#ifndef TAPIR_CLI_TOP_H
#define TAPIR_CLI_TOP_H

#include <jansson.h>

/* tapir top NAME [--once] [--interval SECONDS] [--no-color].  Return: exit code */
int top_main(int argc, char **argv);

/* tapir.c: send @cmd to instance @name; the result (owned by *@rep, which the
 * caller releases), or NULL with the error printed */
json_t *cli_call(const char *name, const char *cmd, json_t *args, json_t **rep);

#endif /* TAPIR_CLI_TOP_H */
