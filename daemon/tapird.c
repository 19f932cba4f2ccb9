/*
 * tapird.c - the tapir daemon: the runtime (runtime.c) with the built-in apps
 *
 * Everything is in tapir_run() (tapir/app.h), so that a program of one's
 * own with its own app types is the same daemon (examples/hello/).
 */
#include "tapir/app.h"

int main(int argc, char **argv)
{
	return tapir_run(argc, argv, NULL, 0);
}
