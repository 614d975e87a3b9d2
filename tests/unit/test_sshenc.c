/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_sshenc.c - OpenSSH wire encodings: the bounded buffer (lib/buf.c),
 * ECDSA signature formats (lib/sig.c) and EC public keys (lib/pubkey.c).
 *
 * Expected bytes are built here by hand or come from OpenSSL and
 * ssh-keygen, never from the code under test.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "nk-int.h"
#include "buf.h"

/* A writer for expected bytes, independent of lib/buf.c. */
struct wbuf {
	uint8_t	d[4096];
	size_t	len;
};

static void
w_bytes(struct wbuf *w, const void *p, size_t n)
{
	assert_true(w->len + n <= sizeof(w->d));
	memcpy(w->d + w->len, p, n);
	w->len += n;
}

static void
w_u32(struct wbuf *w, uint32_t v)
{
	uint8_t d[4] = { v >> 24, v >> 16, v >> 8, v };

	w_bytes(w, d, sizeof(d));
}

static void
w_string(struct wbuf *w, const void *p, size_t n)
{
	w_u32(w, (uint32_t)n);
	w_bytes(w, p, n);
}

static void
w_cstring(struct wbuf *w, const char *s)
{
	w_string(w, s, strlen(s));
}

/* RFC 4251 mpint of a non-negative magnitude. */
static void
w_mpint(struct wbuf *w, const uint8_t *v, size_t n)
{
	while (n > 0 && v[0] == 0) {
		v++;
		n--;
	}
	if (n > 0 && (v[0] & 0x80) != 0) {
		w_u32(w, (uint32_t)n + 1);
		w_bytes(w, "", 1);
	} else
		w_u32(w, (uint32_t)n);
	w_bytes(w, v, n);
}

static const struct test_curve {
	nkhsm_curve_t	 curve;
	const char	*ssh;		/* "nistp256" */
	const char	*group;		/* OpenSSL's name */
	size_t		 n;		/* field bytes */
	const EVP_MD	*(*md)(void);
} curves[] = {
	{ NKHSM_CURVE_P256, "nistp256", "P-256", 32, EVP_sha256 },
	{ NKHSM_CURVE_P384, "nistp384", "P-384", 48, EVP_sha384 },
	{ NKHSM_CURVE_P521, "nistp521", "P-521", 66, EVP_sha512 },
};
#define NCURVES	(sizeof(curves) / sizeof(curves[0]))

/* nk_buf */

static void
test_buf_ints(void **state)
{
	static const uint8_t want[] = {
		0x01, 0x02, 0x03, 0x04, 0xfe,
		0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88,
	};
	struct nk_buf b, rb;
	uint8_t *d = NULL, u8 = 0;
	uint32_t u32 = 0;
	uint64_t u64 = 0;
	size_t len = 0;

	nk_buf_init(&b);
	assert_int_equal(nk_buf_put_u32(&b, 0x01020304), 0);
	assert_int_equal(nk_buf_put_u8(&b, 0xfe), 0);
	assert_int_equal(nk_buf_put_u64(&b, 0x1122334455667788ULL), 0);
	assert_int_equal(nk_buf_avail(&b), sizeof(want));
	assert_int_equal(nk_buf_steal(&b, &d, &len), 0);
	assert_int_equal(len, sizeof(want));
	assert_memory_equal(d, want, sizeof(want));
	assert_int_equal(nk_buf_avail(&b), 0);
	nk_buf_free(&b);

	nk_buf_from(&rb, d, len);
	assert_int_equal(nk_buf_get_u32(&rb, &u32), 0);
	assert_int_equal(u32, 0x01020304);
	assert_int_equal(nk_buf_get_u8(&rb, &u8), 0);
	assert_int_equal(u8, 0xfe);
	assert_int_equal(nk_buf_get_u64(&rb, &u64), 0);
	assert_true(u64 == 0x1122334455667788ULL);
	assert_int_equal(nk_buf_avail(&rb), 0);
	assert_int_equal(nk_buf_get_u8(&rb, &u8), NKHSM_ERR_FORMAT);

	/* Truncated input: an error, and nothing consumed. */
	nk_buf_from(&rb, d, 3);
	assert_int_equal(nk_buf_get_u32(&rb, &u32), NKHSM_ERR_FORMAT);
	assert_int_equal(nk_buf_avail(&rb), 3);
	nk_buf_from(&rb, d, 7);
	assert_int_equal(nk_buf_get_u64(&rb, &u64), NKHSM_ERR_FORMAT);
	nk_buf_from(&rb, d, 0);
	assert_int_equal(nk_buf_get_u8(&rb, &u8), NKHSM_ERR_FORMAT);

	/* A wrapped buffer is read-only. */
	nk_buf_from(&rb, d, len);
	assert_true(nk_buf_put_u8(&rb, 0) != 0);
	assert_memory_equal(d, want, sizeof(want));
	nk_buf_free(&rb);	/* does not free d */
	free(d);
}

