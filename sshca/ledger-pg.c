/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ledger-pg.c - the ledger in PostgreSQL, shared by several CA sites: every
 * SQL statement of that backend, through libpq.
 *
 * - A write transaction takes LOCK TABLE log IN EXCLUSIVE MODE first: the
 *   writers of every site append to one chain, one after another, and each
 *   reads the end of the log after the previous one committed (READ
 *   COMMITTED takes a fresh snapshot per statement). Readers are not held.
 *   The primary key on log.seq and UNIQUE(prev) refuse a fork even so.
 * - Serials are unique by the database: UNIQUE(family, serial) across all
 *   sites (and CHECK: never 0). A batch that meets a taken serial is
 *   refused whole, and the index of that serial is returned to re-sign.
 * - A commit is only a commit when the server says COMMIT (an aborted
 *   transaction's COMMIT answers ROLLBACK), with synchronous_commit on for
 *   this session, so a certificate written after it is in a durable ledger.
 * - A batch's rows go in one pipeline: one round trip, whatever its size.
 * - A session idle inside a transaction (a site frozen or cut off while
 *   holding the log) is ended by the server after IDLE_TX_TIMEOUT, so the
 *   other sites wait at most that long; LOCK_TIMEOUT bounds the wait.
 * - The password never comes from the URL or PGPASSWORD: a password file
 *   (PGPASSFILE, ~/.pgpass) or a peer login over a Unix socket.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "nkhsm.h"
#include "nk-int.h"
#include "ledger.h"
#include "ledger-int.h"
#include "ledgerlog.h"

#define CONNECT_TIMEOUT	"10"		/* seconds, unless the URL says */
#define IDLE_TX_TIMEOUT	"60s"
#define LOCK_TIMEOUT	"120s"
#define CHECK_INTERVAL	"5s"		/* is the client still there? */
#define FETCH_ROWS	500		/* rows per FETCH of an iteration */
/*
 * Queries per pipeline: their small results (tens of bytes each) must fit
 * in the socket's buffers while this side is still sending, or both ends
 * would wait on each other.
 */
#define PIPELINE_MAX	512
#define ERR_MAX		512

#define OID_INT8	20
#define OID_TEXT	25
#define OID_BYTEA	17

struct pg {
	PGconn		*conn;
	int		 in_tx;		/* inside BEGIN: cursors may run */
	int		 have_tail;	/* the log's end, read by begin */
	long long	 tail_seq;
	char		 tail_hash[LOG_HASH_HEX];
	unsigned int	 cursors;	/* for unique cursor names */
	char		 state[6];	/* SQLSTATE of the last error */
	char		 err[ERR_MAX];
};

/* The ledger's tables; init makes them, a joining site needs only DML. */
static const char schema[] =
	"SELECT pg_advisory_xact_lock(7283491056);"	/* one init at a time */
	"CREATE TABLE IF NOT EXISTS meta("
	"  k TEXT PRIMARY KEY, v TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS certs("
	"  family TEXT NOT NULL CHECK(family IN ('ssh','x509')),"
	"  serial TEXT NOT NULL CHECK(serial <> '' AND serial <> '0'),"
	"  kind TEXT NOT NULL,"
	"  key_id TEXT NOT NULL,"
	"  principals TEXT NOT NULL,"
	"  valid_after BIGINT NOT NULL,"	/* uint64 stored as int64 bits */
	"  valid_before BIGINT NOT NULL,"
	"  subject_fp TEXT NOT NULL,"
	"  subject_key TEXT NOT NULL,"
	"  issued_at BIGINT NOT NULL,"
	"  cert BYTEA NOT NULL,"
	"  log_seq BIGINT NOT NULL,"
	"  revoked_at BIGINT,"
	"  reason TEXT,"
	"  CONSTRAINT certs_serial_unique UNIQUE(family, serial));"
	"CREATE TABLE IF NOT EXISTS revocations("
	"  what TEXT NOT NULL CHECK(what IN ('key_id','key')),"
	"  value TEXT NOT NULL,"
	"  subject_key TEXT,"
	"  at BIGINT NOT NULL,"
	"  reason TEXT,"
	"  UNIQUE(what, value));"
	"CREATE TABLE IF NOT EXISTS log("
	"  seq BIGINT PRIMARY KEY,"
	"  entry TEXT NOT NULL,"
	"  prev TEXT NOT NULL UNIQUE,"		/* one chain: no fork */
	"  hash TEXT NOT NULL);";

/* Statements prepared once per connection. */
static const struct stmt {
	const char	*name, *sql;
	int		 nparams;
	Oid		 types[12];
} stmts[] = {
	{ "nk_ins_log", "INSERT INTO log(seq,entry,prev,hash) "
	    "VALUES($1,$2,$3,$4)", 4,
	    { OID_INT8, OID_TEXT, OID_TEXT, OID_TEXT } },
	{ "nk_ins_cert", "INSERT INTO certs(family,serial,kind,key_id,"
	    "principals,valid_after,valid_before,subject_fp,subject_key,"
	    "issued_at,cert,log_seq) VALUES($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,"
	    "$11,$12)", 12,
	    { OID_TEXT, OID_TEXT, OID_TEXT, OID_TEXT, OID_TEXT, OID_INT8,
	    OID_INT8, OID_TEXT, OID_TEXT, OID_INT8, OID_BYTEA, OID_INT8 } },
	{ "nk_log_entry", "SELECT entry FROM log WHERE seq=$1", 1,
	    { OID_INT8 } },
	{ "nk_is_revoked", "SELECT 1 FROM revocations WHERE (what='key_id' AND "
	    "value=$1) OR (what='key' AND value=$2) LIMIT 1", 2,
	    { OID_TEXT, OID_TEXT } },
};

/* The last error, on one line, and its SQLSTATE. */
static void
set_err(struct pg *p, const PGresult *res, const char *what)
{
	const char *msg, *st;
	size_t i;

	st = res != NULL ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	snprintf(p->state, sizeof(p->state), "%s", st != NULL ? st : "");
	msg = res != NULL && *PQresultErrorMessage(res) != '\0' ?
	    PQresultErrorMessage(res) : PQerrorMessage(p->conn);
	snprintf(p->err, sizeof(p->err), "%s%s%s", what != NULL ? what : "",
	    what != NULL ? ": " : "", msg);
	for (i = strlen(p->err); i > 0 && (p->err[i - 1] == '\n' ||
	    p->err[i - 1] == ' '); i--)
		p->err[i - 1] = '\0';
	for (i = 0; p->err[i] != '\0'; i++)
		if (p->err[i] == '\n' || p->err[i] == '\t')
			p->err[i] = ' ';
}

/* A result of the wanted status, else the error recorded; res is freed. */
static int
check(struct pg *p, PGresult *res, ExecStatusType want, const char *what)
{
	int ok = res != NULL && PQresultStatus(res) == want;

	if (!ok)
		set_err(p, res, what);
	PQclear(res);
	return ok ? 0 : NKHSM_ERR_IO;
}

static int
exec(struct pg *p, const char *sql)
{
	return check(p, PQexec(p->conn, sql), PGRES_COMMAND_OK, NULL);
}

/* A statement with text parameters (NULL for SQL NULL); its result. */
static PGresult *
query(struct pg *p, const char *sql, int n, const Oid *types,
    const char *const *values)
{
	return PQexecParams(p->conn, sql, n, types, values, NULL, NULL, 0);
}

static const char *
pg_errmsg(void *db)
{
	struct pg *p = db;

	return p->err[0] != '\0' ? p->err : PQerrorMessage(p->conn);
}

static int
pg_lost(void *db)
{
	struct pg *p = db;

	/* Connection exceptions (08), and the server shutting down (57P0x). */
	return PQstatus(p->conn) == CONNECTION_BAD ||
	    strncmp(p->state, "08", 2) == 0 || strncmp(p->state, "57P0", 4) == 0;
}

static void
ignore_notice(void *arg, const char *message)
{
	(void)arg;
	(void)message;	/* "relation already exists, skipping" and the like */
}

static void
pg_close(void *db)
{
	struct pg *p = db;

	if (p == NULL)
		return;
	PQfinish(p->conn);
	free(p);
}

/*
 * A URL with a password in it, or PGPASSWORD, is refused: the password
 * would be on a command line, in a configuration file others read, or in
 * the environment of every process.
 */
static int
check_target(const char *target, char *errbuf, size_t errlen)
{
	PQconninfoOption *opts, *o;
	char *why = NULL;
	int r = 0;

	if (getenv("PGPASSWORD") != NULL) {
		nk_errf(errbuf, errlen, "PGPASSWORD is set: nkhsm-sshca takes the "
		    "ledger's password only from a password file (PGPASSFILE or "
		    "~/.pgpass), or logs in by peer over a Unix socket");
		return NKHSM_ERR_INVALID_ARGUMENT;
	}
	if ((opts = PQconninfoParse(target, &why)) == NULL) {
		nk_errf(errbuf, errlen, "ledger URL: %s", why != NULL ? why :
		    "out of memory");
		r = why != NULL ? NKHSM_ERR_INVALID_ARGUMENT : NKHSM_ERR_NOMEM;
		PQfreemem(why);
		return r;
	}
	for (o = opts; o->keyword != NULL; o++) {
		if (strcmp(o->keyword, "password") == 0 && o->val != NULL &&
		    o->val[0] != '\0') {
			nk_errf(errbuf, errlen, "ledger URL: a password in the URL "
			    "is refused; put it in a password file (PGPASSFILE or "
			    "~/.pgpass), or log in by peer over a Unix socket");
			r = NKHSM_ERR_INVALID_ARGUMENT;
		}
	}
	PQconninfoFree(opts);
	return r;
}

/*
 * This session's settings (durable commits, bounded waits, UTF-8), and
 * whether the ledger's tables are there, in one round trip. A site killed
 * while its statement waits (for the log, for a row) is noticed during the
 * wait, so its lock is freed: client_connection_check_interval, set from
 * PostgreSQL 14 on (an older server goes without).
 */
static int
setup_session(struct pg *p, int *havep)
{
	PGresult *res;

	*havep = 0;
	res = PQexec(p->conn, "SET synchronous_commit TO on;"
	    "SET idle_in_transaction_session_timeout TO '" IDLE_TX_TIMEOUT "';"
	    "SET lock_timeout TO '" LOCK_TIMEOUT "';"
	    "SET client_encoding TO 'UTF8';"
	    "SET client_min_messages TO warning;"
	    "SELECT set_config('client_connection_check_interval', '"
	    CHECK_INTERVAL "', false) WHERE "
	    "current_setting('server_version_num')::int >= 140000;"
	    "SELECT to_regclass('meta') IS NOT NULL AND "
	    "to_regclass('certs') IS NOT NULL AND to_regclass('revocations') "
	    "IS NOT NULL AND to_regclass('log') IS NOT NULL");
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK ||
	    PQntuples(res) != 1) {
		set_err(p, res, NULL);
		PQclear(res);
		return NKHSM_ERR_IO;
	}
	*havep = strcmp(PQgetvalue(res, 0, 0), "t") == 0;
	PQclear(res);
	return 0;
}

