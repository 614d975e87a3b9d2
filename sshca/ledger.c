/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ledger.c - every issuance and revocation, with an append-only hash-chained
 * log: each log entry's hash covers the previous entry's hash and its own
 * text, and meta.log_head holds the latest. Each entry commits to every
 * field of what it records (ledgerlog.c writes it from the field values);
 * ledgerverify.c checks the records against it.
 *
 * Each batch of issuances is one transaction (the certificate rows, their
 * log entries and the new head), committed before any certificate file is
 * written, so a certificate on disk is always in the ledger whatever kills
 * the process. The end of the log is read inside the write transaction,
 * which the backend runs alone among writers, so several processes (and,
 * on PostgreSQL, several sites) append to one chain.
 *
 * This file is the same for every backend; the SQL is in ledger-sqlite.c
 * and ledger-pg.c (ledger-int.h).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nkhsm.h"
#include "nk-int.h"
#include "ledger.h"
#include "ledger-int.h"
#include "ledgerlog.h"


struct sc_ledger {
	const struct sc_backend *be;
	void		*db;
	char		 name[SC_LEDGER_URL_MAX];	/* for messages */
	/* The log's end within the current transaction. */
	int		 loaded;
	int		 dirty;		/* meta's head is behind: write at commit */
	long long	 seq;
	char		 head[LOG_HASH_HEX];
};

static int
dberr(struct sc_ledger *l, char *errbuf, size_t errlen, const char *what)
{
	nk_errf(errbuf, errlen, "ledger: %s: %s%s", what, l->be->errmsg(l->db),
	    l->be->lost(l->db) ? " (the database cannot be reached; nothing "
	    "of this transaction was recorded)" : "");
	return NKHSM_ERR_IO;
}

/* The backend and its target for a URL; NULL: DIR's own SQLite file. */
static int
backend_for(const char *url, const char *dir, const struct sc_backend **bep,
    char *target, size_t tlen, char *errbuf, size_t errlen)
{
	int r, kind = 0;

	if ((r = sc_ledger_url_parse(url, dir, &kind, target, tlen, errbuf,
	    errlen)) != 0)
		return r;
	if (kind == SC_LEDGER_SQLITE) {
		*bep = &sc_backend_sqlite;
		return 0;
	}
#ifdef HAVE_POSTGRESQL
	*bep = &sc_backend_pg;
	return 0;
#else
	nk_errf(errbuf, errlen, "this nkhsm-sshca was built without PostgreSQL "
	    "support (configure --with-postgresql)");
	return NKHSM_ERR_UNSUPPORTED;
#endif
}

/*
 * The log format: SC_LOG_FORMAT, or none yet in a ledger that holds
 * nothing. A ledger with settings or entries but no format is format 1.
 */
static int
check_format(struct sc_ledger *l, unsigned int flags, char *errbuf,
    size_t errlen)
{
	char *v = NULL;
	int r, used = 0;

	if ((r = sc_ledger_meta_get(l, "log_format", &v)) == 0) {
		r = strcmp(v, SC_LOG_FORMAT) == 0 ? 0 : NKHSM_ERR_UNSUPPORTED;
		if (r != 0)
			nk_errf(errbuf, errlen, "%s: log format '%.16s' is not "
			    "one this version knows", l->name, v);
		free(v);
		return r;
	}
	if (r != NKHSM_ERR_NO_KEY || l->be->used(l->db, &used) != 0)
		return dberr(l, errbuf, errlen, "meta");
	if (used && !(flags & SC_LEDGER_OLD_OK)) {
		nk_errf(errbuf, errlen, "%s: %s", l->name, SC_LEDGER_OLD);
		return NKHSM_ERR_UNSUPPORTED;
	}
	return 0;
}

int
sc_ledger_open(const char *url, const char *dir, unsigned int flags,
    struct sc_ledger **lp, char *errbuf, size_t errlen)
{
	struct sc_ledger *l;
	const struct sc_backend *be;
	char target[SC_LEDGER_URL_MAX];
	int r;

	*lp = NULL;
	if ((r = backend_for(url, dir, &be, target, sizeof(target), errbuf,
	    errlen)) != 0)
		return r;
	if ((l = calloc(1, sizeof(*l))) == NULL)
		return NKHSM_ERR_NOMEM;
	l->be = be;
	snprintf(l->name, sizeof(l->name), "%s", url != NULL ? url : target);
	if ((r = be->open(target, flags, &l->db, errbuf, errlen)) != 0 ||
	    (r = check_format(l, flags, errbuf, errlen)) != 0) {
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
	if ((*lp)->db != NULL)
		(*lp)->be->close((*lp)->db);
	free(*lp);
	*lp = NULL;
}

int
sc_ledger_lost(const struct sc_ledger *l)
{
	return l != NULL && l->db != NULL && l->be->lost(l->db);
}

int
sc_ledger_meta_get(struct sc_ledger *l, const char *k, char **vp)
{
	return l->be->meta_get(l->db, k, vp);
}

/* Inside the caller's transaction: a meta row, as it is. */
int
sc_ledger_meta_put(struct sc_ledger *l, const char *k, const char *v)
{
	return l->be->meta_put(l->db, k, v);
}

/* The log's end, read once per transaction. */
static int
log_load(struct sc_ledger *l)
{
	int r;

	if (l->loaded)
		return 0;
	if ((r = l->be->log_tail(l->db, &l->seq, l->head)) != 0)
		return r;
	l->loaded = 1;
	return 0;
}

/* Entry seq, "seq=N " and the entry, chained to prev; hash is its hash. */
static int
entry_row(long long seq, const char *prev, const char *entry,
    struct sc_logrow *lr, char *hash)
{
	char *full;
	size_t flen;
	int r;

