/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pamnk.h - pam_nkhsm internals: the helper protocol's messages, the
 * challenge and session records, over its options and authorized keys
 * (pamconf.h, shared with nkhsm-tool doctor). The PAM entry points
 * (pam_nkhsm.c) are thin glue over these; everything here except the I/O
 * wrappers is pure, so cmocka and libFuzzer reach it without PAM or a token.
 */
#ifndef PAMNK_H
#define PAMNK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/evp.h>

#include "nkhsm.h"
#include "pamconf.h"

#ifndef NKHSM_HELPER_PATH
#define NKHSM_HELPER_PATH	"/usr/libexec/nkhsm/nkhsm-pam-helper"
#endif

/* PAM data, between the auth and session steps of one PAM handle. */
#define PNK_DATA_AUTH		"pam_nkhsm_auth"	/* encoded pnk_authrec */
#define PNK_DATA_TICKET		"pam_nkhsm_ticket"	/* its ticket's reference */
#define PNK_DATA_RECORD		"pam_nkhsm_record"	/* session record path */

/* pnk_opts_parse for a PAM entry point: PAM_SUCCESS, or the logged code. */
struct pam_handle;
int pnk_opts_pam(struct pam_handle *pamh, int argc, const char **argv,
    struct pnk_opts *o);
/*
 * The driver (driver= over nkhsm.conf's driver, else auto) and the card
 * hints file in cachedir: PAM_SUCCESS or PAM_BUF_ERR.
 */
int pnk_driver_setup(struct pam_handle *pamh, const struct pnk_opts *o,
    const nkhsm_conf_t *conf, uint8_t *driverp, char **hintsp);

/* The challenge: bound to host, service and user, with 32 random bytes. */
#define PNK_NONCE_LEN		32
int pnk_challenge(const char *host, const char *service, const char *user,
    const uint8_t *nonce, uint8_t **msgp, size_t *lenp);

/*
 * What authentication proved, for the session step (ticket.c): the user, the
 * token that signed and the authorized key's fingerprint. Carried in the PAM
 * handle (same process) or in a ticket file in RUNDIR/auth that the session
 * step consumes (sshd authenticates in a child process).
 */
#define PNK_TICKET_TTL		300	/* seconds a ticket may wait for its session */
#define PNK_TICKET_ENV		"NKHSM_SESSION_TICKET"
#define PNK_TICKET_REF_LEN	64	/* hex digits of 32 random bytes */
#define PNK_AUTHREC_MAX		4096	/* an encoded record */

struct pnk_authrec {
	char		*user;
	uint32_t	 uid;
	char		*service;
	char		*serial;
	char		*label;
	char		*model;
	char		*manufacturer;
	char		*fp;
	int64_t		 pid;		/* the authenticating process */
	int64_t		 ppid;		/* and its parent (sshd's monitor) */
	int64_t		 created;	/* seconds since the epoch */
};

/* Encode (one allocation, *lenp bytes) and strictly decode a record. */
int pnk_authrec_encode(const struct pnk_authrec *a, uint8_t **outp,
    size_t *lenp);
int pnk_authrec_decode(const uint8_t *p, size_t len, struct pnk_authrec *a);
void pnk_authrec_free(struct pnk_authrec *a);
/*
 * NULL when every token string may go into a session record, else the
 * reason: control characters, '=', '/', malformed UTF-8, an empty serial,
 * or a fingerprint not of the form SHA256:<43 base64 characters>.
 */
const char *pnk_authrec_unfit(const struct pnk_authrec *a);
/*
 * Write a ticket for a (mode 0600, RUNDIR/auth, name derived from the
 * reference) and return its reference, PNK_TICKET_REF_LEN hex digits.
 */
int pnk_ticket_write(const char *rundir, const struct pnk_authrec *a,
    char *ref, size_t reflen, char *errbuf, size_t errlen);
/*
 * Take the ticket a reference names: it is removed whether or not it is
 * good. NKHSM_ERR_IO when there is none (forged, used or swept), _FORMAT for
 * a malformed reference. The caller checks what it proves (pnk_ticket_fits).
 */
int pnk_ticket_take(const char *rundir, const char *ref,
    struct pnk_authrec *a, char *errbuf, size_t errlen);
/* Remove a ticket this process wrote (the session came in-process). */
void pnk_ticket_drop(const char *rundir, const char *ref);
/* NULL when the record was made for this user (name and uid) and service. */
const char *pnk_authrec_names(const struct pnk_authrec *a, const char *user,
    uint32_t uid, const char *service);
/*
 * NULL when a ticket's record may stand for this session: made for this
 * user and service, by this process or by a child of it, no older than
 * PNK_TICKET_TTL. Else the reason.
 */
const char *pnk_ticket_fits(const struct pnk_authrec *a, const char *user,
    uint32_t uid, const char *service, int64_t pid, int64_t now);
/* RUNDIR (made 0755 if missing) must be a directory of ours alone. */
int pnk_rundir_check(const char *rundir, char *errbuf, size_t errlen);
/*
 * RUNDIR/name opened as a directory of ours alone (made 0700, with RUNDIR,
 * when create is set): a descriptor, or an NKHSM_ERR_* code.
 */
int pnk_rundir_subdir(const char *rundir, const char *name, int create,
    char *errbuf, size_t errlen);

/* The same, logged: PAM_SUCCESS, PAM_SERVICE_ERR, PAM_AUTHINFO_UNAVAIL. */
int pnk_code_pam(struct pam_handle *pamh, const char *what, const char *path);

/*
 * The token's name for messages: "Nitrokey HSM 'label'" for a Nitrokey HSM
 * (NKHSM_TOKEN_NITROKEY), else "token 'label'"; the label escaped.
 */
void pnk_token_name(uint32_t flags, const char *label, char *out,
    size_t outlen);
/*
 * The PIN state in words, or NULL when there is nothing to warn about:
 * the exact count where the token gives it (tries >= 0), else what the
 * PKCS#11 flags say.
 */
const char *pnk_tries_text(uint32_t flags, int tries, char *out,
    size_t outlen);

/* Helper messages (proto.h) that both the auth and password services use. */
struct pnk_found {
	char		*label;
	char		*serial;
	char		*model;
	char		*manufacturer;
	uint32_t	 flags;
	uint32_t	 minpin, maxpin;
	uint32_t	 index;
	int		 tries;		/* -1: unknown */
	uint8_t		 driver;	/* PNK_DRIVER_PCSC or _PKCS11 */
};
struct nk_buf;
int pnk_found_parse(struct nk_buf *b, struct pnk_found *f);
void pnk_found_free(struct pnk_found *f);
/* M_DISCOVER's body; keys may be NULL. */
int pnk_put_discover(struct nk_buf *b, const char *module, const char *token,
    uint8_t mode, const struct pnk_keys *keys, uint8_t driver,
    const char *hints);

#endif /* PAMNK_H */
