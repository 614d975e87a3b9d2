/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_schsm.c - the parsers of a SmartCard-HSM's answers (lib/sc-*.c,
 * lib/tlv.c) and of the card hints file: the emulated card's real answers
 * (the fuzz corpus) decode to what the card holds, public key files agree
 * with OpenSSL on the same certificates, and every malformed form is
 * refused with nothing left behind.
 */
#include "config.h"

#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "nk-int.h"
#include "schsm.h"

#ifndef CORPUS_DIR
#define CORPUS_DIR "fuzz/corpus"
#endif

/* A corpus file: the card's own answer, as captured. */
static uint8_t *
seed(const char *name, size_t *lenp)
{
	char path[512];
	uint8_t *buf = malloc(16384);
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", CORPUS_DIR, name);
	assert_non_null(buf);
	if ((fd = open(path, O_RDONLY)) == -1)
		fail_msg("%s: cannot open", path);
	n = read(fd, buf, 16384);
	close(fd);
	assert_true(n >= 0);
	*lenp = (size_t)n;
	return buf;
}

static size_t
unhex(const char *h, uint8_t *out)
{
	size_t n = 0;
	unsigned int v;

	for (; h[0] != '\0' && h[1] != '\0'; h += 2) {
		assert_int_equal(sscanf(h, "%2x", &v), 1);
		out[n++] = (uint8_t)v;
	}
	return n;
}

static void
test_tlv(void **state)
{
	uint8_t d[300];
	const uint8_t *v;
	struct nk_buf b;
	uint32_t tag;
	size_t len, n;

	n = unhex("7F2103AABBCC5F200141308105AABBCCDDEE", d);
	nk_buf_from(&b, d, n);
	assert_int_equal(nk_tlv_get(&b, &tag, &v, &len), 0);
	assert_int_equal(tag, 0x7F21);
	assert_int_equal(len, 3);
	assert_int_equal(v[0], 0xAA);
	assert_int_equal(nk_tlv_get(&b, &tag, &v, &len), 0);
	assert_int_equal(tag, 0x5F20);
	assert_int_equal(len, 1);
	/* 81 with a length under 128 is not minimal. */
	assert_int_equal(nk_tlv_get(&b, &tag, &v, &len), NKHSM_ERR_FORMAT);
	assert_int_equal(b.off, 10);	/* a failed read moves nothing */
	assert_null(v);
	/* Indefinite length, four length bytes, a leading zero length byte. */
	n = unhex("308000", d);
	nk_buf_from(&b, d, n);
	assert_int_equal(nk_tlv_get(&b, &tag, &v, &len), NKHSM_ERR_FORMAT);
	n = unhex("3084000000010000", d);
	nk_buf_from(&b, d, n);
	assert_int_equal(nk_tlv_get(&b, &tag, &v, &len), NKHSM_ERR_FORMAT);
	n = unhex("30820001AA", d);
	nk_buf_from(&b, d, n);
	assert_int_equal(nk_tlv_get(&b, &tag, &v, &len), NKHSM_ERR_FORMAT);
	/* A length past the end; a tag of four bytes; a 1F80 tag. */
	n = unhex("3005AABB", d);
	nk_buf_from(&b, d, n);
	assert_int_equal(nk_tlv_get(&b, &tag, &v, &len), NKHSM_ERR_FORMAT);
	n = unhex("7F81818101AA", d);
	nk_buf_from(&b, d, n);
	assert_int_equal(nk_tlv_get(&b, &tag, &v, &len), NKHSM_ERR_FORMAT);
	n = unhex("1F800100", d);
	nk_buf_from(&b, d, n);
	assert_int_equal(nk_tlv_get(&b, &tag, &v, &len), NKHSM_ERR_FORMAT);
	/* Three-byte tags and a two-byte length. */
	d[0] = 0x7F;
	d[1] = 0x81;
	d[2] = 0x01;
	d[3] = 0x82;
	d[4] = 0x01;
	d[5] = 0x00;
	memset(d + 6, 0x55, 256);
	nk_buf_from(&b, d, 262);
	assert_int_equal(nk_tlv_get(&b, &tag, &v, &len), 0);
	assert_int_equal(tag, 0x7F8101);
	assert_int_equal(len, 256);
	/* find: the first of its tag; absent is NO_KEY; junk is FORMAT. */
	n = unhex("8101AA8501BB8501CC", d);
	assert_int_equal(nk_tlv_find(d, n, 0x85, &v, &len), 0);
	assert_int_equal(v[0], 0xBB);
	assert_int_equal(nk_tlv_find(d, n, 0x86, &v, &len), NKHSM_ERR_NO_KEY);
	assert_int_equal(nk_tlv_find(d, 3, 0x86, &v, &len), NKHSM_ERR_NO_KEY);
	assert_int_equal(nk_tlv_find(d, 2, 0x86, &v, &len), NKHSM_ERR_FORMAT);
}

