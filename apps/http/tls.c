/*
 * tls.c - TLS for the http and kvhttp apps: OpenSSL (libssl) with memory BIOs over tapir's flows
 *
 * Theory of operation
 *
 * Each connection has an SSL object whose read BIO and write BIO are memory
 * BIOs: bytes the flow receives are written into the read BIO and OpenSSL is
 * run (SSL_do_handshake(), then SSL_read() until it wants more); whatever
 * OpenSSL wrote to the write BIO (a handshake flight, an alert, a record)
 * is moved into the flow's send ring (tls_conn_flush(): the ring is lent
 * with the transport's reserve() and committed).  Everything runs on the
 * one loop, in the flow's callbacks: OpenSSL never sees a socket, never
 * blocks, and nothing runs on another thread.
 *
 * Back-pressure: the sender (conn.c's http_send()) asks tls_conn_reserve()
 * for room.  It gets a plaintext buffer of one record (16 KiB) only when
 * every byte of ciphertext so far has gone into the ring; tls_conn_commit()
 * encrypts into the write BIO and moves as much as fits into the ring.  So
 * at most one record of ciphertext waits outside the ring, and the flow's
 * writable() (tls_conn_flush(), then the sender again) moves it on.  What
 * OpenSSL writes by itself (handshake flights, alerts, TLS 1.3 tickets and
 * key updates) is bounded by TLS_OUT_MAX: a peer that provokes more output
 * than that while not reading is closed (fail_resource or errors).
 *
 * Certificates: a struct tls_certs is one SSL_CTX per name served, made
 * from the store's NAME/cert.pem and NAME/key.pem (default/ for clients
 * without SNI or with an unknown name), plus a base SSL_CTX with the same
 * settings that every SSL object starts on.  The servername callback (run
 * for every ClientHello, with or without SNI) moves the connection to its
 * name's SSL_CTX (SSL_set_SSL_CTX()).  A set is reference counted: the
 * server holds the current one, each connection the one it started with,
 * so a reload (tls_server_load()) changes what new connections get and
 * nothing else.  A load that fails anywhere leaves the current set.
 *
 * Resumption: session tickets (RFC 5077, TLS 1.3 PSK tickets) are
 * encrypted with AES-256-CBC and authenticated with HMAC-SHA256 under a
 * ticket key made from the runtime's random source (not OpenSSL's
 * default, fixed one).  The key encrypts for tls_ticket_rotation and then
 * is kept one more period to decrypt (those tickets are renewed); older
 * tickets fall back to a full handshake.  The server's session cache (for
 * clients without tickets) holds at most tls_session_cache sessions.
 *
 * Limits: at most tls_max_handshakes connections of a server are in their
 * handshake (more are refused at once: fail_busy), a handshake takes at
 * most tls_handshake_timeout (the app's tick closes it: fail_timeout).
 * Every connection is counted once: as a handshake or as one failure by
 * reason (tls.h's TLS_COUNTERS).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "tls.h"

#define TLS_RECORD_MAX 16384           /* plaintext bytes of one record */
#define TLS_OUT_MAX (256u * 1024)      /* ciphertext waiting outside the ring */
#define TLS_MAX_NAMES 1024             /* names of one certificate set */
#define TLS_NAME_MAX 253               /* a DNS name */
#define TLS_PEM_MAX (1u << 20)         /* cert.pem, key.pem */

#define TLS_CTR_NAME(id, name) [TLS_CTR_##id] = name,
const char *const tls_counter_names[TLS_CTR__COUNT] = { TLS_COUNTERS(TLS_CTR_NAME) };
#undef TLS_CTR_NAME

struct tls_name {
	char name[TLS_NAME_MAX + 1];   /* lower case; "*.example.org" matches one label */
	SSL_CTX *ctx;
};

struct tls_certs {
	unsigned refs;
	SSL_CTX *base;                 /* every SSL starts here: no certificate */
	SSL_CTX *def;                  /* default/, or NULL */
	struct tls_name *names;
	size_t n;
};

