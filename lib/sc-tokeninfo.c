/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sc-tokeninfo.c - the token label and manufacturer from EF.TokenInfo (2F03),
 * a PKCS#15 TokenInfo: SEQUENCE { version, serialNumber, manufacturerID
 * UTF8String OPTIONAL, label [0] OPTIONAL, ... }. Both are shown to users and
 * put in logs and session records, so only printable text is accepted:
 * ASCII 0x20-0x7e and well-formed UTF-8 sequences, no control characters.
 */
#include "config.h"

#include <string.h>

#include "nk-int.h"
#include "schsm.h"

#define TAG_SEQ		0x30
#define TAG_LABEL	0x80	/* [0] IMPLICIT Label */
#define TAG_MANUFACTURER 0x0C	/* UTF8String */

int
nk_sc_text_ok(const uint8_t *s, size_t len)
{
	size_t i = 0, n, k;

	while (i < len) {
		if (s[i] >= 0x20 && s[i] < 0x7f) {
			i++;
			continue;
		}
		if (s[i] >= 0xc2 && s[i] <= 0xdf)
			n = 1;
		else if (s[i] >= 0xe0 && s[i] <= 0xef)
			n = 2;
		else if (s[i] >= 0xf0 && s[i] <= 0xf4)
			n = 3;
		else
			return 0;
		if (n >= len - i)
			return 0;	/* cut short */
		if (s[i] == 0xc2 && s[i + 1] < 0xa0)
			return 0;	/* U+0080..U+009F */
		for (k = 1; k <= n; k++)
			if ((s[i + k] & 0xc0) != 0x80)
				return 0;
		i += n + 1;
	}
	return 1;
}

/* One optional text element of the TokenInfo: "" when absent. */
static int
text_field(const uint8_t *d, size_t len, uint32_t tag, char *out)
{
	const uint8_t *v;
	size_t vlen;
	int r;

	out[0] = '\0';
	if ((r = nk_tlv_find(d, len, tag, &v, &vlen)) != 0)
		return r == NKHSM_ERR_NO_KEY ? 0 : r;
	if (vlen == 0)
		return 0;	/* empty: as if absent */
	if (vlen > NK_SC_LABEL_MAX || !nk_sc_text_ok(v, vlen))
		return NKHSM_ERR_FORMAT;
	memcpy(out, v, vlen);
	out[vlen] = '\0';
	return 0;
}

int
nk_sc_tokeninfo_parse(const uint8_t *d, size_t len, char *label,
    char *manufacturer)
{
	const uint8_t *v;
	size_t vlen;
	struct nk_buf b;
	uint32_t tag;
	int r;

	label[0] = manufacturer[0] = '\0';
	nk_buf_from(&b, d, len);
	if ((r = nk_tlv_get(&b, &tag, &v, &vlen)) != 0)
		return r;
	if (tag != TAG_SEQ)
		return NKHSM_ERR_FORMAT;
	if ((r = text_field(v, vlen, TAG_LABEL, label)) != 0 ||
	    (r = text_field(v, vlen, TAG_MANUFACTURER, manufacturer)) != 0) {
		label[0] = manufacturer[0] = '\0';
		return r;
	}
	return 0;
}
