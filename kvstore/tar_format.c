/*
 * tar_format.c - the tar format: header fields, building headers, and the
 * header parser that walks an archive member by member
 *
 * Theory of operation
 * -------------------
 * tar_scan() reads every header once, through a small source abstraction (a
 * file descriptor or a memory buffer), and every read is checked against the
 * source's length.  It hands each member to a callback (the tar store builds
 * its index from them) and reports where the archive ends.
 *
 * Formats: ustar (name + prefix), GNU (L long names, K long link names, base-
 * 256 numbers, S sparse members skipped with their extension blocks) and pax
 * (x records path, size, mtime; g global headers are read and ignored).
 * Regular files ('0', '\0', '7') are files, '5' (or a name ending in '/')
 * directories; links, devices, fifos, sparse members (GNU 'S' or pax
 * GNU.sparse.*), volume labels and unknown types are reported as skipped.
 *
 * Limits: a GNU long name or pax header body is at most 1 MiB, names at most
 * TAR_NAME_MAX (4096, PATH_MAX) bytes; sizes above INT64_MAX and negative
 * numbers are refused.  Longer names fail the scan (TAPIR_KV_E_STORAGE, naming the
 * member by its offset and the start of its name): one 4 KiB name of 2,048
 * one-letter segments already costs the index 2,048 nodes.
 *
 * End of archive: the first all-zero block (E).  A header with a bad
 * checksum or a member running past the end of the source is an error,
 * unless the caller tolerates a torn tail (a writable store: the tail of an
 * interrupted append); then the scan stops at the start of that member and
 * says so.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tapir/kv.h"
#include "kv_internal.h"
#include "tar_format.h"

#define MAX_META (1u << 20)   /* GNU long name / pax header body */
#define MAX_NAME TAR_NAME_MAX

int tar_parse_num(const uint8_t *f, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	if (len && (f[0] & 0x80)) {
		if (f[0] != 0x80)
			return -1;   /* negative (0xff) or bits we do not expect */
		for (size_t i = 1; i < len; i++) {
			if (v > (INT64_MAX >> 8))
				return -1;
			v = (v << 8) | f[i];
		}
		*out = v;
		return 0;
	}
	size_t i = 0;
	while (i < len && (f[i] == ' ' || f[i] == 0))
		i++;
	/* All blank: zero (old archivers leave unused fields empty). */
	for (; i < len; i++) {
		if (f[i] == ' ' || f[i] == 0)
			break;
		if (f[i] < '0' || f[i] > '7')
			return -1;
		if (v > (INT64_MAX >> 3))
			return -1;
		v = (v << 3) | (uint64_t)(f[i] - '0');
	}
	for (; i < len; i++)
		if (f[i] != ' ' && f[i] != 0)
			return -1;
	*out = v;
	return 0;
}

bool tar_checksum_ok(const uint8_t *blk)
{
	uint64_t want;
	if (tar_parse_num(blk + TAR_CHKSUM, 8, &want))
		return false;
	uint32_t us = 0;
	int32_t ss = 0;
	for (size_t i = 0; i < TAR_BLOCK; i++) {
		uint8_t c = (i >= TAR_CHKSUM && i < TAR_CHKSUM + 8) ? ' ' : blk[i];
		us += c;
		ss += (int8_t)c;
	}
	return want == us || (ss >= 0 && want == (uint64_t)ss);
}

void tar_checksum_set(uint8_t *blk)
{
	uint32_t sum = 0;
	memset(blk + TAR_CHKSUM, ' ', 8);
	for (size_t i = 0; i < TAR_BLOCK; i++)
		sum += blk[i];
	char tmp[8];
	snprintf(tmp, sizeof(tmp), "%06o", sum & 0777777);
	memcpy(blk + TAR_CHKSUM, tmp, 6);
	blk[TAR_CHKSUM + 6] = 0;
	blk[TAR_CHKSUM + 7] = ' ';
}

bool tar_block_zero(const uint8_t *blk)
{
	for (size_t i = 0; i < TAR_BLOCK; i++)
		if (blk[i])
			return false;
	return true;
}

static void put_octal(uint8_t *f, size_t len, uint64_t v)
{
	char tmp[32];
	snprintf(tmp, sizeof(tmp), "%0*llo", (int)(len - 1), (unsigned long long)v);
	memcpy(f, tmp, len - 1);
	f[len - 1] = 0;
}