struct ticket_key {
	uint8_t name[16], aes[32], hmac[32];
	uint64_t born;
	bool set;
};

struct tls_server {
	struct tls_config cfg;
	char *ciphers, *ciphersuites;
	struct tls_certs *certs;
	struct ticket_key keys[2];     /* [0] encrypts, [1] the one before */
	uint64_t ctr[TLS_CTR__COUNT];
};

struct tls_conn {
	struct tls_server *s;
	struct tls_certs *certs;       /* the set it started with */
	SSL *ssl;
	BIO *rb, *wb;                  /* owned by ssl */
	const struct tls_io *io;
	void *io_ctx;
	uint8_t *pt;                   /* plaintext of one record, lent by tls_conn_reserve() */
	uint64_t started;
	bool seen_first, established, failed, sni_unknown, push;
};

/* ---- certificate sets ---- */

static void certs_release(struct tls_certs *c)
{
	if (!c || --c->refs)
		return;
	for (size_t i = 0; i < c->n; i++)
		SSL_CTX_free(c->names[i].ctx);
	free(c->names);
	SSL_CTX_free(c->def);
	SSL_CTX_free(c->base);
	free(c);
}

/* Return: the SSL_CTX for server name @sni (NULL: none sent), or NULL */
static SSL_CTX *certs_pick(const struct tls_certs *c, const char *sni)
{
	if (sni && *sni) {
		for (size_t i = 0; i < c->n; i++)
			if (!strcasecmp(c->names[i].name, sni))
				return c->names[i].ctx;
		const char *dot = strchr(sni, '.');
		if (dot && dot != sni)
			for (size_t i = 0; i < c->n; i++)
				if (c->names[i].name[0] == '*' && c->names[i].name[1] == '.' &&
				    !strcasecmp(c->names[i].name + 1, dot))
					return c->names[i].ctx;
	}
	return c->def;
}

static int sni_cb(SSL *ssl, int *al, void *arg)
{
	(void)arg;
	struct tls_conn *t = SSL_get_app_data(ssl);
	if (!t)
		return SSL_TLSEXT_ERR_NOACK;
	SSL_CTX *c = certs_pick(t->certs, SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name));
	if (!c) {
		t->sni_unknown = true;
		*al = SSL_AD_UNRECOGNIZED_NAME;
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	}
	if (c != SSL_get_SSL_CTX(ssl) && !SSL_set_SSL_CTX(ssl, c)) {
		*al = SSL_AD_INTERNAL_ERROR;
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	}
	return SSL_TLSEXT_ERR_OK;
}

/* ALPN: http/1.1 only; a client that offers only other protocols gets
 * no_application_protocol (RFC 7301 section 3.2). */
