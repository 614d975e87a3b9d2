/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_pamopts.c - pam_nkhsm module arguments (pamconf/options.c):
 * defaults, every option reaching its field, and each refusal with its
 * exact message. After a refusal the struct must be empty (run this under
 * valgrind --leak-check=full to see that nothing leaks on those paths).
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
#include "pamnk.h"

#define NARGS(a)	((int)(sizeof(a) / sizeof((a)[0])))

static void
parse_ok(int argc, const char **argv, struct pnk_opts *o)
{
	char err[512] = "";
	int r;

	if ((r = pnk_opts_parse(argc, argv, o, err, sizeof(err))) != 0)
		fail_msg("parse failed: %d: %s", r, err);
}

/* The parse fails with exactly this message and leaves nothing behind. */
static void
parse_fails(int argc, const char **argv, const char *want)
{
	static const struct pnk_opts zero;
	struct pnk_opts o;
	char err[512] = "";

	memset(&o, 0xa5, sizeof(o));
	assert_int_equal(pnk_opts_parse(argc, argv, &o, err, sizeof(err)),
	    NKHSM_ERR_CONFIG);
	if (strcmp(err, want) != 0)
		fail_msg("message '%s', expected '%s'", err, want);
	assert_memory_equal(&o, &zero, sizeof(o));
}

static void
fails1(const char *arg, const char *want)
{
	const char *argv[] = { arg };

	parse_fails(1, argv, want);
}

static void
test_defaults(void **state)
{
	struct pnk_opts o;

	parse_ok(0, NULL, &o);
	assert_null(o.module);
	assert_null(o.token);
	assert_null(o.ca);
	assert_null(o.conf);
	assert_null(o.helper);
	assert_string_equal(o.authfile, "%h/.config/nkhsm/authorized_keys");
	assert_string_equal(o.authfile, PNK_AUTHFILE_DEFAULT);
	assert_int_equal(o.authfile_set, 0);
	assert_string_equal(o.rundir, "/run/nkhsm");
	assert_int_equal(o.wait, 0);
	assert_int_equal(o.timeout, 30);
	assert_int_equal(o.min_tries_left, 1);
	assert_int_equal(o.ca_map, PNK_MAP_CN | PNK_MAP_UID);
	assert_int_equal(o.ca_map, 3);
	assert_int_equal(o.nouserok, 0);
	assert_int_equal(o.use_first_pass, 0);
	assert_int_equal(o.try_first_pass, 0);
	assert_int_equal(o.debug, 0);
	pnk_opts_free(&o);
	assert_null(o.authfile);
	assert_null(o.rundir);
	pnk_opts_free(&o);	/* twice is harmless */
	pnk_opts_free(NULL);
}

static void
test_ca_only(void **state)
{
	const char *ca[] = { "ca=/etc/nkhsm/ca.pem" };
	const char *both[] = { "ca=/etc/nkhsm/ca.pem", "authfile=/etc/k/%u" };
	struct pnk_opts o;

	/* With only ca= there is no authorized keys file at all. */
	parse_ok(NARGS(ca), ca, &o);
	assert_string_equal(o.ca, "/etc/nkhsm/ca.pem");
	assert_null(o.authfile);
	assert_int_equal(o.authfile_set, 0);
	assert_string_equal(o.rundir, "/run/nkhsm");
	pnk_opts_free(&o);

	parse_ok(NARGS(both), both, &o);
	assert_string_equal(o.ca, "/etc/nkhsm/ca.pem");
	assert_string_equal(o.authfile, "/etc/k/%u");
	assert_int_equal(o.authfile_set, 1);
	pnk_opts_free(&o);
}

