/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ledger.c - every issuance and revocation, in SQLite, with an append-only
 * hash-chained log: each log entry's hash covers the previous entry's hash
 * and its own text, and meta.log_head holds the latest. A deleted or edited
 * entry breaks the chain or disagrees with the certificates it describes.
 *
 * Each issuance is one transaction (the certificate row, its log entry and
 * the new head), committed before the certificate file is written, so a
 * certificate on disk is always in the ledger whatever kills the process.
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
#include "ledger.h"

#define BUSY_MS		30000
#define GENESIS		"0000000000000000000000000000000000000000000000000000000000000000"
#define ENTRY_MAX	(1024 * 1024)	/* 256 principals of 255 bytes, escaped, fit */

struct sc_ledger {
	sqlite3		*db;
	sqlite3_stmt	*ins_log;	/* prepared once, reused per entry */
	sqlite3_stmt	*ins_cert;
	sqlite3_stmt	*is_revoked;
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

int
sc_ledger_open(const char *dir, int create, struct sc_ledger **lp,
    char *errbuf, size_t errlen)
{
	struct sc_ledger *l;
	char path[4096];
	struct stat st;
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW |
	    SQLITE_OPEN_FULLMUTEX;

	*lp = NULL;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, LEDGER_FILE) >=
	    sizeof(path))
		return NKHSM_ERR_TOO_LARGE;
	if (!create && stat(path, &st) == -1) {
		nk_errf(errbuf, errlen, "%s: %s (run nkhsm-sshca init first)",
		    path, strerror(errno));
		return NKHSM_ERR_IO;
	}
	if (create)
		flags |= SQLITE_OPEN_CREATE;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NKHSM_ERR_NOMEM;
	if (sqlite3_open_v2(path, &l->db, flags, NULL) != SQLITE_OK) {
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
		r = (*vp = strdup((const char *)sqlite3_column_text(st, 0))) ==
		    NULL ? NKHSM_ERR_NOMEM : 0;
	} else if (rc == SQLITE_DONE)
		r = NKHSM_ERR_NO_KEY;	/* no such key */
	sqlite3_finalize(st);
	return r;
}

int
sc_ledger_meta_set(struct sc_ledger *l, const char *k, const char *v)
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

int
sc_ledger_counter(struct sc_ledger *l, const char *k, uint64_t *vp)
{
	char *v = NULL, buf[32];
	unsigned long long n = 0;
	int r;

	if (exec(l, "BEGIN IMMEDIATE") != 0)
		return NKHSM_ERR_IO;
	r = sc_ledger_meta_get(l, k, &v);
	if (r == 0)
		n = strtoull(v, NULL, 10);
	else if (r != NKHSM_ERR_NO_KEY)
		goto fail;
	free(v);
	snprintf(buf, sizeof(buf), "%llu", n + 1);
	if ((r = sc_ledger_meta_set(l, k, buf)) != 0 || exec(l, "COMMIT") != 0)
		goto fail;
	*vp = n + 1;
	return 0;
 fail:
	(void)exec(l, "ROLLBACK");
	return NKHSM_ERR_IO;
}

static void
hex64(const uint8_t md[32], char *out)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < 32; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
}

/* SHA-256 of "PREV\nENTRY", in hex: the log's chain. */
static int
hash_entry(const char *prev, const char *entry, char *out)
{
	uint8_t md[32];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx;
	int ok;

	ok = (ctx = EVP_MD_CTX_new()) != NULL &&
	    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
	    EVP_DigestUpdate(ctx, prev, strlen(prev)) &&
	    EVP_DigestUpdate(ctx, "\n", 1) &&
	    EVP_DigestUpdate(ctx, entry, strlen(entry)) &&
	    EVP_DigestFinal_ex(ctx, md, &mdlen) && mdlen == sizeof(md);
	EVP_MD_CTX_free(ctx);
	if (!ok)
		return NKHSM_ERR_CRYPTO;	/* never a chain of zeros */
	hex64(md, out);
	return 0;
}

/*
 * Log text: key=value pairs; values percent-escaped so entries are one
 * line. An entry that does not fit is an error, never a truncation.
 */
