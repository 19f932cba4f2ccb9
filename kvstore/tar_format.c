/*
 * tar_format.c - tar header fields: numbers, checksums, building headers
 */
#include <stdio.h>
#include <string.h>

#include "tar_format.h"

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
