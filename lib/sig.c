/* SPDX-License-Identifier: BSD-2-Clause */
/* sig.c - ECDSA signature formats (DER, raw r||s, SSH) and verification */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>

#include "nk-int.h"
#include "buf.h"

/* Parse any format into r and s, big-endian, left-padded to the field size. */
static int
sig_decode(nkhsm_curve_t c, nkhsm_sigfmt_t fmt, const uint8_t *in,
    size_t inlen, uint8_t *r_, uint8_t *s_)
{
	size_t n = nkhsm_curve_bytes(c), tlen, blen, rlen, slen;
	const uint8_t *t, *blob, *rv, *sv, *p;
	const BIGNUM *br, *bs;
	ECDSA_SIG *esig = NULL;
	unsigned char *der = NULL;
	struct nk_buf b, sb;
	char type[32];
	int dlen, r = NKHSM_ERR_FORMAT;

	if (n == 0)
		return NKHSM_ERR_UNSUPPORTED;
	switch (fmt) {
	case NKHSM_SIG_RAW:
		if (inlen != 2 * n)
			return NKHSM_ERR_FORMAT;
		memcpy(r_, in, n);
		memcpy(s_, in + n, n);
		break;
	case NKHSM_SIG_DER:
		p = in;
		if (inlen > 2 * NK_MAX_FIELD + 16 ||
		    (esig = d2i_ECDSA_SIG(NULL, &p, (long)inlen)) == NULL ||
		    p != in + inlen)
			goto out;
		/* Only the canonical encoding: re-encode and compare. */
		if ((dlen = i2d_ECDSA_SIG(esig, &der)) < 0 ||
		    (size_t)dlen != inlen || memcmp(der, in, inlen) != 0)
			goto out;
		ECDSA_SIG_get0(esig, &br, &bs);
		if (BN_is_negative(br) || BN_is_negative(bs) ||
		    BN_bn2binpad(br, r_, (int)n) < 0 ||
		    BN_bn2binpad(bs, s_, (int)n) < 0)
			goto out;
		break;
	case NKHSM_SIG_SSH:
		snprintf(type, sizeof(type), "ecdsa-sha2-%s", nkhsm_curve_ssh_name(c));
		nk_buf_from(&b, in, inlen);
		if (nk_buf_get_string_direct(&b, &t, &tlen) != 0 ||
		    tlen != strlen(type) || memcmp(t, type, tlen) != 0 ||
		    nk_buf_get_string_direct(&b, &blob, &blen) != 0 ||
		    nk_buf_avail(&b) != 0)
			goto out;
		nk_buf_from(&sb, blob, blen);
		if (nk_buf_get_bignum2_bytes_direct(&sb, &rv, &rlen) != 0 ||
		    nk_buf_get_bignum2_bytes_direct(&sb, &sv, &slen) != 0 ||
		    nk_buf_avail(&sb) != 0 || rlen > n || slen > n)
			goto out;
		memset(r_, 0, n - rlen);
		memcpy(r_ + n - rlen, rv, rlen);
		memset(s_, 0, n - slen);
		memcpy(s_ + n - slen, sv, slen);
		break;
	default:
		return NKHSM_ERR_INVALID_ARGUMENT;
	}
	r = 0;
 out:
	ECDSA_SIG_free(esig);
	OPENSSL_free(der);
	return r;
}

