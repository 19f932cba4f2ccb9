/*
 * sandbox.h - tapird drops what it no longer needs once the TAP is open
 *
 * sandbox_enter(), in this order: (1) as root with @user set, chown the
 * control socket to the user, empty the capability bounding set, clear the
 * supplementary groups and switch to the user's gid and uid; (2) drop every
 * capability left (effective, permitted, inheritable, ambient); (3) set
 * no_new_privs; (4) load a seccomp allowlist of the system calls the loop
 * makes (libuv's epoll loop, TAP and socket I/O, memory, time, the files a
 * capture or a dir:/tar: store opens); any other call kills the process
 * (SIGSYS).
 */
#ifndef TAPIR_SANDBOX_H
#define TAPIR_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

/**
 * sandbox_enter() - Drop privileges and confine the process
 * @user:   User to become (NULL or "": stay who we are)
 * @socket: Control socket to hand to @user (may be NULL)
 * @gateway: [gateway] enabled: allow what the gateway's host sockets need
 *
 * Return: 0 or negative errno (message in @err)
 */
int sandbox_enter(const char *user, const char *socket, bool gateway, char *err, size_t errlen);

/* Only step (4); @gateway: also the gateway's host sockets (AF_INET TCP, UDP
 * and ping sockets, connect(), bind(), listen()).  Return: 0 or negative errno (message in @err) */
int sandbox_seccomp(bool gateway, char *err, size_t errlen);

#endif /* TAPIR_SANDBOX_H */
