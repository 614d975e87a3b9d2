/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ledgerlog.c - the ledger's log entries: writing them, reading them back
 * strictly, and comparing the ledger's records with what an entry
 * committed to, field by field. See ledgerlog.h.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nkhsm.h"
#include "nk-int.h"
#include "ledgerlog.h"

static const char hexd[] = "0123456789ABCDEF";

/* Written as %XX: what would end a value or a name. */
static int
escaped(unsigned char c)
{
	return c <= 0x20 || c >= 0x7f || c == '%' || c == '=';
}

static int
name_ok(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > 32)
		return 0;
	for (i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' &&
		    s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

int
sc_log_put(struct nk_buf *b, const char *name, const char *value)
{
	const unsigned char *v = (const unsigned char *)(value != NULL ? value : "");
	char esc[3];
	int r;

	if (!name_ok(name, strlen(name)))
		return NKHSM_ERR_INVALID_ARGUMENT;
	if ((nk_buf_avail(b) > 0 && (r = nk_buf_put(b, " ", 1)) != 0) ||
	    (r = nk_buf_put(b, name, strlen(name))) != 0 ||
	    (r = nk_buf_put(b, "=", 1)) != 0)
		return r;
	for (; *v != '\0'; v++) {
		if (nk_buf_avail(b) >= SC_LOG_ENTRY_MAX)
			return NKHSM_ERR_TOO_LARGE;
		if (!escaped(*v)) {
			if ((r = nk_buf_put(b, v, 1)) != 0)
				return r;
			continue;
		}
		esc[0] = '%';
		esc[1] = hexd[*v >> 4];
		esc[2] = hexd[*v & 15];
		if ((r = nk_buf_put(b, esc, 3)) != 0)
			return r;
	}
	return nk_buf_avail(b) >= SC_LOG_ENTRY_MAX ? NKHSM_ERR_TOO_LARGE : 0;
}

int
sc_log_put_u64(struct nk_buf *b, const char *name, uint64_t v)
{
	char num[24];

	snprintf(num, sizeof(num), "%llu", (unsigned long long)v);
	return sc_log_put(b, name, num);
}

void
sc_logent_free(struct sc_logent *e)
{
	size_t i;

	if (e == NULL)
		return;
	for (i = 0; i < e->n; i++) {
		free(e->name[i]);
		free(e->value[i]);
	}
	memset(e, 0, sizeof(*e));
}

static int
unhex(char c)
{
	const char *p = c != '\0' ? strchr(hexd, c) : NULL;

	return p == NULL ? -1 : (int)(p - hexd);
}

/* One value, up to the next space: decoded into a new string. */
static int
parse_value(const char *p, size_t len, char **outp)
{
	char *out;
	size_t i, o = 0;
	int hi, lo;

	*outp = NULL;
	if ((out = malloc(len + 1)) == NULL)
		return NKHSM_ERR_NOMEM;
	for (i = 0; i < len; i++) {
		if (p[i] != '%') {
			if (escaped((unsigned char)p[i]))
				goto bad;
			out[o++] = p[i];
			continue;
		}
		/* Only the escapes the writer makes: %XX, upper case. */
		if (i + 2 >= len || (hi = unhex(p[i + 1])) < 0 ||
		    (lo = unhex(p[i + 2])) < 0 ||
		    !escaped((unsigned char)(hi << 4 | lo)) || (hi << 4 | lo) == 0)
			goto bad;
		out[o++] = (char)(hi << 4 | lo);
		i += 2;
	}
	out[o] = '\0';
	*outp = out;
	return 0;
 bad:
	free(out);
	return NKHSM_ERR_FORMAT;
}

int
sc_logent_parse(const char *text, struct sc_logent *e, char *errbuf,
    size_t errlen)
{
	const char *p = text, *eq, *end;
	char *num = NULL;
	size_t i;
	int r = NKHSM_ERR_FORMAT;

	memset(e, 0, sizeof(*e));
	if (text == NULL || strlen(text) > SC_LOG_ENTRY_MAX) {
		nk_errf(errbuf, errlen, "entry missing or too long");
		return NKHSM_ERR_FORMAT;
	}
	for (;;) {
		if ((end = strchr(p, ' ')) == NULL)
			end = p + strlen(p);
		r = NKHSM_ERR_FORMAT;
		if ((eq = memchr(p, '=', (size_t)(end - p))) == NULL ||
		    !name_ok(p, (size_t)(eq - p))) {
			nk_errf(errbuf, errlen, "malformed field %zu", e->n + 1);
			goto fail;
		}
		if (e->n >= SC_LOG_FIELDS_MAX) {
			nk_errf(errbuf, errlen, "more than %d fields",
			    SC_LOG_FIELDS_MAX);
			goto fail;
		}
		if ((e->name[e->n] = strndup(p, (size_t)(eq - p))) == NULL) {
			r = NKHSM_ERR_NOMEM;
			goto fail;
		}
		if ((r = parse_value(eq + 1, (size_t)(end - eq - 1),
		    &e->value[e->n])) != 0) {
			free(e->name[e->n]);
			e->name[e->n] = NULL;
			nk_errf(errbuf, errlen, "malformed value of %.*s",
			    (int)(eq - p), p);
			goto fail;
		}
		for (i = 0; i < e->n; i++) {
			if (strcmp(e->name[i], e->name[e->n]) == 0) {
				e->n++;
				nk_errf(errbuf, errlen, "field %s given twice",
				    e->name[i]);
				r = NKHSM_ERR_FORMAT;
				goto fail;
			}
		}
		e->n++;
		if (*end == '\0')
			break;
		p = end + 1;
	}
	r = NKHSM_ERR_FORMAT;
	/* seq=N first: positive decimal, no sign, no leading zero. */
	num = e->value[0];
	if (strcmp(e->name[0], "seq") != 0 || num[0] < '1' || num[0] > '9' ||
	    strspn(num, "0123456789") != strlen(num) || strlen(num) > 18) {
		nk_errf(errbuf, errlen, "no seq=N at the start");
		goto fail;
	}
	e->seq = strtoll(num, NULL, 10);
	return 0;
 fail:
	sc_logent_free(e);
	return r;
}

const char *
sc_logent_get(const struct sc_logent *e, const char *name)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		if (strcmp(e->name[i], name) == 0)
			return e->value[i];
	return NULL;
}

