/* SPDX-License-Identifier: BSD-2-Clause */
/* site.c - a CA site's own settings, STATE/site.conf (see site.h). Pure but for sc_site_load. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nkhsm.h"
#include "nk-int.h"
#include "ledger.h"
#include "site.h"

#define LINE_MAX_LEN	2048

void
sc_site_free(struct sc_site *s)
{
	free(s->ledger);
	free(s->module);
	free(s->key);
	memset(s, 0, sizeof(*s));
}

/* The value's own check: "" when it passes, else why not. */
static int
check_value(const char *key, const char *v, char *why, size_t whylen)
{
	if (strcmp(key, "ledger") == 0)
		return sc_ledger_url_check(v, why, whylen);
	if (strcmp(key, "module") == 0 && v[0] != '/') {
		nk_errf(why, whylen, "module must be an absolute path");
		return NKHSM_ERR_CONFIG;
	}
	if (strcmp(key, "key") == 0 && strncmp(v, "pkcs11:", 7) != 0) {
		nk_errf(why, whylen, "key must be a PKCS#11 URI (pkcs11:...)");
		return NKHSM_ERR_CONFIG;
	}
	return 0;
}

/* Where a key's value goes; NULL for an unknown key. */
static char **
slot(struct sc_site *s, const char *key, size_t len)
{
	if (len == 6 && memcmp(key, "ledger", 6) == 0)
		return &s->ledger;
	if (len == 6 && memcmp(key, "module", 6) == 0)
		return &s->module;
	if (len == 3 && memcmp(key, "key", 3) == 0)
		return &s->key;
	return NULL;
}

static int
parse_line(struct sc_site *s, const char *name, size_t lineno, const char *p,
    size_t len, char *errbuf, size_t errlen)
{
	const char *key, *val;
	char echo[NK_ECHO_MAX * 4 + 1], why[256], **dst;
	size_t keylen, vlen, i;
	int r;

	if ((r = nk_kv_split(name, lineno, p, len, &key, &keylen, &val, errbuf,
	    errlen)) <= 0)
		return r;
	nk_echo(echo, sizeof(echo), key, keylen < NK_ECHO_MAX ? keylen :
	    NK_ECHO_MAX);
	if ((dst = slot(s, key, keylen)) == NULL || *dst != NULL) {
		nk_errf(errbuf, errlen, "%s:%zu: %s key '%s'", name, lineno,
		    dst == NULL ? "unknown" : "duplicate", echo);
		return NKHSM_ERR_CONFIG;
	}
	for (vlen = (size_t)(p + len - val); vlen > 0 && (val[vlen - 1] == ' ' ||
	    val[vlen - 1] == '\t' || val[vlen - 1] == '\r'); vlen--)
		;
	for (i = 0; i < vlen; i++)
		if ((unsigned char)val[i] < 0x20 || val[i] == 0x7f)
			break;
	if (vlen == 0 || i < vlen) {
		nk_errf(errbuf, errlen, "%s:%zu: %s for '%s'", name, lineno,
		    vlen == 0 ? "empty value" : "control character in value", echo);
		return NKHSM_ERR_CONFIG;
	}
	if ((*dst = strndup(val, vlen)) == NULL)
		return NKHSM_ERR_NOMEM;
	why[0] = '\0';
	if ((r = check_value(echo, *dst, why, sizeof(why))) != 0) {
		nk_errf(errbuf, errlen, "%s:%zu: %s", name, lineno, why);
		return r == NKHSM_ERR_NOMEM ? r : NKHSM_ERR_CONFIG;
	}
	return 0;
}

int
sc_site_parse(const char *name, const char *text, size_t len,
    struct sc_site *s, char *errbuf, size_t errlen)
{
	struct nk_lines it;
	const char *p;
	size_t n;
	int r;

	memset(s, 0, sizeof(*s));
	if (len > SC_SITE_MAX) {
		nk_errf(errbuf, errlen, "%s: file too large (max %d bytes)", name,
		    SC_SITE_MAX);
		return NKHSM_ERR_CONFIG;
	}
	nk_lines_init(&it, text, len);
	while ((r = nk_lines_next(&it, name, LINE_MAX_LEN, &p, &n, errbuf,
	    errlen)) > 0)
		if ((r = parse_line(s, name, it.lineno, p, n, errbuf, errlen)) != 0)
			break;
	if (r != 0)
		sc_site_free(s);
	return r;
}

int
sc_site_load(const char *dir, struct sc_site *s, char *errbuf, size_t errlen)
{
	char path[4096], *text = NULL;
	size_t len = 0;
	int r;

	memset(s, 0, sizeof(*s));
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, SC_SITE_FILE) >=
	    sizeof(path))
		return NKHSM_ERR_TOO_LARGE;
	if (access(path, F_OK) != 0 && errno == ENOENT)
		return NKHSM_ERR_NO_KEY;
	if ((r = nk_file_load(path, (long)getuid(), SC_SITE_MAX, &text, &len,
	    errbuf, errlen)) == 0)
		r = sc_site_parse(path, text, len, s, errbuf, errlen);
	free(text);
	return r;
}

int
sc_site_format(const struct sc_site *s, char **textp)
{
	*textp = NULL;
	if (s->ledger == NULL || s->module == NULL || s->key == NULL)
		return NKHSM_ERR_INVALID_ARGUMENT;
	if (asprintf(textp, "# nkhsm-sshca: this site's settings, written by "
	    "init (see nkhsm-sshca(1))\nledger = %s\nmodule = %s\nkey = %s\n",
	    s->ledger, s->module, s->key) == -1) {
		*textp = NULL;
		return NKHSM_ERR_NOMEM;
	}
	return 0;
}
