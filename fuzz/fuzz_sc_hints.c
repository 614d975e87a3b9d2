/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_sc_hints.c - the card hints file (lib/sc-hints.c): what parses
 * formats to a text that parses to the same hints, and formatting that
 * again gives the same text. A file that does not parse gives no hints.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "nk-int.h"
#include "schsm.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nk_hints *a, *b;
	char *t1 = NULL, *t2 = NULL;
	size_t l1, l2;

	if ((a = calloc(1, sizeof(*a))) == NULL ||
	    (b = calloc(1, sizeof(*b))) == NULL)
		abort();
	if (nk_hints_parse((const char *)data, size, a) != 0) {
		if (a->n != 0)
			abort();
		goto out;
	}
	if (nk_hints_format(a, &t1, &l1) != 0 ||
	    nk_hints_parse(t1, l1, b) != 0 || b->n != a->n ||
	    memcmp(a->h, b->h, a->n * sizeof(a->h[0])) != 0 ||
	    nk_hints_format(b, &t2, &l2) != 0 || l1 != l2 ||
	    memcmp(t1, t2, l1) != 0)
		abort();
 out:
	free(t1);
	free(t2);
	free(a);
	free(b);
	return 0;
}
