/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_krl.c - sc_krl_encode (sshca/krl.c): exact bytes of small KRLs
 * written out by hand, sorting and de-duplication, the serial list/range
 * split, the CA key checks and the caps. ssh-keygen -Q reads the same
 * encoder's output in tests/integration/sshca-krl.sh.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "nkhsm.h"
#include "nk-int.h"
#include "buf.h"
#include "sshca.h"

#define SERIALS_MAX	1000000
#define KEY_IDS_MAX	100000
#define SHA256_MAX	100000

/* Big-endian integers spelled out as bytes. */
#define U32(x)	(uint8_t)((x) >> 24), (uint8_t)((x) >> 16), \
		(uint8_t)((x) >> 8), (uint8_t)(x)
#define U64(x)	U32((uint64_t)(x) >> 32), U32((uint64_t)(x) & 0xffffffffu)
#define MAGIC	'S', 'S', 'H', 'K', 'R', 'L', '\n', '\0'
#define B8(v)	v, v, v, v, v, v, v, v
#define B32(v)	B8(v), B8(v), B8(v), B8(v)

/* string("ssh-ed25519") || string(32 x 0x11): 51 bytes. */
static const uint8_t ed_blob[] = {
	U32(11), 's', 's', 'h', '-', 'e', 'd', '2', '5', '5', '1', '9',
	U32(32), B32(0x11),
};

static void
encode_ok(const struct sc_krl_input *in, uint8_t **krlp, size_t *lenp)
{
	int r;

	if ((r = sc_krl_encode(in, krlp, lenp)) != 0)
		fail_msg("sc_krl_encode: %s", nkhsm_strerror(r));
	assert_non_null(*krlp);
}

static void
encode_fails(const struct sc_krl_input *in, int want)
{
	uint8_t *krl = (uint8_t *)&krl;
	size_t len = 99;

	assert_int_equal(sc_krl_encode(in, &krl, &len), want);
	assert_null(krl);
	assert_int_equal(len, 0);
}

static void
assert_bytes(const uint8_t *got, size_t gotlen, const uint8_t *want,
    size_t wantlen)
{
	size_t i;

	for (i = 0; i < gotlen && i < wantlen; i++) {
		if (got[i] != want[i])
			fail_msg("byte %zu: 0x%02x, expected 0x%02x", i,
			    got[i], want[i]);
	}
	assert_int_equal(gotlen, wantlen);
}

static void
test_empty(void **state)
{
	static const uint8_t want[] = {
		MAGIC, U32(1), U64(0), U64(0), U64(0), U32(0), U32(0),
	};
	static const uint8_t want2[] = {
		MAGIC, U32(1), U64(42), U64(1700000000), U64(0), U32(0),
		U32(3), 'a', 'b', 'c',
	};
	struct sc_krl_input in;
	uint8_t *krl = NULL;
	size_t len = 0;

	(void)state;
	memset(&in, 0, sizeof(in));
	encode_ok(&in, &krl, &len);
	assert_bytes(krl, len, want, sizeof(want));
	free(krl);

	/* A CA with nothing revoked adds no section. */
	in.ca_blob = ed_blob;
	in.ca_len = sizeof(ed_blob);
	in.version = 42;
	in.generated = 1700000000;
	in.comment = "abc";
	encode_ok(&in, &krl, &len);
	assert_bytes(krl, len, want2, sizeof(want2));
	free(krl);
}

/*
 * Serials {5 1 3 5 10 11 12 13 20}, key ids {bob alice bob} and two hashes
 * given in descending order, written out by hand: the serials sorted and
 * unique, the run 10..13 as a range between two lists, key ids sorted,
 * hashes ascending.
 */
