/* SPDX-License-Identifier: BSD-2-Clause */
/* cli.c - shared by nkhsm-tool and nkhsm-sshca (see cli.h) */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nkhsm.h"
#include "cli.h"

#define INPUT_MAX	NKHSM_MSG_MAX

const char *cli_progname = "nkhsm";

void
cli_errx(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", cli_progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* Print untrusted token strings without control characters. */
void
cli_print_safe(FILE *f, const char *s)
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
const char *
cli_safe(const char *s, char *buf, size_t len)
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

void
cli_print_json_str(FILE *f, const char *s)
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

void
cli_print_hex(FILE *f, const uint8_t *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		fprintf(f, "%02x", p[i]);
}

int
cli_exit_for(int r)
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
	case NKHSM_ERR_WEAK_KEY:
		return EX_USAGE;
	default:
		return EX_FAIL;
	}
}


void
cli_env_free(struct cli_env *e)
{
	nkhsm_token_free(&e->tok);
	nkhsm_ctx_free(&e->ctx);
	nkhsm_uri_free(&e->uri);
	nkhsm_uri_free(&e->tokuri);
	nkhsm_conf_free(&e->conf);
}

int
cli_parse_uri(const char *s, nkhsm_uri_t **urip)
{
	const char *why = NULL;
	int r;

	if ((r = nkhsm_uri_parse(s, urip, &why)) != 0) {
		cli_errx("invalid PKCS#11 URI '%s': %s", s,
		    why != NULL ? why : nkhsm_strerror(r));
		return EX_USAGE;
	}
	if ((why = nkhsm_uri_unmatched(*urip)) != NULL) {
		cli_errx("PKCS#11 URI '%s': selecting by %s is not supported "
		    "(use token=, serial=, manufacturer=, model= or slot-id=)",
		    s, why);
		nkhsm_uri_free(urip);
		return EX_USAGE;
	}
	return 0;
}

int
cli_parse_timeout(const char *s, unsigned int *secondsp)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (*s < '0' || *s > '9' || *end != '\0' || errno != 0 ||
	    v > CLI_TIMEOUT_MAX) {
		cli_errx("--timeout must be a number of seconds from 0 (no limit) "
		    "to %d", CLI_TIMEOUT_MAX);
		return EX_USAGE;
	}
	*secondsp = (unsigned int)v;
	return 0;
}

/*
 * The deadline on each PKCS#11 call. A call blocked in the module (a card
 * that stopped answering) cannot be cancelled, so the only way out is to
 * end the process, from the signal handler, with what is async-signal-safe.
 */
static unsigned int watch_seconds;
static char watch_msg[256];
static size_t watch_msglen;

static void
watch_expired(int sig)
{
	(void)sig;
	(void)!write(STDERR_FILENO, watch_msg, watch_msglen);
	_exit(EX_TIMEOUT);
}

static void
watch_call(void *arg, int busy)
{
	(void)arg;
	alarm(busy ? watch_seconds : 0);
}

static void
watch_start(unsigned int seconds)
{
	struct sigaction sa;
	int n;

	watch_seconds = 0;
	if (seconds == 0)
		return;
	n = snprintf(watch_msg, sizeof(watch_msg), "%s: the token did not "
	    "answer within %u s (removed, frozen, or held by another program?); "
	    "stopped\n", cli_progname, seconds);
	watch_msglen = n > 0 && (size_t)n < sizeof(watch_msg) ? (size_t)n :
	    strlen(watch_msg);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = watch_expired;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, NULL) == 0)
		watch_seconds = seconds;
}

