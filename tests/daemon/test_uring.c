/*
 * test_uring.c - tapird's wait in io_uring (daemon/uring.h): the window of
 * polling before a sleep, and the loop against a partner thread over a
 * socketpair: frames all delivered, an idle loop never polls, a quick
 * exchange does, busy_poll = 0 never does, one sharing its CPU with the
 * partner gives way; the cgroup CPU quota that stops it, from fake trees
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "uring.h"

#define US 1000ull

static void test_adapt(void **state)
{
	(void)state;
	const uint64_t max = 50 * US;
	/* idle: nothing, and stays nothing */
	assert_int_equal(uring_poll_adapt(0, max, 10 * 1000 * US), 0);
	/* frames soon after the sleep began: 10 us, then doubling, capped */
	assert_int_equal(uring_poll_adapt(0, max, 15 * US), 10 * US);
	assert_int_equal(uring_poll_adapt(10 * US, max, 15 * US), 20 * US);
	assert_int_equal(uring_poll_adapt(20 * US, max, 49 * US), 40 * US);
	assert_int_equal(uring_poll_adapt(40 * US, max, 49 * US), max);
	assert_int_equal(uring_poll_adapt(max, max, max), max);
	/* within the window: it paid, keep it */
	assert_int_equal(uring_poll_adapt(40 * US, max, 5 * US), 40 * US);
	/* later than max: halve, and below the first window nothing */
	assert_int_equal(uring_poll_adapt(max, max, max + 1), 25 * US);
	assert_int_equal(uring_poll_adapt(25 * US, max, 1000 * US), 12500);
	assert_int_equal(uring_poll_adapt(12500, max, 1000 * US), 0);
	/* busy_poll below the first window: that is the first and only one */
	assert_int_equal(uring_poll_adapt(0, 5 * US, 3 * US), 5 * US);
	assert_int_equal(uring_poll_adapt(5 * US, 5 * US, 4 * US), 5 * US);
	assert_int_equal(uring_poll_adapt(5 * US, 5 * US, 6 * US), 0);
}

/* put(DIR, REL, TEXT): DIR/REL holds TEXT, its directories made */
static void put(const char *dir, const char *rel, const char *text)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, rel);
	for (char *p = path + strlen(dir) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		assert_true(mkdir(path, 0700) == 0 || errno == EEXIST);
		*p = '/';
	}
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/* The cgroup CPU quota (v2 cpu.max, v1 cfs): the least of our cgroup and
 * those above it, in CPUs */
static void test_cpu_quota(void **state)
{
	(void)state;
	char root[] = "/tmp/test_uring.XXXXXX", proc[600], sys[600];
	assert_non_null(mkdtemp(root));
	snprintf(proc, sizeof(proc), "%s/cgroup", root);
	snprintf(sys, sizeof(sys), "%s/sys", root);
	/* no /proc/self/cgroup, no files: no quota */
	assert_true(uring_cpu_quota(proc, sys) == 0);
	put(root, "cgroup", "0::/\n");
	assert_true(uring_cpu_quota(proc, sys) == 0);
	/* v2: ours unlimited, the parent 1.5 CPUs */
	put(root, "cgroup", "0::/a/b\n");
	put(root, "sys/a/b/cpu.max", "max 100000\n");
	assert_true(uring_cpu_quota(proc, sys) == 0);
	put(root, "sys/a/cpu.max", "150000 100000\n");
	assert_true(uring_cpu_quota(proc, sys) == 1.5);
	/* ours tighter: 0.25 */
	put(root, "sys/a/b/cpu.max", "25000 100000\n");
	assert_true(uring_cpu_quota(proc, sys) == 0.25);
	/* a cgroup namespace's root (the path "/") has its own cpu.max */
	put(root, "cgroup", "0::/\n");
	put(root, "sys/cpu.max", "50000 100000\n");
	assert_true(uring_cpu_quota(proc, sys) == 0.5);
	/* v1, cpu with cpuacct: ours -1 (none), the parent half a CPU; the
	 * memory hierarchy's line is not the cpu one */
	put(root, "cgroup", "4:memory:/m\n3:cpu,cpuacct:/x/y\n");
	put(root, "sys/cpu/x/y/cpu.cfs_quota_us", "-1\n");
	put(root, "sys/cpu/x/y/cpu.cfs_period_us", "100000\n");
	assert_true(uring_cpu_quota(proc, sys) == 0);
	put(root, "sys/cpu/x/cpu.cfs_quota_us", "300000\n");
	put(root, "sys/cpu/x/cpu.cfs_period_us", "100000\n");
	assert_true(uring_cpu_quota(proc, sys) == 3);
	/* nonsense is no quota */
	put(root, "sys/cpu/x/cpu.cfs_quota_us", "abc\n");
	put(root, "sys/cpu/x/cpu.cfs_period_us", "0\n");
	assert_true(uring_cpu_quota(proc, sys) == 0);
	char cmd[600];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
}

