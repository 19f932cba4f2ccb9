/*
 * server.h - the control protocol (control.h) on a Unix socket in a libuv loop
 *
 * The socket is created 0600 in a directory created 0700 (parents too); a
 * stale socket left by a dead instance is replaced, a live one is an error
 * (-EADDRINUSE).  Each connection's peer uid (SO_PEERCRED) must be ours or
 * root, otherwise it gets one EACCES error line and is closed.  Requests are
 * read line by line (at most CONTROL_MAX_LINE bytes; a longer line gets an
 * EMSGSIZE error and the connection is closed), replies are written in order.
 */
#ifndef TAPIR_CONTROL_SERVER_H
#define TAPIR_CONTROL_SERVER_H

#include <uv.h>

#include "control.h"
#include "tapir/log.h"

struct control_server;

/**
 * control_server_start() - Listen on @path
 * @after: Called after each request (the daemon re-arms its timer); may be NULL
 * Return: 0 or negative errno (logged)
 */
int control_server_start(struct control_server **out, uv_loop_t *loop, const char *path,
			 struct control *ctl, struct tapir_logger *log, void (*after)(void *ctx),
			 void *ctx);
/* Close the listener and every connection, unlink the socket; the memory is
 * freed by the close callbacks (run the loop afterwards).  NULL is allowed. */
void control_server_stop(struct control_server *s);
/* env->deliver for control_new(): send a deferred reply to client @id */
void control_server_deliver(void *server, uint64_t client, char *reply, size_t len);

#endif /* TAPIR_CONTROL_SERVER_H */
