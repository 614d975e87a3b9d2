/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * keycheck.c - the public keys no one should certify or accept, in one
 * place for every reader: nkhsm-sshca's subject keys (OpenSSH lines, PEM,
 * certificate requests) and pam_nkhsm's authorized keys and CA-issued
 * certificates.
 *
 *  - EC: a named NIST curve and a point on it.
 *  - Ed25519: the encoding canonical (y < p) and the point not of small
 *    order. OpenSSH accepts a constant forged signature for a key of small
 *    order, so a certificate for one works for anyone who has seen it. The
 *    points of order 1, 2, 4 and 8 have y in {1, p-1, 0, c, p-c}, whatever
 *    the sign of x; tests/unit/ed25519_torsion.py derives them.
 *  - RSA: 2048 to 16384 bits, an odd modulus, an odd public exponent of
 *    at least 3 and at most 64 bits.
 *
 * The login path calls nkhsm_sshkey_check, so it uses no EVP provider
 * machinery (see ecraw.c): plain BIGNUM arithmetic for Ed25519.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/objects.h>

#include "nk-int.h"
#include "buf.h"

#define ED25519_LEN		32
#define RSA_E_MAX_BYTES		8

/* 2^255 - 19, and d = -121665/121666 mod p, big-endian hex. */
#define ED25519_P "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffed"
#define ED25519_D "52036cee2b6ffe738cc740797779e89800700a4d4141d8ab75eb4dca135978a3"

/* y of every point of small order; both signs of x share it. */
static const struct {
	const char	*y;
	unsigned int	 order;
} small_order[] = {
	{ "1", 1 },		/* the identity (0, 1) */
	{ "7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffec", 2 },
	{ "0", 4 },		/* (+-sqrt(-1), 0) */
	{ "7a03ac9277fdc74ec6cc392cfa53202a0f67100d760b3cba4fd84d3d706a17c7", 8 },
	{ "05fc536d880238b13933c6d305acdfd5f098eff289f4c345b027b2c28f95e826", 8 },
};

/* The order of a small-order y (0 if it is none of them). */
static int
ed25519_small_order(const BIGNUM *y, unsigned int *orderp)
{
	BIGNUM *t = NULL;
	size_t i;

	*orderp = 0;
	for (i = 0; i < sizeof(small_order) / sizeof(small_order[0]); i++) {
		if (BN_hex2bn(&t, small_order[i].y) == 0) {
			BN_free(t);
			return NKHSM_ERR_CRYPTO;
		}
		if (BN_cmp(y, t) == 0) {
			*orderp = small_order[i].order;
			break;
		}
	}
	BN_free(t);
	return 0;
}

/* 1 when (y^2 - 1) / (d y^2 + 1) is a square mod p: y is on the curve. */
static int
ed25519_on_curve(const BIGNUM *y, const BIGNUM *p, BN_CTX *ctx, int *onp)
{
	BIGNUM *d, *y2, *u, *v;
	int ok, k = -2;

	*onp = 0;
	BN_CTX_start(ctx);
	d = BN_CTX_get(ctx);
	y2 = BN_CTX_get(ctx);
	u = BN_CTX_get(ctx);
	v = BN_CTX_get(ctx);
	/*
	 * u * v is a square exactly when u / v is (v is never 0); the
	 * Jacobi symbol says so without an exponentiation.
	 */
	ok = v != NULL && BN_hex2bn(&d, ED25519_D) != 0 &&
	    BN_mod_sqr(y2, y, p, ctx) && BN_mod_sub(u, y2, BN_value_one(), p,
	    ctx) && BN_mod_mul(v, d, y2, p, ctx) &&
	    BN_mod_add(v, v, BN_value_one(), p, ctx) &&
	    BN_mod_mul(u, u, v, p, ctx) && (k = BN_kronecker(u, p, ctx)) != -2;
	if (ok)
		*onp = k == 0 || k == 1;
	BN_CTX_end(ctx);
	return ok ? 0 : NKHSM_ERR_CRYPTO;
}

