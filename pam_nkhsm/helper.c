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

#define HELPER_FD	3
#define CERTS_MAX	32

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

static int
reply_found(int fd, nkhsm_token_t *tok, uint32_t index, const nkhsm_key_t *key)
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
	    (r = nk_buf_put_cstring(&b, nkhsm_token_manufacturer(tok))) == 0)
		r = pnk_send(fd, R_FOUND, &b);
	nk_buf_free(&b);
	return r;
}

/*
 * Find a key equal to one of the blobs: token by token in slot order, the
 * first token that holds any of them wins. Tokens after it are never
 * touched, which on the usual single token saves nothing but on a module
 * with an empty slot after it (SoftHSM) saves a C_GetTokenInfo.
 */
static int
discover_keys(int fd, struct state *st, const nkhsm_uri_t *uri,
    struct nk_buf *req)
{
	const uint8_t *blob;
	size_t bloblen, cursor = 0;
	nkhsm_point_t *pts = NULL;
	nkhsm_token_t *tok = NULL, **tl;
	nkhsm_key_t *key = NULL;
	uint32_t n, i;
	struct nk_buf b;
	int r;

	if ((r = nk_buf_get_u32(req, &n)) != 0 || n > 1024)
		return reply_error(fd, NKHSM_ERR_FORMAT, "bad request");
	if ((pts = calloc(n + 1, sizeof(*pts))) == NULL)
		return reply_error(fd, NKHSM_ERR_NOMEM, NULL);
	for (i = 0; i < n; i++) {
		if ((r = nk_buf_get_string_direct(req, &blob, &bloblen)) != 0) {
			r = reply_error(fd, NKHSM_ERR_FORMAT, "bad request");
			goto out;
		}
		/* A blob we cannot read is never found (curve stays NONE). */
		if (nkhsm_point_from_ssh_blob(blob, bloblen, &pts[i]) != 0)
			pts[i].curve = NKHSM_CURVE_NONE;
	}
	while ((r = nkhsm_token_next(st->ctx, uri, &cursor, &tok)) == 0) {
		if ((tl = reallocarray(st->toks, st->ntoks + 1,
		    sizeof(*tl))) == NULL) {
			nkhsm_token_free(&tok);
			r = reply_error(fd, NKHSM_ERR_NOMEM, NULL);
			goto out;
		}
		st->toks = tl;
		st->toks[st->ntoks++] = tok;
		for (i = 0; i < n; i++) {
			if (pts[i].curve == NKHSM_CURVE_NONE)
				continue;
			r = nkhsm_key_find_by_point(tok, &pts[i], &key);
			if (r == 0) {
				st->key = key;
				st->tok = tok;
				r = reply_found(fd, tok, i, key);
				goto out;
			}
			if (r != NKHSM_ERR_NO_KEY && r != NKHSM_ERR_UNSUPPORTED) {
				r = reply_error(fd, r, "key search failed");
				goto out;
			}
		}
	}
	if (r != NKHSM_ERR_NO_TOKEN) {
		r = reply_error(fd, r, "cannot list tokens");
		goto out;
	}
	if (st->ntoks == 0) {
		r = pnk_send(fd, R_NO_TOKEN, NULL);
		goto out;
	}
	nk_buf_init(&b);
	if ((r = nk_buf_put_cstring(&b, nkhsm_token_label(st->toks[0]))) == 0 &&
	    (r = nk_buf_put_cstring(&b, nkhsm_token_serial(st->toks[0]))) == 0)
		r = pnk_send(fd, R_NO_KEY, &b);
	nk_buf_free(&b);
 out:
	free(pts);
	return r;
}

