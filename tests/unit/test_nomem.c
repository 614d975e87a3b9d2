/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_nomem.c - every allocation of each parser fails in turn.
 *
 * The parsers (PKCS#11 URI, nkhsm.conf, pam_nkhsm's options and authorized
 * keys, nkhsm-sshca's policy, public key files and log entries, nkhsm-hotplug's
 * configuration and logind replies) are linked into this program from their
 * objects, and the program is linked with --wrap for malloc, calloc,
 * realloc, reallocarray and strdup, so their calls come here. For N = 1, 2,
 * ... the Nth allocation of one parse returns NULL, until a parse makes
 * fewer than N allocations. Each parse must then return NKHSM_ERR_NOMEM (or
 * succeed, where a failed allocation is not needed), never crash, and free
 * what it made: the sanitizer build's leak checker runs over this program.
 */
#include "config.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "nkhsm.h"
#include "nk-int.h"
#include "pamnk.h"
#include "sshca.h"
#include "ledgerlog.h"
#include "hotplug.h"

static long fail_at = -1;	/* the allocation that fails; -1: none */
static long nalloc;		/* allocations since the count was reset */

void *__real_malloc(size_t);
void *__real_calloc(size_t, size_t);
void *__real_realloc(void *, size_t);
void *__real_reallocarray(void *, size_t, size_t);
char *__real_strdup(const char *);
void *__wrap_malloc(size_t);
void *__wrap_calloc(size_t, size_t);
void *__wrap_realloc(void *, size_t);
void *__wrap_reallocarray(void *, size_t, size_t);
char *__wrap_strdup(const char *);

static int
fails(void)
{
	return fail_at > 0 && ++nalloc == fail_at;
}

void *
__wrap_malloc(size_t n)
{
	return fails() ? NULL : __real_malloc(n);
}

void *
__wrap_calloc(size_t n, size_t m)
{
	return fails() ? NULL : __real_calloc(n, m);
}

void *
__wrap_realloc(void *p, size_t n)
{
	return fails() ? NULL : __real_realloc(p, n);
}

void *
__wrap_reallocarray(void *p, size_t n, size_t m)
{
	return fails() ? NULL : __real_reallocarray(p, n, m);
}

char *
__wrap_strdup(const char *s)
{
	return fails() ? NULL : __real_strdup(s);
}

/*
 * Run parse(arg) with allocation k failing, for k = 1, 2, ... until a run
 * makes fewer than k allocations; that last run must succeed. Returns how
 * many allocations a whole parse makes.
 */
static long
sweep(int (*parse)(const void *), const void *arg)
{
	long k, total;
	int r;

	for (k = 1; ; k++) {
		nalloc = 0;
		fail_at = k;
		r = parse(arg);
		total = nalloc;
		fail_at = -1;
		if (total < k) {
			/* Nothing failed: the parse must succeed. */
			assert_int_equal(r, 0);
			return total;
		}
		if (r != 0 && r != NKHSM_ERR_NOMEM)
			fail_msg("allocation %ld of %ld failed: got %s, wanted %s",
			    k, total, nkhsm_strerror(r),
			    nkhsm_strerror(NKHSM_ERR_NOMEM));
		assert_true(k < 100000);
	}
}

static int
parse_uri(const void *arg)
{
	nkhsm_uri_t *uri = NULL;
	int r;

	r = nkhsm_uri_parse(arg, &uri, NULL);
	if (r == 0)
		assert_non_null(uri);
	nkhsm_uri_free(&uri);
	return r;
}

static void
test_uri(void **state)
{
	(void)state;
	assert_true(sweep(parse_uri, "pkcs11:token=Nitro%20key;"
	    "manufacturer=www.CardContact.de;serial=DENK0100000;"
	    "model=PKCS%2315;id=%01%02;object=login;type=private"
	    "?pin-source=file:/etc/pin&module-path=/usr/lib/opensc-pkcs11.so")
	    > 0);
}

