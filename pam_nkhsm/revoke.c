/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * revoke.c - crl=, crl_grace= and krl= (see revoke.h and pam_nkhsm(8)).
 *
 * The files are the administrator's, copied by configuration management:
 * each must be a regular file (or, for crl=, a directory of them) owned by
 * root and writable by nobody else, like the ca= file. A CRL counts only
 * when its signature verifies with the key of the issuer in the verified
 * chain; every CRL that names that issuer must verify, and the newest must
 * be current (or stale by no more than crl_grace=).
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/x509v3.h>

#include "nkhsm.h"
#include "nk-int.h"
#include "crl.h"
#include "krl.h"
#include "pamnk.h"
#include "revoke.h"
#include "crlcache.h"

#define DIR_ENTRIES_MAX	64

/* A CRL file (crl=FILE, or an entry of crl=DIR). */
struct rev_src {
	char		*file;
	struct stat	 st;		/* its identity, for the cache */
	int		 dirty;		/* its cache needs writing */
	int		 settled;	/* it may be cached (crlcache.h) */
};

struct rev_crl {
	size_t		 src;		/* the file it came from */
	const uint8_t	*der;
	size_t		 len;
	int		 der_owned;	/* else a view into a cache's text */
	struct nk_crl	 crl;
	X509		*checked_with;	/* the issuer it verified with, this login */
	int		 verified;	/* it verified, this login or before, */
	uint8_t		 verified_by[PNK_SPKI_HASH_LEN];	/* with this key */
};

struct pnk_revoke {
	const struct pnk_opts	*o;
	pnk_rev_note_fn		*note;
	void			*arg;
	struct rev_src		*srcs;
	size_t			 nsrcs;
	uint8_t			*caches[PNK_REV_CRLS_MAX];	/* texts */
	size_t			 ncaches;
	struct rev_crl		*crls;
	size_t			 ncrls;
	int			 crls_read;
	uint8_t			*krl;
	size_t			 krllen;
	int			 krl_read;
};

int
pnk_rev_new(const struct pnk_opts *o, pnk_rev_note_fn *note, void *arg,
    struct pnk_revoke **rvp)
{
	struct pnk_revoke *rv;

	*rvp = NULL;
	if ((rv = calloc(1, sizeof(*rv))) == NULL)
		return NKHSM_ERR_NOMEM;
	rv->o = o;
	rv->note = note;
	rv->arg = arg;
	*rvp = rv;
	return 0;
}

void
pnk_rev_free(struct pnk_revoke **rvp)
{
	struct pnk_revoke *rv;
	size_t i;

	if (rvp == NULL || (rv = *rvp) == NULL)
		return;
	for (i = 0; i < rv->ncrls; i++)
		if (rv->crls[i].der_owned)
			free((uint8_t *)rv->crls[i].der);
	for (i = 0; i < rv->ncaches; i++)
		free(rv->caches[i]);
	for (i = 0; i < rv->nsrcs; i++)
		free(rv->srcs[i].file);
	free(rv->crls);
	free(rv->srcs);
	free(rv->krl);
	free(rv);
	*rvp = NULL;
}

/* A list file at dirfd/name (dirfd AT_FDCWD: name is a path), checked. */
static int
open_list(int dirfd, const char *name, const char *shown, struct stat *st,
    char *why, size_t whylen)
{
	char err[512];
	int fd;

	if ((fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NOCTTY | O_NONBLOCK)) == -1) {
		nk_errf(why, whylen, "%s: %s", shown, errno == ELOOP ?
		    "is a symbolic link" : strerror(errno));
		return -1;
	}
	err[0] = '\0';
	if (nkhsm_file_check(fd, shown, -1, err, sizeof(err)) != 0 ||
	    fstat(fd, st) != 0) {
		nk_errf(why, whylen, "%s", err[0] != '\0' ? err : shown);
		close(fd);
		return -1;
	}
	return fd;
}

/* The whole of an open list file. */
static int
read_open_list(int fd, const char *shown, uint8_t **datap, size_t *lenp,
    char *why, size_t whylen)
{
	char err[512], *text = NULL;

	err[0] = '\0';
	if (nk_fd_read_all(fd, shown, PNK_REV_FILE_MAX, &text, lenp, err,
	    sizeof(err)) != 0) {
		nk_errf(why, whylen, "%s", err[0] != '\0' ? err :
		    "larger than allowed");
		return PNK_REV_UNAVAIL;
	}
	*datap = (uint8_t *)text;
	return PNK_REV_OK;
}