static void
test_fci(void **state)
{
	struct nk_sc_fci fci;
	uint8_t *s, d[64];
	size_t len, n;

	s = seed("sc_fci/pico_hsm_6_6", &len);
	assert_int_equal(nk_sc_fci_parse(s, len, &fci), 0);
	assert_int_equal(fci.major, 6);
	assert_int_equal(fci.minor, 6);
	free(s);
	n = unhex("6F088506000100FF0102", d);
	assert_int_equal(nk_sc_fci_parse(d, n, &fci), 0);
	assert_int_equal(fci.major, 1);
	assert_int_equal(fci.minor, 2);
	n = unhex("62078201018302ABCD", d);	/* no tag 85: another card */
	assert_int_equal(nk_sc_fci_parse(d, n, &fci), NKHSM_ERR_FORMAT);
	n = unhex("620385010A", d);		/* 85 too short */
	assert_int_equal(nk_sc_fci_parse(d, n, &fci), NKHSM_ERR_FORMAT);
	n = unhex("620485020102FF", d);		/* something after it */
	assert_int_equal(nk_sc_fci_parse(d, n, &fci), NKHSM_ERR_FORMAT);
	n = unhex("6F048502010200", d);
	assert_int_equal(nk_sc_fci_parse(d, n, &fci), NKHSM_ERR_FORMAT);
	n = unhex("6404850201020", d);		/* not a template */
	assert_int_equal(nk_sc_fci_parse(d, n, &fci), NKHSM_ERR_FORMAT);
	assert_int_equal(nk_sc_fci_parse(d, 0, &fci), NKHSM_ERR_FORMAT);
	assert_int_equal(fci.major, 0);
}

