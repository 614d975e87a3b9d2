/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nkhsm-tool - set up and inspect a Nitrokey HSM (or any PKCS#11 token
 * with EC keys): list tokens, show PIN status, generate keys, export
 * public keys, make self-signed certificates, sign and verify.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "nkhsm.h"
#include "cli.h"
#include "csr.h"
#include "doctor.h"




struct opts {
	struct cli_common c;
	const char	*curve;
	const char	*label;
	const char	*id;
	const char	*format;
	const char	*subject;
	const char	*days;
	const char	*input;
	const char	*output;
	const char	*signature;
	const char	*pubkey;
	const char	*cert;
	const char	*user;
	const char	*root;
	int		 json;
	int		 ca;
	int		 store;
	int		 verbose;
};

/* What each command accepts, as a string of long-option names. */
static const struct command {
	const char	*name;
	int		(*fn)(struct opts *, int, char **);
	int		 minargs, maxargs;
	const char	*accepts;
} *cmd;

static void
usage(FILE *f)
{
	fprintf(f,
"usage: %s [options] command [arguments]\n"
"\n"
"commands:\n"
"  list                         list the tokens (--json)\n"
"  status [URI]                 token, PIN state and keys (--json, --token)\n"
"  keygen [--curve p256|p384|p521] --label L [--id HEX]\n"
"                               generate an EC key pair on the token\n"
"  pubkey [--format ssh|pem|fingerprint] URI\n"
"                               print a key's public key (no PIN needed)\n"
"  selfsign --subject DN --days N [--ca] [--store] URI -o FILE\n"
"                               make a self-signed certificate with the key\n"
"  csr --subject DN [--days N] URI -o FILE\n"
"                               a certificate request signed by the key\n"
"  import --cert FILE URI       store a certificate for the key beside it\n"
"  sign [--format der|raw|ssh] [-i FILE] [-o FILE] URI\n"
"                               sign a message (hashed on the host)\n"
"  verify [--format der|raw|ssh] -i FILE --signature FILE (URI | --pubkey FILE)\n"
"                               verify a signature in software\n"
"  doctor [--user NAME] [--json] [--root DIR]\n"
"                               say why a token does not work: pcscd, readers,\n"
"                               cards, PIN, module, udev, PAM, the helper and\n"
"                               the user's authorized keys; exit 1 on a failure\n"
"\n"
"options:\n"
"  --module PATH        PKCS#11 module (default from the configuration, else\n"
"                       %s)\n"
"  --config FILE        configuration file (default %s)\n"
"  --token URI          which token (PKCS#11 URI, e.g. pkcs11:token=nk)\n"
"  --pin-source SRC     env:VAR or file:PATH (default: ask on the terminal)\n"
"  --allow-final-try    let a non-interactive PIN spend the token's last try\n"
"  --timeout SECONDS    give up when the token takes longer to answer a call\n"
"                       (default %d; 0: no limit); doctor: a step of its\n"
"                       token checks\n"
"  --json               machine-readable output (list, status, doctor)\n"
"  -o, --output FILE    output file;  -i, --input FILE  input file\n"
"  -v, --verbose        say more;  -h, --help;  -V, --version\n"
"\n"
"Keys are named by RFC 7512 URIs: pkcs11:token=nk;object=user or pkcs11:id=%%01.\n"
"PINs are never taken from the command line.\n",
	    cli_progname, nkhsm_default_module(), nkhsm_default_conf(),
	    CLI_TIMEOUT_DEFAULT);
}

static const char *
pin_state(unsigned int fl)
{
	if (fl & NKHSM_TOKEN_PIN_LOCKED)
		return "locked";
	if (fl & NKHSM_TOKEN_PIN_FINAL_TRY)
		return "final-try";
	if (fl & NKHSM_TOKEN_PIN_COUNT_LOW)
		return "count-low";
	return "ok";
}

/*
 * The exact PIN tries left, where the card says it: PKCS#11 has only
 * flags, but a SmartCard-HSM answers VERIFY without a PIN with the count.
 * One walk over the readers, by libnkhsm's PC/SC path, for the tokens
 * OpenSC emulates; no PIN is sent. -1 where unknown.
 */
#define CARDS_MAX	16
struct card_tries {
	size_t	n;
	struct {
		char	serial[64];
		int	tries;
	} c[CARDS_MAX];
};

