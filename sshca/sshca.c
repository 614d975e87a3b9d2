/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nkhsm-sshca - an SSH and X.509 certificate authority whose key stays on
 * the token. Every certificate is signed on the host-hashed, raw-ECDSA path,
 * verified in software, recorded in the ledger (one transaction with its
 * hash-chained log entry), and only then written out.
 *
 * This file reads the command line and runs the command; each command is
 * in its own cmd-*.c file, and what they share in ca.c.
 */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nkhsm.h"
#include "cli.h"
#include "cmd.h"


static void
usage(FILE *f)
{
	fprintf(f,
"usage: nkhsm-sshca [--state DIR] [--ledger URL] [--module PATH] [--key URI]\n"
"                   command ...\n"
"\n"
"  init [--curve p256|p384] [--label L] [--subject DN] [--days N]\n"
"                          create the CA: key on the token (or --key URI),\n"
"                          self-signed X.509 CA certificate, ledger\n"
"  init --join --key URI --ledger URL\n"
"                          another site, whose token holds the CA key, joins\n"
"                          the CA a shared ledger holds\n"
"  ca-pubkey               print the CA line for TrustedUserCAKeys/@cert-authority\n"
"  sign (--user|--host) -I ID -n P1,P2 -V VALIDITY [-O OPT]... [-z SERIAL] KEY.pub...\n"
"                          OpenSSH certificates, written as KEY-cert.pub;\n"
"                          --allow-host-wildcard lets a host principal be a pattern\n"
"  x509 (--csr FILE | --pubkey FILE --subject DN) [--san TYPE:V,...]\n"
"       [--profile user|host|login] [--days N] -o FILE\n"
"  revoke SERIAL | --key-id ID | --key KEY.pub [--reason TEXT]\n"
"  krl -o FILE             OpenSSH KRL of everything revoked (checked with ssh-keygen -Q)\n"
"  crl [--days N] -o FILE  X.509 CRL signed on the token\n"
"  list [--json]           the ledger\n"
"  verify-log [--head HASH] check the log, and every record against it\n"
"  migrate-ledger [--head HASH] check a ledger of an older version and\n"
"                          bring its log up to date\n"
"\n"
"  --state DIR       CA state (default %s, or ~/.local/share/nkhsm-sshca)\n"
"  --ledger URL      sqlite:/PATH (default: STATE/ledger.db) or postgresql://...\n"
"                    (a libpq URI or postgresql:CONNINFO; no password in it:\n"
"                    PGPASSFILE or a peer login); init keeps it in the state\n"
"  --module PATH     PKCS#11 module;  --token URI  which token (init)\n"
"  --key URI         the CA key (init: use an existing key)\n"
"  --pin-source SRC  env:VAR or file:PATH (default: ask on the terminal)\n"
"  --policy FILE     issuance policy (default STATE/policy.conf if present)\n"
"  --timeout SECONDS give up when the token takes longer to answer a call\n"
"                    (default %d; 0: no limit)\n"
"  --config FILE     nkhsm.conf;  --allow-final-try;  -q quiet;  -h;  --version\n"
"\n"
"-V takes ssh-keygen's forms: +1h, -5m:+1d, 20261201, always:+8h, forever.\n",
	    "/var/lib/nkhsm-sshca", CLI_TIMEOUT_DEFAULT);
}

static const struct command {
	const char	*name;
	int		(*fn)(struct ca *, int, char **);
	int		 minargs, maxargs;
	const char	*accepts;
} commands[] = {
	{ "init", cmd_init, 0, 0, "curve label subject days key token join pin-source "
	    "allow-final-try" },
	{ "ca-pubkey", cmd_ca_pubkey, 0, 0, "" },
	{ "sign", cmd_sign, 1, BATCH_MAX, "user host allow-host-wildcard I n V O z policy key pin-source "
	    "allow-final-try" },
	{ "x509", cmd_x509, 0, 0, "csr pubkey subject san profile days output key pin-source allow-final-try" },
	{ "revoke", cmd_revoke, 0, 1, "key-id key reason" },
	{ "krl", cmd_krl, 0, 0, "output" },
	{ "crl", cmd_crl, 0, 0, "output days key pin-source allow-final-try" },
	{ "list", cmd_list, 0, 0, "json" },
	{ "verify-log", cmd_verify_log, 0, 0, "head" },
	{ "migrate-ledger", cmd_migrate_ledger, 0, 0, "head" },
	{ NULL, NULL, 0, 0, NULL },
};

static const char *const common = "state ledger module config quiet help "
    "version pin-source allow-final-try timeout";

static const struct option longopts[] = {
	{ "state", required_argument, NULL, 's' },
	{ "ledger", required_argument, NULL, 'L' },
	{ "join", no_argument, NULL, 'J' },
	{ "module", required_argument, NULL, 'M' },
	{ "config", required_argument, NULL, 'C' },
	{ "key", required_argument, NULL, 'K' },
	{ "token", required_argument, NULL, 'T' },
	{ "pin-source", required_argument, NULL, 'P' },
	{ "allow-final-try", no_argument, NULL, 'F' },
	{ "timeout", required_argument, NULL, 't' },
	{ "policy", required_argument, NULL, 'p' },
	{ "user", no_argument, NULL, 'u' },
	{ "host", no_argument, NULL, 'H' },
	{ "allow-host-wildcard", no_argument, NULL, 'w' + 256 },
	{ "curve", required_argument, NULL, 'c' },
	{ "label", required_argument, NULL, 'l' },
	{ "subject", required_argument, NULL, 'S' },
	{ "san", required_argument, NULL, 'a' },
	{ "profile", required_argument, NULL, 'r' },
	{ "days", required_argument, NULL, 'd' },
	{ "csr", required_argument, NULL, 'x' },
	{ "pubkey", required_argument, NULL, 'k' },
	{ "output", required_argument, NULL, 'o' },
	{ "key-id", required_argument, NULL, 'i' },
	{ "reason", required_argument, NULL, 'e' },
	{ "head", required_argument, NULL, 'h' + 256 },
	{ "json", no_argument, NULL, 'j' },
	{ "quiet", no_argument, NULL, 'q' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'v' + 256 },
	{ NULL, 0, NULL, 0 },
};

