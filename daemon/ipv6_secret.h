/*
 * ipv6_secret.h - tapird's RFC 7217 secret, kept in a file of its state directory
 *
 * Stable-privacy interface IDs (RFC 7217) stay the same across restarts only
 * if the secret does: without [ipv6] stable_secret, tapird makes a random one
 * at its first start and keeps it in STATE/NAME.ipv6-secret (32 hex digits
 * and a newline, mode 0600, written to a temporary file and renamed), read at
 * every later start.  STATE is $TAPIR_STATE_DIR, else systemd's
 * $STATE_DIRECTORY (StateDirectory=tapir: /var/lib/tapir), else
 * /var/lib/tapir for root, else $XDG_STATE_HOME/tapir (~/.local/state/tapir).
 */
#ifndef TAPIRD_IPV6_SECRET_H
#define TAPIRD_IPV6_SECRET_H

#include <stddef.h>
#include <stdint.h>

#include "tapir/log.h"

/* The state directory into @buf.  Return: 0 or -ENAMETOOLONG / -ENOENT (no HOME) */
int tapird_state_dir(char *buf, size_t len);

/**
 * tapird_ipv6_secret() - The kept secret of instance @name, made if missing
 * @name:   Instance name (the file's name)
 * @out:    The secret
 * @random: Fills a buffer with random bytes (for a new secret)
 * @log:    Where what happened is said
 *
 * A secret that cannot be kept (no state directory, not writable) is still
 * made and used, with a warning: the addresses then change at the next
 * start.  A file that exists but does not hold a secret is an error.
 *
 * Return: 0, or -EINVAL (a bad file, logged)
 */
int tapird_ipv6_secret(const char *name, uint8_t out[16],
		       void (*random)(void *ctx, void *buf, size_t len), struct tapir_logger *log);

#endif /* TAPIRD_IPV6_SECRET_H */
