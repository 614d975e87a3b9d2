/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd.h - nkhsm-sshca's commands: the options main() parsed, the state one
 * command works on (struct ca), the helpers the commands share (ca.c), and
 * one entry point per command, each in its own cmd-*.c file.
 */
#ifndef SC_CMD_H
#define SC_CMD_H

#include <stddef.h>
#include <stdint.h>

#include <openssl/x509.h>

#include "nkhsm.h"
#include "cli.h"
#include "site.h"
#include "sshca.h"

#define EX_POLICY	12	/* refused by policy */
#define EX_TAMPER	13	/* the ledger's log does not verify */
#define EX_LEDGER	15	/* the ledger's database cannot be reached */

#define BATCH_MAX	100000	/* keys in one sign */
#define STATE_MAX	1024	/* length of the state directory path */
#define SCRATCH_MAX	(STATE_MAX + 32)
#define FILE_MAX	(SCRATCH_MAX + 64)
#define SSH_KEYGEN	"/usr/bin/ssh-keygen"

struct opts {
	struct cli_common c;
	const char	*state;
	const char	*ledger;	/* --ledger URL */
	int		 join;		/* init --join */
	const char	*key;
	const char	*policy;
	const char	*key_id;	/* -I */
	const char	*principals;	/* -n */
	const char	*validity;	/* -V */
	const char	*serial;	/* -z */
	const char	*opt[64];	/* -O */
	size_t		 nopt;
	int		 user, host;
	int		 allow_host_wildcard;
	const char	*curve;
	const char	*label;
	const char	*subject;
	const char	*san;
	const char	*profile;
	const char	*days;
	const char	*csr;
	const char	*pubkey;
	const char	*output;
	const char	*key_id_rev;	/* revoke --key-id */
	const char	*reason;
	const char	*head;
	int		 json;
	int		 quiet;
};

/* Everything one command needs. */
struct ca {
	struct opts	*o;
	char		 dir[STATE_MAX];
	struct sc_ledger *l;
	struct cli_env	 e;
	nkhsm_key_t	*key;
	uint8_t		*ca_blob;
	size_t		 ca_len;
	X509		*cacert;
	nkhsm_ecverify_t *verify;	/* the CA key, to check the token */
	int		 have_env;
	struct sc_site	 site;		/* STATE/site.conf, if there is one */
	int		 have_site;
	int		 settled;	/* site and ledger URL read */
	char		*ledger;	/* the ledger URL; NULL: STATE/ledger.db */
};

void ca_free(struct ca *ca);
/* The state directory: --state, /var/lib/nkhsm-sshca as root, or ~/.local. */
int ca_state_dir(struct ca *ca, int create);
/*
 * Which ledger: --ledger, else the state's own (the URL in STATE/site.conf,
 * or STATE/ledger.db), else nkhsm.conf's ledger =, else a new
 * STATE/ledger.db (ca->ledger NULL).
 */
int ca_settings(struct ca *ca);
/* flags: SC_LEDGER_CREATE, SC_LEDGER_OLD_OK. */
int ca_open_ledger(struct ca *ca, unsigned int flags);
/* STATE/site.conf for a CA on a ledger other than STATE/ledger.db. */
int ca_write_site(const struct ca *ca, const char *module, const char *key);
/* After a ledger call failed: EX_LEDGER when its database went away. */
int ca_ledger_failed(const struct ca *ca);
/* The CA key from the ledger's settings and the token, checked; login. */
int ca_load(struct ca *ca, int login);
/* A whole decimal number in [min, max]; -1 otherwise. */
long ca_parse_num(const char *s, long min, long max);
int ca_read_text(const char *path, char **outp);
/* A public key file with exactly one key: 0, or an exit status. */
int ca_read_pubkey(const char *path, unsigned int flags, struct sc_pubkey *pk);
/* A certificate (or else a CRL) as PEM text: 0, -1. */
int ca_pem(const X509 *cert, const X509_CRL *crl, char **pemp);
/* The same written whole or not at all: 0, -1. */
int ca_write_pem(const char *path, const X509 *cert, const X509_CRL *crl);

int cmd_init(struct ca *ca, int argc, char **argv);
/* init --join: this site's token joins the CA a shared ledger holds. */
int cmd_init_join(struct ca *ca);
int cmd_ca_pubkey(struct ca *ca, int argc, char **argv);
int cmd_sign(struct ca *ca, int argc, char **argv);
int cmd_x509(struct ca *ca, int argc, char **argv);
int cmd_revoke(struct ca *ca, int argc, char **argv);
int cmd_krl(struct ca *ca, int argc, char **argv);
int cmd_crl(struct ca *ca, int argc, char **argv);
int cmd_list(struct ca *ca, int argc, char **argv);
int cmd_verify_log(struct ca *ca, int argc, char **argv);
int cmd_migrate_ledger(struct ca *ca, int argc, char **argv);

#endif /* SC_CMD_H */
