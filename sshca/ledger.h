/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ledger.h - the CA's record of every issuance and revocation, in SQLite
 * (the default, in the state directory) or PostgreSQL (shared by several
 * CA sites). The commands use this interface alone and do not know which
 * backend holds the ledger.
 */
#ifndef SC_LEDGER_H
#define SC_LEDGER_H

#include <stddef.h>
#include <stdint.h>

struct sc_ledger;

#define LEDGER_FILE	"ledger.db"
#define LOG_HASH_HEX	65	/* 64 hex digits and NUL */
#define SC_LEDGER_OLD	"made by an older nkhsm-sshca: its log (format 1) " \
	"does not cover every field it shows; run 'nkhsm-sshca " \
	"migrate-ledger' to check it and bring it up to date"

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

/*
 * Open the ledger a URL names: "sqlite:/PATH", or "postgresql://..." or
 * "postgres://..." (a libpq URI), or "postgresql:" and a libpq key=value
 * connection string; NULL is the default, DIR/ledger.db. A PostgreSQL URL
 * may not hold a password, nor may PGPASSWORD be set: the password comes
 * from a password file (PGPASSFILE, ~/.pgpass) or the login is by peer.
 * With SC_LEDGER_CREATE, the schema is made (an SQLite file created).
 * A ledger whose log is of an older format (one that does not commit to
 * every field) is refused with NKHSM_ERR_UNSUPPORTED and a message, unless
 * flags has SC_LEDGER_OLD_OK (migration only).
 */
#define SC_LEDGER_CREATE	0x01
#define SC_LEDGER_OLD_OK	0x02
/* sc_ledger_open's own code: the database cannot be reached (no NKHSM_ERR_*). */
#define SC_LEDGER_ERR_UNREACHABLE	(-1000)
int sc_ledger_open(const char *url, const char *dir, unsigned int flags,
    struct sc_ledger **lp, char *errbuf, size_t errlen);
/*
 * A URL's form (ledgerurl.c, pure): SC_LEDGER_SQLITE with the file's path,
 * or SC_LEDGER_PG with the libpq connection string or URI, in target;
 * NULL is DIR/ledger.db. NKHSM_ERR_INVALID_ARGUMENT and why otherwise.
 */
#define SC_LEDGER_SQLITE	1
#define SC_LEDGER_PG		2
#define SC_LEDGER_URL_MAX	1024
int sc_ledger_url_parse(const char *url, const char *dir, int *kindp,
    char *target, size_t tlen, char *errbuf, size_t errlen);
int sc_ledger_url_check(const char *url, char *errbuf, size_t errlen);
void sc_ledger_close(struct sc_ledger **lp);
/*
 * 1 when the ledger's database cannot be reached any more (PostgreSQL:
 * the server stopped, the connection was cut): whatever failed was not
 * recorded, or (at a commit) may have been; retry once it is back.
 */
int sc_ledger_lost(const struct sc_ledger *l);
/*
 * Record n issuances, each with its log entry, in one transaction: all or
 * none. When a serial is taken (by another issuer; the database enforces
 * it) nothing is recorded, NKHSM_ERR_EXISTS is returned and *takenp says
 * which entry (draw another serial and re-sign). head gets the new head.
 */
int sc_ledger_issue(struct sc_ledger *l, const struct sc_entry *e, size_t n,
    size_t *takenp, char *head, char *errbuf, size_t errlen);
/* A write transaction, for a migration (see sc_ledger_append below). */
int sc_ledger_begin(struct sc_ledger *l, char *errbuf, size_t errlen);
int sc_ledger_commit(struct sc_ledger *l, char *errbuf, size_t errlen);
void sc_ledger_rollback(struct sc_ledger *l);
/* Revoke by serial ("ssh"/"x509"), by key id, or by subject key fingerprint. */
int sc_ledger_revoke(struct sc_ledger *l, const char *what, const char *value,
    const char *subject_key, const char *reason, unsigned int *countp,
    char *head, char *errbuf, size_t errlen);