static int alpn_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
		   const unsigned char *in, unsigned int inlen, void *arg)
{
	(void)ssl;
	(void)arg;
	static const unsigned char h11[] = "\x08http/1.1";
	unsigned char *o = NULL;
	if (SSL_select_next_proto(&o, outlen, h11, sizeof(h11) - 1, in, inlen) !=
	    OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	*out = o;
	return SSL_TLSEXT_ERR_OK;
}

/* ---- ticket keys ---- */

/* Return: the key that encrypts now, rotated when its period is over */
static struct ticket_key *ticket_current(struct tls_server *s)
{
	uint64_t now = s->cfg.mono_ns();
	struct ticket_key *k = &s->keys[0];
	if (k->set && now - k->born < s->cfg.ticket_rotation_ns)
		return k;
	s->keys[1] = s->keys[0];
	if (s->keys[1].set && now - s->keys[1].born >= 2 * s->cfg.ticket_rotation_ns)
		s->keys[1].set = false;  /* idle for two periods: nothing it made is good */
	s->cfg.random(k->name, sizeof(k->name));
	s->cfg.random(k->aes, sizeof(k->aes));
	s->cfg.random(k->hmac, sizeof(k->hmac));
	k->born = now;
	k->set = true;
	s->ctr[TLS_CTR_TICKET_KEYS]++;
	return k;
}

static int ticket_cb(SSL *ssl, unsigned char key_name[16], unsigned char *iv,
		     EVP_CIPHER_CTX *ectx, EVP_MAC_CTX *hctx, int enc)
{
	struct tls_server *s = SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl));
	if (!s)
		return -1;
	struct ticket_key *k = ticket_current(s);
	int ret = 1;
	if (!enc) {
		if (memcmp(key_name, k->name, 16)) {
			k = &s->keys[1];
			if (!k->set || memcmp(key_name, k->name, 16))
				return 0;  /* unknown or expired: a full handshake */
			ret = 2;           /* good, and renewed under the current key */
		}
	} else {
		s->cfg.random(iv, 16);
		memcpy(key_name, k->name, 16);
	}
	OSSL_PARAM p[3] = {
		OSSL_PARAM_construct_octet_string(OSSL_MAC_PARAM_KEY, k->hmac, sizeof(k->hmac)),
		OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
		OSSL_PARAM_construct_end(),
	};
	if (!EVP_MAC_CTX_set_params(hctx, p))
		return -1;
	if (enc ? !EVP_EncryptInit_ex(ectx, EVP_aes_256_cbc(), NULL, k->aes, iv)
		: !EVP_DecryptInit_ex(ectx, EVP_aes_256_cbc(), NULL, k->aes, iv))
		return -1;
	return ret;
}