static void
test_objlist(void **state)
{
	uint8_t refs[NK_SC_KEYS_MAX], d[600], *s;
	size_t n, len, i;

	s = seed("sc_objlist/three_keys", &len);
	assert_int_equal(nk_sc_objlist_parse(s, len, refs, &n), 0);
	assert_int_equal(n, 3);	/* CC00, the device key, is not a user key */
	assert_int_equal(refs[0], 1);
	assert_int_equal(refs[1], 2);
	assert_int_equal(refs[2], 3);
	free(s);
	len = unhex("CC01CC020000", d);	/* padding */
	assert_int_equal(nk_sc_objlist_parse(d, len, refs, &n), 0);
	assert_int_equal(n, 2);
	len = unhex("C901C801CE01CC7F", d);
	assert_int_equal(nk_sc_objlist_parse(d, len, refs, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(refs[0], 0x7F);
	assert_int_equal(nk_sc_objlist_parse(d, 0, refs, &n), 0);
	assert_int_equal(n, 0);
	len = unhex("CC01CC", d);
	assert_int_equal(nk_sc_objlist_parse(d, len, refs, &n), NKHSM_ERR_FORMAT);
	assert_int_equal(n, 0);
	len = unhex("CC05C401CC05", d);
	assert_int_equal(nk_sc_objlist_parse(d, len, refs, &n), NKHSM_ERR_FORMAT);
	/* Every reference once: 255 keys, the most there can be. */
	for (i = 0; i < 255; i++) {
		d[2 * i] = NK_SC_KEY_PREFIX;
		d[2 * i + 1] = (uint8_t)(i + 1);
	}
	assert_int_equal(nk_sc_objlist_parse(d, 510, refs, &n), 0);
	assert_int_equal(n, 255);
	assert_int_equal(refs[254], 255);
}

static void
test_pin(void **state)
{
	int tries;

	assert_int_equal(nk_sc_pin_parse(0x9000, &tries), 0);
	assert_int_equal(tries, -1);
	assert_int_equal(nk_sc_pin_parse(0x63C3, &tries), NKHSM_ERR_PIN_INCORRECT);
	assert_int_equal(tries, 3);
	assert_int_equal(nk_sc_pin_parse(0x63C1, &tries), NKHSM_ERR_PIN_INCORRECT);
	assert_int_equal(tries, 1);
	assert_int_equal(nk_sc_pin_parse(0x63CF, &tries), NKHSM_ERR_PIN_INCORRECT);
	assert_int_equal(tries, 15);
	assert_int_equal(nk_sc_pin_parse(0x63C0, &tries), NKHSM_ERR_PIN_LOCKED);
	assert_int_equal(tries, 0);
	assert_int_equal(nk_sc_pin_parse(0x6983, &tries), NKHSM_ERR_PIN_LOCKED);
	assert_int_equal(tries, 0);
	assert_int_equal(nk_sc_pin_parse(0x6A88, &tries), NKHSM_ERR_FORMAT);
	assert_int_equal(tries, -1);
	assert_int_equal(nk_sc_pin_parse(0x6984, &tries), NKHSM_ERR_FORMAT);
	assert_int_equal(nk_sc_pin_parse(0x6300, &tries), NKHSM_ERR_FORMAT);
	assert_int_equal(nk_sc_pin_parse(0x6700, &tries), NKHSM_ERR_FORMAT);
}

/* The point OpenSSL finds in the same X.509 certificate. */
static void
openssl_point(const uint8_t *der, size_t len, nkhsm_point_t *pt)
{
	const uint8_t *p = der;
	X509 *x = d2i_X509(NULL, &p, (long)len);
	EVP_PKEY *k;

	assert_non_null(x);
	assert_non_null(k = X509_get0_pubkey(x));
	assert_int_equal(nkhsm_point_from_pkey(k, pt), 0);
	X509_free(x);
}

/* A self-signed certificate for a fresh key on a curve, DER. */
static size_t
make_cert(int nid, uint8_t *out)
{
	EVP_PKEY *k = EVP_EC_gen(OBJ_nid2sn(nid));
	X509 *x = X509_new();
	uint8_t *p = out;
	int len;

	assert_non_null(k);
	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), 7);
	X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
	    (const unsigned char *)"a rather long name to push the key further",
	    -1, -1, 0);
	X509_set_issuer_name(x, X509_get_subject_name(x));
	X509_gmtime_adj(X509_getm_notBefore(x), 0);
	X509_gmtime_adj(X509_getm_notAfter(x), 3600);
	X509_set_pubkey(x, k);
	assert_true(X509_sign(x, k, EVP_sha256()) > 0);
	len = i2d_X509(x, &p);
	assert_true(len > 0);
	X509_free(x);
	EVP_PKEY_free(k);
	return (size_t)len;
}

