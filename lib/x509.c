/* SPDX-License-Identifier: BSD-2-Clause */
/* x509.c - self-signed certificates and certificate requests made by a token key */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "nk-int.h"

#define DN_MAX		1024
#define DAYS_MAX	(100 * 366)

/*
 * "CN=a,O=b" (RFC 4514 order as written) or "/CN=a/O=b" (OpenSSL's form).
 * A backslash escapes the next character. Unknown attribute types, empty
 * values and control characters are errors.
 */
int
nkhsm_name_parse(const char *dn, X509_NAME **namep)
{
	char buf[DN_MAX], *type, *val, *o;
	const char *p;
	char sep;
	X509_NAME *name = NULL;
	int r = NKHSM_ERR_FORMAT, done = 0;

	*namep = NULL;
	if (dn == NULL || *dn == '\0')
		return NKHSM_ERR_FORMAT;
	if (strlen(dn) >= sizeof(buf))
		return NKHSM_ERR_TOO_LARGE;
	/* No control characters, escaped or not: they would reach logs and UIs. */
	for (p = dn; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return NKHSM_ERR_FORMAT;
	if ((name = X509_NAME_new()) == NULL)
		return NKHSM_ERR_NOMEM;
	sep = *dn == '/' ? '/' : ',';
	p = *dn == '/' ? dn + 1 : dn;
	while (!done) {
		/* Copy one RDN, unescaping, into buf. */
		o = buf;
		val = NULL;
		while (*p != '\0' && *p != sep) {
			if (*p == '\\') {
				if (p[1] == '\0')
					goto out;
				p++;
			} else if (*p == '=' && val == NULL) {
				*o++ = '\0';
				val = o;
				p++;
				continue;
			}
			*o++ = *p++;
		}
		*o = '\0';
		done = *p == '\0';
		if (!done)
			p++;
		type = buf;
		while (*type == ' ')
			type++;
		if (val == NULL || *type == '\0' || *val == '\0')
			goto out;
		if (OBJ_txt2nid(type) == NID_undef)
			goto out;
		if (!X509_NAME_add_entry_by_txt(name, type, MBSTRING_UTF8,
		    (const unsigned char *)val, -1, -1, 0))
			goto out;
	}
	*namep = name;
	name = NULL;
	r = 0;
 out:
	X509_NAME_free(name);
	return r;
}

/* RFC 7093 method 1: the leftmost 160 bits of SHA-256 of the key bits. */
static int
key_identifier(X509 *x, ASN1_OCTET_STRING **ski)
{
	const ASN1_BIT_STRING *bits;
	X509_PUBKEY *xpk;
	uint8_t md[32];
	unsigned int mdlen = 0;
	const unsigned char *pk;
	int pklen;

	*ski = NULL;
	if ((xpk = X509_get_X509_PUBKEY(x)) == NULL ||
	    !X509_PUBKEY_get0_param(NULL, &pk, &pklen, NULL, xpk))
		return NKHSM_ERR_CRYPTO;
	(void)bits;
	if (!EVP_Digest(pk, (size_t)pklen, md, &mdlen, EVP_sha256(), NULL))
		return NKHSM_ERR_CRYPTO;
	if ((*ski = ASN1_OCTET_STRING_new()) == NULL ||
	    !ASN1_OCTET_STRING_set(*ski, md, 20)) {
		ASN1_OCTET_STRING_free(*ski);
		*ski = NULL;
		return NKHSM_ERR_CRYPTO;
	}
	return 0;
}

static int
add_ext(X509 *x, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, x, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value)) == NULL)
		return NKHSM_ERR_CRYPTO;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : NKHSM_ERR_CRYPTO;
}

/* At least 64 random bits, positive, never zero: 127 bits here. */
static int
random_serial(X509 *x)
{
	uint8_t b[16];
	BIGNUM *bn = NULL;
	int r = NKHSM_ERR_CRYPTO;

	do {
		if (RAND_bytes(b, sizeof(b)) != 1)
			return NKHSM_ERR_CRYPTO;
		b[0] &= 0x7f;
	} while (b[0] == 0 && b[1] == 0);
	if ((bn = BN_bin2bn(b, sizeof(b), NULL)) != NULL &&
	    BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) != NULL)
		r = 0;
	BN_free(bn);
	return r;
}

