/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pamnk.h - pam_nkhsm internals: options, authorized keys, the helper
 * protocol and session records. The PAM entry points (pam_nkhsm.c) are
 * thin glue over these; everything here except the I/O wrappers is pure,
 * so cmocka and libFuzzer reach it without PAM or a token.
 */
#ifndef PAMNK_H
#define PAMNK_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <openssl/evp.h>

#include "nkhsm.h"

#define PNK_ARG_MAX		1024	/* one module argument */
#define PNK_WAIT_MAX		600
#define PNK_TIMEOUT_MAX		600
#define PNK_TIMEOUT_DEFAULT	30
#define PNK_TRIES_MAX		15
#define PNK_CRL_MAX		16	/* crl= options */
#define PNK_CRL_GRACE_MAX	(30 * 86400)
#define PNK_AUTHFILE_DEFAULT	"%h/.config/nkhsm/authorized_keys"
#define PNK_RUNDIR_DEFAULT	"/run/nkhsm"
#define PNK_CACHEDIR_DEFAULT	"/var/cache/nkhsm"
#define PNK_HINTS_FILE		"card-hints"	/* in cachedir */

#ifndef NKHSM_HELPER_PATH
#define NKHSM_HELPER_PATH	"/usr/libexec/nkhsm/nkhsm-pam-helper"
#endif

/* PAM data, between the auth and session steps of one PAM handle. */
#define PNK_DATA_AUTH		"pam_nkhsm_auth"	/* encoded pnk_authrec */
#define PNK_DATA_TICKET		"pam_nkhsm_ticket"	/* its ticket's reference */
#define PNK_DATA_RECORD		"pam_nkhsm_record"	/* session record path */

/* How a certificate subject maps to the user name (ca=). */
#define PNK_MAP_CN		0x01
#define PNK_MAP_UID		0x02

struct pnk_opts {
	char		*module;
	char		*token;
	char		*authfile;
	char		*ca;
	char		*conf;
	char		*helper;
	char		*rundir;
	char		*cachedir;
	unsigned int	 driver;	/* PNK_DRIVER_* (proto.h) */
	int		 driver_set;	/* driver= given explicitly */
	unsigned int	 wait;
	unsigned int	 timeout;
	unsigned int	 min_tries_left;
	unsigned int	 ca_map;
	char		*crl[PNK_CRL_MAX];	/* crl=, files or directories */
	size_t		 ncrl;
	unsigned int	 crl_grace;	/* seconds an expired CRL still counts */
	char		*krl;
	int		 nouserok;
	int		 use_first_pass;
	int		 try_first_pass;
	int		 debug;
	int		 authfile_set;	/* authfile= given explicitly */
};

/*
 * Parse module arguments. Unknown, repeated and malformed options are
 * errors (the caller returns PAM_SERVICE_ERR): errbuf names the argument.
 */
int pnk_opts_parse(int argc, const char **argv, struct pnk_opts *o,
    char *errbuf, size_t errlen);
void pnk_opts_free(struct pnk_opts *o);
/* "auto", "pcsc", "pkcs11" to PNK_DRIVER_*; -1 for anything else. */
int pnk_driver_parse(const char *s);
/* The same for a PAM entry point: PAM_SUCCESS, or the logged PAM code. */
struct pam_handle;
int pnk_opts_pam(struct pam_handle *pamh, int argc, const char **argv,
    struct pnk_opts *o);
/*
 * The driver (driver= over nkhsm.conf's driver, else auto) and the card
 * hints file in cachedir: PAM_SUCCESS or PAM_BUF_ERR.
 */
int pnk_driver_setup(struct pam_handle *pamh, const struct pnk_opts *o,
    const nkhsm_conf_t *conf, uint8_t *driverp, char **hintsp);

/* Authorized keys. */
#define PNK_AUTHFILE_SIZE_MAX	(1024 * 1024)
#define PNK_AUTHFILE_LINE_MAX	8192
#define PNK_KEYS_MAX		256