/* A list file, safe and whole. */
static int
read_list(int dirfd, const char *name, const char *shown, uint8_t **datap,
    size_t *lenp, char *why, size_t whylen)
{
	struct stat st;
	int fd, r;

	*datap = NULL;
	*lenp = 0;
	if ((fd = open_list(dirfd, name, shown, &st, why, whylen)) == -1)
		return PNK_REV_UNAVAIL;
	r = read_open_list(fd, shown, datap, lenp, why, whylen);
	close(fd);
	return r;
}

static int
add_src(struct pnk_revoke *rv, const char *file, const struct stat *st,
    size_t *srcp, char *why, size_t whylen)
{
	struct rev_src *n;

	if ((n = reallocarray(rv->srcs, rv->nsrcs + 1, sizeof(*n))) == NULL) {
		nk_errf(why, whylen, "out of memory");
		return PNK_REV_UNAVAIL;
	}
	rv->srcs = n;
	memset(&n[rv->nsrcs], 0, sizeof(*n));
	if ((n[rv->nsrcs].file = strdup(file)) == NULL) {
		nk_errf(why, whylen, "out of memory");
		return PNK_REV_UNAVAIL;
	}
	n[rv->nsrcs].st = *st;
	*srcp = rv->nsrcs++;
	return PNK_REV_OK;
}

/*
 * A CRL of source src (der is handed over): parsed in full, or, from the
 * cache, again (it was in full before it went there).
 */
static int
add_crl(struct pnk_revoke *rv, size_t src, const uint8_t *der, size_t len,
    const struct pnk_crlcache_entry *cached, char *why, size_t whylen)
{
	struct rev_crl *c;
	char err[256];
	int r;

	if (rv->ncrls == PNK_REV_CRLS_MAX) {
		if (cached == NULL)
			free((uint8_t *)der);
		nk_errf(why, whylen, "%s: more than %d CRLs in crl=",
		    rv->srcs[src].file, PNK_REV_CRLS_MAX);
		return PNK_REV_UNAVAIL;
	}
	if (rv->crls == NULL && (rv->crls = calloc(PNK_REV_CRLS_MAX,
	    sizeof(*rv->crls))) == NULL) {
		if (cached == NULL)
			free((uint8_t *)der);
		nk_errf(why, whylen, "out of memory");
		return PNK_REV_UNAVAIL;
	}
	c = &rv->crls[rv->ncrls++];	/* freed with rv from here */
	memset(c, 0, sizeof(*c));
	c->src = src;
	c->der = der;
	c->len = len;
	c->der_owned = cached == NULL;
	err[0] = '\0';
	if (cached != NULL) {
		c->verified = cached->verified;
		memcpy(c->verified_by, cached->verified_by,
		    sizeof(c->verified_by));
		r = nk_crl_reparse(der, len, &c->crl, err, sizeof(err));
	} else
		r = nk_crl_parse(der, len, &c->crl, err, sizeof(err));
	if (r != 0) {
		nk_errf(why, whylen, "%s: %s", rv->srcs[src].file, err);
		return PNK_REV_UNAVAIL;
	}
	return PNK_REV_OK;
}

/* The CRLs the cache holds for this file, if it has them. */
static int
load_cached(struct pnk_revoke *rv, size_t src, int *hitp, char *why,
    size_t whylen)
{
	struct pnk_crlcache_entry *e = NULL;
	uint8_t *store = NULL;
	size_t n = 0, i;
	int r = PNK_REV_OK;

	*hitp = 0;
	if (rv->ncaches == PNK_REV_CRLS_MAX ||
	    pnk_crlcache_load(rv->o->rundir, rv->srcs[src].file,
	    &rv->srcs[src].st, &e, &n, &store) != 0)
		return PNK_REV_OK;
	*hitp = 1;
	rv->caches[rv->ncaches++] = store;	/* the CRLs point into it */
	for (i = 0; i < n && r == PNK_REV_OK; i++)
		r = add_crl(rv, src, e[i].der, e[i].len, &e[i], why, whylen);
	pnk_crlcache_free(e);
	return r;
}

