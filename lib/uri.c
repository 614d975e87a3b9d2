/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * uri.c - RFC 7512 PKCS#11 URIs: a strict parser and a canonical formatter.
 *
 * Everything the RFC does not allow is an error, so that a typo never turns
 * a narrow selector into "any token". pin-value is refused outright: a PIN
 * does not belong in a string that ends up in logs and process listings.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nk-int.h"

#define URI_SCHEME	"pkcs11:"

enum uri_attr {
	URI_TOKEN = 0,
	URI_MANUFACTURER,
	URI_SERIAL,
	URI_MODEL,
	URI_OBJECT,
	URI_ID,
	URI_TYPE,
	URI_SLOT_ID,
	URI_SLOT_DESCRIPTION,
	URI_SLOT_MANUFACTURER,
	URI_LIB_MANUFACTURER,
	URI_LIB_DESCRIPTION,
	URI_LIB_VERSION,
	URI_PIN_SOURCE,
	URI_MODULE_PATH,
	URI_MODULE_NAME,
	URI_NATTR
};

enum uri_kind {
	KIND_TEXT,		/* any bytes but NUL */
	KIND_PATHNAME,		/* text, not empty (module-path, pin-source) */
	KIND_ID,		/* any bytes, 1..NKHSM_ID_MAX */
	KIND_TYPE,
	KIND_SLOT_ID,
	KIND_VERSION,
};

struct uri_attrdef {
	const char	*name;
	enum uri_attr	 attr;
	enum uri_kind	 kind;
	int		 query;		/* 1: query component, 0: path */
};

static const struct uri_attrdef uri_attrdefs[] = {
	{ "token",		 URI_TOKEN,		KIND_TEXT,	0 },
	{ "manufacturer",	 URI_MANUFACTURER,	KIND_TEXT,	0 },
	{ "serial",		 URI_SERIAL,		KIND_TEXT,	0 },
	{ "model",		 URI_MODEL,		KIND_TEXT,	0 },
	{ "object",		 URI_OBJECT,		KIND_TEXT,	0 },
	{ "id",			 URI_ID,		KIND_ID,	0 },
	{ "type",		 URI_TYPE,		KIND_TYPE,	0 },
	{ "slot-id",		 URI_SLOT_ID,		KIND_SLOT_ID,	0 },
	{ "slot-description",	 URI_SLOT_DESCRIPTION,	KIND_TEXT,	0 },
	{ "slot-manufacturer",	 URI_SLOT_MANUFACTURER,	KIND_TEXT,	0 },
	{ "library-manufacturer", URI_LIB_MANUFACTURER,	KIND_TEXT,	0 },
	{ "library-description", URI_LIB_DESCRIPTION,	KIND_TEXT,	0 },
	{ "library-version",	 URI_LIB_VERSION,	KIND_VERSION,	0 },
	{ "pin-source",		 URI_PIN_SOURCE,	KIND_PATHNAME,	1 },
	{ "module-path",	 URI_MODULE_PATH,	KIND_PATHNAME,	1 },
	{ "module-name",	 URI_MODULE_NAME,	KIND_PATHNAME,	1 },
};

static const struct {
	const char	*name;
	nkhsm_objtype_t	 type;
} uri_types[] = {
	{ "private",	NKHSM_OBJ_PRIVATE },
	{ "public",	NKHSM_OBJ_PUBLIC },
	{ "cert",	NKHSM_OBJ_CERT },
	{ "secret-key",	NKHSM_OBJ_SECRET },
	{ "data",	NKHSM_OBJ_DATA },
};

struct nkhsm_uri {
	char		*text[URI_NATTR];	/* decoded text attributes */
	int		 seen[URI_NATTR];
	uint8_t		*id;
	size_t		 idlen;
	nkhsm_objtype_t	 type;
	unsigned long	 slot_id;
};

/* RFC 3986 unreserved. */
static int
is_unreserved(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' ||
	    c == '~';
}

/* pk11-res-avail */
static int
is_res_avail(int c)
{
	return c != '\0' && strchr(":[]@!$'()*+,=", c) != NULL;
}

