/* SPDX-License-Identifier: BSD-2-Clause */
/* util.c - small helpers: wiping, strings, base64, hex */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "nk-int.h"

void
nk_wipe(void *p, size_t len)
{
	if (p != NULL && len > 0)
		OPENSSL_cleanse(p, len);
}

void
nk_freezero(void *p, size_t len)
{
	if (p == NULL)
		return;
	nk_wipe(p, len);
	free(p);
}

char *
nk_strdup(const char *s)
{
	return s == NULL ? NULL : strdup(s);
}

char *
nk_padded_dup(const unsigned char *s, size_t len)
{
	char *r;

	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\0'))
		len--;
	if ((r = malloc(len + 1)) == NULL)
		return NULL;
	memcpy(r, s, len);
	r[len] = '\0';
	return r;
}

void
nk_errf(char *errbuf, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (errbuf == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	(void)vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
}

static const char b64chars[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int
nk_b64_encode(const uint8_t *in, size_t len, int pad, char **outp)
{
	char *out, *o;
	size_t i, olen;

	*outp = NULL;
	if (len > NKHSM_MSG_MAX)
		return NKHSM_ERR_TOO_LARGE;
	olen = 4 * ((len + 2) / 3) + 1;
	if ((out = o = malloc(olen)) == NULL)
		return NKHSM_ERR_NOMEM;
	for (i = 0; i + 2 < len; i += 3) {
		*o++ = b64chars[in[i] >> 2];
		*o++ = b64chars[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
		*o++ = b64chars[((in[i + 1] & 15) << 2) | (in[i + 2] >> 6)];
		*o++ = b64chars[in[i + 2] & 63];
	}
	if (len - i == 1) {
		*o++ = b64chars[in[i] >> 2];
		*o++ = b64chars[(in[i] & 3) << 4];
		if (pad) {
			*o++ = '=';
			*o++ = '=';
		}
	} else if (len - i == 2) {
		*o++ = b64chars[in[i] >> 2];
		*o++ = b64chars[((in[i] & 3) << 4) | (in[i + 1] >> 4)];
		*o++ = b64chars[(in[i + 1] & 15) << 2];
		if (pad)
			*o++ = '=';
	}
	*o = '\0';
	*outp = out;
	return 0;
}

/* Each byte's 6-bit value, -1 for bytes outside the alphabet (and '='). */
static const signed char b64vals[256] = {
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, 62, -1, -1, -1, 63,
	52, 53, 54, 55, 56, 57, 58, 59, 60, 61, -1, -1, -1, -1, -1, -1,
	-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14,
	15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, -1, -1, -1, -1, -1,
	-1, 26, 27, 28, 29, 30, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40,
	41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
};

static int
b64val(int c)
{
	return b64vals[c & 0xff];
}

/*
 * Strict: padding required to a multiple of 4, no whitespace, zero tail
 * bits. Into out, which has room for len / 4 * 3 bytes.
 */
int
nk_b64_decode_to(const char *in, size_t len, uint8_t *out, size_t *outlenp)
{
	const unsigned char *u = (const unsigned char *)in;
	size_t i, o = 0, npad = 0;
	int v[4], j;

	*outlenp = 0;
	if (len == 0 || len % 4 != 0)
		return NKHSM_ERR_FORMAT;
	/* Every group but the last: four characters, no padding. */
	for (i = 0; i + 4 < len; i += 4) {
		v[0] = b64val(u[i]);
		v[1] = b64val(u[i + 1]);
		v[2] = b64val(u[i + 2]);
		v[3] = b64val(u[i + 3]);
		if ((v[0] | v[1] | v[2] | v[3]) < 0)
			return NKHSM_ERR_FORMAT;
		out[o++] = (uint8_t)((v[0] << 2) | (v[1] >> 4));
		out[o++] = (uint8_t)(((v[1] & 15) << 4) | (v[2] >> 2));
		out[o++] = (uint8_t)(((v[2] & 3) << 6) | v[3]);
	}
	if (in[len - 1] == '=')
		npad++;
	if (in[len - 2] == '=')
		npad++;
	for (j = 0; j < 4; j++) {
		if (i + j >= len - npad)
			v[j] = 0;
		else if ((v[j] = b64val(u[i + j])) < 0)
			return NKHSM_ERR_FORMAT;
	}
	out[o++] = (uint8_t)((v[0] << 2) | (v[1] >> 4));
	if (npad < 2)
		out[o++] = (uint8_t)(((v[1] & 15) << 4) | (v[2] >> 2));
	if (npad < 1)
		out[o++] = (uint8_t)(((v[2] & 3) << 6) | v[3]);
	/* Bits below the last character must be zero (canonical encoding). */
	if ((npad == 2 && (v[1] & 15) != 0) || (npad == 1 && (v[2] & 3) != 0))
		return NKHSM_ERR_FORMAT;
	*outlenp = o;
	return 0;
}

int
nk_b64_decode(const char *in, size_t len, uint8_t **outp, size_t *outlenp)
{
	uint8_t *out = NULL;
	size_t o = 0;
	int r;

	*outp = NULL;
	*outlenp = 0;
	if (len > NK_B64_MAX)
		return NKHSM_ERR_TOO_LARGE;
	if (len == 0 || len % 4 != 0)
		return NKHSM_ERR_FORMAT;
	if ((out = malloc(len / 4 * 3)) == NULL)
		return NKHSM_ERR_NOMEM;
	if ((r = nk_b64_decode_to(in, len, out, &o)) != 0) {
		free(out);
		return r;
	}
	*outp = out;
	*outlenp = o;
	return 0;
}

void *
nk_memdup(const void *p, size_t len)
{
	void *d;

	if ((d = malloc(len == 0 ? 1 : len)) != NULL && len > 0)
		memcpy(d, p, len);
	return d;
}

/*
 * "8h", "30d", "1w2d": numbers each with a unit (s, m, h, d, w), summed;
 * zero, a bare number and overflow are refused (-1).
 */
int
nk_duration_parse(const char *s, uint64_t *secsp)
{
	static const char units[] = "smhdw";
	static const uint64_t mult[] = { 1, 60, 3600, 86400, 604800 };
	const char *u;
	uint64_t total = 0, n, add;

	*secsp = 0;
	if (*s == '\0')
		return -1;
	while (*s != '\0') {
		if (*s < '0' || *s > '9')
			return -1;
		for (n = 0; *s >= '0' && *s <= '9'; s++) {
			if (n > (UINT64_MAX - 9) / 10)
				return -1;
			n = n * 10 + (uint64_t)(*s - '0');
		}
		if (*s == '\0' || (u = strchr(units, *s)) == NULL)
			return -1;
		s++;
		if (n > UINT64_MAX / mult[u - units])
			return -1;
		add = n * mult[u - units];
		if (add > UINT64_MAX - 1 - total)	/* UINT64_MAX is forever */
			return -1;
		total += add;
	}
	if (total == 0)
		return -1;
	*secsp = total;
	return 0;
}

int
nk_hex_encode(const uint8_t *in, size_t len, char **outp)
{
	static const char hex[] = "0123456789abcdef";
	char *out;
	size_t i;

	*outp = NULL;
	if (len > NKHSM_MSG_MAX)
		return NKHSM_ERR_TOO_LARGE;
	if ((out = malloc(2 * len + 1)) == NULL)
		return NKHSM_ERR_NOMEM;
	for (i = 0; i < len; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 15];
	}
	out[2 * len] = '\0';
	*outp = out;
	return 0;
}

int
nk_hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int
nk_hex_decode(const char *in, uint8_t **outp, size_t *outlenp)
{
	uint8_t *out;
	size_t i, len = strlen(in);
	int hi, lo;

	*outp = NULL;
	*outlenp = 0;
	if (len == 0 || len % 2 != 0)
		return NKHSM_ERR_FORMAT;
	if (len > 2 * NKHSM_MSG_MAX)
		return NKHSM_ERR_TOO_LARGE;
	if ((out = malloc(len / 2)) == NULL)
		return NKHSM_ERR_NOMEM;
	for (i = 0; i < len; i += 2) {
		if ((hi = nk_hexval((unsigned char)in[i])) < 0 ||
		    (lo = nk_hexval((unsigned char)in[i + 1])) < 0) {
			free(out);
			return NKHSM_ERR_FORMAT;
		}
		out[i / 2] = (uint8_t)((hi << 4) | lo);
	}
	*outp = out;
	*outlenp = len / 2;
	return 0;
}
