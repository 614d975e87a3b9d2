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

/* Exit codes (documented in nkhsm-tool(1)). */
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

#define INPUT_MAX	NKHSM_MSG_MAX

static const char *progname = "nkhsm-tool";

struct opts {
	const char	*module;
	const char	*config;
	const char	*pin_source;
	const char	*token;
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
	int		 json;
	int		 ca;
	int		 store;
	int		 allow_final_try;
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
"  keygen --curve p256|p384|p521 --label L [--id HEX]\n"
"                               generate an EC key pair on the token\n"
"  pubkey [--format ssh|pem|fingerprint] URI\n"
"                               print a key's public key (no PIN needed)\n"
"  selfsign --subject DN --days N [--ca] [--store] URI -o FILE\n"
"                               make a self-signed certificate with the key\n"
"  sign [--format der|raw|ssh] [-i FILE] [-o FILE] URI\n"
"                               sign a message (hashed on the host)\n"
"  verify [--format der|raw|ssh] -i FILE --signature FILE (URI | --pubkey FILE)\n"
"                               verify a signature in software\n"
"\n"
"options:\n"
"  --module PATH        PKCS#11 module (default from the configuration, else\n"
"                       %s)\n"
"  --config FILE        configuration file (default %s)\n"
"  --token URI          which token (PKCS#11 URI, e.g. pkcs11:token=nk)\n"
"  --pin-source SRC     env:VAR or file:PATH (default: ask on the terminal)\n"
"  --allow-final-try    let a non-interactive PIN spend the token's last try\n"
"  --json               machine-readable output (list, status)\n"
"  -o, --output FILE    output file;  -i, --input FILE  input file\n"
"  -v, --verbose        say more;  -h, --help;  -V, --version\n"
"\n"
"Keys are named by RFC 7512 URIs: pkcs11:token=nk;object=user or pkcs11:id=%%01.\n"
"PINs are never taken from the command line.\n",
	    progname, nkhsm_default_module(), nkhsm_default_conf());
}

static void
errx_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
errx_(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Print untrusted token strings without control characters. */
static void
print_safe(FILE *f, const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\x%02x", c);
		else
			fputc(c, f);
	}
}

/* The same escaping into a buffer, for messages and prompts. */
static const char *
safe(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	for (; *s != '\0' && o + 5 < len; s++) {
		unsigned char c = (unsigned char)*s;

		if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(buf + o, len - o, "\\x%02x", c);
		else
			buf[o++] = (char)c;
	}
	buf[o] = '\0';
	return buf;
}

static void
print_json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c == 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void
print_hex(FILE *f, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		fprintf(f, "%02x", p[i]);
}

static int
exit_for(int r)
{
	switch (r) {
	case 0:
		return EX_OK;
	case NKHSM_ERR_NO_TOKEN:
	case NKHSM_ERR_AMBIGUOUS_TOKEN:
	case NKHSM_ERR_DEVICE_REMOVED:
		return EX_NOTOKEN;
	case NKHSM_ERR_NO_KEY:
	case NKHSM_ERR_AMBIGUOUS_KEY:
		return EX_NOKEY;
	case NKHSM_ERR_PIN_INCORRECT:
	case NKHSM_ERR_PIN_LEN:
		return EX_PIN;
	case NKHSM_ERR_PIN_LOCKED:
		return EX_LOCKED;
	case NKHSM_ERR_MODULE_LOAD:
		return EX_MODULE;
	case NKHSM_ERR_SIGNATURE:
		return EX_BADSIG;
	case NKHSM_ERR_EXISTS:
		return EX_EXISTS;
	case NKHSM_ERR_CANCELLED:
	case NKHSM_ERR_PIN_SOURCE:
		return EX_CANCEL;
	case NKHSM_ERR_URI:
	case NKHSM_ERR_CONFIG:
	case NKHSM_ERR_INVALID_ARGUMENT:
		return EX_USAGE;
	default:
		return EX_FAIL;
	}
}

/* The session: configuration, module, and the token the user means. */
struct env {
	nkhsm_conf_t	*conf;
	nkhsm_ctx_t	*ctx;
	nkhsm_uri_t	*uri;		/* the key/token URI given, if any */
	nkhsm_uri_t	*tokuri;	/* --token or the configuration's */
	nkhsm_token_t	*tok;
	const char	*module;
	const char	*pin_source;
};

