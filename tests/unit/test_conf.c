/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_conf.c - nkhsm.conf parsing and loading (lib/conf.c) and the file
 * ownership/mode check (lib/file.c). Error cases compare the exact
 * "FILE:LINE: reason" message.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "nkhsm.h"

#define OTHER_UID	65534	/* "nobody": owns files in the owner tests */

static char tmpdir[] = "/tmp/nkhsm-test-conf.XXXXXX";

static nkhsm_conf_t *
parse_ok(const char *text, size_t len)
{
	nkhsm_conf_t *conf = NULL;
	char err[512] = "";
	int r;

	r = nkhsm_conf_parse("t.conf", text, len, &conf, err, sizeof(err));
	if (r != 0)
		fail_msg("parse failed: %d: %s", r, err);
	assert_non_null(conf);
	return conf;
}

static void
parse_fails_len(const char *text, size_t len, const char *want)
{
	nkhsm_conf_t *conf = (nkhsm_conf_t *)&conf;
	char err[512] = "";

	assert_int_equal(nkhsm_conf_parse("t.conf", text, len, &conf, err,
	    sizeof(err)), NKHSM_ERR_CONFIG);
	assert_null(conf);
	if (strcmp(err, want) != 0)
		fail_msg("message '%s', expected '%s'", err, want);
}

static void
parse_fails(const char *text, const char *want)
{
	parse_fails_len(text, strlen(text), want);
}

static void
test_good(void **state)
{
	static const char text[] =
	    "# nkhsm.conf\n"
	    "\n"
	    "   # indented comment: module = /not/this.so\n"
	    "  module   =   /usr/lib/x86_64-linux-gnu/opensc-pkcs11.so  \n"
	    "\ttoken=pkcs11:token=nk;object=user%20key\n"
	    "pin_source = \"env:NKHSM_PIN\"\n"
	    "   \t\n";
	nkhsm_conf_t *conf;

	conf = parse_ok(text, strlen(text));
	assert_string_equal(nkhsm_conf_module(conf),
	    "/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so");
	assert_string_equal(nkhsm_conf_token(conf),
	    "pkcs11:token=nk;object=user%20key");
	assert_string_equal(nkhsm_conf_pin_source(conf), "env:NKHSM_PIN");
	nkhsm_conf_free(&conf);
	assert_null(conf);
	nkhsm_conf_free(&conf);
	nkhsm_conf_free(NULL);
}

static void
test_empty_and_partial(void **state)
{
	nkhsm_conf_t *conf;

	conf = parse_ok("", 0);
	assert_null(nkhsm_conf_module(conf));
	assert_null(nkhsm_conf_token(conf));
	assert_null(nkhsm_conf_pin_source(conf));
	nkhsm_conf_free(&conf);

	conf = parse_ok(NULL, 0);
	assert_null(nkhsm_conf_module(conf));
	nkhsm_conf_free(&conf);

	/* Commented-out keys stay unset; no final newline; CRLF. */
	conf = parse_ok("#module = /x.so\r\npin_source = file:/etc/nkhsm/pin",
	    strlen("#module = /x.so\r\npin_source = file:/etc/nkhsm/pin"));
	assert_null(nkhsm_conf_module(conf));
	assert_null(nkhsm_conf_token(conf));
	assert_string_equal(nkhsm_conf_pin_source(conf), "file:/etc/nkhsm/pin");
	nkhsm_conf_free(&conf);

	conf = parse_ok("module = /m.so\r\n", 16);
	assert_string_equal(nkhsm_conf_module(conf), "/m.so");
	nkhsm_conf_free(&conf);

	assert_null(nkhsm_conf_module(NULL));
	assert_null(nkhsm_conf_token(NULL));
	assert_null(nkhsm_conf_pin_source(NULL));
}

static void
test_quoting(void **state)
{
	static const char text[] =
	    "module = \"/opt/my lib/# x.so\"\n"
	    "pin_source=\"file:/a\\\\b\\\"c\"   \n"
	    "token = \"pkcs11:token=a%23b\"\n";
	nkhsm_conf_t *conf;

	conf = parse_ok(text, strlen(text));
	assert_string_equal(nkhsm_conf_module(conf), "/opt/my lib/# x.so");
	assert_string_equal(nkhsm_conf_pin_source(conf), "file:/a\\b\"c");
	assert_string_equal(nkhsm_conf_token(conf), "pkcs11:token=a%23b");
	nkhsm_conf_free(&conf);

	parse_fails("module = \"/a", "t.conf:1: unterminated quoted value "
	    "for 'module'");
	parse_fails("module = \"/a\\\"", "t.conf:1: unterminated quoted value "
	    "for 'module'");
	parse_fails("module = \"/a\" x", "t.conf:1: text after quoted value "
	    "for 'module'");
	parse_fails("module = \"/a\"\"/b\"", "t.conf:1: text after quoted "
	    "value for 'module'");
	parse_fails("module = \"/a\\n\"", "t.conf:1: invalid escape in "
	    "quoted value for 'module'");
	parse_fails("module = \"\"", "t.conf:1: empty value for 'module'");
	parse_fails("module = /a # old module",
	    "t.conf:1: unquoted value contains blanks, '#' or '\"' "
	    "(use double quotes) for 'module'");
	parse_fails("module = /my lib.so",
	    "t.conf:1: unquoted value contains blanks, '#' or '\"' "
	    "(use double quotes) for 'module'");
	parse_fails("module = /a\"b\"",
	    "t.conf:1: unquoted value contains blanks, '#' or '\"' "
	    "(use double quotes) for 'module'");
}