static void
test_buf_strings(void **state)
{
	struct wbuf want = { .len = 0 };
	static const uint8_t trunc[] = { 0, 0, 0, 5, 'a', 'b' };
	static const uint8_t huge[] = { 0xff, 0xff, 0xff, 0xff, 'a' };
	static const uint8_t withnul[] = { 0, 0, 0, 3, 'a', 0, 'b' };
	struct nk_buf b, rb;
	const uint8_t *v;
	uint8_t *d = NULL;
	char *s;
	size_t len = 0, vlen;

	w_string(&want, "abc", 3);
	w_cstring(&want, "hi");
	w_string(&want, "", 0);

	nk_buf_init(&b);
	assert_int_equal(nk_buf_put_string(&b, "abc", 3), 0);
	assert_int_equal(nk_buf_put_cstring(&b, "hi"), 0);
	assert_int_equal(nk_buf_put_string(&b, "", 0), 0);
	assert_int_equal(nk_buf_steal(&b, &d, &len), 0);
	assert_int_equal(len, want.len);
	assert_memory_equal(d, want.d, want.len);

	nk_buf_from(&rb, d, len);
	assert_int_equal(nk_buf_get_string_direct(&rb, &v, &vlen), 0);
	assert_int_equal(vlen, 3);
	assert_memory_equal(v, "abc", 3);
	assert_ptr_equal(v, d + 4);	/* no copy */
	assert_int_equal(nk_buf_get_cstring(&rb, &s, &vlen), 0);
	assert_string_equal(s, "hi");
	assert_int_equal(vlen, 2);
	free(s);
	assert_int_equal(nk_buf_get_string_direct(&rb, &v, &vlen), 0);
	assert_int_equal(vlen, 0);
	assert_int_equal(nk_buf_avail(&rb), 0);
	free(d);

	/* Length beyond the data, a length beyond the cap, a short length. */
	nk_buf_from(&rb, trunc, sizeof(trunc));
	v = trunc;
	vlen = 99;
	assert_int_equal(nk_buf_get_string_direct(&rb, &v, &vlen),
	    NKHSM_ERR_FORMAT);
	assert_null(v);
	assert_int_equal(vlen, 0);
	assert_int_equal(nk_buf_avail(&rb), sizeof(trunc));
	nk_buf_from(&rb, huge, sizeof(huge));
	assert_int_equal(nk_buf_get_string_direct(&rb, &v, &vlen),
	    NKHSM_ERR_FORMAT);
	nk_buf_from(&rb, trunc, 3);
	assert_int_equal(nk_buf_get_string_direct(&rb, &v, &vlen),
	    NKHSM_ERR_FORMAT);
	/* A C string may not hold a NUL. */
	nk_buf_from(&rb, withnul, sizeof(withnul));
	s = (char *)&s;
	assert_int_equal(nk_buf_get_cstring(&rb, &s, &vlen), NKHSM_ERR_FORMAT);
	assert_null(s);
	assert_int_equal(nk_buf_get_string_direct(&rb, &v, &vlen), 0);
	assert_int_equal(vlen, 3);
}

static void
put_bignum(const uint8_t *in, size_t inlen, const uint8_t *want,
    size_t wantlen)
{
	struct nk_buf b;
	uint8_t *d = NULL;
	size_t len = 0;

	nk_buf_init(&b);
	assert_int_equal(nk_buf_put_bignum2_bytes(&b, in, inlen), 0);
	assert_int_equal(nk_buf_steal(&b, &d, &len), 0);
	assert_int_equal(len, wantlen);
	assert_memory_equal(d, want, wantlen);
	free(d);
}

static void
test_bignum2_put(void **state)
{
	static const uint8_t x80[] = { 0x80 };
	static const uint8_t x80_want[] = { 0, 0, 0, 2, 0x00, 0x80 };
	static const uint8_t lead0[] = { 0x00, 0x00, 0x7f, 0x01 };
	static const uint8_t lead0_want[] = { 0, 0, 0, 2, 0x7f, 0x01 };
	static const uint8_t lead0hi[] = { 0x00, 0x80, 0x01 };
	static const uint8_t lead0hi_want[] = { 0, 0, 0, 3, 0x00, 0x80, 0x01 };
	static const uint8_t zero[] = { 0x00, 0x00, 0x00 };
	static const uint8_t zero_want[] = { 0, 0, 0, 0 };
	static const uint8_t one[] = { 0x01 };
	static const uint8_t one_want[] = { 0, 0, 0, 1, 0x01 };
	static const uint8_t ff[] = { 0xff, 0xff };
	static const uint8_t ff_want[] = { 0, 0, 0, 3, 0x00, 0xff, 0xff };

	put_bignum(x80, sizeof(x80), x80_want, sizeof(x80_want));
	put_bignum(lead0, sizeof(lead0), lead0_want, sizeof(lead0_want));
	put_bignum(lead0hi, sizeof(lead0hi), lead0hi_want,
	    sizeof(lead0hi_want));
	put_bignum(zero, sizeof(zero), zero_want, sizeof(zero_want));
	put_bignum(zero, 0, zero_want, sizeof(zero_want));
	put_bignum(one, sizeof(one), one_want, sizeof(one_want));
	put_bignum(ff, sizeof(ff), ff_want, sizeof(ff_want));
}

static void
get_bignum(const uint8_t *in, size_t inlen, int want_r, const uint8_t *want,
    size_t wantlen)
{
	struct nk_buf b;
	const uint8_t *v = in;
	size_t vlen = 99;

	nk_buf_from(&b, in, inlen);
	assert_int_equal(nk_buf_get_bignum2_bytes_direct(&b, &v, &vlen),
	    want_r);
	if (want_r != 0) {
		assert_null(v);
		assert_int_equal(vlen, 0);
		return;
	}
	assert_int_equal(vlen, wantlen);
	if (wantlen > 0)
		assert_memory_equal(v, want, wantlen);
	assert_int_equal(nk_buf_avail(&b), 0);
}

static void
test_bignum2_get(void **state)
{
	static const uint8_t x80[] = { 0, 0, 0, 2, 0x00, 0x80 };
	static const uint8_t zero[] = { 0, 0, 0, 0 };
	static const uint8_t small[] = { 0, 0, 0, 2, 0x7f, 0x01 };
	static const uint8_t nonmin[] = { 0, 0, 0, 2, 0x00, 0x7f };
	static const uint8_t nonmin0[] = { 0, 0, 0, 1, 0x00 };
	static const uint8_t nonmin00[] = { 0, 0, 0, 2, 0x00, 0x00 };
	static const uint8_t neg[] = { 0, 0, 0, 1, 0x80 };
	static const uint8_t negff[] = { 0, 0, 0, 2, 0xff, 0x01 };
	static const uint8_t trunc[] = { 0, 0, 0, 3, 0x01, 0x02 };
	static const uint8_t m80[] = { 0x80 };
	static const uint8_t m7f01[] = { 0x7f, 0x01 };

	get_bignum(x80, sizeof(x80), 0, m80, 1);
	get_bignum(zero, sizeof(zero), 0, NULL, 0);
	get_bignum(small, sizeof(small), 0, m7f01, 2);
	get_bignum(nonmin, sizeof(nonmin), NKHSM_ERR_FORMAT, NULL, 0);
	get_bignum(nonmin0, sizeof(nonmin0), NKHSM_ERR_FORMAT, NULL, 0);
	get_bignum(nonmin00, sizeof(nonmin00), NKHSM_ERR_FORMAT, NULL, 0);
	get_bignum(neg, sizeof(neg), NKHSM_ERR_FORMAT, NULL, 0);
	get_bignum(negff, sizeof(negff), NKHSM_ERR_FORMAT, NULL, 0);
	get_bignum(trunc, sizeof(trunc), NKHSM_ERR_FORMAT, NULL, 0);
}