/* The schema (init), or a check that it is there (every other command). */
static int
setup_schema(struct pg *p, unsigned int flags, int have, char *errbuf,
    size_t errlen)
{
	if (flags & SC_LEDGER_CREATE) {
		if (exec(p, "BEGIN") != 0 || exec(p, schema) != 0 ||
		    exec(p, "COMMIT") != 0) {
			nk_errf(errbuf, errlen, "ledger: schema: %s", p->err);
			return NKHSM_ERR_IO;
		}
		return 0;
	}
	if (!have) {
		nk_errf(errbuf, errlen, "the database holds no nkhsm-sshca ledger "
		    "(run nkhsm-sshca init --ledger URL at the first site)");
		return NKHSM_ERR_IO;
	}
	return 0;
}

/*
 * The n results of a pipeline and its sync, each handed to fn (with its
 * index) or, after the first failure, skipped by the server. 0, or the
 * first failure fn returned (fn records the error).
 */
static int
pipeline_results(struct pg *p, size_t n,
    int (*fn)(struct pg *, PGresult *, size_t, void *), void *arg)
{
	PGresult *res;
	size_t i;
	int r = 0, rr;

	for (i = 0; i <= n; i++) {
		if ((res = PQgetResult(p->conn)) == NULL) {
			if (r == 0)
				set_err(p, NULL, NULL);
			return r != 0 ? r : NKHSM_ERR_IO;
		}
		if (i == n) {
			if (PQresultStatus(res) != PGRES_PIPELINE_SYNC && r == 0) {
				set_err(p, res, NULL);
				r = NKHSM_ERR_IO;
			}
		} else if (PQresultStatus(res) != PGRES_PIPELINE_ABORTED && r == 0 &&
		    (rr = fn(p, res, i, arg)) != 0)
			r = rr;
		PQclear(res);
		/* Each query's result ends with a NULL; the sync's does not. */
		if (i < n && (res = PQgetResult(p->conn)) != NULL) {
			PQclear(res);
			return NKHSM_ERR_IO;
		}
	}
	return r;
}