static int
parse_conf(const void *arg)
{
	nkhsm_conf_t *conf = NULL;
	char err[256];
	int r;

	r = nkhsm_conf_parse("t.conf", arg, strlen(arg), &conf, err,
	    sizeof(err));
	if (r == 0)
		assert_non_null(conf);
	nkhsm_conf_free(&conf);
	return r;
}

static void
test_conf(void **state)
{
	(void)state;
	assert_true(sweep(parse_conf, "# nkhsm\n"
	    "module = /usr/lib/x86_64-linux-gnu/opensc-pkcs11.so\n"
	    "token = pkcs11:token=nk;serial=DENK0100000\n"
	    "pin_source = file:/etc/nkhsm/pin\n") > 0);
}

static int
parse_opts(const void *arg)
{
	const char *const *argv = arg;
	struct pnk_opts o;
	char err[256];
	int argc, r;

	for (argc = 0; argv[argc] != NULL; argc++)
		;
	memset(&o, 0, sizeof(o));
	r = pnk_opts_parse(argc, (const char **)argv, &o, err, sizeof(err));
	pnk_opts_free(&o);
	return r;
}

static void
test_pamopts(void **state)
{
	static const char *const argv[] = {
		"module=/usr/lib/opensc-pkcs11.so",
		"token=pkcs11:token=nk;serial=0001",
		"authfile=/etc/nkhsm/keys/%u", "ca=/etc/nkhsm/ca.pem",
		"ca_map=cn,uid", "conf=/etc/nkhsm/nkhsm.conf",
		"helper=/usr/libexec/nkhsm/helper", "rundir=/run/nkhsm-test",
		"wait=600", "timeout=600", "min_tries_left=15", "nouserok",
		"try_first_pass", "debug", NULL
	};

	(void)state;
	assert_true(sweep(parse_opts, argv) > 0);
}

/* A real P-256 key (the one test_authfile uses). */
#define K256_B64 "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBI3M" \
	"yYMVlg5R/sTvHm0+xFslpM7aFphMxI68shc5x9W7DyXOMhT3sQyCBpvOStK8ArhIETfXL" \
	"VmSYCpx6STvTng="

static const char authkeys[] =
    "# keys\n"
    "ecdsa-sha2-nistp256 " K256_B64 " a@b\n"
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl ed\n"
    "from=\"10.0.0.1\" ecdsa-sha2-nistp256 " K256_B64 " again\n";

static int
parse_keys(const void *arg)
{
	struct pnk_keys keys;
	char err[256];
	int r;

	memset(&keys, 0, sizeof(keys));
	r = pnk_keys_parse("t", arg, strlen(arg), &keys, err, sizeof(err));
	if (r == 0)
		assert_int_equal(keys.n, 2);
	pnk_keys_free(&keys);
	return r;
}

static void
test_authfile(void **state)
{
	(void)state;
	/* The test key must parse at all, or the sweep proves nothing. */
	assert_int_equal(parse_keys(authkeys), 0);
	assert_true(sweep(parse_keys, authkeys) > 0);
}

static int
parse_policy(const void *arg)
{
	struct sc_policy *pol = NULL;
	char err[256];
	int r;

	r = sc_policy_parse("t.policy", arg, strlen(arg), &pol, err,
	    sizeof(err));
	if (r == 0)
		assert_non_null(pol);
	sc_policy_free(&pol);
	return r;
}

static void
test_policy(void **state)
{
	(void)state;
	assert_true(sweep(parse_policy, "# policy\n"
	    "[user]\n"
	    "max_validity = 8h\n"
	    "principals = %k\n"
	    "options = permit-pty permit-port-forwarding force-command\n"
	    "key_types = ecdsa-sha2-nistp256 ssh-ed25519\n"
	    "[user \"admin-*\"]\n"
	    "principals = root %k-adm\n"
	    "min_rsa_bits = 3072\n"
	    "[host \"*.example.com\"]\n"
	    "max_validity = 1d12h\n") > 0);
}

