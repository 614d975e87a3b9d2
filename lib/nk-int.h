/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nk-int.h - helpers shared inside libnkhsm (and by its tests/fuzzers).
 * Not installed; symbols are nk_* and are not exported by libnkhsm.so.
 */
#ifndef NK_INT_H
#define NK_INT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "nkhsm.h"

#define NK_MAX_DIGEST	64		/* SHA-512 */
#define NK_MAX_FIELD	66		/* P-521 */
#define NK_MAX_POINT	(1 + 2 * NK_MAX_FIELD)
#define NK_B64_MAX	(1024 * 1024)	/* one key, certificate or signature */

void nk_freezero(void *p, size_t len);
void nk_wipe(void *p, size_t len);
char *nk_strdup(const char *s);
/* Copy a blank-padded PKCS#11 string into a NUL-terminated one. */
char *nk_padded_dup(const unsigned char *s, size_t len);
/* printf into errbuf; safe with errbuf == NULL or errlen == 0. */
void nk_errf(char *errbuf, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Base64 (standard alphabet). dec rejects bad characters and bad padding. */
int nk_b64_encode(const uint8_t *in, size_t len, int pad, char **outp);
int nk_b64_decode(const char *in, size_t len, uint8_t **outp, size_t *outlenp);
/* The same into out, which has room for len / 4 * 3 bytes. */
int nk_b64_decode_to(const char *in, size_t len, uint8_t *out,
    size_t *outlenp);

/* A copy of len bytes (malloc), or NULL. */
void *nk_memdup(const void *p, size_t len);

/* "8h", "1w2d": seconds; -1 for zero, no unit or overflow (util.c). */
int nk_duration_parse(const char *s, uint64_t *secsp);

/* Hex: "0a1b" (lower case) and back; dec takes upper or lower case. */
int nk_hexval(int c);	/* 0-15, or -1 */
int nk_hex_encode(const uint8_t *in, size_t len, char **outp);
int nk_hex_decode(const char *in, uint8_t **outp, size_t *outlenp);

/* EC helpers (curve.c). */
int nk_ec_params_der(nkhsm_curve_t curve, const uint8_t **derp, size_t *lenp);
int nk_curve_from_params(const uint8_t *der, size_t len, nkhsm_curve_t *curvep);
/* Uncompressed point (0x04||X||Y) <-> EVP_PKEY. */
int nk_pkey_from_point(nkhsm_curve_t curve, const uint8_t *pt, size_t len,
    EVP_PKEY **pkeyp);
int nk_point_from_pkey(const EVP_PKEY *pkey, uint8_t *pt, size_t *lenp);
/* CKA_EC_POINT is a DER OCTET STRING around the point (some modules omit it). */
int nk_point_unwrap(const uint8_t *in, size_t len, const uint8_t **ptp,
    size_t *ptlenp);
int nk_point_wrap(const uint8_t *pt, size_t len, uint8_t *out, size_t *outlenp);
/*
 * "TYPE BASE64 [comment]" (pubkey.c): the three fields, blanks around them
 * trimmed; the comment runs to the end of the line. An absent field has
 * length 0.
 */
void nk_ssh_line_split(const char *line, const char **typep, size_t *tlenp,
    const char **b64p, size_t *blenp, const char **commentp, size_t *clenp);
/* The curve's hash; SHA-2 by size (256/384/512). Both in ecraw.c. */
int nk_digest(nkhsm_curve_t curve, const uint8_t *msg, size_t len,
    uint8_t *out, size_t *outlenp);
int nk_sha2(unsigned int bits, const uint8_t *msg, size_t len, uint8_t *out,
    size_t *outlenp);
/* SHA-1, for the KRL sections that name keys by it (never for signatures). */
int nk_sha1(const uint8_t *msg, size_t len, uint8_t out[20]);
/* ECDSA (DER signature) over a digest the caller computed; ecraw.c. */
int nk_ecdsa_verify_digest(const nkhsm_point_t *pub, const uint8_t *dgst,
    size_t dlen, const uint8_t *der, size_t derlen);
/* The OpenSSH blob of an EC point (pubkey.c), without an EVP_PKEY. */
int nk_point_to_ssh_blob(const nkhsm_point_t *pt, uint8_t **blobp,
    size_t *lenp);

/* Configuration-like files (file.c). */
int nk_file_load(const char *path, long owner_uid, size_t max, char **textp,
    size_t *lenp, char *errbuf, size_t errlen);
/*
 * One "KEY = VALUE" line of a configuration-like file: 0 for a blank or
 * '#' line; 1 with the key and the value's start (blanks after '='
 * skipped; the value runs to s + len); NKHSM_ERR_CONFIG with "NAME:LINE:
 * missing '=' after 'KEY'" or "missing key before '='" in errbuf.
 */
int nk_kv_split(const char *name, size_t lineno, const char *s, size_t len,
    const char **keyp, size_t *keylenp, const char **valp, char *errbuf,
    size_t errlen);
/* Untrusted bytes quoted for a message: printable ASCII, else \xNN. */
#define NK_ECHO_MAX	64	/* bytes of a bad key or value echoed */
void nk_echo(char *dst, size_t dstlen, const char *s, size_t len);
/* The rest of an open file, at most max bytes (else NKHSM_ERR_TOO_LARGE). */
int nk_fd_read_all(int fd, const char *path, size_t max, char **textp,
    size_t *lenp, char *errbuf, size_t errlen);
/* Lines of a text, with "NAME:LINE: line too long" and "NUL byte" errors. */
struct nk_lines {
	const char	*p, *end;
	size_t		 lineno;
};
void nk_lines_init(struct nk_lines *it, const char *text, size_t len);
/* 1 and the line (without its newline), 0 at the end, or an error. */
int nk_lines_next(struct nk_lines *it, const char *name, size_t maxlen,
    const char **linep, size_t *lenp, char *errbuf, size_t errlen);

#endif /* NK_INT_H */
