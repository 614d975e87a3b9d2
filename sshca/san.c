/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * san.c - nkhsm-sshca x509 --san, parsed exactly: "TYPE:value" items
 * separated by single commas, each type allowed by the profile, each value
 * checked by its own grammar. Nothing is trimmed, collapsed or guessed: a
 * control character, an empty item or a value outside its grammar is an
 * error that names the item. Pure: no I/O, no OpenSSL.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "nkhsm.h"
#include "nk-int.h"
#include "san.h"

#define DNS_LABEL_MAX	63
#define DNS_NAME_MAX	253
/* RFC 5322 atext: what an email or UPN local part may hold here. */
#define ATEXT		"!#$%&'*+-/=?^_`{|}~."

static int
is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9');
}

/* Host name labels; a leading "*." only when wildcard is set. */
static int
dns_ok(const char *v, size_t len, int wildcard)
{
	size_t i, label = 0;

	if (wildcard && len > 2 && v[0] == '*' && v[1] == '.') {
		v += 2;
		len -= 2;
	}
	if (len == 0 || len > DNS_NAME_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		if (v[i] == '.') {
			/* No empty label; no label ending in '-'. */
			if (label == 0 || v[i - 1] == '-')
				return 0;
			label = 0;
			continue;
		}
		if (!is_alnum(v[i]) && v[i] != '-')
			return 0;
		if (label == 0 && v[i] == '-')
			return 0;
		if (++label > DNS_LABEL_MAX)
			return 0;
	}
	return label > 0 && v[len - 1] != '-';
}

/* local@domain: atext in the local part, a host name after the '@'. */
static int
mailbox_ok(const char *v, size_t len)
{
	const char *at = memchr(v, '@', len);
	size_t i, local;

	if (at == NULL)
		return 0;
	local = (size_t)(at - v);
	if (local == 0 || local > 64)
		return 0;
	for (i = 0; i < local; i++)
		if (!is_alnum(v[i]) && strchr(ATEXT, v[i]) == NULL)
			return 0;
	if (v[0] == '.' || v[local - 1] == '.')
		return 0;
	return dns_ok(at + 1, len - local - 1, 0);
}

/* An IPv4 or IPv6 address as inet_pton reads it; out gets the bytes. */
static int
ip_parse(const char *v, size_t len, uint8_t *out, size_t *outlenp)
{
	char buf[INET6_ADDRSTRLEN + 1];

	if (len >= sizeof(buf))
		return 0;
	memcpy(buf, v, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, out) == 1) {
		*outlenp = 4;
		return 1;
	}
	if (inet_pton(AF_INET6, buf, out) == 1) {
		*outlenp = 16;
		return 1;
	}
	return 0;
}

static const struct {
	const char	*prefix;
	int		 type;
	int		 profile;
} san_types[] = {
	{ "DNS:", SC_SAN_DNS, SC_SAN_HOST },
	{ "IP:", SC_SAN_IP, SC_SAN_HOST },
	{ "email:", SC_SAN_EMAIL, SC_SAN_USER },
	{ "UPN:", SC_SAN_UPN, SC_SAN_USER },
};