/* Leave pipeline mode; a failure to leave is one too. */
static int
pipeline_end(struct pg *p, int r)
{
	if (!PQexitPipelineMode(p->conn) && r == 0) {
		set_err(p, NULL, "pipeline");
		r = NKHSM_ERR_IO;
	}
	return r;
}

static int
prepared(struct pg *p, PGresult *res, size_t i, void *arg)
{
	(void)i;
	(void)arg;
	if (PQresultStatus(res) == PGRES_COMMAND_OK)
		return 0;
	set_err(p, res, NULL);
	return NKHSM_ERR_IO;
}

/* Every statement of stmts[], in one round trip. */
static int
prepare_all(struct pg *p, char *errbuf, size_t errlen)
{
	size_t i, n = sizeof(stmts) / sizeof(stmts[0]);
	int r = 0;

	if (!PQenterPipelineMode(p->conn)) {
		set_err(p, NULL, "pipeline");
		r = NKHSM_ERR_IO;
	}
	for (i = 0; r == 0 && i < n; i++)
		if (!PQsendPrepare(p->conn, stmts[i].name, stmts[i].sql,
		    stmts[i].nparams, stmts[i].types))
			r = NKHSM_ERR_IO;
	if (r == 0 && !PQpipelineSync(p->conn))
		r = NKHSM_ERR_IO;
	if (r == 0)
		r = pipeline_results(p, n, prepared, NULL);
	else
		set_err(p, NULL, "prepare");
	if ((r = pipeline_end(p, r)) != 0)
		nk_errf(errbuf, errlen, "ledger: prepare: %s", p->err);
	return r;
}