static void
test_errors(void **state)
{
	parse_fails("modul = /x.so", "t.conf:1: unknown key 'modul'");
	parse_fails("# c\n\n  Module = /x.so\n", "t.conf:3: unknown key 'Module'");
	parse_fails("mo\x1b" "dule = /x", "t.conf:1: unknown key 'mo\\x1bdule'");
	parse_fails("\n\nmodule = /a\nmodule = /b\n",
	    "t.conf:4: duplicate key 'module' (first set on line 3)");
	parse_fails("token = pkcs11:\npin_source = env:P\ntoken = pkcs11:\n",
	    "t.conf:3: duplicate key 'token' (first set on line 1)");
	parse_fails("module /x.so", "t.conf:1: missing '=' after 'module'");
	parse_fails("module", "t.conf:1: missing '=' after 'module'");
	parse_fails("module: /x.so", "t.conf:1: missing '=' after 'module:'");
	parse_fails("= /x.so", "t.conf:1: missing key before '='");
	parse_fails("module =", "t.conf:1: empty value for 'module'");
	parse_fails("module =   \t\n", "t.conf:1: empty value for 'module'");

	/* Each key's validator. */
	parse_fails("module = lib.so", "t.conf:1: module must be an absolute "
	    "path");
	parse_fails("module = ./lib.so", "t.conf:1: module must be an "
	    "absolute path");
	parse_fails("token = DENK0100001", "t.conf:1: token must be a "
	    "PKCS#11 URI (pkcs11:...)");
	parse_fails("token = pkcs11:tokn=x", "t.conf:1: invalid token URI: "
	    "unknown path attribute");
	parse_fails("token = pkcs11:token=nk?pin-value=1234",
	    "t.conf:1: invalid token URI: pin-value is not accepted "
	    "(use pin-source)");
	parse_fails("pin_source = 123456", "t.conf:1: pin_source must be "
	    "env:NAME or file:/absolute/path");
	parse_fails("pin_source = file:pin", "t.conf:1: pin_source must be "
	    "env:NAME or file:/absolute/path");
	parse_fails("pin_source = env:", "t.conf:1: pin_source must be "
	    "env:NAME or file:/absolute/path");
	parse_fails("pin_source = env:1PIN", "t.conf:1: pin_source must be "
	    "env:NAME or file:/absolute/path");
	parse_fails("pin_source = env:A-B", "t.conf:1: pin_source must be "
	    "env:NAME or file:/absolute/path");

	/* A NUL byte anywhere is an error on its line. */
	parse_fails_len("module = /a\nmodule\0 = /b\n", 25,
	    "t.conf:2: NUL byte");
	parse_fails_len("# x\0\n", 5, "t.conf:1: NUL byte");
}

static void
test_limits(void **state)
{
	char *text;
	nkhsm_conf_t *conf;
	size_t i;

	assert_non_null(text = malloc(NKHSM_CONF_SIZE_MAX + 2));

	/* A line of exactly NKHSM_CONF_LINE_MAX bytes is fine. */
	memset(text, '#', NKHSM_CONF_LINE_MAX);
	text[NKHSM_CONF_LINE_MAX] = '\n';
	conf = parse_ok(text, NKHSM_CONF_LINE_MAX + 1);
	nkhsm_conf_free(&conf);
	/* One more byte is not, and the line is named. */
	memcpy(text, "module = /a\n", 12);
	memset(text + 12, '#', NKHSM_CONF_LINE_MAX + 1);
	parse_fails_len(text, 12 + NKHSM_CONF_LINE_MAX + 1,
	    "t.conf:2: line too long (max 1024 bytes)");

	/* NKHSM_CONF_SIZE_MAX bytes of comments parse; one more byte fails. */
	for (i = 0; i < NKHSM_CONF_SIZE_MAX; i++)
		text[i] = (i % 64 == 63) ? '\n' : '#';
	conf = parse_ok(text, NKHSM_CONF_SIZE_MAX);
	nkhsm_conf_free(&conf);
	text[NKHSM_CONF_SIZE_MAX] = '\n';
	parse_fails_len(text, NKHSM_CONF_SIZE_MAX + 1,
	    "t.conf: file too large (max 65536 bytes)");
	free(text);
}