int
sc_log_sha256_hex(const void *p, size_t len, char out[65])
{
	static const char lower[] = "0123456789abcdef";
	uint8_t md[NK_MAX_DIGEST];
	size_t mdlen = 0, i;
	int r;

	out[0] = '\0';
	if (p == NULL)
		return 0;
	if ((r = nk_sha2(256, p, len, md, &mdlen)) != 0)
		return r;
	for (i = 0; i < 32; i++) {
		out[2 * i] = lower[md[i] >> 4];
		out[2 * i + 1] = lower[md[i] & 15];
	}
	out[64] = '\0';
	return 0;
}

void
sc_log_fields_free(struct sc_field *f, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(f[i].text);
		f[i].text = NULL;
	}
}

/* One field: text copied, or NULL marked. */
static int
field_str(struct sc_field *f, const char *name, const char *column,
    const char *v)
{
	f->name = name;
	f->column = column;
	f->null = v == NULL;
	return (f->text = strdup(v != NULL ? v : "")) == NULL ?
	    NKHSM_ERR_NOMEM : 0;
}

static int
field_u64(struct sc_field *f, const char *name, const char *column,
    const uint64_t *v)
{
	char num[24];

	if (v != NULL)
		snprintf(num, sizeof(num), "%llu", (unsigned long long)*v);
	return field_str(f, name, column, v != NULL ? num : NULL);
}

