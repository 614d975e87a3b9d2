/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * policy.c - what nkhsm-sshca may sign (see sshca.h and nkhsm-sshca(1)).
 *
 *	# comment (only on its own line)
 *	[user]
 *	max_validity = 8h
 *	principals = %k
 *	options = permit-pty permit-port-forwarding force-command
 *	[user "admin-*"]
 *	principals = root
 *	[host]
 *	max_validity = 365d
 *
 * Strict: an unknown or repeated key, a repeated section, a key outside a
 * section, a malformed line or a value that fails its check is an error
 * naming the file and line. A refusal names the line of the rule that
 * refused. Untrusted strings are quoted with non-printable bytes escaped.
 */
#include "config.h"

#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nk-int.h"
#include "sshca.h"

#define POL_SIZE_MAX		(64 * 1024)
#define POL_LINE_MAX		1024
#define POL_SECTIONS_MAX	64
#define POL_RSA_BITS_MAX	16384
#define POL_ECHO_MAX		(SC_KEYID_LEN_MAX + 1)	/* bytes quoted */
#define POL_ECHO_BUF		(POL_ECHO_MAX * 4 + 1)

enum pol_key {
	PK_MAX_VALIDITY = 0,
	PK_PRINCIPALS,
	PK_OPTIONS,
	PK_KEY_TYPES,
	PK_MIN_RSA_BITS,
	PK_COUNT
};

static const char *const pol_keys[PK_COUNT] = {
	"max_validity", "principals", "options", "key_types", "min_rsa_bits",
};

/* The -O names a policy may allow (bit i is pol_options[i]). */
static const char *const pol_options[] = {
	"force-command", "source-address", "verify-required",
	"no-touch-required", "permit-X11-forwarding",
	"permit-agent-forwarding", "permit-port-forwarding", "permit-pty",
	"permit-user-rc",
};
#define POL_NOPTIONS	(sizeof(pol_options) / sizeof(pol_options[0]))

static const char *const pol_key_types[] = {
	"ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ecdsa-sha2-nistp521",
	"ssh-ed25519", "ssh-rsa",
};
#define POL_NKEY_TYPES	(sizeof(pol_key_types) / sizeof(pol_key_types[0]))

struct pol_section {
	int		 type;			/* SC_CERT_USER or SC_CERT_HOST */
	char		*pattern;		/* NULL: the type's own section */
	size_t		 line;
	size_t		 keyline[PK_COUNT];	/* 0: key not set here */
	char		*max_text;		/* max_validity as written */
	uint64_t	 max_validity;		/* seconds */
	int		 forever;
	char		**principals;		/* fnmatch patterns, %k unexpanded */
	size_t		 nprincipals;
	unsigned int	 options;		/* bits of pol_options */
	unsigned int	 key_types;		/* bits of pol_key_types */
	unsigned int	 min_rsa_bits;
};

struct sc_policy {
	char			*name;
	struct pol_section	 sec[POL_SECTIONS_MAX];
	size_t			 nsec;
};

static int
is_blank(int c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

static const char *
type_name(int type)
{
	return type == SC_CERT_HOST ? "host" : "user";
}

/* Untrusted bytes for a message, at most POL_ECHO_MAX of them. */
static void
echo_bytes(char *dst, size_t dstlen, const char *s, size_t len)
{
	nk_echo(dst, dstlen, s, len < POL_ECHO_MAX ? len : POL_ECHO_MAX);
}

static void
echo_str(char *dst, size_t dstlen, const char *s)
{
	if (s == NULL)
		s = "";
	echo_bytes(dst, dstlen, s, strnlen(s, POL_ECHO_MAX));
}

static int
lookup(const char *const *table, size_t n, const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strlen(table[i]) == len && memcmp(table[i], s, len) == 0)
			return (int)i;
	}
	return -1;
}

/* Seconds as "1w2d3h4m5s", largest units first, zero groups left out. */
static void
format_duration(uint64_t secs, char *dst, size_t dstlen)
{
	static const char units[] = "wdhms";
	static const uint64_t div[] = { 604800, 86400, 3600, 60, 1 };
	size_t i, n = 0;
	int w;

	dst[0] = '\0';
	if (secs == 0) {
		nk_errf(dst, dstlen, "0s");
		return;
	}
	for (i = 0; i < sizeof(div) / sizeof(div[0]); i++) {
		if (secs / div[i] == 0)
			continue;
		w = snprintf(dst + n, dstlen - n, "%llu%c",
		    (unsigned long long)(secs / div[i]), units[i]);
		if (w < 0 || (size_t)w >= dstlen - n)
			return;
		n += (size_t)w;
		secs %= div[i];
	}
}

