/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_krl.c - lib/krl.c: the input as a KRL, checked against three keys
 * the corpus revokes in every way (fuzz/corpus/krl, made by ssh-keygen -k
 * and tests/integration/krlcraft.py from these keys): an ECDSA certificate
 * (serial 4660, key id "fuzz-id"), its CA, and a plain Ed25519 key. And
 * the input as a key or certificate blob for a query.
 *
 * Invariants: the same answer twice; the three keys checked together get
 * the verdicts each gets alone; a refusal is one of the documented codes
 * with a reason and leaves no verdict; a revoked CA revokes the
 * certificate.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "nk-int.h"
#include "krl.h"
#include "fuzz.h"

#define NQ	3

static const char *const keys_b64[NQ] = {
	/* user-cert.pub: signed by the CA below, serial 4660, id fuzz-id */
	"AAAAKGVjZHNhLXNoYTItbmlzdHAyNTYtY2VydC12MDFAb3BlbnNzaC5jb20AAAAgGcZQ"
	"4VNuQ6EEmiz00OJJGNGKzN8lAMCkPbZ9dFvYIZoAAAAIbmlzdHAyNTYAAABBBAoRJL9v"
	"kDJRfxmhBeApkdCWMkPpJq70GGqhvOUZ+5bMfuIJFe1nOEHedJpVJrga8PFgZ0XB6VWp"
	"fYrPqirSfH4AAAAAAAASNAAAAAEAAAAHZnV6ei1pZAAAAAUAAAABdQAAAABpVbkAAAAA"
	"AHwkXwAAAAAAAAAAggAAABVwZXJtaXQtWDExLWZvcndhcmRpbmcAAAAAAAAAF3Blcm1p"
	"dC1hZ2VudC1mb3J3YXJkaW5nAAAAAAAAABZwZXJtaXQtcG9ydC1mb3J3YXJkaW5nAAAA"
	"AAAAAApwZXJtaXQtcHR5AAAAAAAAAA5wZXJtaXQtdXNlci1yYwAAAAAAAAAAAAAAaAAA"
	"ABNlY2RzYS1zaGEyLW5pc3RwMjU2AAAACG5pc3RwMjU2AAAAQQRXowsYKgmzyVypZ2YI"
	"Ikr5bDc92378tZi9fiWT0WsJPRyQJsYWvsSlki29IPqzaqBN2NmiZkc2tAViU8ghSgsw"
	"AAAAZAAAABNlY2RzYS1zaGEyLW5pc3RwMjU2AAAASQAAACArhKLegSk4MfTPFRL89uzG"
	"i1MrvqYJubq4V0H752rsWQAAACEA0A3/LJWhJXA9IzzVN8yCIVRHxy38AdyJAMhQOl78"
	"mhU=",
	/* ca.pub */
	"AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBFejCxgqCbPJXKln"
	"ZggiSvlsNz3bfvy1mL1+JZPRawk9HJAmxha+xKWSLb0g+rNqoE3Y2aJmRza0BWJTyCFK"
	"CzA=",
	/* plain.pub */
	"AAAAC3NzaC1lZDI1NTE5AAAAIKrrPF/vgct1uFJTwibfByu6h8tVtnnLz5jfL6h8umsE",
};

static uint8_t *blobs[NQ], *plain;
static size_t bloblens[NQ], plainlen;
static struct nk_krl_query base[NQ];

static void
setup(void)
{
	size_t i;

	for (i = 0; i < NQ; i++)
		if (nk_b64_decode(keys_b64[i], strlen(keys_b64[i]), &blobs[i],
		    &bloblens[i]) != 0)
			abort();
	if (nk_krl_query_from_blob(&base[0], blobs[0], bloblens[0], &plain,
	    &plainlen) != 0 || !base[0].is_cert || base[0].serial != 4660 ||
	    nk_krl_key_init(&base[1].key, blobs[1], bloblens[1]) != 0 ||
	    nk_krl_key_init(&base[2].key, blobs[2], bloblens[2]) != 0 ||
	    base[0].ca.len != bloblens[1] ||
	    memcmp(base[0].ca.blob, blobs[1], bloblens[1]) != 0)
		abort();
}

static void
fuzz_check(const uint8_t *data, size_t size)
{
	struct nk_krl_query all[NQ], one;
	char err[512], err2[512];
	size_t i;
	int r, r2;

	memcpy(all, base, sizeof(all));
	err[0] = err2[0] = '\0';
	r = nk_krl_check("fuzz", data, size, all, NQ, err, sizeof(err));
	if (r != 0) {
		if (err[0] == '\0' || (r != NKHSM_ERR_FORMAT &&
		    r != NKHSM_ERR_UNSUPPORTED && r != NKHSM_ERR_TOO_LARGE &&
		    r != NKHSM_ERR_NOMEM && r != NKHSM_ERR_CRYPTO))
			abort();
		for (i = 0; i < NQ; i++)
			if (all[i].why != 0 || all[i].by_ca != 0)
				abort();
	}
	/* A revoked CA key revokes what it signed. */
	if (r == 0 && all[1].why != 0 && all[0].why == 0)
		abort();
	for (i = 0; i < NQ; i++) {
		one = base[i];
		r2 = nk_krl_check("fuzz", data, size, &one, 1, err2,
		    sizeof(err2));
		if (r2 != r || one.why != all[i].why || one.by_ca != all[i].by_ca ||
		    (r != 0 && strcmp(err, err2) != 0))
			abort();
	}
}

static void
fuzz_query(const uint8_t *data, size_t size)
{
	struct nk_krl_query q;
	uint8_t *pl = NULL;
	size_t pllen = 0;

	if (nk_krl_query_from_blob(&q, data, size, &pl, &pllen) != 0) {
		if (pl != NULL || pllen != 0)
			abort();
		return;
	}
	/* A certificate's plain key is shorter than it and is its own query. */
	if (q.is_cert && (pl == NULL || pllen >= size || q.key.blob != pl ||
	    q.ca.len == 0))
		abort();
	if (!q.is_cert && (pl != NULL || q.key.blob != data))
		abort();
	free(pl);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;

	if (!ready) {
		setup();
		ready = 1;
	}
	fuzz_check(data, size);
	if (size > 0)
		fuzz_query(data, size);
	return 0;
}
