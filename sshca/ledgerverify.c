/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ledgerverify.c - verify-log and migrate-ledger. Backend-neutral: the
 * ledger is read through ledger.h's iterators and every comparison is made
 * on field values (ledgerlog.c), never on a database's row layout.
 *
 * verify-log walks the hash chain, then replays it against the records:
 * each certificate must equal, column by column, the entry its log_seq
 * names (an issue entry, or a carry entry of a migration), and its
 * revocation must be the first revoke entry after that one that covers it,
 * by the rules sc_ledger_revoke applies; each key id or key revocation must
 * equal the first entry that revoked it; each setting in meta must equal
 * the last set entry for it. Every record must have its entry and every
 * entry its record.
 *
 * A ledger of format 1 (entries that commit to fewer fields) is checked by
 * the same code on the fields those entries hold, before migrate-ledger
 * appends entries that commit to the rest.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nkhsm.h"
#include "nk-int.h"
#include "ledger.h"
#include "ledgerlog.h"

/* A revoke (or carry-revocation) entry. */
struct rev {
	char		*what, *value, *reason, *skh;
	uint64_t	 at;
	long long	 seq;
	int		 carry;
};

/* A set entry: the last value of each key. */
struct setting {
	char		*key, *value;
	long long	 seq;
	int		 seen;		/* found in meta */
};

/* A certificate to relink during a migration. */
struct relink {
	char		*family, *serial;
	long long	 seq;
};

struct vstate {
	struct sc_ledger *l;
	int		 v1;		/* checking a format 1 ledger */
	const char	*expect_head;
	int		 head_seen;
	char		 prev[LOG_HASH_HEX];
	long long	 expect;	/* the next seq */
	long long	 marker;	/* the format entry; 0: none */
	unsigned long	 records;	/* issue and carry entries */
	struct rev	*revs;
	size_t		 nrevs, caprevs;
	struct setting	*sets;
	size_t		 nsets, capsets;
	long long	*seqs;		/* each certificate's log_seq */
	size_t		 nseqs, capseqs;
	struct relink	*links;
	size_t		 nlinks, caplinks;
	char		*errbuf;
	size_t		 errlen;
};

static int
grow(void **p, size_t *cap, size_t n, size_t elem)
{
	size_t ncap;
	void *np;

	if (n < *cap)
		return 0;
	ncap = *cap == 0 ? 16 : *cap * 2;
	if ((np = reallocarray(*p, ncap, elem)) == NULL)
		return NKHSM_ERR_NOMEM;
	*p = np;
	*cap = ncap;
	return 0;
}

static void
vstate_free(struct vstate *v)
{
	size_t i;

	for (i = 0; i < v->nrevs; i++) {
		free(v->revs[i].what);
		free(v->revs[i].value);
		free(v->revs[i].reason);
		free(v->revs[i].skh);
	}
	free(v->revs);
	for (i = 0; i < v->nsets; i++) {
		free(v->sets[i].key);
		free(v->sets[i].value);
	}
	free(v->sets);
	free(v->seqs);
	for (i = 0; i < v->nlinks; i++) {
		free(v->links[i].family);
		free(v->links[i].serial);
	}
	free(v->links);
}

static char *
dup_or_empty(const char *s)
{
	return strdup(s != NULL ? s : "");
}

