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
#include <string.h>

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
