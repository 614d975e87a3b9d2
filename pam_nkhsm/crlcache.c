/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * crlcache.c - CRLs that passed every check, kept between logins in
 * RUNDIR/crl (root's alone), so that a login after the first one for a
 * given CRL file neither hashes the whole CRL again nor decodes its PEM.
 *
 * One cache file per CRL file, named after the SHA-256 of its path. It
 * holds, in SSH wire encoding (lib/buf.c): a magic string, the path, the
 * CRL file's identity (device, inode, size, modification and change times
 * to the nanosecond), then each CRL the file held, in DER, with the SHA-256
 * of the issuer key (SubjectPublicKeyInfo) its signature verified with, if
 * it did. It is used only while the CRL file has that identity: a new copy,
 * renamed into place or written over, is another file. A change of the
 * content needs a write, which moves the change time; only root can set the
 * rest back. The change time moves by clock ticks, so two writes in one
 * tick leave the same times: a file is only cached when it was read
 * PNK_CRLCACHE_SETTLE seconds or more after its last change
 * (pnk_crlcache_settled), when a later write must move its times.
 *
 * Only a process with effective uid 0 reads or writes the cache (a screen
 * locker running as the user checks every CRL in full); a cache file that
 * is not root's, or is writable by others, or does not parse, is not used.
 * The DER in it passed nk_crl_parse when it was written and is read again
 * with nk_crl_reparse, which checks all but the entries; a failed write
 * leaves the old file or none, never a part.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nkhsm.h"
#include "nk-int.h"
#include "buf.h"
#include "pamnk.h"
#include "revoke.h"
#include "crlcache.h"

#define CACHE_DIR	"crl"
#define CACHE_MAGIC	"nkhsm-crl-cache-1"
#define CACHE_NAME_LEN	(1 + 32 + 1)	/* "c", 16 bytes in hex, NUL */

/* "c" and the first 16 bytes of the path's SHA-256 in hex. */
static int
cache_name(const char *path, char *name, size_t namelen)
{
	uint8_t md[NK_MAX_DIGEST];
	size_t mdlen = 0, i;

	if (namelen < CACHE_NAME_LEN || nk_sha2(256, (const uint8_t *)path,
	    strlen(path), md, &mdlen) != 0)
		return -1;
	name[0] = 'c';
	for (i = 0; i < 16; i++)
		snprintf(name + 1 + 2 * i, namelen - 1 - 2 * i, "%02x", md[i]);
	return 0;
}

static int
put_identity(struct nk_buf *b, const struct stat *st)
{
	int r;

	if ((r = nk_buf_put_u64(b, (uint64_t)st->st_dev)) != 0 ||
	    (r = nk_buf_put_u64(b, (uint64_t)st->st_ino)) != 0 ||
	    (r = nk_buf_put_u64(b, (uint64_t)st->st_size)) != 0 ||
	    (r = nk_buf_put_u64(b, (uint64_t)st->st_mtim.tv_sec)) != 0 ||
	    (r = nk_buf_put_u64(b, (uint64_t)st->st_mtim.tv_nsec)) != 0 ||
	    (r = nk_buf_put_u64(b, (uint64_t)st->st_ctim.tv_sec)) != 0)
		return r;
	return nk_buf_put_u64(b, (uint64_t)st->st_ctim.tv_nsec);
}

/* The header: magic, path and identity, all as this CRL file has them. */
static int
header_matches(struct nk_buf *b, const char *path, const struct stat *st)
{
	struct nk_buf want;
	size_t len;
	int ok;

	nk_buf_init(&want);
	ok = nk_buf_put_cstring(&want, CACHE_MAGIC) == 0 &&
	    nk_buf_put_cstring(&want, path) == 0 && put_identity(&want, st) == 0;
	len = nk_buf_avail(&want);
	ok = ok && nk_buf_avail(b) >= len &&
	    memcmp(nk_buf_ptr(b), nk_buf_ptr(&want), len) == 0 &&
	    nk_buf_get(b, NULL, len) == 0;
	nk_buf_free(&want);
	return ok;
}

int
pnk_crlcache_settled(const struct stat *st, const struct timespec *before)
{
	time_t last = st->st_mtim.tv_sec > st->st_ctim.tv_sec ?
	    st->st_mtim.tv_sec : st->st_ctim.tv_sec;

	return last <= before->tv_sec - PNK_CRLCACHE_SETTLE;
}

void
pnk_crlcache_free(struct pnk_crlcache_entry *e)
{
	free(e);
}

