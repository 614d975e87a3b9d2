/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * crl.h - reading X.509 CRLs (RFC 5280) for pam_nkhsm's crl= option.
 * Internal to libnkhsm and its users in this tree; not exported.
 *
 * OpenSSL's d2i_X509_CRL builds an object per entry (about 5,500
 * instructions each: 55 million for a CRL of 10,000), so this reads the
 * DER in place instead, strictly and in bounded steps, and looks a serial
 * up by walking the entries. Signatures are checked with the classic
 * ECDSA and SHA-2 functions for EC issuers (no provider start-up), through
 * EVP for RSA and Ed25519 ones.
 */
#ifndef NK_CRL_H
#define NK_CRL_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#define NK_CRL_SIZE_MAX		(32 * 1024 * 1024)	/* bytes of one CRL */

/* Signature algorithms a CRL may name. */
#define NK_CRL_ECDSA_SHA256	1
#define NK_CRL_ECDSA_SHA384	2
#define NK_CRL_ECDSA_SHA512	3
#define NK_CRL_RSA_SHA256	4
#define NK_CRL_RSA_SHA384	5
#define NK_CRL_RSA_SHA512	6
#define NK_CRL_ED25519		7

/* A parsed CRL: views into the DER it was parsed from. */
struct nk_crl {
	const uint8_t	*tbs;		/* the signed part, tag and length too */
	size_t		 tbslen;
	int		 sigalg;	/* NK_CRL_* */
	const uint8_t	*sig;		/* the signature (BIT STRING content) */
	size_t		 siglen;
	const uint8_t	*issuer;	/* the issuer Name, tag and length too */
	size_t		 issuerlen;
	int64_t		 this_update;	/* seconds since the epoch */
	int64_t		 next_update;
	const uint8_t	*entries;	/* revokedCertificates' content */
	size_t		 entrieslen;
	size_t		 nentries;
	const uint8_t	*akid;		/* authorityKeyIdentifier's keyIdentifier */
	size_t		 akidlen;
	const uint8_t	*number;	/* cRLNumber's content, or NULL */
	size_t		 numberlen;
};

/*
 * Parse one DER CertificateList filling all of der. Refused with a reason
 * in errbuf (NKHSM_ERR_FORMAT, or NKHSM_ERR_UNSUPPORTED): anything but
 * DER with definite minimal lengths; a version other than v2 with
 * extensions; a signature algorithm outside NK_CRL_*, or one the outer
 * and inner fields disagree on; no nextUpdate; delta CRLs, partitioned or
 * indirect CRLs (deltaCRLIndicator, issuingDistributionPoint,
 * certificateIssuer); removeFromCRL entries; an unknown critical
 * extension; an extension twice.
 */
int nk_crl_parse(const uint8_t *der, size_t len, struct nk_crl *crl,
    char *errbuf, size_t errlen);
/*
 * The same for DER that nk_crl_parse took before (pam_nkhsm's cache of
 * verified CRLs): everything but the entries is parsed again; the entries
 * are only found, and nentries is 0. nk_crl_lists stays bounded on any
 * bytes.
 */
int nk_crl_reparse(const uint8_t *der, size_t len, struct nk_crl *crl,
    char *errbuf, size_t errlen);
/*
 * 1 when the certificate serial (the content of its DER INTEGER, as
 * i2c_ASN1_INTEGER writes it) is listed, 0 when not.
 */
int nk_crl_lists(const struct nk_crl *crl, const uint8_t *serial, size_t len);
/* 0 when the CRL's signature verifies with the issuer's public key. */
int nk_crl_verify(const struct nk_crl *crl, const EVP_PKEY *issuer,
    char *errbuf, size_t errlen);
/*
 * The next "-----BEGIN X509 CRL-----" block of a PEM text, from *offp on,
 * decoded into *derp (the caller frees it). 0 and *derp NULL at the end;
 * NKHSM_ERR_FORMAT with "LINE: reason" in errbuf for other labels, text
 * outside blocks that is not blank, or bad base64.
 */
int nk_crl_pem_next(const char *text, size_t len, size_t *offp,
    size_t *linep, uint8_t **derp, size_t *derlenp, char *errbuf,
    size_t errlen);

#endif /* NK_CRL_H */
