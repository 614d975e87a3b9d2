/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nkhsm.h - libnkhsm, the core under pam_nkhsm, nkhsm-hotplug, nkhsm-sshca
 * and nkhsm-tool: PKCS#11 token discovery, PIN login, EC key lookup and
 * generation, ECDSA signing with the hash done on the host, and public key
 * encodings (OpenSSH, SPKI PEM, fingerprints).
 *
 * Conventions (after OpenSSH and libfido2):
 *  - every fallible call returns 0 or a negative NKHSM_ERR_* code;
 *  - outputs are written only on success; on error they are NULL/0;
 *  - opaque types are released with x_free(&p), which accepts NULL and
 *    sets the pointer to NULL;
 *  - buffers that held a PIN are wiped before they are freed.
 */
#ifndef NKHSM_H
#define NKHSM_H

#include <stddef.h>
#include <stdint.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Error codes. nkhsm_strerror() has one string for each. */
#define NKHSM_OK			0
#define NKHSM_ERR_INTERNAL		-1
#define NKHSM_ERR_NOMEM			-2
#define NKHSM_ERR_INVALID_ARGUMENT	-3
#define NKHSM_ERR_MODULE_LOAD		-4	/* dlopen/C_GetFunctionList/C_Initialize */
#define NKHSM_ERR_MODULE		-5	/* a PKCS#11 call failed */
#define NKHSM_ERR_NO_TOKEN		-6	/* no initialized token matches */
#define NKHSM_ERR_AMBIGUOUS_TOKEN	-7	/* more than one token matches */
#define NKHSM_ERR_NO_KEY		-8	/* no key matches */
#define NKHSM_ERR_AMBIGUOUS_KEY		-9	/* more than one key matches */
#define NKHSM_ERR_PIN_INCORRECT		-10
#define NKHSM_ERR_PIN_LOCKED		-11
#define NKHSM_ERR_PIN_LEN		-12	/* outside the token's length rules */
#define NKHSM_ERR_NOT_LOGGED_IN		-13
#define NKHSM_ERR_URI			-14	/* malformed PKCS#11 URI */
#define NKHSM_ERR_FORMAT		-15	/* malformed encoding */
#define NKHSM_ERR_UNSUPPORTED		-16	/* key type, curve or mechanism */
#define NKHSM_ERR_SIGNATURE		-17	/* signature does not verify */
#define NKHSM_ERR_DEVICE_REMOVED	-18
#define NKHSM_ERR_CRYPTO		-19	/* OpenSSL failure */
#define NKHSM_ERR_IO			-20
#define NKHSM_ERR_TOO_LARGE		-21
#define NKHSM_ERR_PIN_SOURCE		-22	/* bad --pin-source, unreadable */
#define NKHSM_ERR_CANCELLED		-23
#define NKHSM_ERR_TIMEOUT		-24
#define NKHSM_ERR_EXISTS		-25	/* object with that id/label exists */
#define NKHSM_ERR_CONFIG		-26	/* bad configuration file */
#define NKHSM_ERR_PERMISSION		-27	/* unsafe owner or mode */
#define NKHSM_ERR_TOKEN_FULL		-28
#define NKHSM_ERR_WEAK_KEY		-29	/* a key no one should accept */
#define NKHSM_ERR_PCSC			-30	/* PC/SC-lite missing or failing */
#define NKHSM_ERR_LAST			-30

const char *nkhsm_strerror(int err);

/* Curves. The hash follows the curve: SHA-256, SHA-384, SHA-512. */
typedef enum {
	NKHSM_CURVE_NONE = 0,
	NKHSM_CURVE_P256,
	NKHSM_CURVE_P384,
	NKHSM_CURVE_P521,
} nkhsm_curve_t;