struct pnk_key {
	nkhsm_point_t	 pt;		/* checked to be on its curve */
	uint8_t		*blob;		/* the SSH key blob, as the helper wants it */
	size_t		 bloblen;
	char		*fp;		/* SHA256:... */
	unsigned int	 line;
	/* Its options (keyopts.c). */
	char		*from;		/* from="..." pattern list, or NULL */
	int64_t		 expiry;	/* expiry-time=, if expires */
	int		 expires;
	char		*unusable;	/* why the line is never used, or NULL */
	const char	*revoked;	/* how krl= revokes it (static), or NULL */
};

struct pnk_keys {
	struct pnk_key	 key[PNK_KEYS_MAX];
	size_t		 n;
	unsigned int	 skipped;	/* lines with other key types */
};

/* Expand %u, %h and %% in a path template. */
int pnk_expand_path(const char *tmpl, const char *user, const char *home,
    char **outp);
/* Parse authorized_keys text. On error errbuf says "NAME:LINE: reason". */
int pnk_keys_parse(const char *name, const char *text, size_t len,
    struct pnk_keys *keys, char *errbuf, size_t errlen);
void pnk_keys_free(struct pnk_keys *keys);
/*
 * Open and check the file (no symlinks; owned by uid or root; the file and
 * every directory above it not group/world-writable), then parse it.
 * Returns 0, NKHSM_ERR_IO with errno ENOENT when the file does not exist,
 * NKHSM_ERR_PERMISSION for unsafe files, or another error; errbuf says why.
 */
int pnk_keys_load(const char *path, uid_t uid, struct pnk_keys *keys,
    char *errbuf, size_t errlen);

/*
 * Owned by root or uid and not writable by group or others; a root-owned
 * directory with the sticky bit (/tmp) may be world-writable.
 */
struct stat;
int pnk_safe_owner_mode(const struct stat *st, uid_t uid, const char *path,
    char *errbuf, size_t errlen);

/*
 * The options field of a line (s, len bytes) into k: from=, expiry-time=,
 * and k->unusable for cert-authority and for options pam_nkhsm cannot
 * enforce. NKHSM_ERR_FORMAT (errbuf says why) for malformed syntax.
 */
int pnk_keyopts_parse(const char *s, size_t len, struct pnk_key *k,
    char *errbuf, size_t errlen);
/* YYYYMMDD[HHMM[SS]][Z], local time unless Z; as sshd's expiry-time=. */
int pnk_expiry_parse(const char *s, int64_t *tp);
/*
 * from="..." against the remote host: 1 allowed, 0 not, -1 an invalid
 * list (an empty entry, a CIDR mask out of range or with host bits set).
 */
int pnk_from_match(const char *patterns, const char *rhost);
/* NULL when the key may be used for this login, else why not (in buf). */
const char *pnk_key_refusal(const struct pnk_key *k, const char *rhost,
    int64_t now, char *buf, size_t buflen);
/* Drop the keys that may not be used here; report(arg, line, why) each. */
void pnk_keys_select(struct pnk_keys *keys, const char *rhost, int64_t now,
    void (*report)(void *, unsigned int, const char *), void *arg);

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

/*
 * Code that this process runs or loads (the helper, the PKCS#11 module): an
 * absolute path to a regular file; it, every directory on the way and every
 * symbolic link's directory owned by root (or our effective user) and
 * writable by nobody else (a root-owned sticky directory excepted).
 * NKHSM_ERR_PERMISSION when unsafe, NKHSM_ERR_IO when missing.
 */
int pnk_code_check(const char *path, char *errbuf, size_t errlen);
/* The same, logged: PAM_SUCCESS, PAM_SERVICE_ERR, PAM_AUTHINFO_UNAVAIL. */
int pnk_code_pam(struct pam_handle *pamh, const char *what, const char *path);

/* Escape an untrusted string for a log line (printable ASCII, \xNN else). */
void pnk_escape(const char *in, char *out, size_t outlen);

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
