/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_crl.c - lib/crl.c against OpenSSL on the same bytes. The input is
 * a DER CRL, and then the same bytes as PEM text.
 *
 * Invariants: what nk_crl_parse takes, d2i_X509_CRL takes too, with the
 * same issuer, thisUpdate, nextUpdate and number of entries, and every
 * serial OpenSSL lists is one nk_crl_lists finds; nk_crl_reparse (the
 * cache's reader) takes it too and finds the same; a refusal has a reason;
 * nk_crl_verify answers the same as X509_CRL_verify with the corpus's
 * issuer key (fuzz/corpus/crl, made by openssl with that key). PEM blocks
 * decode to what OpenSSL's PEM reader gets.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include "nk-int.h"
#include "crl.h"
#include "fuzz.h"

/* The issuer of the corpus CRLs: a P-256 key (PEM SubjectPublicKeyInfo). */
static const char issuer_pem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEvG1XbUZaREJQrYx9IhAf+SN0vkfh\n"
    "Y8mNEG+6jQ9xFDRxWKBS4PKSbeqhD9IZZlaQCh2H75e79fMugchZX9OJbg==\n"
    "-----END PUBLIC KEY-----\n";

static EVP_PKEY *issuer;

static int64_t
asn1_secs(const ASN1_TIME *t)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (t == NULL || !ASN1_TIME_to_tm(t, &tm))
		abort();
	return (int64_t)timegm(&tm);
}

/* What OpenSSL read must be what lib/crl.c read. */
static void
compare(const struct nk_crl *c, X509_CRL *x)
{
	STACK_OF(X509_REVOKED) *revs = X509_CRL_get_REVOKED(x);
	const ASN1_INTEGER *ser;
	unsigned char *der = NULL, *p;
	int i, len;

	if ((len = i2d_X509_NAME(X509_CRL_get_issuer(x), &der)) <= 0 ||
	    (size_t)len != c->issuerlen || memcmp(der, c->issuer, c->issuerlen))
		abort();
	OPENSSL_free(der);
	if (asn1_secs(X509_CRL_get0_lastUpdate(x)) != c->this_update ||
	    asn1_secs(X509_CRL_get0_nextUpdate(x)) != c->next_update)
		abort();
	if ((revs == NULL ? 0 : (size_t)sk_X509_REVOKED_num(revs)) !=
	    c->nentries)
		abort();
	for (i = 0; i < sk_X509_REVOKED_num(revs); i++) {
		ser = X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(revs,
		    i));
		/* The INTEGER's content, as the CRL holds it. */
		der = NULL;
		if ((len = i2d_ASN1_INTEGER(ser, &der)) <= 2)
			abort();
		p = der + (der[1] & 0x80 ? 2 + (der[1] & 0x7f) : 2);
		if (!nk_crl_lists(c, p, (size_t)(der + len - p)))
			abort();
		OPENSSL_free(der);
	}
}

static void
fuzz_der(const uint8_t *data, size_t size)
{
	const unsigned char *p = data;
	struct nk_crl c, again;
	X509_CRL *x;
	char err[256];
	int r, v;

	err[0] = '\0';
	if ((r = nk_crl_parse(data, size, &c, err, sizeof(err))) != 0) {
		if (err[0] == '\0' || (r != NKHSM_ERR_FORMAT &&
		    r != NKHSM_ERR_UNSUPPORTED && r != NKHSM_ERR_TOO_LARGE))
			abort();
		return;
	}
	if ((x = d2i_X509_CRL(NULL, &p, (long)size)) == NULL ||
	    p != data + size)
		abort();
	compare(&c, x);
	if (nk_crl_reparse(data, size, &again, err, sizeof(err)) != 0 ||
	    again.tbs != c.tbs || again.tbslen != c.tbslen ||
	    again.sigalg != c.sigalg || again.issuerlen != c.issuerlen ||
	    again.this_update != c.this_update ||
	    again.next_update != c.next_update ||
	    again.entrieslen != c.entrieslen || again.akidlen != c.akidlen)
		abort();
	again.nentries = c.nentries;
	compare(&again, x);
	v = nk_crl_verify(&c, issuer, err, sizeof(err));
	if ((v == 0) != (X509_CRL_verify(x, issuer) == 1))
		abort();
	X509_CRL_free(x);
}

static void
fuzz_pem(const uint8_t *data, size_t size)
{
	uint8_t *der = NULL;
	size_t off = 0, line = 0, len = 0;
	unsigned char *oder = NULL;
	X509_CRL *x;
	BIO *bio;
	char err[256];
	int olen;

	if (nk_crl_pem_next((const char *)data, size, &off, &line, &der, &len,
	    err, sizeof(err)) != 0 || der == NULL) {
		if (der != NULL)
			abort();
		return;
	}
	/* A block that is a CRL to OpenSSL decodes to the same bytes here. */
	if ((bio = BIO_new_mem_buf(data, (int)size)) == NULL)
		abort();
	if ((x = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL)) != NULL) {
		if ((olen = i2d_X509_CRL(x, &oder)) <= 0)
			abort();
		if (nk_crl_parse(der, len, &(struct nk_crl){ 0 }, err,
		    sizeof(err)) == 0 && ((size_t)olen != len ||
		    memcmp(oder, der, len) != 0))
			abort();
		OPENSSL_free(oder);
		X509_CRL_free(x);
	}
	BIO_free(bio);
	free(der);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	BIO *bio;

	if (issuer == NULL) {
		if ((bio = BIO_new_mem_buf(issuer_pem, -1)) == NULL ||
		    (issuer = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL)) == NULL)
			abort();
		BIO_free(bio);
	}
	if (size > 1024 * 1024)
		return 0;
	fuzz_der(data, size);
	fuzz_pem(data, size);
	return 0;
}