static void
section_clear(struct pol_section *sec)
{
	size_t i;

	free(sec->pattern);
	free(sec->max_text);
	for (i = 0; i < sec->nprincipals; i++)
		free(sec->principals[i]);
	free(sec->principals);
	memset(sec, 0, sizeof(*sec));
}

/* Next blank-separated word of s[*offp..len); 0 when none is left. */
static size_t
next_word(const char *s, size_t len, size_t *offp, const char **wordp)
{
	size_t i = *offp, start;

	while (i < len && is_blank((unsigned char)s[i]))
		i++;
	start = i;
	while (i < len && !is_blank((unsigned char)s[i]))
		i++;
	*offp = i;
	*wordp = s + start;
	return i - start;
}

/* A principal pattern: only %k and %% escapes, no commas, no trailing '\'. */
static const char *
check_principal(const char *w, size_t len)
{
	size_t i;

	if (len > SC_PRINCIPAL_LEN_MAX)
		return "principal pattern too long";
	for (i = 0; i < len; i++) {
		if (w[i] == ',')
			return "comma in principal (separate principals "
			    "with spaces)";
		if (w[i] == '\\') {
			if (++i == len)
				return "trailing backslash in principal";
		} else if (w[i] == '%') {
			if (++i == len || (w[i] != 'k' && w[i] != '%'))
				return "bad '%' escape in principal "
				    "(only %k and %%)";
		}
	}
	return NULL;
}

static int
set_principals(struct pol_section *sec, const char *v, size_t len,
    const char *name, size_t lineno, char *errbuf, size_t errlen)
{
	char echo[POL_ECHO_BUF], **list = NULL;
	const char *w, *why;
	size_t off = 0, n = 0, wl, i;
	int r = NKHSM_ERR_CONFIG;

	if ((list = calloc(SC_PRINCIPALS_MAX, sizeof(*list))) == NULL)
		return NKHSM_ERR_NOMEM;
	while ((wl = next_word(v, len, &off, &w)) != 0) {
		echo_bytes(echo, sizeof(echo), w, wl);
		if ((why = check_principal(w, wl)) != NULL) {
			nk_errf(errbuf, errlen, "%s:%zu: %s '%s'", name,
			    lineno, why, echo);
			goto out;
		}
		for (i = 0; i < n; i++) {
			if (strlen(list[i]) == wl &&
			    memcmp(list[i], w, wl) == 0) {
				nk_errf(errbuf, errlen, "%s:%zu: duplicate "
				    "principal '%s'", name, lineno, echo);
				goto out;
			}
		}
		if (n == SC_PRINCIPALS_MAX) {
			nk_errf(errbuf, errlen, "%s:%zu: too many principals "
			    "(max %d)", name, lineno, SC_PRINCIPALS_MAX);
			goto out;
		}
		if ((list[n] = malloc(wl + 1)) == NULL) {
			r = NKHSM_ERR_NOMEM;
			goto out;
		}
		memcpy(list[n], w, wl);
		list[n++][wl] = '\0';
	}
	sec->principals = list;
	sec->nprincipals = n;
	list = NULL;
	r = 0;
 out:
	if (list != NULL) {
		for (i = 0; i < n; i++)
			free(list[i]);
		free(list);
	}
	return r;
}

/* A space-separated set of names from table, as a bit mask. */
static int
set_names(unsigned int *maskp, const char *const *table, size_t ntable,
    const char *what, const char *v, size_t len, const char *name,
    size_t lineno, char *errbuf, size_t errlen)
{
	char echo[POL_ECHO_BUF];
	const char *w;
	size_t off = 0, wl;
	unsigned int mask = 0;
	int i;

	while ((wl = next_word(v, len, &off, &w)) != 0) {
		echo_bytes(echo, sizeof(echo), w, wl);
		if ((i = lookup(table, ntable, w, wl)) < 0) {
			nk_errf(errbuf, errlen, "%s:%zu: unknown %s '%s'",
			    name, lineno, what, echo);
			return NKHSM_ERR_CONFIG;
		}
		if ((mask & (1U << i)) != 0) {
			nk_errf(errbuf, errlen, "%s:%zu: duplicate %s '%s'",
			    name, lineno, what, echo);
			return NKHSM_ERR_CONFIG;
		}
		mask |= 1U << i;
	}
	*maskp = mask;
	return 0;
}

