/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_krlread.c - lib/krl.c, the KRL reader, on what nkhsm-sshca's encoder
 * (sshca/krl.c) writes: random sets of serials (with runs, which become
 * ranges), key ids and key hashes are encoded, and every member must read
 * back as revoked and every neighbour as not, many queries at once. Then
 * the reader's messages and its handling of a certificate query.
 * tests/integration/krl-read.sh holds the reader against ssh-keygen -Q.
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
#include <openssl/rand.h>

#include "nkhsm.h"
#include "nk-int.h"
#include "krl.h"
#include "sshca.h"

#define NSERIALS	3000
#define NIDS		50
#define NHASHES		200

static uint8_t *ca_blob;
static size_t ca_len;

static int
setup(void **state)
{
	EVP_PKEY *k = EVP_EC_gen("P-256");

	if (k == NULL || nkhsm_pubkey_to_ssh_blob(k, &ca_blob, &ca_len) != 0)
		return -1;
	EVP_PKEY_free(k);
	return 0;
}

static int
teardown(void **state)
{
	free(ca_blob);
	return 0;
}

static uint64_t
rnd64(void)
{
	uint64_t v;

	if (RAND_bytes((unsigned char *)&v, sizeof(v)) != 1)
		fail_msg("RAND_bytes");
	return v;
}

static int
in_set(const uint64_t *s, size_t n, uint64_t v)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] == v)
			return 1;
	return 0;
}

/* A certificate query under the test CA. */
static void
cert_query(struct nk_krl_query *q, uint64_t serial, const char *id)
{
	static const uint8_t subject[] = "not a real key blob";

	memset(q, 0, sizeof(*q));
	assert_int_equal(nk_krl_key_init(&q->key, subject, sizeof(subject)), 0);
	assert_int_equal(nk_krl_key_init(&q->ca, ca_blob, ca_len), 0);
	q->is_cert = 1;
	q->serial = serial;
	q->key_id = (const uint8_t *)id;
	q->key_id_len = id != NULL ? strlen(id) : 0;
}

static void
test_serials_roundtrip(void **state)
{
	struct sc_krl_input in;
	struct nk_krl_query *q;
	uint64_t *s, base, v;
	uint8_t *krl = NULL;
	size_t krllen = 0, n = 0, nq = 0, i, run;
	char err[256];

	s = calloc(NSERIALS, sizeof(*s));
	q = calloc(3 * NSERIALS, sizeof(*q));
	assert_non_null(s);
	assert_non_null(q);
	/* Runs of 1 to 40, between random and small serials, and the top. */
	while (n < NSERIALS - 1) {
		base = n % 3 == 0 ? rnd64() >> (n % 64) : 1 + rnd64() % 100000;
		run = 1 + rnd64() % 40;
		for (i = 0; i < run && n < NSERIALS - 1; i++)
			if (base + i != 0)
				s[n++] = base + i;
	}
	s[n++] = UINT64_MAX;
	memset(&in, 0, sizeof(in));
	in.ca_blob = ca_blob;
	in.ca_len = ca_len;
	in.serials = s;
	in.nserials = n;
	assert_int_equal(sc_krl_encode(&in, &krl, &krllen), 0);
	for (i = 0; i < n; i++) {
		cert_query(&q[nq++], s[i], NULL);
		/* Neighbours: revoked exactly when in the set. */
		cert_query(&q[nq++], s[i] + 1, NULL);
		cert_query(&q[nq++], s[i] - 1, NULL);
	}
	assert_int_equal(nk_krl_check("enc", krl, krllen, q, nq, err,
	    sizeof(err)), 0);
	for (i = 0; i < nq; i++) {
		v = q[i].serial;
		if (v != 0 && in_set(s, n, v))
			assert_int_equal(q[i].why, NK_KRL_BY_SERIAL);
		else
			assert_int_equal(q[i].why, 0);
	}
	free(krl);
	free(q);
	free(s);
}

static void
test_ids_hashes_roundtrip(void **state)
{
	struct sc_krl_input in;
	struct nk_krl_query q[2 * NIDS + 2 * NHASHES];
	uint8_t (*h)[32], keys[NHASHES][16], *krl = NULL;
	char ids[NIDS][24], other[NIDS][24];
	const char *idp[NIDS];
	size_t krllen = 0, i;
	char err[256];

	h = calloc(NHASHES, sizeof(*h));
	assert_non_null(h);
	for (i = 0; i < NIDS; i++) {
		snprintf(ids[i], sizeof(ids[i]), "user-%zu", i);
		snprintf(other[i], sizeof(other[i]), "user-%zu ", i);
		idp[i] = ids[i];
	}
	/* Hashes of stand-in key blobs; half of them revoked. */
	for (i = 0; i < NHASHES; i++) {
		assert_int_equal(RAND_bytes(keys[i], sizeof(keys[i])), 1);
		assert_int_equal(nk_krl_key_init(&q[2 * NIDS + i].key, keys[i],
		    sizeof(keys[i])), 0);
		memcpy(h[i], q[2 * NIDS + i].key.sha256, 32);
	}
	memset(&in, 0, sizeof(in));
	in.ca_blob = ca_blob;
	in.ca_len = ca_len;
	in.key_ids = idp;
	in.nkey_ids = NIDS;
	in.sha256 = (const uint8_t (*)[32])h;
	in.nsha256 = NHASHES / 2;
	assert_int_equal(sc_krl_encode(&in, &krl, &krllen), 0);
	for (i = 0; i < NIDS; i++) {
		cert_query(&q[i], 5, ids[i]);
		cert_query(&q[NIDS + i], 5, other[i]);
	}
	for (i = 0; i < NHASHES; i++)
		q[2 * NIDS + NHASHES + i] = q[2 * NIDS + i];
	assert_int_equal(nk_krl_check("enc", krl, krllen, q,
	    sizeof(q) / sizeof(q[0]), err, sizeof(err)), 0);
	for (i = 0; i < NIDS; i++) {
		assert_int_equal(q[i].why, NK_KRL_BY_KEY_ID);
		assert_int_equal(q[NIDS + i].why, 0);
	}
	for (i = 0; i < 2 * NHASHES; i++)
		assert_int_equal(q[2 * NIDS + i].why, i % NHASHES < NHASHES / 2 ?
		    NK_KRL_BY_SHA256 : 0);
	free(krl);
	free(h);
}