/* An SSL_CTX with the server's settings and no certificate */
static SSL_CTX *ctx_new(struct tls_server *s, char *err, size_t errlen)
{
	SSL_CTX *c = SSL_CTX_new(TLS_server_method());
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	SSL_CTX_set_min_proto_version(c, s->cfg.min_version == 13 ? TLS1_3_VERSION :
				      TLS1_2_VERSION);
	SSL_CTX_set_max_proto_version(c, TLS1_3_VERSION);
	SSL_CTX_set_options(c, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
			    SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_mode(c, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_dh_auto(c, 1);
	if (!SSL_CTX_set_cipher_list(c, s->ciphers)) {
		snprintf(err, errlen, "tls_ciphers '%s': no cipher OpenSSL knows", s->ciphers);
		SSL_CTX_free(c);
		return NULL;
	}
	if (!SSL_CTX_set_ciphersuites(c, s->ciphersuites)) {
		snprintf(err, errlen, "tls_ciphersuites '%s': not a TLS 1.3 suite list",
			 s->ciphersuites);
		SSL_CTX_free(c);
		return NULL;
	}
	SSL_CTX_set_session_id_context(c, (const unsigned char *)"tapir", 5);
	if (s->cfg.session_cache) {
		SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_SERVER);
		SSL_CTX_sess_set_cache_size(c, s->cfg.session_cache);
	} else {
		SSL_CTX_set_session_cache_mode(c, SSL_SESS_CACHE_OFF);
	}
	long life = (long)(2 * s->cfg.ticket_rotation_ns / 1000000000ull);
	SSL_CTX_set_timeout(c, life > 0 ? life : 1);
	SSL_CTX_set_num_tickets(c, 1);
	SSL_CTX_set_tlsext_ticket_key_evp_cb(c, ticket_cb);
	SSL_CTX_set_tlsext_servername_callback(c, sni_cb);
	SSL_CTX_set_alpn_select_cb(c, alpn_cb, NULL);
	SSL_CTX_set_app_data(c, s);
	return c;
}

/* The last OpenSSL error as text, after @what */
static void ssl_err(char *err, size_t errlen, const char *what)
{
	unsigned long e = ERR_peek_last_error();
	char buf[160] = "";
	if (e)
		ERR_error_string_n(e, buf, sizeof(buf));
	snprintf(err, errlen, "%s%s%s", what, *buf ? ": " : "", buf);
	ERR_clear_error();
}

/* @name's cert.pem and key.pem from @kv into an SSL_CTX.  Return: 0 or -errno */
static int load_name(struct tls_server *s, struct tapir_kv_store *kv, const char *name,
		     SSL_CTX **out, char *err, size_t errlen)
{
	char path[TLS_NAME_MAX + 16];
	uint8_t *pem[2] = { NULL, NULL };
	size_t len[2] = { 0, 0 };
	static const char *const file[2] = { "cert.pem", "key.pem" };
	int rc = 0;
	SSL_CTX *c = NULL;
	BIO *b = NULL;
	X509 *x = NULL;
	EVP_PKEY *pk = NULL;
	for (int i = 0; i < 2; i++) {
		struct tapir_kv_key k = { 0 };
		snprintf(path, sizeof(path), "/%s/%s", name, file[i]);
		uint64_t sz = 0;
		rc = tapir_kv_key_parse(path, &k);
		if (!rc)
			rc = tapir_kv_size(kv, &k, &sz);
		if (!rc && sz > TLS_PEM_MAX)
			rc = -TAPIR_KV_E_NO_SPACE;
		if (!rc)
			rc = tapir_kv_get(kv, &k, &pem[i], &len[i]);
		tapir_kv_key_free(&k);
		if (rc) {
			snprintf(err, errlen, "%s/%s: %s", name, file[i],
				 sz > TLS_PEM_MAX ? "over 1 MiB" : tapir_kv_strerror(rc));
			rc = rc == -TAPIR_KV_E_NOT_FOUND ? -ENOENT : -EINVAL;
			goto out;
		}
	}
	ERR_clear_error();
	c = ctx_new(s, err, errlen);
	if (!c) {
		rc = -EINVAL;
		goto out;
	}
	rc = -EINVAL;
	/* The leaf first, then the chain. */
	b = BIO_new_mem_buf(pem[0], (int)len[0]);
	if (!b || !(x = PEM_read_bio_X509_AUX(b, NULL, NULL, NULL))) {
		snprintf(path, sizeof(path), "%s/cert.pem: no certificate", name);
		ssl_err(err, errlen, path);
		goto out;
	}
	if (SSL_CTX_use_certificate(c, x) != 1) {
		snprintf(path, sizeof(path), "%s/cert.pem", name);
		ssl_err(err, errlen, path);
		goto out;
	}
	X509 *ca;
	while ((ca = PEM_read_bio_X509(b, NULL, NULL, NULL)))
		if (!SSL_CTX_add0_chain_cert(c, ca)) {
			X509_free(ca);
			snprintf(path, sizeof(path), "%s/cert.pem: chain", name);
			ssl_err(err, errlen, path);
			goto out;
		}
	unsigned long e = ERR_peek_last_error();
	if (ERR_GET_LIB(e) == ERR_LIB_PEM && ERR_GET_REASON(e) == PEM_R_NO_START_LINE)
		ERR_clear_error();  /* the end of the file */
	else if (e) {
		snprintf(path, sizeof(path), "%s/cert.pem: chain", name);
		ssl_err(err, errlen, path);
		goto out;
	}
	BIO_free(b);
	b = BIO_new_mem_buf(pem[1], (int)len[1]);
	if (!b || !(pk = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL))) {
		snprintf(path, sizeof(path), "%s/key.pem: no private key", name);
		ssl_err(err, errlen, path);
		goto out;
	}
	if (SSL_CTX_use_PrivateKey(c, pk) != 1 || SSL_CTX_check_private_key(c) != 1) {
		snprintf(path, sizeof(path), "%s/key.pem: does not match cert.pem", name);
		ssl_err(err, errlen, path);
		goto out;
	}
	*out = c;
	c = NULL;
	rc = 0;
out:
	EVP_PKEY_free(pk);
	X509_free(x);
	BIO_free(b);
	SSL_CTX_free(c);
	free(pem[0]);
	if (pem[1])
		OPENSSL_cleanse(pem[1], len[1]);
	free(pem[1]);
	ERR_clear_error();
	return rc;
}

