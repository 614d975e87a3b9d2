/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sshca.h - nkhsm-sshca internals. The encoders (OpenSSH certificates and
 * KRLs) and the policy engine are pure: no I/O, no token, so cmocka and
 * libFuzzer reach them directly. The ledger and the CLI do the I/O.
 */
#ifndef SSHCA_H
#define SSHCA_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#define SC_PRINCIPALS_MAX	256
#define SC_PRINCIPAL_LEN_MAX	255
#define SC_KEYID_LEN_MAX	255
#define SC_OPTIONS_MAX		16
#define SC_OPTION_LEN_MAX	1024
#define SC_RSA_MIN_BITS		2048	/* NKHSM_RSA_MIN_BITS */
#define SC_NONCE_LEN		32
#define SC_FOREVER		UINT64_MAX

/* A subject public key from a .pub line (EC, Ed25519 or RSA). */
struct sc_pubkey {
	char		 type[48];	/* "ecdsa-sha2-nistp256", "ssh-ed25519", "ssh-rsa" */
	uint8_t		*blob;		/* the whole public key blob */
	size_t		 bloblen;
	unsigned int	 bits;		/* RSA modulus, EC field, 256 for Ed25519 */
	char		*fp;		/* "SHA256:..." */
	char		*comment;
};

/*
 * Parse "type base64 [comment]". Rejects certificates, unknown types,
 * malformed blobs and every key nkhsm_sshkey_check refuses (errbuf says
 * which), unless flags has SC_PUBKEY_WEAK_OK (to revoke such a key).
 */
#define SC_PUBKEY_WEAK_OK	0x01
int sc_pubkey_parse(const char *line, unsigned int flags, struct sc_pubkey *pk,
    char *errbuf, size_t errlen);
/*
 * A public key file: exactly one key line; blank and '#' lines around it
 * are allowed. Anything else, a second key included, is an error naming
 * the file and line.
 */
int sc_pubkey_file(const char *name, const char *text, size_t len,
    unsigned int flags, struct sc_pubkey *pk, char *errbuf, size_t errlen);
void sc_pubkey_free(struct sc_pubkey *pk);

#define SC_CERT_USER	1
#define SC_CERT_HOST	2

struct sc_option {
	char	*name;
	char	*value;		/* NULL: a flag (empty data) */
};

struct sc_certreq {
	int		 type;			/* SC_CERT_USER or SC_CERT_HOST */
	uint64_t	 serial;
	char		*key_id;
	char		**principals;
	size_t		 nprincipals;
	uint64_t	 valid_after;
	uint64_t	 valid_before;		/* SC_FOREVER: no expiry */
	struct sc_option crit[SC_OPTIONS_MAX];	/* critical options */
	size_t		 ncrit;
	struct sc_option ext[SC_OPTIONS_MAX];	/* extensions */
	size_t		 next;
	int		 clear_ext;		/* -O clear given */
	int		 allow_host_wildcard;	/* host principals may be patterns */
};

void sc_certreq_init(struct sc_certreq *req, int type);
void sc_certreq_free(struct sc_certreq *req);
/*
 * -n: comma-separated; empty names, duplicates, control characters and
 * oversize refused. A host certificate's principal with '*' or '?' is
 * refused unless req->allow_host_wildcard is set: OpenSSH versions that
 * match host principals as patterns would take "*" for every host name.
 */
int sc_parse_principals(struct sc_certreq *req, const char *list,
    char *errbuf, size_t errlen);
/*
 * -O as ssh-keygen: clear, force-command=CMD, source-address=CIDRS,
 * verify-required, no-touch-required, permit-X11-forwarding,
 * permit-agent-forwarding, permit-port-forwarding, permit-pty,
 * permit-user-rc, and no-* forms that remove a default extension.
 * Critical options on host certificates, and control characters anywhere
 * in an option, are refused.
 */
int sc_parse_option(struct sc_certreq *req, const char *opt, char *errbuf,
    size_t errlen);
/* Default extensions for user certificates (as ssh-keygen), unless cleared. */
int sc_apply_default_extensions(struct sc_certreq *req);
/*
 * -V: "+1h", "-5m:+1d", "20261128", "202611281530", "20261128153000",
 * "always:+1d", "forever" (explicit). Intervals in s, m, h, d, w; several
 * may be combined ("+1h30m"). Times are UTC. Without a colon, a relative
 * interval is "from now to now+interval". A window that ends before it
 * starts, or that has ended by now, is refused.
 */
int sc_parse_validity(const char *s, time_t now, uint64_t *fromp,
    uint64_t *top, char *errbuf, size_t errlen);

/*
 * The signed part of a certificate: everything from the type string through
 * the signature key string, as the format requires (options and extensions
 * sorted and unique, string values wrapped as string(string(v))).
 */
int sc_cert_tbs(const struct sc_certreq *req, const struct sc_pubkey *subject,
    const uint8_t *ca_blob, size_t ca_len, const uint8_t *nonce,
    uint8_t **tbsp, size_t *lenp);
/* tbs || string(signature blob) -> "TYPE-cert-v01@openssh.com BASE64 comment". */
int sc_cert_line(const uint8_t *tbs, size_t tbslen, const uint8_t *sig,
    size_t siglen, const char *comment, char **linep, uint8_t **certp,
    size_t *certlenp);

/* OpenSSH KRL (PROTOCOL.krl). */
struct sc_krl_input {
	const uint8_t	*ca_blob;	/* certificates by this CA */
	size_t		 ca_len;
	const uint64_t	*serials;	/* any order; encoded sorted, unique */
	size_t		 nserials;
	const char *const *key_ids;	/* any order; encoded sorted, unique */
	size_t		 nkey_ids;
	const uint8_t	(*sha256)[32];	/* plain keys revoked by SHA-256 of blob */
	size_t		 nsha256;
	uint64_t	 version;
	uint64_t	 generated;	/* seconds since the epoch */
	const char	*comment;
};
int sc_krl_encode(const struct sc_krl_input *in, uint8_t **krlp, size_t *lenp);

/*
 * Policy (optional file, see nkhsm-sshca(1)); comments only on lines of
 * their own:
 *
 *	# user certificates; without a [user] section they are refused
 *	[user]
 *	max_validity = 8h
 *	# allowed principals: globs; %k is the key id
 *	principals = %k
 *	options = permit-pty permit-port-forwarding force-command
 *	key_types = ecdsa-sha2-nistp256 ssh-ed25519
 *	# key ids matching the pattern (fnmatch) override the keys they set
 *	[user "admin-*"]
 *	principals = root
 *	[host]
 *	max_validity = 365d
 *
 * A request is checked against its type's section with the first matching
 * pattern section's keys overriding. On refusal errbuf names the rule:
 * "FILE:LINE: max_validity 8h exceeded".
 */
struct sc_policy;
int sc_policy_parse(const char *name, const char *text, size_t len,
    struct sc_policy **polp, char *errbuf, size_t errlen);
int sc_policy_load(const char *path, struct sc_policy **polp, char *errbuf,
    size_t errlen);
int sc_policy_check(const struct sc_policy *pol, const struct sc_certreq *req,
    const struct sc_pubkey *subject, time_t now, char *errbuf, size_t errlen);
void sc_policy_free(struct sc_policy **polp);

#endif /* SSHCA_H */
