/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ledger-int.h - what a ledger backend provides (ledger-sqlite.c,
 * ledger-pg.c). Only ledger.c calls it: the log's hash chain, the entries
 * and the transactions around them are made there, once, and a backend
 * only stores and reads rows. Functions return 0 or a negative NKHSM_ERR_*
 * code; the database's own message is left for errmsg.
 */
#ifndef SC_LEDGER_INT_H
#define SC_LEDGER_INT_H

#include <stddef.h>
#include <stdint.h>

#include "ledger.h"

struct sc_backend {
	const char	*name;
	/*
	 * target: a file path (sqlite) or a libpq connection string. With
	 * SC_LEDGER_CREATE, make what is missing of the schema.
	 */
	int	(*open)(const char *target, unsigned int flags, void **dbp,
		    char *errbuf, size_t errlen);
	void	(*close)(void *db);
	const char *(*errmsg)(void *db);
	/* 1 when the database went away (server down, connection cut). */
	int	(*lost)(void *db);
	/* A write transaction that no other writer runs beside. */
	int	(*begin)(void *db);
	/* Committed, for certain: only then may a certificate be written. */
	int	(*commit)(void *db);
	void	(*rollback)(void *db);
	/* One read snapshot, for the log checks. */
	int	(*read_begin)(void *db);
	void	(*read_end)(void *db);
	/* Whether meta or the log hold any row (a ledger of format 1). */
	int	(*used)(void *db, int *usedp);
	int	(*meta_get)(void *db, const char *k, char **vp);
	int	(*meta_put)(void *db, const char *k, const char *v);
	/* n rows of meta at once (the log's head and count at a commit). */
	int	(*meta_put_many)(void *db, const char *const *k,
		    const char *const *v, size_t n);
	/* The last entry's seq and hash; 0 and GENESIS when there is none. */
	int	(*log_tail)(void *db, long long *seqp, char *head);
	int	(*log_put)(void *db, const struct sc_logrow *r);
	/*
	 * n log entries and n certificates (each pointing at its entry), in
	 * the caller's transaction. A serial another certificate has:
	 * NKHSM_ERR_EXISTS, and *takenp which one.
	 */
	int	(*issue)(void *db, const struct sc_logrow *logs,
		    const struct sc_row *certs, size_t n, size_t *takenp);
	/* sc_ledger_revoke's three rules (ledgerverify.c replays them). */
	int	(*revoke_certs)(void *db, const char *what, const char *value,
		    uint64_t at, const char *reason, int *np);
	/* A key id or key for the future; *np is 0 when it was already. */
	int	(*revoke_future)(void *db, const char *what, const char *value,
		    const char *subject_key, uint64_t at, const char *reason,
		    int *np);
	/*
	 * Of n (key id, subject key fingerprint) pairs, the first whose key id
	 * or key is revoked for the future: 1 and *whichp, 0 for none, -1 when
	 * it cannot tell.
	 */
	int	(*revoked)(void *db, const char *const *key_ids,
		    const char *const *fps, size_t n, size_t *whichp);
	int	(*each)(void *db, int (*fn)(const struct sc_row *, void *),
		    void *arg);
	int	(*each_revocation)(void *db,
		    int (*fn)(const struct sc_revrow *, void *), void *arg);
	int	(*each_log)(void *db, int (*fn)(const struct sc_logrow *, void *),
		    void *arg);
	int	(*log_entry)(void *db, long long seq, char **entryp);
	int	(*each_meta)(void *db,
		    int (*fn)(const char *, const char *, void *), void *arg);
	int	(*relink)(void *db, const char *family, const char *serial,
		    long long seq);
};

extern const struct sc_backend sc_backend_sqlite;
#ifdef HAVE_POSTGRESQL
extern const struct sc_backend sc_backend_pg;
#endif

#endif /* SC_LEDGER_INT_H */
