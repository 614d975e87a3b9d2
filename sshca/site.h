/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * site.h - a CA site's own settings, STATE/site.conf: the ledger it uses
 * and where its copy of the CA key is. A CA whose ledger is the default
 * (STATE/ledger.db) has none and keeps its module and key URI in the
 * ledger; a CA on another ledger, which other sites may share, keeps them
 * here, one file per site. Written by init; read strictly:
 *
 *	# comment lines and blank lines
 *	ledger = postgresql:///ca?host=/run/postgresql
 *	module = /usr/lib/x86_64-linux-gnu/opensc-pkcs11.so
 *	key = pkcs11:serial=DENK0100123;id=%01;type=private
 *
 * A value runs to the end of its line (blanks around it removed); an
 * unknown or repeated key, an empty value or a control character is an
 * error naming the file and line.
 */
#ifndef SC_SITE_H
#define SC_SITE_H

#include <stddef.h>

#define SC_SITE_FILE	"site.conf"
#define SC_SITE_MAX	8192

struct sc_site {
	char	*ledger;	/* a ledger URL (sc_ledger_open) */
	char	*module;	/* absolute path of the PKCS#11 module */
	char	*key;		/* the CA key's PKCS#11 URI */
};

int sc_site_parse(const char *name, const char *text, size_t len,
    struct sc_site *s, char *errbuf, size_t errlen);
/* DIR/site.conf, owned by the user and not writable by others; none: NO_KEY. */
int sc_site_load(const char *dir, struct sc_site *s, char *errbuf,
    size_t errlen);
/* The file's text for s (every field set). */
int sc_site_format(const struct sc_site *s, char **textp);
void sc_site_free(struct sc_site *s);

#endif /* SC_SITE_H */
