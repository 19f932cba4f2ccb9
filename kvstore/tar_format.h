/*
 * tar_format.h - the tar format: header fields, building headers, parsing an
 * archive's headers (internal)
 *
 * Used by the tar store, its tests and the fuzz harness (through the store).
 * The field functions work on 512-byte blocks the caller owns; nothing is
 * kept.
 */
#ifndef TAPIR_TAR_FORMAT_H
#define TAPIR_TAR_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define TAR_BLOCK 512
#define TAR_RECORD 10240           /* GNU tar's default record: 20 blocks */
#define TAR_OCTAL_MAX 077777777777ULL  /* largest size in 11 octal digits */
#define TAR_NAME_MAX 4096          /* longest member name, bytes (PATH_MAX) */
#define TAR_DEPTH_MAX 256          /* most segments in a member name */
#define TAR_INDEX_FIXED (16u << 20)  /* index memory any archive may use... */
#define TAR_INDEX_PER_BYTE 16u       /* ...plus this much per archive byte */

/* Return: the index memory (bytes, as kv_tar counts it) allowed for an archive of @len bytes. */
static inline uint64_t tar_index_budget(uint64_t len)
{
	return TAR_INDEX_FIXED + TAR_INDEX_PER_BYTE * len;
}

/* Header field offsets (ustar, POSIX.1-1988 / 2001). */
enum {
	TAR_NAME = 0, TAR_MODE = 100, TAR_UID = 108, TAR_GID = 116, TAR_SIZE = 124,
	TAR_MTIME = 136, TAR_CHKSUM = 148, TAR_TYPE = 156, TAR_LINKNAME = 157,
	TAR_MAGIC = 257, TAR_VERSION = 263, TAR_UNAME = 265, TAR_GNAME = 297,
	TAR_DEVMAJOR = 329, TAR_DEVMINOR = 337, TAR_PREFIX = 345,
	TAR_GNU_ISEXTENDED = 482,      /* GNU 'S' header: more sparse blocks follow */
	TAR_GNU_EXT_ISEXTENDED = 504,  /* in a GNU sparse extension block */
};

/**
 * tar_parse_num() - Parse a numeric header field
 * @f:   Field
 * @len: Its size
 * @out: Value (only non-negative values are accepted)
 *
 * Octal digits with optional leading spaces/NULs and a space/NUL terminator,
 * or GNU base-256 (first byte 0x80).  Negative base-256 values, bad digits
 * and values above INT64_MAX are refused.
 *
 * Return: 0 or -1
 */
int tar_parse_num(const uint8_t *f, size_t len, uint64_t *out);

/* Return: true if the block's checksum field matches (unsigned or signed sum). */
bool tar_checksum_ok(const uint8_t *blk);

/* Compute and store the checksum of @blk. */
void tar_checksum_set(uint8_t *blk);

/* Return: true if all 512 bytes are zero. */
bool tar_block_zero(const uint8_t *blk);

/**
 * tar_header_build() - Build the header blocks of a regular-file member
 * @out:   Buffer
 * @cap:   Its size (TAR_BLOCK * 3 + path length + 64 is always enough)
 * @path:  Member name without a leading '/', "a/b"
 * @size:  Data size
 * @mtime: Modification time, seconds
 *
 * A plain ustar header (name split into prefix/name when needed) when
 * everything fits, else a pax 'x' header with path=, size= or mtime= records
 * followed by the ustar header, as GNU tar --format=pax writes them.
 *
 * Return: bytes written (a multiple of TAR_BLOCK), or 0 if @cap is too small
 */
size_t tar_header_build(uint8_t *out, size_t cap, const char *path, uint64_t size, int64_t mtime);

/* Return: @n rounded up to a multiple of TAR_BLOCK (no overflow for n < 2^63). */
static inline uint64_t tar_pad(uint64_t n)
{
	return (n + TAR_BLOCK - 1) & ~(uint64_t)(TAR_BLOCK - 1);
}

/* Where an archive is read from: a file (@fd) or a buffer (@fd -1, @buf). */
struct tar_source {
	int fd;
	const uint8_t *buf;    /* borrowed; must outlive every read */
	uint64_t len;          /* bytes readable */
};

/* Read exactly @n bytes at @off.  Return: 0 or -1 (outside the source or I/O error). */
int tar_source_read(const struct tar_source *src, uint64_t off, void *buf, size_t n);

enum tar_member_kind {
	TAR_MEMBER_FILE,       /* '0', '\0', '7' */
	TAR_MEMBER_DIR,        /* '5', or a file name ending in '/' */
	TAR_MEMBER_SKIPPED,    /* links, devices, fifos, sparse, labels, unknown */
};

/* One member, as tar_scan() hands it over (valid during the callback only). */
struct tar_member {
	enum tar_member_kind kind;
	const char *name;      /* effective name (pax path, GNU long name or
				* ustar prefix/name), as written; NULL if skipped */
	uint64_t hdr_off;      /* first header block, extended headers included */
	uint64_t at;           /* the member's own header block */
	uint64_t data_off;     /* files: offset of the data */
	uint64_t size;         /* files: data size (pax size= applied) */
	struct timespec mtime; /* pax mtime=, else the header's (0 if unreadable) */
};

/* Return: 0 to go on, or a negative code that stops the scan and is returned. */
typedef int (*tar_member_fn)(void *ctx, const struct tar_member *m);

struct tar_scan {
	/* In: */
	const struct tar_source *src;
	bool writable;         /* a torn tail ends the archive instead of failing */
	tar_member_fn member;
	void *ctx;
	char *err;             /* message buffer or NULL */
	size_t errlen;
	/* Out: */
	uint64_t end;          /* E: offset of the end-of-archive blocks */
	bool torn;             /* stopped at a torn tail (writable only) */
};

/**
 * tar_scan() - Walk the headers of an archive, member by member
 * @c: Scan: source, callback, error buffer in; end and torn out
 *
 * Every header is read once and checked (see the theory in tar_format.c);
 * each member is handed to @c->member in archive order.
 *
 * Return: 0, the callback's negative return, or -KV_E_* (kv.h) with a
 *         message in @c->err
 */
int tar_scan(struct tar_scan *c);

#endif /* TAPIR_TAR_FORMAT_H */
