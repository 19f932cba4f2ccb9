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
 *
 * Polling before sleeping.  Most of a small exchange's time on a virtual
 * machine is the wake-up: a sleeping tapird's CPU halts, and the frame's
 * arrival must wake it through the hypervisor (measured here: a 64-byte round
 * trip 26 us when tapird sleeps, 18 us when it is awake).  So before it sleeps
 * tapird may look for completions without sleeping, for a window adapted to
 * the traffic as KVM adapts its halt-polling (uring_poll_adapt()): the window
 * starts at nothing, grows (10 us, then doubling, up to [netif] busy_poll)
 * while frames come soon after tapird went to sleep, and halves down to
 * nothing while they come later than busy_poll.  An idle tapird, or one
 * whose frames come seldom, never polls; one in a quick exchange uses a CPU
 * while it lasts, as busy polling does, but gives way to any other task that
 * wants that CPU (poll_for()); one allowed less than two CPUs' worth when
 * it starts (a machine of one CPU, or a cgroup CPU quota below two:
 * uring_cpu_quota()) never polls.  The polling is counted (the stats' layer "wait": uring_stats).
 */
#ifndef TAPIRD_URING_H
#define TAPIRD_URING_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct uring_loop;

/* The first window of polling, in ns (less if busy_poll is less) */
#define URING_POLL_START_NS 10000u

struct uring_stats {
	uint64_t sleeps;       /* waits that slept in io_uring_enter() */
	uint64_t polls;        /* waits that polled first */
	uint64_t poll_hits;    /* polls a completion ended (no sleep) */
	uint64_t poll_ns;      /* time spent polling, hits and misses */
	uint64_t window_ns;    /* the window now (not a counter) */
	uint64_t poll_max_ns;  /* busy_poll; 0 if allowed less than two CPUs (not a counter) */
};

/* A frame read: @res bytes in the area given to uring_loop_open(), or a
 * negative errno if the read failed */
typedef void (*uring_frame_fn)(void *ctx, int res);

/**
 * uring_loop_open() - A ring reading @fd into @buf (@len bytes)
 * @poll_max_ns: The longest window of polling before a sleep; 0: never poll
 *
 * Return: 0, or a negative errno (-ENOSYS: built without liburing; the
 * kernel's answer otherwise): wait in libuv instead
 */
int uring_loop_open(struct uring_loop **out, int fd, void *buf, size_t len, uint64_t poll_max_ns);

/**
 * uring_loop_run() - Run @loop (as uv_run(UV_RUN_DEFAULT)) waiting in the ring
 * @on_frame: Called with each read's result; the next read is queued after
 *            it returns
 *
 * Return: when @loop has nothing left alive, 0; a negative errno if the ring
 * failed (the caller may go on with uv_run())
 */
int uring_loop_run(struct uring_loop *u, uv_loop_t *loop, uring_frame_fn on_frame, void *ctx);

void uring_loop_get_stats(const struct uring_loop *u, struct uring_stats *out);

void uring_loop_close(struct uring_loop *u);

/**
 * uring_poll_adapt() - The next window of polling
 * @window:  The window of the wait that just ended (ns)
 * @max:     busy_poll (ns, > 0)
 * @idle_ns: How long that wait lasted, polling and sleeping (ns)
 *
 * Return: @window if the wait ended within it; more (10 us, then twice,
 * at most @max) if it ended later but within @max; half (0 below 10 us) if
 * it ended after @max
 */
uint64_t uring_poll_adapt(uint64_t window, uint64_t max, uint64_t idle_ns);

/**
 * uring_cpu_quota() - The CPU time our cgroups allow, in CPUs
 * @proc_cgroup: /proc/self/cgroup
 * @cgroup_root: Where the cgroup hierarchies are mounted (/sys/fs/cgroup)
 *
 * Reads the quota of our cgroup and of each above it: cgroup v2 cpu.max, v1
 * cpu.cfs_quota_us / cpu.cfs_period_us (under @cgroup_root/cpu).
 *
 * Return: the smallest quota in CPUs (0.5: half a CPU), 0 if there is none
 */
double uring_cpu_quota(const char *proc_cgroup, const char *cgroup_root);

#endif
