/*
 * dir_journal.c - fuzz the dir store's batch journal: the input is a
 * journal's records (the harness adds the magic and the SHA-256, so the
 * records are reached), planted in a fresh store whose root also holds a
 * staged file, a staged symlink to a file outside, and a value; the store is
 * opened writable (which replays or refuses the journal).  Whatever the
 * records say, nothing outside the root may change and no file of the
 * outside may appear inside: the outside file keeps its name, content and
 * single link, and no symlink or hard link to it is left under the root.
 *
 * Stores are made under $TMPDIR (tmpfs such as /dev/shm is fastest: the
 * open calls syncfs()).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "tapir/kv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAGIC "TAPIRKV-JOURNAL1\n"

static char top[512];
static ino_t secret_ino;
static bool bad;

static void put(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		abort();
	close(fd);
}

static int check_entry(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)p;
	(void)f;
	if (flag == FTW_SL || st->st_ino == secret_ino)
		bad = true;
	return 0;
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	remove(p);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > (1u << 16))
		return 0;
	const char *b = getenv("TMPDIR");
	snprintf(top, sizeof(top), "%s/tapir-fuzz-journal-XXXXXX", b && *b ? b : "/tmp");
	if (!mkdtemp(top))
		abort();
	char p[700], root[600];
	snprintf(root, sizeof(root), "%s/root", top);
	snprintf(p, sizeof(p), "%s/outside", top);
	if (mkdir(root, 0755) || mkdir(p, 0755))
		abort();
	snprintf(p, sizeof(p), "%s/outside/secret", top);
	put(p, "secret");
	struct stat st;
	if (stat(p, &st))
		abort();
	secret_ino = st.st_ino;
	snprintf(p, sizeof(p), "%s/.tapir-kv-tmp.1.1", root);
	put(p, "staged");
	snprintf(p, sizeof(p), "%s/.tapir-kv-tmp.1.2", root);
	if (symlink("../outside/secret", p))
		abort();
	snprintf(p, sizeof(p), "%s/v", root);
	put(p, "value");

	/* The journal: magic, the input, SHA-256 of both. */
	uint8_t *j = malloc(strlen(MAGIC) + size + 32);
	if (!j)
		abort();
	memcpy(j, MAGIC, strlen(MAGIC));
	if (size)
		memcpy(j + strlen(MAGIC), data, size);
	unsigned sl = 32;
	EVP_Digest(j, strlen(MAGIC) + size, j + strlen(MAGIC) + size, &sl, EVP_sha256(), NULL);
	snprintf(p, sizeof(p), "%s/.tapir-kv-journal", root);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || write(fd, j, strlen(MAGIC) + size + 32) != (ssize_t)(strlen(MAGIC) + size + 32))
		abort();
	close(fd);
	free(j);

	char spec[700], err[512];
	struct tapir_kv_store *s = NULL;
	snprintf(spec, sizeof(spec), "dir:%s", root);
	if (!tapir_kv_open(spec, true, &s, err, sizeof(err)))
		tapir_kv_close(s);

	/* The outside is untouched... */
	snprintf(p, sizeof(p), "%s/outside/secret", top);
	char buf[16] = "";
	fd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || read(fd, buf, sizeof(buf)) != 6 || memcmp(buf, "secret", 6) ||
	    fstat(fd, &st) || st.st_ino != secret_ino || st.st_nlink != 1) {
		fprintf(stderr, "dir_journal: the file outside the store changed\n");
		abort();
	}
	close(fd);
	/* ...and nothing under the root leads to it. */
	bad = false;
	nftw(root, check_entry, 16, FTW_PHYS);
	if (bad) {
		fprintf(stderr, "dir_journal: a symlink or the outside file is in the store\n");
		abort();
	}
	nftw(top, rm_entry, 16, FTW_PHYS | FTW_DEPTH);
	return 0;
}