static void
test_errors_named(void **state)
{
	struct sc_krl_input in;
	struct nk_krl_query q;
	uint64_t s = 42;
	uint8_t *krl = NULL;
	size_t krllen = 0, cut;
	char err[256];

	memset(&in, 0, sizeof(in));
	in.ca_blob = ca_blob;
	in.ca_len = ca_len;
	in.serials = &s;
	in.nserials = 1;
	assert_int_equal(sc_krl_encode(&in, &krl, &krllen), 0);
	cert_query(&q, 42, NULL);
	/* Every cut but the end of the header fails, naming file and offset. */
	for (cut = 0; cut < krllen; cut++) {
		err[0] = '\0';
		q.why = 7;
		if (nk_krl_check("/etc/ssh/revoked", krl, cut, &q, 1, err,
		    sizeof(err)) == 0) {
			assert_int_equal(q.why, 0);
			continue;
		}
		assert_int_equal(q.why, 0);
		assert_non_null(strstr(err, "/etc/ssh/revoked: offset "));
	}
	krl[8 + 3] = 2;		/* format version 2 */
	assert_int_equal(nk_krl_check("k", krl, krllen, &q, 1, err,
	    sizeof(err)), NKHSM_ERR_FORMAT);
	assert_non_null(strstr(err, "k: offset 12: unsupported KRL format"));
	free(krl);
}

static void
test_cert_query(void **state)
{
	/* An ssh-keygen certificate (fuzz/fuzz_krl.c): serial 4660, fuzz-id. */
	static const char cert[] =
	    "AAAAKGVjZHNhLXNoYTItbmlzdHAyNTYtY2VydC12MDFAb3BlbnNzaC5jb20AAAAg"
	    "GcZQ4VNuQ6EEmiz00OJJGNGKzN8lAMCkPbZ9dFvYIZoAAAAIbmlzdHAyNTYAAABB"
	    "BAoRJL9vkDJRfxmhBeApkdCWMkPpJq70GGqhvOUZ+5bMfuIJFe1nOEHedJpVJrga"
	    "8PFgZ0XB6VWpfYrPqirSfH4AAAAAAAASNAAAAAEAAAAHZnV6ei1pZAAAAAUAAAAB"
	    "dQAAAABpVbkAAAAAAHwkXwAAAAAAAAAAggAAABVwZXJtaXQtWDExLWZvcndhcmRp"
	    "bmcAAAAAAAAAF3Blcm1pdC1hZ2VudC1mb3J3YXJkaW5nAAAAAAAAABZwZXJtaXQt"
	    "cG9ydC1mb3J3YXJkaW5nAAAAAAAAAApwZXJtaXQtcHR5AAAAAAAAAA5wZXJtaXQt"
	    "dXNlci1yYwAAAAAAAAAAAAAAaAAAABNlY2RzYS1zaGEyLW5pc3RwMjU2AAAACG5p"
	    "c3RwMjU2AAAAQQRXowsYKgmzyVypZ2YIIkr5bDc92378tZi9fiWT0WsJPRyQJsYW"
	    "vsSlki29IPqzaqBN2NmiZkc2tAViU8ghSgswAAAAZAAAABNlY2RzYS1zaGEyLW5p"
	    "c3RwMjU2AAAASQAAACArhKLegSk4MfTPFRL89uzGi1MrvqYJubq4V0H752rsWQAA"
	    "ACEA0A3/LJWhJXA9IzzVN8yCIVRHxy38AdyJAMhQOl78mhU=";
	struct nk_krl_query q;
	uint8_t *blob = NULL, *plain = NULL;
	size_t len = 0, plainlen = 0;

	assert_int_equal(nk_b64_decode(cert, strlen(cert), &blob, &len), 0);
	assert_int_equal(nk_krl_query_from_blob(&q, blob, len, &plain,
	    &plainlen), 0);
	assert_true(q.is_cert);
	assert_true(q.serial == 4660);
	assert_int_equal(q.key_id_len, 7);
	assert_memory_equal(q.key_id, "fuzz-id", 7);
	/* The plain key: string(type), then the cert's curve and point. */
	assert_int_equal(plainlen, 4 + 19 + 4 + 8 + 4 + 65);
	assert_memory_equal(plain + 4, "ecdsa-sha2-nistp256", 19);
	assert_int_equal(q.ca.len, 104);
	free(plain);
	/* A cut certificate is refused and leaves nothing. */
	assert_int_not_equal(nk_krl_query_from_blob(&q, blob, len - 1, &plain,
	    &plainlen), 0);
	assert_null(plain);
	assert_int_equal(q.is_cert, 0);
	free(blob);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_serials_roundtrip),
		cmocka_unit_test(test_ids_hashes_roundtrip),
		cmocka_unit_test(test_errors_named),
		cmocka_unit_test(test_cert_query),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
