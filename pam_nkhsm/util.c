/* SPDX-License-Identifier: BSD-2-Clause */
/* util.c - the challenge and log escaping */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "nkhsm.h"
#include "nk-int.h"
#include "buf.h"
#include "pamnk.h"

#define CHALLENGE_DOMAIN	"nkhsm-pam-challenge-v1"

/*
 * What the token signs: a domain string, host, service, user and the nonce,
 * each length-prefixed, so a signature made for one login cannot stand for
 * another (another host, service or user) nor be replayed (fresh nonce).
 */
int
pnk_challenge(const char *host, const char *service, const char *user,
    const uint8_t *nonce, uint8_t **msgp, size_t *lenp)
{
	struct nk_buf b;
	int r;

	nk_buf_init(&b);
	if ((r = nk_buf_put_cstring(&b, CHALLENGE_DOMAIN)) != 0 ||
	    (r = nk_buf_put_cstring(&b, host)) != 0 ||
	    (r = nk_buf_put_cstring(&b, service)) != 0 ||
	    (r = nk_buf_put_cstring(&b, user)) != 0 ||
	    (r = nk_buf_put_string(&b, nonce, PNK_NONCE_LEN)) != 0 ||
	    (r = nk_buf_steal(&b, msgp, lenp)) != 0) {
		nk_buf_free(&b);
		return r;
	}
	return 0;
}

void
pnk_escape(const char *in, char *out, size_t outlen)
{
	size_t o = 0;

	if (outlen == 0)
		return;
	for (; in != NULL && *in != '\0' && o + 5 < outlen; in++) {
		unsigned char c = (unsigned char)*in;

		if (c < 0x20 || c >= 0x7f || c == '\\' || c == '"')
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x", c);
		else
			out[o++] = (char)c;
	}
	out[o] = '\0';
}
