/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conf.c - /etc/nkhsm/nkhsm.conf, shared by all front ends.
 *
 *	# comment (only at the start of a line)
 *	module = /usr/lib/x86_64-linux-gnu/opensc-pkcs11.so
 *	token = pkcs11:token=nk
 *	pin_source = "file:/etc/nkhsm/pin file"
 *	driver = auto
 *
 * Strict: an unknown or repeated key, a malformed line or a value that
 * fails its check is an error naming the file and line. Keys live in one
 * table, each with a validator, so a new key is one row and one accessor.
 */
#include "config.h"

#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "nk-int.h"

#ifndef NKHSM_SYSCONFDIR
#define NKHSM_SYSCONFDIR	"/etc"
#endif


enum conf_key {
	KEY_MODULE = 0,
	KEY_TOKEN,
	KEY_PIN_SOURCE,
	KEY_DRIVER,
	KEY_LEDGER,
	KEY_COUNT
};

struct nkhsm_conf {
	char	*value[KEY_COUNT];
	size_t	 line[KEY_COUNT];	/* where each key was set */
};

typedef int conf_check_fn(const char *value, char *why, size_t whylen);

struct conf_keydef {
	const char	*name;
	enum conf_key	 key;
	conf_check_fn	*check;
};

static int
check_module(const char *value, char *why, size_t whylen)
{
	if (value[0] != '/') {
		nk_errf(why, whylen, "module must be an absolute path");
		return -1;
	}
	return 0;
}

static int
check_token(const char *value, char *why, size_t whylen)
{
	nkhsm_uri_t *uri = NULL;
	const char *err = NULL;
	int r;

	if (strncmp(value, "pkcs11:", 7) != 0) {
		nk_errf(why, whylen, "token must be a PKCS#11 URI (pkcs11:...)");
		return -1;
	}
	if ((r = nkhsm_uri_parse(value, &uri, &err)) != 0) {
		if (r == NKHSM_ERR_NOMEM)
			return r;	/* not the file's fault */
		nk_errf(why, whylen, "invalid token URI: %s",
		    err != NULL ? err : nkhsm_strerror(r));
		return -1;
	}
	nkhsm_uri_free(&uri);
	return 0;
}

static int
valid_env_name(const char *s)
{
	size_t i;

	if (s[0] == '\0' || (s[0] >= '0' && s[0] <= '9'))
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	}
	return 1;
}

static int
check_pin_source(const char *value, char *why, size_t whylen)
{
	if (strncmp(value, "env:", 4) == 0 && valid_env_name(value + 4))
		return 0;
	if (strncmp(value, "file:/", 6) == 0)
		return 0;
	nk_errf(why, whylen, "pin_source must be env:NAME or file:/absolute/path");
	return -1;
}

static int
check_driver(const char *value, char *why, size_t whylen)
{
	if (strcmp(value, "auto") == 0 || strcmp(value, "pcsc") == 0 ||
	    strcmp(value, "pkcs11") == 0)
		return 0;
	nk_errf(why, whylen, "driver must be auto, pcsc or pkcs11");
	return -1;
}

/*
 * A password in a PostgreSQL URL: "user:PASSWORD@" in a URI's authority,
 * or a password= parameter (URI query or key=value string).
 */
static int
has_password(const char *v)
{
	const char *a, *end, *at, *p;

	if ((a = strstr(v, "://")) != NULL) {
		a += 3;
		end = a + strcspn(a, "/?");
		for (at = NULL, p = a; p < end; p++)
			if (*p == '@')
				at = p;
		if (at != NULL && memchr(a, ':', (size_t)(at - a)) != NULL)
			return 1;
	}
	for (p = v; (p = strstr(p, "password")) != NULL; p += 8) {
		if (p != v && p[-1] != '?' && p[-1] != '&' && p[-1] != ' ' &&
		    p[-1] != ':')
			continue;
		for (a = p + 8; *a == ' '; a++)
			;
		if (*a == '=')
			return 1;
	}
	return 0;
}

/* nkhsm-sshca's ledger: sqlite:/PATH or a PostgreSQL URL, no password. */
static int
check_ledger(const char *value, char *why, size_t whylen)
{
	if (strncmp(value, "sqlite:", 7) == 0) {
		if (value[7] == '/' && value[8] != '\0')
			return 0;
		nk_errf(why, whylen, "ledger = sqlite:PATH needs an absolute path");
		return -1;
	}
	if ((strncmp(value, "postgresql:", 11) != 0 &&
	    strncmp(value, "postgres:", 9) != 0) ||
	    value[strlen(value) - 1] == ':') {
		nk_errf(why, whylen, "ledger must be sqlite:/PATH or "
		    "postgresql://... (a libpq URI or connection string)");
		return -1;
	}
	if (has_password(value)) {
		nk_errf(why, whylen, "ledger: a password in the URL is refused "
		    "(use a password file, PGPASSFILE or ~/.pgpass, or a peer "
		    "login)");
		return -1;
	}
	return 0;
}

