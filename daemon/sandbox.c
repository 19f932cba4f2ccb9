/*
 * sandbox.c - tapird drops what it no longer needs once the TAP is open
 */
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "sandbox.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANDBOX_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANDBOX_ASAN 1
#endif
#endif

/* What the loop uses (libuv epoll loop, TAP and Unix sockets, capture and
 * store files, OpenSSL's RAND_bytes, stdio logging). */
static const int allowed[] = {
	SCMP_SYS(read), SCMP_SYS(write), SCMP_SYS(readv), SCMP_SYS(writev),
	SCMP_SYS(pread64), SCMP_SYS(pwrite64), SCMP_SYS(preadv), SCMP_SYS(pwritev),
	SCMP_SYS(recvfrom), SCMP_SYS(sendto), SCMP_SYS(recvmsg), SCMP_SYS(sendmsg),
	SCMP_SYS(recvmmsg), SCMP_SYS(sendmmsg), SCMP_SYS(accept), SCMP_SYS(accept4),
	SCMP_SYS(getsockopt), SCMP_SYS(setsockopt), SCMP_SYS(getsockname),
	SCMP_SYS(getpeername), SCMP_SYS(shutdown),
	SCMP_SYS(epoll_create1), SCMP_SYS(epoll_ctl), SCMP_SYS(epoll_wait),
	SCMP_SYS(epoll_pwait), SCMP_SYS(epoll_pwait2), SCMP_SYS(poll), SCMP_SYS(ppoll),
	SCMP_SYS(io_uring_enter),  /* uring.h: the ring is made before the filter */
	SCMP_SYS(eventfd2), SCMP_SYS(pipe2), SCMP_SYS(close), SCMP_SYS(dup), SCMP_SYS(dup3),
	SCMP_SYS(fcntl), SCMP_SYS(ioctl),
	SCMP_SYS(clock_gettime), SCMP_SYS(clock_getres), SCMP_SYS(gettimeofday),
	SCMP_SYS(nanosleep), SCMP_SYS(clock_nanosleep), SCMP_SYS(time),
	SCMP_SYS(mmap), SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(brk),
	SCMP_SYS(madvise), SCMP_SYS(mprotect), SCMP_SYS(futex),
	SCMP_SYS(rt_sigaction), SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn),
	SCMP_SYS(sigaltstack), SCMP_SYS(restart_syscall),
	SCMP_SYS(getpid), SCMP_SYS(gettid), SCMP_SYS(getuid), SCMP_SYS(geteuid),
	SCMP_SYS(getgid), SCMP_SYS(getegid), SCMP_SYS(getrandom), SCMP_SYS(uname),
	SCMP_SYS(sched_yield), SCMP_SYS(exit), SCMP_SYS(exit_group),
	SCMP_SYS(openat), SCMP_SYS(open), SCMP_SYS(newfstatat), SCMP_SYS(fstat),
	SCMP_SYS(statx), SCMP_SYS(stat), SCMP_SYS(lstat), SCMP_SYS(lseek),
	SCMP_SYS(access), SCMP_SYS(faccessat), SCMP_SYS(faccessat2), SCMP_SYS(readlink),
	SCMP_SYS(getdents64), SCMP_SYS(mkdir), SCMP_SYS(mkdirat), SCMP_SYS(unlink),
	SCMP_SYS(unlinkat), SCMP_SYS(rename), SCMP_SYS(renameat), SCMP_SYS(renameat2),
	SCMP_SYS(fsync), SCMP_SYS(fdatasync), SCMP_SYS(ftruncate), SCMP_SYS(flock),
	SCMP_SYS(fchmod), SCMP_SYS(umask), SCMP_SYS(getcwd), SCMP_SYS(fallocate),
	SCMP_SYS(tgkill), SCMP_SYS(rseq), SCMP_SYS(set_robust_list),
	/* the dir store: lookups beneath its root, copy-on-write of values,
	 * one syncfs() per batch */
	SCMP_SYS(openat2), SCMP_SYS(copy_file_range), SCMP_SYS(syncfs),
