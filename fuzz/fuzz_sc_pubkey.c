/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_sc_pubkey.c - a key's public key file CE xx (lib/sc-pubkey.c): a
 * point that parses is uncompressed, of its curve's size, and its bytes
 * are in the input; a file that does not parse leaves no point behind.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "nk-int.h"
#include "schsm.h"
#include "fuzz.h"

#define FUZZ_PUBKEY_INPUT_MAX	(16 * 1024)

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum nk_sc_pkfile kind;
	nkhsm_point_t pt;

	if (size > FUZZ_PUBKEY_INPUT_MAX)
		return 0;
	if (nk_sc_pubkey_parse(data, size, &pt, &kind) != 0) {
		if (pt.len != 0 || pt.curve != NKHSM_CURVE_NONE || kind != 0)
			abort();
		return 0;
	}
	if (kind < NK_SC_PK_REQUEST || kind > NK_SC_PK_X509 ||
	    pt.len != 1 + 2 * nkhsm_curve_bytes(pt.curve) || pt.pt[0] != 0x04 ||
	    memmem(data, size, pt.pt, pt.len) == NULL)
		abort();
	return 0;
}