/* One file: a DER CRL, or PEM blocks of them. */
static int
load_crl_file(struct pnk_revoke *rv, int dirfd, const char *name,
    const char *shown, char *why, size_t whylen)
{
	uint8_t *text = NULL, *der = NULL;
	size_t len = 0, off = 0, line = 0, derlen = 0, n = 0, src;
	struct timespec before;
	struct stat st;
	char err[256];
	int fd, hit, r, clock_ok;

	/* The clock before the file is read: see pnk_crlcache_settled. */
	clock_ok = clock_gettime(CLOCK_REALTIME, &before) == 0;
	if ((fd = open_list(dirfd, name, shown, &st, why, whylen)) == -1)
		return PNK_REV_UNAVAIL;
	if ((r = add_src(rv, shown, &st, &src, why, whylen)) == PNK_REV_OK)
		rv->srcs[src].settled = clock_ok &&
		    pnk_crlcache_settled(&st, &before);
	if (r != PNK_REV_OK ||
	    (r = load_cached(rv, src, &hit, why, whylen)) != PNK_REV_OK || hit ||
	    (r = read_open_list(fd, shown, &text, &len, why, whylen)) !=
	    PNK_REV_OK) {
		close(fd);
		return r;
	}
	close(fd);
	rv->srcs[src].dirty = 1;
	if (len > 0 && text[0] == 0x30)
		return add_crl(rv, src, text, len, NULL, why, whylen);
	for (;;) {
		err[0] = '\0';
		if (nk_crl_pem_next((const char *)text, len, &off, &line, &der,
		    &derlen, err, sizeof(err)) != 0) {
			nk_errf(why, whylen, "%s: %s", shown, err);
			r = PNK_REV_UNAVAIL;
			break;
		}
		if (der == NULL) {
			if (n == 0)
				nk_errf(why, whylen, "%s: no CRL in it (PEM or "
				    "DER)", shown);
			r = n == 0 ? PNK_REV_UNAVAIL : PNK_REV_OK;
			break;
		}
		n++;
		if ((r = add_crl(rv, src, der, derlen, NULL, why,
		    whylen)) != PNK_REV_OK)
			break;
	}
	free(text);
	return r;
}

/* Write the cache of each file read in full or verified anew. */
static void
store_caches(struct pnk_revoke *rv)
{
	struct pnk_crlcache_entry *e;
	size_t s, i, n;

	for (s = 0; s < rv->nsrcs; s++) {
		if (!rv->srcs[s].dirty || !rv->srcs[s].settled)
			continue;
		if ((e = calloc(rv->ncrls, sizeof(*e))) == NULL)
			return;
		for (i = n = 0; i < rv->ncrls; i++) {
			if (rv->crls[i].src != s)
				continue;
			e[n].der = rv->crls[i].der;
			e[n].len = rv->crls[i].len;
			e[n].verified = rv->crls[i].verified;
			memcpy(e[n++].verified_by, rv->crls[i].verified_by,
			    PNK_SPKI_HASH_LEN);
		}
		if (n > 0 && pnk_crlcache_store(rv->o->rundir, rv->srcs[s].file,
		    &rv->srcs[s].st, e, n) == 0)
			rv->srcs[s].dirty = 0;
		free(e);	/* the DER stays the CRL's */
	}
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names of a directory's entries, hidden ones left out, sorted. */
static int
dir_names(DIR *d, const char *path, char **names, size_t *np, char *why,
    size_t whylen)
{
	struct dirent *de;
	size_t n = 0;

	errno = 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;	/* ., .., and the temporary files of copies */
		if (n == DIR_ENTRIES_MAX || (names[n] = strdup(de->d_name)) ==
		    NULL) {
			nk_errf(why, whylen, "%s: %s", path, n == DIR_ENTRIES_MAX ?
			    "more than 64 entries" : "out of memory");
			*np = n;
			return PNK_REV_UNAVAIL;
		}
		n++;
	}
	*np = n;
	if (errno != 0) {
		nk_errf(why, whylen, "%s: %s", path, strerror(errno));
		return PNK_REV_UNAVAIL;
	}
	qsort(names, n, sizeof(*names), cmp_names);
	return PNK_REV_OK;
}

