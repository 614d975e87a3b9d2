/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sc-pin.c - what VERIFY's status word says about the user PIN. Without a
 * PIN, 63 Cx is "not verified, x tries left" and 90 00 "verified"; with a
 * PIN, 63 Cx is "wrong, x left". 69 83 (and 63 C0) is a blocked PIN. The
 * exact count is what PKCS#11 can only hint at with its flags.
 */
#include "config.h"

#include "nk-int.h"
#include "schsm.h"

#define SW_OK		0x9000
#define SW_BLOCKED	0x6983

int
nk_sc_pin_parse(uint16_t sw, int *triesp)
{
	*triesp = -1;
	if (sw == SW_OK)
		return 0;
	if (sw == SW_BLOCKED || sw == 0x63C0) {
		*triesp = 0;
		return NKHSM_ERR_PIN_LOCKED;
	}
	if ((sw & 0xFFF0) == 0x63C0) {
		*triesp = sw & 0x0F;
		return NKHSM_ERR_PIN_INCORRECT;
	}
	return NKHSM_ERR_FORMAT;
}