static void
test_small_exact(void **state)
{
	static const uint64_t serials[] = { 5, 1, 3, 5, 10, 11, 12, 13, 20 };
	static const char *const ids[] = { "bob", "alice", "bob" };
	static const uint8_t hashes[2][32] = { { B32(0xbb) }, { B32(0xaa) } };
	static const uint8_t want[] = {
		/* header */
		MAGIC, U32(1), U64(7), U64(0x5f5e1000), U64(0), U32(0),
		U32(4), 't', 'e', 's', 't',
		/* KRL_SECTION_CERTIFICATES, 143 bytes */
		1, U32(143),
		U32(51), U32(11), 's', 's', 'h', '-', 'e', 'd', '2', '5', '5',
		'1', '9', U32(32), B32(0x11),
		U32(0),
		0x20, U32(24), U64(1), U64(3), U64(5),
		0x21, U32(16), U64(10), U64(13),
		0x20, U32(8), U64(20),
		0x23, U32(16), U32(5), 'a', 'l', 'i', 'c', 'e',
		U32(3), 'b', 'o', 'b',
		/* KRL_SECTION_FINGERPRINT_SHA256, 72 bytes */
		5, U32(72), U32(32), B32(0xaa), U32(32), B32(0xbb),
	};
	struct sc_krl_input in;
	uint8_t *krl = NULL;
	size_t len = 0;

	(void)state;
	memset(&in, 0, sizeof(in));
	in.ca_blob = ed_blob;
	in.ca_len = sizeof(ed_blob);
	in.serials = serials;
	in.nserials = sizeof(serials) / sizeof(serials[0]);
	in.key_ids = ids;
	in.nkey_ids = 3;
	in.sha256 = hashes;
	in.nsha256 = 2;
	in.version = 7;
	in.generated = 0x5f5e1000;
	in.comment = "test";
	encode_ok(&in, &krl, &len);
	assert_bytes(krl, len, want, sizeof(want));
	free(krl);
}

/* Runs of 3 stay in the list, runs of 4 become a range, even at UINT64_MAX. */
static void
test_runs(void **state)
{
	static const uint64_t three[] = { 3, 1, 2 };
	static const uint64_t four[] = {
		UINT64_MAX, UINT64_MAX - 3, UINT64_MAX - 1, UINT64_MAX - 2,
	};
	static const uint64_t mixed[] = { 1, 2, 3, 4, 9, 30, 31, 32, 33, 34 };
	static const uint8_t hdr[] = {
		MAGIC, U32(1), U64(0), U64(0), U64(0), U32(0), U32(0),
	};
	static const uint8_t ca[] = {
		U32(51), U32(11), 's', 's', 'h', '-', 'e', 'd', '2', '5', '5',
		'1', '9', U32(32), B32(0x11), U32(0),
	};
	static const uint8_t want_three[] = {
		0x20, U32(24), U64(1), U64(2), U64(3),
	};
	static const uint8_t want_four[] = {
		0x21, U32(16), U64(UINT64_MAX - 3), U64(UINT64_MAX),
	};
	static const uint8_t want_mixed[] = {
		0x21, U32(16), U64(1), U64(4),
		0x20, U32(8), U64(9),
		0x21, U32(16), U64(30), U64(34),
	};
	const struct {
		const uint64_t	*s;
		size_t		 n;
		const uint8_t	*want;
		size_t		 wantlen;
	} t[] = {
		{ three, 3, want_three, sizeof(want_three) },
		{ four, 4, want_four, sizeof(want_four) },
		{ mixed, 10, want_mixed, sizeof(want_mixed) },
	};
	struct sc_krl_input in;
	uint8_t *krl = NULL, want[256], *p;
	size_t i, len = 0, sectlen;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		memset(&in, 0, sizeof(in));
		in.ca_blob = ed_blob;
		in.ca_len = sizeof(ed_blob);
		in.serials = t[i].s;
		in.nserials = t[i].n;
		encode_ok(&in, &krl, &len);
		sectlen = sizeof(ca) + t[i].wantlen;
		p = want;
		memcpy(p, hdr, sizeof(hdr));
		p += sizeof(hdr);
		*p++ = 1;
		*p++ = (uint8_t)(sectlen >> 24);
		*p++ = (uint8_t)(sectlen >> 16);
		*p++ = (uint8_t)(sectlen >> 8);
		*p++ = (uint8_t)sectlen;
		memcpy(p, ca, sizeof(ca));
		p += sizeof(ca);
		memcpy(p, t[i].want, t[i].wantlen);
		p += t[i].wantlen;
		assert_bytes(krl, len, want, (size_t)(p - want));
		free(krl);
	}
}