static void
test_all_options(void **state)
{
	const char *argv[] = {
		"module=/usr/lib/opensc-pkcs11.so",
		"token=pkcs11:token=nk;serial=0001",
		"authfile=/etc/nkhsm/keys/%u",
		"ca=/etc/nkhsm/ca.pem",
		"ca_map=uid",
		"conf=/etc/nkhsm/nkhsm.conf",
		"helper=/usr/libexec/nkhsm/helper",
		"rundir=/run/nkhsm-test",
		"wait=600",
		"timeout=600",
		"min_tries_left=15",
		"nouserok",
		"try_first_pass",
		"debug",
	};
	struct pnk_opts o;

	parse_ok(NARGS(argv), argv, &o);
	assert_string_equal(o.module, "/usr/lib/opensc-pkcs11.so");
	assert_string_equal(o.token, "pkcs11:token=nk;serial=0001");
	assert_string_equal(o.authfile, "/etc/nkhsm/keys/%u");
	assert_int_equal(o.authfile_set, 1);
	assert_string_equal(o.ca, "/etc/nkhsm/ca.pem");
	assert_int_equal(o.ca_map, PNK_MAP_UID);
	assert_string_equal(o.conf, "/etc/nkhsm/nkhsm.conf");
	assert_string_equal(o.helper, "/usr/libexec/nkhsm/helper");
	assert_string_equal(o.rundir, "/run/nkhsm-test");
	assert_int_equal(o.wait, 600);
	assert_int_equal(o.timeout, 600);
	assert_int_equal(o.min_tries_left, 15);
	assert_int_equal(o.nouserok, 1);
	assert_int_equal(o.try_first_pass, 1);
	assert_int_equal(o.use_first_pass, 0);
	assert_int_equal(o.debug, 1);
	pnk_opts_free(&o);
}

static void
test_numbers_and_flags(void **state)
{
	const char *low[] = { "wait=0", "timeout=1", "min_tries_left=0",
	    "use_first_pass" };
	const char *mid[] = { "timeout=45", "wait=7", "min_tries_left=3" };
	const char *home[] = { "authfile=%h/k" };
	struct pnk_opts o;

	parse_ok(NARGS(low), low, &o);
	assert_int_equal(o.wait, 0);
	assert_int_equal(o.timeout, 1);
	assert_int_equal(o.min_tries_left, 0);
	assert_int_equal(o.use_first_pass, 1);
	assert_int_equal(o.try_first_pass, 0);
	assert_int_equal(o.nouserok, 0);
	assert_int_equal(o.debug, 0);
	pnk_opts_free(&o);

	parse_ok(NARGS(mid), mid, &o);
	assert_int_equal(o.timeout, 45);
	assert_int_equal(o.wait, 7);
	assert_int_equal(o.min_tries_left, 3);
	pnk_opts_free(&o);

	/* A %h/ authfile is accepted as given; expansion happens later. */
	parse_ok(NARGS(home), home, &o);
	assert_string_equal(o.authfile, "%h/k");
	assert_int_equal(o.authfile_set, 1);
	pnk_opts_free(&o);
}

static void
test_ca_map(void **state)
{
	static const struct {
		const char	*arg;
		unsigned int	 map;
	} good[] = {
		{ "ca_map=cn", PNK_MAP_CN },
		{ "ca_map=uid", PNK_MAP_UID },
		{ "ca_map=cn,uid", PNK_MAP_CN | PNK_MAP_UID },
		{ "ca_map=uid,cn", PNK_MAP_CN | PNK_MAP_UID },
	};
	static const char *const bad[] = {
		"ca_map=foo", "ca_map=cn,foo", "ca_map=CN", "ca_map=,",
		"ca_map=cn,,uid", "ca_map=cn,",
		"ca_map=cn uid", "ca_map=cn,uid,cn,uid,cn,uid,cn,uid,cn,uid",
	};
	struct pnk_opts o;
	const char *argv[1];
	size_t i;

	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		argv[0] = good[i].arg;
		parse_ok(1, argv, &o);
		assert_int_equal(o.ca_map, good[i].map);
		pnk_opts_free(&o);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		fails1(bad[i], "option 'ca_map': use cn, uid or cn,uid");
}

