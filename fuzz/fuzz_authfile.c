/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_authfile.c - pnk_keys_parse on arbitrary bytes. Every key of a
 * success must be usable (a public key and a SHA256 fingerprint, line
 * numbers rising); a failure must say where and leave no keys.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "nkhsm.h"
#include "pamnk.h"
#include "fuzz.h"

#define FUZZ_AUTHFILE_NAME	"fuzz"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pnk_keys keys;
	char err[512];
	unsigned int last = 0;
	size_t i;
	int r;

	err[0] = '\0';
	r = pnk_keys_parse(FUZZ_AUTHFILE_NAME, (const char *)data, size, &keys,
	    err, sizeof(err));
	if (r != 0) {
		if (keys.n != 0 || (r != NKHSM_ERR_NOMEM &&
		    strncmp(err, FUZZ_AUTHFILE_NAME ":",
		    strlen(FUZZ_AUTHFILE_NAME) + 1) != 0))
			abort();
		return 0;
	}
	if (keys.n > PNK_KEYS_MAX)
		abort();
	for (i = 0; i < keys.n; i++) {
		if (keys.key[i].pt.len == 0 || keys.key[i].fp == NULL ||
		    strncmp(keys.key[i].fp, "SHA256:", 7) != 0 ||
		    keys.key[i].line <= last)
			abort();
		last = keys.key[i].line;
	}
	pnk_keys_free(&keys);
	return 0;
}
