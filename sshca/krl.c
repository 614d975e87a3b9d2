/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * krl.c - OpenSSH key revocation lists (PROTOCOL.krl), encoded with the
 * bounded buffer. Pure: no I/O. The output follows what OpenSSH's own
 * ssh_krl_to_blob() writes and what its parser (krl.c) accepts:
 *
 *  - serials sorted and unique; serial 0 is never written (OpenSSH's
 *    parser refuses a KRL that names it, which would lock everyone out);
 *    runs of KRL_RANGE_MIN or more become one SERIAL_RANGE subsection,
 *    the rest go into SERIAL_LIST subsections;
 *  - key ids sorted (strcmp, as OpenSSH's tree) and unique, in one
 *    CERT_KEY_ID subsection after the serials;
 *  - SHA-256 hashes in numeric (memcmp) order, unique, as PROTOCOL.krl
 *    requires;
 *  - a section or subsection is written only when it has an entry
 *    ("must contain at least one"), so empty input is the bare header.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "nk-int.h"
#include "buf.h"
#include "sshca.h"

#define KRL_MAGIC			UINT64_C(0x5353484b524c0a00)
#define KRL_FORMAT_VERSION		1
#define KRL_SECTION_CERTIFICATES	1
#define KRL_SECTION_FINGERPRINT_SHA256	5
#define KRL_SECTION_CERT_SERIAL_LIST	0x20
#define KRL_SECTION_CERT_SERIAL_RANGE	0x21
#define KRL_SECTION_CERT_KEY_ID		0x23

#define KRL_SERIALS_MAX		1000000
#define KRL_KEY_IDS_MAX		100000
#define KRL_SHA256_MAX		100000
#define KRL_SHA256_LEN		32
/* A range subsection (21 bytes) beats list entries (8 each) from 4 on. */
#define KRL_RANGE_MIN		4

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int
cmp_sha256(const void *a, const void *b)
{
	return memcmp(a, b, KRL_SHA256_LEN);
}

/* Sort and drop repeats; returns the new count. */
static size_t
sort_unique(void *base, size_t n, size_t size,
    int (*cmp)(const void *, const void *))
{
	uint8_t *p = base;
	size_t i, k = 0;

	if (n == 0)
		return 0;
	qsort(base, n, size, cmp);
	for (i = 1; i < n; i++) {
		if (cmp(p + k * size, p + i * size) == 0)
			continue;
		k++;
		if (k != i)
			memcpy(p + k * size, p + i * size, size);
	}
	return k + 1;
}

/* byte type || string(sub); sub is emptied for reuse. */
static int
put_section(struct nk_buf *dst, uint8_t type, struct nk_buf *sub)
{
	int r;

	r = nk_buf_put_u8(dst, type);
	if (r == 0)
		r = nk_buf_put_string(dst, nk_buf_ptr(sub), nk_buf_avail(sub));
	nk_buf_free(sub);
	nk_buf_init(sub);
	return r;
}

/*
 * The CA must be a plain public key OpenSSH can load: a blob it cannot
 * parse makes the whole KRL unloadable.
 */
static int
check_ca_blob(const uint8_t *blob, size_t len)
{
	const uint8_t *type, *v;
	size_t tlen, vlen;
	struct nk_buf b;
	EVP_PKEY *pub = NULL;
	int r;

	nk_buf_from(&b, blob, len);
	if ((r = nk_buf_get_string_direct(&b, &type, &tlen)) != 0)
		return NKHSM_ERR_FORMAT;
	if (tlen > 16 && memcmp(type, "ecdsa-sha2-nistp", 16) == 0) {
		if ((r = nkhsm_pubkey_from_ssh_blob(blob, len, &pub)) != 0)
			return r;
		EVP_PKEY_free(pub);
		return 0;
	}
	if (tlen == 11 && memcmp(type, "ssh-ed25519", 11) == 0) {
		if ((r = nk_buf_get_string_direct(&b, &v, &vlen)) != 0 ||
		    vlen != 32)
			return NKHSM_ERR_FORMAT;
	} else if (tlen == 7 && memcmp(type, "ssh-rsa", 7) == 0) {
		if (nk_buf_get_bignum2_bytes_direct(&b, &v, &vlen) != 0 ||
		    vlen == 0 ||
		    nk_buf_get_bignum2_bytes_direct(&b, &v, &vlen) != 0 ||
		    vlen * 8 < SC_RSA_MIN_BITS)
			return NKHSM_ERR_FORMAT;
	} else
		return NKHSM_ERR_UNSUPPORTED;
	return nk_buf_avail(&b) == 0 ? 0 : NKHSM_ERR_FORMAT;
}

/* Serial subsections from a sorted, unique, non-zero array. */
static int
put_serials(struct nk_buf *sect, const uint64_t *s, size_t n)
{
	struct nk_buf sub;
	size_t i, j, k;
	int r = 0;

	nk_buf_init(&sub);
	for (i = 0; i < n && r == 0; i = j + 1) {
		for (j = i; j + 1 < n && s[j + 1] == s[j] + 1; j++)
			;
		if (j - i + 1 < KRL_RANGE_MIN) {
			for (k = i; k <= j && r == 0; k++)
				r = nk_buf_put_u64(&sub, s[k]);
			continue;
		}
		if (nk_buf_avail(&sub) != 0 && (r = put_section(sect,
		    KRL_SECTION_CERT_SERIAL_LIST, &sub)) != 0)
			break;
		if ((r = nk_buf_put_u64(&sub, s[i])) != 0 ||
		    (r = nk_buf_put_u64(&sub, s[j])) != 0 ||
		    (r = put_section(sect, KRL_SECTION_CERT_SERIAL_RANGE,
		    &sub)) != 0)
			break;
	}
	if (r == 0 && nk_buf_avail(&sub) != 0)
		r = put_section(sect, KRL_SECTION_CERT_SERIAL_LIST, &sub);
	nk_buf_free(&sub);
	return r;
}

static int
put_key_ids(struct nk_buf *sect, const char *const *ids, size_t n)
{
	struct nk_buf sub;
	size_t i;
	int r = 0;

	if (n == 0)
		return 0;
	nk_buf_init(&sub);
	for (i = 0; i < n && r == 0; i++)
		r = nk_buf_put_cstring(&sub, ids[i]);
	if (r == 0)
		r = put_section(sect, KRL_SECTION_CERT_KEY_ID, &sub);
	nk_buf_free(&sub);
	return r;
}

int
sc_krl_encode(const struct sc_krl_input *in, uint8_t **krlp, size_t *lenp)
{
	struct nk_buf out, sect, sub;
	uint64_t *serials = NULL;
	const char **ids = NULL;
	uint8_t (*hashes)[KRL_SHA256_LEN] = NULL;
	size_t i, nserials = 0, nids = 0, nhashes = 0, len;
	int r = NKHSM_ERR_INTERNAL;

	nk_buf_init(&out);
	nk_buf_init(&sect);
	nk_buf_init(&sub);
	if (krlp != NULL)
		*krlp = NULL;
	if (lenp != NULL)
		*lenp = 0;
	if (in == NULL || krlp == NULL || lenp == NULL ||
	    (in->serials == NULL && in->nserials != 0) ||
	    (in->key_ids == NULL && in->nkey_ids != 0) ||
	    (in->sha256 == NULL && in->nsha256 != 0) ||
	    (in->ca_blob == NULL && in->ca_len != 0))
		return NKHSM_ERR_INVALID_ARGUMENT;
	if (in->nserials > KRL_SERIALS_MAX || in->nkey_ids > KRL_KEY_IDS_MAX ||
	    in->nsha256 > KRL_SHA256_MAX)
		return NKHSM_ERR_TOO_LARGE;
	/* Revocations by serial or key id need the CA they are scoped to:
	 * an empty CA would revoke them under every CA. */
	if (in->nserials + in->nkey_ids != 0) {
		if (in->ca_len == 0)
			return NKHSM_ERR_INVALID_ARGUMENT;
		if ((r = check_ca_blob(in->ca_blob, in->ca_len)) != 0)
			return r;
	}
	for (i = 0; i < in->nserials; i++) {
		if (in->serials[i] == 0)
			return NKHSM_ERR_INVALID_ARGUMENT;
	}
	for (i = 0; i < in->nkey_ids; i++) {
		if (in->key_ids[i] == NULL ||
		    (len = strlen(in->key_ids[i])) == 0 ||
		    len > SC_KEYID_LEN_MAX)
			return NKHSM_ERR_INVALID_ARGUMENT;
	}

	if (in->nserials != 0) {
		if ((serials = calloc(in->nserials, sizeof(*serials))) == NULL) {
			r = NKHSM_ERR_NOMEM;
			goto out;
		}
		memcpy(serials, in->serials, in->nserials * sizeof(*serials));
		nserials = sort_unique(serials, in->nserials, sizeof(*serials),
		    cmp_u64);
	}
	if (in->nkey_ids != 0) {
		if ((ids = calloc(in->nkey_ids, sizeof(*ids))) == NULL) {
			r = NKHSM_ERR_NOMEM;
			goto out;
		}
		memcpy(ids, in->key_ids, in->nkey_ids * sizeof(*ids));
		nids = sort_unique(ids, in->nkey_ids, sizeof(*ids), cmp_str);
	}
	if (in->nsha256 != 0) {
		if ((hashes = calloc(in->nsha256, sizeof(*hashes))) == NULL) {
			r = NKHSM_ERR_NOMEM;
			goto out;
		}
		memcpy(hashes, in->sha256, in->nsha256 * sizeof(*hashes));
		nhashes = sort_unique(hashes, in->nsha256, sizeof(*hashes),
		    cmp_sha256);
	}

	if ((r = nk_buf_put_u64(&out, KRL_MAGIC)) != 0 ||
	    (r = nk_buf_put_u32(&out, KRL_FORMAT_VERSION)) != 0 ||
	    (r = nk_buf_put_u64(&out, in->version)) != 0 ||
	    (r = nk_buf_put_u64(&out, in->generated)) != 0 ||
	    (r = nk_buf_put_u64(&out, 0)) != 0 ||		/* flags */
	    (r = nk_buf_put_string(&out, NULL, 0)) != 0 ||	/* reserved */
	    (r = nk_buf_put_cstring(&out,
	    in->comment != NULL ? in->comment : "")) != 0)
		goto out;

	if (nserials + nids != 0) {
		if ((r = nk_buf_put_string(&sect, in->ca_blob,
		    in->ca_len)) != 0 ||
		    (r = nk_buf_put_string(&sect, NULL, 0)) != 0 ||
		    (r = put_serials(&sect, serials, nserials)) != 0 ||
		    (r = put_key_ids(&sect, ids, nids)) != 0 ||
		    (r = put_section(&out, KRL_SECTION_CERTIFICATES,
		    &sect)) != 0)
			goto out;
	}
	if (nhashes != 0) {
		for (i = 0; i < nhashes; i++) {
			if ((r = nk_buf_put_string(&sub, hashes[i],
			    KRL_SHA256_LEN)) != 0)
				goto out;
		}
		if ((r = put_section(&out, KRL_SECTION_FINGERPRINT_SHA256,
		    &sub)) != 0)
			goto out;
	}
	r = nk_buf_steal(&out, krlp, lenp);
 out:
	nk_buf_free(&out);
	nk_buf_free(&sect);
	nk_buf_free(&sub);
	free(serials);
	free(ids);
	free(hashes);
	return r;
}
