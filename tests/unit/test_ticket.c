/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_ticket.c - what pam_nkhsm's authentication hands to the session
 * step (pam_nkhsm/ticket.c): the record's encoding, which token strings may
 * go into a session record, which tickets fit a session, and tickets on
 * disk being single-use, private and unforgeable.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "nkhsm.h"
#include "pamnk.h"

#define FP_OK	"SHA256:abcdefghijklmnopqrstuvwxyzABCDEFGHIJK+/0123"

static void
fill(struct pnk_authrec *a)
{
	memset(a, 0, sizeof(*a));
	a->user = strdup("alice");
	a->uid = 1001;
	a->service = strdup("sshd");
	a->serial = strdup("DENK0100123");
	a->label = strdup("SmartCard-HSM (UserPIN)");
	a->model = strdup("PKCS#15 emulated");
	a->manufacturer = strdup("www.CardContact.de");
	a->fp = strdup(FP_OK);
	a->pid = 4242;
	a->ppid = 4000;
	a->created = 1700000000;
	assert_non_null(a->fp);
}

static void
test_roundtrip(void **state)
{
	struct pnk_authrec a, b;
	uint8_t *enc = NULL;
	size_t len = 0, cut;

	(void)state;
	fill(&a);
	assert_int_equal(pnk_authrec_encode(&a, &enc, &len), 0);
	assert_int_equal(pnk_authrec_decode(enc, len, &b), 0);
	assert_string_equal(b.user, "alice");
	assert_int_equal(b.uid, 1001);
	assert_string_equal(b.service, "sshd");
	assert_string_equal(b.serial, a.serial);
	assert_string_equal(b.label, a.label);
	assert_string_equal(b.model, a.model);
	assert_string_equal(b.manufacturer, a.manufacturer);
	assert_string_equal(b.fp, FP_OK);
	assert_int_equal(b.pid, 4242);
	assert_int_equal(b.ppid, 4000);
	assert_int_equal(b.created, 1700000000);
	pnk_authrec_free(&b);
	/* Every truncation, and trailing bytes, are malformed. */
	for (cut = 0; cut < len; cut++) {
		assert_int_not_equal(pnk_authrec_decode(enc, cut, &b), 0);
		assert_null(b.user);
	}
	enc = realloc(enc, len + 1);
	enc[len] = 0;
	assert_int_equal(pnk_authrec_decode(enc, len + 1, &b), NKHSM_ERR_FORMAT);
	/* Another magic string. */
	enc[10] ^= 1;
	assert_int_equal(pnk_authrec_decode(enc, len, &b), NKHSM_ERR_FORMAT);
	free(enc);
	pnk_authrec_free(&a);
}

/* Set one field to a value and say whether the record is fit. */
static const char *
unfit_with(char **field, const char *value, struct pnk_authrec *a)
{
	free(*field);
	*field = strdup(value);
	return pnk_authrec_unfit(a);
}

static void
test_unfit(void **state)
{
	static const char *const bad[] = {
		"a\nserial=X", "a=b", "a/b", "../x", "tab\there", "cr\r", "del\x7f",
		"esc\x1b[1m", "nel\xc2\x85", "bad\xff", "over\xc0\xaf",
		"surrogate\xed\xa0\x80", "cut\xe2\x82",
	};
	static const char *const good[] = {
		"SmartCard-HSM (UserPIN)", "Schl\xc3\xbcssel", "\xe2\x82\xac 1",
		"a b-c_d.e", "\xf0\x9f\x94\x91",
	};
	struct pnk_authrec a;
	char **fields[4];
	size_t i, f;

	(void)state;
	fill(&a);
	assert_null(pnk_authrec_unfit(&a));
	fields[0] = &a.serial;
	fields[1] = &a.label;
	fields[2] = &a.model;
	fields[3] = &a.manufacturer;
	for (f = 0; f < 4; f++) {
		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
			assert_non_null(unfit_with(fields[f], bad[i], &a));
		for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
			assert_null(unfit_with(fields[f], good[i], &a));
		assert_null(unfit_with(fields[f], "ok", &a));
	}
	assert_non_null(unfit_with(&a.serial, "", &a));
	assert_null(unfit_with(&a.serial, "1", &a));
	/* The fingerprint: exactly SHA256: and 43 base64 characters. */
	assert_non_null(unfit_with(&a.fp, "SHA256:abc", &a));
	assert_non_null(unfit_with(&a.fp, FP_OK "A", &a));
	assert_non_null(unfit_with(&a.fp,
	    "SHA256:abcdefghijklmnopqrstuvwxyzABCDEFGHIJK+/012=", &a));
	assert_non_null(unfit_with(&a.fp,
	    "MD5:abcdefghijklmnopqrstuvwxyzABCDEFGHIJK+/0123", &a));
	assert_null(unfit_with(&a.fp, FP_OK, &a));
	pnk_authrec_free(&a);
}

