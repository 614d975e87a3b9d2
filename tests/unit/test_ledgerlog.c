/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_ledgerlog.c - nkhsm-sshca's log entries (sshca/ledgerlog.c): the
 * strict reader, the writer it mirrors, and the field comparison that
 * verify-log names columns by. The chain hash is checked against a value
 * computed by sha256sum over "PREV\nENTRY".
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
#include "buf.h"
#include "ledgerlog.h"

static void
test_parse_strict(void **state)
{
	static const struct {
		const char	*text;
		const char	*why;
	} bad[] = {
		{ "event=x seq=1", "no seq=N at the start" },
		{ "seq=0 event=x", "no seq=N at the start" },
		{ "seq=01 event=x", "no seq=N at the start" },
		{ "seq=-1 event=x", "no seq=N at the start" },
		{ "seq=1  event=x", "malformed field 2" },
		{ "seq=1 event=x ", "malformed field 3" },
		{ "seq=1 Event=x", "malformed field 2" },
		{ "seq=1 =x", "malformed field 2" },
		{ "seq=1 event", "malformed field 2" },
		{ "seq=1 event=x event=y", "field event given twice" },
		{ "seq=1 k=a%41", "malformed value of k" },	/* 'A' is never escaped */
		{ "seq=1 k=a%2", "malformed value of k" },
		{ "seq=1 k=a%2g", "malformed value of k" },
		{ "seq=1 k=a%2f", "malformed value of k" },	/* lower case */
		{ "seq=1 k=%00", "malformed value of k" },
		{ "seq=1 k=a=b", "malformed value of k" },
		{ "seq=1 k=a\tb", "malformed value of k" },
	};
	struct sc_logent e;
	char err[128];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		if (sc_logent_parse(bad[i].text, &e, err, sizeof(err)) !=
		    NKHSM_ERR_FORMAT || strcmp(err, bad[i].why) != 0)
			fail_msg("'%s': '%s', wanted '%s'", bad[i].text, err,
			    bad[i].why);
		assert_int_equal(e.n, 0);
	}
}

static void
test_round_trip(void **state)
{
	struct sc_logent e;
	struct nk_buf b;
	char err[128];
	const char *text = "seq=12 event=revoke time=5 what=key_id "
	    "value=a%20b%3Dc%25d%0A%C3%A9 subject_key_sha256= at=5 reason=";

	(void)state;
	assert_int_equal(sc_logent_parse(text, &e, err, sizeof(err)), 0);
	assert_int_equal(e.seq, 12);
	assert_string_equal(sc_logent_get(&e, "value"), "a b=c%d\n\xc3\xa9");
	assert_string_equal(sc_logent_get(&e, "reason"), "");
	assert_null(sc_logent_get(&e, "nothing"));
	nk_buf_init(&b);
	assert_int_equal(sc_log_put_u64(&b, "seq", 12), 0);
	assert_int_equal(sc_log_put(&b, "event", "revoke"), 0);
	assert_int_equal(sc_log_put(&b, "time", "5"), 0);
	assert_int_equal(sc_log_put(&b, "what", "key_id"), 0);
	assert_int_equal(sc_log_put(&b, "value", "a b=c%d\n\xc3\xa9"), 0);
	assert_int_equal(sc_log_put(&b, "subject_key_sha256", ""), 0);
	assert_int_equal(sc_log_put(&b, "at", "5"), 0);
	assert_int_equal(sc_log_put(&b, "reason", NULL), 0);
	assert_int_equal(nk_buf_avail(&b), strlen(text));
	assert_memory_equal(nk_buf_ptr(&b), text, strlen(text));
	assert_int_equal(sc_log_put(&b, "Bad", "x"), NKHSM_ERR_INVALID_ARGUMENT);
	nk_buf_free(&b);
	sc_logent_free(&e);
}

static struct sc_row
row(void)
{
	static const uint8_t cert[] = { 1, 2, 3 };
	struct sc_row c;

	memset(&c, 0, sizeof(c));
	c.family = "ssh";
	c.kind = "ssh-user";
	c.serial = "42";
	c.key_id = "alice";
	c.principals = "alice,root";
	c.valid_after = 100;
	c.valid_before = UINT64_MAX;
	c.issued_at = 90;
	c.subject_fp = "SHA256:x";
	c.subject_key = "AAAA";
	c.cert = cert;
	c.certlen = sizeof(cert);
	return c;
}

/* An entry written from a row, then each column changed in turn. */
static void
test_cert_fields(void **state)
{
	struct sc_row c = row(), d;
	struct sc_field f[SC_CERT_FIELDS];
	struct sc_logent e;
	const char *col;
	char *entry = NULL, *full = NULL;
	static const uint8_t other[] = { 1, 2, 4 };

	(void)state;
	assert_int_equal(sc_log_cert_entry("issue", &c, 90, 0, &entry), 0);
	assert_non_null(strstr(entry, "valid_before=18446744073709551615"));
	assert_true(asprintf(&full, "seq=7 %s", entry) > 0);
	assert_int_equal(sc_logent_parse(full, &e, NULL, 0), 0);
	assert_int_equal(sc_log_cert_fields(&c, f), 0);
	assert_int_equal(sc_log_check_fields(f, SC_CERT_FIELDS, &e, &col), 0);
	sc_log_fields_free(f, SC_CERT_FIELDS);
#define CHANGED(stmt, want) do {					\
	d = c;								\
	stmt;								\
	assert_int_equal(sc_log_cert_fields(&d, f), 0);			\
	assert_int_equal(sc_log_check_fields(f, SC_CERT_FIELDS, &e, &col), \
	    NKHSM_ERR_SIGNATURE);					\
	assert_string_equal(col, want);					\
	sc_log_fields_free(f, SC_CERT_FIELDS);				\
} while (0)
	CHANGED(d.family = "x509", "family");
	CHANGED(d.kind = "ssh-host", "kind");
	CHANGED(d.serial = "4", "serial");
	CHANGED(d.cert = other, "cert");
	CHANGED(d.certlen = 2, "cert");
	CHANGED(d.subject_fp = "SHA256:y", "subject_fp");
	CHANGED(d.subject_key = "AAAB", "subject_key");
	CHANGED(d.subject_key = NULL, "subject_key");
	CHANGED(d.valid_after = 101, "valid_after");
	CHANGED(d.null_valid_after = 1, "valid_after");
	CHANGED(d.valid_before = 0, "valid_before");
	CHANGED(d.issued_at = 91, "issued_at");
	CHANGED(d.key_id = "root", "key_id");
	CHANGED(d.principals = "alice,root,admin", "principals");
	CHANGED(d.principals = NULL, "principals");
	/* NULL and "" differ: a NULL never matches. */
	CHANGED(d.cert = NULL, "cert");
#undef CHANGED
	sc_logent_free(&e);
	free(entry);
	free(full);
}

static void
test_chain_hash(void **state)
{
	char h[65];

	(void)state;
	/* printf '%s\nseq=1 event=format time=1 version=2' "$GENESIS" | sha256sum */
	assert_int_equal(sc_log_chain_hash(SC_LOG_GENESIS,
	    "seq=1 event=format time=1 version=2", h), 0);
	assert_string_equal(h,
	    "babbfeebd5c58704640e66c0952801324bc404b3ccacf8dcb6ce0ef37a648a8d");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_strict),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_cert_fields),
		cmocka_unit_test(test_chain_hash),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