/* Send every certificate on every matching token; the module judges them. */
static int
discover_certs(int fd, struct state *st)
{
	nkhsm_key_t **list = NULL;
	const uint8_t *der;
	size_t n = 0, t, i, len;
	struct nk_buf b;
	int r;

	if ((st->certs = calloc(CERTS_MAX, sizeof(*st->certs))) == NULL ||
	    (st->certtok = calloc(CERTS_MAX, sizeof(*st->certtok))) == NULL)
		return reply_error(fd, NKHSM_ERR_NOMEM, NULL);
	for (t = 0; t < st->ntoks; t++) {
		if ((r = nkhsm_cert_list(st->toks[t], &list, &n)) != 0)
			return reply_error(fd, r, "certificate search failed");
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
do_discover(int fd, struct state *st, struct nk_buf *req)
{
	char *module = NULL, *uristr = NULL;
	nkhsm_uri_t *uri = NULL;
	uint8_t mode;
	int r;

	if (st->ctx != NULL)
		return reply_error(fd, NKHSM_ERR_INVALID_ARGUMENT, "discover twice");
	if ((r = nk_buf_get_cstring(req, &module, NULL)) != 0 ||
	    (r = nk_buf_get_cstring(req, &uristr, NULL)) != 0 ||
	    (r = nk_buf_get_u8(req, &mode)) != 0) {
		r = reply_error(fd, NKHSM_ERR_FORMAT, "bad request");
		goto out;
	}
	if (*uristr != '\0' && (r = nkhsm_uri_parse(uristr, &uri, NULL)) != 0) {
		r = reply_error(fd, r, "bad token URI");
		goto out;
	}
	if ((r = nkhsm_ctx_open(*module != '\0' ? module : NULL, &st->ctx)) != 0) {
		r = reply_error(fd, r, "cannot load the PKCS#11 module");
		goto out;
	}
	if (mode == DISCOVER_KEYS) {
		r = discover_keys(fd, st, uri, req);
		goto out;
	}
	if ((r = nkhsm_token_list_match(st->ctx, uri, &st->toks,
	    &st->ntoks)) != 0) {
		r = reply_error(fd, r, "cannot list tokens");
		goto out;
	}
	if (st->ntoks == 0) {
		r = pnk_send(fd, R_NO_TOKEN, NULL);
		goto out;
	}
	switch (mode) {
	case DISCOVER_CERTS:
		r = discover_certs(fd, st);
		break;
	case DISCOVER_TOKEN:
		if (st->ntoks > 1) {
			r = reply_error(fd, NKHSM_ERR_AMBIGUOUS_TOKEN,
			    "more than one token; set token=");
			break;
		}
		st->tok = st->toks[0];
		r = reply_found(fd, st->tok, 0, NULL);
		break;
	default:
		r = reply_error(fd, NKHSM_ERR_FORMAT, "bad mode");
		break;
	}
 out:
	nkhsm_uri_free(&uri);
	free(module);
	free(uristr);
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
	return reply_found(fd, st->tok, i, st->key);
}

static int
login_failed(int fd, struct state *st, int err)
{
	struct nk_buf b;
	int r;

	nk_buf_init(&b);
	if ((r = nk_buf_put_u32(&b, (uint32_t)err)) == 0 &&
	    (r = nk_buf_put_u32(&b, nkhsm_token_flags(st->tok))) == 0)
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
	return pnk_send(fd, R_DONE, NULL);
}

int
main(int argc, char **argv)
{
	struct state st;
	struct nk_buf req;
	uint8_t type, *store = NULL;
	size_t storelen = 0;
	struct rlimit nocore = { 0, 0 };
	int r, fd = HELPER_FD;

	/* The one thing it does by hand: say which build it is. */
	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("nkhsm-pam-helper %s\n", nkhsm_version());
		return 0;
	}
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
	if (argc != 1 || isatty(fd)) {
		fprintf(stderr, "nkhsm-pam-helper: run by pam_nkhsm, not by hand\n");
		return 2;
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
	 * Exit without C_CloseSession/C_Finalize: each is a token round trip,
	 * and the session was logged out above. That C_Logout stays: pcscd
	 * leaves a card as it is when a client that held no lock goes away,
	 * so without it the token could stay logged in for the next program.
	 */
	_exit(r == 0 ? 0 : 1);
}