static void
card_tries_read(nkhsm_token_t *const *list, size_t n, struct card_tries *ct)
{
	nkhsm_token_t *tok = NULL;
	nkhsm_ctx_t *ctx = NULL;
	size_t i, cursor = 0;

	memset(ct, 0, sizeof(*ct));
	for (i = 0; i < n; i++)
		if (strcmp(nkhsm_token_model(list[i]), "PKCS#15 emulated") == 0)
			break;
	if (i == n || nkhsm_ctx_open_pcsc(0, &ctx) != 0)
		return;
	while (ct->n < CARDS_MAX &&
	    nkhsm_token_next(ctx, NULL, &cursor, &tok) == 0) {
		snprintf(ct->c[ct->n].serial, sizeof(ct->c[0].serial), "%s",
		    nkhsm_token_serial(tok));
		ct->c[ct->n++].tries = nkhsm_token_pin_tries(tok);
		nkhsm_token_free(&tok);
	}
	nkhsm_ctx_free(&ctx);
}

static int
card_tries_of(const struct card_tries *ct, const nkhsm_token_t *t)
{
	size_t i;

	if (nkhsm_token_pin_tries(t) >= 0)
		return nkhsm_token_pin_tries(t);
	for (i = 0; ct != NULL && i < ct->n; i++)
		if (strcmp(ct->c[i].serial, nkhsm_token_serial(t)) == 0)
			return ct->c[i].tries;
	return -1;
}

static void
print_token_human(const nkhsm_token_t *t, int tries)
{
	unsigned int fl = nkhsm_token_flags(t);

	printf("token \"");
	cli_print_safe(stdout, nkhsm_token_label(t));
	printf("\"\n  serial:       ");
	cli_print_safe(stdout, nkhsm_token_serial(t));
	printf("\n  manufacturer: ");
	cli_print_safe(stdout, nkhsm_token_manufacturer(t));
	printf("\n  model:        ");
	cli_print_safe(stdout, nkhsm_token_model(t));
	printf("\n  slot:         %lu\n", nkhsm_token_slot(t));
	printf("  user PIN:     %s", tries == 0 ? "locked" : pin_state(fl));
	if (tries >= 0)
		printf(" (%d tr%s left)", tries, tries == 1 ? "y" : "ies");
	printf("%s%s\n", fl & NKHSM_TOKEN_PIN_PAD ? ", PIN pad" : "",
	    fl & NKHSM_TOKEN_PIN_TO_BE_CHANGED ? ", must be changed" : "");
}

static void
print_token_json(const nkhsm_token_t *t, int tries)
{
	unsigned int fl = nkhsm_token_flags(t);
	size_t minpin, maxpin;

	nkhsm_token_pin_len(t, &minpin, &maxpin);
	printf("{\"label\":");
	cli_print_json_str(stdout, nkhsm_token_label(t));
	printf(",\"serial\":");
	cli_print_json_str(stdout, nkhsm_token_serial(t));
	printf(",\"manufacturer\":");
	cli_print_json_str(stdout, nkhsm_token_manufacturer(t));
	printf(",\"model\":");
	cli_print_json_str(stdout, nkhsm_token_model(t));
	printf(",\"slot\":%lu,\"pin\":{\"state\":\"%s\",\"count_low\":%s,"
	    "\"final_try\":%s,\"locked\":%s,\"pin_pad\":%s,"
	    "\"to_be_changed\":%s,\"min_len\":%zu,\"max_len\":%zu,"
	    "\"tries_left\":", nkhsm_token_slot(t),
	    tries == 0 ? "locked" : pin_state(fl),
	    fl & NKHSM_TOKEN_PIN_COUNT_LOW ? "true" : "false",
	    fl & NKHSM_TOKEN_PIN_FINAL_TRY ? "true" : "false",
	    fl & NKHSM_TOKEN_PIN_LOCKED || tries == 0 ? "true" : "false",
	    fl & NKHSM_TOKEN_PIN_PAD ? "true" : "false",
	    fl & NKHSM_TOKEN_PIN_TO_BE_CHANGED ? "true" : "false",
	    minpin, maxpin);
	if (tries >= 0)
		printf("%d}}", tries);
	else
		printf("null}}");
}

static int
cmd_list(struct opts *o, int argc, char **argv)
{
	nkhsm_token_t **list = NULL;
	struct card_tries ct;
	struct cli_env e;
	size_t n = 0, i;
	int r, ret;

	if ((ret = cli_env_open(&e, &o->c, NULL)) != 0)
		goto out;
	if ((r = nkhsm_token_list(e.ctx, &list, &n)) != 0) {
		cli_errx("cannot list tokens: %s", nkhsm_strerror(r));
		ret = cli_exit_for(r);
		goto out;
	}
	card_tries_read(list, n, &ct);
	if (o->json) {
		printf("[");
		for (i = 0; i < n; i++) {
			if (i > 0)
				printf(",");
			print_token_json(list[i], card_tries_of(&ct, list[i]));
		}
		printf("]\n");
	} else {
		if (n == 0)
			printf("no tokens (module %s)\n", e.module);
		for (i = 0; i < n; i++)
			print_token_human(list[i], card_tries_of(&ct,
			    list[i]));
	}
	ret = EX_OK;
 out:
	nkhsm_token_list_free(&list, n);
	cli_env_free(&e);
	return ret;
}

