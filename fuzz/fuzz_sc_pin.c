/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_sc_pin.c - VERIFY's status word (lib/sc-pin.c), each two input bytes
 * one word: a count of tries is 0-15 and only comes with a refusal, a
 * locked PIN has 0, and anything unknown is an error with no count.
 */
#include "config.h"

#include <stdlib.h>

#include "nk-int.h"
#include "schsm.h"
#include "fuzz.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t i;
	int r, tries;

	for (i = 0; i + 1 < size; i += 2) {
		r = nk_sc_pin_parse((uint16_t)(data[i] << 8 | data[i + 1]), &tries);
		switch (r) {
		case 0:
		case NKHSM_ERR_FORMAT:
			if (tries != -1)
				abort();
			break;
		case NKHSM_ERR_PIN_INCORRECT:
			if (tries < 1 || tries > 15)
				abort();
			break;
		case NKHSM_ERR_PIN_LOCKED:
			if (tries != 0)
				abort();
			break;
		default:
			abort();
		}
	}
	return 0;
}
