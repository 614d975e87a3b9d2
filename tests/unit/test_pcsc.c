/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_pcsc.c - libnkhsm's PC/SC path (lib/pcsc*.c, sc-card.c) against a
 * scripted SmartCard-HSM behind the SCard function table (the seam in
 * lib/pcsc-int.h): the commands of a login and their count, the card hints
 * (used, confirmed, dropped when stale, ignored when unsafe), wrong PINs
 * and a lock, other cards, the reader API, and a fault - the card gone, an
 * error, garbage - at every command of a login: never a signature that
 * verifies, and the card never left logged in.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>

#include "nk-int.h"
#include "schsm.h"
#include "pcsc-int.h"

#define PIN		"648219"
#define READER		"Fake Reader 00 00"
#define KEYS		4

static const uint8_t schsm_atr[] = {
	0x3B, 0xFE, 0x18, 0x00, 0x00, 0x81, 0x31, 0xFE, 0x45, 0x80, 0x31, 0x81,
	0x54, 0x48, 0x53, 0x4D, 0x31, 0x73, 0x80, 0x21, 0x40, 0x81, 0x07, 0xFA,
};
static const uint8_t other_atr[] = { 0x3B, 0x02, 0x14, 0x50 };
/* What the emulated card answers to SELECT, and its EF.TokenInfo. */
static const uint8_t fci[] = {
	0x62, 0x0C, 0x82, 0x01, 0x01, 0x85, 0x05, 0x00, 0x01, 0xFF, 0x06, 0x06,
	0x8A, 0x01,
};
static const uint8_t tokeninfo[] = {
	0x30, 0x1A, 0x02, 0x01, 0x06, 0x0C, 0x08, 'S', 'o', 'm', 'e', ' ', 'O',
	'n', 'e', 0x80, 0x08, 'F', 'a', 'k', 'e', '-', 'H', 'S', 'M', 0x03, 0x02,
	0x04, 0x30,
};
/* A device certificate: CV certificate whose CHR is FAKE00000 + 00001. */
static uint8_t devcert[] = {
	0x7F, 0x21, 0x16, 0x7F, 0x4E, 0x13, 0x5F, 0x20, 0x10, 'F', 'A', 'K',
	'E', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0', '1',
};
#define NITROKEY_READER	"Nitrokey Nitrokey HSM (010000000000000000000000) 00 00"

/* REMOVE: gone from then on; ERROR: the command never reaches the card;
 * LOST: it does, and its answer is lost; GARBAGE: 6F 00 instead. */
enum fault { F_NONE, F_REMOVE, F_ERROR, F_LOST, F_GARBAGE };

static struct fake {
	int		 present, other, selected, auth, tries;
	char		 pin[32];
	int		 in_txn, resets, leaves, connects;
	unsigned long	 napdu;
	unsigned long	 fail_at;
	enum fault	 fault;
	int		 gone;
	const char	*reader;
	EVP_PKEY	*key[KEYS + 1];		/* by key reference 1..KEYS */
	uint8_t		 ce[KEYS + 1][1024];	/* the public key files */
	size_t		 celen[KEYS + 1];
	char		 log[64][16];		/* the first bytes of each command */
} fk;

static char tmpdir[64];

/* TLV encoding, enough for a CV request. */
static size_t
tlv(uint8_t *out, uint32_t tag, const uint8_t *v, size_t len)
{
	size_t n = 0;

	if (tag > 0xFF)
		out[n++] = (uint8_t)(tag >> 8);
	out[n++] = (uint8_t)tag;
	if (len < 0x80)
		out[n++] = (uint8_t)len;
	else if (len < 0x100) {
		out[n++] = 0x81;
		out[n++] = (uint8_t)len;
	} else {
		out[n++] = 0x82;
		out[n++] = (uint8_t)(len >> 8);
		out[n++] = (uint8_t)len;
	}
	memmove(out + n, v, len);
	return n + len;
}