/* Signature formats. */

enum sigcase { LEADING_ZERO_R, HIGH_BIT_R, SHORT_BOTH, NSIGCASES };

/*
 * Crafted r and s of n bytes, each below every curve order: a high bit is
 * set in the first byte that matters (byte 1 for P-521, whose order starts
 * with 0x01).
 */
static void
make_rs(size_t n, enum sigcase k, uint8_t *r, uint8_t *s)
{
	size_t i, top = n == 66 ? 1 : 0;

	for (i = 0; i < n; i++) {
		r[i] = (uint8_t)(0x11 + i);
		s[i] = (uint8_t)(0xa0 - i);
	}
	switch (k) {
	case LEADING_ZERO_R:	/* r = 00 7f ..., s = 80 ... */
		memset(r, 0, top + 1);
		r[top + 1] = 0x7f;
		memset(s, 0, top);
		s[top] = 0x80;
		break;
	case HIGH_BIT_R:	/* r = 80 ..., s = 00 .. 00 01 02 03 */
		memset(r, 0, top);
		r[top] = 0x80;
		memset(s, 0, n - 3);
		s[n - 3] = 0x01;
		s[n - 2] = 0x02;
		s[n - 1] = 0x03;
		break;
	case SHORT_BOTH:	/* r = 00 .. 01, s = 00 .. 7f ff */
		memset(r, 0, n - 1);
		r[n - 1] = 0x01;
		memset(s, 0, n - 2);
		s[n - 2] = 0x7f;
		s[n - 1] = 0xff;
		break;
	default:
		break;
	}
}

static void
ssh_sig(const struct test_curve *tc, const uint8_t *r, const uint8_t *s,
    struct wbuf *out)
{
	struct wbuf inner = { .len = 0 };
	char type[64];

	snprintf(type, sizeof(type), "ecdsa-sha2-%s", tc->ssh);
	w_mpint(&inner, r, tc->n);
	w_mpint(&inner, s, tc->n);
	out->len = 0;
	w_cstring(out, type);
	w_string(out, inner.d, inner.len);
}

/* OpenSSL's DER for (r, s). */
static void
der_sig(size_t n, const uint8_t *r, const uint8_t *s, uint8_t **derp,
    size_t *lenp)
{
	ECDSA_SIG *sig;
	BIGNUM *br, *bs;
	unsigned char *der = NULL;
	int len;

	assert_non_null(sig = ECDSA_SIG_new());
	assert_non_null(br = BN_bin2bn(r, (int)n, NULL));
	assert_non_null(bs = BN_bin2bn(s, (int)n, NULL));
	assert_int_equal(ECDSA_SIG_set0(sig, br, bs), 1);
	assert_true((len = i2d_ECDSA_SIG(sig, &der)) > 0);
	ECDSA_SIG_free(sig);
	*derp = der;
	*lenp = (size_t)len;
}

static void
convert_ok(nkhsm_curve_t c, nkhsm_sigfmt_t from, const uint8_t *in,
    size_t inlen, nkhsm_sigfmt_t to, const uint8_t *want, size_t wantlen)
{
	uint8_t *out = NULL;
	size_t outlen = 0;
	int r;

	r = nkhsm_sig_convert(c, from, in, inlen, to, &out, &outlen);
	if (r != 0)
		fail_msg("convert %d -> %d on curve %d: %d", from, to, c, r);
	assert_non_null(out);
	assert_int_equal(outlen, wantlen);
	assert_memory_equal(out, want, wantlen);
	free(out);
}

static void
convert_fails(nkhsm_curve_t c, nkhsm_sigfmt_t from, const uint8_t *in,
    size_t inlen, nkhsm_sigfmt_t to, int want_r)
{
	uint8_t *out = (uint8_t *)&out;
	size_t outlen = 99;

	assert_int_equal(nkhsm_sig_convert(c, from, in, inlen, to, &out,
	    &outlen), want_r);
	assert_null(out);
	assert_int_equal(outlen, 0);
}

static void
test_sig_round_trips(void **state)
{
	uint8_t r[NK_MAX_FIELD], s[NK_MAX_FIELD], raw[2 * NK_MAX_FIELD];
	uint8_t *der;
	struct wbuf ssh;
	size_t i, derlen;
	int k;

	for (i = 0; i < NCURVES; i++) {
		const struct test_curve *tc = &curves[i];

		for (k = 0; k < NSIGCASES; k++) {
			make_rs(tc->n, (enum sigcase)k, r, s);
			memcpy(raw, r, tc->n);
			memcpy(raw + tc->n, s, tc->n);
			ssh_sig(tc, r, s, &ssh);
			der_sig(tc->n, r, s, &der, &derlen);

			convert_ok(tc->curve, NKHSM_SIG_RAW, raw, 2 * tc->n,
			    NKHSM_SIG_SSH, ssh.d, ssh.len);
			convert_ok(tc->curve, NKHSM_SIG_SSH, ssh.d, ssh.len,
			    NKHSM_SIG_RAW, raw, 2 * tc->n);
			convert_ok(tc->curve, NKHSM_SIG_RAW, raw, 2 * tc->n,
			    NKHSM_SIG_DER, der, derlen);
			convert_ok(tc->curve, NKHSM_SIG_DER, der, derlen,
			    NKHSM_SIG_RAW, raw, 2 * tc->n);
			convert_ok(tc->curve, NKHSM_SIG_DER, der, derlen,
			    NKHSM_SIG_SSH, ssh.d, ssh.len);
			convert_ok(tc->curve, NKHSM_SIG_SSH, ssh.d, ssh.len,
			    NKHSM_SIG_DER, der, derlen);
			convert_ok(tc->curve, NKHSM_SIG_RAW, raw, 2 * tc->n,
			    NKHSM_SIG_RAW, raw, 2 * tc->n);
			OPENSSL_free(der);
		}
	}
}

