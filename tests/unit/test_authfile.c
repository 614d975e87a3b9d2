/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_authfile.c - pam_nkhsm's authorized keys (pamconf/authfile.c):
 * path templates, the line parser, the file and directory checks of
 * pnk_keys_load, and the challenge and log escaping (pam_nkhsm/util.c).
 *
 * The keys are real ssh-keygen output; their fingerprints are what
 * `ssh-keygen -lf` printed for them, never computed by the code under test.
 * The load tests need root (chown, root-owned sticky directories) and are
 * skipped without it.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <openssl/evp.h>

#include "nkhsm.h"
#include "pamnk.h"

#define OTHER_UID	65534	/* "nobody": owns files in the owner tests */
#define USER_UID	1000	/* the uid pam_nkhsm would pass for the user */

/* ssh-keygen -t ecdsa -b 256|384|521, ssh-keygen -t ed25519, -t rsa. */
#define K256_B64 "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBI3M" \
	"yYMVlg5R/sTvHm0+xFslpM7aFphMxI68shc5x9W7DyXOMhT3sQyCBpvOStK8ArhIETfXL" \
	"VmSYCpx6STvTng="
#define K384_B64 "AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBAUS" \
	"YvRvcYas5XeObd3e2OIZCbxli5oI9UtVNfbEp/TSIoNKFKBDqyYAOqhcNTNGagcSCnQj8" \
	"p0Rq/3L++1A0jVuLXkcZRmGSmENdC1ZNVTGjR+0RuPcYPI2/dn4kmCVIA=="
#define K521_B64 "AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBAF1" \
	"jwTUsFOUi1SEsUNU/Kvm+mFM4yZxoMvOgtpw5M2i1BlNIrI2q9O5ssNoNGA3AipobywAP" \
	"hhROqQUdWMNLmCTuQCEO9C2a7WhTuqag3jVD056XHcTgIRbz8lv5B80lTjouX9AlabeZ5n" \
	"HyTTRLhEpUk5j7zK8beZVJ+T3/WcecjqedA=="
#define K256	"ecdsa-sha2-nistp256 " K256_B64 " test-p256@nkhsm"
#define K384	"ecdsa-sha2-nistp384 " K384_B64 " test-p384@nkhsm"
#define K521	"ecdsa-sha2-nistp521 " K521_B64 " test-p521@nkhsm"
#define KED	"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIA7ag/xBVYPICnqLTVVfxs8h" \
	"++iDyvaLx77Xl+qOvrar ed@x"
#define KRSA	"ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQDY/uJRbDhdpeSGxG7I+dbJC" \
	"VBzDrhM7Drw1VieLWGBeB6ceftFcOzvZE7H9SaP40rHEHZuCF8Eb/JrNVLgCjVWcx8Cs/" \
	"XTx7XrBCnuIevcMjTRyzuIAeqeKn6gkRGS3NpXu3hwkHFs8yMxAjPgT5rVg/b6mE6qYFx" \
	"C+LpNcGqUoSZMMxFx4cPT76u6a2c/S3ZS662n7sJW5KTkH8t8yFXgDpK7Ai7ucCNzX5IP" \
	"WUMUly4smPtkIjkVEpkfe1XyjDL7XZ761o/GvlCfXD7/8sYjKK79yYfWwuqoACwsUahR9" \
	"z9hO5UTrQwJ8IDN6rjFuDEQGPj3EJmxGVsBPz+6pLBN rsa@x"
/* ssh-keygen -lf */
#define FP256	"SHA256:mH5l7L0bdfNJ0OFKHujlg/0Y6yHv33/JatC4Lnuc4+s"
#define FP384	"SHA256:S57IfNDAnF46l+msxVxo9Nao3NiqhmwYqLIV+spwjxg"
#define FP521	"SHA256:s5cwLl0KoJ5QVNXkWKRqsxz5KeF2w6ixTL7UirmeqUA"
/* K256 with the last byte of Y flipped: not on the curve. */
#define K256_OFF_CURVE_B64 "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyN" \
	"TYAAABBBI3MyYMVlg5R/sTvHm0+xFslpM7aFphMxI68shc5x9W7DyXOMhT3sQyCBpvOSt" \
	"K8ArhIETfXLVmSYCpx6STvTnk="

#define BADLINE	": not an authorized key line (expected [options] " \
	"ecdsa-sha2-nistp256|384|521 KEY [comment])"

static char tmpdir[PATH_MAX];	/* realpath of the test directory */

/* Expected bytes, built without pam_nkhsm or lib/buf.c. */
struct wbuf {
	uint8_t	d[1024];
	size_t	len;
};

static void
w_string(struct wbuf *w, const void *p, size_t n)
{
	uint8_t l[4] = { n >> 24, n >> 16, n >> 8, n };

	assert_true(w->len + 4 + n <= sizeof(w->d));
	memcpy(w->d + w->len, l, 4);
	memcpy(w->d + w->len + 4, p, n);
	w->len += 4 + n;
}