/* The card's request for a key: 67 { 7F21 { 7F4E { 7F49 { 81 p, 86 Q } } } }. */
static size_t
cv_request(EVP_PKEY *k, uint8_t *out)
{
	uint8_t pk[400], body[500], cvc[600], prime[80], sig[64];
	nkhsm_point_t pt;
	BIGNUM *p = NULL;
	size_t n, plen;

	assert_int_equal(EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_P, &p), 1);
	plen = (size_t)BN_num_bytes(p);
	BN_bn2bin(p, prime);
	BN_free(p);
	assert_int_equal(nkhsm_point_from_pkey(k, &pt), 0);
	n = tlv(pk, 0x06, (const uint8_t *)"\x04\x00\x7F\x00\x07\x02\x02\x02\x02\x03", 10);
	n += tlv(pk + n, 0x81, prime, plen);
	n += tlv(pk + n, 0x86, pt.pt, pt.len);
	n = tlv(body, 0x7F49, pk, n);
	n += tlv(body + n, 0x5F20, (const uint8_t *)"FAKE000000000001", 16);
	n = tlv(cvc, 0x7F4E, body, n);
	memset(sig, 0x5A, sizeof(sig));
	n += tlv(cvc + n, 0x5F37, sig, sizeof(sig));
	n = tlv(body, 0x7F21, cvc, n);
	n += tlv(body + n, 0x42, (const uint8_t *)"FAKE000000000001", 16);
	n += tlv(body + n, 0x5F37, sig, sizeof(sig));
	return tlv(out, 0x67, body, n);
}

static void
fake_key(int ref, int nid)
{
	fk.key[ref] = EVP_EC_gen(OBJ_nid2sn(nid));
	assert_non_null(fk.key[ref]);
	fk.celen[ref] = cv_request(fk.key[ref], fk.ce[ref]);
}

static void
point_of(int ref, nkhsm_point_t *pt)
{
	assert_int_equal(nkhsm_point_from_pkey(fk.key[ref], pt), 0);
}

/* An answer: data then status word. */
static LONG
answer(LPBYTE resp, LPDWORD rlen, const uint8_t *d, size_t len, uint16_t sw)
{
	if (len + 2 > *rlen)
		return SCARD_E_INSUFFICIENT_BUFFER;
	if (len > 0)
		memcpy(resp, d, len);
	resp[len] = (uint8_t)(sw >> 8);
	resp[len + 1] = (uint8_t)sw;
	*rlen = (DWORD)(len + 2);
	return SCARD_S_SUCCESS;
}

static LONG
do_sign(const uint8_t *cmd, DWORD len, LPBYTE resp, LPDWORD rlen)
{
	uint8_t der[200];
	size_t n = sizeof(der);
	EVP_PKEY_CTX *ctx;
	int ref = cmd[2];

	if (!fk.auth)
		return answer(resp, rlen, NULL, 0, 0x6982);
	if (ref < 1 || ref > KEYS || fk.key[ref] == NULL || len < 6)
		return answer(resp, rlen, NULL, 0, 0x6A82);
	/* ECDSA over the hash as sent: DER, as the card answers. */
	assert_non_null(ctx = EVP_PKEY_CTX_new(fk.key[ref], NULL));
	assert_int_equal(EVP_PKEY_sign_init(ctx), 1);
	assert_int_equal(EVP_PKEY_sign(ctx, der, &n, cmd + 5, cmd[4]), 1);
	EVP_PKEY_CTX_free(ctx);
	return answer(resp, rlen, der, n, 0x9000);
}

static LONG
do_verify(const uint8_t *cmd, DWORD len, LPBYTE resp, LPDWORD rlen)
{
	if (!fk.selected)
		return answer(resp, rlen, NULL, 0, 0x6A82);
	if (len == 4) {
		if (fk.auth)
			return answer(resp, rlen, NULL, 0, 0x9000);
		return answer(resp, rlen, NULL, 0, fk.tries == 0 ? 0x6983 :
		    (uint16_t)(0x63C0 | fk.tries));
	}
	if (fk.tries == 0)
		return answer(resp, rlen, NULL, 0, 0x6983);
	if (cmd[4] == strlen(fk.pin) && memcmp(cmd + 5, fk.pin, cmd[4]) == 0) {
		fk.auth = 1;
		fk.tries = 3;
		return answer(resp, rlen, NULL, 0, 0x9000);
	}
	fk.auth = 0;
	if (--fk.tries == 0)
		return answer(resp, rlen, NULL, 0, 0x6983);
	return answer(resp, rlen, NULL, 0, (uint16_t)(0x63C0 | fk.tries));
}

