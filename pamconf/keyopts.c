/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * keyopts.c - the options field of an authorized_keys line, as pam_nkhsm
 * can honour it. A line means what it says, or it is not used:
 *
 *  - from="pattern-list" is matched against PAM_RHOST (from.c);
 *  - expiry-time="YYYYMMDD[HHMM[SS]][Z]" ends the key's use after that
 *    time (local time, or UTC with Z), as sshd reads it;
 *  - cert-authority marks a CA key: never a login key;
 *  - options that only widen an SSH session (agent-forwarding,
 *    port-forwarding, pty, user-rc, X11-forwarding, no-touch-required) and
 *    environment= (which sshd ignores unless PermitUserEnvironment) have
 *    nothing to restrict in a login;
 *  - every other option (restrict, command=, no-pty, permitopen=, ...,
 *    and any option not known here) limits what the key may do in ways a
 *    PAM login cannot enforce: the line is not used, and the reason is
 *    logged. A restriction is never dropped silently.
 *
 * Malformed syntax (an empty option, an unterminated quote, a value on an
 * option that must be quoted) is an error that rejects the file.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "nkhsm.h"
#include "nk-int.h"
#include "pamconf.h"

#define OPT_NAME_MAX	64
#define OPT_VALUE_MAX	PNK_AUTHFILE_LINE_MAX

static const char *const widening[] = {
	"agent-forwarding", "port-forwarding", "pty", "user-rc",
	"x11-forwarding", "no-touch-required", "environment",
};

static const char *const restricting[] = {
	"restrict", "command", "no-agent-forwarding", "no-port-forwarding",
	"no-pty", "no-user-rc", "no-x11-forwarding", "permitopen",
	"permitlisten", "principals", "tunnel", "verify-required",
};

static int
in_list(const char *name, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcasecmp(name, list[i]) == 0)
			return 1;
	return 0;
}

