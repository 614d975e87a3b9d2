/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd-crl.c - nkhsm-sshca crl: an X.509 CRL of every revoked X.509
 * certificate in the ledger, signed on the token and verified.
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
#include "x509ca.h"

struct crlgather {
	struct sc_crl_entry *e;
	char		**hex;
	size_t		 n, cap;
	int		 err;
};

static int
gather_crl(const struct sc_row *row, void *arg)
{
	struct crlgather *g = arg;

	if (strcmp(row->family, "x509") != 0 || !row->revoked)
		return 0;
	if (g->n == g->cap) {
		size_t nc = g->cap == 0 ? 64 : g->cap * 2;
		struct sc_crl_entry *ne = realloc(g->e, nc * sizeof(*ne));
		char **nh;

		if (ne == NULL)
			return g->err = -1;
		g->e = ne;
		if ((nh = realloc(g->hex, nc * sizeof(*nh))) == NULL)
			return g->err = -1;
		g->hex = nh;
		g->cap = nc;
	}
	if ((g->hex[g->n] = strdup(row->serial)) == NULL)
		return g->err = -1;
	g->e[g->n].serialhex = g->hex[g->n];
	g->e[g->n].revoked_at = (time_t)row->revoked_at;
	g->n++;
	return 0;
}

static void
crlgather_free(struct crlgather *g)
{
	size_t i;

	for (i = 0; i < g->n; i++)
		free(g->hex[i]);
	free(g->hex);
	free(g->e);
}

int
cmd_crl(struct ca *ca, int argc, char **argv)
{
	struct opts *o = ca->o;
	struct crlgather g;
	X509_CRL *crl = NULL;
	char err[512];
	long days = 7;
	uint64_t number;
	int ret, r;

	memset(&g, 0, sizeof(g));
	err[0] = '\0';
	if (o->output == NULL) {
		cli_errx("crl needs -o FILE");
		return EX_USAGE;
	}
	if (o->days != NULL && (days = ca_parse_num(o->days, 1, 366)) < 0) {
		cli_errx("--days must be 1 to 366");
		return EX_USAGE;
	}
	if ((ret = ca_state_dir(ca, 0)) != 0 || (ret = ca_load(ca, 1)) != 0)
		return ret;
	ret = EX_FAIL;
	if (sc_ledger_each(ca->l, gather_crl, &g) != 0 || g.err != 0 ||
	    sc_ledger_counter(ca->l, "crl_number", &number) != 0)
		goto out;
	if ((r = sc_x509_crl(ca->key, ca->cacert, g.e, g.n, number,
	    (unsigned int)days, &crl, err, sizeof(err))) != 0) {
		cli_errx("%s", err);
		ret = r == NKHSM_ERR_SIGNATURE ? EX_BADSIG : cli_exit_for(r);
		goto out;
	}
	if (ca_write_pem(o->output, NULL, crl) != 0) {
		cli_errx("cannot write %s", o->output);
		goto out;
	}
	if (!o->quiet)
		fprintf(stderr, "%s: CRL number %llu, %zu revoked\n", o->output,
		    (unsigned long long)number, g.n);
	ret = 0;
 out:
	crlgather_free(&g);
	X509_CRL_free(crl);
	return ret;
}
