/*
 * uring.c - tapird's loop waiting in io_uring (theory in uring.h)
 */
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "uring.h"

uint64_t uring_poll_adapt(uint64_t window, uint64_t max, uint64_t idle_ns)
{
	uint64_t start = max < URING_POLL_START_NS ? max : URING_POLL_START_NS;

	if (idle_ns > max) {		/* polling would not have paid: less */
		window /= 2;
		return window < start ? 0 : window;
	}
	if (idle_ns <= window)		/* it paid (or would have): keep it */
		return window;
	window = window ? window * 2 : start;	/* a little more would have paid */
	return window > max ? max : window;
}

/* The first word of DIR/NAME into @w (32 bytes), and the second into @w2 if
 * not NULL.  Return: whether they were there */
static bool read_words(const char *dir, const char *name, char *w, char *w2)
{
	char path[PATH_MAX];
	FILE *f;
	bool ok;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path) ||
	    !(f = fopen(path, "re")))
		return false;
	ok = w2 ? fscanf(f, "%31s %31s", w, w2) == 2 : fscanf(f, "%31s", w) == 1;
	fclose(f);
	return ok;
}

/* The quota in @dir (cgroup v2 cpu.max "QUOTA PERIOD" or "max PERIOD"; v1
 * cpu.cfs_quota_us, -1 for none, and cpu.cfs_period_us), in CPUs; 0: none */
static double quota_in(const char *dir, bool v2)
{
	char q[32], per[32];

	if (!(v2 ? read_words(dir, "cpu.max", q, per) :
		   read_words(dir, "cpu.cfs_quota_us", q, NULL) &&
		   read_words(dir, "cpu.cfs_period_us", per, NULL)))
		return 0;
	if (q[0] < '0' || q[0] > '9' || per[0] < '1' || per[0] > '9')
		return 0;	/* "max", -1, nonsense */
	return strtod(q, NULL) / strtod(per, NULL);
}

double uring_cpu_quota(const char *proc_cgroup, const char *cgroup_root)
{
	char line[PATH_MAX], dir[PATH_MAX];
	double least = 0;
	FILE *f = fopen(proc_cgroup, "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *ctl = strchr(line, ':'), *cg = ctl ? strchr(ctl + 1, ':') : NULL, *end;
		bool v2, has_cpu = false;
		size_t base;

		if (!cg)
			continue;
		*cg++ = '\0';
		*ctl++ = '\0';
		cg[strcspn(cg, "\n")] = '\0';
		v2 = !strcmp(line, "0") && !*ctl;
		for (char *sv, *t = strtok_r(ctl, ",", &sv); t && !v2; t = strtok_r(NULL, ",", &sv))
			has_cpu |= !strcmp(t, "cpu");
		if (!v2 && !has_cpu)
			continue;
		/* v1: the cpu hierarchy is mounted at ROOT/cpu (alone, or a
		 * link to cpu,cpuacct) */
		base = (size_t)snprintf(dir, sizeof(dir), "%s%s", cgroup_root, v2 ? "" : "/cpu");
		if (base + strlen(cg) >= sizeof(dir))
			continue;
		strcpy(dir + base, cg);
		/* this cgroup and each above it, up to the hierarchy's root */
		for (;;) {
			double q = quota_in(dir, v2);

			if (q > 0 && (least == 0 || q < least))
				least = q;
			end = strrchr(dir + base, '/');
			if (!end)
				break;
			*end = '\0';
		}
	}
	fclose(f);
	return least;
}

#ifdef TAPIR_HAVE_LIBURING
#include <liburing.h>

enum { OP_READ = 1, OP_POLL = 2 };

struct uring_loop {
	struct io_uring ring;
	int fd;
	void *buf;
	size_t len;
	uint64_t poll_max;	/* ns; 0: never poll */
	uint64_t window;	/* ns we poll before the next sleep (uring_poll_adapt()) */
	struct uring_stats stats;
};

/* Less than two CPUs' worth: a machine of one CPU (whatever would send the
 * next frame needs it, so polling would only delay that), or a cgroup CPU
 * quota below two CPUs (polling would spend the time the work itself needs,
 * and the kernel would then throttle tapird for the rest of the period).
 * Not the affinity: tapird pinned to a CPU of its own is where polling pays
 * most, and on a CPU it shares sched_yield() lets the others run */
static bool under_two_cpus(void)
{
	double quota;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		return true;
	quota = uring_cpu_quota("/proc/self/cgroup", "/sys/fs/cgroup");
	return quota > 0 && quota < 2;
}

int uring_loop_open(struct uring_loop **out, int fd, void *buf, size_t len, uint64_t poll_max_ns)
{
	struct io_uring_params p = { 0 };
	struct uring_loop *u = calloc(1, sizeof(*u));
	int rc;

	if (!u)
		return -ENOMEM;
	p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
	rc = io_uring_queue_init_params(4, &u->ring, &p);
	if (rc < 0) {
		free(u);
		return rc;
	}
	u->fd = fd;
	u->buf = buf;
	u->len = len;
	u->poll_max = under_two_cpus() ? 0 : poll_max_ns;
	*out = u;
	return 0;
}

