/* SPDX-License-Identifier: MPL-2.0 */
/* Unit tests of grp_tls: file checks at start, and sessions pumped into each other in memory. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "grp_tls.h"

#define DAY_S (24 * 3600L)

static char dir[] = "/tmp/test_grp_tls.XXXXXX";

/* ---- certificates, made here so that nothing checked in can expire ---- */

static void add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *e;

	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
	e = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
	assert_non_null(e);
	assert_int_equal(X509_add_ext(x, e, -1), 1);
	X509_EXTENSION_free(e);
}

/* A certificate for key named cn, valid from..to seconds from now; self-signed without an
 * issuer. eku: an extendedKeyUsage value, or NULL for none. */
static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key,
		       long from_s, long to_s, bool ca, const char *eku)
{
	static long serial = 1;
	X509 *x = X509_new();
	X509_NAME *name;

	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_gmtime_adj(X509_getm_notBefore(x), from_s);
	X509_gmtime_adj(X509_getm_notAfter(x), to_s);
	X509_set_pubkey(x, key);
	name = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
	if (ca)
		add_ext(x, issuer ? issuer : x, NID_basic_constraints, "critical,CA:TRUE");
	if (eku)
		add_ext(x, issuer ? issuer : x, NID_ext_key_usage, eku);
	assert_true(X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256()) > 0);
	return x;
}

static char *path(const char *name)
{
	static char buf[8][256];
	static int i;
	char *p = buf[i++ % 8];

	snprintf(p, sizeof(buf[0]), "%s/%s", dir, name);
	return p;
}

static void write_cert(const char *name, X509 *x)
{
	FILE *f = fopen(path(name), "w");

	assert_non_null(f);
	assert_int_equal(PEM_write_X509(f, x), 1);
	fclose(f);
}

static void write_key(const char *name, EVP_PKEY *k)
{
	FILE *f = fopen(path(name), "w");

	assert_non_null(f);
	assert_int_equal(PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL), 1);
	fclose(f);
}

/* ca.pem/.key with a.pem/.key and b.pem/.key signed by it; other-ca.pem with stranger.pem/.key;
 * old.pem (expired) and server-only.pem (serverAuth only) for a.key, signed by ca.pem. */
static int setup(void **state)
{
	EVP_PKEY *ca_key = EVP_EC_gen("P-256"), *other_key = EVP_EC_gen("P-256");
	EVP_PKEY *a = EVP_EC_gen("P-256"), *b = EVP_EC_gen("P-256"), *s = EVP_EC_gen("P-256");
	X509 *ca, *other, *x;

	(void)state;
	assert_non_null(mkdtemp(dir));
	ca = make_cert(ca_key, "test ca", NULL, NULL, 0, DAY_S, true, NULL);
	other = make_cert(other_key, "other ca", NULL, NULL, 0, DAY_S, true, NULL);
	write_cert("ca.pem", ca);
	write_cert("other-ca.pem", other);
	write_key("ca.key", ca_key);
	write_key("a.key", a);
	write_key("b.key", b);
	write_key("stranger.key", s);
	x = make_cert(a, "a", ca, ca_key, 0, DAY_S, false, NULL);
	write_cert("a.pem", x);
	X509_free(x);
	x = make_cert(b, "b", ca, ca_key, 0, DAY_S, false, "serverAuth,clientAuth");
	write_cert("b.pem", x);
	X509_free(x);
	x = make_cert(s, "stranger", other, other_key, 0, DAY_S, false, NULL);
	write_cert("stranger.pem", x);
	X509_free(x);
	x = make_cert(a, "old", ca, ca_key, -2 * DAY_S, -DAY_S, false, NULL);
	write_cert("old.pem", x);
	X509_free(x);
	x = make_cert(a, "server only", ca, ca_key, 0, DAY_S, false, "serverAuth");
	write_cert("server-only.pem", x);
	X509_free(x);
	X509_free(ca);
	X509_free(other);
	EVP_PKEY_free(ca_key);
	EVP_PKEY_free(other_key);
	EVP_PKEY_free(a);
	EVP_PKEY_free(b);
	EVP_PKEY_free(s);
	return 0;
}

