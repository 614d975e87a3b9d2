/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ledger-sqlite.c - the ledger in an SQLite file (the default, one host):
 * every SQL statement of that backend. Writers are serialised by BEGIN
 * IMMEDIATE (the database's write lock, waited for up to BUSY_MS), the
 * file is synced at every commit (synchronous=FULL), and readers see one
 * snapshot (WAL).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sqlite3.h>

#include "nkhsm.h"
#include "nk-int.h"
#include "ledger.h"
#include "ledger-int.h"
#include "ledgerlog.h"

#define BUSY_MS		30000

struct sq {
	sqlite3		*db;
	sqlite3_stmt	*ins_log;	/* prepared once, reused per entry */
	sqlite3_stmt	*ins_cert;
	sqlite3_stmt	*is_revoked;
	sqlite3_stmt	*get_log;
};

static const char schema[] =
	"PRAGMA journal_mode=WAL;"
	"CREATE TABLE IF NOT EXISTS meta("
	"  k TEXT PRIMARY KEY, v TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS certs("
	"  family TEXT NOT NULL CHECK(family IN ('ssh','x509')),"
	"  serial TEXT NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  key_id TEXT NOT NULL,"
	"  principals TEXT NOT NULL,"
	"  valid_after INTEGER NOT NULL,"	/* uint64 stored as int64 bits */
	"  valid_before INTEGER NOT NULL,"
	"  subject_fp TEXT NOT NULL,"
	"  subject_key TEXT NOT NULL,"
	"  issued_at INTEGER NOT NULL,"
	"  cert BLOB NOT NULL,"
	"  log_seq INTEGER NOT NULL,"
	"  revoked_at INTEGER,"
	"  reason TEXT,"
	"  UNIQUE(family, serial));"		/* never two certificates per serial */
	"CREATE TABLE IF NOT EXISTS revocations("
	"  what TEXT NOT NULL CHECK(what IN ('key_id','key')),"
	"  value TEXT NOT NULL,"
	"  subject_key TEXT,"
	"  at INTEGER NOT NULL,"
	"  reason TEXT,"
	"  UNIQUE(what, value));"
	"CREATE TABLE IF NOT EXISTS log("
	"  seq INTEGER PRIMARY KEY,"
	"  entry TEXT NOT NULL,"
	"  prev TEXT NOT NULL,"
	"  hash TEXT NOT NULL);";

static void
sq_close(void *db)
{
	struct sq *s = db;

	if (s == NULL)
		return;
	sqlite3_finalize(s->ins_log);
	sqlite3_finalize(s->ins_cert);
	sqlite3_finalize(s->is_revoked);
	sqlite3_finalize(s->get_log);
	if (s->db != NULL)
		sqlite3_close_v2(s->db);
	free(s);
}

static int
sq_open(const char *path, unsigned int flags, void **dbp, char *errbuf,
    size_t errlen)
{
	struct sq *s;
	struct stat st;
	int oflags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW |
	    SQLITE_OPEN_FULLMUTEX;

	*dbp = NULL;
	if (!(flags & SC_LEDGER_CREATE) && stat(path, &st) == -1) {
		nk_errf(errbuf, errlen, "%s: %s (run nkhsm-sshca init first)",
		    path, strerror(errno));
		return NKHSM_ERR_IO;
	}
	if (flags & SC_LEDGER_CREATE)
		oflags |= SQLITE_OPEN_CREATE;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NKHSM_ERR_NOMEM;
	if (sqlite3_open_v2(path, &s->db, oflags, NULL) != SQLITE_OK) {
		nk_errf(errbuf, errlen, "%s: %s", path, s->db != NULL ?
		    sqlite3_errmsg(s->db) : "cannot open");
		sq_close(s);
		return NKHSM_ERR_IO;
	}
	sqlite3_busy_timeout(s->db, BUSY_MS);
	if (sqlite3_exec(s->db, schema, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(s->db, "PRAGMA synchronous=FULL;", NULL, NULL,
	    NULL) != SQLITE_OK) {
		nk_errf(errbuf, errlen, "ledger: schema: %s",
		    sqlite3_errmsg(s->db));
		sq_close(s);
		return NKHSM_ERR_IO;
	}
	*dbp = s;
	return 0;
}

static const char *
sq_errmsg(void *db)
{
	return sqlite3_errmsg(((struct sq *)db)->db);
}

static int
sq_lost(void *db)
{
	(void)db;
	return 0;	/* a file does not go away in the middle */
}

static int
exec(struct sq *s, const char *sql)
{
	return sqlite3_exec(s->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 :
	    NKHSM_ERR_IO;
}

static int
sq_begin(void *db)
{
	return exec(db, "BEGIN IMMEDIATE");
}

static int
sq_commit(void *db)
{
	return exec(db, "COMMIT");
}

static void
sq_rollback(void *db)
{
	(void)exec(db, "ROLLBACK");
}

static int
sq_read_begin(void *db)
{
	return exec(db, "BEGIN");
}

static void
sq_read_end(void *db)
{
	(void)exec(db, "ROLLBACK");
}

static int
sq_used(void *db, int *usedp)
{
	struct sq *s = db;
	sqlite3_stmt *st = NULL;

	*usedp = 0;
	if (sqlite3_prepare_v2(s->db, "SELECT (SELECT count(*) FROM meta) + "
	    "(SELECT count(*) FROM log)", -1, &st, NULL) != SQLITE_OK)
		return NKHSM_ERR_IO;
	if (sqlite3_step(st) == SQLITE_ROW)
		*usedp = sqlite3_column_int64(st, 0) > 0;
	sqlite3_finalize(st);
	return 0;
}

static int
sq_meta_get(void *db, const char *k, char **vp)
{
	struct sq *s = db;
	sqlite3_stmt *st = NULL;
	int r = NKHSM_ERR_IO, rc;

	*vp = NULL;
	if (sqlite3_prepare_v2(s->db, "SELECT v FROM meta WHERE k=?1", -1, &st,
	    NULL) != SQLITE_OK)
		return NKHSM_ERR_IO;
	sqlite3_bind_text(st, 1, k, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if (sqlite3_column_type(st, 0) == SQLITE_NULL)
			r = NKHSM_ERR_IO;	/* NOT NULL, unless altered */
		else
			r = (*vp = strdup((const char *)sqlite3_column_text(st,
			    0))) == NULL ? NKHSM_ERR_NOMEM : 0;
	} else if (rc == SQLITE_DONE)
		r = NKHSM_ERR_NO_KEY;	/* no such key */
	sqlite3_finalize(st);
	return r;
}

static int
sq_meta_put(void *db, const char *k, const char *v)
{
	struct sq *s = db;
	sqlite3_stmt *st = NULL;
	int r;

	if (sqlite3_prepare_v2(s->db, "INSERT INTO meta(k,v) VALUES(?1,?2) "
	    "ON CONFLICT(k) DO UPDATE SET v=excluded.v", -1, &st, NULL) !=
	    SQLITE_OK)
		return NKHSM_ERR_IO;
	sqlite3_bind_text(st, 1, k, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, v, -1, SQLITE_STATIC);
	r = sqlite3_step(st) == SQLITE_DONE ? 0 : NKHSM_ERR_IO;
	sqlite3_finalize(st);
	return r;
}

static int
sq_meta_put_many(void *db, const char *const *k, const char *const *v,
    size_t n)
{
	size_t i;
	int r;

	for (i = 0; i < n; i++)
		if ((r = sq_meta_put(db, k[i], v[i])) != 0)
			return r;
	return 0;
}

static int
sq_log_tail(void *db, long long *seqp, char *head)
{
	struct sq *s = db;
	sqlite3_stmt *st = NULL;
	const unsigned char *h;

	*seqp = 0;
	strcpy(head, SC_LOG_GENESIS);
	if (sqlite3_prepare_v2(s->db, "SELECT seq, hash FROM log ORDER BY "
	    "seq DESC LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		return NKHSM_ERR_IO;
	if (sqlite3_step(st) == SQLITE_ROW) {
		*seqp = sqlite3_column_int64(st, 0);
		h = sqlite3_column_text(st, 1);
		snprintf(head, LOG_HASH_HEX, "%s", h != NULL ? (const char *)h :
		    "");
	}
	sqlite3_finalize(st);
	return 0;
}

static int
sq_log_put(void *db, const struct sc_logrow *r)
{
	struct sq *s = db;
	int rc;

	if (s->ins_log == NULL && sqlite3_prepare_v2(s->db, "INSERT INTO "
	    "log(seq,entry,prev,hash) VALUES(?1,?2,?3,?4)", -1, &s->ins_log,
	    NULL) != SQLITE_OK)
		return NKHSM_ERR_IO;
	sqlite3_bind_int64(s->ins_log, 1, r->seq);
	sqlite3_bind_text(s->ins_log, 2, r->entry, -1, SQLITE_STATIC);
	sqlite3_bind_text(s->ins_log, 3, r->prev, -1, SQLITE_STATIC);
	sqlite3_bind_text(s->ins_log, 4, r->hash, -1, SQLITE_STATIC);
	rc = sqlite3_step(s->ins_log);
	sqlite3_reset(s->ins_log);
	sqlite3_clear_bindings(s->ins_log);
	return rc == SQLITE_DONE ? 0 : NKHSM_ERR_IO;
}

static int
put_cert(struct sq *s, const struct sc_row *c)
{
	sqlite3_stmt *st;
	int rc;

	if (s->ins_cert == NULL && sqlite3_prepare_v2(s->db, "INSERT INTO "
	    "certs(family,serial,kind,key_id,principals,valid_after,"
	    "valid_before,subject_fp,subject_key,issued_at,cert,log_seq) "
	    "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)", -1, &s->ins_cert,
	    NULL) != SQLITE_OK)
		return NKHSM_ERR_IO;
	st = s->ins_cert;
	sqlite3_bind_text(st, 1, c->family, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c->serial, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, c->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, c->key_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, c->principals, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)c->valid_after);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)c->valid_before);
	sqlite3_bind_text(st, 8, c->subject_fp, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, c->subject_key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 10, (sqlite3_int64)c->issued_at);
	sqlite3_bind_blob(st, 11, c->cert, (int)c->certlen, SQLITE_STATIC);
	sqlite3_bind_int64(st, 12, c->log_seq);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc == SQLITE_CONSTRAINT)
		return NKHSM_ERR_EXISTS;	/* the serial is taken */
	return rc == SQLITE_DONE ? 0 : NKHSM_ERR_IO;
}

static int
sq_issue(void *db, const struct sc_logrow *logs, const struct sc_row *certs,
    size_t n, size_t *takenp)
{
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		if ((r = sq_log_put(db, &logs[i])) != 0)
			return r;
		if ((r = put_cert(db, &certs[i])) != 0) {
			*takenp = i;
			return r;
		}
	}
	return 0;
}

