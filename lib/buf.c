/* SPDX-License-Identifier: BSD-2-Clause */
/* buf.c - bounded buffer for SSH wire encodings (see buf.h) */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "nk-int.h"
#include "buf.h"

void
nk_buf_init(struct nk_buf *b)
{
	memset(b, 0, sizeof(*b));
}

void
nk_buf_from(struct nk_buf *b, const uint8_t *d, size_t len)
{
	memset(b, 0, sizeof(*b));
	b->d = (uint8_t *)d;	/* never written: readonly */
	b->len = b->cap = len;
	b->readonly = 1;
}

void
nk_buf_free(struct nk_buf *b)
{
	if (b == NULL)
		return;
	if (!b->readonly)
		nk_freezero(b->d, b->cap);
	memset(b, 0, sizeof(*b));
}

size_t
nk_buf_avail(const struct nk_buf *b)
{
	return b->len - b->off;
}

const uint8_t *
nk_buf_ptr(const struct nk_buf *b)
{
	return b->d + b->off;
}

int
nk_buf_steal(struct nk_buf *b, uint8_t **dp, size_t *lenp)
{
	uint8_t *d;
	size_t len = nk_buf_avail(b);

	*dp = NULL;
	*lenp = 0;
	if (b->readonly)
		return NKHSM_ERR_INVALID_ARGUMENT;
	if ((d = malloc(len == 0 ? 1 : len)) == NULL)
		return NKHSM_ERR_NOMEM;
	if (len > 0)
		memcpy(d, nk_buf_ptr(b), len);
	nk_buf_free(b);
	*dp = d;
	*lenp = len;
	return 0;
}

/* Grow by copying (never realloc: the old block is wiped). */
static int
reserve(struct nk_buf *b, size_t need)
{
	uint8_t *d;
	size_t cap;

	if (b->readonly)
		return NKHSM_ERR_INVALID_ARGUMENT;
	if (need > NK_BUF_MAX || b->len > NK_BUF_MAX - need)
		return NKHSM_ERR_TOO_LARGE;
	if (b->len + need <= b->cap)
		return 0;
	cap = b->cap < 256 ? 256 : b->cap;
	while (cap < b->len + need)
		cap *= 2;
	if (cap > NK_BUF_MAX)
		cap = NK_BUF_MAX;
	if ((d = malloc(cap)) == NULL)
		return NKHSM_ERR_NOMEM;
	if (b->len > 0)
		memcpy(d, b->d, b->len);
	nk_freezero(b->d, b->cap);
	b->d = d;
	b->cap = cap;
	return 0;
}

int
nk_buf_put(struct nk_buf *b, const void *v, size_t len)
{
	int r;

	if ((r = reserve(b, len)) != 0)
		return r;
	if (len > 0)
		memcpy(b->d + b->len, v, len);
	b->len += len;
	return 0;
}

int
nk_buf_put_u8(struct nk_buf *b, uint8_t v)
{
	return nk_buf_put(b, &v, 1);
}

int
nk_buf_put_u32(struct nk_buf *b, uint32_t v)
{
	uint8_t d[4];

	d[0] = (uint8_t)(v >> 24);
	d[1] = (uint8_t)(v >> 16);
	d[2] = (uint8_t)(v >> 8);
	d[3] = (uint8_t)v;
	return nk_buf_put(b, d, sizeof(d));
}

int
nk_buf_put_u64(struct nk_buf *b, uint64_t v)
{
	int r;

	if ((r = nk_buf_put_u32(b, (uint32_t)(v >> 32))) != 0)
		return r;
	return nk_buf_put_u32(b, (uint32_t)v);
}

int
nk_buf_put_string(struct nk_buf *b, const void *v, size_t len)
{
	int r;

	if (len > NK_BUF_MAX)
		return NKHSM_ERR_TOO_LARGE;
	if ((r = nk_buf_put_u32(b, (uint32_t)len)) != 0)
		return r;
	return nk_buf_put(b, v, len);
}

int
nk_buf_put_cstring(struct nk_buf *b, const char *s)
{
	return nk_buf_put_string(b, s, s == NULL ? 0 : strlen(s));
}

