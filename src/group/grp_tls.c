/* SPDX-License-Identifier: MPL-2.0 */
/* TLS for mesh links: an OpenSSL context from PEM files, one session per link over memory BIOs. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "core_log.h"
#include "grp_tls.h"

struct grp_tls_ctx {
	SSL_CTX *ssl;
};

struct grp_tls {
	SSL *ssl;
	BIO *in;  /* bytes from the socket, read by OpenSSL */
	BIO *out; /* bytes OpenSSL wrote, for the socket */
	bool done;
	char err[GRP_TLS_ERR_MAX];
};

/* OpenSSL's first queued error as text (the innermost cause); empties the queue. */
static void ssl_errstr(char *buf, size_t len, const char *fallback)
{
	unsigned long e = ERR_get_error();

	if (e)
		ERR_error_string_n(e, buf, len);
	else
		snprintf(buf, len, "%s", fallback);
	ERR_clear_error();
}

/* ---- the context ---- */

/* A named file must be readable: say so with its errno rather than with OpenSSL's text. */
static int file_check(const char *what, const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc = fd < 0 ? -errno : 0;

	if (fd >= 0)
		close(fd);
	if (rc)
		CLOG_ERR("group: TLS %s file %s: %s", what, path, strerror(-rc));
	return rc;
}

static int ctx_fail(int rc, const char *what, const char *path)
{
	char e[GRP_TLS_ERR_MAX];

	ssl_errstr(e, sizeof(e), "no detail");
	CLOG_ERR("group: TLS %s %s: %s", what, path, e);
	return rc;
}

/* Without it OpenSSL would prompt on the terminal for an encrypted key's pass phrase. */
static int no_password(char *buf, int size, int rwflag, void *u)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)u;
	return 0;
}

static int ctx_load(SSL_CTX *s, const struct grp_tls_files *f, const char *ca)
{
	SSL_CTX_set_default_passwd_cb(s, no_password);
	if (f->ciphers && SSL_CTX_set_cipher_list(s, f->ciphers) != 1)
		return ctx_fail(-EINVAL, "cipher list", f->ciphers);
	if (SSL_CTX_use_certificate_chain_file(s, f->cert) != 1)
		return ctx_fail(-EINVAL, "certificate file (PEM expected)", f->cert);
	if (SSL_CTX_use_PrivateKey_file(s, f->key, SSL_FILETYPE_PEM) != 1) {
		unsigned long e = ERR_peek_error();

		/* Loading checks the key against the certificate already: say which it was. */
		if (ERR_GET_LIB(e) == ERR_LIB_X509 &&
		    ERR_GET_REASON(e) == X509_R_KEY_VALUES_MISMATCH)
			return ctx_fail(-EKEYREJECTED, "key does not match the certificate:",
					f->key);
		return ctx_fail(-EINVAL, "key file (an unencrypted PEM key expected)", f->key);
	}
	if (SSL_CTX_check_private_key(s) != 1)
		return ctx_fail(-EKEYREJECTED, "key does not match the certificate:", f->key);
	if (SSL_CTX_load_verify_locations(s, ca, NULL) != 1)
		return ctx_fail(-EINVAL, "CA file (PEM certificates expected)", ca);
	return 0;
}

/*
 * Our own certificate must pass what every peer will check: the chain to the CA, the dates,
 * the usage. Failing here, at start, names the file; failing later would only show up as
 * peers refusing us.
 */
static int ctx_self_check(SSL_CTX *s, const char *cert)
{
	X509 *leaf = SSL_CTX_get0_certificate(s);
	STACK_OF(X509) *chain = NULL;
	X509_STORE_CTX *sc = X509_STORE_CTX_new();
	int rc = 0, err;

	if (!sc)
		return -ENOMEM;
	SSL_CTX_get0_chain_certs(s, &chain);
	if (X509_STORE_CTX_init(sc, SSL_CTX_get_cert_store(s), leaf, chain) != 1) {
		X509_STORE_CTX_free(sc);
		return -ENOMEM;
	}
	if (X509_verify_cert(sc) != 1) {
		err = X509_STORE_CTX_get_error(sc);
		rc = err == X509_V_ERR_CERT_HAS_EXPIRED || err == X509_V_ERR_CERT_NOT_YET_VALID
			     ? -EKEYEXPIRED
			     : -EKEYREJECTED;
		CLOG_ERR("group: TLS certificate %s does not verify against the CA: %s", cert,
			 X509_verify_cert_error_string(err));
	} else if (X509_check_purpose(leaf, X509_PURPOSE_SSL_CLIENT, 0) != 1 ||
		   X509_check_purpose(leaf, X509_PURPOSE_SSL_SERVER, 0) != 1) {
		rc = -EKEYREJECTED;
		CLOG_ERR("group: TLS certificate %s is not valid for both TLS client and server "
			 "use (every node is both; see its extendedKeyUsage)", cert);
	}
	X509_STORE_CTX_free(sc);
	ERR_clear_error();
	return rc;
}