static LONG
do_read(const uint8_t *cmd, LPBYTE resp, LPDWORD rlen)
{
	uint16_t fid = (uint16_t)(cmd[2] << 8 | cmd[3]);
	int ref = cmd[3];

	if (fid == NK_SC_EF_DEVAUT)
		return answer(resp, rlen, devcert, sizeof(devcert), 0x9000);
	if (fid == NK_SC_EF_TOKENINFO)
		return answer(resp, rlen, tokeninfo, sizeof(tokeninfo), 0x9000);
	if (cmd[2] == NK_SC_CERT_PREFIX && ref >= 1 && ref <= KEYS &&
	    fk.celen[ref] > 0)
		return answer(resp, rlen, fk.ce[ref], fk.celen[ref], 0x9000);
	return answer(resp, rlen, NULL, 0, 0x6A82);
}

static LONG
do_list(LPBYTE resp, LPDWORD rlen)
{
	uint8_t d[4 + 4 * KEYS];
	size_t n = 0;
	int i;

	d[n++] = 0xCC;
	d[n++] = 0x00;
	for (i = 1; i <= KEYS; i++) {
		if (fk.key[i] == NULL)
			continue;
		d[n++] = 0xCC;
		d[n++] = (uint8_t)i;
		d[n++] = 0xC4;
		d[n++] = (uint8_t)i;
	}
	return answer(resp, rlen, d, n, 0x9000);
}

static LONG
card(const uint8_t *cmd, DWORD len, LPBYTE resp, LPDWORD rlen)
{
	if (len < 4)
		return answer(resp, rlen, NULL, 0, 0x6700);
	if (cmd[1] == 0xA4) {
		if (fk.other || len < 16 ||
		    memcmp(cmd + 5, NK_SC_AID, NK_SC_AID_LEN) != 0)
			return answer(resp, rlen, NULL, 0, 0x6A82);
		fk.selected = 1;
		fk.auth = 0;	/* the applet starts over */
		return answer(resp, rlen, fci, sizeof(fci), 0x9000);
	}
	if (!fk.selected)
		return answer(resp, rlen, NULL, 0, 0x6A82);
	switch (cmd[1]) {
	case 0x20:
		return do_verify(cmd, len, resp, rlen);
	case 0xB1:
		return do_read(cmd, resp, rlen);
	case 0x58:
		return do_list(resp, rlen);
	case 0x68:
		return do_sign(cmd, len, resp, rlen);
	default:
		return answer(resp, rlen, NULL, 0, 0x6D00);
	}
}

static LONG
f_transmit(SCARDHANDLE h, const SCARD_IO_REQUEST *pci, LPCBYTE cmd, DWORD len,
    SCARD_IO_REQUEST *rpci, LPBYTE resp, LPDWORD rlen)
{
	if (fk.napdu < 64)
		snprintf(fk.log[fk.napdu], sizeof(fk.log[0]), "%02X %02X",
		    cmd[0], cmd[1]);
	fk.napdu++;
	if (fk.gone || !fk.present)
		return SCARD_W_REMOVED_CARD;
	if (!fk.in_txn)
		fail_msg("a command outside a transaction");
	if (fk.napdu == fk.fail_at) {
		switch (fk.fault) {
		case F_REMOVE:
			fk.gone = 1;
			return SCARD_W_REMOVED_CARD;
		case F_ERROR:
			return SCARD_F_COMM_ERROR;
		case F_LOST:
			(void)card(cmd, len, resp, rlen);
			return SCARD_F_COMM_ERROR;
		case F_GARBAGE:
			return answer(resp, rlen, (const uint8_t *)"\x6F", 1, 0x6F00);
		default:
			break;
		}
	}
	return card(cmd, len, resp, rlen);
}

static LONG
f_establish(DWORD s, LPCVOID a, LPCVOID b, LPSCARDCONTEXT c)
{
	*c = 1;
	return SCARD_S_SUCCESS;
}

static LONG
f_release(SCARDCONTEXT c)
{
	return SCARD_S_SUCCESS;
}

static LONG
f_list(SCARDCONTEXT c, LPCSTR g, LPSTR out, LPDWORD len)
{
	size_t n = strlen(fk.reader) + 2;	/* the name, two NULs */

	if (*len < n)
		return SCARD_E_INSUFFICIENT_BUFFER;
	memcpy(out, fk.reader, n - 1);
	out[n - 1] = '\0';
	*len = (DWORD)n;
	return SCARD_S_SUCCESS;
}

