/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * revoke.h - pam_nkhsm's revocation checks: crl= and crl_grace= for the
 * certificates of ca= mode, krl= (an OpenSSH KRL) for every key. The
 * module calls them between finding the key on the token and asking for
 * the PIN, so a revoked token never spends a PIN try.
 *
 * Each list is read from its file at the first check that needs it, once
 * per login; nothing is fetched from the network. A list that cannot be
 * used (missing, unsafe, malformed, not verifying, stale) makes the check
 * fail closed.
 */
#ifndef PNK_REVOKE_H
#define PNK_REVOKE_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "pamnk.h"

/* What a check found (the module maps them to PAM codes). */
#define PNK_REV_OK		0
#define PNK_REV_REVOKED		1	/* a certificate, by a CRL: PAM_AUTH_ERR */
#define PNK_REV_KEY_REVOKED	2	/* a key, by the KRL: PAM_AUTH_ERR */
#define PNK_REV_UNAVAIL		3	/* PAM_AUTHINFO_UNAVAIL (the worst) */

#define PNK_REV_FILE_MAX	(48 * 1024 * 1024)	/* bytes of a list file */
#define PNK_REV_CRLS_MAX	256	/* CRLs from all crl= together */

struct pnk_revoke;

/* A decision worth a log line (a CRL used within crl_grace=). */
typedef void pnk_rev_note_fn(void *arg, const char *msg);

/* The lists o names; nothing is read yet. NKHSM_ERR_NOMEM or 0. */
int pnk_rev_new(const struct pnk_opts *o, pnk_rev_note_fn *note, void *arg,
    struct pnk_revoke **rvp);
void pnk_rev_free(struct pnk_revoke **rvp);

/*
 * krl=: mark each authorized key the KRL revokes (k->revoked says how)
 * and move those after the others, so that a token holding a revoked and
 * a good key logs in with the good one. PNK_REV_OK (also without krl=),
 * or PNK_REV_UNAVAIL with why in the buffer.
 */
int pnk_rev_keys(struct pnk_revoke *rv, struct pnk_keys *keys, char *why,
    size_t whylen);
/*
 * A certificate ca= accepted, with its verified chain (leaf first) and its
 * key's point: every certificate in the chain but the last against the
 * CRLs of its issuer, then the key against the KRL. PNK_REV_REVOKED,
 * PNK_REV_KEY_REVOKED or PNK_REV_UNAVAIL with why (serial, issuer and
 * file) in the buffer.
 */
int pnk_rev_cert(struct pnk_revoke *rv, STACK_OF(X509) *chain,
    const nkhsm_point_t *pt, int64_t now, char *why, size_t whylen);

#endif /* PNK_REVOKE_H */
