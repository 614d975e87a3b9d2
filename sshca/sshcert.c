/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sshcert.c - OpenSSH certificates (draft-ietf-sshm-cert, formerly
 * PROTOCOL.certkeys): subject keys, requests (-I -n -V -O as ssh-keygen),
 * and the encoding of the signed part. Pure: no I/O, no token.
 */
#include "config.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "nkhsm.h"
#include "nk-int.h"
#include "buf.h"
#include "sshca.h"

#define CERT_SUFFIX	"-cert-v01@openssh.com"

void
sc_pubkey_free(struct sc_pubkey *pk)
{
	if (pk == NULL)
		return;
	free(pk->blob);
	free(pk->fp);
	free(pk->comment);
	memset(pk, 0, sizeof(*pk));
}

int
sc_pubkey_parse(const char *line, unsigned int flags, struct sc_pubkey *pk,
    char *errbuf, size_t errlen)
{
	const char *type, *b64, *comment;
	const uint8_t *bt;
	size_t tlen, blen, btlen, clen, i;
	struct nk_buf b;
	char why[256];
	int r = NKHSM_ERR_FORMAT;

	memset(pk, 0, sizeof(*pk));
	if (line == NULL || strlen(line) > NKHSM_PUBKEY_LINE_MAX * 4) {
		nk_errf(errbuf, errlen, "not a public key line");
		return NKHSM_ERR_FORMAT;
	}
	nk_ssh_line_split(line, &type, &tlen, &b64, &blen, &comment, &clen);
	if (tlen == 0 || blen == 0 || tlen >= sizeof(pk->type)) {
		nk_errf(errbuf, errlen, "not a public key line (TYPE BASE64 [comment])");
		return NKHSM_ERR_FORMAT;
	}
	for (i = 0; i < tlen; i++) {
		if (type[i] <= 0x20 || type[i] >= 0x7f) {
			nk_errf(errbuf, errlen, "not a public key line (the type "
			    "has a control character)");
			return NKHSM_ERR_FORMAT;
		}
	}
	memcpy(pk->type, type, tlen);
	pk->type[tlen] = '\0';
	if (tlen > strlen(CERT_SUFFIX) &&
	    strcmp(pk->type + tlen - strlen(CERT_SUFFIX), CERT_SUFFIX) == 0) {
		nk_errf(errbuf, errlen, "%s is a certificate, not a public key",
		    pk->type);
		goto fail;
	}
	if ((r = nk_b64_decode(b64, blen, &pk->blob, &pk->bloblen)) != 0) {
		nk_errf(errbuf, errlen, "the key is not valid base64");
		r = r == NKHSM_ERR_NOMEM ? r : NKHSM_ERR_FORMAT;
		goto fail;
	}
	nk_buf_from(&b, pk->blob, pk->bloblen);
	if (nk_buf_get_string_direct(&b, &bt, &btlen) != 0 || btlen != tlen ||
	    memcmp(bt, type, tlen) != 0) {
		nk_errf(errbuf, errlen, "the key blob is not of type %s", pk->type);
		r = NKHSM_ERR_FORMAT;
		goto fail;
	}
	if (strncmp(pk->type, "ecdsa-sha2-nistp", 16) != 0 &&
	    strcmp(pk->type, "ssh-ed25519") != 0 &&
	    strcmp(pk->type, "ssh-rsa") != 0) {
		nk_errf(errbuf, errlen, "unsupported key type %s", pk->type);
		r = NKHSM_ERR_UNSUPPORTED;
		goto fail;
	}
	/* The checks every reader of a key shares (libnkhsm). */
	why[0] = '\0';
	r = nkhsm_sshkey_check(pk->blob, pk->bloblen, &pk->bits, why,
	    sizeof(why));
	if (r == NKHSM_ERR_WEAK_KEY && (flags & SC_PUBKEY_WEAK_OK))
		r = 0;
	if (r != 0) {
		nk_errf(errbuf, errlen, "%s %s key: %s", r ==
		    NKHSM_ERR_UNSUPPORTED ? "unsupported" : "invalid", pk->type,
		    why);
		goto fail;
	}
	if ((r = nkhsm_blob_fingerprint(pk->blob, pk->bloblen, &pk->fp)) != 0)
		goto fail;
	if ((pk->comment = malloc(clen + 1)) == NULL) {
		r = NKHSM_ERR_NOMEM;
		goto fail;
	}
	memcpy(pk->comment, comment, clen);
	pk->comment[clen] = '\0';
	return 0;
 fail:
	sc_pubkey_free(pk);
	return r;
}