static LONG
f_status(SCARDCONTEXT c, DWORD t, SCARD_READERSTATE *rs, DWORD n)
{
	DWORD i;

	for (i = 0; i < n; i++) {
		if (strcmp(rs[i].szReader, fk.reader) != 0)
			continue;
		rs[i].dwEventState = fk.present ? SCARD_STATE_PRESENT :
		    SCARD_STATE_EMPTY;
		rs[i].cbAtr = 0;
		if (fk.present) {
			const uint8_t *atr = fk.other ? other_atr : schsm_atr;
			size_t alen = fk.other ? sizeof(other_atr) :
			    sizeof(schsm_atr);

			memcpy(rs[i].rgbAtr, atr, alen);
			rs[i].cbAtr = (DWORD)alen;
		}
	}
	return SCARD_S_SUCCESS;
}

static LONG
f_cancel(SCARDCONTEXT c)
{
	return SCARD_S_SUCCESS;
}

static LONG
f_connect(SCARDCONTEXT c, LPCSTR r, DWORD share, DWORD proto, LPSCARDHANDLE h,
    LPDWORD active)
{
	if (!fk.present || fk.gone)
		return SCARD_E_NO_SMARTCARD;
	fk.connects++;
	*h = 7;
	*active = SCARD_PROTOCOL_T1;
	return SCARD_S_SUCCESS;
}

/* What a disposition does to the card: a reset ends any login. */
static void
dispose(DWORD how)
{
	if (how == SCARD_RESET_CARD) {
		fk.resets++;
		fk.auth = fk.selected = 0;
	} else
		fk.leaves++;
}

static LONG
f_disconnect(SCARDHANDLE h, DWORD how)
{
	dispose(how);
	return SCARD_S_SUCCESS;
}

static LONG
f_begin(SCARDHANDLE h)
{
	if (fk.gone)
		return SCARD_W_REMOVED_CARD;
	fk.in_txn = 1;
	return SCARD_S_SUCCESS;
}

static LONG
f_end(SCARDHANDLE h, DWORD how)
{
	fk.in_txn = 0;
	dispose(how);
	return SCARD_S_SUCCESS;
}

static const struct nk_scard_ops fake_ops = {
	f_establish, f_release, f_list, f_status, f_cancel, f_connect,
	f_disconnect, f_begin, f_end, f_transmit,
};

static void
reset_card(void)
{
	int i;

	for (i = 0; i <= KEYS; i++)
		EVP_PKEY_free(fk.key[i]);
	memset(&fk, 0, sizeof(fk));
	fk.present = 1;
	fk.tries = 3;
	fk.reader = READER;
	strcpy(fk.pin, PIN);
	memcpy(devcert + 9, "FAKE", 4);
}

static int
setup(void **state)
{
	reset_card();
	fake_key(1, NID_X9_62_prime256v1);
	fake_key(2, NID_secp384r1);
	nk_scard_set_ops(&fake_ops);
	strcpy(tmpdir, "/tmp/nkhsm-test-pcsc.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	return 0;
}

static int
teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	assert_int_equal(system(cmd), 0);
	reset_card();
	nk_scard_set_ops(NULL);
	return 0;
}

static const char *
hints_path(void)
{
	static char p[128];

	snprintf(p, sizeof(p), "%s/cache/card-hints", tmpdir);
	return p;
}

struct run {
	int	find_r, login_r, sign_r, verify_r, logout_r;
	unsigned long apdus_before_pin;
	int	tries;
	char	label[64];
	size_t	index;
};