/* The loop reads sp[0] into buf; the partner thread holds sp[1] */
struct fixture {
	int sp[2];
	uint8_t buf[256];
	struct uring_loop *u;
	uv_loop_t loop;
	uv_timer_t guard, stop;
	unsigned frames, want;
	pthread_t partner;
	bool partner_running;
};

/* The partner thread: sends the first frame, then answers each frame the
 * loop sends with the next, until it reads end of file */
static void *partner(void *arg)
{
	struct fixture *f = arg;
	uint8_t b[64];
	memset(b, 0xab, sizeof(b));
	if (write(f->sp[1], b, sizeof(b)) != (ssize_t)sizeof(b))
		return NULL;
	for (;;) {
		ssize_t n = read(f->sp[1], b, sizeof(b));
		if (n <= 0)
			return NULL;
		if (write(f->sp[1], b, (size_t)n) != n)
			return NULL;
	}
}

static void close_all(struct fixture *f)
{
	if (!uv_is_closing((uv_handle_t *)&f->guard))
		uv_close((uv_handle_t *)&f->guard, NULL);
	if (!uv_is_closing((uv_handle_t *)&f->stop))
		uv_close((uv_handle_t *)&f->stop, NULL);
}

static void on_frame(void *ctx, int res)
{
	struct fixture *f = ctx;
	assert_int_equal(res, 64);
	f->frames++;
	if (f->frames == f->want) {
		shutdown(f->sp[0], SHUT_WR);  /* the partner reads 0 and ends */
		close_all(f);
		return;
	}
	assert_int_equal(write(f->sp[0], f->buf, (size_t)res), res);
}

static void on_guard(uv_timer_t *t)
{
	struct fixture *f = t->data;
	close_all(f);
	fail_msg("the loop took too long: %u of %u frames", f->frames, f->want);
}

static void on_stop(uv_timer_t *t)
{
	close_all(t->data);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	assert_int_equal(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, f->sp), 0);
	assert_int_equal(uv_loop_init(&f->loop), 0);
	uv_timer_init(&f->loop, &f->guard);
	uv_timer_init(&f->loop, &f->stop);
	f->guard.data = f->stop.data = f;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	close(f->sp[0]);
	if (f->partner_running)
		pthread_join(f->partner, NULL);
	close(f->sp[1]);
	uring_loop_close(f->u);
	uv_run(&f->loop, UV_RUN_DEFAULT);
	uv_loop_close(&f->loop);
	free(f);
	return 0;
}

static void open_ring(struct fixture *f, uint64_t poll_max)
{
	int rc = uring_loop_open(&f->u, f->sp[0], f->buf, sizeof(f->buf), poll_max);
	if (rc == -ENOSYS)
		skip();  /* built without liburing: tapird waits in epoll */
	assert_int_equal(rc, 0);
}