/* The name a command's accepts list knows an option by; NULL: none. */
static const char *
option_name(int ch)
{
	size_t i;

	switch (ch) {
	case 'I': return "I";
	case 'n': return "n";
	case 'V': return "V";
	case 'O': return "O";
	case 'z': return "z";
	case 'o': return "output";
	case 'q': return "quiet";
	}
	for (i = 0; longopts[i].name != NULL; i++)
		if (longopts[i].val == ch)
			return longopts[i].name;
	return NULL;
}

/* An option taking a string: where it goes; NULL for the others. */
static const char **
string_option(struct opts *o, int ch)
{
	switch (ch) {
	case 's': return &o->state;
	case 'L': return &o->ledger;
	case 'M': return &o->c.module;
	case 'C': return &o->c.config;
	case 'K': return &o->key;
	case 'T': return &o->c.token;
	case 'P': return &o->c.pin_source;
	case 'p': return &o->policy;
	case 'c': return &o->curve;
	case 'l': return &o->label;
	case 'S': return &o->subject;
	case 'a': return &o->san;
	case 'r': return &o->profile;
	case 'd': return &o->days;
	case 'x': return &o->csr;
	case 'k': return &o->pubkey;
	case 'o': return &o->output;
	case 'i': return &o->key_id_rev;
	case 'e': return &o->reason;
	case 'h' + 256: return &o->head;
	case 'I': return &o->key_id;
	case 'n': return &o->principals;
	case 'V': return &o->validity;
	case 'z': return &o->serial;
	}
	return NULL;
}

/* One option: 0, -1 when it ends the program with *exitp (help, errors). */
static int
take_option(struct opts *o, int ch, char **argv, int *exitp)
{
	const char **sp;

	if ((sp = string_option(o, ch)) != NULL) {
		*sp = optarg;
		return 0;
	}
	*exitp = EX_OK;
	switch (ch) {
	case 'F': o->c.allow_final_try = 1; return 0;
	case 'J': o->join = 1; return 0;
	case 'u': o->user = 1; return 0;
	case 'H': o->host = 1; return 0;
	case 'w' + 256: o->allow_host_wildcard = 1; return 0;
	case 'j': o->json = 1; return 0;
	case 'q': o->quiet = 1; return 0;
	case 't':
		if ((*exitp = cli_parse_timeout(optarg, &o->c.timeout)) == 0)
			return 0;
		return -1;
	case 'O':
		if (o->nopt < sizeof(o->opt) / sizeof(o->opt[0])) {
			o->opt[o->nopt++] = optarg;
			return 0;
		}
		cli_errx("too many -O options");
		*exitp = EX_USAGE;
		return -1;
	case 'h':
		usage(stdout);
		return -1;
	case 'v' + 256:
		printf("nkhsm-sshca %s\n", nkhsm_version());
		return -1;
	}
	*exitp = cli_getopt_error(ch, argv);
	return -1;
}

/* The options, each recorded in seen for the command's check. */
static int
parse_options(int argc, char **argv, struct opts *o, const char **seen,
    size_t maxseen, size_t *nseenp, int *exitp)
{
	int ch;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":I:n:V:O:z:o:qh", longopts,
	    NULL)) != -1) {
		if ((*exitp = cli_seen_add(seen, maxseen, nseenp,
		    option_name(ch))) != 0)
			return -1;
		if (take_option(o, ch, argv, exitp) != 0)
			return -1;
	}
	return 0;
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct ca ca;
	const struct command *cmd;
	const char *seen[64];
	size_t nseen = 0;
	int ret;

	cli_progname = "nkhsm-sshca";
	memset(&o, 0, sizeof(o));
	o.c.timeout = CLI_TIMEOUT_DEFAULT;
	if (parse_options(argc, argv, &o, seen, sizeof(seen) / sizeof(seen[0]),
	    &nseen, &ret) != 0)
		return ret;
	if (optind >= argc) {
		usage(stderr);
		return EX_USAGE;
	}
	for (cmd = commands; cmd->name != NULL; cmd++)
		if (strcmp(cmd->name, argv[optind]) == 0)
			break;
	if (cmd->name == NULL) {
		cli_errx("unknown command '%s' (see --help)", argv[optind]);
		return EX_USAGE;
	}
	if ((ret = cli_seen_check(cmd->name, cmd->accepts, common, seen,
	    nseen)) != 0)
		return ret;
	argc -= optind + 1;
	argv += optind + 1;
	if (argc < cmd->minargs || argc > cmd->maxargs) {
		cli_errx("wrong number of arguments for %s (see --help)", cmd->name);
		return EX_USAGE;
	}
	memset(&ca, 0, sizeof(ca));
	ca.o = &o;
	ret = cmd->fn(&ca, argc, argv);
	ca_free(&ca);
	return ret;
}
