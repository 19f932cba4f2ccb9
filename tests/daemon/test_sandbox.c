/*
 * test_sandbox.c - tapird's seccomp allowlist: what the loop uses passes,
 * anything else (execve, a raw socket, mount) kills the process with SIGSYS
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "sandbox.h"

enum probe { P_ALLOWED, P_EXECVE, P_RAW_SOCKET, P_MOUNT, P_INET_SOCKET, P_GATEWAY_SOCKETS,
	     P_GATEWAY6_SOCKETS };

/* Run @p in a sandboxed child.  Return: its wait status; *said = what it wrote first */
static int run_child(enum probe p, bool gateway, char *said, size_t n)
{
	int fds[2];
	assert_int_equal(pipe(fds), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char err[256];
		close(fds[0]);
		if (sandbox_seccomp(gateway, err, sizeof(err))) {
			fprintf(stderr, "%s\n", err);
			_exit(99);
		}
		/* Allowed: write, socket(AF_UNIX), clock, memory */
		if (write(fds[1], "in", 2) != 2)
			_exit(98);
		int u = socket(AF_UNIX, SOCK_DGRAM, 0);
		void *m = malloc(1 << 20);
		free(m);
		if (u < 0)
			_exit(97);
		close(u);
		switch (p) {
		case P_ALLOWED:
			_exit(0);
		case P_EXECVE: {
			char *argv[] = { "/bin/true", NULL };
			execv(argv[0], argv);
			_exit(96);
		}
		case P_RAW_SOCKET:
			socket(AF_PACKET, SOCK_RAW, 0);
			_exit(95);
		case P_INET_SOCKET:
			socket(AF_INET, SOCK_STREAM, 0);
			_exit(94);
		case P_MOUNT:
			mount("none", "/", "tmpfs", 0, NULL);
			_exit(93);
		case P_GATEWAY_SOCKETS: {
			/* what the gateway makes: TCP, UDP, connect(), listen() */
			struct sockaddr_in a = { .sin_family = AF_INET,
						 .sin_port = htons(9),
						 .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
			int t = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
			int d = socket(AF_INET, SOCK_DGRAM, 0);

			struct sockaddr_in any = { .sin_family = AF_INET };

			if (t < 0 || d < 0 || bind(d, (struct sockaddr *)&any, sizeof(any)))
				_exit(91);
			/* the port forwards: a listener on a host port */
			struct sockaddr_in lo = { .sin_family = AF_INET,
						  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
			int l = socket(AF_INET, SOCK_STREAM, 0);
			if (l < 0 || bind(l, (struct sockaddr *)&lo, sizeof(lo)) || listen(l, 1))
				_exit(89);
			(void)connect(t, (struct sockaddr *)&a, sizeof(a));
			if (connect(d, (struct sockaddr *)&a, sizeof(a)) < 0)
				_exit(90);
			_exit(0);
		}
		case P_GATEWAY6_SOCKETS: {
			/* IPv6: TCP, UDP and a ping socket (this may be refused by
			 * ping_group_range or a kernel without IPv6, never killed) */
			int t = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, 0);
			int d = socket(AF_INET6, SOCK_DGRAM, 0);
			int p6 = socket(AF_INET6, SOCK_DGRAM, IPPROTO_ICMPV6);

			(void)p6;
			if ((t < 0 || d < 0) && errno != EAFNOSUPPORT)
				_exit(88);
			_exit(0);
		}
		}
		_exit(92);
	}
	close(fds[1]);
	ssize_t r = read(fds[0], said, n - 1);
	said[r > 0 ? r : 0] = 0;
	close(fds[0]);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

static void test_allowed_calls_pass(void **state)
{
	char said[8];
	int st = run_child(P_ALLOWED, false, said, sizeof(said));
	assert_string_equal(said, "in");
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void expect_killed_gw(enum probe p, bool gateway)
{
	char said[8];
	int st = run_child(p, gateway, said, sizeof(said));
	assert_string_equal(said, "in");  /* it ran, sandboxed, until the forbidden call */
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGSYS);
}

static void expect_killed(enum probe p) { expect_killed_gw(p, false); }

/* With the gateway on: AF_INET and AF_INET6 TCP/UDP sockets and connect() pass; raw
 * sockets and execve still kill; without it the same sockets kill */
static void test_gateway_sockets(void **state)
{
	char said[8];
	int st = run_child(P_GATEWAY_SOCKETS, true, said, sizeof(said));

	assert_string_equal(said, "in");
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	expect_killed_gw(P_GATEWAY_SOCKETS, false);
	st = run_child(P_GATEWAY6_SOCKETS, true, said, sizeof(said));
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
	expect_killed_gw(P_GATEWAY6_SOCKETS, false);
	expect_killed_gw(P_RAW_SOCKET, true);
	expect_killed_gw(P_EXECVE, true);
}

static void test_execve_kills(void **state) { expect_killed(P_EXECVE); }
static void test_raw_socket_kills(void **state) { expect_killed(P_RAW_SOCKET); }
static void test_inet_socket_kills(void **state) { expect_killed(P_INET_SOCKET); }
static void test_mount_kills(void **state) { expect_killed(P_MOUNT); }

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allowed_calls_pass),
		cmocka_unit_test(test_execve_kills),
		cmocka_unit_test(test_raw_socket_kills),
		cmocka_unit_test(test_inet_socket_kills),
		cmocka_unit_test(test_mount_kills),
		cmocka_unit_test(test_gateway_sockets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
