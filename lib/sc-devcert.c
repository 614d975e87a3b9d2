/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sc-devcert.c - the card's serial number, from its device certificate in
 * EF.C_DevAut (2F02): the first CV certificate there (or, on some firmware,
 * an authenticated request 67 around it) has a holder reference 5F20 of a
 * country code, a name and a 5-digit sequence number. OpenSC reports the
 * holder reference without the sequence number as the token serial
 * ("DENK0100123"); nkhsm reports the same, so that session records and
 * serial= URIs mean one card whichever path read them.
 */
#include "config.h"

#include <string.h>

#include "nk-int.h"
#include "schsm.h"

#define TAG_AUTHREQ	0x67
#define TAG_CVC		0x7F21
#define TAG_BODY	0x7F4E
#define TAG_CHR		0x5F20
#define CHR_MIN		8
#define SEQ_DIGITS	5

int
nk_sc_serial_ok(const uint8_t *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') ||
		    (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' && s[i] <= 'z')))
			return 0;
	return len > 0;
}

int
nk_sc_devcert_serial(const uint8_t *d, size_t len, char *serial)
{
	const uint8_t *v, *body, *chr;
	size_t vlen, blen, clen;
	struct nk_buf b;
	uint32_t tag;
	int r;

	serial[0] = '\0';
	/* The file holds more than one certificate: only the first counts. */
	nk_buf_from(&b, d, len);
	if ((r = nk_tlv_get(&b, &tag, &v, &vlen)) != 0)
		return r;
	if (tag == TAG_AUTHREQ) {
		nk_buf_from(&b, v, vlen);
		if ((r = nk_tlv_get(&b, &tag, &v, &vlen)) != 0)
			return r;
	}
	if (tag != TAG_CVC ||
	    nk_tlv_find(v, vlen, TAG_BODY, &body, &blen) != 0 ||
	    nk_tlv_find(body, blen, TAG_CHR, &chr, &clen) != 0)
		return NKHSM_ERR_FORMAT;
	if (clen < CHR_MIN || clen > NK_SC_SERIAL_MAX)
		return NKHSM_ERR_FORMAT;
	if (!nk_sc_serial_ok(chr, clen))
		return NKHSM_ERR_FORMAT;
	memcpy(serial, chr, clen - SEQ_DIGITS);
	serial[clen - SEQ_DIGITS] = '\0';
	return 0;
}