static void
env_free(struct env *e)
{
	nkhsm_token_free(&e->tok);
	nkhsm_ctx_free(&e->ctx);
	nkhsm_uri_free(&e->uri);
	nkhsm_uri_free(&e->tokuri);
	nkhsm_conf_free(&e->conf);
}

static int
parse_uri(const char *s, nkhsm_uri_t **urip)
{
	const char *why = NULL;
	int r;

	if ((r = nkhsm_uri_parse(s, urip, &why)) != 0) {
		errx_("invalid PKCS#11 URI '%s': %s", s,
		    why != NULL ? why : nkhsm_strerror(r));
		return EX_USAGE;
	}
	return 0;
}

/* Load configuration and module; URI may be NULL. */
static int
env_open(struct env *e, const struct opts *o, const char *uristr)
{
	char errbuf[512];
	const char *tokstr;
	int r;

	memset(e, 0, sizeof(*e));
	errbuf[0] = '\0';
	if ((r = nkhsm_conf_load(o->config, (long)getuid(), &e->conf, errbuf,
	    sizeof(errbuf))) != 0) {
		errx_("%s", errbuf[0] != '\0' ? errbuf : nkhsm_strerror(r));
		return r == NKHSM_ERR_PERMISSION || r == NKHSM_ERR_CONFIG ||
		    r == NKHSM_ERR_IO ? EX_USAGE : exit_for(r);
	}
	if (uristr != NULL && (r = parse_uri(uristr, &e->uri)) != 0)
		return r;
	tokstr = o->token != NULL ? o->token : nkhsm_conf_token(e->conf);
	if (tokstr != NULL && (r = parse_uri(tokstr, &e->tokuri)) != 0)
		return r;
	e->module = o->module;
	if (e->module == NULL && e->uri != NULL)
		e->module = nkhsm_uri_module_path(e->uri);
	if (e->module == NULL)
		e->module = nkhsm_conf_module(e->conf);
	if (e->module == NULL)
		e->module = nkhsm_default_module();
	e->pin_source = o->pin_source;
	if (e->pin_source == NULL && e->uri != NULL)
		e->pin_source = nkhsm_uri_pin_source(e->uri);
	if (e->pin_source == NULL)
		e->pin_source = nkhsm_conf_pin_source(e->conf);
	if (e->pin_source != NULL && ((strncmp(e->pin_source, "env:", 4) != 0 &&
	    strncmp(e->pin_source, "file:", 5) != 0) ||
	    strchr(e->pin_source, ':')[1] == '\0' ||
	    (strncmp(e->pin_source, "file:", 5) == 0 && e->pin_source[5] != '/'))) {
		errx_("invalid PIN source '%s' (use env:VAR or file:/absolute/path)",
		    e->pin_source);
		return EX_USAGE;
	}
	if ((r = nkhsm_ctx_open(e->module, &e->ctx)) != 0) {
		errx_("cannot load PKCS#11 module %s", e->module);
		return EX_MODULE;
	}
	return 0;
}

/* A URI names a token when it has any token attribute. */
static int
names_token(const nkhsm_uri_t *u)
{
	unsigned long slot;

	return u != NULL && (nkhsm_uri_token(u) != NULL ||
	    nkhsm_uri_serial(u) != NULL || nkhsm_uri_manufacturer(u) != NULL ||
	    nkhsm_uri_model(u) != NULL || nkhsm_uri_has_slot_id(u, &slot));
}

static int
env_token(struct env *e)
{
	const nkhsm_uri_t *sel;
	int r;

	sel = names_token(e->uri) ? e->uri : e->tokuri;
	if ((r = nkhsm_token_find(e->ctx, sel, &e->tok)) == 0)
		return 0;
	if (r == NKHSM_ERR_NO_TOKEN)
		errx_("no token found%s (module %s)", sel != NULL ?
		    " that matches the URI" : "", e->module);
	else if (r == NKHSM_ERR_AMBIGUOUS_TOKEN)
		errx_("more than one token found; choose one with --token "
		    "pkcs11:serial=... (see '%s list')", progname);
	else
		errx_("cannot list tokens: %s", nkhsm_strerror(r));
	return exit_for(r);
}