static int
parse_pubkey_file(const void *arg)
{
	struct sc_pubkey pk;
	char err[256];
	int r;

	r = sc_pubkey_file("k.pub", arg, strlen(arg), 0, &pk, err, sizeof(err));
	if (r == 0)
		assert_non_null(pk.fp);
	sc_pubkey_free(&pk);
	return r;
}

static void
test_pubkey_file(void **state)
{
	static const char *const files[] = {
		"# ssh-keygen -t ed25519\n\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI"
		"MaX+/PgLBbG0DAk5zVEGqHhUH2ItIRY0JG5JPYx903g ed@x\n",
		"ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAy"
		"NTYAAABBBI3MyYMVlg5R/sTvHm0+xFslpM7aFphMxI68shc5x9W7DyXOMhT3sQyC"
		"BpvOStK8ArhIETfXLVmSYCpx6STvTng= p256\n",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		assert_int_equal(parse_pubkey_file(files[i]), 0);
		assert_true(sweep(parse_pubkey_file, files[i]) > 0);
	}
}

static int
parse_logent(const void *arg)
{
	struct sc_logent e;
	int r;

	r = sc_logent_parse(arg, &e, NULL, 0);
	if (r == 0)
		assert_int_equal(e.seq, 9);
	sc_logent_free(&e);
	return r;
}

static void
test_logent(void **state)
{
	static const char entry[] = "seq=9 event=issue time=1 family=ssh "
	    "kind=ssh-user serial=42 key_id=a%20b principals=alice,root";

	(void)state;
	assert_int_equal(parse_logent(entry), 0);
	assert_true(sweep(parse_logent, entry) > 0);
}

static int
parse_hpconf(const void *arg)
{
	struct hp_conf *c = NULL;
	char err[256];
	int r;

	r = hp_conf_parse("t.conf", arg, strlen(arg), &c, err, sizeof(err));
	if (r == 0)
		assert_non_null(c);
	hp_conf_free(&c);
	return r;
}

static void
test_hotplug_conf(void **state)
{
	(void)state;
	assert_true(sweep(parse_hpconf, "# hotplug\n"
	    "insert_exec = /usr/bin/x \"two words\" --f\n"
	    "remove_exec = /usr/local/sbin/pulled\n"
	    "owner = DENK0100001 alice\n"
	    "owner = DENK0100002 bob\n"
	    "rate_limit = 7/30s\n"
	    "settle = 0ms\n") > 0);
}

static int
parse_sessions(const void *arg)
{
	struct hp_session *s = NULL;
	size_t n = 0;
	int r;

	r = hp_logind_parse_sessions(arg, strlen(arg), &s, &n);
	if (r == 0)
		assert_int_equal(n, 2);
	free(s);
	return r;
}

static void
test_logind(void **state)
{
	(void)state;
	assert_true(sweep(parse_sessions,
	    "method return time=1 sender=:1.1 -> destination=:1.2 serial=3 "
	    "reply_serial=2\n"
	    "   array [\n"
	    "      struct {\n"
	    "         string \"c1\"\n"
	    "         uint32 1000\n"
	    "         string \"alice\"\n"
	    "         string \"seat0\"\n"
	    "         object path \"/org/freedesktop/login1/session/c1\"\n"
	    "      }\n"
	    "      struct {\n"
	    "         string \"c2\"\n"
	    "         uint32 1001\n"
	    "         string \"bob\"\n"
	    "         string \"\"\n"
	    "         object path \"/org/freedesktop/login1/session/c2\"\n"
	    "      }\n"
	    "   ]\n") > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uri),
		cmocka_unit_test(test_conf),
		cmocka_unit_test(test_pamopts),
		cmocka_unit_test(test_authfile),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_pubkey_file),
		cmocka_unit_test(test_logent),
		cmocka_unit_test(test_hotplug_conf),
		cmocka_unit_test(test_logind),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