/* Load configuration and module; URI may be NULL. */
int
cli_env_open(struct cli_env *e, const struct cli_common *o, const char *uristr)
{
	char errbuf[512];
	const char *tokstr;
	int r;

	memset(e, 0, sizeof(*e));
	errbuf[0] = '\0';
	if ((r = nkhsm_conf_load(o->config, (long)getuid(), &e->conf, errbuf,
	    sizeof(errbuf))) != 0) {
		cli_errx("%s", errbuf[0] != '\0' ? errbuf : nkhsm_strerror(r));
		return r == NKHSM_ERR_PERMISSION || r == NKHSM_ERR_CONFIG ||
		    r == NKHSM_ERR_IO ? EX_USAGE : cli_exit_for(r);
	}
	if (uristr != NULL && (r = cli_parse_uri(uristr, &e->uri)) != 0)
		return r;
	tokstr = o->token != NULL ? o->token : nkhsm_conf_token(e->conf);
	if (tokstr != NULL && (r = cli_parse_uri(tokstr, &e->tokuri)) != 0)
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
		cli_errx("invalid PIN source '%s' (use env:VAR or file:/absolute/path)",
		    e->pin_source);
		return EX_USAGE;
	}
	/* C_Initialize (where OpenSC reads the whole card) has one too. */
	watch_start(o->timeout);
	watch_call(NULL, 1);
	r = nkhsm_ctx_open(e->module, &e->ctx);
	watch_call(NULL, 0);
	if (r != 0) {
		cli_errx("cannot load PKCS#11 module %s", e->module);
		return EX_MODULE;
	}
	if (watch_seconds != 0)
		nkhsm_ctx_set_watch(e->ctx, watch_call, NULL);
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

int
cli_env_token(struct cli_env *e)
{
	const nkhsm_uri_t *sel;
	int r;

	sel = names_token(e->uri) ? e->uri : e->tokuri;
	if ((r = nkhsm_token_find(e->ctx, sel, &e->tok)) == 0)
		return 0;
	if (r == NKHSM_ERR_NO_TOKEN)
		cli_errx("no token found%s (module %s)", sel != NULL ?
		    " that matches the URI" : "", e->module);
	else if (r == NKHSM_ERR_AMBIGUOUS_TOKEN)
		cli_errx("more than one token found; choose one with --token "
		    "pkcs11:serial=... (see '%s list')", cli_progname);
	else
		cli_errx("cannot list tokens: %s", nkhsm_strerror(r));
	return cli_exit_for(r);
}

void
cli_describe_tries(const nkhsm_token_t *tok, FILE *f)
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