static int
sq_revoke_certs(void *db, const char *what, const char *value, uint64_t at,
    const char *reason, int *np)
{
	struct sq *s = db;
	sqlite3_stmt *st = NULL;
	const char *sql;
	int rc;

	*np = 0;
	/* ledgerverify.c replays exactly these three rules. */
	if (strcmp(what, "ssh") == 0 || strcmp(what, "x509") == 0)
		sql = "UPDATE certs SET revoked_at=?3, reason=?4 WHERE family=?1 "
		    "AND serial=?2 AND revoked_at IS NULL";
	else if (strcmp(what, "key_id") == 0)
		sql = "UPDATE certs SET revoked_at=?3, reason=?4 WHERE family='ssh' "
		    "AND key_id=?2 AND revoked_at IS NULL AND ?1=?1";
	else if (strcmp(what, "key") == 0)
		sql = "UPDATE certs SET revoked_at=?3, reason=?4 WHERE "
		    "subject_fp=?2 AND revoked_at IS NULL AND ?1=?1";
	else
		return NKHSM_ERR_INVALID_ARGUMENT;
	if (sqlite3_prepare_v2(s->db, sql, -1, &st, NULL) != SQLITE_OK)
		return NKHSM_ERR_IO;
	sqlite3_bind_text(st, 1, what, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)at);
	sqlite3_bind_text(st, 4, reason, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return NKHSM_ERR_IO;
	*np = sqlite3_changes(s->db);
	return 0;
}

