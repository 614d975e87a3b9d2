/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * test_policy.c - the certificate policy (sshca/policy.c): every parse
 * error and every refusal with its exact "FILE:LINE: reason" message,
 * pattern-section precedence, %k expansion (a key id is never a glob),
 * and sc_policy_load's file checks.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

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
#include "sshca.h"

#define NOW		((time_t)1800000000)
#define HOUR		UINT64_C(3600)
#define DAY		(24 * HOUR)

static char tmpdir[] = "/tmp/nkhsm-test-policy.XXXXXX";

static struct sc_policy *
parse_ok(const char *text)
{
	struct sc_policy *pol = NULL;
	char err[512] = "";
	int r;

	r = sc_policy_parse("t.conf", text, strlen(text), &pol, err,
	    sizeof(err));
	if (r != 0)
		fail_msg("parse failed: %d: %s", r, err);
	assert_non_null(pol);
	return pol;
}

static void
parse_fails_len(const char *text, size_t len, const char *want)
{
	struct sc_policy *pol = (struct sc_policy *)&pol;
	char err[512] = "";
	int r;

	r = sc_policy_parse("t.conf", text, len, &pol, err, sizeof(err));
	if (r != NKHSM_ERR_CONFIG)
		fail_msg("'%s': %d, expected NKHSM_ERR_CONFIG", text, r);
	assert_null(pol);
	if (strcmp(err, want) != 0)
		fail_msg("message '%s', expected '%s'", err, want);
}

static void
parse_fails(const char *text, const char *want)
{
	parse_fails_len(text, strlen(text), want);
}

/* A request as the CLI would build it; fields filled directly. */
struct req {
	struct sc_certreq	r;
	struct sc_pubkey	k;
	char			*principals[8];
};

static void
req_init(struct req *q, int type, const char *key_id, const char *plist)
{
	char *s, *tok, *save = NULL;

	memset(q, 0, sizeof(*q));
	q->r.type = type;
	q->r.serial = 1;
	q->r.key_id = (char *)key_id;
	q->r.valid_after = (uint64_t)NOW;
	q->r.valid_before = (uint64_t)NOW + HOUR;
	q->r.principals = q->principals;
	if (plist != NULL) {
		assert_non_null(s = strdup(plist));
		for (tok = strtok_r(s, ",", &save); tok != NULL;
		    tok = strtok_r(NULL, ",", &save)) {
			assert_true(q->r.nprincipals < 8);
			assert_non_null(q->principals[q->r.nprincipals++] =
			    strdup(tok));
		}
		free(s);
	}
	strcpy(q->k.type, "ssh-ed25519");
	q->k.bits = 256;
}

static void
req_ext(struct req *q, const char *name)
{
	q->r.ext[q->r.next++].name = (char *)name;
}

static void
req_crit(struct req *q, const char *name, const char *value)
{
	q->r.crit[q->r.ncrit].name = (char *)name;
	q->r.crit[q->r.ncrit++].value = (char *)value;
}

/* The five extensions ssh-keygen (and sc_apply_default_extensions) adds. */
static void
req_default_ext(struct req *q)
{
	req_ext(q, "permit-X11-forwarding");
	req_ext(q, "permit-agent-forwarding");
	req_ext(q, "permit-port-forwarding");
	req_ext(q, "permit-pty");
	req_ext(q, "permit-user-rc");
}

static void
req_free(struct req *q)
{
	size_t i;

	for (i = 0; i < q->r.nprincipals; i++)
		free(q->principals[i]);
}

static void
allowed(const struct sc_policy *pol, struct req *q)
{
	char err[512] = "";
	int r;

	r = sc_policy_check(pol, &q->r, &q->k, NOW, err, sizeof(err));
	if (r != 0)
		fail_msg("refused: %d: %s", r, err);
	req_free(q);
}

static void
refused(const struct sc_policy *pol, struct req *q, const char *want)
{
	char err[512] = "";

	assert_int_equal(sc_policy_check(pol, &q->r, &q->k, NOW, err,
	    sizeof(err)), NKHSM_ERR_PERMISSION);
	if (strcmp(err, want) != 0)
		fail_msg("message '%s', expected '%s'", err, want);
	req_free(q);
}

