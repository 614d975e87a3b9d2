/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sc-pubkey.c - the public key in a SmartCard-HSM key's file CE xx.
 *
 * At key generation the card writes there an authenticated CV request
 * (BSI TR-03110): 67 { 7F21 { 7F4E body, 5F37 sig }, 42 outer CAR, 5F37 }.
 * The body's public key 7F49 carries the curve's domain parameters, of
 * which the prime (81) names the curve, and the point (86). OpenSC replaces
 * the file with the key's X.509 certificate (30 ...) when one is stored for
 * the key; the point then comes from its SubjectPublicKeyInfo. Nothing here
 * is trusted: the point found is compared with an authorized key, and the
 * signature is verified against that key, never against this file.
 */
#include "config.h"

#include <string.h>

#include "nk-int.h"
#include "schsm.h"

#define TAG_AUTHREQ	0x67
#define TAG_CVC		0x7F21
#define TAG_BODY	0x7F4E
#define TAG_PUBKEY	0x7F49
#define TAG_PRIME	0x81
#define TAG_POINT	0x86
#define TAG_SEQ		0x30
#define TAG_CTX0	0xA0
#define TAG_INT		0x02
#define TAG_OID		0x06
#define TAG_BITSTR	0x03

static const uint8_t prime_p256[] = {
	0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
};
static const uint8_t prime_p384[] = {
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xff, 0xff, 0xff, 0xff,
	0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0xff,
};
static const uint8_t prime_p521[] = {
	0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
	0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
};
static const struct {
	nkhsm_curve_t	 curve;
	const uint8_t	*p;
	size_t		 len;
} primes[] = {
	{ NKHSM_CURVE_P256, prime_p256, sizeof(prime_p256) },
	{ NKHSM_CURVE_P384, prime_p384, sizeof(prime_p384) },
	{ NKHSM_CURVE_P521, prime_p521, sizeof(prime_p521) },
};
/* id-ecPublicKey, 1.2.840.10045.2.1 */
static const uint8_t oid_ecpub[] = { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01 };

/* The uncompressed point of a known curve, into pt. */
static int
set_point(nkhsm_curve_t curve, const uint8_t *p, size_t len,
    nkhsm_point_t *pt)
{
	if (len != 1 + 2 * nkhsm_curve_bytes(curve) || p[0] != 0x04 ||
	    len > sizeof(pt->pt))
		return NKHSM_ERR_FORMAT;
	pt->curve = curve;
	pt->len = len;
	memcpy(pt->pt, p, len);
	return 0;
}

/* 7F49: the prime names the curve; RSA keys (no point) are unsupported. */
static int
cv_pubkey(const uint8_t *d, size_t len, nkhsm_point_t *pt)
{
	const uint8_t *p, *q;
	size_t plen, qlen, i;
	int r;

	if ((r = nk_tlv_find(d, len, TAG_POINT, &q, &qlen)) != 0)
		return r == NKHSM_ERR_NO_KEY ? NKHSM_ERR_UNSUPPORTED : r;
	if ((r = nk_tlv_find(d, len, TAG_PRIME, &p, &plen)) != 0)
		return r == NKHSM_ERR_NO_KEY ? NKHSM_ERR_UNSUPPORTED : r;
	for (i = 0; i < sizeof(primes) / sizeof(primes[0]); i++)
		if (plen == primes[i].len && memcmp(p, primes[i].p, plen) == 0)
			return set_point(primes[i].curve, q, qlen, pt);
	return NKHSM_ERR_UNSUPPORTED;	/* brainpool, secp256k1, ... */
}

/* The inside of a CV certificate or request, 7F21. */
static int
cvc(const uint8_t *d, size_t len, nkhsm_point_t *pt)
{
	const uint8_t *body, *pk;
	size_t blen, pklen;
	int r;

	if ((r = nk_tlv_find(d, len, TAG_BODY, &body, &blen)) != 0 ||
	    (r = nk_tlv_find(body, blen, TAG_PUBKEY, &pk, &pklen)) != 0)
		return NKHSM_ERR_FORMAT;
	return cv_pubkey(pk, pklen, pt);
}

/* The next element of b, which must have this tag. */
static int
expect(struct nk_buf *b, uint32_t tag, const uint8_t **vp, size_t *lenp)
{
	uint32_t t;
	int r;

	if ((r = nk_tlv_get(b, &t, vp, lenp)) != 0)
		return r;
	return t == tag ? 0 : NKHSM_ERR_FORMAT;
}