/* Blank, or a '#' comment. */
static int
line_is_blank(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r'); i++)
		;
	return i == len || s[i] == '#';
}

int
sc_pubkey_file(const char *name, const char *text, size_t len,
    unsigned int flags, struct sc_pubkey *pk, char *errbuf, size_t errlen)
{
	struct nk_lines it;
	const char *line;
	size_t n, keyline = 0;
	char *copy = NULL, why[512];
	int r;

	memset(pk, 0, sizeof(*pk));
	nk_lines_init(&it, text, len);
	while ((r = nk_lines_next(&it, name, NKHSM_PUBKEY_LINE_MAX * 4, &line,
	    &n, errbuf, errlen)) == 1) {
		if (line_is_blank(line, n))
			continue;
		if (keyline != 0) {
			nk_errf(errbuf, errlen, "%s:%zu: a second public key (one "
			    "key per file; the first is on line %zu)", name,
			    it.lineno, keyline);
			r = NKHSM_ERR_FORMAT;
			goto out;
		}
		keyline = it.lineno;
		if ((copy = strndup(line, n)) == NULL) {
			r = NKHSM_ERR_NOMEM;
			goto out;
		}
		why[0] = '\0';
		if ((r = sc_pubkey_parse(copy, flags, pk, why, sizeof(why))) != 0) {
			nk_errf(errbuf, errlen, "%s:%zu: %s", name, keyline, why);
			goto out;
		}
	}
	if (r != 0) {
		r = r == NKHSM_ERR_CONFIG ? NKHSM_ERR_FORMAT : r;
		goto out;
	}
	if (keyline == 0) {
		nk_errf(errbuf, errlen, "%s: not a public key line (the file "
		    "has none)", name);
		r = NKHSM_ERR_FORMAT;
		goto out;
	}
	r = 0;
 out:
	if (r != 0)
		sc_pubkey_free(pk);
	free(copy);
	return r;
}

void
sc_certreq_init(struct sc_certreq *req, int type)
{
	memset(req, 0, sizeof(*req));
	req->type = type;
}

void
sc_certreq_free(struct sc_certreq *req)
{
	size_t i;

	if (req == NULL)
		return;
	free(req->key_id);
	for (i = 0; i < req->nprincipals; i++)
		free(req->principals[i]);
	free(req->principals);
	for (i = 0; i < req->ncrit; i++) {
		free(req->crit[i].name);
		free(req->crit[i].value);
	}
	for (i = 0; i < req->next; i++) {
		free(req->ext[i].name);
		free(req->ext[i].value);
	}
	memset(req, 0, sizeof(*req));
}

/* Printable ASCII or UTF-8, no control characters, no commas. */
static int
name_ok(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f || c == ',')
			return 0;
	}
	return 1;
}

