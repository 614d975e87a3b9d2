/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ledgerlog.h - the ledger's log entries (ledgerlog.c): what each entry
 * commits to, written and read from field values only, never from a
 * database's row layout, so that the same log verifies whatever holds it.
 * Pure: no I/O.
 *
 * An entry is one line of "name=value" pairs separated by single spaces,
 * starting "seq=N event=E time=T". Bytes outside printable ASCII, '%', '='
 * and space are written as %XX (upper case); nothing else is escaped, so a
 * parsed entry formats back to the same bytes.
 */
#ifndef SC_LEDGERLOG_H
#define SC_LEDGERLOG_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "ledger.h"

#define SC_LOG_FORMAT		"2"	/* meta log_format of this version */
#define SC_LOG_FIELDS_MAX	24
#define SC_LOG_ENTRY_MAX	(1024 * 1024)

/* One parsed entry; the names and values are copies. */
struct sc_logent {
	long long	 seq;
	size_t		 n;
	char		*name[SC_LOG_FIELDS_MAX];
	char		*value[SC_LOG_FIELDS_MAX];
};

/*
 * Parse an entry strictly: "seq=N" first, names of [a-z0-9_] given once,
 * only the escapes the writer makes. NKHSM_ERR_FORMAT with the reason.
 */
int sc_logent_parse(const char *text, struct sc_logent *e, char *errbuf,
    size_t errlen);
void sc_logent_free(struct sc_logent *e);
/* The value of a field, or NULL. */
const char *sc_logent_get(const struct sc_logent *e, const char *name);

/* Append " name=value" (no space first) to an entry being built. */
int sc_log_put(struct nk_buf *b, const char *name, const char *value);
int sc_log_put_u64(struct nk_buf *b, const char *name, uint64_t v);

/*
 * A record's fields as the log commits to them: name in the entry, the
 * ledger column it stands for, and its value as text (a SHA-256 in hex
 * for the certificate and the subject key). A NULL column has null set
 * and never matches.
 */
struct sc_field {
	const char	*name;
	const char	*column;
	char		*text;
	int		 null;
};
#define SC_CERT_FIELDS	11
#define SC_REV_FIELDS	5
/* SC_CERT_FIELDS fields of a certificate row (revocation state aside). */
int sc_log_cert_fields(const struct sc_row *r, struct sc_field *f);
/* SC_REV_FIELDS fields of a key id or key revocation. */
int sc_log_rev_fields(const char *what, const char *value,
    const char *subject_key, const uint64_t *at, const char *reason,
    struct sc_field *f);
void sc_log_fields_free(struct sc_field *f, size_t n);
int sc_log_put_fields(struct nk_buf *b, const struct sc_field *f, size_t n);
/*
 * 0 when each field equals the entry's; else NKHSM_ERR_SIGNATURE and
 * *columnp names the first that differs (or is missing from the entry).
 */
int sc_log_check_fields(const struct sc_field *f, size_t n,
    const struct sc_logent *e, const char **columnp);
/* SHA-256 in lower-case hex; "" for NULL (a NULL never equals a digest). */
int sc_log_sha256_hex(const void *p, size_t len, char out[65]);

/* The chain: SHA-256 of "PREV\nENTRY" in hex; the first PREV is GENESIS. */
#define SC_LOG_GENESIS \
	"0000000000000000000000000000000000000000000000000000000000000000"
int sc_log_chain_hash(const char *prev, const char *entry, char out[65]);

/*
 * The entries (without "seq=N "), each "event=E time=T" and then:
 *  issue   the certificate's SC_CERT_FIELDS;
 *  carry   the same, from_seq (its format 1 entry), revoked=0|1 and, when
 *          revoked, revoked_at and reason: a migrated certificate;
 *  revoke  what value subject_key_sha256 at reason; carry-revocation, the
 *          same for a migrated key id or key revocation;
 *  set     key value: a setting in meta;
 *  format  version (and from=1 after a migration): starts a log.
 */
int sc_log_cert_entry(const char *event, const struct sc_row *c,
    uint64_t time, long long from_seq, char **entryp);
int sc_log_rev_entry(const char *event, const char *what, const char *value,
    const char *subject_key, uint64_t at, const char *reason, uint64_t time,
    char **entryp);
int sc_log_set_entry(const char *key, const char *value, uint64_t time,
    char **entryp);
int sc_log_format_entry(const char *from, uint64_t time, char **entryp);

#endif
