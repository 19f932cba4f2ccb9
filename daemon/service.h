/*
 * service.h - tapird as a service: systemd's readiness notification, the sandbox
 *
 * Once the TAP is open and the control socket listens, tapird confines
 * itself (service_confine(): [control] user and sandbox, sandbox.h) and then
 * tells systemd it is ready (service_notify("READY=1\nSTATUS=...")).
 */
#ifndef TAPIR_SERVICE_H
#define TAPIR_SERVICE_H

#include "config.h"
#include "tapir/log.h"

/*
 * service_notify() - The sd_notify protocol (no libsystemd): one datagram
 * with @state ("KEY=VALUE\n" lines) to the AF_UNIX socket in $NOTIFY_SOCKET
 * ('@': abstract).  Without the variable (not started by systemd) it does
 * nothing.
 */
void service_notify(const char *state);

/**
 * service_confine() - Apply [control] user and sandbox (sandbox_enter())
 * @sock: The control socket, handed to the user (may be NULL)
 *
 * Return: 0 or negative errno (logged)
 */
int service_confine(const struct tapird_config *c, struct tapir_logger *log, const char *sock);

/*
 * service_raise_nofile() - Take the hard limit of open descriptors as the
 * soft one (as the gateway does): a value streamed by the http app holds its
 * file open until the response is sent, so max_connections slow readers
 * hold as many descriptors.
 */
void service_raise_nofile(void);

#endif /* TAPIR_SERVICE_H */
