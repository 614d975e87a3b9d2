/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_keyopts.c - authorized_keys options as pam_nkhsm honours them
 * (pamconf/keyopts.c, pamconf/from.c): from= against the remote host
 * with the pattern-list rules of sshd(8) and ssh_config(5) PATTERNS
 * (wildcards, negation, CIDR), expiry-time= as sshd reads it, and every
 * option that restricts a key making its line unusable, with a reason.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "nkhsm.h"
#include "pamnk.h"

#define K256_B64 "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBI3M" \
	"yYMVlg5R/sTvHm0+xFslpM7aFphMxI68shc5x9W7DyXOMhT3sQyCBpvOStK8ArhIETfXL" \
	"VmSYCpx6STvTng="
#define K256	"ecdsa-sha2-nistp256 " K256_B64 " test-p256@nkhsm"

static const struct {
	const char	*patterns, *rhost;
	int		 want;
} from_vectors[] = {
	/* Exact, wildcards (any run, one character), case. */
	{ "192.0.2.7", "192.0.2.7", 1 },
	{ "192.0.2.8", "192.0.2.7", 0 },
	{ "192.0.2.*", "192.0.2.7", 1 },
	{ "192.0.2.?", "192.0.2.7", 1 },
	{ "192.0.2.??", "192.0.2.7", 0 },
	{ "*", "192.0.2.7", 1 },
	{ "*", "host.example.com", 1 },
	{ "*.example.com", "host.EXAMPLE.com", 1 },
	{ "*.EXAMPLE.COM", "host.example.com", 1 },
	{ "*.example.com", "example.com", 0 },
	{ "h?st.example.com", "host.example.com", 1 },
	{ "*a*b*c", "xaybzc", 1 },
	{ "*a*b*c", "xaybzcd", 0 },
	{ "**", "a", 1 },
	/* A list: any positive entry; a negated match always wins. */
	{ "10.0.0.1,192.0.2.7", "192.0.2.7", 1 },
	{ "*.example.com,!bad.example.com", "bad.example.com", 0 },
	{ "!bad.example.com,*.example.com", "bad.example.com", 0 },
	{ "*.example.com,!bad.example.com", "good.example.com", 1 },
	/* Negations alone allow nothing. */
	{ "!192.0.2.8", "192.0.2.7", 0 },
	{ "!192.0.2.7", "192.0.2.7", 0 },
	/* CIDR. */
	{ "192.0.2.0/24", "192.0.2.7", 1 },
	{ "192.0.3.0/24", "192.0.2.7", 0 },
	{ "0.0.0.0/0", "203.0.113.9", 1 },
	{ "192.0.2.6/31", "192.0.2.7", 1 },
	{ "192.0.2.4/31", "192.0.2.7", 0 },
	{ "192.0.2.7/32", "192.0.2.7", 1 },
	{ "10.0.0.0/8,!10.1.0.0/16", "10.1.2.3", 0 },
	{ "10.0.0.0/8,!10.1.0.0/16", "10.2.0.1", 1 },
	{ "!10.1.0.0/16,10.0.0.0/8", "10.1.2.3", 0 },
	{ "2001:db8::/32", "2001:db8::1", 1 },
	{ "2001:db8::/32", "2001:db9::1", 0 },
	{ "2001:DB8::/32", "2001:db8:0:0::1", 1 },
	{ "::/0", "2001:db8::1", 1 },
	{ "192.0.2.0/24", "::ffff:192.0.2.7", 1 },
	{ "0.0.0.0/0", "2001:db8::1", 0 },
	{ "::/0", "192.0.2.7", 0 },
	{ "192.0.2.0/24", "host.example.com", 0 },
	/* Not an address: compared as a pattern, matches nothing here. */
	{ "192.0.2.0/", "192.0.2.7", 0 },
	{ "192.0.2.0/x", "192.0.2.7", 0 },
	/* Invalid lists: the key is not used. */
	{ "192.0.2.0/33", "192.0.2.7", -1 },
	{ "2001:db8::/129", "2001:db8::1", -1 },
	{ "192.0.2.7/24", "192.0.2.7", -1 },
	{ "11.0.0.0/7", "10.0.0.1", -1 },
	{ "10.0.0.0/7", "11.0.0.1", 1 },
	{ "192.0.2.7,,10.0.0.1", "192.0.2.7", -1 },
	{ "192.0.2.7,", "192.0.2.7", -1 },
	{ "!", "192.0.2.7", -1 },
	{ "", "192.0.2.7", -1 },
	/* No remote host. */
	{ "*", "", 0 },
};

static void
test_from(void **state)
{
	size_t i;
	int got;

	(void)state;
	for (i = 0; i < sizeof(from_vectors) / sizeof(from_vectors[0]); i++) {
		got = pnk_from_match(from_vectors[i].patterns,
		    from_vectors[i].rhost);
		if (got != from_vectors[i].want)
			fail_msg("from=\"%s\" against \"%s\": %d, wanted %d",
			    from_vectors[i].patterns, from_vectors[i].rhost, got,
			    from_vectors[i].want);
	}
}