static int
field_sha(struct sc_field *f, const char *name, const char *column,
    const void *p, size_t len)
{
	char hex[65];
	int r;

	if ((r = sc_log_sha256_hex(p, len, hex)) != 0)
		return r;
	return field_str(f, name, column, p != NULL ? hex : NULL);
}

int
sc_log_cert_fields(const struct sc_row *c, struct sc_field *f)
{
	int r;

	memset(f, 0, SC_CERT_FIELDS * sizeof(*f));
	if ((r = field_str(&f[0], "family", "family", c->family)) != 0 ||
	    (r = field_str(&f[1], "kind", "kind", c->kind)) != 0 ||
	    (r = field_str(&f[2], "serial", "serial", c->serial)) != 0 ||
	    (r = field_sha(&f[3], "cert_sha256", "cert", c->cert,
	    c->certlen)) != 0 ||
	    (r = field_str(&f[4], "subject", "subject_fp", c->subject_fp)) != 0 ||
	    (r = field_sha(&f[5], "subject_key_sha256", "subject_key",
	    c->subject_key, c->subject_key != NULL ?
	    strlen(c->subject_key) : 0)) != 0 ||
	    (r = field_u64(&f[6], "valid_after", "valid_after",
	    c->null_valid_after ? NULL : &c->valid_after)) != 0 ||
	    (r = field_u64(&f[7], "valid_before", "valid_before",
	    c->null_valid_before ? NULL : &c->valid_before)) != 0 ||
	    (r = field_u64(&f[8], "issued_at", "issued_at",
	    c->null_issued_at ? NULL : &c->issued_at)) != 0 ||
	    (r = field_str(&f[9], "key_id", "key_id", c->key_id)) != 0 ||
	    (r = field_str(&f[10], "principals", "principals",
	    c->principals)) != 0)
		sc_log_fields_free(f, SC_CERT_FIELDS);
	return r;
}

int
sc_log_rev_fields(const char *what, const char *value,
    const char *subject_key, const uint64_t *at, const char *reason,
    struct sc_field *f)
{
	int r;

	memset(f, 0, SC_REV_FIELDS * sizeof(*f));
	/* subject_key is NULL for key ids: an empty digest, not a missing one. */
	if ((r = field_str(&f[0], "what", "what", what)) != 0 ||
	    (r = field_str(&f[1], "value", "value", value)) != 0 ||
	    (r = field_sha(&f[2], "subject_key_sha256", "subject_key",
	    subject_key, subject_key != NULL ? strlen(subject_key) : 0)) != 0 ||
	    (r = field_u64(&f[3], "at", "at", at)) != 0 ||
	    (r = field_str(&f[4], "reason", "reason", reason)) != 0)
		sc_log_fields_free(f, SC_REV_FIELDS);
	else
		f[2].null = 0;
	return r;
}

int
sc_log_put_fields(struct nk_buf *b, const struct sc_field *f, size_t n)
{
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		if (f[i].null)
			return NKHSM_ERR_INVALID_ARGUMENT;
		if ((r = sc_log_put(b, f[i].name, f[i].text)) != 0)
			return r;
	}
	return 0;
}

int
sc_log_check_fields(const struct sc_field *f, size_t n,
    const struct sc_logent *e, const char **columnp)
{
	const char *v;
	size_t i;

	*columnp = NULL;
	for (i = 0; i < n; i++) {
		if (f[i].null || (v = sc_logent_get(e, f[i].name)) == NULL ||
		    strcmp(v, f[i].text) != 0) {
			*columnp = f[i].column;
			return NKHSM_ERR_SIGNATURE;
		}
	}
	return 0;
}

int
sc_log_chain_hash(const char *prev, const char *entry, char out[65])
{
	struct nk_buf b;
	int r;

	nk_buf_init(&b);
	if ((r = nk_buf_put(&b, prev, strlen(prev))) == 0 &&
	    (r = nk_buf_put(&b, "\n", 1)) == 0 &&
	    (r = nk_buf_put(&b, entry, strlen(entry))) == 0)
		r = sc_log_sha256_hex(nk_buf_ptr(&b), nk_buf_avail(&b), out);
	nk_buf_free(&b);
	return r;
}

