/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * tok-int.h - the opaque context, token and key types, shared by the two
 * paths behind them: PKCS#11 (p11.c) and the SmartCard-HSM over PC/SC
 * (pcsc-tok.c). A context belongs to one path (pcsc == NULL: PKCS#11); the
 * public functions in p11.c hand a PC/SC context's work to pcsc-tok.c. The
 * fields a front end reads (label, serial, flags...) mean the same on both.
 * Not installed.
 */
#ifndef NK_TOK_INT_H
#define NK_TOK_INT_H

#include <p11-kit/pkcs11.h>

#include "nkhsm.h"

#define MAX_SLOTS	64

struct nk_pcsc_ctx;		/* pcsc-tok.c */
struct nk_pcsc_tok;

struct nkhsm_ctx {
	void			*dl;
	CK_FUNCTION_LIST_PTR	 f;
	char			*module;
	unsigned long		 calls;
	nkhsm_call_watch_t	*watch;		/* around each call, or NULL */
	void			*watch_arg;
	int			 finalize;
	CK_SLOT_ID		 slots[MAX_SLOTS];	/* nkhsm_token_next */
	CK_ULONG		 nslots;
	struct nk_pcsc_ctx	*pcsc;		/* the PC/SC path, or NULL */
};

struct nkhsm_token {
	nkhsm_ctx_t		*ctx;
	CK_SLOT_ID		 slot;
	char			*label;
	char			*serial;
	char			*manufacturer;
	char			*model;
	CK_FLAGS		 flags;		/* CKF_*, on both paths */
	CK_ULONG		 minpin;
	CK_ULONG		 maxpin;
	CK_SESSION_HANDLE	 session;
	int			 have_session;
	CK_SESSION_HANDLE	 rwsession;
	int			 have_rwsession;
	int			 logged_in;
	int			 nitrokey;	/* NKHSM_TOKEN_NITROKEY */
	int			 tries;		/* PIN tries left, -1: unknown */
	struct nk_pcsc_tok	*pc;		/* the PC/SC path's card */
};

struct nkhsm_key {
	nkhsm_token_t		*tok;
	CK_OBJECT_HANDLE	 priv;
	int			 have_priv;	/* priv resolved (after login) */
	CK_OBJECT_HANDLE	 pubobj;	/* made by nkhsm_keygen */
	int			 have_pubobj;
	uint8_t			 id[NKHSM_ID_MAX];
	size_t			 idlen;
	char			*label;
	nkhsm_curve_t		 curve;
	EVP_PKEY		*pub;		/* made on first use from point */
	nkhsm_point_t		 point;		/* public key objects */
	int			 have_point;
	uint8_t			*cert;		/* DER, for keys made from certificates */
	size_t			 certlen;
	uint8_t			 ref;		/* PC/SC: the card's key reference */
};

/* pcsc-tok.c: the PC/SC path behind the public functions of p11.c. */
void nk_pc_ctx_free(nkhsm_ctx_t *ctx);
void nk_pc_set_watch(nkhsm_ctx_t *ctx);	/* ctx->watch to each APDU */
int nk_pc_token_next(nkhsm_ctx_t *ctx, const nkhsm_uri_t *uri,
    size_t *cursor, nkhsm_token_t **tokp);
void nk_pc_token_release(nkhsm_token_t *tok);
int nk_pc_token_refresh(nkhsm_token_t *tok);
int nk_pc_login(nkhsm_token_t *tok, const char *pin, size_t pinlen);
int nk_pc_logout(nkhsm_token_t *tok);
int nk_pc_set_pin(nkhsm_token_t *tok, const char *oldpin, size_t oldlen,
    const char *newpin, size_t newlen);
int nk_pc_find_any(nkhsm_token_t *tok, const nkhsm_point_t *pts, size_t n,
    nkhsm_key_t **keyp, size_t *indexp);
int nk_pc_cert_list(nkhsm_token_t *tok, nkhsm_key_t ***listp, size_t *np);
int nk_pc_sign_digest(nkhsm_key_t *key, const uint8_t *dgst, size_t dlen,
    uint8_t **sigp, size_t *siglenp);

/* p11.c: does the token have the attributes the URI names (NULL: any)? */
int nk_token_matches(const nkhsm_token_t *tok, const nkhsm_uri_t *uri);

/* A Nitrokey HSM by its serial: Nitrokey's SmartCard-HSMs are DENK... */
int nk_serial_is_nitrokey(const char *serial);

#endif /* NK_TOK_INT_H */
