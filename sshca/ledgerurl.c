/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ledgerurl.c - which ledger a URL names (see ledger.h): sqlite:/PATH, or
 * a PostgreSQL URI (postgresql://, postgres://) or key=value connection
 * string (postgresql:...). Pure; the password checks are the PostgreSQL
 * backend's, which parses what libpq would.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "nkhsm.h"
#include "nk-int.h"
#include "ledger.h"

/* "postgresql:" or "postgres:", and what follows it; NULL if neither. */
static const char *
pg_target(const char *url)
{
	if (strncmp(url, "postgresql:", 11) == 0)
		return url[11] == '/' ? url : url + 11;
	if (strncmp(url, "postgres:", 9) == 0)
		return url[9] == '/' ? url : url + 9;
	return NULL;
}

int
sc_ledger_url_parse(const char *url, const char *dir, int *kindp,
    char *target, size_t tlen, char *errbuf, size_t errlen)
{
	const char *t;

	*kindp = 0;
	if (url == NULL) {
		*kindp = SC_LEDGER_SQLITE;
		return (size_t)snprintf(target, tlen, "%s/%s", dir, LEDGER_FILE) >=
		    tlen ? NKHSM_ERR_TOO_LARGE : 0;
	}
	if (strlen(url) >= tlen) {
		nk_errf(errbuf, errlen, "ledger URL too long");
		return NKHSM_ERR_INVALID_ARGUMENT;
	}
	if (strncmp(url, "sqlite:", 7) == 0) {
		if (url[7] != '/' || url[8] == '\0') {
			nk_errf(errbuf, errlen, "ledger URL 'sqlite:%.64s': the path "
			    "must be absolute", url + 7);
			return NKHSM_ERR_INVALID_ARGUMENT;
		}
		*kindp = SC_LEDGER_SQLITE;
		snprintf(target, tlen, "%s", url + 7);
		return 0;
	}
	if ((t = pg_target(url)) == NULL || *t == '\0') {
		nk_errf(errbuf, errlen, "ledger URL: sqlite:/PATH or "
		    "postgresql://... (a libpq URI, or postgresql: and a "
		    "connection string)");
		return NKHSM_ERR_INVALID_ARGUMENT;
	}
	*kindp = SC_LEDGER_PG;
	snprintf(target, tlen, "%s", t);
	return 0;
}

int
sc_ledger_url_check(const char *url, char *errbuf, size_t errlen)
{
	char target[SC_LEDGER_URL_MAX];
	int kind;

	return sc_ledger_url_parse(url, "", &kind, target, sizeof(target),
	    errbuf, errlen);
}
