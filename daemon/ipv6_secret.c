/*
 * ipv6_secret.c - tapird's RFC 7217 secret, kept in a file of its state directory
 *
 * See ipv6_secret.h.  The file is opened without following a symlink and
 * read once; a new one is created with O_EXCL next to it and renamed, so a
 * crash leaves either no file or a whole one.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ipv6_secret.h"
#include "units.h"

int tapird_state_dir(char *buf, size_t len)
{
	const char *d = getenv("TAPIR_STATE_DIR");
	int n;
	if (d && *d) {
		n = snprintf(buf, len, "%s", d);
	} else if ((d = getenv("STATE_DIRECTORY")) && *d) {
		n = snprintf(buf, len, "%.*s", (int)strcspn(d, ":"), d);  /* the first of a list */
	} else if (geteuid() == 0) {
		n = snprintf(buf, len, "/var/lib/tapir");
	} else if ((d = getenv("XDG_STATE_HOME")) && *d == '/') {
		n = snprintf(buf, len, "%s/tapir", d);
	} else if ((d = getenv("HOME")) && *d == '/') {
		n = snprintf(buf, len, "%s/.local/state/tapir", d);
	} else {
		return -ENOENT;
	}
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Make @dir and, for the XDG default, its parents (0700 each) */
static int make_dir(const char *dir)
{
	char buf[4096];
	if (snprintf(buf, sizeof(buf), "%s", dir) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(buf, 0700) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, 0700) && errno != EEXIST)
		return -errno;
	return 0;
}

/* Write @key to @path (0600) through a temporary file.  Return: 0 or -errno */
static int write_secret(const char *path, const uint8_t key[16])
{
	char tmp[4300], text[34];
	for (int i = 0; i < 16; i++)
		snprintf(text + 2 * i, 3, "%02x", key[i]);
	text[32] = '\n';
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	unlink(tmp);  /* a leftover of a crash */
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return -errno;
	int rc = 0;
	if (write(fd, text, 33) != 33 || fsync(fd) < 0)
		rc = errno ? -errno : -EIO;
	if (close(fd) < 0 && !rc)
		rc = -errno;
	if (!rc && rename(tmp, path) < 0)
		rc = -errno;
	if (rc)
		unlink(tmp);
	return rc;
}

int tapird_ipv6_secret(const char *name, uint8_t out[16],
		       void (*random)(void *ctx, void *buf, size_t len), struct tapir_logger *log)
{
	static const uint8_t zero[16];
	char dir[4096], path[4200];
	int rc = tapird_state_dir(dir, sizeof(dir));
	if (!rc && snprintf(path, sizeof(path), "%s/%s.ipv6-secret", dir, name) >= (int)sizeof(path))
		rc = -ENAMETOOLONG;
	if (rc) {
		random(NULL, out, 16);
		tapir_log_warn(log, "ipv6: no state directory (set TAPIR_STATE_DIR or [ipv6] "
			       "stable_secret): the stable-privacy addresses change at every start");
		return 0;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd >= 0) {
		char text[64];
		struct stat sb;
		ssize_t n = read(fd, text, sizeof(text) - 1);
		if (fstat(fd, &sb) == 0 && (sb.st_mode & 077))
			tapir_log_warn(log, "ipv6: %s is readable by others (mode %03o): the secret "
				       "is no secret", path, (unsigned)(sb.st_mode & 0777));
		close(fd);
		if (n > 0 && text[n - 1] == '\n')
			n--;
		text[n < 0 ? 0 : n] = 0;
		if (n != 32 || units_parse_hex(text, out, 16) || !memcmp(out, zero, 16)) {
			tapir_log_err(log, "ipv6: %s does not hold a secret (32 hex digits); remove it "
				      "to make a new one (the stable-privacy addresses change)", path);
			return -EINVAL;
		}
		return 0;
	}
	if (errno != ENOENT) {
		rc = -errno;
		random(NULL, out, 16);
		tapir_log_warn(log, "ipv6: cannot read %s: %s; the stable-privacy addresses change "
			       "at every start", path, strerror(-rc));
		return 0;
	}
	do
		random(NULL, out, 16);
	while (!memcmp(out, zero, 16));
	if ((rc = make_dir(dir)) || (rc = write_secret(path, out))) {
		tapir_log_warn(log, "ipv6: cannot keep the stable-privacy secret in %s: %s; the "
			       "addresses change at every start", path, strerror(-rc));
		return 0;
	}
	tapir_log_info(log, "ipv6: made the stable-privacy secret %s", path);
	return 0;
}