static int
pg_open(const char *target, unsigned int flags, void **dbp, char *errbuf,
    size_t errlen)
{
	/* The URL's own settings (expand_dbname) win over these defaults. */
	const char *const keys[] = { "connect_timeout",
	    "fallback_application_name", "dbname", NULL };
	const char *const vals[] = { CONNECT_TIMEOUT, "nkhsm-sshca", target,
	    NULL };
	struct pg *p;
	int r, have = 0;

	*dbp = NULL;
	if ((r = check_target(target, errbuf, errlen)) != 0)
		return r;
	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NKHSM_ERR_NOMEM;
	if ((p->conn = PQconnectdbParams(keys, vals, 1)) == NULL ||
	    PQstatus(p->conn) != CONNECTION_OK) {
		if (p->conn == NULL)
			snprintf(p->err, sizeof(p->err), "out of memory");
		else
			set_err(p, NULL, NULL);
		nk_errf(errbuf, errlen, "ledger: cannot connect to the database: "
		    "%s", p->err);
		pg_close(p);
		return SC_LEDGER_ERR_UNREACHABLE;
	}
	PQsetNoticeProcessor(p->conn, ignore_notice, NULL);
	if (setup_session(p, &have) != 0) {
		nk_errf(errbuf, errlen, "ledger: session: %s", p->err);
		r = NKHSM_ERR_IO;
	} else if ((r = setup_schema(p, flags, have, errbuf, errlen)) == 0)
		r = prepare_all(p, errbuf, errlen);
	if (r != 0) {
		if (pg_lost(p))
			r = SC_LEDGER_ERR_UNREACHABLE;
		pg_close(p);
		return r;
	}
	*dbp = p;
	return 0;
}

static void pg_rollback(void *db);

static int
pg_begin(void *db)
{
	struct pg *p = db;

	PGresult *res;

	p->err[0] = '\0';
	p->have_tail = 0;
	/* The log's end comes along: it cannot move while the lock is held. */
	res = PQexec(p->conn, "BEGIN ISOLATION LEVEL READ COMMITTED;"
	    "LOCK TABLE log IN EXCLUSIVE MODE;"
	    "SELECT seq, hash FROM log ORDER BY seq DESC LIMIT 1");
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
		set_err(p, res, NULL);
		PQclear(res);
		pg_rollback(p);
		return NKHSM_ERR_IO;
	}
	p->in_tx = 1;
	p->have_tail = 1;
	p->tail_seq = 0;
	strcpy(p->tail_hash, SC_LOG_GENESIS);
	if (PQntuples(res) == 1) {
		p->tail_seq = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		snprintf(p->tail_hash, sizeof(p->tail_hash), "%s",
		    PQgetvalue(res, 0, 1));
	}
	PQclear(res);
	return 0;
}

static int
pg_commit(void *db)
{
	struct pg *p = db;
	PGresult *res;
	int ok;

	p->in_tx = 0;
	p->have_tail = 0;
	res = PQexec(p->conn, "COMMIT");
	/* An aborted transaction's COMMIT answers ROLLBACK: not committed. */
	ok = res != NULL && PQresultStatus(res) == PGRES_COMMAND_OK &&
	    strcmp(PQcmdStatus(res), "COMMIT") == 0;
	if (!ok) {
		set_err(p, res, NULL);
		if (res != NULL && PQresultStatus(res) == PGRES_COMMAND_OK)
			snprintf(p->err, sizeof(p->err), "the transaction was "
			    "rolled back, not committed");
	}
	PQclear(res);
	return ok ? 0 : NKHSM_ERR_IO;
}

static void
pg_rollback(void *db)
{
	struct pg *p = db;
	char err[ERR_MAX], state[6];

	/* Keep the error that caused the rollback. */
	memcpy(err, p->err, sizeof(err));
	memcpy(state, p->state, sizeof(state));
	p->in_tx = 0;
	p->have_tail = 0;
	if (PQstatus(p->conn) == CONNECTION_OK)
		(void)exec(p, "ROLLBACK");
	memcpy(p->err, err, sizeof(err));
	memcpy(p->state, state, sizeof(state));
}

static int
pg_read_begin(void *db)
{
	struct pg *p = db;

	if (exec(p, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") != 0)
		return NKHSM_ERR_IO;
	p->in_tx = 1;
	return 0;
}

static void
pg_read_end(void *db)
{
	pg_rollback(db);
}

/*
 * One value of a one-row, one-column query: NKHSM_ERR_NO_KEY when there is
 * no row, NKHSM_ERR_FORMAT when it is NULL.
 */
static int
one_value(struct pg *p, PGresult *res, char **vp)
{
	int r;

	*vp = NULL;
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
		set_err(p, res, NULL);
		r = NKHSM_ERR_IO;
	} else if (PQntuples(res) == 0)
		r = NKHSM_ERR_NO_KEY;
	else if (PQgetisnull(res, 0, 0))
		r = NKHSM_ERR_FORMAT;
	else
		r = (*vp = strdup(PQgetvalue(res, 0, 0))) == NULL ?
		    NKHSM_ERR_NOMEM : 0;
	PQclear(res);
	return r;
}

static int
pg_used(void *db, int *usedp)
{
	struct pg *p = db;
	char *v = NULL;
	int r;

	*usedp = 0;
	if ((r = one_value(p, PQexec(p->conn, "SELECT (SELECT count(*) FROM "
	    "meta) + (SELECT count(*) FROM log)"), &v)) != 0)
		return r == NKHSM_ERR_NOMEM ? r : NKHSM_ERR_IO;
	*usedp = strcmp(v, "0") != 0;
	free(v);
	return 0;
}

static int
pg_meta_get(void *db, const char *k, char **vp)
{
	const Oid types[] = { OID_TEXT };
	const char *vals[] = { k };
	struct pg *p = db;

	int r;

	r = one_value(p, query(p, "SELECT v FROM meta WHERE k=$1", 1, types,
	    vals), vp);
	return r == NKHSM_ERR_FORMAT ? NKHSM_ERR_IO : r;	/* NOT NULL, unless altered */
}

static int
pg_meta_put(void *db, const char *k, const char *v)
{
	const Oid types[] = { OID_TEXT, OID_TEXT };
	const char *vals[] = { k, v };
	struct pg *p = db;

	return check(p, query(p, "INSERT INTO meta(k,v) VALUES($1,$2) ON "
	    "CONFLICT(k) DO UPDATE SET v=excluded.v", 2, types, vals),
	    PGRES_COMMAND_OK, NULL);
}

static int
pg_log_tail(void *db, long long *seqp, char *head)
{
	struct pg *p = db;
	PGresult *res;
	int r = 0;

	if (p->have_tail) {
		*seqp = p->tail_seq;
		memcpy(head, p->tail_hash, LOG_HASH_HEX);
		return 0;
	}
	*seqp = 0;
	strcpy(head, SC_LOG_GENESIS);
	res = PQexec(p->conn, "SELECT seq, hash FROM log ORDER BY seq DESC "
	    "LIMIT 1");
	if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
		set_err(p, res, NULL);
		r = NKHSM_ERR_IO;
	} else if (PQntuples(res) == 1) {
		*seqp = strtoll(PQgetvalue(res, 0, 0), NULL, 10);
		snprintf(head, LOG_HASH_HEX, "%s", PQgetvalue(res, 0, 1));
	}
	PQclear(res);
	return r;
}

