/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sc-objlist.c - the answer to ENUMERATE OBJECTS (80 58): a list of two-byte
 * file identifiers. Private keys are CC xx; CC 00 is the card's own device
 * key, which no user key can be. Pairs of zero bytes are padding that some
 * firmware adds; anything else that is odd is an error.
 */
#include "config.h"

#include <string.h>

#include "nk-int.h"
#include "schsm.h"

int
nk_sc_objlist_parse(const uint8_t *d, size_t len,
    uint8_t refs[NK_SC_KEYS_MAX], size_t *np)
{
	uint8_t seen[256], fid[2];
	struct nk_buf b;
	size_t n = 0;
	int r;

	*np = 0;
	if (len % 2 != 0)
		return NKHSM_ERR_FORMAT;
	memset(seen, 0, sizeof(seen));
	nk_buf_from(&b, d, len);
	while (nk_buf_avail(&b) > 0) {
		if ((r = nk_buf_get(&b, fid, sizeof(fid))) != 0)
			return r;
		if (fid[0] != NK_SC_KEY_PREFIX || fid[1] == 0)
			continue;
		if (seen[fid[1]]++)
			return NKHSM_ERR_FORMAT;	/* listed twice */
		refs[n++] = fid[1];	/* at most 255: each ref once */
	}
	*np = n;
	return 0;
}
