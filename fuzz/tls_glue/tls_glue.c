/*
 * tls_glue.c - fuzz target: apps/http/tls.c, the glue between TLS records and a flow's ring
 *
 * A server with a certificate made at start-up (EC P-256, self-signed, put in
 * a mem: store as default/cert.pem and default/key.pem) is driven through
 * tls_conn_input() over a fake transport whose send ring has a capacity and
 * a reader speed taken from the input, so back-pressure (-EAGAIN, short
 * reservations, writable() flushes) happens at arbitrary points.  The first
 * byte picks the mode:
 *
 *   even: the rest is the peer's bytes, cut into segments whose sizes come
 *         from the input (a ClientHello in 1-byte segments, garbage,
 *         truncated records);
 *   odd:  a real OpenSSL client in memory talks to the server (a handshake,
 *         then a request the server echoes back through tls_conn_reserve()/
 *         _commit()); the input decides segment sizes, the ring, and flips
 *         bytes of the client's records on the way.
 *
 * Checked: no crash or leak (sanitizers), every connection counted once
 * (accepted == handshakes + failures), the gauges back at 0, and the
 * ciphertext outside the ring never above one record plus what OpenSSL
 * writes by itself (tls.c's bound).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "tls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t fake_now;
static uint64_t rnd_state = 0x9e3779b97f4a7c15ull;

static uint64_t mono(void)
{
	return fake_now;
}

static void rnd(void *buf, size_t len)
{
	uint8_t *p = buf;
	for (size_t i = 0; i < len; i++) {
		rnd_state ^= rnd_state << 13;
		rnd_state ^= rnd_state >> 7;
		rnd_state ^= rnd_state << 17;
		p[i] = (uint8_t)rnd_state;
	}
}

static struct tls_server *srv;

static void die(const char *what)
{
	fprintf(stderr, "tls_glue: %s\n", what);
	ERR_print_errors_fp(stderr);
	abort();
}

static void put(struct tapir_kv_store *kv, const char *path, BIO *b)
{
	char *p;
	long n = BIO_get_mem_data(b, &p);
	struct tapir_kv_key k;
	if (tapir_kv_key_parse(path, &k) || tapir_kv_set(kv, &k, p, (size_t)n))
		die("kv set");
	tapir_kv_key_free(&k);
}

static void setup(void)
{
	EVP_PKEY *pk = EVP_EC_gen("P-256");
	X509 *x = X509_new();
	if (!pk || !x)
		die("key");
	ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
	X509_gmtime_adj(X509_getm_notBefore(x), -3600);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400L * 365);
	X509_set_pubkey(x, pk);
	X509_NAME *nm = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)"fuzz.test", -1,
				   -1, 0);
	X509_set_issuer_name(x, nm);
	if (!X509_sign(x, pk, EVP_sha256()))
		die("sign");
	BIO *cb = BIO_new(BIO_s_mem()), *kb = BIO_new(BIO_s_mem());
	PEM_write_bio_X509(cb, x);
	PEM_write_bio_PrivateKey(kb, pk, NULL, NULL, 0, NULL, NULL);
	struct tapir_kv_store *kv;
	char err[256];
	if (tapir_kv_open("mem:", true, &kv, err, sizeof(err)))
		die(err);
	put(kv, "/default/cert.pem", cb);
	put(kv, "/default/key.pem", kb);
	put(kv, "/fuzz.test/cert.pem", cb);
	put(kv, "/fuzz.test/key.pem", kb);
	BIO_free(cb);
	BIO_free(kb);
	EVP_PKEY_free(pk);
	X509_free(x);
	struct tls_config c = {
		.min_version = 12,
		.ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-CHACHA20-POLY1305",
		.ciphersuites = "TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256",
		.session_cache = 8,
		.ticket_rotation_ns = 1000000000ull,
		.max_handshakes = 4,
		.handshake_timeout_ns = 5000000000ull,
		.random = rnd,
		.mono_ns = mono,
	};
	if (tls_server_new(&c, &srv, err, sizeof(err)) || tls_server_load(srv, kv, err, sizeof(err)) != 2)
		die(err);
	tapir_kv_close(kv);
}

/* ---- the input as a stream of choices ---- */

struct in {
	const uint8_t *p;
	size_t n;
};

