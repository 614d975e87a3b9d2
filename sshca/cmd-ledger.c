/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd-ledger.c - the commands that only read or check the ledger: ca-pubkey,
 * list, verify-log, and migrate-ledger. None of them needs the token.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nkhsm.h"
#include "cli.h"
#include "cmd.h"
#include "ledger.h"
#include "ledgerlog.h"

int
cmd_ca_pubkey(struct ca *ca, int argc, char **argv)
{
	char *line = NULL;
	int ret;

	if ((ret = ca_state_dir(ca, 0)) != 0 || (ret = ca_open_ledger(ca, 0)) != 0)
		return ret;
	if (sc_ledger_meta_get(ca->l, "ca_pubkey", &line) != 0) {
		cli_errx("%s: not an initialized CA", ca->dir);
		return EX_USAGE;
	}
	printf("%s\n", line);
	free(line);
	return 0;
}

static void
fmt_time(uint64_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t == SC_FOREVER)
		snprintf(buf, len, "forever");
	else if (t == 0)
		snprintf(buf, len, "always");
	else if (gmtime_r(&tt, &tm) != NULL)
		strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	else
		snprintf(buf, len, "%llu", (unsigned long long)t);
}

/* A column of a changed ledger may be NULL: shown empty, as verify-log flags it. */
static const char *
str(const char *s)
{
	return s != NULL ? s : "";
}

static int
list_row(const struct sc_row *row, void *arg)
{
	int *json = arg;
	char a[32], b[32], i[32], rv[32];

	fmt_time(row->valid_after, a, sizeof(a));
	fmt_time(row->valid_before, b, sizeof(b));
	fmt_time(row->issued_at, i, sizeof(i));
	fmt_time(row->revoked_at, rv, sizeof(rv));
	if (*json) {
		static int first = 1;

		printf("%s{\"family\":", first ? "" : ",");
		first = 0;
		cli_print_json_str(stdout, str(row->family));
		printf(",\"kind\":");
		cli_print_json_str(stdout, str(row->kind));
		printf(",\"serial\":");
		cli_print_json_str(stdout, str(row->serial));
		printf(",\"key_id\":");
		cli_print_json_str(stdout, str(row->key_id));
		printf(",\"principals\":");
		cli_print_json_str(stdout, str(row->principals));
		printf(",\"valid_after\":\"%s\",\"valid_before\":\"%s\","
		    "\"issued\":\"%s\",\"subject\":", a, b, i);
		cli_print_json_str(stdout, str(row->subject_fp));
		printf(",\"revoked\":%s}", row->revoked ? "true" : "false");
		return 0;
	}
	printf("%-9s %-20s ", row->kind, row->serial);
	cli_print_safe(stdout, str(row->key_id));
	printf("  [");
	cli_print_safe(stdout, str(row->principals));
	printf("]  %s..%s  %s%s%s\n", a, b, str(row->subject_fp),
	    row->revoked ? "  REVOKED " : "", row->revoked ? rv : "");
	return 0;
}

int
cmd_list(struct ca *ca, int argc, char **argv)
{
	int ret, json = ca->o->json;

	if ((ret = ca_state_dir(ca, 0)) != 0 || (ret = ca_open_ledger(ca, 0)) != 0)
		return ret;
	if (json)
		printf("[");
	if (sc_ledger_each(ca->l, list_row, &json) != 0) {
		cli_errx("cannot read the ledger");
		return EX_FAIL;
	}
	if (json)
		printf("]\n");
	return 0;
}

int
cmd_verify_log(struct ca *ca, int argc, char **argv)
{
	char err[512], head[LOG_HASH_HEX];
	unsigned long n = 0;
	int ret;

	err[0] = '\0';
	if ((ret = ca_state_dir(ca, 0)) != 0 || (ret = ca_open_ledger(ca, 0)) != 0)
		return ret;
	if (sc_ledger_verify_log(ca->l, ca->o->head, &n, head, err,
	    sizeof(err)) != 0) {
		cli_errx("the issuance log does not verify: %s", err);
		return EX_TAMPER;
	}
	printf("log: %lu entries, head %s: ok\n", n, n > 0 ? head : "-");
	return 0;
}

int
cmd_migrate_ledger(struct ca *ca, int argc, char **argv)
{
	char err[1024], head[LOG_HASH_HEX];
	unsigned long n = 0;
	int r, ret;

	err[0] = '\0';
	if ((ret = ca_state_dir(ca, 0)) != 0 ||
	    (ret = ca_open_ledger(ca, SC_LEDGER_OLD_OK)) != 0)
		return ret;
	if ((r = sc_ledger_migrate(ca->l, ca->o->head, &n, head, err,
	    sizeof(err))) != 0) {
		if (r == NKHSM_ERR_EXISTS) {
			if (!ca->o->quiet)
				fprintf(stderr, "%s: nothing to do\n", err);
			return 0;
		}
		cli_errx("the ledger was not migrated: %s", err);
		return r == NKHSM_ERR_SIGNATURE ? EX_TAMPER : EX_FAIL;
	}
	printf("log: %lu entries, head %s: migrated to format %s\n", n, head,
	    SC_LOG_FORMAT);
	return 0;
}
