/*
 * kv_embed.c - kv-embed: compile a directory into C source for an embedded store
 *
 * Usage: kv-embed NAME DIR OUT.c [DEPFILE]
 *
 * Writes OUT.c defining `const struct tapir_kv_embedded_fs kv_embedded_NAME` with
 * every regular file below DIR (sorted by path; symlinks and other types are
 * skipped with a warning), and a pointer to it in the "kv_embedded" linker
 * section, which is how tapir_kv_open("embedded:NAME") finds it (kv_embedded.c).
 * The fixed modification time is SOURCE_DATE_EPOCH when set, else the newest
 * mtime of the embedded files (0 for an empty directory), so the output only
 * depends on the files.  DEPFILE, if given, lists the files for the build
 * system (Makefile syntax, as meson's custom_target(depfile:) reads).
 *
 * Exit status: 0 success, 1 usage error, 2 runtime error.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

struct file {
	char *rel;    /* "/a/b" */
	char *full;
	int64_t mtime;
};

struct files {
	struct file *v;
	size_t n, cap;
};

static int add(struct files *f, const char *rel, const char *full, int64_t mtime)
{
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 64;
		struct file *nv = realloc(f->v, f->cap * sizeof(*nv));
		if (!nv)
			return -1;
		f->v = nv;
	}
	f->v[f->n].rel = strdup(rel);
	f->v[f->n].full = strdup(full);
	f->v[f->n].mtime = mtime;
	if (!f->v[f->n].rel || !f->v[f->n].full)
		return -1;
	f->n++;
	return 0;
}

static int walk(struct files *f, const char *full, const char *rel, unsigned depth)
{
	if (depth > 64) {
		fprintf(stderr, "kv-embed: %s: too deep\n", full);
		return -1;
	}
	DIR *d = opendir(full);
	if (!d) {
		fprintf(stderr, "kv-embed: %s: %s\n", full, strerror(errno));
		return -1;
	}
	struct dirent *de;
	int rc = 0;
	while (!rc && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char cf[PATH_MAX], cr[PATH_MAX];
		struct stat st;
		if (snprintf(cf, sizeof(cf), "%s/%s", full, de->d_name) >= (int)sizeof(cf) ||
		    snprintf(cr, sizeof(cr), "%s/%s", rel, de->d_name) >= (int)sizeof(cr)) {
			fprintf(stderr, "kv-embed: %s/%s: path too long\n", full, de->d_name);
			rc = -1;
			break;
		}
		if (lstat(cf, &st)) {
			fprintf(stderr, "kv-embed: %s: %s\n", cf, strerror(errno));
			rc = -1;
		} else if (S_ISDIR(st.st_mode)) {
			rc = walk(f, cf, cr, depth + 1);
		} else if (S_ISREG(st.st_mode)) {
			rc = add(f, cr, cf, (int64_t)st.st_mtime);
		} else {
			fprintf(stderr, "kv-embed: warning: %s: not a regular file, skipped\n", cf);
		}
	}
	closedir(d);
	return rc;
}

static int cmp_file(const void *a, const void *b)
{
	return strcmp(((const struct file *)a)->rel, ((const struct file *)b)->rel);
}

static void c_string(FILE *o, const char *s)
{
	fputc('"', o);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\' || *p == '?' || *p < 0x20 || *p >= 0x7f)
			fprintf(o, "\\%03o", *p);
		else
			fputc(*p, o);
	}
	fputc('"', o);
}

static void dep_path(FILE *o, const char *s)
{
	for (; *s; s++) {
		if (*s == ' ' || *s == '#' || *s == '\\')
			fputc('\\', o);
		if (*s == '$')
			fputc('$', o);
		fputc(*s, o);
	}
}

