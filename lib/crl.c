/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * crl.c - X.509 CRLs (RFC 5280) read in place: a strict DER walk with the
 * bounded buffer, a serial lookup that walks the entries, the signature
 * checked against the issuer's key, and PEM blocks. See crl.h.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "nk-int.h"
#include "buf.h"
#include "crl.h"

#define TAG_BOOLEAN	0x01
#define TAG_INTEGER	0x02
#define TAG_BITSTRING	0x03
#define TAG_OCTETSTRING	0x04
#define TAG_NULL	0x05
#define TAG_OID		0x06
#define TAG_ENUMERATED	0x0a
#define TAG_UTCTIME	0x17
#define TAG_GENTIME	0x18
#define TAG_SEQUENCE	0x30
#define TAG_EXPLICIT0	0xa0	/* crlExtensions [0] EXPLICIT */
#define TAG_KEYID	0x80	/* AuthorityKeyIdentifier keyIdentifier [0] */

#define SERIAL_MAX	64	/* bytes; RFC 5280 says 20, some CAs use more */
#define EXTS_MAX	32	/* extensions in one list */
#define REASON_REMOVE	8	/* removeFromCRL: delta CRLs only */

/* One TLV: all of it, and its content. */
struct tlv {
	const uint8_t	*all;
	size_t		 alllen;
	const uint8_t	*v;
	size_t		 len;
};

/* Where a parse stands, for messages. */
struct parse {
	const uint8_t	*base;
	struct nk_crl	*crl;
	int		 v2;
	int		 entries_checked;	/* nk_crl_reparse */
	char		*errbuf;
	size_t		 errlen;
};