int nkhsm_curve_from_name(const char *name, nkhsm_curve_t *curvep);
const char *nkhsm_curve_name(nkhsm_curve_t curve);	/* "p256" */
const char *nkhsm_curve_ssh_name(nkhsm_curve_t curve);	/* "nistp256" */
int nkhsm_curve_nid(nkhsm_curve_t curve);
size_t nkhsm_curve_bytes(nkhsm_curve_t curve);		/* field size: 32/48/66 */
const EVP_MD *nkhsm_curve_md(nkhsm_curve_t curve);
int nkhsm_curve_of_pkey(const EVP_PKEY *pkey, nkhsm_curve_t *curvep);

/*
 * An EC public key as raw bytes: its curve and uncompressed point
 * (0x04 || X || Y). The login path uses these instead of EVP_PKEYs, so it
 * never starts OpenSSL's provider machinery (see ecraw.c).
 */
#define NKHSM_POINT_MAX		(1 + 2 * 66)
typedef struct nkhsm_point {
	nkhsm_curve_t	curve;
	size_t		len;
	uint8_t		pt[NKHSM_POINT_MAX];
} nkhsm_point_t;
/* 0 if the point lies on its curve (and is not the point at infinity). */
int nkhsm_point_check(const nkhsm_point_t *pt);
int nkhsm_point_from_pkey(const EVP_PKEY *pub, nkhsm_point_t *pt);
/*
 * An OpenSSH ecdsa-sha2-* key blob; checks its shape (type, curve, point
 * size), not that the point is on the curve: use nkhsm_point_check.
 */
int nkhsm_point_from_ssh_blob(const uint8_t *blob, size_t len,
    nkhsm_point_t *pt);

/*
 * Key checks (keycheck.c), shared by every reader of a subject key or an
 * authorized key. NKHSM_ERR_WEAK_KEY for a key no one should certify or
 * accept: an EC point off its curve; an Ed25519 point of small order (a
 * constant signature verifies for it) or not canonically encoded (y >= p);
 * RSA under NKHSM_RSA_MIN_BITS, or with an even modulus, an even public
 * exponent or 1. NKHSM_ERR_FORMAT when malformed, NKHSM_ERR_UNSUPPORTED
 * for other key types and sizes. errbuf says which.
 */
#define NKHSM_RSA_MIN_BITS	2048
#define NKHSM_RSA_MAX_BITS	16384
/* An OpenSSH blob: ecdsa-sha2-nistp256/384/521, ssh-ed25519 or ssh-rsa. */
int nkhsm_sshkey_check(const uint8_t *blob, size_t len, unsigned int *bitsp,
    char *errbuf, size_t errlen);
/* A key from X.509 (SPKI, request, certificate): EC, Ed25519 or RSA. */
int nkhsm_pkey_check(const EVP_PKEY *pub, char *errbuf, size_t errlen);
/* The 32-byte encoding of an Ed25519 public key. */
int nkhsm_ed25519_check(const uint8_t *pub, size_t len, char *errbuf,
    size_t errlen);

/* RFC 7512 PKCS#11 URIs. */
typedef struct nkhsm_uri nkhsm_uri_t;

typedef enum {
	NKHSM_OBJ_ANY = 0,
	NKHSM_OBJ_PRIVATE,
	NKHSM_OBJ_PUBLIC,
	NKHSM_OBJ_CERT,
	NKHSM_OBJ_SECRET,
	NKHSM_OBJ_DATA,
} nkhsm_objtype_t;

#define NKHSM_URI_MAX		4096
#define NKHSM_ID_MAX		255
#define NKHSM_LABEL_MAX		255	/* bytes of a key's CKA_LABEL */

