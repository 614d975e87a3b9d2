/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tlv.c - BER-TLV as smart cards write it (ISO 7816-4, X.509's DER), read
 * through the bounded buffer. Tags of up to three bytes are returned as
 * their bytes (0x7F21, 0x5F20, 0x30); lengths must be definite, minimal
 * and at most three bytes long, and must fit in what is left.
 */
#include "config.h"

#include "nk-int.h"
#include "schsm.h"

#define TAG_BYTES_MAX	3

static int
get_tag(struct nk_buf *b, uint32_t *tagp)
{
	uint8_t c;
	uint32_t tag;
	int i, r;

	if ((r = nk_buf_get_u8(b, &c)) != 0)
		return r;
	tag = c;
	if ((c & 0x1f) != 0x1f) {
		*tagp = tag;
		return 0;
	}
	/* Subsequent bytes while bit 8 is set; the first may not be 0x80. */
	for (i = 1; i < TAG_BYTES_MAX; i++) {
		if ((r = nk_buf_get_u8(b, &c)) != 0)
			return r;
		if (i == 1 && c == 0x80)
			return NKHSM_ERR_FORMAT;
		tag = tag << 8 | c;
		if ((c & 0x80) == 0) {
			*tagp = tag;
			return 0;
		}
	}
	return NKHSM_ERR_FORMAT;
}

static int
get_len(struct nk_buf *b, size_t *lenp)
{
	uint8_t c, n, i;
	size_t len = 0;
	int r;

	if ((r = nk_buf_get_u8(b, &c)) != 0)
		return r;
	if (c < 0x80) {
		*lenp = c;
		return 0;
	}
	n = c & 0x7f;
	if (n == 0 || n > 3)
		return NKHSM_ERR_FORMAT;	/* indefinite, or too long */
	for (i = 0; i < n; i++) {
		if ((r = nk_buf_get_u8(b, &c)) != 0)
			return r;
		if (i == 0 && c == 0)
			return NKHSM_ERR_FORMAT;	/* not minimal */
		len = len << 8 | c;
	}
	if (n == 1 && len < 0x80)
		return NKHSM_ERR_FORMAT;
	*lenp = len;
	return 0;
}

int
nk_tlv_get(struct nk_buf *b, uint32_t *tagp, const uint8_t **vp,
    size_t *lenp)
{
	size_t off = b->off, len;
	uint32_t tag;
	int r;

	*tagp = 0;
	*vp = NULL;
	*lenp = 0;
	if ((r = get_tag(b, &tag)) != 0 || (r = get_len(b, &len)) != 0)
		goto fail;
	if (len > nk_buf_avail(b)) {
		r = NKHSM_ERR_FORMAT;
		goto fail;
	}
	*vp = nk_buf_ptr(b);
	(void)nk_buf_get(b, NULL, len);
	*tagp = tag;
	*lenp = len;
	return 0;
 fail:
	b->off = off;
	return r == NKHSM_ERR_FORMAT ? r : NKHSM_ERR_FORMAT;
}

int
nk_tlv_find(const uint8_t *d, size_t len, uint32_t tag, const uint8_t **vp,
    size_t *lenp)
{
	struct nk_buf b;
	const uint8_t *v;
	uint32_t t;
	size_t vlen;
	int r;

	*vp = NULL;
	*lenp = 0;
	nk_buf_from(&b, d, len);
	while (nk_buf_avail(&b) > 0) {
		if ((r = nk_tlv_get(&b, &t, &v, &vlen)) != 0)
			return r;
		if (t == tag) {
			*vp = v;
			*lenp = vlen;
			return 0;
		}
	}
	return NKHSM_ERR_NO_KEY;
}
