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

#define PNK_ARG_MAX		1024	/* one module argument */
#define PNK_WAIT_MAX		600
#define PNK_TIMEOUT_MAX		600
#define PNK_TIMEOUT_DEFAULT	30
#define PNK_TRIES_MAX		15
#define PNK_AUTHFILE_DEFAULT	"%h/.config/nkhsm/authorized_keys"
#define PNK_RUNDIR_DEFAULT	"/run/nkhsm"

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
	unsigned int	 wait;
	unsigned int	 timeout;
	unsigned int	 min_tries_left;
	unsigned int	 ca_map;
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
/* The same for a PAM entry point: PAM_SUCCESS, or the logged PAM code. */
struct pam_handle;
int pnk_opts_pam(struct pam_handle *pamh, int argc, const char **argv,
    struct pnk_opts *o);

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

/* The challenge: bound to host, service and user, with 32 random bytes. */
#define PNK_NONCE_LEN		32
int pnk_challenge(const char *host, const char *service, const char *user,
    const uint8_t *nonce, uint8_t **msgp, size_t *lenp);

/* NKHSM_TOKEN_SERIAL, PKCS11_LOGIN_TOKEN_NAME, NKHSM_KEY into the PAM env. */
struct pam_handle;
int pnk_export(struct pam_handle *pamh, const char *serial, const char *label,
    const char *fp);

/* Escape an untrusted string for a log line (printable ASCII, \xNN else). */
void pnk_escape(const char *in, char *out, size_t outlen);

#endif /* PAMNK_H */