int sc_ledger_meta_get(struct sc_ledger *l, const char *k, char **vp);
/*
 * Start the log (format marker) and record the CA's settings in meta, each
 * with its log entry, in one transaction. Every later change of a setting
 * goes through the log too, so verify-log can compare meta with it.
 * NKHSM_ERR_EXISTS when the log was started already (another init).
 */
int sc_ledger_init(struct sc_ledger *l, const char *const *keys,
    const char *const *values, size_t n, char *errbuf, size_t errlen);
/* Increment and return a counter kept in meta (KRL version, CRL number). */
int sc_ledger_counter(struct sc_ledger *l, const char *k, uint64_t *vp);
/*
 * Bring a ledger of log format 1 to the current format: check everything
 * format 1 recorded (as verify-log would, stricter), then append a marker
 * and one entry per certificate, revocation and setting that commits to
 * every field as it is now. Nothing changes unless all of it succeeds.
 * expect_head, if given, must be an entry of the format 1 chain.
 * NKHSM_ERR_EXISTS when the ledger is already current.
 */
int sc_ledger_migrate(struct sc_ledger *l, const char *expect_head,
    unsigned long *countp, char *head, char *errbuf, size_t errlen);

/* Iteration callbacks: return non-zero to stop. */
struct sc_row {
	const char	*family, *kind, *serial, *key_id, *principals;
	uint64_t	 valid_after, valid_before, issued_at;
	int		 null_valid_after, null_valid_before, null_issued_at;
	const char	*subject_fp, *subject_key;
	const uint8_t	*cert;
	size_t		 certlen;
	int		 revoked;
	uint64_t	 revoked_at;
	const char	*reason;
	long long	 log_seq;
};
int sc_ledger_each(struct sc_ledger *l, int (*fn)(const struct sc_row *, void *),
    void *arg);
/* Revocations not tied to one issued certificate: key ids and keys. */
struct sc_revrow {
	const char	*what, *value, *subject_key, *reason;
	uint64_t	 at;
	int		 null_at;
};
int sc_ledger_each_revocation(struct sc_ledger *l,
    int (*fn)(const struct sc_revrow *, void *), void *arg);
/*
 * Of n requests (key id, subject key fingerprint), the first whose key id
 * or key is revoked for the future: 1 and *whichp; 0 for none; -1 on error.
 */
int sc_ledger_first_revoked(struct sc_ledger *l, const char *const *key_ids,
    const char *const *fps, size_t n, size_t *whichp);
/*
 * Check the hash chain, then every record against the entry that committed
 * to it: each certificate's every column (its revocation by replaying the
 * revoke entries that came after it), each key id and key revocation, and
 * each setting in meta. expect_head, if given, must be an entry of the
 * chain. On a difference errbuf names the record and the column.
 */
int sc_ledger_verify_log(struct sc_ledger *l, const char *expect_head,
    unsigned long *countp, char *head, char *errbuf, size_t errlen);

/*
 * What the log checks (ledgerverify.c) need from a backend; all SQL stays
 * in the backends. The log in order of seq, one entry by seq (NKHSM_ERR_NO_KEY
 * if none), the settings in meta, a read snapshot for the checks, and for
 * a migration, inside sc_ledger_begin: append an entry ("event=..." without
 * seq), put a meta row, point a certificate at another entry.
 */
struct sc_logrow {
	long long	 seq;
	const char	*entry, *prev, *hash;
};
int sc_ledger_each_log(struct sc_ledger *l,
    int (*fn)(const struct sc_logrow *, void *), void *arg);
int sc_ledger_log_entry(struct sc_ledger *l, long long seq, char **entryp);
int sc_ledger_each_meta(struct sc_ledger *l,
    int (*fn)(const char *k, const char *v, void *), void *arg);
int sc_ledger_read_begin(struct sc_ledger *l);
void sc_ledger_read_end(struct sc_ledger *l);
int sc_ledger_append(struct sc_ledger *l, const char *entry, long long *seqp,
    char *head);
int sc_ledger_meta_put(struct sc_ledger *l, const char *k, const char *v);
/* Write meta's copy of the log head now, as commit would. */
int sc_ledger_flush(struct sc_ledger *l);
int sc_ledger_relink(struct sc_ledger *l, const char *family,
    const char *serial, long long seq);

#endif
