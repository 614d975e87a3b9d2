/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_from.c - pnk_from_match on arbitrary input: the first line is the
 * remote host, the rest the from= pattern list. Besides "no crash, no
 * hang", the answer must obey the rules it implements: -1, 0 or 1 only; a
 * list is judged without regard to case; adding the host itself negated
 * never allows it; "*" allows every non-empty host.
 */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "nkhsm.h"
#include "pamnk.h"
#include "fuzz.h"

#define FUZZ_FROM_MAX	4096

static void
upper(char *s)
{
	for (; *s != '\0'; s++)
		*s = (char)toupper((unsigned char)*s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char host[FUZZ_FROM_MAX], pat[FUZZ_FROM_MAX], up_host[FUZZ_FROM_MAX];
	char up_pat[FUZZ_FROM_MAX], neg[2 * FUZZ_FROM_MAX + 2];
	const uint8_t *nl;
	size_t hl, pl;
	int r;

	if (size >= FUZZ_FROM_MAX || memchr(data, '\0', size) != NULL)
		return 0;
	if ((nl = memchr(data, '\n', size)) == NULL)
		return 0;
	hl = (size_t)(nl - data);
	pl = size - hl - 1;
	memcpy(host, data, hl);
	host[hl] = '\0';
	memcpy(pat, nl + 1, pl);
	pat[pl] = '\0';
	r = pnk_from_match(pat, host);
	if (r < -1 || r > 1)
		abort();
	/* Case never matters (addresses parse in either case). */
	memcpy(up_host, host, hl + 1);
	memcpy(up_pat, pat, pl + 1);
	upper(up_host);
	upper(up_pat);
	if (pnk_from_match(up_pat, up_host) != r)
		abort();
	/* The host itself, negated, as a literal pattern: never allowed. */
	if (hl > 0 && strpbrk(host, ",*?!") == NULL && r != -1) {
		memcpy(neg, pat, pl);
		neg[pl] = ',';
		neg[pl + 1] = '!';
		memcpy(neg + pl + 2, host, hl + 1);
		if (pnk_from_match(neg, host) == 1)
			abort();
	}
	/* A lone "*" allows any host there is. */
	if (pnk_from_match("*", host) != (hl > 0))
		abort();
	return 0;
}
