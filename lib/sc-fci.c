/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sc-fci.c - the SmartCard-HSM's answer to SELECT of its applet: a file
 * control template (tag 62, or 6F) holding the proprietary tag 85, whose
 * last two bytes are the firmware version. OpenSC takes a card without that
 * tag for another card that merely knows the AID; so does nkhsm.
 */
#include "config.h"

#include "nk-int.h"
#include "schsm.h"

#define FCP_TAG		0x62
#define FCI_TAG		0x6F
#define PROP_TAG	0x85

int
nk_sc_fci_parse(const uint8_t *d, size_t len, struct nk_sc_fci *fci)
{
	const uint8_t *v, *p;
	struct nk_buf b;
	size_t vlen, plen;
	uint32_t tag;
	int r;

	fci->major = fci->minor = 0;
	nk_buf_from(&b, d, len);
	if ((r = nk_tlv_get(&b, &tag, &v, &vlen)) != 0)
		return r;
	if ((tag != FCP_TAG && tag != FCI_TAG) || nk_buf_avail(&b) != 0)
		return NKHSM_ERR_FORMAT;
	if ((r = nk_tlv_find(v, vlen, PROP_TAG, &p, &plen)) != 0)
		return NKHSM_ERR_FORMAT;
	if (plen < 2)
		return NKHSM_ERR_FORMAT;
	fci->major = p[plen - 2];
	fci->minor = p[plen - 1];
	return 0;
}
