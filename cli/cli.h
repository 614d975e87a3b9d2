/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cli.h - what the command-line front ends (nkhsm-tool, nkhsm-sshca) share:
 * choosing the module and token, the PIN flow (tries shown, locked tokens
 * not prompted, the final try not spent by scripts), escaped output,
 * whole-or-nothing file writes, and exit codes.
 */
#ifndef NKHSM_CLI_H
#define NKHSM_CLI_H

#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "nkhsm.h"

/* Exit codes (documented in nkhsm-tool(1) and nkhsm-sshca(1)). */
#define EX_OK		0
#define EX_FAIL		1	/* module, I/O or other failure */
#define EX_USAGE	2	/* bad command line, URI or configuration */
#define EX_NOTOKEN	3	/* no token, or more than one matches */
#define EX_NOKEY	4	/* no such key, or more than one matches */
#define EX_PIN		5	/* incorrect PIN */
#define EX_LOCKED	6	/* PIN locked */
#define EX_MODULE	7	/* cannot load the PKCS#11 module */
#define EX_BADSIG	8	/* signature does not verify */
#define EX_EXISTS	9	/* an object with that label or id exists */
#define EX_CANCEL	10	/* PIN entry cancelled or PIN not available */
#define EX_FINALTRY	11	/* refused to spend the final PIN try */
#define EX_LEFTOVER	12	/* keygen failed and left objects behind */
/* 13 is nkhsm-sshca's own. */
#define EX_TIMEOUT	14	/* the token did not answer a call in time */

/* --timeout: seconds each PKCS#11 call may take (0: no limit). */
#define CLI_TIMEOUT_DEFAULT	60
#define CLI_TIMEOUT_MAX		86400

/* The program name in messages; each front end sets it. */
extern const char *cli_progname;

/* Options every front end takes. */
struct cli_common {
	const char	*module;
	const char	*config;
	const char	*pin_source;
	const char	*token;
	int		 allow_final_try;
	unsigned int	 timeout;	/* main sets CLI_TIMEOUT_DEFAULT */
};

/* The session: configuration, module, and the token the user means. */
struct cli_env {
	nkhsm_conf_t	*conf;
	nkhsm_ctx_t	*ctx;
	nkhsm_uri_t	*uri;		/* the key/token URI given, if any */
	nkhsm_uri_t	*tokuri;	/* --token or the configuration's */
	nkhsm_token_t	*tok;
	const char	*module;
	const char	*pin_source;
};

void cli_errx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cli_print_safe(FILE *f, const char *s);
const char *cli_safe(const char *s, char *buf, size_t len);
void cli_print_json_str(FILE *f, const char *s);
void cli_print_hex(FILE *f, const uint8_t *p, size_t n);
int cli_exit_for(int r);
int cli_parse_uri(const char *s, nkhsm_uri_t **urip);
/* --timeout SECONDS into *secondsp; EX_USAGE with a message if malformed. */
int cli_parse_timeout(const char *s, unsigned int *secondsp);

/*
 * Load the configuration and the module; uristr may be NULL. From here on
 * every PKCS#11 call runs under o->timeout: one that outlives it ends the
 * program with a message and EX_TIMEOUT (nothing else runs, so no file or
 * ledger entry is left half-made).
 */
int cli_env_open(struct cli_env *e, const struct cli_common *o,
    const char *uristr);
void cli_env_free(struct cli_env *e);
/* Exactly one token: named by the URI, --token, the configuration, or alone. */
int cli_env_token(struct cli_env *e);
void cli_describe_tries(const nkhsm_token_t *tok, FILE *f);
/* Log in with the PIN rules of nkhsm-tool(1). */
int cli_env_login(struct cli_env *e, const struct cli_common *o);
int cli_env_key(struct cli_env *e, nkhsm_key_t **keyp);

/* Is opt one of the space-separated names in accepts or in common? */
int cli_option_allowed(const char *accepts, const char *common,
    const char *opt);
/* getopt_long returned ':' or an unknown option: say which; EX_USAGE. */
int cli_getopt_error(int ch, char *const argv[]);
/* Record an option's name (NULL: nothing); EX_USAGE past max options. */
int cli_seen_add(const char **seen, size_t max, size_t *np, const char *name);
/* Every recorded option must be one the command accepts, else EX_USAGE. */
int cli_seen_check(const char *cmd, const char *accepts, const char *common,
    const char *const *seen, size_t n);

/* "-" is standard output; else a temporary file, fsync, rename. */
int cli_write_atomic(const char *path, const void *data, size_t len,
    mode_t mode);
/* NULL or "-" is standard input; at most NKHSM_MSG_MAX bytes. */
int cli_read_all(const char *path, uint8_t **datap, size_t *lenp);

#endif /* NKHSM_CLI_H */