/* SubjectPublicKeyInfo { { id-ecPublicKey, namedCurve }, BIT STRING }. */
static int
spki(const uint8_t *d, size_t len, nkhsm_point_t *pt)
{
	uint8_t oid[2 + 32];
	const uint8_t *alg, *v, *bits;
	size_t alen, vlen, blen;
	nkhsm_curve_t curve;
	struct nk_buf b, a;
	int r;

	nk_buf_from(&b, d, len);
	if ((r = expect(&b, TAG_SEQ, &alg, &alen)) != 0 ||
	    (r = expect(&b, TAG_BITSTR, &bits, &blen)) != 0 ||
	    nk_buf_avail(&b) != 0)
		return NKHSM_ERR_FORMAT;
	nk_buf_from(&a, alg, alen);
	if ((r = expect(&a, TAG_OID, &v, &vlen)) != 0)
		return r;
	if (vlen != sizeof(oid_ecpub) || memcmp(v, oid_ecpub, vlen) != 0)
		return NKHSM_ERR_UNSUPPORTED;	/* RSA and others */
	if ((r = expect(&a, TAG_OID, &v, &vlen)) != 0 || nk_buf_avail(&a) != 0)
		return NKHSM_ERR_UNSUPPORTED;	/* explicit parameters */
	if (vlen > sizeof(oid) - 2)
		return NKHSM_ERR_UNSUPPORTED;
	oid[0] = TAG_OID;
	oid[1] = (uint8_t)vlen;
	memcpy(oid + 2, v, vlen);
	if ((r = nk_curve_from_params(oid, vlen + 2, &curve)) != 0)
		return r;
	/* No unused bits, then the point. */
	if (blen < 1 || bits[0] != 0)
		return NKHSM_ERR_FORMAT;
	return set_point(curve, bits + 1, blen - 1, pt);
}

/* Certificate { TBSCertificate { [0] version, serial, sig, issuer,
 * validity, subject, spki, ... }, sigalg, signature }. */
static int
x509(const uint8_t *d, size_t len, nkhsm_point_t *pt)
{
	const uint8_t *tbs, *v;
	size_t tlen, vlen;
	struct nk_buf b;
	uint32_t tag;
	int i, r;

	nk_buf_from(&b, d, len);
	if ((r = expect(&b, TAG_SEQ, &v, &vlen)) != 0)
		return r;
	nk_buf_from(&b, v, vlen);
	if ((r = expect(&b, TAG_SEQ, &tbs, &tlen)) != 0)
		return r;
	nk_buf_from(&b, tbs, tlen);
	if ((r = nk_tlv_get(&b, &tag, &v, &vlen)) != 0)
		return r;
	if (tag == TAG_CTX0 && (r = nk_tlv_get(&b, &tag, &v, &vlen)) != 0)
		return r;
	if (tag != TAG_INT)
		return NKHSM_ERR_FORMAT;
	/* signature, issuer, validity, subject */
	for (i = 0; i < 4; i++)
		if ((r = expect(&b, TAG_SEQ, &v, &vlen)) != 0)
			return r;
	if ((r = expect(&b, TAG_SEQ, &v, &vlen)) != 0)
		return r;
	return spki(v, vlen, pt);
}

int
nk_sc_pubkey_parse(const uint8_t *d, size_t len, nkhsm_point_t *pt,
    enum nk_sc_pkfile *kindp)
{
	const uint8_t *v, *inner;
	size_t vlen, ilen;
	struct nk_buf b;
	uint32_t tag;
	nkhsm_point_t p;
	enum nk_sc_pkfile kind;
	int r;

	memset(pt, 0, sizeof(*pt));
	*kindp = 0;
	memset(&p, 0, sizeof(p));
	nk_buf_from(&b, d, len);
	if ((r = nk_tlv_get(&b, &tag, &v, &vlen)) != 0)
		return r;
	if (nk_buf_avail(&b) != 0)
		return NKHSM_ERR_FORMAT;	/* one object, nothing after it */
	switch (tag) {
	case TAG_AUTHREQ:
		kind = NK_SC_PK_REQUEST;
		nk_buf_from(&b, v, vlen);
		if ((r = expect(&b, TAG_CVC, &inner, &ilen)) != 0)
			return r;
		r = cvc(inner, ilen, &p);
		break;
	case TAG_CVC:
		kind = NK_SC_PK_CVC;
		r = cvc(v, vlen, &p);
		break;
	case TAG_SEQ:
		kind = NK_SC_PK_X509;
		r = x509(d, len, &p);
		break;
	default:
		return NKHSM_ERR_FORMAT;
	}
	if (r != 0)
		return r;
	*pt = p;
	*kindp = kind;
	return 0;
}