int
sc_parse_principals(struct sc_certreq *req, const char *list, char *errbuf,
    size_t errlen)
{
	const char *p = list, *e;
	size_t n, i;
	char *name, echo[NK_ECHO_MAX * 4 + 1];

	if (list == NULL || *list == '\0') {
		nk_errf(errbuf, errlen, "no principals (-n): refusing a "
		    "certificate valid for any name");
		return NKHSM_ERR_INVALID_ARGUMENT;
	}
	if ((req->principals = calloc(SC_PRINCIPALS_MAX,
	    sizeof(*req->principals))) == NULL)
		return NKHSM_ERR_NOMEM;
	for (;;) {
		e = strchr(p, ',');
		n = e != NULL ? (size_t)(e - p) : strlen(p);
		if (n == 0) {
			nk_errf(errbuf, errlen, "empty principal in '%.64s'", list);
			return NKHSM_ERR_INVALID_ARGUMENT;
		}
		if (n > SC_PRINCIPAL_LEN_MAX || !name_ok(p, n)) {
			nk_echo(echo, sizeof(echo), p, n > 64 ? 64 : n);
			nk_errf(errbuf, errlen, "principal '%s' is too long or "
			    "has control characters", echo);
			return NKHSM_ERR_INVALID_ARGUMENT;
		}
		if (req->type == SC_CERT_HOST && !req->allow_host_wildcard &&
		    (memchr(p, '*', n) != NULL || memchr(p, '?', n) != NULL)) {
			nk_errf(errbuf, errlen, "host principal '%.*s' is a pattern: "
			    "an OpenSSH that matches host principals as patterns "
			    "would take it for every host name it matches "
			    "(--allow-host-wildcard to mean it)",
			    (int)(n > 64 ? 64 : n), p);
			return NKHSM_ERR_INVALID_ARGUMENT;
		}
		if (req->nprincipals >= SC_PRINCIPALS_MAX) {
			nk_errf(errbuf, errlen, "more than %d principals",
			    SC_PRINCIPALS_MAX);
			return NKHSM_ERR_TOO_LARGE;
		}
		for (i = 0; i < req->nprincipals; i++) {
			if (strlen(req->principals[i]) == n &&
			    memcmp(req->principals[i], p, n) == 0) {
				nk_errf(errbuf, errlen, "principal '%.*s' given twice",
				    (int)(n > 64 ? 64 : n), p);
				return NKHSM_ERR_INVALID_ARGUMENT;
			}
		}
		if ((name = strndup(p, n)) == NULL)
			return NKHSM_ERR_NOMEM;
		req->principals[req->nprincipals++] = name;
		if (e == NULL)
			break;
		p = e + 1;
	}
	return 0;
}

static const char *const default_ext[] = {
	"permit-X11-forwarding", "permit-agent-forwarding",
	"permit-port-forwarding", "permit-pty", "permit-user-rc",
};
#define NDEFAULT_EXT (sizeof(default_ext) / sizeof(default_ext[0]))

