/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * krl.c - OpenSSH key revocation lists (PROTOCOL.krl), read strictly in one
 * pass with the bounded buffer; sshca/krl.c writes them.
 *
 * What sshd (OpenSSH 9.2, Debian 12) refuses is refused here: a bad magic
 * or format version, a truncated field, trailing bytes in a section, an
 * unknown section or subsection type, serial 0, a range that ends before
 * it starts, a bitmap that wraps past 2^64 - 1, a hash of the wrong
 * length, a key id or comment with a NUL inside, a CA key that does not
 * parse. Where this reader is stricter, it refuses (fail closed): signed
 * KRLs (never written by ssh-keygen, ignored by OpenSSH since 9.4),
 * non-minimal mpints, CA keys of types pam_nkhsm never meets (DSA,
 * security keys, certificates), compressed EC points.
 *
 * A key is revoked as sshd decides it (ssh_krl_check_key): by its blob,
 * the SHA-1 or SHA-256 of its blob; a certificate also by serial or key id
 * in a section for its CA or for any CA (an empty CA key), and whenever its
 * CA key is revoked. Explicit key blobs are compared, not parsed, as in
 * OpenSSH: a KRL may name any key, weak ones included.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nk-int.h"
#include "buf.h"
#include "krl.h"

#define KRL_MAGIC			UINT64_C(0x5353484b524c0a00)
#define KRL_FORMAT_VERSION		1
#define KRL_SECTION_CERTIFICATES	1
#define KRL_SECTION_EXPLICIT_KEY	2
#define KRL_SECTION_FINGERPRINT_SHA1	3
#define KRL_SECTION_SIGNATURE		4
#define KRL_SECTION_FINGERPRINT_SHA256	5
#define KRL_SECTION_CERT_SERIAL_LIST	0x20
#define KRL_SECTION_CERT_SERIAL_RANGE	0x21
#define KRL_SECTION_CERT_SERIAL_BITMAP	0x22
#define KRL_SECTION_CERT_KEY_ID		0x23

#define KRL_BITMAP_MAX		2048	/* bytes: OpenSSH's largest mpint */
#define RSA_BITS_MIN		1024	/* OpenSSH loads no smaller RSA key */
#define RSA_BITS_MAX		16384
#define ED25519_LEN		32

/* One pass over one KRL. */
struct walk {
	const char		*name;
	const uint8_t		*base;	/* the file, for offsets in messages */
	struct nk_krl_query	*q;
	size_t			 nq;
	char			*errbuf;
	size_t			 errlen;
};

