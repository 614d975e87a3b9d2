/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd-revoke.c - nkhsm-sshca revoke: an SSH or X.509 certificate by
 * serial, or every SSH certificate of a key id or key, and that key id or
 * key for the future too. Recorded in the ledger with its log entry;
 * published by krl and crl.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nkhsm.h"
#include "nk-int.h"
#include "cli.h"
#include "cmd.h"
#include "ledger.h"

/* What to revoke, as the ledger takes it. */
struct target {
	const char	*what;		/* "ssh", "x509", "key_id", "key" */
	char		*value;
	char		*subject_key;	/* base64 blob, for "key" */
};

/*
 * A serial: decimal for SSH; 0x... for X.509, in the ledger's form (upper
 * case, no leading zeros).
 */
static int
parse_serial(const char *s, struct target *t)
{
	unsigned long long v;
	char *end, *p;

	if (strncmp(s, "0x", 2) == 0 || strncmp(s, "0X", 2) == 0) {
		if ((t->value = strdup(s + 2)) == NULL)
			return EX_FAIL;
		for (p = t->value; *p != '\0'; p++)
			*p = (char)toupper((unsigned char)*p);
		while (t->value[0] == '0' && t->value[1] != '\0')
			memmove(t->value, t->value + 1, strlen(t->value));
		t->what = "x509";
		return 0;
	}
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*s == '\0' || *s == '-' || *end != '\0' || errno != 0 || v == 0) {
		cli_errx("'%s': an SSH serial (decimal) or an X.509 serial (0x...)",
		    s);
		return EX_USAGE;
	}
	if (asprintf(&t->value, "%llu", v) == -1) {
		t->value = NULL;
		return EX_FAIL;
	}
	t->what = "ssh";
	return 0;
}

/* --key KEY.pub: a key no one should accept may still need revoking. */
static int
parse_key(const char *file, struct target *t)
{
	struct sc_pubkey pk;
	int ret;

	if ((ret = ca_read_pubkey(file, SC_PUBKEY_WEAK_OK, &pk)) != 0)
		return ret;
	ret = EX_FAIL;
	if (nk_b64_encode(pk.blob, pk.bloblen, 1, &t->subject_key) == 0 &&
	    (t->value = strdup(pk.fp)) != NULL) {
		t->what = "key";
		ret = 0;
	}
	sc_pubkey_free(&pk);
	return ret;
}

static int
parse_target(const struct opts *o, int argc, char **argv, struct target *t)
{
	/* Here --key names the public key file to revoke, not the CA key. */
	int given = (argc == 1) + (o->key_id_rev != NULL) + (o->key != NULL);

	if (given != 1 || argc > 1) {
		cli_errx("revoke takes one of: SERIAL, --key-id ID, --key KEY.pub");
		return EX_USAGE;
	}
	if (argc == 1)
		return parse_serial(argv[0], t);
	if (o->key != NULL)
		return parse_key(o->key, t);
	if ((t->value = strdup(o->key_id_rev)) == NULL)
		return EX_FAIL;
	t->what = "key_id";
	return 0;
}

int
cmd_revoke(struct ca *ca, int argc, char **argv)
{
	struct target t;
	char err[512], head[LOG_HASH_HEX];
	unsigned int n = 0;
	int ret, r;

	memset(&t, 0, sizeof(t));
	err[0] = '\0';
	if ((ret = parse_target(ca->o, argc, argv, &t)) != 0 ||
	    (ret = ca_state_dir(ca, 0)) != 0 ||
	    (ret = ca_open_ledger(ca, 0)) != 0)
		goto out;
	if ((r = sc_ledger_revoke(ca->l, t.what, t.value, t.subject_key,
	    ca->o->reason, &n, head, err, sizeof(err))) != 0) {
		cli_errx("%s", err);
		ret = r == NKHSM_ERR_NO_KEY ? EX_NOKEY : ca_ledger_failed(ca);
		goto out;
	}
	if (!ca->o->quiet)
		fprintf(stderr, "revoked (%u ledger entr%s); log head %s\n"
		    "publish the change: nkhsm-sshca krl -o FILE, crl -o FILE\n",
		    n, n == 1 ? "y" : "ies", head);
	ret = 0;
 out:
	free(t.value);
	free(t.subject_key);
	return ret;
}