static int
find_opt(const struct sc_option *o, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(o[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int
add_opt(struct sc_option *o, size_t *n, const char *name, const char *value,
    char *errbuf, size_t errlen)
{
	int i;

	if ((i = find_opt(o, *n, name)) >= 0) {
		/* A repeated flag is harmless; a second value is ambiguous. */
		if (value == NULL && o[i].value == NULL)
			return 0;
		nk_errf(errbuf, errlen, "option %s given twice", name);
		return NKHSM_ERR_INVALID_ARGUMENT;
	}
	if (*n >= SC_OPTIONS_MAX) {
		nk_errf(errbuf, errlen, "too many options");
		return NKHSM_ERR_TOO_LARGE;
	}
	if ((o[*n].name = strdup(name)) == NULL ||
	    (value != NULL && (o[*n].value = strdup(value)) == NULL)) {
		free(o[*n].name);
		o[*n].name = NULL;
		return NKHSM_ERR_NOMEM;
	}
	(*n)++;
	return 0;
}

static void
del_opt(struct sc_option *o, size_t *n, const char *name)
{
	int i;

	if ((i = find_opt(o, *n, name)) < 0)
		return;
	free(o[i].name);
	free(o[i].value);
	memmove(&o[i], &o[i + 1], (*n - (size_t)i - 1) * sizeof(*o));
	(*n)--;
}

/*
 * The default extensions that no -O no-* or clear removed (clear_ext holds
 * one bit per default_ext entry); applied after all -O options.
 */
int
sc_apply_default_extensions(struct sc_certreq *req)
{
	size_t i;
	int r;

	if (req->type != SC_CERT_USER)
		return 0;
	for (i = 0; i < NDEFAULT_EXT; i++) {
		if (req->clear_ext & (1 << i))
			continue;
		if ((r = add_opt(req->ext, &req->next, default_ext[i], NULL,
		    NULL, 0)) != 0)
			return r;
	}
	return 0;
}

/* source-address: comma-separated addresses or CIDR blocks. */
static int
cidr_list_ok(const char *v)
{
	size_t n;

	if (*v == '\0' || strlen(v) > SC_OPTION_LEN_MAX)
		return 0;
	for (; *v != '\0'; v += n) {
		n = strspn(v, "0123456789abcdefABCDEF.:/");
		if (n == 0)
			return 0;
		if (v[n] == ',') {
			if (v[n + 1] == '\0')
				return 0;
			n++;
		} else if (v[n] != '\0')
			return 0;
	}
	return 1;
}

int
sc_parse_option(struct sc_certreq *req, const char *opt, char *errbuf,
    size_t errlen)
{
	static const struct {
		const char	*no;
		int		 bit;
	} nos[] = {
		{ "no-x11-forwarding", 0 }, { "no-agent-forwarding", 1 },
		{ "no-port-forwarding", 2 }, { "no-pty", 3 }, { "no-user-rc", 4 },
	};
	const char *eq = strchr(opt, '=');
	size_t i;

	if (strlen(opt) > SC_OPTION_LEN_MAX) {
		nk_errf(errbuf, errlen, "option too long");
		return NKHSM_ERR_TOO_LARGE;
	}
	for (i = 0; opt[i] != '\0'; i++) {
		if ((unsigned char)opt[i] < 0x20 || opt[i] == 0x7f) {
			nk_errf(errbuf, errlen, "-O: control character 0x%02x at "
			    "byte %zu: not allowed in an option", (unsigned char)opt[i],
			    i + 1);
			return NKHSM_ERR_INVALID_ARGUMENT;
		}
	}
	if (req->type == SC_CERT_HOST) {
		nk_errf(errbuf, errlen, "-O %.64s: host certificates take no "
		    "options (a critical option would get them rejected)", opt);
		return NKHSM_ERR_INVALID_ARGUMENT;
	}
	if (strcmp(opt, "clear") == 0) {
		req->clear_ext = (1 << NDEFAULT_EXT) - 1;
		for (i = 0; i < NDEFAULT_EXT; i++)
			del_opt(req->ext, &req->next, default_ext[i]);
		return 0;
	}
	for (i = 0; i < sizeof(nos) / sizeof(nos[0]); i++) {
		if (strcmp(opt, nos[i].no) == 0) {
			req->clear_ext |= 1 << nos[i].bit;
			del_opt(req->ext, &req->next, default_ext[nos[i].bit]);
			return 0;
		}
	}
	for (i = 0; i < NDEFAULT_EXT; i++) {
		if (strcasecmp(opt, default_ext[i]) == 0) {
			req->clear_ext &= ~(1 << i);
			return add_opt(req->ext, &req->next, default_ext[i], NULL,
			    errbuf, errlen);
		}
	}
	if (strcmp(opt, "no-touch-required") == 0)
		return add_opt(req->ext, &req->next, opt, NULL, errbuf, errlen);
	if (strcmp(opt, "verify-required") == 0)
		return add_opt(req->crit, &req->ncrit, opt, NULL, errbuf, errlen);
	if (eq != NULL && strncmp(opt, "force-command=", 14) == 0) {
		if (eq[1] == '\0') {
			nk_errf(errbuf, errlen, "force-command needs a command");
			return NKHSM_ERR_INVALID_ARGUMENT;
		}
		return add_opt(req->crit, &req->ncrit, "force-command", eq + 1,
		    errbuf, errlen);
	}
	if (eq != NULL && strncmp(opt, "source-address=", 15) == 0) {
		if (!cidr_list_ok(eq + 1)) {
			nk_errf(errbuf, errlen, "source-address: '%.64s' is not a "
			    "list of addresses/CIDR blocks", eq + 1);
			return NKHSM_ERR_INVALID_ARGUMENT;
		}
		return add_opt(req->crit, &req->ncrit, "source-address", eq + 1,
		    errbuf, errlen);
	}
	nk_errf(errbuf, errlen, "unknown option -O %.64s", opt);
	return NKHSM_ERR_INVALID_ARGUMENT;
}

/* "+1h30m", "-5m": seconds, signed. */
static int
parse_interval(const char *s, size_t len, long long *out)
{
	long long total = 0, v, mult;
	size_t i = 1;
	int sign;

	if (len < 2 || (s[0] != '+' && s[0] != '-'))
		return -1;
	sign = s[0] == '-' ? -1 : 1;
	while (i < len) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		for (v = 0; i < len && isdigit((unsigned char)s[i]); i++) {
			if (v > 1000000000LL)
				return -1;
			v = v * 10 + (s[i] - '0');
		}
		mult = 1;
		if (i < len && !isdigit((unsigned char)s[i])) {
			switch (s[i]) {
			case 's': case 'S': mult = 1; break;
			case 'm': case 'M': mult = 60; break;
			case 'h': case 'H': mult = 3600; break;
			case 'd': case 'D': mult = 86400; break;
			case 'w': case 'W': mult = 7 * 86400; break;
			default: return -1;
			}
			i++;
		}
		total += v * mult;
		if (total > 100LL * 366 * 86400)
			return -1;
	}
	*out = sign * total;
	return 0;
}

/* YYYYMMDD[HHMM[SS]][Z], UTC. */
static int
parse_abs(const char *s, size_t len, uint64_t *out)
{
	struct tm tm, want;
	char buf[16];
	time_t t;
	size_t i;

	if (len > 0 && (s[len - 1] == 'Z' || s[len - 1] == 'z'))
		len--;
	if (len != 8 && len != 12 && len != 14)
		return -1;
	for (i = 0; i < len; i++)
		if (!isdigit((unsigned char)s[i]))
			return -1;
	memset(&tm, 0, sizeof(tm));
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (sscanf(buf, "%4d%2d%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday) != 3)
		return -1;
	if (len >= 12 && sscanf(buf + 8, "%2d%2d", &tm.tm_hour, &tm.tm_min) != 2)
		return -1;
	if (len == 14 && sscanf(buf + 12, "%2d", &tm.tm_sec) != 1)
		return -1;
	if (tm.tm_year < 1970 || tm.tm_year > 9999 || tm.tm_mon < 1 ||
	    tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
	    tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 59)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	want = tm;
	if ((t = timegm(&tm)) == (time_t)-1)
		return -1;
	/* timegm normalizes: 20260231 would become March 3. Refuse that. */
	if (gmtime_r(&t, &tm) == NULL || tm.tm_mday != want.tm_mday ||
	    tm.tm_mon != want.tm_mon || tm.tm_year != want.tm_year)
		return -1;
	*out = (uint64_t)t;
	return 0;
}

static int
parse_time(const char *s, size_t len, time_t now, int is_start, uint64_t *out)
{
	long long d;

	if (len == 6 && memcmp(s, "always", 6) == 0 && is_start) {
		*out = 0;
		return 0;
	}
	if (len == 7 && memcmp(s, "forever", 7) == 0 && !is_start) {
		*out = SC_FOREVER;
		return 0;
	}
	if (len > 0 && (s[0] == '+' || s[0] == '-')) {
		if (parse_interval(s, len, &d) != 0 || (long long)now + d < 0)
			return -1;
		*out = (uint64_t)((long long)now + d);
		return 0;
	}
	return parse_abs(s, len, out);
}

int
sc_parse_validity(const char *s, time_t now, uint64_t *fromp, uint64_t *top,
    char *errbuf, size_t errlen)
{
	const char *colon;
	uint64_t from, to;

	*fromp = *top = 0;
	if (s == NULL || *s == '\0' || strlen(s) > 64)
		goto bad;
	if (strcmp(s, "forever") == 0) {
		*fromp = 0;
		*top = SC_FOREVER;
		return 0;
	}
	if ((colon = strchr(s, ':')) != NULL) {
		if (parse_time(s, (size_t)(colon - s), now, 1, &from) != 0 ||
		    parse_time(colon + 1, strlen(colon + 1), now, 0, &to) != 0)
			goto bad;
	} else {
		from = (uint64_t)now;
		if (parse_time(s, strlen(s), now, 0, &to) != 0)
			goto bad;
	}
	if (to <= from) {
		nk_errf(errbuf, errlen, "-V %s: the certificate would never be valid",
		    s);
		return NKHSM_ERR_INVALID_ARGUMENT;
	}
	if (to <= (uint64_t)now) {
		nk_errf(errbuf, errlen, "-V %s: the validity has already ended",
		    s);
		return NKHSM_ERR_INVALID_ARGUMENT;
	}
	*fromp = from;
	*top = to;
	return 0;
 bad:
	nk_errf(errbuf, errlen, "-V %.64s: use +1h, -5m:+1d, YYYYMMDD[HHMM[SS]], "
	    "always:TIME or forever", s != NULL ? s : "");
	return NKHSM_ERR_INVALID_ARGUMENT;
}

static int
optcmp(const void *a, const void *b)
{
	const struct sc_option *x = a, *y = b;

	return strcmp(x->name, y->name);	/* byte order, as required */
}

/* string(name) string(data); data is empty for flags, string(value) else. */
static int
put_options(struct nk_buf *out, const struct sc_option *opts, size_t n)
{
	struct sc_option sorted[SC_OPTIONS_MAX];
	struct nk_buf b, v;
	size_t i;
	int r;

	if (n > SC_OPTIONS_MAX)
		return NKHSM_ERR_TOO_LARGE;
	memcpy(sorted, opts, n * sizeof(*opts));
	qsort(sorted, n, sizeof(*sorted), optcmp);
	nk_buf_init(&b);
	nk_buf_init(&v);
	for (i = 0, r = 0; r == 0 && i < n; i++) {
		if (i > 0 && strcmp(sorted[i - 1].name, sorted[i].name) == 0) {
			r = NKHSM_ERR_INVALID_ARGUMENT;	/* names are unique */
			break;
		}
		nk_buf_free(&v);
		nk_buf_init(&v);
		if ((r = nk_buf_put_cstring(&b, sorted[i].name)) != 0)
			break;
		if (sorted[i].value != NULL) {
			if ((r = nk_buf_put_cstring(&v, sorted[i].value)) != 0 ||
			    (r = nk_buf_put_string(&b, nk_buf_ptr(&v),
			    nk_buf_avail(&v))) != 0)
				break;
		} else
			r = nk_buf_put_string(&b, NULL, 0);
	}
	if (r == 0)
		r = nk_buf_put_string(out, nk_buf_ptr(&b), nk_buf_avail(&b));
	nk_buf_free(&b);
	nk_buf_free(&v);
	return r;
}

int
sc_cert_tbs(const struct sc_certreq *req, const struct sc_pubkey *subject,
    const uint8_t *ca_blob, size_t ca_len, const uint8_t *nonce,
    uint8_t **tbsp, size_t *lenp)
{
	struct nk_buf b, sb, pr;
	char certtype[sizeof(subject->type) + sizeof(CERT_SUFFIX)];
	size_t i;
	int r;

	*tbsp = NULL;
	*lenp = 0;
	if (req->serial == 0 || req->nprincipals == 0 || req->key_id == NULL ||
	    (req->type != SC_CERT_USER && req->type != SC_CERT_HOST) ||
	    req->valid_before <= req->valid_after ||
	    (req->type == SC_CERT_HOST && req->ncrit > 0))
		return NKHSM_ERR_INVALID_ARGUMENT;
	nk_buf_init(&b);
	nk_buf_init(&pr);
	snprintf(certtype, sizeof(certtype), "%s%s", subject->type, CERT_SUFFIX);
	/* The subject key's fields follow its type string in the blob. */
	nk_buf_from(&sb, subject->blob, subject->bloblen);
	if ((r = nk_buf_get_string_direct(&sb, NULL, NULL)) != 0)
		goto out;
	if ((r = nk_buf_put_cstring(&b, certtype)) != 0 ||
	    (r = nk_buf_put_string(&b, nonce, SC_NONCE_LEN)) != 0 ||
	    (r = nk_buf_put(&b, nk_buf_ptr(&sb), nk_buf_avail(&sb))) != 0 ||
	    (r = nk_buf_put_u64(&b, req->serial)) != 0 ||
	    (r = nk_buf_put_u32(&b, (uint32_t)req->type)) != 0 ||
	    (r = nk_buf_put_cstring(&b, req->key_id)) != 0)
		goto out;
	for (i = 0; i < req->nprincipals; i++)
		if ((r = nk_buf_put_cstring(&pr, req->principals[i])) != 0)
			goto out;
	if ((r = nk_buf_put_string(&b, nk_buf_ptr(&pr), nk_buf_avail(&pr))) != 0 ||
	    (r = nk_buf_put_u64(&b, req->valid_after)) != 0 ||
	    (r = nk_buf_put_u64(&b, req->valid_before)) != 0 ||
	    (r = put_options(&b, req->crit, req->ncrit)) != 0 ||
	    (r = put_options(&b, req->ext, req->next)) != 0 ||
	    (r = nk_buf_put_string(&b, NULL, 0)) != 0 ||	/* reserved */
	    (r = nk_buf_put_string(&b, ca_blob, ca_len)) != 0 ||
	    (r = nk_buf_steal(&b, tbsp, lenp)) != 0)
		goto out;
 out:
	nk_buf_free(&b);
	nk_buf_free(&pr);
	return r;
}

int
sc_cert_line(const uint8_t *tbs, size_t tbslen, const uint8_t *sig,
    size_t siglen, const char *comment, char **linep, uint8_t **certp,
    size_t *certlenp)
{
	struct nk_buf b, tb;
	const uint8_t *type;
	size_t tlen;
	uint8_t *cert = NULL;
	size_t certlen = 0;
	char *b64 = NULL;
	int r;

	*linep = NULL;
	if (certp != NULL)
		*certp = NULL;
	nk_buf_init(&b);
	nk_buf_from(&tb, tbs, tbslen);
	if ((r = nk_buf_get_string_direct(&tb, &type, &tlen)) != 0 ||
	    (r = nk_buf_put(&b, tbs, tbslen)) != 0 ||
	    (r = nk_buf_put_string(&b, sig, siglen)) != 0 ||
	    (r = nk_buf_steal(&b, &cert, &certlen)) != 0 ||
	    (r = nk_b64_encode(cert, certlen, 1, &b64)) != 0)
		goto out;
	if (asprintf(linep, "%.*s %s%s%s", (int)tlen, (const char *)type, b64,
	    comment != NULL && *comment != '\0' ? " " : "",
	    comment != NULL ? comment : "") == -1) {
		*linep = NULL;
		r = NKHSM_ERR_NOMEM;
		goto out;
	}
	if (certp != NULL) {
		*certp = cert;
		*certlenp = certlen;
		cert = NULL;
	}
	r = 0;
 out:
	nk_buf_free(&b);
	free(cert);
	free(b64);
	return r;
}
