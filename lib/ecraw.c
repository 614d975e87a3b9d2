/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ecraw.c - EC public keys as raw points: parse, check, hash, verify.
 *
 * This is the verification path of a PAM login, which runs inside the
 * caller (login, su, sshd). OpenSSL 3's provider layer costs about five
 * million instructions the first time a process fetches any algorithm
 * (name maps, method stores), more than the verification itself. The
 * classic EC_KEY/ECDSA_do_verify and SHA-2 functions compute the same
 * thing without that start-up, so this one file uses them, as OpenSSH
 * does. They are deprecated in OpenSSL 3.0, not removed; everything else
 * in libnkhsm goes through EVP.
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/obj_mac.h>
#include <openssl/sha.h>

#include "nk-int.h"

/*
 * Making an EC_GROUP computes its Montgomery constants: about as much work
 * as checking a point. Each curve's group is made once per process and
 * shared read-only; the destructor frees them, so a PAM module that is
 * unloaded leaves nothing behind.
 */
static pthread_once_t once256 = PTHREAD_ONCE_INIT;
static pthread_once_t once384 = PTHREAD_ONCE_INIT;
static pthread_once_t once521 = PTHREAD_ONCE_INIT;
static EC_GROUP *g256, *g384, *g521;

static void
make256(void)
{
	g256 = EC_GROUP_new_by_curve_name(NID_X9_62_prime256v1);
}

static void
make384(void)
{
	g384 = EC_GROUP_new_by_curve_name(NID_secp384r1);
}

static void
make521(void)
{
	g521 = EC_GROUP_new_by_curve_name(NID_secp521r1);
}

static const EC_GROUP *
group_of(nkhsm_curve_t c)
{
	switch (c) {
	case NKHSM_CURVE_P256:
		return pthread_once(&once256, make256) == 0 ? g256 : NULL;
	case NKHSM_CURVE_P384:
		return pthread_once(&once384, make384) == 0 ? g384 : NULL;
	case NKHSM_CURVE_P521:
		return pthread_once(&once521, make521) == 0 ? g521 : NULL;
	default:
		return NULL;
	}
}

__attribute__((destructor)) static void
groups_free(void)
{
	EC_GROUP_free(g256);
	EC_GROUP_free(g384);
	EC_GROUP_free(g521);
	g256 = g384 = g521 = NULL;
}

struct nkhsm_ecverify {
	nkhsm_curve_t	 curve;
	EC_KEY		*key;
};

int
nk_sha2(unsigned int bits, const uint8_t *msg, size_t len, uint8_t *out,
    size_t *outlenp)
{
	SHA256_CTX c256;
	SHA512_CTX c512;
	int ok;

	*outlenp = 0;
	switch (bits) {
	case 256:
		ok = SHA256_Init(&c256) && SHA256_Update(&c256, msg, len) &&
		    SHA256_Final(out, &c256);
		nk_wipe(&c256, sizeof(c256));
		*outlenp = SHA256_DIGEST_LENGTH;
		break;
	case 384:
		ok = SHA384_Init(&c512) && SHA384_Update(&c512, msg, len) &&
		    SHA384_Final(out, &c512);
		nk_wipe(&c512, sizeof(c512));
		*outlenp = SHA384_DIGEST_LENGTH;
		break;
	case 512:
		ok = SHA512_Init(&c512) && SHA512_Update(&c512, msg, len) &&
		    SHA512_Final(out, &c512);
		nk_wipe(&c512, sizeof(c512));
		*outlenp = SHA512_DIGEST_LENGTH;
		break;
	default:
		return NKHSM_ERR_UNSUPPORTED;
	}
	if (!ok) {
		*outlenp = 0;
		return NKHSM_ERR_CRYPTO;
	}
	return 0;
}

int
nk_sha1(const uint8_t *msg, size_t len, uint8_t out[20])
{
	SHA_CTX c;
	int ok;

	ok = SHA1_Init(&c) && SHA1_Update(&c, msg, len) && SHA1_Final(out, &c);
	nk_wipe(&c, sizeof(c));
	return ok ? 0 : NKHSM_ERR_CRYPTO;
}

/* The hash that goes with each curve (FIPS 186-4 pairs, as OpenSSH). */
static unsigned int
curve_bits(nkhsm_curve_t c)
{
	switch (c) {
	case NKHSM_CURVE_P256:
		return 256;
	case NKHSM_CURVE_P384:
		return 384;
	case NKHSM_CURVE_P521:
		return 512;
	default:
		return 0;
	}
}

int
nk_digest(nkhsm_curve_t c, const uint8_t *msg, size_t len, uint8_t *out,
    size_t *outlenp)
{
	*outlenp = 0;
	if (curve_bits(c) == 0)
		return NKHSM_ERR_UNSUPPORTED;
	return nk_sha2(curve_bits(c), msg, len, out, outlenp);
}

/* Shape only: a known curve and an uncompressed point of its size. */
static int
point_shape(const nkhsm_point_t *p)
{
	size_t fb;

	if (p == NULL)
		return NKHSM_ERR_INVALID_ARGUMENT;
	if ((fb = nkhsm_curve_bytes(p->curve)) == 0)
		return NKHSM_ERR_UNSUPPORTED;
	if (p->len != 1 + 2 * fb || p->pt[0] != 0x04)
		return NKHSM_ERR_FORMAT;
	return 0;
}