static int
add_rev(struct vstate *v, const struct sc_logent *e, int carry)
{
	const char *what = sc_logent_get(e, "what"),
	    *value = sc_logent_get(e, "value"),
	    *at = sc_logent_get(e, v->v1 ? "time" : "at");
	struct rev *rv;
	int r;

	if (what == NULL || value == NULL || at == NULL || (!v->v1 &&
	    (sc_logent_get(e, "reason") == NULL ||
	    sc_logent_get(e, "subject_key_sha256") == NULL))) {
		nk_errf(v->errbuf, v->errlen, "log entry %lld: a revocation "
		    "without its fields", e->seq);
		return NKHSM_ERR_SIGNATURE;
	}
	if ((r = grow((void **)&v->revs, &v->caprevs, v->nrevs,
	    sizeof(*v->revs))) != 0)
		return r;
	rv = &v->revs[v->nrevs];
	memset(rv, 0, sizeof(*rv));
	rv->seq = e->seq;
	rv->carry = carry;
	rv->at = strtoull(at, NULL, 10);
	v->nrevs++;
	if ((rv->what = strdup(what)) == NULL ||
	    (rv->value = strdup(value)) == NULL ||
	    (rv->reason = dup_or_empty(sc_logent_get(e, "reason"))) == NULL ||
	    (rv->skh = dup_or_empty(sc_logent_get(e, "subject_key_sha256"))) ==
	    NULL)
		return NKHSM_ERR_NOMEM;
	return 0;
}

static int
add_set(struct vstate *v, const struct sc_logent *e)
{
	const char *k = sc_logent_get(e, "key"), *val = sc_logent_get(e, "value");
	struct setting *st = NULL;
	char *nv;
	size_t i;
	int r;

	if (k == NULL || val == NULL) {
		nk_errf(v->errbuf, v->errlen, "log entry %lld: a setting without "
		    "key or value", e->seq);
		return NKHSM_ERR_SIGNATURE;
	}
	for (i = 0; i < v->nsets && st == NULL; i++)
		if (strcmp(v->sets[i].key, k) == 0)
			st = &v->sets[i];
	if (st == NULL) {
		if ((r = grow((void **)&v->sets, &v->capsets, v->nsets,
		    sizeof(*v->sets))) != 0)
			return r;
		st = &v->sets[v->nsets];
		memset(st, 0, sizeof(*st));
		if ((st->key = strdup(k)) == NULL)
			return NKHSM_ERR_NOMEM;
		v->nsets++;
	}
	if ((nv = strdup(val)) == NULL)
		return NKHSM_ERR_NOMEM;
	free(st->value);
	st->value = nv;
	st->seq = e->seq;
	return 0;
}

/* What an entry adds to the replay. */
static int
take_entry(struct vstate *v, const struct sc_logent *e)
{
	const char *ev = sc_logent_get(e, "event");

	if (ev == NULL) {
		nk_errf(v->errbuf, v->errlen, "log entry %lld has no event", e->seq);
		return NKHSM_ERR_SIGNATURE;
	}
	if (strcmp(ev, "format") == 0) {
		if (v->v1 || v->marker != 0 || sc_logent_get(e, "version") == NULL ||
		    strcmp(sc_logent_get(e, "version"), SC_LOG_FORMAT) != 0) {
			nk_errf(v->errbuf, v->errlen, "log entry %lld: an unexpected "
			    "format entry", e->seq);
			return NKHSM_ERR_SIGNATURE;
		}
		v->marker = e->seq;
		return 0;
	}
	if (!v->v1 && v->marker == 0)
		return 0;	/* format 1 history, carried over by a migration */
	if (strcmp(ev, "issue") == 0 || (!v->v1 && strcmp(ev, "carry") == 0)) {
		v->records++;
		return 0;
	}
	if (strcmp(ev, "revoke") == 0)
		return add_rev(v, e, 0);
	if (!v->v1 && strcmp(ev, "carry-revocation") == 0)
		return add_rev(v, e, 1);
	if (!v->v1 && strcmp(ev, "set") == 0)
		return add_set(v, e);
	nk_errf(v->errbuf, v->errlen, "log entry %lld: unknown event", e->seq);
	return NKHSM_ERR_SIGNATURE;
}

