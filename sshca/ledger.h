/* SPDX-License-Identifier: BSD-2-Clause */
/* ledger.h - the CA's record of every issuance and revocation (SQLite) */
#ifndef SC_LEDGER_H
#define SC_LEDGER_H

#include <stddef.h>
#include <stdint.h>

struct sc_ledger;

#define LEDGER_FILE	"ledger.db"
#define LOG_HASH_HEX	65	/* 64 hex digits and NUL */

/* One issued certificate, as the ledger keeps it. */
struct sc_entry {
	const char	*family;	/* "ssh" or "x509" */
	const char	*kind;		/* "ssh-user", "ssh-host", "x509-user", "x509-host" */
	const char	*serial;	/* ssh: decimal; x509: hex */
	const char	*key_id;	/* ssh key id, or x509 subject */
	const char	*principals;	/* comma-separated principals or SANs */
	uint64_t	 valid_after;
	uint64_t	 valid_before;
	const char	*subject_fp;	/* SHA256:... of the subject key */
	const char	*subject_key;	/* ssh: base64 blob; x509: PEM SPKI */
	const uint8_t	*cert;		/* the certificate (ssh blob or DER) */
	size_t		 certlen;
};

int sc_ledger_open(const char *dir, int create, struct sc_ledger **lp,
    char *errbuf, size_t errlen);
void sc_ledger_close(struct sc_ledger **lp);
/*
 * Record an issuance and its log entry in one transaction. Returns
 * NKHSM_ERR_EXISTS when the serial is taken (draw another and re-sign).
 */
int sc_ledger_issue(struct sc_ledger *l, const struct sc_entry *e,
    char *head, char *errbuf, size_t errlen);
/* The same in parts, to record a batch in one transaction. */
int sc_ledger_begin(struct sc_ledger *l, char *errbuf, size_t errlen);
int sc_ledger_add(struct sc_ledger *l, const struct sc_entry *e, char *head,
    char *errbuf, size_t errlen);
int sc_ledger_commit(struct sc_ledger *l, char *errbuf, size_t errlen);
void sc_ledger_rollback(struct sc_ledger *l);
/* Revoke by serial ("ssh"/"x509"), by key id, or by subject key fingerprint. */
int sc_ledger_revoke(struct sc_ledger *l, const char *what, const char *value,
    const char *subject_key, const char *reason, unsigned int *countp,
    char *head, char *errbuf, size_t errlen);
int sc_ledger_meta_get(struct sc_ledger *l, const char *k, char **vp);
int sc_ledger_meta_set(struct sc_ledger *l, const char *k, const char *v);
/* Increment and return a counter kept in meta (KRL version, CRL number). */
int sc_ledger_counter(struct sc_ledger *l, const char *k, uint64_t *vp);

/* Iteration callbacks: return non-zero to stop. */
struct sc_row {
	const char	*family, *kind, *serial, *key_id, *principals;
	uint64_t	 valid_after, valid_before, issued_at;
	const char	*subject_fp, *subject_key;
	const uint8_t	*cert;
	size_t		 certlen;
	int		 revoked;
	uint64_t	 revoked_at;
	const char	*reason;
};
int sc_ledger_each(struct sc_ledger *l, int (*fn)(const struct sc_row *, void *),
    void *arg);
/* Revocations not tied to one issued certificate: key ids and keys. */
int sc_ledger_each_revocation(struct sc_ledger *l,
    int (*fn)(const char *what, const char *value, const char *subject_key,
    void *), void *arg);
/* 1 when the key id or the subject key is revoked; -1 on error. */
int sc_ledger_is_revoked(struct sc_ledger *l, const char *key_id,
    const char *fp);
/*
 * Check the hash chain and its agreement with the certificates and
 * revocations. expect_head, if given, must be an entry of the chain.
 */
int sc_ledger_verify_log(struct sc_ledger *l, const char *expect_head,
    unsigned long *countp, char *head, char *errbuf, size_t errlen);

#endif