static void put_base256(uint8_t *f, size_t len, uint64_t v)
{
	for (size_t i = len; i-- > 1;) {
		f[i] = (uint8_t)v;
		v >>= 8;
	}
	f[0] = 0x80;
}

/* Append "LEN key=value\n" to @p (room checked by the caller); Return: bytes. */
static size_t pax_record(char *p, size_t room, const char *key, const char *value)
{
	size_t body = 1 + strlen(key) + 1 + strlen(value) + 1;   /* " key=value\n" */
	size_t len = body + 1, digits;
	for (;;) {
		char tmp[24];
		digits = (size_t)snprintf(tmp, sizeof(tmp), "%zu", len);
		if (digits + body == len)
			break;
		len = digits + body;
	}
	if (len >= room)
		return 0;
	snprintf(p, room, "%zu %s=%s\n", len, key, value);
	return len;
}

static void ustar_block(uint8_t *b, const char *name, size_t nlen, const char *prefix,
			size_t plen, uint64_t size, int64_t mtime, char type)
{
	memset(b, 0, TAR_BLOCK);
	memcpy(b + TAR_NAME, name, nlen > 100 ? 100 : nlen);
	if (prefix)
		memcpy(b + TAR_PREFIX, prefix, plen > 155 ? 155 : plen);
	put_octal(b + TAR_MODE, 8, 0644);
	put_octal(b + TAR_UID, 8, 0);
	put_octal(b + TAR_GID, 8, 0);
	if (size > TAR_OCTAL_MAX)
		put_base256(b + TAR_SIZE, 12, size);
	else
		put_octal(b + TAR_SIZE, 12, size);
	put_octal(b + TAR_MTIME, 12,
		  mtime < 0 ? 0 : (uint64_t)mtime > TAR_OCTAL_MAX ? TAR_OCTAL_MAX : (uint64_t)mtime);
	b[TAR_TYPE] = (uint8_t)type;
	memcpy(b + TAR_MAGIC, "ustar", 6);
	memcpy(b + TAR_VERSION, "00", 2);
	put_octal(b + TAR_DEVMAJOR, 8, 0);
	put_octal(b + TAR_DEVMINOR, 8, 0);
	tar_checksum_set(b);
}

size_t tar_header_build(uint8_t *out, size_t cap, const char *path, uint64_t size, int64_t mtime)
{
	size_t plen = strlen(path);
	const char *name = path, *prefix = NULL;
	size_t nlen = plen, pfx = 0;
	bool need_path = false;
	if (plen > 100) {
		/* ustar split: prefix (<= 155) '/' name (<= 100, non-empty). */
		need_path = true;
		for (size_t i = plen; i-- > 0;) {
			if (path[i] != '/')
				continue;
			if (plen - i - 1 > 100)
				break;
			if (i <= 155 && i > 0 && plen - i - 1 > 0) {
				prefix = path;
				pfx = i;
				name = path + i + 1;
				nlen = plen - i - 1;
				need_path = false;
				break;
			}
		}
		if (need_path) {
			prefix = NULL;
			nlen = 100;
		}
	}
	bool need_size = size > TAR_OCTAL_MAX;
	bool need_mtime = mtime < 0 || (uint64_t)mtime > TAR_OCTAL_MAX;
	size_t at = 0;
	if (need_path || need_size || need_mtime) {
		size_t room = plen + 128;
		size_t dlen = 0;
		if (cap < TAR_BLOCK * 2 + tar_pad(room))
			return 0;
		char *rec = (char *)out + TAR_BLOCK;
		char num[32];
		if (need_path)
			dlen += pax_record(rec + dlen, room - dlen, "path", path);
		if (need_size) {
			snprintf(num, sizeof(num), "%llu", (unsigned long long)size);
			dlen += pax_record(rec + dlen, room - dlen, "size", num);
		}
		if (need_mtime) {
			snprintf(num, sizeof(num), "%lld", (long long)mtime);
			dlen += pax_record(rec + dlen, room - dlen, "mtime", num);
		}
		memset(rec + dlen, 0, tar_pad(dlen) - dlen);
		/* The 'x' header's own name, as GNU tar: DIR/PaxHeaders/BASE. */
		char xname[101];
		const char *base = strrchr(path, '/');
		snprintf(xname, sizeof(xname), "PaxHeaders/%.80s", base ? base + 1 : path);
		ustar_block(out, xname, strlen(xname), NULL, 0, dlen, mtime, 'x');
		at = TAR_BLOCK + tar_pad(dlen);
	}
	if (cap < at + TAR_BLOCK)
		return 0;
	ustar_block(out + at, name, nlen, prefix, pfx, size, mtime, '0');
	return at + TAR_BLOCK;
}

