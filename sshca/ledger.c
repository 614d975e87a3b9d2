/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ledger.c - every issuance and revocation, in SQLite, with an append-only
 * hash-chained log: each log entry's hash covers the previous entry's hash
 * and its own text, and meta.log_head holds the latest. Each entry commits
 * to every field of what it records (ledgerlog.c writes it from the field
 * values); ledgerverify.c checks the records against it.
 *
 * Each issuance is one transaction (the certificate row, its log entry and
 * the new head), committed before the certificate file is written, so a
 * certificate on disk is always in the ledger whatever kills the process.
 * This file is the SQLite backend: all SQL is here.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <sqlite3.h>

#include "nkhsm.h"
#include "nk-int.h"
#include "buf.h"
#include "ledger.h"
#include "ledgerlog.h"

#define BUSY_MS		30000
#define GENESIS		"0000000000000000000000000000000000000000000000000000000000000000"

struct sc_ledger {
	sqlite3		*db;
	sqlite3_stmt	*ins_log;	/* prepared once, reused per entry */
	sqlite3_stmt	*ins_cert;
	sqlite3_stmt	*is_revoked;
	sqlite3_stmt	*get_log;
	/* The log's end within the current transaction. */
	int		 loaded;
	int		 dirty;		/* meta's head is behind: write at commit */
	long long	 seq;
	char		 head[LOG_HASH_HEX];
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

static int
dberr(struct sc_ledger *l, char *errbuf, size_t errlen, const char *what)
{
	nk_errf(errbuf, errlen, "ledger: %s: %s", what, sqlite3_errmsg(l->db));
	return NKHSM_ERR_IO;
}

/*
 * The log format: SC_LOG_FORMAT, or none yet in a ledger that holds
 * nothing. A ledger with settings or entries but no format is format 1.
 */
static int
check_format(struct sc_ledger *l, unsigned int flags, const char *path,
    char *errbuf, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	char *v = NULL;
	int r, used = 0;

	if ((r = sc_ledger_meta_get(l, "log_format", &v)) == 0) {
		r = strcmp(v, SC_LOG_FORMAT) == 0 ? 0 : NKHSM_ERR_UNSUPPORTED;
		if (r != 0)
			nk_errf(errbuf, errlen, "%s: log format '%.16s' is not "
			    "one this version knows", path, v);
		free(v);
		return r;
	}
	if (r != NKHSM_ERR_NO_KEY)
		return dberr(l, errbuf, errlen, "meta");
	if (sqlite3_prepare_v2(l->db, "SELECT (SELECT count(*) FROM meta) + "
	    "(SELECT count(*) FROM log)", -1, &st, NULL) != SQLITE_OK)
		return dberr(l, errbuf, errlen, "meta");
	if (sqlite3_step(st) == SQLITE_ROW)
		used = sqlite3_column_int64(st, 0) > 0;
	sqlite3_finalize(st);
	if (used && !(flags & SC_LEDGER_OLD_OK)) {
		nk_errf(errbuf, errlen, "%s: %s", path, SC_LEDGER_OLD);
		return NKHSM_ERR_UNSUPPORTED;
	}
	return 0;
}

int
sc_ledger_open(const char *dir, unsigned int flags, struct sc_ledger **lp,
    char *errbuf, size_t errlen)
{
	struct sc_ledger *l;
	char path[4096];
	struct stat st;
	int r, oflags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW |
	    SQLITE_OPEN_FULLMUTEX;

	*lp = NULL;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, LEDGER_FILE) >=
	    sizeof(path))
		return NKHSM_ERR_TOO_LARGE;
	if (!(flags & SC_LEDGER_CREATE) && stat(path, &st) == -1) {
		nk_errf(errbuf, errlen, "%s: %s (run nkhsm-sshca init first)",
		    path, strerror(errno));
		return NKHSM_ERR_IO;
	}
	if (flags & SC_LEDGER_CREATE)
		oflags |= SQLITE_OPEN_CREATE;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NKHSM_ERR_NOMEM;
	if (sqlite3_open_v2(path, &l->db, oflags, NULL) != SQLITE_OK) {
		nk_errf(errbuf, errlen, "%s: %s", path, l->db != NULL ?
		    sqlite3_errmsg(l->db) : "cannot open");
		sc_ledger_close(&l);
		return NKHSM_ERR_IO;
	}
	sqlite3_busy_timeout(l->db, BUSY_MS);
	if (sqlite3_exec(l->db, schema, NULL, NULL, NULL) != SQLITE_OK ||
	    sqlite3_exec(l->db, "PRAGMA synchronous=FULL;", NULL, NULL,
	    NULL) != SQLITE_OK) {
		dberr(l, errbuf, errlen, "schema");
		sc_ledger_close(&l);
		return NKHSM_ERR_IO;
	}
	if ((r = check_format(l, flags, path, errbuf, errlen)) != 0) {
		sc_ledger_close(&l);
		return r;
	}
	*lp = l;
	return 0;
}

