/*
 * up.h - tapir up / exec: start an instance (optionally in a new user +
 *        network namespace, without root) and run commands beside it
 */
#ifndef TAPIR_CLI_UP_H
#define TAPIR_CLI_UP_H

int up_main(int argc, char **argv);
int exec_main(int argc, char **argv);

#endif /* TAPIR_CLI_UP_H */