static int
bad(struct parse *p, const struct nk_buf *b, int r, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
bad(struct parse *p, const struct nk_buf *b, int r, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	nk_errf(p->errbuf, p->errlen, "byte %zu: %s",
	    (size_t)(nk_buf_ptr(b) - p->base), why);
	return r;
}

/*
 * One DER header in place at p (before end), which must have this tag:
 * definite, minimal lengths. Where the value starts and, in *lenp, its
 * length; NULL when malformed or longer than what is left. Used in place
 * because a CRL of 10,000 entries is 50,000 of them.
 */
static const uint8_t *
der_hdr(const uint8_t *p, const uint8_t *end, uint8_t tag, size_t *lenp)
{
	size_t n, len, i;

	if (end - p < 2 || p[0] != tag)
		return NULL;
	if (p[1] < 0x80) {
		len = p[1];
		p += 2;
	} else {
		/* 0x80 is BER's indefinite length; 4 bytes is 4 GiB. */
		n = p[1] & 0x7f;
		if (n == 0 || n > 4 || (size_t)(end - p) < 2 + n || p[2] == 0)
			return NULL;
		for (len = 0, i = 0; i < n; i++)
			len = len << 8 | p[2 + i];
		if (len < 0x80)
			return NULL;
		p += 2 + n;
	}
	if (len > (size_t)(end - p))
		return NULL;
	*lenp = len;
	return p;
}

/* The next TLV, which must have this tag; b moves past the whole TLV. */
static int
der_next(struct nk_buf *b, uint8_t tag, struct tlv *t)
{
	const uint8_t *p = nk_buf_ptr(b), *v;
	size_t len;

	if ((v = der_hdr(p, p + nk_buf_avail(b), tag, &len)) == NULL)
		return NKHSM_ERR_FORMAT;
	t->all = p;
	t->alllen = (size_t)(v - p) + len;
	t->v = v;
	t->len = len;
	return nk_buf_get(b, NULL, t->alllen);
}

static int
der_peek(const struct nk_buf *b, uint8_t tag)
{
	return nk_buf_avail(b) > 0 && nk_buf_ptr(b)[0] == tag;
}

/* An INTEGER's content in its shortest form. */
static int
der_minimal_int(const struct tlv *t)
{
	if (t->len == 0)
		return 0;
	if (t->len > 1 && ((t->v[0] == 0x00 && (t->v[1] & 0x80) == 0) ||
	    (t->v[0] == 0xff && (t->v[1] & 0x80) != 0)))
		return 0;
	return 1;
}

/* An OBJECT IDENTIFIER: base-128 arcs, each minimal, the last one ended. */
static int
der_oid_ok(const struct tlv *t)
{
	size_t i;

	if (t->len == 0 || (t->v[t->len - 1] & 0x80) != 0)
		return 0;
	for (i = 0; i < t->len; i++)
		if (t->v[i] == 0x80 && (i == 0 || (t->v[i - 1] & 0x80) == 0))
			return 0;
	return 1;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian). */
static int64_t
days_from_civil(int64_t y, unsigned int m, unsigned int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* Two decimal digits, already checked to be digits. */
#define D2(p)	((unsigned int)((p)[0] - '0') * 10 + (unsigned int)((p)[1] - '0'))

/*
 * UTCTime YYMMDDHHMMSSZ or GeneralizedTime YYYYMMDDHHMMSSZ, as DER has
 * them; into *tp (seconds since the epoch) unless tp is NULL, as for the
 * revocation dates of the entries, which are checked but not used.
 */
static int
der_time(struct nk_buf *b, int64_t *tp)
{
	static const unsigned char mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31,
	    30, 31, 30, 31 };
	const uint8_t *d;
	struct tlv t;
	unsigned int y, mo, dd, h, mi, sec, ylen;
	size_t i;

	if (der_peek(b, TAG_UTCTIME)) {
		if (der_next(b, TAG_UTCTIME, &t) != 0 || t.len != 13)
			return NKHSM_ERR_FORMAT;
		ylen = 2;
	} else if (der_next(b, TAG_GENTIME, &t) != 0 || t.len != 15)
		return NKHSM_ERR_FORMAT;
	else
		ylen = 4;
	for (i = 0; i + 1 < t.len; i++)
		if ((unsigned int)(t.v[i] - '0') > 9)
			return NKHSM_ERR_FORMAT;
	if (t.v[t.len - 1] != 'Z')
		return NKHSM_ERR_FORMAT;
	d = t.v + ylen;
	y = ylen == 2 ? D2(t.v) : D2(t.v) * 100 + D2(t.v + 2);
	if (ylen == 2)
		y += y >= 50 ? 1900 : 2000;
	mo = D2(d);
	dd = D2(d + 2);
	h = D2(d + 4);
	mi = D2(d + 6);
	sec = D2(d + 8);
	if (mo < 1 || mo > 12 || dd < 1 || dd > mdays[mo - 1] || h > 23 ||
	    mi > 59 || sec > 59 || (mo == 2 && dd == 29 &&
	    (y % 4 != 0 || (y % 100 == 0 && y % 400 != 0))))
		return NKHSM_ERR_FORMAT;
	if (tp != NULL)
		*tp = days_from_civil(y, mo, dd) * 86400 + h * 3600 + mi * 60 +
		    sec;
	return 0;
}

/* The signature algorithms, by OID content. */
static const struct {
	uint8_t		 oid[9];
	size_t		 len;
	int		 alg;
	int		 null_ok;	/* RSA: NULL parameters (or none) */
} sigalgs[] = {
	{ { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02 }, 8,
	    NK_CRL_ECDSA_SHA256, 0 },
	{ { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03 }, 8,
	    NK_CRL_ECDSA_SHA384, 0 },
	{ { 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04 }, 8,
	    NK_CRL_ECDSA_SHA512, 0 },
	{ { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b }, 9,
	    NK_CRL_RSA_SHA256, 1 },
	{ { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c }, 9,
	    NK_CRL_RSA_SHA384, 1 },
	{ { 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d }, 9,
	    NK_CRL_RSA_SHA512, 1 },
	{ { 0x2b, 0x65, 0x70 }, 3, NK_CRL_ED25519, 0 },
};

static int
sig_alg(const struct tlv *alg, int *algp)
{
	struct nk_buf b;
	struct tlv oid, par;
	size_t i;

	nk_buf_from(&b, alg->v, alg->len);
	if (der_next(&b, TAG_OID, &oid) != 0)
		return NKHSM_ERR_FORMAT;
	for (i = 0; i < sizeof(sigalgs) / sizeof(sigalgs[0]); i++) {
		if (oid.len != sigalgs[i].len ||
		    memcmp(oid.v, sigalgs[i].oid, oid.len) != 0)
			continue;
		if (nk_buf_avail(&b) != 0 && (!sigalgs[i].null_ok ||
		    der_next(&b, TAG_NULL, &par) != 0 || par.len != 0 ||
		    nk_buf_avail(&b) != 0))
			return NKHSM_ERR_FORMAT;
		*algp = sigalgs[i].alg;
		return 0;
	}
	return NKHSM_ERR_UNSUPPORTED;
}

/* Extension OIDs (2.5.29.x): the last byte. */
#define EXT_CRL_NUMBER		0x14
#define EXT_REASON		0x15
#define EXT_INVALIDITY_DATE	0x18
#define EXT_DELTA		0x1b
#define EXT_IDP			0x1c
#define EXT_CERT_ISSUER		0x1d
#define EXT_AKID		0x23

/* 2.5.29.x: x, else 0. */
static int
ce_oid(const struct tlv *oid)
{
	return oid->len == 3 && oid->v[0] == 0x55 && oid->v[1] == 0x1d ?
	    oid->v[2] : 0;
}

typedef int ext_fn(struct parse *, struct nk_buf *, const struct tlv *,
    int, const struct tlv *);

/* Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension; fn for each. */
static int
extensions(struct parse *p, const struct tlv *exts, ext_fn *fn)
{
	const uint8_t *seen[EXTS_MAX];
	size_t seenlen[EXTS_MAX], n = 0, i;
	struct nk_buf b, e;
	struct tlv ext, oid, crit, val;
	int critical, r;

	nk_buf_from(&b, exts->v, exts->len);
	if (nk_buf_avail(&b) == 0)
		return bad(p, &b, NKHSM_ERR_FORMAT, "empty extension list");
	while (nk_buf_avail(&b) > 0) {
		critical = 0;
		if (der_next(&b, TAG_SEQUENCE, &ext) != 0)
			return bad(p, &b, NKHSM_ERR_FORMAT, "malformed extension");
		nk_buf_from(&e, ext.v, ext.len);
		if (der_next(&e, TAG_OID, &oid) != 0 || !der_oid_ok(&oid))
			return bad(p, &e, NKHSM_ERR_FORMAT, "malformed extension");
		/* DER leaves out critical FALSE; an explicit FALSE is taken. */
		if (der_peek(&e, TAG_BOOLEAN)) {
			if (der_next(&e, TAG_BOOLEAN, &crit) != 0 ||
			    crit.len != 1 || (crit.v[0] != 0 && crit.v[0] != 0xff))
				return bad(p, &e, NKHSM_ERR_FORMAT, "malformed "
				    "critical flag");
			critical = crit.v[0] != 0;
		}
		if (der_next(&e, TAG_OCTETSTRING, &val) != 0 ||
		    nk_buf_avail(&e) != 0)
			return bad(p, &e, NKHSM_ERR_FORMAT, "malformed extension");
		for (i = 0; i < n; i++)
			if (seenlen[i] == oid.len &&
			    memcmp(seen[i], oid.v, oid.len) == 0)
				return bad(p, &e, NKHSM_ERR_FORMAT, "an extension "
				    "appears twice");
		if (n == EXTS_MAX)
			return bad(p, &e, NKHSM_ERR_FORMAT, "more than %d "
			    "extensions", EXTS_MAX);
		seen[n] = oid.v;
		seenlen[n++] = oid.len;
		if ((r = fn(p, &e, &oid, critical, &val)) != 0)
			return r;
	}
	return 0;
}

/* crlExtensions: authority key id and CRL number read; delta and IDP refused. */
static int
crl_ext(struct parse *p, struct nk_buf *at, const struct tlv *oid,
    int critical, const struct tlv *val)
{
	struct nk_buf b, a;
	struct tlv t, kid;

	nk_buf_from(&b, val->v, val->len);
	switch (ce_oid(oid)) {
	case EXT_AKID:
		if (der_next(&b, TAG_SEQUENCE, &t) != 0 || nk_buf_avail(&b) != 0)
			return bad(p, at, NKHSM_ERR_FORMAT, "malformed "
			    "authorityKeyIdentifier");
		nk_buf_from(&a, t.v, t.len);
		if (der_peek(&a, TAG_KEYID)) {
			if (der_next(&a, TAG_KEYID, &kid) != 0 || kid.len == 0)
				return bad(p, at, NKHSM_ERR_FORMAT, "malformed "
				    "authorityKeyIdentifier");
			p->crl->akid = kid.v;
			p->crl->akidlen = kid.len;
		}
		return 0;
	case EXT_CRL_NUMBER:
		if (der_next(&b, TAG_INTEGER, &t) != 0 || nk_buf_avail(&b) != 0 ||
		    !der_minimal_int(&t) || t.len > 21 || (t.v[0] & 0x80) != 0)
			return bad(p, at, NKHSM_ERR_FORMAT, "malformed cRLNumber");
		p->crl->number = t.v;
		p->crl->numberlen = t.len;
		return 0;
	case EXT_DELTA:
		return bad(p, at, NKHSM_ERR_UNSUPPORTED, "a delta CRL");
	case EXT_IDP:
		return bad(p, at, NKHSM_ERR_UNSUPPORTED, "a partitioned or "
		    "indirect CRL (issuingDistributionPoint)");
	default:
		if (critical)
			return bad(p, at, NKHSM_ERR_UNSUPPORTED, "an unknown "
			    "critical CRL extension");
		return 0;
	}
}

/* crlEntryExtensions: reasonCode checked; certificateIssuer refused. */
static int
entry_ext(struct parse *p, struct nk_buf *at, const struct tlv *oid,
    int critical, const struct tlv *val)
{
	struct nk_buf b;
	struct tlv t;

	nk_buf_from(&b, val->v, val->len);
	switch (ce_oid(oid)) {
	case EXT_REASON:
		if (der_next(&b, TAG_ENUMERATED, &t) != 0 ||
		    nk_buf_avail(&b) != 0 || t.len != 1 || t.v[0] > 10 ||
		    t.v[0] == 7)
			return bad(p, at, NKHSM_ERR_FORMAT, "malformed reasonCode");
		if (t.v[0] == REASON_REMOVE)
			return bad(p, at, NKHSM_ERR_UNSUPPORTED, "a removeFromCRL "
			    "entry (delta CRLs only)");
		return 0;
	case EXT_INVALIDITY_DATE:
		return 0;
	case EXT_CERT_ISSUER:
		return bad(p, at, NKHSM_ERR_UNSUPPORTED, "an indirect CRL "
		    "(certificateIssuer)");
	default:
		if (critical)
			return bad(p, at, NKHSM_ERR_UNSUPPORTED, "an unknown "
			    "critical entry extension");
		return 0;
	}
}

/* revokedCertificates: every entry checked. */
static int
entries(struct parse *p, const struct tlv *list)
{
	struct nk_buf b, e;
	struct tlv ent, ser, exts;
	int r;

	nk_buf_from(&b, list->v, list->len);
	while (nk_buf_avail(&b) > 0) {
		if (der_next(&b, TAG_SEQUENCE, &ent) != 0)
			return bad(p, &b, NKHSM_ERR_FORMAT, "malformed entry");
		nk_buf_from(&e, ent.v, ent.len);
		if (der_next(&e, TAG_INTEGER, &ser) != 0 ||
		    !der_minimal_int(&ser) || ser.len > SERIAL_MAX)
			return bad(p, &e, NKHSM_ERR_FORMAT, "malformed serial");
		if (der_time(&e, NULL) != 0)
			return bad(p, &e, NKHSM_ERR_FORMAT, "malformed "
			    "revocationDate");
		if (der_peek(&e, TAG_SEQUENCE)) {
			if (!p->v2)
				return bad(p, &e, NKHSM_ERR_FORMAT, "entry "
				    "extensions in a v1 CRL");
			if (der_next(&e, TAG_SEQUENCE, &exts) != 0)
				return bad(p, &e, NKHSM_ERR_FORMAT, "malformed "
				    "entry extensions");
			if ((r = extensions(p, &exts, entry_ext)) != 0)
				return r;
		}
		if (nk_buf_avail(&e) != 0)
			return bad(p, &e, NKHSM_ERR_FORMAT, "trailing data in "
			    "an entry");
		p->crl->nentries++;
	}
	return 0;
}

/* The fields after the issuer: times, entries, extensions. */
static int
tbs_rest(struct parse *p, struct nk_buf *b)
{
	struct nk_crl *crl = p->crl;
	struct nk_buf x;
	struct tlv t, exts;
	int r;

	if (der_time(b, &crl->this_update) != 0)
		return bad(p, b, NKHSM_ERR_FORMAT, "malformed thisUpdate");
	if (!der_peek(b, TAG_UTCTIME) && !der_peek(b, TAG_GENTIME))
		return bad(p, b, NKHSM_ERR_FORMAT, "no nextUpdate: the CRL "
		    "never goes stale");
	if (der_time(b, &crl->next_update) != 0)
		return bad(p, b, NKHSM_ERR_FORMAT, "malformed nextUpdate");
	if (crl->next_update < crl->this_update)
		return bad(p, b, NKHSM_ERR_FORMAT, "nextUpdate before thisUpdate");
	if (der_peek(b, TAG_SEQUENCE)) {
		if (der_next(b, TAG_SEQUENCE, &t) != 0)
			return bad(p, b, NKHSM_ERR_FORMAT, "malformed "
			    "revokedCertificates");
		crl->entries = t.v;
		crl->entrieslen = t.len;
		if (!p->entries_checked && (r = entries(p, &t)) != 0)
			return r;
	}
	if (der_peek(b, TAG_EXPLICIT0)) {
		if (!p->v2)
			return bad(p, b, NKHSM_ERR_FORMAT, "extensions in a v1 CRL");
		if (der_next(b, TAG_EXPLICIT0, &t) != 0)
			return bad(p, b, NKHSM_ERR_FORMAT, "malformed crlExtensions");
		nk_buf_from(&x, t.v, t.len);
		if (der_next(&x, TAG_SEQUENCE, &exts) != 0 ||
		    nk_buf_avail(&x) != 0)
			return bad(p, &x, NKHSM_ERR_FORMAT, "malformed "
			    "crlExtensions");
		if ((r = extensions(p, &exts, crl_ext)) != 0)
			return r;
	}
	if (nk_buf_avail(b) != 0)
		return bad(p, b, NKHSM_ERR_FORMAT, "trailing data in tbsCertList");
	return 0;
}

/*
 * The issuer is only ever compared, as bytes, with a certificate's subject;
 * it must still be a Name that OpenSSL reads (valid strings, UTF-8 among
 * them), so nothing here takes a CRL that OpenSSL refuses. A Name is a few
 * attributes: this costs little.
 */
static int
name_check(const struct tlv *t)
{
	const unsigned char *p = t->all;
	X509_NAME *n;
	int r;

	if ((n = d2i_X509_NAME(NULL, &p, (long)t->alllen)) == NULL)
		return NKHSM_ERR_FORMAT;
	r = p == t->all + t->alllen ? 0 : NKHSM_ERR_FORMAT;
	X509_NAME_free(n);
	return r;
}

/* version, signature, issuer, then tbs_rest. */
static int
tbs_parse(struct parse *p, const struct tlv *tbs, const struct tlv *outer_alg)
{
	struct nk_buf b;
	struct tlv t;

	nk_buf_from(&b, tbs->v, tbs->len);
	if (der_peek(&b, TAG_INTEGER)) {
		/* Present only as v2 (1); v1 leaves it out. */
		if (der_next(&b, TAG_INTEGER, &t) != 0 || t.len != 1 ||
		    t.v[0] != 1)
			return bad(p, &b, NKHSM_ERR_FORMAT, "unsupported CRL "
			    "version");
		p->v2 = 1;
	}
	if (der_next(&b, TAG_SEQUENCE, &t) != 0)
		return bad(p, &b, NKHSM_ERR_FORMAT, "malformed signature field");
	if (t.alllen != outer_alg->alllen ||
	    memcmp(t.all, outer_alg->all, t.alllen) != 0)
		return bad(p, &b, NKHSM_ERR_FORMAT, "the signed and the outer "
		    "signature algorithms differ");
	if (der_next(&b, TAG_SEQUENCE, &t) != 0 || t.len == 0 ||
	    name_check(&t) != 0)
		return bad(p, &b, NKHSM_ERR_FORMAT, "malformed issuer");
	p->crl->issuer = t.all;
	p->crl->issuerlen = t.alllen;
	return tbs_rest(p, &b);
}

static int
crl_parse(const uint8_t *der, size_t len, struct nk_crl *crl,
    int entries_checked, char *errbuf, size_t errlen)
{
	struct parse p;
	struct nk_buf b;
	struct tlv outer, tbs, alg, sig;
	int r;

	if (der == NULL || crl == NULL)
		return NKHSM_ERR_INVALID_ARGUMENT;
	memset(crl, 0, sizeof(*crl));
	memset(&p, 0, sizeof(p));
	p.base = der;
	p.crl = crl;
	p.entries_checked = entries_checked;
	p.errbuf = errbuf;
	p.errlen = errlen;
	nk_buf_from(&b, der, len);
	if (len > NK_CRL_SIZE_MAX)
		return bad(&p, &b, NKHSM_ERR_TOO_LARGE, "larger than %d bytes",
		    NK_CRL_SIZE_MAX);
	if (der_next(&b, TAG_SEQUENCE, &outer) != 0 || nk_buf_avail(&b) != 0)
		return bad(&p, &b, NKHSM_ERR_FORMAT, "not one DER CRL");
	nk_buf_from(&b, outer.v, outer.len);
	if (der_next(&b, TAG_SEQUENCE, &tbs) != 0 ||
	    der_next(&b, TAG_SEQUENCE, &alg) != 0 ||
	    der_next(&b, TAG_BITSTRING, &sig) != 0 || nk_buf_avail(&b) != 0)
		return bad(&p, &b, NKHSM_ERR_FORMAT, "malformed CertificateList");
	if (sig.len < 2 || sig.v[0] != 0)
		return bad(&p, &b, NKHSM_ERR_FORMAT, "malformed signature");
	if ((r = sig_alg(&alg, &crl->sigalg)) != 0)
		return bad(&p, &b, r, "%s signature algorithm", r ==
		    NKHSM_ERR_UNSUPPORTED ? "unsupported" : "malformed");
	crl->tbs = tbs.all;
	crl->tbslen = tbs.alllen;
	crl->sig = sig.v + 1;
	crl->siglen = sig.len - 1;
	if ((r = tbs_parse(&p, &tbs, &alg)) != 0) {
		memset(crl, 0, sizeof(*crl));
		return r;
	}
	return 0;
}

int
nk_crl_parse(const uint8_t *der, size_t len, struct nk_crl *crl,
    char *errbuf, size_t errlen)
{
	return crl_parse(der, len, crl, 0, errbuf, errlen);
}

int
nk_crl_reparse(const uint8_t *der, size_t len, struct nk_crl *crl,
    char *errbuf, size_t errlen)
{
	return crl_parse(der, len, crl, 1, errbuf, errlen);
}

int
nk_crl_lists(const struct nk_crl *crl, const uint8_t *serial, size_t len)
{
	const uint8_t *p = crl->entries, *end = p + crl->entrieslen, *e, *v;
	size_t elen, vlen;

	/* Each entry: SEQUENCE { INTEGER serial, ... }; compare, skip. */
	while (p != NULL && p < end) {
		if ((e = der_hdr(p, end, TAG_SEQUENCE, &elen)) == NULL ||
		    (v = der_hdr(e, e + elen, TAG_INTEGER, &vlen)) == NULL)
			return 0;
		if (vlen == len && len > 0 && v[len - 1] == serial[len - 1] &&
		    memcmp(v, serial, len) == 0)
			return 1;
		p = e + elen;
	}
	return 0;
}

/* The digest of the signed part for an ECDSA algorithm. */
static int
ecdsa_digest(const struct nk_crl *crl, uint8_t *dgst, size_t *dlenp)
{
	unsigned int bits = crl->sigalg == NK_CRL_ECDSA_SHA256 ? 256 :
	    crl->sigalg == NK_CRL_ECDSA_SHA384 ? 384 : 512;

	return nk_sha2(bits, crl->tbs, crl->tbslen, dgst, dlenp);
}

/* RSA PKCS#1 v1.5 and Ed25519, through EVP. */
static int
evp_verify(const struct nk_crl *crl, const EVP_PKEY *issuer)
{
	EVP_MD_CTX *ctx = NULL;
	const EVP_MD *md = NULL;
	int r = NKHSM_ERR_CRYPTO;

	if (crl->sigalg == NK_CRL_RSA_SHA256)
		md = EVP_sha256();
	else if (crl->sigalg == NK_CRL_RSA_SHA384)
		md = EVP_sha384();
	else if (crl->sigalg == NK_CRL_RSA_SHA512)
		md = EVP_sha512();
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestVerifyInit(ctx, NULL, md, NULL, (EVP_PKEY *)issuer) != 1)
		goto out;
	r = EVP_DigestVerify(ctx, crl->sig, crl->siglen, crl->tbs,
	    crl->tbslen) == 1 ? 0 : NKHSM_ERR_SIGNATURE;
 out:
	EVP_MD_CTX_free(ctx);
	return r;
}

