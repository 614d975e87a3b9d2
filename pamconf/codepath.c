/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * codepath.c - the helper program and the PKCS#11 module run with the
 * login program's privileges, usually root's. Whoever can change either,
 * or any directory or symbolic link on the way to it, could run code as
 * root; so, like OpenSSH's checks of what sshd runs, the path is walked one
 * component at a time, following symbolic links hop by hop, and every
 * directory and the file itself must be owned by root (or by this
 * process's effective user) and writable by nobody else. A root-owned
 * directory with the sticky bit (/tmp) may be world-writable: nobody else
 * can rename or replace root's entries in it.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nkhsm.h"
#include "nk-int.h"
#include "pamconf.h"

#define CODE_PATH_MAX	4096
#define CODE_HOPS_MAX	32	/* symbolic links followed, as the kernel's 40 */

/* Move the first component of *restp into comp; 0 when none is left. */
static int
next_component(char **restp, char *comp, size_t complen)
{
	char *p = *restp;
	size_t n;

	while (*p == '/')
		p++;
	if (*p == '\0')
		return 0;
	n = strcspn(p, "/");
	if (n >= complen)
		return -1;
	memcpy(comp, p, n);
	comp[n] = '\0';
	*restp = p + n;
	return 1;
}

/* A symbolic link at cur/comp: its target goes before what is left. */
static int
splice_link(const char *linkpath, char *cur, char *rest, char *errbuf,
    size_t errlen)
{
	char target[CODE_PATH_MAX], joined[CODE_PATH_MAX];
	ssize_t n;

	if ((n = readlink(linkpath, target, sizeof(target) - 1)) < 0) {
		nk_errf(errbuf, errlen, "%s: %s", linkpath, strerror(errno));
		return NKHSM_ERR_IO;
	}
	target[n] = '\0';
	if ((size_t)snprintf(joined, sizeof(joined), "%s/%s", target, rest) >=
	    sizeof(joined)) {
		nk_errf(errbuf, errlen, "%s: path too long", linkpath);
		return NKHSM_ERR_TOO_LARGE;
	}
	strcpy(rest, joined);
	if (target[0] == '/')
		strcpy(cur, "/");
	return 0;
}

int
pnk_code_check(const char *path, char *errbuf, size_t errlen)
{
	char cur[CODE_PATH_MAX], rest[CODE_PATH_MAX], comp[256];
	char cand[CODE_PATH_MAX + 256], *rp = rest, *slash;
	struct stat st;
	int hops = 0, r;

	if (path == NULL || path[0] != '/') {
		nk_errf(errbuf, errlen, "%s: not an absolute path",
		    path != NULL ? path : "(none)");
		return NKHSM_ERR_PERMISSION;
	}
	if (strlen(path) >= sizeof(rest))
		return NKHSM_ERR_TOO_LARGE;
	strcpy(rest, path);
	strcpy(cur, "/");
	if (stat("/", &st) != 0 || (r = pnk_safe_owner_mode(&st, geteuid(), "/",
	    errbuf, errlen)) != 0)
		return NKHSM_ERR_PERMISSION;
	for (;;) {
		if ((r = next_component(&rp, comp, sizeof(comp))) <= 0) {
			nk_errf(errbuf, errlen, "%s: %s", path, r == 0 ?
			    "not a regular file" : "name too long");
			return NKHSM_ERR_PERMISSION;
		}
		if (strcmp(comp, ".") == 0)
			continue;
		if (strcmp(comp, "..") == 0) {
			/* Its parent was checked on the way down. */
			if ((slash = strrchr(cur, '/')) != NULL)
				slash[slash == cur ? 1 : 0] = '\0';
			continue;
		}
		snprintf(cand, sizeof(cand), "%s%s%s", cur,
		    strcmp(cur, "/") == 0 ? "" : "/", comp);
		if (lstat(cand, &st) != 0) {
			nk_errf(errbuf, errlen, "%s: %s%s%s", path,
			    errno == ENOENT ? "no such file" : strerror(errno),
			    strcmp(cand, path) != 0 ? " at " : "",
			    strcmp(cand, path) != 0 ? cand : "");
			return NKHSM_ERR_IO;
		}
		if (S_ISLNK(st.st_mode)) {
			if (++hops > CODE_HOPS_MAX) {
				nk_errf(errbuf, errlen, "%s: too many symbolic "
				    "links", path);
				return NKHSM_ERR_PERMISSION;
			}
			/* The link's directory (cur) was checked: it is root's. */
			memmove(rest, rp, strlen(rp) + 1);
			rp = rest;
			if ((r = splice_link(cand, cur, rest, errbuf,
			    errlen)) != 0)
				return r;
			continue;
		}
		if ((r = pnk_safe_owner_mode(&st, geteuid(), cand, errbuf,
	    errlen)) != 0)
			return r;
		if (S_ISDIR(st.st_mode)) {
			if (strlen(cand) >= sizeof(cur))
				return NKHSM_ERR_TOO_LARGE;
			strcpy(cur, cand);
			continue;
		}
		if (!S_ISREG(st.st_mode) || rp[strspn(rp, "/")] != '\0') {
			nk_errf(errbuf, errlen, "%s: not a regular file", cand);
			return NKHSM_ERR_PERMISSION;
		}
		return 0;
	}
}
