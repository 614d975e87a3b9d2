/* SPDX-License-Identifier: BSD-2-Clause */
/* curve.c - the three NIST curves, their hashes, OIDs and points */
#include "config.h"

#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/obj_mac.h>
#include <openssl/objects.h>
#include <openssl/param_build.h>

#include "nk-int.h"

static const uint8_t oid_p256[] = { 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07 };
static const uint8_t oid_p384[] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22 };
static const uint8_t oid_p521[] = { 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x23 };

static const struct curve {
	nkhsm_curve_t	 curve;
	const char	*name;		/* nkhsm's name */
	const char	*alias;		/* accepted too */
	const char	*ssh;		/* OpenSSH's name */
	const char	*group;		/* OpenSSL group name */
	int		 nid;
	size_t		 bytes;
	const uint8_t	*oid;
	size_t		 oidlen;
} curves[] = {
	{ NKHSM_CURVE_P256, "p256", "prime256v1", "nistp256", "P-256",
	    NID_X9_62_prime256v1, 32, oid_p256, sizeof(oid_p256) },
	{ NKHSM_CURVE_P384, "p384", "secp384r1", "nistp384", "P-384",
	    NID_secp384r1, 48, oid_p384, sizeof(oid_p384) },
	{ NKHSM_CURVE_P521, "p521", "secp521r1", "nistp521", "P-521",
	    NID_secp521r1, 66, oid_p521, sizeof(oid_p521) },
};

static const struct curve *
lookup(nkhsm_curve_t c)
{
	size_t i;

	for (i = 0; i < sizeof(curves) / sizeof(curves[0]); i++)
		if (curves[i].curve == c)
			return &curves[i];
	return NULL;
}

int
nkhsm_curve_from_name(const char *name, nkhsm_curve_t *curvep)
{
	size_t i;

	*curvep = NKHSM_CURVE_NONE;
	if (name == NULL)
		return NKHSM_ERR_INVALID_ARGUMENT;
	for (i = 0; i < sizeof(curves) / sizeof(curves[0]); i++) {
		if (strcasecmp(name, curves[i].name) == 0 ||
		    strcasecmp(name, curves[i].alias) == 0 ||
		    strcasecmp(name, curves[i].ssh) == 0 ||
		    strcasecmp(name, curves[i].group) == 0) {
			*curvep = curves[i].curve;
			return 0;
		}
	}
	return NKHSM_ERR_UNSUPPORTED;
}

const char *
nkhsm_curve_name(nkhsm_curve_t c)
{
	const struct curve *cv = lookup(c);

	return cv == NULL ? NULL : cv->name;
}

const char *
nkhsm_curve_ssh_name(nkhsm_curve_t c)
{
	const struct curve *cv = lookup(c);

	return cv == NULL ? NULL : cv->ssh;
}

int
nkhsm_curve_nid(nkhsm_curve_t c)
{
	const struct curve *cv = lookup(c);

	return cv == NULL ? NID_undef : cv->nid;
}

size_t
nkhsm_curve_bytes(nkhsm_curve_t c)
{
	const struct curve *cv = lookup(c);

	return cv == NULL ? 0 : cv->bytes;
}

const EVP_MD *
nkhsm_curve_md(nkhsm_curve_t c)
{
	switch (c) {
	case NKHSM_CURVE_P256:
		return EVP_sha256();
	case NKHSM_CURVE_P384:
		return EVP_sha384();
	case NKHSM_CURVE_P521:
		return EVP_sha512();
	default:
		return NULL;
	}
}

int
nkhsm_curve_of_pkey(const EVP_PKEY *pkey, nkhsm_curve_t *curvep)
{
	char group[64];
	size_t i, glen = 0;
	int nid;

	*curvep = NKHSM_CURVE_NONE;
	if (pkey == NULL)
		return NKHSM_ERR_INVALID_ARGUMENT;
	if (EVP_PKEY_get_base_id(pkey) != EVP_PKEY_EC)
		return NKHSM_ERR_UNSUPPORTED;
	if (!EVP_PKEY_get_utf8_string_param(pkey, OSSL_PKEY_PARAM_GROUP_NAME,
	    group, sizeof(group), &glen))
		return NKHSM_ERR_UNSUPPORTED;
	if ((nid = OBJ_sn2nid(group)) == NID_undef)
		nid = EC_curve_nist2nid(group);
	for (i = 0; i < sizeof(curves) / sizeof(curves[0]); i++) {
		if (curves[i].nid == nid) {
			*curvep = curves[i].curve;
			return 0;
		}
	}
	return NKHSM_ERR_UNSUPPORTED;
}