static int
key_uri(const nkhsm_token_t *t, const nkhsm_key_t *k, char **urip)
{
	const uint8_t *id;
	size_t idlen;

	id = nkhsm_key_id(k, &idlen);
	return nkhsm_uri_format(nkhsm_token_label(t), nkhsm_token_serial(t),
	    *nkhsm_key_label(k) != '\0' ? nkhsm_key_label(k) : NULL,
	    id, idlen, NKHSM_OBJ_PRIVATE, urip);
}

static int
cmd_status(struct opts *o, int argc, char **argv)
{
	nkhsm_key_t **keys = NULL;
	struct card_tries ct;
	struct cli_env e;
	size_t nk = 0, i, idlen;
	const uint8_t *id;
	char *fp = NULL, *uri = NULL;
	int r, ret;

	if ((ret = cli_env_open(&e, &o->c, argc > 0 ? argv[0] : NULL)) != 0 ||
	    (ret = cli_env_token(&e)) != 0)
		goto out;
	if ((r = nkhsm_key_list(e.tok, &keys, &nk)) != 0) {
		cli_errx("cannot list keys: %s", nkhsm_strerror(r));
		ret = cli_exit_for(r);
		goto out;
	}
	card_tries_read(&e.tok, 1, &ct);
	if (o->json) {
		printf("{\"token\":");
		print_token_json(e.tok, card_tries_of(&ct, e.tok));
		printf(",\"keys\":[");
	} else {
		print_token_human(e.tok, card_tries_of(&ct, e.tok));
		printf("  EC keys:      %zu\n", nk);
	}
	for (i = 0; i < nk; i++) {
		id = nkhsm_key_id(keys[i], &idlen);
		free(fp);
		free(uri);
		fp = uri = NULL;
		if (nkhsm_key_pubkey(keys[i]) != NULL &&
		    (r = nkhsm_pubkey_fingerprint(nkhsm_key_pubkey(keys[i]),
		    &fp)) != 0)
			fp = NULL;
		(void)key_uri(e.tok, keys[i], &uri);
		if (o->json) {
			printf("%s{\"id\":\"", i > 0 ? "," : "");
			cli_print_hex(stdout, id, idlen);
			printf("\",\"label\":");
			cli_print_json_str(stdout, nkhsm_key_label(keys[i]));
			printf(",\"curve\":\"%s\",\"fingerprint\":",
			    nkhsm_curve_name(nkhsm_key_curve(keys[i])));
			if (fp != NULL)
				cli_print_json_str(stdout, fp);
			else
				printf("null");
			printf(",\"uri\":");
			cli_print_json_str(stdout, uri != NULL ? uri : "");
			printf("}");
		} else {
			printf("    id ");
			cli_print_hex(stdout, id, idlen);
			printf("  %-5s  %s  \"", nkhsm_curve_name(
			    nkhsm_key_curve(keys[i])), fp != NULL ? fp :
			    "(no public key object)");
			cli_print_safe(stdout, nkhsm_key_label(keys[i]));
			printf("\"\n");
		}
	}
	if (o->json)
		printf("]}\n");
	ret = EX_OK;
 out:
	free(fp);
	free(uri);
	nkhsm_key_list_free(&keys, nk);
	cli_env_free(&e);
	return ret;
}

/* --id: an even number of hex digits, optionally after "0x". */
static int
parse_id(const char *h, uint8_t *id, size_t max, size_t *idlenp)
{
	size_t i, n;
	unsigned int v;

	*idlenp = 0;
	if (strncmp(h, "0x", 2) == 0)
		h += 2;
	for (i = 0; h[i] != '\0'; i++)
		if (!((h[i] >= '0' && h[i] <= '9') ||
		    (h[i] >= 'a' && h[i] <= 'f') ||
		    (h[i] >= 'A' && h[i] <= 'F')))
			break;
	if (i == 0 || h[i] != '\0' || i % 2 != 0 || i / 2 > max) {
		cli_errx("--id must be an even number of hex digits "
		    "(at most %zu bytes)", max);
		return EX_USAGE;
	}
	for (n = 0; n < i / 2; n++) {
		if (sscanf(h + 2 * n, "%2x", &v) != 1)
			return EX_USAGE;
		id[n] = (uint8_t)v;
	}
	*idlenp = n;
	return 0;
}

