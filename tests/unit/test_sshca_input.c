/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_sshca_input.c - nkhsm-sshca's strict input (sshca/sshcert.c and
 * sshca/san.c): control characters in -O values and --san, --san parsed
 * exactly, validity windows that have already ended, and host principals
 * that are patterns.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nkhsm.h"
#include "san.h"
#include "sshca.h"

#define NOW	((time_t)1800000000)	/* 2027-01-15 08:00:00 UTC */

static int
opt(int type, const char *o, char *err, size_t errlen)
{
	struct sc_certreq req;
	int r;

	sc_certreq_init(&req, type);
	r = sc_parse_option(&req, o, err, errlen);
	sc_certreq_free(&req);
	return r;
}

static void
test_option_controls(void **state)
{
	char err[256];
	static const char *const bad[] = {
		"force-command=ls\nrm -rf /", "force-command=ls\r", "force-command=\techo",
		"force-command=a\x1b[2J", "force-command=a\x7f",
		"source-address=10.0.0.1\n", "permit-pty\n", "no-pty\x01",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (opt(SC_CERT_USER, bad[i], err, sizeof(err)) !=
		    NKHSM_ERR_INVALID_ARGUMENT || strstr(err, "control character")
		    == NULL)
			fail_msg("-O #%zu accepted or wrong reason: '%s'", i, err);
	}
	assert_int_equal(opt(SC_CERT_USER, "force-command=ls -l /tmp", err,
	    sizeof(err)), 0);
	assert_int_equal(opt(SC_CERT_USER, "force-command=écho ünïcode", err,
	    sizeof(err)), 0);
	assert_int_equal(opt(SC_CERT_USER, "force-command=ls\n", err,
	    sizeof(err)), NKHSM_ERR_INVALID_ARGUMENT);
	assert_string_equal(err, "-O: control character 0x0a at byte 17: not "
	    "allowed in an option");
}

static void
test_validity_passed(void **state)
{
	char err[256];
	uint64_t from, to;

	(void)state;
	/* Entirely in the past: refused, like -V -1h. */
	assert_int_equal(sc_parse_validity("-2h:-1h", NOW, &from, &to, err,
	    sizeof(err)), NKHSM_ERR_INVALID_ARGUMENT);
	assert_string_equal(err, "-V -2h:-1h: the validity has already ended");
	assert_int_equal(sc_parse_validity("20200101:20200102", NOW, &from, &to,
	    err, sizeof(err)), NKHSM_ERR_INVALID_ARGUMENT);
	assert_int_equal(sc_parse_validity("always:20260101", NOW, &from, &to,
	    err, sizeof(err)), NKHSM_ERR_INVALID_ARGUMENT);
	/* Ending exactly now is over too (OpenSSH: valid while now < before). */
	assert_int_equal(sc_parse_validity("-1h:+0s", NOW, &from, &to, err,
	    sizeof(err)), NKHSM_ERR_INVALID_ARGUMENT);
	assert_int_equal(sc_parse_validity("-1h", NOW, &from, &to, err,
	    sizeof(err)), NKHSM_ERR_INVALID_ARGUMENT);
	/* Started in the past, still running: fine. */
	assert_int_equal(sc_parse_validity("-1h:+1s", NOW, &from, &to, err,
	    sizeof(err)), 0);
	assert_int_equal(to, (uint64_t)NOW + 1);
	assert_int_equal(sc_parse_validity("always:forever", NOW, &from, &to,
	    err, sizeof(err)), 0);
	assert_int_equal(sc_parse_validity("20200101:20300101", NOW, &from, &to,
	    err, sizeof(err)), 0);
}

static int
principals(int type, int allow, const char *list, char *err, size_t errlen)
{
	struct sc_certreq req;
	int r;

	sc_certreq_init(&req, type);
	req.allow_host_wildcard = allow;
	r = sc_parse_principals(&req, list, err, errlen);
	sc_certreq_free(&req);
	return r;
}

static void
test_host_wildcards(void **state)
{
	static const char *const pats[] = {
		"*", "*.example.com", "web?.example.com", "web1,*.example.com",
		"a*b",
	};
	char err[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(pats) / sizeof(pats[0]); i++) {
		err[0] = '\0';
		if (principals(SC_CERT_HOST, 0, pats[i], err, sizeof(err)) !=
		    NKHSM_ERR_INVALID_ARGUMENT || strstr(err, "is a pattern") ==
		    NULL)
			fail_msg("host -n %s: accepted or '%s'", pats[i], err);
		assert_int_equal(principals(SC_CERT_HOST, 1, pats[i], err,
		    sizeof(err)), 0);
		/* User principals are compared exactly: no pattern there. */
		assert_int_equal(principals(SC_CERT_USER, 0, pats[i], err,
		    sizeof(err)), 0);
	}
	assert_int_equal(principals(SC_CERT_HOST, 0, "web1.example.com,web1",
	    err, sizeof(err)), 0);
	assert_int_equal(principals(SC_CERT_HOST, 0, "*.example.com", err,
	    sizeof(err)), NKHSM_ERR_INVALID_ARGUMENT);
	assert_string_equal(err, "host principal '*.example.com' is a pattern: "
	    "an OpenSSH that matches host principals as patterns would take it "
	    "for every host name it matches (--allow-host-wildcard to mean it)");
	assert_int_equal(principals(SC_CERT_USER, 0, "a\nb", err, sizeof(err)),
	    NKHSM_ERR_INVALID_ARGUMENT);
	assert_string_equal(err, "principal 'a\\x0ab' is too long or has "
	    "control characters");
}

