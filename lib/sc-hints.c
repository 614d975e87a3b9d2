/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * sc-hints.c - the card hints file: which key reference held a public key,
 * on a card of which serial and label, when it was last found. Without it,
 * finding a key costs one READ BINARY per key on the card; with it, one.
 *
 * A hint is never trusted: the key's public key file is read from the card
 * and compared with the authorized key before any PIN is asked, and a miss
 * falls back to a scan that rewrites the hint. The serial is always read
 * from the card; the label is the only thing taken from a hint, and only
 * for a card whose serial matches (a label changes only when a card is
 * initialized again, which also replaces its keys).
 *
 *	# nkhsm card hints
 *	k1 <sha256 of the point> <ref> <serial> <label> <manufacturer>
 *
 * with the fields in lower-case hex, "-" for an empty label or manufacturer.
 *
 * The parser is strict: any malformed line makes the whole file invalid
 * (the caller then starts from no hints).
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nk-int.h"
#include "schsm.h"

#define LINE_MAX_	(4 + 64 + 1 + 2 + 1 + 2 * NK_SC_SERIAL_MAX + 1 + \
			    4 * NK_SC_LABEL_MAX + 8)
#define HEADER		"# nkhsm card hints\n"
#define FIELDS		6

/* Exactly 2 * max hex digits or fewer, into out; *np bytes. */
static int
unhex(const char *s, size_t len, uint8_t *out, size_t max, size_t *np)
{
	size_t i;
	int hi, lo;

	if (len == 0 || len % 2 != 0 || len / 2 > max)
		return NKHSM_ERR_FORMAT;
	for (i = 0; i < len; i += 2) {
		if ((hi = nk_hexval((unsigned char)s[i])) < 0 ||
		    (lo = nk_hexval((unsigned char)s[i + 1])) < 0)
			return NKHSM_ERR_FORMAT;
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	*np = len / 2;
	return 0;
}

/* Split at single spaces into exactly FIELDS fields. */
static int
split(const char *s, size_t len, const char *f[FIELDS], size_t fl[FIELDS])
{
	size_t i, n = 0, start = 0;

	for (i = 0; i <= len; i++) {
		if (i < len && s[i] != ' ')
			continue;
		if (n == FIELDS || i == start)
			return NKHSM_ERR_FORMAT;
		f[n] = s + start;
		fl[n++] = i - start;
		start = i + 1;
	}
	return n == FIELDS ? 0 : NKHSM_ERR_FORMAT;
}

/* "-" or hex of printable text, into out (NK_SC_LABEL_MAX + 1 bytes). */
static int
text_field(const char *f, size_t len, char *out)
{
	uint8_t buf[NK_SC_LABEL_MAX];
	size_t n;

	out[0] = '\0';
	if (len == 1 && f[0] == '-')
		return 0;
	if (unhex(f, len, buf, sizeof(buf), &n) != 0 || !nk_sc_text_ok(buf, n))
		return NKHSM_ERR_FORMAT;
	memcpy(out, buf, n);
	out[n] = '\0';
	return 0;
}

static int
parse_line(const char *s, size_t len, struct nk_hint *h)
{
	const char *f[FIELDS];
	uint8_t buf[NK_SC_SERIAL_MAX];
	size_t fl[FIELDS], n;
	int r;

	memset(h, 0, sizeof(*h));
	if ((r = split(s, len, f, fl)) != 0)
		return r;
	if (fl[0] != 2 || memcmp(f[0], "k1", 2) != 0 ||
	    (r = unhex(f[1], fl[1], h->pthash, sizeof(h->pthash), &n)) != 0 ||
	    n != sizeof(h->pthash) ||
	    (r = unhex(f[2], fl[2], &h->ref, 1, &n)) != 0 || h->ref == 0)
		return NKHSM_ERR_FORMAT;
	if ((r = unhex(f[3], fl[3], buf, NK_SC_SERIAL_MAX, &n)) != 0 ||
	    !nk_sc_serial_ok(buf, n))
		return NKHSM_ERR_FORMAT;
	memcpy(h->serial, buf, n);
	if ((r = text_field(f[4], fl[4], h->label)) != 0 ||
	    (r = text_field(f[5], fl[5], h->manufacturer)) != 0)
		return r;
	return 0;
}

int
nk_hints_parse(const char *text, size_t len, struct nk_hints *hs)
{
	struct nk_lines it;
	struct nk_hint h;
	const char *p;
	size_t plen;
	int r;

	memset(hs, 0, sizeof(*hs));
	if (len > NK_HINTS_SIZE_MAX)
		return NKHSM_ERR_TOO_LARGE;
	nk_lines_init(&it, text, len);
	while ((r = nk_lines_next(&it, "hints", LINE_MAX_, &p, &plen, NULL,
	    0)) > 0) {
		if (plen > 0 && p[0] == '#')
			continue;
		if (hs->n == NK_HINTS_MAX ||
		    (r = parse_line(p, plen, &h)) != 0 ||
		    nk_hints_get(hs, h.pthash) != NULL) {
			memset(hs, 0, sizeof(*hs));
			return NKHSM_ERR_FORMAT;
		}
		hs->h[hs->n++] = h;
	}
	if (r < 0) {
		memset(hs, 0, sizeof(*hs));
		return NKHSM_ERR_FORMAT;
	}
	return 0;
}

static void
put_hex(char *out, const uint8_t *in, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	if (len == 0) {
		strcpy(out, "-");
		return;
	}
	for (i = 0; i < len; i++) {
		out[2 * i] = hex[in[i] >> 4];
		out[2 * i + 1] = hex[in[i] & 15];
	}
	out[2 * len] = '\0';
}

int
nk_hints_format(const struct nk_hints *hs, char **textp, size_t *lenp)
{
	char *text, *p, pth[65], ser[2 * NK_SC_SERIAL_MAX + 1],
	    lab[2 * NK_SC_LABEL_MAX + 1], man[2 * NK_SC_LABEL_MAX + 1];
	size_t i, cap = sizeof(HEADER) + NK_HINTS_MAX * (LINE_MAX_ + 1);
	int n;

	*textp = NULL;
	*lenp = 0;
	if (hs->n > NK_HINTS_MAX)
		return NKHSM_ERR_INVALID_ARGUMENT;
	if ((text = malloc(cap)) == NULL)
		return NKHSM_ERR_NOMEM;
	memcpy(text, HEADER, sizeof(HEADER) - 1);
	p = text + sizeof(HEADER) - 1;
	for (i = 0; i < hs->n; i++) {
		put_hex(pth, hs->h[i].pthash, sizeof(hs->h[i].pthash));
		put_hex(ser, (const uint8_t *)hs->h[i].serial,
		    strnlen(hs->h[i].serial, NK_SC_SERIAL_MAX));
		put_hex(lab, (const uint8_t *)hs->h[i].label,
		    strnlen(hs->h[i].label, NK_SC_LABEL_MAX));
		put_hex(man, (const uint8_t *)hs->h[i].manufacturer,
		    strnlen(hs->h[i].manufacturer, NK_SC_LABEL_MAX));
		n = snprintf(p, cap - (size_t)(p - text), "k1 %s %02x %s %s %s\n",
		    pth, hs->h[i].ref, ser, lab, man);
		if (n < 0 || (size_t)n >= cap - (size_t)(p - text)) {
			free(text);
			return NKHSM_ERR_INTERNAL;
		}
		p += n;
	}
	*textp = text;
	*lenp = (size_t)(p - text);
	return 0;
}

const struct nk_hint *
nk_hints_get(const struct nk_hints *hs, const uint8_t pthash[32])
{
	size_t i;

	for (i = 0; i < hs->n; i++)
		if (memcmp(hs->h[i].pthash, pthash, 32) == 0)
			return &hs->h[i];
	return NULL;
}

void
nk_hints_drop(struct nk_hints *hs, const uint8_t pthash[32])
{
	size_t i;

	for (i = 0; i < hs->n; i++) {
		if (memcmp(hs->h[i].pthash, pthash, 32) != 0)
			continue;
		memmove(&hs->h[i], &hs->h[i + 1],
		    (hs->n - i - 1) * sizeof(hs->h[0]));
		hs->n--;
		return;
	}
}

void
nk_hints_put(struct nk_hints *hs, const struct nk_hint *h)
{
	struct nk_hint copy = *h;

	nk_hints_drop(hs, copy.pthash);
	if (hs->n == NK_HINTS_MAX)
		hs->n--;	/* the oldest goes */
	memmove(&hs->h[1], &hs->h[0], hs->n * sizeof(hs->h[0]));
	hs->h[0] = copy;
	hs->n++;
}