/* crl=DIR: every entry but hidden ones, each a CRL file. */
static int
load_crl_dir(struct pnk_revoke *rv, const char *path, int fd, char *why,
    size_t whylen)
{
	char *names[DIR_ENTRIES_MAX], shown[4096];
	struct stat st;
	size_t n = 0, i;
	DIR *d = NULL;
	int r;

	if (fstat(fd, &st) == -1 || st.st_uid != 0 ||
	    (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		nk_errf(why, whylen, "%s: a directory not owned by root or "
		    "writable by others", path);
		close(fd);
		return PNK_REV_UNAVAIL;
	}
	if ((d = fdopendir(fd)) == NULL) {
		nk_errf(why, whylen, "%s: %s", path, strerror(errno));
		close(fd);
		return PNK_REV_UNAVAIL;
	}
	if ((r = dir_names(d, path, names, &n, why, whylen)) == PNK_REV_OK &&
	    n == 0) {
		nk_errf(why, whylen, "%s: no CRL in the directory", path);
		r = PNK_REV_UNAVAIL;
	}
	for (i = 0; i < n && r == PNK_REV_OK; i++) {
		snprintf(shown, sizeof(shown), "%s/%s", path, names[i]);
		r = load_crl_file(rv, dirfd(d), names[i], shown, why, whylen);
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	closedir(d);
	return r;
}

/* Every crl=, once. */
static int
load_crls(struct pnk_revoke *rv, char *why, size_t whylen)
{
	const char *path;
	size_t i;
	int fd, r = PNK_REV_OK;

	if (rv->crls_read)
		return PNK_REV_OK;
	for (i = 0; i < rv->o->ncrl && r == PNK_REV_OK; i++) {
		path = rv->o->crl[i];
		fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd != -1)
			r = load_crl_dir(rv, path, fd, why, whylen);
		else if (errno == ENOTDIR)
			r = load_crl_file(rv, AT_FDCWD, path, path, why, whylen);
		else {
			nk_errf(why, whylen, "%s: %s", path, errno == ELOOP ?
			    "is a symbolic link" : strerror(errno));
			r = PNK_REV_UNAVAIL;
		}
	}
	if (r == PNK_REV_OK)
		rv->crls_read = 1;
	return r;
}

static int
load_krl(struct pnk_revoke *rv, char *why, size_t whylen)
{
	if (rv->krl_read)
		return PNK_REV_OK;
	if (read_list(AT_FDCWD, rv->o->krl, rv->o->krl, &rv->krl, &rv->krllen,
	    why, whylen) != PNK_REV_OK)
		return PNK_REV_UNAVAIL;
	rv->krl_read = 1;
	return PNK_REV_OK;
}

/* The KRL's verdict on each query; PNK_REV_UNAVAIL if it cannot be read. */
static int
krl_check(struct pnk_revoke *rv, struct nk_krl_query *q, size_t nq,
    char *why, size_t whylen)
{
	char err[512];

	if (load_krl(rv, why, whylen) != PNK_REV_OK)
		return PNK_REV_UNAVAIL;
	err[0] = '\0';
	if (nk_krl_check(rv->o->krl, rv->krl, rv->krllen, q, nq, err,
	    sizeof(err)) != 0) {
		nk_errf(why, whylen, "%s", err);
		return PNK_REV_UNAVAIL;
	}
	return PNK_REV_OK;
}

int
pnk_rev_keys(struct pnk_revoke *rv, struct pnk_keys *keys, char *why,
    size_t whylen)
{
	struct nk_krl_query *q = NULL;
	struct pnk_key tmp;
	size_t i, j;
	int r;

	if (rv->o->krl == NULL || keys->n == 0)
		return PNK_REV_OK;
	if ((q = calloc(keys->n, sizeof(*q))) == NULL) {
		nk_errf(why, whylen, "out of memory");
		return PNK_REV_UNAVAIL;
	}
	for (i = 0; i < keys->n; i++)
		if (nk_krl_key_init(&q[i].key, keys->key[i].blob,
		    keys->key[i].bloblen) != 0) {
			nk_errf(why, whylen, "cannot hash an authorized key");
			free(q);
			return PNK_REV_UNAVAIL;
		}
	if ((r = krl_check(rv, q, keys->n, why, whylen)) != PNK_REV_OK) {
		free(q);
		return r;
	}
	for (i = 0; i < keys->n; i++)
		keys->key[i].revoked = q[i].why != 0 ? nk_krl_why(q[i].why) : NULL;
	free(q);
	/* Stable: the good keys first, in file order, then the revoked ones. */
	for (i = 1; i < keys->n; i++)
		for (j = i; j > 0 && keys->key[j - 1].revoked != NULL &&
		    keys->key[j].revoked == NULL; j--) {
			tmp = keys->key[j - 1];
			keys->key[j - 1] = keys->key[j];
			keys->key[j] = tmp;
		}
	return PNK_REV_OK;
}

/* The content of the certificate's serial INTEGER, as CRLs hold it. */
static int
serial_content(X509 *x, uint8_t *buf, size_t buflen, size_t *lenp,
    char *hex, size_t hexlen)
{
	unsigned char *der = NULL;
	size_t i;
	int len, hl;

	if ((len = i2d_ASN1_INTEGER(X509_get0_serialNumber(x), &der)) < 3)
		return -1;
	hl = der[1] & 0x80 ? 2 + (der[1] & 0x7f) : 2;
	if (len - hl <= 0 || (size_t)(len - hl) > buflen) {
		OPENSSL_free(der);
		return -1;
	}
	*lenp = (size_t)(len - hl);
	memcpy(buf, der + hl, *lenp);
	OPENSSL_free(der);
	/* 0x..., without leading zero bytes: the form nkhsm-sshca revoke takes. */
	snprintf(hex, hexlen, "0x");
	for (i = buf[0] == 0 && *lenp > 1 ? 1 : 0; i < *lenp &&
	    strlen(hex) + 3 < hexlen; i++)
		snprintf(hex + strlen(hex), hexlen - strlen(hex), "%02X", buf[i]);
	return 0;
}

/* Does CRL c claim to come from the issuer with this subject? */
static int
names_issuer(const struct rev_crl *c, const uint8_t *subj, size_t subjlen)
{
	return c->crl.issuerlen == subjlen &&
	    memcmp(c->crl.issuer, subj, subjlen) == 0;
}

/* SHA-256 of the issuer's SubjectPublicKeyInfo: the key, for the cache. */
static int
spki_hash(X509 *issuer, uint8_t *md)
{
	unsigned char *der = NULL;
	size_t mdlen = 0;
	int len, r;

	if ((len = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(issuer), &der)) <= 0)
		return -1;
	r = nk_sha2(256, der, (size_t)len, md, &mdlen);
	OPENSSL_free(der);
	return r == 0 && mdlen == PNK_SPKI_HASH_LEN ? 0 : -1;
}