/* One login as the PAM helper does it: find, log in, sign, verify, log out. */
static void
login(const nkhsm_point_t *pts, size_t n, const char *pin, struct run *out)
{
	nkhsm_ctx_t *ctx = NULL;
	nkhsm_token_t *tok = NULL;
	nkhsm_key_t *key = NULL;
	uint8_t *sig = NULL;
	size_t cursor = 0, siglen = 0, idx = 0;
	int r;

	memset(out, 0, sizeof(*out));
	out->find_r = out->login_r = out->sign_r = out->verify_r =
	    out->logout_r = 1;	/* not reached */
	assert_int_equal(nkhsm_ctx_open_pcsc(0, &ctx), 0);
	assert_int_equal(nkhsm_ctx_driver(ctx), NKHSM_DRIVER_PCSC);
	assert_int_equal(nkhsm_ctx_set_hints(ctx, hints_path()), 0);
	if ((r = nkhsm_token_next(ctx, NULL, &cursor, &tok)) != 0) {
		out->find_r = r;
		goto out;
	}
	out->tries = nkhsm_token_pin_tries(tok);
	snprintf(out->label, sizeof(out->label), "%s", nkhsm_token_label(tok));
	if ((out->find_r = nkhsm_key_find_any(tok, pts, n, &key, &idx)) != 0)
		goto out;
	out->index = idx;
	out->apdus_before_pin = nkhsm_ctx_apdus(ctx);
	if ((out->login_r = nkhsm_token_login(tok, pin, strlen(pin))) != 0) {
		out->tries = nkhsm_token_pin_tries(tok);
		goto out;
	}
	if ((out->sign_r = nkhsm_key_sign(key, (const uint8_t *)"challenge", 9,
	    NKHSM_SIG_RAW, &sig, &siglen)) == 0)
		out->verify_r = nkhsm_verify_point(&pts[idx],
		    (const uint8_t *)"challenge", 9, sig, siglen);
	out->logout_r = nkhsm_token_logout(tok);
 out:
	free(sig);
	nkhsm_key_free(&key);
	nkhsm_token_free(&tok);
	nkhsm_ctx_free(&ctx);
}

static void
test_login(void **state)
{
	nkhsm_point_t pts[2];
	struct run r;
	int i;

	point_of(2, &pts[0]);	/* the P-384 key, the card's second */
	pts[1].curve = NKHSM_CURVE_NONE;
	login(pts, 2, PIN, &r);
	assert_int_equal(r.find_r, 0);
	assert_int_equal(r.index, 0);
	assert_string_equal(r.label, "Fake-HSM (UserPIN)");
	assert_int_equal(r.tries, 3);
	/* SELECT, status, 2F02, 2F03, list, CE01, CE02; then the login's 3. */
	assert_int_equal(r.apdus_before_pin, 7);
	assert_int_equal(r.login_r, 0);
	assert_int_equal(r.sign_r, 0);
	assert_int_equal(r.verify_r, 0);
	assert_int_equal(r.logout_r, 0);
	assert_int_equal(fk.napdu, 10);
	assert_int_equal(fk.auth, 0);
	assert_int_equal(fk.resets, 0);	/* logged out by SELECT, not reset */
	/* With the hint: SELECT, status, 2F02, CE02; the label is remembered. */
	memset(fk.log, 0, sizeof(fk.log));
	fk.napdu = 0;
	login(pts, 2, PIN, &r);
	assert_int_equal(r.verify_r, 0);
	assert_int_equal(r.apdus_before_pin, 4);
	assert_int_equal(fk.napdu, 7);
	assert_string_equal(r.label, "Fake-HSM (UserPIN)");
	{
		static const char *const want[] = {
			"00 A4", "00 20", "00 B1", "00 B1", "00 20", "80 68", "00 A4",
		};
		for (i = 0; i < 7; i++)
			assert_string_equal(fk.log[i], want[i]);
	}
	assert_int_equal(fk.auth, 0);
}

/* A fault at command k of a hinted login, for every k and kind. */
static void
test_fault_every_command(void **state)
{
	static const enum fault kinds[] = {
		F_REMOVE, F_ERROR, F_LOST, F_GARBAGE,
	};
	nkhsm_point_t pt;
	struct run r;
	size_t k, i;

	point_of(1, &pt);
	login(&pt, 1, PIN, &r);		/* the hint */
	assert_int_equal(r.verify_r, 0);
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		for (k = 1; k <= 7; k++) {
			fk.napdu = 0;
			fk.gone = 0;
			fk.auth = fk.selected = 0;
			fk.fault = kinds[i];
			fk.fail_at = k;
			login(&pt, 1, PIN, &r);
			if (r.verify_r == 0 && r.logout_r == 0)
				fail_msg("fault %d at command %zu: a login "
				    "that went through", kinds[i], k);
			/* A lost answer to VERIFY left the card logged in:
			 * only a reset can have ended that. */
			if (fk.auth)
				fail_msg("fault %d at command %zu: the card "
				    "was left logged in", kinds[i], k);
			if (fk.in_txn)
				fail_msg("fault %d at command %zu: the "
				    "transaction was left open", kinds[i], k);
		}
	}
	fk.fault = F_NONE;
	fk.gone = 0;
	login(&pt, 1, PIN, &r);
	assert_int_equal(r.verify_r, 0);
}