/* One log row: in sequence, chained, hashing to its hash. */
static int
walk_one(const struct sc_logrow *lr, void *arg)
{
	struct vstate *v = arg;
	struct sc_logent e;
	char hash[LOG_HASH_HEX], why[128];
	long long seq = lr->seq;
	int r;

	if (seq != v->expect) {
		nk_errf(v->errbuf, v->errlen, "log entry %lld is missing", v->expect);
		return NKHSM_ERR_SIGNATURE;
	}
	if (lr->prev == NULL || strcmp(lr->prev, v->prev) != 0) {
		nk_errf(v->errbuf, v->errlen, "log entry %lld does not follow "
		    "entry %lld", seq, seq - 1);
		return NKHSM_ERR_SIGNATURE;
	}
	if (lr->entry == NULL || lr->hash == NULL ||
	    sc_log_chain_hash(v->prev, lr->entry, hash) != 0 ||
	    strcmp(hash, lr->hash) != 0) {
		nk_errf(v->errbuf, v->errlen, "log entry %lld was altered", seq);
		return NKHSM_ERR_SIGNATURE;
	}
	why[0] = '\0';
	if ((r = sc_logent_parse(lr->entry, &e, why, sizeof(why))) != 0 ||
	    e.seq != seq) {
		if (r == NKHSM_ERR_NOMEM)
			return r;
		sc_logent_free(&e);
		nk_errf(v->errbuf, v->errlen, "log entry %lld is malformed%s%s",
		    seq, why[0] != '\0' ? ": " : "", why);
		return NKHSM_ERR_SIGNATURE;
	}
	r = take_entry(v, &e);
	sc_logent_free(&e);
	if (r != 0)
		return r;
	/* A head recorded earlier must be an entry of this chain. */
	if (!v->head_seen && strcmp(hash, v->expect_head) == 0)
		v->head_seen = 1;
	memcpy(v->prev, hash, LOG_HASH_HEX);
	v->expect++;
	return 0;
}

