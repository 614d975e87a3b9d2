/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_sc_sig.c - the card's signature (lib/sc-sig.c), for each curve: what
 * parses is r || s of the curve's size, and encodes back to the very same
 * DER (only canonical DER is taken).
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "nk-int.h"
#include "schsm.h"
#include "fuzz.h"

static const nkhsm_curve_t fuzz_curves[] = {
	NKHSM_CURVE_P256, NKHSM_CURVE_P384, NKHSM_CURVE_P521,
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t raw[2 * NK_MAX_FIELD], *der = NULL;
	size_t rawlen, derlen, i;

	if (size > 1024)
		return 0;
	for (i = 0; i < sizeof(fuzz_curves) / sizeof(fuzz_curves[0]); i++) {
		if (nk_sc_sig_parse(fuzz_curves[i], data, size, raw,
		    &rawlen) != 0) {
			if (rawlen != 0)
				abort();
			continue;
		}
		if (rawlen != 2 * nkhsm_curve_bytes(fuzz_curves[i]) ||
		    nkhsm_sig_convert(fuzz_curves[i], NKHSM_SIG_RAW, raw, rawlen,
		    NKHSM_SIG_DER, &der, &derlen) != 0 || derlen != size ||
		    memcmp(der, data, size) != 0)
			abort();
		free(der);
		der = NULL;
	}
	return 0;
}
