/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * x509ca.c - X.509 end-entity certificates and CRLs signed by the CA key on
 * the token (through nkhsm_key_evp), each verified in software before use.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "nkhsm.h"
#include "nk-int.h"
#include "x509ca.h"

#define DAYS_MAX	3650

/* RFC 7093 method 1: leftmost 160 bits of SHA-256 of the key bits. */
static ASN1_OCTET_STRING *
key_id(X509_PUBKEY *xpk)
{
	const unsigned char *pk;
	ASN1_OCTET_STRING *o;
	uint8_t md[32];
	unsigned int mdlen = 0;
	int pklen;

	if (!X509_PUBKEY_get0_param(NULL, &pk, &pklen, NULL, xpk) ||
	    !EVP_Digest(pk, (size_t)pklen, md, &mdlen, EVP_sha256(), NULL) ||
	    (o = ASN1_OCTET_STRING_new()) == NULL)
		return NULL;
	if (!ASN1_OCTET_STRING_set(o, md, 20)) {
		ASN1_OCTET_STRING_free(o);
		return NULL;
	}
	return o;
}

static int
add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
	X509V3_CTX v3;
	X509_EXTENSION *ext;
	int ok;

	X509V3_set_ctx_nodb(&v3);
	X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
	if ((ext = X509V3_EXT_conf_nid(NULL, &v3, nid, value)) == NULL)
		return -1;
	ok = X509_add_ext(x, ext, -1);
	X509_EXTENSION_free(ext);
	return ok ? 0 : -1;
}

/* Positive, non-zero, 127 random bits; hex into serialhex. */
static int
random_serial(ASN1_INTEGER *out, char *serialhex, size_t hexlen)
{
	uint8_t b[16];
	BIGNUM *bn = NULL;
	char *hex = NULL;
	int r = -1;

	do {
		if (RAND_bytes(b, sizeof(b)) != 1)
			return -1;
		b[0] &= 0x7f;
	} while (b[0] == 0 && b[1] == 0);
	if ((bn = BN_bin2bn(b, sizeof(b), NULL)) != NULL &&
	    BN_to_ASN1_INTEGER(bn, out) != NULL &&
	    (hex = BN_bn2hex(bn)) != NULL && strlen(hex) < hexlen) {
		/* No leading zeros: the form revoke takes and the ledger keeps. */
		snprintf(serialhex, hexlen, "%s", hex + strspn(hex, "0"));
		r = 0;
	}
	OPENSSL_free(hex);
	BN_free(bn);
	return r;
}

/* The msUPN otherName: 1.3.6.1.4.1.311.20.2.3, a UTF8String. */
static GENERAL_NAME *
upn_name(const char *v)
{
	GENERAL_NAME *g = NULL;
	ASN1_OBJECT *oid = NULL;
	ASN1_TYPE *val = NULL;
	ASN1_UTF8STRING *s = NULL;

	if ((g = GENERAL_NAME_new()) == NULL ||
	    (oid = OBJ_txt2obj("1.3.6.1.4.1.311.20.2.3", 1)) == NULL ||
	    (val = ASN1_TYPE_new()) == NULL ||
	    (s = ASN1_UTF8STRING_new()) == NULL ||
	    !ASN1_STRING_set(s, v, -1))
		goto fail;
	ASN1_TYPE_set(val, V_ASN1_UTF8STRING, s);
	s = NULL;
	if (!GENERAL_NAME_set0_othername(g, oid, val))
		goto fail;
	return g;
 fail:
	ASN1_UTF8STRING_free(s);
	ASN1_TYPE_free(val);
	ASN1_OBJECT_free(oid);
	GENERAL_NAME_free(g);
	return NULL;
}

