/*
 * forward.c - fuzz target: eth_input's stack in forwarder mode (tapir/forward.h)
 *
 * The same input format as fuzz/eth_input (see there); the stack takes TCP,
 * UDP and pings for any foreign address, as the gateway runs it.
 */
#define FUZZ_FORWARD 1
#include "../eth_input/eth_input.c"