/* The parameters of a log row and of a certificate row, as text. */
struct params {
	char		 num[5][24];
	const char	*v[12];
	int		 len[12], fmt[12];
};

static void
log_params(const struct sc_logrow *r, struct params *q)
{
	memset(q, 0, sizeof(*q));
	snprintf(q->num[0], sizeof(q->num[0]), "%lld", r->seq);
	q->v[0] = q->num[0];
	q->v[1] = r->entry;
	q->v[2] = r->prev;
	q->v[3] = r->hash;
}

static void
cert_params(const struct sc_row *c, struct params *q)
{
	memset(q, 0, sizeof(*q));
	snprintf(q->num[0], sizeof(q->num[0]), "%lld", (long long)c->valid_after);
	snprintf(q->num[1], sizeof(q->num[1]), "%lld",
	    (long long)c->valid_before);
	snprintf(q->num[2], sizeof(q->num[2]), "%lld", (long long)c->issued_at);
	snprintf(q->num[3], sizeof(q->num[3]), "%lld", c->log_seq);
	q->v[0] = c->family;
	q->v[1] = c->serial;
	q->v[2] = c->kind;
	q->v[3] = c->key_id;
	q->v[4] = c->principals;
	q->v[5] = q->num[0];
	q->v[6] = q->num[1];
	q->v[7] = c->subject_fp;
	q->v[8] = c->subject_key;
	q->v[9] = q->num[2];
	q->v[10] = (const char *)c->cert;	/* binary */
	q->len[10] = (int)c->certlen;
	q->fmt[10] = 1;
	q->v[11] = q->num[3];
}

static int
pg_log_put(void *db, const struct sc_logrow *r)
{
	struct pg *p = db;
	struct params q;

	log_params(r, &q);
	p->have_tail = 0;
	return check(p, PQexecPrepared(p->conn, "nk_ins_log", 4, q.v, NULL,
	    NULL, 0), PGRES_COMMAND_OK, NULL);
}

/* Queue the 2n inserts of a batch. */
static int
send_batch(struct pg *p, const struct sc_logrow *logs,
    const struct sc_row *certs, size_t n)
{
	struct params q;
	size_t i;

	for (i = 0; i < n; i++) {
		log_params(&logs[i], &q);
		if (!PQsendQueryPrepared(p->conn, "nk_ins_log", 4, q.v, NULL, NULL,
		    0))
			return NKHSM_ERR_IO;
		cert_params(&certs[i], &q);
		if (!PQsendQueryPrepared(p->conn, "nk_ins_cert", 12, q.v, q.len,
		    q.fmt, 0))
			return NKHSM_ERR_IO;
	}
	return PQpipelineSync(p->conn) ? 0 : NKHSM_ERR_IO;
}

/*
 * One insert's result: a taken serial (the certificate of pair i / 2) is
 * NKHSM_ERR_EXISTS with its index, any other refusal NKHSM_ERR_IO.
 */
static int
inserted(struct pg *p, PGresult *res, size_t i, void *arg)
{
	const char *st, *c;

	if (PQresultStatus(res) == PGRES_COMMAND_OK)
		return 0;
	set_err(p, res, NULL);
	st = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	c = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
	if (i % 2 == 1 && st != NULL && strcmp(st, "23505") == 0 && c != NULL &&
	    strcmp(c, "certs_serial_unique") == 0) {
		*(size_t *)arg = i / 2;
		return NKHSM_ERR_EXISTS;
	}
	return NKHSM_ERR_IO;
}

