/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_uri.c - nkhsm_uri_parse on arbitrary text. Whatever parses must
 * format and parse again to the same attributes.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "nkhsm.h"
#include "fuzz.h"

#define FUZZ_URI_INPUT_MAX	(NKHSM_URI_MAX + 64)

static int
same_text(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static void
check_round_trip(const nkhsm_uri_t *uri)
{
	nkhsm_uri_t *again = NULL;
	const uint8_t *id, *id2;
	const char *err = NULL;
	char *s = NULL;
	size_t idlen = 0, id2len = 0;
	int r;

	id = nkhsm_uri_id(uri, &idlen);
	r = nkhsm_uri_format(nkhsm_uri_token(uri), nkhsm_uri_serial(uri),
	    nkhsm_uri_object(uri), id, idlen, nkhsm_uri_type(uri), &s);
	if (r == NKHSM_ERR_TOO_LARGE || r == NKHSM_ERR_NOMEM)
		return;
	if (r != 0 || s == NULL)
		abort();
	if (nkhsm_uri_parse(s, &again, &err) != 0)
		abort();
	id2 = nkhsm_uri_id(again, &id2len);
	if (!same_text(nkhsm_uri_token(uri), nkhsm_uri_token(again)) ||
	    !same_text(nkhsm_uri_serial(uri), nkhsm_uri_serial(again)) ||
	    !same_text(nkhsm_uri_object(uri), nkhsm_uri_object(again)) ||
	    nkhsm_uri_type(uri) != nkhsm_uri_type(again) ||
	    idlen != id2len || (id == NULL) != (id2 == NULL) ||
	    (idlen > 0 && memcmp(id, id2, idlen) != 0))
		abort();
	nkhsm_uri_free(&again);
	free(s);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nkhsm_uri_t *uri = NULL;
	const char *err = NULL;
	unsigned long slot = 0;
	char *s;
	int r;

	if (size > FUZZ_URI_INPUT_MAX || (s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	r = nkhsm_uri_parse(s, &uri, &err);
	if (r != 0) {
		/* Outputs untouched on error; a URI error has a reason. */
		if (uri != NULL || (r == NKHSM_ERR_URI && err == NULL))
			abort();
		goto out;
	}
	(void)nkhsm_uri_manufacturer(uri);
	(void)nkhsm_uri_model(uri);
	(void)nkhsm_uri_pin_source(uri);
	(void)nkhsm_uri_module_path(uri);
	(void)nkhsm_uri_has_slot_id(uri, &slot);
	check_round_trip(uri);
 out:
	nkhsm_uri_free(&uri);
	free(s);
	return 0;
}
