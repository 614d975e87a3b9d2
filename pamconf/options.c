/* SPDX-License-Identifier: BSD-2-Clause */
/* options.c - pam_nkhsm module arguments: strict, each checked */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nkhsm.h"
#include "nk-int.h"
#include "pamconf.h"

static int
parse_uint(const char *v, unsigned int min, unsigned int max, unsigned int *out)
{
	unsigned long n;
	char *end;

	if (*v < '0' || *v > '9')
		return -1;
	errno = 0;
	n = strtoul(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < min || n > max)
		return -1;
	*out = (unsigned int)n;
	return 0;
}

/* A duration with units (nk_duration_parse), in seconds up to max. */
static int
parse_seconds(const char *v, unsigned int max, unsigned int *out)
{
	uint64_t secs;

	if (nk_duration_parse(v, &secs) != 0 || secs > max)
		return -1;
	*out = (unsigned int)secs;
	return 0;
}

static int
set_str(char **dst, const char *v)
{
	if ((*dst = strdup(v)) == NULL)
		return NKHSM_ERR_NOMEM;
	return 0;
}

/* An absolute path, or (for authfile) one that starts with %h. */
static int
path_ok(const char *v, int allow_home)
{
	if (*v == '/')
		return 1;
	return allow_home && strncmp(v, "%h/", 3) == 0;
}

static int
parse_map(const char *v, unsigned int *map)
{
	char buf[32], *tok, *next;

	if (strlen(v) >= sizeof(buf))
		return -1;
	strcpy(buf, v);
	*map = 0;
	/* Split by hand: an empty item ("cn,,uid") is an error, not skipped. */
	for (tok = buf; tok != NULL; tok = next) {
		if ((next = strchr(tok, ',')) != NULL)
			*next++ = '\0';
		if (strcmp(tok, "cn") == 0)
			*map |= PNK_MAP_CN;
		else if (strcmp(tok, "uid") == 0)
			*map |= PNK_MAP_UID;
		else
			return -1;
	}
	return *map == 0 ? -1 : 0;
}

int
pnk_driver_parse(const char *s)
{
	if (strcmp(s, "auto") == 0)
		return PNK_DRIVER_AUTO;
	if (strcmp(s, "pcsc") == 0)
		return PNK_DRIVER_PCSC;
	if (strcmp(s, "pkcs11") == 0)
		return PNK_DRIVER_PKCS11;
	return -1;
}

enum { T_FLAG, T_STR, T_PATH, T_AUTHPATH, T_URI, T_UINT, T_MAP, T_DRIVER,
    T_PATHS, T_DURATION };

static const struct optdef {
	const char	*name;
	int		 type;
	size_t		 off;		/* into struct pnk_opts */
	unsigned int	 min, max;
} optdefs[] = {
#define OFF(f) offsetof(struct pnk_opts, f)
	{ "module", T_PATH, OFF(module), 0, 0 },
	{ "token", T_URI, OFF(token), 0, 0 },
	{ "authfile", T_AUTHPATH, OFF(authfile), 0, 0 },
	{ "ca", T_PATH, OFF(ca), 0, 0 },
	{ "ca_map", T_MAP, OFF(ca_map), 0, 0 },
	{ "crl", T_PATHS, OFF(crl), 0, PNK_CRL_MAX },
	{ "crl_grace", T_DURATION, OFF(crl_grace), 1, PNK_CRL_GRACE_MAX },
	{ "krl", T_PATH, OFF(krl), 0, 0 },
	{ "conf", T_PATH, OFF(conf), 0, 0 },
	{ "helper", T_PATH, OFF(helper), 0, 0 },
	{ "rundir", T_PATH, OFF(rundir), 0, 0 },
	{ "cachedir", T_PATH, OFF(cachedir), 0, 0 },
	{ "driver", T_DRIVER, OFF(driver), 0, 0 },
	{ "wait", T_UINT, OFF(wait), 0, PNK_WAIT_MAX },
	{ "timeout", T_UINT, OFF(timeout), 1, PNK_TIMEOUT_MAX },
	{ "min_tries_left", T_UINT, OFF(min_tries_left), 0, PNK_TRIES_MAX },
	{ "nouserok", T_FLAG, OFF(nouserok), 0, 0 },
	{ "use_first_pass", T_FLAG, OFF(use_first_pass), 0, 0 },
	{ "try_first_pass", T_FLAG, OFF(try_first_pass), 0, 0 },
	{ "debug", T_FLAG, OFF(debug), 0, 0 },
#undef OFF
};
#define NOPTS (sizeof(optdefs) / sizeof(optdefs[0]))