int
nk_crl_verify(const struct nk_crl *crl, const EVP_PKEY *issuer,
    char *errbuf, size_t errlen)
{
	uint8_t dgst[NK_MAX_DIGEST];
	size_t dlen = 0;
	nkhsm_point_t pt;
	int type, want, r;

	if (crl == NULL || issuer == NULL || crl->tbs == NULL)
		return NKHSM_ERR_INVALID_ARGUMENT;
	type = EVP_PKEY_get_base_id(issuer);
	want = crl->sigalg <= NK_CRL_ECDSA_SHA512 ? EVP_PKEY_EC :
	    crl->sigalg <= NK_CRL_RSA_SHA512 ? EVP_PKEY_RSA : EVP_PKEY_ED25519;
	if (type != want) {
		nk_errf(errbuf, errlen, "signed with an algorithm that does not "
		    "suit the issuer's key");
		return NKHSM_ERR_SIGNATURE;
	}
	if (want != EVP_PKEY_EC)
		r = evp_verify(crl, issuer);
	else if ((r = nkhsm_point_from_pkey(issuer, &pt)) == 0 &&
	    (r = ecdsa_digest(crl, dgst, &dlen)) == 0)
		r = nk_ecdsa_verify_digest(&pt, dgst, dlen, crl->sig,
		    crl->siglen);
	if (r == NKHSM_ERR_SIGNATURE)
		nk_errf(errbuf, errlen, "the signature does not verify with the "
		    "issuer's key");
	else if (r != 0)
		nk_errf(errbuf, errlen, "cannot check the signature: %s",
		    nkhsm_strerror(r));
	return r;
}

