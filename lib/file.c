/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * file.c - the ownership and mode check applied to every file that grants
 * anything (nkhsm.conf, authorized key files, CA state): the caller opens
 * with O_NOFOLLOW and hands the descriptor here, so the checked inode is
 * the one that is read.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nk-int.h"

/* owner_uid < 0 or (uid_t)-1 means "root only" (see nkhsm.h). */
static int
owner_is_root_only(long owner_uid)
{
	return owner_uid < 0 || (unsigned long)owner_uid >= (uid_t)-1;
}

int
nkhsm_file_check(int fd, const char *path, long owner_uid,
    char *errbuf, size_t errlen)
{
	struct stat st;
	int r = NKHSM_ERR_INTERNAL;

	if (path == NULL)
		path = "(unnamed file)";
	if (fd < 0) {
		nk_errf(errbuf, errlen, "%s: invalid descriptor", path);
		return NKHSM_ERR_INVALID_ARGUMENT;
	}
	if (fstat(fd, &st) != 0) {
		nk_errf(errbuf, errlen, "%s: %s", path, strerror(errno));
		r = NKHSM_ERR_IO;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		nk_errf(errbuf, errlen, "%s: not a regular file", path);
		r = NKHSM_ERR_PERMISSION;
		goto out;
	}
	if (st.st_uid != 0 && (owner_is_root_only(owner_uid) ||
	    st.st_uid != (uid_t)owner_uid)) {
		if (owner_is_root_only(owner_uid))
			nk_errf(errbuf, errlen, "%s: owned by uid %lu, "
			    "expected root", path, (unsigned long)st.st_uid);
		else
			nk_errf(errbuf, errlen, "%s: owned by uid %lu, "
			    "expected root or uid %ld", path,
			    (unsigned long)st.st_uid, owner_uid);
		r = NKHSM_ERR_PERMISSION;
		goto out;
	}
	if ((st.st_mode & S_IWGRP) != 0) {
		nk_errf(errbuf, errlen, "%s: is group-writable", path);
		r = NKHSM_ERR_PERMISSION;
		goto out;
	}
	if ((st.st_mode & S_IWOTH) != 0) {
		nk_errf(errbuf, errlen, "%s: is world-writable", path);
		r = NKHSM_ERR_PERMISSION;
		goto out;
	}
	r = 0;
 out:
	return r;
}

/*
 * Read the rest of fd into a NUL-terminated buffer of at most max bytes.
 * The buffer starts at the file's size, so a small file costs a small
 * allocation (not max), and grows only if the file does while it is read.
 * NKHSM_ERR_TOO_LARGE, with errbuf left to the caller, past max bytes.
 */
int
nk_fd_read_all(int fd, const char *path, size_t max, char **textp,
    size_t *lenp, char *errbuf, size_t errlen)
{
	struct stat st;
	char *buf = NULL, *nb;
	size_t len = 0, cap;
	ssize_t n;
	int r;

	*textp = NULL;
	*lenp = 0;
	if (fstat(fd, &st) == -1) {
		nk_errf(errbuf, errlen, "%s: %s", path, strerror(errno));
		return NKHSM_ERR_IO;
	}
	if (st.st_size < 0 || (uintmax_t)st.st_size > max)
		return NKHSM_ERR_TOO_LARGE;
	/* Room for one byte more than the file, so that growth is seen. */
	cap = (size_t)st.st_size + 2;
	for (;;) {
		if (len + 1 >= cap || buf == NULL) {
			if (buf != NULL)
				cap = cap > max / 2 ? max + 2 : cap * 2;
			if ((nb = realloc(buf, cap)) == NULL) {
				r = NKHSM_ERR_NOMEM;
				goto out;
			}
			buf = nb;
		}
		if ((n = read(fd, buf + len, cap - 1 - len)) < 0) {
			if (errno == EINTR)
				continue;
			nk_errf(errbuf, errlen, "%s: %s", path, strerror(errno));
			r = NKHSM_ERR_IO;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			r = NKHSM_ERR_TOO_LARGE;
			goto out;
		}
	}
	buf[len] = '\0';
	*textp = buf;
	*lenp = len;
	return 0;
 out:
	free(buf);
	return r;
}

/*
 * Read a whole configuration-like file: opened without following symlinks
 * (O_NONBLOCK: a FIFO planted at the path cannot hang the open), checked
 * with nkhsm_file_check, at most max bytes. A missing file is NKHSM_ERR_IO
 * with errno ENOENT, so that callers may treat it as "no file".
 */
