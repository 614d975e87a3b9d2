/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * buf.h - a bounded byte buffer in the manner of OpenSSH's sshbuf: every
 * read checks the remaining length; every write checks the cap. Parsing of
 * SSH wire formats goes only through these functions.
 */
#ifndef NK_BUF_H
#define NK_BUF_H

#include <stddef.h>
#include <stdint.h>

#define NK_BUF_MAX	(16 * 1024 * 1024)

struct nk_buf {
	uint8_t	*d;		/* data (owned unless readonly) */
	size_t	 off;		/* read offset */
	size_t	 len;		/* bytes written */
	size_t	 cap;		/* bytes allocated */
	int	 readonly;	/* wraps caller memory */
};

void nk_buf_init(struct nk_buf *b);
/* Wrap memory for reading; nothing is copied and nothing is freed. */
void nk_buf_from(struct nk_buf *b, const uint8_t *d, size_t len);
/* Wipe and free the contents; the struct may be reused after init. */
void nk_buf_free(struct nk_buf *b);
size_t nk_buf_avail(const struct nk_buf *b);
const uint8_t *nk_buf_ptr(const struct nk_buf *b);
/* Hand the written bytes to the caller; the buffer becomes empty. */
int nk_buf_steal(struct nk_buf *b, uint8_t **dp, size_t *lenp);

int nk_buf_put(struct nk_buf *b, const void *v, size_t len);
int nk_buf_put_u8(struct nk_buf *b, uint8_t v);
int nk_buf_put_u32(struct nk_buf *b, uint32_t v);
int nk_buf_put_u64(struct nk_buf *b, uint64_t v);
int nk_buf_put_string(struct nk_buf *b, const void *v, size_t len);
int nk_buf_put_cstring(struct nk_buf *b, const char *s);
/* An SSH mpint from an unsigned big-endian magnitude: minimal, 0x00 added
 * when the top bit is set, zero as the empty string. */
int nk_buf_put_bignum2_bytes(struct nk_buf *b, const uint8_t *v, size_t len);

int nk_buf_get(struct nk_buf *b, void *v, size_t len);
int nk_buf_get_u8(struct nk_buf *b, uint8_t *v);
int nk_buf_get_u32(struct nk_buf *b, uint32_t *v);
int nk_buf_get_u64(struct nk_buf *b, uint64_t *v);
/* Point into the buffer without copying; the pointer lives as long as b. */
int nk_buf_get_string_direct(struct nk_buf *b, const uint8_t **vp, size_t *lenp);
/* A string that must be text without NULs; copied, NUL-terminated. */
int nk_buf_get_cstring(struct nk_buf *b, char **sp, size_t *lenp);
/* A positive mpint, as a magnitude without the sign byte; strict: rejects
 * negative values and non-minimal encodings. */
int nk_buf_get_bignum2_bytes_direct(struct nk_buf *b, const uint8_t **vp,
    size_t *lenp);

#endif /* NK_BUF_H */
