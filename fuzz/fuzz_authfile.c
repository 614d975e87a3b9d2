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
#define FUZZ_AUTHFILE_RHOST	"192.0.2.7"
#define FUZZ_AUTHFILE_NOW	1700000000

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pnk_keys keys;
	char err[512], buf[256];
	const char *why;
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
		/* Its options, judged for a login: a line with a reason never
		 * passes, and a from= list is never ignored. */
		why = pnk_key_refusal(&keys.key[i], FUZZ_AUTHFILE_RHOST,
		    FUZZ_AUTHFILE_NOW, buf, sizeof(buf));
		if ((keys.key[i].unusable != NULL && why == NULL) ||
		    (why == NULL && keys.key[i].from != NULL &&
		    pnk_from_match(keys.key[i].from, FUZZ_AUTHFILE_RHOST) != 1) ||
		    (why == NULL && pnk_key_refusal(&keys.key[i], NULL,
		    FUZZ_AUTHFILE_NOW, buf, sizeof(buf)) == NULL &&
		    keys.key[i].from != NULL))
			abort();
	}
	pnk_keys_free(&keys);
	return 0;
}