static int
san(const char *s, int profile, size_t *np, char *err, size_t errlen)
{
	struct sc_san out[SC_SAN_ITEMS];

	return sc_san_parse(s, profile, out, SC_SAN_ITEMS, np, err, errlen);
}

static void
test_san_exact(void **state)
{
	static const struct {
		const char	*san;
		int		 profile;
		const char	*why;
	} bad[] = {
		{ "DNS:a,DNS:b\nIP:192.0.2.1", SC_SAN_HOST,
		    "--san: control character 0x0a at byte 12" },
		{ "DNS:a.example\r", SC_SAN_HOST,
		    "--san: control character 0x0d at byte 14" },
		{ "DNS:a\tb", SC_SAN_HOST, "--san: control character 0x09 at byte 6" },
		{ "DNS:a,,DNS:b", SC_SAN_HOST, "--san: empty item at byte 7" },
		{ ",DNS:a", SC_SAN_HOST, "--san: empty item at byte 1" },
		{ "DNS:a,", SC_SAN_HOST, "--san: empty item at byte 7" },
		{ "DNS:a, DNS:b", SC_SAN_HOST, "--san item ' DNS:b': the host "
		    "profile takes DNS:name and IP:address" },
		{ "dns:a", SC_SAN_HOST, "--san item 'dns:a': the host profile "
		    "takes DNS:name and IP:address" },
		{ "DNS:", SC_SAN_HOST, "--san item 'DNS:': the host profile takes "
		    "DNS:name and IP:address" },
		{ "DNS:a b", SC_SAN_HOST, "--san item 'DNS:a b': not a valid DNS "
		    "name" },
		{ "DNS:a..b", SC_SAN_HOST, "--san item 'DNS:a..b': not a valid DNS "
		    "name" },
		{ "DNS:-a.b", SC_SAN_HOST, "--san item 'DNS:-a.b': not a valid DNS "
		    "name" },
		{ "DNS:a.*.b", SC_SAN_HOST, "--san item 'DNS:a.*.b': not a valid "
		    "DNS name" },
		{ "DNS:a;b", SC_SAN_HOST, "--san item 'DNS:a;b': not a valid DNS "
		    "name" },
		{ "IP:192.0.2", SC_SAN_HOST, "--san item 'IP:192.0.2': not a valid "
		    "IP name" },
		{ "IP:192.0.2.1/24", SC_SAN_HOST, "--san item 'IP:192.0.2.1/24': "
		    "not a valid IP name" },
		{ "DNS:a,DNS:a", SC_SAN_HOST, "--san: DNS:a given twice" },
		{ "IP:::1,IP:0::1", SC_SAN_HOST, "--san: IP:0::1 given twice" },
		{ "email:a@example.com", SC_SAN_HOST, "--san item "
		    "'email:a@example.com': the host profile takes DNS:name and "
		    "IP:address" },
		{ "DNS:a.example", SC_SAN_USER, "--san item 'DNS:a.example': the "
		    "user profile takes email:address and UPN:name" },
		{ "email:a", SC_SAN_USER, "--san item 'email:a': not a valid email "
		    "name" },
		{ "email:a@b,c@d", SC_SAN_USER, "--san item 'c@d': the user "
		    "profile takes email:address and UPN:name" },
		{ "email:\"a\"@b", SC_SAN_USER, "--san item 'email:\"a\"@b': not a "
		    "valid email name" },
		{ "UPN:a@b@c", SC_SAN_USER, "--san item 'UPN:a@b@c': not a valid "
		    "UPN name" },
		{ "", SC_SAN_HOST, "a host certificate needs --san DNS:name or "
		    "IP:address" },
	};
	char err[512];
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (san(bad[i].san, bad[i].profile, &n, err, sizeof(err)) == 0 ||
		    strcmp(err, bad[i].why) != 0)
			fail_msg("--san '%s': '%s', wanted '%s'", bad[i].san, err,
			    bad[i].why);
		assert_int_equal(n, 0);
	}
	assert_int_equal(san("DNS:a.example,DNS:*.b.example,IP:192.0.2.1,"
	    "IP:2001:db8::1", SC_SAN_HOST, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 4);
	assert_int_equal(san("email:alice.o'neil+x@example.com,UPN:alice@EXAMPLE."
	    "COM", SC_SAN_USER, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 2);
	assert_int_equal(san(NULL, SC_SAN_USER, &n, err, sizeof(err)), 0);
	assert_int_equal(n, 0);
}

static void
test_san_values(void **state)
{
	struct sc_san out[4];
	char err[256];
	size_t n;

	(void)state;
	assert_int_equal(sc_san_parse("IP:192.0.2.1,IP:2001:db8::1,DNS:x.y",
	    SC_SAN_HOST, out, 4, &n, err, sizeof(err)), 0);
	assert_int_equal(out[0].type, SC_SAN_IP);
	assert_int_equal(out[0].iplen, 4);
	assert_memory_equal(out[0].ip, "\xc0\x00\x02\x01", 4);
	assert_int_equal(out[1].iplen, 16);
	assert_int_equal(out[2].type, SC_SAN_DNS);
	assert_string_equal(out[2].value, "x.y");
	assert_string_equal(sc_san_prefix(SC_SAN_UPN), "UPN:");
	/* The cap is a refusal, not a truncation. */
	assert_int_equal(sc_san_parse("DNS:a,DNS:b,DNS:c", SC_SAN_HOST, out, 2,
	    &n, err, sizeof(err)), NKHSM_ERR_TOO_LARGE);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_option_controls),
		cmocka_unit_test(test_validity_passed),
		cmocka_unit_test(test_host_wildcards),
		cmocka_unit_test(test_san_exact),
		cmocka_unit_test(test_san_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