static int
set_value(struct pol_section *sec, enum pol_key key, const char *v,
    size_t len, const char *name, size_t lineno, char *errbuf,
    size_t errlen)
{
	char echo[POL_ECHO_BUF], word[32];
	uint64_t secs;
	unsigned long bits;
	size_t i;

	echo_bytes(echo, sizeof(echo), v, len);
	switch (key) {
	case PK_MAX_VALIDITY:
		if (len >= sizeof(word))
			goto bad_duration;
		memcpy(word, v, len);
		word[len] = '\0';
		if (strcmp(word, "forever") == 0)
			sec->forever = 1;
		else if (nk_duration_parse(word, &secs) == 0)
			sec->max_validity = secs;
		else
			goto bad_duration;
		if ((sec->max_text = nk_strdup(word)) == NULL)
			return NKHSM_ERR_NOMEM;
		return 0;
	case PK_PRINCIPALS:
		return set_principals(sec, v, len, name, lineno, errbuf,
		    errlen);
	case PK_OPTIONS:
		return set_names(&sec->options, pol_options, POL_NOPTIONS,
		    "option", v, len, name, lineno, errbuf, errlen);
	case PK_KEY_TYPES:
		return set_names(&sec->key_types, pol_key_types,
		    POL_NKEY_TYPES, "key type", v, len, name, lineno, errbuf,
		    errlen);
	case PK_MIN_RSA_BITS:
		bits = 0;
		for (i = 0; i < len && i < 6; i++) {
			if (v[i] < '0' || v[i] > '9')
				break;
			bits = bits * 10 + (unsigned long)(v[i] - '0');
		}
		if (i != len || len == 0 || v[0] == '0' ||
		    bits < SC_RSA_MIN_BITS || bits > POL_RSA_BITS_MAX) {
			nk_errf(errbuf, errlen, "%s:%zu: bad min_rsa_bits '%s' "
			    "(expected %d to %d)", name, lineno, echo,
			    SC_RSA_MIN_BITS, POL_RSA_BITS_MAX);
			return NKHSM_ERR_CONFIG;
		}
		sec->min_rsa_bits = (unsigned int)bits;
		return 0;
	default:
		return NKHSM_ERR_INTERNAL;
	}
 bad_duration:
	nk_errf(errbuf, errlen, "%s:%zu: bad max_validity '%s' (expected a "
	    "duration like 8h, 30d, 1w, or forever)", name, lineno, echo);
	return NKHSM_ERR_CONFIG;
}