static int teardown(void **state)
{
	char cmd[300];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static struct grp_tls_ctx *ctx_of(const char *cert, const char *key, const char *ca)
{
	struct grp_tls_files f = {.cert = path(cert), .key = path(key), .ca = ca ? path(ca) : NULL};
	struct grp_tls_ctx *c = NULL;

	assert_int_equal(grp_tls_ctx_new(&f, &c), 0);
	return c;
}

static int ctx_rc(const char *cert, const char *key, const char *ca)
{
	struct grp_tls_files f = {.cert = path(cert), .key = path(key), .ca = path(ca)};
	struct grp_tls_ctx *c = NULL;
	int rc = grp_tls_ctx_new(&f, &c);

	grp_tls_ctx_free(c);
	return rc;
}

/* ---- start-up checks ---- */

static void test_files_checked_at_start(void **state)
{
	FILE *f = fopen(path("junk.pem"), "w");

	(void)state;
	fputs("not a certificate\n", f);
	fclose(f);
	assert_int_equal(ctx_rc("a.pem", "a.key", "ca.pem"), 0);
	assert_int_equal(ctx_rc("missing.pem", "a.key", "ca.pem"), -ENOENT);
	assert_int_equal(ctx_rc("a.pem", "missing.key", "ca.pem"), -ENOENT);
	assert_int_equal(ctx_rc("a.pem", "a.key", "missing.pem"), -ENOENT);
	assert_int_equal(ctx_rc("junk.pem", "a.key", "ca.pem"), -EINVAL);
	assert_int_equal(ctx_rc("a.pem", "junk.pem", "ca.pem"), -EINVAL);
	assert_int_equal(ctx_rc("a.pem", "a.key", "junk.pem"), -EINVAL);
	assert_int_equal(ctx_rc("a.pem", "b.key", "ca.pem"), -EKEYREJECTED);
	assert_int_equal(ctx_rc("a.pem", "a.key", "other-ca.pem"), -EKEYREJECTED);
	assert_int_equal(ctx_rc("old.pem", "a.key", "ca.pem"), -EKEYEXPIRED);
	assert_int_equal(ctx_rc("server-only.pem", "a.key", "ca.pem"), -EKEYREJECTED);
	/* No CA file: the certificate is its own (a self-signed cluster certificate). */
	grp_tls_ctx_free(ctx_of("ca.pem", "ca.key", NULL));
}

/* ---- sessions ---- */

/* Moves what each side has for the other until both are quiet; the last feed results. */
static void pump(struct grp_tls *c, struct grp_tls *s, int *rc_c, int *rc_s)
{
	static uint8_t buf[1 << 16];

	for (int i = 0; i < 1000; i++) {
		size_t n = grp_tls_take(c, buf, sizeof(buf));
		size_t m;

		if (n)
			*rc_s = grp_tls_feed(s, buf, n);
		m = grp_tls_take(s, buf, sizeof(buf));
		if (m)
			*rc_c = grp_tls_feed(c, buf, m);
		if ((!n && !m) || *rc_c < 0 || *rc_s < 0)
			return;
	}
	fail_msg("the sessions never went quiet");
}

static void test_handshake_and_data_both_ways(void **state)
{
	struct grp_tls_ctx *ca = ctx_of("a.pem", "a.key", "ca.pem");
	struct grp_tls_ctx *cb = ctx_of("b.pem", "b.key", "ca.pem");
	struct grp_tls *c = grp_tls_new(ca, false), *s = grp_tls_new(cb, true);
	size_t len = (size_t)1 << 20, got = 0;
	uint8_t *big = malloc(len), *out = malloc(len);
	int rc_c = 0, rc_s = 0;

	(void)state;
	assert_non_null(big);
	assert_non_null(out);
	assert_int_equal(grp_tls_write(c, "x", 1), CORE_EMALFORMED); /* not before the handshake */
	assert_int_equal(grp_tls_start(c), 0);
	assert_true(grp_tls_pending(c) > 0);
	pump(c, s, &rc_c, &rc_s);
	assert_int_equal(rc_c, 1);
	assert_int_equal(rc_s, 1);
	assert_string_equal(grp_tls_version(c), "TLSv1.3");
	for (size_t i = 0; i < len; i++)
		big[i] = (uint8_t)(i * 7 + i / 251);
	assert_int_equal(grp_tls_write(c, big, len), 0);
	/* The ciphertext must not carry the plaintext. */
	assert_true(grp_tls_pending(c) > len);
	while (got < len) {
		int64_t n;

		pump(c, s, &rc_c, &rc_s);
		n = grp_tls_read(s, out + got, len - got);
		assert_true(n > 0);
		got += (size_t)n;
	}
	assert_memory_equal(big, out, len);
	assert_int_equal(grp_tls_write(s, "pong", 4), 0);
	pump(c, s, &rc_c, &rc_s);
	assert_int_equal(grp_tls_read(c, out, 16), 4);
	assert_memory_equal(out, "pong", 4);
	free(big);
	free(out);
	grp_tls_free(c);
	grp_tls_free(s);
	grp_tls_ctx_free(ca);
	grp_tls_ctx_free(cb);
}

/* The stranger trusts our CA, so it would accept us; we must refuse it. */
static void test_foreign_certificate_refused(void **state)
{
	struct grp_tls_ctx *cs;
	struct grp_tls_ctx *ca = ctx_of("a.pem", "a.key", "ca.pem");
	int rc_c = 0, rc_s = 0;
	char cmd[1024];
	struct grp_tls *c, *s;

	(void)state;
	snprintf(cmd, sizeof(cmd), "cat '%s' '%s' > '%s'", path("other-ca.pem"), path("ca.pem"),
		 path("both.pem"));
	assert_int_equal(system(cmd), 0);
	cs = ctx_of("stranger.pem", "stranger.key", "both.pem");
	c = grp_tls_new(cs, false);
	s = grp_tls_new(ca, true);
	assert_int_equal(grp_tls_start(c), 0);
	pump(c, s, &rc_c, &rc_s);
	assert_int_equal(rc_s, CORE_EMALFORMED);
	assert_non_null(strstr(grp_tls_error(s), "peer certificate refused"));
	/* Nothing the stranger sent reaches the server's plaintext. */
	assert_int_equal(grp_tls_read(s, (uint8_t[8]){0}, 8), 0);
	grp_tls_free(c);
	grp_tls_free(s);
	grp_tls_ctx_free(cs);
	grp_tls_ctx_free(ca);
}

static void test_plain_peer_refused(void **state)
{
	struct grp_tls_ctx *ca = ctx_of("a.pem", "a.key", "ca.pem");
	struct grp_tls *s = grp_tls_new(ca, true), *c = grp_tls_new(ca, false);
	static const char hello[] = "PCLG\x01\x00\x20paceless-test and a member record";

	(void)state;
	assert_int_equal(grp_tls_feed(s, hello, sizeof(hello)), CORE_EMALFORMED);
	assert_int_equal(grp_tls_start(c), 0);
	assert_int_equal(grp_tls_feed(c, hello, sizeof(hello)), CORE_EMALFORMED);
	assert_string_not_equal(grp_tls_error(c), "no error");
	grp_tls_free(c);
	grp_tls_free(s);
	grp_tls_ctx_free(ca);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_files_checked_at_start),
		cmocka_unit_test(test_handshake_and_data_both_ways),
		cmocka_unit_test(test_foreign_certificate_refused),
		cmocka_unit_test(test_plain_peer_refused),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
