/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_pamopts.c - pnk_opts_parse on module arguments cut from arbitrary
 * bytes (at NUL or newline, up to FUZZ_ARGS_MAX of them). A success must
 * hold only values that passed their checks; a failure must leave the
 * struct empty.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "nkhsm.h"
#include "pamnk.h"
#include "proto.h"
#include "fuzz.h"

#define FUZZ_ARGS_MAX		32
#define FUZZ_PAMOPTS_INPUT_MAX	(FUZZ_ARGS_MAX * (PNK_ARG_MAX + 2))

static int
path_ok(const char *s, int allow_home)
{
	return s == NULL || s[0] == '/' ||
	    (allow_home && strncmp(s, "%h/", 3) == 0);
}

static void
check_ok(const struct pnk_opts *o)
{
	nkhsm_uri_t *uri = NULL;
	size_t i;

	if (!path_ok(o->module, 0) || !path_ok(o->ca, 0) ||
	    !path_ok(o->conf, 0) || !path_ok(o->helper, 0) ||
	    !path_ok(o->authfile, 1) || o->rundir == NULL ||
	    o->rundir[0] != '/')
		abort();
	/* No keys file only when a CA is configured instead. */
	if (o->authfile == NULL && o->ca == NULL)
		abort();
	if (o->authfile_set && o->authfile == NULL)
		abort();
	if (o->wait > PNK_WAIT_MAX || o->timeout < 1 ||
	    o->timeout > PNK_TIMEOUT_MAX || o->min_tries_left > PNK_TRIES_MAX)
		abort();
	if (o->ca_map == 0 || (o->ca_map & ~(PNK_MAP_CN | PNK_MAP_UID)) != 0)
		abort();
	if (o->use_first_pass && o->try_first_pass)
		abort();
	if (o->cachedir == NULL || o->cachedir[0] != '/' ||
	    o->driver > PNK_DRIVER_PKCS11 || (!o->driver_set && o->driver != 0))
		abort();

	/* Revocation: crl= only with ca=, each absolute; grace with crl=. */
	if (o->ncrl > PNK_CRL_MAX || (o->ncrl > 0 && o->ca == NULL) ||
	    o->crl_grace > PNK_CRL_GRACE_MAX ||
	    (o->crl_grace != 0 && o->ncrl == 0) || !path_ok(o->krl, 0))
		abort();
	for (i = 0; i < o->ncrl; i++)
		if (o->crl[i] == NULL || o->crl[i][0] != '/')
			abort();
	if (o->token != NULL) {
		if (nkhsm_uri_parse(o->token, &uri, NULL) != 0)
			abort();
		nkhsm_uri_free(&uri);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct pnk_opts zero;
	const char *argv[FUZZ_ARGS_MAX];
	struct pnk_opts o;
	char *s, err[512];
	size_t i;
	int argc = 0;

	if (size > FUZZ_PAMOPTS_INPUT_MAX || (s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	/* Each NUL or newline ends an argument (empty ones included); no
	 * input at all is no arguments, so the defaults are reached too. */
	if (size > 0)
		argv[argc++] = s;
	for (i = 0; i < size && argc < FUZZ_ARGS_MAX; i++) {
		if (s[i] == '\n' || s[i] == '\0') {
			s[i] = '\0';
			argv[argc++] = s + i + 1;
		}
	}
	err[0] = '\0';
	if (pnk_opts_parse(argc, argv, &o, err, sizeof(err)) != 0) {
		if (memcmp(&o, &zero, sizeof(o)) != 0)
			abort();
	} else
		check_ok(&o);
	pnk_opts_free(&o);
	free(s);
	return 0;
}