static int
revcmp(const void *a, const void *b)
{
	const struct rev *x = a, *y = b;
	int c;

	if ((c = strcmp(x->what, y->what)) != 0 ||
	    (c = strcmp(x->value, y->value)) != 0)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* The first entry revoking (what, value) after seq; carried ones if asked. */
static const struct rev *
rev_find(const struct vstate *v, const char *what, const char *value,
    long long after, int carried)
{
	size_t lo = 0, hi = v->nrevs, mid;
	struct rev key;

	key.what = (char *)what;
	key.value = (char *)value;
	key.seq = 0;
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (revcmp(&v->revs[mid], &key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (; lo < v->nrevs && strcmp(v->revs[lo].what, what) == 0 &&
	    strcmp(v->revs[lo].value, value) == 0; lo++)
		if (v->revs[lo].seq > after && (carried || !v->revs[lo].carry))
			return &v->revs[lo];
	return NULL;
}

/* The earlier of two entries (either may be NULL). */
static const struct rev *
first_of(const struct rev *a, const struct rev *b)
{
	if (a == NULL)
		return b;
	if (b == NULL)
		return a;
	return a->seq <= b->seq ? a : b;
}

/* The revoke entry that covers a certificate first (sc_ledger_revoke's rules). */
static const struct rev *
revoked_by(const struct vstate *v, const struct sc_row *c, long long after)
{
	const struct rev *r;

	r = rev_find(v, c->family, c->serial, after, 0);
	if (strcmp(c->family, "ssh") == 0 && c->key_id != NULL)
		r = first_of(r, rev_find(v, "key_id", c->key_id, after, 0));
	if (c->subject_fp != NULL)
		r = first_of(r, rev_find(v, "key", c->subject_fp, after, 0));
	return r;
}

static int
cert_fail(struct vstate *v, const struct sc_row *c, const char *column,
    long long seq)
{
	nk_errf(v->errbuf, v->errlen, "certificate %s serial %s: %s differs "
	    "from its log entry %lld", c->family, c->serial, column, seq);
	return NKHSM_ERR_SIGNATURE;
}

/* Format 1 entries hold no family, subject key or time of issue. */
static int
v1_field(const char *name)
{
	return strcmp(name, "family") != 0 &&
	    strcmp(name, "subject_key_sha256") != 0 &&
	    strcmp(name, "issued_at") != 0;
}

static int
check_columns(struct vstate *v, const struct sc_row *c,
    const struct sc_logent *e)
{
	struct sc_field f[SC_CERT_FIELDS], keep[SC_CERT_FIELDS];
	const char *column = NULL;
	size_t i, n = 0;
	int r;

	if ((r = sc_log_cert_fields(c, f)) != 0)
		return r;
	for (i = 0; i < SC_CERT_FIELDS; i++)
		if (!v->v1 || v1_field(f[i].name))
			keep[n++] = f[i];
	r = sc_log_check_fields(keep, n, e, &column);
	sc_log_fields_free(f, SC_CERT_FIELDS);
	return r == 0 ? 0 : cert_fail(v, c, column, e->seq);
}

/* The revocation the log gives a certificate, against its columns. */
static int
check_revoked(struct vstate *v, const struct sc_row *c,
    const struct sc_logent *e)
{
	const char *rv = sc_logent_get(e, "revoked"), *at, *why;
	const struct rev *by;
	int want;
	uint64_t want_at = 0;

	if (v->v1) {
		/* Format 1 kept no times: revoked exactly when covered. */
		want = revoked_by(v, c, -1) != NULL;
		why = NULL;
	} else if (rv != NULL && strcmp(rv, "1") == 0) {
		/* Carried over revoked: as the carry entry says. */
		if ((at = sc_logent_get(e, "revoked_at")) == NULL ||
		    (why = sc_logent_get(e, "reason")) == NULL)
			return cert_fail(v, c, "revoked_at", e->seq);
		want = 1;
		want_at = strtoull(at, NULL, 10);
	} else if ((by = revoked_by(v, c, e->seq)) != NULL) {
		want = 1;
		want_at = by->at;
		why = by->reason;
	} else {
		want = 0;
		why = NULL;
	}
	if (c->revoked != want) {
		nk_errf(v->errbuf, v->errlen, "certificate %s serial %s is %s in the "
		    "ledger but %s by the log (revoked_at)", c->family, c->serial,
		    c->revoked ? "revoked" : "valid", c->revoked ? "not revoked" :
		    "revoked");
		return NKHSM_ERR_SIGNATURE;
	}
	if (v->v1)
		return 0;
	if (want && c->revoked_at != want_at)
		return cert_fail(v, c, "revoked_at", e->seq);
	if ((c->reason == NULL) != (why == NULL) ||
	    (why != NULL && strcmp(c->reason, why) != 0))
		return cert_fail(v, c, "reason", e->seq);
	return 0;
}

static int
check_cert(const struct sc_row *c, void *arg)
{
	struct vstate *v = arg;
	struct sc_logent e;
	const char *ev;
	char *text = NULL;
	int r;

	if ((r = grow((void **)&v->seqs, &v->capseqs, v->nseqs,
	    sizeof(*v->seqs))) != 0)
		return r;
	v->seqs[v->nseqs++] = c->log_seq;
	if ((r = sc_ledger_log_entry(v->l, c->log_seq, &text)) != 0) {
		if (r != NKHSM_ERR_NO_KEY)
			return r;
		return cert_fail(v, c, "log_seq", c->log_seq);
	}
	r = sc_logent_parse(text, &e, NULL, 0);
	free(text);
	if (r != 0)
		return r == NKHSM_ERR_NOMEM ? r : cert_fail(v, c, "log_seq",
		    c->log_seq);
	ev = sc_logent_get(&e, "event");
	if (ev == NULL || e.seq <= v->marker || (strcmp(ev, "issue") != 0 &&
	    (v->v1 || strcmp(ev, "carry") != 0)))
		r = cert_fail(v, c, "log_seq", c->log_seq);
	else if (sc_logent_get(&e, "serial") == NULL ||
	    strcmp(sc_logent_get(&e, "serial"), c->serial) != 0) {
		/* The entry is another certificate's: which side moved? */
		nk_errf(v->errbuf, v->errlen, "certificate %s serial %s: its log "
		    "entry %lld is for serial %.32s (serial or log_seq changed)",
		    c->family, c->serial, e.seq, sc_logent_get(&e, "serial") !=
		    NULL ? sc_logent_get(&e, "serial") : "(none)");
		r = NKHSM_ERR_SIGNATURE;
	} else if ((r = check_columns(v, c, &e)) == 0)
		r = check_revoked(v, c, &e);
	sc_logent_free(&e);
	return r;
}

static int
seqcmp(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;

	return x < y ? -1 : x > y;
}

/* Every issue entry has one certificate and every certificate one entry. */
static int
check_certs(struct vstate *v)
{
	size_t i;
	int r;

	if ((r = sc_ledger_each(v->l, check_cert, v)) != 0) {
		if (r == NKHSM_ERR_FORMAT)
			nk_errf(v->errbuf, v->errlen, "a certificate row without "
			    "family, kind or serial");
		return r == NKHSM_ERR_FORMAT ? NKHSM_ERR_SIGNATURE : r;
	}
	if (v->nseqs > 0)
		qsort(v->seqs, v->nseqs, sizeof(*v->seqs), seqcmp);
	for (i = 1; i < v->nseqs; i++) {
		if (v->seqs[i] == v->seqs[i - 1]) {
			nk_errf(v->errbuf, v->errlen, "two certificates name log "
			    "entry %lld", v->seqs[i]);
			return NKHSM_ERR_SIGNATURE;
		}
	}
	if (v->nseqs != v->records) {
		nk_errf(v->errbuf, v->errlen, "the log records %lu issuances but "
		    "the ledger holds %zu certificates", v->records, v->nseqs);
		return NKHSM_ERR_SIGNATURE;
	}
	return 0;
}

struct revcheck {
	struct vstate	*v;
	unsigned long	 rows;
};

static int
check_rev_row(const struct sc_revrow *rr, void *arg)
{
	struct revcheck *rc = arg;
	struct vstate *v = rc->v;
	struct sc_field f[SC_REV_FIELDS];
	const struct rev *ev = rev_find(v, rr->what, rr->value, 0, 1);
	const char *column = NULL, *want[SC_REV_FIELDS];
	char at[24];
	size_t i;
	int r;

	rc->rows++;
	if (ev == NULL || (strcmp(rr->what, "key_id") != 0 &&
	    strcmp(rr->what, "key") != 0)) {
		nk_errf(v->errbuf, v->errlen, "revocation of %s %s is not in the "
		    "log (what or value changed, or the row added)", rr->what,
		    rr->value);
		return NKHSM_ERR_SIGNATURE;
	}
	if (v->v1)
		return 0;	/* format 1 logged only what and value */
	if ((r = sc_log_rev_fields(rr->what, rr->value, rr->subject_key,
	    rr->null_at ? NULL : &rr->at, rr->reason, f)) != 0)
		return r;
	snprintf(at, sizeof(at), "%llu", (unsigned long long)ev->at);
	want[0] = ev->what;
	want[1] = ev->value;
	want[2] = ev->skh;
	want[3] = at;
	want[4] = ev->reason;
	for (i = 0; i < SC_REV_FIELDS && column == NULL; i++)
		if (f[i].null || strcmp(f[i].text, want[i]) != 0)
			column = f[i].column;
	sc_log_fields_free(f, SC_REV_FIELDS);
	if (column != NULL) {
		nk_errf(v->errbuf, v->errlen, "revocation of %s %s: %s differs "
		    "from its log entry %lld", rr->what, rr->value, column, ev->seq);
		return NKHSM_ERR_SIGNATURE;
	}
	return 0;
}

/* Key id and key revocations: in the table exactly when in the log. */
static int
check_revocations(struct vstate *v)
{
	struct revcheck rc = { v, 0 };
	unsigned long want = 0;
	size_t i;
	int r;

	for (i = 0; i < v->nrevs; i++) {
		if (strcmp(v->revs[i].what, "key_id") != 0 &&
		    strcmp(v->revs[i].what, "key") != 0)
			continue;
		/* Counted once: a second revocation of the same id adds no row. */
		if (i > 0 && strcmp(v->revs[i].what, v->revs[i - 1].what) == 0 &&
		    strcmp(v->revs[i].value, v->revs[i - 1].value) == 0)
			continue;
		want++;
	}
	if ((r = sc_ledger_each_revocation(v->l, check_rev_row, &rc)) != 0) {
		if (r == NKHSM_ERR_FORMAT)
			nk_errf(v->errbuf, v->errlen, "a revocation row without "
			    "what or value");
		return r == NKHSM_ERR_FORMAT ? NKHSM_ERR_SIGNATURE : r;
	}
	if (rc.rows != want) {
		nk_errf(v->errbuf, v->errlen, "the log records %lu key id/key "
		    "revocations but the ledger holds %lu (one was removed)",
		    want, rc.rows);
		return NKHSM_ERR_SIGNATURE;
	}
	return 0;
}

struct metacheck {
	struct vstate	*v;
	int		 head, count, format;
};

static int
check_meta_row(const char *k, const char *val, void *arg)
{
	struct metacheck *mc = arg;
	struct vstate *v = mc->v;
	char num[24];
	size_t i;

	if (k == NULL || val == NULL) {
		nk_errf(v->errbuf, v->errlen, "a setting without key or value");
		return NKHSM_ERR_SIGNATURE;
	}
	snprintf(num, sizeof(num), "%lld", v->expect - 1);
	if (strcmp(k, "log_head") == 0) {
		mc->head = 1;
		return 0;	/* check_meta compares it first */
	}
	if (strcmp(k, "log_count") == 0 || strcmp(k, "log_format") == 0) {
		*(k[4] == 'c' ? &mc->count : &mc->format) = 1;
		if (strcmp(val, k[4] == 'c' ? num : SC_LOG_FORMAT) == 0 ||
		    (v->v1 && k[4] == 'c'))
			return 0;
		nk_errf(v->errbuf, v->errlen, "setting %s is '%.24s', the log "
		    "says '%s'", k, val, k[4] == 'c' ? num : SC_LOG_FORMAT);
		return NKHSM_ERR_SIGNATURE;
	}
	if (v->v1)
		return 0;	/* format 1 did not log settings */
	for (i = 0; i < v->nsets; i++) {
		if (strcmp(v->sets[i].key, k) != 0)
			continue;
		v->sets[i].seen = 1;
		if (strcmp(v->sets[i].value, val) == 0)
			return 0;
		nk_errf(v->errbuf, v->errlen, "setting %s differs from its log "
		    "entry %lld", k, v->sets[i].seq);
		return NKHSM_ERR_SIGNATURE;
	}
	nk_errf(v->errbuf, v->errlen, "setting %.64s is not in the log", k);
	return NKHSM_ERR_SIGNATURE;
}

/* meta: the log's head, count and format; each setting as last logged. */
static int
check_meta(struct vstate *v)
{
	struct metacheck mc = { v, 0, 0, 0 };
	char *head = NULL;
	size_t i;
	int r;

	/* The head first: a removed tail shows there before anywhere else. */
	if ((r = sc_ledger_meta_get(v->l, "log_head", &head)) == 0 &&
	    strcmp(head, v->prev) != 0) {
		nk_errf(v->errbuf, v->errlen, "the log ends at entry %lld, but the "
		    "ledger's head is another entry (entries removed)",
		    v->expect - 1);
		r = NKHSM_ERR_SIGNATURE;
	}
	free(head);
	if (r != 0 && r != NKHSM_ERR_NO_KEY)
		return r;
	if ((r = sc_ledger_each_meta(v->l, check_meta_row, &mc)) != 0)
		return r;
	if (v->expect > 1 && (!mc.head || (!v->v1 && (!mc.count ||
	    !mc.format)))) {
		nk_errf(v->errbuf, v->errlen, "the ledger's log %s is missing",
		    !mc.head ? "head" : !mc.count ? "count" : "format");
		return NKHSM_ERR_SIGNATURE;
	}
	for (i = 0; i < v->nsets; i++) {
		if (!v->sets[i].seen) {
			nk_errf(v->errbuf, v->errlen, "setting %s of log entry %lld "
			    "is missing from the ledger", v->sets[i].key,
			    v->sets[i].seq);
			return NKHSM_ERR_SIGNATURE;
		}
	}
	return 0;
}

/* The whole check, on the transaction or snapshot the caller holds. */
static int
verify(struct vstate *v)
{
	int r;

	strcpy(v->prev, SC_LOG_GENESIS);
	v->expect = 1;
	v->head_seen = v->expect_head == NULL;
	if ((r = sc_ledger_each_log(v->l, walk_one, v)) != 0)
		return r;
	if (!v->v1 && v->marker == 0) {
		nk_errf(v->errbuf, v->errlen, "the log has no format entry: %s",
		    SC_LEDGER_OLD);
		return NKHSM_ERR_SIGNATURE;
	}
	if (!v->head_seen) {
		nk_errf(v->errbuf, v->errlen, "%s is not an entry of this log (the "
		    "log was rewritten, or the head is from another CA)",
		    v->expect_head);
		return NKHSM_ERR_SIGNATURE;
	}
	if (v->nrevs > 0)
		qsort(v->revs, v->nrevs, sizeof(*v->revs), revcmp);
	if ((r = check_meta(v)) != 0 || (r = check_certs(v)) != 0 ||
	    (r = check_revocations(v)) != 0)
		return r;
	return 0;
}

int
sc_ledger_verify_log(struct sc_ledger *l, const char *expect_head,
    unsigned long *countp, char *head, char *errbuf, size_t errlen)
{
	struct vstate v;
	int r;

	*countp = 0;
	memset(&v, 0, sizeof(v));
	v.l = l;
	v.expect_head = expect_head;
	v.errbuf = errbuf;
	v.errlen = errlen;
	/* One snapshot: an issuer committing meanwhile changes nothing seen. */
	if (sc_ledger_read_begin(l) != 0) {
		nk_errf(errbuf, errlen, "ledger: cannot read");
		return NKHSM_ERR_IO;
	}
	r = verify(&v);
	sc_ledger_read_end(l);
	if (r == 0) {
		*countp = (unsigned long)(v.expect - 1);
		if (head != NULL)
			memcpy(head, v.prev, LOG_HASH_HEX);
	} else if (r == NKHSM_ERR_IO)
		nk_errf(errbuf, errlen, "ledger: cannot read");
	vstate_free(&v);
	return r;
}

/* Migration: a carry entry for a certificate, relinked at the end. */
static int
carry_cert(const struct sc_row *c, void *arg)
{
	struct vstate *v = arg;
	struct relink *k;
	char *entry = NULL;
	long long seq = 0;
	int r;

	if ((r = grow((void **)&v->links, &v->caplinks, v->nlinks,
	    sizeof(*v->links))) != 0)
		return r;
	if ((r = sc_log_cert_entry("carry", c, (uint64_t)time(NULL), c->log_seq,
	    &entry)) != 0 || (r = sc_ledger_append(v->l, entry, &seq, NULL)) != 0) {
		free(entry);
		return r;
	}
	free(entry);
	k = &v->links[v->nlinks];
	memset(k, 0, sizeof(*k));
	k->seq = seq;
	v->nlinks++;
	if ((k->family = strdup(c->family)) == NULL ||
	    (k->serial = strdup(c->serial)) == NULL)
		return NKHSM_ERR_NOMEM;
	return 0;
}

static int
carry_rev(const struct sc_revrow *rr, void *arg)
{
	struct vstate *v = arg;
	char *entry = NULL;
	int r;

	if ((r = sc_log_rev_entry("carry-revocation", rr->what, rr->value,
	    rr->subject_key, rr->at, rr->reason, (uint64_t)time(NULL),
	    &entry)) == 0)
		r = sc_ledger_append(v->l, entry, NULL, NULL);
	free(entry);
	return r;
}

static int
carry_setting(const char *k, const char *val, void *arg)
{
	struct vstate *v = arg;
	int r;

	if (strncmp(k, "log_", 4) == 0)
		return 0;	/* derived from the log itself */
	if ((r = grow((void **)&v->sets, &v->capsets, v->nsets,
	    sizeof(*v->sets))) != 0)
		return r;
	memset(&v->sets[v->nsets], 0, sizeof(*v->sets));
	v->nsets++;
	if ((v->sets[v->nsets - 1].key = strdup(k)) == NULL ||
	    (v->sets[v->nsets - 1].value = strdup(val)) == NULL)
		return NKHSM_ERR_NOMEM;
	return 0;
}

/* Append the marker and the carry entries; relink the certificates. */
static int
carry_all(struct vstate *v)
{
	uint64_t now = (uint64_t)time(NULL);
	char *entry = NULL;
	size_t i;
	int r;

	if ((r = sc_log_format_entry("1", now, &entry)) != 0 ||
	    (r = sc_ledger_append(v->l, entry, NULL, NULL)) != 0)
		goto out;
	if ((r = sc_ledger_each(v->l, carry_cert, v)) != 0 ||
	    (r = sc_ledger_each_revocation(v->l, carry_rev, v)) != 0 ||
	    (r = sc_ledger_each_meta(v->l, carry_setting, v)) != 0)
		goto out;
	for (i = 0; i < v->nsets; i++) {
		free(entry);
		if ((r = sc_log_set_entry(v->sets[i].key, v->sets[i].value, now,
		    &entry)) != 0 ||
		    (r = sc_ledger_append(v->l, entry, NULL, NULL)) != 0)
			goto out;
	}
	for (i = 0; i < v->nlinks; i++)
		if ((r = sc_ledger_relink(v->l, v->links[i].family,
		    v->links[i].serial, v->links[i].seq)) != 0)
			goto out;
	r = sc_ledger_meta_put(v->l, "log_format", SC_LOG_FORMAT);
 out:
	free(entry);
	return r;
}

int
sc_ledger_migrate(struct sc_ledger *l, const char *expect_head,
    unsigned long *countp, char *head, char *errbuf, size_t errlen)
{
	struct vstate v, after;
	char *fmt = NULL;
	int r;

	*countp = 0;
	memset(&v, 0, sizeof(v));
	memset(&after, 0, sizeof(after));
	if ((r = sc_ledger_begin(l, errbuf, errlen)) != 0)
		return r;
	if ((r = sc_ledger_meta_get(l, "log_format", &fmt)) != NKHSM_ERR_NO_KEY) {
		if (r == 0) {
			nk_errf(errbuf, errlen, "the ledger is already of log format "
			    "%.16s", fmt);
			r = NKHSM_ERR_EXISTS;
		}
		goto fail;
	}
	v.l = after.l = l;
	v.v1 = 1;
	v.expect_head = expect_head;
	v.errbuf = after.errbuf = errbuf;
	v.errlen = after.errlen = errlen;
	/* Everything format 1 recorded must hold before it is carried over. */
	if ((r = verify(&v)) != 0)
		goto fail;
	vstate_free(&v);
	memset(&v, 0, sizeof(v));
	v.l = l;
	if ((r = carry_all(&v)) != 0 || (r = sc_ledger_flush(l)) != 0) {
		nk_errf(errbuf, errlen, "ledger: cannot migrate: %s",
		    nkhsm_strerror(r));
		goto fail;
	}
	/* And the result must verify as this version reads it. */
	if ((r = verify(&after)) != 0)
		goto fail;
	if ((r = sc_ledger_commit(l, errbuf, errlen)) != 0)
		goto out;
	*countp = (unsigned long)(after.expect - 1);
	if (head != NULL)
		memcpy(head, after.prev, LOG_HASH_HEX);
	goto out;
 fail:
	sc_ledger_rollback(l);
 out:
	free(fmt);
	vstate_free(&v);
	vstate_free(&after);
	return r;
}
