/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_sc_objlist.c - ENUMERATE OBJECTS' answer (lib/sc-objlist.c): every
 * key reference returned is nonzero, listed once, and stands in the input
 * as a CC xx pair at an even offset, in that order.
 */
#include "config.h"

#include <stdlib.h>

#include "nk-int.h"
#include "schsm.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t refs[NK_SC_KEYS_MAX];
	size_t n, i, off = 0;

	if (nk_sc_objlist_parse(data, size, refs, &n) != 0) {
		if (n != 0)
			abort();
		return 0;
	}
	if (n > NK_SC_KEYS_MAX || size % 2 != 0)
		abort();
	for (i = 0; i < n; i++) {
		if (refs[i] == 0)
			abort();
		while (off + 1 < size && !(data[off] == NK_SC_KEY_PREFIX &&
		    data[off + 1] == refs[i]))
			off += 2;
		if (off + 1 >= size)
			abort();
		off += 2;
	}
	return 0;
}