/* One parsed name as a GENERAL_NAME. */
static GENERAL_NAME *
general_name(const struct sc_san *s)
{
	GENERAL_NAME *g;
	ASN1_STRING *v;

	if (s->type == SC_SAN_UPN)
		return upn_name(s->value);
	if ((g = GENERAL_NAME_new()) == NULL)
		return NULL;
	v = s->type == SC_SAN_IP ? ASN1_OCTET_STRING_new() : ASN1_IA5STRING_new();
	if (v == NULL || !(s->type == SC_SAN_IP ?
	    ASN1_STRING_set(v, s->ip, (int)s->iplen) :
	    ASN1_STRING_set(v, s->value, -1))) {
		ASN1_STRING_free(v);
		GENERAL_NAME_free(g);
		return NULL;
	}
	GENERAL_NAME_set0_value(g, s->type == SC_SAN_IP ? GEN_IPADD :
	    s->type == SC_SAN_DNS ? GEN_DNS : GEN_EMAIL, v);
	return g;
}

/* The subjectAltName extension, built from the parsed names. */
static int
add_sans(X509 *x, const struct sc_san *sans, size_t n)
{
	GENERAL_NAMES *gens;
	GENERAL_NAME *g;
	size_t i;
	int ok = 0;

	if (n == 0)
		return 0;
	if ((gens = GENERAL_NAMES_new()) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if ((g = general_name(&sans[i])) == NULL)
			goto out;
		if (!sk_GENERAL_NAME_push(gens, g)) {
			GENERAL_NAME_free(g);
			goto out;
		}
	}
	ok = X509_add1_ext_i2d(x, NID_subject_alt_name, gens, 0, 0) == 1;
 out:
	GENERAL_NAMES_free(gens);
	return ok ? 0 : -1;
}

#define SC_LOGIN_NAME_MAX	32

static int
login_name_ok(const unsigned char *u, int len)
{
	int i, digits = 0;

	if (len < 1 || len > SC_LOGIN_NAME_MAX || u[0] == '-')
		return 0;
	for (i = 0; i < len; i++) {
		if (u[i] >= '0' && u[i] <= '9')
			digits++;
		else if (!((u[i] >= 'a' && u[i] <= 'z') ||
		    (u[i] >= 'A' && u[i] <= 'Z') || u[i] == '.' || u[i] == '_' ||
		    u[i] == '-'))
			return 0;
	}
	return digits < len;
}

/* The one entry of nid as UTF-8 into buf (0: none); -1 for two or bad text. */
static int
one_entry(const X509_NAME *name, int nid, char *buf, size_t buflen)
{
	unsigned char *u = NULL;
	int i, len;

	buf[0] = '\0';
	if ((i = X509_NAME_get_index_by_NID(name, nid, -1)) < 0)
		return 0;
	if (X509_NAME_get_index_by_NID(name, nid, i) >= 0 ||
	    (len = ASN1_STRING_to_UTF8(&u, X509_NAME_ENTRY_get_data(
	    X509_NAME_get_entry(name, i)))) < 0)
		return -1;
	if (!login_name_ok(u, len) || (size_t)len >= buflen) {
		OPENSSL_free(u);
		return -1;
	}
	memcpy(buf, u, (size_t)len);
	buf[len] = '\0';
	OPENSSL_free(u);
	return 1;
}

int
sc_x509_login_name(const X509_NAME *name, char *errbuf, size_t errlen)
{
	char cn[SC_LOGIN_NAME_MAX + 1], uid[SC_LOGIN_NAME_MAX + 1];
	int hascn, hasuid;

	hascn = one_entry(name, NID_commonName, cn, sizeof(cn));
	hasuid = one_entry(name, NID_userId, uid, sizeof(uid));
	if (hascn < 0 || hasuid < 0) {
		nk_errf(errbuf, errlen, "the login profile needs one CN or UID "
		    "that is a login name (1 to %d of A-Z a-z 0-9 . _ -, not "
		    "starting with '-', not only digits)", SC_LOGIN_NAME_MAX);
		return NKHSM_ERR_INVALID_ARGUMENT;
	}
	if (hascn == 0 && hasuid == 0) {
		nk_errf(errbuf, errlen, "the login profile needs the user name "
		    "as the subject's CN or UID");
		return NKHSM_ERR_INVALID_ARGUMENT;
	}
	if (hascn && hasuid && strcmp(cn, uid) != 0) {
		nk_errf(errbuf, errlen, "the subject's CN and UID name different "
		    "users");
		return NKHSM_ERR_INVALID_ARGUMENT;
	}
	return 0;
}