/* On NKHSM_ERR_URI, *errp (if not NULL) points at a static reason. */
int nkhsm_uri_parse(const char *s, nkhsm_uri_t **urip, const char **errp);
void nkhsm_uri_free(nkhsm_uri_t **urip);
/* Attribute accessors: NULL when the URI does not name the attribute. */
const char *nkhsm_uri_token(const nkhsm_uri_t *uri);
const char *nkhsm_uri_serial(const nkhsm_uri_t *uri);
const char *nkhsm_uri_manufacturer(const nkhsm_uri_t *uri);
const char *nkhsm_uri_model(const nkhsm_uri_t *uri);
const char *nkhsm_uri_object(const nkhsm_uri_t *uri);
const char *nkhsm_uri_pin_source(const nkhsm_uri_t *uri);
const char *nkhsm_uri_module_path(const nkhsm_uri_t *uri);
/* The decoded id; NULL/0 when absent. */
const uint8_t *nkhsm_uri_id(const nkhsm_uri_t *uri, size_t *lenp);
nkhsm_objtype_t nkhsm_uri_type(const nkhsm_uri_t *uri);
int nkhsm_uri_has_slot_id(const nkhsm_uri_t *uri, unsigned long *slotp);
/*
 * The name of an attribute the URI gives that token selection cannot
 * match (slot-description, library-*, module-name...), or NULL. Token
 * lookups refuse such URIs (NKHSM_ERR_UNSUPPORTED): they would select more
 * than they say.
 */
const char *nkhsm_uri_unmatched(const nkhsm_uri_t *uri);
/* Canonical form, percent-encoding what RFC 7512 requires. */
int nkhsm_uri_format(const char *token, const char *serial,
    const char *object, const uint8_t *id, size_t idlen,
    nkhsm_objtype_t type, char **outp);

/* A loaded PKCS#11 module. */
typedef struct nkhsm_ctx nkhsm_ctx_t;
typedef struct nkhsm_token nkhsm_token_t;
typedef struct nkhsm_key nkhsm_key_t;

int nkhsm_ctx_open(const char *module_path, nkhsm_ctx_t **ctxp);
void nkhsm_ctx_free(nkhsm_ctx_t **ctxp);
const char *nkhsm_ctx_module(const nkhsm_ctx_t *ctx);
/* Number of PKCS#11 calls made through this context (for benchmarks). */
unsigned long nkhsm_ctx_calls(const nkhsm_ctx_t *ctx);
/*
 * fn(arg, 1) before and fn(arg, 0) after every PKCS#11 call made through
 * ctx from now on (C_Finalize included), or on the PC/SC path every
 * command sent to the card; NULL stops it. The command-line
 * tools put a deadline on each call with it: a token that stops answering
 * must not hang them.
 */
typedef void nkhsm_call_watch_t(void *arg, int busy);
void nkhsm_ctx_set_watch(nkhsm_ctx_t *ctx, nkhsm_call_watch_t *fn,
    void *arg);

/* Token flags (from CK_TOKEN_INFO.flags, read fresh by nkhsm_token_refresh). */
#define NKHSM_TOKEN_LOGIN_REQUIRED	0x01
#define NKHSM_TOKEN_PIN_COUNT_LOW	0x02
#define NKHSM_TOKEN_PIN_FINAL_TRY	0x04
#define NKHSM_TOKEN_PIN_LOCKED		0x08
#define NKHSM_TOKEN_PIN_PAD		0x10	/* protected authentication path */
#define NKHSM_TOKEN_PIN_TO_BE_CHANGED	0x20
#define NKHSM_TOKEN_WRITE_PROTECTED	0x40
/*
 * Not a PKCS#11 flag: the token is a Nitrokey HSM (its serial starts with
 * DENK, the prefix of Nitrokey's SmartCard-HSMs, or on the PC/SC path, it
 * sits in the Nitrokey HSM's own built-in reader). Front ends name it so;
 * other tokens are named by their label.
 */
#define NKHSM_TOKEN_NITROKEY		0x80

/*
 * Token discovery. Uninitialized tokens are skipped (libp11-style stacks
 * hang on them; an uninitialized token cannot log anyone in anyway).
 * nkhsm_token_list fills an array of *np tokens; free each, then the array,
 * with nkhsm_token_list_free.
 */