void
pnk_opts_free(struct pnk_opts *o)
{
	size_t i;

	if (o == NULL)
		return;
	for (i = 0; i < o->ncrl; i++)
		free(o->crl[i]);
	free(o->krl);
	free(o->module);
	free(o->token);
	free(o->authfile);
	free(o->ca);
	free(o->conf);
	free(o->helper);
	free(o->rundir);
	free(o->cachedir);
	memset(o, 0, sizeof(*o));
}

int
pnk_opts_parse(int argc, const char **argv, struct pnk_opts *o,
    char *errbuf, size_t errlen)
{
	unsigned char seen[NOPTS];
	const struct optdef *d;
	nkhsm_uri_t *uri = NULL;
	const char *arg, *eq, *val, *why;
	size_t i, nlen;
	int a, ur, r = NKHSM_ERR_CONFIG;

	memset(o, 0, sizeof(*o));
	memset(seen, 0, sizeof(seen));
	o->timeout = PNK_TIMEOUT_DEFAULT;
	o->min_tries_left = 1;
	o->ca_map = PNK_MAP_CN | PNK_MAP_UID;
	for (a = 0; a < argc; a++) {
		arg = argv[a];
		if (arg == NULL || *arg == '\0') {
			nk_errf(errbuf, errlen, "empty module argument");
			goto fail;
		}
		if (strlen(arg) > PNK_ARG_MAX) {
			nk_errf(errbuf, errlen, "module argument %d is too long", a + 1);
			goto fail;
		}
		eq = strchr(arg, '=');
		nlen = eq != NULL ? (size_t)(eq - arg) : strlen(arg);
		val = eq != NULL ? eq + 1 : NULL;
		d = NULL;
		for (i = 0; i < NOPTS; i++) {
			if (strlen(optdefs[i].name) == nlen &&
			    strncmp(optdefs[i].name, arg, nlen) == 0) {
				d = &optdefs[i];
				break;
			}
		}
		if (d == NULL) {
			nk_errf(errbuf, errlen, "unknown option '%.*s'",
			    (int)(nlen > 64 ? 64 : nlen), arg);
			goto fail;
		}
		if (seen[i]++ && d->type != T_PATHS) {
			nk_errf(errbuf, errlen, "option '%s' given twice", d->name);
			goto fail;
		}
		if (d->type == T_FLAG) {
			if (val != NULL) {
				nk_errf(errbuf, errlen, "option '%s' takes no value",
				    d->name);
				goto fail;
			}
			*(int *)((char *)o + d->off) = 1;
			continue;
		}
		if (val == NULL || *val == '\0') {
			nk_errf(errbuf, errlen, "option '%s' needs a value (%s=...)",
			    d->name, d->name);
			goto fail;
		}
		switch (d->type) {
		case T_UINT:
			if (parse_uint(val, d->min, d->max,
			    (unsigned int *)((char *)o + d->off)) != 0) {
				nk_errf(errbuf, errlen, "option '%s': '%.32s' is not "
				    "a number from %u to %u", d->name, val, d->min,
				    d->max);
				goto fail;
			}
			break;
		case T_DRIVER:
			if ((ur = pnk_driver_parse(val)) < 0) {
				nk_errf(errbuf, errlen, "option 'driver': use auto, "
				    "pcsc or pkcs11");
				goto fail;
			}
			o->driver = (unsigned int)ur;
			o->driver_set = 1;
			break;
		case T_DURATION:
			if (parse_seconds(val, d->max, (unsigned int *)((char *)o +
			    d->off)) != 0) {
				nk_errf(errbuf, errlen, "option '%s': '%.32s' is not a "
				    "duration like 30m, 12h or 2d (at most 30d)",
				    d->name, val);
				goto fail;
			}
			break;
		case T_PATHS:
			if (!path_ok(val, 0) || o->ncrl >= d->max) {
				nk_errf(errbuf, errlen, "option '%s': %s", d->name,
				    o->ncrl >= d->max ? "given too often" :
				    "not an absolute path");
				goto fail;
			}
			if ((r = set_str(&o->crl[o->ncrl], val)) != 0)
				goto fail;
			o->ncrl++;
			r = NKHSM_ERR_CONFIG;
			break;
		case T_MAP:
			if (parse_map(val, &o->ca_map) != 0) {
				nk_errf(errbuf, errlen, "option 'ca_map': use cn, uid "
				    "or cn,uid");
				goto fail;
			}
			break;
		case T_URI:
			why = NULL;
			if ((ur = nkhsm_uri_parse(val, &uri, &why)) != 0) {
				if (ur == NKHSM_ERR_NOMEM) {
					r = ur;	/* not the argument's fault */
					goto fail;
				}
				nk_errf(errbuf, errlen, "option '%s': invalid PKCS#11 "
				    "URI (%s)", d->name, why != NULL ? why : "malformed");
				goto fail;
			}
			if ((why = nkhsm_uri_unmatched(uri)) != NULL) {
				nkhsm_uri_free(&uri);
				nk_errf(errbuf, errlen, "option '%s': selecting by "
				    "%s is not supported", d->name, why);
				goto fail;
			}
			nkhsm_uri_free(&uri);
			if ((r = set_str((char **)((char *)o + d->off), val)) != 0)
				goto fail;
			r = NKHSM_ERR_CONFIG;
			break;
		case T_PATH:
		case T_AUTHPATH:
			if (!path_ok(val, d->type == T_AUTHPATH)) {
				nk_errf(errbuf, errlen, "option '%s': '%.64s' is not "
				    "an absolute path%s", d->name, val,
				    d->type == T_AUTHPATH ? " (or %h/...)" : "");
				goto fail;
			}
			/* FALLTHROUGH */
		default:
			if ((r = set_str((char **)((char *)o + d->off), val)) != 0)
				goto fail;
			r = NKHSM_ERR_CONFIG;
			break;
		}
	}
	if (o->use_first_pass && o->try_first_pass) {
		nk_errf(errbuf, errlen, "use_first_pass and try_first_pass "
		    "exclude each other");
		goto fail;
	}
	if (o->ncrl > 0 && o->ca == NULL) {
		nk_errf(errbuf, errlen, "crl= needs ca=: it checks the certificates "
		    "the CA issued");
		goto fail;
	}
	if (o->crl_grace != 0 && o->ncrl == 0) {
		nk_errf(errbuf, errlen, "crl_grace= needs crl=");
		goto fail;
	}
	o->authfile_set = o->authfile != NULL;
	if (o->authfile == NULL && o->ca == NULL &&
	    (r = set_str(&o->authfile, PNK_AUTHFILE_DEFAULT)) != 0)
		goto fail;
	if (o->rundir == NULL &&
	    (r = set_str(&o->rundir, PNK_RUNDIR_DEFAULT)) != 0)
		goto fail;
	if (o->cachedir == NULL &&
	    (r = set_str(&o->cachedir, PNK_CACHEDIR_DEFAULT)) != 0)
		goto fail;
	return 0;
 fail:
	pnk_opts_free(o);
	return r;
}
