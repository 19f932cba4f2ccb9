/*
 * top.h - `tapir top`: a live terminal view of an instance
 */
#ifndef TAPIR_CLI_TOP_H
#define TAPIR_CLI_TOP_H


/* tapir top NAME [--once] [--interval SECONDS] [--no-color].  Return: exit code */
int top_main(int argc, char **argv);

#endif /* TAPIR_CLI_TOP_H */