static uint8_t take(struct in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

/* ---- the fake ring: @cap bytes, the peer reads @speed bytes a turn ---- */

struct ring {
	uint8_t buf[65536];
	size_t len, cap;
	bool reserved;
	size_t res_len;
	uint64_t total;
};

static void *ring_reserve(void *io, size_t *len, int *err)
{
	struct ring *r = io;
	if (r->reserved)
		abort();  /* the glue never reserves twice without committing */
	size_t room = r->cap - r->len;
	if (!room) {
		*len = 0;
		*err = -EAGAIN;
		return NULL;
	}
	if (*len == 0 || *len > room)
		*len = room;
	r->reserved = true;
	r->res_len = *len;
	*err = 0;
	return r->buf + r->len;
}

static long ring_commit(void *io, size_t n, bool push)
{
	(void)push;
	struct ring *r = io;
	if (!r->reserved || n > r->res_len)
		abort();
	r->reserved = false;
	r->len += n;
	r->total += n;
	return (long)n;
}

static const struct tls_io ring_io = { ring_reserve, ring_commit };

/* What the peer reads off the ring: @n bytes to @out (may be NULL) */
static size_t ring_take(struct ring *r, size_t n, uint8_t *out, size_t outcap)
{
	if (n > r->len)
		n = r->len;
	if (out && n > outcap)
		n = outcap;
	if (out)
		memcpy(out, r->buf, n);
	memmove(r->buf, r->buf + n, r->len - n);
	r->len -= n;
	return n;
}

/* ---- the server side's receiver: echo every request byte back ---- */

struct app {
	struct tls_conn *t;
	uint64_t got;
	bool eof;
};

static bool deliver(void *arg, const uint8_t *d, size_t len)
{
	struct app *a = arg;
	if (!len) {
		a->eof = true;
		return true;
	}
	a->got += len;
	size_t room = len;
	int err;
	uint8_t *p = tls_conn_reserve(a->t, &room, &err);
	if (p) {
		if (room > len)
			room = len;
		memcpy(p, d, room);
		if (tls_conn_commit(a->t, room, true) < 0)
			return true;  /* the connection carries on to its close */
	}
	return true;
}

static void check_counters(void)
{
	const uint64_t *c = tls_server_counters(srv);
	if (c[TLS_CTR_ACCEPTED] != c[TLS_CTR_HANDSHAKES] + c[TLS_CTR_FAILURES] ||
	    c[TLS_CTR_LIVE] || c[TLS_CTR_IN_HANDSHAKE])
		abort();
}

/* Mode even: raw peer bytes */
static void raw(struct in *in)
{
	struct ring r = { .cap = 256 + (size_t)take(in) * 64 };
	struct app a = { 0 };
	a.t = tls_conn_new(srv, &ring_io, &r, fake_now);
	if (!a.t)
		return;
	int rc = 1;
	while (in->n && rc > 0) {
		size_t seg = 1 + take(in) % 64;
		if (seg > in->n)
			seg = in->n;
		rc = tls_conn_input(a.t, in->p, seg, deliver, &a);
		in->p += seg;
		in->n -= seg;
		ring_take(&r, take(in) * 32u, NULL, 0);
		if (rc > 0)
			tls_conn_flush(a.t);
	}
	if (rc > 0)
		tls_conn_input(a.t, NULL, 0, deliver, &a);  /* FIN */
	fake_now += 6000000000ull;
	tls_conn_timed_out(a.t, fake_now);
	tls_conn_shutdown(a.t);
	tls_conn_free(a.t);
}

/* Mode odd: a real client, its records cut and flipped by the input */
static void client(struct in *in)
{
	SSL_CTX *cc = SSL_CTX_new(TLS_client_method());
	SSL *cl = SSL_new(cc);
	BIO *crb = BIO_new(BIO_s_mem()), *cwb = BIO_new(BIO_s_mem());
	BIO_set_mem_eof_return(crb, -1);
	SSL_set_bio(cl, crb, cwb);
	SSL_set_connect_state(cl);
	uint8_t ver = take(in);
	if (ver & 1)
		SSL_set_max_proto_version(cl, TLS1_2_VERSION);
	if (ver & 2)
		SSL_set_tlsext_host_name(cl, "fuzz.test");
	if (ver & 4) {
		static const unsigned char alpn[] = "\x02h2\x08http/1.1";
		SSL_set_alpn_protos(cl, alpn, sizeof(alpn) - 1);
	}
	struct ring r = { .cap = 512 + (size_t)take(in) * 256 };
	struct app a = { 0 };
	a.t = tls_conn_new(srv, &ring_io, &r, fake_now);
	bool sent_req = false;
	uint8_t buf[65536];
	for (int turn = 0; a.t && turn < 64; turn++) {
		/* client -> server, cut into segments, maybe one byte flipped */
		ERR_clear_error();
		int hr = SSL_do_handshake(cl);
		if (hr == 1 && !sent_req) {
			static const char req[] = "GET / HTTP/1.1\r\nHost: fuzz.test\r\n\r\n";
			SSL_write(cl, req, sizeof(req) - 1);
			sent_req = true;
		}
		int n = BIO_read(cwb, buf, sizeof(buf));
		if (n > 0) {
			uint8_t flip = take(in);
			if (flip >= 0xf0)
				buf[take(in) % n] ^= (uint8_t)(1u << (flip & 7));
			int off = 0;
			while (off < n) {
				int seg = 1 + (int)take(in) * 8;
				if (seg > n - off)
					seg = n - off;
				int rc = tls_conn_input(a.t, buf + off, (size_t)seg, deliver, &a);
				off += seg;
				if (rc <= 0)
					goto done;
			}
		}
		/* server -> client: the peer reads some of the ring */
		size_t got = ring_take(&r, 1 + (size_t)take(in) * 64, buf, sizeof(buf));
		if (got)
			BIO_write(crb, buf, (int)got);
		int fr = tls_conn_flush(a.t);
		if (fr < 0 && fr != -EAGAIN)
			break;
		ERR_clear_error();
		while (SSL_read(cl, buf, sizeof(buf)) > 0)
			;
		if (!in->n && !got && n <= 0)
			break;
	}
done:
	ERR_clear_error();
	if (a.t) {
		if (take(in) & 1)
			fake_now += 6000000000ull;
		tls_conn_timed_out(a.t, fake_now);
		tls_conn_shutdown(a.t);
		tls_conn_free(a.t);
	}
	SSL_free(cl);
	SSL_CTX_free(cc);
	ERR_clear_error();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!srv)
		setup();
	if (!size)
		return 0;
	struct in in = { data + 1, size - 1 };
	fake_now += 1000000;
	if (data[0] & 1)
		client(&in);
	else
		raw(&in);
	check_counters();
	if (getenv("TLS_GLUE_DEBUG")) {  /* what the corpus reaches */
		const uint64_t *c = tls_server_counters(srv);
		for (int i = 0; i < TLS_CTR__COUNT; i++)
			if (c[i])
				fprintf(stderr, "%s=%llu ", tls_counter_names[i],
					(unsigned long long)c[i]);
		fprintf(stderr, "\n");
	}
	return 0;
}