static const struct conf_keydef conf_keys[] = {
	{ "module",	KEY_MODULE,		check_module },
	{ "token",	KEY_TOKEN,		check_token },
	{ "pin_source",	KEY_PIN_SOURCE,	check_pin_source },
	{ "driver",	KEY_DRIVER,		check_driver },
	{ "ledger",	KEY_LEDGER,		check_ledger },
};

static const struct conf_keydef *
lookup_key(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(conf_keys) / sizeof(conf_keys[0]); i++) {
		if (strlen(conf_keys[i].name) == len &&
		    memcmp(conf_keys[i].name, name, len) == 0)
			return &conf_keys[i];
	}
	return NULL;
}

static int
is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/*
 * The value after '=' (leading blanks already skipped): either a double-quoted
 * string with \" and \\ escapes, or a bare word running to the end of the
 * line with trailing blanks removed. Bare words may not hold blanks, '#' or
 * '"', so "module = /x.so # old" is an error rather than a strange path.
 * out must hold len + 1 bytes.
 */
static int
parse_value(const char *s, size_t len, char *out, const char **whyp)
{
	size_t i, n = 0;

	if (len > 0 && s[0] == '"') {
		for (i = 1; i < len; i++) {
			if (s[i] == '"')
				break;
			if (s[i] == '\\') {
				if (i + 1 >= len ||
				    (s[i + 1] != '"' && s[i + 1] != '\\')) {
					*whyp = "invalid escape in quoted value";
					return -1;
				}
				i++;
			}
			out[n++] = s[i];
		}
		if (i >= len) {
			*whyp = "unterminated quoted value";
			return -1;
		}
		for (i++; i < len; i++) {
			if (!is_space((unsigned char)s[i])) {
				*whyp = "text after quoted value";
				return -1;
			}
		}
	} else {
		while (len > 0 && is_space((unsigned char)s[len - 1]))
			len--;
		for (i = 0; i < len; i++) {
			if (is_space((unsigned char)s[i]) || s[i] == '#' ||
			    s[i] == '"') {
				*whyp = "unquoted value contains blanks, '#' "
				    "or '\"' (use double quotes)";
				return -1;
			}
			out[n++] = s[i];
		}
	}
	out[n] = '\0';
	if (n == 0) {
		*whyp = "empty value";
		return -1;
	}
	return 0;
}

/* One line (without its newline). */
static int
parse_line(nkhsm_conf_t *conf, const char *name, size_t lineno,
    const char *s, size_t len, char *errbuf, size_t errlen)
{
	const struct conf_keydef *def;
	const char *key, *val, *why = NULL;
	char *value = NULL, echo[NK_ECHO_MAX * 4 + 1], reason[256];
	size_t keylen;
	int r, cr;

	if ((r = nk_kv_split(name, lineno, s, len, &key, &keylen, &val, errbuf,
	    errlen)) <= 0)
		return r;
	r = NKHSM_ERR_CONFIG;
	nk_echo(echo, sizeof(echo), key, keylen < NK_ECHO_MAX ? keylen :
	    NK_ECHO_MAX);
	if ((def = lookup_key(key, keylen)) == NULL) {
		nk_errf(errbuf, errlen, "%s:%zu: unknown key '%s'",
		    name, lineno, echo);
		goto out;
	}
	if (conf->value[def->key] != NULL) {
		nk_errf(errbuf, errlen, "%s:%zu: duplicate key '%s' "
		    "(first set on line %zu)", name, lineno, def->name,
		    conf->line[def->key]);
		goto out;
	}
	if ((value = malloc((size_t)(s + len - val) + 1)) == NULL) {
		r = NKHSM_ERR_NOMEM;
		goto out;
	}
	if (parse_value(val, (size_t)(s + len - val), value, &why) != 0) {
		nk_errf(errbuf, errlen, "%s:%zu: %s for '%s'", name, lineno,
		    why, def->name);
		goto out;
	}
	if ((cr = def->check(value, reason, sizeof(reason))) != 0) {
		if (cr == NKHSM_ERR_NOMEM)
			r = cr;
		else
			nk_errf(errbuf, errlen, "%s:%zu: %s", name, lineno,
			    reason);
		goto out;
	}
	conf->value[def->key] = value;
	conf->line[def->key] = lineno;
	value = NULL;
	r = 0;
 out:
	free(value);
	return r;
}