/*
 * The label ends up in URIs, OpenSSH comments and logs: refused before
 * anything is made if it cannot be shown as it is.
 */
static int
check_label(const char *label)
{
	const unsigned char *p;

	if (label == NULL || *label == '\0') {
		cli_errx("keygen needs --label");
		return EX_USAGE;
	}
	if (strlen(label) > NKHSM_LABEL_MAX) {
		cli_errx("--label is longer than %d bytes", NKHSM_LABEL_MAX);
		return EX_USAGE;
	}
	for (p = (const unsigned char *)label; *p != '\0'; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			cli_errx("--label must not contain control characters "
			    "(it becomes part of URIs and OpenSSH key lines)");
			return EX_USAGE;
		}
	}
	return 0;
}

/* Print the URIs of what a failed keygen left on the token. */
static void
print_left(const nkhsm_token_t *t, const nkhsm_keygen_info_t *info)
{
	static const struct {
		unsigned int	 bit;
		nkhsm_objtype_t	 type;
	} objs[] = {
		{ NKHSM_LEFT_PRIVATE, NKHSM_OBJ_PRIVATE },
		{ NKHSM_LEFT_PUBLIC, NKHSM_OBJ_PUBLIC },
	};
	char *uri;
	size_t i;

	for (i = 0; i < sizeof(objs) / sizeof(objs[0]); i++) {
		if ((info->left & objs[i].bit) == 0)
			continue;
		if (nkhsm_uri_format(nkhsm_token_label(t),
		    nkhsm_token_serial(t), NULL, info->idlen > 0 ? info->id :
		    NULL, info->idlen, objs[i].type, &uri) == 0) {
			fprintf(stderr, "%s:   %s\n", cli_progname, uri);
			free(uri);
			continue;
		}
		fprintf(stderr, "%s:   the %s key with id ", cli_progname,
		    objs[i].type == NKHSM_OBJ_PRIVATE ? "private" : "public");
		cli_print_hex(stderr, info->id, info->idlen);
		fputc('\n', stderr);
	}
}

/* Say what went wrong, and what the token holds now; the exit status. */
static int
keygen_failed(const nkhsm_token_t *t, nkhsm_curve_t curve, int r,
    const nkhsm_keygen_info_t *info)
{
	const char *what = info->why != NULL ? info->why : nkhsm_strerror(r);
	char lb[80];

	cli_safe(nkhsm_token_label(t), lb, sizeof(lb));
	if (!info->made) {
		if (r == NKHSM_ERR_EXISTS)
			cli_errx("token '%s' already has %s; nothing was "
			    "generated", lb, what);
		else if (r == NKHSM_ERR_UNSUPPORTED)
			cli_errx("token '%s' cannot generate %s keys", lb,
			    nkhsm_curve_name(curve));
		else if (r == NKHSM_ERR_DEVICE_REMOVED)
			/* A card writes a new key in steps (OpenSC's sc-hsm). */
			cli_errx("token '%s' was removed during key generation; "
			    "it may hold an unfinished key now, without its "
			    "label (see '%s status')", lb, cli_progname);
		else
			cli_errx("key generation failed: %s", what);
		return cli_exit_for(r);
	}
	if (info->left == 0) {
		cli_errx("token '%s' generated the key pair, but %s (%s); the "
		    "pair was destroyed, nothing is left", lb, what,
		    nkhsm_strerror(r));
		return cli_exit_for(r);
	}
	cli_errx("token '%s' generated the key pair, but %s (%s), and "
	    "destroying it failed too; delete what is left:", lb, what,
	    nkhsm_strerror(r));
	print_left(t, info);
	return EX_LEFTOVER;
}