static const char *
tpath(char *buf, const char *name)
{
	int n;

	n = snprintf(buf, PATH_MAX, "%s/%s", tmpdir, name);
	assert_true(n > 0 && n < PATH_MAX);
	return buf;
}

static const char *
write_file(char *buf, const char *name, const void *data, size_t len,
    mode_t mode)
{
	int fd;

	tpath(buf, name);
	unlink(buf);
	assert_true((fd = open(buf, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
	return buf;
}

static const char *
make_dir(char *buf, const char *name, mode_t mode)
{
	tpath(buf, name);
	assert_int_equal(mkdir(buf, 0700), 0);
	assert_int_equal(chmod(buf, mode), 0);
	return buf;
}

static void
assert_keys_empty(const struct pnk_keys *keys)
{
	static const struct pnk_keys zero;

	assert_memory_equal(keys, &zero, sizeof(zero));
}

static void
parse_ok(const char *text, size_t len, struct pnk_keys *keys)
{
	char err[512] = "";
	int r;

	if ((r = pnk_keys_parse("t", text, len, keys, err, sizeof(err))) != 0)
		fail_msg("parse failed: %d: %s", r, err);
}

static void
parse_fails_len(const char *text, size_t len, int want_r, const char *want)
{
	struct pnk_keys keys;
	char err[512] = "";

	memset(&keys, 0xa5, sizeof(keys));
	assert_int_equal(pnk_keys_parse("t", text, len, &keys, err,
	    sizeof(err)), want_r);
	if (strcmp(err, want) != 0)
		fail_msg("message '%s', expected '%s'", err, want);
	assert_keys_empty(&keys);
}

static void
parse_fails(const char *text, int want_r, const char *want)
{
	parse_fails_len(text, strlen(text), want_r, want);
}

static void
assert_key(const struct pnk_key *k, const char *fp, int bits,
    unsigned int line)
{
	nkhsm_point_t viaevp;
	EVP_PKEY *pub = NULL;

	/* The raw point agrees with what OpenSSL decodes from the blob. */
	assert_int_equal(k->pt.curve, bits == 256 ? NKHSM_CURVE_P256 :
	    bits == 384 ? NKHSM_CURVE_P384 : NKHSM_CURVE_P521);
	assert_int_equal(k->pt.len, 1 + 2 * ((bits + 7) / 8));
	assert_int_equal(nkhsm_point_check(&k->pt), 0);
	assert_int_equal(nkhsm_pubkey_from_ssh_blob(k->blob, k->bloblen, &pub), 0);
	assert_int_equal(EVP_PKEY_get_bits(pub), bits);
	assert_int_equal(nkhsm_point_from_pkey(pub, &viaevp), 0);
	assert_int_equal(viaevp.len, k->pt.len);
	assert_memory_equal(viaevp.pt, k->pt.pt, k->pt.len);
	EVP_PKEY_free(pub);
	assert_string_equal(k->fp, fp);
	assert_int_equal(k->line, line);
}

static void
load_ok(const char *path, uid_t uid, size_t n)
{
	struct pnk_keys keys;
	char err[512] = "";
	int r;

	if ((r = pnk_keys_load(path, uid, &keys, err, sizeof(err))) != 0)
		fail_msg("load %s as %lu failed: %d: %s", path,
		    (unsigned long)uid, r, err);
	assert_int_equal(keys.n, n);
	pnk_keys_free(&keys);
}

/* Refused with want_r and the message "WHO" SEP "reason". */
static void
load_fails_sep(const char *path, uid_t uid, int want_r, const char *who,
    const char *sep, const char *reason)
{
	struct pnk_keys keys;
	char err[512] = "", want[PATH_MAX + 256];

	memset(&keys, 0xa5, sizeof(keys));
	assert_int_equal(pnk_keys_load(path, uid, &keys, err, sizeof(err)),
	    want_r);
	snprintf(want, sizeof(want), "%s%s%s", who, sep, reason);
	if (strcmp(err, want) != 0)
		fail_msg("message '%s', expected '%s'", err, want);
	assert_keys_empty(&keys);
}

static void
load_fails(const char *path, uid_t uid, int want_r, const char *who,
    const char *reason)
{
	load_fails_sep(path, uid, want_r, who, ": ", reason);
}

/* pnk_expand_path */

static void
expand_ok(const char *tmpl, const char *user, const char *home,
    const char *want)
{
	char *out = NULL;

	assert_int_equal(pnk_expand_path(tmpl, user, home, &out), 0);
	assert_non_null(out);
	assert_string_equal(out, want);
	free(out);
}

static void
expand_fails(const char *tmpl, const char *user, const char *home, int want_r)
{
	char *out = (char *)&out;

	assert_int_equal(pnk_expand_path(tmpl, user, home, &out), want_r);
	assert_null(out);
}

static void
test_expand_path(void **state)
{
	char tmpl[4200], want[4200];

	expand_ok("%h/.config/nkhsm/authorized_keys", "alice", "/home/alice",
	    "/home/alice/.config/nkhsm/authorized_keys");
	expand_ok("/etc/nkhsm/keys/%u", "alice", "/home/alice",
	    "/etc/nkhsm/keys/alice");
	expand_ok("/k/%u/%u.%h", "bob", "/h", "/k/bob/bob./h");
	expand_ok("/k/100%%/%u%%", "bob", "/h", "/k/100%/bob%");
	expand_ok("/plain", "bob", "/h", "/plain");
	/* A missing home only matters when %h is used. */
	expand_ok("/etc/%u", "bob", NULL, "/etc/bob");

	expand_fails("%h/k", "bob", NULL, NKHSM_ERR_INVALID_ARGUMENT);
	expand_fails("/k/%u", NULL, "/h", NKHSM_ERR_INVALID_ARGUMENT);
	expand_fails("/k/%x", "bob", "/h", NKHSM_ERR_CONFIG);
	expand_fails("/k/%U", "bob", "/h", NKHSM_ERR_CONFIG);
	expand_fails("/k/%", "bob", "/h", NKHSM_ERR_CONFIG);
	/* The result must be absolute. */
	expand_fails("%u/k", "bob", "/h", NKHSM_ERR_CONFIG);
	expand_fails("%h/k", "bob", "relative", NKHSM_ERR_INVALID_ARGUMENT);
	expand_fails("%h/k", "bob", "", NKHSM_ERR_INVALID_ARGUMENT);
	expand_fails("keys", "bob", "/h", NKHSM_ERR_CONFIG);
	expand_fails("", "bob", "/h", NKHSM_ERR_CONFIG);

	/* 4095 bytes fit, 4096 do not (literal or expanded). */
	memset(tmpl, 'a', sizeof(tmpl));
	tmpl[0] = '/';
	tmpl[4095] = '\0';
	memcpy(want, tmpl, sizeof(want));
	expand_ok(tmpl, "bob", "/h", want);
	tmpl[4095] = 'a';
	tmpl[4096] = '\0';
	expand_fails(tmpl, "bob", "/h", NKHSM_ERR_TOO_LARGE);
	memcpy(tmpl + 4093, "%u", 3);	/* 4093 + strlen("bob") = 4096 */
	expand_fails(tmpl, "bob", "/h", NKHSM_ERR_TOO_LARGE);
	memcpy(tmpl + 4093, "%h", 3);	/* 4093 + 2 = 4095 */
	want[4093] = '/';
	want[4094] = 'h';
	want[4095] = '\0';
	expand_ok(tmpl, "bob", "/h", want);
}

/* pnk_keys_parse */

static void
test_parse_good(void **state)
{
	static const char text[] =
	    "# authorized keys for alice\n"		/* 1 */
	    "\n"					/* 2 */
	    K256 "\n"					/* 3 */
	    "   \t\n"					/* 4 */
	    KED "\n"					/* 5 */
	    "  # indented comment\r\n"			/* 6 */
	    K384 "\r\n"					/* 7 */
	    KRSA "\n"					/* 8 */
	    "\t" K521 "\n"				/* 9 */
	    "ecdsa-sha2-nistp256 " K256_B64 "\n"	/* 10: no comment */
	    "\r\n"					/* 11 */
	    "ecdsa-sha2-nistp256-cert-v01@openssh.com AAAA c\n"	/* 12 */
	    "sk-ssh-ed25519@openssh.com AAAA c\n"	/* 13 */
	    "ecdsa-sha2-nistp384\t" K384_B64 "\tc d e";	/* 14: no LF */
	struct pnk_keys keys;

	parse_ok(text, strlen(text), &keys);
	assert_int_equal(keys.n, 5);
	assert_int_equal(keys.skipped, 4);
	assert_key(&keys.key[0], FP256, 256, 3);
	assert_key(&keys.key[1], FP384, 384, 7);
	assert_key(&keys.key[2], FP521, 521, 9);
	assert_key(&keys.key[3], FP256, 256, 10);
	assert_key(&keys.key[4], FP384, 384, 14);
	assert_null(keys.key[5].blob);
	assert_int_equal(keys.key[5].pt.len, 0);
	pnk_keys_free(&keys);
	assert_keys_empty(&keys);
	pnk_keys_free(&keys);
	pnk_keys_free(NULL);

	/* Nothing at all, or only comments: no keys, no error. */
	parse_ok("", 0, &keys);
	assert_int_equal(keys.n, 0);
	parse_ok("#\n\n# x\n", 7, &keys);
	assert_int_equal(keys.n, 0);
	assert_int_equal(keys.skipped, 0);
	/* Only other key types. */
	parse_ok(KED "\n" KRSA "\n", strlen(KED "\n" KRSA "\n"), &keys);
	assert_int_equal(keys.n, 0);
	assert_int_equal(keys.skipped, 2);
	pnk_keys_free(&keys);
}

static void
test_parse_options(void **state)
{
	static const char text[] =
	    "from=\"10.0.0.1\",no-pty " K256 "\n"			/* 1 */
	    "command=\"echo hello world\",no-agent-forwarding " K384 "\n"
	    "command=\"echo \\\"a b\\\" done\",no-pty\t" K521 "\n"	/* 3 */
	    "environment=\"A=b c\" " KED "\n"				/* 4 */
	    "no-port-forwarding,from=\"*.example.com,!bad\"  "
	    "ecdsa-sha2-nistp256 " K256_B64 "\n"			/* 5 */
	    "restrict " KRSA "\n"					/* 6 */
	    "  no-pty " K384 " a comment with \"quotes\"\n";		/* 7 */
	struct pnk_keys keys;

	parse_ok(text, strlen(text), &keys);
	assert_int_equal(keys.n, 5);
	assert_int_equal(keys.skipped, 2);
	assert_key(&keys.key[0], FP256, 256, 1);
	assert_key(&keys.key[1], FP384, 384, 2);
	assert_key(&keys.key[2], FP521, 521, 3);
	assert_key(&keys.key[3], FP256, 256, 5);
	assert_key(&keys.key[4], FP384, 384, 7);
	pnk_keys_free(&keys);
}

static void
test_parse_errors(void **state)
{
	const int F = NKHSM_ERR_FORMAT;
	char nul[] = K256 "\n# a\0b\n" K384 "\n";

	parse_fails("garbage\n", F, "t:1" BADLINE);
	parse_fails("hello world\n", F, "t:1" BADLINE);
	parse_fails("# ok\n\nno-pty\n", F, "t:3" BADLINE);
	parse_fails(K256 "\nno-pty ssh-foo AAAA c\n", F, "t:2" BADLINE);
	parse_fails("ecdsa-sha2-nistp224 AAAA c\n", F, "t:1" BADLINE);
	/* A key type must be a whole word. */
	parse_fails("ecdsa-sha2-nistp2560 " K256_B64 "\n", F, "t:1" BADLINE);

	parse_fails(K256 "\necdsa-sha2-nistp256 AAAA!!!! c\n", F,
	    "t:2: invalid ecdsa-sha2-nistp256 key: malformed encoding");
	parse_fails("ecdsa-sha2-nistp256 " K256_B64 "x c\n", F,
	    "t:1: invalid ecdsa-sha2-nistp256 key: malformed encoding");
	parse_fails("ecdsa-sha2-nistp256\n", F,
	    "t:1: invalid ecdsa-sha2-nistp256 key: malformed encoding");
	/* The line says P-384, the blob holds a P-256 key. */
	parse_fails("ecdsa-sha2-nistp384 " K256_B64 " c\n", F,
	    "t:1: invalid ecdsa-sha2-nistp384 key: malformed encoding");
	parse_fails("no-pty ecdsa-sha2-nistp521 " K384_B64 "\n", F,
	    "t:1: invalid ecdsa-sha2-nistp521 key: malformed encoding");
	/* A truncated blob (valid base64). */
	parse_fails("ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAI"
	    "bmlz\n", F, "t:1: invalid ecdsa-sha2-nistp256 key: "
	    "malformed encoding");
	/* A point that is not on the curve. */
	parse_fails("ecdsa-sha2-nistp256 " K256_OFF_CURVE_B64 "\n", F,
	    "t:1: invalid ecdsa-sha2-nistp256 key: not a point on its curve");

	parse_fails("command=\"ls " K256 "\n", F,
	    "t:1: unterminated quote in options");
	parse_fails("# x\ncommand=\"echo \\\" " K256 "\n", F,
	    "t:2: unterminated quote in options");

	/* A NUL byte anywhere in a line, even a comment. */
	parse_fails_len(nul, sizeof(nul) - 1, F, "t:2: NUL byte");
	parse_fails_len(K256 "\0", strlen(K256) + 1, F, "t:1: NUL byte");

	/* An error after good keys frees them (checked by parse_fails). */
	parse_fails(K256 "\n" K384 "\n" K521 "\nbad\n", F, "t:4" BADLINE);
}

static void
test_parse_limits(void **state)
{
	const size_t L = PNK_AUTHFILE_LINE_MAX;
	struct pnk_keys keys;
	char *text, want[128];
	size_t i, off, klen = strlen(K256 "\n");

	assert_non_null(text = malloc(PNK_AUTHFILE_SIZE_MAX + 1));

	/* A comment line of exactly PNK_AUTHFILE_LINE_MAX bytes, plus CR. */
	text[0] = '#';
	memset(text + 1, 'x', L - 1);
	memcpy(text + L, "\r\n", 2);
	parse_ok(text, L + 2, &keys);
	assert_int_equal(keys.n, 0);
	/* A key line of exactly PNK_AUTHFILE_LINE_MAX bytes (long comment). */
	memcpy(text, K256 " ", strlen(K256) + 1);
	memset(text + strlen(K256) + 1, 'c', L - strlen(K256) - 1);
	text[L] = '\n';
	parse_ok(text, L + 1, &keys);
	assert_int_equal(keys.n, 1);
	assert_key(&keys.key[0], FP256, 256, 1);
	pnk_keys_free(&keys);
	/* One byte more, on line 2. */
	memcpy(text, "#\n", 2);
	memset(text + 2, 'x', L + 1);
	snprintf(want, sizeof(want), "t:2: line longer than %d bytes", (int)L);
	assert_string_equal(want, "t:2: line longer than 8192 bytes");
	parse_fails_len(text, L + 3, NKHSM_ERR_TOO_LARGE, want);

	/* PNK_KEYS_MAX keys after a comment line, then one more. */
	off = 0;
	memcpy(text, "# many\n", 7);
	off = 7;
	for (i = 0; i < PNK_KEYS_MAX; i++) {
		memcpy(text + off, K256 "\n", klen);
		off += klen;
	}
	parse_ok(text, off, &keys);
	assert_int_equal(keys.n, PNK_KEYS_MAX);
	assert_key(&keys.key[PNK_KEYS_MAX - 1], FP256, 256, PNK_KEYS_MAX + 1);
	pnk_keys_free(&keys);
	/* Other key types do not count against the cap. */
	memcpy(text + off, KED "\n", strlen(KED "\n"));
	parse_ok(text, off + strlen(KED "\n"), &keys);
	assert_int_equal(keys.n, PNK_KEYS_MAX);
	assert_int_equal(keys.skipped, 1);
	pnk_keys_free(&keys);
	memcpy(text + off, K384 "\n", strlen(K384 "\n"));
	parse_fails_len(text, off + strlen(K384 "\n"), NKHSM_ERR_TOO_LARGE,
	    "t:258: more than 256 keys");

	/* The whole text: PNK_AUTHFILE_SIZE_MAX bytes, then one more. */
	memset(text, '\n', PNK_AUTHFILE_SIZE_MAX + 1);
	parse_ok(text, PNK_AUTHFILE_SIZE_MAX, &keys);
	assert_int_equal(keys.n, 0);
	parse_fails_len(text, PNK_AUTHFILE_SIZE_MAX + 1, NKHSM_ERR_TOO_LARGE,
	    "t: larger than 1048576 bytes");
	free(text);
}

static void
test_parse_errbuf(void **state)
{
	struct pnk_keys keys;
	char err[5];

	/* No error buffer, or a short one. */
	assert_int_equal(pnk_keys_parse("t", "x\n", 2, &keys, NULL, 0),
	    NKHSM_ERR_FORMAT);
	assert_int_equal(pnk_keys_parse("name", "x\n", 2, &keys, err,
	    sizeof(err)), NKHSM_ERR_FORMAT);
	assert_string_equal(err, "name");
}

/* pnk_keys_load */

static void
test_load_good(void **state)
{
	static const char text[] = "# keys\n" K256 "\n" KED "\n"
	    "no-pty " K521 "\n";
	char path[PATH_MAX], err[512] = "";
	struct pnk_keys keys;

	if (geteuid() != 0)
		skip();
	write_file(path, "good", text, strlen(text), 0644);
	assert_int_equal(pnk_keys_load(path, USER_UID, &keys, err,
	    sizeof(err)), 0);
	assert_int_equal(keys.n, 2);
	assert_int_equal(keys.skipped, 1);
	assert_key(&keys.key[0], FP256, 256, 2);
	assert_key(&keys.key[1], FP521, 521, 4);
	pnk_keys_free(&keys);
	/* Root-owned: fine for any uid; 0600 and 0400 too. */
	load_ok(path, 0, 2);
	assert_int_equal(chmod(path, 0600), 0);
	load_ok(path, USER_UID, 2);
	assert_int_equal(chmod(path, 0400), 0);
	load_ok(path, USER_UID, 2);

	/* Empty file: no keys. */
	write_file(path, "empty", "", 0, 0644);
	load_ok(path, USER_UID, 0);

	/* Exactly PNK_AUTHFILE_SIZE_MAX bytes. */
	{
		char *big;

		assert_non_null(big = malloc(PNK_AUTHFILE_SIZE_MAX));
		memset(big, '\n', PNK_AUTHFILE_SIZE_MAX);
		memcpy(big, K384 "\n", strlen(K384 "\n"));
		write_file(path, "big", big, PNK_AUTHFILE_SIZE_MAX, 0644);
		load_ok(path, USER_UID, 1);
		free(big);
	}
}

static void
test_load_errors(void **state)
{
	static const char bad[] = K256 "\n\nfrom=\"x " K384 "\n";
	char path[PATH_MAX], target[PATH_MAX], *big;
	struct pnk_keys keys;
	char err[512];

	if (geteuid() != 0)
		skip();
	/* Missing: NKHSM_ERR_IO with errno ENOENT. */
	tpath(path, "missing");
	errno = 0;
	assert_int_equal(pnk_keys_load(path, USER_UID, &keys, err,
	    sizeof(err)), NKHSM_ERR_IO);
	assert_int_equal(errno, ENOENT);
	load_fails(path, USER_UID, NKHSM_ERR_IO, path, "no such file");
	tpath(path, "nodir/keys");
	errno = 0;
	assert_int_equal(pnk_keys_load(path, USER_UID, &keys, err,
	    sizeof(err)), NKHSM_ERR_IO);
	assert_int_equal(errno, ENOENT);

	/* A parse error names the path and the line. */
	write_file(path, "bad", bad, strlen(bad), 0644);
	load_fails_sep(path, USER_UID, NKHSM_ERR_FORMAT, path, ":",
	    "3: unterminated quote in options");

	/* A symlink, even to a good file. */
	write_file(target, "target", K256 "\n", strlen(K256 "\n"), 0644);
	load_ok(target, USER_UID, 1);
	tpath(path, "link");
	assert_int_equal(symlink(target, path), 0);
	load_fails(path, USER_UID, NKHSM_ERR_PERMISSION, path,
	    "is a symbolic link");
	tpath(path, "dangling");
	assert_int_equal(symlink("/nonexistent/nkhsm", path), 0);
	load_fails(path, USER_UID, NKHSM_ERR_PERMISSION, path,
	    "is a symbolic link");

	/* Writable by group or others. */
	write_file(path, "gw", K256 "\n", strlen(K256 "\n"), 0664);
	load_fails(path, USER_UID, NKHSM_ERR_PERMISSION, path,
	    "is group-writable");
	write_file(path, "gw2", K256 "\n", strlen(K256 "\n"), 0620);
	load_fails(path, 0, NKHSM_ERR_PERMISSION, path, "is group-writable");
	write_file(path, "ww", K256 "\n", strlen(K256 "\n"), 0646);
	load_fails(path, USER_UID, NKHSM_ERR_PERMISSION, path,
	    "is world-writable");
	write_file(path, "gww", K256 "\n", strlen(K256 "\n"), 0666);
	load_fails(path, USER_UID, NKHSM_ERR_PERMISSION, path,
	    "is world-writable");

	/* Not a regular file; a FIFO must not block (alarm kills a hang). */
	make_dir(path, "adir", 0755);
	load_fails(path, USER_UID, NKHSM_ERR_PERMISSION, path,
	    "not a regular file");
	tpath(path, "fifo");
	assert_int_equal(mkfifo(path, 0644), 0);
	alarm(10);
	load_fails(path, USER_UID, NKHSM_ERR_PERMISSION, path,
	    "not a regular file");
	alarm(0);
	load_fails("/dev/null", USER_UID, NKHSM_ERR_PERMISSION, "/dev/null",
	    "not a regular file");

	/* Larger than PNK_AUTHFILE_SIZE_MAX. */
	assert_non_null(big = malloc(PNK_AUTHFILE_SIZE_MAX + 1));
	memset(big, '\n', PNK_AUTHFILE_SIZE_MAX + 1);
	write_file(path, "huge", big, PNK_AUTHFILE_SIZE_MAX + 1, 0644);
	free(big);
	load_fails(path, USER_UID, NKHSM_ERR_TOO_LARGE, path,
	    "larger than 1048576 bytes");
}

static void
test_load_owner(void **state)
{
	char path[PATH_MAX], reason[128];

	if (geteuid() != 0)
		skip();
	write_file(path, "owned", K256 "\n", strlen(K256 "\n"), 0644);
	load_ok(path, USER_UID, 1);		/* root-owned */
	assert_int_equal(chown(path, OTHER_UID, OTHER_UID), 0);
	snprintf(reason, sizeof(reason), "owned by uid %d, expected %d or root",
	    OTHER_UID, USER_UID);
	load_fails(path, USER_UID, NKHSM_ERR_PERMISSION, path, reason);
	snprintf(reason, sizeof(reason), "owned by uid %d, expected 0 or root",
	    OTHER_UID);
	load_fails(path, 0, NKHSM_ERR_PERMISSION, path, reason);
	/* Owned by the uid passed: accepted, unless group-writable. */
	load_ok(path, OTHER_UID, 1);
	assert_int_equal(chmod(path, 0600), 0);
	load_ok(path, OTHER_UID, 1);
	assert_int_equal(chmod(path, 0660), 0);
	load_fails(path, OTHER_UID, NKHSM_ERR_PERMISSION, path,
	    "is group-writable");
}

static void
test_load_dirs(void **state)
{
	char dir[PATH_MAX], path[PATH_MAX], reason[128];

	if (geteuid() != 0)
		skip();
	/* A group-writable directory above the file, named in the message. */
	make_dir(dir, "gwdir", 0775);
	write_file(path, "gwdir/keys", K256 "\n", strlen(K256 "\n"), 0644);
	load_fails(path, USER_UID, NKHSM_ERR_PERMISSION, dir,
	    "is group-writable");
	/* Further up than the parent. */
	make_dir(dir, "gwdir/sub", 0755);
	write_file(path, "gwdir/sub/keys", K256 "\n", strlen(K256 "\n"), 0644);
	tpath(dir, "gwdir");
	load_fails(path, USER_UID, NKHSM_ERR_PERMISSION, dir,
	    "is group-writable");
	/* Even to report a missing file, the directories must be safe. */
	tpath(path, "gwdir/missing");
	load_fails(path, USER_UID, NKHSM_ERR_PERMISSION, dir,
	    "is group-writable");

	/* World-writable without the sticky bit. */
	make_dir(dir, "wwdir", 0777);
	write_file(path, "wwdir/keys", K256 "\n", strlen(K256 "\n"), 0644);
	load_fails(path, USER_UID, NKHSM_ERR_PERMISSION, dir,
	    "is world-writable");

	/* Root-owned, sticky and world-writable (like /tmp): allowed. */
	make_dir(dir, "sticky", 01777);
	write_file(path, "sticky/keys", K256 "\n", strlen(K256 "\n"), 0644);
	load_ok(path, USER_UID, 1);
	make_dir(dir, "sticky/sub", 0755);
	write_file(path, "sticky/sub/keys", K256 "\n", strlen(K256 "\n"),
	    0644);
	load_ok(path, USER_UID, 1);
	/* ... but the sticky bit excuses only a root-owned directory. */
	make_dir(dir, "sticky2", 01777);
	assert_int_equal(chown(dir, OTHER_UID, OTHER_UID), 0);
	write_file(path, "sticky2/keys", K256 "\n", strlen(K256 "\n"), 0644);
	snprintf(reason, sizeof(reason), "owned by uid %d, expected %d or root",
	    OTHER_UID, USER_UID);
	load_fails(path, USER_UID, NKHSM_ERR_PERMISSION, dir, reason);
	load_fails(path, OTHER_UID, NKHSM_ERR_PERMISSION, dir,
	    "is world-writable");

	/* A directory owned by someone else, or by the user. */
	make_dir(dir, "otherdir", 0755);
	assert_int_equal(chown(dir, OTHER_UID, OTHER_UID), 0);
	write_file(path, "otherdir/keys", K256 "\n", strlen(K256 "\n"), 0644);
	load_fails(path, USER_UID, NKHSM_ERR_PERMISSION, dir, reason);
	load_ok(path, OTHER_UID, 1);

	/* A symlinked directory is resolved and its target checked. */
	make_dir(dir, "realdir", 0777);
	write_file(path, "realdir/keys", K256 "\n", strlen(K256 "\n"), 0644);
	tpath(path, "linkdir");
	assert_int_equal(symlink(dir, path), 0);
	tpath(path, "linkdir/keys");
	load_fails(path, USER_UID, NKHSM_ERR_PERMISSION, dir,
	    "is world-writable");
}

/* pnk_challenge */

static void
challenge(const char *host, const char *service, const char *user,
    const uint8_t *nonce, struct wbuf *w)
{
	uint8_t *msg = NULL;
	size_t len = 0;

	assert_int_equal(pnk_challenge(host, service, user, nonce, &msg,
	    &len), 0);
	assert_non_null(msg);
	assert_true(len <= sizeof(w->d));
	memcpy(w->d, msg, len);
	w->len = len;
	free(msg);
}

static int
wbuf_equal(const struct wbuf *a, const struct wbuf *b)
{
	return a->len == b->len && memcmp(a->d, b->d, a->len) == 0;
}

static void
test_challenge(void **state)
{
	static const uint8_t head[] = {
		0, 0, 0, 22, 'n', 'k', 'h', 's', 'm', '-', 'p', 'a', 'm', '-',
		'c', 'h', 'a', 'l', 'l', 'e', 'n', 'g', 'e', '-', 'v', '1',
		0, 0, 0, 4, 'h', 'o', 's', 't',
	};
	uint8_t nonce[PNK_NONCE_LEN], nonce2[PNK_NONCE_LEN];
	struct wbuf want = { .len = 0 }, got, other;
	size_t i;

	for (i = 0; i < sizeof(nonce); i++)
		nonce[i] = (uint8_t)(0xa0 + i);
	memcpy(nonce2, nonce, sizeof(nonce2));
	nonce2[31] ^= 1;

	w_string(&want, "nkhsm-pam-challenge-v1", 22);
	w_string(&want, "host", 4);
	w_string(&want, "sshd", 4);
	w_string(&want, "alice", 5);
	w_string(&want, nonce, sizeof(nonce));
	assert_int_equal(want.len, 4 + 22 + 4 + 4 + 4 + 4 + 4 + 5 + 4 + 32);
	challenge("host", "sshd", "alice", nonce, &got);
	assert_int_equal(got.len, want.len);
	assert_memory_equal(got.d, want.d, want.len);
	assert_memory_equal(got.d, head, sizeof(head));

	/* Every input changes the message. */
	challenge("host", "sshd", "bob", nonce, &other);
	assert_false(wbuf_equal(&got, &other));
	challenge("host2", "sshd", "alice", nonce, &other);
	assert_false(wbuf_equal(&got, &other));
	challenge("host", "login", "alice", nonce, &other);
	assert_false(wbuf_equal(&got, &other));
	challenge("host", "sshd", "alice", nonce2, &other);
	assert_false(wbuf_equal(&got, &other));
	/* Lengths keep the fields apart: "ab"+"c" is not "a"+"bc". */
	challenge("ab", "c", "u", nonce, &got);
	challenge("a", "bc", "u", nonce, &other);
	assert_int_equal(got.len, other.len);
	assert_false(wbuf_equal(&got, &other));
	/* Same inputs, same message. */
	challenge("a", "bc", "u", nonce, &got);
	assert_true(wbuf_equal(&got, &other));
}

/* pnk_escape */

static void
escape_is(const char *in, const char *want)
{
	char out[256];

	memset(out, 'Z', sizeof(out));
	pnk_escape(in, out, sizeof(out));
	assert_string_equal(out, want);
}

static void
test_escape(void **state)
{
	static const char in[] = "a\"b\\c\n\xff";
	static const char full[] = "a\\x22b\\x5cc\\x0a\\xff";
	/* Where full may be cut: after each whole character's output. */
	static const size_t cuts[] = { 0, 1, 5, 6, 10, 11, 15, 19 };
	char out[64];
	size_t outlen, n, i;
	int ok;

	escape_is("plain text, 123 ~!@#$%^&*()'", "plain text, 123 ~!@#$%^&*()'");
	escape_is("", "");
	escape_is(NULL, "");
	escape_is("a\nb\tc\r\x01\x1f", "a\\x0ab\\x09c\\x0d\\x01\\x1f");
	escape_is("say \"hi\"", "say \\x22hi\\x22");
	escape_is("back\\slash", "back\\x5cslash");
	escape_is("\x7f\x80\xff", "\\x7f\\x80\\xff");
	escape_is("caf\xc3\xa9", "caf\\xc3\\xa9");
	escape_is("\x1b[31mred", "\\x1b[31mred");
	escape_is(in, full);

	/* outlen 0 writes nothing. */
	memset(out, 'Z', sizeof(out));
	pnk_escape(in, out, 0);
	assert_int_equal(out[0], 'Z');
	/*
	 * Any outlen: NUL-terminated inside outlen, nothing written past it,
	 * a prefix of the full output that never splits a \xNN.
	 */
	for (outlen = 1; outlen <= sizeof(full) + 8; outlen++) {
		memset(out, 'Z', sizeof(out));
		pnk_escape(in, out, outlen);
		n = strnlen(out, outlen);
		assert_true(n < outlen);
		for (i = outlen; i < sizeof(out); i++)
			assert_int_equal(out[i], 'Z');
		assert_memory_equal(out, full, n);
		for (ok = 0, i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++)
			ok |= cuts[i] == n;
		if (!ok)
			fail_msg("outlen %zu: cut at %zu", outlen, n);
		if (outlen >= sizeof(full) + 4)
			assert_string_equal(out, full);
	}
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path) == 0 ? 0 : -1;
}

static int
setup_dir(void **state)
{
	char tmpl[] = "/tmp/nkhsm-test-authfile.XXXXXX";

	if (mkdtemp(tmpl) == NULL || realpath(tmpl, tmpdir) == NULL)
		return -1;
	return 0;
}

static int
teardown_dir(void **state)
{
	return nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expand_path),
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_options),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_parse_errbuf),
		cmocka_unit_test(test_load_good),
		cmocka_unit_test(test_load_errors),
		cmocka_unit_test(test_load_owner),
		cmocka_unit_test(test_load_dirs),
		cmocka_unit_test(test_challenge),
		cmocka_unit_test(test_escape),
	};

	return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
