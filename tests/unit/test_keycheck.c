/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_keycheck.c - the keys no one should certify or accept
 * (lib/keycheck.c), and the readers that share the check: nkhsm-sshca's
 * subject keys (sshca/sshcert.c) and pam_nkhsm's authorized keys
 * (pamconf/authfile.c).
 *
 * The Ed25519 vectors are what tests/unit/ed25519_torsion.py derives from
 * the curve's definition: the 8 points of small order in every encoding
 * that decodes to them, non-canonical encodings (y >= p) and a y with no
 * point. The good keys are ssh-keygen's; their sizes are what
 * `ssh-keygen -l` printed for them.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include "nkhsm.h"
#include "nk-int.h"
#include "buf.h"
#include "pamnk.h"
#include "sshca.h"

/* ed25519_torsion.py: NAME, the 32-byte encoding in hex, the order. */
static const struct {
	const char	*name;
	const char	*hex;
	unsigned int	 order;		/* 0: refused as non-canonical */
} small[] = {
	{ "order1_point0", "0100000000000000000000000000000000000000000000000000000000000000", 1 },
	{ "order1_negzero", "0100000000000000000000000000000000000000000000000000000000000080", 1 },
	{ "order1_y_plus_p_sign0", "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", 0 },
	{ "order1_y_plus_p_sign1", "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", 0 },
	{ "order8_point1", "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a", 8 },
	{ "order4_point2", "0000000000000000000000000000000000000000000000000000000000000080", 4 },
	{ "order4_y_plus_p_sign0", "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", 0 },
	{ "order4_y_plus_p_sign1", "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", 0 },
	{ "order8_point3", "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05", 8 },
	{ "order2_point4", "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", 2 },
	{ "order2_negzero", "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff", 2 },
	{ "order8_point5", "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85", 8 },
	{ "order4_point6", "0000000000000000000000000000000000000000000000000000000000000000", 4 },
	{ "order8_point7", "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa", 8 },
	{ "noncanonical_y_p+18", "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", 0 },
	{ "noncanonical_y_p+2", "efffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f", 0 },
};
#define OFF_CURVE "0200000000000000000000000000000000000000000000000000000000000000"

/* ssh-keygen -t ed25519 (three keys), -t rsa -b 2048, -b 1024, -t ecdsa -b 384. */
static const char *const good_ed[] = {
	"AAAAC3NzaC1lZDI1NTE5AAAAIMaX+/PgLBbG0DAk5zVEGqHhUH2ItIRY0JG5JPYx903g",
	"AAAAC3NzaC1lZDI1NTE5AAAAIGisnis7r8cNBL6T9WthDn5w2YFCbII3INRDH6UvG/wk",
	"AAAAC3NzaC1lZDI1NTE5AAAAIE6oxJLjLF/2SWimG1UH5UkuUbDWdxU3+cXO+KYb9pS4",
};
#define RSA2048 "AAAAB3NzaC1yc2EAAAADAQABAAABAQDH82QhkS50ZgYeNAu0Bh+IFNrsIppvMO" \
	"b0nC+6CNhlgEB7H3NPSPElSZkIs6ZxcZaNyyT+KdxS31n6XwW2VO/Ct3YX22CaKBQDQhfQqG" \
	"q+CEVL70jSgXBS/wH53tLhLcYTK8CYc+7WoX2ONYPXz7PVJsyYjj9OvvmU+AnQPydgwzZZyu" \
	"mSUhuoeBLWMkuHlTTStb+yc/qeYLgN+HGkJLWIGM7a3KufnUWslMztE608tCgpq9QCER/TW+" \
	"EM5dv5sim3WNtPc8FaBkVaesUXKX4PyKpTaRgqaYmdASSZ1UgZ4YrCF8C65sZ3uIQsMLy0Kk" \
	"+4L6icv9lD2X+EvU7AWWej"
#define RSA1024 "AAAAB3NzaC1yc2EAAAADAQABAAAAgQDnt0rOpxgXfZkRFhXoJevSSN23adao9T" \
	"YuEn1J5OL48C7kz85Iy+ofuIYbEidERNbWYiGTuwkYRZI+ddjZQK49cSuTY6QYQq9Cn/AU2e" \
	"89+Ke9MEoYcRW1F9fIWvHdkuOpyoG4qp2W6Lt1VYHeSXx3QITIgZQv2wuQ+w02QxRciQ=="