/* Put the message in the caller's buffer.  Return: -@code */
#define ifail(c, code, ...) kv_errbuf((c)->err, (c)->errlen, (code), __VA_ARGS__)

/**
 * tar_source_read() - Read exactly @n bytes at @off of an archive
 * @src: Source
 * @off: Offset
 * @buf: Destination
 * @n:   Bytes
 *
 * Return: 0 or -1 (outside the source or I/O error)
 */
int tar_source_read(const struct tar_source *src, uint64_t off, void *buf, size_t n)
{
	if (off > src->len || n > src->len - off)
		return -1;
	if (src->fd < 0) {
		memcpy(buf, src->buf + off, n);
		return 0;
	}
	size_t done = 0;
	while (done < n) {
		ssize_t r = pread(src->fd, (uint8_t *)buf + done, n - done, (off_t)(off + done));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		done += (size_t)r;
	}
	return 0;
}


/* Pending extended attributes for the next member. */
struct pending {
	char *longname;        /* GNU 'L' */
	char *paxpath;         /* pax path= */
	bool has_size;
	uint64_t size;
	bool has_mtime;
	struct timespec mtime;
	bool sparse;
};

static void pending_reset(struct pending *p)
{
	free(p->longname);
	free(p->paxpath);
	memset(p, 0, sizeof(*p));
}

/* Parse a decimal "[-]digits[.frac]" time; Return: 0 or -1. */
static int parse_time(const char *v, struct timespec *t)
{
	bool neg = *v == '-';
	int64_t sec = 0;
	long nsec = 0;
	if (neg)
		v++;
	if (*v < '0' || *v > '9')
		return -1;
	for (; *v >= '0' && *v <= '9'; v++) {
		if (sec > (INT64_MAX - 9) / 10)
			return -1;
		sec = sec * 10 + (*v - '0');
	}
	if (*v == '.') {
		long scale = 100000000;
		for (v++; *v >= '0' && *v <= '9'; v++) {
			nsec += (*v - '0') * scale;
			scale /= 10;
		}
	}
	if (*v)
		return -1;
	t->tv_sec = neg ? -sec : sec;
	t->tv_nsec = neg ? 0 : nsec;
	return 0;
}