static void
test_expiry(void **state)
{
	static const char *const bad[] = {
		"", "2030010", "203001011", "2030010112", "20300101123",
		"203001011230451", "20301301Z", "20300230Z", "20300100Z",
		"203001012400Z", "203001011260Z", "20300101123060Z",
		"20300101Zx", "20300101 ", "x20300101", "2030-01-01",
	};
	int64_t t;
	size_t i;

	(void)state;
	assert_int_equal(pnk_expiry_parse("20300101Z", &t), 0);
	assert_int_equal(t, 1893456000);
	assert_int_equal(pnk_expiry_parse("20300101z", &t), 0);
	assert_int_equal(t, 1893456000);
	assert_int_equal(pnk_expiry_parse("203001011230Z", &t), 0);
	assert_int_equal(t, 1893456000 + 12 * 3600 + 30 * 60);
	assert_int_equal(pnk_expiry_parse("20300101123045Z", &t), 0);
	assert_int_equal(t, 1893456000 + 12 * 3600 + 30 * 60 + 45);
	assert_int_equal(pnk_expiry_parse("20240229Z", &t), 0);
	/* Without Z: local time. */
	setenv("TZ", "UTC-2", 1);
	tzset();
	assert_int_equal(pnk_expiry_parse("20300101", &t), 0);
	assert_int_equal(t, 1893456000 - 2 * 3600);
	unsetenv("TZ");
	tzset();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (pnk_expiry_parse(bad[i], &t) == 0)
			fail_msg("expiry-time=\"%s\" accepted", bad[i]);
}

/* Parse one options field into a fresh key; return its parse result. */
static int
opts(const char *s, struct pnk_key *k)
{
	char err[256];

	memset(k, 0, sizeof(*k));
	return pnk_keyopts_parse(s, strlen(s), k, err, sizeof(err));
}

static void
key_clear(struct pnk_key *k)
{
	free(k->from);
	free(k->unusable);
	memset(k, 0, sizeof(*k));
}

static void
test_options(void **state)
{
	static const char *const restricting[] = {
		"restrict", "command=\"/bin/false\"", "no-agent-forwarding",
		"no-port-forwarding", "no-pty", "no-user-rc", "no-X11-forwarding",
		"permitopen=\"localhost:80\"", "permitlisten=\"8080\"",
		"principals=\"alice\"", "tunnel=\"1\"", "verify-required",
		"Restrict", "NO-PTY", "pty,no-pty",
		"command=\"echo \\\"hi\\\"\"",
	};
	static const char *const unknown[] = {
		"foo", "from", "expiry-time", "pty=\"1\"", "environment",
		"cert-authority=\"x\"",
	};
	static const char *const fine[] = {
		"agent-forwarding", "port-forwarding", "pty", "user-rc",
		"X11-forwarding", "no-touch-required", "environment=\"A=B\"",
		"from=\"*\"", "expiry-time=\"20300101Z\"",
	};
	static const char *const malformed[] = {
		",", "a,,b", "a,", ",a", "from=10.0.0.1", "from=\"x", "from=",
		"a b", "a=\"x\"b", "=\"x\"",
	};
	struct pnk_key k;
	size_t i;

	(void)state;
	assert_int_equal(opts("from=\"10.0.0.0/8,!10.9.0.0/16\","
	    "expiry-time=\"20300101Z\"", &k), 0);
	assert_string_equal(k.from, "10.0.0.0/8,!10.9.0.0/16");
	assert_true(k.expires);
	assert_int_equal(k.expiry, 1893456000);
	assert_null(k.unusable);
	key_clear(&k);
	assert_int_equal(opts("FROM=\"a\"", &k), 0);
	assert_string_equal(k.from, "a");
	key_clear(&k);
	/* Two expiry times: the earlier counts. */
	assert_int_equal(opts("expiry-time=\"20300101Z\","
	    "expiry-time=\"20290101Z\"", &k), 0);
	assert_int_equal(k.expiry, 1861920000);
	key_clear(&k);
	assert_int_equal(opts("cert-authority", &k), 0);
	assert_non_null(strstr(k.unusable, "cert-authority"));
	key_clear(&k);
	assert_int_equal(opts("cert-authority,from=\"10.9.9.9\"", &k), 0);
	assert_non_null(strstr(k.unusable, "never a login key"));
	key_clear(&k);
	assert_int_equal(opts("from=\"a\",from=\"b\"", &k), 0);
	assert_non_null(strstr(k.unusable, "twice"));
	key_clear(&k);
	assert_int_equal(opts("expiry-time=\"2030\"", &k), 0);
	assert_non_null(strstr(k.unusable, "malformed expiry-time"));
	key_clear(&k);
	for (i = 0; i < sizeof(restricting) / sizeof(restricting[0]); i++) {
		assert_int_equal(opts(restricting[i], &k), 0);
		if (k.unusable == NULL || strstr(k.unusable, "cannot enforce") ==
		    NULL)
			fail_msg("'%s': %s", restricting[i], k.unusable != NULL ?
			    k.unusable : "usable");
		key_clear(&k);
	}
	for (i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		assert_int_equal(opts(unknown[i], &k), 0);
		if (k.unusable == NULL || strstr(k.unusable, "unknown option") ==
		    NULL)
			fail_msg("'%s': %s", unknown[i], k.unusable != NULL ?
			    k.unusable : "usable");
		key_clear(&k);
	}
	for (i = 0; i < sizeof(fine) / sizeof(fine[0]); i++) {
		assert_int_equal(opts(fine[i], &k), 0);
		if (k.unusable != NULL)
			fail_msg("'%s': %s", fine[i], k.unusable);
		key_clear(&k);
	}
	for (i = 0; i < sizeof(malformed) / sizeof(malformed[0]); i++) {
		if (opts(malformed[i], &k) != NKHSM_ERR_FORMAT)
			fail_msg("'%s' accepted", malformed[i]);
		key_clear(&k);
	}
}