static void
test_errbuf(void **state)
{
	nkhsm_conf_t *conf = NULL;
	char err[8];

	/* A short buffer is truncated and terminated, never overrun. */
	memset(err, 'X', sizeof(err));
	assert_int_equal(nkhsm_conf_parse("t.conf", "bogus = 1", 9, &conf,
	    err, sizeof(err)), NKHSM_ERR_CONFIG);
	assert_string_equal(err, "t.conf:");
	assert_int_equal(nkhsm_conf_parse("t.conf", "bogus = 1", 9, &conf,
	    NULL, 0), NKHSM_ERR_CONFIG);
	assert_null(conf);
	assert_int_equal(nkhsm_conf_parse("t.conf", "x", 1, NULL, NULL, 0),
	    NKHSM_ERR_INVALID_ARGUMENT);
}

static void
test_defaults(void **state)
{
	const char *def = nkhsm_default_conf();
	const char *suffix = "/nkhsm/nkhsm.conf";
	nkhsm_conf_t *conf = NULL;
	char err[512] = "";

	assert_string_equal(nkhsm_default_module(), NKHSM_DEFAULT_MODULE);
	assert_non_null(def);
	assert_true(def[0] == '/');
	assert_true(strlen(def) > strlen(suffix));
	assert_string_equal(def + strlen(def) - strlen(suffix), suffix);
	/* A missing default file is an empty configuration. */
	if (access(def, F_OK) == -1 && errno == ENOENT) {
		assert_int_equal(nkhsm_conf_load(NULL, -1, &conf, err,
		    sizeof(err)), 0);
		assert_non_null(conf);
		assert_null(nkhsm_conf_module(conf));
		nkhsm_conf_free(&conf);
	}
}

/* Files on disk. */

static int
setup_dir(void **state)
{
	return mkdtemp(tmpdir) == NULL ? -1 : 0;
}