/* An EC_KEY for a point; fails unless the point is on the curve. */
static int
point_eckey(const nkhsm_point_t *p, EC_KEY **kp)
{
	const EC_GROUP *g;
	EC_KEY *k;
	int r;

	*kp = NULL;
	if ((r = point_shape(p)) != 0)
		return r;
	if ((g = group_of(p->curve)) == NULL || (k = EC_KEY_new()) == NULL)
		return NKHSM_ERR_CRYPTO;
	if (EC_KEY_set_group(k, g) != 1) {
		EC_KEY_free(k);
		return NKHSM_ERR_CRYPTO;
	}
	/* oct2point refuses points off the curve; the cofactor is 1. */
	if (EC_KEY_oct2key(k, p->pt, p->len, NULL) != 1) {
		EC_KEY_free(k);
		return NKHSM_ERR_FORMAT;
	}
	*kp = k;
	return 0;
}

int
nkhsm_point_check(const nkhsm_point_t *p)
{
	const EC_GROUP *g;
	EC_POINT *pt = NULL;
	int r;

	if ((r = point_shape(p)) != 0)
		return r;
	if ((g = group_of(p->curve)) == NULL || (pt = EC_POINT_new(g)) == NULL)
		return NKHSM_ERR_CRYPTO;
	if (EC_POINT_oct2point(g, pt, p->pt, p->len, NULL) != 1 ||
	    EC_POINT_is_at_infinity(g, pt))
		r = NKHSM_ERR_FORMAT;
	EC_POINT_free(pt);
	return r;
}

int
nkhsm_ecverify_new(const nkhsm_point_t *pub, nkhsm_ecverify_t **vp)
{
	nkhsm_ecverify_t *v;
	int r;

	if (vp == NULL)
		return NKHSM_ERR_INVALID_ARGUMENT;
	*vp = NULL;
	if (pub == NULL)
		return NKHSM_ERR_INVALID_ARGUMENT;
	if ((v = calloc(1, sizeof(*v))) == NULL)
		return NKHSM_ERR_NOMEM;
	if ((r = point_eckey(pub, &v->key)) != 0) {
		free(v);
		return r;
	}
	v->curve = pub->curve;
	*vp = v;
	return 0;
}

void
nkhsm_ecverify_free(nkhsm_ecverify_t **vp)
{
	if (vp == NULL || *vp == NULL)
		return;
	EC_KEY_free((*vp)->key);
	free(*vp);
	*vp = NULL;
}

int
nkhsm_ecverify(const nkhsm_ecverify_t *v, const uint8_t *msg, size_t len,
    const uint8_t *sig, size_t siglen)
{
	uint8_t dgst[NK_MAX_DIGEST];
	size_t dlen = 0, fb;
	ECDSA_SIG *s = NULL;
	BIGNUM *br = NULL, *bs = NULL;
	int r;

	if (v == NULL || msg == NULL || sig == NULL)
		return NKHSM_ERR_INVALID_ARGUMENT;
	if (len > NKHSM_MSG_MAX)
		return NKHSM_ERR_TOO_LARGE;
	fb = nkhsm_curve_bytes(v->curve);
	if (siglen != 2 * fb)
		return NKHSM_ERR_SIGNATURE;
	if ((r = nk_digest(v->curve, msg, len, dgst, &dlen)) != 0)
		return r;
	if ((s = ECDSA_SIG_new()) == NULL ||
	    (br = BN_bin2bn(sig, (int)fb, NULL)) == NULL ||
	    (bs = BN_bin2bn(sig + fb, (int)fb, NULL)) == NULL ||
	    ECDSA_SIG_set0(s, br, bs) != 1) {
		BN_free(br);
		BN_free(bs);
		ECDSA_SIG_free(s);
		return NKHSM_ERR_CRYPTO;
	}
	/* r and s outside [1, n-1] verify as false. */
	r = ECDSA_do_verify(dgst, (int)dlen, s, v->key) == 1 ? 0 :
	    NKHSM_ERR_SIGNATURE;
	ECDSA_SIG_free(s);
	return r;
}

/*
 * A DER ECDSA-Sig-Value over a digest computed by the caller (a CRL's
 * signature names its own hash). Only the DER encoding is accepted: the
 * parsed value must encode back to the same bytes.
 */
int
nk_ecdsa_verify_digest(const nkhsm_point_t *pub, const uint8_t *dgst,
    size_t dlen, const uint8_t *der, size_t derlen)
{
	const unsigned char *p = der;
	unsigned char *re = NULL;
	ECDSA_SIG *s = NULL;
	EC_KEY *k = NULL;
	int relen, r;

	if (pub == NULL || dgst == NULL || der == NULL || dlen > NK_MAX_DIGEST ||
	    derlen > 2 * (NK_MAX_FIELD + 4) + 4)
		return NKHSM_ERR_INVALID_ARGUMENT;
	if ((r = point_eckey(pub, &k)) != 0)
		return r;
	r = NKHSM_ERR_SIGNATURE;
	if ((s = d2i_ECDSA_SIG(NULL, &p, (long)derlen)) == NULL ||
	    p != der + derlen || (relen = i2d_ECDSA_SIG(s, &re)) < 0 ||
	    (size_t)relen != derlen || memcmp(re, der, derlen) != 0)
		goto out;
	/* r and s outside [1, n-1] verify as false. */
	if (ECDSA_do_verify(dgst, (int)dlen, s, k) == 1)
		r = 0;
 out:
	OPENSSL_free(re);
	ECDSA_SIG_free(s);
	EC_KEY_free(k);
	return r;
}

int
nkhsm_verify_point(const nkhsm_point_t *pub, const uint8_t *msg, size_t len,
    const uint8_t *sig, size_t siglen)
{
	nkhsm_ecverify_t *v = NULL;
	int r;

	if (pub == NULL || msg == NULL || sig == NULL)
		return NKHSM_ERR_INVALID_ARGUMENT;
	if ((r = nkhsm_ecverify_new(pub, &v)) != 0)
		return r;
	r = nkhsm_ecverify(v, msg, len, sig, siglen);
	nkhsm_ecverify_free(&v);
	return r;
}
