/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_err.c - nkhsm_strerror: one distinct message per code, and one
 * fixed message for anything that is not a code.
 */
#include "config.h"

#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "nkhsm.h"

static int
contains_nocase(const char *s, const char *word)
{
	size_t n = strlen(word);

	for (; *s != '\0'; s++)
		if (strncasecmp(s, word, n) == 0)
			return 1;
	return 0;
}

static void
test_unknown(void **state)
{
	const char *unknown = nkhsm_strerror(1);

	assert_non_null(unknown);
	assert_true(contains_nocase(unknown, "unknown"));
	/* The same fixed text for every non-code. */
	assert_string_equal(nkhsm_strerror(-999), unknown);
	assert_string_equal(nkhsm_strerror(NKHSM_ERR_LAST - 1), unknown);
	assert_string_equal(nkhsm_strerror(INT_MIN), unknown);
	assert_string_equal(nkhsm_strerror(INT_MAX), unknown);
	assert_string_equal(nkhsm_strerror(2), unknown);
}

static void
test_every_code(void **state)
{
	const char *unknown = nkhsm_strerror(1);
	const char *msg[1 - NKHSM_ERR_LAST];
	int i, j;

	for (i = 0; i >= NKHSM_ERR_LAST; i--) {
		msg[-i] = nkhsm_strerror(i);
		if (msg[-i] == NULL)
			fail_msg("code %d has no message", i);
		if (msg[-i][0] == '\0')
			fail_msg("code %d has an empty message", i);
		if (strcmp(msg[-i], unknown) == 0)
			fail_msg("code %d reads as unknown", i);
		for (j = 0; j > i; j--)
			if (strcmp(msg[-i], msg[-j]) == 0)
				fail_msg("codes %d and %d share '%s'", i, j,
				    msg[-i]);
	}
}

static void
test_named_codes(void **state)
{
	/* Spot checks that the table is not shifted by one. */
	assert_true(contains_nocase(nkhsm_strerror(NKHSM_ERR_NOMEM), "memory"));
	assert_true(contains_nocase(nkhsm_strerror(NKHSM_ERR_URI), "URI"));
	assert_true(contains_nocase(nkhsm_strerror(NKHSM_ERR_PIN_INCORRECT),
	    "PIN"));
	assert_true(contains_nocase(nkhsm_strerror(NKHSM_ERR_PIN_LOCKED),
	    "lock"));
	assert_true(contains_nocase(nkhsm_strerror(NKHSM_ERR_TIMEOUT),
	    "time"));
	assert_true(contains_nocase(nkhsm_strerror(NKHSM_ERR_CONFIG),
	    "config"));
	assert_true(contains_nocase(nkhsm_strerror(NKHSM_ERR_SIGNATURE),
	    "signature"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_every_code),
		cmocka_unit_test(test_named_codes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
