/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * schsm.h - the SmartCard-HSM (the card inside a Nitrokey HSM) as nkhsm
 * speaks to it over PC/SC: its file identifiers, and pure parsers for each
 * kind of answer it gives. Every byte a card sends is untrusted; each
 * parser here is bounded (lib/buf.c), has a libFuzzer target (fuzz/) and
 * cmocka tests (tests/unit/test_schsm.c). Not installed.
 */
#ifndef NK_SCHSM_H
#define NK_SCHSM_H

#include <stddef.h>
#include <stdint.h>

#include "nkhsm.h"
#include "buf.h"

/* The applet's AID (SELECT 00 A4 04 00 0B ...). */
#define NK_SC_AID	"\xE8\x2B\x06\x01\x04\x01\x81\xC3\x1F\x02\x01"
#define NK_SC_AID_LEN	11

/* File identifier prefixes (high byte) and fixed files. */
#define NK_SC_KEY_PREFIX	0xCC	/* private key (never readable) */
#define NK_SC_PRKD_PREFIX	0xC4	/* PKCS#15 private key description */
#define NK_SC_CERT_PREFIX	0xCE	/* the key's CV request or X.509 cert */
#define NK_SC_EF_DEVAUT		0x2F02	/* device certificate (serial) */
#define NK_SC_EF_TOKENINFO	0x2F03	/* PKCS#15 TokenInfo (label) */
#define NK_SC_ALGO_EC_RAW	0x70	/* ECDSA over a hash from the host */

#define NK_SC_FILE_MAX		8192	/* the largest file read */
#define NK_SC_KEYS_MAX		255	/* key references 1..255 */
#define NK_SC_SERIAL_MAX	16	/* CHR is at most 16 characters */
#define NK_SC_LABEL_MAX		64
#define NK_SC_DEFAULT_LABEL	"SmartCard-HSM"	/* no label in TokenInfo */
#define NK_SC_DEFAULT_MANUFACTURER	"www.CardContact.de"

/* BER-TLV (tlv.c): definite lengths of up to 3 bytes, minimal. */
int nk_tlv_get(struct nk_buf *b, uint32_t *tagp, const uint8_t **vp,
    size_t *lenp);
/* The first element with this tag among d's elements. NKHSM_ERR_NO_KEY
 * when absent, NKHSM_ERR_FORMAT when d is not a list of elements. */
int nk_tlv_find(const uint8_t *d, size_t len, uint32_t tag,
    const uint8_t **vp, size_t *lenp);

/* The answer to SELECT (sc-fci.c): an FCP/FCI with the applet's tag 85. */
struct nk_sc_fci {
	unsigned int	major, minor;	/* firmware version */
};
int nk_sc_fci_parse(const uint8_t *d, size_t len, struct nk_sc_fci *fci);

/*
 * ENUMERATE OBJECTS (80 58) (sc-objlist.c): two-byte file identifiers.
 * refs gets the private key references (CC xx, xx != 0: 00 is the device's
 * own key), in the card's order, *np of them.
 */
int nk_sc_objlist_parse(const uint8_t *d, size_t len,
    uint8_t refs[NK_SC_KEYS_MAX], size_t *np);

/*
 * The status word of VERIFY (sc-pin.c), with a PIN or without (PIN status):
 * 0 (verified), NKHSM_ERR_PIN_INCORRECT with *triesp tries left (without a
 * PIN: not verified yet), NKHSM_ERR_PIN_LOCKED (*triesp 0), NKHSM_ERR_FORMAT
 * for anything else. *triesp is -1 when the answer does not say.
 */
int nk_sc_pin_parse(uint16_t sw, int *triesp);

/*
 * A key's public key file, CE xx (sc-pubkey.c): the authenticated CV request
 * the card made at key generation (tag 67), a CV certificate (7F21), or the
 * X.509 certificate OpenSC stores there in its place (30). NKHSM_ERR_UNSUPPORTED
 * for RSA keys and other curves than P-256/384/521.
 */
enum nk_sc_pkfile { NK_SC_PK_REQUEST = 1, NK_SC_PK_CVC, NK_SC_PK_X509 };
int nk_sc_pubkey_parse(const uint8_t *d, size_t len, nkhsm_point_t *pt,
    enum nk_sc_pkfile *kindp);

/*
 * The device certificate EF.C_DevAut, 2F02 (sc-devcert.c): the serial is
 * the holder reference (CHR) of the first certificate without its 5-digit
 * sequence number, as OpenSC reports it. serial: NK_SC_SERIAL_MAX + 1 bytes.
 */
int nk_sc_devcert_serial(const uint8_t *d, size_t len, char *serial);
/* A serial as cards write them: letters and digits, not empty. */
int nk_sc_serial_ok(const uint8_t *s, size_t len);
/*
 * EF.TokenInfo, 2F03 (sc-tokeninfo.c): the label and the manufacturer,
 * printable ASCII and UTF-8 only; "" for one the file does not have. Each
 * buffer: NK_SC_LABEL_MAX + 1 bytes.
 */
int nk_sc_tokeninfo_parse(const uint8_t *d, size_t len, char *label,
    char *manufacturer);
/* Printable ASCII or well-formed multi-byte UTF-8 without C1 controls. */
int nk_sc_text_ok(const uint8_t *s, size_t len);

/* The answer to 80 68 (sc-sig.c): a DER ECDSA-Sig-Value, to r || s. */
int nk_sc_sig_parse(nkhsm_curve_t curve, const uint8_t *d, size_t len,
    uint8_t *raw, size_t *rawlenp);

/*
 * Card hints (sc-hints.c): which key reference held a public key, on a card
 * with which serial and label, at the last login. Only a hint: the helper
 * reads the key's public key file before using it, and a miss means a scan.
 * One line per key: "k1 SHA256(point) REF SERIAL LABEL MANUFACTURER", hex
 * fields ("-" for an empty one).
 */
#define NK_HINTS_MAX		64
#define NK_HINTS_SIZE_MAX	(64 * 1024)
struct nk_hint {
	uint8_t	pthash[32];
	uint8_t	ref;
	char	serial[NK_SC_SERIAL_MAX + 1];
	char	label[NK_SC_LABEL_MAX + 1];		/* TokenInfo's, or "" */
	char	manufacturer[NK_SC_LABEL_MAX + 1];	/* the same */
};
struct nk_hints {
	struct nk_hint	h[NK_HINTS_MAX];
	size_t		n;
};
int nk_hints_parse(const char *text, size_t len, struct nk_hints *hs);
int nk_hints_format(const struct nk_hints *hs, char **textp, size_t *lenp);
/* Record (serial, label, ref) for pthash, newest first; drops the oldest. */
void nk_hints_put(struct nk_hints *hs, const struct nk_hint *h);
void nk_hints_drop(struct nk_hints *hs, const uint8_t pthash[32]);
const struct nk_hint *nk_hints_get(const struct nk_hints *hs,
    const uint8_t pthash[32]);

#endif /* NK_SCHSM_H */
