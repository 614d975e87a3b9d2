/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_conf.c - nkhsm_conf_parse on arbitrary bytes. A success must hold
 * only values that passed their checks (a ledger URL with no password=,
 * among them); a failure must say where.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "nkhsm.h"
#include "fuzz.h"

#define FUZZ_CONF_NAME	"fuzz.conf"

/* password= as a parameter: at the start or after one of "?& :". */
static int
password_param(const char *v)
{
	const char *p, *q;

	for (p = v; (p = strstr(p, "password")) != NULL; p++) {
		if (p != v && strchr("?& :", p[-1]) == NULL)
			continue;
		for (q = p + 8; *q == ' '; q++)
			;
		if (*q == '=')
			return 1;
	}
	return 0;
}

/* "scheme://user:password@host": a colon before the last @ of the authority. */
static int
user_password(const char *v)
{
	const char *a = strstr(v, "://"), *at = NULL, *p;

	if (a == NULL)
		return 0;
	for (p = a + 3; *p != '\0' && *p != '/' && *p != '?'; p++)
		if (*p == '@')
			at = p;
	return at != NULL && memchr(a + 3, ':', (size_t)(at - a - 3)) != NULL;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	nkhsm_conf_t *conf = NULL;
	nkhsm_uri_t *uri = NULL;
	const char *v;
	char err[512];
	int r;

	err[0] = '\0';
	r = nkhsm_conf_parse(FUZZ_CONF_NAME, (const char *)data, size, &conf,
	    err, sizeof(err));
	if (r != 0) {
		if (conf != NULL || strncmp(err, FUZZ_CONF_NAME ":",
		    strlen(FUZZ_CONF_NAME) + 1) != 0)
			abort();
		return 0;
	}
	if ((v = nkhsm_conf_module(conf)) != NULL && v[0] != '/')
		abort();
	if ((v = nkhsm_conf_token(conf)) != NULL) {
		if (nkhsm_uri_parse(v, &uri, NULL) != 0)
			abort();
		nkhsm_uri_free(&uri);
	}
	if ((v = nkhsm_conf_pin_source(conf)) != NULL &&
	    strncmp(v, "env:", 4) != 0 && strncmp(v, "file:/", 6) != 0)
		abort();
	/*
	 * A ledger passed: sqlite:/..., or a PostgreSQL URL with no password
	 * parameter (password= at the start, after ?, &, a blank or a colon)
	 * and no user:password@ before the host.
	 */
	if ((v = nkhsm_conf_ledger(conf)) != NULL &&
	    strncmp(v, "sqlite:/", 8) != 0 && (strncmp(v, "postgres", 8) != 0 ||
	    password_param(v) || user_password(v)))
		abort();
	nkhsm_conf_free(&conf);
	return 0;
}