static void
test_errors(void **state)
{
	const char *dup_flag[] = { "debug", "debug" };
	const char *dup_opt[] = { "module=/a.so", "wait=1", "module=/b.so" };
	const char *both[] = { "use_first_pass", "try_first_pass" };
	const char *late[] = { "module=/a.so", "token=pkcs11:token=x",
	    "ca=/ca.pem", "rundir=/r", "bogus" };
	const char *null_arg[] = { "debug", NULL };

	fails1("bogus", "unknown option 'bogus'");
	fails1("bogus=1", "unknown option 'bogus'");
	fails1("Debug", "unknown option 'Debug'");
	fails1("modules=/x.so", "unknown option 'modules'");
	fails1("=x", "unknown option ''");
	parse_fails(NARGS(dup_flag), dup_flag, "option 'debug' given twice");
	parse_fails(NARGS(dup_opt), dup_opt, "option 'module' given twice");
	fails1("debug=1", "option 'debug' takes no value");
	fails1("nouserok=", "option 'nouserok' takes no value");
	fails1("module=", "option 'module' needs a value (module=...)");
	fails1("module", "option 'module' needs a value (module=...)");
	fails1("wait", "option 'wait' needs a value (wait=...)");

	fails1("wait=601", "option 'wait': '601' is not a number from 0 to 600");
	fails1("timeout=0",
	    "option 'timeout': '0' is not a number from 1 to 600");
	fails1("timeout=601",
	    "option 'timeout': '601' is not a number from 1 to 600");
	fails1("min_tries_left=16",
	    "option 'min_tries_left': '16' is not a number from 0 to 15");
	fails1("wait=-1", "option 'wait': '-1' is not a number from 0 to 600");
	fails1("wait=+1", "option 'wait': '+1' is not a number from 0 to 600");
	fails1("wait= 1", "option 'wait': ' 1' is not a number from 0 to 600");
	fails1("wait=1x", "option 'wait': '1x' is not a number from 0 to 600");
	fails1("wait=0x10",
	    "option 'wait': '0x10' is not a number from 0 to 600");
	fails1("wait=4294967297",
	    "option 'wait': '4294967297' is not a number from 0 to 600");
	fails1("wait=99999999999999999999", "option 'wait': "
	    "'99999999999999999999' is not a number from 0 to 600");

	fails1("module=x.so", "option 'module': 'x.so' is not an absolute path");
	fails1("ca=ca.pem", "option 'ca': 'ca.pem' is not an absolute path");
	fails1("conf=./c", "option 'conf': './c' is not an absolute path");
	fails1("helper=%h/h", "option 'helper': '%h/h' is not an absolute path");
	fails1("rundir=run", "option 'rundir': 'run' is not an absolute path");
	fails1("authfile=keys",
	    "option 'authfile': 'keys' is not an absolute path (or %h/...)");
	fails1("authfile=%hk",
	    "option 'authfile': '%hk' is not an absolute path (or %h/...)");
	fails1("authfile=%u/k",
	    "option 'authfile': '%u/k' is not an absolute path (or %h/...)");

	fails1("token=foo",
	    "option 'token': invalid PKCS#11 URI (not a pkcs11: URI)");
	fails1("token=pkcs11:token=a;token=b",
	    "option 'token': invalid PKCS#11 URI (duplicate attribute)");
	fails1("token=pkcs11:library-description=OpenSC",
	    "option 'token': selecting by library-description is not supported");

	parse_fails(NARGS(both), both,
	    "use_first_pass and try_first_pass exclude each other");
	/* Refused after strings were allocated: freed, struct zeroed. */
	parse_fails(NARGS(late), late, "unknown option 'bogus'");

	fails1("", "empty module argument");
	parse_fails(NARGS(null_arg), null_arg, "empty module argument");
}

