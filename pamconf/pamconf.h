/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pamconf.h - what pam_nkhsm reads and how it judges it: its module
 * arguments, the authorized keys files (lines, options, the file's owner
 * and mode) and the code it runs (the helper, the PKCS#11 module). Pure
 * but for the file checks; shared by pam_nkhsm and nkhsm-tool doctor, so
 * that doctor judges these files exactly as a login does.
 */
#ifndef PAMCONF_H
#define PAMCONF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

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

/* Drivers (driver=): how the helper reaches a SmartCard-HSM. */
#define PNK_DRIVER_AUTO		0	/* PC/SC directly when the module is OpenSC's */
#define PNK_DRIVER_PCSC		1	/* PC/SC directly, nothing else */
#define PNK_DRIVER_PKCS11	2	/* the PKCS#11 module, never PC/SC */

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
	unsigned int	 driver;	/* PNK_DRIVER_* */
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

/*
 * Code that this process runs or loads (the helper, the PKCS#11 module): an
 * absolute path to a regular file; it, every directory on the way and every
 * symbolic link's directory owned by root (or our effective user) and
 * writable by nobody else (a root-owned sticky directory excepted).
 * NKHSM_ERR_PERMISSION when unsafe, NKHSM_ERR_IO when missing.
 */
int pnk_code_check(const char *path, char *errbuf, size_t errlen);

/* Escape an untrusted string for a log line (printable ASCII, \xNN else). */
void pnk_escape(const char *in, char *out, size_t outlen);

#endif /* PAMCONF_H */