/* One blob spelled out byte by byte, so the helpers above are checked too. */
static void
test_sig_ssh_literal(void **state)
{
	static const uint8_t want[] = {
		0, 0, 0, 19, 'e', 'c', 'd', 's', 'a', '-', 's', 'h', 'a', '2',
		'-', 'n', 'i', 's', 't', 'p', '2', '5', '6',
		0, 0, 0, 44,
		0, 0, 0, 33, 0x00, 0x80,
		0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b,
		0x1c, 0x1d, 0x1e, 0x1f, 0x20, 0x21, 0x22, 0x23, 0x24, 0x25,
		0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f,
		0x30,
		0, 0, 0, 3, 0x01, 0x02, 0x03,
	};
	uint8_t r[32], s[32], raw[64];

	make_rs(32, HIGH_BIT_R, r, s);
	memcpy(raw, r, 32);
	memcpy(raw + 32, s, 32);
	convert_ok(NKHSM_CURVE_P256, NKHSM_SIG_RAW, raw, sizeof(raw),
	    NKHSM_SIG_SSH, want, sizeof(want));
	convert_ok(NKHSM_CURVE_P256, NKHSM_SIG_SSH, want, sizeof(want),
	    NKHSM_SIG_RAW, raw, sizeof(raw));
}

static void
test_sig_malformed(void **state)
{
	uint8_t r[NK_MAX_FIELD], s[NK_MAX_FIELD], raw[2 * NK_MAX_FIELD + 1];
	uint8_t big[NK_MAX_FIELD + 1], *der;
	struct wbuf ssh, bad, inner;
	size_t derlen;
	/* BER long-form length, a negative r, and a trailing byte. */
	static const uint8_t der_longlen[] = {
		0x30, 0x81, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01,
	};
	static const uint8_t der_neg[] = {
		0x30, 0x06, 0x02, 0x01, 0x80, 0x02, 0x01, 0x01,
	};
	static const uint8_t der_trailing[] = {
		0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01, 0x00,
	};
	static const uint8_t der_ok[] = {
		0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01,
	};

	make_rs(32, HIGH_BIT_R, r, s);
	memcpy(raw, r, 32);
	memcpy(raw + 32, s, 32);
	raw[64] = 0;
	convert_fails(NKHSM_CURVE_P256, NKHSM_SIG_RAW, raw, 63, NKHSM_SIG_SSH,
	    NKHSM_ERR_FORMAT);
	convert_fails(NKHSM_CURVE_P256, NKHSM_SIG_RAW, raw, 65, NKHSM_SIG_SSH,
	    NKHSM_ERR_FORMAT);
	/* P-256 r||s is the wrong size for P-384. */
	convert_fails(NKHSM_CURVE_P384, NKHSM_SIG_RAW, raw, 64, NKHSM_SIG_DER,
	    NKHSM_ERR_FORMAT);
	convert_fails(NKHSM_CURVE_NONE, NKHSM_SIG_RAW, raw, 64, NKHSM_SIG_DER,
	    NKHSM_ERR_UNSUPPORTED);

	/* An SSH signature names its curve. */
	ssh_sig(&curves[0], r, s, &ssh);
	convert_fails(NKHSM_CURVE_P384, NKHSM_SIG_SSH, ssh.d, ssh.len,
	    NKHSM_SIG_RAW, NKHSM_ERR_FORMAT);
	/* Truncated, and with a trailing byte outside or inside. */
	convert_fails(NKHSM_CURVE_P256, NKHSM_SIG_SSH, ssh.d, ssh.len - 1,
	    NKHSM_SIG_RAW, NKHSM_ERR_FORMAT);
	bad = ssh;
	w_bytes(&bad, "", 1);
	convert_fails(NKHSM_CURVE_P256, NKHSM_SIG_SSH, bad.d, bad.len,
	    NKHSM_SIG_RAW, NKHSM_ERR_FORMAT);
	inner.len = 0;
	w_mpint(&inner, r, 32);
	w_mpint(&inner, s, 32);
	w_bytes(&inner, "", 1);
	bad.len = 0;
	w_cstring(&bad, "ecdsa-sha2-nistp256");
	w_string(&bad, inner.d, inner.len);
	convert_fails(NKHSM_CURVE_P256, NKHSM_SIG_SSH, bad.d, bad.len,
	    NKHSM_SIG_RAW, NKHSM_ERR_FORMAT);
	/* r wider than the field. */
	memset(big, 0x11, sizeof(big));
	inner.len = 0;
	w_mpint(&inner, big, 33);
	w_mpint(&inner, s, 32);
	bad.len = 0;
	w_cstring(&bad, "ecdsa-sha2-nistp256");
	w_string(&bad, inner.d, inner.len);
	convert_fails(NKHSM_CURVE_P256, NKHSM_SIG_SSH, bad.d, bad.len,
	    NKHSM_SIG_RAW, NKHSM_ERR_FORMAT);
	/* Non-minimal mpint (00 01) and negative mpint (80). */
	inner.len = 0;
	w_u32(&inner, 2);
	w_bytes(&inner, "\x00\x01", 2);
	w_mpint(&inner, s, 32);
	bad.len = 0;
	w_cstring(&bad, "ecdsa-sha2-nistp256");
	w_string(&bad, inner.d, inner.len);
	convert_fails(NKHSM_CURVE_P256, NKHSM_SIG_SSH, bad.d, bad.len,
	    NKHSM_SIG_RAW, NKHSM_ERR_FORMAT);
	inner.len = 0;
	w_u32(&inner, 1);
	w_bytes(&inner, "\x80", 1);
	w_mpint(&inner, s, 32);
	bad.len = 0;
	w_cstring(&bad, "ecdsa-sha2-nistp256");
	w_string(&bad, inner.d, inner.len);
	convert_fails(NKHSM_CURVE_P256, NKHSM_SIG_SSH, bad.d, bad.len,
	    NKHSM_SIG_RAW, NKHSM_ERR_FORMAT);

	/* DER: only the canonical encoding of two positive integers. */
	der_sig(32, r, s, &der, &derlen);
	convert_fails(NKHSM_CURVE_P256, NKHSM_SIG_DER, der, derlen - 1,
	    NKHSM_SIG_RAW, NKHSM_ERR_FORMAT);
	OPENSSL_free(der);
	convert_fails(NKHSM_CURVE_P256, NKHSM_SIG_DER, der_longlen,
	    sizeof(der_longlen), NKHSM_SIG_RAW, NKHSM_ERR_FORMAT);
	convert_fails(NKHSM_CURVE_P256, NKHSM_SIG_DER, der_neg,
	    sizeof(der_neg), NKHSM_SIG_RAW, NKHSM_ERR_FORMAT);
	convert_fails(NKHSM_CURVE_P256, NKHSM_SIG_DER, der_trailing,
	    sizeof(der_trailing), NKHSM_SIG_RAW, NKHSM_ERR_FORMAT);
	memset(raw, 0, 64);
	raw[31] = 1;
	raw[63] = 1;
	convert_ok(NKHSM_CURVE_P256, NKHSM_SIG_DER, der_ok, sizeof(der_ok),
	    NKHSM_SIG_RAW, raw, 64);
}

