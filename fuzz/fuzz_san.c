/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_san.c - x509 --san (sshca/san.c) on arbitrary bytes, for both
 * profiles. The parser is exact: when it accepts, its items joined with
 * their prefixes and single commas give back the input byte for byte, and
 * no value is empty or holds a control character, a comma or a blank.
 * When it refuses, it returns no items and says why.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "nkhsm.h"
#include "san.h"
#include "fuzz.h"

static void
check(const char *in, int profile)
{
	static struct sc_san out[SC_SAN_ITEMS];
	char err[512], *join;
	size_t n = 99, i, o = 0, len = strlen(in);
	const char *pfx;
	int r;

	err[0] = '\0';
	r = sc_san_parse(in, profile, out, SC_SAN_ITEMS, &n, err, sizeof(err));
	if (r != 0) {
		if (n != 0 || err[0] == '\0')
			abort();
		return;
	}
	if ((join = malloc(len + 1)) == NULL)
		return;
	for (i = 0; i < n; i++) {
		if ((pfx = sc_san_prefix(out[i].type)) == NULL ||
		    out[i].value[0] == '\0' ||
		    strpbrk(out[i].value, ", \t\r\n") != NULL ||
		    o + (i > 0) + strlen(pfx) + strlen(out[i].value) > len)
			abort();
		o += (size_t)sprintf(join + o, "%s%s%s", i > 0 ? "," : "", pfx,
		    out[i].value);
	}
	join[o] = '\0';
	if (strcmp(join, in) != 0)
		abort();
	free(join);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s;

	if (size > SC_SAN_MAX + 16 || memchr(data, '\0', size) != NULL)
		return 0;
	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	check(s, SC_SAN_HOST);
	check(s, SC_SAN_USER);
	free(s);
	return 0;
}
