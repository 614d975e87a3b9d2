/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_sig.c - nkhsm_sig_convert from each format to each other, for each
 * curve. Whatever decodes must encode back to the same bytes (only
 * canonical DER and minimal mpints are accepted) and to the same r || s.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "nkhsm.h"
#include "fuzz.h"

#define FUZZ_SIG_INPUT_MAX	1024

static const nkhsm_curve_t fuzz_curves[] = {
	NKHSM_CURVE_P256, NKHSM_CURVE_P384, NKHSM_CURVE_P521,
};
static const nkhsm_sigfmt_t fuzz_formats[] = {
	NKHSM_SIG_DER, NKHSM_SIG_RAW, NKHSM_SIG_SSH,
};
#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

static void
fuzz_one(nkhsm_curve_t c, nkhsm_sigfmt_t from, const uint8_t *in,
    size_t inlen)
{
	uint8_t *raw = NULL, *back = NULL, *other = NULL, *raw2 = NULL;
	size_t rawlen = 0, backlen = 0, otherlen = 0, raw2len = 0, i;
	int r;

	r = nkhsm_sig_convert(c, from, in, inlen, NKHSM_SIG_RAW, &raw,
	    &rawlen);
	if (r != 0) {
		if (raw != NULL || rawlen != 0)
			abort();
		return;
	}
	if (rawlen != 2 * nkhsm_curve_bytes(c))
		abort();
	/* Back to the source format: the very same bytes. */
	if (nkhsm_sig_convert(c, NKHSM_SIG_RAW, raw, rawlen, from, &back,
	    &backlen) != 0 || backlen != inlen || memcmp(back, in, inlen) != 0)
		abort();
	/* Through every format: the same r || s. */
	for (i = 0; i < NELEM(fuzz_formats); i++) {
		if (nkhsm_sig_convert(c, from, in, inlen, fuzz_formats[i],
		    &other, &otherlen) != 0 ||
		    nkhsm_sig_convert(c, fuzz_formats[i], other, otherlen,
		    NKHSM_SIG_RAW, &raw2, &raw2len) != 0 ||
		    raw2len != rawlen || memcmp(raw2, raw, rawlen) != 0)
			abort();
		free(other);
		free(raw2);
		other = raw2 = NULL;
	}
	free(back);
	free(raw);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t i, j;

	if (size > FUZZ_SIG_INPUT_MAX)
		return 0;
	for (i = 0; i < NELEM(fuzz_curves); i++)
		for (j = 0; j < NELEM(fuzz_formats); j++)
			fuzz_one(fuzz_curves[i], fuzz_formats[j], data, size);
	return 0;
}