int nkhsm_token_list(nkhsm_ctx_t *ctx, nkhsm_token_t ***listp, size_t *np);
void nkhsm_token_list_free(nkhsm_token_t ***listp, size_t n);
/* All initialized tokens matching the URI (NULL: any), possibly none. */
/*
 * The matching tokens one at a time, in slot order. Set *cursor to 0 for
 * the first (that call reads the slot list). Only the slots up to the next
 * match are read, so a caller that stops early makes fewer calls.
 * NKHSM_ERR_NO_TOKEN when there are no more. The slot list lives in ctx:
 * one walk at a time per ctx.
 */
int nkhsm_token_next(nkhsm_ctx_t *ctx, const nkhsm_uri_t *uri,
    size_t *cursor, nkhsm_token_t **tokp);
int nkhsm_token_list_match(nkhsm_ctx_t *ctx, const nkhsm_uri_t *uri,
    nkhsm_token_t ***listp, size_t *np);
/* Exactly one token matching the URI (NULL: any); else NO/AMBIGUOUS_TOKEN. */
int nkhsm_token_find(nkhsm_ctx_t *ctx, const nkhsm_uri_t *uri,
    nkhsm_token_t **tokp);
void nkhsm_token_free(nkhsm_token_t **tokp);

const char *nkhsm_token_label(const nkhsm_token_t *tok);
const char *nkhsm_token_serial(const nkhsm_token_t *tok);
const char *nkhsm_token_manufacturer(const nkhsm_token_t *tok);
const char *nkhsm_token_model(const nkhsm_token_t *tok);
unsigned long nkhsm_token_slot(const nkhsm_token_t *tok);
unsigned int nkhsm_token_flags(const nkhsm_token_t *tok);
void nkhsm_token_pin_len(const nkhsm_token_t *tok, size_t *minp, size_t *maxp);
/* Read the token flags again (after a failed login, for example). */
int nkhsm_token_refresh(nkhsm_token_t *tok);
/*
 * The exact number of user PIN tries left, where the token says it (the
 * PC/SC path: a SmartCard-HSM answers VERIFY with it), else -1 (PKCS#11
 * gives only the flags). Read with the token and after each login.
 */
int nkhsm_token_pin_tries(const nkhsm_token_t *tok);
/* The PC/SC reader that holds the token; NULL on a PKCS#11 context. */
const char *nkhsm_token_reader(const nkhsm_token_t *tok);

/*
 * Log in as the user. pin may be NULL only for a PIN pad token. The PIN is
 * sent once, never retried. Returns NKHSM_ERR_PIN_INCORRECT or
 * NKHSM_ERR_PIN_LOCKED with the flags refreshed.
 */
#define NKHSM_PIN_MAX		256
int nkhsm_token_login(nkhsm_token_t *tok, const char *pin, size_t pinlen);
int nkhsm_token_logout(nkhsm_token_t *tok);
int nkhsm_token_set_pin(nkhsm_token_t *tok, const char *oldpin, size_t oldlen,
    const char *newpin, size_t newlen);

/* Keys: a private key on the token and its public key. */
int nkhsm_key_find(nkhsm_token_t *tok, const nkhsm_uri_t *uri,
    nkhsm_key_t **keyp);
/* The private key whose public point equals pub's (one search, no PIN). */
int nkhsm_key_find_by_pubkey(nkhsm_token_t *tok, const EVP_PKEY *pub,
    nkhsm_key_t **keyp);
/*
 * The same, by raw point: no EVP_PKEY is made unless one is asked for.
 * Both: NKHSM_ERR_NO_KEY if no object has that point, NKHSM_ERR_MODULE if
 * the token answers the search with an object whose point differs.
 */
int nkhsm_key_find_by_point(nkhsm_token_t *tok, const nkhsm_point_t *pt,
    nkhsm_key_t **keyp);