#define P384 "AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBJi7TBmSMrEno" \
	"7xgI1mmtJsxAn5RCqmLkp8ZH3x01codpyxPkzQ9A2GrL2NQRjCQewH3MBEbXF7+rAQy4XZkr" \
	"TsY5vWpgzvkwBncHQge9oRV/UX53AlSDnCOO4UQzoGtyw=="

static uint8_t *
b64(const char *s, size_t *lenp)
{
	uint8_t *blob = NULL;

	assert_int_equal(nk_b64_decode(s, strlen(s), &blob, lenp), 0);
	return blob;
}

/* string("ssh-ed25519") string(32 bytes from hex). */
static void
ed_blob(const char *hex, uint8_t **blobp, size_t *lenp, uint8_t raw[32])
{
	uint8_t *bytes = NULL;
	size_t n = 0;
	struct nk_buf b;

	assert_int_equal(nk_hex_decode(hex, &bytes, &n), 0);
	assert_int_equal(n, 32);
	memcpy(raw, bytes, 32);
	nk_buf_init(&b);
	assert_int_equal(nk_buf_put_cstring(&b, "ssh-ed25519"), 0);
	assert_int_equal(nk_buf_put_string(&b, bytes, n), 0);
	assert_int_equal(nk_buf_steal(&b, blobp, lenp), 0);
	free(bytes);
}

static char *
ed_line(const uint8_t *blob, size_t len)
{
	char *b = NULL, *line = NULL;

	assert_int_equal(nk_b64_encode(blob, len, 1, &b), 0);
	assert_true(asprintf(&line, "ssh-ed25519 %s t", b) > 0);
	free(b);
	return line;
}

/* Every small-order and non-canonical encoding, through every reader. */
static void
test_ed25519_refused(void **state)
{
	char err[256], want[64], *line;
	uint8_t *blob, raw[32];
	size_t i, len;
	struct sc_pubkey pk;
	struct pnk_keys keys;
	EVP_PKEY *pkey;

	(void)state;
	for (i = 0; i < sizeof(small) / sizeof(small[0]); i++) {
		ed_blob(small[i].hex, &blob, &len, raw);
		if (small[i].order != 0)
			snprintf(want, sizeof(want), "small order (order %u)",
			    small[i].order);
		else
			snprintf(want, sizeof(want), "not canonically encoded");
		err[0] = '\0';
		if (nkhsm_ed25519_check(raw, 32, err, sizeof(err)) !=
		    NKHSM_ERR_WEAK_KEY || strstr(err, want) == NULL)
			fail_msg("%s: '%s', wanted '%s'", small[i].name, err, want);
		assert_int_equal(nkhsm_sshkey_check(blob, len, NULL, err,
		    sizeof(err)), NKHSM_ERR_WEAK_KEY);
		/* nkhsm-sshca sign; revoke --key still takes it. */
		line = ed_line(blob, len);
		assert_int_equal(sc_pubkey_parse(line, 0, &pk, err, sizeof(err)),
		    NKHSM_ERR_WEAK_KEY);
		assert_non_null(strstr(err, "invalid ssh-ed25519 key"));
		assert_int_equal(sc_pubkey_parse(line, SC_PUBKEY_WEAK_OK, &pk,
		    err, sizeof(err)), 0);
		sc_pubkey_free(&pk);
		/* pam_nkhsm: a file that lists it is refused, naming the line. */
		assert_int_equal(pnk_keys_parse("af", line, strlen(line), &keys,
		    err, sizeof(err)), NKHSM_ERR_FORMAT);
		assert_non_null(strstr(err, "af:1: invalid ssh-ed25519 key"));
		/* x509 --pubkey / a request: the same key as an EVP_PKEY. */
		if ((pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL,
		    raw, 32)) != NULL) {
			assert_int_equal(nkhsm_pkey_check(pkey, err, sizeof(err)),
			    NKHSM_ERR_WEAK_KEY);
			EVP_PKEY_free(pkey);
		}
		free(line);
		free(blob);
	}
}