/* Parse pax records "LEN key=value\n".  Return: 0 or -TAPIR_KV_E_STORAGE. */
static int parse_pax(struct tar_scan *c, const char *d, size_t len, struct pending *p, bool global,
		     uint64_t at)
{
	size_t pos = 0;
	while (pos < len) {
		size_t rl = 0, i = pos;
		if (d[pos] == 0)
			break;   /* some writers pad the body with NULs */
		while (i < len && d[i] >= '0' && d[i] <= '9' && i - pos < 10)
			rl = rl * 10 + (size_t)(d[i++] - '0');
		if (i == pos || i >= len || d[i] != ' ' || rl < i - pos + 4 || rl > len - pos ||
		    d[pos + rl - 1] != '\n')
			return ifail(c, TAPIR_KV_E_STORAGE, "bad pax record at offset %llu",
				     (unsigned long long)at);
		const char *kv = d + i + 1, *end = d + pos + rl - 1;
		const char *eq = memchr(kv, '=', (size_t)(end - kv));
		if (!eq)
			return ifail(c, TAPIR_KV_E_STORAGE, "pax record without '=' at offset %llu",
				     (unsigned long long)at);
		size_t kl = (size_t)(eq - kv), vl = (size_t)(end - eq - 1);
		const char *val = eq + 1;
		pos += rl;
		if (global)
			continue;
		if (kl == 4 && !memcmp(kv, "path", 4)) {
			if (vl > MAX_NAME)
				return ifail(c, TAPIR_KV_E_STORAGE, "member at offset %llu: pax path "
					     "'%.100s...' longer than %u bytes: refused",
					     (unsigned long long)at, val, MAX_NAME);
			if (memchr(val, 0, vl))
				return ifail(c, TAPIR_KV_E_STORAGE, "bad pax path at offset %llu",
					     (unsigned long long)at);
			free(p->paxpath);
			p->paxpath = strndup(val, vl);
			if (!p->paxpath)
				return ifail(c, TAPIR_KV_E_NOMEM, "out of memory");
		} else if ((kl == 4 && !memcmp(kv, "size", 4)) ||
			   (kl == 5 && !memcmp(kv, "mtime", 5))) {
			char num[40];
			if (vl == 0 || vl >= sizeof(num))
				return ifail(c, TAPIR_KV_E_STORAGE, "bad pax number at offset %llu",
					     (unsigned long long)at);
			memcpy(num, val, vl);
			num[vl] = 0;
			if (kl == 5) {
				p->has_mtime = !parse_time(num, &p->mtime);
				continue;
			}
			uint64_t v = 0;
			for (size_t j = 0; j < vl; j++) {
				if (num[j] < '0' || num[j] > '9' || v > (INT64_MAX - 9) / 10)
					return ifail(c, TAPIR_KV_E_STORAGE, "bad pax size at offset %llu",
						     (unsigned long long)at);
				v = v * 10 + (uint64_t)(num[j] - '0');
			}
			p->has_size = true;
			p->size = v;
		} else if (kl > 11 && !memcmp(kv, "GNU.sparse.", 11)) {
			p->sparse = true;
		}
	}
	return 0;
}

/**
 * tar_scan() - Walk the headers of an archive, member by member
 * @c: Scan: source, callback, error buffer in; end and torn out
 *
 * Return: 0, the callback's negative return, or -KV_E_* with a message in
 *         @c->err
 */