/*
 * The first of n points (in their order on a PKCS#11 token; in the card's
 * order on the PC/SC path) whose private key the token holds: the key, and
 * in *indexp which point it is. NKHSM_ERR_NO_KEY when it holds none. Points
 * whose curve is NKHSM_CURVE_NONE are skipped. On the PC/SC path, with card
 * hints set (nkhsm_ctx_set_hints), this costs one READ BINARY when the hint
 * holds; else the card is scanned, one READ BINARY per key.
 */
int nkhsm_key_find_any(nkhsm_token_t *tok, const nkhsm_point_t *pts, size_t n,
    nkhsm_key_t **keyp, size_t *indexp);
int nkhsm_key_list(nkhsm_token_t *tok, nkhsm_key_t ***listp, size_t *np);
/* Keys made from the token's X.509 certificate objects (no PIN needed). */
int nkhsm_cert_list(nkhsm_token_t *tok, nkhsm_key_t ***listp, size_t *np);
/* The DER certificate a key was made from; NULL for other keys. */
const uint8_t *nkhsm_key_cert(const nkhsm_key_t *key, size_t *lenp);
void nkhsm_key_list_free(nkhsm_key_t ***listp, size_t n);
void nkhsm_key_free(nkhsm_key_t **keyp);

const char *nkhsm_key_label(const nkhsm_key_t *key);
const uint8_t *nkhsm_key_id(const nkhsm_key_t *key, size_t *lenp);
nkhsm_curve_t nkhsm_key_curve(const nkhsm_key_t *key);
/* The public key as the token reports it; not an authorization. */
EVP_PKEY *nkhsm_key_pubkey(nkhsm_key_t *key);
/* The public point of a key read from a public key object, or NULL. */
const nkhsm_point_t *nkhsm_key_point(const nkhsm_key_t *key);
nkhsm_token_t *nkhsm_key_token(const nkhsm_key_t *key);

/*
 * Generate an EC key pair on the token (a read-write session is opened).
 * Without an id, a random NKHSM_KEYGEN_ID_LEN-byte id is drawn and checked
 * with one search, so the cost does not grow with the token's contents.
 * An existing object with the label or id is NKHSM_ERR_EXISTS. Once the
 * pair exists, its public key is read back and must be a point on the
 * curve with the label and id asked for; if anything fails from there on,
 * the pair is destroyed before the error is returned. info (may be NULL)
 * says what happened, on success and on failure.
 */
#define NKHSM_KEYGEN_ID_LEN	8
#define NKHSM_LEFT_PRIVATE	0x01	/* info->left: objects not destroyed */
#define NKHSM_LEFT_PUBLIC	0x02
typedef struct nkhsm_keygen_info {
	int		 made;		/* the token generated the pair */
	unsigned int	 left;		/* NKHSM_LEFT_*; nonzero only if made */
	const char	*why;		/* static: what was wrong, or NULL */
	uint8_t		 id[NKHSM_ID_MAX];	/* the pair's id (as read */
	size_t		 idlen;			/* back, if it was) */
} nkhsm_keygen_info_t;
int nkhsm_keygen(nkhsm_token_t *tok, nkhsm_curve_t curve, const char *label,
    const uint8_t *id, size_t idlen, nkhsm_key_t **keyp,
    nkhsm_keygen_info_t *info);
/*
 * Destroy the pair a successful nkhsm_keygen made, for a caller that cannot
 * finish its own work with it; info->left says what could not be destroyed.
 */
int nkhsm_keygen_undo(nkhsm_key_t *key, nkhsm_keygen_info_t *info);

/* Signatures. The message is hashed on the host with the curve's hash. */
typedef enum {
	NKHSM_SIG_DER = 0,	/* ECDSA-Sig-Value, as OpenSSL and X.509 */
	NKHSM_SIG_RAW,		/* r || s, each the field size */
	NKHSM_SIG_SSH,		/* string(ecdsa-sha2-nistpNNN) string(mpint r, mpint s) */
} nkhsm_sigfmt_t;