int
nkhsm_selfsign(nkhsm_key_t *key, const char *subject, unsigned int days,
    unsigned int flags, X509 **certp)
{
	X509 *x = NULL;
	X509_NAME *name = NULL;
	EVP_PKEY *pub, *signer = NULL;
	ASN1_OCTET_STRING *ski = NULL;
	AUTHORITY_KEYID *akid = NULL;
	int r, ca = (flags & NKHSM_SELFSIGN_CA) != 0;

	*certp = NULL;
	if (key == NULL || subject == NULL || days == 0 || days > DAYS_MAX)
		return NKHSM_ERR_INVALID_ARGUMENT;
	if ((pub = nkhsm_key_pubkey(key)) == NULL)
		return NKHSM_ERR_NO_KEY;
	if ((r = nkhsm_name_parse(subject, &name)) != 0)
		return r;
	r = NKHSM_ERR_CRYPTO;
	if ((x = X509_new()) == NULL ||
	    !X509_set_version(x, X509_VERSION_3) ||
	    random_serial(x) != 0 ||
	    !X509_set_subject_name(x, name) ||
	    !X509_set_issuer_name(x, name) ||
	    X509_gmtime_adj(X509_getm_notBefore(x), 0) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), (int)days, 0, NULL) == NULL ||
	    !X509_set_pubkey(x, pub))
		goto out;
	if (ca) {
		if ((r = add_ext(x, NID_basic_constraints, "critical,CA:TRUE")) != 0 ||
		    (r = add_ext(x, NID_key_usage,
		    "critical,digitalSignature,keyCertSign,cRLSign")) != 0)
			goto out;
	} else {
		if ((r = add_ext(x, NID_basic_constraints, "critical,CA:FALSE")) != 0 ||
		    (r = add_ext(x, NID_key_usage, "critical,digitalSignature")) != 0 ||
		    (r = add_ext(x, NID_ext_key_usage, "clientAuth")) != 0)
			goto out;
	}
	r = NKHSM_ERR_CRYPTO;
	if (key_identifier(x, &ski) != 0 ||
	    !X509_add1_ext_i2d(x, NID_subject_key_identifier, ski, 0, 0) ||
	    (akid = AUTHORITY_KEYID_new()) == NULL)
		goto out;
	akid->keyid = ski;
	ski = NULL;
	if (!X509_add1_ext_i2d(x, NID_authority_key_identifier, akid, 0, 0))
		goto out;
	if ((r = nkhsm_key_evp(key, &signer)) != 0)
		goto out;
	if (X509_sign(x, signer, (EVP_MD *)nkhsm_curve_md(nkhsm_key_curve(key))) <= 0) {
		r = NKHSM_ERR_MODULE;
		goto out;
	}
	/* Check the token's work in software before handing it out. */
	if (X509_verify(x, pub) != 1) {
		r = NKHSM_ERR_SIGNATURE;
		goto out;
	}
	*certp = x;
	x = NULL;
	r = 0;
 out:
	EVP_PKEY_free(signer);
	ASN1_OCTET_STRING_free(ski);
	AUTHORITY_KEYID_free(akid);
	X509_NAME_free(name);
	X509_free(x);
	return r;
}

int
nkhsm_csr(nkhsm_key_t *key, const char *subject, X509_REQ **reqp)
{
	X509_REQ *req = NULL;
	X509_NAME *name = NULL;
	EVP_PKEY *pub, *signer = NULL;
	int r;

	if (reqp == NULL)
		return NKHSM_ERR_INVALID_ARGUMENT;
	*reqp = NULL;
	if (key == NULL || subject == NULL)
		return NKHSM_ERR_INVALID_ARGUMENT;
	if ((pub = nkhsm_key_pubkey(key)) == NULL)
		return NKHSM_ERR_NO_KEY;
	if ((r = nkhsm_name_parse(subject, &name)) != 0)
		return r;
	r = NKHSM_ERR_CRYPTO;
	if ((req = X509_REQ_new()) == NULL ||
	    !X509_REQ_set_version(req, X509_REQ_VERSION_1) ||
	    !X509_REQ_set_subject_name(req, name) ||
	    !X509_REQ_set_pubkey(req, pub))
		goto out;
	if ((r = nkhsm_key_evp(key, &signer)) != 0)
		goto out;
	if (X509_REQ_sign(req, signer, (EVP_MD *)nkhsm_curve_md(
	    nkhsm_key_curve(key))) <= 0) {
		r = NKHSM_ERR_MODULE;
		goto out;
	}
	/* The token's signature, checked in software before it goes out. */
	if (X509_REQ_verify(req, pub) != 1) {
		r = NKHSM_ERR_SIGNATURE;
		goto out;
	}
	*reqp = req;
	req = NULL;
	r = 0;
 out:
	EVP_PKEY_free(signer);
	X509_NAME_free(name);
	X509_REQ_free(req);
	return r;
}