/* "[user]", "[host]", [user "PATTERN"]; s starts after the '['. */
static int
parse_header(struct sc_policy *pol, const char *name, size_t lineno,
    const char *s, size_t len, char *errbuf, size_t errlen)
{
	struct pol_section *sec;
	char echo[POL_ECHO_BUF], *pattern = NULL;
	const char *w, *p = NULL;
	size_t i = 0, wl, plen = 0, k;
	int type, r = NKHSM_ERR_CONFIG;

	while (i < len && is_blank((unsigned char)s[i]))
		i++;
	w = s + i;
	while (i < len && !is_blank((unsigned char)s[i]) && s[i] != '"' &&
	    s[i] != ']')
		i++;
	wl = (size_t)(s + i - w);
	echo_bytes(echo, sizeof(echo), w, wl);
	if (wl == 4 && memcmp(w, "user", 4) == 0)
		type = SC_CERT_USER;
	else if (wl == 4 && memcmp(w, "host", 4) == 0)
		type = SC_CERT_HOST;
	else {
		nk_errf(errbuf, errlen, "%s:%zu: unknown section '%s' "
		    "(expected user or host)", name, lineno, echo);
		return NKHSM_ERR_CONFIG;
	}
	while (i < len && is_blank((unsigned char)s[i]))
		i++;
	if (i < len && s[i] == '"') {
		p = s + ++i;
		while (i < len && s[i] != '"')
			i++;
		if (i == len) {
			nk_errf(errbuf, errlen, "%s:%zu: unterminated pattern "
			    "in section header", name, lineno);
			return NKHSM_ERR_CONFIG;
		}
		plen = (size_t)(s + i++ - p);
		if (plen == 0) {
			nk_errf(errbuf, errlen, "%s:%zu: empty pattern in "
			    "section header", name, lineno);
			return NKHSM_ERR_CONFIG;
		}
		while (i < len && is_blank((unsigned char)s[i]))
			i++;
	}
	if (i == len || s[i] != ']') {
		nk_errf(errbuf, errlen, "%s:%zu: malformed section header "
		    "(expected [%s] or [%s \"PATTERN\"])", name, lineno,
		    type_name(type), type_name(type));
		return NKHSM_ERR_CONFIG;
	}
	for (i++; i < len; i++) {
		if (!is_blank((unsigned char)s[i])) {
			nk_errf(errbuf, errlen, "%s:%zu: text after section "
			    "header", name, lineno);
			return NKHSM_ERR_CONFIG;
		}
	}
	if (p != NULL) {
		if ((pattern = malloc(plen + 1)) == NULL)
			return NKHSM_ERR_NOMEM;
		memcpy(pattern, p, plen);
		pattern[plen] = '\0';
	}
	for (k = 0; k < pol->nsec; k++) {
		sec = &pol->sec[k];
		if (sec->type != type || (sec->pattern == NULL) !=
		    (pattern == NULL) || (pattern != NULL &&
		    strcmp(sec->pattern, pattern) != 0))
			continue;
		if (pattern == NULL)
			nk_errf(errbuf, errlen, "%s:%zu: duplicate section "
			    "[%s] (first on line %zu)", name, lineno,
			    type_name(type), sec->line);
		else {
			echo_str(echo, sizeof(echo), pattern);
			nk_errf(errbuf, errlen, "%s:%zu: duplicate section "
			    "[%s \"%s\"] (first on line %zu)", name, lineno,
			    type_name(type), echo, sec->line);
		}
		goto out;
	}
	if (pol->nsec == POL_SECTIONS_MAX) {
		nk_errf(errbuf, errlen, "%s:%zu: too many sections (max %d)",
		    name, lineno, POL_SECTIONS_MAX);
		goto out;
	}
	sec = &pol->sec[pol->nsec++];
	sec->type = type;
	sec->pattern = pattern;
	sec->line = lineno;
	pattern = NULL;
	r = 0;
 out:
	free(pattern);
	return r;
}

/* One line (without its newline). */
static int
parse_line(struct sc_policy *pol, const char *name, size_t lineno,
    const char *s, size_t len, char *errbuf, size_t errlen)
{
	struct pol_section *sec;
	char echo[POL_ECHO_BUF];
	const char *key, *v;
	size_t i = 0, keylen, vlen;
	int k;

	for (i = 0; i < len; i++) {
		if (((unsigned char)s[i] < 0x20 && !is_blank(s[i])) ||
		    s[i] == 0x7f) {
			nk_errf(errbuf, errlen, "%s:%zu: control character "
			    "0x%02x", name, lineno, (unsigned char)s[i]);
			return NKHSM_ERR_CONFIG;
		}
	}
	for (i = 0; i < len && is_blank((unsigned char)s[i]); i++)
		;
	if (i == len || s[i] == '#')
		return 0;
	if (s[i] == '[')
		return parse_header(pol, name, lineno, s + i + 1,
		    len - i - 1, errbuf, errlen);

	if ((k = nk_kv_split(name, lineno, s + i, len - i, &key, &keylen, &v,
	    errbuf, errlen)) <= 0)
		return k;
	echo_bytes(echo, sizeof(echo), key, keylen);
	if ((k = lookup(pol_keys, PK_COUNT, key, keylen)) < 0) {
		nk_errf(errbuf, errlen, "%s:%zu: unknown key '%s'", name,
		    lineno, echo);
		return NKHSM_ERR_CONFIG;
	}
	if (pol->nsec == 0) {
		nk_errf(errbuf, errlen, "%s:%zu: '%s' outside a section "
		    "(add [user] or [host] above it)", name, lineno,
		    pol_keys[k]);
		return NKHSM_ERR_CONFIG;
	}
	sec = &pol->sec[pol->nsec - 1];
	if (sec->keyline[k] != 0) {
		nk_errf(errbuf, errlen, "%s:%zu: duplicate key '%s' "
		    "(first set on line %zu)", name, lineno, pol_keys[k],
		    sec->keyline[k]);
		return NKHSM_ERR_CONFIG;
	}
	vlen = (size_t)(s + len - v);
	while (vlen > 0 && is_blank((unsigned char)v[vlen - 1]))
		vlen--;
	if (vlen == 0) {
		nk_errf(errbuf, errlen, "%s:%zu: empty value for '%s'", name,
		    lineno, pol_keys[k]);
		return NKHSM_ERR_CONFIG;
	}
	/* "principals = %k # x" must not allow the principals '#' and 'x'. */
	if (memchr(v, '#', vlen) != NULL) {
		nk_errf(errbuf, errlen, "%s:%zu: '#' in value for '%s' "
		    "(comments go on their own line)", name, lineno,
		    pol_keys[k]);
		return NKHSM_ERR_CONFIG;
	}
	if (memchr(v, '"', vlen) != NULL) {
		nk_errf(errbuf, errlen, "%s:%zu: '\"' in value for '%s' "
		    "(values are not quoted)", name, lineno, pol_keys[k]);
		return NKHSM_ERR_CONFIG;
	}
	if ((k == PK_MAX_VALIDITY || k == PK_MIN_RSA_BITS) &&
	    (memchr(v, ' ', vlen) != NULL || memchr(v, '\t', vlen) != NULL ||
	    memchr(v, '\r', vlen) != NULL)) {
		echo_bytes(echo, sizeof(echo), v, vlen);
		nk_errf(errbuf, errlen, "%s:%zu: bad %s '%s' (one value "
		    "expected)", name, lineno, pol_keys[k], echo);
		return NKHSM_ERR_CONFIG;
	}
	sec->keyline[k] = lineno;
	return set_value(sec, (enum pol_key)k, v, vlen, name, lineno, errbuf,
	    errlen);
}

