/*
 * test_control_dir.c - the control socket's directory check (control_dir_check)
 * and tapird's refusal to listen in a directory someone else could write
 *
 * Ownership cases chown to nobody and run a client as uid 65533, so they
 * need root (skipped otherwise).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <errno.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tapir/log.h"
#include "proto.h"
#include "server.h"

#define NOBODY 65534

static char top[256];

static int setup(void **state)
{
	(void)state;
	const char *b = getenv("TMPDIR");
	snprintf(top, sizeof(top), "%s/tapir-ctldir-XXXXXX", b && *b ? b : "/tmp");
	return mkdtemp(top) ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	return system(cmd) ? -1 : 0;
}

static void path_of(char *buf, size_t len, const char *name)
{
	snprintf(buf, len, "%s/%s", top, name);
}

static void test_good_dir(void **state)
{
	(void)state;
	char d[300], why[512];
	path_of(d, sizeof(d), "run");
	assert_int_equal(mkdir(d, 0700), 0);
	assert_int_equal(control_dir_check(d, false, why, sizeof(why)), 0);
	/* 0755 is safe too: nobody else can create a socket there. */
	assert_int_equal(chmod(d, 0755), 0);
	assert_int_equal(control_dir_check(d, false, why, sizeof(why)), 0);
	char sock[400];
	snprintf(sock, sizeof(sock), "%s/one.sock", d);
	assert_int_equal(control_socket_dir_check(sock, false, why, sizeof(why)), 0);
	path_of(d, sizeof(d), "absent");
	assert_int_equal(control_dir_check(d, false, why, sizeof(why)), -ENOENT);
}

static void test_wrong_mode(void **state)
{
	(void)state;
	char d[300], why[512];
	path_of(d, sizeof(d), "run");
	assert_int_equal(mkdir(d, 0700), 0);
	assert_int_equal(chmod(d, 0770), 0);
	assert_int_equal(control_dir_check(d, false, why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, "writable by group or others"));
	assert_non_null(strstr(why, d));
	assert_int_equal(chmod(d, 0703), 0);
	assert_int_equal(control_dir_check(d, true, why, sizeof(why)), -EPERM);
	assert_int_equal(chmod(d, 01777), 0);   /* like /tmp */
	assert_int_equal(control_dir_check(d, true, NULL, 0), -EPERM);
}

static void test_wrong_owner(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip();
	char d[300], why[512];
	path_of(d, sizeof(d), "tapir-0");
	assert_int_equal(mkdir(d, 0700), 0);
	assert_int_equal(chown(d, NOBODY, NOBODY), 0);
	/* Squatted: owned by another user, even with a safe mode: the daemon
	 * never listens there... */
	assert_int_equal(control_dir_check(d, false, why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, "owned by uid 65534"));
	/* ...root's CLI may talk to another user's instance... */
	assert_int_equal(control_dir_check(d, true, why, sizeof(why)), 0);
	/* ...but a client of a third uid refuses it; root's directory it accepts. */
	assert_int_equal(chmod(top, 0711), 0);
	char rd[300];
	path_of(rd, sizeof(rd), "rootdir");
	assert_int_equal(mkdir(rd, 0755), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		if (setgid(NOBODY - 1) || setuid(NOBODY - 1))
			_exit(10);
		if (control_dir_check(d, true, why, sizeof(why)) != -EPERM ||
		    !strstr(why, "owned by uid 65534, not by us (uid 65533)"))
			_exit(11);
		if (control_dir_check(rd, true, why, sizeof(why)) != 0)
			_exit(12);
		if (control_dir_check(rd, false, why, sizeof(why)) != -EPERM)
			_exit(13);
		_exit(0);
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), 0);
}

static void test_symlink(void **state)
{
	(void)state;
	char d[300], l[300], why[512];
	path_of(d, sizeof(d), "real");
	path_of(l, sizeof(l), "link");
	assert_int_equal(mkdir(d, 0700), 0);
	assert_int_equal(symlink(d, l), 0);
	/* Even to a good directory: lstat, never followed. */
	assert_int_equal(control_dir_check(l, false, why, sizeof(why)), -EPERM);
	assert_non_null(strstr(why, "symlink"));
	path_of(d, sizeof(d), "file");
	FILE *f = fopen(d, "w");
	assert_non_null(f);
	fclose(f);
	assert_int_equal(control_dir_check(d, false, why, sizeof(why)), -ENOTDIR);
}

/* tapird does not listen in a squatted directory, and leaves it alone. */
static void test_server_refuses(void **state)
{
	(void)state;
	if (geteuid() != 0)
		skip();
	char d[300], sock[400];
	path_of(d, sizeof(d), "tapir-0");
	assert_int_equal(mkdir(d, 0700), 0);
	assert_int_equal(chown(d, NOBODY, NOBODY), 0);
	snprintf(sock, sizeof(sock), "%s/x.sock", d);
	struct tapir_logger log;
	tapir_logger_init(&log, TAPIR_LOG_LEVEL_ERR, false);
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct control_server *srv = NULL;
	assert_int_equal(control_server_start(&srv, &loop, sock, NULL, &log, NULL, NULL), -EPERM);
	assert_null(srv);
	struct stat st;
	assert_int_equal(lstat(sock, &st), -1);
	/* The same directory, ours again: it listens. */
	assert_int_equal(chown(d, 0, 0), 0);
	assert_int_equal(control_server_start(&srv, &loop, sock, NULL, &log, NULL, NULL), 0);
	assert_int_equal(lstat(sock, &st), 0);
	control_server_stop(srv);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_good_dir, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_mode, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_owner, setup, teardown),
		cmocka_unit_test_setup_teardown(test_symlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_server_refuses, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