static void
test_refusal(void **state)
{
	struct pnk_key k;
	char buf[256];

	(void)state;
	assert_int_equal(opts("from=\"10.0.0.0/8\",expiry-time=\"20300101Z\"",
	    &k), 0);
	assert_null(pnk_key_refusal(&k, "10.1.1.1", 1893456000, buf,
	    sizeof(buf)));
	assert_string_equal(pnk_key_refusal(&k, "10.1.1.1", 1893456001, buf,
	    sizeof(buf)), "expiry-time has passed");
	assert_non_null(strstr(pnk_key_refusal(&k, "192.0.2.1", 0, buf,
	    sizeof(buf)), "does not allow the remote host '192.0.2.1'"));
	assert_non_null(strstr(pnk_key_refusal(&k, NULL, 0, buf, sizeof(buf)),
	    "no remote host"));
	assert_non_null(strstr(pnk_key_refusal(&k, "", 0, buf, sizeof(buf)),
	    "no remote host"));
	/* The remote host is escaped in the reason. */
	assert_non_null(strstr(pnk_key_refusal(&k, "a\nb", 0, buf, sizeof(buf)),
	    "a\\x0ab"));
	key_clear(&k);
	assert_int_equal(opts("from=\"10.0.0.0/33\"", &k), 0);
	assert_non_null(strstr(pnk_key_refusal(&k, "10.0.0.1", 0, buf,
	    sizeof(buf)), "not a valid pattern list"));
	key_clear(&k);
	assert_int_equal(opts("pty", &k), 0);
	assert_null(pnk_key_refusal(&k, NULL, 0, buf, sizeof(buf)));
	key_clear(&k);
}

struct seen {
	unsigned int	lines[8];
	size_t		n;
};

static void
record(void *arg, unsigned int line, const char *why)
{
	struct seen *s = arg;

	assert_non_null(why);
	if (s->n < 8)
		s->lines[s->n++] = line;
}

static void
test_select(void **state)
{
	const char *text =
	    "cert-authority,from=\"10.9.9.9\" " K256 "\n"
	    "restrict,command=\"/bin/false\" " K256 "\n"
	    "from=\"10.9.9.9\" " K256 "\n"
	    "from=\"192.0.2.0/24\" " K256 "\n"
	    "expiry-time=\"20000101Z\" " K256 "\n"
	    "environment=\"X=1\",pty " K256 "\n"
	    K256 "\n";
	struct pnk_keys keys;
	struct seen seen;
	char err[256];

	(void)state;
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(pnk_keys_parse("ak", text, strlen(text), &keys, err,
	    sizeof(err)), 0);
	assert_int_equal(keys.n, 7);
	pnk_keys_select(&keys, "10.9.9.9", (int64_t)time(NULL), record, &seen);
	/* Lines 1, 2, 4, 5 are not used here; 3, 6, 7 are. */
	assert_int_equal(seen.n, 4);
	assert_int_equal(seen.lines[0], 1);
	assert_int_equal(seen.lines[1], 2);
	assert_int_equal(seen.lines[2], 4);
	assert_int_equal(seen.lines[3], 5);
	assert_int_equal(keys.n, 3);
	assert_int_equal(keys.key[0].line, 3);
	assert_int_equal(keys.key[1].line, 6);
	assert_int_equal(keys.key[2].line, 7);
	pnk_keys_free(&keys);
	/* A malformed options field rejects the file, naming the line. */
	text = K256 "\nfrom=10.0.0.1 " K256 "\n";
	assert_int_equal(pnk_keys_parse("ak", text, strlen(text), &keys, err,
	    sizeof(err)), NKHSM_ERR_FORMAT);
	assert_string_equal(err, "ak:2: option value not in closed double "
	    "quotes");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_from),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_refusal),
		cmocka_unit_test(test_select),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