static void
test_ed25519_good(void **state)
{
	char err[256];
	uint8_t *blob, raw[32];
	size_t i, len;
	unsigned int bits;
	EVP_PKEY *pkey;

	(void)state;
	for (i = 0; i < sizeof(good_ed) / sizeof(good_ed[0]); i++) {
		blob = b64(good_ed[i], &len);
		err[0] = '\0';
		assert_int_equal(nkhsm_sshkey_check(blob, len, &bits, err,
		    sizeof(err)), 0);
		assert_int_equal(bits, 256);
		memcpy(raw, blob + len - 32, 32);
		assert_non_null(pkey = EVP_PKEY_new_raw_public_key(
		    EVP_PKEY_ED25519, NULL, raw, 32));
		assert_int_equal(nkhsm_pkey_check(pkey, err, sizeof(err)), 0);
		EVP_PKEY_free(pkey);
		free(blob);
	}
	/* A y with no x on the curve. */
	ed_blob(OFF_CURVE, &blob, &len, raw);
	assert_int_equal(nkhsm_sshkey_check(blob, len, NULL, err, sizeof(err)),
	    NKHSM_ERR_WEAK_KEY);
	assert_string_equal(err, "not a point on the curve");
	free(blob);
	/* Malformed: a 31-byte key, trailing data. */
	blob = b64(good_ed[0], &len);
	blob[3 + 11 + 4] = 31;
	assert_int_equal(nkhsm_sshkey_check(blob, len - 1, NULL, err,
	    sizeof(err)), NKHSM_ERR_FORMAT);
	assert_int_equal(nkhsm_ed25519_check(raw, 31, err, sizeof(err)),
	    NKHSM_ERR_FORMAT);
	free(blob);
}

/* The ssh-keygen RSA 2048 key with another public exponent. */
static void
rsa_with_e(const uint8_t *e, size_t elen, int flip_n, uint8_t **blobp,
    size_t *lenp)
{
	const uint8_t *v, *n;
	size_t vlen, nlen;
	uint8_t *orig, *nn;
	size_t olen;
	struct nk_buf in, out;

	orig = b64(RSA2048, &olen);
	nk_buf_from(&in, orig, olen);
	assert_int_equal(nk_buf_get_string_direct(&in, &v, &vlen), 0);
	assert_int_equal(nk_buf_get_bignum2_bytes_direct(&in, &v, &vlen), 0);
	assert_int_equal(nk_buf_get_bignum2_bytes_direct(&in, &n, &nlen), 0);
	assert_non_null(nn = malloc(nlen));
	memcpy(nn, n, nlen);
	if (flip_n)
		nn[nlen - 1] ^= 1;	/* an even modulus */
	nk_buf_init(&out);
	assert_int_equal(nk_buf_put_cstring(&out, "ssh-rsa"), 0);
	assert_int_equal(nk_buf_put_bignum2_bytes(&out, e, elen), 0);
	assert_int_equal(nk_buf_put_bignum2_bytes(&out, nn, nlen), 0);
	assert_int_equal(nk_buf_steal(&out, blobp, lenp), 0);
	free(nn);
	free(orig);
}

static void
test_rsa(void **state)
{
	static const uint8_t e1[] = { 1 }, e3[] = { 3 }, e65536[] = { 1, 0, 0 },
	    e65537[] = { 1, 0, 1 }, e2[] = { 2 },
	    ebig[] = { 1, 0, 0, 0, 0, 0, 0, 0, 1 };
	static const struct {
		const uint8_t	*e;
		size_t		 elen;
		int		 flip_n, want;
		const char	*why;
	} cases[] = {
		{ e65537, sizeof(e65537), 0, 0, "" },
		{ e3, sizeof(e3), 0, 0, "" },
		{ e1, sizeof(e1), 0, NKHSM_ERR_WEAK_KEY, "public exponent 1" },
		{ e2, sizeof(e2), 0, NKHSM_ERR_WEAK_KEY, "even public exponent" },
		{ e65536, sizeof(e65536), 0, NKHSM_ERR_WEAK_KEY,
		    "even public exponent" },
		{ e65537, sizeof(e65537), 1, NKHSM_ERR_WEAK_KEY, "even modulus" },
		{ ebig, sizeof(ebig), 0, NKHSM_ERR_UNSUPPORTED,
		    "public exponent over 64 bits" },
	};
	char err[256];
	uint8_t *blob;
	size_t i, len;
	unsigned int bits;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		rsa_with_e(cases[i].e, cases[i].elen, cases[i].flip_n, &blob, &len);
		err[0] = '\0';
		assert_int_equal(nkhsm_sshkey_check(blob, len, &bits, err,
		    sizeof(err)), cases[i].want);
		assert_string_equal(err, cases[i].why);
		if (cases[i].want == 0)
			assert_int_equal(bits, 2048);
		free(blob);
	}
	blob = b64(RSA1024, &len);
	assert_int_equal(nkhsm_sshkey_check(blob, len, &bits, err, sizeof(err)),
	    NKHSM_ERR_WEAK_KEY);
	assert_string_equal(err, "RSA key of 1024 bits refused (at least 2048)");
	free(blob);
}