int
nkhsm_ed25519_check(const uint8_t *pub, size_t len, char *errbuf,
    size_t errlen)
{
	uint8_t le[ED25519_LEN];
	BN_CTX *ctx = NULL;
	BIGNUM *y = NULL, *p = NULL;
	unsigned int order = 0;
	int on = 0, r = NKHSM_ERR_CRYPTO;

	if (pub == NULL || len != ED25519_LEN) {
		nk_errf(errbuf, errlen, "%zu bytes, not %d", len,
		    ED25519_LEN);
		return NKHSM_ERR_FORMAT;
	}
	/* Little-endian y; the top bit is the sign of x. */
	memcpy(le, pub, sizeof(le));
	le[ED25519_LEN - 1] &= 0x7f;
	if ((ctx = BN_CTX_new()) == NULL ||
	    (y = BN_lebin2bn(le, sizeof(le), NULL)) == NULL ||
	    BN_hex2bn(&p, ED25519_P) == 0)
		goto out;
	r = NKHSM_ERR_WEAK_KEY;
	if (BN_cmp(y, p) >= 0) {
		nk_errf(errbuf, errlen, "not canonically encoded (y >= p)");
		goto out;
	}
	if ((r = ed25519_small_order(y, &order)) != 0)
		goto out;
	if (order != 0) {
		nk_errf(errbuf, errlen, "a point of small order (order %u): a "
		    "constant signature verifies for it", order);
		r = NKHSM_ERR_WEAK_KEY;
		goto out;
	}
	if ((r = ed25519_on_curve(y, p, ctx, &on)) != 0)
		goto out;
	if (!on) {
		nk_errf(errbuf, errlen, "not a point on the curve");
		r = NKHSM_ERR_WEAK_KEY;
		goto out;
	}
	r = 0;
 out:
	BN_free(y);
	BN_free(p);
	BN_CTX_free(ctx);
	return r;
}

/* Bits of a big-endian magnitude without leading zeros. */
static unsigned int
mag_bits(const uint8_t *v, size_t len)
{
	unsigned int bits;
	uint8_t top;

	if (len == 0)
		return 0;
	bits = (unsigned int)(len * 8);
	for (top = v[0]; (top & 0x80) == 0 && bits > 0; top <<= 1)
		bits--;
	return bits;
}

/* e and n as big-endian magnitudes without leading zeros. */
static int
rsa_check(const uint8_t *e, size_t elen, const uint8_t *n, size_t nlen,
    unsigned int *bitsp, char *errbuf, size_t errlen)
{
	unsigned int bits = mag_bits(n, nlen);

	*bitsp = bits;
	if (elen == 0 || nlen == 0) {
		nk_errf(errbuf, errlen, "no public exponent or no modulus");
		return NKHSM_ERR_FORMAT;
	}
	if (elen > RSA_E_MAX_BYTES) {
		nk_errf(errbuf, errlen, "public exponent over %d bits",
		    RSA_E_MAX_BYTES * 8);
		return NKHSM_ERR_UNSUPPORTED;
	}
	if ((e[elen - 1] & 1) == 0) {
		nk_errf(errbuf, errlen, "even public exponent");
		return NKHSM_ERR_WEAK_KEY;
	}
	if (elen == 1 && e[0] == 1) {
		nk_errf(errbuf, errlen, "public exponent 1");
		return NKHSM_ERR_WEAK_KEY;
	}
	if ((n[nlen - 1] & 1) == 0) {
		nk_errf(errbuf, errlen, "even modulus");
		return NKHSM_ERR_WEAK_KEY;
	}
	if (bits > NKHSM_RSA_MAX_BITS) {
		nk_errf(errbuf, errlen, "RSA key of %u bits refused (at most %d)",
		    bits, NKHSM_RSA_MAX_BITS);
		return NKHSM_ERR_UNSUPPORTED;
	}
	if (bits < NKHSM_RSA_MIN_BITS) {
		nk_errf(errbuf, errlen, "RSA key of %u bits refused (at least "
		    "%d)", bits, NKHSM_RSA_MIN_BITS);
		return NKHSM_ERR_WEAK_KEY;
	}
	return 0;
}

/* A shape-checked point: on its curve, else a key no one should accept. */
static int
ec_check(const nkhsm_point_t *pt, unsigned int *bitsp, char *errbuf,
    size_t errlen)
{
	int r;

	if ((r = nkhsm_point_check(pt)) != 0) {
		nk_errf(errbuf, errlen, "not a point on its curve");
		return r == NKHSM_ERR_FORMAT ? NKHSM_ERR_WEAK_KEY : r;
	}
	*bitsp = pt->curve == NKHSM_CURVE_P521 ? 521 :
	    (unsigned int)nkhsm_curve_bytes(pt->curve) * 8;
	return 0;
}

static int
type_is(const uint8_t *t, size_t tlen, const char *name)
{
	return tlen == strlen(name) && memcmp(t, name, tlen) == 0;
}