/* Public keys. */

static EVP_PKEY *
gen_key(const struct test_curve *tc)
{
	EVP_PKEY *pkey;

	assert_non_null(pkey = EVP_EC_gen(tc->group));
	return pkey;
}

/* The SSH blob for pkey, from OpenSSL's encoded point. */
static void
ssh_blob(const struct test_curve *tc, EVP_PKEY *pkey, struct wbuf *out)
{
	uint8_t pt[NK_MAX_POINT];
	size_t ptlen = 0;
	char type[64];

	assert_int_equal(EVP_PKEY_get_octet_string_param(pkey,
	    OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, pt, sizeof(pt), &ptlen), 1);
	assert_int_equal(ptlen, 1 + 2 * tc->n);
	assert_int_equal(pt[0], 0x04);
	snprintf(type, sizeof(type), "ecdsa-sha2-%s", tc->ssh);
	out->len = 0;
	w_cstring(out, type);
	w_cstring(out, tc->ssh);
	w_string(out, pt, ptlen);
}

static char *
b64(const uint8_t *d, size_t len)
{
	char *s;

	assert_non_null(s = malloc(4 * ((len + 2) / 3) + 1));
	EVP_EncodeBlock((unsigned char *)s, d, (int)len);
	return s;
}

static void
from_ssh_fails(const char *line, int want_r)
{
	EVP_PKEY *pub = (EVP_PKEY *)&pub;
	char *comment = (char *)&comment;
	int r;

	r = nkhsm_pubkey_from_ssh(line, &pub, &comment);
	if (r != want_r)
		fail_msg("'%.60s...': %d, expected %d", line, r, want_r);
	assert_null(pub);
	assert_null(comment);
}

static void
from_blob_fails(const uint8_t *blob, size_t len, int want_r)
{
	EVP_PKEY *pub = (EVP_PKEY *)&pub;

	assert_int_equal(nkhsm_pubkey_from_ssh_blob(blob, len, &pub), want_r);
	assert_null(pub);
}

static void
test_pubkey_round_trip(void **state)
{
	struct wbuf blob;
	EVP_PKEY *key, *pub;
	uint8_t *mine = NULL;
	char *line = NULL, *comment = NULL, *enc, want[8192];
	size_t i, minelen = 0;

	for (i = 0; i < NCURVES; i++) {
		const struct test_curve *tc = &curves[i];

		key = gen_key(tc);
		ssh_blob(tc, key, &blob);
		assert_int_equal(nkhsm_pubkey_to_ssh_blob(key, &mine,
		    &minelen), 0);
		assert_int_equal(minelen, blob.len);
		assert_memory_equal(mine, blob.d, blob.len);
		free(mine);

		enc = b64(blob.d, blob.len);
		snprintf(want, sizeof(want), "ecdsa-sha2-%s %s user@host",
		    tc->ssh, enc);
		assert_int_equal(nkhsm_pubkey_to_ssh(key, "user@host", &line),
		    0);
		assert_string_equal(line, want);
		assert_int_equal(nkhsm_pubkey_from_ssh(line, &pub, &comment),
		    0);
		assert_string_equal(comment, "user@host");
		assert_int_equal(EVP_PKEY_eq(pub, key), 1);
		assert_int_equal(nkhsm_pubkey_equal(pub, key), 1);
		free(comment);
		free(line);
		EVP_PKEY_free(pub);

		/* Without a comment: no trailing blank. */
		snprintf(want, sizeof(want), "ecdsa-sha2-%s %s", tc->ssh, enc);
		assert_int_equal(nkhsm_pubkey_to_ssh(key, NULL, &line), 0);
		assert_string_equal(line, want);
		comment = NULL;
		assert_int_equal(nkhsm_pubkey_from_ssh(line, &pub, &comment),
		    0);
		assert_true(comment == NULL || comment[0] == '\0');
		assert_int_equal(EVP_PKEY_eq(pub, key), 1);
		free(comment);
		free(line);
		EVP_PKEY_free(pub);

		assert_int_equal(nkhsm_pubkey_from_ssh_blob(blob.d, blob.len,
		    &pub), 0);
		assert_int_equal(EVP_PKEY_eq(pub, key), 1);
		EVP_PKEY_free(pub);
		free(enc);
		EVP_PKEY_free(key);
	}
}