int
nk_ec_params_der(nkhsm_curve_t c, const uint8_t **derp, size_t *lenp)
{
	const struct curve *cv = lookup(c);

	*derp = NULL;
	*lenp = 0;
	if (cv == NULL)
		return NKHSM_ERR_UNSUPPORTED;
	*derp = cv->oid;
	*lenp = cv->oidlen;
	return 0;
}

int
nk_curve_from_params(const uint8_t *der, size_t len, nkhsm_curve_t *curvep)
{
	size_t i;

	*curvep = NKHSM_CURVE_NONE;
	for (i = 0; i < sizeof(curves) / sizeof(curves[0]); i++) {
		if (len == curves[i].oidlen &&
		    memcmp(der, curves[i].oid, len) == 0) {
			*curvep = curves[i].curve;
			return 0;
		}
	}
	return NKHSM_ERR_UNSUPPORTED;	/* explicit parameters, other curves */
}

int
nk_pkey_from_point(nkhsm_curve_t c, const uint8_t *pt, size_t len,
    EVP_PKEY **pkeyp)
{
	const struct curve *cv = lookup(c);
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_PKEY *pkey = NULL;
	int r = NKHSM_ERR_CRYPTO;

	*pkeyp = NULL;
	if (cv == NULL)
		return NKHSM_ERR_UNSUPPORTED;
	/* Uncompressed points only: that is what PKCS#11 and SSH carry. */
	if (len != 1 + 2 * cv->bytes || pt[0] != 0x04)
		return NKHSM_ERR_FORMAT;
	if ((bld = OSSL_PARAM_BLD_new()) == NULL ||
	    !OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
	    cv->group, 0) ||
	    !OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
	    pt, len) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) <= 0)
		goto out;
	if (EVP_PKEY_fromdata(ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) <= 0) {
		r = NKHSM_ERR_FORMAT;	/* not on the curve */
		goto out;
	}
	*pkeyp = pkey;
	pkey = NULL;
	r = 0;
 out:
	EVP_PKEY_free(pkey);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	return r;
}

/* Always the uncompressed form, whatever form the key was made with. */
int
nk_point_from_pkey(const EVP_PKEY *pkey, uint8_t *pt, size_t *lenp)
{
	nkhsm_curve_t c;
	BIGNUM *x = NULL, *y = NULL;
	size_t n;
	int r;

	if ((r = nkhsm_curve_of_pkey(pkey, &c)) != 0)
		return r;
	n = nkhsm_curve_bytes(c);
	if (*lenp < 1 + 2 * n)
		return NKHSM_ERR_INVALID_ARGUMENT;
	r = NKHSM_ERR_CRYPTO;
	if (!EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_X, &x) ||
	    !EVP_PKEY_get_bn_param(pkey, OSSL_PKEY_PARAM_EC_PUB_Y, &y))
		goto out;
	pt[0] = 0x04;
	if (BN_bn2binpad(x, pt + 1, (int)n) < 0 ||
	    BN_bn2binpad(y, pt + 1 + n, (int)n) < 0)
		goto out;
	*lenp = 1 + 2 * n;
	r = 0;
 out:
	BN_free(x);
	BN_free(y);
	return r;
}

int
nk_point_unwrap(const uint8_t *in, size_t len, const uint8_t **ptp,
    size_t *ptlenp)
{
	size_t l;

	*ptp = NULL;
	*ptlenp = 0;
	if (len < 2 || in[0] != 0x04)
		return NKHSM_ERR_FORMAT;
	if (in[1] < 0x80) {
		l = in[1];
		if (l == len - 2) {
			*ptp = in + 2;
			*ptlenp = l;
			return 0;
		}
	} else if (in[1] == 0x81 && len >= 3) {
		l = in[2];
		if (l >= 0x80 && l == len - 3) {
			*ptp = in + 3;
			*ptlenp = l;
			return 0;
		}
	}
	/* Some modules return the bare point. */
	if (len % 2 == 1 && len <= NK_MAX_POINT) {
		*ptp = in;
		*ptlenp = len;
		return 0;
	}
	return NKHSM_ERR_FORMAT;
}

int
nk_point_wrap(const uint8_t *pt, size_t len, uint8_t *out, size_t *outlenp)
{
	size_t hdr = len < 0x80 ? 2 : 3;

	if (len > 0xff || *outlenp < hdr + len)
		return NKHSM_ERR_INVALID_ARGUMENT;
	out[0] = 0x04;
	if (hdr == 2)
		out[1] = (uint8_t)len;
	else {
		out[1] = 0x81;
		out[2] = (uint8_t)len;
	}
	memcpy(out + hdr, pt, len);
	*outlenp = hdr + len;
	return 0;
}
