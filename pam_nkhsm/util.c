/* SPDX-License-Identifier: BSD-2-Clause */
/* util.c - the challenge, token names and the helper's answers */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nkhsm.h"
#include "nk-int.h"
#include "buf.h"
#include "pamnk.h"
#include "proto.h"

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
pnk_token_name(uint32_t flags, const char *label, char *out, size_t outlen)
{
	char lb[96];

	pnk_escape(label, lb, sizeof(lb));
	snprintf(out, outlen, "%s '%s'", (flags & NKHSM_TOKEN_NITROKEY) ?
	    "Nitrokey HSM" : "token", lb);
}

const char *
pnk_tries_text(uint32_t flags, int tries, char *out, size_t outlen)
{
	if (tries == 0 || (tries < 0 && (flags & NKHSM_TOKEN_PIN_LOCKED)))
		snprintf(out, outlen, "the PIN is locked");
	else if (tries == 1 || (tries < 0 && (flags & NKHSM_TOKEN_PIN_FINAL_TRY)))
		snprintf(out, outlen, "1 PIN try left before the token locks");
	else if (tries > 1)
		snprintf(out, outlen, "%d PIN tries left", tries);
	else if (flags & NKHSM_TOKEN_PIN_COUNT_LOW)
		snprintf(out, outlen, "fewer PIN tries left than the maximum");
	else
		return NULL;
	return out;
}

void
pnk_found_free(struct pnk_found *f)
{
	free(f->label);
	free(f->serial);
	free(f->model);
	free(f->manufacturer);
	memset(f, 0, sizeof(*f));
	f->tries = -1;
}

int
pnk_found_parse(struct nk_buf *b, struct pnk_found *f)
{
	const uint8_t *id;
	size_t idlen;
	uint32_t tries;
	int r;

	pnk_found_free(f);
	if ((r = nk_buf_get_cstring(b, &f->label, NULL)) != 0 ||
	    (r = nk_buf_get_cstring(b, &f->serial, NULL)) != 0 ||
	    (r = nk_buf_get_u32(b, &f->flags)) != 0 ||
	    (r = nk_buf_get_u32(b, &f->minpin)) != 0 ||
	    (r = nk_buf_get_u32(b, &f->maxpin)) != 0 ||
	    (r = nk_buf_get_u32(b, &f->index)) != 0 ||
	    (r = nk_buf_get_string_direct(b, &id, &idlen)) != 0 ||
	    (r = nk_buf_get_cstring(b, &f->model, NULL)) != 0 ||
	    (r = nk_buf_get_cstring(b, &f->manufacturer, NULL)) != 0 ||
	    (r = nk_buf_get_u32(b, &tries)) != 0 ||
	    (r = nk_buf_get_u8(b, &f->driver)) != 0) {
		pnk_found_free(f);
		return r;
	}
	/* At most 15 on any token; anything else reads as "unknown". */
	f->tries = (int32_t)tries >= 0 && tries <= PNK_TRIES_MAX ?
	    (int)tries : -1;
	return 0;
}

int
pnk_put_discover(struct nk_buf *b, const char *module, const char *token,
    uint8_t mode, const struct pnk_keys *keys, uint8_t driver,
    const char *hints)
{
	size_t i, n = keys != NULL ? keys->n : 0;
	int r;

	if ((r = nk_buf_put_cstring(b, module)) != 0 ||
	    (r = nk_buf_put_cstring(b, token != NULL ? token : "")) != 0 ||
	    (r = nk_buf_put_u8(b, mode)) != 0 ||
	    (r = nk_buf_put_u32(b, (uint32_t)n)) != 0)
		return r;
	for (i = 0; i < n; i++)
		if ((r = nk_buf_put_string(b, keys->key[i].blob,
		    keys->key[i].bloblen)) != 0)
			return r;
	if ((r = nk_buf_put_u8(b, driver)) != 0)
		return r;
	return nk_buf_put_cstring(b, hints != NULL ? hints : "");
}