#define PEM_BEGIN	"-----BEGIN X509 CRL-----"
#define PEM_END		"-----END X509 CRL-----"
#define PEM_LINE_MAX	76

/* The line at *offp (without its newline or CR); *offp moves past it. */
static void
next_line(const char *text, size_t len, size_t *offp, const char **linep,
    size_t *llenp)
{
	const char *p = text + *offp, *nl;
	size_t n;

	nl = memchr(p, '\n', len - *offp);
	n = nl != NULL ? (size_t)(nl - p) : len - *offp;
	*offp += n + (nl != NULL);
	if (n > 0 && p[n - 1] == '\r')
		n--;
	*linep = p;
	*llenp = n;
}

static int
is_line(const char *l, size_t n, const char *s)
{
	return n == strlen(s) && memcmp(l, s, n) == 0;
}

/* Base64 lines into out until the END line; padding only on the last. */
static int
pem_body(const char *text, size_t len, size_t *offp, size_t *linep,
    uint8_t *out, size_t *outlenp, char *errbuf, size_t errlen)
{
	const char *l, *why = "no END line";
	size_t n, o = 0, got;
	int padded = 0;

	while (*offp < len) {
		next_line(text, len, offp, &l, &n);
		(*linep)++;
		if (is_line(l, n, PEM_END)) {
			if (o == 0) {
				why = "an empty PEM block";
				break;
			}
			*outlenp = o;
			return 0;
		}
		if (padded || n == 0 || n % 4 != 0 || n > PEM_LINE_MAX ||
		    nk_b64_decode_to(l, n, out + o, &got) != 0) {
			why = "bad base64 in a PEM block";
			break;
		}
		padded = l[n - 1] == '=';
		o += got;
	}
	nk_errf(errbuf, errlen, "line %zu: %s", *linep, why);
	return NKHSM_ERR_FORMAT;
}