int
sc_policy_parse(const char *name, const char *text, size_t len,
    struct sc_policy **polp, char *errbuf, size_t errlen)
{
	struct sc_policy *pol = NULL;
	struct nk_lines it;
	const char *p;
	size_t linelen;
	int r = NKHSM_ERR_INTERNAL;

	if (polp != NULL)
		*polp = NULL;
	if (errbuf != NULL && errlen > 0)
		errbuf[0] = '\0';
	if (polp == NULL || (text == NULL && len != 0))
		return NKHSM_ERR_INVALID_ARGUMENT;
	if (name == NULL)
		name = "(policy)";
	if (len > POL_SIZE_MAX) {
		nk_errf(errbuf, errlen, "%s: file too large (max %d bytes)",
		    name, POL_SIZE_MAX);
		return NKHSM_ERR_CONFIG;
	}
	if ((pol = calloc(1, sizeof(*pol))) == NULL ||
	    (pol->name = nk_strdup(name)) == NULL) {
		r = NKHSM_ERR_NOMEM;
		goto out;
	}
	nk_lines_init(&it, text, len);
	while ((r = nk_lines_next(&it, name, POL_LINE_MAX, &p, &linelen,
	    errbuf, errlen)) > 0)
		if ((r = parse_line(pol, name, it.lineno, p, linelen, errbuf,
		    errlen)) != 0)
			goto out;
	if (r < 0)
		goto out;
	*polp = pol;
	pol = NULL;
	r = 0;
 out:
	sc_policy_free(&pol);
	return r;
}

int
sc_policy_load(const char *path, struct sc_policy **polp, char *errbuf,
    size_t errlen)
{
	char *text = NULL;
	size_t len = 0;
	int r = NKHSM_ERR_INTERNAL;

	if (polp != NULL)
		*polp = NULL;
	if (errbuf != NULL && errlen > 0)
		errbuf[0] = '\0';
	if (polp == NULL || path == NULL)
		return NKHSM_ERR_INVALID_ARGUMENT;
	if ((r = nk_file_load(path, (long)getuid(), POL_SIZE_MAX, &text, &len,
	    errbuf, errlen)) != 0 ||
	    (r = sc_policy_parse(path, text, len, polp, errbuf, errlen)) != 0)
		goto out;
	r = 0;
 out:
	free(text);
	return r;
}

void
sc_policy_free(struct sc_policy **polp)
{
	struct sc_policy *pol;
	size_t i;

	if (polp == NULL || (pol = *polp) == NULL)
		return;
	for (i = 0; i < pol->nsec; i++)
		section_clear(&pol->sec[i]);
	free(pol->name);
	free(pol);
	*polp = NULL;
}