int
nk_buf_put_bignum2_bytes(struct nk_buf *b, const uint8_t *v, size_t len)
{
	uint8_t zero = 0;
	int r, prepend;

	while (len > 0 && *v == 0) {
		v++;
		len--;
	}
	prepend = len > 0 && (v[0] & 0x80) != 0;
	if (len > NK_BUF_MAX - 1)
		return NKHSM_ERR_TOO_LARGE;
	if ((r = nk_buf_put_u32(b, (uint32_t)(len + prepend))) != 0 ||
	    (prepend && (r = nk_buf_put(b, &zero, 1)) != 0))
		return r;
	return nk_buf_put(b, v, len);
}

int
nk_buf_get(struct nk_buf *b, void *v, size_t len)
{
	if (len > nk_buf_avail(b))
		return NKHSM_ERR_FORMAT;
	if (v != NULL && len > 0)
		memcpy(v, nk_buf_ptr(b), len);
	b->off += len;
	return 0;
}

/* The integers are read in place: parsers of long lists call these a lot. */
int
nk_buf_get_u8(struct nk_buf *b, uint8_t *v)
{
	if (b->len - b->off < 1)
		return NKHSM_ERR_FORMAT;
	if (v != NULL)
		*v = b->d[b->off];
	b->off++;
	return 0;
}

int
nk_buf_get_u32(struct nk_buf *b, uint32_t *v)
{
	const uint8_t *d;

	if (b->len - b->off < 4)
		return NKHSM_ERR_FORMAT;
	d = b->d + b->off;
	if (v != NULL)
		*v = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 |
		    (uint32_t)d[2] << 8 | d[3];
	b->off += 4;
	return 0;
}

int
nk_buf_get_u64(struct nk_buf *b, uint64_t *v)
{
	uint32_t hi, lo;
	int r;

	if ((r = nk_buf_get_u32(b, &hi)) != 0 ||
	    (r = nk_buf_get_u32(b, &lo)) != 0)
		return r;
	if (v != NULL)
		*v = (uint64_t)hi << 32 | lo;
	return 0;
}

int
nk_buf_get_string_direct(struct nk_buf *b, const uint8_t **vp, size_t *lenp)
{
	const uint8_t *p;
	uint32_t len;
	size_t off = b->off;
	int r;

	if (vp != NULL)
		*vp = NULL;
	if (lenp != NULL)
		*lenp = 0;
	if ((r = nk_buf_get_u32(b, &len)) != 0)
		return r;
	if (len > NK_BUF_MAX || len > nk_buf_avail(b)) {
		b->off = off;
		return NKHSM_ERR_FORMAT;
	}
	p = nk_buf_ptr(b);
	b->off += len;
	if (vp != NULL)
		*vp = p;
	if (lenp != NULL)
		*lenp = len;
	return 0;
}

int
nk_buf_get_cstring(struct nk_buf *b, char **sp, size_t *lenp)
{
	const uint8_t *v;
	size_t len, off = b->off;
	char *s;
	int r;

	if (sp != NULL)
		*sp = NULL;
	if (lenp != NULL)
		*lenp = 0;
	if ((r = nk_buf_get_string_direct(b, &v, &len)) != 0)
		return r;
	if (len > 0 && memchr(v, '\0', len) != NULL) {
		b->off = off;
		return NKHSM_ERR_FORMAT;
	}
	if (sp != NULL) {
		if ((s = malloc(len + 1)) == NULL) {
			b->off = off;
			return NKHSM_ERR_NOMEM;
		}
		if (len > 0)
			memcpy(s, v, len);
		s[len] = '\0';
		*sp = s;
	}
	if (lenp != NULL)
		*lenp = len;
	return 0;
}

int
nk_buf_get_bignum2_bytes_direct(struct nk_buf *b, const uint8_t **vp,
    size_t *lenp)
{
	const uint8_t *v;
	size_t len, off = b->off;
	int r;

	*vp = NULL;
	*lenp = 0;
	if ((r = nk_buf_get_string_direct(b, &v, &len)) != 0)
		return r;
	r = NKHSM_ERR_FORMAT;
	if (len > 0 && (v[0] & 0x80) != 0)
		goto fail;		/* negative */
	if (len > 1 && v[0] == 0 && (v[1] & 0x80) == 0)
		goto fail;		/* non-minimal */
	if (len == 1 && v[0] == 0)
		goto fail;		/* zero must be the empty string */
	if (len > 0 && v[0] == 0) {
		v++;
		len--;
	}
	*vp = v;
	*lenp = len;
	return 0;
 fail:
	b->off = off;
	return r;
}
