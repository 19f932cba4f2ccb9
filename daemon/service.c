/*
 * service.c - tapird as a service: systemd's readiness notification, the sandbox
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sandbox.h"
#include "service.h"

/*
 * The sd_notify protocol (no libsystemd): one datagram with "KEY=VALUE\n"
 * lines to the AF_UNIX socket in $NOTIFY_SOCKET ('@': abstract).  Without
 * the variable (not started by systemd) it does nothing.
 */
void service_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	if (!path || (path[0] != '/' && path[0] != '@'))
		return;
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	size_t n = strlen(path);
	if (n >= sizeof(a.sun_path))
		return;
	memcpy(a.sun_path, path, n);
	if (a.sun_path[0] == '@')
		a.sun_path[0] = 0;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&a,
	       (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n));
	close(fd);
}

int service_confine(const struct tapird_config *c, struct tapir_logger *log, const char *sock)
{
	char err[256];
	if (c->control_user[0] && !c->sandbox) {
		tapir_log_err(log, "[control] user needs sandbox = true");
		return -EINVAL;
	}
	if (c->sandbox) {
		int rc = sandbox_enter(c->control_user, sock, c->gw.enabled, err, sizeof(err));
		if (rc) {
			tapir_log_err(log, "sandbox: %s", err);
			return rc;
		}
		tapir_log_info(log, "sandbox: %s%s, no capabilities, no new privileges, seccomp",
			 c->control_user[0] ? "user " : "same user", c->control_user);
	}
	return 0;
}

void service_raise_nofile(void)
{
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}