int
sc_x509_issue(nkhsm_key_t *cakey, X509 *cacert, EVP_PKEY *pub,
    X509_NAME *subject, const struct sc_san *sans, size_t nsans, int profile,
    unsigned int days, X509 **certp, char *serialhex, size_t hexlen,
    char *errbuf, size_t errlen)
{
	X509 *x = NULL;
	EVP_PKEY *signer = NULL;
	ASN1_OCTET_STRING *ski = NULL;
	AUTHORITY_KEYID *akid = NULL;
	const ASN1_OCTET_STRING *caski;
	int r = NKHSM_ERR_CRYPTO;

	*certp = NULL;
	if (days == 0 || days > DAYS_MAX) {
		nk_errf(errbuf, errlen, "--days must be 1 to %d", DAYS_MAX);
		return NKHSM_ERR_INVALID_ARGUMENT;
	}
	/* The key checks every reader shares (libnkhsm). */
	if ((r = nkhsm_pkey_check(pub, errbuf, errlen)) != 0)
		return r;
	if (profile == SC_PROFILE_HOST && nsans == 0) {
		nk_errf(errbuf, errlen, "a host certificate needs --san");
		return NKHSM_ERR_INVALID_ARGUMENT;
	}
	if (profile == SC_PROFILE_LOGIN &&
	    (r = sc_x509_login_name(subject, errbuf, errlen)) != 0)
		return r;
	r = NKHSM_ERR_CRYPTO;
	if ((x = X509_new()) == NULL ||
	    !X509_set_version(x, X509_VERSION_3) ||
	    random_serial(X509_get_serialNumber(x), serialhex, hexlen) != 0 ||
	    !X509_set_subject_name(x, subject) ||
	    !X509_set_issuer_name(x, X509_get_subject_name(cacert)) ||
	    X509_gmtime_adj(X509_getm_notBefore(x), 0) == NULL ||
	    X509_time_adj_ex(X509_getm_notAfter(x), (int)days, 0, NULL) == NULL ||
	    !X509_set_pubkey(x, pub))
		goto out;
	/* Never outlive the CA. */
	if (X509_cmp_time(X509_get0_notAfter(cacert), NULL) <= 0) {
		nk_errf(errbuf, errlen, "the CA certificate has expired");
		r = NKHSM_ERR_INVALID_ARGUMENT;
		goto out;
	}
	if (ASN1_TIME_compare(X509_get0_notAfter(x), X509_get0_notAfter(cacert)) > 0 &&
	    !X509_set1_notAfter(x, X509_get0_notAfter(cacert)))
		goto out;
	if (add_ext(x, cacert, NID_basic_constraints, "critical,CA:FALSE") != 0 ||
	    add_ext(x, cacert, NID_key_usage,
	    EVP_PKEY_get_base_id(pub) == EVP_PKEY_RSA ?
	    "critical,digitalSignature,keyEncipherment" :
	    "critical,digitalSignature") != 0 ||
	    add_ext(x, cacert, NID_ext_key_usage, profile == SC_PROFILE_HOST ?
	    "serverAuth" : "clientAuth") != 0 ||
	    add_sans(x, sans, nsans) != 0)
		goto out;
	if ((ski = key_id(X509_get_X509_PUBKEY(x))) == NULL ||
	    !X509_add1_ext_i2d(x, NID_subject_key_identifier, ski, 0, 0) ||
	    (akid = AUTHORITY_KEYID_new()) == NULL)
		goto out;
	/* The authority key id is the CA certificate's own subject key id. */
	if ((caski = X509_get0_subject_key_id(cacert)) != NULL)
		akid->keyid = ASN1_OCTET_STRING_dup(caski);
	else
		akid->keyid = key_id(X509_get_X509_PUBKEY(cacert));
	if (akid->keyid == NULL ||
	    !X509_add1_ext_i2d(x, NID_authority_key_identifier, akid, 0, 0))
		goto out;
	if ((r = nkhsm_key_evp(cakey, &signer)) != 0)
		goto out;
	if (X509_sign(x, signer, (EVP_MD *)nkhsm_curve_md(
	    nkhsm_key_curve(cakey))) <= 0) {
		nk_errf(errbuf, errlen, "the token did not sign the certificate");
		r = NKHSM_ERR_MODULE;
		goto out;
	}
	if (X509_verify(x, X509_get0_pubkey(cacert)) != 1) {
		nk_errf(errbuf, errlen, "the token's signature does not verify; "
		    "nothing issued");
		r = NKHSM_ERR_SIGNATURE;
		goto out;
	}
	*certp = x;
	x = NULL;
	r = 0;
 out:
	if (r == NKHSM_ERR_CRYPTO)
		nk_errf(errbuf, errlen, "cannot build the certificate");
	EVP_PKEY_free(signer);
	ASN1_OCTET_STRING_free(ski);
	AUTHORITY_KEYID_free(akid);
	X509_free(x);
	return r;
}