int
nk_crl_pem_next(const char *text, size_t len, size_t *offp, size_t *linep,
    uint8_t **derp, size_t *derlenp, char *errbuf, size_t errlen)
{
	const char *l;
	uint8_t *out = NULL;
	size_t n, i, outlen = 0;
	int r;

	*derp = NULL;
	*derlenp = 0;
	while (*offp < len) {
		next_line(text, len, offp, &l, &n);
		(*linep)++;
		for (i = 0; i < n && (l[i] == ' ' || l[i] == '\t'); i++)
			;
		if (i == n)
			continue;	/* blank */
		if (!is_line(l, n, PEM_BEGIN)) {
			nk_errf(errbuf, errlen, "line %zu: %s", *linep,
			    n >= 11 && memcmp(l, "-----BEGIN ", 11) == 0 ?
			    "a PEM block other than X509 CRL" :
			    "text outside a PEM block");
			return NKHSM_ERR_FORMAT;
		}
		if ((out = malloc((len - *offp) / 4 * 3 + 3)) == NULL)
			return NKHSM_ERR_NOMEM;
		if ((r = pem_body(text, len, offp, linep, out, &outlen, errbuf,
		    errlen)) != 0) {
			free(out);
			return r;
		}
		*derp = out;
		*derlenp = outlen;
		return 0;
	}
	return 0;
}
