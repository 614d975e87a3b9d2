/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sc-sig.c - the answer to the SmartCard-HSM's signature command with
 * algorithm 70 (ECDSA over a hash from the host): a DER ECDSA-Sig-Value,
 * turned into r || s of the curve's size. Only canonical DER is accepted
 * (sig.c). The signature is then verified against the authorized key by
 * the caller, never trusted because the card sent it.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "nk-int.h"
#include "schsm.h"

/* SEQUENCE { INTEGER r, INTEGER s }: 2 * (66 + 1 + 2) + 3 bytes at most. */
#define SIG_DER_MAX	(2 * (NK_MAX_FIELD + 3) + 4)

int
nk_sc_sig_parse(nkhsm_curve_t curve, const uint8_t *d, size_t len,
    uint8_t *raw, size_t *rawlenp)
{
	uint8_t *out = NULL;
	size_t outlen = 0, n = nkhsm_curve_bytes(curve);
	int r;

	*rawlenp = 0;
	if (n == 0)
		return NKHSM_ERR_UNSUPPORTED;
	if (len == 0 || len > SIG_DER_MAX)
		return NKHSM_ERR_FORMAT;
	if ((r = nkhsm_sig_convert(curve, NKHSM_SIG_DER, d, len, NKHSM_SIG_RAW,
	    &out, &outlen)) != 0)
		return r;
	if (outlen != 2 * n) {
		free(out);
		return NKHSM_ERR_FORMAT;
	}
	memcpy(raw, out, outlen);
	*rawlenp = outlen;
	free(out);
	return 0;
}