int
sc_x509_name_check(const X509_NAME *name, char *errbuf, size_t errlen)
{
	const X509_NAME_ENTRY *ne;
	unsigned char *u = NULL;
	int i, j, len, r = 0;

	for (i = 0; r == 0 && i < X509_NAME_entry_count(name); i++) {
		ne = X509_NAME_get_entry(name, i);
		if ((len = ASN1_STRING_to_UTF8(&u,
		    X509_NAME_ENTRY_get_data(ne))) < 0) {
			nk_errf(errbuf, errlen, "subject entry %d is not text", i + 1);
			return NKHSM_ERR_FORMAT;
		}
		for (j = 0; j < len; j++) {
			if (u[j] < 0x20 || u[j] == 0x7f) {
				nk_errf(errbuf, errlen, "control character 0x%02x in "
				    "subject entry %d", u[j], i + 1);
				r = NKHSM_ERR_INVALID_ARGUMENT;
				break;
			}
		}
		OPENSSL_free(u);
		u = NULL;
	}
	return r;
}

int
sc_x509_read_csr(const uint8_t *data, size_t len, X509_REQ **reqp,
    char *errbuf, size_t errlen)
{
	const unsigned char *p = data;
	X509_REQ *req = NULL;
	EVP_PKEY *pk;
	BIO *bio;

	*reqp = NULL;
	if (len > 64 * 1024) {
		nk_errf(errbuf, errlen, "the CSR is larger than 64 KiB");
		return NKHSM_ERR_TOO_LARGE;
	}
	if ((bio = BIO_new_mem_buf(data, (int)len)) != NULL) {
		req = PEM_read_bio_X509_REQ(bio, NULL, NULL, NULL);
		BIO_free(bio);
	}
	if (req == NULL && (req = d2i_X509_REQ(NULL, &p, (long)len)) != NULL &&
	    p != data + len) {
		X509_REQ_free(req);
		req = NULL;
	}
	if (req == NULL) {
		nk_errf(errbuf, errlen, "not a PEM or DER certificate request");
		return NKHSM_ERR_FORMAT;
	}
	if ((pk = X509_REQ_get0_pubkey(req)) == NULL ||
	    X509_REQ_verify(req, pk) != 1) {
		nk_errf(errbuf, errlen, "the request's signature does not verify");
		X509_REQ_free(req);
		return NKHSM_ERR_SIGNATURE;
	}
	*reqp = req;
	return 0;
}