/* A name of the store as a server name: letters, digits, '-', '.', a leading "*." */
static bool name_ok(const char *n)
{
	size_t len = strlen(n);
	if (!len || len > TLS_NAME_MAX)
		return false;
	if (n[0] == '*' && n[1] == '.')
		n += 2;
	for (; *n; n++)
		if (!((*n >= 'a' && *n <= 'z') || (*n >= 'A' && *n <= 'Z') ||
		      (*n >= '0' && *n <= '9') || *n == '-' || *n == '.' || *n == '_'))
			return false;
	return true;
}

int tls_server_load(struct tls_server *s, struct tapir_kv_store *kv, char *err, size_t errlen)
{
	struct tapir_kv_key root = { 0 };
	struct tapir_kv_entry *e = NULL;
	size_t n = 0;
	int rc = tapir_kv_list(kv, &root, &e, &n);
	if (rc) {
		snprintf(err, errlen, "listing the store: %s", tapir_kv_strerror(rc));
		s->ctr[TLS_CTR_RELOAD_FAILURES]++;
		return -EINVAL;
	}
	struct tls_certs *c = calloc(1, sizeof(*c));
	if (!c || !(c->names = calloc(n ? n : 1, sizeof(*c->names)))) {
		free(c);
		tapir_kv_entries_free(e, n);
		snprintf(err, errlen, "out of memory");
		s->ctr[TLS_CTR_RELOAD_FAILURES]++;
		return -ENOMEM;
	}
	c->refs = 1;
	rc = 0;
	for (size_t i = 0; i < n && !rc; i++) {
		if (e[i].kind != TAPIR_KV_DICT)
			continue;
		if (!name_ok(e[i].name)) {
			snprintf(err, errlen, "%s/: not a server name", e[i].name);
			rc = -EINVAL;
			break;
		}
		if (c->n + !!c->def >= TLS_MAX_NAMES) {
			snprintf(err, errlen, "more than %d names", TLS_MAX_NAMES);
			rc = -EINVAL;
			break;
		}
		SSL_CTX *ctx = NULL;
		rc = load_name(s, kv, e[i].name, &ctx, err, errlen);
		if (rc)
			break;
		if (!strcmp(e[i].name, "default")) {
			c->def = ctx;
		} else {
			struct tls_name *tn = &c->names[c->n++];
			snprintf(tn->name, sizeof(tn->name), "%s", e[i].name);
			for (char *p = tn->name; *p; p++)
				if (*p >= 'A' && *p <= 'Z')
					*p = (char)(*p - 'A' + 'a');
			tn->ctx = ctx;
		}
	}
	tapir_kv_entries_free(e, n);
	if (!rc && !c->n && !c->def) {
		snprintf(err, errlen, "no NAME/cert.pem and NAME/key.pem in the store");
		rc = -ENOENT;
	}
	if (!rc && !(c->base = ctx_new(s, err, errlen)))
		rc = -EINVAL;
	if (rc) {
		certs_release(c);
		s->ctr[TLS_CTR_RELOAD_FAILURES]++;
		return rc;
	}
	certs_release(s->certs);  /* connections hold what they started with */
	s->certs = c;
	s->ctr[TLS_CTR_RELOADS]++;
	return (int)(c->n + !!c->def);
}

int tls_server_new(const struct tls_config *cfg, struct tls_server **out, char *err,
		   size_t errlen)
{
	struct tls_server *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cfg = *cfg;
	if (!s->cfg.ticket_rotation_ns)
		s->cfg.ticket_rotation_ns = 3600ull * 1000000000ull;
	s->ciphers = strdup(cfg->ciphers);
	s->ciphersuites = strdup(cfg->ciphersuites);
	s->cfg.ciphers = s->ciphers;
	s->cfg.ciphersuites = s->ciphersuites;
	if (!s->ciphers || !s->ciphersuites) {
		tls_server_free(s);
		return -ENOMEM;
	}
	SSL_CTX *probe = ctx_new(s, err, errlen);  /* the cipher lists, checked now */
	if (!probe) {
		tls_server_free(s);
		return -EINVAL;
	}
	SSL_CTX_free(probe);
	*out = s;
	return 0;
}

