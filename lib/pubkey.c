/* SPDX-License-Identifier: BSD-2-Clause */
/* pubkey.c - EC public keys as OpenSSH lines and blobs, PEM and fingerprints */
#include "config.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/pem.h>

#include "nk-int.h"
#include "buf.h"

#define SSH_ECDSA_PREFIX	"ecdsa-sha2-"

int
nk_point_to_ssh_blob(const nkhsm_point_t *pt, uint8_t **blobp, size_t *lenp)
{
	struct nk_buf b;
	char type[32];
	int r;

	*blobp = NULL;
	*lenp = 0;
	if (pt == NULL || nkhsm_curve_ssh_name(pt->curve) == NULL)
		return NKHSM_ERR_INVALID_ARGUMENT;
	nk_buf_init(&b);
	snprintf(type, sizeof(type), SSH_ECDSA_PREFIX "%s",
	    nkhsm_curve_ssh_name(pt->curve));
	if ((r = nk_buf_put_cstring(&b, type)) != 0 ||
	    (r = nk_buf_put_cstring(&b, nkhsm_curve_ssh_name(pt->curve))) != 0 ||
	    (r = nk_buf_put_string(&b, pt->pt, pt->len)) != 0)
		goto out;
	r = nk_buf_steal(&b, blobp, lenp);
 out:
	nk_buf_free(&b);
	return r;
}

int
nkhsm_pubkey_to_ssh_blob(const EVP_PKEY *pub, uint8_t **blobp, size_t *lenp)
{
	nkhsm_point_t pt;
	int r;

	*blobp = NULL;
	*lenp = 0;
	if ((r = nkhsm_point_from_pkey(pub, &pt)) != 0)
		return r;
	return nk_point_to_ssh_blob(&pt, blobp, lenp);
}

/* The key type of a known but unsupported OpenSSH key. */
static int
known_unsupported(const char *type, size_t len)
{
	static const char *const types[] = {
		"ssh-rsa", "ssh-ed25519", "ssh-dss", "ssh-ed448",
		"sk-ecdsa-sha2-nistp256@openssh.com", "sk-ssh-ed25519@openssh.com",
		"rsa-sha2-256", "rsa-sha2-512",
	};
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strlen(types[i]) == len && memcmp(types[i], type, len) == 0)
			return 1;
	if (len > 21 && memcmp(type + len - 21, "-cert-v01@openssh.com", 21) == 0)
		return 1;
	return 0;
}

static int
curve_from_ssh_type(const uint8_t *t, size_t len, nkhsm_curve_t *cp)
{
	char name[32];
	const size_t plen = sizeof(SSH_ECDSA_PREFIX) - 1;

	*cp = NKHSM_CURVE_NONE;
	if (memchr(t, '\0', len) != NULL)
		return NKHSM_ERR_FORMAT;	/* "...nistp521\0junk" is not nistp521 */
	if (len <= plen || len - plen >= sizeof(name) ||
	    memcmp(t, SSH_ECDSA_PREFIX, plen) != 0)
		return known_unsupported((const char *)t, len) ?
		    NKHSM_ERR_UNSUPPORTED : NKHSM_ERR_FORMAT;
	memcpy(name, t + plen, len - plen);
	name[len - plen] = '\0';
	if (strncmp(name, "nistp", 5) != 0 ||
	    nkhsm_curve_from_name(name, cp) != 0)
		return NKHSM_ERR_UNSUPPORTED;
	return 0;
}

int
nkhsm_point_from_ssh_blob(const uint8_t *blob, size_t len, nkhsm_point_t *p)
{
	const uint8_t *type, *curve, *pt;
	size_t tlen, clen, ptlen;
	struct nk_buf b;
	nkhsm_curve_t c;
	const char *cname;
	int r;

	if (blob == NULL || p == NULL)
		return NKHSM_ERR_INVALID_ARGUMENT;
	memset(p, 0, sizeof(*p));
	nk_buf_from(&b, blob, len);
	if ((r = nk_buf_get_string_direct(&b, &type, &tlen)) != 0 ||
	    (r = curve_from_ssh_type(type, tlen, &c)) != 0)
		return r;
	if ((r = nk_buf_get_string_direct(&b, &curve, &clen)) != 0 ||
	    (r = nk_buf_get_string_direct(&b, &pt, &ptlen)) != 0)
		return r;
	cname = nkhsm_curve_ssh_name(c);
	if (clen != strlen(cname) || memcmp(curve, cname, clen) != 0)
		return NKHSM_ERR_FORMAT;	/* curve disagrees with type */
	if (nk_buf_avail(&b) != 0)
		return NKHSM_ERR_FORMAT;	/* trailing data */
	/* Uncompressed, as OpenSSH writes and reads them. */
	if (ptlen != 1 + 2 * nkhsm_curve_bytes(c) || pt[0] != 0x04)
		return NKHSM_ERR_FORMAT;
	p->curve = c;
	p->len = ptlen;
	memcpy(p->pt, pt, ptlen);
	return 0;
}