/* One pipeline of at most PIPELINE_MAX / 2 certificates and their entries. */
static int
issue_some(struct pg *p, const struct sc_logrow *logs,
    const struct sc_row *certs, size_t n, size_t *takenp)
{
	int r;

	if (!PQenterPipelineMode(p->conn)) {
		set_err(p, NULL, "pipeline");
		return NKHSM_ERR_IO;
	}
	if ((r = send_batch(p, logs, certs, n)) != 0)
		set_err(p, NULL, "send");
	else
		r = pipeline_results(p, 2 * n, inserted, takenp);
	return pipeline_end(p, r);
}

static int
pg_issue(void *db, const struct sc_logrow *logs, const struct sc_row *certs,
    size_t n, size_t *takenp)
{
	struct pg *p = db;
	size_t i, k, taken = 0;
	int r = 0;

	p->have_tail = 0;
	for (i = 0; i < n && r == 0; i += k) {
		k = n - i < PIPELINE_MAX / 2 ? n - i : PIPELINE_MAX / 2;
		if ((r = issue_some(p, logs + i, certs + i, k, &taken)) ==
		    NKHSM_ERR_EXISTS)
			*takenp = i + taken;
	}
	return r;
}

/* An UPDATE or INSERT and the number of rows it changed. */
static int
changed(struct pg *p, PGresult *res, int *np)
{
	int ok = res != NULL && PQresultStatus(res) == PGRES_COMMAND_OK;

	*np = ok ? atoi(PQcmdTuples(res)) : 0;
	if (!ok)
		set_err(p, res, NULL);
	PQclear(res);
	return ok ? 0 : NKHSM_ERR_IO;
}

static int
pg_revoke_certs(void *db, const char *what, const char *value, uint64_t at,
    const char *reason, int *np)
{
	const Oid types[] = { OID_TEXT, OID_TEXT, OID_INT8, OID_TEXT };
	struct pg *p = db;
	const char *sql, *vals[4];
	char num[24];

	*np = 0;
	/* ledgerverify.c replays exactly these three rules. */
	if (strcmp(what, "ssh") == 0 || strcmp(what, "x509") == 0)
		sql = "UPDATE certs SET revoked_at=$3, reason=$4 WHERE family=$1 "
		    "AND serial=$2 AND revoked_at IS NULL";
	else if (strcmp(what, "key_id") == 0)
		sql = "UPDATE certs SET revoked_at=$3, reason=$4 WHERE family='ssh' "
		    "AND key_id=$2 AND revoked_at IS NULL AND $1=$1";
	else if (strcmp(what, "key") == 0)
		sql = "UPDATE certs SET revoked_at=$3, reason=$4 WHERE "
		    "subject_fp=$2 AND revoked_at IS NULL AND $1=$1";
	else
		return NKHSM_ERR_INVALID_ARGUMENT;
	snprintf(num, sizeof(num), "%lld", (long long)at);
	vals[0] = what;
	vals[1] = value;
	vals[2] = num;
	vals[3] = reason;
	return changed(p, query(p, sql, 4, types, vals), np);
}

static int
pg_revoke_future(void *db, const char *what, const char *value,
    const char *subject_key, uint64_t at, const char *reason, int *np)
{
	const Oid types[] = { OID_TEXT, OID_TEXT, OID_TEXT, OID_INT8, OID_TEXT };
	struct pg *p = db;
	const char *vals[5];
	char num[24];

	snprintf(num, sizeof(num), "%lld", (long long)at);
	vals[0] = what;
	vals[1] = value;
	vals[2] = subject_key;
	vals[3] = num;
	vals[4] = reason;
	return changed(p, query(p, "INSERT INTO revocations(what,value,"
	    "subject_key,at,reason) VALUES($1,$2,$3,$4,$5) ON CONFLICT(what,"
	    "value) DO NOTHING", 5, types, vals), np);
}

struct found {
	size_t		 base, which;
	int		 any;
};

static int
looked_up(struct pg *p, PGresult *res, size_t i, void *arg)
{
	struct found *f = arg;

	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		set_err(p, res, NULL);
		return NKHSM_ERR_IO;
	}
	if (PQntuples(res) > 0 && !f->any) {
		f->any = 1;
		f->which = f->base + i;
	}
	return 0;
}

/* One revocation lookup per request, PIPELINE_MAX to a round trip. */
static int
pg_revoked(void *db, const char *const *key_ids, const char *const *fps,
    size_t n, size_t *whichp)
{
	struct pg *p = db;
	struct found f = { 0, 0, 0 };
	const char *vals[2];
	size_t i, k;
	int r = 0;

	for (f.base = 0; f.base < n && r == 0 && !f.any; f.base += k) {
		k = n - f.base < PIPELINE_MAX ? n - f.base : PIPELINE_MAX;
		if (!PQenterPipelineMode(p->conn)) {
			set_err(p, NULL, "pipeline");
			return -1;
		}
		for (i = 0; i < k && r == 0; i++) {
			vals[0] = key_ids[f.base + i] != NULL ? key_ids[f.base + i] : "";
			vals[1] = fps[f.base + i] != NULL ? fps[f.base + i] : "";
			if (!PQsendQueryPrepared(p->conn, "nk_is_revoked", 2, vals,
			    NULL, NULL, 0))
				r = NKHSM_ERR_IO;
		}
		if (r == 0 && !PQpipelineSync(p->conn))
			r = NKHSM_ERR_IO;
		if (r == 0)
			r = pipeline_results(p, k, looked_up, &f);
		else
			set_err(p, NULL, "send");
		r = pipeline_end(p, r);
	}
	if (r != 0)
		return -1;	/* cannot tell: the caller refuses */
	*whichp = f.which;
	return f.any;
}