	memset(lr, 0, sizeof(*lr));
	flen = strlen(entry) + 32;
	if ((full = malloc(flen)) == NULL)
		return NKHSM_ERR_NOMEM;
	snprintf(full, flen, "seq=%lld %s", seq, entry);
	if ((r = sc_log_chain_hash(prev, full, hash)) != 0) {
		free(full);
		return r;
	}
	lr->seq = seq;
	lr->entry = full;
	lr->prev = prev;
	lr->hash = hash;
	return 0;
}

/* The head moves past an entry the backend has taken. */
static void
log_advance(struct sc_ledger *l, const char *hash)
{
	l->seq++;
	memcpy(l->head, hash, LOG_HASH_HEX);
	l->dirty = 1;
}

int
sc_ledger_append(struct sc_ledger *l, const char *entry, long long *seqp,
    char *head)
{
	struct sc_logrow lr;
	char hash[LOG_HASH_HEX];
	int r;

	if ((r = log_load(l)) != 0 ||
	    (r = entry_row(l->seq + 1, l->head, entry, &lr, hash)) != 0)
		return r;
	r = l->be->log_put(l->db, &lr);
	free((char *)lr.entry);
	if (r != 0)
		return r;
	log_advance(l, hash);
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
	return l->be->begin(l->db) == 0 ? 0 : dberr(l, errbuf, errlen, "begin");
}

int
sc_ledger_flush(struct sc_ledger *l)
{
	const char *keys[2] = { "log_head", "log_count" }, *vals[2];
	char num[32];

	if (!l->dirty)
		return 0;
	snprintf(num, sizeof(num), "%lld", l->seq);
	vals[0] = l->head;
	vals[1] = num;
	return l->be->meta_put_many(l->db, keys, vals, 2);
}

int
sc_ledger_commit(struct sc_ledger *l, char *errbuf, size_t errlen)
{
	if (sc_ledger_flush(l) != 0 || l->be->commit(l->db) != 0) {
		dberr(l, errbuf, errlen, "commit");
		sc_ledger_rollback(l);
		return NKHSM_ERR_IO;
	}
	l->loaded = 0;
	l->dirty = 0;
	return 0;
}

void
sc_ledger_rollback(struct sc_ledger *l)
{
	l->be->rollback(l->db);
	l->loaded = 0;
	l->dirty = 0;
}

int
sc_ledger_read_begin(struct sc_ledger *l)
{
	return l->be->read_begin(l->db);
}

void
sc_ledger_read_end(struct sc_ledger *l)
{
	l->be->read_end(l->db);
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
	/* Another init may have started the log since this one looked. */
	if ((r = log_load(l)) == 0 && l->seq != 0) {
		sc_ledger_rollback(l);
		nk_errf(errbuf, errlen, "%s already holds a CA", l->name);
		return NKHSM_ERR_EXISTS;
	}
	if (r != 0 || (r = sc_log_format_entry(NULL, now, &entry)) != 0 ||
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
	if (r != NKHSM_ERR_NOMEM)
		dberr(l, errbuf, errlen, "init");
	sc_ledger_rollback(l);
	return r != NKHSM_ERR_NOMEM ? NKHSM_ERR_IO : r;
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

/* A certificate row and its entry's text: the same field values. */
static void
cert_of(const struct sc_entry *e, uint64_t now, struct sc_row *c)
{
	memset(c, 0, sizeof(*c));
	c->family = e->family;
	c->kind = e->kind;
	c->serial = e->serial;
	c->key_id = e->key_id;
	c->principals = e->principals;
	c->valid_after = e->valid_after;
	c->valid_before = e->valid_before;
	c->issued_at = now;
	c->subject_fp = e->subject_fp;
	c->subject_key = e->subject_key;
	c->cert = e->cert;
	c->certlen = e->certlen;
}

/* The rows and chained entries of a batch, inside the transaction. */
struct rows {
	struct sc_row	*certs;
	struct sc_logrow *logs;
	char		(*hash)[LOG_HASH_HEX];
	size_t		 n;
};

static void
rows_free(struct rows *w)
{
	size_t i;

	for (i = 0; w->logs != NULL && i < w->n; i++)
		free((char *)w->logs[i].entry);
	free(w->certs);
	free(w->logs);
	free(w->hash);
}

/* Each entry after the one before it, the first after the ledger's head. */
static int
rows_make(struct sc_ledger *l, const struct sc_entry *e, size_t n,
    struct rows *w, char *errbuf, size_t errlen)
{
	uint64_t now = (uint64_t)time(NULL);
	char *entry = NULL;
	size_t i;
	int r = NKHSM_ERR_NOMEM;

	memset(w, 0, sizeof(*w));
	if ((w->certs = calloc(n, sizeof(*w->certs))) == NULL ||
	    (w->logs = calloc(n, sizeof(*w->logs))) == NULL ||
	    (w->hash = calloc(n, sizeof(*w->hash))) == NULL)
		return NKHSM_ERR_NOMEM;
	w->n = n;
	for (i = 0; i < n; i++) {
		cert_of(&e[i], now, &w->certs[i]);
		if ((r = sc_log_cert_entry("issue", &w->certs[i], now, 0,
		    &entry)) != 0) {
			nk_errf(errbuf, errlen, "ledger: cannot make the log "
			    "entry: %s", nkhsm_strerror(r));
			return r;
		}
		r = entry_row(l->seq + 1 + (long long)i, i == 0 ? l->head :
		    w->hash[i - 1], entry, &w->logs[i], w->hash[i]);
		free(entry);
		if (r != 0)
			return r;
		w->certs[i].log_seq = w->logs[i].seq;
	}
	return 0;
}

/* The batch in the caller's transaction; the head moves past it. */
static int
issue_in(struct sc_ledger *l, const struct sc_entry *e, size_t n,
    size_t *takenp, char *head, char *errbuf, size_t errlen)
{
	struct rows w;
	size_t i;
	int r;

	if ((r = log_load(l)) != 0)
		return dberr(l, errbuf, errlen, "log");
	if ((r = rows_make(l, e, n, &w, errbuf, errlen)) != 0) {
		rows_free(&w);
		return r;
	}
	if ((r = l->be->issue(l->db, w.logs, w.certs, n, takenp)) != 0) {
		if (r != NKHSM_ERR_EXISTS)
			r = dberr(l, errbuf, errlen, "insert");
		rows_free(&w);
		return r;
	}
	for (i = 0; i < n; i++)
		log_advance(l, w.hash[i]);
	if (head != NULL && n > 0)
		memcpy(head, w.hash[n - 1], LOG_HASH_HEX);
	rows_free(&w);
	return 0;
}

int
sc_ledger_issue(struct sc_ledger *l, const struct sc_entry *e, size_t n,
    size_t *takenp, char *head, char *errbuf, size_t errlen)
{
	size_t taken = 0;
	int r;

	if (takenp != NULL)
		*takenp = 0;
	if ((r = sc_ledger_begin(l, errbuf, errlen)) != 0)
		return r;
	if ((r = issue_in(l, e, n, &taken, head, errbuf, errlen)) != 0) {
		sc_ledger_rollback(l);
		if (r == NKHSM_ERR_EXISTS && takenp != NULL)
			*takenp = taken;
		return r;
	}
	return sc_ledger_commit(l, errbuf, errlen);
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
	if ((r = l->be->revoke_certs(l->db, what, value, now, why, &n)) != 0 ||
	    (future && (r = l->be->revoke_future(l->db, what, value,
	    subject_key, now, why, &m)) != 0)) {
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

int
sc_ledger_each(struct sc_ledger *l, int (*fn)(const struct sc_row *, void *),
    void *arg)
{
	return l->be->each(l->db, fn, arg);
}

int
sc_ledger_each_revocation(struct sc_ledger *l,
    int (*fn)(const struct sc_revrow *, void *), void *arg)
{
	return l->be->each_revocation(l->db, fn, arg);
}

int
sc_ledger_each_log(struct sc_ledger *l, int (*fn)(const struct sc_logrow *,
    void *), void *arg)
{
	return l->be->each_log(l->db, fn, arg);
}

int
sc_ledger_log_entry(struct sc_ledger *l, long long seq, char **entryp)
{
	return l->be->log_entry(l->db, seq, entryp);
}

int
sc_ledger_each_meta(struct sc_ledger *l, int (*fn)(const char *,
    const char *, void *), void *arg)
{
	return l->be->each_meta(l->db, fn, arg);
}

int
sc_ledger_relink(struct sc_ledger *l, const char *family, const char *serial,
    long long seq)
{
	return l->be->relink(l->db, family, serial, seq);
}

int
sc_ledger_first_revoked(struct sc_ledger *l, const char *const *key_ids,
    const char *const *fps, size_t n, size_t *whichp)
{
	*whichp = 0;
	return n == 0 ? 0 : l->be->revoked(l->db, key_ids, fps, n, whichp);
}