static void
test_pubkey_rejects(void **state)
{
	/* ssh-keygen -t ed25519 / -t rsa -b 1024 */
	static const char ed25519[] = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJGSx"
	    "70HZShM2cEKBvCsJdEK304DRZy/pnIStLpnkj4L ed";
	static const char rsa[] = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDyokiJ"
	    "+ChfcQGqEY9Abse9W/8fTK4HmbhsTck+l6TU/zHNPj6Rzy4HnR9alFOFySmoGh2a"
	    "iIX4OYHntEhRJ0ZelcsePdX+Etb4sq7ZYsZ5EoGtalVDujtsL+DZPSXR40DX8Cbn"
	    "nZ0HZ4E/M+U8/FKtrjYVH+un4BHrhsiufE0STw== rsa";
	const struct test_curve *tc = &curves[0];
	struct wbuf blob, bad;
	EVP_PKEY *key;
	char *enc, line[8192];
	size_t n;

	key = gen_key(tc);
	ssh_blob(tc, key, &blob);
	enc = b64(blob.d, blob.len);
	n = strlen(enc);

	from_ssh_fails(ed25519, NKHSM_ERR_UNSUPPORTED);
	from_ssh_fails(rsa, NKHSM_ERR_UNSUPPORTED);
	from_ssh_fails("", NKHSM_ERR_FORMAT);
	from_ssh_fails("ecdsa-sha2-nistp256", NKHSM_ERR_FORMAT);

	/* Truncated base64: a whole quantum, or one character. */
	snprintf(line, sizeof(line), "ecdsa-sha2-nistp256 %.*s x",
	    (int)(n - 4), enc);
	from_ssh_fails(line, NKHSM_ERR_FORMAT);
	snprintf(line, sizeof(line), "ecdsa-sha2-nistp256 %.*s x",
	    (int)(n - 1), enc);
	from_ssh_fails(line, NKHSM_ERR_FORMAT);
	/* The line's type must be the blob's. */
	snprintf(line, sizeof(line), "ecdsa-sha2-nistp384 %s x", enc);
	from_ssh_fails(line, NKHSM_ERR_FORMAT);
	free(enc);

	/* Trailing garbage after the point. */
	bad = blob;
	w_bytes(&bad, "\0", 1);
	from_blob_fails(bad.d, bad.len, NKHSM_ERR_FORMAT);
	enc = b64(bad.d, bad.len);
	snprintf(line, sizeof(line), "ecdsa-sha2-nistp256 %s x", enc);
	from_ssh_fails(line, NKHSM_ERR_FORMAT);
	free(enc);

	/* Truncated blob. */
	from_blob_fails(blob.d, blob.len - 1, NKHSM_ERR_FORMAT);
	from_blob_fails(blob.d, 3, NKHSM_ERR_FORMAT);

	/* Curve name disagreeing with the type. */
	bad.len = 0;
	w_cstring(&bad, "ecdsa-sha2-nistp256");
	w_cstring(&bad, "nistp384");
	w_bytes(&bad, blob.d + 4 + 19 + 4 + 8, blob.len - (4 + 19 + 4 + 8));
	from_blob_fails(bad.d, bad.len, NKHSM_ERR_FORMAT);

	/* A point not on the curve: the last byte of y changed. */
	bad = blob;
	bad.d[bad.len - 1] ^= 0x01;
	from_blob_fails(bad.d, bad.len, NKHSM_ERR_FORMAT);
	enc = b64(bad.d, bad.len);
	snprintf(line, sizeof(line), "ecdsa-sha2-nistp256 %s x", enc);
	from_ssh_fails(line, NKHSM_ERR_FORMAT);
	free(enc);

	/* A point one byte short; a compressed point. */
	bad.len = 0;
	w_cstring(&bad, "ecdsa-sha2-nistp256");
	w_cstring(&bad, "nistp256");
	w_string(&bad, blob.d + blob.len - 65, 64);
	from_blob_fails(bad.d, bad.len, NKHSM_ERR_FORMAT);
	bad.len = 0;
	w_cstring(&bad, "ecdsa-sha2-nistp256");
	w_cstring(&bad, "nistp256");
	w_u32(&bad, 33);
	w_bytes(&bad, "\x02", 1);
	w_bytes(&bad, blob.d + blob.len - 64, 32);
	from_blob_fails(bad.d, bad.len, NKHSM_ERR_FORMAT);

	/* A type with a NUL and more after it (found by fuzz_sshpubkey). */
	bad.len = 0;
	w_string(&bad, "ecdsa-sha2-nistp256\0junk", 24);
	w_cstring(&bad, "nistp256");
	w_bytes(&bad, blob.d + 4 + 19 + 4 + 8, blob.len - (4 + 19 + 4 + 8));
	from_blob_fails(bad.d, bad.len, NKHSM_ERR_FORMAT);
	{
		nkhsm_point_t pt;

		assert_int_equal(nkhsm_point_from_ssh_blob(bad.d, bad.len,
		    &pt), NKHSM_ERR_FORMAT);
	}

	/* A blob of another key type. */
	bad.len = 0;
	w_cstring(&bad, "ssh-ed25519");
	w_string(&bad, blob.d, 32);
	from_blob_fails(bad.d, bad.len, NKHSM_ERR_UNSUPPORTED);
	EVP_PKEY_free(key);
}

/*
 * Keys made once with "ssh-keygen -t ecdsa -b N" and their fingerprints as
 * printed by "ssh-keygen -lf": real-peer vectors.
 */