#define NKHSM_MSG_MAX		(64 * 1024 * 1024)
int nkhsm_key_sign(nkhsm_key_t *key, const uint8_t *msg, size_t len,
    nkhsm_sigfmt_t fmt, uint8_t **sigp, size_t *siglenp);
/* Raw CKM_ECDSA over a digest already computed; output is r || s. */
int nkhsm_key_sign_digest(nkhsm_key_t *key, const uint8_t *dgst, size_t dlen,
    uint8_t **sigp, size_t *siglenp);
/* An EVP_PKEY whose private operations are done by the token. */
int nkhsm_key_evp(nkhsm_key_t *key, EVP_PKEY **pkeyp);

/* Software verification against a public key the caller trusts. */
int nkhsm_verify(const EVP_PKEY *pub, const uint8_t *msg, size_t len,
    nkhsm_sigfmt_t fmt, const uint8_t *sig, size_t siglen);
/*
 * The same for a raw point and a raw (r || s) signature; the point is
 * checked to be on its curve. NKHSM_ERR_SIGNATURE if it does not verify.
 */
int nkhsm_verify_point(const nkhsm_point_t *pub, const uint8_t *msg,
    size_t len, const uint8_t *sig, size_t siglen);
/* The same with the key prepared once, for many signatures by one key. */
typedef struct nkhsm_ecverify nkhsm_ecverify_t;
int nkhsm_ecverify_new(const nkhsm_point_t *pub, nkhsm_ecverify_t **vp);
int nkhsm_ecverify(const nkhsm_ecverify_t *v, const uint8_t *msg, size_t len,
    const uint8_t *sig, size_t siglen);
void nkhsm_ecverify_free(nkhsm_ecverify_t **vp);
/* Conversions between signature formats. */
int nkhsm_sig_convert(nkhsm_curve_t curve, nkhsm_sigfmt_t from,
    const uint8_t *in, size_t inlen, nkhsm_sigfmt_t to,
    uint8_t **outp, size_t *outlenp);

/* Public keys. */
#define NKHSM_PUBKEY_LINE_MAX	8192
/* "ecdsa-sha2-nistp256 AAAA... comment" (no newline). */
int nkhsm_pubkey_to_ssh(const EVP_PKEY *pub, const char *comment, char **linep);
/* The SSH wire blob of the public key. */
int nkhsm_pubkey_to_ssh_blob(const EVP_PKEY *pub, uint8_t **blobp, size_t *lenp);
int nkhsm_pubkey_from_ssh_blob(const uint8_t *blob, size_t len, EVP_PKEY **pubp);
/* "type base64 [comment]"; only the EC key types are accepted. */
int nkhsm_pubkey_from_ssh(const char *line, EVP_PKEY **pubp, char **commentp);
int nkhsm_pubkey_to_pem(const EVP_PKEY *pub, char **pemp);
/* "SHA256:" followed by unpadded base64, as ssh-keygen -l prints it. */
/* "SHA256:" and the unpadded base64 of a key blob's SHA-256 (ssh-keygen -l). */
int nkhsm_blob_fingerprint(const uint8_t *blob, size_t len, char **fpp);
int nkhsm_pubkey_fingerprint(const EVP_PKEY *pub, char **fpp);
/* 1 when equal, 0 when not. */
int nkhsm_pubkey_equal(const EVP_PKEY *a, const EVP_PKEY *b);

/* X.509. */
#define NKHSM_SELFSIGN_CA	0x01
int nkhsm_selfsign(nkhsm_key_t *key, const char *subject, unsigned int days,
    unsigned int flags, X509 **certp);
int nkhsm_name_parse(const char *dn, X509_NAME **namep);
/*
 * A PKCS#10 request for the key's public key with this subject, signed by
 * the key (log in first) and verified before it is returned.
 */
int nkhsm_csr(nkhsm_key_t *key, const char *subject, X509_REQ **reqp);
/* Store the certificate on the token with the key's id and label. */
int nkhsm_token_store_cert(nkhsm_key_t *key, X509 *cert);