static void
test_pubkey_files(void **state)
{
	static const struct { const char *name; nkhsm_curve_t curve;
	    enum nk_sc_pkfile kind; } ok[] = {
		{ "sc_pubkey/request_p256", NKHSM_CURVE_P256, NK_SC_PK_REQUEST },
		{ "sc_pubkey/request_p521", NKHSM_CURVE_P521, NK_SC_PK_REQUEST },
		{ "sc_pubkey/cvc_only", NKHSM_CURVE_P256, NK_SC_PK_CVC },
		{ "sc_pubkey/x509_p384", NKHSM_CURVE_P384, NK_SC_PK_X509 },
	};
	enum nk_sc_pkfile kind;
	nkhsm_point_t pt, want;
	uint8_t *s, *t;
	size_t len, i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		s = seed(ok[i].name, &len);
		assert_int_equal(nk_sc_pubkey_parse(s, len, &pt, &kind), 0);
		assert_int_equal(pt.curve, ok[i].curve);
		assert_int_equal(kind, ok[i].kind);
		assert_int_equal(pt.len, 1 + 2 * nkhsm_curve_bytes(ok[i].curve));
		assert_int_equal(nkhsm_point_check(&pt), 0);	/* on its curve */
		if (kind == NK_SC_PK_X509) {
			openssl_point(s, len, &want);
			assert_memory_equal(pt.pt, want.pt, want.len);
		}
		/* One byte more, or less: refused, nothing left behind. */
		t = malloc(len + 1);
		memcpy(t, s, len);
		t[len] = 0;
		assert_int_equal(nk_sc_pubkey_parse(t, len + 1, &pt, &kind),
		    NKHSM_ERR_FORMAT);
		assert_int_equal(pt.len, 0);
		assert_int_equal(kind, 0);
		assert_int_not_equal(nk_sc_pubkey_parse(t, len - 1, &pt, &kind),
		    0);
		free(t);
		free(s);
	}
	s = seed("sc_pubkey/rsa_like", &len);
	assert_int_equal(nk_sc_pubkey_parse(s, len, &pt, &kind),
	    NKHSM_ERR_UNSUPPORTED);
	free(s);
	s = seed("sc_pubkey/truncated", &len);
	assert_int_equal(nk_sc_pubkey_parse(s, len, &pt, &kind), NKHSM_ERR_FORMAT);
	free(s);
}

/* The manual X.509 reader agrees with OpenSSL on fresh certificates. */
static void
test_pubkey_x509(void **state)
{
	static const int nids[] = {
		NID_X9_62_prime256v1, NID_secp384r1, NID_secp521r1,
	};
	enum nk_sc_pkfile kind;
	nkhsm_point_t pt, want;
	uint8_t der[4096];
	size_t len, i, j;

	for (i = 0; i < 3; i++) {
		for (j = 0; j < 4; j++) {
			len = make_cert(nids[i], der);
			assert_int_equal(nk_sc_pubkey_parse(der, len, &pt, &kind), 0);
			assert_int_equal(kind, NK_SC_PK_X509);
			openssl_point(der, len, &want);
			assert_int_equal(pt.curve, want.curve);
			assert_int_equal(pt.len, want.len);
			assert_memory_equal(pt.pt, want.pt, want.len);
		}
	}
}

static void
test_devcert(void **state)
{
	char serial[NK_SC_SERIAL_MAX + 1];
	uint8_t *s, d[64];
	size_t len, n;

	s = seed("sc_devcert/pico_2f02", &len);
	assert_int_equal(nk_sc_devcert_serial(s, len, serial), 0);
	assert_string_equal(serial, "ESPICOHSMTR");
	free(s);
	/* A plain CV certificate, as real cards keep it: DENK0100123 + 00001. */
	n = unhex("7F21167F4E135F20104445" "4E4B30313030313233" "3030303031", d);
	assert_int_equal(nk_sc_devcert_serial(d, n, serial), 0);
	assert_string_equal(serial, "DENK0100123");
	n = unhex("7F210E7F4E0B5F2008444530303030303130", d);
	assert_int_equal(nk_sc_devcert_serial(d, n, serial), 0);
	assert_string_equal(serial, "DE0");
	n = unhex("7F210D7F4E0A5F200744453030303031", d);	/* CHR too short */
	assert_int_equal(nk_sc_devcert_serial(d, n, serial), NKHSM_ERR_FORMAT);
	assert_string_equal(serial, "");
	n = unhex("7F210E7F4E0B5F200844452030303030303130", d);	/* a blank */
	assert_int_equal(nk_sc_devcert_serial(d, n, serial), NKHSM_ERR_FORMAT);
	n = unhex("7F21037F4E00", d);			/* no CHR */
	assert_int_equal(nk_sc_devcert_serial(d, n, serial), NKHSM_ERR_FORMAT);
	n = unhex("30037F4E00", d);			/* not a CVC */
	assert_int_equal(nk_sc_devcert_serial(d, n, serial), NKHSM_ERR_FORMAT);
}