int grp_tls_ctx_new(const struct grp_tls_files *f, struct grp_tls_ctx **out)
{
	const char *ca = f->ca ? f->ca : f->cert;
	struct grp_tls_ctx *c;
	int rc;

	if (!f->cert || !f->key || strlen(f->cert) >= GRP_TLS_PATH_MAX ||
	    strlen(f->key) >= GRP_TLS_PATH_MAX || strlen(ca) >= GRP_TLS_PATH_MAX)
		return -EINVAL;
	rc = file_check("certificate", f->cert);
	if (!rc)
		rc = file_check("key", f->key);
	if (!rc)
		rc = file_check("CA", ca);
	if (rc)
		return rc;
	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	ERR_clear_error();
	c->ssl = SSL_CTX_new(TLS_method());
	if (!c->ssl) {
		free(c);
		return -ENOMEM;
	}
	/*
	 * 1.2 at least, 1.3 when both have it. No renegotiation, session tickets or compression:
	 * links are long-lived, never resumed, and a renegotiation would let a peer make a
	 * write wait for a read.
	 */
	SSL_CTX_set_min_proto_version(c->ssl, TLS1_2_VERSION);
	SSL_CTX_set_options(c->ssl, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET |
					    SSL_OP_NO_COMPRESSION);
	SSL_CTX_set_num_tickets(c->ssl, 0);
	SSL_CTX_set_verify(c->ssl, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	rc = ctx_load(c->ssl, f, ca);
	if (!rc)
		rc = ctx_self_check(c->ssl, f->cert);
	if (rc) {
		grp_tls_ctx_free(c);
		return rc;
	}
	*out = c;
	return 0;
}

void grp_tls_ctx_free(struct grp_tls_ctx *c)
{
	if (!c)
		return;
	SSL_CTX_free(c->ssl);
	free(c);
}

/* ---- sessions ---- */

struct grp_tls *grp_tls_new(struct grp_tls_ctx *c, bool server)
{
	struct grp_tls *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->ssl = SSL_new(c->ssl);
	t->in = BIO_new(BIO_s_mem());
	t->out = BIO_new(BIO_s_mem());
	if (!t->ssl || !t->in || !t->out) {
		BIO_free(t->in);
		BIO_free(t->out);
		SSL_free(t->ssl);
		free(t);
		return NULL;
	}
	/* Empty means "not yet" (retry), not end of stream: more bytes come with the next read. */
	BIO_set_mem_eof_return(t->in, -1);
	BIO_set_mem_eof_return(t->out, -1);
	SSL_set_bio(t->ssl, t->in, t->out); /* the SSL owns both from here */
	if (server)
		SSL_set_accept_state(t->ssl);
	else
		SSL_set_connect_state(t->ssl);
	return t;
}

void grp_tls_free(struct grp_tls *t)
{
	if (!t)
		return;
	SSL_free(t->ssl);
	free(t);
}

/* Records why the session failed: our verdict on the peer's certificate when that was it,
 * else OpenSSL's (the peer's alert, a plain-text peer's "wrong version number", ...). */
static int fail(struct grp_tls *t, const char *fallback)
{
	long v = SSL_get_verify_result(t->ssl);

	if (v != X509_V_OK) {
		snprintf(t->err, sizeof(t->err), "peer certificate refused: %s",
			 X509_verify_cert_error_string(v));
		ERR_clear_error();
	} else {
		ssl_errstr(t->err, sizeof(t->err), fallback);
	}
	return CORE_EMALFORMED;
}

static int handshake(struct grp_tls *t)
{
	int rc;

	if (t->done)
		return 1;
	ERR_clear_error();
	rc = SSL_do_handshake(t->ssl);
	if (rc == 1) {
		/* SSL_VERIFY_FAIL_IF_NO_PEER_CERT makes both true; checked again all the same. */
		if (!SSL_get0_peer_certificate(t->ssl) ||
		    SSL_get_verify_result(t->ssl) != X509_V_OK)
			return fail(t, "no verified peer certificate");
		t->done = true;
		return 1;
	}
	if (SSL_get_error(t->ssl, rc) == SSL_ERROR_WANT_READ)
		return 0;
	return fail(t, "handshake failed");
}

int grp_tls_start(struct grp_tls *t)
{
	return handshake(t);
}

int grp_tls_feed(struct grp_tls *t, const void *data, size_t len)
{
	if (len > INT_MAX || BIO_write(t->in, data, (int)len) != (int)len) {
		snprintf(t->err, sizeof(t->err), "out of memory");
		return CORE_EMALFORMED;
	}
	return handshake(t);
}

int64_t grp_tls_read(struct grp_tls *t, void *buf, size_t cap)
{
	size_t got = 0;
	int rc;

	if (!t->done || !cap)
		return 0;
	ERR_clear_error();
	rc = SSL_read_ex(t->ssl, buf, cap, &got);
	if (rc == 1)
		return (int64_t)got;
	switch (SSL_get_error(t->ssl, rc)) {
	case SSL_ERROR_WANT_READ:
		return 0;
	case SSL_ERROR_ZERO_RETURN:
		snprintf(t->err, sizeof(t->err), "the peer closed the TLS session");
		return CORE_EMALFORMED;
	default:
		return fail(t, "bad TLS record");
	}
}

int grp_tls_write(struct grp_tls *t, const void *data, size_t len)
{
	size_t done = 0;

	if (!t->done)
		return CORE_EMALFORMED;
	ERR_clear_error();
	if (len && (SSL_write_ex(t->ssl, data, len, &done) != 1 || done != len))
		return fail(t, "write failed");
	return 0;
}

size_t grp_tls_pending(struct grp_tls *t)
{
	return BIO_ctrl_pending(t->out);
}

size_t grp_tls_take(struct grp_tls *t, void *buf, size_t cap)
{
	int n = BIO_read(t->out, buf, cap > INT_MAX ? INT_MAX : (int)cap);

	return n > 0 ? (size_t)n : 0;
}

const char *grp_tls_error(const struct grp_tls *t)
{
	return t->err[0] ? t->err : "no error";
}

const char *grp_tls_version(const struct grp_tls *t)
{
	return SSL_get_version(t->ssl);
}