static void
test_parse_good(void **state)
{
	static const char text[] =
	    "# nkhsm-sshca policy\n"
	    "\n"
	    "[user]\n"
	    "max_validity = 8h\n"
	    "principals = %k\n"
	    "options = permit-pty permit-port-forwarding force-command\n"
	    "key_types = ecdsa-sha2-nistp256 ssh-ed25519\n"
	    "   # indented comment\n"
	    "\t[user \"admin-*\"]  \r\n"
	    "  principals\t=  root   %k-adm \r\n"
	    "min_rsa_bits=3072\n"
	    "[ host ]\n"
	    "max_validity = 365d\n"
	    "[host \"*.example.com\"]\n"
	    "max_validity = 1d12h30m15s\n"
	    "[user \"forever-*\"]\n"
	    "max_validity = forever\n"
	    "options = force-command source-address verify-required "
	    "no-touch-required permit-X11-forwarding permit-agent-forwarding "
	    "permit-port-forwarding permit-pty permit-user-rc\n"
	    "key_types = ecdsa-sha2-nistp256 ecdsa-sha2-nistp384 "
	    "ecdsa-sha2-nistp521 ssh-ed25519 ssh-rsa\n"
	    "[user \"empty\"]";	/* no final newline; a section may be empty */
	struct sc_policy *pol;

	(void)state;
	pol = parse_ok(text);
	sc_policy_free(&pol);
	assert_null(pol);
	sc_policy_free(&pol);
	sc_policy_free(NULL);

	pol = parse_ok("");
	sc_policy_free(&pol);
	assert_int_equal(sc_policy_parse("t.conf", NULL, 0, &pol, NULL, 0), 0);
	sc_policy_free(&pol);
	assert_int_equal(sc_policy_parse("t.conf", NULL, 1, &pol, NULL, 0),
	    NKHSM_ERR_INVALID_ARGUMENT);
	assert_int_equal(sc_policy_parse("t.conf", "", 0, NULL, NULL, 0),
	    NKHSM_ERR_INVALID_ARGUMENT);
	/* user and host sections may share a pattern */
	pol = parse_ok("[user \"a*\"]\n[host \"a*\"]\n[user]\n[host]\n");
	sc_policy_free(&pol);
}