static void
test_tokeninfo(void **state)
{
	char label[NK_SC_LABEL_MAX + 1], manuf[NK_SC_LABEL_MAX + 1];
	uint8_t *s, d[128];
	size_t len, n;

	s = seed("sc_devcert/tokeninfo_pico", &len);
	assert_int_equal(nk_sc_tokeninfo_parse(s, len, label, manuf), 0);
	assert_string_equal(label, "Pico-HSM");
	assert_string_equal(manuf, "Pol Henarejos");
	free(s);
	s = seed("sc_devcert/tokeninfo_nolabel", &len);
	assert_int_equal(nk_sc_tokeninfo_parse(s, len, label, manuf), 0);
	assert_string_equal(label, "");
	assert_string_equal(manuf, "");
	free(s);
	s = seed("sc_devcert/tokeninfo_ctrl", &len);	/* a newline in it */
	assert_int_equal(nk_sc_tokeninfo_parse(s, len, label, manuf),
	    NKHSM_ERR_FORMAT);
	assert_string_equal(label, "");
	free(s);
	n = unhex("300902010080046EC3A96B", d);	/* "nék": UTF-8 is fine */
	assert_int_equal(nk_sc_tokeninfo_parse(d, n, label, manuf), 0);
	assert_string_equal(label, "n\xc3\xa9k");
	n = unhex("30080201008003C3A96B", d);	/* starting with one */
	assert_int_equal(nk_sc_tokeninfo_parse(d, n, label, manuf), 0);
	n = unhex("300702010080026EC3", d);	/* cut short */
	assert_int_equal(nk_sc_tokeninfo_parse(d, n, label, manuf),
	    NKHSM_ERR_FORMAT);
	n = unhex("300702010080026EC2", d);
	assert_int_equal(nk_sc_tokeninfo_parse(d, n, label, manuf),
	    NKHSM_ERR_FORMAT);
	n = unhex("3008020100800342C28542", d);	/* C1 control, U+0085 */
	assert_int_equal(nk_sc_tokeninfo_parse(d, n, label, manuf),
	    NKHSM_ERR_FORMAT);
	n = unhex("3105020100800142", d);	/* not a SEQUENCE */
	assert_int_equal(nk_sc_tokeninfo_parse(d, n, label, manuf),
	    NKHSM_ERR_FORMAT);
}

static void
test_sig(void **state)
{
	static const nkhsm_curve_t curves[] = {
		NKHSM_CURVE_P256, NKHSM_CURVE_P384, NKHSM_CURVE_P521,
	};
	static const char *const seeds[] = {
		"sc_sig/der_prime256v1", "sc_sig/der_secp384r1",
		"sc_sig/der_secp521r1",
	};
	uint8_t raw[2 * NK_MAX_FIELD], *s;
	size_t len, rawlen, i;

	for (i = 0; i < 3; i++) {
		s = seed(seeds[i], &len);
		assert_int_equal(nk_sc_sig_parse(curves[i], s, len, raw, &rawlen), 0);
		assert_int_equal(rawlen, 2 * nkhsm_curve_bytes(curves[i]));
		/* A larger curve's r and s do not fit P-256's 32 bytes. */
		if (i > 0) {
			assert_int_not_equal(nk_sc_sig_parse(NKHSM_CURVE_P256, s,
			    len, raw, &rawlen), 0);
			assert_int_equal(rawlen, 0);
		}
		free(s);
	}
	s = seed("sc_sig/nonminimal", &len);
	assert_int_not_equal(nk_sc_sig_parse(NKHSM_CURVE_P256, s, len, raw,
	    &rawlen), 0);
	free(s);
	assert_int_equal(nk_sc_sig_parse(NKHSM_CURVE_P256, raw, 0, raw, &rawlen),
	    NKHSM_ERR_FORMAT);
	assert_int_equal(nk_sc_sig_parse(NKHSM_CURVE_NONE, raw, 8, raw, &rawlen),
	    NKHSM_ERR_UNSUPPORTED);
}

static void
fill_hint(struct nk_hint *h, uint8_t tag, uint8_t ref, const char *serial,
    const char *label)
{
	memset(h, 0, sizeof(*h));
	memset(h->pthash, tag, sizeof(h->pthash));
	h->ref = ref;
	strcpy(h->serial, serial);
	strcpy(h->label, label);
}

