/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * krl.h - reading OpenSSH key revocation lists (PROTOCOL.krl), the files
 * that ssh-keygen -k and nkhsm-sshca krl write and sshd reads through
 * RevokedKeys. Internal to libnkhsm and its users in this tree (pam_nkhsm,
 * the tests and fuzzers); nothing here is exported by libnkhsm.so.
 *
 * A KRL is checked in one pass over the file, with the keys asked about
 * given up front: every section is parsed strictly whether or not it can
 * match, so a file that sshd would refuse is refused here too, and nothing
 * is sorted or copied.
 */
#ifndef NK_KRL_H
#define NK_KRL_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

#define NK_KRL_SIZE_MAX		NK_BUF_MAX	/* bytes of a KRL file */
#define NK_KRL_SHA1_LEN		20
#define NK_KRL_SHA256_LEN	32

/* Why a key is revoked (nk_krl_query.why); 0: it is not. */
#define NK_KRL_BY_KEY		1	/* the key itself (explicit key section) */
#define NK_KRL_BY_SHA1		2	/* SHA-1 of its blob */
#define NK_KRL_BY_SHA256	3	/* SHA-256 of its blob (fingerprint) */
#define NK_KRL_BY_SERIAL	4	/* certificate serial, under its CA */
#define NK_KRL_BY_KEY_ID	5	/* certificate key id, under its CA */

/* A plain public key: its OpenSSH blob and the two hashes a KRL uses. */
struct nk_krl_key {
	const uint8_t	*blob;
	size_t		 len;
	uint8_t		 sha1[NK_KRL_SHA1_LEN];
	uint8_t		 sha256[NK_KRL_SHA256_LEN];
};

/*
 * One key asked about. For an OpenSSH certificate, key is its subject key
 * (without the certificate), and ca, serial and key_id come from it; as in
 * sshd, the certificate is also revoked when its CA key is.
 */
struct nk_krl_query {
	struct nk_krl_key key;
	int		 is_cert;
	uint64_t	 serial;	/* 0: never matches a serial */
	const uint8_t	*key_id;
	size_t		 key_id_len;
	struct nk_krl_key ca;
	/* The verdict, set by nk_krl_check. */
	int		 why;		/* 0 or NK_KRL_BY_* */
	int		 by_ca;		/* the match was on the CA key */
};

/* Hash a plain key blob into k (which keeps the pointer, not a copy). */
int nk_krl_key_init(struct nk_krl_key *k, const uint8_t *blob, size_t len);
/*
 * A query from an OpenSSH key blob: a plain key, or a certificate of an
 * ed25519, ecdsa-sha2-nistp* or ssh-rsa key. For a certificate the subject
 * key's plain blob is made in *plainp (the caller frees it); q points into
 * blob and *plainp.
 */
int nk_krl_query_from_blob(struct nk_krl_query *q, const uint8_t *blob,
    size_t len, uint8_t **plainp, size_t *plainlenp);
/*
 * Parse the KRL (len bytes) and set each query's verdict. 0 when the KRL
 * is well formed; NKHSM_ERR_FORMAT or NKHSM_ERR_UNSUPPORTED (a signed KRL,
 * an unknown section, a CA key type not read here) with "NAME: offset N:
 * reason" in errbuf. Verdicts are meaningful only on 0.
 */
int nk_krl_check(const char *name, const uint8_t *krl, size_t len,
    struct nk_krl_query *q, size_t nq, char *errbuf, size_t errlen);
/* "key", "SHA-1 hash", "SHA-256 fingerprint", "serial", "key id". */
const char *nk_krl_why(int why);

#endif /* NK_KRL_H */