/*
 * The direct PC/SC path: a SmartCard-HSM (the card inside a Nitrokey HSM)
 * over PC/SC-lite, with the card's own commands and no PKCS#11 module.
 *
 * A context from nkhsm_ctx_open_pcsc is used like a PKCS#11 one for a login:
 * nkhsm_token_next lists the SmartCard-HSMs in the readers (each one holds
 * its card in a PC/SC transaction until nkhsm_token_free), then
 * nkhsm_key_find_any, nkhsm_token_login, nkhsm_key_sign(_digest),
 * nkhsm_token_logout and nkhsm_token_set_pin. What a login does not need
 * (keygen, certificate storage, nkhsm_key_find by URI, nkhsm_key_list) is
 * left to PKCS#11: NKHSM_ERR_UNSUPPORTED. A token that is logged in when it
 * is freed is reset, so that it is never left logged in.
 *
 * Token attributes are the ones OpenSC gives the same card: serial (the
 * device certificate's holder reference without its sequence number),
 * label (EF.TokenInfo's, or "SmartCard-HSM", followed by " (UserPIN)"),
 * manufacturer (EF.TokenInfo's, or "www.CardContact.de") and model
 * "PKCS#15 emulated"; so one token= URI selects the card on either path.
 * libpcsclite.so.1 is loaded at the first call that needs it.
 */
#define NKHSM_PCSC_ANY_CARD	0x01	/* also try cards whose ATR is unknown */
int nkhsm_ctx_open_pcsc(unsigned int flags, nkhsm_ctx_t **ctxp);
typedef enum {
	NKHSM_DRIVER_PKCS11 = 0,
	NKHSM_DRIVER_PCSC,
} nkhsm_driver_t;
nkhsm_driver_t nkhsm_ctx_driver(const nkhsm_ctx_t *ctx);
/* Commands sent to cards through this context (for benchmarks). */
unsigned long nkhsm_ctx_apdus(const nkhsm_ctx_t *ctx);
/*
 * Cards seen by the last nkhsm_token_next walk that this path did not take:
 * an ATR that is not a SmartCard-HSM's, or a card that answered in a way it
 * does not expect. A caller that found nothing then tries PKCS#11.
 */
size_t nkhsm_ctx_other_cards(const nkhsm_ctx_t *ctx);
/*
 * Card hints: a root-only file (mode 0600 in a directory only its owner can
 * write; both owned by the caller's effective user) that remembers which
 * key reference held which public key. A hint is checked against the card
 * before use, so it can never select a wrong key; an unsafe or malformed
 * file is ignored. nkhsm_key_find_any rewrites it when it learns something.
 */
int nkhsm_ctx_set_hints(nkhsm_ctx_t *ctx, const char *path);

/*
 * PC/SC readers, for nkhsm-hotplug and nkhsm-tool doctor. These work on a
 * context from nkhsm_ctx_open_pcsc and send no command to any card, except
 * nkhsm_reader_serial.
 */
#define NKHSM_READER_NAME_MAX	128
#define NKHSM_ATR_MAX		33
#define NKHSM_READER_EMPTY	0x01	/* no card */
#define NKHSM_READER_PRESENT	0x02	/* a card is in the reader */
#define NKHSM_READER_MUTE	0x04	/* a card that does not answer reset */
#define NKHSM_READER_INUSE	0x08	/* another program has it (shared) */
#define NKHSM_READER_EXCLUSIVE	0x10	/* another program has it alone */
#define NKHSM_READER_UNAVAILABLE 0x20	/* the reader is not usable */
#define NKHSM_READER_SCHSM	0x40	/* the card's ATR is a SmartCard-HSM's */
#define NKHSM_READER_NITROKEY	0x80	/* a Nitrokey HSM's own reader */
typedef struct nkhsm_reader {
	char		name[NKHSM_READER_NAME_MAX];
	unsigned int	state;		/* NKHSM_READER_* */
	unsigned int	events;		/* pcscd's count of insertions/removals */
	size_t		atrlen;
	uint8_t		atr[NKHSM_ATR_MAX];
} nkhsm_reader_t;
/* The readers now, in pcscd's order; free the array with free(). */
int nkhsm_readers(nkhsm_ctx_t *ctx, nkhsm_reader_t **listp, size_t *np);
/*
 * Wait until the readers differ from known (n of them, as an earlier call
 * returned them): a reader appears or goes away, or a card is inserted or
 * removed. Then the new list, as nkhsm_readers. NKHSM_ERR_TIMEOUT after
 * timeout_ms (-1: no limit); NKHSM_ERR_CANCELLED after
 * nkhsm_readers_cancel (safe to call from another thread).
 */