int tar_scan(struct tar_scan *c)
{
	const struct tar_source *src = c->src;
	bool writable = c->writable;
	struct pending p = { 0 };
	uint8_t blk[TAR_BLOCK];
	uint64_t pos = 0, start = 0;
	int rc = 0;
	c->torn = false;
	for (;;) {
		if (src->len - pos < TAR_BLOCK) {
			if (pos == src->len && !p.longname && !p.paxpath && pos == start)
				break;   /* no end-of-archive blocks: accepted */
			if (writable) {
				c->torn = true;
				pos = start;
				break;
			}
			rc = ifail(c, TAPIR_KV_E_STORAGE, "truncated archive: header at offset %llu",
				   (unsigned long long)pos);
			break;
		}
		if (tar_source_read(src, pos, blk, TAR_BLOCK)) {
			rc = ifail(c, TAPIR_KV_E_STORAGE, "read error at offset %llu",
				   (unsigned long long)pos);
			break;
		}
		if (tar_block_zero(blk)) {
			if (pos != start) {
				if (!writable) {
					rc = ifail(c, TAPIR_KV_E_STORAGE, "extended header without its member "
						   "at offset %llu", (unsigned long long)start);
					break;
				}
				c->torn = true;
				pos = start;
			}
			break;
		}
		if (!tar_checksum_ok(blk)) {
			if (writable) {
				c->torn = true;
				pos = start;
				break;
			}
			rc = ifail(c, TAPIR_KV_E_STORAGE, "bad header checksum at offset %llu",
				   (unsigned long long)pos);
			break;
		}
		char type = (char)blk[TAR_TYPE];
		uint64_t size;
		if (tar_parse_num(blk + TAR_SIZE, 12, &size)) {
			rc = ifail(c, TAPIR_KV_E_STORAGE, "bad size field at offset %llu",
				   (unsigned long long)pos);
			break;
		}
		if (type == '1' || type == '2' || type == '3' || type == '4' || type == '6')
			size = 0;
		if (p.has_size && (type == '0' || type == 0 || type == '7'))
			size = p.size;
		uint64_t data = pos + TAR_BLOCK;
		/* GNU sparse: extension blocks sit between the header and the data. */
		if (type == 'S' && blk[TAR_GNU_ISEXTENDED]) {
			uint8_t ext[TAR_BLOCK];
			do {
				if (tar_source_read(src, data, ext, TAR_BLOCK)) {
					rc = -1;
					break;
				}
				data += TAR_BLOCK;
			} while (ext[TAR_GNU_EXT_ISEXTENDED]);
			if (rc) {
				rc = 0;
				if (writable) {
					c->torn = true;
					pos = start;
					break;
				}
				rc = ifail(c, TAPIR_KV_E_STORAGE, "truncated sparse header at offset %llu",
					   (unsigned long long)pos);
				break;
			}
		}
		if (size > INT64_MAX - TAR_BLOCK || data > src->len ||
		    tar_pad(size) > src->len - data) {
			if (writable) {
				c->torn = true;
				pos = start;
				break;
			}
			rc = ifail(c, TAPIR_KV_E_STORAGE, "member at offset %llu runs past the end of the "
				   "archive", (unsigned long long)pos);
			break;
		}
		uint64_t next = data + tar_pad(size);
		if (type == 'L' || type == 'K' || type == 'x' || type == 'g') {
			if (size > MAX_META) {
				rc = ifail(c, TAPIR_KV_E_STORAGE, "extended header at offset %llu too "
					   "large (%llu bytes)", (unsigned long long)pos,
					   (unsigned long long)size);
				break;
			}
			char *d = malloc((size_t)size + 1);
			if (!d) {
				rc = ifail(c, TAPIR_KV_E_NOMEM, "out of memory");
				break;
			}
			if (tar_source_read(src, data, d, (size_t)size)) {
				free(d);
				rc = ifail(c, TAPIR_KV_E_STORAGE, "read error at offset %llu",
					   (unsigned long long)data);
				break;
			}
			d[size] = 0;
			if (type == 'L') {
				free(p.longname);
				p.longname = d;
				if (strlen(d) > MAX_NAME) {
					rc = ifail(c, TAPIR_KV_E_STORAGE, "member at offset %llu: GNU long "
						   "name '%.100s...' longer than %u bytes: refused",
						   (unsigned long long)pos, d, MAX_NAME);
					break;
				}
			} else {
				if (type != 'K')
					rc = parse_pax(c, d, (size_t)size, &p, type == 'g', pos);
				free(d);
				if (rc)
					break;
			}
			pos = next;
			continue;
		}
		bool is_file = type == '0' || type == 0 || type == '7';
		bool is_dir = type == '5';
		struct tar_member m = { .kind = TAR_MEMBER_SKIPPED, .hdr_off = start, .at = pos };
		char namebuf[257];
		if ((is_file || is_dir) && !p.sparse) {
			const char *name;
			if (p.paxpath) {
				name = p.paxpath;
			} else if (p.longname) {
				name = p.longname;
			} else {
				size_t nl = strnlen((const char *)blk + TAR_NAME, 100);
				size_t pl = 0;
				if (!memcmp(blk + TAR_MAGIC, "ustar\0", 6))
					pl = strnlen((const char *)blk + TAR_PREFIX, 155);
				if (pl) {
					memcpy(namebuf, blk + TAR_PREFIX, pl);
					namebuf[pl] = '/';
				}
				memcpy(namebuf + pl + (pl ? 1 : 0), blk + TAR_NAME, nl);
				namebuf[pl + (pl ? 1 : 0) + nl] = 0;
				name = namebuf;
			}
			size_t l = strlen(name);
			if (is_file && l && name[l - 1] == '/' && type != '7') {
				is_file = false;
				is_dir = true;
			}
			uint64_t mt = 0;
			if (p.has_mtime) {
				m.mtime = p.mtime;
			} else {
				m.mtime.tv_sec = tar_parse_num(blk + TAR_MTIME, 12, &mt) ? 0 :
					(time_t)mt;
				m.mtime.tv_nsec = 0;
			}
			m.kind = is_dir ? TAR_MEMBER_DIR : TAR_MEMBER_FILE;
			m.name = name;
			m.data_off = is_dir ? 0 : data;
			m.size = is_dir ? 0 : size;
		}
		rc = c->member(c->ctx, &m);
		if (rc)
			break;
		pending_reset(&p);
		pos = next;
		start = pos;
	}
	pending_reset(&p);
	if (rc)
		return rc;
	c->end = pos;
	return 0;
}