/* c must be signed by issuer: now, earlier this login, or per the cache. */
static int
crl_trusted(struct pnk_revoke *rv, struct rev_crl *c, X509 *issuer,
    const char *dn, char *why, size_t whylen)
{
	const ASN1_OCTET_STRING *skid = X509_get0_subject_key_id(issuer);
	uint8_t key[PNK_SPKI_HASH_LEN];
	const char *file = rv->srcs[c->src].file;
	char err[256];

	if (c->checked_with == issuer)
		return PNK_REV_OK;
	if (c->crl.akid != NULL && skid != NULL &&
	    ((size_t)ASN1_STRING_length(skid) != c->crl.akidlen ||
	    memcmp(ASN1_STRING_get0_data(skid), c->crl.akid,
	    c->crl.akidlen) != 0)) {
		nk_errf(why, whylen, "CRL %s names issuer '%s' but another key "
		    "signed it (authority key id)", file, dn);
		return PNK_REV_UNAVAIL;
	}
	if (spki_hash(issuer, key) != 0) {
		nk_errf(why, whylen, "cannot read the key of issuer '%s'", dn);
		return PNK_REV_UNAVAIL;
	}
	if (!c->verified || memcmp(c->verified_by, key, sizeof(key)) != 0) {
		err[0] = '\0';
		if (nk_crl_verify(&c->crl, X509_get0_pubkey(issuer), err,
		    sizeof(err)) != 0) {
			nk_errf(why, whylen, "CRL %s does not verify against its "
			    "issuer '%s': %s", file, dn, err);
			return PNK_REV_UNAVAIL;
		}
		c->verified = 1;
		memcpy(c->verified_by, key, sizeof(key));
		rv->srcs[c->src].dirty = 1;
	}
	c->checked_with = issuer;
	return PNK_REV_OK;
}

/* The newest of the issuer's CRLs must be current, or within grace. */
static int
crl_fresh(struct pnk_revoke *rv, const struct rev_crl *c, int64_t now,
    char *why, size_t whylen)
{
	char msg[512];

	const char *file = rv->srcs[c->src].file;

	if (now < c->crl.this_update) {
		nk_errf(why, whylen, "CRL %s is not valid yet (thisUpdate is "
		    "%lld s ahead)", file, (long long)(c->crl.this_update - now));
		return PNK_REV_UNAVAIL;
	}
	if (now <= c->crl.next_update)
		return PNK_REV_OK;
	if (now - c->crl.next_update > (int64_t)rv->o->crl_grace) {
		nk_errf(why, whylen, "CRL %s expired %lld s ago (nextUpdate "
		    "passed; crl_grace=%us)", file,
		    (long long)(now - c->crl.next_update), rv->o->crl_grace);
		return PNK_REV_UNAVAIL;
	}
	if (rv->note != NULL) {
		snprintf(msg, sizeof(msg), "CRL %s expired %lld s ago; used "
		    "within crl_grace=%us", file,
		    (long long)(now - c->crl.next_update), rv->o->crl_grace);
		rv->note(rv->arg, msg);
	}
	return PNK_REV_OK;
}