static int emit_data(FILE *o, const char *name, size_t i, const struct file *f, size_t *len)
{
	FILE *in = fopen(f->full, "rb");
	if (!in) {
		fprintf(stderr, "kv-embed: %s: %s\n", f->full, strerror(errno));
		return -1;
	}
	fprintf(o, "static const uint8_t kv_embedded_%s_d%zu[] = {", name, i);
	unsigned char buf[65536];
	size_t n, total = 0;
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0) {
		for (size_t j = 0; j < n; j++, total++)
			fprintf(o, "%s0x%02x,", total % 16 ? "" : "\n\t", buf[j]);
	}
	int bad = ferror(in);
	fclose(in);
	if (bad) {
		fprintf(stderr, "kv-embed: %s: read error\n", f->full);
		return -1;
	}
	if (!total)
		fprintf(o, "0");
	fprintf(o, "\n};\n");
	*len = total;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 4 || argc > 5) {
		fprintf(stderr, "usage: kv-embed NAME DIR OUT.c [DEPFILE]\n");
		return 1;
	}
	const char *name = argv[1], *dir = argv[2], *out = argv[3];
	if (!*name || (name[0] >= '0' && name[0] <= '9') ||
	    strspn(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") !=
	    strlen(name)) {
		fprintf(stderr, "kv-embed: NAME must be a C identifier\n");
		return 1;
	}
	struct files f = { 0 };
	if (walk(&f, dir, "", 0))
		return 2;
	qsort(f.v, f.n, sizeof(*f.v), cmp_file);
	int64_t mtime = 0;
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	if (sde && *sde) {
		char *end;
		errno = 0;
		long long v = strtoll(sde, &end, 10);
		if (errno || *end) {
			fprintf(stderr, "kv-embed: bad SOURCE_DATE_EPOCH '%s'\n", sde);
			return 1;
		}
		mtime = v;
	} else {
		for (size_t i = 0; i < f.n; i++)
			if (f.v[i].mtime > mtime)
				mtime = f.v[i].mtime;
	}
	char tmp[PATH_MAX];
	snprintf(tmp, sizeof(tmp), "%s.tmp", out);
	FILE *o = fopen(tmp, "w");
	if (!o) {
		fprintf(stderr, "kv-embed: %s: %s\n", tmp, strerror(errno));
		return 2;
	}
	fprintf(o, "/*\n * %s - embedded store '%s', generated by kv-embed: do not edit\n */\n",
		strrchr(out, '/') ? strrchr(out, '/') + 1 : out, name);
	fprintf(o, "#include <stdint.h>\n\n#include \"tapir/kv.h\"\n\n");
	size_t *lens = calloc(f.n ? f.n : 1, sizeof(*lens));
	if (!lens)
		return 2;
	for (size_t i = 0; i < f.n; i++)
		if (emit_data(o, name, i, &f.v[i], &lens[i]))
			return 2;
	fprintf(o, "\nstatic const struct tapir_kv_embedded_file kv_embedded_%s_files[] = {\n", name);
	for (size_t i = 0; i < f.n; i++) {
		fprintf(o, "\t{ ");
		c_string(o, f.v[i].rel);
		fprintf(o, ", kv_embedded_%s_d%zu, %zu },\n", name, i, lens[i]);
	}
	if (!f.n)
		fprintf(o, "\t{ \"\", 0, 0 },\n");
	fprintf(o, "};\n\nextern const struct tapir_kv_embedded_fs kv_embedded_%s;\n", name);
	fprintf(o, "const struct tapir_kv_embedded_fs kv_embedded_%s = {\n\t\"%s\", %lldLL, "
		"kv_embedded_%s_files, %zu,\n};\n\n", name, name, (long long)mtime, name, f.n);
	fprintf(o, "/* Registration: tapir_kv_embedded_find() walks this section. */\n");
	fprintf(o, "__attribute__((used, section(\"kv_embedded\"), aligned(sizeof(void *))))\n"
		"static const struct tapir_kv_embedded_fs *const kv_embedded_%s_reg = "
		"&kv_embedded_%s;\n", name, name);
	if (fclose(o) || rename(tmp, out)) {
		fprintf(stderr, "kv-embed: %s: %s\n", out, strerror(errno));
		return 2;
	}
	if (argc == 5) {
		FILE *d = fopen(argv[4], "w");
		if (!d) {
			fprintf(stderr, "kv-embed: %s: %s\n", argv[4], strerror(errno));
			return 2;
		}
		dep_path(d, out);
		fputc(':', d);
		for (size_t i = 0; i < f.n; i++) {
			fputs(" \\\n ", d);
			dep_path(d, f.v[i].full);
		}
		fputc('\n', d);
		fclose(d);
	}
	for (size_t i = 0; i < f.n; i++) {
		free(f.v[i].rel);
		free(f.v[i].full);
	}
	free(f.v);
	free(lens);
	return 0;
}