static int
bad(struct walk *w, const struct nk_buf *b, int r, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* r, with "NAME: offset N: reason" for where b stands. */
static int
bad(struct walk *w, const struct nk_buf *b, int r, const char *fmt, ...)
{
	char why[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	nk_errf(w->errbuf, w->errlen, "%s: offset %zu: %s", w->name,
	    (size_t)(nk_buf_ptr(b) - w->base), why);
	return r;
}

/*
 * A string read as OpenSSH's sshbuf_get_cstring does: a NUL is allowed
 * only as the last byte, and is not part of the text.
 */
static int
get_text(struct nk_buf *b, const uint8_t **vp, size_t *lenp)
{
	const uint8_t *v, *z;
	size_t len;
	int r;

	if ((r = nk_buf_get_string_direct(b, &v, &len)) != 0)
		return r;
	if (len > 0 && (z = memchr(v, '\0', len)) != NULL) {
		if (z != v + len - 1)
			return NKHSM_ERR_FORMAT;
		len--;
	}
	*vp = v;
	*lenp = len;
	return 0;
}

int
nk_krl_key_init(struct nk_krl_key *k, const uint8_t *blob, size_t len)
{
	size_t dlen = 0;
	int r;

	memset(k, 0, sizeof(*k));
	if (blob == NULL || len == 0)
		return NKHSM_ERR_INVALID_ARGUMENT;
	if ((r = nk_sha1(blob, len, k->sha1)) != 0 ||
	    (r = nk_sha2(256, blob, len, k->sha256, &dlen)) != 0)
		return r;
	k->blob = blob;
	k->len = len;
	return 0;
}

/* The certificate types a query may be, and their subject key types. */
static const struct {
	const char	*cert;
	const char	*plain;
} cert_types[] = {
	{ "ssh-ed25519-cert-v01@openssh.com", "ssh-ed25519" },
	{ "ecdsa-sha2-nistp256-cert-v01@openssh.com", "ecdsa-sha2-nistp256" },
	{ "ecdsa-sha2-nistp384-cert-v01@openssh.com", "ecdsa-sha2-nistp384" },
	{ "ecdsa-sha2-nistp521-cert-v01@openssh.com", "ecdsa-sha2-nistp521" },
	{ "ssh-rsa-cert-v01@openssh.com", "ssh-rsa" },
};

/* Skip the subject key fields of a certificate of plain type t. */
static int
skip_key_fields(struct nk_buf *b, const char *t)
{
	const uint8_t *v;
	size_t len;

	if (strcmp(t, "ssh-ed25519") == 0)
		return nk_buf_get_string_direct(b, &v, &len) != 0 ||
		    len != ED25519_LEN ? NKHSM_ERR_FORMAT : 0;
	if (strcmp(t, "ssh-rsa") == 0)
		return nk_buf_get_bignum2_bytes_direct(b, &v, &len) != 0 ||
		    nk_buf_get_bignum2_bytes_direct(b, &v, &len) != 0 ?
		    NKHSM_ERR_FORMAT : 0;
	/* ecdsa: curve name, point */
	return nk_buf_get_string_direct(b, &v, &len) != 0 ||
	    nk_buf_get_string_direct(b, &v, &len) != 0 ? NKHSM_ERR_FORMAT : 0;
}

/* The certificate fields after the key: serial, type, key id, ..., CA. */
static int
cert_fields(struct nk_buf *b, struct nk_krl_query *q, const uint8_t **cap,
    size_t *calenp)
{
	const uint8_t *v;
	size_t len;

	if (nk_buf_get_u64(b, &q->serial) != 0 ||
	    nk_buf_get_u32(b, NULL) != 0 ||
	    get_text(b, &q->key_id, &q->key_id_len) != 0 ||
	    nk_buf_get_string_direct(b, &v, &len) != 0 ||	/* principals */
	    nk_buf_get_u64(b, NULL) != 0 || nk_buf_get_u64(b, NULL) != 0 ||
	    nk_buf_get_string_direct(b, &v, &len) != 0 ||	/* critical */
	    nk_buf_get_string_direct(b, &v, &len) != 0 ||	/* extensions */
	    nk_buf_get_string_direct(b, &v, &len) != 0 ||	/* reserved */
	    nk_buf_get_string_direct(b, cap, calenp) != 0 ||
	    nk_buf_get_string_direct(b, &v, &len) != 0 ||	/* signature */
	    nk_buf_avail(b) != 0 || *calenp == 0)
		return NKHSM_ERR_FORMAT;
	return 0;
}

int
nk_krl_query_from_blob(struct nk_krl_query *q, const uint8_t *blob,
    size_t len, uint8_t **plainp, size_t *plainlenp)
{
	const uint8_t *type, *v, *fields, *ca = NULL;
	size_t tlen, vlen, calen = 0, i;
	struct nk_buf b, plain;
	const char *pt = NULL;
	int r;

	memset(q, 0, sizeof(*q));
	*plainp = NULL;
	*plainlenp = 0;
	nk_buf_from(&b, blob, len);
	if (nk_buf_get_string_direct(&b, &type, &tlen) != 0)
		return NKHSM_ERR_FORMAT;
	for (i = 0; i < sizeof(cert_types) / sizeof(cert_types[0]); i++)
		if (tlen == strlen(cert_types[i].cert) &&
		    memcmp(type, cert_types[i].cert, tlen) == 0)
			pt = cert_types[i].plain;
	if (pt == NULL)
		return nk_krl_key_init(&q->key, blob, len);
	if (nk_buf_get_string_direct(&b, &v, &vlen) != 0)	/* nonce */
		return NKHSM_ERR_FORMAT;
	fields = nk_buf_ptr(&b);
	if ((r = skip_key_fields(&b, pt)) != 0)
		return r;
	nk_buf_init(&plain);
	if ((r = nk_buf_put_cstring(&plain, pt)) != 0 ||
	    (r = nk_buf_put(&plain, fields, (size_t)(nk_buf_ptr(&b) -
	    fields))) != 0 || (r = cert_fields(&b, q, &ca, &calen)) != 0 ||
	    (r = nk_buf_steal(&plain, plainp, plainlenp)) != 0)
		goto out;
	q->is_cert = 1;
	if ((r = nk_krl_key_init(&q->key, *plainp, *plainlenp)) != 0 ||
	    (r = nk_krl_key_init(&q->ca, ca, calen)) != 0)
		goto out;
	r = 0;
 out:
	nk_buf_free(&plain);
	if (r != 0) {
		nk_freezero(*plainp, *plainlenp);
		*plainp = NULL;
		*plainlenp = 0;
		memset(q, 0, sizeof(*q));
	}
	return r;
}

const char *
nk_krl_why(int why)
{
	switch (why) {
	case NK_KRL_BY_KEY:
		return "key";
	case NK_KRL_BY_SHA1:
		return "SHA-1 hash";
	case NK_KRL_BY_SHA256:
		return "SHA-256 fingerprint";
	case NK_KRL_BY_SERIAL:
		return "serial";
	case NK_KRL_BY_KEY_ID:
		return "key id";
	default:
		return "not revoked";
	}
}

/* Bits of a big-endian magnitude. */
static size_t
be_bits(const uint8_t *v, size_t len)
{
	size_t bits;
	uint8_t top;

	while (len > 0 && *v == 0) {
		v++;
		len--;
	}
	if (len == 0)
		return 0;
	bits = len * 8;
	for (top = v[0]; (top & 0x80) == 0; top <<= 1)
		bits--;
	return bits;
}

/*
 * As OpenSSH's sshkey_ec_validate_public: on the curve, and neither
 * coordinate shorter than half the group order's bits (the orders of the
 * NIST curves have as many bits as their fields but P-521's 521).
 */
static int
ec_ca_check(const uint8_t *blob, size_t len)
{
	nkhsm_point_t pt;
	size_t fb, half;
	int r;

	if ((r = nkhsm_point_from_ssh_blob(blob, len, &pt)) != 0)
		return r;
	if ((r = nkhsm_point_check(&pt)) != 0)
		return r == NKHSM_ERR_CRYPTO ? r : NKHSM_ERR_FORMAT;
	fb = nkhsm_curve_bytes(pt.curve);
	half = (pt.curve == NKHSM_CURVE_P521 ? 521 : fb * 8) / 2;
	if (be_bits(pt.pt + 1, fb) <= half || be_bits(pt.pt + 1 + fb, fb) <= half)
		return NKHSM_ERR_FORMAT;
	return 0;
}

/* A certificate section's CA key: one OpenSSH would load. */
static int
ca_key_check(struct walk *w, const struct nk_buf *at, const uint8_t *blob,
    size_t len)
{
	const uint8_t *type, *v, *e;
	size_t tlen, vlen, elen;
	struct nk_buf b;
	char echo[NK_ECHO_MAX * 4 + 1];
	int r;

	nk_buf_from(&b, blob, len);
	if (nk_buf_get_string_direct(&b, &type, &tlen) != 0)
		return bad(w, at, NKHSM_ERR_FORMAT, "malformed CA key");
	if (tlen == 11 && memcmp(type, "ssh-ed25519", 11) == 0) {
		if (nk_buf_get_string_direct(&b, &v, &vlen) != 0 ||
		    vlen != ED25519_LEN || nk_buf_avail(&b) != 0)
			return bad(w, at, NKHSM_ERR_FORMAT, "malformed ssh-ed25519 "
			    "CA key");
		return 0;
	}
	if (tlen == 7 && memcmp(type, "ssh-rsa", 7) == 0) {
		if (nk_buf_get_bignum2_bytes_direct(&b, &e, &elen) != 0 ||
		    nk_buf_get_bignum2_bytes_direct(&b, &v, &vlen) != 0 ||
		    nk_buf_avail(&b) != 0 || elen == 0)
			return bad(w, at, NKHSM_ERR_FORMAT, "malformed ssh-rsa CA key");
		if (be_bits(v, vlen) < RSA_BITS_MIN || be_bits(v, vlen) > RSA_BITS_MAX)
			return bad(w, at, NKHSM_ERR_FORMAT, "RSA CA key of %zu bits",
			    be_bits(v, vlen));
		return 0;
	}
	if ((r = ec_ca_check(blob, len)) == 0)
		return 0;
	if (r != NKHSM_ERR_UNSUPPORTED)
		return bad(w, at, r, "malformed or invalid EC CA key");
	nk_echo(echo, sizeof(echo), (const char *)type,
	    tlen < NK_ECHO_MAX ? tlen : NK_ECHO_MAX);
	return bad(w, at, NKHSM_ERR_UNSUPPORTED, "CA key of type '%s' is not "
	    "supported", echo);
}

/* Revoke q by why unless an earlier entry did. */
static void
verdict(struct nk_krl_query *q, int why, int by_ca)
{
	if (q->why != 0)
		return;
	q->why = why;
	q->by_ca = by_ca;
}

/* What a section of kind why lists for key k: its blob or a hash. */
static void
wanted(const struct nk_krl_key *k, int why, const uint8_t **wp, size_t *lenp)
{
	*wp = why == NK_KRL_BY_KEY ? k->blob : why == NK_KRL_BY_SHA1 ?
	    k->sha1 : k->sha256;
	*lenp = k->len == 0 ? SIZE_MAX : why == NK_KRL_BY_KEY ? k->len :
	    why == NK_KRL_BY_SHA1 ? NK_KRL_SHA1_LEN : NK_KRL_SHA256_LEN;
}

/* One thing a blob section may name: a query's key, or its CA's. */
struct target {
	const uint8_t	*w;
	size_t		 len;		/* SIZE_MAX: nothing to match */
	size_t		 q;
	int		 by_ca;
};

/*
 * Explicit keys (want 0) or hashes of want bytes. The entries are walked
 * in place, each length checked against what is left of the section, and
 * compared last byte first (the end of a point, or of a hash, is as
 * random as any): a KRL of 10,000 keys is this loop 10,000 times in a
 * login, mostly without a call.
 */
static int
blob_section(struct walk *w, struct nk_buf *s, int why, size_t want)
{
	const uint8_t *p = nk_buf_ptr(s), *end = p + nk_buf_avail(s), *v;
	struct target *t;
	size_t vlen, i, nt = 0;
	int r = 0;

	if ((t = calloc(2 * w->nq + 1, sizeof(*t))) == NULL)
		return bad(w, s, NKHSM_ERR_NOMEM, "out of memory");
	for (i = 0; i < w->nq; i++) {
		t[nt].q = i;
		wanted(&w->q[i].key, why, &t[nt].w, &t[nt].len);
		nt++;
		if (w->q[i].is_cert) {
			t[nt].q = i;
			t[nt].by_ca = 1;
			wanted(&w->q[i].ca, why, &t[nt].w, &t[nt].len);
			nt++;
		}
	}
	for (; p < end; p = v + vlen) {
		if (end - p < 4 || (vlen = (size_t)p[0] << 24 | (size_t)p[1] << 16 |
		    (size_t)p[2] << 8 | p[3]) > (size_t)(end - p) - 4 ||
		    (want != 0 && vlen != want)) {
			nk_buf_get(s, NULL, (size_t)(p - nk_buf_ptr(s)));
			r = bad(w, s, NKHSM_ERR_FORMAT, end - p < 4 || vlen >
			    (size_t)(end - p) - 4 ? "truncated %s entry" :
			    "%s entry of the wrong length", nk_krl_why(why));
			break;
		}
		v = p + 4;
		for (i = 0; i < nt; i++)
			if (vlen == t[i].len && (vlen == 0 ||
			    (v[vlen - 1] == t[i].w[vlen - 1] &&
			    memcmp(v, t[i].w, vlen) == 0)))
				verdict(&w->q[t[i].q], why, t[i].by_ca);
	}
	free(t);
	return r;
}

/* The queries a certificate section for CA (empty: any CA) covers. */
static void
mark_covered(struct walk *w, const uint8_t *ca, size_t calen, uint8_t *cov)
{
	size_t i;

	for (i = 0; i < w->nq; i++)
		cov[i] = w->q[i].is_cert && (calen == 0 ||
		    (w->q[i].ca.len == calen &&
		    memcmp(w->q[i].ca.blob, ca, calen) == 0));
}

static void
match_serials(struct walk *w, const uint8_t *cov, uint64_t lo, uint64_t hi)
{
	size_t i;

	for (i = 0; i < w->nq; i++)
		if (cov[i] && w->q[i].serial != 0 && w->q[i].serial >= lo &&
		    w->q[i].serial <= hi)
			verdict(&w->q[i], NK_KRL_BY_SERIAL, 0);
}

/*
 * u64 offset, mpint bitmap: bit i revokes serial offset + i. OpenSSH
 * takes a bitmap with needless leading zero bytes; this reader does not.
 */
static int
serial_bitmap(struct walk *w, struct nk_buf *s, const uint8_t *cov)
{
	const uint8_t *bm;
	uint64_t off, bit;
	size_t len, nbits, i;

	if (nk_buf_get_u64(s, &off) != 0 ||
	    nk_buf_get_string_direct(s, &bm, &len) != 0 || nk_buf_avail(s) != 0)
		return bad(w, s, NKHSM_ERR_FORMAT, "malformed serial bitmap");
	if (len > 0 && (bm[0] & 0x80) != 0)
		return bad(w, s, NKHSM_ERR_FORMAT, "negative serial bitmap");
	if (len > 0 && bm[0] == 0 && (len == 1 || (bm[1] & 0x80) == 0))
		return bad(w, s, NKHSM_ERR_FORMAT, "serial bitmap is a non-minimal "
		    "mpint");
	if (len > 0 && bm[0] == 0) {
		bm++;
		len--;
	}
	if (len > KRL_BITMAP_MAX)
		return bad(w, s, NKHSM_ERR_FORMAT, "serial bitmap of %zu bytes", len);
	if ((nbits = be_bits(bm, len)) == 0)
		return 0;
	/* Serial 0, or serials past 2^64 - 1: OpenSSH refuses both. */
	if ((off == 0 && (bm[len - 1] & 1) != 0) ||
	    (off != 0 && (uint64_t)(nbits - 1) >= (uint64_t)0 - off))
		return bad(w, s, NKHSM_ERR_FORMAT, "serial bitmap names serial 0 "
		    "or wraps");
	for (i = 0; i < w->nq; i++) {
		if (!cov[i] || w->q[i].serial < off || w->q[i].serial == 0 ||
		    (bit = w->q[i].serial - off) >= nbits)
			continue;
		if ((bm[len - 1 - bit / 8] >> (bit % 8)) & 1)
			verdict(&w->q[i], NK_KRL_BY_SERIAL, 0);
	}
	return 0;
}

static int
cert_subsection(struct walk *w, uint8_t type, struct nk_buf *s,
    const uint8_t *cov)
{
	const uint8_t *v;
	uint64_t lo, hi;
	size_t vlen, i;

	switch (type) {
	case KRL_SECTION_CERT_SERIAL_LIST:
		while (nk_buf_avail(s) > 0) {
			if (nk_buf_get_u64(s, &lo) != 0)
				return bad(w, s, NKHSM_ERR_FORMAT, "truncated serial");
			if (lo == 0)
				return bad(w, s, NKHSM_ERR_FORMAT, "serial 0 listed");
			match_serials(w, cov, lo, lo);
		}
		return 0;
	case KRL_SECTION_CERT_SERIAL_RANGE:
		if (nk_buf_get_u64(s, &lo) != 0 || nk_buf_get_u64(s, &hi) != 0 ||
		    nk_buf_avail(s) != 0)
			return bad(w, s, NKHSM_ERR_FORMAT, "malformed serial range");
		if (lo == 0 || lo > hi)
			return bad(w, s, NKHSM_ERR_FORMAT, "serial range %llu-%llu",
			    (unsigned long long)lo, (unsigned long long)hi);
		match_serials(w, cov, lo, hi);
		return 0;
	case KRL_SECTION_CERT_SERIAL_BITMAP:
		return serial_bitmap(w, s, cov);
	case KRL_SECTION_CERT_KEY_ID:
		while (nk_buf_avail(s) > 0) {
			if (get_text(s, &v, &vlen) != 0)
				return bad(w, s, NKHSM_ERR_FORMAT, "malformed key id");
			for (i = 0; i < w->nq; i++)
				if (cov[i] && w->q[i].key_id_len == vlen &&
				    memcmp(w->q[i].key_id, v, vlen) == 0)
					verdict(&w->q[i], NK_KRL_BY_KEY_ID, 0);
		}
		return 0;
	default:
		return bad(w, s, NKHSM_ERR_FORMAT, "unknown certificate "
		    "subsection type 0x%02x", type);
	}
}

/* string CA key (empty: any CA), string reserved, subsections. */
static int
cert_section(struct walk *w, struct nk_buf *s, uint8_t *cov)
{
	const uint8_t *ca, *v;
	size_t calen, vlen;
	struct nk_buf sub;
	uint8_t type;
	int r;

	if (nk_buf_get_string_direct(s, &ca, &calen) != 0 ||
	    nk_buf_get_string_direct(s, &v, &vlen) != 0)
		return bad(w, s, NKHSM_ERR_FORMAT, "malformed certificate section");
	if (calen != 0 && (r = ca_key_check(w, s, ca, calen)) != 0)
		return r;
	mark_covered(w, ca, calen, cov);
	while (nk_buf_avail(s) > 0) {
		if (nk_buf_get_u8(s, &type) != 0 ||
		    nk_buf_get_string_direct(s, &v, &vlen) != 0)
			return bad(w, s, NKHSM_ERR_FORMAT, "truncated certificate "
			    "subsection");
		nk_buf_from(&sub, v, vlen);
		if ((r = cert_subsection(w, type, &sub, cov)) != 0)
			return r;
	}
	return 0;
}

static int
krl_header(struct walk *w, struct nk_buf *b)
{
	const uint8_t *v;
	uint64_t magic;
	uint32_t version;
	size_t vlen;

	if (nk_buf_get_u64(b, &magic) != 0 || magic != KRL_MAGIC)
		return bad(w, b, NKHSM_ERR_FORMAT, "not an OpenSSH KRL (bad magic)");
	if (nk_buf_get_u32(b, &version) != 0 || version != KRL_FORMAT_VERSION)
		return bad(w, b, NKHSM_ERR_FORMAT, "unsupported KRL format version");
	if (nk_buf_get_u64(b, NULL) != 0 || nk_buf_get_u64(b, NULL) != 0 ||
	    nk_buf_get_u64(b, NULL) != 0 ||			/* flags */
	    nk_buf_get_string_direct(b, &v, &vlen) != 0 ||	/* reserved */
	    get_text(b, &v, &vlen) != 0)			/* comment */
		return bad(w, b, NKHSM_ERR_FORMAT, "truncated or malformed header");
	return 0;
}

int
nk_krl_check(const char *name, const uint8_t *krl, size_t len,
    struct nk_krl_query *q, size_t nq, char *errbuf, size_t errlen)
{
	struct walk w;
	struct nk_buf b, s;
	const uint8_t *v;
	uint8_t type, *cov = NULL;
	size_t vlen, i;
	int r;

	if (krl == NULL || (q == NULL && nq != 0))
		return NKHSM_ERR_INVALID_ARGUMENT;
	memset(&w, 0, sizeof(w));
	w.name = name != NULL ? name : "KRL";
	w.base = krl;
	w.q = q;
	w.nq = nq;
	w.errbuf = errbuf;
	w.errlen = errlen;
	for (i = 0; i < nq; i++)
		q[i].why = q[i].by_ca = 0;
	nk_buf_from(&b, krl, len);
	if (len > NK_KRL_SIZE_MAX)
		return bad(&w, &b, NKHSM_ERR_TOO_LARGE, "larger than %d bytes",
		    NK_KRL_SIZE_MAX);
	if ((r = krl_header(&w, &b)) != 0)
		return r;
	if (nq > 0 && (cov = calloc(nq, 1)) == NULL)
		return NKHSM_ERR_NOMEM;
	while (nk_buf_avail(&b) > 0) {
		if (nk_buf_get_u8(&b, &type) != 0 ||
		    nk_buf_get_string_direct(&b, &v, &vlen) != 0) {
			r = bad(&w, &b, NKHSM_ERR_FORMAT, "truncated section");
			goto out;
		}
		nk_buf_from(&s, v, vlen);
		switch (type) {
		case KRL_SECTION_CERTIFICATES:
			r = cert_section(&w, &s, cov);
			break;
		case KRL_SECTION_EXPLICIT_KEY:
			r = blob_section(&w, &s, NK_KRL_BY_KEY, 0);
			break;
		case KRL_SECTION_FINGERPRINT_SHA1:
			r = blob_section(&w, &s, NK_KRL_BY_SHA1, NK_KRL_SHA1_LEN);
			break;
		case KRL_SECTION_FINGERPRINT_SHA256:
			r = blob_section(&w, &s, NK_KRL_BY_SHA256, NK_KRL_SHA256_LEN);
			break;
		case KRL_SECTION_SIGNATURE:
			r = bad(&w, &s, NKHSM_ERR_UNSUPPORTED, "signed KRLs are not "
			    "supported");
			break;
		default:
			r = bad(&w, &s, NKHSM_ERR_FORMAT, "unknown section type %u",
			    type);
			break;
		}
		if (r != 0)
			goto out;
	}
	r = 0;
 out:
	free(cov);
	if (r != 0)
		for (i = 0; i < nq; i++)
			q[i].why = q[i].by_ca = 0;
	return r;
}
