/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_sc_devcert.c - the card's names (lib/sc-devcert.c, sc-tokeninfo.c):
 * the input as EF.C_DevAut and as EF.TokenInfo. A serial is letters and
 * digits that stand in the input; a label or manufacturer is printable text
 * that stands in the input, and both are empty when the parse fails.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "nk-int.h"
#include "schsm.h"
#include "fuzz.h"

#define FUZZ_DEVCERT_INPUT_MAX	(16 * 1024)

/* The text stands in the input. */
static int
within(const uint8_t *h, size_t hl, const char *s)
{
	return memmem(h, hl, s, strlen(s)) != NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char serial[NK_SC_SERIAL_MAX + 1], label[NK_SC_LABEL_MAX + 1],
	    manuf[NK_SC_LABEL_MAX + 1];

	if (size > FUZZ_DEVCERT_INPUT_MAX)
		return 0;
	if (nk_sc_devcert_serial(data, size, serial) == 0) {
		if (!nk_sc_serial_ok((const uint8_t *)serial, strlen(serial)) ||
		    strlen(serial) > NK_SC_SERIAL_MAX - 5 ||
		    !within(data, size, serial))
			abort();
	} else if (serial[0] != '\0')
		abort();
	if (nk_sc_tokeninfo_parse(data, size, label, manuf) == 0) {
		if ((label[0] != '\0' && (!nk_sc_text_ok((const uint8_t *)label,
		    strlen(label)) || !within(data, size, label))) ||
		    (manuf[0] != '\0' && (!nk_sc_text_ok((const uint8_t *)manuf,
		    strlen(manuf)) || !within(data, size, manuf))))
			abort();
	} else if (label[0] != '\0' || manuf[0] != '\0')
		abort();
	return 0;
}