static int
sig_encode(nkhsm_curve_t c, nkhsm_sigfmt_t fmt, const uint8_t *r_,
    const uint8_t *s_, uint8_t **outp, size_t *outlenp)
{
	size_t n = nkhsm_curve_bytes(c), len;
	BIGNUM *br = NULL, *bs = NULL;
	ECDSA_SIG *esig = NULL;
	unsigned char *der = NULL;
	struct nk_buf b, inner;
	uint8_t *out = NULL;
	char type[32];
	int dlen, r = NKHSM_ERR_CRYPTO;

	nk_buf_init(&b);
	nk_buf_init(&inner);
	switch (fmt) {
	case NKHSM_SIG_RAW:
		if ((out = malloc(2 * n)) == NULL) {
			r = NKHSM_ERR_NOMEM;
			goto out;
		}
		memcpy(out, r_, n);
		memcpy(out + n, s_, n);
		len = 2 * n;
		break;
	case NKHSM_SIG_DER:
		if ((br = BN_bin2bn(r_, (int)n, NULL)) == NULL ||
		    (bs = BN_bin2bn(s_, (int)n, NULL)) == NULL ||
		    (esig = ECDSA_SIG_new()) == NULL ||
		    !ECDSA_SIG_set0(esig, br, bs))
			goto out;
		br = bs = NULL;
		if ((dlen = i2d_ECDSA_SIG(esig, &der)) <= 0)
			goto out;
		if ((out = malloc((size_t)dlen)) == NULL) {
			r = NKHSM_ERR_NOMEM;
			goto out;
		}
		memcpy(out, der, (size_t)dlen);
		len = (size_t)dlen;
		break;
	case NKHSM_SIG_SSH:
		snprintf(type, sizeof(type), "ecdsa-sha2-%s", nkhsm_curve_ssh_name(c));
		if ((r = nk_buf_put_bignum2_bytes(&inner, r_, n)) != 0 ||
		    (r = nk_buf_put_bignum2_bytes(&inner, s_, n)) != 0 ||
		    (r = nk_buf_put_cstring(&b, type)) != 0 ||
		    (r = nk_buf_put_string(&b, nk_buf_ptr(&inner),
		    nk_buf_avail(&inner))) != 0 ||
		    (r = nk_buf_steal(&b, &out, &len)) != 0)
			goto out;
		break;
	default:
		r = NKHSM_ERR_INVALID_ARGUMENT;
		goto out;
	}
	*outp = out;
	*outlenp = len;
	out = NULL;
	r = 0;
 out:
	BN_free(br);
	BN_free(bs);
	ECDSA_SIG_free(esig);
	OPENSSL_free(der);
	free(out);
	nk_buf_free(&b);
	nk_buf_free(&inner);
	return r;
}

int
nkhsm_sig_convert(nkhsm_curve_t c, nkhsm_sigfmt_t from, const uint8_t *in,
    size_t inlen, nkhsm_sigfmt_t to, uint8_t **outp, size_t *outlenp)
{
	uint8_t rv[NK_MAX_FIELD], sv[NK_MAX_FIELD];
	int r;

	*outp = NULL;
	*outlenp = 0;
	if (in == NULL)
		return NKHSM_ERR_INVALID_ARGUMENT;
	if ((r = sig_decode(c, from, in, inlen, rv, sv)) != 0)
		return r;
	return sig_encode(c, to, rv, sv, outp, outlenp);
}

int
nkhsm_verify(const EVP_PKEY *pub, const uint8_t *msg, size_t len,
    nkhsm_sigfmt_t fmt, const uint8_t *sig, size_t siglen)
{
	EVP_MD_CTX *md = NULL;
	uint8_t *der = NULL;
	size_t derlen = 0;
	nkhsm_curve_t c;
	int r, v;

	if (pub == NULL || msg == NULL || sig == NULL)
		return NKHSM_ERR_INVALID_ARGUMENT;
	if (len > NKHSM_MSG_MAX)
		return NKHSM_ERR_TOO_LARGE;
	if ((r = nkhsm_curve_of_pkey(pub, &c)) != 0)
		return r;
	if ((r = nkhsm_sig_convert(c, fmt, sig, siglen, NKHSM_SIG_DER,
	    &der, &derlen)) != 0) {
		r = r == NKHSM_ERR_FORMAT ? NKHSM_ERR_SIGNATURE : r;
		goto out;
	}
	if ((md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit(md, NULL, nkhsm_curve_md(c), NULL,
	    (EVP_PKEY *)pub) != 1) {
		r = NKHSM_ERR_CRYPTO;
		goto out;
	}
	v = EVP_DigestVerify(md, der, derlen, msg, len);
	r = v == 1 ? 0 : NKHSM_ERR_SIGNATURE;
 out:
	EVP_MD_CTX_free(md);
	free(der);
	return r;
}
