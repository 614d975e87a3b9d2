/* SPDX-License-Identifier: BSD-2-Clause */
/* san.h - x509 --san, parsed exactly (san.c) */
#ifndef SC_SAN_H
#define SC_SAN_H

#include <stddef.h>
#include <stdint.h>

#define SC_SAN_MAX	1024	/* bytes of --san */
#define SC_SAN_ITEMS	64
#define SC_SAN_VALUE_MAX 320	/* a 64-byte local part, @, a 253-byte name */
#define SC_SAN_USER	1	/* the profiles, as SC_PROFILE_* */
#define SC_SAN_HOST	2

#define SC_SAN_DNS	1
#define SC_SAN_IP	2
#define SC_SAN_EMAIL	3
#define SC_SAN_UPN	4

struct sc_san {
	int	 type;
	char	 value[SC_SAN_VALUE_MAX + 1];	/* as given, without "TYPE:" */
	uint8_t	 ip[16];		/* SC_SAN_IP: the address */
	size_t	 iplen;			/* 4 or 16 */
};

/*
 * "DNS:a.example,IP:192.0.2.1" (host profile: DNS:, with a leftmost "*."
 * allowed, and IP:) or "email:a@example,UPN:a@REALM" (user profile).
 * Items are separated by single commas; a control character, an empty or
 * repeated item, an unknown type, a type of the other profile or a value
 * outside its grammar is an error naming the item. No items is an error
 * for the host profile. out holds max items; *np gets the count.
 */
int sc_san_parse(const char *sans, int profile, struct sc_san *out,
    size_t max, size_t *np, char *errbuf, size_t errlen);
/* "DNS:", "IP:", "email:", "UPN:". */
const char *sc_san_prefix(int type);

#endif