/*
 * A principal pattern with %k replaced by the key id and %% by '%'. The
 * key id's punctuation is escaped, so "*" as a key id is not a wildcard;
 * a backslash in the pattern escapes the next character (as in fnmatch),
 * so "\%k" stays literal and never swallows the key id's first escape.
 */
static char *
expand_principal(const char *pat, const char *key_id)
{
	size_t i, n = 0, cap;
	const char *k;
	char *out;

	cap = strlen(pat) + 1;
	for (i = 0; pat[i] != '\0'; i++) {
		if (pat[i] == '%' && pat[i + 1] == 'k')
			cap += 2 * strlen(key_id);
	}
	if ((out = malloc(cap)) == NULL)
		return NULL;
	for (i = 0; pat[i] != '\0'; i++) {
		if (pat[i] == '\\' && pat[i + 1] != '\0') {
			out[n++] = pat[i++];
			out[n++] = pat[i];
		} else if (pat[i] == '%' && pat[i + 1] == '%') {
			out[n++] = '%';
			i++;
		} else if (pat[i] == '%' && pat[i + 1] == 'k') {
			for (k = key_id; *k != '\0'; k++) {
				if ((unsigned char)*k < 0x80 &&
				    !((*k >= 'a' && *k <= 'z') ||
				    (*k >= 'A' && *k <= 'Z') ||
				    (*k >= '0' && *k <= '9')))
					out[n++] = '\\';
				out[n++] = *k;
			}
			i++;
		} else
			out[n++] = pat[i];
	}
	out[n] = '\0';
	return out;
}

/* 1: some pattern allows principal; 0: none; -1: out of memory. */
static int
principal_allowed(const struct pol_section *sec, const char *principal,
    const char *key_id)
{
	char *pat;
	size_t i;
	int match;

	for (i = 0; i < sec->nprincipals; i++) {
		if ((pat = expand_principal(sec->principals[i],
		    key_id)) == NULL)
			return -1;
		match = fnmatch(pat, principal, 0) == 0;
		free(pat);
		if (match)
			return 1;
	}
	return 0;
}

static int
option_allowed(unsigned int mask, const char *name)
{
	int i;

	if (name == NULL ||
	    (i = lookup(pol_options, POL_NOPTIONS, name, strlen(name))) < 0)
		return 0;
	return (mask & (1U << i)) != 0;
}