static int
cmd_keygen(struct opts *o, int argc, char **argv)
{
	nkhsm_curve_t curve = NKHSM_CURVE_P256;
	nkhsm_keygen_info_t info;
	nkhsm_key_t *key = NULL;
	uint8_t id[NKHSM_ID_MAX];
	size_t idlen = 0;
	char *line = NULL, *uri = NULL, *fp = NULL;
	struct cli_env e;
	char lb[80];
	int r, ret;

	memset(&e, 0, sizeof(e));
	if ((ret = check_label(o->label)) != 0)
		return ret;
	if (o->curve != NULL && (nkhsm_curve_from_name(o->curve, &curve) != 0 ||
	    (strcmp(o->curve, "p256") != 0 && strcmp(o->curve, "p384") != 0 &&
	    strcmp(o->curve, "p521") != 0))) {
		cli_errx("unknown curve '%s' (use p256, p384 or p521)", o->curve);
		return EX_USAGE;
	}
	if (o->id != NULL && (ret = parse_id(o->id, id, sizeof(id),
	    &idlen)) != 0)
		return ret;
	if ((ret = cli_env_open(&e, &o->c, NULL)) != 0 || (ret = cli_env_token(&e)) != 0 ||
	    (ret = cli_env_login(&e, &o->c)) != 0)
		goto out;
	if (o->verbose)
		fprintf(stderr, "generating an EC %s key on token '%s'...\n",
		    nkhsm_curve_name(curve), cli_safe(nkhsm_token_label(e.tok), lb,
		    sizeof(lb)));
	if ((r = nkhsm_keygen(e.tok, curve, o->label, idlen ? id : NULL, idlen,
	    &key, &info)) != 0) {
		ret = keygen_failed(e.tok, curve, r, &info);
		goto out;
	}
	if ((r = key_uri(e.tok, key, &uri)) != 0 ||
	    (r = nkhsm_pubkey_to_ssh(nkhsm_key_pubkey(key), o->label,
	    &line)) != 0 ||
	    (r = nkhsm_pubkey_fingerprint(nkhsm_key_pubkey(key), &fp)) != 0) {
		/* Nothing printed, so nothing may stay on the token. */
		(void)nkhsm_keygen_undo(key, &info);
		info.why = "its public key cannot be encoded";
		ret = keygen_failed(e.tok, curve, r, &info);
		goto out;
	}
	printf("generated %s key\n  uri:         %s\n  fingerprint: %s\n"
	    "  ssh:         %s\n", nkhsm_curve_name(curve), uri, fp, line);
	ret = EX_OK;
 out:
	free(line);
	free(uri);
	free(fp);
	nkhsm_key_free(&key);
	cli_env_free(&e);
	return ret;
}

static int
cmd_pubkey(struct opts *o, int argc, char **argv)
{
	const char *fmt = o->format != NULL ? o->format : "ssh";
	nkhsm_key_t *key = NULL;
	char *out = NULL;
	struct cli_env e;
	int r, ret;

	memset(&e, 0, sizeof(e));
	if (strcmp(fmt, "ssh") != 0 && strcmp(fmt, "pem") != 0 &&
	    strcmp(fmt, "fingerprint") != 0) {
		cli_errx("unknown --format '%s' (use ssh, pem or fingerprint)", fmt);
		return EX_USAGE;
	}
	if ((ret = cli_env_open(&e, &o->c, argv[0])) != 0 || (ret = cli_env_token(&e)) != 0 ||
	    (ret = cli_env_key(&e, &key)) != 0)
		goto out;
	if (nkhsm_key_pubkey(key) == NULL) {
		cli_errx("the token holds no public key or certificate for this key");
		ret = EX_NOKEY;
		goto out;
	}
	if (strcmp(fmt, "ssh") == 0)
		r = nkhsm_pubkey_to_ssh(nkhsm_key_pubkey(key),
		    nkhsm_key_label(key), &out);
	else if (strcmp(fmt, "pem") == 0)
		r = nkhsm_pubkey_to_pem(nkhsm_key_pubkey(key), &out);
	else
		r = nkhsm_pubkey_fingerprint(nkhsm_key_pubkey(key), &out);
	if (r != 0) {
		cli_errx("cannot encode the public key: %s", nkhsm_strerror(r));
		ret = cli_exit_for(r);
		goto out;
	}
	if (o->output != NULL) {
		size_t len = strlen(out);
		int nl = len == 0 || out[len - 1] != '\n';
		char *t;

		if ((t = malloc(len + 2)) == NULL) {
			ret = EX_FAIL;
			goto out;
		}
		memcpy(t, out, len);
		if (nl)
			t[len++] = '\n';
		if (cli_write_atomic(o->output, t, len, 0644) != 0) {
			cli_errx("cannot write %s: %s", o->output, strerror(errno));
			free(t);
			ret = EX_FAIL;
			goto out;
		}
		free(t);
	} else
		printf("%s%s", out, *out != '\0' && out[strlen(out) - 1] == '\n' ?
		    "" : "\n");
	ret = EX_OK;
 out:
	free(out);
	nkhsm_key_free(&key);
	cli_env_free(&e);
	return ret;
}