/* n rows of meta (at most 8) in one statement. */
static int
pg_meta_put_many(void *db, const char *const *k, const char *const *v,
    size_t n)
{
	struct pg *p = db;
	const char *vals[16];
	Oid types[16];
	char sql[512];
	size_t i, len;

	if (n == 0 || n > 8)
		return NKHSM_ERR_INVALID_ARGUMENT;
	len = (size_t)snprintf(sql, sizeof(sql), "INSERT INTO meta(k,v) VALUES");
	for (i = 0; i < n; i++) {
		len += (size_t)snprintf(sql + len, sizeof(sql) - len,
		    "%s($%zu,$%zu)", i > 0 ? "," : "", 2 * i + 1, 2 * i + 2);
		vals[2 * i] = k[i];
		vals[2 * i + 1] = v[i];
		types[2 * i] = types[2 * i + 1] = OID_TEXT;
	}
	snprintf(sql + len, sizeof(sql) - len, " ON CONFLICT(k) DO UPDATE SET "
	    "v=excluded.v");
	return check(p, query(p, sql, (int)(2 * n), types, vals),
	    PGRES_COMMAND_OK, NULL);
}

/*
 * Run sql through a cursor, FETCH_ROWS at a time, calling row() for each
 * row (so a large ledger is never held whole, and a callback may query).
 * Outside a transaction, in a read-only snapshot of its own.
 */
static int
cursor(struct pg *p, const char *sql,
    int (*row)(struct pg *, PGresult *, int, void *), void *arg)
{
	char name[32], stmt[64], *decl = NULL;
	PGresult *res = NULL;
	int own = !p->in_tx, i, n, r;

	if (own && pg_read_begin(p) != 0)
		return NKHSM_ERR_IO;
	snprintf(name, sizeof(name), "nk_cursor_%u", ++p->cursors);
	r = NKHSM_ERR_NOMEM;
	if (asprintf(&decl, "DECLARE %s NO SCROLL CURSOR FOR %s", name,
	    sql) == -1)
		decl = NULL;
	else if ((r = exec(p, decl)) == 0) {
		snprintf(stmt, sizeof(stmt), "FETCH %d FROM %s", FETCH_ROWS, name);
		do {
			res = PQexec(p->conn, stmt);
			if (res == NULL || PQresultStatus(res) != PGRES_TUPLES_OK) {
				set_err(p, res, NULL);
				r = NKHSM_ERR_IO;
				break;
			}
			n = PQntuples(res);
			for (i = 0; i < n && r == 0; i++)
				r = row(p, res, i, arg);
			PQclear(res);
			res = NULL;
		} while (r == 0 && n == FETCH_ROWS);
		PQclear(res);
		snprintf(stmt, sizeof(stmt), "CLOSE %s", name);
		if (r == 0 || PQstatus(p->conn) == CONNECTION_OK)
			(void)exec(p, stmt);
	}
	free(decl);
	if (own)
		pg_read_end(p);
	return r;
}

/* Column i of a row: text, or NULL. */
static const char *
col(PGresult *res, int row, int i)
{
	return PQgetisnull(res, row, i) ? NULL : PQgetvalue(res, row, i);
}

static uint64_t
col_u64(PGresult *res, int row, int i, int *nullp)
{
	*nullp = PQgetisnull(res, row, i);
	return *nullp ? 0 : (uint64_t)strtoll(PQgetvalue(res, row, i), NULL, 10);
}

struct each_arg {
	int		(*cert)(const struct sc_row *, void *);
	int		(*rev)(const struct sc_revrow *, void *);
	int		(*log)(const struct sc_logrow *, void *);
	int		(*meta)(const char *, const char *, void *);
	void		*arg;
};

static int
cert_row(struct pg *p, PGresult *res, int i, void *arg)
{
	struct each_arg *a = arg;
	struct sc_row row;
	unsigned char *cert = NULL;
	size_t len = 0;
	int null, r;

	memset(&row, 0, sizeof(row));
	row.family = col(res, i, 0);
	row.kind = col(res, i, 1);
	row.serial = col(res, i, 2);
	row.key_id = col(res, i, 3);
	row.principals = col(res, i, 4);
	row.valid_after = col_u64(res, i, 5, &row.null_valid_after);
	row.valid_before = col_u64(res, i, 6, &row.null_valid_before);
	row.issued_at = col_u64(res, i, 7, &row.null_issued_at);
	row.subject_fp = col(res, i, 8);
	row.subject_key = col(res, i, 9);
	if (col(res, i, 10) != NULL && (cert = PQunescapeBytea((const unsigned
	    char *)col(res, i, 10), &len)) == NULL)
		return NKHSM_ERR_NOMEM;
	row.cert = cert;
	row.certlen = len;
	row.revoked_at = col_u64(res, i, 11, &null);
	row.revoked = !null;
	row.reason = col(res, i, 12);
	row.log_seq = col(res, i, 13) != NULL ? strtoll(col(res, i, 13), NULL,
	    10) : -1;
	/* Every reader gets text or NULL; none gets a half row. */
	if (row.family == NULL || row.kind == NULL || row.serial == NULL)
		r = NKHSM_ERR_FORMAT;
	else
		r = a->cert(&row, a->arg);
	PQfreemem(cert);
	(void)p;
	return r;
}

