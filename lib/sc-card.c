/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sc-card.c - the SmartCard-HSM commands a login needs, one APDU each:
 *
 *	SELECT		00 A4 04 00 0B <AID> 00
 *	PIN status	00 20 00 81			(63 Cx: x tries left)
 *	VERIFY		00 20 00 81 <len> <PIN>
 *	CHANGE PIN	00 24 00 81 <len> <old PIN> <new PIN>
 *	READ BINARY	00 B1 <FID> 00 0004 54 02 0000 2000	(the whole file)
 *	ENUMERATE	80 58 00 00 00 2000
 *	SIGN		80 68 <key ref> 70 <len> <hash> 00	(ECDSA, DER answer)
 *
 * Files are read whole with one extended-length command; a reader or card
 * that cannot do that fails here, and the caller takes the PKCS#11 path.
 * Answers go to the pure parsers in sc-*.c.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "nk-int.h"
#include "buf.h"
#include "schsm.h"
#include "pcsc-int.h"

#define SW_OK			0x9000
#define SW_EOF			0x6282	/* end of file before Le: all there is */
#define SW_NOT_FOUND		0x6A82
#define SW_REF_NOT_FOUND	0x6A88
#define SW_SECURITY		0x6982
#define RX_SHORT		(256 + 2)

/* Build a command in a buffer of its own, send it, wipe it (PINs). */
static int
send_cmd(struct nk_card *c, struct nk_buf *cmd, uint8_t *resp, size_t cap,
    size_t *rlenp, uint16_t *swp)
{
	int r;

	r = nk_card_apdu(c, nk_buf_ptr(cmd), nk_buf_avail(cmd), resp, cap,
	    rlenp, swp);
	nk_buf_free(cmd);
	return r;
}

int
nk_sc_select(struct nk_card *c, struct nk_sc_fci *fci)
{
	static const uint8_t hdr[] = { 0x00, 0xA4, 0x04, 0x00, NK_SC_AID_LEN };
	uint8_t resp[RX_SHORT];
	struct nk_buf cmd;
	size_t rlen;
	uint16_t sw;
	int r;

	nk_buf_init(&cmd);
	if ((r = nk_buf_put(&cmd, hdr, sizeof(hdr))) != 0 ||
	    (r = nk_buf_put(&cmd, NK_SC_AID, NK_SC_AID_LEN)) != 0 ||
	    (r = nk_buf_put_u8(&cmd, 0x00)) != 0) {
		nk_buf_free(&cmd);
		return r;
	}
	if ((r = send_cmd(c, &cmd, resp, sizeof(resp), &rlen, &sw)) != 0)
		return r;
	if (sw != SW_OK)
		return NKHSM_ERR_FORMAT;	/* not a SmartCard-HSM */
	return nk_sc_fci_parse(resp, rlen, fci);
}

int
nk_sc_pin_status(struct nk_card *c, int *triesp)
{
	static const uint8_t cmd[] = { 0x00, 0x20, 0x00, 0x81 };
	uint8_t resp[RX_SHORT];
	size_t rlen;
	uint16_t sw;
	int r;

	*triesp = -1;
	if ((r = nk_card_apdu(c, cmd, sizeof(cmd), resp, sizeof(resp), &rlen,
	    &sw)) != 0)
		return r;
	if (rlen != 0)
		return NKHSM_ERR_FORMAT;
	r = nk_sc_pin_parse(sw, triesp);
	/* Without a PIN, "incorrect" only means "not verified yet". */
	return r == NKHSM_ERR_PIN_INCORRECT || r == NKHSM_ERR_PIN_LOCKED ? 0 : r;
}

/* VERIFY or CHANGE REFERENCE DATA with the PINs in its data field. */
static int
pin_cmd(struct nk_card *c, uint8_t ins, const char *p1, size_t l1,
    const char *p2, size_t l2, int *triesp)
{
	uint8_t resp[RX_SHORT];
	struct nk_buf cmd;
	size_t rlen;
	uint16_t sw;
	int r;

	*triesp = -1;
	if (l1 == 0 || l1 > NKHSM_PIN_MAX || l2 > NKHSM_PIN_MAX ||
	    l1 + l2 > 255)
		return NKHSM_ERR_PIN_LEN;
	nk_buf_init(&cmd);
	if ((r = nk_buf_put_u8(&cmd, 0x00)) != 0 ||
	    (r = nk_buf_put_u8(&cmd, ins)) != 0 ||
	    (r = nk_buf_put_u8(&cmd, 0x00)) != 0 ||
	    (r = nk_buf_put_u8(&cmd, 0x81)) != 0 ||
	    (r = nk_buf_put_u8(&cmd, (uint8_t)(l1 + l2))) != 0 ||
	    (r = nk_buf_put(&cmd, p1, l1)) != 0 ||
	    (l2 > 0 && (r = nk_buf_put(&cmd, p2, l2)) != 0)) {
		nk_buf_free(&cmd);
		return r;
	}
	if ((r = send_cmd(c, &cmd, resp, sizeof(resp), &rlen, &sw)) != 0)
		return r;
	if (rlen != 0)
		return NKHSM_ERR_FORMAT;
	return nk_sc_pin_parse(sw, triesp);
}