int
nkhsm_conf_parse(const char *name, const char *text, size_t len,
    nkhsm_conf_t **confp, char *errbuf, size_t errlen)
{
	nkhsm_conf_t *conf = NULL;
	struct nk_lines it;
	const char *p;
	size_t linelen;
	int r = NKHSM_ERR_INTERNAL;

	if (confp != NULL)
		*confp = NULL;
	if (errbuf != NULL && errlen > 0)
		errbuf[0] = '\0';
	if (confp == NULL || (text == NULL && len != 0))
		return NKHSM_ERR_INVALID_ARGUMENT;
	if (name == NULL)
		name = "(config)";
	if (len > NKHSM_CONF_SIZE_MAX) {
		nk_errf(errbuf, errlen, "%s: file too large (max %d bytes)",
		    name, NKHSM_CONF_SIZE_MAX);
		return NKHSM_ERR_CONFIG;
	}
	if ((conf = calloc(1, sizeof(*conf))) == NULL)
		return NKHSM_ERR_NOMEM;
	nk_lines_init(&it, text, len);
	while ((r = nk_lines_next(&it, name, NKHSM_CONF_LINE_MAX, &p, &linelen,
	    errbuf, errlen)) > 0)
		if ((r = parse_line(conf, name, it.lineno, p, linelen,
		    errbuf, errlen)) != 0)
			goto out;
	if (r < 0)
		goto out;
	*confp = conf;
	conf = NULL;
	r = 0;
 out:
	nkhsm_conf_free(&conf);
	return r;
}

int
nkhsm_conf_load(const char *path, long owner_uid, nkhsm_conf_t **confp,
    char *errbuf, size_t errlen)
{
	nkhsm_conf_t *conf = NULL;
	char *text = NULL;
	size_t len = 0;
	int is_default = 0, r = NKHSM_ERR_INTERNAL;

	if (confp != NULL)
		*confp = NULL;
	if (errbuf != NULL && errlen > 0)
		errbuf[0] = '\0';
	if (confp == NULL)
		return NKHSM_ERR_INVALID_ARGUMENT;
	if (path == NULL) {
		path = nkhsm_default_conf();
		is_default = 1;
	}
	r = nk_file_load(path, owner_uid, NKHSM_CONF_SIZE_MAX, &text, &len,
	    errbuf, errlen);
	if (r == NKHSM_ERR_IO && errno == ENOENT && is_default) {
		/* No default file: an empty configuration. */
		if (errbuf != NULL && errlen > 0)
			errbuf[0] = '\0';
		if ((conf = calloc(1, sizeof(*conf))) == NULL) {
			r = NKHSM_ERR_NOMEM;
			goto out;
		}
	} else if (r != 0 ||
	    (r = nkhsm_conf_parse(path, text, len, &conf, errbuf, errlen)) != 0)
		goto out;
	*confp = conf;
	conf = NULL;
	r = 0;
 out:
	free(text);
	nkhsm_conf_free(&conf);
	return r;
}

void
nkhsm_conf_free(nkhsm_conf_t **confp)
{
	nkhsm_conf_t *conf;
	size_t i;

	if (confp == NULL || (conf = *confp) == NULL)
		return;
	for (i = 0; i < KEY_COUNT; i++)
		free(conf->value[i]);
	free(conf);
	*confp = NULL;
}

const char *
nkhsm_conf_module(const nkhsm_conf_t *conf)
{
	return conf == NULL ? NULL : conf->value[KEY_MODULE];
}

const char *
nkhsm_conf_token(const nkhsm_conf_t *conf)
{
	return conf == NULL ? NULL : conf->value[KEY_TOKEN];
}

const char *
nkhsm_conf_pin_source(const nkhsm_conf_t *conf)
{
	return conf == NULL ? NULL : conf->value[KEY_PIN_SOURCE];
}

const char *
nkhsm_conf_driver(const nkhsm_conf_t *conf)
{
	return conf == NULL ? NULL : conf->value[KEY_DRIVER];
}

const char *
nkhsm_conf_ledger(const nkhsm_conf_t *conf)
{
	return conf == NULL ? NULL : conf->value[KEY_LEDGER];
}

const char *
nkhsm_default_module(void)
{
	return NKHSM_DEFAULT_MODULE;
}

const char *
nkhsm_default_conf(void)
{
	return NKHSM_SYSCONFDIR "/nkhsm/nkhsm.conf";
}