/* "event=E time=T", then the caller's fields; the text handed over. */
static int
entry_start(struct nk_buf *b, const char *event, uint64_t time)
{
	int r;

	nk_buf_init(b);
	if ((r = sc_log_put(b, "event", event)) != 0 ||
	    (r = sc_log_put_u64(b, "time", time)) != 0)
		nk_buf_free(b);
	return r;
}

static int
entry_finish(struct nk_buf *b, int r, char **entryp)
{
	uint8_t *p = NULL;
	size_t len = 0;

	if (r == 0 && (r = nk_buf_put(b, "", 1)) == 0 &&
	    (r = nk_buf_steal(b, &p, &len)) == 0)
		*entryp = (char *)p;
	nk_buf_free(b);
	return r;
}

int
sc_log_cert_entry(const char *event, const struct sc_row *c, uint64_t time,
    long long from_seq, char **entryp)
{
	struct sc_field f[SC_CERT_FIELDS];
	struct nk_buf b;
	int r, carry = strcmp(event, "carry") == 0;

	*entryp = NULL;
	if ((r = sc_log_cert_fields(c, f)) != 0)
		return r;
	if ((r = entry_start(&b, event, time)) != 0) {
		sc_log_fields_free(f, SC_CERT_FIELDS);
		return r;
	}
	r = sc_log_put_fields(&b, f, SC_CERT_FIELDS);
	if (r == 0 && carry &&
	    (r = sc_log_put_u64(&b, "from_seq", (uint64_t)from_seq)) == 0 &&
	    (r = sc_log_put(&b, "revoked", c->revoked ? "1" : "0")) == 0 &&
	    c->revoked && (r = sc_log_put_u64(&b, "revoked_at",
	    c->revoked_at)) == 0)
		r = c->reason == NULL ? NKHSM_ERR_INVALID_ARGUMENT :
		    sc_log_put(&b, "reason", c->reason);
	sc_log_fields_free(f, SC_CERT_FIELDS);
	return entry_finish(&b, r, entryp);
}

int
sc_log_rev_entry(const char *event, const char *what, const char *value,
    const char *subject_key, uint64_t at, const char *reason, uint64_t time,
    char **entryp)
{
	struct sc_field f[SC_REV_FIELDS];
	struct nk_buf b;
	int r;

	*entryp = NULL;
	if ((r = sc_log_rev_fields(what, value, subject_key, &at, reason != NULL ?
	    reason : "", f)) != 0)
		return r;
	if ((r = entry_start(&b, event, time)) != 0) {
		sc_log_fields_free(f, SC_REV_FIELDS);
		return r;
	}
	r = sc_log_put_fields(&b, f, SC_REV_FIELDS);
	sc_log_fields_free(f, SC_REV_FIELDS);
	return entry_finish(&b, r, entryp);
}

int
sc_log_set_entry(const char *key, const char *value, uint64_t time,
    char **entryp)
{
	struct nk_buf b;
	int r;

	*entryp = NULL;
	if ((r = entry_start(&b, "set", time)) != 0)
		return r;
	if ((r = sc_log_put(&b, "key", key)) == 0)
		r = sc_log_put(&b, "value", value);
	return entry_finish(&b, r, entryp);
}

int
sc_log_format_entry(const char *from, uint64_t time, char **entryp)
{
	struct nk_buf b;
	int r;

	*entryp = NULL;
	if ((r = entry_start(&b, "format", time)) != 0)
		return r;
	if ((r = sc_log_put(&b, "version", SC_LOG_FORMAT)) == 0 && from != NULL)
		r = sc_log_put(&b, "from", from);
	return entry_finish(&b, r, entryp);
}