/* A hint for a key that is no longer there is dropped, never used. */
static void
test_stale_hint(void **state)
{
	nkhsm_point_t pt;
	struct run r;
	int i;

	point_of(1, &pt);
	login(&pt, 1, PIN, &r);		/* hint: reference 1 */
	assert_int_equal(r.verify_r, 0);
	/* Another key in reference 1; the old key now in reference 3. */
	fk.key[3] = fk.key[1];
	memcpy(fk.ce[3], fk.ce[1], fk.celen[1]);
	fk.celen[3] = fk.celen[1];
	fake_key(1, NID_X9_62_prime256v1);
	fk.napdu = 0;
	memset(fk.log, 0, sizeof(fk.log));
	login(&pt, 1, PIN, &r);
	assert_int_equal(r.find_r, 0);
	assert_int_equal(r.verify_r, 0);
	/* SELECT, status, 2F02, CE01 (stale), list, CE02, CE03. */
	assert_int_equal(r.apdus_before_pin, 7);
	assert_string_equal(fk.log[4], "80 58");
	fk.napdu = 0;
	login(&pt, 1, PIN, &r);
	assert_int_equal(r.apdus_before_pin, 4);	/* the new hint: ref 3 */
	/* The key gone altogether: no key, no PIN, the hint dropped. */
	EVP_PKEY_free(fk.key[3]);
	fk.key[3] = NULL;
	fk.celen[3] = 0;
	fk.napdu = 0;
	memset(fk.log, 0, sizeof(fk.log));
	login(&pt, 1, PIN, &r);
	assert_int_equal(r.find_r, NKHSM_ERR_NO_KEY);
	for (i = 0; i < 64 && fk.log[i][0] != '\0'; i++)
		if (strcmp(fk.log[i], "80 68") == 0)
			fail_msg("signed without a key");
	assert_int_equal(fk.tries, 3);
}

/* A hints file that others can read, or a link, is not used. */
static void
test_unsafe_hints(void **state)
{
	nkhsm_point_t pt;
	struct run r;

	point_of(2, &pt);
	login(&pt, 1, PIN, &r);
	fk.napdu = 0;
	login(&pt, 1, PIN, &r);
	assert_int_equal(r.apdus_before_pin, 4);
	assert_int_equal(chmod(hints_path(), 0640), 0);
	fk.napdu = 0;
	login(&pt, 1, PIN, &r);
	assert_int_equal(r.verify_r, 0);
	assert_true(r.apdus_before_pin > 4);	/* scanned */
	{
		struct stat st;

		assert_int_equal(stat(hints_path(), &st), 0);
		assert_int_equal(st.st_mode & 0777, 0600);	/* rewritten */
	}
}

static void
test_wrong_pin(void **state)
{
	nkhsm_point_t pt;
	struct run r;

	point_of(1, &pt);
	login(&pt, 1, "000000", &r);
	assert_int_equal(r.login_r, NKHSM_ERR_PIN_INCORRECT);
	assert_int_equal(r.tries, 2);
	assert_int_equal(fk.resets, 0);	/* the card said no: nothing to reset */
	login(&pt, 1, "000000", &r);
	assert_int_equal(r.tries, 1);
	login(&pt, 1, "000000", &r);
	assert_int_equal(r.login_r, NKHSM_ERR_PIN_LOCKED);
	assert_int_equal(r.tries, 0);
	login(&pt, 1, PIN, &r);
	assert_int_equal(r.tries, 0);	/* read before any PIN */
	assert_int_equal(r.login_r, NKHSM_ERR_PIN_LOCKED);
	/* PINs the card cannot take are not sent. */
	fk.tries = 3;
	fk.napdu = 0;
	login(&pt, 1, "12345", &r);
	assert_int_equal(r.login_r, NKHSM_ERR_PIN_LEN);
	assert_int_equal(fk.tries, 3);
}

