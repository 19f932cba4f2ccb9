/*
 * uring.h - tapird's loop waiting in io_uring: the TAP's frame is read before
 *           tapird wakes, one system call fewer on every frame's way in
 *
 * Theory of operation
 *
 * libuv waits in epoll_wait(); a frame on the TAP then costs epoll_wait's
 * return and a read(2) before the stack sees it (two system calls, ~1.2 us
 * each on a paravirtualised machine).  Here tapird waits in io_uring_enter()
 * with a read of the TAP already queued and a poll of libuv's own epoll
 * descriptor (uv_backend_fd()) beside it: when a frame comes, the read
 * completes (in tapird's task, IORING_SETUP_DEFER_TASKRUN: only while it waits
 * in io_uring_enter(), never behind its back) and io_uring_enter() returns
 * with the frame in place.  Everything else stays libuv's: when its
 * descriptor is readable or its next timer is due (uv_backend_timeout(), the
 * wait's timeout), uv_run(UV_RUN_NOWAIT) runs it.  The read goes into the
 * TAP's own receive area (tap_rx_area()), which no one else reads into while
 * the read is queued: completions are taken before libuv runs, and libuv's
 * callbacks (the timer's drain of the TAP, tap_read_batch()) run only between
 * waits.
 *
 * A wake-up for libuv costs the ring's return and then epoll_wait(): one
 * system call more than waiting in epoll.  So the gateway, whose host sockets
 * are libuv's and wake it as often as the TAP does, waits in epoll (runtime.c);
 * a plain instance has only the control socket there.
 *
 * Needs Linux 6.1 (DEFER_TASKRUN) and io_uring allowed (kernel.io_uring_disabled,
 * containers' seccomp profiles): uring_loop_open() says no, and tapird waits
 * in libuv as before.  The TAP's descriptor is non-blocking (the batch reads
 * need it); a kernel whose io_uring then answers a read at once with EAGAIN
 * instead of waiting for the frame (as some have done for O_NONBLOCK files)
 * would make this loop spin: the first such answer ends uring_loop_run()
 * with -EAGAIN, and tapird goes on in epoll (measured here, Linux 6.18: the
 * read waits; idle tapird uses 0.1 % of a CPU).  Under tapird's seccomp
 * filter only io_uring_enter() is allowed; the ring is made before the
 * filter, and holds only these two operations.
 */
#ifndef TAPIRD_URING_H
#define TAPIRD_URING_H

#include <stddef.h>
#include <uv.h>

struct uring_loop;

/* A frame read: @res bytes in the area given to uring_loop_open(), or a
 * negative errno if the read failed */
typedef void (*uring_frame_fn)(void *ctx, int res);

/**
 * uring_loop_open() - A ring reading @fd into @buf (@len bytes)
 *
 * Return: 0, or a negative errno (-ENOSYS: built without liburing; the
 * kernel's answer otherwise): wait in libuv instead
 */
int uring_loop_open(struct uring_loop **out, int fd, void *buf, size_t len);

/**
 * uring_loop_run() - Run @loop (as uv_run(UV_RUN_DEFAULT)) waiting in the ring
 * @on_frame: Called with each read's result; the next read is queued after
 *            it returns
 *
 * Return: when @loop has nothing left alive, 0; a negative errno if the ring
 * failed (the caller may go on with uv_run())
 */
int uring_loop_run(struct uring_loop *u, uv_loop_t *loop, uring_frame_fn on_frame, void *ctx);

void uring_loop_close(struct uring_loop *u);

#endif
