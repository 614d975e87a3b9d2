/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * evp.c - signing with a token key: the hash is computed on the host and
 * the token does raw CKM_ECDSA (right for SoftHSM, and for the Nitrokey
 * HSM, whose on-card hashing is slower and fails on long inputs).
 *
 * nkhsm_key_evp() wraps a token key in an EVP_PKEY so that OpenSSL's own
 * X509_sign/X509_CRL_sign/X509_REQ_sign can use it. OpenSSL 3.0 still
 * routes legacy EC keys with a custom EC_KEY_METHOD through that method;
 * this file is the only user of that (deprecated) interface.
 */
#define OPENSSL_SUPPRESS_DEPRECATED 1
#include "config.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "nk-int.h"

int
nkhsm_key_sign(nkhsm_key_t *key, const uint8_t *msg, size_t len,
    nkhsm_sigfmt_t fmt, uint8_t **sigp, size_t *siglenp)
{
	uint8_t dgst[NK_MAX_DIGEST], *raw = NULL;
	size_t dlen = 0, rawlen = 0;
	nkhsm_curve_t c;
	int r;

	*sigp = NULL;
	*siglenp = 0;
	if (key == NULL || (msg == NULL && len != 0))
		return NKHSM_ERR_INVALID_ARGUMENT;
	if (len > NKHSM_MSG_MAX)
		return NKHSM_ERR_TOO_LARGE;
	c = nkhsm_key_curve(key);
	if ((r = nk_digest(c, msg == NULL ? (const uint8_t *)"" : msg, len,
	    dgst, &dlen)) != 0 ||
	    (r = nkhsm_key_sign_digest(key, dgst, dlen, &raw, &rawlen)) != 0)
		goto out;
	if (fmt == NKHSM_SIG_RAW) {
		*sigp = raw;
		*siglenp = rawlen;
		raw = NULL;
	} else if ((r = nkhsm_sig_convert(c, NKHSM_SIG_RAW, raw, rawlen, fmt,
	    sigp, siglenp)) != 0)
		goto out;
	r = 0;
 out:
	free(raw);
	nk_wipe(dgst, sizeof(dgst));
	return r;
}

static pthread_once_t once = PTHREAD_ONCE_INIT;
static EC_KEY_METHOD *method;
static int exidx = -1;

static ECDSA_SIG *
bridge_sign_sig(const unsigned char *dgst, int dlen, const BIGNUM *kinv,
    const BIGNUM *rp, EC_KEY *ec)
{
	nkhsm_key_t *key = EC_KEY_get_ex_data(ec, exidx);
	uint8_t *raw = NULL;
	size_t rawlen = 0, n;
	BIGNUM *r = NULL, *s = NULL;
	ECDSA_SIG *sig = NULL;

	if (key == NULL || dlen <= 0 ||
	    nkhsm_key_sign_digest(key, dgst, (size_t)dlen, &raw, &rawlen) != 0)
		return NULL;
	n = rawlen / 2;
	if ((r = BN_bin2bn(raw, (int)n, NULL)) == NULL ||
	    (s = BN_bin2bn(raw + n, (int)n, NULL)) == NULL ||
	    (sig = ECDSA_SIG_new()) == NULL || !ECDSA_SIG_set0(sig, r, s)) {
		BN_free(r);
		BN_free(s);
		ECDSA_SIG_free(sig);
		sig = NULL;
	}
	free(raw);
	return sig;
}

static int
bridge_sign(int type, const unsigned char *dgst, int dlen, unsigned char *out,
    unsigned int *outlen, const BIGNUM *kinv, const BIGNUM *rp, EC_KEY *ec)
{
	ECDSA_SIG *sig;
	int n;

	if ((sig = bridge_sign_sig(dgst, dlen, kinv, rp, ec)) == NULL)
		return 0;
	n = i2d_ECDSA_SIG(sig, &out);
	ECDSA_SIG_free(sig);
	if (n <= 0)
		return 0;
	*outlen = (unsigned int)n;
	return 1;
}

static int
bridge_sign_setup(EC_KEY *ec, BN_CTX *ctx, BIGNUM **kinvp, BIGNUM **rp)
{
	return 1;	/* the token draws its own nonce */
}

static void
bridge_init(void)
{
	EC_KEY_METHOD *m;

	if ((exidx = EC_KEY_get_ex_new_index(0, NULL, NULL, NULL, NULL)) < 0 ||
	    (m = EC_KEY_METHOD_new(EC_KEY_OpenSSL())) == NULL)
		return;
	EC_KEY_METHOD_set_sign(m, bridge_sign, bridge_sign_setup,
	    bridge_sign_sig);
	method = m;
}

int
nkhsm_key_evp(nkhsm_key_t *key, EVP_PKEY **pkeyp)
{
	const EVP_PKEY *pub;
	EC_KEY *ec = NULL;
	EVP_PKEY *pk = NULL;
	int r = NKHSM_ERR_CRYPTO;

	*pkeyp = NULL;
	if (key == NULL)
		return NKHSM_ERR_INVALID_ARGUMENT;
	if ((pub = nkhsm_key_pubkey(key)) == NULL)
		return NKHSM_ERR_NO_KEY;	/* no public key on the token */
	if (pthread_once(&once, bridge_init) != 0 || method == NULL)
		return NKHSM_ERR_CRYPTO;
	if ((ec = EVP_PKEY_get1_EC_KEY((EVP_PKEY *)pub)) == NULL)
		goto out;
	/* A copy of the public key with our method; no private scalar. */
	if (!EC_KEY_set_method(ec, method) ||
	    !EC_KEY_set_ex_data(ec, exidx, key) ||
	    (pk = EVP_PKEY_new()) == NULL ||
	    !EVP_PKEY_assign_EC_KEY(pk, ec))
		goto out;
	ec = NULL;
	*pkeyp = pk;
	pk = NULL;
	r = 0;
 out:
	EC_KEY_free(ec);
	EVP_PKEY_free(pk);
	return r;
}
