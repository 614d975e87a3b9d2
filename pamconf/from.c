/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * from.c - the from="pattern-list" option of an authorized_keys line,
 * matched against PAM_RHOST with the rules sshd(8) documents under
 * AUTHORIZED_KEYS FILE FORMAT and PATTERNS in ssh_config(5):
 *
 *  - the list is comma-separated; an entry prefixed with '!' is negated;
 *  - an entry is a wildcard pattern ('*' any run of characters, '?' one),
 *    compared without regard to case with the remote host, or an address
 *    or address/masklen (CIDR), compared with the remote host's address;
 *  - the host is allowed only if some positive entry matches and no
 *    negated one does, so a list of negations alone allows nothing;
 *  - an address/masklen whose mask is out of range or that has bits set
 *    after the mask, or an empty entry, makes the whole list invalid: the
 *    key is not used.
 *
 * PAM_RHOST is one string, an address or a name, so each entry is tried
 * against it both ways. Nothing here resolves names.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nkhsm.h"
#include "pamconf.h"

#define FROM_ENTRY_MAX	1023	/* as sshd: a longer entry never matches */

struct addr {
	int	af;		/* 0: not an address */
	uint8_t	a[16];
	size_t	len;		/* 4 or 16 */
};

/* An IPv4 or IPv6 address (IPv4-mapped IPv6 counts as IPv4). */
static int
addr_parse(const char *s, struct addr *ad)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	memset(ad, 0, sizeof(*ad));
	if (inet_pton(AF_INET, s, ad->a) == 1) {
		ad->af = AF_INET;
		ad->len = 4;
		return 0;
	}
	if (inet_pton(AF_INET6, s, ad->a) != 1)
		return -1;
	if (memcmp(ad->a, mapped, sizeof(mapped)) == 0) {
		memmove(ad->a, ad->a + 12, 4);
		memset(ad->a + 4, 0, 12);
		ad->af = AF_INET;
		ad->len = 4;
		return 0;
	}
	ad->af = AF_INET6;
	ad->len = 16;
	return 0;
}

/* Do the first bits bits of a and b agree? */
static int
prefix_equal(const uint8_t *a, const uint8_t *b, unsigned int bits)
{
	unsigned int full = bits / 8, rest = bits % 8;
	uint8_t mask;

	if (memcmp(a, b, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (uint8_t)(0xff << (8 - rest));
	return (a[full] & mask) == (b[full] & mask);
}

static int
host_bits_clear(const uint8_t *a, size_t len, unsigned int bits)
{
	unsigned int start;
	uint8_t keep;
	size_t i;

	for (i = 0; i < len; i++) {
		start = (unsigned int)i * 8;
		if (start + 8 <= bits)
			continue;
		keep = start >= bits ? 0 : (uint8_t)(0xff << (8 - (bits - start)));
		if ((a[i] & (uint8_t)~keep) != 0)
			return 0;
	}
	return 1;
}

/*
 * An entry as an address or CIDR: 1 it is one (and *hit says whether host
 * is in it), 0 it is not an address, -1 an address with a bad mask.
 */
static int
cidr_entry(const char *e, const struct addr *host, int *hit)
{
	char buf[FROM_ENTRY_MAX + 1], *slash, *end;
	struct addr net;
	unsigned long bits;

	*hit = 0;
	if (strlen(e) >= sizeof(buf))
		return 0;
	strcpy(buf, e);
	if ((slash = strchr(buf, '/')) != NULL)
		*slash++ = '\0';
	if (addr_parse(buf, &net) != 0)
		return 0;
	bits = net.len * 8;
	if (slash != NULL) {
		if (*slash < '0' || *slash > '9')
			return 0;
		bits = strtoul(slash, &end, 10);
		if (*end != '\0')
			return 0;
		if (bits > net.len * 8)
			return -1;
	}
	/* Bits after the mask must be zero: 10.1.2.3/8 is not a network. */
	if (!host_bits_clear(net.a, net.len, (unsigned int)bits))
		return -1;
	*hit = host->af == net.af && prefix_equal(host->a, net.a,
	    (unsigned int)bits);
	return 1;
}

/* Wildcard match without regard to ASCII case; linear backtracking. */
static int
wild_match(const char *s, const char *p)
{
	const char *star = NULL, *resume = NULL;

	while (*s != '\0') {
		if (*p == '*') {
			star = p++;
			resume = s;
		} else if (*p == '?' || (*p != '\0' &&
		    tolower((unsigned char)*p) == tolower((unsigned char)*s))) {
			p++;
			s++;
		} else if (star != NULL) {
			p = star + 1;
			s = ++resume;
		} else
			return 0;
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

int
pnk_from_match(const char *patterns, const char *rhost)
{
	char entry[FROM_ENTRY_MAX + 1];
	const char *p, *comma;
	struct addr host;
	size_t n;
	int neg, positive = 0, negative = 0, hit, c;

	if (patterns == NULL || rhost == NULL)
		return -1;
	if (addr_parse(rhost, &host) != 0)
		host.af = 0;
	for (p = patterns;; p = comma + 1) {
		comma = strchr(p, ',');
		n = comma != NULL ? (size_t)(comma - p) : strlen(p);
		if ((neg = n > 0 && *p == '!')) {
			p++;
			n--;
		}
		if (n == 0 || n > FROM_ENTRY_MAX)
			return -1;
		memcpy(entry, p, n);
		entry[n] = '\0';
		if ((c = cidr_entry(entry, &host, &hit)) < 0)
			return -1;
		if (c == 0 || !hit)
			hit = *rhost != '\0' && wild_match(rhost, entry);
		if (hit && neg)
			negative = 1;
		else if (hit)
			positive = 1;
		if (comma == NULL)
			break;
	}
	return positive && !negative;
}