static int queue(struct uring_loop *u, int op, int backend_fd)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&u->ring);

	if (!sqe)
		return -EBUSY;	/* cannot happen: two at most in a ring of 4 */
	if (op == OP_READ)
		io_uring_prep_read(sqe, u->fd, u->buf, (unsigned)u->len, 0);
	else
		io_uring_prep_poll_add(sqe, backend_fd, POLLIN);
	io_uring_sqe_set_data64(sqe, (uint64_t)op);
	return 0;
}

/* Submit what is queued and sleep until a completion or @timeout ms (< 0:
 * none) */
static int wait_for(struct uring_loop *u, int timeout)
{
	struct __kernel_timespec ts = { timeout / 1000, (long long)(timeout % 1000) * 1000000 };
	struct io_uring_cqe *cqe;

	if (timeout < 0)
		return io_uring_submit_and_wait(&u->ring, 1);
	return io_uring_submit_and_wait_timeout(&u->ring, &cqe, 1, &ts, NULL);
}

/* Submit what is queued and look for completions, without sleeping, until
 * one comes or @ns have passed (from @start; uv_hrtime()).  Each look is an
 * io_uring_enter() (with DEFER_TASKRUN the read completes only in one), then
 * sched_yield(): a task that wants this CPU (the peer tapird waits for, on a
 * busy machine) runs rather than waits for our polling, as KVM's
 * halt-polling stops when another task is runnable.
 * Return: 1 if a completion is ready, 0 if none came, a negative errno */
static int poll_for(struct uring_loop *u, uint64_t start, uint64_t ns)
{
	uint64_t now;
	int rc;

	u->stats.polls++;
	do {
		rc = io_uring_submit_and_get_events(&u->ring);
		now = uv_hrtime();
		if (rc < 0 && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY)
			break;
		rc = io_uring_cq_ready(&u->ring) ? 1 : 0;
		if (!rc)
			sched_yield();	/* anyone else runnable here goes first */
	} while (!rc && now - start < ns);
	u->stats.poll_ns += now - start;
	if (rc > 0)
		u->stats.poll_hits++;
	return rc;
}

int uring_loop_run(struct uring_loop *u, uv_loop_t *loop, uring_frame_fn on_frame, void *ctx)
{
	bool reading = false, polling = false;
	int backend = uv_backend_fd(loop), rc;

	uv_run(loop, UV_RUN_NOWAIT);	/* what is due already */
	while (uv_loop_alive(loop)) {
		struct io_uring_cqe *cqe;
		bool run_uv = false;
		int timeout;

		if (!reading && queue(u, OP_READ, backend) == 0)
			reading = true;
		if (!polling && queue(u, OP_POLL, backend) == 0)
			polling = true;
		uv_update_time(loop);
		timeout = uv_backend_timeout(loop);
		if (timeout == 0) {
			rc = io_uring_submit_and_get_events(&u->ring);
			run_uv = true;
		} else {
			uint64_t start = uv_hrtime(), budget = u->window;

			if (timeout > 0 && budget > (uint64_t)timeout * 1000000)
				budget = (uint64_t)timeout * 1000000;
			rc = budget ? poll_for(u, start, budget) : 0;
			if (rc == 0) {
				u->stats.sleeps++;
				rc = wait_for(u, timeout);
				if (rc == -ETIME)
					run_uv = true;
				/* a timer's expiry says nothing of when frames come
				 * unless it came after a long idle */
				if (u->poll_max && (rc != -ETIME || uv_hrtime() - start > u->poll_max))
					u->window = uring_poll_adapt(u->window, u->poll_max,
								     uv_hrtime() - start);
			}
		}
		if (rc < 0 && rc != -ETIME && rc != -EINTR && rc != -EAGAIN && rc != -EBUSY)
			return rc;
		while (io_uring_peek_cqe(&u->ring, &cqe) == 0) {
			uint64_t op = io_uring_cqe_get_data64(cqe);
			int res = cqe->res;

			io_uring_cqe_seen(&u->ring, cqe);
			if (op == OP_READ) {
				reading = false;
				if (res == -EAGAIN)
					return -EAGAIN;	/* see uring.h: it would spin */
				if (res != -EINTR)
					on_frame(ctx, res);
			} else if (op == OP_POLL) {
				polling = false;
				run_uv = true;
			}
		}
		if (run_uv)
			uv_run(loop, UV_RUN_NOWAIT);
	}
	return 0;
}

void uring_loop_get_stats(const struct uring_loop *u, struct uring_stats *out)
{
	*out = u->stats;
	out->window_ns = u->window;
	out->poll_max_ns = u->poll_max;
}

void uring_loop_close(struct uring_loop *u)
{
	if (!u)
		return;
	io_uring_queue_exit(&u->ring);
	free(u);
}

#else /* !TAPIR_HAVE_LIBURING */

int uring_loop_open(struct uring_loop **out, int fd, void *buf, size_t len, uint64_t poll_max_ns)
{
	(void)out, (void)fd, (void)buf, (void)len, (void)poll_max_ns;
	return -ENOSYS;
}

int uring_loop_run(struct uring_loop *u, uv_loop_t *loop, uring_frame_fn on_frame, void *ctx)
{
	(void)u, (void)loop, (void)on_frame, (void)ctx;
	return -ENOSYS;
}

void uring_loop_get_stats(const struct uring_loop *u, struct uring_stats *out)
{
	(void)u;
	memset(out, 0, sizeof(*out));
}

void uring_loop_close(struct uring_loop *u)
{
	(void)u;
}

#endif