int
nkhsm_sshkey_check(const uint8_t *blob, size_t len, unsigned int *bitsp,
    char *errbuf, size_t errlen)
{
	const uint8_t *type, *v1, *v2;
	size_t tlen, l1, l2;
	unsigned int bits = 0;
	nkhsm_point_t pt;
	struct nk_buf b;
	int r;

	if (bitsp != NULL)
		*bitsp = 0;
	if (blob == NULL)
		return NKHSM_ERR_INVALID_ARGUMENT;
	nk_buf_from(&b, blob, len);
	if (nk_buf_get_string_direct(&b, &type, &tlen) != 0) {
		nk_errf(errbuf, errlen, "malformed encoding");
		return NKHSM_ERR_FORMAT;
	}
	if (type_is(type, tlen, "ssh-ed25519")) {
		if (nk_buf_get_string_direct(&b, &v1, &l1) != 0 ||
		    nk_buf_avail(&b) != 0 || l1 != ED25519_LEN) {
			nk_errf(errbuf, errlen, "malformed encoding");
			return NKHSM_ERR_FORMAT;
		}
		bits = 256;
		r = nkhsm_ed25519_check(v1, l1, errbuf, errlen);
	} else if (type_is(type, tlen, "ssh-rsa")) {
		/* mpint e, mpint n: positive and minimal */
		if (nk_buf_get_bignum2_bytes_direct(&b, &v1, &l1) != 0 ||
		    nk_buf_get_bignum2_bytes_direct(&b, &v2, &l2) != 0 ||
		    nk_buf_avail(&b) != 0) {
			nk_errf(errbuf, errlen, "malformed encoding");
			return NKHSM_ERR_FORMAT;
		}
		r = rsa_check(v1, l1, v2, l2, &bits, errbuf, errlen);
	} else if ((r = nkhsm_point_from_ssh_blob(blob, len, &pt)) == 0) {
		r = ec_check(&pt, &bits, errbuf, errlen);
	} else {
		nk_errf(errbuf, errlen, "%s", r == NKHSM_ERR_UNSUPPORTED ?
		    "unsupported key type" : "malformed encoding");
		return r;
	}
	if (r == 0 && bitsp != NULL)
		*bitsp = bits;
	return r;
}

/* RSA through EVP: the same rule on the key's e and n. */
static int
pkey_rsa_check(const EVP_PKEY *pub, char *errbuf, size_t errlen)
{
	uint8_t ebuf[RSA_E_MAX_BYTES], *nbuf = NULL;
	BIGNUM *e = NULL, *n = NULL;
	unsigned int bits = 0;
	int elen, nlen, r = NKHSM_ERR_CRYPTO;

	if (!EVP_PKEY_get_bn_param(pub, OSSL_PKEY_PARAM_RSA_E, &e) ||
	    !EVP_PKEY_get_bn_param(pub, OSSL_PKEY_PARAM_RSA_N, &n))
		goto out;
	if (BN_num_bytes(e) > (int)sizeof(ebuf)) {
		nk_errf(errbuf, errlen, "public exponent over %d bits",
		    RSA_E_MAX_BYTES * 8);
		r = NKHSM_ERR_UNSUPPORTED;
		goto out;
	}
	if (BN_num_bits(n) > NKHSM_RSA_MAX_BITS) {
		nk_errf(errbuf, errlen, "RSA key of %d bits refused (at most %d)",
		    BN_num_bits(n), NKHSM_RSA_MAX_BITS);
		r = NKHSM_ERR_UNSUPPORTED;
		goto out;
	}
	if ((nbuf = malloc((size_t)BN_num_bytes(n) + 1)) == NULL) {
		r = NKHSM_ERR_NOMEM;
		goto out;
	}
	if ((elen = BN_bn2bin(e, ebuf)) < 0 || (nlen = BN_bn2bin(n, nbuf)) < 0)
		goto out;
	r = rsa_check(ebuf, (size_t)elen, nbuf, (size_t)nlen, &bits, errbuf,
	    errlen);
 out:
	if (r == NKHSM_ERR_CRYPTO)
		nk_errf(errbuf, errlen, "cannot read the RSA key");
	free(nbuf);
	BN_free(e);
	BN_free(n);
	return r;
}

int
nkhsm_pkey_check(const EVP_PKEY *pub, char *errbuf, size_t errlen)
{
	uint8_t raw[ED25519_LEN];
	size_t rawlen = sizeof(raw);
	unsigned int bits = 0;
	nkhsm_point_t pt;
	int r;

	if (pub == NULL)
		return NKHSM_ERR_INVALID_ARGUMENT;
	switch (EVP_PKEY_get_base_id(pub)) {
	case EVP_PKEY_EC:
		if ((r = nkhsm_point_from_pkey(pub, &pt)) != 0) {
			nk_errf(errbuf, errlen, "EC keys must be on P-256, P-384 "
			    "or P-521");
			return r == NKHSM_ERR_UNSUPPORTED ? r : NKHSM_ERR_FORMAT;
		}
		return ec_check(&pt, &bits, errbuf, errlen);
	case EVP_PKEY_ED25519:
		if (!EVP_PKEY_get_raw_public_key(pub, raw, &rawlen)) {
			nk_errf(errbuf, errlen, "cannot read the Ed25519 key");
			return NKHSM_ERR_FORMAT;
		}
		return nkhsm_ed25519_check(raw, rawlen, errbuf, errlen);
	case EVP_PKEY_RSA:
		return pkey_rsa_check(pub, errbuf, errlen);
	default:
		nk_errf(errbuf, errlen, "unsupported key type %s (EC P-256, "
		    "P-384, P-521, Ed25519 or RSA)", OBJ_nid2sn(
		    EVP_PKEY_get_base_id(pub)));
		return NKHSM_ERR_UNSUPPORTED;
	}
}