static void
test_other_card(void **state)
{
	nkhsm_ctx_t *ctx = NULL;
	nkhsm_token_t *tok = NULL;
	size_t cursor = 0;

	fk.other = 1;
	assert_int_equal(nkhsm_ctx_open_pcsc(0, &ctx), 0);
	assert_int_equal(nkhsm_token_next(ctx, NULL, &cursor, &tok),
	    NKHSM_ERR_NO_TOKEN);
	assert_int_equal(nkhsm_ctx_other_cards(ctx), 1);
	assert_int_equal(fk.napdu, 0);	/* not even a SELECT */
	nkhsm_ctx_free(&ctx);
	/* Told to try any card: a SELECT, answered 6A82, and it is another. */
	assert_int_equal(nkhsm_ctx_open_pcsc(NKHSM_PCSC_ANY_CARD, &ctx), 0);
	cursor = 0;
	assert_int_equal(nkhsm_token_next(ctx, NULL, &cursor, &tok),
	    NKHSM_ERR_NO_TOKEN);
	assert_int_equal(nkhsm_ctx_other_cards(ctx), 1);
	assert_int_equal(fk.napdu, 1);
	nkhsm_ctx_free(&ctx);
	/* No card: no token and no other card. */
	fk.other = 0;
	fk.present = 0;
	assert_int_equal(nkhsm_ctx_open_pcsc(0, &ctx), 0);
	cursor = 0;
	assert_int_equal(nkhsm_token_next(ctx, NULL, &cursor, &tok),
	    NKHSM_ERR_NO_TOKEN);
	assert_int_equal(nkhsm_ctx_other_cards(ctx), 0);
	nkhsm_ctx_free(&ctx);
}

static void
test_readers(void **state)
{
	nkhsm_ctx_t *ctx = NULL;
	nkhsm_reader_t *rd = NULL;
	char *serial = NULL;
	size_t n = 0;

	assert_int_equal(nkhsm_ctx_open_pcsc(0, &ctx), 0);
	assert_int_equal(nkhsm_readers(ctx, &rd, &n), 0);
	assert_int_equal(n, 1);
	assert_string_equal(rd[0].name, READER);
	assert_int_equal(rd[0].state, NKHSM_READER_PRESENT | NKHSM_READER_SCHSM);
	assert_int_equal(rd[0].atrlen, sizeof(schsm_atr));
	assert_true(nkhsm_atr_is_schsm(rd[0].atr, rd[0].atrlen));
	assert_false(nkhsm_atr_is_schsm(other_atr, sizeof(other_atr)));
	free(rd);
	assert_int_equal(nkhsm_reader_serial(ctx, READER, &serial), 0);
	assert_string_equal(serial, "FAKE0000000");
	free(serial);
	assert_int_equal(fk.auth, 0);
	fk.present = 0;
	assert_int_equal(nkhsm_reader_serial(ctx, READER, &serial),
	    NKHSM_ERR_NO_TOKEN);
	assert_null(serial);
	assert_int_equal(nkhsm_readers(ctx, &rd, &n), 0);
	assert_int_equal(rd[0].state, NKHSM_READER_EMPTY);
	free(rd);
	nkhsm_ctx_free(&ctx);
	assert_int_equal(nkhsm_readers(NULL, &rd, &n), NKHSM_ERR_INVALID_ARGUMENT);
}

/* Named a Nitrokey HSM only when it is one: by its reader or serial. */
static unsigned int
token_flags_now(void)
{
	nkhsm_ctx_t *ctx = NULL;
	nkhsm_token_t *tok = NULL;
	size_t cursor = 0;
	unsigned int f;

	assert_int_equal(nkhsm_ctx_open_pcsc(0, &ctx), 0);
	assert_int_equal(nkhsm_token_next(ctx, NULL, &cursor, &tok), 0);
	f = nkhsm_token_flags(tok);
	nkhsm_token_free(&tok);
	nkhsm_ctx_free(&ctx);
	return f;
}

static void
test_nitrokey(void **state)
{
	assert_false(token_flags_now() & NKHSM_TOKEN_NITROKEY);
	fk.reader = NITROKEY_READER;
	assert_true(token_flags_now() & NKHSM_TOKEN_NITROKEY);
	fk.reader = READER;
	memcpy(devcert + 9, "DENK", 4);	/* a Nitrokey's serial */
	assert_true(token_flags_now() & NKHSM_TOKEN_NITROKEY);
	memcpy(devcert + 9, "DEN0", 4);
	assert_false(token_flags_now() & NKHSM_TOKEN_NITROKEY);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_login, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fault_every_command, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_stale_hint, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unsafe_hints, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_pin, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_card, setup, teardown),
		cmocka_unit_test_setup_teardown(test_readers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_nitrokey, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