static int
cmd_selfsign(struct opts *o, int argc, char **argv)
{
	nkhsm_key_t *key = NULL;
	X509 *cert = NULL;
	X509_NAME *name = NULL;
	BIO *bio = NULL;
	char *pem, *end;
	long pemlen, days;
	struct cli_env e;
	int r, ret;

	memset(&e, 0, sizeof(e));
	if (o->subject == NULL || o->days == NULL || o->output == NULL) {
		cli_errx("selfsign needs --subject, --days and -o FILE");
		return EX_USAGE;
	}
	errno = 0;
	days = strtol(o->days, &end, 10);
	if (errno != 0 || *end != '\0' || days < 1 || days > 36500) {
		cli_errx("--days must be a number from 1 to 36500");
		return EX_USAGE;
	}
	if (nkhsm_name_parse(o->subject, &name) != 0) {
		cli_errx("invalid --subject '%s' (use CN=name,O=org or /CN=name/O=org)",
		    o->subject);
		return EX_USAGE;
	}
	X509_NAME_free(name);
	if ((ret = cli_env_open(&e, &o->c, argv[0])) != 0 || (ret = cli_env_token(&e)) != 0 ||
	    (ret = cli_env_key(&e, &key)) != 0)
		goto out;
	if (nkhsm_key_pubkey(key) == NULL) {
		cli_errx("the token holds no public key for this key");
		ret = EX_NOKEY;
		goto out;
	}
	if ((ret = cli_env_login(&e, &o->c)) != 0)
		goto out;
	if ((r = nkhsm_selfsign(key, o->subject, (unsigned int)days,
	    o->ca ? NKHSM_SELFSIGN_CA : 0, &cert)) != 0) {
		cli_errx("cannot make the certificate: %s", nkhsm_strerror(r));
		ret = cli_exit_for(r);
		goto out;
	}
	ret = EX_FAIL;
	if ((bio = BIO_new(BIO_s_mem())) == NULL ||
	    !PEM_write_bio_X509(bio, cert) ||
	    (pemlen = BIO_get_mem_data(bio, &pem)) <= 0)
		goto out;
	if (cli_write_atomic(o->output, pem, (size_t)pemlen, 0644) != 0) {
		cli_errx("cannot write %s: %s", o->output, strerror(errno));
		goto out;
	}
	if (o->store && (r = nkhsm_token_store_cert(key, cert)) != 0) {
		if (r == NKHSM_ERR_EXISTS)
			cli_errx("the token already holds a certificate for this key; "
			    "%s was written, the token was not changed", o->output);
		else
			cli_errx("cannot store the certificate on the token: %s "
			    "(%s was written)", nkhsm_strerror(r), o->output);
		ret = cli_exit_for(r);
		goto out;
	}
	if (o->verbose || strcmp(o->output, "-") != 0)
		fprintf(stderr, "wrote %s%s\n", o->output,
		    o->store ? " and stored the certificate on the token" : "");
	ret = EX_OK;
 out:
	BIO_free(bio);
	X509_free(cert);
	nkhsm_key_free(&key);
	cli_env_free(&e);
	return ret;
}

static int
cmd_csr(struct opts *o, int argc, char **argv)
{
	return tool_csr(&o->c, argv[0], o->subject, o->days, o->output);
}

static int
cmd_import(struct opts *o, int argc, char **argv)
{
	return tool_import(&o->c, argv[0], o->cert);
}

static int
sigfmt(const char *s, nkhsm_sigfmt_t *fmt)
{
	if (s == NULL || strcmp(s, "der") == 0)
		*fmt = NKHSM_SIG_DER;
	else if (strcmp(s, "raw") == 0)
		*fmt = NKHSM_SIG_RAW;
	else if (strcmp(s, "ssh") == 0)
		*fmt = NKHSM_SIG_SSH;
	else {
		cli_errx("unknown --format '%s' (use der, raw or ssh)", s);
		return EX_USAGE;
	}
	return 0;
}

static int
cmd_sign(struct opts *o, int argc, char **argv)
{
	nkhsm_key_t *key = NULL;
	nkhsm_sigfmt_t fmt;
	uint8_t *msg = NULL, *sig = NULL;
	size_t len = 0, siglen = 0;
	struct cli_env e;
	int r, ret;

	memset(&e, 0, sizeof(e));
	if ((ret = sigfmt(o->format, &fmt)) != 0)
		return ret;
	if (cli_read_all(o->input, &msg, &len) != 0) {
		cli_errx("cannot read %s: %s", o->input ? o->input : "standard input",
		    strerror(errno));
		return EX_FAIL;
	}
	if ((ret = cli_env_open(&e, &o->c, argv[0])) != 0 || (ret = cli_env_token(&e)) != 0 ||
	    (ret = cli_env_key(&e, &key)) != 0 || (ret = cli_env_login(&e, &o->c)) != 0)
		goto out;
	if ((r = nkhsm_key_sign(key, msg, len, fmt, &sig, &siglen)) != 0) {
		cli_errx("signing failed: %s", nkhsm_strerror(r));
		ret = cli_exit_for(r);
		goto out;
	}
	/* Never hand out a signature the public key does not accept. */
	if (nkhsm_key_pubkey(key) != NULL && (r = nkhsm_verify(
	    nkhsm_key_pubkey(key), msg, len, fmt, sig, siglen)) != 0) {
		cli_errx("the token returned a signature that does not verify");
		ret = EX_BADSIG;
		goto out;
	}
	if (cli_write_atomic(o->output != NULL ? o->output : "-", sig, siglen,
	    0644) != 0) {
		cli_errx("cannot write %s: %s", o->output ? o->output : "output",
		    strerror(errno));
		ret = EX_FAIL;
		goto out;
	}
	ret = EX_OK;
 out:
	free(msg);
	free(sig);
	nkhsm_key_free(&key);
	cli_env_free(&e);
	return ret;
}