int
pnk_expiry_parse(const char *s, int64_t *tp)
{
	struct tm tm, check;
	size_t n = strspn(s, "0123456789");
	int utc = 0;
	time_t t;

	*tp = 0;
	if (s[n] == 'Z' || s[n] == 'z')
		utc = 1;
	if (s[n + (size_t)utc] != '\0' || (n != 8 && n != 12 && n != 14))
		return NKHSM_ERR_FORMAT;
	memset(&tm, 0, sizeof(tm));
	if (sscanf(s, "%4d%2d%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday) != 3 ||
	    (n >= 12 && sscanf(s + 8, "%2d%2d", &tm.tm_hour, &tm.tm_min) != 2) ||
	    (n == 14 && sscanf(s + 12, "%2d", &tm.tm_sec) != 1))
		return NKHSM_ERR_FORMAT;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	tm.tm_isdst = -1;
	check = tm;
	if ((t = utc ? timegm(&tm) : mktime(&tm)) == (time_t)-1)
		return NKHSM_ERR_FORMAT;
	/* 20241301 or 20240230 would be normalised into another date. */
	if (tm.tm_year != check.tm_year || tm.tm_mon != check.tm_mon ||
	    tm.tm_mday != check.tm_mday || tm.tm_min != check.tm_min ||
	    tm.tm_sec != check.tm_sec)
		return NKHSM_ERR_FORMAT;
	*tp = (int64_t)t;
	return 0;
}

/* The first reason a line is not used wins; later ones are not needed. */
static int
set_why(struct pnk_key *k, const char *why)
{
	if (k->unusable == NULL && (k->unusable = strdup(why)) == NULL)
		return NKHSM_ERR_NOMEM;
	return 0;
}

/* One option, name and (dequoted) value or NULL: what it means here. */
static int
apply_option(struct pnk_key *k, const char *name, const char *value)
{
	char echo[72], why[192];
	int64_t t;

	if (strcasecmp(name, "cert-authority") == 0 && value == NULL)
		return set_why(k, "cert-authority: a CA key, never a login key");
	if (strcasecmp(name, "from") == 0 && value != NULL) {
		if (k->from != NULL)
			return set_why(k, "from= given twice");
		if ((k->from = strdup(value)) == NULL)
			return NKHSM_ERR_NOMEM;
		return 0;
	}
	if (strcasecmp(name, "expiry-time") == 0 && value != NULL) {
		if (pnk_expiry_parse(value, &t) != 0)
			return set_why(k, "malformed expiry-time=");
		if (!k->expires || t < k->expiry)
			k->expiry = t;
		k->expires = 1;
		return 0;
	}
	if (in_list(name, widening, sizeof(widening) / sizeof(widening[0])) &&
	    (value == NULL) == (strcasecmp(name, "environment") != 0))
		return 0;
	nk_echo(echo, sizeof(echo), name, strlen(name));
	if (in_list(name, restricting, sizeof(restricting) /
	    sizeof(restricting[0])))
		snprintf(why, sizeof(why), "option '%s' restricts the key in a "
		    "way pam_nkhsm cannot enforce", echo);
	else
		snprintf(why, sizeof(why), "unknown option '%s'", echo);
	return set_why(k, why);
}

/* A quoted value at *pp: dequoted into out (\" becomes "), *pp past it. */
static int
quoted_value(const char **pp, const char *end, char *out, size_t outlen)
{
	const char *p = *pp + 1;
	size_t o = 0;

	for (; p < end && *p != '"'; p++) {
		if (*p == '\\' && p + 1 < end && p[1] == '"')
			p++;
		if (o + 1 >= outlen)
			return -1;
		out[o++] = *p;
	}
	if (p >= end)
		return -1;
	out[o] = '\0';
	*pp = p + 1;
	return 0;
}

int
pnk_keyopts_parse(const char *s, size_t len, struct pnk_key *k,
    char *errbuf, size_t errlen)
{
	const char *p = s, *end = s + len, *q;
	char name[OPT_NAME_MAX + 1], *value = NULL;
	size_t n;
	int r = NKHSM_ERR_FORMAT;

	if ((value = malloc(OPT_VALUE_MAX + 1)) == NULL)
		return NKHSM_ERR_NOMEM;
	while (p < end) {
		for (q = p; q < end && (isalnum((unsigned char)*q) ||
		    *q == '-' || *q == '_'); q++)
			;
		if ((n = (size_t)(q - p)) == 0 || n > OPT_NAME_MAX) {
			nk_errf(errbuf, errlen, "empty or malformed option");
			goto out;
		}
		memcpy(name, p, n);
		name[n] = '\0';
		p = q;
		if (p < end && *p == '=') {
			p++;
			if (p >= end || *p != '"' ||
			    quoted_value(&p, end, value, OPT_VALUE_MAX + 1) != 0) {
				nk_errf(errbuf, errlen, "option value not in "
				    "closed double quotes");
				goto out;
			}
			r = apply_option(k, name, value);
		} else
			r = apply_option(k, name, NULL);
		if (r != 0)
			goto out;
		r = NKHSM_ERR_FORMAT;
		if (p < end && *p++ != ',') {
			nk_errf(errbuf, errlen, "options not separated by ','");
			goto out;
		}
		if (p == end && p[-1] == ',') {
			nk_errf(errbuf, errlen, "empty or malformed option");
			goto out;
		}
	}
	r = 0;
 out:
	free(value);
	return r;
}

const char *
pnk_key_refusal(const struct pnk_key *k, const char *rhost, int64_t now,
    char *buf, size_t buflen)
{
	char esc[96];
	int m;

	if (k->unusable != NULL)
		return k->unusable;
	if (k->expires && k->expiry < now) {
		snprintf(buf, buflen, "expiry-time has passed");
		return buf;
	}
	if (k->from == NULL)
		return NULL;
	if (rhost == NULL || *rhost == '\0') {
		snprintf(buf, buflen, "from= given, and no remote host");
		return buf;
	}
	if ((m = pnk_from_match(k->from, rhost)) == 1)
		return NULL;
	pnk_escape(rhost, esc, sizeof(esc));
	if (m < 0)
		snprintf(buf, buflen, "from= is not a valid pattern list");
	else
		snprintf(buf, buflen, "from= does not allow the remote host "
		    "'%s'", esc);
	return buf;
}

void
pnk_keys_select(struct pnk_keys *keys, const char *rhost, int64_t now,
    void (*report)(void *, unsigned int, const char *), void *arg)
{
	char buf[256];
	const char *why;
	size_t i, o = 0;

	for (i = 0; i < keys->n; i++) {
		if ((why = pnk_key_refusal(&keys->key[i], rhost, now, buf,
		    sizeof(buf))) == NULL) {
			keys->key[o++] = keys->key[i];
			continue;
		}
		report(arg, keys->key[i].line, why);
		free(keys->key[i].blob);
		free(keys->key[i].fp);
		free(keys->key[i].from);
		free(keys->key[i].unusable);
	}
	keys->n = o;
}