/* Certificate x, issued by issuer: against every CRL of that issuer. */
static int
crl_judge(struct pnk_revoke *rv, X509 *x, X509 *issuer, int64_t now,
    char *why, size_t whylen)
{
	const unsigned char *subj;
	uint8_t serial[128];
	size_t subjlen, slen, i;
	struct rev_crl *newest = NULL, *hit = NULL;
	char dn[256], hex[2 * sizeof(serial) + 3];
	int r;

	if (!X509_NAME_get0_der(X509_get_subject_name(issuer), &subj,
	    &subjlen) || serial_content(x, serial, sizeof(serial), &slen, hex,
	    sizeof(hex)) != 0) {
		nk_errf(why, whylen, "cannot read the certificate or its issuer");
		return PNK_REV_UNAVAIL;
	}
	X509_NAME_oneline(X509_get_subject_name(issuer), dn, sizeof(dn));
	if ((X509_get_extension_flags(issuer) & EXFLAG_KUSAGE) != 0 &&
	    (X509_get_key_usage(issuer) & KU_CRL_SIGN) == 0) {
		nk_errf(why, whylen, "issuer '%s' may not sign CRLs (keyUsage)",
		    dn);
		return PNK_REV_UNAVAIL;
	}
	for (i = 0; i < rv->ncrls; i++) {
		if (!names_issuer(&rv->crls[i], subj, subjlen))
			continue;
		if ((r = crl_trusted(rv, &rv->crls[i], issuer, dn, why,
		    whylen)) != PNK_REV_OK)
			return r;
		if (newest == NULL ||
		    rv->crls[i].crl.this_update > newest->crl.this_update)
			newest = &rv->crls[i];
		if (hit == NULL && nk_crl_lists(&rv->crls[i].crl, serial, slen))
			hit = &rv->crls[i];
	}
	if (newest == NULL) {
		nk_errf(why, whylen, "no CRL from issuer '%s' in crl=", dn);
		return PNK_REV_UNAVAIL;
	}
	if ((r = crl_fresh(rv, newest, now, why, whylen)) != PNK_REV_OK)
		return r;
	if (hit != NULL) {
		nk_errf(why, whylen, "certificate serial %s issuer '%s' "
		    "revoked by CRL %s", hex, dn, rv->srcs[hit->src].file);
		return PNK_REV_REVOKED;
	}
	return PNK_REV_OK;
}

int
pnk_rev_cert(struct pnk_revoke *rv, STACK_OF(X509) *chain,
    const nkhsm_point_t *pt, int64_t now, char *why, size_t whylen)
{
	struct nk_krl_query q;
	uint8_t *blob = NULL;
	size_t bloblen = 0;
	int i, n, r;

	if (rv->o->ncrl > 0) {
		if ((r = load_crls(rv, why, whylen)) != PNK_REV_OK)
			return r;
		n = sk_X509_num(chain);
		/* The last is the trust anchor: no CRL speaks for it. */
		for (r = PNK_REV_OK, i = 0; i + 1 < n && r == PNK_REV_OK; i++)
			r = crl_judge(rv, sk_X509_value(chain, i),
			    sk_X509_value(chain, i + 1), now, why, whylen);
		store_caches(rv);
		if (r != PNK_REV_OK)
			return r;
	}
	if (rv->o->krl == NULL)
		return PNK_REV_OK;
	memset(&q, 0, sizeof(q));
	if (nk_point_to_ssh_blob(pt, &blob, &bloblen) != 0 ||
	    nk_krl_key_init(&q.key, blob, bloblen) != 0) {
		free(blob);
		nk_errf(why, whylen, "cannot encode the certificate's key");
		return PNK_REV_UNAVAIL;
	}
	if ((r = krl_check(rv, &q, 1, why, whylen)) == PNK_REV_OK &&
	    q.why != 0) {
		nk_errf(why, whylen, "the certificate's key is revoked by KRL %s "
		    "(%s)", rv->o->krl, nk_krl_why(q.why));
		r = PNK_REV_KEY_REVOKED;
	}
	free(blob);
	return r;
}
