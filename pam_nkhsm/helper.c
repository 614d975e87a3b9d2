/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nkhsm-pam-helper - the token side of pam_nkhsm, in its own short-lived
 * process (the model of OpenSSH's ssh-pkcs11-helper): a hung or crashing
 * PKCS#11 stack takes down only this process, and the PIN never sits in the
 * login program's memory longer than one send.
 *
 * It talks over the SOCK_SEQPACKET socket on fd 3 (proto.h), one request at
 * a time: discover a token and key, then log in and sign the module's
 * challenge (or change the PIN). It decides nothing: the module verifies
 * the signature against the user's authorized key.
 *
 * To keep token round trips few, it never lists objects it does not need,
 * and it exits without C_CloseSession/C_Finalize after logging out.
 *
 * Two paths reach the token (driver=): PKCS#11 through the module, and for
 * a SmartCard-HSM (the Nitrokey HSM's card) PC/SC directly, with the card's
 * own commands. With driver=auto the direct path is tried when the module
 * is OpenSC's (the one that would reach the card through PC/SC anyway); a
 * card it does not take, or one that answers unexpectedly, sends the whole
 * discovery to PKCS#11. On the direct path OpenSC is never loaded.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "nkhsm.h"
#include "nk-int.h"
#include "buf.h"
#include "proto.h"
#include "helper.h"

#define CERTS_MAX	32
#define OPENSC_MODULE	"opensc-pkcs11.so"
#define BLOBS_MAX	1024

struct state {
	nkhsm_ctx_t	 *ctx;
	nkhsm_token_t	**toks;
	size_t		  ntoks;
	nkhsm_key_t	**certs;	/* certificate keys, DISCOVER_CERTS */
	nkhsm_token_t	**certtok;
	size_t		  ncerts;
	nkhsm_key_t	 *key;		/* the chosen key, or NULL */
	nkhsm_token_t	 *tok;		/* its token */
};

/* A discovery request (proto.h, M_DISCOVER). */
struct disc {
	char		*module;
	char		*uristr;
	char		*hints;
	nkhsm_uri_t	*uri;
	uint8_t		 mode;
	uint8_t		 driver;
	nkhsm_point_t	*pts;
	uint32_t	 n;
};

static int
reply_error(int fd, int err, const char *detail)
{
	struct nk_buf b;
	int r;

	nk_buf_init(&b);
	if ((r = nk_buf_put_u32(&b, (uint32_t)err)) == 0 &&
	    (r = nk_buf_put_cstring(&b, detail != NULL ? detail : "")) == 0)
		r = pnk_send(fd, R_ERROR, &b);
	nk_buf_free(&b);
	return r;
}

static uint8_t
driver_of(const struct state *st)
{
	return st->ctx != NULL && nkhsm_ctx_driver(st->ctx) ==
	    NKHSM_DRIVER_PCSC ? PNK_DRIVER_PCSC : PNK_DRIVER_PKCS11;
}

static int
reply_found(int fd, struct state *st, nkhsm_token_t *tok, uint32_t index,
    const nkhsm_key_t *key)
{
	const uint8_t *id = NULL;
	size_t idlen = 0, minpin, maxpin;
	struct nk_buf b;
	int r;

	if (key != NULL)
		id = nkhsm_key_id(key, &idlen);
	nkhsm_token_pin_len(tok, &minpin, &maxpin);
	nk_buf_init(&b);
	if ((r = nk_buf_put_cstring(&b, nkhsm_token_label(tok))) == 0 &&
	    (r = nk_buf_put_cstring(&b, nkhsm_token_serial(tok))) == 0 &&
	    (r = nk_buf_put_u32(&b, nkhsm_token_flags(tok))) == 0 &&
	    (r = nk_buf_put_u32(&b, (uint32_t)minpin)) == 0 &&
	    (r = nk_buf_put_u32(&b, (uint32_t)maxpin)) == 0 &&
	    (r = nk_buf_put_u32(&b, index)) == 0 &&
	    (r = nk_buf_put_string(&b, id, idlen)) == 0 &&
	    (r = nk_buf_put_cstring(&b, nkhsm_token_model(tok))) == 0 &&
	    (r = nk_buf_put_cstring(&b, nkhsm_token_manufacturer(tok))) == 0 &&
	    (r = nk_buf_put_u32(&b,
	    (uint32_t)nkhsm_token_pin_tries(tok))) == 0 &&
	    (r = nk_buf_put_u8(&b, driver_of(st))) == 0)
		r = pnk_send(fd, R_FOUND, &b);
	nk_buf_free(&b);
	return r;
}

static void
disc_free(struct disc *d)
{
	free(d->module);
	free(d->uristr);
	free(d->hints);
	free(d->pts);
	nkhsm_uri_free(&d->uri);
	memset(d, 0, sizeof(*d));
}

static int
disc_parse(struct nk_buf *req, struct disc *d)
{
	const uint8_t *blob;
	size_t bloblen;
	uint32_t i;
	int r;

	memset(d, 0, sizeof(*d));
	if ((r = nk_buf_get_cstring(req, &d->module, NULL)) != 0 ||
	    (r = nk_buf_get_cstring(req, &d->uristr, NULL)) != 0 ||
	    (r = nk_buf_get_u8(req, &d->mode)) != 0 ||
	    (r = nk_buf_get_u32(req, &d->n)) != 0)
		return r;
	if (d->n > BLOBS_MAX)
		return NKHSM_ERR_FORMAT;
	if ((d->pts = calloc(d->n + 1, sizeof(*d->pts))) == NULL)
		return NKHSM_ERR_NOMEM;
	for (i = 0; i < d->n; i++) {
		if ((r = nk_buf_get_string_direct(req, &blob, &bloblen)) != 0)
			return r;
		/* A blob we cannot read is never found (curve stays NONE). */
		if (nkhsm_point_from_ssh_blob(blob, bloblen, &d->pts[i]) != 0)
			d->pts[i].curve = NKHSM_CURVE_NONE;
	}
	if ((r = nk_buf_get_u8(req, &d->driver)) != 0 ||
	    (r = nk_buf_get_cstring(req, &d->hints, NULL)) != 0)
		return r;
	if (d->driver > PNK_DRIVER_PKCS11 || d->mode > DISCOVER_TOKEN)
		return NKHSM_ERR_FORMAT;
	return 0;
}

/* driver=auto takes the direct path for OpenSC's module, the card's driver. */
static int
use_pcsc(const struct disc *d)
{
	const char *m = *d->module != '\0' ? d->module : nkhsm_default_module();
	const char *base = strrchr(m, '/');

	if (d->driver != PNK_DRIVER_AUTO)
		return d->driver == PNK_DRIVER_PCSC;
	base = base != NULL ? base + 1 : m;
	return strcmp(base, OPENSC_MODULE) == 0;
}

/* Forget every token and the context (cards go back to pcscd). */
static void
release(struct state *st)
{
	size_t i;

	nkhsm_key_free(&st->key);
	for (i = 0; st->certs != NULL && i < st->ncerts; i++)
		nkhsm_key_free(&st->certs[i]);
	free(st->certs);
	free(st->certtok);
	nkhsm_token_list_free(&st->toks, st->ntoks);
	nkhsm_ctx_free(&st->ctx);
	memset(st, 0, sizeof(*st));
}

static int
keep_token(struct state *st, nkhsm_token_t *tok)
{
	nkhsm_token_t **tl;

	if ((tl = reallocarray(st->toks, st->ntoks + 1, sizeof(*tl))) == NULL) {
		nkhsm_token_free(&tok);
		return NKHSM_ERR_NOMEM;
	}
	st->toks = tl;
	st->toks[st->ntoks++] = tok;
	return 0;
}

/*
 * Token by token in slot (reader) order, the first token that holds one of
 * the keys wins; tokens after it are never touched. NKHSM_ERR_NO_TOKEN,
 * NKHSM_ERR_NO_KEY or an error otherwise.
 */
static int
walk_keys(struct state *st, const struct disc *d, uint32_t *indexp)
{
	nkhsm_token_t *tok = NULL;
	nkhsm_key_t *key = NULL;
	size_t cursor = 0, idx;
	int r;

	while ((r = nkhsm_token_next(st->ctx, d->uri, &cursor, &tok)) == 0) {
		if ((r = keep_token(st, tok)) != 0)
			return r;
		r = nkhsm_key_find_any(tok, d->pts, d->n, &key, &idx);
		if (r == 0) {
			st->key = key;
			st->tok = tok;
			*indexp = (uint32_t)idx;
			return 0;
		}
		if (r != NKHSM_ERR_NO_KEY && r != NKHSM_ERR_UNSUPPORTED)
			return r;
	}
	if (r != NKHSM_ERR_NO_TOKEN)
		return r;
	return st->ntoks == 0 ? NKHSM_ERR_NO_TOKEN : NKHSM_ERR_NO_KEY;
}

/* Every matching token, or NKHSM_ERR_NO_TOKEN. */
static int
list_tokens(struct state *st, const struct disc *d)
{
	int r;

	if ((r = nkhsm_token_list_match(st->ctx, d->uri, &st->toks,
	    &st->ntoks)) != 0)
		return r;
	return st->ntoks == 0 ? NKHSM_ERR_NO_TOKEN : 0;
}

/* Every certificate on every matching token. */
static int
walk_certs(struct state *st, const struct disc *d)
{
	nkhsm_key_t **list = NULL;
	size_t n = 0, t, i;
	int r;

	if ((r = list_tokens(st, d)) != 0)
		return r;
	if ((st->certs = calloc(CERTS_MAX, sizeof(*st->certs))) == NULL ||
	    (st->certtok = calloc(CERTS_MAX, sizeof(*st->certtok))) == NULL)
		return NKHSM_ERR_NOMEM;
	for (t = 0; t < st->ntoks; t++) {
		if ((r = nkhsm_cert_list(st->toks[t], &list, &n)) != 0)
			return r;
		for (i = 0; i < n; i++) {
			if (st->ncerts < CERTS_MAX) {
				st->certtok[st->ncerts] = st->toks[t];
				st->certs[st->ncerts++] = list[i];
			} else
				nkhsm_key_free(&list[i]);
		}
		free(list);
		list = NULL;
	}
	return st->ncerts > 0 ? 0 : NKHSM_ERR_NO_KEY;
}

/* Just the token (PIN change): exactly one. */
static int
walk_token(struct state *st, const struct disc *d)
{
	int r;

	if ((r = list_tokens(st, d)) != 0)
		return r;
	if (st->ntoks > 1)
		return NKHSM_ERR_AMBIGUOUS_TOKEN;
	st->tok = st->toks[0];
	return 0;
}

static int
walk(struct state *st, const struct disc *d, uint32_t *indexp)
{
	*indexp = 0;
	switch (d->mode) {
	case DISCOVER_KEYS:
		return walk_keys(st, d, indexp);
	case DISCOVER_CERTS:
		return walk_certs(st, d);
	default:
		return walk_token(st, d);
	}
}

/* Send the certificates that fit in one message; the module judges them. */
static int
reply_certs(int fd, struct state *st)
{
	const uint8_t *der;
	size_t i, len;
	struct nk_buf b;
	int r;

	nk_buf_init(&b);
	r = nk_buf_put_u32(&b, (uint32_t)st->ncerts);
	for (i = 0; r == 0 && i < st->ncerts; i++) {
		der = nkhsm_key_cert(st->certs[i], &len);
		/* What does not fit in one message is not offered. */
		if (nk_buf_avail(&b) + len + 64 > PNK_MSG_MAX)
			break;
		r = nk_buf_put_string(&b, der, len);
	}
	if (r == 0 && i < st->ncerts) {
		/* Rewrite the count to what was sent. */
		b.d[b.off] = (uint8_t)(i >> 24);
		b.d[b.off + 1] = (uint8_t)(i >> 16);
		b.d[b.off + 2] = (uint8_t)(i >> 8);
		b.d[b.off + 3] = (uint8_t)i;
	}
	if (r == 0)
		r = pnk_send(fd, R_CERTS, &b);
	nk_buf_free(&b);
	return r;
}

static int
reply_no_key(int fd, struct state *st)
{
	struct nk_buf b;
	int r;

	nk_buf_init(&b);
	if ((r = nk_buf_put_cstring(&b, nkhsm_token_label(st->toks[0]))) == 0 &&
	    (r = nk_buf_put_cstring(&b, nkhsm_token_serial(st->toks[0]))) == 0)
		r = pnk_send(fd, R_NO_KEY, &b);
	nk_buf_free(&b);
	return r;
}

/* The answer to a walk that ended with r. */
static int
reply_walk(int fd, struct state *st, const struct disc *d, int r,
    uint32_t index)
{
	if (r == NKHSM_ERR_NO_TOKEN)
		return pnk_send(fd, R_NO_TOKEN, NULL);
	if (r == NKHSM_ERR_NO_KEY && d->mode == DISCOVER_CERTS)
		return reply_certs(fd, st);	/* none: the module says so */
	if (r == NKHSM_ERR_NO_KEY)
		return reply_no_key(fd, st);
	if (r != 0)
		return reply_error(fd, r, r == NKHSM_ERR_AMBIGUOUS_TOKEN ?
		    "more than one token; set token=" : "token search failed");
	if (d->mode == DISCOVER_CERTS)
		return reply_certs(fd, st);
	return reply_found(fd, st, st->tok, index, st->key);
}

/*
 * The direct path. *handled is 0 when driver=auto should go on with
 * PKCS#11: pcscd is unreachable, or nothing was found while a card this
 * path did not take is present, or a card answered unexpectedly.
 */
static int
discover_pcsc(int fd, struct state *st, const struct disc *d, int *handled)
{
	uint32_t index;
	int r, lax = d->driver == PNK_DRIVER_AUTO;

	*handled = 0;
	r = nkhsm_ctx_open_pcsc(lax ? 0 : NKHSM_PCSC_ANY_CARD, &st->ctx);
	if (r == 0 && *d->hints != '\0')
		r = nkhsm_ctx_set_hints(st->ctx, d->hints);
	if (r != 0) {
		if (lax && r != NKHSM_ERR_NOMEM)
			return 0;
		*handled = 1;
		return reply_error(fd, r, "cannot use PC/SC-lite");
	}
	r = walk(st, d, &index);
	if (lax && r != 0 && r != NKHSM_ERR_NOMEM &&
	    r != NKHSM_ERR_AMBIGUOUS_TOKEN && r != NKHSM_ERR_DEVICE_REMOVED &&
	    ((r != NKHSM_ERR_NO_TOKEN && r != NKHSM_ERR_NO_KEY) ||
	    nkhsm_ctx_other_cards(st->ctx) > 0))
		return 0;
	*handled = 1;
	return reply_walk(fd, st, d, r, index);
}

static int
do_discover(int fd, struct state *st, struct nk_buf *req)
{
	struct disc d;
	uint32_t index;
	int r, handled = 0;

	if (st->ctx != NULL)
		return reply_error(fd, NKHSM_ERR_INVALID_ARGUMENT, "discover twice");
	if ((r = disc_parse(req, &d)) != 0) {
		r = reply_error(fd, r, "bad request");
		goto out;
	}
	if (*d.uristr != '\0' && (r = nkhsm_uri_parse(d.uristr, &d.uri,
	    NULL)) != 0) {
		r = reply_error(fd, r, "bad token URI");
		goto out;
	}
	if (use_pcsc(&d)) {
		r = discover_pcsc(fd, st, &d, &handled);
		if (handled)
			goto out;
		release(st);	/* the cards, before OpenSC looks at them */
	}
	if ((r = nkhsm_ctx_open(*d.module != '\0' ? d.module : NULL,
	    &st->ctx)) != 0) {
		r = reply_error(fd, r, "cannot load the PKCS#11 module");
		goto out;
	}
	r = walk(st, &d, &index);
	r = reply_walk(fd, st, &d, r, index);
 out:
	disc_free(&d);
	return r;
}

static int
do_select(int fd, struct state *st, struct nk_buf *req)
{
	uint32_t i;

	if (nk_buf_get_u32(req, &i) != 0 || i >= st->ncerts || st->key != NULL)
		return reply_error(fd, NKHSM_ERR_INVALID_ARGUMENT, "bad selection");
	st->key = st->certs[i];
	st->certs[i] = NULL;
	st->tok = st->certtok[i];
	return reply_found(fd, st, st->tok, i, st->key);
}

static int
login_failed(int fd, struct state *st, int err)
{
	struct nk_buf b;
	int r;

	nk_buf_init(&b);
	if ((r = nk_buf_put_u32(&b, (uint32_t)err)) == 0 &&
	    (r = nk_buf_put_u32(&b, nkhsm_token_flags(st->tok))) == 0 &&
	    (r = nk_buf_put_u32(&b,
	    (uint32_t)nkhsm_token_pin_tries(st->tok))) == 0)
		r = pnk_send(fd, R_LOGIN_FAILED, &b);
	nk_buf_free(&b);
	return r;
}

static int
do_login(int fd, struct state *st, struct nk_buf *req)
{
	const uint8_t *pin, *msg;
	size_t pinlen, msglen, siglen = 0;
	uint8_t *sig = NULL;
	struct nk_buf b;
	int r;

	if (st->key == NULL)
		return reply_error(fd, NKHSM_ERR_INVALID_ARGUMENT, "no key chosen");
	if (nk_buf_get_string_direct(req, &pin, &pinlen) != 0 ||
	    nk_buf_get_string_direct(req, &msg, &msglen) != 0 ||
	    pinlen > NKHSM_PIN_MAX || memchr(pin, '\0', pinlen) != NULL)
		return reply_error(fd, NKHSM_ERR_FORMAT, "bad request");
	/* An empty PIN means the reader's PIN pad. */
	r = nkhsm_token_login(st->tok, pinlen > 0 ? (const char *)pin : NULL,
	    pinlen);
	if (r != 0)
		return login_failed(fd, st, r);
	r = nkhsm_key_sign(st->key, msg, msglen, NKHSM_SIG_RAW, &sig, &siglen);
	/*
	 * Log out before answering, and count a failed logout as a failed
	 * login: a token pulled at any step of the flow never yields success.
	 */
	if (r == 0)
		r = nkhsm_token_logout(st->tok);
	else
		(void)nkhsm_token_logout(st->tok);
	if (r != 0) {
		free(sig);
		return reply_error(fd, r, "signing failed");
	}
	nk_buf_init(&b);
	if ((r = nk_buf_put_string(&b, sig, siglen)) == 0)
		r = pnk_send(fd, R_SIGNATURE, &b);
	nk_buf_free(&b);
	free(sig);
	return r;
}

static int
do_setpin(int fd, struct state *st, struct nk_buf *req)
{
	const uint8_t *o, *n;
	size_t olen, nlen;
	int r;

	if (st->tok == NULL)
		return reply_error(fd, NKHSM_ERR_INVALID_ARGUMENT, "no token");
	if (nk_buf_get_string_direct(req, &o, &olen) != 0 ||
	    nk_buf_get_string_direct(req, &n, &nlen) != 0 ||
	    olen == 0 || nlen == 0)
		return reply_error(fd, NKHSM_ERR_FORMAT, "bad request");
	if ((r = nkhsm_token_set_pin(st->tok, (const char *)o, olen,
	    (const char *)n, nlen)) != 0)
		return login_failed(fd, st, r);
	/*
	 * Through OpenSC a SmartCard-HSM stays authenticated after a PIN
	 * change (the old PIN verified it) although PKCS#11 holds no login:
	 * log in with the new PIN and out again, which selects the applet
	 * anew. The PIN is changed either way. The direct path has logged the
	 * card out already.
	 */
	if (nkhsm_ctx_driver(st->ctx) == NKHSM_DRIVER_PKCS11 &&
	    nkhsm_token_login(st->tok, (const char *)n, nlen) == 0)
		(void)nkhsm_token_logout(st->tok);
	return pnk_send(fd, R_DONE, NULL);
}

int
pnk_helper_main(int fd)
{
	/* Static: on the PKCS#11 path it is not freed (see below), only left. */
	static struct state st;
	struct nk_buf req;
	uint8_t type = 0, *store = NULL;
	size_t storelen = 0;
	struct rlimit nocore = { 0, 0 };
	int r;

	/*
	 * Before any PIN can arrive: no core file and no ptrace by the
	 * caller's user (a login program may run us as that user), so that
	 * the PIN in our memory cannot be read from a dump.
	 */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0 ||
	    setrlimit(RLIMIT_CORE, &nocore) != 0) {
		fprintf(stderr, "nkhsm-pam-helper: cannot disable core dumps\n");
		return 1;
	}
	/* Our own process: no openssl.cnf (engines, providers) in a login path. */
	(void)OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, NULL);
	memset(&st, 0, sizeof(st));
	for (;;) {
		if ((r = pnk_recv(fd, 0, &type, &req, &store, &storelen)) != 0)
			break;	/* the module went away */
		switch (type) {
		case M_DISCOVER:
			r = do_discover(fd, &st, &req);
			break;
		case M_SELECT:
			r = do_select(fd, &st, &req);
			break;
		case M_LOGIN:
			r = do_login(fd, &st, &req);
			break;
		case M_SETPIN:
			r = do_setpin(fd, &st, &req);
			break;
		default:
			r = reply_error(fd, NKHSM_ERR_FORMAT, "unknown request");
			break;
		}
		nk_freezero(store, storelen);	/* PINs travel in requests */
		store = NULL;
		if (r != 0 || type == M_LOGIN || type == M_SETPIN)
			break;
	}
	/*
	 * PKCS#11: exit without C_CloseSession/C_Finalize, each a token round
	 * trip; the session was logged out above. That C_Logout stays: pcscd
	 * leaves a card as it is when a client that held no lock goes away,
	 * so without it the token could stay logged in for the next program.
	 * PC/SC: end the transaction, so pcscd does not reset a card that was
	 * logged out; one that may not be is reset here.
	 */
	if (st.ctx != NULL && nkhsm_ctx_driver(st.ctx) == NKHSM_DRIVER_PCSC)
		release(&st);
	return r == 0 ? 0 : 1;
}