void tls_server_free(struct tls_server *s)
{
	if (!s)
		return;
	certs_release(s->certs);
	OPENSSL_cleanse(s->keys, sizeof(s->keys));
	free(s->ciphers);
	free(s->ciphersuites);
	free(s);
}

const uint64_t *tls_server_counters(const struct tls_server *s)
{
	return s->ctr;
}

/* ---- connections ---- */

/* Count the end of a handshake that did not complete, once. */
static void fail(struct tls_conn *t, enum tls_counter why)
{
	if (t->failed || t->established)
		return;
	t->failed = true;
	t->s->ctr[TLS_CTR_FAILURES]++;
	t->s->ctr[why]++;
	t->s->ctr[TLS_CTR_IN_HANDSHAKE]--;
}

struct tls_conn *tls_conn_new(struct tls_server *s, const struct tls_io *io, void *io_ctx,
			      uint64_t now)
{
	s->ctr[TLS_CTR_ACCEPTED]++;
	if (s->ctr[TLS_CTR_IN_HANDSHAKE] >= s->cfg.max_handshakes || !s->certs) {
		s->ctr[TLS_CTR_FAILURES]++;
		s->ctr[s->certs ? TLS_CTR_FAIL_BUSY : TLS_CTR_FAIL_RESOURCE]++;
		return NULL;
	}
	struct tls_conn *t = calloc(1, sizeof(*t));
	if (!t)
		goto oom;
	t->s = s;
	t->io = io;
	t->io_ctx = io_ctx;
	t->started = now;
	t->ssl = SSL_new(s->certs->base);
	t->rb = BIO_new(BIO_s_mem());
	t->wb = BIO_new(BIO_s_mem());
	if (!t->ssl || !t->rb || !t->wb) {
		BIO_free(t->rb);
		BIO_free(t->wb);
		SSL_free(t->ssl);
		free(t);
		goto oom;
	}
	BIO_set_mem_eof_return(t->rb, -1);  /* empty: "retry", not end of file */
	SSL_set_bio(t->ssl, t->rb, t->wb);
	SSL_set_accept_state(t->ssl);
	SSL_set_app_data(t->ssl, t);
	t->certs = s->certs;
	t->certs->refs++;
	s->ctr[TLS_CTR_LIVE]++;
	s->ctr[TLS_CTR_IN_HANDSHAKE]++;
	return t;
oom:
	ERR_clear_error();
	s->ctr[TLS_CTR_FAILURES]++;
	s->ctr[TLS_CTR_FAIL_RESOURCE]++;
	return NULL;
}

void tls_conn_free(struct tls_conn *t)
{
	if (!t)
		return;
	fail(t, TLS_CTR_FAIL_CLOSED);  /* ended mid-handshake (no-op after one) */
	t->s->ctr[TLS_CTR_LIVE]--;
	SSL_free(t->ssl);
	certs_release(t->certs);
	free(t->pt);
	free(t);
}

bool tls_conn_established(const struct tls_conn *t)
{
	return t->established;
}

int tls_conn_flush(struct tls_conn *t)
{
	for (;;) {
		size_t pending = BIO_ctrl_pending(t->wb);
		if (!pending)
			return 0;
		size_t len = pending;
		int err = 0;
		uint8_t *p = t->io->reserve(t->io_ctx, &len, &err);
		if (!p)
			return err ? err : -EAGAIN;
		int got = BIO_read(t->wb, p, (int)(len > INT32_MAX ? INT32_MAX : len));
		if (got <= 0) {
			t->io->commit(t->io_ctx, 0, false);
			return -EIO;
		}
		bool last = (size_t)got == pending;
		if (t->io->commit(t->io_ctx, (size_t)got, last && t->push) < 0)
			return -EPIPE;
		if (last)
			t->push = false;
	}
}