static const struct {
	const char *line;
	const char *comment;
	const char *fp;
} sshkeygen[] = {
	{ "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYA"
	  "AABBBH0osQRkWoKmTlMvzdEc375kLEI+IQxj1nzhnXcqNBIDRV58/IYuTnX5tcpwpN3f"
	  "Yt5hWEvFPph2GM1uXLKdNNQ= nkhsm-test-p256", "nkhsm-test-p256",
	  "SHA256:jZcwkNJYt/LD3gMoNBximRuOUSoHCF7g6hfYqcT2QPE" },
	{ "ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQA"
	  "AABhBM0cZ1ZmTN4eUEmS1mX+XqHT+puVPBhaUYr4WiL52NRDC+1wS6eBYqEc71GaPl1D"
	  "wqgCsNCcq769z4UwBIqeT4Qem4Gr/K9CpvhwSoWCzEHs++r6HWa2ImmfmoP5EXIlSQ=="
	  " nkhsm-test-p384", "nkhsm-test-p384",
	  "SHA256:5rNynwbPoFAJIdL8MXmcnexcxa1aax6Vv7f6ws9XZaI" },
	{ "ecdsa-sha2-nistp521 AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEA"
	  "AACFBAC/FUIXD9y7YeIStUuMgKrP+Az+RbrC4xcOUk9FmlqeOFfd4NhXSbmZl53wyOsT"
	  "11G/B+k0DwGlSFafaBOaBy2e6wEcWv4/X1xGM6GfLC6zDVRgt1ItvnEZ7FN9cqKBc1wc"
	  "3Vf3oEuK7a535QJBeohZFj7WUvjUJIUiBBYXj6FUxGKo8Q== nkhsm-test-p521",
	  "nkhsm-test-p521",
	  "SHA256:PzeTPc79Rdb/VrTfteGjlKn1DyN+aqWUiHpVptmqJac" },
};

static void
test_fingerprint(void **state)
{
	EVP_PKEY *pub;
	char *comment = NULL, *fp = NULL, *line = NULL;
	size_t i;

	for (i = 0; i < sizeof(sshkeygen) / sizeof(sshkeygen[0]); i++) {
		assert_int_equal(nkhsm_pubkey_from_ssh(sshkeygen[i].line, &pub,
		    &comment), 0);
		assert_string_equal(comment, sshkeygen[i].comment);
		assert_int_equal(nkhsm_pubkey_fingerprint(pub, &fp), 0);
		assert_string_equal(fp, sshkeygen[i].fp);
		/* Written back, the line is what ssh-keygen wrote. */
		assert_int_equal(nkhsm_pubkey_to_ssh(pub, comment, &line), 0);
		assert_string_equal(line, sshkeygen[i].line);
		free(line);
		free(fp);
		free(comment);
		EVP_PKEY_free(pub);
	}
}

/* Our line for a fresh key, read back by the installed ssh-keygen. */
static void
test_sshkeygen_reads_ours(void **state)
{
	char path[] = "/tmp/nkhsm-test-sshenc.XXXXXX", cmd[256], out[512];
	char *line = NULL, *fp = NULL;
	EVP_PKEY *key;
	FILE *f;
	size_t i;
	int fd;

	if (system("command -v ssh-keygen >/dev/null 2>&1") != 0)
		skip();
	for (i = 0; i < NCURVES; i++) {
		key = gen_key(&curves[i]);
		assert_int_equal(nkhsm_pubkey_to_ssh(key, "ours", &line), 0);
		assert_int_equal(nkhsm_pubkey_fingerprint(key, &fp), 0);
		assert_true((fd = mkstemp(path)) >= 0);
		assert_non_null(f = fdopen(fd, "w"));
		fprintf(f, "%s\n", line);
		fclose(f);
		snprintf(cmd, sizeof(cmd), "ssh-keygen -lf %s", path);
		assert_non_null(f = popen(cmd, "r"));
		assert_non_null(fgets(out, sizeof(out), f));
		assert_int_equal(pclose(f), 0);
		unlink(path);
		strcpy(path, "/tmp/nkhsm-test-sshenc.XXXXXX");
		/* "256 SHA256:... ours (ECDSA)" */
		assert_non_null(strstr(out, fp));
		assert_non_null(strstr(out, " ours (ECDSA)"));
		free(line);
		free(fp);
		EVP_PKEY_free(key);
	}
}

/* Verification of signatures made by OpenSSL. */

