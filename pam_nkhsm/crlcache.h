/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * crlcache.h - verified CRLs kept between logins (crlcache.c): what a CRL
 * file held, with the key each CRL's signature verified with.
 */
#ifndef PNK_CRLCACHE_H
#define PNK_CRLCACHE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <time.h>

#define PNK_SPKI_HASH_LEN	32	/* SHA-256 of a SubjectPublicKeyInfo */
#define PNK_CRLCACHE_SETTLE	2	/* seconds; see pnk_crlcache_settled */

struct pnk_crlcache_entry {
	const uint8_t	*der;		/* a CRL that nk_crl_parse took */
	size_t		 len;
	int		 verified;	/* its signature verified with ... */
	uint8_t		 verified_by[PNK_SPKI_HASH_LEN];	/* this key */
};

/*
 * The CRLs cached for the CRL file path whose fstat is st: 0 and the
 * entries (free the array with pnk_crlcache_free), whose DER points into
 * *storep (the caller frees it when done with them), or -1 when there is
 * no usable cache (not root, none, not root's, another identity,
 * malformed).
 */
int pnk_crlcache_load(const char *rundir, const char *path,
    const struct stat *st, struct pnk_crlcache_entry **ep, size_t *np,
    uint8_t **storep);
/* Replace the cache for path with these CRLs; -1 when it cannot. */
int pnk_crlcache_store(const char *rundir, const char *path,
    const struct stat *st, const struct pnk_crlcache_entry *e, size_t n);
void pnk_crlcache_free(struct pnk_crlcache_entry *e);
/*
 * 1 when a CRL file whose fstat is st, read after the clock said before,
 * may be cached: its last change (the later of its modification and change
 * times) is PNK_CRLCACHE_SETTLE seconds older than before. A write in the
 * same clock tick as the one before it leaves the file's times as they
 * were, so a file read just after a change may change again unseen; one
 * whose times are in the future is never cached either.
 */
int pnk_crlcache_settled(const struct stat *st, const struct timespec *before);

#endif /* PNK_CRLCACHE_H */