/* An EVP RSA key from n (the ssh-keygen key's) and e. */
static EVP_PKEY *
evp_rsa(unsigned long e)
{
	const uint8_t *v, *n;
	size_t vlen, nlen, olen;
	uint8_t *orig = b64(RSA2048, &olen);
	struct nk_buf in;
	OSSL_PARAM_BLD *bld;
	OSSL_PARAM *params;
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *pkey = NULL;
	BIGNUM *bn, *be;

	nk_buf_from(&in, orig, olen);
	assert_int_equal(nk_buf_get_string_direct(&in, &v, &vlen), 0);
	assert_int_equal(nk_buf_get_bignum2_bytes_direct(&in, &v, &vlen), 0);
	assert_int_equal(nk_buf_get_bignum2_bytes_direct(&in, &n, &nlen), 0);
	assert_non_null(bn = BN_bin2bn(n, (int)nlen, NULL));
	assert_non_null(be = BN_new());
	assert_true(BN_set_word(be, e));
	assert_non_null(bld = OSSL_PARAM_BLD_new());
	assert_true(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn));
	assert_true(OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, be));
	assert_non_null(params = OSSL_PARAM_BLD_to_param(bld));
	assert_non_null(ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL));
	assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
	assert_int_equal(EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY,
	    params), 1);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	BN_free(bn);
	BN_free(be);
	free(orig);
	return pkey;
}

static void
test_pkey(void **state)
{
	char err[256];
	EVP_PKEY *k;
	uint8_t *blob;
	size_t len;

	(void)state;
	k = evp_rsa(65537);
	assert_int_equal(nkhsm_pkey_check(k, err, sizeof(err)), 0);
	EVP_PKEY_free(k);
	k = evp_rsa(1);
	assert_int_equal(nkhsm_pkey_check(k, err, sizeof(err)),
	    NKHSM_ERR_WEAK_KEY);
	assert_string_equal(err, "public exponent 1");
	EVP_PKEY_free(k);
	k = evp_rsa(4);
	assert_int_equal(nkhsm_pkey_check(k, err, sizeof(err)),
	    NKHSM_ERR_WEAK_KEY);
	assert_string_equal(err, "even public exponent");
	EVP_PKEY_free(k);
	/* EC: P-384 good; a curve other than the NIST three unsupported. */
	blob = b64(P384, &len);
	assert_int_equal(nkhsm_pubkey_from_ssh_blob(blob, len, &k), 0);
	assert_int_equal(nkhsm_pkey_check(k, err, sizeof(err)), 0);
	EVP_PKEY_free(k);
	assert_int_equal(nkhsm_sshkey_check(blob, len, NULL, err, sizeof(err)),
	    0);
	blob[len - 1] ^= 1;	/* off the curve */
	assert_int_equal(nkhsm_sshkey_check(blob, len, NULL, err, sizeof(err)),
	    NKHSM_ERR_WEAK_KEY);
	assert_string_equal(err, "not a point on its curve");
	free(blob);
	assert_non_null(k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "secp256k1"));
	assert_int_equal(nkhsm_pkey_check(k, err, sizeof(err)),
	    NKHSM_ERR_UNSUPPORTED);
	EVP_PKEY_free(k);
	assert_non_null(k = EVP_PKEY_Q_keygen(NULL, NULL, "X25519"));
	assert_int_equal(nkhsm_pkey_check(k, err, sizeof(err)),
	    NKHSM_ERR_UNSUPPORTED);
	EVP_PKEY_free(k);
	assert_int_equal(nkhsm_pkey_check(NULL, err, sizeof(err)),
	    NKHSM_ERR_INVALID_ARGUMENT);
}