static void
test_verify(void **state)
{
	static const uint8_t msg[] = "nkhsm challenge 0123456789";
	uint8_t raw[2 * NK_MAX_FIELD], der[256], bad[256];
	const BIGNUM *br, *bs;
	const unsigned char *p;
	EVP_MD_CTX *md;
	EVP_PKEY *key, *other;
	ECDSA_SIG *esig;
	struct wbuf ssh;
	nkhsm_point_t kp, op, bp;
	nkhsm_ecverify_t *ev = NULL;
	size_t i, derlen, n;

	for (i = 0; i < NCURVES; i++) {
		const struct test_curve *tc = &curves[i];

		n = tc->n;
		key = gen_key(tc);
		other = gen_key(tc);
		assert_non_null(md = EVP_MD_CTX_new());
		assert_int_equal(EVP_DigestSignInit(md, NULL, tc->md(), NULL,
		    key), 1);
		derlen = sizeof(der);
		assert_int_equal(EVP_DigestSign(md, der, &derlen, msg,
		    sizeof(msg)), 1);
		EVP_MD_CTX_free(md);
		p = der;
		assert_non_null(esig = d2i_ECDSA_SIG(NULL, &p, (long)derlen));
		ECDSA_SIG_get0(esig, &br, &bs);
		assert_int_equal(BN_bn2binpad(br, raw, (int)n), (int)n);
		assert_int_equal(BN_bn2binpad(bs, raw + n, (int)n), (int)n);
		ECDSA_SIG_free(esig);
		ssh_sig(tc, raw, raw + n, &ssh);

		assert_int_equal(nkhsm_verify(key, msg, sizeof(msg),
		    NKHSM_SIG_DER, der, derlen), 0);
		assert_int_equal(nkhsm_verify(key, msg, sizeof(msg),
		    NKHSM_SIG_RAW, raw, 2 * n), 0);
		assert_int_equal(nkhsm_verify(key, msg, sizeof(msg),
		    NKHSM_SIG_SSH, ssh.d, ssh.len), 0);

		/* Another message, another key. */
		assert_int_equal(nkhsm_verify(key, msg, sizeof(msg) - 1,
		    NKHSM_SIG_DER, der, derlen), NKHSM_ERR_SIGNATURE);
		assert_int_equal(nkhsm_verify(other, msg, sizeof(msg),
		    NKHSM_SIG_RAW, raw, 2 * n), NKHSM_ERR_SIGNATURE);
		assert_int_equal(nkhsm_verify(other, msg, sizeof(msg),
		    NKHSM_SIG_SSH, ssh.d, ssh.len), NKHSM_ERR_SIGNATURE);

		/* One flipped bit in s, in each format. */
		memcpy(bad, der, derlen);
		bad[derlen - 1] ^= 0x01;
		assert_int_equal(nkhsm_verify(key, msg, sizeof(msg),
		    NKHSM_SIG_DER, bad, derlen), NKHSM_ERR_SIGNATURE);
		memcpy(bad, raw, 2 * n);
		bad[2 * n - 1] ^= 0x01;
		assert_int_equal(nkhsm_verify(key, msg, sizeof(msg),
		    NKHSM_SIG_RAW, bad, 2 * n), NKHSM_ERR_SIGNATURE);
		ssh.d[ssh.len - 1] ^= 0x01;
		assert_int_equal(nkhsm_verify(key, msg, sizeof(msg),
		    NKHSM_SIG_SSH, ssh.d, ssh.len), NKHSM_ERR_SIGNATURE);
		/* A bit in the message. */
		memcpy(bad, msg, sizeof(msg));
		bad[0] ^= 0x20;
		assert_int_equal(nkhsm_verify(key, bad, sizeof(msg),
		    NKHSM_SIG_RAW, raw, 2 * n), NKHSM_ERR_SIGNATURE);
		/* Garbage in the wrong format is a failed signature too. */
		assert_int_equal(nkhsm_verify(key, msg, sizeof(msg),
		    NKHSM_SIG_SSH, raw, 2 * n), NKHSM_ERR_SIGNATURE);

		/* The raw-point path (ecraw.c) agrees on every case. */
		assert_int_equal(nkhsm_point_from_pkey(key, &kp), 0);
		assert_int_equal(nkhsm_point_from_pkey(other, &op), 0);
		assert_int_equal(kp.curve, tc->curve);
		assert_int_equal(nkhsm_point_check(&kp), 0);
		assert_int_equal(nkhsm_verify_point(&kp, msg, sizeof(msg), raw,
		    2 * n), 0);
		assert_int_equal(nkhsm_verify_point(&kp, msg, sizeof(msg) - 1,
		    raw, 2 * n), NKHSM_ERR_SIGNATURE);
		assert_int_equal(nkhsm_verify_point(&op, msg, sizeof(msg), raw,
		    2 * n), NKHSM_ERR_SIGNATURE);
		memcpy(bad, raw, 2 * n);
		bad[2 * n - 1] ^= 0x01;
		assert_int_equal(nkhsm_verify_point(&kp, msg, sizeof(msg), bad,
		    2 * n), NKHSM_ERR_SIGNATURE);
		/* r = 0, and r and s all ones (>= n): false, never accepted. */
		memset(bad, 0, n);
		assert_int_equal(nkhsm_verify_point(&kp, msg, sizeof(msg), bad,
		    2 * n), NKHSM_ERR_SIGNATURE);
		memset(bad, 0xff, 2 * n);
		assert_int_equal(nkhsm_verify_point(&kp, msg, sizeof(msg), bad,
		    2 * n), NKHSM_ERR_SIGNATURE);
		/* Wrong lengths, and DER where raw is expected. */
		assert_int_equal(nkhsm_verify_point(&kp, msg, sizeof(msg), raw,
		    2 * n - 1), NKHSM_ERR_SIGNATURE);
		assert_int_equal(nkhsm_verify_point(&kp, msg, sizeof(msg), der,
		    derlen), NKHSM_ERR_SIGNATURE);
		/* A prepared key: many signatures, a failure does not stick. */
		assert_int_equal(nkhsm_ecverify_new(&kp, &ev), 0);
		assert_int_equal(nkhsm_ecverify(ev, msg, sizeof(msg), raw,
		    2 * n), 0);
		assert_int_equal(nkhsm_ecverify(ev, msg, sizeof(msg) - 1, raw,
		    2 * n), NKHSM_ERR_SIGNATURE);
		assert_int_equal(nkhsm_ecverify(ev, msg, sizeof(msg), raw,
		    2 * n - 1), NKHSM_ERR_SIGNATURE);
		assert_int_equal(nkhsm_ecverify(ev, msg, sizeof(msg), raw,
		    2 * n), 0);
		nkhsm_ecverify_free(&ev);
		assert_null(ev);
		nkhsm_ecverify_free(&ev);
		/* A point off the curve is refused, not verified against. */
		bp = kp;
		bp.pt[bp.len - 1] ^= 0x01;
		assert_int_equal(nkhsm_point_check(&bp), NKHSM_ERR_FORMAT);
		assert_int_equal(nkhsm_verify_point(&bp, msg, sizeof(msg), raw,
		    2 * n), NKHSM_ERR_FORMAT);
		ev = (nkhsm_ecverify_t *)1;
		assert_int_equal(nkhsm_ecverify_new(&bp, &ev), NKHSM_ERR_FORMAT);
		assert_null(ev);
		/* Compressed or short points are a format error. */
		bp = kp;
		bp.pt[0] = 0x02;
		assert_int_equal(nkhsm_point_check(&bp), NKHSM_ERR_FORMAT);
		bp = kp;
		bp.len--;
		assert_int_equal(nkhsm_verify_point(&bp, msg, sizeof(msg), raw,
		    2 * n), NKHSM_ERR_FORMAT);
		EVP_PKEY_free(other);
		EVP_PKEY_free(key);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buf_ints),
		cmocka_unit_test(test_buf_strings),
		cmocka_unit_test(test_bignum2_put),
		cmocka_unit_test(test_bignum2_get),
		cmocka_unit_test(test_sig_round_trips),
		cmocka_unit_test(test_sig_ssh_literal),
		cmocka_unit_test(test_sig_malformed),
		cmocka_unit_test(test_pubkey_round_trip),
		cmocka_unit_test(test_pubkey_rejects),
		cmocka_unit_test(test_fingerprint),
		cmocka_unit_test(test_sshkeygen_reads_ours),
		cmocka_unit_test(test_verify),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