static void
describe_tries(const nkhsm_token_t *tok, FILE *f)
{
	unsigned int fl = nkhsm_token_flags(tok);

	if (fl & NKHSM_TOKEN_PIN_LOCKED)
		fprintf(f, "the PIN is locked");
	else if (fl & NKHSM_TOKEN_PIN_FINAL_TRY)
		fprintf(f, "1 try left before the PIN locks");
	else if (fl & NKHSM_TOKEN_PIN_COUNT_LOW)
		fprintf(f, "fewer tries left than the maximum");
	else
		fprintf(f, "tries left: the token's maximum");
}

static int
env_login(struct env *e, const struct opts *o)
{
	unsigned int fl = nkhsm_token_flags(e->tok);
	char *pin = NULL, prompt[160];
	size_t pinlen = 0;
	int r, ret;

	if (fl & NKHSM_TOKEN_PIN_LOCKED) {
		fprintf(stderr, "%s: the user PIN of token '", progname);
		print_safe(stderr, nkhsm_token_label(e->tok));
		fprintf(stderr, "' is locked; unblock it with the SO PIN "
		    "(pkcs11-tool --login --login-type so --init-pin)\n");
		return EX_LOCKED;
	}
	if ((fl & NKHSM_TOKEN_PIN_FINAL_TRY) && e->pin_source != NULL &&
	    !o->allow_final_try) {
		errx_("the token has 1 PIN try left; refusing to spend it with a "
		    "non-interactive PIN (use --allow-final-try, or type it)");
		return EX_FINALTRY;
	}
	if (fl & (NKHSM_TOKEN_PIN_FINAL_TRY | NKHSM_TOKEN_PIN_COUNT_LOW)) {
		fprintf(stderr, "%s: warning: ", progname);
		describe_tries(e->tok, stderr);
		fputc('\n', stderr);
	}
	if ((fl & NKHSM_TOKEN_PIN_PAD) && e->pin_source == NULL) {
		fprintf(stderr, "Enter the PIN on the reader's PIN pad.\n");
		r = nkhsm_token_login(e->tok, NULL, 0);
	} else {
		char lb[80];

		snprintf(prompt, sizeof(prompt), "PIN for token '%s': ",
		    safe(nkhsm_token_label(e->tok), lb, sizeof(lb)));
		if ((r = nkhsm_pin_read(e->pin_source, prompt, &pin,
		    &pinlen)) != 0) {
			if (r == NKHSM_ERR_CANCELLED)
				errx_("cancelled");
			else if (r == NKHSM_ERR_PIN_LEN)
				errx_("the PIN is too long");
			else
				errx_("cannot read the PIN from %s: %s",
				    e->pin_source != NULL ? e->pin_source :
				    "the terminal", nkhsm_strerror(r));
			return r == NKHSM_ERR_PIN_LEN ? EX_PIN : EX_CANCEL;
		}
		r = nkhsm_token_login(e->tok, pin, pinlen);
		nkhsm_pin_free(pin, pinlen);
		pin = NULL;
	}
	if (r == 0)
		return 0;
	ret = exit_for(r);
	if (r == NKHSM_ERR_PIN_INCORRECT) {
		fprintf(stderr, "%s: incorrect PIN for token '", progname);
		print_safe(stderr, nkhsm_token_label(e->tok));
		fprintf(stderr, "' (");
		describe_tries(e->tok, stderr);
		fprintf(stderr, ")\n");
	} else if (r == NKHSM_ERR_PIN_LOCKED) {
		errx_("the PIN is locked");
	} else if (r == NKHSM_ERR_PIN_LEN) {
		errx_("the PIN length is outside the token's limits");
	} else
		errx_("login failed: %s", nkhsm_strerror(r));
	return ret;
}

static int
env_key(struct env *e, nkhsm_key_t **keyp)
{
	char lb[80];
	int r;

	if ((r = nkhsm_key_find(e->tok, e->uri, keyp)) == 0)
		return 0;
	if (r == NKHSM_ERR_NO_KEY)
		errx_("no such key on token '%s'",
		    safe(nkhsm_token_label(e->tok), lb, sizeof(lb)));
	else if (r == NKHSM_ERR_AMBIGUOUS_KEY)
		errx_("more than one key matches; name it by id=");
	else if (r == NKHSM_ERR_INVALID_ARGUMENT)
		errx_("the URI must name a key with object= or id=");
	else
		errx_("cannot find the key: %s", nkhsm_strerror(r));
	return r == NKHSM_ERR_INVALID_ARGUMENT ? EX_USAGE : exit_for(r);
}