int nkhsm_readers_wait(nkhsm_ctx_t *ctx, const nkhsm_reader_t *known,
    size_t n, int timeout_ms, nkhsm_reader_t **listp, size_t *np);
int nkhsm_readers_cancel(nkhsm_ctx_t *ctx);
/* 1 if the ATR is one of the SmartCard-HSM's (as OpenSC's sc-hsm driver). */
int nkhsm_atr_is_schsm(const uint8_t *atr, size_t len);
/*
 * The serial of the SmartCard-HSM in a reader (SELECT and one READ BINARY):
 * NKHSM_ERR_NO_TOKEN for an empty reader or another card. Selecting the
 * applet logs the card out, as any program's start does.
 */
int nkhsm_reader_serial(nkhsm_ctx_t *ctx, const char *reader, char **serialp);

/* PINs. */
/*
 * Read a PIN from a source: "env:VAR", "file:PATH", or NULL for the
 * terminal (no echo). The result is NUL-terminated and must be released
 * with nkhsm_pin_free(pin, len).
 */
int nkhsm_pin_read(const char *source, const char *prompt, char **pinp,
    size_t *lenp);
void nkhsm_pin_free(char *pin, size_t len);

/* The shared configuration file, /etc/nkhsm/nkhsm.conf. */
typedef struct nkhsm_conf nkhsm_conf_t;
#define NKHSM_CONF_LINE_MAX	1024
#define NKHSM_CONF_SIZE_MAX	(64 * 1024)
/*
 * Loads path (NULL: the default). A missing default file is not an error
 * (an empty configuration results); a missing explicit file is. On error a
 * message naming the file, line and reason is written to errbuf.
 * owner_uid: the file must be owned by root or by this uid (-1: root
 * only); it must not be group/world-writable.
 */
int nkhsm_conf_load(const char *path, long owner_uid, nkhsm_conf_t **confp,
    char *errbuf, size_t errlen);
int nkhsm_conf_parse(const char *name, const char *text, size_t len,
    nkhsm_conf_t **confp, char *errbuf, size_t errlen);
void nkhsm_conf_free(nkhsm_conf_t **confp);
const char *nkhsm_conf_module(const nkhsm_conf_t *conf);	/* NULL: unset */
const char *nkhsm_conf_token(const nkhsm_conf_t *conf);
const char *nkhsm_conf_pin_source(const nkhsm_conf_t *conf);
/* "auto", "pcsc" or "pkcs11": how a SmartCard-HSM is reached (PAM). */
const char *nkhsm_conf_driver(const nkhsm_conf_t *conf);
/* nkhsm-sshca's ledger URL (sqlite:/PATH or postgresql://..., no password). */
const char *nkhsm_conf_ledger(const nkhsm_conf_t *conf);
const char *nkhsm_default_module(void);
const char *nkhsm_default_conf(void);

/* Check an open file: regular, owner (as above) and mode; not its directories. */
int nkhsm_file_check(int fd, const char *path, long owner_uid,
    char *errbuf, size_t errlen);

const char *nkhsm_version(void);

#ifdef __cplusplus
}
#endif
#endif /* NKHSM_H */