static void
test_fits(void **state)
{
	struct pnk_authrec a;
	int64_t t = 1700000000;

	(void)state;
	fill(&a);
	assert_null(pnk_ticket_fits(&a, "alice", 1001, "sshd", 4242, t));
	assert_null(pnk_ticket_fits(&a, "alice", 1001, "sshd", 4000, t));
	assert_null(pnk_ticket_fits(&a, "alice", 1001, "sshd", 4000,
	    t + PNK_TICKET_TTL));
	assert_string_equal(pnk_ticket_fits(&a, "alice", 1001, "sshd", 4000,
	    t + PNK_TICKET_TTL + 1), "expired");
	assert_string_equal(pnk_ticket_fits(&a, "alice", 1001, "sshd", 4000,
	    t - 1), "expired");
	assert_string_equal(pnk_ticket_fits(&a, "alice", 1001, "sshd", 4243, t),
	    "made by an unrelated process");
	assert_string_equal(pnk_ticket_fits(&a, "bob", 1001, "sshd", 4242, t),
	    "made for another user");
	assert_string_equal(pnk_ticket_fits(&a, "alice", 0, "sshd", 4242, t),
	    "made for another user");
	assert_string_equal(pnk_ticket_fits(&a, "alice", 1001, "login", 4242, t),
	    "made for another service");
	assert_null(pnk_authrec_names(&a, "alice", 1001, "sshd"));
	assert_non_null(pnk_authrec_names(&a, "alicE", 1001, "sshd"));
	pnk_authrec_free(&a);
}

static void
test_disk(void **state)
{
	char dir[] = "/tmp/nkticket.XXXXXX", path[512], ref[PNK_TICKET_REF_LEN + 1];
	char ref2[PNK_TICKET_REF_LEN + 1], err[512];
	struct pnk_authrec a, b;
	struct stat st;
	char c;

	(void)state;
	fill(&a);
	assert_non_null(mkdtemp(dir));
	assert_int_equal(chmod(dir, 0755), 0);
	/* Nothing written yet: no such ticket. */
	memset(ref, 'a', PNK_TICKET_REF_LEN);
	ref[PNK_TICKET_REF_LEN] = '\0';
	assert_int_equal(pnk_ticket_take(dir, ref, &b, err, sizeof(err)),
	    NKHSM_ERR_IO);
	assert_int_equal(pnk_ticket_write(dir, &a, ref, sizeof(ref), err,
	    sizeof(err)), 0);
	assert_int_equal(strlen(ref), PNK_TICKET_REF_LEN);
	assert_int_equal(strspn(ref, "0123456789abcdef"), PNK_TICKET_REF_LEN);
	snprintf(path, sizeof(path), "%s/auth", dir);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	/* Two writes, two references. */
	assert_int_equal(pnk_ticket_write(dir, &a, ref2, sizeof(ref2), err,
	    sizeof(err)), 0);
	assert_string_not_equal(ref, ref2);
	/* Malformed references are refused before any file is touched. */
	assert_int_equal(pnk_ticket_take(dir, "../x", &b, err, sizeof(err)),
	    NKHSM_ERR_FORMAT);
	c = ref[0];
	ref[0] = 'A';
	assert_int_equal(pnk_ticket_take(dir, ref, &b, err, sizeof(err)),
	    NKHSM_ERR_FORMAT);
	ref[0] = c == '0' ? '1' : '0';
	/* A wrong (but well-formed) reference finds nothing. */
	assert_int_equal(pnk_ticket_take(dir, ref, &b, err, sizeof(err)),
	    NKHSM_ERR_IO);
	/* The right one works once. */
	assert_int_equal(pnk_ticket_take(dir, ref2, &b, err, sizeof(err)), 0);
	assert_string_equal(b.serial, a.serial);
	assert_int_equal(b.pid, a.pid);
	pnk_authrec_free(&b);
	assert_int_equal(pnk_ticket_take(dir, ref2, &b, err, sizeof(err)),
	    NKHSM_ERR_IO);
	/* Dropped tickets are gone. */
	assert_int_equal(pnk_ticket_write(dir, &a, ref, sizeof(ref), err,
	    sizeof(err)), 0);
	pnk_ticket_drop(dir, ref);
	assert_int_equal(pnk_ticket_take(dir, ref, &b, err, sizeof(err)),
	    NKHSM_ERR_IO);
	/* A ticket directory others can read is not believed. */
	assert_int_equal(pnk_ticket_write(dir, &a, ref, sizeof(ref), err,
	    sizeof(err)), 0);
	assert_int_equal(chmod(path, 0755), 0);
	assert_int_equal(pnk_ticket_take(dir, ref, &b, err, sizeof(err)),
	    NKHSM_ERR_PERMISSION);
	assert_int_equal(pnk_ticket_write(dir, &a, ref, sizeof(ref), err,
	    sizeof(err)), NKHSM_ERR_PERMISSION);
	/* Nor a rundir others can write. */
	assert_int_equal(chmod(path, 0700), 0);
	assert_int_equal(chmod(dir, 0777), 0);
	assert_int_equal(pnk_ticket_write(dir, &a, ref, sizeof(ref), err,
	    sizeof(err)), NKHSM_ERR_PERMISSION);
	assert_int_equal(pnk_rundir_check(dir, err, sizeof(err)),
	    NKHSM_ERR_PERMISSION);
	snprintf(path, sizeof(path), "rm -rf %s", dir);
	assert_int_equal(system(path), 0);
	pnk_authrec_free(&a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_unfit),
		cmocka_unit_test(test_fits),
		cmocka_unit_test(test_disk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
