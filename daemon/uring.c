/*
 * uring.c - tapird's loop waiting in io_uring (theory in uring.h)
 */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>

#include "uring.h"

#ifdef TAPIR_HAVE_LIBURING
#include <liburing.h>

enum { OP_READ = 1, OP_POLL = 2 };

struct uring_loop {
	struct io_uring ring;
	int fd;
	void *buf;
	size_t len;
};

int uring_loop_open(struct uring_loop **out, int fd, void *buf, size_t len)
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

int uring_loop_run(struct uring_loop *u, uv_loop_t *loop, uring_frame_fn on_frame, void *ctx)
{
	bool reading = false, polling = false;
	int backend = uv_backend_fd(loop), rc;

	uv_run(loop, UV_RUN_NOWAIT);	/* what is due already */
	while (uv_loop_alive(loop)) {
		struct io_uring_cqe *cqe;
		bool run_uv = false;
		int timeout;

		if (!reading && (rc = queue(u, OP_READ, backend)) == 0)
			reading = true;
		if (!polling && (rc = queue(u, OP_POLL, backend)) == 0)
			polling = true;
		uv_update_time(loop);
		timeout = uv_backend_timeout(loop);
		if (timeout == 0) {
			rc = io_uring_submit_and_get_events(&u->ring);
			run_uv = true;
		} else if (timeout < 0) {
			rc = io_uring_submit_and_wait(&u->ring, 1);
		} else {
			struct __kernel_timespec ts = { timeout / 1000, (long long)(timeout % 1000) * 1000000 };

			rc = io_uring_submit_and_wait_timeout(&u->ring, &cqe, 1, &ts, NULL);
			if (rc == -ETIME)
				run_uv = true;
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

void uring_loop_close(struct uring_loop *u)
{
	if (!u)
		return;
	io_uring_queue_exit(&u->ring);
	free(u);
}

#else /* !TAPIR_HAVE_LIBURING */

int uring_loop_open(struct uring_loop **out, int fd, void *buf, size_t len)
{
	(void)out, (void)fd, (void)buf, (void)len;
	return -ENOSYS;
}

int uring_loop_run(struct uring_loop *u, uv_loop_t *loop, uring_frame_fn on_frame, void *ctx)
{
	(void)u, (void)loop, (void)on_frame, (void)ctx;
	return -ENOSYS;
}

void uring_loop_close(struct uring_loop *u)
{
	(void)u;
}

#endif
