/*
 * kv_bench.c - kvstore benchmark: get throughput and tar index time, each
 * printed next to a reference measured in the same run (cat, tar -t)
 *
 * Usage: kv_bench [TMPDIR]
 *
 * Makes 1 KiB and 1 MiB files in a temporary directory, a GNU tar of them,
 * and a tar of 10,000 small members.  With the page cache warm (every file
 * is read once first), it times:
 *   - tapir_kv_get of the 1 KiB and 1 MiB values from the dir and tar stores,
 *     against one `cat` process reading the same file the same number of
 *     times (its start-up amortised over all the reads), in MB/s;
 *   - opening (indexing) the 10,000-member archive, against `tar -tf`.
 * Targets: 1 MiB get >= 0.5 x cat; 10,000-member index < 100 ms.
 */
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tapir/kv.h"

extern char **environ;

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int run(const char *cmd)
{
	int rc = system(cmd);
	if (rc)
		fprintf(stderr, "kv_bench: '%s' failed (%d)\n", cmd, rc);
	return rc;
}

/* Seconds for `cat FILE x reps > /dev/null` (or any argv), one process. */
static double time_cmd(char **argv)
{
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", 01 /* O_WRONLY */, 0);
	pid_t pid;
	double t0 = now();
	if (posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ)) {
		posix_spawn_file_actions_destroy(&fa);
		return -1;
	}
	int st;
	waitpid(pid, &st, 0);
	double t = now() - t0;
	posix_spawn_file_actions_destroy(&fa);
	return (WIFEXITED(st) && !WEXITSTATUS(st)) ? t : -1;
}

static double time_cat(const char *file, int reps)
{
	char **argv = calloc((size_t)reps + 2, sizeof(*argv));
	argv[0] = "cat";
	for (int i = 0; i < reps; i++)
		argv[i + 1] = (char *)file;
	double best = 1e9;
	for (int r = 0; r < 3; r++) {
		double t = time_cmd(argv);
		if (t > 0 && t < best)
			best = t;
	}
	free(argv);
	return best;
}

static double time_get(struct tapir_kv_store *s, const char *key, int reps)
{
	struct tapir_kv_key k;
	double best = 1e9;
	tapir_kv_key_parse(key, &k);
	for (int r = 0; r < 3; r++) {
		double t0 = now();
		for (int i = 0; i < reps; i++) {
			uint8_t *v;
			size_t n;
			if (tapir_kv_get(s, &k, &v, &n)) {
				fprintf(stderr, "kv_bench: get %s: %s\n", key, tapir_kv_last_error(s));
				exit(2);
			}
			free(v);
		}
		double t = now() - t0;
		if (t < best)
			best = t;
	}
	tapir_kv_key_free(&k);
	return best;
}

int main(int argc, char **argv)
{
	const char *base = argc > 1 ? argv[1] : (getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	char dir[512], cmd[2048], spec[600], err[256];
	snprintf(dir, sizeof(dir), "%s/tapir-kv-bench-XXXXXX", base);
	if (!mkdtemp(dir))
		return 2;
	snprintf(cmd, sizeof(cmd),
		 "cd '%s' && mkdir -p d many && head -c 1024 /dev/urandom > d/f1k && "
		 "head -c 1048576 /dev/urandom > d/f1m && tar -C d -cf d.tar f1k f1m && "
		 "cd many && seq 0 9999 | sed 's/^/m/' | xargs touch && "
		 "for i in 0 1 2 3 4 5 6 7 8 9; do echo data > m$i; done && "
		 "tar -cf ../many.tar . && cd .. && cat d/* d.tar many.tar > /dev/null", dir);
	if (run(cmd))
		return 2;

	struct tapir_kv_store *ds, *ts;
	snprintf(spec, sizeof(spec), "dir:%s/d", dir);
	if (tapir_kv_open(spec, false, &ds, err, sizeof(err))) {
		fprintf(stderr, "kv_bench: %s\n", err);
		return 2;
	}
	snprintf(spec, sizeof(spec), "tar:%s/d.tar", dir);
	if (tapir_kv_open(spec, false, &ts, err, sizeof(err))) {
		fprintf(stderr, "kv_bench: %s\n", err);
		return 2;
	}
	printf("%-28s %12s %12s %8s\n", "read (warm cache)", "kv MB/s", "cat MB/s", "ratio");
	struct { const char *key; size_t size; int reps; } cases[] = {
		{ "/f1k", 1024, 5000 },
		{ "/f1m", 1048576, 1000 },
	};
	for (size_t c = 0; c < 2; c++) {
		char file[700];
		snprintf(file, sizeof(file), "%s/d%s", dir, cases[c].key);
		double tc = time_cat(file, cases[c].reps);
		double mb = (double)cases[c].size * cases[c].reps / 1e6;
		struct tapir_kv_store *st[2] = { ds, ts };
		const char *nm[2] = { "dir", "tar" };
		for (int i = 0; i < 2; i++) {
			time_get(st[i], cases[c].key, 10);
			double tk = time_get(st[i], cases[c].key, cases[c].reps);
			char label[64];
			snprintf(label, sizeof(label), "get %s %s x%d", cases[c].size > 1024 ?
				 "1 MiB" : "1 KiB", nm[i], cases[c].reps);
			printf("%-28s %12.1f %12.1f %8.2f\n", label, mb / tk, mb / tc, tc / tk);
		}
	}
	tapir_kv_close(ds);
	tapir_kv_close(ts);

	snprintf(spec, sizeof(spec), "tar:%s/many.tar", dir);
	double best = 1e9;
	size_t n = 0;
	for (int r = 0; r < 5; r++) {
		double t0 = now();
		if (tapir_kv_open(spec, false, &ts, err, sizeof(err))) {
			fprintf(stderr, "kv_bench: %s\n", err);
			return 2;
		}
		double t = now() - t0;
		struct tapir_kv_entry *e;
		struct tapir_kv_key root = { 0, NULL };
		if (!tapir_kv_list(ts, &root, &e, &n))
			tapir_kv_entries_free(e, n);
		tapir_kv_close(ts);
		if (t < best)
			best = t;
	}
	char tarf[700];
	snprintf(tarf, sizeof(tarf), "%s/many.tar", dir);
	char *targv[] = { "tar", "-tf", tarf, NULL };
	double tt = 1e9;
	for (int r = 0; r < 5; r++) {
		double t = time_cmd(targv);
		if (t > 0 && t < tt)
			tt = t;
	}
	printf("\n%-28s %12s %12s %8s\n", "tar index, 10,000 members", "kv ms", "tar -t ms",
	       "ratio");
	printf("%-28s %12.2f %12.2f %8.2f   (%zu entries listed)\n", "open + index", best * 1e3,
	       tt * 1e3, tt / best, n);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	run(cmd);
	return 0;
}