/* Decode the serials of a KRL (lists and ranges) into a fresh array. */
static uint64_t *
decode_serials(const uint8_t *krl, size_t len, size_t *np)
{
	struct nk_buf b, sect, sub;
	const uint8_t *d;
	uint64_t *out = NULL, v, lo, hi;
	size_t n = 0, cap = 0, dlen;
	uint32_t u32;
	uint8_t type;

	nk_buf_from(&b, krl, len);
	assert_int_equal(nk_buf_get_u64(&b, &v), 0);
	assert_int_equal(v, UINT64_C(0x5353484b524c0a00));
	assert_int_equal(nk_buf_get_u32(&b, &u32), 0);
	assert_int_equal(nk_buf_get_u64(&b, &v), 0);
	assert_int_equal(nk_buf_get_u64(&b, &v), 0);
	assert_int_equal(nk_buf_get_u64(&b, &v), 0);
	assert_int_equal(nk_buf_get_string_direct(&b, &d, &dlen), 0);
	assert_int_equal(nk_buf_get_string_direct(&b, &d, &dlen), 0);
	while (nk_buf_avail(&b) > 0) {
		assert_int_equal(nk_buf_get_u8(&b, &type), 0);
		assert_int_equal(nk_buf_get_string_direct(&b, &d, &dlen), 0);
		if (type != 1)
			continue;
		nk_buf_from(&sect, d, dlen);
		assert_int_equal(nk_buf_get_string_direct(&sect, &d, &dlen), 0);
		assert_int_equal(nk_buf_get_string_direct(&sect, &d, &dlen), 0);
		while (nk_buf_avail(&sect) > 0) {
			assert_int_equal(nk_buf_get_u8(&sect, &type), 0);
			assert_int_equal(nk_buf_get_string_direct(&sect, &d,
			    &dlen), 0);
			nk_buf_from(&sub, d, dlen);
			while (nk_buf_avail(&sub) > 0) {
				if (type == 0x23)
					break;
				assert_int_equal(nk_buf_get_u64(&sub, &lo), 0);
				hi = lo;
				if (type == 0x21)
					assert_int_equal(nk_buf_get_u64(&sub,
					    &hi), 0);
				else
					assert_int_equal(type, 0x20);
				assert_true(lo <= hi);
				for (v = lo;; v++) {
					if (n == cap) {
						cap = cap == 0 ? 1024 : cap * 2;
						out = realloc(out,
						    cap * sizeof(*out));
						assert_non_null(out);
					}
					out[n++] = v;
					if (v == hi)
						break;
				}
			}
		}
	}
	*np = n;
	return out;
}