/* pk11-pchar (path) or pk11-qchar (query), without pct-encoded. */
static int
is_plain_char(int c, int query)
{
	if (is_unreserved(c) || is_res_avail(c))
		return 1;
	if (query)
		return c == '/' || c == '?' || c == '|';
	return c == '&';
}

/*
 * Check that s[0..len) holds only characters allowed in this component and
 * well-formed %XX escapes; decode into out (at least len bytes).
 */
static int
pct_decode(const char *s, size_t len, int query, uint8_t *out,
    size_t *outlenp, const char **errp)
{
	size_t i, n = 0;
	int hi, lo;

	for (i = 0; i < len; i++) {
		if (s[i] != '%') {
			if (!is_plain_char((unsigned char)s[i], query)) {
				*errp = "character must be percent-encoded";
				return NKHSM_ERR_URI;
			}
			out[n++] = (uint8_t)s[i];
			continue;
		}
		if (len - i < 3 || (hi = nk_hexval((unsigned char)s[i + 1])) < 0 ||
		    (lo = nk_hexval((unsigned char)s[i + 2])) < 0) {
			*errp = "malformed percent-encoding";
			return NKHSM_ERR_URI;
		}
		out[n++] = (uint8_t)(hi << 4 | lo);
		i += 2;
	}
	*outlenp = n;
	return 0;
}

/* Decimal unsigned long: digits only, no sign, no overflow. */
static int
parse_ulong(const uint8_t *v, size_t len, unsigned long *np)
{
	unsigned long n = 0;
	size_t i;
	unsigned int d;

	if (len == 0)
		return -1;
	for (i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		d = v[i] - '0';
		if (n > (ULONG_MAX - d) / 10)
			return -1;
		n = n * 10 + d;
	}
	*np = n;
	return 0;
}

/* library-version = 1*DIGIT *1("." 1*DIGIT) */
static int
valid_version(const uint8_t *v, size_t len)
{
	size_t i, digits = 0;
	int dot = 0;

	for (i = 0; i < len; i++) {
		if (v[i] >= '0' && v[i] <= '9') {
			digits++;
			continue;
		}
		if (v[i] != '.' || dot || digits == 0)
			return 0;
		dot = 1;
		digits = 0;
	}
	return digits > 0;
}