static int
put_kv(char *buf, size_t len, const char *k, const char *v)
{
	size_t o = strlen(buf);

	if (o + strlen(k) + 3 >= len)
		return -1;
	o += (size_t)snprintf(buf + o, len - o, "%s%s=", o > 0 ? " " : "", k);
	for (; v != NULL && *v != '\0'; v++) {
		unsigned char c = (unsigned char)*v;

		if (o + 4 >= len)
			return -1;
		if (c <= 0x20 || c >= 0x7f || c == '%' || c == '=')
			o += (size_t)snprintf(buf + o, len - o, "%%%02X", c);
		else
			buf[o++] = (char)c;
	}
	buf[o] = '\0';
	return 0;
}

static int
cert_digest(const uint8_t *cert, size_t len, char *out)
{
	uint8_t md[NK_MAX_DIGEST];
	size_t mdlen = 0;
	int r;

	if ((r = nk_sha2(256, cert, len, md, &mdlen)) != 0)
		return r;
	hex64(md, out);
	return 0;
}

/*
 * Append a log entry inside the caller's transaction; returns its seq. The
 * log's end is read once per transaction and kept here; meta's copy of the
 * head is written once, at commit.
 */
static int
log_append(struct sc_ledger *l, const char *entry, long long *seqp, char *head)
{
	sqlite3_stmt *st = NULL;
	char hash[LOG_HASH_HEX], *full;
	size_t flen;
	int r, rc;

	if (!l->loaded) {
		l->seq = 0;
		strcpy(l->head, GENESIS);
		if (sqlite3_prepare_v2(l->db, "SELECT seq, hash FROM log ORDER BY "
		    "seq DESC LIMIT 1", -1, &st, NULL) != SQLITE_OK)
			return NKHSM_ERR_IO;
		if (sqlite3_step(st) == SQLITE_ROW) {
			l->seq = sqlite3_column_int64(st, 0);
			snprintf(l->head, sizeof(l->head), "%s",
			    sqlite3_column_text(st, 1));
		}
		sqlite3_finalize(st);
		l->loaded = 1;
	}
	flen = strlen(entry) + 32;
	if ((full = malloc(flen)) == NULL)
		return NKHSM_ERR_NOMEM;
	snprintf(full, flen, "seq=%lld %s", l->seq + 1, entry);
	if ((r = hash_entry(l->head, full, hash)) != 0) {
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
sc_ledger_commit(struct sc_ledger *l, char *errbuf, size_t errlen)
{
	char num[32];

	if (l->dirty) {
		snprintf(num, sizeof(num), "%lld", l->seq);
		if (sc_ledger_meta_set(l, "log_head", l->head) != 0 ||
		    sc_ledger_meta_set(l, "log_count", num) != 0) {
			sc_ledger_rollback(l);
			return dberr(l, errbuf, errlen, "commit");
		}
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

/* One issuance inside the caller's transaction. */
int
sc_ledger_add(struct sc_ledger *l, const struct sc_entry *e, char *head,
    char *errbuf, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	char *entry, num[32], num2[32], num3[32], dig[LOG_HASH_HEX];
	long long seq = 0;
	int rc, r;

	if ((entry = malloc(ENTRY_MAX)) == NULL)
		return NKHSM_ERR_NOMEM;
	entry[0] = '\0';
	snprintf(num, sizeof(num), "%lld", (long long)time(NULL));
	snprintf(num2, sizeof(num2), "%llu", (unsigned long long)e->valid_after);
	snprintf(num3, sizeof(num3), "%llu", (unsigned long long)e->valid_before);
	if ((r = cert_digest(e->cert, e->certlen, dig)) != 0) {
		free(entry);
		return r;
	}
	if (put_kv(entry, ENTRY_MAX, "event", "issue") != 0 ||
	    put_kv(entry, ENTRY_MAX, "time", num) != 0 ||
	    put_kv(entry, ENTRY_MAX, "kind", e->kind) != 0 ||
	    put_kv(entry, ENTRY_MAX, "serial", e->serial) != 0 ||
	    put_kv(entry, ENTRY_MAX, "cert_sha256", dig) != 0 ||
	    put_kv(entry, ENTRY_MAX, "subject", e->subject_fp) != 0 ||
	    put_kv(entry, ENTRY_MAX, "valid_after", num2) != 0 ||
	    put_kv(entry, ENTRY_MAX, "valid_before", num3) != 0 ||
	    put_kv(entry, ENTRY_MAX, "key_id", e->key_id) != 0 ||
	    put_kv(entry, ENTRY_MAX, "principals", e->principals) != 0) {
		free(entry);
		nk_errf(errbuf, errlen, "ledger: log entry too large");
		return NKHSM_ERR_TOO_LARGE;
	}
	r = log_append(l, entry, &seq, head);
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
	sqlite3_bind_text(st, 1, e->family, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, e->serial, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, e->kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, e->key_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, e->principals, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)e->valid_after);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)e->valid_before);
	sqlite3_bind_text(st, 8, e->subject_fp, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, e->subject_key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 10, (sqlite3_int64)time(NULL));
	sqlite3_bind_blob(st, 11, e->cert, (int)e->certlen, SQLITE_STATIC);
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

int
sc_ledger_revoke(struct sc_ledger *l, const char *what, const char *value,
    const char *subject_key, const char *reason, unsigned int *countp,
    char *head, char *errbuf, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	const char *sql;
	char entry[8192], num[32];
	long long seq;
	int r = NKHSM_ERR_IO, n;

	*countp = 0;
	if ((r = sc_ledger_begin(l, errbuf, errlen)) != 0)
		return r;
	if (strcmp(what, "ssh") == 0 || strcmp(what, "x509") == 0)
		sql = "UPDATE certs SET revoked_at=?3, reason=?4 WHERE family=?1 "
		    "AND serial=?2 AND revoked_at IS NULL";
	else if (strcmp(what, "key_id") == 0)
		sql = "UPDATE certs SET revoked_at=?3, reason=?4 WHERE family='ssh' "
		    "AND key_id=?2 AND revoked_at IS NULL AND ?1=?1";
	else if (strcmp(what, "key") == 0)
		sql = "UPDATE certs SET revoked_at=?3, reason=?4 WHERE "
		    "subject_fp=?2 AND revoked_at IS NULL AND ?1=?1";
	else {
		r = NKHSM_ERR_INVALID_ARGUMENT;
		goto fail;
	}
	if (sqlite3_prepare_v2(l->db, sql, -1, &st, NULL) != SQLITE_OK) {
		r = dberr(l, errbuf, errlen, "prepare");
		goto fail;
	}
	sqlite3_bind_text(st, 1, what, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
	sqlite3_bind_text(st, 4, reason != NULL ? reason : "", -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		sqlite3_finalize(st);
		r = dberr(l, errbuf, errlen, "update");
		goto fail;
	}
	sqlite3_finalize(st);
	n = sqlite3_changes(l->db);
	/* Key ids and keys are revoked for the future too, in the KRL. */
	if (strcmp(what, "key_id") == 0 || strcmp(what, "key") == 0) {
		if (sqlite3_prepare_v2(l->db, "INSERT OR IGNORE INTO revocations("
		    "what,value,subject_key,at,reason) VALUES(?1,?2,?3,?4,?5)", -1,
		    &st, NULL) != SQLITE_OK) {
			r = dberr(l, errbuf, errlen, "prepare");
			goto fail;
		}
		sqlite3_bind_text(st, 1, what, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, subject_key, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, (sqlite3_int64)time(NULL));
		sqlite3_bind_text(st, 5, reason != NULL ? reason : "", -1,
		    SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE) {
			sqlite3_finalize(st);
			r = dberr(l, errbuf, errlen, "insert");
			goto fail;
		}
		sqlite3_finalize(st);
		n += sqlite3_changes(l->db);
	} else if (n == 0) {
		nk_errf(errbuf, errlen, "no unrevoked %s certificate with serial %s",
		    what, value);
		r = NKHSM_ERR_NO_KEY;
		goto fail;
	}
	entry[0] = '\0';
	snprintf(num, sizeof(num), "%lld", (long long)time(NULL));
	if (put_kv(entry, sizeof(entry), "event", "revoke") != 0 ||
	    put_kv(entry, sizeof(entry), "time", num) != 0 ||
	    put_kv(entry, sizeof(entry), "what", what) != 0 ||
	    put_kv(entry, sizeof(entry), "value", value) != 0 ||
	    put_kv(entry, sizeof(entry), "reason", reason) != 0) {
		nk_errf(errbuf, errlen, "ledger: revocation reason too long");
		r = NKHSM_ERR_TOO_LARGE;
		goto fail;
	}
	if ((r = log_append(l, entry, &seq, head)) != 0) {
		dberr(l, errbuf, errlen, "log");
		goto fail;
	}
	if ((r = sc_ledger_commit(l, errbuf, errlen)) != 0)
		return r;
	*countp = (unsigned int)n;
	return 0;
 fail:
	sc_ledger_rollback(l);
	return r;
}

int
sc_ledger_each(struct sc_ledger *l, int (*fn)(const struct sc_row *, void *),
    void *arg)
{
	sqlite3_stmt *st = NULL;
	struct sc_row row;
	int rc, r = 0;

	if (sqlite3_prepare_v2(l->db, "SELECT family,kind,serial,key_id,"
	    "principals,valid_after,valid_before,issued_at,subject_fp,subject_key,"
	    "cert,revoked_at,reason FROM certs ORDER BY issued_at, rowid", -1, &st,
	    NULL) != SQLITE_OK)
		return NKHSM_ERR_IO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		memset(&row, 0, sizeof(row));
		row.family = (const char *)sqlite3_column_text(st, 0);
		row.kind = (const char *)sqlite3_column_text(st, 1);
		row.serial = (const char *)sqlite3_column_text(st, 2);
		row.key_id = (const char *)sqlite3_column_text(st, 3);
		row.principals = (const char *)sqlite3_column_text(st, 4);
		row.valid_after = (uint64_t)sqlite3_column_int64(st, 5);
		row.valid_before = (uint64_t)sqlite3_column_int64(st, 6);
		row.issued_at = (uint64_t)sqlite3_column_int64(st, 7);
		row.subject_fp = (const char *)sqlite3_column_text(st, 8);
		row.subject_key = (const char *)sqlite3_column_text(st, 9);
		row.cert = sqlite3_column_blob(st, 10);
		row.certlen = (size_t)sqlite3_column_bytes(st, 10);
		row.revoked = sqlite3_column_type(st, 11) != SQLITE_NULL;
		row.revoked_at = (uint64_t)sqlite3_column_int64(st, 11);
		row.reason = (const char *)sqlite3_column_text(st, 12);
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
    int (*fn)(const char *, const char *, const char *, void *), void *arg)
{
	sqlite3_stmt *st = NULL;
	int rc, r = 0;

	if (sqlite3_prepare_v2(l->db, "SELECT what,value,subject_key FROM "
	    "revocations ORDER BY rowid", -1, &st, NULL) != SQLITE_OK)
		return NKHSM_ERR_IO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		if ((r = fn((const char *)sqlite3_column_text(st, 0),
		    (const char *)sqlite3_column_text(st, 1),
		    (const char *)sqlite3_column_text(st, 2), arg)) != 0)
			break;
	}
	if (r == 0 && rc != SQLITE_DONE && rc != SQLITE_ROW)
		r = NKHSM_ERR_IO;
	sqlite3_finalize(st);
	return r;
}

/* The value of key k in a log entry, percent-decoded; 0 when found. */
static int
entry_field(const char *entry, const char *k, char *out, size_t outlen)
{
	const char *p = entry, *v;
	size_t klen = strlen(k), o = 0;
	unsigned int c;

	for (;;) {
		if (strncmp(p, k, klen) == 0 && p[klen] == '=')
			break;
		if ((p = strchr(p, ' ')) == NULL)
			return -1;
		p++;
	}
	for (v = p + klen + 1; *v != '\0' && *v != ' '; v++) {
		if (o + 1 >= outlen)
			return -1;
		if (*v == '%' && sscanf(v + 1, "%2x", &c) == 1) {
			out[o++] = (char)c;
			v += 2;
		} else
			out[o++] = *v;
	}
	out[o] = '\0';
	return 0;
}

struct revent {
	char	*what;
	char	*value;
};

static void
revents_free(struct revent *r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(r[i].what);
		free(r[i].value);
	}
	free(r);
}

static int
revoked_by_log(const struct revent *rev, size_t n, const char *family,
    const char *serial, const char *key_id, const char *fp)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if ((strcmp(rev[i].what, family) == 0 &&
		    strcmp(rev[i].value, serial) == 0) ||
		    (strcmp(family, "ssh") == 0 && strcmp(rev[i].what, "key_id") == 0 &&
		    strcmp(rev[i].value, key_id) == 0) ||
		    (strcmp(rev[i].what, "key") == 0 && strcmp(rev[i].value, fp) == 0))
			return 1;
	}
	return 0;
}