static void
test_parse_errors(void **state)
{
	static const struct {
		const char *text, *want;
	} t[] = {
		{ "max_validity = 8h\n", "t.conf:1: 'max_validity' outside a "
		    "section (add [user] or [host] above it)" },
		{ "# c\n\n  principals = x\n[user]\n", "t.conf:3: "
		    "'principals' outside a section (add [user] or [host] "
		    "above it)" },
		{ "[user]\nfoo = 1\n", "t.conf:2: unknown key 'foo'" },
		{ "[user]\nMax_validity = 1h\n", "t.conf:2: unknown key "
		    "'Max_validity'" },
		{ "[user]\nmax_validity = 8h\nmax_validity = 9h\n",
		    "t.conf:3: duplicate key 'max_validity' (first set on "
		    "line 2)" },
		{ "[user]\n[host]\n[user]\n", "t.conf:3: duplicate section "
		    "[user] (first on line 1)" },
		{ "[host \"a*\"]\n[user \"a*\"]\n[ host  \"a*\" ]\n",
		    "t.conf:3: duplicate section [host \"a*\"] (first on "
		    "line 1)" },
		{ "[group]\n", "t.conf:1: unknown section 'group' (expected "
		    "user or host)" },
		{ "[]\n", "t.conf:1: unknown section '' (expected user or "
		    "host)" },
		{ "[User]\n", "t.conf:1: unknown section 'User' (expected "
		    "user or host)" },
		{ "[user\n", "t.conf:1: malformed section header (expected "
		    "[user] or [user \"PATTERN\"])" },
		{ "[host pat]\n", "t.conf:1: malformed section header "
		    "(expected [host] or [host \"PATTERN\"])" },
		{ "[user \"a\" \"b\"]\n", "t.conf:1: malformed section header "
		    "(expected [user] or [user \"PATTERN\"])" },
		{ "[user \"a]\n", "t.conf:1: unterminated pattern in section "
		    "header" },
		{ "[user \"\"]\n", "t.conf:1: empty pattern in section "
		    "header" },
		{ "[user] x\n", "t.conf:1: text after section header" },
		{ "[user] # comment\n", "t.conf:1: text after section "
		    "header" },
		{ "[user]\nmax_validity\n", "t.conf:2: missing '=' after "
		    "'max_validity'" },
		{ "[user]\nmax_validity 8h\n", "t.conf:2: missing '=' after "
		    "'max_validity'" },
		{ "[user]\n= 8h\n", "t.conf:2: missing key before '='" },
		{ "[user]\nmax_validity =\n", "t.conf:2: empty value for "
		    "'max_validity'" },
		{ "[user]\nprincipals = \t \r\n", "t.conf:2: empty value for "
		    "'principals'" },
		{ "[user]\nprincipals = %k # the key id\n", "t.conf:2: '#' "
		    "in value for 'principals' (comments go on their own "
		    "line)" },
		{ "[user]\nmax_validity = 8h#x\n", "t.conf:2: '#' in value "
		    "for 'max_validity' (comments go on their own line)" },
		{ "[user]\nprincipals = \"root\"\n", "t.conf:2: '\"' in value "
		    "for 'principals' (values are not quoted)" },
		/* durations */
		{ "[user]\nmax_validity = 8x\n", "t.conf:2: bad max_validity "
		    "'8x' (expected a duration like 8h, 30d, 1w, or "
		    "forever)" },
		{ "[user]\nmax_validity = 0h\n", "t.conf:2: bad max_validity "
		    "'0h' (expected a duration like 8h, 30d, 1w, or "
		    "forever)" },
		{ "[user]\nmax_validity = 8\n", "t.conf:2: bad max_validity "
		    "'8' (expected a duration like 8h, 30d, 1w, or forever)" },
		{ "[user]\nmax_validity = h\n", "t.conf:2: bad max_validity "
		    "'h' (expected a duration like 8h, 30d, 1w, or forever)" },
		{ "[user]\nmax_validity = -1h\n", "t.conf:2: bad max_validity "
		    "'-1h' (expected a duration like 8h, 30d, 1w, or "
		    "forever)" },
		{ "[user]\nmax_validity = +1h\n", "t.conf:2: bad max_validity "
		    "'+1h' (expected a duration like 8h, 30d, 1w, or "
		    "forever)" },
		{ "[user]\nmax_validity = 8H\n", "t.conf:2: bad max_validity "
		    "'8H' (expected a duration like 8h, 30d, 1w, or "
		    "forever)" },
		{ "[user]\nmax_validity = Forever\n", "t.conf:2: bad "
		    "max_validity 'Forever' (expected a duration like 8h, 30d, "
		    "1w, or forever)" },
		{ "[user]\nmax_validity = 40000000000000w\n", "t.conf:2: bad "
		    "max_validity '40000000000000w' (expected a duration like "
		    "8h, 30d, 1w, or forever)" },
		{ "[user]\nmax_validity = 99999999999999999999s\n",
		    "t.conf:2: bad max_validity '99999999999999999999s' "
		    "(expected a duration like 8h, 30d, 1w, or forever)" },
		{ "[user]\nmax_validity = 1h 2h\n", "t.conf:2: bad "
		    "max_validity '1h 2h' (one value expected)" },
		/* principals */
		{ "[user]\nprincipals = root,admin\n", "t.conf:2: comma in "
		    "principal (separate principals with spaces) "
		    "'root,admin'" },
		{ "[user]\nprincipals = %u\n", "t.conf:2: bad '%' escape in "
		    "principal (only %k and %%) '%u'" },
		{ "[user]\nprincipals = a%\n", "t.conf:2: bad '%' escape in "
		    "principal (only %k and %%) 'a%'" },
		{ "[user]\nprincipals = a\\\n", "t.conf:2: trailing "
		    "backslash in principal 'a\\x5c'" },
		{ "[user]\nprincipals = a b a\n", "t.conf:2: duplicate "
		    "principal 'a'" },
		/* options, key types, RSA bits */
		{ "[user]\noptions = permit-pty permit-everything\n",
		    "t.conf:2: unknown option 'permit-everything'" },
		{ "[user]\noptions = no-pty\n", "t.conf:2: unknown option "
		    "'no-pty'" },
		{ "[user]\noptions = permit-pty permit-pty\n", "t.conf:2: "
		    "duplicate option 'permit-pty'" },
		{ "[host]\nkey_types = ssh-dss\n", "t.conf:2: unknown key "
		    "type 'ssh-dss'" },
		{ "[host]\nkey_types = ssh-ed25519-cert-v01@openssh.com\n",
		    "t.conf:2: unknown key type "
		    "'ssh-ed25519-cert-v01@openssh.com'" },
		{ "[host]\nkey_types = ssh-rsa ssh-rsa\n", "t.conf:2: "
		    "duplicate key type 'ssh-rsa'" },
		{ "[user]\nmin_rsa_bits = 1024\n", "t.conf:2: bad "
		    "min_rsa_bits '1024' (expected 2048 to 16384)" },
		{ "[user]\nmin_rsa_bits = 2047\n", "t.conf:2: bad "
		    "min_rsa_bits '2047' (expected 2048 to 16384)" },
		{ "[user]\nmin_rsa_bits = 16385\n", "t.conf:2: bad "
		    "min_rsa_bits '16385' (expected 2048 to 16384)" },
		{ "[user]\nmin_rsa_bits = 02048\n", "t.conf:2: bad "
		    "min_rsa_bits '02048' (expected 2048 to 16384)" },
		{ "[user]\nmin_rsa_bits = 4096bits\n", "t.conf:2: bad "
		    "min_rsa_bits '4096bits' (expected 2048 to 16384)" },
		{ "[user]\nmin_rsa_bits = 99999999999999999999\n",
		    "t.conf:2: bad min_rsa_bits '99999999999999999999' "
		    "(expected 2048 to 16384)" },
		{ "[user]\nmin_rsa_bits = 2048 4096\n", "t.conf:2: bad "
		    "min_rsa_bits '2048 4096' (one value expected)" },
		/* bytes */
		{ "[user]\nprincipals = a\x01\n", "t.conf:2: control "
		    "character 0x01" },
		{ "[user]\x7f\n", "t.conf:1: control character 0x7f" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++)
		parse_fails(t[i].text, t[i].want);
	parse_fails_len("[user]\nprinc\0ipals = a\n", 22,
	    "t.conf:2: NUL byte");
}

static void
test_parse_limits(void **state)
{
	struct sc_policy *pol;
	char *text, line[1100];
	size_t i, n;
	int r;

	(void)state;
	/* 1024-byte lines are fine, 1025 are not */
	memset(line, 'a', sizeof(line));
	line[0] = '#';
	line[1024] = '\0';
	assert_non_null(text = malloc(2048));
	snprintf(text, 2048, "[user]\n%s\n", line);
	pol = parse_ok(text);
	sc_policy_free(&pol);
	line[1024] = 'a';
	line[1025] = '\0';
	snprintf(text, 2048, "[user]\n%s\n", line);
	parse_fails(text, "t.conf:2: line too long (max 1024 bytes)");
	free(text);

	/* 64 KiB of text, not one byte more */
	assert_non_null(text = malloc(64 * 1024 + 2));
	memset(text, '#', 64 * 1024 + 1);
	for (i = 1000; i < 64 * 1024; i += 1000)
		text[i] = '\n';
	text[64 * 1024 + 1] = '\0';
	parse_fails(text, "t.conf: file too large (max 65536 bytes)");
	r = sc_policy_parse("t.conf", text, 64 * 1024, &pol, NULL, 0);
	assert_int_equal(r, 0);
	sc_policy_free(&pol);
	free(text);

	/* 64 sections */
	assert_non_null(text = malloc(65 * 32));
	for (i = 0, n = 0; i < 65; i++)
		n += (size_t)snprintf(text + n, 65 * 32 - n,
		    "[user \"p%zu\"]\n", i);
	parse_fails(text, "t.conf:65: too many sections (max 64)");
	*strstr(text, "[user \"p64\"]") = '\0';
	pol = parse_ok(text);
	sc_policy_free(&pol);
	free(text);

	/* 256 principals in one value, not 257 */
	assert_non_null(text = malloc(1100));
	n = (size_t)snprintf(text, 1100, "[user]\nprincipals =");
	for (i = 0; i < 257; i++)
		n += (size_t)snprintf(text + n, 1100 - n, " %c%c",
		    'a' + (int)(i / 26), 'a' + (int)(i % 26));
	parse_fails(text, "t.conf:2: too many principals (max 256)");
	text[n - 3] = '\0';
	pol = parse_ok(text);
	sc_policy_free(&pol);
	free(text);
}

static void
test_sections(void **state)
{
	struct sc_policy *pol;
	struct req q;
	char err[64];

	(void)state;
	pol = parse_ok("[user]\n");
	req_init(&q, SC_CERT_HOST, "web1", "web1.example.com");
	refused(pol, &q, "t.conf: no [host] section");
	req_init(&q, SC_CERT_USER, "alice", "alice");
	allowed(pol, &q);
	sc_policy_free(&pol);

	pol = parse_ok("");
	req_init(&q, SC_CERT_USER, "alice", "alice");
	refused(pol, &q, "t.conf: no [user] section");
	sc_policy_free(&pol);

	/* pattern sections alone: only the key ids they match */
	pol = parse_ok("[user \"ops-*\"]\n[host \"*.example.com\"]\n");
	req_init(&q, SC_CERT_USER, "ops-alice", "alice");
	allowed(pol, &q);
	req_init(&q, SC_CERT_USER, "bob", "bob");
	refused(pol, &q, "t.conf: no [user] section matches key id 'bob'");
	req_init(&q, SC_CERT_HOST, "web1.example.com", "web1");
	allowed(pol, &q);
	req_init(&q, SC_CERT_HOST, "web1.example.org", "web1");
	refused(pol, &q, "t.conf: no [host] section matches key id "
	    "'web1.example.org'");
	/* a NULL key id matches like "" */
	req_init(&q, SC_CERT_USER, NULL, "x");
	refused(pol, &q, "t.conf: no [user] section matches key id ''");

	/* bad arguments */
	req_init(&q, SC_CERT_USER, "ops-a", "a");
	assert_int_equal(sc_policy_check(NULL, &q.r, &q.k, NOW, err,
	    sizeof(err)), NKHSM_ERR_INVALID_ARGUMENT);
	assert_int_equal(sc_policy_check(pol, NULL, &q.k, NOW, err,
	    sizeof(err)), NKHSM_ERR_INVALID_ARGUMENT);
	assert_int_equal(sc_policy_check(pol, &q.r, NULL, NOW, err,
	    sizeof(err)), NKHSM_ERR_INVALID_ARGUMENT);
	q.r.type = 3;
	assert_int_equal(sc_policy_check(pol, &q.r, &q.k, NOW, err,
	    sizeof(err)), NKHSM_ERR_INVALID_ARGUMENT);
	req_free(&q);
	sc_policy_free(&pol);
}

static void
test_validity(void **state)
{
	static const char text[] =
	    "[user]\n"				/* 1 */
	    "max_validity = 8h\n"		/* 2 */
	    "[user \"svc-*\"]\n"		/* 3 */
	    "max_validity = 1w\n"		/* 4 */
	    "[user \"root-*\"]\n"		/* 5 */
	    "max_validity = forever\n"		/* 6 */
	    "[user \"ops-*\"]\n"		/* 7: inherits 8h */
	    "principals = *\n"			/* 8 */
	    "[host]\n";				/* 9: no max_validity */
	struct sc_policy *pol;
	struct req q;

	(void)state;
	pol = parse_ok(text);

	req_init(&q, SC_CERT_USER, "alice", "alice");
	q.r.valid_before = q.r.valid_after + 8 * HOUR;
	allowed(pol, &q);
	req_init(&q, SC_CERT_USER, "alice", "alice");
	q.r.valid_before = q.r.valid_after + 8 * HOUR + 1;
	refused(pol, &q, "t.conf:2: max_validity 8h exceeded (requested "
	    "8h1s)");
	req_init(&q, SC_CERT_USER, "alice", "alice");
	q.r.valid_before = q.r.valid_after + 2 * DAY;
	refused(pol, &q, "t.conf:2: max_validity 8h exceeded (requested 2d)");
	req_init(&q, SC_CERT_USER, "alice", "alice");
	q.r.valid_before = q.r.valid_after + 9 * DAY + 90 * 60 + 5;
	refused(pol, &q, "t.conf:2: max_validity 8h exceeded (requested "
	    "1w2d1h30m5s)");
	/* what counts is the usable time from now: backdating is free ... */
	req_init(&q, SC_CERT_USER, "alice", "alice");
	q.r.valid_after = (uint64_t)NOW - 5 * 60;
	q.r.valid_before = (uint64_t)NOW + 8 * HOUR;
	allowed(pol, &q);
	req_init(&q, SC_CERT_USER, "alice", "alice");	/* "always:+1h" */
	q.r.valid_after = 0;
	allowed(pol, &q);
	/* ... and post-dating does not hide a far end */
	req_init(&q, SC_CERT_USER, "alice", "alice");
	q.r.valid_after = (uint64_t)NOW + 10 * DAY;
	q.r.valid_before = (uint64_t)NOW + 10 * DAY + HOUR;
	refused(pol, &q, "t.conf:2: max_validity 8h exceeded (requested "
	    "1w3d1h)");
	req_init(&q, SC_CERT_USER, "alice", "alice");
	q.r.valid_before = SC_FOREVER;
	refused(pol, &q, "t.conf:2: max_validity 8h exceeded (requested "
	    "forever)");
	req_init(&q, SC_CERT_USER, "alice", "alice");
	q.r.valid_after = q.r.valid_before + 1;
	refused(pol, &q, "t.conf:2: validity ends before it starts");

	/* a pattern section's own limit overrides, in both directions */
	req_init(&q, SC_CERT_USER, "svc-backup", "backup");
	q.r.valid_before = q.r.valid_after + 7 * DAY;
	allowed(pol, &q);
	req_init(&q, SC_CERT_USER, "svc-backup", "backup");
	q.r.valid_before = SC_FOREVER;
	refused(pol, &q, "t.conf:4: max_validity 1w exceeded (requested "
	    "forever)");
	req_init(&q, SC_CERT_USER, "root-ca", "root");
	q.r.valid_before = SC_FOREVER;
	allowed(pol, &q);
	req_init(&q, SC_CERT_USER, "root-ca", "root");
	q.r.valid_after = 0;
	q.r.valid_before = UINT64_MAX - 1;
	allowed(pol, &q);
	/* ... and one without max_validity inherits the [user] rule */
	req_init(&q, SC_CERT_USER, "ops-1", "x");
	q.r.valid_before = q.r.valid_after + 9 * HOUR;
	refused(pol, &q, "t.conf:2: max_validity 8h exceeded (requested 9h)");

	/* no max_validity: any finite validity, never "forever" */
	req_init(&q, SC_CERT_HOST, "web1", "web1");
	q.r.valid_before = q.r.valid_after + 3650 * DAY;
	allowed(pol, &q);
	req_init(&q, SC_CERT_HOST, "web1", "web1");
	q.r.valid_before = SC_FOREVER;
	refused(pol, &q, "t.conf:9: unlimited validity not allowed (no "
	    "max_validity = forever)");
	sc_policy_free(&pol);
}

static void
test_principals(void **state)
{
	static const char text[] =
	    "[user]\n"					/* 1 */
	    "principals = %k %k-*\n"			/* 2 */
	    "[user \"admin-*\"]\n"			/* 3 */
	    "principals = root\n"			/* 4 */
	    "[user \"admin-b*\"]\n"			/* 5: shadowed */
	    "principals = bob\n"			/* 6 */
	    "[user \"lit-*\"]\n"			/* 7 */
	    "principals = \\%k %%k 100%% [ab]-%k\n"	/* 8 */
	    "[host]\n"					/* 9 */
	    "principals = %k *.example.com\n";		/* 10 */
	struct sc_policy *pol;
	struct req q;

	(void)state;
	pol = parse_ok(text);

	req_init(&q, SC_CERT_USER, "alice", "alice,alice-adm,alice-");
	allowed(pol, &q);
	req_init(&q, SC_CERT_USER, "alice", "alice,root");
	refused(pol, &q, "t.conf:2: principal 'root' not allowed for key id "
	    "'alice'");
	req_init(&q, SC_CERT_USER, "alice", "bob");
	refused(pol, &q, "t.conf:2: principal 'bob' not allowed for key id "
	    "'alice'");
	req_init(&q, SC_CERT_USER, "alice", NULL);
	refused(pol, &q, "t.conf:2: no principals requested for key id "
	    "'alice'");

	/* the first matching pattern section wins, in file order */
	req_init(&q, SC_CERT_USER, "admin-bob", "root");
	allowed(pol, &q);
	req_init(&q, SC_CERT_USER, "admin-bob", "bob");
	refused(pol, &q, "t.conf:4: principal 'bob' not allowed for key id "
	    "'admin-bob'");
	/* ... and replaces, not extends, the [user] list */
	req_init(&q, SC_CERT_USER, "admin-bob", "admin-bob");
	refused(pol, &q, "t.conf:4: principal 'admin-bob' not allowed for "
	    "key id 'admin-bob'");

	/* a key id is never a pattern: its glob characters are literal */
	req_init(&q, SC_CERT_USER, "*", "root");
	refused(pol, &q, "t.conf:2: principal 'root' not allowed for key id "
	    "'*'");
	req_init(&q, SC_CERT_USER, "*", "*,*-x");
	allowed(pol, &q);
	req_init(&q, SC_CERT_USER, "a?c", "abc");
	refused(pol, &q, "t.conf:2: principal 'abc' not allowed for key id "
	    "'a?c'");
	req_init(&q, SC_CERT_USER, "[a-z]", "q");
	refused(pol, &q, "t.conf:2: principal 'q' not allowed for key id "
	    "'[a-z]'");
	req_init(&q, SC_CERT_USER, "[a-z]", "[a-z]");
	allowed(pol, &q);
	req_init(&q, SC_CERT_USER, "x\\", "x\\,x\\-1");
	allowed(pol, &q);
	req_init(&q, SC_CERT_USER, "x\\", "x");
	refused(pol, &q, "t.conf:2: principal 'x' not allowed for key id "
	    "'x\\x5c'");

	/* \%k and %%k are the literal "%k"; %% is '%' */
	req_init(&q, SC_CERT_USER, "lit-1", "%k,100%,a-lit-1,b-lit-1");
	allowed(pol, &q);
	req_init(&q, SC_CERT_USER, "lit-1", "lit-1");
	refused(pol, &q, "t.conf:8: principal 'lit-1' not allowed for key id "
	    "'lit-1'");
	req_init(&q, SC_CERT_USER, "lit-1", "\\lit-1");
	refused(pol, &q, "t.conf:8: principal '\\x5clit-1' not allowed for "
	    "key id 'lit-1'");

	req_init(&q, SC_CERT_HOST, "web1", "web1,www.example.com");
	allowed(pol, &q);
	req_init(&q, SC_CERT_HOST, "web1", "www.example.org");
	refused(pol, &q, "t.conf:10: principal 'www.example.org' not allowed "
	    "for key id 'web1'");

	/* untrusted bytes are escaped in the message */
	req_init(&q, SC_CERT_USER, "al'ice\n", "r\001");
	refused(pol, &q, "t.conf:2: principal 'r\\x01' not allowed for key "
	    "id 'al\\x27ice\\x0a'");
	sc_policy_free(&pol);

	/* without a principals rule any (non-empty) list passes here */
	pol = parse_ok("[user]\n");
	req_init(&q, SC_CERT_USER, "alice", "root,bob");
	allowed(pol, &q);
	sc_policy_free(&pol);
}

static void
test_options(void **state)
{
	static const char text[] =
	    "[user]\n"						/* 1 */
	    "options = permit-pty force-command\n"		/* 2 */
	    "[user \"full-*\"]\n"				/* 3 */
	    "options = permit-X11-forwarding permit-agent-forwarding "
	    "permit-port-forwarding permit-pty permit-user-rc\n"	/* 4 */
	    "[user \"any-*\"]\n"				/* 5 */
	    "principals = *\n"					/* 6 */
	    "[host]\n";						/* 7 */
	struct sc_policy *pol;
	struct req q;

	(void)state;
	pol = parse_ok(text);

	req_init(&q, SC_CERT_USER, "alice", "alice");
	req_ext(&q, "permit-pty");
	req_crit(&q, "force-command", "/bin/true");
	allowed(pol, &q);
	req_init(&q, SC_CERT_USER, "alice", "alice");
	req_ext(&q, "permit-pty");
	req_ext(&q, "permit-user-rc");
	refused(pol, &q, "t.conf:2: option 'permit-user-rc' not allowed for "
	    "key id 'alice'");
	req_init(&q, SC_CERT_USER, "alice", "alice");
	req_crit(&q, "source-address", "10.0.0.0/8");
	refused(pol, &q, "t.conf:2: option 'source-address' not allowed for "
	    "key id 'alice'");
	req_init(&q, SC_CERT_USER, "alice", "alice");
	req_ext(&q, "login@example.com");
	refused(pol, &q, "t.conf:2: option 'login@example.com' not allowed "
	    "for key id 'alice'");
	/* ssh-keygen's default extensions count: they must be listed */
	req_init(&q, SC_CERT_USER, "alice", "alice");
	req_default_ext(&q);
	refused(pol, &q, "t.conf:2: option 'permit-X11-forwarding' not "
	    "allowed for key id 'alice'");
	req_init(&q, SC_CERT_USER, "full-alice", "alice");
	req_default_ext(&q);
	allowed(pol, &q);
	req_init(&q, SC_CERT_USER, "full-alice", "alice");
	req_default_ext(&q);
	req_crit(&q, "force-command", "/bin/true");
	refused(pol, &q, "t.conf:4: option 'force-command' not allowed for "
	    "key id 'full-alice'");
	/* a pattern section without options inherits [user]'s */
	req_init(&q, SC_CERT_USER, "any-1", "x");
	req_ext(&q, "no-touch-required");
	refused(pol, &q, "t.conf:2: option 'no-touch-required' not allowed "
	    "for key id 'any-1'");
	/* no options rule: anything */
	req_init(&q, SC_CERT_HOST, "web1", "web1");
	req_ext(&q, "whatever@example.com");
	allowed(pol, &q);
	sc_policy_free(&pol);
}

static void
test_key_types(void **state)
{
	static const char text[] =
	    "[user]\n"					/* 1 */
	    "key_types = ssh-ed25519 ssh-rsa\n"		/* 2 */
	    "min_rsa_bits = 3072\n"			/* 3 */
	    "[user \"ec-*\"]\n"				/* 4 */
	    "key_types = ecdsa-sha2-nistp384\n"		/* 5 */
	    "[host]\n"					/* 6 */
	    "min_rsa_bits = 4096\n";			/* 7 */
	struct sc_policy *pol;
	struct req q;
	char want[128];

	(void)state;
	pol = parse_ok(text);

	req_init(&q, SC_CERT_USER, "alice", "alice");
	allowed(pol, &q);
	req_init(&q, SC_CERT_USER, "alice", "alice");
	strcpy(q.k.type, "ssh-rsa");
	q.k.bits = 3072;
	allowed(pol, &q);
	req_init(&q, SC_CERT_USER, "alice", "alice");
	strcpy(q.k.type, "ssh-rsa");
	q.k.bits = 2048;
	refused(pol, &q, "t.conf:3: RSA key of 2048 bits below min_rsa_bits "
	    "3072");
	req_init(&q, SC_CERT_USER, "alice", "alice");
	strcpy(q.k.type, "ecdsa-sha2-nistp256");
	q.k.bits = 256;
	refused(pol, &q, "t.conf:2: key type 'ecdsa-sha2-nistp256' not "
	    "allowed");
	req_init(&q, SC_CERT_USER, "alice", "alice");
	strcpy(q.k.type, "ssh-dss");
	refused(pol, &q, "t.conf:2: key type 'ssh-dss' not allowed");
	/* a type field without its NUL is read within its bounds */
	req_init(&q, SC_CERT_USER, "alice", "alice");
	memset(q.k.type, 'A', sizeof(q.k.type));
	memset(want, 'A', sizeof(want));
	snprintf(want, sizeof(want), "t.conf:2: key type '%.*s' not allowed",
	    (int)sizeof(q.k.type), q.k.type);
	refused(pol, &q, want);

	req_init(&q, SC_CERT_USER, "ec-1", "x");
	strcpy(q.k.type, "ecdsa-sha2-nistp384");
	q.k.bits = 384;
	allowed(pol, &q);
	req_init(&q, SC_CERT_USER, "ec-1", "x");
	refused(pol, &q, "t.conf:5: key type 'ssh-ed25519' not allowed");

	/* min_rsa_bits alone: other key types are not affected */
	req_init(&q, SC_CERT_HOST, "web1", "web1");
	allowed(pol, &q);
	req_init(&q, SC_CERT_HOST, "web1", "web1");
	strcpy(q.k.type, "ssh-rsa");
	q.k.bits = 3072;
	refused(pol, &q, "t.conf:7: RSA key of 3072 bits below min_rsa_bits "
	    "4096");
	sc_policy_free(&pol);
}

/* Rules are checked in a fixed order: validity, principals, options, type. */
static void
test_order(void **state)
{
	struct sc_policy *pol;
	struct req q;

	(void)state;
	pol = parse_ok("[user]\nkey_types = ssh-rsa\noptions = permit-pty\n"
	    "principals = %k\nmax_validity = 1h\n");
	req_init(&q, SC_CERT_USER, "a", "b");
	req_ext(&q, "permit-user-rc");
	q.r.valid_before += 1;
	refused(pol, &q, "t.conf:5: max_validity 1h exceeded (requested "
	    "1h1s)");
	req_init(&q, SC_CERT_USER, "a", "b");
	req_ext(&q, "permit-user-rc");
	refused(pol, &q, "t.conf:4: principal 'b' not allowed for key id "
	    "'a'");
	req_init(&q, SC_CERT_USER, "a", "a");
	req_ext(&q, "permit-user-rc");
	refused(pol, &q, "t.conf:3: option 'permit-user-rc' not allowed for "
	    "key id 'a'");
	req_init(&q, SC_CERT_USER, "a", "a");
	refused(pol, &q, "t.conf:2: key type 'ssh-ed25519' not allowed");
	sc_policy_free(&pol);
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	int fd;

	assert_true((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600)) >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	assert_int_equal(fchmod(fd, mode), 0);
	close(fd);
}

static void
test_load(void **state)
{
	struct sc_policy *pol = NULL;
	char path[256], link[256], want[512], err[512], *big;
	struct req q;

	(void)state;
	assert_non_null(mkdtemp(tmpdir));
	snprintf(path, sizeof(path), "%s/policy.conf", tmpdir);
	snprintf(link, sizeof(link), "%s/link.conf", tmpdir);

	write_file(path, "[user]\nmax_validity = 8h\n", 0644);
	assert_int_equal(sc_policy_load(path, &pol, err, sizeof(err)), 0);
	req_init(&q, SC_CERT_USER, "alice", "alice");
	q.r.valid_before = q.r.valid_after + 9 * HOUR;
	snprintf(want, sizeof(want), "%s:2: max_validity 8h exceeded "
	    "(requested 9h)", path);
	refused(pol, &q, want);
	sc_policy_free(&pol);

	write_file(path, "[user]\nmax_validity = 8\n", 0600);
	assert_int_equal(sc_policy_load(path, &pol, err, sizeof(err)),
	    NKHSM_ERR_CONFIG);
	assert_null(pol);
	snprintf(want, sizeof(want), "%s:2: bad max_validity '8' (expected a "
	    "duration like 8h, 30d, 1w, or forever)", path);
	assert_string_equal(err, want);

	write_file(path, "[user]\n", 0664);
	assert_int_equal(sc_policy_load(path, &pol, err, sizeof(err)),
	    NKHSM_ERR_PERMISSION);
	snprintf(want, sizeof(want), "%s: is group-writable", path);
	assert_string_equal(err, want);
	write_file(path, "[user]\n", 0646);
	assert_int_equal(sc_policy_load(path, &pol, err, sizeof(err)),
	    NKHSM_ERR_PERMISSION);
	snprintf(want, sizeof(want), "%s: is world-writable", path);
	assert_string_equal(err, want);

	write_file(path, "[user]\n", 0644);
	assert_int_equal(symlink(path, link), 0);
	assert_int_equal(sc_policy_load(link, &pol, err, sizeof(err)),
	    NKHSM_ERR_PERMISSION);
	snprintf(want, sizeof(want), "%s: is a symbolic link (refused)", link);
	assert_string_equal(err, want);
	assert_null(pol);

	assert_int_equal(sc_policy_load(tmpdir, &pol, err, sizeof(err)),
	    NKHSM_ERR_PERMISSION);
	snprintf(want, sizeof(want), "%s: not a regular file", tmpdir);
	assert_string_equal(err, want);

	snprintf(link, sizeof(link), "%s/missing.conf", tmpdir);
	assert_int_equal(sc_policy_load(link, &pol, err, sizeof(err)),
	    NKHSM_ERR_IO);
	snprintf(want, sizeof(want), "%s: No such file or directory", link);
	assert_string_equal(err, want);

	assert_non_null(big = malloc(64 * 1024 + 2));
	memset(big, '#', 64 * 1024 + 1);
	big[64 * 1024 + 1] = '\0';
	write_file(path, big, 0600);
	free(big);
	assert_int_equal(sc_policy_load(path, &pol, err, sizeof(err)),
	    NKHSM_ERR_CONFIG);
	snprintf(want, sizeof(want), "%s: file too large (max 65536 bytes)",
	    path);
	assert_string_equal(err, want);

	/* owned by another user (needs root to arrange) */
	if (geteuid() == 0) {
		write_file(path, "[user]\n", 0644);
		assert_int_equal(chown(path, 65534, 65534), 0);
		assert_int_equal(sc_policy_load(path, &pol, err, sizeof(err)),
		    NKHSM_ERR_PERMISSION);
		snprintf(want, sizeof(want), "%s: owned by uid 65534, "
		    "expected root or uid 0", path);
		assert_string_equal(err, want);
	}
	assert_int_equal(sc_policy_load(NULL, &pol, err, sizeof(err)),
	    NKHSM_ERR_INVALID_ARGUMENT);

	unlink(path);
	snprintf(link, sizeof(link), "%s/link.conf", tmpdir);
	unlink(link);
	rmdir(tmpdir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test(test_parse_limits),
		cmocka_unit_test(test_sections),
		cmocka_unit_test(test_validity),
		cmocka_unit_test(test_principals),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_key_types),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_load),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