/* x- 1*(ALPHA / DIGIT / "-" / "_") */
static int
is_vendor_name(const char *name, size_t len)
{
	size_t i;
	int c;

	if (len < 3 || name[0] != 'x' || name[1] != '-')
		return 0;
	for (i = 2; i < len; i++) {
		c = (unsigned char)name[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return 0;
	}
	return 1;
}

static const struct uri_attrdef *
lookup_attr(const char *name, size_t len, int query)
{
	size_t i;

	for (i = 0; i < sizeof(uri_attrdefs) / sizeof(uri_attrdefs[0]); i++) {
		if (uri_attrdefs[i].query == query &&
		    strlen(uri_attrdefs[i].name) == len &&
		    memcmp(uri_attrdefs[i].name, name, len) == 0)
			return &uri_attrdefs[i];
	}
	return NULL;
}

static int
set_value(nkhsm_uri_t *uri, const struct uri_attrdef *def, uint8_t *v,
    size_t len, const char **errp)
{
	size_t i;
	char *text = NULL;

	switch (def->kind) {
	case KIND_ID:
		if (len == 0) {
			*errp = "empty id";
			return NKHSM_ERR_URI;
		}
		if (len > NKHSM_ID_MAX) {
			*errp = "id too long";
			return NKHSM_ERR_URI;
		}
		if ((uri->id = malloc(len)) == NULL)
			return NKHSM_ERR_NOMEM;
		memcpy(uri->id, v, len);
		uri->idlen = len;
		return 0;
	case KIND_TYPE:
		for (i = 0; i < sizeof(uri_types) / sizeof(uri_types[0]); i++) {
			if (strlen(uri_types[i].name) == len &&
			    memcmp(uri_types[i].name, v, len) == 0) {
				uri->type = uri_types[i].type;
				return 0;
			}
		}
		*errp = "invalid type";
		return NKHSM_ERR_URI;
	case KIND_SLOT_ID:
		if (parse_ulong(v, len, &uri->slot_id) != 0) {
			*errp = "invalid slot-id";
			return NKHSM_ERR_URI;
		}
		return 0;
	case KIND_VERSION:
		if (!valid_version(v, len)) {
			*errp = "invalid library-version";
			return NKHSM_ERR_URI;
		}
		break;
	case KIND_PATHNAME:
		if (len == 0) {
			*errp = "empty query attribute value";
			return NKHSM_ERR_URI;
		}
		break;
	case KIND_TEXT:
		break;
	}
	if (memchr(v, '\0', len) != NULL) {
		*errp = "NUL in attribute value";
		return NKHSM_ERR_URI;
	}
	if ((text = malloc(len + 1)) == NULL)
		return NKHSM_ERR_NOMEM;
	memcpy(text, v, len);
	text[len] = '\0';
	uri->text[def->attr] = text;
	return 0;
}

/* One "name=value" of the path (query == 0) or the query (query == 1). */
static int
parse_attr(nkhsm_uri_t *uri, const char *s, size_t len, int query,
    uint8_t *scratch, const char **errp)
{
	const struct uri_attrdef *def;
	const char *eq;
	size_t namelen, vlen;
	int r;

	if (len == 0) {
		*errp = query ? "empty query attribute" : "empty path attribute";
		return NKHSM_ERR_URI;
	}
	if ((eq = memchr(s, '=', len)) == NULL) {
		*errp = "attribute without '='";
		return NKHSM_ERR_URI;
	}
	namelen = (size_t)(eq - s);
	def = lookup_attr(s, namelen, query);
	if (def == NULL && !is_vendor_name(s, namelen)) {
		if (query && namelen == 9 && memcmp(s, "pin-value", 9) == 0)
			*errp = "pin-value is not accepted (use pin-source)";
		else
			*errp = query ? "unknown query attribute" :
			    "unknown path attribute";
		return NKHSM_ERR_URI;
	}
	if ((r = pct_decode(eq + 1, len - namelen - 1, query, scratch, &vlen,
	    errp)) != 0)
		return r;
	if (def == NULL)
		return 0;	/* vendor-specific: checked, then ignored */
	if (uri->seen[def->attr]) {
		*errp = "duplicate attribute";
		return NKHSM_ERR_URI;
	}
	uri->seen[def->attr] = 1;
	return set_value(uri, def, scratch, vlen, errp);
}

/* Split s[0..len) at sep and parse each piece. */
static int
parse_component(nkhsm_uri_t *uri, const char *s, size_t len, int sep,
    int query, uint8_t *scratch, const char **errp)
{
	const char *end = s + len, *p;
	int r;

	if (len == 0)
		return 0;
	for (;;) {
		if ((p = memchr(s, sep, (size_t)(end - s))) == NULL)
			p = end;
		if ((r = parse_attr(uri, s, (size_t)(p - s), query, scratch,
		    errp)) != 0)
			return r;
		if (p == end)
			return 0;
		s = p + 1;
	}
}

int
nkhsm_uri_parse(const char *s, nkhsm_uri_t **urip, const char **errp)
{
	nkhsm_uri_t *uri = NULL;
	uint8_t *scratch = NULL;
	const char *why = NULL, *path, *q;
	size_t len, pathlen;
	int r = NKHSM_ERR_INTERNAL;

	if (urip != NULL)
		*urip = NULL;
	if (errp != NULL)
		*errp = NULL;
	if (s == NULL || urip == NULL)
		return NKHSM_ERR_INVALID_ARGUMENT;
	if ((len = strnlen(s, NKHSM_URI_MAX + 1)) > NKHSM_URI_MAX) {
		why = "URI too long";
		r = NKHSM_ERR_URI;
		goto out;
	}
	if (len < strlen(URI_SCHEME) ||
	    strncasecmp(s, URI_SCHEME, strlen(URI_SCHEME)) != 0) {
		why = "not a pkcs11: URI";
		r = NKHSM_ERR_URI;
		goto out;
	}
	if ((uri = calloc(1, sizeof(*uri))) == NULL ||
	    (scratch = malloc(len + 1)) == NULL) {
		r = NKHSM_ERR_NOMEM;
		goto out;
	}
	uri->type = NKHSM_OBJ_ANY;
	path = s + strlen(URI_SCHEME);
	len -= strlen(URI_SCHEME);
	if ((q = memchr(path, '?', len)) != NULL)
		pathlen = (size_t)(q - path);
	else
		pathlen = len;
	if ((r = parse_component(uri, path, pathlen, ';', 0, scratch,
	    &why)) != 0)
		goto out;
	if (q != NULL && (r = parse_component(uri, q + 1, len - pathlen - 1,
	    '&', 1, scratch, &why)) != 0)
		goto out;
	*urip = uri;
	uri = NULL;
	r = 0;
 out:
	if (r == NKHSM_ERR_URI && errp != NULL)
		*errp = why != NULL ? why : "malformed URI";
	free(scratch);
	nkhsm_uri_free(&uri);
	return r;
}

void
nkhsm_uri_free(nkhsm_uri_t **urip)
{
	nkhsm_uri_t *uri;
	size_t i;

	if (urip == NULL || (uri = *urip) == NULL)
		return;
	for (i = 0; i < URI_NATTR; i++)
		free(uri->text[i]);
	free(uri->id);
	free(uri);
	*urip = NULL;
}

static const char *
uri_text(const nkhsm_uri_t *uri, enum uri_attr attr)
{
	return uri == NULL ? NULL : uri->text[attr];
}

const char *
nkhsm_uri_token(const nkhsm_uri_t *uri)
{
	return uri_text(uri, URI_TOKEN);
}

const char *
nkhsm_uri_serial(const nkhsm_uri_t *uri)
{
	return uri_text(uri, URI_SERIAL);
}

const char *
nkhsm_uri_manufacturer(const nkhsm_uri_t *uri)
{
	return uri_text(uri, URI_MANUFACTURER);
}

const char *
nkhsm_uri_model(const nkhsm_uri_t *uri)
{
	return uri_text(uri, URI_MODEL);
}

const char *
nkhsm_uri_object(const nkhsm_uri_t *uri)
{
	return uri_text(uri, URI_OBJECT);
}

const char *
nkhsm_uri_pin_source(const nkhsm_uri_t *uri)
{
	return uri_text(uri, URI_PIN_SOURCE);
}

const char *
nkhsm_uri_module_path(const nkhsm_uri_t *uri)
{
	return uri_text(uri, URI_MODULE_PATH);
}

const uint8_t *
nkhsm_uri_id(const nkhsm_uri_t *uri, size_t *lenp)
{
	if (uri == NULL || uri->id == NULL) {
		if (lenp != NULL)
			*lenp = 0;
		return NULL;
	}
	if (lenp != NULL)
		*lenp = uri->idlen;
	return uri->id;
}

nkhsm_objtype_t
nkhsm_uri_type(const nkhsm_uri_t *uri)
{
	return uri == NULL ? NKHSM_OBJ_ANY : uri->type;
}

int
nkhsm_uri_has_slot_id(const nkhsm_uri_t *uri, unsigned long *slotp)
{
	if (uri == NULL || !uri->seen[URI_SLOT_ID])
		return 0;
	if (slotp != NULL)
		*slotp = uri->slot_id;
	return 1;
}

/*
 * Attributes RFC 7512 defines that token selection here does not match:
 * a URI naming one would select more than it says, so callers refuse it.
 */
const char *
nkhsm_uri_unmatched(const nkhsm_uri_t *uri)
{
	static const struct {
		int		 attr;
		const char	*name;
	} unmatched[] = {
		{ URI_SLOT_DESCRIPTION, "slot-description" },
		{ URI_SLOT_MANUFACTURER, "slot-manufacturer" },
		{ URI_LIB_MANUFACTURER, "library-manufacturer" },
		{ URI_LIB_DESCRIPTION, "library-description" },
		{ URI_LIB_VERSION, "library-version" },
		{ URI_MODULE_NAME, "module-name" },
	};
	size_t i;

	for (i = 0; uri != NULL && i < sizeof(unmatched) / sizeof(unmatched[0]);
	    i++)
		if (uri->seen[unmatched[i].attr])
			return unmatched[i].name;
	return NULL;
}

/* Formatting. */

#define HEXDIGITS	"0123456789ABCDEF"

struct strbuf {
	char	*s;
	size_t	 len;
	size_t	 cap;
};

static int
sb_putc(struct strbuf *sb, char c)
{
	if (sb->len + 1 >= sb->cap)
		return NKHSM_ERR_TOO_LARGE;
	sb->s[sb->len++] = c;
	sb->s[sb->len] = '\0';
	return 0;
}

static int
sb_puts(struct strbuf *sb, const char *s)
{
	int r;

	for (; *s != '\0'; s++)
		if ((r = sb_putc(sb, *s)) != 0)
			return r;
	return 0;
}

static int
sb_pct(struct strbuf *sb, uint8_t c)
{
	int r;

	if ((r = sb_putc(sb, '%')) != 0 ||
	    (r = sb_putc(sb, HEXDIGITS[c >> 4])) != 0 ||
	    (r = sb_putc(sb, HEXDIGITS[c & 0x0f])) != 0)
		return r;
	return 0;
}

/* ";name=value" (or "name=value" first); all = 1 encodes every byte. */
static int
sb_attr(struct strbuf *sb, const char *name, const uint8_t *v, size_t len,
    int all)
{
	size_t i;
	int r;

	if (sb->len > strlen(URI_SCHEME) && (r = sb_putc(sb, ';')) != 0)
		return r;
	if ((r = sb_puts(sb, name)) != 0 || (r = sb_putc(sb, '=')) != 0)
		return r;
	for (i = 0; i < len; i++) {
		if (!all && is_plain_char(v[i], 0))
			r = sb_putc(sb, (char)v[i]);
		else
			r = sb_pct(sb, v[i]);
		if (r != 0)
			return r;
	}
	return 0;
}

static int
sb_text(struct strbuf *sb, const char *name, const char *v)
{
	if (v == NULL)
		return 0;
	return sb_attr(sb, name, (const uint8_t *)v, strlen(v), 0);
}

int
nkhsm_uri_format(const char *token, const char *serial,
    const char *object, const uint8_t *id, size_t idlen,
    nkhsm_objtype_t type, char **outp)
{
	struct strbuf sb = { NULL, 0, 0 };
	const char *tname = NULL;
	size_t i;
	int r = NKHSM_ERR_INTERNAL;

	if (outp != NULL)
		*outp = NULL;
	if (outp == NULL || (id != NULL && (idlen == 0 ||
	    idlen > NKHSM_ID_MAX)) || (id == NULL && idlen != 0))
		return NKHSM_ERR_INVALID_ARGUMENT;
	if (type != NKHSM_OBJ_ANY) {
		for (i = 0; i < sizeof(uri_types) / sizeof(uri_types[0]); i++)
			if (uri_types[i].type == type)
				tname = uri_types[i].name;
		if (tname == NULL)
			return NKHSM_ERR_INVALID_ARGUMENT;
	}
	/* The result must parse again, so it obeys the same cap. */
	sb.cap = NKHSM_URI_MAX + 1;
	if ((sb.s = malloc(sb.cap)) == NULL)
		return NKHSM_ERR_NOMEM;
	sb.s[0] = '\0';
	if ((r = sb_puts(&sb, URI_SCHEME)) != 0 ||
	    (r = sb_text(&sb, "token", token)) != 0 ||
	    (r = sb_text(&sb, "serial", serial)) != 0 ||
	    (r = sb_text(&sb, "object", object)) != 0 ||
	    (id != NULL && (r = sb_attr(&sb, "id", id, idlen, 1)) != 0) ||
	    (tname != NULL && (r = sb_text(&sb, "type", tname)) != 0))
		goto out;
	*outp = sb.s;
	sb.s = NULL;
	r = 0;
 out:
	free(sb.s);
	return r;
}