int
nk_file_load(const char *path, long owner_uid, size_t max, char **textp,
    size_t *lenp, char *errbuf, size_t errlen)
{
	int fd, r, saved;

	*textp = NULL;
	*lenp = 0;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK)) == -1) {
		saved = errno;
		if (saved == ELOOP) {
			nk_errf(errbuf, errlen, "%s: is a symbolic link (refused)",
			    path);
			return NKHSM_ERR_PERMISSION;
		}
		nk_errf(errbuf, errlen, "%s: %s", path, strerror(saved));
		errno = saved;
		return NKHSM_ERR_IO;
	}
	if ((r = nkhsm_file_check(fd, path, owner_uid, errbuf, errlen)) == 0 &&
	    (r = nk_fd_read_all(fd, path, max, textp, lenp, errbuf,
	    errlen)) == NKHSM_ERR_TOO_LARGE) {
		nk_errf(errbuf, errlen, "%s: file too large (max %zu bytes)",
		    path, max);
		r = NKHSM_ERR_CONFIG;
	}
	close(fd);
	return r;
}

void
nk_lines_init(struct nk_lines *it, const char *text, size_t len)
{
	it->p = text;
	it->end = text + len;
	it->lineno = 0;
}

int
nk_lines_next(struct nk_lines *it, const char *name, size_t maxlen,
    const char **linep, size_t *lenp, char *errbuf, size_t errlen)
{
	const char *nl;
	size_t len;

	if (it->p == NULL || it->p >= it->end)
		return 0;
	it->lineno++;
	if ((nl = memchr(it->p, '\n', (size_t)(it->end - it->p))) == NULL)
		nl = it->end;
	len = (size_t)(nl - it->p);
	if (len > maxlen) {
		nk_errf(errbuf, errlen, "%s:%zu: line too long (max %zu bytes)",
		    name, it->lineno, maxlen);
		return NKHSM_ERR_CONFIG;
	}
	if (memchr(it->p, '\0', len) != NULL) {
		nk_errf(errbuf, errlen, "%s:%zu: NUL byte", name, it->lineno);
		return NKHSM_ERR_CONFIG;
	}
	*linep = it->p;
	*lenp = len;
	it->p = nl + 1;
	return 1;
}

/* Quote untrusted bytes for a message: printable ASCII as is, else \xNN. */
void
nk_echo(char *dst, size_t dstlen, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, n = 0;
	unsigned char c;

	if (dst == NULL || dstlen == 0)
		return;
	for (i = 0; s != NULL && i < len; i++) {
		c = (unsigned char)s[i];
		/* \ and ' too: messages quote what they echo in '...'. */
		if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
			if (n + 1 >= dstlen)
				break;
			dst[n++] = (char)c;
		} else {
			if (n + 4 >= dstlen)
				break;
			dst[n++] = '\\';
			dst[n++] = 'x';
			dst[n++] = hex[c >> 4];
			dst[n++] = hex[c & 0x0f];
		}
	}
	dst[n] = '\0';
}

static int
kv_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

int
nk_kv_split(const char *name, size_t lineno, const char *s, size_t len,
    const char **keyp, size_t *keylenp, const char **valp, char *errbuf,
    size_t errlen)
{
	char echo[NK_ECHO_MAX * 4 + 1];
	const char *key;
	size_t i = 0, keylen;

	*keyp = NULL;
	*keylenp = 0;
	*valp = NULL;
	while (i < len && kv_space((unsigned char)s[i]))
		i++;
	if (i == len || s[i] == '#')
		return 0;
	key = s + i;
	while (i < len && !kv_space((unsigned char)s[i]) && s[i] != '=')
		i++;
	keylen = (size_t)(s + i - key);
	while (i < len && kv_space((unsigned char)s[i]))
		i++;
	if (i == len || s[i] != '=') {
		nk_echo(echo, sizeof(echo), key,
		    keylen < NK_ECHO_MAX ? keylen : NK_ECHO_MAX);
		nk_errf(errbuf, errlen, "%s:%zu: missing '=' after '%s'",
		    name, lineno, echo);
		return NKHSM_ERR_CONFIG;
	}
	if (keylen == 0) {
		nk_errf(errbuf, errlen, "%s:%zu: missing key before '='",
		    name, lineno);
		return NKHSM_ERR_CONFIG;
	}
	for (i++; i < len && kv_space((unsigned char)s[i]); i++)
		;
	*keyp = key;
	*keylenp = keylen;
	*valp = s + i;
	return 1;
}