int
sc_ledger_verify_log(struct sc_ledger *l, const char *expect_head,
    unsigned long *countp, char *head, char *errbuf, size_t errlen)
{
	sqlite3_stmt *st = NULL;
	char prev[LOG_HASH_HEX], hash[LOG_HASH_HEX], dig[LOG_HASH_HEX];
	char *mhead = NULL, *f1 = NULL, *f2 = NULL;
	const char *entry, *family, *serial, *kind, *key_id, *fp;
	struct revent *rev = NULL, *nr;
	size_t nrev = 0, caprev = 0;
	long long seq, expect = 1;
	unsigned long issues = 0, certs = 0;
	int rc, r = NKHSM_ERR_SIGNATURE, head_seen = expect_head == NULL;

	*countp = 0;
	strcpy(prev, GENESIS);
	if ((f1 = malloc(ENTRY_MAX)) == NULL || (f2 = malloc(ENTRY_MAX)) == NULL) {
		r = NKHSM_ERR_NOMEM;
		goto out;
	}
	if (sqlite3_prepare_v2(l->db, "SELECT seq,entry,prev,hash FROM log "
	    "ORDER BY seq", -1, &st, NULL) != SQLITE_OK) {
		r = dberr(l, errbuf, errlen, "log");
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		seq = sqlite3_column_int64(st, 0);
		entry = (const char *)sqlite3_column_text(st, 1);
		if (seq != expect) {
			nk_errf(errbuf, errlen, "log entry %lld is missing", expect);
			goto out;
		}
		if (strcmp((const char *)sqlite3_column_text(st, 2), prev) != 0) {
			nk_errf(errbuf, errlen, "log entry %lld does not follow "
			    "entry %lld", seq, seq - 1);
			goto out;
		}
		if (hash_entry(prev, entry, hash) != 0) {
			nk_errf(errbuf, errlen, "cannot hash log entry %lld", seq);
			goto out;
		}
		if (strcmp(hash, (const char *)sqlite3_column_text(st, 3)) != 0) {
			nk_errf(errbuf, errlen, "log entry %lld was altered", seq);
			goto out;
		}
		if (entry_field(entry, "event", f1, ENTRY_MAX) == 0 &&
		    strcmp(f1, "issue") == 0)
			issues++;
		else if (strcmp(f1, "revoke") == 0) {
			if (entry_field(entry, "what", f1, ENTRY_MAX) != 0 ||
			    entry_field(entry, "value", f2, ENTRY_MAX) != 0) {
				nk_errf(errbuf, errlen, "log entry %lld is malformed",
				    seq);
				goto out;
			}
			if (nrev == caprev) {
				caprev = caprev == 0 ? 16 : caprev * 2;
				if ((nr = realloc(rev, caprev * sizeof(*rev))) == NULL) {
					r = NKHSM_ERR_NOMEM;
					goto out;
				}
				rev = nr;
			}
			rev[nrev].what = strdup(f1);
			rev[nrev].value = strdup(f2);
			if (rev[nrev].what == NULL || rev[nrev].value == NULL) {
				nrev++;
				r = NKHSM_ERR_NOMEM;
				goto out;
			}
			nrev++;
		}
		/* A head recorded earlier must be an entry of this chain. */
		if (!head_seen && strcmp(hash, expect_head) == 0)
			head_seen = 1;
		memcpy(prev, hash, LOG_HASH_HEX);
		expect++;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rc != SQLITE_DONE) {
		r = dberr(l, errbuf, errlen, "log");
		goto out;
	}
	if (sc_ledger_meta_get(l, "log_head", &mhead) == 0) {
		if (strcmp(mhead, prev) != 0) {
			nk_errf(errbuf, errlen, "the log ends at entry %lld, but the "
			    "ledger's head is another entry (entries removed)",
			    expect - 1);
			goto out;
		}
	} else if (expect > 1) {
		nk_errf(errbuf, errlen, "the ledger's log head is missing");
		goto out;
	}
	if (!head_seen) {
		nk_errf(errbuf, errlen, "%s is not an entry of this log (the log "
		    "was rewritten, or the head is from another CA)", expect_head);
		goto out;
	}
	/* Every certificate has its log entry, with the same bytes and state. */
	if (sqlite3_prepare_v2(l->db, "SELECT c.family, c.serial, c.kind, "
	    "c.key_id, c.subject_fp, c.cert, c.revoked_at, l.entry FROM certs c "
	    "LEFT JOIN log l ON l.seq = c.log_seq", -1, &st, NULL) != SQLITE_OK) {
		r = dberr(l, errbuf, errlen, "certs");
		goto out;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		certs++;
		family = (const char *)sqlite3_column_text(st, 0);
		serial = (const char *)sqlite3_column_text(st, 1);
		kind = (const char *)sqlite3_column_text(st, 2);
		key_id = (const char *)sqlite3_column_text(st, 3);
		fp = (const char *)sqlite3_column_text(st, 4);
		entry = (const char *)sqlite3_column_text(st, 7);
		if (cert_digest(sqlite3_column_blob(st, 5),
		    (size_t)sqlite3_column_bytes(st, 5), dig) != 0) {
			nk_errf(errbuf, errlen, "cannot hash certificate serial %s",
			    serial);
			goto out;
		}
		if (entry == NULL ||
		    entry_field(entry, "serial", f1, ENTRY_MAX) != 0 ||
		    strcmp(f1, serial) != 0 ||
		    entry_field(entry, "cert_sha256", f2, ENTRY_MAX) != 0 ||
		    strcmp(f2, dig) != 0 ||
		    entry_field(entry, "kind", f1, ENTRY_MAX) != 0 ||
		    strcmp(f1, kind) != 0 ||
		    entry_field(entry, "key_id", f2, ENTRY_MAX) != 0 ||
		    strcmp(f2, key_id) != 0) {
			nk_errf(errbuf, errlen, "certificate serial %s does not match "
			    "its log entry", serial);
			goto out;
		}
		if ((sqlite3_column_type(st, 6) != SQLITE_NULL) !=
		    revoked_by_log(rev, nrev, family, serial, key_id, fp)) {
			nk_errf(errbuf, errlen, "certificate serial %s is %s in the "
			    "ledger but %s by the log", serial,
			    sqlite3_column_type(st, 6) != SQLITE_NULL ? "revoked" :
			    "valid", sqlite3_column_type(st, 6) != SQLITE_NULL ?
			    "not revoked" : "revoked");
			goto out;
		}
	}
	sqlite3_finalize(st);
	st = NULL;
	if (rc != SQLITE_DONE) {
		r = dberr(l, errbuf, errlen, "certs");
		goto out;
	}
	if (certs != issues) {
		nk_errf(errbuf, errlen, "the log records %lu issuances but the "
		    "ledger holds %lu certificates", issues, certs);
		goto out;
	}
	/* Key id and key revocations: in the table exactly when in the log. */
	{
		size_t i, want = 0;
		unsigned long have = 0;

		for (i = 0; i < nrev; i++)
			if (strcmp(rev[i].what, "key_id") == 0 ||
			    strcmp(rev[i].what, "key") == 0)
				want++;
		if (sqlite3_prepare_v2(l->db, "SELECT what, value FROM revocations",
		    -1, &st, NULL) != SQLITE_OK) {
			r = dberr(l, errbuf, errlen, "revocations");
			goto out;
		}
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			for (i = 0; i < nrev; i++)
				if (strcmp(rev[i].what, (const char *)
				    sqlite3_column_text(st, 0)) == 0 &&
				    strcmp(rev[i].value, (const char *)
				    sqlite3_column_text(st, 1)) == 0)
					break;
			if (i == nrev) {
				nk_errf(errbuf, errlen, "revocation of %s %s is not in "
				    "the log", sqlite3_column_text(st, 0),
				    sqlite3_column_text(st, 1));
				goto out;
			}
			have++;
		}
		if (have != want) {
			nk_errf(errbuf, errlen, "the log records %zu key id/key "
			    "revocations but the ledger holds %lu (one was removed)",
			    want, have);
			goto out;
		}
	}
	*countp = (unsigned long)(expect - 1);
	if (head != NULL)
		memcpy(head, prev, LOG_HASH_HEX);
	r = 0;
 out:
	free(mhead);
	free(f1);
	free(f2);
	revents_free(rev, nrev);
	sqlite3_finalize(st);
	return r;
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