#ifdef SANDBOX_ASAN
	/* LeakSanitizer stops the world at exit: a tracer thread */
	SCMP_SYS(clone), SCMP_SYS(clone3), SCMP_SYS(ptrace), SCMP_SYS(prctl),
	SCMP_SYS(wait4), SCMP_SYS(waitid), SCMP_SYS(sched_getaffinity), SCMP_SYS(kill),
	SCMP_SYS(getppid), SCMP_SYS(set_tid_address), SCMP_SYS(prlimit64),
	SCMP_SYS(getrlimit), SCMP_SYS(setrlimit), SCMP_SYS(getdents), SCMP_SYS(tkill),
	SCMP_SYS(rt_sigtimedwait), SCMP_SYS(rt_sigsuspend), SCMP_SYS(arch_prctl),
	SCMP_SYS(process_vm_readv), SCMP_SYS(pipe), SCMP_SYS(dup2),
#endif
};

int sandbox_seccomp(bool gateway, char *err, size_t errlen)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);
	if (!ctx) {
		snprintf(err, errlen, "seccomp_init failed");
		return -ENOMEM;
	}
	const struct scmp_arg_cmp unix_only = { .arg = 0, .op = SCMP_CMP_EQ, .datum_a = AF_UNIX,
						.datum_b = 0 };
	int rc = 0;
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]) && !rc; i++)
		if (allowed[i] >= 0)  /* a call this architecture lacks is negative */
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, allowed[i], 0);
	/* socket(): only AF_UNIX (sd_notify's datagram) */
	if (!rc)
		rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
					    &unix_only);
	/* the gateway ([gateway] enabled): AF_INET and AF_INET6 sockets (TCP,
	 * UDP, ping sockets), connect() for TCP and UDP flows, and bind(), which
	 * libuv makes (to port 0) before connecting a UDP socket; listen() for
	 * the port forwards' host listeners */
	if (!rc && gateway) {
		const struct scmp_arg_cmp inet_only = { .arg = 0, .op = SCMP_CMP_EQ,
							.datum_a = AF_INET, .datum_b = 0 };
		const struct scmp_arg_cmp inet6_only = { .arg = 0, .op = SCMP_CMP_EQ,
							 .datum_a = AF_INET6, .datum_b = 0 };
		rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1, &inet_only);
		if (!rc)
			rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 1,
						    &inet6_only);
		if (!rc)
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(connect), 0);
		if (!rc)
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(bind), 0);
		/* the port forwards listen on host ports */
		if (!rc)
			rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(listen), 0);
	}
	if (!rc)
		rc = seccomp_load(ctx);
	seccomp_release(ctx);
	if (rc)
		snprintf(err, errlen, "seccomp: %s", strerror(-rc));
	return rc;
}

static int drop_caps(char *err, size_t errlen)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	memset(d, 0, sizeof(d));
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (syscall(SYS_capset, &h, d)) {
		snprintf(err, errlen, "capset: %s", strerror(errno));
		return -errno;
	}
	return 0;
}

int sandbox_enter(const char *user, const char *socket, bool gateway, char *err, size_t errlen)
{
	if (user && *user) {
		struct passwd *pw = getpwnam(user);
		if (!pw) {
			snprintf(err, errlen, "user '%s' not found", user);
			return -ENOENT;
		}
		if (socket && chown(socket, pw->pw_uid, pw->pw_gid)) {
			snprintf(err, errlen, "chown %s: %s", socket, strerror(errno));
			return -errno;
		}
		for (int c = 0; c <= CAP_LAST_CAP; c++)
			prctl(PR_CAPBSET_DROP, c, 0, 0, 0);  /* EINVAL past the kernel's last */
		if (setgroups(0, NULL) || setgid(pw->pw_gid) || setuid(pw->pw_uid)) {
			snprintf(err, errlen, "cannot become %s: %s", user, strerror(errno));
			return -errno;
		}
		if (setuid(0) == 0) {  /* paranoia: there must be no way back */
			snprintf(err, errlen, "could become root again after dropping to %s", user);
			return -EPERM;
		}
#ifdef SANDBOX_ASAN
		prctl(PR_SET_DUMPABLE, 1, 0, 0, 0);  /* LeakSanitizer traces us at exit */
#endif
	}
	int rc = drop_caps(err, errlen);
	if (rc)
		return rc;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		snprintf(err, errlen, "no_new_privs: %s", strerror(errno));
		return -errno;
	}
	return sandbox_seccomp(gateway, err, errlen);
}