int
nkhsm_pubkey_from_ssh_blob(const uint8_t *blob, size_t len, EVP_PKEY **pubp)
{
	nkhsm_point_t p;
	int r;

	*pubp = NULL;
	if ((r = nkhsm_point_from_ssh_blob(blob, len, &p)) != 0)
		return r;
	return nk_pkey_from_point(p.curve, p.pt, p.len, pubp);
}

int
nkhsm_point_from_pkey(const EVP_PKEY *pub, nkhsm_point_t *p)
{
	size_t len = sizeof(p->pt);
	int r;

	if (pub == NULL || p == NULL)
		return NKHSM_ERR_INVALID_ARGUMENT;
	memset(p, 0, sizeof(*p));
	if ((r = nkhsm_curve_of_pkey(pub, &p->curve)) != 0 ||
	    (r = nk_point_from_pkey(pub, p->pt, &len)) != 0)
		return r;
	p->len = len;
	return 0;
}

int
nkhsm_pubkey_to_ssh(const EVP_PKEY *pub, const char *comment, char **linep)
{
	uint8_t *blob = NULL;
	size_t bloblen = 0, n;
	char *b64 = NULL, *line = NULL;
	nkhsm_curve_t c;
	int r;

	*linep = NULL;
	if ((r = nkhsm_curve_of_pkey(pub, &c)) != 0 ||
	    (r = nkhsm_pubkey_to_ssh_blob(pub, &blob, &bloblen)) != 0 ||
	    (r = nk_b64_encode(blob, bloblen, 1, &b64)) != 0)
		goto out;
	if (comment != NULL && (strchr(comment, '\n') != NULL ||
	    strchr(comment, '\r') != NULL)) {
		r = NKHSM_ERR_INVALID_ARGUMENT;
		goto out;
	}
	n = strlen(SSH_ECDSA_PREFIX) + strlen(nkhsm_curve_ssh_name(c)) + 1 +
	    strlen(b64) + (comment != NULL ? 1 + strlen(comment) : 0) + 1;
	if ((line = malloc(n)) == NULL) {
		r = NKHSM_ERR_NOMEM;
		goto out;
	}
	snprintf(line, n, SSH_ECDSA_PREFIX "%s %s%s%s", nkhsm_curve_ssh_name(c),
	    b64, comment != NULL && *comment != '\0' ? " " : "",
	    comment != NULL ? comment : "");
	*linep = line;
	line = NULL;
	r = 0;
 out:
	free(blob);
	free(b64);
	free(line);
	return r;
}

void
nk_ssh_line_split(const char *line, const char **typep, size_t *tlenp,
    const char **b64p, size_t *blenp, const char **commentp, size_t *clenp)
{
	const char *p = line;
	size_t clen;

	while (*p == ' ' || *p == '\t')
		p++;
	*typep = p;
	*tlenp = strcspn(p, " \t\r\n");
	p += *tlenp;
	while (*p == ' ' || *p == '\t')
		p++;
	*b64p = p;
	*blenp = strcspn(p, " \t\r\n");
	p += *blenp;
	while (*p == ' ' || *p == '\t')
		p++;
	*commentp = p;
	clen = strcspn(p, "\r\n");
	while (clen > 0 && (p[clen - 1] == ' ' || p[clen - 1] == '\t'))
		clen--;
	*clenp = clen;
}