static int
parse_entries(struct nk_buf *b, struct pnk_crlcache_entry **ep, size_t *np)
{
	struct pnk_crlcache_entry *e = NULL;
	const uint8_t *der, *h;
	size_t derlen, hlen, i;
	uint32_t n;

	if (nk_buf_get_u32(b, &n) != 0 || n == 0 || n > PNK_REV_CRLS_MAX ||
	    (e = calloc(n, sizeof(*e))) == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if (nk_buf_get_string_direct(b, &der, &derlen) != 0 ||
		    nk_buf_get_string_direct(b, &h, &hlen) != 0 ||
		    derlen == 0 || (hlen != 0 && hlen != PNK_SPKI_HASH_LEN)) {
			free(e);
			return -1;
		}
		e[i].der = der;		/* a view into the cache file's text */
		e[i].len = derlen;
		e[i].verified = hlen != 0;
		if (hlen != 0)
			memcpy(e[i].verified_by, h, hlen);
	}
	if (nk_buf_avail(b) != 0) {
		free(e);
		return -1;
	}
	*ep = e;
	*np = n;
	return 0;
}

int
pnk_crlcache_load(const char *rundir, const char *path, const struct stat *st,
    struct pnk_crlcache_entry **ep, size_t *np, uint8_t **storep)
{
	char name[CACHE_NAME_LEN], *text = NULL;
	struct nk_buf b;
	size_t len = 0;
	int dfd = -1, fd = -1, r = -1;

	*ep = NULL;
	*np = 0;
	*storep = NULL;
	if (geteuid() != 0 || cache_name(path, name, sizeof(name)) != 0 ||
	    (dfd = pnk_rundir_subdir(rundir, CACHE_DIR, 0, NULL, 0)) < 0)
		return -1;
	if ((fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NOCTTY | O_NONBLOCK)) == -1 ||
	    nkhsm_file_check(fd, name, -1, NULL, 0) != 0 ||
	    nk_fd_read_all(fd, name, PNK_REV_FILE_MAX, &text, &len, NULL,
	    0) != 0)
		goto out;
	nk_buf_from(&b, (const uint8_t *)text, len);
	if (header_matches(&b, path, st) && parse_entries(&b, ep, np) == 0) {
		*storep = (uint8_t *)text;
		text = NULL;
		r = 0;
	}
 out:
	free(text);
	if (fd != -1)
		close(fd);
	close(dfd);
	return r;
}

int
pnk_crlcache_store(const char *rundir, const char *path, const struct stat *st,
    const struct pnk_crlcache_entry *e, size_t n)
{
	char name[CACHE_NAME_LEN], tmp[64];
	struct nk_buf b;
	size_t i, len;
	ssize_t w;
	int dfd = -1, fd = -1, r = -1;

	tmp[0] = '\0';
	nk_buf_init(&b);
	if (geteuid() != 0 || n == 0 || cache_name(path, name, sizeof(name)) != 0)
		return -1;
	if (nk_buf_put_cstring(&b, CACHE_MAGIC) != 0 ||
	    nk_buf_put_cstring(&b, path) != 0 || put_identity(&b, st) != 0 ||
	    nk_buf_put_u32(&b, (uint32_t)n) != 0)
		goto out;
	for (i = 0; i < n; i++)
		if (nk_buf_put_string(&b, e[i].der, e[i].len) != 0 ||
		    nk_buf_put_string(&b, e[i].verified_by, e[i].verified ?
		    PNK_SPKI_HASH_LEN : 0) != 0)
			goto out;
	if ((dfd = pnk_rundir_subdir(rundir, CACHE_DIR, 1, NULL, 0)) < 0)
		goto out;
	/* Written aside and renamed: a reader sees the old file or the new. */
	snprintf(tmp, sizeof(tmp), ".%s.%ld", name, (long)getpid());
	if ((fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1)
		goto out;
	for (len = nk_buf_avail(&b), i = 0; i < len; i += (size_t)w)
		if ((w = write(fd, nk_buf_ptr(&b) + i, len - i)) <= 0)
			goto out;
	if (close(fd) != 0) {
		fd = -1;
		goto out;
	}
	fd = -1;
	if (renameat(dfd, tmp, dfd, name) == 0)
		r = 0;
 out:
	if (fd != -1)
		close(fd);
	if (r != 0 && dfd >= 0 && tmp[0] != '\0')
		(void)unlinkat(dfd, tmp, 0);
	if (dfd >= 0)
		close(dfd);
	nk_buf_free(&b);
	return r;
}