static void
test_hints(void **state)
{
	struct nk_hints *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	struct nk_hint h;
	char *text = NULL;
	size_t len, i;
	uint8_t key[32];

	assert_non_null(a);
	assert_non_null(b);
	fill_hint(&h, 1, 5, "DENK0100123", "nk");
	strcpy(h.manufacturer, "www.CardContact.de");
	nk_hints_put(a, &h);
	fill_hint(&h, 2, 0x7f, "ESPICOHSMTR", "");
	nk_hints_put(a, &h);
	assert_int_equal(a->n, 2);
	assert_int_equal(a->h[0].ref, 0x7f);	/* newest first */
	assert_int_equal(nk_hints_format(a, &text, &len), 0);
	assert_non_null(strstr(text, "# nkhsm card hints\n"));
	assert_non_null(strstr(text, " 7f 4553504943"));
	assert_non_null(strstr(text, " - -\n"));	/* empty label, manufacturer */
	assert_int_equal(nk_hints_parse(text, len, b), 0);
	assert_int_equal(b->n, 2);
	assert_memory_equal(a->h, b->h, 2 * sizeof(a->h[0]));
	free(text);
	memset(key, 1, sizeof(key));
	assert_non_null(nk_hints_get(b, key));
	assert_int_equal(nk_hints_get(b, key)->ref, 5);
	assert_string_equal(nk_hints_get(b, key)->manufacturer, "www.CardContact.de");
	/* The same key again: replaced and moved to the front. */
	fill_hint(&h, 1, 9, "DENK0100123", "nk");
	nk_hints_put(b, &h);
	assert_int_equal(b->n, 2);
	assert_int_equal(b->h[0].ref, 9);
	nk_hints_drop(b, key);
	assert_int_equal(b->n, 1);
	assert_null(nk_hints_get(b, key));
	/* Full: the oldest goes. */
	memset(a, 0, sizeof(*a));
	for (i = 0; i < NK_HINTS_MAX + 3; i++) {
		fill_hint(&h, (uint8_t)i, 1, "S", "L");
		nk_hints_put(a, &h);
	}
	assert_int_equal(a->n, NK_HINTS_MAX);
	memset(key, 0, sizeof(key));
	assert_null(nk_hints_get(a, key));
	memset(key, NK_HINTS_MAX + 2, sizeof(key));
	assert_non_null(nk_hints_get(a, key));
	/* Malformed files: nothing at all comes out. */
	{
		static const char *const bad[] = {
			"k1 0101 01 41 - -\n",				/* short hash */
			"k2 " "0101010101010101010101010101010101010101010101010101010101010101 01 41 - -\n",
			"k1 0101010101010101010101010101010101010101010101010101010101010101 00 41 - -\n",
			"k1 0101010101010101010101010101010101010101010101010101010101010101 01 - - -\n",
			"k1 0101010101010101010101010101010101010101010101010101010101010101 01 2d41 - -\n",
			"k1 0101010101010101010101010101010101010101010101010101010101010101 01 41 0a -\n",
			"k1 0101010101010101010101010101010101010101010101010101010101010101 01 41 - - x\n",
			"k1 0101010101010101010101010101010101010101010101010101010101010101 01 41  -\n",
			"k1 0101010101010101010101010101010101010101010101010101010101010101 01 41 - -\n"
			"k1 0101010101010101010101010101010101010101010101010101010101010101 02 41 - -\n",
		};
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			memset(b, 0xa5, sizeof(*b));
			assert_int_equal(nk_hints_parse(bad[i], strlen(bad[i]), b),
			    NKHSM_ERR_FORMAT);
			assert_int_equal(b->n, 0);
		}
	}
	assert_int_equal(nk_hints_parse("", 0, b), 0);
	assert_int_equal(b->n, 0);
	free(a);
	free(b);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tlv),
		cmocka_unit_test(test_fci),
		cmocka_unit_test(test_objlist),
		cmocka_unit_test(test_pin),
		cmocka_unit_test(test_pubkey_files),
		cmocka_unit_test(test_pubkey_x509),
		cmocka_unit_test(test_devcert),
		cmocka_unit_test(test_tokeninfo),
		cmocka_unit_test(test_sig),
		cmocka_unit_test(test_hints),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