int
sc_x509_crl(nkhsm_key_t *cakey, X509 *cacert, const struct sc_crl_entry *e,
    size_t n, uint64_t number, unsigned int days, X509_CRL **crlp,
    char *errbuf, size_t errlen)
{
	X509_CRL *crl = NULL;
	X509_REVOKED *rev = NULL;
	ASN1_TIME *t = NULL;
	ASN1_INTEGER *num = NULL, *ser = NULL;
	AUTHORITY_KEYID *akid = NULL;
	const ASN1_OCTET_STRING *caski;
	EVP_PKEY *signer = NULL;
	BIGNUM *bn = NULL;
	size_t i;
	int r = NKHSM_ERR_CRYPTO;

	*crlp = NULL;
	if (days == 0 || days > 366) {
		nk_errf(errbuf, errlen, "--days must be 1 to 366 for a CRL");
		return NKHSM_ERR_INVALID_ARGUMENT;
	}
	if ((crl = X509_CRL_new()) == NULL ||
	    !X509_CRL_set_version(crl, X509_CRL_VERSION_2) ||
	    !X509_CRL_set_issuer_name(crl, X509_get_subject_name(cacert)) ||
	    (t = X509_gmtime_adj(NULL, 0)) == NULL ||
	    !X509_CRL_set1_lastUpdate(crl, t) ||
	    X509_time_adj_ex(t, (int)days, 0, NULL) == NULL ||
	    !X509_CRL_set1_nextUpdate(crl, t))
		goto out;
	for (i = 0; i < n; i++) {
		if (BN_hex2bn(&bn, e[i].serialhex) == 0 ||
		    (ser = BN_to_ASN1_INTEGER(bn, NULL)) == NULL ||
		    (rev = X509_REVOKED_new()) == NULL ||
		    !X509_REVOKED_set_serialNumber(rev, ser) ||
		    ASN1_TIME_set(t, e[i].revoked_at) == NULL ||
		    !X509_REVOKED_set_revocationDate(rev, t) ||
		    !X509_CRL_add0_revoked(crl, rev))
			goto out;
		rev = NULL;
		ASN1_INTEGER_free(ser);
		ser = NULL;
	}
	if ((num = ASN1_INTEGER_new()) == NULL ||
	    !ASN1_INTEGER_set_uint64(num, number) ||
	    !X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0) ||
	    (akid = AUTHORITY_KEYID_new()) == NULL)
		goto out;
	if ((caski = X509_get0_subject_key_id(cacert)) != NULL)
		akid->keyid = ASN1_OCTET_STRING_dup(caski);
	else
		akid->keyid = key_id(X509_get_X509_PUBKEY(cacert));
	if (akid->keyid == NULL ||
	    !X509_CRL_add1_ext_i2d(crl, NID_authority_key_identifier, akid, 0, 0) ||
	    !X509_CRL_sort(crl))
		goto out;
	if ((r = nkhsm_key_evp(cakey, &signer)) != 0)
		goto out;
	if (X509_CRL_sign(crl, signer, (EVP_MD *)nkhsm_curve_md(
	    nkhsm_key_curve(cakey))) <= 0) {
		nk_errf(errbuf, errlen, "the token did not sign the CRL");
		r = NKHSM_ERR_MODULE;
		goto out;
	}
	if (X509_CRL_verify(crl, X509_get0_pubkey(cacert)) != 1) {
		nk_errf(errbuf, errlen, "the token's CRL signature does not verify");
		r = NKHSM_ERR_SIGNATURE;
		goto out;
	}
	*crlp = crl;
	crl = NULL;
	r = 0;
 out:
	if (r == NKHSM_ERR_CRYPTO)
		nk_errf(errbuf, errlen, "cannot build the CRL");
	EVP_PKEY_free(signer);
	AUTHORITY_KEYID_free(akid);
	ASN1_INTEGER_free(num);
	ASN1_INTEGER_free(ser);
	X509_REVOKED_free(rev);
	ASN1_TIME_free(t);
	BN_free(bn);
	X509_CRL_free(crl);
	return r;
}