int
sc_policy_check(const struct sc_policy *pol, const struct sc_certreq *req,
    const struct sc_pubkey *subject, time_t now, char *errbuf,
    size_t errlen)
{
	const struct pol_section *base = NULL, *pat = NULL, *eff[PK_COUNT];
	const struct pol_section *rule;
	const struct sc_option *opt;
	char echo[POL_ECHO_BUF], echo2[POL_ECHO_BUF], stype[POL_ECHO_BUF];
	char dur[64];
	const char *key_id, *tname;
	uint64_t length;
	size_t i, line, ntype = 0;
	int k, type_i, r = NKHSM_ERR_PERMISSION;

	if (errbuf != NULL && errlen > 0)
		errbuf[0] = '\0';
	if (pol == NULL || req == NULL || subject == NULL ||
	    (req->type != SC_CERT_USER && req->type != SC_CERT_HOST) ||
	    req->ncrit > SC_OPTIONS_MAX || req->next > SC_OPTIONS_MAX ||
	    (req->principals == NULL && req->nprincipals != 0))
		return NKHSM_ERR_INVALID_ARGUMENT;
	key_id = req->key_id != NULL ? req->key_id : "";
	tname = type_name(req->type);
	echo_str(echo, sizeof(echo), key_id);

	/* The type's section, then the first pattern section that matches. */
	for (i = 0; i < pol->nsec; i++) {
		if (pol->sec[i].type != req->type)
			continue;
		ntype++;
		if (pol->sec[i].pattern == NULL)
			base = &pol->sec[i];
		else if (pat == NULL &&
		    fnmatch(pol->sec[i].pattern, key_id, 0) == 0)
			pat = &pol->sec[i];
	}
	if (base == NULL && pat == NULL) {
		if (ntype == 0)
			nk_errf(errbuf, errlen, "%s: no [%s] section",
			    pol->name, tname);
		else
			nk_errf(errbuf, errlen, "%s: no [%s] section matches "
			    "key id '%s'", pol->name, tname, echo);
		goto out;
	}
	for (k = 0; k < PK_COUNT; k++) {
		if (pat != NULL && pat->keyline[k] != 0)
			eff[k] = pat;
		else if (base != NULL && base->keyline[k] != 0)
			eff[k] = base;
		else
			eff[k] = NULL;
	}
	/* A refusal for a key nobody set names the most specific section. */
	line = pat != NULL ? pat->line : base->line;

	if ((rule = eff[PK_MAX_VALIDITY]) != NULL)
		line = rule->keyline[PK_MAX_VALIDITY];
	if (req->valid_before == SC_FOREVER) {
		if (rule == NULL) {
			nk_errf(errbuf, errlen, "%s:%zu: unlimited validity "
			    "not allowed (no max_validity = forever)",
			    pol->name, line);
			goto out;
		}
		if (!rule->forever) {
			nk_errf(errbuf, errlen, "%s:%zu: max_validity %s "
			    "exceeded (requested forever)", pol->name, line,
			    rule->max_text);
			goto out;
		}
	} else if (req->valid_after > req->valid_before) {
		nk_errf(errbuf, errlen, "%s:%zu: validity ends before it "
		    "starts", pol->name, line);
		goto out;
	} else if (rule != NULL && !rule->forever) {
		/*
		 * What counts is how long the certificate stays usable from
		 * now on: a post-dated certificate is as long as its end is
		 * far, and backdating the start (-5m, always:) costs nothing.
		 */
		length = req->valid_before > (uint64_t)now ?
		    req->valid_before - (uint64_t)now : 0;
		if (length > rule->max_validity) {
			format_duration(length, dur, sizeof(dur));
			nk_errf(errbuf, errlen, "%s:%zu: max_validity %s "
			    "exceeded (requested %s)", pol->name, line,
			    rule->max_text, dur);
			goto out;
		}
	}

	if ((rule = eff[PK_PRINCIPALS]) != NULL) {
		line = rule->keyline[PK_PRINCIPALS];
		if (req->nprincipals == 0) {
			nk_errf(errbuf, errlen, "%s:%zu: no principals "
			    "requested for key id '%s'", pol->name, line,
			    echo);
			goto out;
		}
		for (i = 0; i < req->nprincipals; i++) {
			if ((k = principal_allowed(rule, req->principals[i] !=
			    NULL ? req->principals[i] : "", key_id)) < 0) {
				r = NKHSM_ERR_NOMEM;
				goto out;
			}
			if (k == 0) {
				echo_str(echo2, sizeof(echo2),
				    req->principals[i]);
				nk_errf(errbuf, errlen, "%s:%zu: principal '%s' "
				    "not allowed for key id '%s'", pol->name,
				    line, echo2, echo);
				goto out;
			}
		}
	}

	if ((rule = eff[PK_OPTIONS]) != NULL) {
		line = rule->keyline[PK_OPTIONS];
		for (i = 0; i < req->ncrit + req->next; i++) {
			opt = i < req->ncrit ? &req->crit[i] :
			    &req->ext[i - req->ncrit];
			if (option_allowed(rule->options, opt->name))
				continue;
			echo_str(echo2, sizeof(echo2), opt->name);
			nk_errf(errbuf, errlen, "%s:%zu: option '%s' not "
			    "allowed for key id '%s'", pol->name, line, echo2,
			    echo);
			goto out;
		}
	}

	echo_bytes(stype, sizeof(stype), subject->type,
	    strnlen(subject->type, sizeof(subject->type)));
	type_i = lookup(pol_key_types, POL_NKEY_TYPES, subject->type,
	    strnlen(subject->type, sizeof(subject->type)));
	if ((rule = eff[PK_KEY_TYPES]) != NULL && (type_i < 0 ||
	    (rule->key_types & (1U << type_i)) == 0)) {
		nk_errf(errbuf, errlen, "%s:%zu: key type '%s' not allowed",
		    pol->name, rule->keyline[PK_KEY_TYPES], stype);
		goto out;
	}
	if ((rule = eff[PK_MIN_RSA_BITS]) != NULL && type_i >= 0 &&
	    strcmp(pol_key_types[type_i], "ssh-rsa") == 0 &&
	    subject->bits < rule->min_rsa_bits) {
		nk_errf(errbuf, errlen, "%s:%zu: RSA key of %u bits below "
		    "min_rsa_bits %u", pol->name,
		    rule->keyline[PK_MIN_RSA_BITS], subject->bits,
		    rule->min_rsa_bits);
		goto out;
	}
	r = 0;
 out:
	return r;
}
