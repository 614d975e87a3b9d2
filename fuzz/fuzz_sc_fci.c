/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_sc_fci.c - the SmartCard-HSM's answer to SELECT (lib/sc-fci.c). What
 * parses has its version in the last two bytes of a tag 85 that is really
 * in the input, and the answer is one template and nothing after it.
 */
#include "config.h"

#include <stdlib.h>

#include "nk-int.h"
#include "schsm.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nk_sc_fci fci;
	const uint8_t *v, *p;
	size_t vlen, plen;

	if (nk_sc_fci_parse(data, size, &fci) != 0) {
		if (fci.major != 0 || fci.minor != 0)
			abort();
		return 0;
	}
	if (size < 2 || (data[0] != 0x62 && data[0] != 0x6F) ||
	    nk_tlv_find(data, size, data[0], &v, &vlen) != 0 ||
	    v + vlen != data + size ||
	    nk_tlv_find(v, vlen, 0x85, &p, &plen) != 0 || plen < 2 ||
	    fci.major != p[plen - 2] || fci.minor != p[plen - 1])
		abort();
	return 0;
}