int
nk_sc_verify(struct nk_card *c, const char *pin, size_t len, int *triesp)
{
	return pin_cmd(c, 0x20, pin, len, NULL, 0, triesp);
}

int
nk_sc_change_pin(struct nk_card *c, const char *oldpin, size_t oldlen,
    const char *newpin, size_t newlen, int *triesp)
{
	if (newlen == 0)
		return NKHSM_ERR_PIN_LEN;
	return pin_cmd(c, 0x24, oldpin, oldlen, newpin, newlen, triesp);
}

int
nk_sc_read(struct nk_card *c, uint16_t fid, uint8_t *buf, size_t cap,
    size_t *lenp)
{
	uint8_t cmd[] = {
		0x00, 0xB1, 0x00, 0x00, 0x00, 0x00, 0x04,	/* ext. Lc 4 */
		0x54, 0x02, 0x00, 0x00,				/* offset 0 */
		(NK_SC_FILE_MAX >> 8) & 0xff, NK_SC_FILE_MAX & 0xff,	/* Le */
	};
	size_t rlen;
	uint16_t sw;
	int r;

	*lenp = 0;
	cmd[2] = (uint8_t)(fid >> 8);
	cmd[3] = (uint8_t)fid;
	if ((r = nk_card_apdu(c, cmd, sizeof(cmd), buf, cap, &rlen, &sw)) != 0)
		return r;
	switch (sw) {
	case SW_OK:
	case SW_EOF:
		*lenp = rlen;
		return rlen > 0 ? 0 : NKHSM_ERR_NO_KEY;
	case SW_NOT_FOUND:
		return NKHSM_ERR_NO_KEY;
	case SW_SECURITY:
		return NKHSM_ERR_PERMISSION;
	default:
		return NKHSM_ERR_FORMAT;
	}
}

int
nk_sc_list_keys(struct nk_card *c, uint8_t *refs, size_t *np)
{
	static const uint8_t cmd[] = {
		0x80, 0x58, 0x00, 0x00, 0x00,
		(NK_SC_FILE_MAX >> 8) & 0xff, NK_SC_FILE_MAX & 0xff,
	};
	uint8_t *resp;
	size_t rlen;
	uint16_t sw;
	int r;

	*np = 0;
	if ((resp = malloc(NK_SC_FILE_MAX)) == NULL)
		return NKHSM_ERR_NOMEM;
	if ((r = nk_card_apdu(c, cmd, sizeof(cmd), resp, NK_SC_FILE_MAX,
	    &rlen, &sw)) == 0)
		r = sw == SW_OK ? nk_sc_objlist_parse(resp, rlen, refs, np) :
		    NKHSM_ERR_FORMAT;
	free(resp);
	return r;
}

int
nk_sc_sign(struct nk_card *c, uint8_t ref, nkhsm_curve_t curve,
    const uint8_t *dgst, size_t dlen, uint8_t *raw, size_t *rawlenp)
{
	uint8_t resp[RX_SHORT];
	struct nk_buf cmd;
	size_t rlen;
	uint16_t sw;
	int r;

	*rawlenp = 0;
	if (dlen == 0 || dlen > NK_MAX_DIGEST)
		return NKHSM_ERR_INVALID_ARGUMENT;
	nk_buf_init(&cmd);
	if ((r = nk_buf_put_u8(&cmd, 0x80)) != 0 ||
	    (r = nk_buf_put_u8(&cmd, 0x68)) != 0 ||
	    (r = nk_buf_put_u8(&cmd, ref)) != 0 ||
	    (r = nk_buf_put_u8(&cmd, NK_SC_ALGO_EC_RAW)) != 0 ||
	    (r = nk_buf_put_u8(&cmd, (uint8_t)dlen)) != 0 ||
	    (r = nk_buf_put(&cmd, dgst, dlen)) != 0 ||
	    (r = nk_buf_put_u8(&cmd, 0x00)) != 0) {
		nk_buf_free(&cmd);
		return r;
	}
	if ((r = send_cmd(c, &cmd, resp, sizeof(resp), &rlen, &sw)) != 0)
		return r;
	switch (sw) {
	case SW_OK:
		return nk_sc_sig_parse(curve, resp, rlen, raw, rawlenp);
	case SW_SECURITY:
		return NKHSM_ERR_NOT_LOGGED_IN;
	case SW_NOT_FOUND:
	case SW_REF_NOT_FOUND:
		return NKHSM_ERR_NO_KEY;
	default:
		return NKHSM_ERR_FORMAT;
	}
}