static int
sq_revoke_future(void *db, const char *what, const char *value,
    const char *subject_key, uint64_t at, const char *reason, int *np)
{
	struct sq *s = db;
	sqlite3_stmt *st = NULL;
	int rc;

	*np = 0;
	if (sqlite3_prepare_v2(s->db, "INSERT OR IGNORE INTO revocations("
	    "what,value,subject_key,at,reason) VALUES(?1,?2,?3,?4,?5)", -1,
	    &st, NULL) != SQLITE_OK)
		return NKHSM_ERR_IO;
	sqlite3_bind_text(st, 1, what, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, subject_key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)at);
	sqlite3_bind_text(st, 5, reason, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return NKHSM_ERR_IO;
	*np = sqlite3_changes(s->db);
	return 0;
}

/* An INTEGER column: its value, and whether it is NULL. */
static uint64_t
col_u64(sqlite3_stmt *st, int i, int *nullp)
{
	*nullp = sqlite3_column_type(st, i) == SQLITE_NULL;
	return (uint64_t)sqlite3_column_int64(st, i);
}

static void
cert_row(sqlite3_stmt *st, struct sc_row *row)
{
	int null;

	memset(row, 0, sizeof(*row));
	row->family = (const char *)sqlite3_column_text(st, 0);
	row->kind = (const char *)sqlite3_column_text(st, 1);
	row->serial = (const char *)sqlite3_column_text(st, 2);
	row->key_id = (const char *)sqlite3_column_text(st, 3);
	row->principals = (const char *)sqlite3_column_text(st, 4);
	row->valid_after = col_u64(st, 5, &row->null_valid_after);
	row->valid_before = col_u64(st, 6, &row->null_valid_before);
	row->issued_at = col_u64(st, 7, &row->null_issued_at);
	row->subject_fp = (const char *)sqlite3_column_text(st, 8);
	row->subject_key = (const char *)sqlite3_column_text(st, 9);
	row->cert = sqlite3_column_blob(st, 10);
	row->certlen = (size_t)sqlite3_column_bytes(st, 10);
	row->revoked_at = col_u64(st, 11, &null);
	row->revoked = !null;
	row->reason = (const char *)sqlite3_column_text(st, 12);
	row->log_seq = sqlite3_column_int64(st, 13);
	if (sqlite3_column_type(st, 13) != SQLITE_INTEGER)
		row->log_seq = -1;	/* not a sequence number */
}