/* Write a whole file or nothing: temp file in the same directory, fsync, rename. */
static int
write_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	char tmp[PATH_MAX];
	const uint8_t *p = data;
	ssize_t n;
	int fd, saved;

	if (strcmp(path, "-") == 0) {
		if (fwrite(data, 1, len, stdout) != len || fflush(stdout) != 0)
			return -1;
		return 0;
	}
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmpXXXXXX", path) >=
	    sizeof(tmp)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = mkstemp(tmp)) == -1)
		return -1;
	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fchmod(fd, mode) == -1 || fsync(fd) == -1)
		goto fail;
	if (close(fd) == -1) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) == -1)
		goto fail;
	return 0;
 fail:
	saved = errno;
	if (fd != -1)
		close(fd);
	unlink(tmp);
	errno = saved;
	return -1;
}

static int
read_all(const char *path, uint8_t **datap, size_t *lenp)
{
	FILE *f;
	uint8_t *d = NULL, *nd;
	size_t len = 0, cap = 0, n;
	int stdin_ = path == NULL || strcmp(path, "-") == 0;

	*datap = NULL;
	*lenp = 0;
	if (stdin_)
		f = stdin;
	else if ((f = fopen(path, "rb")) == NULL)
		return -1;
	for (;;) {
		if (cap - len < 65536) {
			if (cap > INPUT_MAX) {
				errno = EFBIG;
				goto fail;
			}
			cap = cap == 0 ? 65536 : cap * 2;
			if ((nd = realloc(d, cap)) == NULL)
				goto fail;
			d = nd;
		}
		n = fread(d + len, 1, cap - len, f);
		len += n;
		if (n == 0) {
			if (ferror(f))
				goto fail;
			break;
		}
	}
	if (!stdin_)
		fclose(f);
	*datap = d;
	*lenp = len;
	return 0;
 fail:
	free(d);
	if (!stdin_)
		fclose(f);
	return -1;
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

static void
print_token_human(const nkhsm_token_t *t)
{
	unsigned int fl = nkhsm_token_flags(t);

	printf("token \"");
	print_safe(stdout, nkhsm_token_label(t));
	printf("\"\n  serial:       ");
	print_safe(stdout, nkhsm_token_serial(t));
	printf("\n  manufacturer: ");
	print_safe(stdout, nkhsm_token_manufacturer(t));
	printf("\n  model:        ");
	print_safe(stdout, nkhsm_token_model(t));
	printf("\n  slot:         %lu\n", nkhsm_token_slot(t));
	printf("  user PIN:     %s%s%s\n", pin_state(fl),
	    fl & NKHSM_TOKEN_PIN_PAD ? ", PIN pad" : "",
	    fl & NKHSM_TOKEN_PIN_TO_BE_CHANGED ? ", must be changed" : "");
}

static void
print_token_json(const nkhsm_token_t *t)
{
	unsigned int fl = nkhsm_token_flags(t);
	size_t minpin, maxpin;

	nkhsm_token_pin_len(t, &minpin, &maxpin);
	printf("{\"label\":");
	print_json_str(stdout, nkhsm_token_label(t));
	printf(",\"serial\":");
	print_json_str(stdout, nkhsm_token_serial(t));
	printf(",\"manufacturer\":");
	print_json_str(stdout, nkhsm_token_manufacturer(t));
	printf(",\"model\":");
	print_json_str(stdout, nkhsm_token_model(t));
	printf(",\"slot\":%lu,\"pin\":{\"state\":\"%s\",\"count_low\":%s,"
	    "\"final_try\":%s,\"locked\":%s,\"pin_pad\":%s,"
	    "\"to_be_changed\":%s,\"min_len\":%zu,\"max_len\":%zu}}",
	    nkhsm_token_slot(t), pin_state(fl),
	    fl & NKHSM_TOKEN_PIN_COUNT_LOW ? "true" : "false",
	    fl & NKHSM_TOKEN_PIN_FINAL_TRY ? "true" : "false",
	    fl & NKHSM_TOKEN_PIN_LOCKED ? "true" : "false",
	    fl & NKHSM_TOKEN_PIN_PAD ? "true" : "false",
	    fl & NKHSM_TOKEN_PIN_TO_BE_CHANGED ? "true" : "false",
	    minpin, maxpin);
}

static int
cmd_list(struct opts *o, int argc, char **argv)
{
	nkhsm_token_t **list = NULL;
	struct env e;
	size_t n = 0, i;
	int r, ret;

	if ((ret = env_open(&e, o, NULL)) != 0)
		goto out;
	if ((r = nkhsm_token_list(e.ctx, &list, &n)) != 0) {
		errx_("cannot list tokens: %s", nkhsm_strerror(r));
		ret = exit_for(r);
		goto out;
	}
	if (o->json) {
		printf("[");
		for (i = 0; i < n; i++) {
			if (i > 0)
				printf(",");
			print_token_json(list[i]);
		}
		printf("]\n");
	} else {
		if (n == 0)
			printf("no tokens (module %s)\n", e.module);
		for (i = 0; i < n; i++)
			print_token_human(list[i]);
	}
	ret = EX_OK;
 out:
	nkhsm_token_list_free(&list, n);
	env_free(&e);
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
	struct env e;
	size_t nk = 0, i, idlen;
	const uint8_t *id;
	char *fp = NULL, *uri = NULL;
	int r, ret;

	if ((ret = env_open(&e, o, argc > 0 ? argv[0] : NULL)) != 0 ||
	    (ret = env_token(&e)) != 0)
		goto out;
	if ((r = nkhsm_key_list(e.tok, &keys, &nk)) != 0) {
		errx_("cannot list keys: %s", nkhsm_strerror(r));
		ret = exit_for(r);
		goto out;
	}
	if (o->json) {
		printf("{\"token\":");
		print_token_json(e.tok);
		printf(",\"keys\":[");
	} else {
		print_token_human(e.tok);
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
			print_hex(stdout, id, idlen);
			printf("\",\"label\":");
			print_json_str(stdout, nkhsm_key_label(keys[i]));
			printf(",\"curve\":\"%s\",\"fingerprint\":",
			    nkhsm_curve_name(nkhsm_key_curve(keys[i])));
			if (fp != NULL)
				print_json_str(stdout, fp);
			else
				printf("null");
			printf(",\"uri\":");
			print_json_str(stdout, uri != NULL ? uri : "");
			printf("}");
		} else {
			printf("    id ");
			print_hex(stdout, id, idlen);
			printf("  %-5s  %s  \"", nkhsm_curve_name(
			    nkhsm_key_curve(keys[i])), fp != NULL ? fp :
			    "(no public key object)");
			print_safe(stdout, nkhsm_key_label(keys[i]));
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
	env_free(&e);
	return ret;
}

static int
cmd_keygen(struct opts *o, int argc, char **argv)
{
	nkhsm_curve_t curve = NKHSM_CURVE_P256;
	nkhsm_key_t *key = NULL;
	uint8_t id[NKHSM_ID_MAX];
	size_t idlen = 0, i;
	char *line = NULL, *uri = NULL, *fp = NULL;
	struct env e;
	char lb[80];
	int r, ret;

	memset(&e, 0, sizeof(e));
	if (o->label == NULL || *o->label == '\0') {
		errx_("keygen needs --label");
		return EX_USAGE;
	}
	if (o->curve != NULL && (nkhsm_curve_from_name(o->curve, &curve) != 0 ||
	    (strcmp(o->curve, "p256") != 0 && strcmp(o->curve, "p384") != 0 &&
	    strcmp(o->curve, "p521") != 0))) {
		errx_("unknown curve '%s' (use p256, p384 or p521)", o->curve);
		return EX_USAGE;
	}
	if (o->id != NULL) {
		const char *h = o->id;

		if (strncmp(h, "0x", 2) == 0)
			h += 2;
		for (i = 0; h[i] != '\0'; i++)
			if (!((h[i] >= '0' && h[i] <= '9') ||
			    (h[i] >= 'a' && h[i] <= 'f') ||
			    (h[i] >= 'A' && h[i] <= 'F')))
				break;
		if (i == 0 || h[i] != '\0' || i % 2 != 0 || i / 2 > sizeof(id)) {
			errx_("--id must be an even number of hex digits "
			    "(at most %zu bytes)", sizeof(id));
			return EX_USAGE;
		}
		for (idlen = 0; idlen < i / 2; idlen++) {
			unsigned int v;

			if (sscanf(h + 2 * idlen, "%2x", &v) != 1)
				return EX_USAGE;
			id[idlen] = (uint8_t)v;
		}
	}
	if ((ret = env_open(&e, o, NULL)) != 0 || (ret = env_token(&e)) != 0 ||
	    (ret = env_login(&e, o)) != 0)
		goto out;
	if (o->verbose)
		fprintf(stderr, "generating an EC %s key on token '%s'...\n",
		    nkhsm_curve_name(curve), safe(nkhsm_token_label(e.tok), lb,
		    sizeof(lb)));
	if ((r = nkhsm_keygen(e.tok, curve, o->label, idlen ? id : NULL, idlen,
	    &key)) != 0) {
		if (r == NKHSM_ERR_EXISTS)
			errx_("token '%s' already has an object with label '%s'%s",
			    safe(nkhsm_token_label(e.tok), lb, sizeof(lb)), o->label,
			    idlen ? " or with that id" : "");
		else if (r == NKHSM_ERR_UNSUPPORTED)
			errx_("the token cannot generate %s keys",
			    nkhsm_curve_name(curve));
		else
			errx_("key generation failed: %s", nkhsm_strerror(r));
		ret = exit_for(r);
		goto out;
	}
	ret = EX_FAIL;
	if (nkhsm_key_pubkey(key) == NULL ||
	    key_uri(e.tok, key, &uri) != 0 ||
	    nkhsm_pubkey_to_ssh(nkhsm_key_pubkey(key), o->label, &line) != 0 ||
	    nkhsm_pubkey_fingerprint(nkhsm_key_pubkey(key), &fp) != 0) {
		errx_("the key was generated but its public key cannot be read");
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
	env_free(&e);
	return ret;
}

static int
cmd_pubkey(struct opts *o, int argc, char **argv)
{
	const char *fmt = o->format != NULL ? o->format : "ssh";
	nkhsm_key_t *key = NULL;
	char *out = NULL;
	struct env e;
	int r, ret;

	memset(&e, 0, sizeof(e));
	if (strcmp(fmt, "ssh") != 0 && strcmp(fmt, "pem") != 0 &&
	    strcmp(fmt, "fingerprint") != 0) {
		errx_("unknown --format '%s' (use ssh, pem or fingerprint)", fmt);
		return EX_USAGE;
	}
	if ((ret = env_open(&e, o, argv[0])) != 0 || (ret = env_token(&e)) != 0 ||
	    (ret = env_key(&e, &key)) != 0)
		goto out;
	if (nkhsm_key_pubkey(key) == NULL) {
		errx_("the token holds no public key or certificate for this key");
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
		errx_("cannot encode the public key: %s", nkhsm_strerror(r));
		ret = exit_for(r);
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
		if (write_atomic(o->output, t, len, 0644) != 0) {
			errx_("cannot write %s: %s", o->output, strerror(errno));
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
	env_free(&e);
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
	struct env e;
	int r, ret;

	memset(&e, 0, sizeof(e));
	if (o->subject == NULL || o->days == NULL || o->output == NULL) {
		errx_("selfsign needs --subject, --days and -o FILE");
		return EX_USAGE;
	}
	errno = 0;
	days = strtol(o->days, &end, 10);
	if (errno != 0 || *end != '\0' || days < 1 || days > 36500) {
		errx_("--days must be a number from 1 to 36500");
		return EX_USAGE;
	}
	if (nkhsm_name_parse(o->subject, &name) != 0) {
		errx_("invalid --subject '%s' (use CN=name,O=org or /CN=name/O=org)",
		    o->subject);
		return EX_USAGE;
	}
	X509_NAME_free(name);
	if ((ret = env_open(&e, o, argv[0])) != 0 || (ret = env_token(&e)) != 0 ||
	    (ret = env_key(&e, &key)) != 0)
		goto out;
	if (nkhsm_key_pubkey(key) == NULL) {
		errx_("the token holds no public key for this key");
		ret = EX_NOKEY;
		goto out;
	}
	if ((ret = env_login(&e, o)) != 0)
		goto out;
	if ((r = nkhsm_selfsign(key, o->subject, (unsigned int)days,
	    o->ca ? NKHSM_SELFSIGN_CA : 0, &cert)) != 0) {
		errx_("cannot make the certificate: %s", nkhsm_strerror(r));
		ret = exit_for(r);
		goto out;
	}
	ret = EX_FAIL;
	if ((bio = BIO_new(BIO_s_mem())) == NULL ||
	    !PEM_write_bio_X509(bio, cert) ||
	    (pemlen = BIO_get_mem_data(bio, &pem)) <= 0)
		goto out;
	if (write_atomic(o->output, pem, (size_t)pemlen, 0644) != 0) {
		errx_("cannot write %s: %s", o->output, strerror(errno));
		goto out;
	}
	if (o->store && (r = nkhsm_token_store_cert(key, cert)) != 0) {
		if (r == NKHSM_ERR_EXISTS)
			errx_("the token already holds a certificate for this key; "
			    "%s was written, the token was not changed", o->output);
		else
			errx_("cannot store the certificate on the token: %s "
			    "(%s was written)", nkhsm_strerror(r), o->output);
		ret = exit_for(r);
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
	env_free(&e);
	return ret;
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
		errx_("unknown --format '%s' (use der, raw or ssh)", s);
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
	struct env e;
	int r, ret;

	memset(&e, 0, sizeof(e));
	if ((ret = sigfmt(o->format, &fmt)) != 0)
		return ret;
	if (read_all(o->input, &msg, &len) != 0) {
		errx_("cannot read %s: %s", o->input ? o->input : "standard input",
		    strerror(errno));
		return EX_FAIL;
	}
	if ((ret = env_open(&e, o, argv[0])) != 0 || (ret = env_token(&e)) != 0 ||
	    (ret = env_key(&e, &key)) != 0 || (ret = env_login(&e, o)) != 0)
		goto out;
	if ((r = nkhsm_key_sign(key, msg, len, fmt, &sig, &siglen)) != 0) {
		errx_("signing failed: %s", nkhsm_strerror(r));
		ret = exit_for(r);
		goto out;
	}
	/* Never hand out a signature the public key does not accept. */
	if (nkhsm_key_pubkey(key) != NULL && (r = nkhsm_verify(
	    nkhsm_key_pubkey(key), msg, len, fmt, sig, siglen)) != 0) {
		errx_("the token returned a signature that does not verify");
		ret = EX_BADSIG;
		goto out;
	}
	if (write_atomic(o->output != NULL ? o->output : "-", sig, siglen,
	    0644) != 0) {
		errx_("cannot write %s: %s", o->output ? o->output : "output",
		    strerror(errno));
		ret = EX_FAIL;
		goto out;
	}
	ret = EX_OK;
 out:
	free(msg);
	free(sig);
	nkhsm_key_free(&key);
	env_free(&e);
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
	if (read_all(path, &d, &len) != 0)
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
	struct env e;
	int r, ret;

	memset(&e, 0, sizeof(e));
	if ((ret = sigfmt(o->format, &fmt)) != 0)
		return ret;
	if (o->input == NULL || o->signature == NULL ||
	    (argc == 0) == (o->pubkey == NULL)) {
		errx_("verify needs -i FILE, --signature FILE, and a key URI or "
		    "--pubkey FILE");
		return EX_USAGE;
	}
	if (strcmp(o->input, "-") == 0 && strcmp(o->signature, "-") == 0) {
		errx_("-i and --signature cannot both be standard input");
		return EX_USAGE;
	}
	if (read_all(o->input, &msg, &len) != 0 ||
	    read_all(o->signature, &sig, &siglen) != 0) {
		errx_("cannot read the input or signature: %s", strerror(errno));
		ret = EX_FAIL;
		goto out;
	}
	if (o->pubkey != NULL) {
		if (load_pubkey_file(o->pubkey, &pub) != 0) {
			errx_("%s: not a PEM or OpenSSH EC public key", o->pubkey);
			ret = EX_USAGE;
			goto out;
		}
	} else {
		if ((ret = env_open(&e, o, argv[0])) != 0 ||
		    (ret = env_token(&e)) != 0 || (ret = env_key(&e, &key)) != 0)
			goto out;
		if (nkhsm_key_pubkey(key) == NULL) {
			errx_("the token holds no public key for this key");
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
			errx_("cannot verify: %s", nkhsm_strerror(r));
		ret = exit_for(r);
		goto out;
	}
	printf("signature: good\n");
	ret = EX_OK;
 out:
	EVP_PKEY_free(pub);
	free(msg);
	free(sig);
	nkhsm_key_free(&key);
	env_free(&e);
	return ret;
}

static const struct command commands[] = {
	{ "list", cmd_list, 0, 0, "json" },
	{ "status", cmd_status, 0, 1, "json token" },
	{ "keygen", cmd_keygen, 0, 0, "curve label id token pin-source allow-final-try" },
	{ "pubkey", cmd_pubkey, 1, 1, "format token output" },
	{ "selfsign", cmd_selfsign, 1, 1, "subject days ca store output token pin-source allow-final-try" },
	{ "sign", cmd_sign, 1, 1, "format input output token pin-source allow-final-try" },
	{ "verify", cmd_verify, 0, 1, "format input signature pubkey token" },
	{ NULL, NULL, 0, 0, NULL },
};

/* Options every command takes. */
static const char *const common = "module config verbose help version";

static int
accepts(const struct command *c, const char *opt)
{
	const char *lists[2] = { c->accepts, common }, *p;
	size_t n = strlen(opt), i;

	for (i = 0; i < 2; i++) {
		for (p = lists[i]; (p = strstr(p, opt)) != NULL; p += n) {
			if ((p == lists[i] || p[-1] == ' ') &&
			    (p[n] == ' ' || p[n] == '\0'))
				return 1;
		}
	}
	return 0;
}

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
		{ "json", no_argument, NULL, 'j' },
		{ "allow-final-try", no_argument, NULL, 'F' },
		{ "pin", required_argument, NULL, 'X' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o;
	const char *seen[32];
	size_t nseen = 0, i;
	int ch, idx;

	memset(&o, 0, sizeof(o));
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":i:o:vhV", longopts, &idx)) != -1) {
		const char *name = NULL;

		for (i = 0; longopts[i].name != NULL; i++)
			if (longopts[i].val == ch)
				name = longopts[i].name;
		if (name != NULL && nseen < sizeof(seen) / sizeof(seen[0]))
			seen[nseen++] = name;
		switch (ch) {
		case 'M': o.module = optarg; break;
		case 'C': o.config = optarg; break;
		case 'P': o.pin_source = optarg; break;
		case 'T': o.token = optarg; break;
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
		case 'j': o.json = 1; break;
		case 'F': o.allow_final_try = 1; break;
		case 'v': o.verbose = 1; break;
		case 'h':
			usage(stdout);
			return EX_OK;
		case 'V':
			printf("nkhsm-tool %s\n", nkhsm_version());
			return EX_OK;
		case 'X':
			errx_("PINs are not accepted on the command line; use "
			    "--pin-source env:VAR or file:PATH, or type it when asked");
			return EX_USAGE;
		case ':':
			if (optopt != 0)
				errx_("option '-%c' needs an argument", optopt);
			else
				errx_("option '%s' needs an argument",
				    argv[optind - 1]);
			return EX_USAGE;
		default:
			if (optopt != 0)
				errx_("unknown option '-%c' (see --help)", optopt);
			else
				errx_("unknown option '%s' (see --help)",
				    argv[optind - 1]);
			return EX_USAGE;
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
		errx_("unknown command '%s' (see --help)", argv[optind]);
		return EX_USAGE;
	}
	for (i = 0; i < nseen; i++) {
		if (!accepts(cmd, seen[i])) {
			errx_("%s does not take --%s", cmd->name, seen[i]);
			return EX_USAGE;
		}
	}
	argc -= optind + 1;
	argv += optind + 1;
	if (argc < cmd->minargs || argc > cmd->maxargs) {
		errx_("%s takes %s", cmd->name, cmd->maxargs == 0 ?
		    "no arguments" : cmd->minargs == 0 ? "at most one URI" :
		    "one URI");
		return EX_USAGE;
	}
	return cmd->fn(&o, argc, argv);
}