/* One item, "TYPE:value", into *s. */
static int
san_item(const char *item, size_t len, int profile, struct sc_san *s,
    char *errbuf, size_t errlen)
{
	char echo[NK_ECHO_MAX * 4 + 1];
	const char *v;
	size_t i, plen, vlen;
	int ok;

	nk_echo(echo, sizeof(echo), item, len > NK_ECHO_MAX ? NK_ECHO_MAX : len);
	for (i = 0; i < sizeof(san_types) / sizeof(san_types[0]); i++) {
		plen = strlen(san_types[i].prefix);
		if (len > plen && memcmp(item, san_types[i].prefix, plen) == 0)
			break;
	}
	if (i == sizeof(san_types) / sizeof(san_types[0]) ||
	    san_types[i].profile != profile) {
		nk_errf(errbuf, errlen, "--san item '%s': the %s profile takes %s",
		    echo, profile == SC_SAN_HOST ? "host" : "user",
		    profile == SC_SAN_HOST ? "DNS:name and IP:address" :
		    "email:address and UPN:name");
		return NKHSM_ERR_INVALID_ARGUMENT;
	}
	v = item + plen;
	vlen = len - plen;
	if (vlen >= sizeof(s->value)) {
		nk_errf(errbuf, errlen, "--san item '%s...': too long", echo);
		return NKHSM_ERR_INVALID_ARGUMENT;
	}
	memset(s, 0, sizeof(*s));
	s->type = san_types[i].type;
	memcpy(s->value, v, vlen);
	s->value[vlen] = '\0';
	switch (s->type) {
	case SC_SAN_DNS:
		ok = dns_ok(v, vlen, 1);
		break;
	case SC_SAN_IP:
		ok = ip_parse(v, vlen, s->ip, &s->iplen);
		break;
	default:
		ok = mailbox_ok(v, vlen);
		break;
	}
	if (!ok) {
		nk_errf(errbuf, errlen, "--san item '%s': not a valid %.*s name",
		    echo, (int)(plen - 1), san_types[i].prefix);
		return NKHSM_ERR_INVALID_ARGUMENT;
	}
	return 0;
}

int
sc_san_parse(const char *sans, int profile, struct sc_san *out, size_t max,
    size_t *np, char *errbuf, size_t errlen)
{
	const char *p, *e;
	size_t i, j, n = 0, len;
	int r;

	*np = 0;
	if (sans == NULL || *sans == '\0') {
		if (profile == SC_SAN_HOST) {
			nk_errf(errbuf, errlen, "a host certificate needs --san "
			    "DNS:name or IP:address");
			return NKHSM_ERR_INVALID_ARGUMENT;
		}
		return 0;
	}
	if ((len = strlen(sans)) > SC_SAN_MAX) {
		nk_errf(errbuf, errlen, "--san longer than %d bytes", SC_SAN_MAX);
		return NKHSM_ERR_TOO_LARGE;
	}
	for (i = 0; i < len; i++) {
		if ((unsigned char)sans[i] < 0x20 || sans[i] == 0x7f) {
			nk_errf(errbuf, errlen, "--san: control character 0x%02x "
			    "at byte %zu", (unsigned char)sans[i], i + 1);
			return NKHSM_ERR_INVALID_ARGUMENT;
		}
	}
	for (p = sans;; p = e + 1) {
		if ((e = strchr(p, ',')) == NULL)
			e = sans + len;
		if (e == p) {
			nk_errf(errbuf, errlen, "--san: empty item at byte %zu",
			    (size_t)(p - sans) + 1);
			return NKHSM_ERR_INVALID_ARGUMENT;
		}
		if (n >= max) {
			nk_errf(errbuf, errlen, "--san: more than %zu names", max);
			return NKHSM_ERR_TOO_LARGE;
		}
		if ((r = san_item(p, (size_t)(e - p), profile, &out[n], errbuf,
		    errlen)) != 0)
			return r;
		for (j = 0; j < n; j++) {
			if (out[j].type == out[n].type && (out[n].type ==
			    SC_SAN_IP ? out[j].iplen == out[n].iplen &&
			    memcmp(out[j].ip, out[n].ip, out[n].iplen) == 0 :
			    strcmp(out[j].value, out[n].value) == 0)) {
				nk_errf(errbuf, errlen, "--san: %.*s given twice",
				    (int)(e - p > NK_ECHO_MAX ? NK_ECHO_MAX : e - p), p);
				return NKHSM_ERR_INVALID_ARGUMENT;
			}
		}
		n++;
		if (*e == '\0')
			break;
	}
	*np = n;
	return 0;
}

const char *
sc_san_prefix(int type)
{
	size_t i;

	for (i = 0; i < sizeof(san_types) / sizeof(san_types[0]); i++)
		if (san_types[i].type == type)
			return san_types[i].prefix;
	return NULL;
}