static int
sq_each(void *db, int (*fn)(const struct sc_row *, void *), void *arg)
{
	struct sq *s = db;
	sqlite3_stmt *st = NULL;
	struct sc_row row;
	int rc, r = 0;

	if (sqlite3_prepare_v2(s->db, "SELECT family,kind,serial,key_id,"
	    "principals,valid_after,valid_before,issued_at,subject_fp,subject_key,"
	    "cert,revoked_at,reason,log_seq FROM certs ORDER BY issued_at, rowid",
	    -1, &st, NULL) != SQLITE_OK)
		return NKHSM_ERR_IO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		cert_row(st, &row);
		/* Every reader gets text or NULL; none gets a half row. */
		if (row.family == NULL || row.kind == NULL || row.serial == NULL) {
			r = NKHSM_ERR_FORMAT;
			break;
		}
		if ((r = fn(&row, arg)) != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
		r = NKHSM_ERR_IO;
	sqlite3_finalize(st);
	return r;
}

static int
sq_each_revocation(void *db, int (*fn)(const struct sc_revrow *, void *),
    void *arg)
{
	struct sq *s = db;
	sqlite3_stmt *st = NULL;
	struct sc_revrow rv;
	int rc, r = 0;

	if (sqlite3_prepare_v2(s->db, "SELECT what,value,subject_key,at,reason "
	    "FROM revocations ORDER BY rowid", -1, &st, NULL) != SQLITE_OK)
		return NKHSM_ERR_IO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&rv, 0, sizeof(rv));
		rv.what = (const char *)sqlite3_column_text(st, 0);
		rv.value = (const char *)sqlite3_column_text(st, 1);
		rv.subject_key = (const char *)sqlite3_column_text(st, 2);
		rv.at = col_u64(st, 3, &rv.null_at);
		rv.reason = (const char *)sqlite3_column_text(st, 4);
		if (rv.what == NULL || rv.value == NULL) {
			r = NKHSM_ERR_FORMAT;
			break;
		}
		if ((r = fn(&rv, arg)) != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
		r = NKHSM_ERR_IO;
	sqlite3_finalize(st);
	return r;
}

static int
sq_each_log(void *db, int (*fn)(const struct sc_logrow *, void *), void *arg)
{
	struct sq *s = db;
	sqlite3_stmt *st = NULL;
	struct sc_logrow lr;
	int rc, r = 0;

	if (sqlite3_prepare_v2(s->db, "SELECT seq,entry,prev,hash FROM log "
	    "ORDER BY seq", -1, &st, NULL) != SQLITE_OK)
		return NKHSM_ERR_IO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		lr.seq = sqlite3_column_int64(st, 0);
		lr.entry = (const char *)sqlite3_column_text(st, 1);
		lr.prev = (const char *)sqlite3_column_text(st, 2);
		lr.hash = (const char *)sqlite3_column_text(st, 3);
		if ((r = fn(&lr, arg)) != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
		r = NKHSM_ERR_IO;
	sqlite3_finalize(st);
	return r;
}

static int
sq_log_entry(void *db, long long seq, char **entryp)
{
	struct sq *s = db;
	const unsigned char *t;
	int rc, r;

	*entryp = NULL;
	if (s->get_log == NULL && sqlite3_prepare_v2(s->db, "SELECT entry FROM "
	    "log WHERE seq=?1", -1, &s->get_log, NULL) != SQLITE_OK)
		return NKHSM_ERR_IO;
	sqlite3_bind_int64(s->get_log, 1, seq);
	if ((rc = sqlite3_step(s->get_log)) == SQLITE_ROW &&
	    (t = sqlite3_column_text(s->get_log, 0)) != NULL)
		r = (*entryp = strdup((const char *)t)) == NULL ?
		    NKHSM_ERR_NOMEM : 0;
	else
		r = rc == SQLITE_DONE || rc == SQLITE_ROW ? NKHSM_ERR_NO_KEY :
		    NKHSM_ERR_IO;
	sqlite3_reset(s->get_log);
	sqlite3_clear_bindings(s->get_log);
	return r;
}

static int
sq_each_meta(void *db, int (*fn)(const char *, const char *, void *),
    void *arg)
{
	struct sq *s = db;
	sqlite3_stmt *st = NULL;
	int rc, r = 0;

	if (sqlite3_prepare_v2(s->db, "SELECT k, v FROM meta ORDER BY k", -1,
	    &st, NULL) != SQLITE_OK)
		return NKHSM_ERR_IO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((r = fn((const char *)sqlite3_column_text(st, 0),
		    (const char *)sqlite3_column_text(st, 1), arg)) != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
		r = NKHSM_ERR_IO;
	sqlite3_finalize(st);
	return r;
}

static int
sq_relink(void *db, const char *family, const char *serial, long long seq)
{
	struct sq *s = db;
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(s->db, "UPDATE certs SET log_seq=?3 WHERE "
	    "family=?1 AND serial=?2", -1, &st, NULL) != SQLITE_OK)
		return NKHSM_ERR_IO;
	sqlite3_bind_text(st, 1, family, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, serial, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, seq);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE && sqlite3_changes(s->db) == 1 ? 0 :
	    NKHSM_ERR_IO;
}

static int
sq_is_revoked(struct sq *s, const char *key_id, const char *fp)
{
	int r = 0, rc;

	/* Asked once per request of a batch: prepared once. */
	if (s->is_revoked == NULL && sqlite3_prepare_v2(s->db, "SELECT 1 FROM "
	    "revocations WHERE (what='key_id' AND value=?1) OR "
	    "(what='key' AND value=?2)", -1, &s->is_revoked, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(s->is_revoked, 1, key_id != NULL ? key_id : "", -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(s->is_revoked, 2, fp != NULL ? fp : "", -1,
	    SQLITE_STATIC);
	if ((rc = sqlite3_step(s->is_revoked)) == SQLITE_ROW)
		r = 1;
	else if (rc != SQLITE_DONE)
		r = -1;		/* cannot tell: the caller refuses */
	sqlite3_reset(s->is_revoked);
	sqlite3_clear_bindings(s->is_revoked);
	return r;
}

static int
sq_revoked(void *db, const char *const *key_ids, const char *const *fps,
    size_t n, size_t *whichp)
{
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		if ((r = sq_is_revoked(db, key_ids[i], fps[i])) != 0) {
			*whichp = i;
			return r;
		}
	}
	return 0;
}

const struct sc_backend sc_backend_sqlite = {
	.name = "sqlite",
	.open = sq_open,
	.close = sq_close,
	.errmsg = sq_errmsg,
	.lost = sq_lost,
	.begin = sq_begin,
	.commit = sq_commit,
	.rollback = sq_rollback,
	.read_begin = sq_read_begin,
	.read_end = sq_read_end,
	.used = sq_used,
	.meta_get = sq_meta_get,
	.meta_put = sq_meta_put,
	.meta_put_many = sq_meta_put_many,
	.log_tail = sq_log_tail,
	.log_put = sq_log_put,
	.issue = sq_issue,
	.revoke_certs = sq_revoke_certs,
	.revoke_future = sq_revoke_future,
	.revoked = sq_revoked,
	.each = sq_each,
	.each_revocation = sq_each_revocation,
	.each_log = sq_each_log,
	.log_entry = sq_log_entry,
	.each_meta = sq_each_meta,
	.relink = sq_relink,
};