/* Flush after OpenSSL wrote; too much waiting is -ENOBUFS. */
static int flush_bounded(struct tls_conn *t)
{
	int rc = tls_conn_flush(t);
	if (rc && rc != -EAGAIN)
		return rc;
	return BIO_ctrl_pending(t->wb) > TLS_OUT_MAX ? -ENOBUFS : 0;
}

/* Why the handshake failed, from OpenSSL's error queue */
static enum tls_counter classify(struct tls_conn *t)
{
	if (t->sni_unknown)
		return TLS_CTR_FAIL_SNI;
	unsigned long e = ERR_peek_last_error();
	if (ERR_GET_LIB(e) != ERR_LIB_SSL)
		return ERR_GET_REASON(e) == ERR_R_MALLOC_FAILURE ? TLS_CTR_FAIL_RESOURCE :
			TLS_CTR_FAIL_PROTOCOL;
	int r = ERR_GET_REASON(e);
	if (r >= SSL_AD_REASON_OFFSET && r < SSL_AD_REASON_OFFSET + 256)
		return TLS_CTR_FAIL_ALERT;
	switch (r) {
	case SSL_R_UNSUPPORTED_PROTOCOL:
	case SSL_R_VERSION_TOO_LOW:
	case SSL_R_WRONG_VERSION_NUMBER:
		return TLS_CTR_FAIL_VERSION;
	case SSL_R_NO_SHARED_CIPHER:
	case SSL_R_NO_SHARED_GROUPS:
	case SSL_R_NO_SUITABLE_SIGNATURE_ALGORITHM:
		return TLS_CTR_FAIL_CIPHER;
	case SSL_R_HTTP_REQUEST:
	case SSL_R_HTTPS_PROXY_REQUEST:
		return TLS_CTR_FAIL_NOT_TLS;
	default:
		return TLS_CTR_FAIL_PROTOCOL;
	}
}

static void handshake_done(struct tls_conn *t)
{
	struct tls_server *s = t->s;
	t->established = true;
	s->ctr[TLS_CTR_IN_HANDSHAKE]--;
	s->ctr[TLS_CTR_HANDSHAKES]++;
	if (SSL_session_reused(t->ssl))
		s->ctr[TLS_CTR_RESUMED]++;
	s->ctr[SSL_version(t->ssl) == TLS1_3_VERSION ? TLS_CTR_TLS13 : TLS_CTR_TLS12]++;
}

int tls_conn_input(struct tls_conn *t, const uint8_t *data, size_t len, tls_deliver_fn deliver,
		   void *arg)
{
	if (t->failed)
		return -EPROTO;
	if (len == 0) {  /* the peer's FIN */
		if (!t->established) {
			fail(t, TLS_CTR_FAIL_EOF);
			return -EPROTO;
		}
		return deliver(arg, NULL, 0) ? 1 : 0;
	}
	if (!t->seen_first) {
		t->seen_first = true;
		if (data[0] != 22) {  /* a handshake record (RFC 8446 section 5.1) */
			fail(t, TLS_CTR_FAIL_NOT_TLS);
			return -EPROTO;
		}
	}
	while (len) {
		int n = len > (1u << 30) ? 1 << 30 : (int)len;
		if (BIO_write(t->rb, data, n) != n) {
			fail(t, TLS_CTR_FAIL_RESOURCE);
			ERR_clear_error();
			return -ENOMEM;
		}
		data += n;
		len -= (size_t)n;
	}
	if (!t->established) {
		ERR_clear_error();
		int r = SSL_do_handshake(t->ssl);
		if (r != 1) {
			int e = SSL_get_error(t->ssl, r);
			if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
				int rc = flush_bounded(t);
				if (rc)
					fail(t, TLS_CTR_FAIL_RESOURCE);
				return rc ? rc : 1;
			}
			fail(t, classify(t));
			ERR_clear_error();
			tls_conn_flush(t);  /* the alert, as room allows */
			return -EPROTO;
		}
		handshake_done(t);
	}
	static uint8_t buf[TLS_RECORD_MAX];  /* one loop, one thread */
	for (;;) {
		ERR_clear_error();
		int r = SSL_read(t->ssl, buf, sizeof(buf));
		if (r > 0) {
			if (!deliver(arg, buf, (size_t)r))
				return 0;
			continue;
		}
		int e = SSL_get_error(t->ssl, r);
		if (e == SSL_ERROR_WANT_READ)
			break;
		ERR_clear_error();
		if (e == SSL_ERROR_ZERO_RETURN)  /* close_notify: the end of the stream */
			return deliver(arg, NULL, 0) ? 1 : 0;
		t->s->ctr[TLS_CTR_ERRORS]++;
		tls_conn_flush(t);
		return -EPROTO;
	}
	int rc = flush_bounded(t);
	if (rc)
		t->s->ctr[TLS_CTR_ERRORS]++;
	return rc ? rc : 1;
}