int
nkhsm_pubkey_from_ssh(const char *line, EVP_PKEY **pubp, char **commentp)
{
	const char *type, *b64, *comment;
	size_t tlen, blen, clen;
	uint8_t *blob = NULL;
	size_t bloblen = 0;
	char *cm = NULL;
	EVP_PKEY *pub = NULL;
	nkhsm_curve_t c;
	struct nk_buf tb;
	const uint8_t *btype;
	size_t btlen;
	int r;

	*pubp = NULL;
	if (commentp != NULL)
		*commentp = NULL;
	if (line == NULL)
		return NKHSM_ERR_INVALID_ARGUMENT;
	if (strlen(line) > NKHSM_PUBKEY_LINE_MAX)
		return NKHSM_ERR_TOO_LARGE;
	nk_ssh_line_split(line, &type, &tlen, &b64, &blen, &comment, &clen);
	if (tlen == 0 || blen == 0)
		return NKHSM_ERR_FORMAT;
	if ((r = curve_from_ssh_type((const uint8_t *)type, tlen, &c)) != 0)
		return r;
	if ((r = nk_b64_decode(b64, blen, &blob, &bloblen)) != 0)
		goto out;
	/* The type inside the blob must be the one the line names. */
	nk_buf_from(&tb, blob, bloblen);
	if ((r = nk_buf_get_string_direct(&tb, &btype, &btlen)) != 0)
		goto out;
	if (btlen != tlen || memcmp(btype, type, tlen) != 0) {
		r = NKHSM_ERR_FORMAT;
		goto out;
	}
	if ((r = nkhsm_pubkey_from_ssh_blob(blob, bloblen, &pub)) != 0)
		goto out;
	if (commentp != NULL) {
		if ((cm = malloc(clen + 1)) == NULL) {
			r = NKHSM_ERR_NOMEM;
			goto out;
		}
		memcpy(cm, comment, clen);
		cm[clen] = '\0';
		*commentp = cm;
		cm = NULL;
	}
	*pubp = pub;
	pub = NULL;
	r = 0;
 out:
	free(blob);
	free(cm);
	EVP_PKEY_free(pub);
	return r;
}

int
nkhsm_pubkey_to_pem(const EVP_PKEY *pub, char **pemp)
{
	BIO *bio = NULL;
	char *data, *pem = NULL;
	long n;
	int r = NKHSM_ERR_CRYPTO;

	*pemp = NULL;
	if (pub == NULL)
		return NKHSM_ERR_INVALID_ARGUMENT;
	if ((bio = BIO_new(BIO_s_mem())) == NULL ||
	    !PEM_write_bio_PUBKEY(bio, (EVP_PKEY *)pub) ||
	    (n = BIO_get_mem_data(bio, &data)) <= 0)
		goto out;
	if ((pem = malloc((size_t)n + 1)) == NULL) {
		r = NKHSM_ERR_NOMEM;
		goto out;
	}
	memcpy(pem, data, (size_t)n);
	pem[n] = '\0';
	*pemp = pem;
	r = 0;
 out:
	BIO_free(bio);
	return r;
}

int
nkhsm_blob_fingerprint(const uint8_t *blob, size_t len, char **fpp)
{
	uint8_t dgst[NK_MAX_DIGEST];
	size_t dlen = 0;
	char *b64 = NULL;
	int r;

	if (fpp == NULL)
		return NKHSM_ERR_INVALID_ARGUMENT;
	*fpp = NULL;
	if (blob == NULL)
		return NKHSM_ERR_INVALID_ARGUMENT;
	if ((r = nk_sha2(256, blob, len, dgst, &dlen)) != 0 ||
	    (r = nk_b64_encode(dgst, dlen, 0, &b64)) != 0)
		return r;
	if ((*fpp = malloc(7 + strlen(b64) + 1)) == NULL)
		r = NKHSM_ERR_NOMEM;
	else {
		memcpy(*fpp, "SHA256:", 7);
		memcpy(*fpp + 7, b64, strlen(b64) + 1);
	}
	free(b64);
	return r;
}

int
nkhsm_pubkey_fingerprint(const EVP_PKEY *pub, char **fpp)
{
	uint8_t *blob = NULL;
	size_t bloblen = 0;
	int r;

	*fpp = NULL;
	if ((r = nkhsm_pubkey_to_ssh_blob(pub, &blob, &bloblen)) == 0)
		r = nkhsm_blob_fingerprint(blob, bloblen, fpp);
	free(blob);
	return r;
}

int
nkhsm_pubkey_equal(const EVP_PKEY *a, const EVP_PKEY *b)
{
	uint8_t pa[NK_MAX_POINT], pb[NK_MAX_POINT];
	size_t la = sizeof(pa), lb = sizeof(pb);
	nkhsm_curve_t ca, cb;

	if (a == NULL || b == NULL ||
	    nkhsm_curve_of_pkey(a, &ca) != 0 ||
	    nkhsm_curve_of_pkey(b, &cb) != 0 || ca != cb ||
	    nk_point_from_pkey(a, pa, &la) != 0 ||
	    nk_point_from_pkey(b, pb, &lb) != 0)
		return 0;
	return la == lb && CRYPTO_memcmp(pa, pb, la) == 0;
}