/* Nothing comes for 100 ms: the loop sleeps and never polls */
static void test_idle_never_polls(void **state)
{
	struct fixture *f = *state;
	struct uring_stats s;
	open_ring(f, 50 * US);
	uv_timer_start(&f->stop, on_stop, 100, 0);
	assert_int_equal(uring_loop_run(f->u, &f->loop, on_frame, f), 0);
	uring_loop_get_stats(f->u, &s);
	assert_int_equal(f->frames, 0);
	assert_true(s.sleeps >= 1);
	assert_int_equal(s.polls, 0);
	assert_int_equal(s.poll_ns, 0);
}

/* @want frames back and forth with the partner thread, all delivered */
static void exchange(struct fixture *f, uint64_t poll_max, unsigned want, struct uring_stats *s)
{
	open_ring(f, poll_max);
	f->want = want;
	uv_timer_start(&f->guard, on_guard, 30000, 0);
	assert_int_equal(pthread_create(&f->partner, NULL, partner, f), 0);
	f->partner_running = true;
	assert_int_equal(uring_loop_run(f->u, &f->loop, on_frame, f), 0);
	assert_int_equal(f->frames, f->want);
	uring_loop_get_stats(f->u, s);
	assert_true(s->poll_hits <= s->polls);
}

/* A quick exchange: every frame delivered once; the partner answers within
 * 1 ms (a thread's wake-up), so the window grows and polls end in frames */
static void test_exchange_polls(void **state)
{
	struct fixture *f = *state;
	struct uring_stats s;
	exchange(f, 1000 * US, 2000, &s);
	if (!s.poll_max_ns) {  /* a machine of one CPU, or a CPU quota */
		assert_int_equal(s.polls, 0);
		return;
	}
	assert_true(s.polls > 0);
	assert_true(s.poll_hits > 0);
	assert_true(s.poll_ns > 0);
	print_message("%u frames: %llu sleeps, %llu polls, %llu hits, %llu us polling\n", f->frames,
		      (unsigned long long)s.sleeps, (unsigned long long)s.polls,
		      (unsigned long long)s.poll_hits, (unsigned long long)(s.poll_ns / US));
}

/* busy_poll = 0: the same exchange sleeps every time */
static void test_exchange_no_poll(void **state)
{
	struct fixture *f = *state;
	struct uring_stats s;
	exchange(f, 0, 2000, &s);
	assert_int_equal(s.polls, 0);
	assert_int_equal(s.poll_ns, 0);
	assert_true(s.sleeps > 0);
}

/* Pinned to one CPU with its partner: polling gives way (sched_yield()) so
 * the partner answers while the loop polls; every frame comes */
static void test_one_cpu(void **state)
{
	struct fixture *f = *state;
	struct uring_stats s;
	cpu_set_t all, one;
	assert_int_equal(sched_getaffinity(0, sizeof(all), &all), 0);
	CPU_ZERO(&one);
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &all)) {
			CPU_SET(c, &one);
			break;
		}
	assert_int_equal(sched_setaffinity(0, sizeof(one), &one), 0);
	exchange(f, 1000 * US, 500, &s);  /* the partner inherits the one CPU */
	assert_int_equal(sched_setaffinity(0, sizeof(all), &all), 0);
	if (!s.poll_max_ns)  /* a machine of one CPU, or a CPU quota */
		return;
	assert_true(s.poll_hits > 0);
	print_message("one CPU, %u frames: %llu sleeps, %llu polls, %llu hits, %llu us polling\n",
		      f->frames, (unsigned long long)s.sleeps, (unsigned long long)s.polls,
		      (unsigned long long)s.poll_hits, (unsigned long long)(s.poll_ns / US));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_adapt),
		cmocka_unit_test(test_cpu_quota),
		cmocka_unit_test_setup_teardown(test_idle_never_polls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exchange_polls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exchange_no_poll, setup, teardown),
		cmocka_unit_test_setup_teardown(test_one_cpu, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