void *tls_conn_reserve(struct tls_conn *t, size_t *len, int *err)
{
	size_t want = *len;
	*len = 0;
	int rc = t->established ? tls_conn_flush(t) : -ENOTCONN;
	if (rc) {
		if (err)
			*err = rc;
		return NULL;
	}
	if (!t->pt && !(t->pt = malloc(TLS_RECORD_MAX))) {
		if (err)
			*err = -ENOMEM;
		return NULL;
	}
	*len = want && want < TLS_RECORD_MAX ? want : TLS_RECORD_MAX;
	if (err)
		*err = 0;
	return t->pt;
}

long tls_conn_commit(struct tls_conn *t, size_t n, bool push)
{
	if (n > TLS_RECORD_MAX || !t->established)
		return -EINVAL;
	if (!n)
		return 0;
	ERR_clear_error();
	int r = SSL_write(t->ssl, t->pt, (int)n);
	if (r != (int)n) {
		ERR_clear_error();
		t->s->ctr[TLS_CTR_ERRORS]++;
		return -EPIPE;
	}
	t->push = t->push || push;
	int rc = tls_conn_flush(t);
	return rc && rc != -EAGAIN ? rc : (long)n;
}

long tls_conn_write(struct tls_conn *t, const void *data, size_t len)
{
	size_t room = len;
	int err = 0;
	void *p = tls_conn_reserve(t, &room, &err);
	if (!p)
		return err == -EAGAIN ? 0 : err;
	if (room < len)
		return -EINVAL;
	memcpy(p, data, len);
	return tls_conn_commit(t, len, true);
}

void tls_conn_shutdown(struct tls_conn *t)
{
	if (!t->established || t->failed)
		return;
	ERR_clear_error();
	t->push = true;
	if (SSL_shutdown(t->ssl) < 0)
		ERR_clear_error();
	tls_conn_flush(t);
}

bool tls_conn_timed_out(struct tls_conn *t, uint64_t now)
{
	if (t->established || t->failed || now - t->started <= t->s->cfg.handshake_timeout_ns)
		return false;
	fail(t, TLS_CTR_FAIL_TIMEOUT);
	return true;
}

void tls_conn_get_info(const struct tls_conn *t, struct tls_conn_info *out)
{
	const char *sni = SSL_get_servername(t->ssl, TLSEXT_NAMETYPE_host_name);
	out->established = t->established;
	out->version = t->established ? SSL_get_version(t->ssl) : "handshake";
	out->cipher = t->established ? SSL_get_cipher_name(t->ssl) : "";
	snprintf(out->sni, sizeof(out->sni), "%s", sni ? sni : "");
	out->resumed = t->established && SSL_session_reused(t->ssl);
}