static int
load_pubkey_file(const char *path, EVP_PKEY **pubp)
{
	uint8_t *d = NULL;
	size_t len = 0;
	char *s;
	BIO *bio;
	int r = -1;

	*pubp = NULL;
	if (cli_read_all(path, &d, &len) != 0)
		return -1;
	if (len > 0 && len < 64 * 1024 && (s = realloc(d, len + 1)) != NULL) {
		d = (uint8_t *)s;
		s[len] = '\0';
		if (strncmp(s, "-----BEGIN", 10) == 0) {
			if ((bio = BIO_new_mem_buf(s, (int)len)) != NULL) {
				*pubp = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
				BIO_free(bio);
			}
			r = *pubp != NULL ? 0 : -1;
		} else
			r = nkhsm_pubkey_from_ssh(s, pubp, NULL) == 0 ? 0 : -1;
	}
	free(d);
	return r;
}

static int
cmd_verify(struct opts *o, int argc, char **argv)
{
	nkhsm_key_t *key = NULL;
	EVP_PKEY *pub = NULL;
	nkhsm_sigfmt_t fmt;
	uint8_t *msg = NULL, *sig = NULL;
	size_t len = 0, siglen = 0;
	struct cli_env e;
	int r, ret;

	memset(&e, 0, sizeof(e));
	if ((ret = sigfmt(o->format, &fmt)) != 0)
		return ret;
	if (o->input == NULL || o->signature == NULL ||
	    (argc == 0) == (o->pubkey == NULL)) {
		cli_errx("verify needs -i FILE, --signature FILE, and a key URI or "
		    "--pubkey FILE");
		return EX_USAGE;
	}
	if (strcmp(o->input, "-") == 0 && strcmp(o->signature, "-") == 0) {
		cli_errx("-i and --signature cannot both be standard input");
		return EX_USAGE;
	}
	if (cli_read_all(o->input, &msg, &len) != 0 ||
	    cli_read_all(o->signature, &sig, &siglen) != 0) {
		cli_errx("cannot read the input or signature: %s", strerror(errno));
		ret = EX_FAIL;
		goto out;
	}
	if (o->pubkey != NULL) {
		if (load_pubkey_file(o->pubkey, &pub) != 0) {
			cli_errx("%s: not a PEM or OpenSSH EC public key", o->pubkey);
			ret = EX_USAGE;
			goto out;
		}
	} else {
		if ((ret = cli_env_open(&e, &o->c, argv[0])) != 0 ||
		    (ret = cli_env_token(&e)) != 0 || (ret = cli_env_key(&e, &key)) != 0)
			goto out;
		if (nkhsm_key_pubkey(key) == NULL) {
			cli_errx("the token holds no public key for this key");
			ret = EX_NOKEY;
			goto out;
		}
		if ((pub = nkhsm_key_pubkey(key)) != NULL)
			EVP_PKEY_up_ref(pub);
	}
	if ((r = nkhsm_verify(pub, msg, len, fmt, sig, siglen)) != 0) {
		if (r == NKHSM_ERR_SIGNATURE)
			printf("signature: BAD\n");
		else
			cli_errx("cannot verify: %s", nkhsm_strerror(r));
		ret = cli_exit_for(r);
		goto out;
	}
	printf("signature: good\n");
	ret = EX_OK;
 out:
	EVP_PKEY_free(pub);
	free(msg);
	free(sig);
	nkhsm_key_free(&key);
	cli_env_free(&e);
	return ret;
}

static int
cmd_doctor(struct opts *o, int argc, char **argv)
{
	struct doctor_opts d;

	memset(&d, 0, sizeof(d));
	if (o->root != NULL && o->root[0] != '/') {
		cli_errx("--root must be an absolute path");
		return EX_USAGE;
	}
	d.module = o->c.module;
	d.config = o->c.config;
	d.user = o->user;
	d.root = o->root;
	d.timeout = o->c.timeout;
	d.json = o->json;
	return doctor_run(&d);
}