static uint64_t
rnd64(uint64_t *x)
{
	/* xorshift64*: deterministic, so a failure can be replayed */
	*x ^= *x >> 12;
	*x ^= *x << 25;
	*x ^= *x >> 27;
	return *x * UINT64_C(2685821657736338717);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/*
 * Shuffled input with repeats encodes the same as sorted unique input;
 * the decoded serials are strictly ascending and exactly the input set.
 */
static void
test_sort_dedup(void **state)
{
	static const char *const ids[] = { "b", "a", "c", "a", "B", "b" };
	static const char *const ids_sorted[] = { "B", "a", "b", "c" };
	static const uint8_t h[3][32] = { { B32(2) }, { B32(1) }, { B32(2) } };
	static const uint8_t h_sorted[2][32] = { { B32(1) }, { B32(2) } };
	struct sc_krl_input in, in2;
	uint64_t *s, *u, *dec, *orig, x = 0x9e3779b97f4a7c15;
	uint8_t *krl = NULL, *krl2 = NULL;
	size_t i, n = 20000, nu = 0, ndec = 0, len = 0, len2 = 0;

	(void)state;
	s = calloc(n, sizeof(*s));
	u = calloc(n, sizeof(*u));
	assert_non_null(s);
	assert_non_null(u);
	for (i = 0; i < n; i++) {
		/* small values, so runs, gaps and repeats all happen */
		s[i] = 1 + rnd64(&x) % 30000;
		if (i % 7 == 0 && i > 0)
			s[i] = s[i - 1];
	}
	memcpy(u, s, n * sizeof(*s));
	assert_non_null(orig = calloc(n, sizeof(*orig)));
	memcpy(orig, s, n * sizeof(*s));
	qsort(u, n, sizeof(*u), cmp_u64);
	for (i = 1, nu = 1; i < n; i++)
		if (u[i] != u[nu - 1])
			u[nu++] = u[i];

	memset(&in, 0, sizeof(in));
	in.ca_blob = ed_blob;
	in.ca_len = sizeof(ed_blob);
	in.serials = s;
	in.nserials = n;
	in.key_ids = ids;
	in.nkey_ids = 6;
	in.sha256 = h;
	in.nsha256 = 3;
	in2 = in;
	in2.serials = u;
	in2.nserials = nu;
	in2.key_ids = ids_sorted;
	in2.nkey_ids = 4;
	in2.sha256 = h_sorted;
	in2.nsha256 = 2;
	encode_ok(&in, &krl, &len);
	encode_ok(&in2, &krl2, &len2);
	assert_bytes(krl, len, krl2, len2);

	dec = decode_serials(krl, len, &ndec);
	assert_int_equal(ndec, nu);
	for (i = 0; i < nu; i++) {
		assert_true(i == 0 || dec[i] > dec[i - 1]);
		assert_true(dec[i] == u[i]);
	}
	/* the caller's array is left as it was */
	for (i = 0; i < n; i++)
		assert_true(s[i] == orig[i]);
	free(orig);
	free(dec);
	free(krl);
	free(krl2);
	free(s);
	free(u);
}

static void
test_bad_input(void **state)
{
	static const uint64_t zero[] = { 4, 0 };
	static const uint64_t one[] = { 1 };
	static const char *const empty_id[] = { "a", "" };
	static const char *const null_id[] = { NULL };
	static const uint8_t h[1][32] = { { B32(1) } };
	/* a certificate type is not a CA key */
	static const uint8_t cert_blob[] = {
		U32(32), 's', 's', 'h', '-', 'e', 'd', '2', '5', '5', '1', '9',
		'-', 'c', 'e', 'r', 't', '-', 'v', '0', '1', '@', 'o', 'p',
		'e', 'n', 's', 's', 'h', '.', 'c', 'o', 'm', U32(0),
	};
	uint8_t trailing[sizeof(ed_blob) + 1], shortkey[sizeof(ed_blob) - 1];
	char long_id[SC_KEYID_LEN_MAX + 2];
	const char *long_ids[1] = { long_id };
	struct sc_krl_input in;
	uint8_t *krl = NULL;
	size_t len = 0;

	(void)state;
	memset(&in, 0, sizeof(in));
	assert_int_equal(sc_krl_encode(NULL, &krl, &len),
	    NKHSM_ERR_INVALID_ARGUMENT);
	assert_int_equal(sc_krl_encode(&in, NULL, &len),
	    NKHSM_ERR_INVALID_ARGUMENT);
	assert_int_equal(sc_krl_encode(&in, &krl, NULL),
	    NKHSM_ERR_INVALID_ARGUMENT);
	assert_null(krl);
	in.nserials = 1;
	encode_fails(&in, NKHSM_ERR_INVALID_ARGUMENT);	/* NULL array */

	/* serial revocations need a CA: an empty one means "any CA" */
	memset(&in, 0, sizeof(in));
	in.serials = one;
	in.nserials = 1;
	encode_fails(&in, NKHSM_ERR_INVALID_ARGUMENT);
	in.serials = NULL;
	in.nserials = 0;
	in.key_ids = empty_id;
	in.nkey_ids = 1;
	encode_fails(&in, NKHSM_ERR_INVALID_ARGUMENT);

	/* serial 0: OpenSSH's parser refuses the whole KRL */
	in.ca_blob = ed_blob;
	in.ca_len = sizeof(ed_blob);
	in.key_ids = NULL;
	in.nkey_ids = 0;
	in.serials = zero;
	in.nserials = 2;
	encode_fails(&in, NKHSM_ERR_INVALID_ARGUMENT);

	/* key ids: non-empty, at most SC_KEYID_LEN_MAX bytes */
	in.serials = NULL;
	in.nserials = 0;
	in.key_ids = empty_id;
	in.nkey_ids = 2;
	encode_fails(&in, NKHSM_ERR_INVALID_ARGUMENT);
	in.key_ids = null_id;
	in.nkey_ids = 1;
	encode_fails(&in, NKHSM_ERR_INVALID_ARGUMENT);
	memset(long_id, 'x', sizeof(long_id) - 1);
	long_id[sizeof(long_id) - 1] = '\0';
	in.key_ids = long_ids;
	encode_fails(&in, NKHSM_ERR_INVALID_ARGUMENT);
	long_id[SC_KEYID_LEN_MAX] = '\0';
	encode_ok(&in, &krl, &len);
	free(krl);

	/* CA blobs OpenSSH could not load */
	in.key_ids = NULL;
	in.nkey_ids = 0;
	in.serials = one;
	in.nserials = 1;
	in.ca_blob = cert_blob;
	in.ca_len = sizeof(cert_blob);
	encode_fails(&in, NKHSM_ERR_UNSUPPORTED);
	memcpy(trailing, ed_blob, sizeof(ed_blob));
	trailing[sizeof(ed_blob)] = 0;
	in.ca_blob = trailing;
	in.ca_len = sizeof(trailing);
	encode_fails(&in, NKHSM_ERR_FORMAT);
	memcpy(shortkey, ed_blob, sizeof(shortkey));
	in.ca_blob = shortkey;
	in.ca_len = sizeof(shortkey);
	encode_fails(&in, NKHSM_ERR_FORMAT);
	in.ca_blob = NULL;
	in.ca_len = 5;
	encode_fails(&in, NKHSM_ERR_INVALID_ARGUMENT);

	/* hashes alone need no CA */
	memset(&in, 0, sizeof(in));
	in.sha256 = h;
	in.nsha256 = 1;
	encode_ok(&in, &krl, &len);
	assert_int_equal(len, 8 + 4 + 8 + 8 + 8 + 4 + 4 + 1 + 4 + 4 + 32);
	free(krl);
	in.sha256 = NULL;
	encode_fails(&in, NKHSM_ERR_INVALID_ARGUMENT);
}

/* EC (checked as a point on the curve) and RSA (>= 2048 bits) CA keys. */
static void
test_ca_types(void **state)
{
	static const uint64_t one[] = { 1 };
	static const uint8_t e[] = { 0x01, 0x00, 0x01 };
	uint8_t mod[256], *blob = NULL, *krl = NULL;
	size_t bloblen = 0, len = 0;
	struct sc_krl_input in;
	struct nk_buf b;
	EVP_PKEY *pk;

	(void)state;
	memset(&in, 0, sizeof(in));
	in.serials = one;
	in.nserials = 1;

	assert_non_null(pk = EVP_EC_gen("P-384"));
	assert_int_equal(nkhsm_pubkey_to_ssh_blob(pk, &blob, &bloblen), 0);
	EVP_PKEY_free(pk);
	in.ca_blob = blob;
	in.ca_len = bloblen;
	encode_ok(&in, &krl, &len);
	free(krl);
	blob[bloblen - 1] ^= 0x01;	/* off the curve */
	encode_fails(&in, NKHSM_ERR_FORMAT);
	free(blob);

	memset(mod, 0xc5, sizeof(mod));
	nk_buf_init(&b);
	assert_int_equal(nk_buf_put_cstring(&b, "ssh-rsa"), 0);
	assert_int_equal(nk_buf_put_bignum2_bytes(&b, e, sizeof(e)), 0);
	assert_int_equal(nk_buf_put_bignum2_bytes(&b, mod, sizeof(mod)), 0);
	assert_int_equal(nk_buf_steal(&b, &blob, &bloblen), 0);
	in.ca_blob = blob;
	in.ca_len = bloblen;
	encode_ok(&in, &krl, &len);
	free(krl);
	free(blob);

	nk_buf_init(&b);
	assert_int_equal(nk_buf_put_cstring(&b, "ssh-rsa"), 0);
	assert_int_equal(nk_buf_put_bignum2_bytes(&b, e, sizeof(e)), 0);
	assert_int_equal(nk_buf_put_bignum2_bytes(&b, mod, 128), 0);
	assert_int_equal(nk_buf_steal(&b, &blob, &bloblen), 0);
	in.ca_blob = blob;
	in.ca_len = bloblen;
	encode_fails(&in, NKHSM_ERR_FORMAT);	/* 1024 bits */
	free(blob);
}

/* At the caps it works; one more is NKHSM_ERR_TOO_LARGE. */
static void
test_caps(void **state)
{
	static const uint8_t h[1][32] = { { B32(1) } };
	struct sc_krl_input in;
	uint64_t *s, x = 12345, *dec;
	const char **ids;
	char (*idbuf)[16];
	uint8_t (*hs)[32];
	uint8_t *krl = NULL;
	size_t i, len = 0, ndec = 0;

	(void)state;
	s = calloc(SERIALS_MAX + 1, sizeof(*s));
	ids = calloc(KEY_IDS_MAX + 1, sizeof(*ids));
	idbuf = calloc(KEY_IDS_MAX + 1, sizeof(*idbuf));
	hs = calloc(SHA256_MAX + 1, sizeof(*hs));
	assert_non_null(s);
	assert_non_null(ids);
	assert_non_null(idbuf);
	assert_non_null(hs);
	for (i = 0; i <= SERIALS_MAX; i++)
		s[i] = (rnd64(&x) >> 1) + 1;	/* never 0 */
	for (i = 0; i <= KEY_IDS_MAX; i++) {
		snprintf(idbuf[i], sizeof(idbuf[i]), "id-%zu", i);
		ids[i] = idbuf[i];
	}
	for (i = 0; i <= SHA256_MAX; i++) {
		memcpy(hs[i], h[0], 32);
		memcpy(hs[i], &i, sizeof(i));
	}

	memset(&in, 0, sizeof(in));
	in.ca_blob = ed_blob;
	in.ca_len = sizeof(ed_blob);
	in.serials = s;
	in.nserials = SERIALS_MAX;
	encode_ok(&in, &krl, &len);
	dec = decode_serials(krl, len, &ndec);
	assert_int_equal(ndec, SERIALS_MAX);	/* random 63-bit: no repeats */
	for (i = 1; i < ndec; i++)
		assert_true(dec[i] > dec[i - 1]);
	free(dec);
	free(krl);
	in.nserials = SERIALS_MAX + 1;
	encode_fails(&in, NKHSM_ERR_TOO_LARGE);

	in.nserials = 0;
	in.key_ids = ids;
	in.nkey_ids = KEY_IDS_MAX;
	encode_ok(&in, &krl, &len);
	free(krl);
	in.nkey_ids = KEY_IDS_MAX + 1;
	encode_fails(&in, NKHSM_ERR_TOO_LARGE);

	in.nkey_ids = 0;
	in.sha256 = (const uint8_t (*)[32])hs;
	in.nsha256 = SHA256_MAX;
	encode_ok(&in, &krl, &len);
	free(krl);
	in.nsha256 = SHA256_MAX + 1;
	encode_fails(&in, NKHSM_ERR_TOO_LARGE);

	free(s);
	free(ids);
	free(idbuf);
	free(hs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_small_exact),
		cmocka_unit_test(test_runs),
		cmocka_unit_test(test_sort_dedup),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_ca_types),
		cmocka_unit_test(test_caps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