void
sc_ledger_close(struct sc_ledger **lp)
{
	if (lp == NULL || *lp == NULL)
		return;
	sqlite3_finalize((*lp)->ins_log);
	sqlite3_finalize((*lp)->ins_cert);
	sqlite3_finalize((*lp)->is_revoked);
	sqlite3_finalize((*lp)->get_log);
	if ((*lp)->db != NULL)
		sqlite3_close_v2((*lp)->db);
	free(*lp);
	*lp = NULL;
}

static int
exec(struct sc_ledger *l, const char *sql)
{
	return sqlite3_exec(l->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 :
	    NKHSM_ERR_IO;
}

int
sc_ledger_meta_get(struct sc_ledger *l, const char *k, char **vp)
{
	sqlite3_stmt *st = NULL;
	int r = NKHSM_ERR_IO, rc;

	*vp = NULL;
	if (sqlite3_prepare_v2(l->db, "SELECT v FROM meta WHERE k=?1", -1, &st,
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

/* Inside the caller's transaction: a meta row, as it is. */
int
sc_ledger_meta_put(struct sc_ledger *l, const char *k, const char *v)
{
	sqlite3_stmt *st = NULL;
	int r;

	if (sqlite3_prepare_v2(l->db, "INSERT INTO meta(k,v) VALUES(?1,?2) "
	    "ON CONFLICT(k) DO UPDATE SET v=excluded.v", -1, &st, NULL) !=
	    SQLITE_OK)
		return NKHSM_ERR_IO;
	sqlite3_bind_text(st, 1, k, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, v, -1, SQLITE_STATIC);
	r = sqlite3_step(st) == SQLITE_DONE ? 0 : NKHSM_ERR_IO;
	sqlite3_finalize(st);
	return r;
}

/* The log's end, read once per transaction. */
static int
log_load(struct sc_ledger *l)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *h;

	if (l->loaded)
		return 0;
	l->seq = 0;
	strcpy(l->head, SC_LOG_GENESIS);
	if (sqlite3_prepare_v2(l->db, "SELECT seq, hash FROM log ORDER BY "
	    "seq DESC LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		return NKHSM_ERR_IO;
	if (sqlite3_step(st) == SQLITE_ROW) {
		l->seq = sqlite3_column_int64(st, 0);
		h = sqlite3_column_text(st, 1);
		snprintf(l->head, sizeof(l->head), "%s", h != NULL ?
		    (const char *)h : "");
	}
	sqlite3_finalize(st);
	l->loaded = 1;
	return 0;
}

int
sc_ledger_append(struct sc_ledger *l, const char *entry, long long *seqp,
    char *head)
{
	char hash[LOG_HASH_HEX], *full;
	size_t flen;
	int r, rc;

	if ((r = log_load(l)) != 0)
		return r;
	flen = strlen(entry) + 32;
	if ((full = malloc(flen)) == NULL)
		return NKHSM_ERR_NOMEM;
	snprintf(full, flen, "seq=%lld %s", l->seq + 1, entry);
	if ((r = sc_log_chain_hash(l->head, full, hash)) != 0) {
		free(full);
		return r;
	}
	if (l->ins_log == NULL && sqlite3_prepare_v2(l->db, "INSERT INTO "
	    "log(seq,entry,prev,hash) VALUES(?1,?2,?3,?4)", -1, &l->ins_log,
	    NULL) != SQLITE_OK) {
		free(full);
		return NKHSM_ERR_IO;
	}
	sqlite3_bind_int64(l->ins_log, 1, l->seq + 1);
	sqlite3_bind_text(l->ins_log, 2, full, -1, free);
	sqlite3_bind_text(l->ins_log, 3, l->head, -1, SQLITE_STATIC);
	sqlite3_bind_text(l->ins_log, 4, hash, -1, SQLITE_STATIC);
	rc = sqlite3_step(l->ins_log);
	sqlite3_reset(l->ins_log);
	sqlite3_clear_bindings(l->ins_log);
	if (rc != SQLITE_DONE)
		return NKHSM_ERR_IO;
	l->seq++;
	memcpy(l->head, hash, LOG_HASH_HEX);
	l->dirty = 1;
	if (seqp != NULL)
		*seqp = l->seq;
	if (head != NULL)
		memcpy(head, hash, LOG_HASH_HEX);
	return 0;
}

int
sc_ledger_begin(struct sc_ledger *l, char *errbuf, size_t errlen)
{
	l->loaded = 0;
	l->dirty = 0;
	return exec(l, "BEGIN IMMEDIATE") == 0 ? 0 :
	    dberr(l, errbuf, errlen, "begin");
}

int
sc_ledger_flush(struct sc_ledger *l)
{
	char num[32];
	int r;

	if (!l->dirty)
		return 0;
	snprintf(num, sizeof(num), "%lld", l->seq);
	if ((r = sc_ledger_meta_put(l, "log_head", l->head)) != 0 ||
	    (r = sc_ledger_meta_put(l, "log_count", num)) != 0)
		return r;
	return 0;
}

int
sc_ledger_commit(struct sc_ledger *l, char *errbuf, size_t errlen)
{
	if (sc_ledger_flush(l) != 0) {
		sc_ledger_rollback(l);
		return dberr(l, errbuf, errlen, "commit");
	}
	if (exec(l, "COMMIT") != 0) {
		sc_ledger_rollback(l);
		return dberr(l, errbuf, errlen, "commit");
	}
	l->loaded = 0;
	l->dirty = 0;
	return 0;
}

void
sc_ledger_rollback(struct sc_ledger *l)
{
	(void)exec(l, "ROLLBACK");
	l->loaded = 0;
	l->dirty = 0;
}

int
sc_ledger_read_begin(struct sc_ledger *l)
{
	return exec(l, "BEGIN");
}

void
sc_ledger_read_end(struct sc_ledger *l)
{
	(void)exec(l, "ROLLBACK");
}

/* A setting and its log entry, inside the caller's transaction. */
static int
set_logged(struct sc_ledger *l, const char *k, const char *v, uint64_t now)
{
	char *entry = NULL;
	int r;

	if ((r = sc_log_set_entry(k, v, now, &entry)) == 0 &&
	    (r = sc_ledger_append(l, entry, NULL, NULL)) == 0)
		r = sc_ledger_meta_put(l, k, v);
	free(entry);
	return r;
}

int
sc_ledger_init(struct sc_ledger *l, const char *const *keys,
    const char *const *values, size_t n, char *errbuf, size_t errlen)
{
	uint64_t now = (uint64_t)time(NULL);
	char *entry = NULL;
	size_t i;
	int r;

	if ((r = sc_ledger_begin(l, errbuf, errlen)) != 0)
		return r;
	if ((r = sc_log_format_entry(NULL, now, &entry)) != 0 ||
	    (r = sc_ledger_append(l, entry, NULL, NULL)) != 0 ||
	    (r = sc_ledger_meta_put(l, "log_format", SC_LOG_FORMAT)) != 0)
		goto fail;
	for (i = 0; i < n; i++)
		if ((r = set_logged(l, keys[i], values[i], now)) != 0)
			goto fail;
	free(entry);
	return sc_ledger_commit(l, errbuf, errlen);
 fail:
	free(entry);
	sc_ledger_rollback(l);
	if (r != NKHSM_ERR_NOMEM)
		return dberr(l, errbuf, errlen, "init");
	return r;
}

int
sc_ledger_counter(struct sc_ledger *l, const char *k, uint64_t *vp)
{
	char *v = NULL, buf[32];
	unsigned long long n = 0;
	int r;

	if (sc_ledger_begin(l, NULL, 0) != 0)
		return NKHSM_ERR_IO;
	r = sc_ledger_meta_get(l, k, &v);
	if (r == 0)
		n = strtoull(v, NULL, 10);
	else if (r != NKHSM_ERR_NO_KEY)
		goto fail;
	free(v);
	snprintf(buf, sizeof(buf), "%llu", n + 1);
	if ((r = set_logged(l, k, buf, (uint64_t)time(NULL))) != 0 ||
	    sc_ledger_commit(l, NULL, 0) != 0)
		goto fail;
	*vp = n + 1;
	return 0;
 fail:
	sc_ledger_rollback(l);
	return NKHSM_ERR_IO;
}

/* One issuance inside the caller's transaction. */
int
sc_ledger_add(struct sc_ledger *l, const struct sc_entry *e, char *head,
    char *errbuf, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	struct sc_row c;
	char *entry = NULL;
	long long seq = 0;
	uint64_t now = (uint64_t)time(NULL);
	int rc, r;

	/* The entry commits to the row's every field: the same values. */
	memset(&c, 0, sizeof(c));
	c.family = e->family;
	c.kind = e->kind;
	c.serial = e->serial;
	c.key_id = e->key_id;
	c.principals = e->principals;
	c.valid_after = e->valid_after;
	c.valid_before = e->valid_before;
	c.issued_at = now;
	c.subject_fp = e->subject_fp;
	c.subject_key = e->subject_key;
	c.cert = e->cert;
	c.certlen = e->certlen;
	if ((r = sc_log_cert_entry("issue", &c, now, 0, &entry)) != 0) {
		nk_errf(errbuf, errlen, "ledger: cannot make the log entry: %s",
		    nkhsm_strerror(r));
		return r;
	}
	r = sc_ledger_append(l, entry, &seq, head);
	free(entry);
	if (r != 0)
		return dberr(l, errbuf, errlen, "log");
	if (l->ins_cert == NULL && sqlite3_prepare_v2(l->db, "INSERT INTO "
	    "certs(family,serial,kind,key_id,principals,valid_after,"
	    "valid_before,subject_fp,subject_key,issued_at,cert,log_seq) "
	    "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12)", -1, &l->ins_cert,
	    NULL) != SQLITE_OK)
		return dberr(l, errbuf, errlen, "prepare");
	st = l->ins_cert;
	sqlite3_bind_text(st, 1, c.family, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, c.serial, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, c.kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, c.key_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, c.principals, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)c.valid_after);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)c.valid_before);
	sqlite3_bind_text(st, 8, c.subject_fp, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, c.subject_key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 10, (sqlite3_int64)c.issued_at);
	sqlite3_bind_blob(st, 11, c.cert, (int)c.certlen, SQLITE_STATIC);
	sqlite3_bind_int64(st, 12, seq);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc == SQLITE_CONSTRAINT)
		return NKHSM_ERR_EXISTS;	/* the serial is taken */
	if (rc != SQLITE_DONE)
		return dberr(l, errbuf, errlen, "insert");
	return 0;
}

int
sc_ledger_issue(struct sc_ledger *l, const struct sc_entry *e, char *head,
    char *errbuf, size_t errlen)
{
	int r;

	if ((r = sc_ledger_begin(l, errbuf, errlen)) != 0)
		return r;
	if ((r = sc_ledger_add(l, e, head, errbuf, errlen)) != 0) {
		sc_ledger_rollback(l);
		return r;
	}
	return sc_ledger_commit(l, errbuf, errlen);
}

/* Mark the certificates a revocation covers; the changed count in *np. */
static int
revoke_certs(struct sc_ledger *l, const char *what, const char *value,
    uint64_t now, const char *reason, int *np)
{
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
	if (sqlite3_prepare_v2(l->db, sql, -1, &st, NULL) != SQLITE_OK)
		return NKHSM_ERR_IO;
	sqlite3_bind_text(st, 1, what, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)now);
	sqlite3_bind_text(st, 4, reason, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return NKHSM_ERR_IO;
	*np = sqlite3_changes(l->db);
	return 0;
}

/* A key id or key revoked for the future too (the KRL lists it). */
static int
revoke_future(struct sc_ledger *l, const char *what, const char *value,
    const char *subject_key, uint64_t now, const char *reason, int *np)
{
	sqlite3_stmt *st = NULL;
	int rc;

	*np = 0;
	if (sqlite3_prepare_v2(l->db, "INSERT OR IGNORE INTO revocations("
	    "what,value,subject_key,at,reason) VALUES(?1,?2,?3,?4,?5)", -1,
	    &st, NULL) != SQLITE_OK)
		return NKHSM_ERR_IO;
	sqlite3_bind_text(st, 1, what, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, subject_key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)now);
	sqlite3_bind_text(st, 5, reason, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return NKHSM_ERR_IO;
	*np = sqlite3_changes(l->db);
	return 0;
}

int
sc_ledger_revoke(struct sc_ledger *l, const char *what, const char *value,
    const char *subject_key, const char *reason, unsigned int *countp,
    char *head, char *errbuf, size_t errlen)
{
	uint64_t now = (uint64_t)time(NULL);
	const char *why = reason != NULL ? reason : "";
	int future = strcmp(what, "key_id") == 0 || strcmp(what, "key") == 0;
	char *entry = NULL;
	int r, n = 0, m = 0;

	*countp = 0;
	if ((r = sc_ledger_begin(l, errbuf, errlen)) != 0)
		return r;
	/* One time for the rows and the entry: verify-log compares them. */
	if ((r = revoke_certs(l, what, value, now, why, &n)) != 0 ||
	    (future && (r = revoke_future(l, what, value, subject_key, now,
	    why, &m)) != 0)) {
		if (r != NKHSM_ERR_INVALID_ARGUMENT)
			r = dberr(l, errbuf, errlen, "revoke");
		goto fail;
	}
	if (!future && n == 0) {
		nk_errf(errbuf, errlen, "no unrevoked %s certificate with serial %s",
		    what, value);
		r = NKHSM_ERR_NO_KEY;
		goto fail;
	}
	if ((r = sc_log_rev_entry("revoke", what, value, future ? subject_key :
	    NULL, now, why, now, &entry)) != 0) {
		nk_errf(errbuf, errlen, "ledger: revocation %s",
		    r == NKHSM_ERR_TOO_LARGE ? "reason too long" : "entry failed");
		goto fail;
	}
	if ((r = sc_ledger_append(l, entry, NULL, head)) != 0) {
		dberr(l, errbuf, errlen, "log");
		goto fail;
	}
	free(entry);
	if ((r = sc_ledger_commit(l, errbuf, errlen)) != 0)
		return r;
	*countp = (unsigned int)(n + m);
	return 0;
 fail:
	free(entry);
	sc_ledger_rollback(l);
	return r;
}

/* An INTEGER column: its value, and whether it is NULL. */
static uint64_t
col_u64(sqlite3_stmt *st, int i, int *nullp)
{
	*nullp = sqlite3_column_type(st, i) == SQLITE_NULL;
	return (uint64_t)sqlite3_column_int64(st, i);
}

int
sc_ledger_each(struct sc_ledger *l, int (*fn)(const struct sc_row *, void *),
    void *arg)
{
	sqlite3_stmt *st = NULL;
	struct sc_row row;
	int rc, r = 0, null;

	if (sqlite3_prepare_v2(l->db, "SELECT family,kind,serial,key_id,"
	    "principals,valid_after,valid_before,issued_at,subject_fp,subject_key,"
	    "cert,revoked_at,reason,log_seq FROM certs ORDER BY issued_at, rowid",
	    -1, &st, NULL) != SQLITE_OK)
		return NKHSM_ERR_IO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&row, 0, sizeof(row));
		row.family = (const char *)sqlite3_column_text(st, 0);
		row.kind = (const char *)sqlite3_column_text(st, 1);
		row.serial = (const char *)sqlite3_column_text(st, 2);
		row.key_id = (const char *)sqlite3_column_text(st, 3);
		row.principals = (const char *)sqlite3_column_text(st, 4);
		row.valid_after = col_u64(st, 5, &row.null_valid_after);
		row.valid_before = col_u64(st, 6, &row.null_valid_before);
		row.issued_at = col_u64(st, 7, &row.null_issued_at);
		row.subject_fp = (const char *)sqlite3_column_text(st, 8);
		row.subject_key = (const char *)sqlite3_column_text(st, 9);
		row.cert = sqlite3_column_blob(st, 10);
		row.certlen = (size_t)sqlite3_column_bytes(st, 10);
		row.revoked_at = col_u64(st, 11, &null);
		row.revoked = !null;
		row.reason = (const char *)sqlite3_column_text(st, 12);
		row.log_seq = sqlite3_column_int64(st, 13);
		if (sqlite3_column_type(st, 13) != SQLITE_INTEGER)
			row.log_seq = -1;	/* not a sequence number */
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

int
sc_ledger_each_revocation(struct sc_ledger *l,
    int (*fn)(const struct sc_revrow *, void *), void *arg)
{
	sqlite3_stmt *st = NULL;
	struct sc_revrow rv;
	int rc, r = 0;

	if (sqlite3_prepare_v2(l->db, "SELECT what,value,subject_key,at,reason "
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

int
sc_ledger_each_log(struct sc_ledger *l, int (*fn)(const struct sc_logrow *,
    void *), void *arg)
{
	sqlite3_stmt *st = NULL;
	struct sc_logrow lr;
	int rc, r = 0;

	if (sqlite3_prepare_v2(l->db, "SELECT seq,entry,prev,hash FROM log "
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

int
sc_ledger_log_entry(struct sc_ledger *l, long long seq, char **entryp)
{
	const unsigned char *t;
	int rc, r;

	*entryp = NULL;
	if (l->get_log == NULL && sqlite3_prepare_v2(l->db, "SELECT entry FROM "
	    "log WHERE seq=?1", -1, &l->get_log, NULL) != SQLITE_OK)
		return NKHSM_ERR_IO;
	sqlite3_bind_int64(l->get_log, 1, seq);
	if ((rc = sqlite3_step(l->get_log)) == SQLITE_ROW &&
	    (t = sqlite3_column_text(l->get_log, 0)) != NULL)
		r = (*entryp = strdup((const char *)t)) == NULL ?
		    NKHSM_ERR_NOMEM : 0;
	else
		r = rc == SQLITE_DONE || rc == SQLITE_ROW ? NKHSM_ERR_NO_KEY :
		    NKHSM_ERR_IO;
	sqlite3_reset(l->get_log);
	sqlite3_clear_bindings(l->get_log);
	return r;
}

int
sc_ledger_each_meta(struct sc_ledger *l, int (*fn)(const char *,
    const char *, void *), void *arg)
{
	sqlite3_stmt *st = NULL;
	int rc, r = 0;

	if (sqlite3_prepare_v2(l->db, "SELECT k, v FROM meta ORDER BY k", -1,
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

int
sc_ledger_relink(struct sc_ledger *l, const char *family, const char *serial,
    long long seq)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (sqlite3_prepare_v2(l->db, "UPDATE certs SET log_seq=?3 WHERE "
	    "family=?1 AND serial=?2", -1, &st, NULL) != SQLITE_OK)
		return NKHSM_ERR_IO;
	sqlite3_bind_text(st, 1, family, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, serial, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, seq);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE && sqlite3_changes(l->db) == 1 ? 0 :
	    NKHSM_ERR_IO;
}

/* Is this key id or subject key revoked for the future? */
int
sc_ledger_is_revoked(struct sc_ledger *l, const char *key_id, const char *fp)
{
	int r = 0, rc;

	/* Asked once per request of a batch: prepared once. */
	if (l->is_revoked == NULL && sqlite3_prepare_v2(l->db, "SELECT 1 FROM "
	    "revocations WHERE (what='key_id' AND value=?1) OR "
	    "(what='key' AND value=?2)", -1, &l->is_revoked, NULL) != SQLITE_OK)
		return -1;
	sqlite3_bind_text(l->is_revoked, 1, key_id != NULL ? key_id : "", -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(l->is_revoked, 2, fp != NULL ? fp : "", -1,
	    SQLITE_STATIC);
	if ((rc = sqlite3_step(l->is_revoked)) == SQLITE_ROW)
		r = 1;
	else if (rc != SQLITE_DONE)
		r = -1;		/* cannot tell: the caller refuses */
	sqlite3_reset(l->is_revoked);
	sqlite3_clear_bindings(l->is_revoked);
	return r;
}
