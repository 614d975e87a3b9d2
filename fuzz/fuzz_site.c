/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_site.c - sc_site_parse (nkhsm-sshca's STATE/site.conf) on arbitrary
 * bytes. A failure leaves nothing set and says where; a success holds only
 * values that pass their checks, without control characters, and a file
 * written back from them parses to the same values.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "nkhsm.h"
#include "ledger.h"
#include "site.h"
#include "fuzz.h"

#define FUZZ_NAME	"site.conf"

static void
check_value(const char *v)
{
	size_t i;

	if (v == NULL)
		return;
	if (v[0] == '\0')
		abort();
	for (i = 0; v[i] != '\0'; i++)
		if ((unsigned char)v[i] < 0x20 || v[i] == 0x7f)
			abort();
}

static int
same(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sc_site s, again;
	char err[512], *text = NULL;
	int r;

	err[0] = '\0';
	r = sc_site_parse(FUZZ_NAME, (const char *)data, size, &s, err,
	    sizeof(err));
	if (r != 0) {
		if (s.ledger != NULL || s.module != NULL || s.key != NULL ||
		    (r != NKHSM_ERR_NOMEM && strncmp(err, FUZZ_NAME ":",
		    strlen(FUZZ_NAME) + 1) != 0))
			abort();
		return 0;
	}
	check_value(s.ledger);
	check_value(s.module);
	check_value(s.key);
	if ((s.ledger != NULL && sc_ledger_url_check(s.ledger, NULL, 0) != 0) ||
	    (s.module != NULL && s.module[0] != '/') ||
	    (s.key != NULL && strncmp(s.key, "pkcs11:", 7) != 0))
		abort();
	if (s.ledger != NULL && s.module != NULL && s.key != NULL) {
		if (sc_site_format(&s, &text) != 0 ||
		    sc_site_parse(FUZZ_NAME, text, strlen(text), &again, NULL,
		    0) != 0)
			abort();
		if (!same(s.ledger, again.ledger) || !same(s.module, again.module) ||
		    !same(s.key, again.key))
			abort();
		sc_site_free(&again);
		free(text);
	}
	sc_site_free(&s);
	return 0;
}