/* crl= repeats (in order, up to 16), crl_grace= is a duration, krl= a path. */
static void
test_revocation(void **state)
{
	const char *argv[] = { "ca=/etc/nkhsm/ca.pem", "crl=/etc/nkhsm/a.crl",
	    "krl=/etc/ssh/revoked_keys", "crl=/etc/nkhsm/crl.d",
	    "crl_grace=1d12h" };
	const char *many[PNK_CRL_MAX + 2];
	const char *nogrc[] = { "ca=/x", "crl_grace=1h" };
	const char *noca[] = { "crl=/x" };
	const char *grace2[] = { "ca=/x", "crl=/y", "crl_grace=1h",
	    "crl_grace=2h" };
	/* No unit, zero, over 30 days, an unknown unit. */
	static const char *const graces[] = { "crl_grace=3600", "crl_grace=0h",
	    "crl_grace=31d", "crl_grace=1x" };
	char buf[PNK_CRL_MAX + 1][16], want[128];
	struct pnk_opts o;
	size_t i;

	parse_ok(NARGS(argv), argv, &o);
	assert_int_equal(o.ncrl, 2);
	assert_string_equal(o.crl[0], "/etc/nkhsm/a.crl");
	assert_string_equal(o.crl[1], "/etc/nkhsm/crl.d");
	assert_int_equal(o.crl_grace, 36 * 3600);
	assert_string_equal(o.krl, "/etc/ssh/revoked_keys");
	pnk_opts_free(&o);

	fails1("krl=revoked_keys", "option 'krl': 'revoked_keys' is not an "
	    "absolute path");
	parse_fails(NARGS(noca), noca, "crl= needs ca=: it checks the "
	    "certificates the CA issued");
	parse_fails(NARGS(nogrc), nogrc, "crl_grace= needs crl=");
	parse_fails(NARGS(grace2), grace2, "option 'crl_grace' given twice");
	for (i = 0; i < sizeof(graces) / sizeof(graces[0]); i++) {
		const char *bad[] = { "ca=/x", "crl=/y", graces[i] };

		snprintf(want, sizeof(want), "option 'crl_grace': '%s' is not a "
		    "duration like 30m, 12h or 2d (at most 30d)", graces[i] + 10);
		parse_fails(NARGS(bad), bad, want);
	}
	fails1("crl=relative.crl", "option 'crl': not an absolute path");
	many[0] = "ca=/x";
	for (i = 0; i <= PNK_CRL_MAX; i++) {
		snprintf(buf[i], sizeof(buf[i]), "crl=/c%zu", i);
		many[i + 1] = buf[i];
	}
	parse_ok(PNK_CRL_MAX + 1, many, &o);
	assert_int_equal(o.ncrl, PNK_CRL_MAX);
	pnk_opts_free(&o);
	parse_fails(PNK_CRL_MAX + 2, many, "option 'crl': given too often");
}

static void
test_lengths(void **state)
{
	char arg[PNK_ARG_MAX + 2], name[100], want[200];
	const char *argv[2];
	struct pnk_opts o;
	size_t n;

	/* module=/aaa... of exactly PNK_ARG_MAX bytes is fine. */
	memset(arg, 'a', sizeof(arg));
	memcpy(arg, "module=/", 8);
	arg[PNK_ARG_MAX] = '\0';
	argv[0] = arg;
	parse_ok(1, argv, &o);
	assert_int_equal(strlen(o.module), PNK_ARG_MAX - 7);
	pnk_opts_free(&o);

	/* One byte more is refused, and the message counts from 1. */
	arg[PNK_ARG_MAX] = 'a';
	arg[PNK_ARG_MAX + 1] = '\0';
	fails1(arg, "module argument 1 is too long");
	argv[0] = "debug";
	argv[1] = arg;
	parse_fails(2, argv, "module argument 2 is too long");

	/* An unknown name is quoted, cut at 64 bytes. */
	memset(name, 'z', sizeof(name));
	name[sizeof(name) - 1] = '\0';
	n = (size_t)snprintf(want, sizeof(want), "unknown option '%.64s'", name);
	assert_true(n < sizeof(want));
	fails1(name, want);
}

static void
test_errbuf(void **state)
{
	const char *argv[] = { "bogus" };
	struct pnk_opts o;
	char err[8];

	/* No error buffer, or a short one: refused all the same. */
	assert_int_equal(pnk_opts_parse(1, argv, &o, NULL, 0),
	    NKHSM_ERR_CONFIG);
	memset(err, 'x', sizeof(err));
	assert_int_equal(pnk_opts_parse(1, argv, &o, err, sizeof(err)),
	    NKHSM_ERR_CONFIG);
	assert_string_equal(err, "unknown");
	assert_null(o.rundir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_ca_only),
		cmocka_unit_test(test_all_options),
		cmocka_unit_test(test_numbers_and_flags),
		cmocka_unit_test(test_ca_map),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_revocation),
		cmocka_unit_test(test_lengths),
		cmocka_unit_test(test_errbuf),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