static int
pg_each(void *db, int (*fn)(const struct sc_row *, void *), void *arg)
{
	struct each_arg a = { .cert = fn, .arg = arg };

	return cursor(db, "SELECT family,kind,serial,key_id,principals,"
	    "valid_after,valid_before,issued_at,subject_fp,subject_key,cert,"
	    "revoked_at,reason,log_seq FROM certs ORDER BY issued_at, log_seq",
	    cert_row, &a);
}

static int
rev_row(struct pg *p, PGresult *res, int i, void *arg)
{
	struct each_arg *a = arg;
	struct sc_revrow rv;

	(void)p;
	memset(&rv, 0, sizeof(rv));
	rv.what = col(res, i, 0);
	rv.value = col(res, i, 1);
	rv.subject_key = col(res, i, 2);
	rv.at = col_u64(res, i, 3, &rv.null_at);
	rv.reason = col(res, i, 4);
	if (rv.what == NULL || rv.value == NULL)
		return NKHSM_ERR_FORMAT;
	return a->rev(&rv, a->arg);
}

static int
pg_each_revocation(void *db, int (*fn)(const struct sc_revrow *, void *),
    void *arg)
{
	struct each_arg a = { .rev = fn, .arg = arg };

	return cursor(db, "SELECT what,value,subject_key,at,reason FROM "
	    "revocations ORDER BY what, value", rev_row, &a);
}

static int
log_row(struct pg *p, PGresult *res, int i, void *arg)
{
	struct each_arg *a = arg;
	struct sc_logrow lr;

	(void)p;
	lr.seq = strtoll(PQgetvalue(res, i, 0), NULL, 10);
	lr.entry = col(res, i, 1);
	lr.prev = col(res, i, 2);
	lr.hash = col(res, i, 3);
	return a->log(&lr, a->arg);
}

static int
pg_each_log(void *db, int (*fn)(const struct sc_logrow *, void *), void *arg)
{
	struct each_arg a = { .log = fn, .arg = arg };

	return cursor(db, "SELECT seq,entry,prev,hash FROM log ORDER BY seq",
	    log_row, &a);
}

static int
pg_log_entry(void *db, long long seq, char **entryp)
{
	struct pg *p = db;
	const char *vals[1];
	char num[24];
	int r;

	snprintf(num, sizeof(num), "%lld", seq);
	vals[0] = num;
	r = one_value(p, PQexecPrepared(p->conn, "nk_log_entry", 1, vals, NULL,
	    NULL, 0), entryp);
	return r == NKHSM_ERR_FORMAT ? NKHSM_ERR_NO_KEY : r;	/* as for SQLite */
}

static int
meta_row(struct pg *p, PGresult *res, int i, void *arg)
{
	struct each_arg *a = arg;

	(void)p;
	return a->meta(col(res, i, 0), col(res, i, 1), a->arg);
}

static int
pg_each_meta(void *db, int (*fn)(const char *, const char *, void *),
    void *arg)
{
	struct each_arg a = { .meta = fn, .arg = arg };

	return cursor(db, "SELECT k, v FROM meta ORDER BY k", meta_row, &a);
}

static int
pg_relink(void *db, const char *family, const char *serial, long long seq)
{
	const Oid types[] = { OID_TEXT, OID_TEXT, OID_INT8 };
	struct pg *p = db;
	const char *vals[3];
	char num[24];
	int n = 0;

	snprintf(num, sizeof(num), "%lld", seq);
	vals[0] = family;
	vals[1] = serial;
	vals[2] = num;
	if (changed(p, query(p, "UPDATE certs SET log_seq=$3 WHERE family=$1 "
	    "AND serial=$2", 3, types, vals), &n) != 0 || n != 1)
		return NKHSM_ERR_IO;
	return 0;
}

const struct sc_backend sc_backend_pg = {
	.name = "postgresql",
	.open = pg_open,
	.close = pg_close,
	.errmsg = pg_errmsg,
	.lost = pg_lost,
	.begin = pg_begin,
	.commit = pg_commit,
	.rollback = pg_rollback,
	.read_begin = pg_read_begin,
	.read_end = pg_read_end,
	.used = pg_used,
	.meta_get = pg_meta_get,
	.meta_put = pg_meta_put,
	.meta_put_many = pg_meta_put_many,
	.log_tail = pg_log_tail,
	.log_put = pg_log_put,
	.issue = pg_issue,
	.revoke_certs = pg_revoke_certs,
	.revoke_future = pg_revoke_future,
	.revoked = pg_revoked,
	.each = pg_each,
	.each_revocation = pg_each_revocation,
	.each_log = pg_each_log,
	.log_entry = pg_log_entry,
	.each_meta = pg_each_meta,
	.relink = pg_relink,
};
