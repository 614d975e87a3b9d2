/* SPDX-License-Identifier: BSD-2-Clause */
/* x509ca.h - X.509 issuance and CRLs for nkhsm-sshca */
#ifndef SC_X509CA_H
#define SC_X509CA_H

#include <stdint.h>
#include <time.h>

#include <openssl/x509.h>

#include "nkhsm.h"
#include "san.h"

#define SC_PROFILE_HOST	SC_SAN_HOST	/* serverAuth, DNS:/IP: names (required) */
#define SC_PROFILE_USER	SC_SAN_USER	/* clientAuth, email:/UPN: names */
#define SC_PROFILE_LOGIN	3	/* as user, and CN or UID a login name
					 * (what pam_nkhsm's ca= mode maps) */
#define SC_SERIAL_HEX	64

/* pub must pass nkhsm_pkey_check; sans come from sc_san_parse. */
int sc_x509_issue(nkhsm_key_t *cakey, X509 *cacert, EVP_PKEY *pub,
    X509_NAME *subject, const struct sc_san *sans, size_t nsans, int profile,
    unsigned int days, X509 **certp, char *serialhex, size_t hexlen,
    char *errbuf, size_t errlen);
/*
 * The login profile's subject: a CN or a UID (or both, the same) that is a
 * login name: 1 to 32 of A-Z a-z 0-9 . _ -, not starting with '-', not all
 * digits; no second CN or UID.
 */
int sc_x509_login_name(const X509_NAME *name, char *errbuf, size_t errlen);
/* Every entry of the name as UTF-8 without control characters. */
int sc_x509_name_check(const X509_NAME *name, char *errbuf, size_t errlen);
/* PEM or DER; its signature must verify with its own key. */
int sc_x509_read_csr(const uint8_t *data, size_t len, X509_REQ **reqp,
    char *errbuf, size_t errlen);

struct sc_crl_entry {
	const char	*serialhex;
	time_t		 revoked_at;
};
int sc_x509_crl(nkhsm_key_t *cakey, X509 *cacert, const struct sc_crl_entry *e,
    size_t n, uint64_t number, unsigned int days, X509_CRL **crlp,
    char *errbuf, size_t errlen);

#endif