static const struct command commands[] = {
	{ "list", cmd_list, 0, 0, "json" },
	{ "status", cmd_status, 0, 1, "json token" },
	{ "keygen", cmd_keygen, 0, 0, "curve label id token pin-source allow-final-try" },
	{ "pubkey", cmd_pubkey, 1, 1, "format token output" },
	{ "selfsign", cmd_selfsign, 1, 1, "subject days ca store output token pin-source allow-final-try" },
	{ "csr", cmd_csr, 1, 1, "subject days output token pin-source allow-final-try" },
	{ "import", cmd_import, 1, 1, "cert token pin-source allow-final-try" },
	{ "sign", cmd_sign, 1, 1, "format input output token pin-source allow-final-try" },
	{ "verify", cmd_verify, 0, 1, "format input signature pubkey token" },
	{ "doctor", cmd_doctor, 0, 0, "user root json" },
	{ NULL, NULL, 0, 0, NULL },
};

/* Options every command takes. */
static const char *const common = "module config timeout verbose help version";


int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "module", required_argument, NULL, 'M' },
		{ "config", required_argument, NULL, 'C' },
		{ "pin-source", required_argument, NULL, 'P' },
		{ "token", required_argument, NULL, 'T' },
		{ "curve", required_argument, NULL, 'c' },
		{ "label", required_argument, NULL, 'l' },
		{ "id", required_argument, NULL, 'd' },
		{ "format", required_argument, NULL, 'f' },
		{ "subject", required_argument, NULL, 's' },
		{ "days", required_argument, NULL, 'D' },
		{ "ca", no_argument, NULL, 'a' },
		{ "store", no_argument, NULL, 'S' },
		{ "input", required_argument, NULL, 'i' },
		{ "output", required_argument, NULL, 'o' },
		{ "signature", required_argument, NULL, 'g' },
		{ "pubkey", required_argument, NULL, 'k' },
		{ "cert", required_argument, NULL, 'c' + 256 },
		{ "json", no_argument, NULL, 'j' },
		{ "allow-final-try", no_argument, NULL, 'F' },
		{ "timeout", required_argument, NULL, 't' },
		{ "pin", required_argument, NULL, 'X' },
		{ "user", required_argument, NULL, 'u' },
		{ "root", required_argument, NULL, 'R' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o;
	const char *seen[32];
	size_t nseen = 0, i;
	int ch, idx, ret;

	cli_progname = "nkhsm-tool";
	memset(&o, 0, sizeof(o));
	o.c.timeout = CLI_TIMEOUT_DEFAULT;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":i:o:vhV", longopts, &idx)) != -1) {
		const char *name = NULL;

		for (i = 0; longopts[i].name != NULL; i++)
			if (longopts[i].val == ch)
				name = longopts[i].name;
		if ((ret = cli_seen_add(seen, sizeof(seen) / sizeof(seen[0]),
		    &nseen, name)) != 0)
			return ret;
		switch (ch) {
		case 'M': o.c.module = optarg; break;
		case 'C': o.c.config = optarg; break;
		case 'P': o.c.pin_source = optarg; break;
		case 'T': o.c.token = optarg; break;
		case 'c': o.curve = optarg; break;
		case 'l': o.label = optarg; break;
		case 'd': o.id = optarg; break;
		case 'f': o.format = optarg; break;
		case 's': o.subject = optarg; break;
		case 'D': o.days = optarg; break;
		case 'a': o.ca = 1; break;
		case 'S': o.store = 1; break;
		case 'i': o.input = optarg; break;
		case 'o': o.output = optarg; break;
		case 'g': o.signature = optarg; break;
		case 'k': o.pubkey = optarg; break;
		case 'c' + 256: o.cert = optarg; break;
		case 'j': o.json = 1; break;
		case 'F': o.c.allow_final_try = 1; break;
		case 't':
			if ((ret = cli_parse_timeout(optarg, &o.c.timeout)) != 0)
				return ret;
			break;
		case 'u': o.user = optarg; break;
		case 'R': o.root = optarg; break;
		case 'v': o.verbose = 1; break;
		case 'h':
			usage(stdout);
			return EX_OK;
		case 'V':
			printf("nkhsm-tool %s\n", nkhsm_version());
			return EX_OK;
		case 'X':
			cli_errx("PINs are not accepted on the command line; use "
			    "--pin-source env:VAR or file:PATH, or type it when asked");
			return EX_USAGE;
		default:
			return cli_getopt_error(ch, argv);
		}
	}
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
		cli_errx("%s takes %s", cmd->name, cmd->maxargs == 0 ?
		    "no arguments" : cmd->minargs == 0 ? "at most one URI" :
		    "one URI");
		return EX_USAGE;
	}
	return cmd->fn(&o, argc, argv);
}