static int
teardown_dir(void **state)
{
	char cmd[sizeof(tmpdir) + 16];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

static const char *
tmp_path(const char *name)
{
	static char path[sizeof(tmpdir) + 64];

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	return path;
}

static const char *
write_file(const char *name, const char *text, size_t len, mode_t mode)
{
	const char *path = tmp_path(name);
	int fd;

	unlink(path);
	assert_true((fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) >= 0);
	assert_true(write(fd, text, len) == (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	assert_int_equal(close(fd), 0);
	return path;
}

static void
load_fails(const char *path, long owner_uid, int want_r, const char *want)
{
	nkhsm_conf_t *conf = (nkhsm_conf_t *)&conf;
	char err[512] = "", msg[600];

	assert_int_equal(nkhsm_conf_load(path, owner_uid, &conf, err,
	    sizeof(err)), want_r);
	assert_null(conf);
	snprintf(msg, sizeof(msg), "%s%s", path, want);
	if (strcmp(err, msg) != 0)
		fail_msg("message '%s', expected '%s'", err, msg);
}

static void
test_load_good(void **state)
{
	static const char text[] = "module = /m.so\ntoken = pkcs11:token=nk\n";
	const char *path;
	nkhsm_conf_t *conf = NULL;
	char err[512] = "";

	path = write_file("good.conf", text, strlen(text), 0644);
	assert_int_equal(nkhsm_conf_load(path, geteuid() == 0 ? -1 :
	    (long)geteuid(), &conf, err, sizeof(err)), 0);
	assert_string_equal(nkhsm_conf_module(conf), "/m.so");
	assert_string_equal(nkhsm_conf_token(conf), "pkcs11:token=nk");
	assert_null(nkhsm_conf_pin_source(conf));
	nkhsm_conf_free(&conf);
	/* Read-only for everyone but the owner is fine too. */
	path = write_file("good.conf", text, strlen(text), 0600);
	if (geteuid() == 0) {
		assert_int_equal(nkhsm_conf_load(path, -1, &conf, err,
		    sizeof(err)), 0);
		nkhsm_conf_free(&conf);
	}
	assert_int_equal(nkhsm_conf_load(path, (long)geteuid(), &conf, err,
	    sizeof(err)), 0);
	nkhsm_conf_free(&conf);
}

static void
test_load_errors(void **state)
{
	static const char text[] = "# ok\nmodule = /m.so\nmodul = /x\n";
	char *big, target[sizeof(tmpdir) + 64];
	const char *path;
	long me = (long)geteuid();

	load_fails(tmp_path("missing.conf"), me, NKHSM_ERR_IO,
	    ": No such file or directory");

	/* The message names the file and the line. */
	path = write_file("bad.conf", text, strlen(text), 0644);
	load_fails(path, me, NKHSM_ERR_CONFIG, ":3: unknown key 'modul'");

	path = write_file("gw.conf", "", 0, 0664);
	load_fails(path, me, NKHSM_ERR_PERMISSION, ": is group-writable");
	path = write_file("ww.conf", "", 0, 0646);
	load_fails(path, me, NKHSM_ERR_PERMISSION, ": is world-writable");

	/* A symlink is refused even when its target is fine. */
	path = write_file("target.conf", "module = /m.so\n", 15, 0644);
	snprintf(target, sizeof(target), "%s", path);
	path = tmp_path("link.conf");
	unlink(path);
	assert_int_equal(symlink(target, path), 0);
	load_fails(path, me, NKHSM_ERR_PERMISSION,
	    ": is a symbolic link (refused)");

	/* Not a regular file: a directory, a FIFO (must not block). */
	path = tmp_path("dir.conf");
	assert_int_equal(mkdir(path, 0755), 0);
	load_fails(path, me, NKHSM_ERR_PERMISSION, ": not a regular file");
	path = tmp_path("fifo.conf");
	assert_int_equal(mkfifo(path, 0644), 0);
	load_fails(path, me, NKHSM_ERR_PERMISSION, ": not a regular file");

	/* Larger than NKHSM_CONF_SIZE_MAX. */
	assert_non_null(big = malloc(NKHSM_CONF_SIZE_MAX + 1));
	memset(big, '\n', NKHSM_CONF_SIZE_MAX + 1);
	path = write_file("big.conf", big, NKHSM_CONF_SIZE_MAX, 0644);
	{
		nkhsm_conf_t *conf = NULL;
		char err[512];

		assert_int_equal(nkhsm_conf_load(path, me, &conf, err,
		    sizeof(err)), 0);
		nkhsm_conf_free(&conf);
	}
	path = write_file("big.conf", big, NKHSM_CONF_SIZE_MAX + 1, 0644);
	load_fails(path, me, NKHSM_ERR_CONFIG,
	    ": file too large (max 65536 bytes)");
	free(big);
}

static void
test_owner(void **state)
{
	const char *path;
	nkhsm_conf_t *conf = NULL;
	char err[512], want[256];
	long other;
	int fd;

	path = write_file("owned.conf", "module = /m.so\n", 15, 0644);
	if (geteuid() == 0) {
		/* Owned by root: fine whatever owner_uid says. */
		assert_int_equal(nkhsm_conf_load(path, -1, &conf, err,
		    sizeof(err)), 0);
		nkhsm_conf_free(&conf);
		assert_int_equal(nkhsm_conf_load(path, 1000, &conf, err,
		    sizeof(err)), 0);
		nkhsm_conf_free(&conf);
		assert_int_equal(chown(path, OTHER_UID, OTHER_UID), 0);
		other = OTHER_UID;
	} else
		other = (long)geteuid();

	/* Neither root nor owner_uid: refused, with the uid named. */
	snprintf(want, sizeof(want), ": owned by uid %ld, expected root", other);
	load_fails(path, -1, NKHSM_ERR_PERMISSION, want);
	load_fails(path, (long)(uid_t)-1, NKHSM_ERR_PERMISSION, want);
	snprintf(want, sizeof(want), ": owned by uid %ld, expected root or "
	    "uid %ld", other, other + 1);
	load_fails(path, other + 1, NKHSM_ERR_PERMISSION, want);
	/* owner_uid names the owner: accepted. */
	assert_int_equal(nkhsm_conf_load(path, other, &conf, err,
	    sizeof(err)), 0);
	assert_string_equal(nkhsm_conf_module(conf), "/m.so");
	nkhsm_conf_free(&conf);

	/* nkhsm_file_check on its own, on the same file. */
	assert_true((fd = open(path, O_RDONLY)) >= 0);
	assert_int_equal(nkhsm_file_check(fd, path, other, err, sizeof(err)),
	    0);
	assert_int_equal(nkhsm_file_check(fd, path, -1, err, sizeof(err)),
	    NKHSM_ERR_PERMISSION);
	snprintf(want, sizeof(want), "%s: owned by uid %ld, expected root",
	    path, other);
	assert_string_equal(err, want);
	/* A mode problem is found even when the owner is right. */
	assert_int_equal(fchmod(fd, 0620), 0);
	assert_int_equal(nkhsm_file_check(fd, path, other, err, sizeof(err)),
	    NKHSM_ERR_PERMISSION);
	snprintf(want, sizeof(want), "%s: is group-writable", path);
	assert_string_equal(err, want);
	close(fd);
	assert_int_equal(nkhsm_file_check(-1, path, -1, err, sizeof(err)),
	    NKHSM_ERR_INVALID_ARGUMENT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_empty_and_partial),
		cmocka_unit_test(test_quoting),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_errbuf),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_load_good),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_owner),
	};

	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