/* pam_nkhsm: types it does not use are skipped unless weak. */
static void
test_authfile_other_types(void **state)
{
	char err[512], *text = NULL;
	struct pnk_keys keys;

	(void)state;
	assert_true(asprintf(&text, "ssh-ed25519 %s a\nssh-rsa %s b\n"
	    "ecdsa-sha2-nistp384 %s c\n", good_ed[0], RSA2048, P384) > 0);
	assert_int_equal(pnk_keys_parse("af", text, strlen(text), &keys, err,
	    sizeof(err)), 0);
	assert_int_equal(keys.n, 1);
	assert_int_equal(keys.skipped, 2);
	pnk_keys_free(&keys);
	free(text);
	assert_true(asprintf(&text, "ecdsa-sha2-nistp384 %s c\n"
	    "ssh-rsa %s old\n", P384, RSA1024) > 0);
	assert_int_equal(pnk_keys_parse("af", text, strlen(text), &keys, err,
	    sizeof(err)), NKHSM_ERR_FORMAT);
	assert_string_equal(err, "af:2: invalid ssh-rsa key: RSA key of 1024 "
	    "bits refused (at least 2048)");
	free(text);
	/* A blob that does not decode as its type stays skipped, as before. */
	text = strdup("ssh-ed25519 AAAA c\n");
	assert_int_equal(pnk_keys_parse("af", text, strlen(text), &keys, err,
	    sizeof(err)), 0);
	assert_int_equal(keys.skipped, 1);
	pnk_keys_free(&keys);
	free(text);
}

/* nkhsm-sshca: one key per file, the line named. */
static void
test_pubkey_file(void **state)
{
	char err[512], *text = NULL;
	struct sc_pubkey pk;

	(void)state;
	assert_true(asprintf(&text, "# comment\n\nssh-ed25519 %s one\n\n",
	    good_ed[0]) > 0);
	assert_int_equal(sc_pubkey_file("k.pub", text, strlen(text), 0, &pk,
	    err, sizeof(err)), 0);
	assert_string_equal(pk.comment, "one");
	sc_pubkey_free(&pk);
	free(text);
	assert_true(asprintf(&text, "ssh-ed25519 %s one\r\n# x\nssh-ed25519 %s "
	    "two\n", good_ed[0], good_ed[1]) > 0);
	assert_int_equal(sc_pubkey_file("k.pub", text, strlen(text), 0, &pk,
	    err, sizeof(err)), NKHSM_ERR_FORMAT);
	assert_string_equal(err, "k.pub:3: a second public key (one key per "
	    "file; the first is on line 1)");
	assert_null(pk.blob);
	free(text);
	/* The same key twice is still two keys. */
	assert_true(asprintf(&text, "ssh-ed25519 %s\nssh-ed25519 %s\n",
	    good_ed[0], good_ed[0]) > 0);
	assert_int_equal(sc_pubkey_file("k.pub", text, strlen(text), 0, &pk,
	    err, sizeof(err)), NKHSM_ERR_FORMAT);
	assert_string_equal(err, "k.pub:2: a second public key (one key per "
	    "file; the first is on line 1)");
	free(text);
	assert_int_equal(sc_pubkey_file("k.pub", "\n# only\n", 8, 0, &pk,
	    err, sizeof(err)), NKHSM_ERR_FORMAT);
	assert_string_equal(err, "k.pub: not a public key line (the file has "
	    "none)");
	assert_true(asprintf(&text, "\nssh-rsa %s r\n", RSA1024) > 0);
	assert_int_equal(sc_pubkey_file("k.pub", text, strlen(text), 0, &pk,
	    err, sizeof(err)), NKHSM_ERR_WEAK_KEY);
	assert_string_equal(err, "k.pub:2: invalid ssh-rsa key: RSA key of "
	    "1024 bits refused (at least 2048)");
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ed25519_refused),
		cmocka_unit_test(test_ed25519_good),
		cmocka_unit_test(test_rsa),
		cmocka_unit_test(test_pkey),
		cmocka_unit_test(test_authfile_other_types),
		cmocka_unit_test(test_pubkey_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