int
cli_env_login(struct cli_env *e, const struct cli_common *o)
{
	unsigned int fl = nkhsm_token_flags(e->tok);
	char *pin = NULL, prompt[160];
	size_t pinlen = 0;
	int r, ret;

	if (fl & NKHSM_TOKEN_PIN_LOCKED) {
		fprintf(stderr, "%s: the user PIN of token '", cli_progname);
		cli_print_safe(stderr, nkhsm_token_label(e->tok));
		fprintf(stderr, "' is locked; unblock it with the SO PIN "
		    "(pkcs11-tool --login --login-type so --init-pin)\n");
		return EX_LOCKED;
	}
	if ((fl & NKHSM_TOKEN_PIN_FINAL_TRY) && e->pin_source != NULL &&
	    !o->allow_final_try) {
		cli_errx("the token has 1 PIN try left; refusing to spend it with a "
		    "non-interactive PIN (use --allow-final-try, or type it)");
		return EX_FINALTRY;
	}
	if (fl & (NKHSM_TOKEN_PIN_FINAL_TRY | NKHSM_TOKEN_PIN_COUNT_LOW)) {
		fprintf(stderr, "%s: warning: ", cli_progname);
		cli_describe_tries(e->tok, stderr);
		fputc('\n', stderr);
	}
	if ((fl & NKHSM_TOKEN_PIN_PAD) && e->pin_source == NULL) {
		fprintf(stderr, "Enter the PIN on the reader's PIN pad.\n");
		r = nkhsm_token_login(e->tok, NULL, 0);
	} else {
		char lb[80];

		snprintf(prompt, sizeof(prompt), "PIN for token '%s': ",
		    cli_safe(nkhsm_token_label(e->tok), lb, sizeof(lb)));
		if ((r = nkhsm_pin_read(e->pin_source, prompt, &pin,
		    &pinlen)) != 0) {
			if (r == NKHSM_ERR_CANCELLED)
				cli_errx("cancelled");
			else if (r == NKHSM_ERR_PIN_LEN)
				cli_errx("the PIN is too long");
			else
				cli_errx("cannot read the PIN from %s: %s",
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
	ret = cli_exit_for(r);
	if (r == NKHSM_ERR_PIN_INCORRECT) {
		fprintf(stderr, "%s: incorrect PIN for token '", cli_progname);
		cli_print_safe(stderr, nkhsm_token_label(e->tok));
		fprintf(stderr, "' (");
		cli_describe_tries(e->tok, stderr);
		fprintf(stderr, ")\n");
	} else if (r == NKHSM_ERR_PIN_LOCKED) {
		cli_errx("the PIN is locked");
	} else if (r == NKHSM_ERR_PIN_LEN) {
		cli_errx("the PIN length is outside the token's limits");
	} else
		cli_errx("login failed: %s", nkhsm_strerror(r));
	return ret;
}

int
cli_env_key(struct cli_env *e, nkhsm_key_t **keyp)
{
	char lb[80];
	int r;

	if ((r = nkhsm_key_find(e->tok, e->uri, keyp)) == 0)
		return 0;
	if (r == NKHSM_ERR_NO_KEY)
		cli_errx("no such key on token '%s'",
		    cli_safe(nkhsm_token_label(e->tok), lb, sizeof(lb)));
	else if (r == NKHSM_ERR_AMBIGUOUS_KEY)
		cli_errx("more than one key matches; name it by id=");
	else if (r == NKHSM_ERR_INVALID_ARGUMENT)
		cli_errx("the URI must name a key with object= or id=");
	else
		cli_errx("cannot find the key: %s", nkhsm_strerror(r));
	return r == NKHSM_ERR_INVALID_ARGUMENT ? EX_USAGE : cli_exit_for(r);
}

/* Write a whole file or nothing: temp file in the same directory, fsync, rename. */
int
cli_write_atomic(const char *path, const void *data, size_t len, mode_t mode)
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

int
cli_read_all(const char *path, uint8_t **datap, size_t *lenp)
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
	/*
	 * Grow only when full: most inputs are a few hundred bytes, and a
	 * buffer past malloc's mmap threshold costs an mmap, page faults and
	 * an munmap per file, which adds up over a batch of keys.
	 */
	for (;;) {
		if (len == cap) {
			if (cap > INPUT_MAX) {
				errno = EFBIG;
				goto fail;
			}
			cap = cap == 0 ? 4096 : cap * 2;
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

/* Is opt one of the space-separated names in accepts or in common? */
int
cli_option_allowed(const char *accepts, const char *common, const char *opt)
{
	const char *lists[2] = { accepts, common }, *p;
	size_t n = strlen(opt), i;

	for (i = 0; i < 2; i++)
		for (p = lists[i]; p != NULL && (p = strstr(p, opt)) != NULL; p += n)
			if ((p == lists[i] || p[-1] == ' ') &&
			    (p[n] == ' ' || p[n] == '\0'))
				return 1;
	return 0;
}

int
cli_getopt_error(int ch, char *const argv[])
{
	if (ch == ':') {
		if (optopt != 0)
			cli_errx("option '-%c' needs an argument", optopt);
		else
			cli_errx("option '%s' needs an argument",
			    argv[optind - 1]);
	} else if (optopt != 0)
		cli_errx("unknown option '-%c' (see --help)", optopt);
	else
		cli_errx("unknown option '%s' (see --help)", argv[optind - 1]);
	return EX_USAGE;
}

int
cli_seen_add(const char **seen, size_t max, size_t *np, const char *name)
{
	if (name == NULL)
		return 0;
	/* An option not recorded could not be refused: no silent cap. */
	if (*np >= max) {
		cli_errx("too many options");
		return EX_USAGE;
	}
	seen[(*np)++] = name;
	return 0;
}

int
cli_seen_check(const char *cmd, const char *accepts, const char *common,
    const char *const *seen, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!cli_option_allowed(accepts, common, seen[i])) {
			cli_errx("%s does not take %s%s", cmd,
			    strlen(seen[i]) == 1 ? "-" : "--", seen[i]);
			return EX_USAGE;
		}
	}
	return 0;
}
