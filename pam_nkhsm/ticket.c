/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ticket.c - what authentication proved, handed to the session step.
 *
 * A session record names a token only if this module's own authentication,
 * in this login, verified a signature from it. In one process the proof
 * travels in the PAM handle. sshd authenticates in a child and hands only
 * the PAM environment (which pam_env lets the user write) to the parent
 * that opens the session: the environment then carries only a reference,
 * 32 random bytes in hex, to a ticket that the module wrote in RUNDIR/auth
 * (root's, mode 0700). The ticket's file name is the SHA-256 of the
 * reference, so a listing reveals nothing; it is bound to the user, the
 * service and the process tree, lives PNK_TICKET_TTL seconds, and the
 * session step removes it before it reads it, so it serves once.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "nkhsm.h"
#include "nk-int.h"
#include "buf.h"
#include "pamnk.h"

#define AUTHREC_MAGIC	"nkhsm-authrec-v1"
#define TICKET_DIR	"auth"
#define TICKET_PREFIX	"t-"
#define TICKET_NAME_MAX	(sizeof(TICKET_PREFIX) + 64 + sizeof(".tmp"))
#define TOKEN_STR_MAX	256	/* PKCS#11 strings are at most 64 bytes */
#define PATH_LEN_MAX	4096

void
pnk_authrec_free(struct pnk_authrec *a)
{
	if (a == NULL)
		return;
	free(a->user);
	free(a->service);
	free(a->serial);
	free(a->label);
	free(a->model);
	free(a->manufacturer);
	free(a->fp);
	memset(a, 0, sizeof(*a));
}

int
pnk_authrec_encode(const struct pnk_authrec *a, uint8_t **outp, size_t *lenp)
{
	struct nk_buf b;
	int r;

	*outp = NULL;
	*lenp = 0;
	nk_buf_init(&b);
	if ((r = nk_buf_put_cstring(&b, AUTHREC_MAGIC)) != 0 ||
	    (r = nk_buf_put_cstring(&b, a->user)) != 0 ||
	    (r = nk_buf_put_u32(&b, a->uid)) != 0 ||
	    (r = nk_buf_put_cstring(&b, a->service)) != 0 ||
	    (r = nk_buf_put_cstring(&b, a->serial)) != 0 ||
	    (r = nk_buf_put_cstring(&b, a->label)) != 0 ||
	    (r = nk_buf_put_cstring(&b, a->model)) != 0 ||
	    (r = nk_buf_put_cstring(&b, a->manufacturer)) != 0 ||
	    (r = nk_buf_put_cstring(&b, a->fp)) != 0 ||
	    (r = nk_buf_put_u64(&b, (uint64_t)a->pid)) != 0 ||
	    (r = nk_buf_put_u64(&b, (uint64_t)a->ppid)) != 0 ||
	    (r = nk_buf_put_u64(&b, (uint64_t)a->created)) != 0)
		goto out;
	if (nk_buf_avail(&b) > PNK_AUTHREC_MAX) {
		r = NKHSM_ERR_TOO_LARGE;
		goto out;
	}
	r = nk_buf_steal(&b, outp, lenp);
 out:
	nk_buf_free(&b);
	return r;
}

int
pnk_authrec_decode(const uint8_t *p, size_t len, struct pnk_authrec *a)
{
	struct nk_buf b;
	struct pnk_authrec t;
	char *magic = NULL;
	uint64_t pid = 0, ppid = 0, created = 0;
	int r = NKHSM_ERR_FORMAT;

	memset(a, 0, sizeof(*a));
	memset(&t, 0, sizeof(t));
	if (len > PNK_AUTHREC_MAX)
		return NKHSM_ERR_TOO_LARGE;
	nk_buf_from(&b, p, len);
	if ((r = nk_buf_get_cstring(&b, &magic, NULL)) != 0)
		goto out;
	if (strcmp(magic, AUTHREC_MAGIC) != 0) {
		r = NKHSM_ERR_FORMAT;
		goto out;
	}
	if ((r = nk_buf_get_cstring(&b, &t.user, NULL)) != 0 ||
	    (r = nk_buf_get_u32(&b, &t.uid)) != 0 ||
	    (r = nk_buf_get_cstring(&b, &t.service, NULL)) != 0 ||
	    (r = nk_buf_get_cstring(&b, &t.serial, NULL)) != 0 ||
	    (r = nk_buf_get_cstring(&b, &t.label, NULL)) != 0 ||
	    (r = nk_buf_get_cstring(&b, &t.model, NULL)) != 0 ||
	    (r = nk_buf_get_cstring(&b, &t.manufacturer, NULL)) != 0 ||
	    (r = nk_buf_get_cstring(&b, &t.fp, NULL)) != 0 ||
	    (r = nk_buf_get_u64(&b, &pid)) != 0 ||
	    (r = nk_buf_get_u64(&b, &ppid)) != 0 ||
	    (r = nk_buf_get_u64(&b, &created)) != 0)
		goto out;
	r = NKHSM_ERR_FORMAT;
	if (nk_buf_avail(&b) != 0 || pid > INT64_MAX || ppid > INT64_MAX ||
	    created > INT64_MAX)
		goto out;
	t.pid = (int64_t)pid;
	t.ppid = (int64_t)ppid;
	t.created = (int64_t)created;
	*a = t;
	memset(&t, 0, sizeof(t));
	r = 0;
 out:
	free(magic);
	pnk_authrec_free(&t);
	return r;
}

/* Length of the UTF-8 sequence at s (not a C1 control), or 0 if malformed. */
static size_t
utf8_len(const unsigned char *s)
{
	uint32_t cp;
	size_t n, i;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2, cp = s[0] & 0x1f;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3, cp = s[0] & 0x0f;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4, cp = s[0] & 0x07;
	else
		return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	/* Overlong forms, surrogates, beyond U+10FFFF, C1 controls. */
	if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff ||
	    (cp >= 0x80 && cp <= 0x9f))
		return 0;
	return n;
}

/* Printable text without the record's separators. */
static int
token_string_ok(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n;

	if (s == NULL || strlen(s) > TOKEN_STR_MAX)
		return 0;
	while (*p != '\0') {
		if (*p >= 0x80) {
			if ((n = utf8_len(p)) == 0)
				return 0;
			p += n;
			continue;
		}
		if (*p < 0x20 || *p == 0x7f || *p == '=' || *p == '/')
			return 0;
		p++;
	}
	return 1;
}

/* SHA256: and 43 characters of unpadded base64, as we compute them. */
static int
fingerprint_ok(const char *fp)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";

	return fp != NULL && strncmp(fp, "SHA256:", 7) == 0 &&
	    strlen(fp + 7) == 43 && strspn(fp + 7, b64) == 43;
}

const char *
pnk_authrec_unfit(const struct pnk_authrec *a)
{
	if (a->serial == NULL || *a->serial == '\0')
		return "the token has no serial number";
	if (!token_string_ok(a->serial))
		return "the token's serial number has forbidden characters";
	if (!token_string_ok(a->label))
		return "the token's label has forbidden characters";
	if (!token_string_ok(a->model))
		return "the token's model has forbidden characters";
	if (!token_string_ok(a->manufacturer))
		return "the token's manufacturer has forbidden characters";
	if (!fingerprint_ok(a->fp))
		return "the key fingerprint is malformed";
	return NULL;
}

const char *
pnk_authrec_names(const struct pnk_authrec *a, const char *user, uint32_t uid,
    const char *service)
{
	if (a->user == NULL || user == NULL || strcmp(a->user, user) != 0 ||
	    a->uid != uid)
		return "made for another user";
	if (a->service == NULL || service == NULL ||
	    strcmp(a->service, service) != 0)
		return "made for another service";
	return NULL;
}

const char *
pnk_ticket_fits(const struct pnk_authrec *a, const char *user, uint32_t uid,
    const char *service, int64_t pid, int64_t now)
{
	const char *why;

	if ((why = pnk_authrec_names(a, user, uid, service)) != NULL)
		return why;
	if (a->pid != pid && a->ppid != pid)
		return "made by an unrelated process";
	if (a->created > now || now - a->created > PNK_TICKET_TTL)
		return "expired";
	return NULL;
}

int
pnk_rundir_check(const char *rundir, char *errbuf, size_t errlen)
{
	struct stat st;

	if (mkdir(rundir, 0755) == -1 && errno != EEXIST) {
		nk_errf(errbuf, errlen, "cannot create %s: %s", rundir,
		    strerror(errno));
		return NKHSM_ERR_IO;
	}
	/* Root's alone: hotplug trusts what is in it. */
	if (lstat(rundir, &st) == -1 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		nk_errf(errbuf, errlen, "%s: not a directory owned by uid %lu "
		    "and writable only by it", rundir, (unsigned long)geteuid());
		return NKHSM_ERR_PERMISSION;
	}
	return 0;
}

/* RUNDIR/name, opened; made (0700) when create is set. */
int
pnk_rundir_subdir(const char *rundir, const char *name, int create,
    char *errbuf, size_t errlen)
{
	char path[PATH_LEN_MAX];
	struct stat st;
	int fd, r;

	if (create && (r = pnk_rundir_check(rundir, errbuf, errlen)) != 0)
		return r;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", rundir, name) >=
	    sizeof(path)) {
		nk_errf(errbuf, errlen, "%s: path too long", rundir);
		return NKHSM_ERR_TOO_LARGE;
	}
	if (create && mkdir(path, 0700) == -1 && errno != EEXIST) {
		nk_errf(errbuf, errlen, "cannot create %s: %s", path,
		    strerror(errno));
		return NKHSM_ERR_IO;
	}
	if ((fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1) {
		r = errno;
		nk_errf(errbuf, errlen, "%s: %s", path, strerror(r));
		errno = r;
		return NKHSM_ERR_IO;
	}
	if (fstat(fd, &st) == -1 || st.st_uid != geteuid() ||
	    (st.st_mode & 077) != 0) {
		nk_errf(errbuf, errlen, "%s: not a directory of uid %lu alone",
		    path, (unsigned long)geteuid());
		close(fd);
		return NKHSM_ERR_PERMISSION;
	}
	return fd;
}

static int
ticket_dir(const char *rundir, int create, char *errbuf, size_t errlen)
{
	return pnk_rundir_subdir(rundir, TICKET_DIR, create, errbuf, errlen);
}

/* The file name of a reference: t-SHA256(ref) in hex. */
static int
ticket_name(const char *ref, char *name, size_t namelen)
{
	uint8_t md[NK_MAX_DIGEST];
	size_t mdlen = 0, i, o;

	if (strlen(ref) != PNK_TICKET_REF_LEN ||
	    strspn(ref, "0123456789abcdef") != PNK_TICKET_REF_LEN ||
	    namelen < sizeof(TICKET_PREFIX) + 64)
		return NKHSM_ERR_FORMAT;
	if (nk_sha2(256, (const uint8_t *)ref, PNK_TICKET_REF_LEN, md,
	    &mdlen) != 0 || mdlen != 32)
		return NKHSM_ERR_CRYPTO;
	o = (size_t)snprintf(name, namelen, "%s", TICKET_PREFIX);
	for (i = 0; i < mdlen; i++, o += 2)
		snprintf(name + o, namelen - o, "%02x", md[i]);
	return 0;
}

/* Tickets whose session never came (auth-only services) go after the TTL. */
static void
sweep(int dfd)
{
	struct dirent *de;
	struct stat st;
	time_t now = time(NULL);
	DIR *d;
	int fd;

	if ((fd = dup(dfd)) == -1)
		return;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, TICKET_PREFIX,
		    sizeof(TICKET_PREFIX) - 1) != 0)
			continue;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    (st.st_mtime > now || now - st.st_mtime > PNK_TICKET_TTL))
			(void)unlinkat(dfd, de->d_name, 0);
	}
	closedir(d);
}

int
pnk_ticket_write(const char *rundir, const struct pnk_authrec *a, char *ref,
    size_t reflen, char *errbuf, size_t errlen)
{
	uint8_t rnd[PNK_TICKET_REF_LEN / 2], *enc = NULL;
	char name[TICKET_NAME_MAX], tmp[TICKET_NAME_MAX + 8], hex[PNK_TICKET_REF_LEN + 1];
	size_t enclen = 0, i;
	int dfd = -1, fd = -1, r;

	if (reflen < sizeof(hex))
		return NKHSM_ERR_INVALID_ARGUMENT;
	*ref = '\0';
	if ((r = pnk_authrec_encode(a, &enc, &enclen)) != 0)
		goto out;
	if ((dfd = ticket_dir(rundir, 1, errbuf, errlen)) < 0) {
		r = dfd;
		goto out;
	}
	sweep(dfd);
	r = NKHSM_ERR_IO;
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd)) {
		nk_errf(errbuf, errlen, "no random bytes");
		goto out;
	}
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(hex + 2 * i, sizeof(hex) - 2 * i, "%02x", rnd[i]);
	if ((r = ticket_name(hex, name, sizeof(name))) != 0)
		goto out;
	snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	r = NKHSM_ERR_IO;
	if ((fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1) {
		nk_errf(errbuf, errlen, "%s/%s: %s", rundir, TICKET_DIR,
		    strerror(errno));
		goto out;
	}
	if (write(fd, enc, enclen) != (ssize_t)enclen || fsync(fd) == -1) {
		nk_errf(errbuf, errlen, "%s/%s: %s", rundir, TICKET_DIR,
		    strerror(errno));
		(void)unlinkat(dfd, tmp, 0);
		goto out;
	}
	r = close(fd);
	fd = -1;
	if (r == -1 || renameat(dfd, tmp, dfd, name) == -1) {
		nk_errf(errbuf, errlen, "%s/%s: %s", rundir, TICKET_DIR,
		    strerror(errno));
		(void)unlinkat(dfd, tmp, 0);
		r = NKHSM_ERR_IO;
		goto out;
	}
	memcpy(ref, hex, sizeof(hex));
	r = 0;
 out:
	explicit_bzero(hex, sizeof(hex));
	explicit_bzero(rnd, sizeof(rnd));
	if (fd != -1)
		close(fd);
	if (dfd >= 0)
		close(dfd);
	free(enc);
	return r;
}

int
pnk_ticket_take(const char *rundir, const char *ref, struct pnk_authrec *a,
    char *errbuf, size_t errlen)
{
	char name[TICKET_NAME_MAX], *text = NULL;
	struct stat st;
	size_t len = 0;
	int dfd = -1, fd = -1, r;

	memset(a, 0, sizeof(*a));
	if ((r = ticket_name(ref, name, sizeof(name))) != 0) {
		nk_errf(errbuf, errlen, "malformed ticket reference");
		return r;
	}
	if ((dfd = ticket_dir(rundir, 0, errbuf, errlen)) < 0) {
		if (dfd == NKHSM_ERR_IO && errno == ENOENT)
			nk_errf(errbuf, errlen, "no such ticket (no ticket "
			    "was ever written)");
		return dfd;
	}
	r = NKHSM_ERR_IO;
	/* Removed before it is read: of two takers, one gets it. */
	if ((fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC |
	    O_NONBLOCK)) == -1 || unlinkat(dfd, name, 0) == -1) {
		nk_errf(errbuf, errlen, "no such ticket (forged, used or "
		    "expired)");
		goto out;
	}
	r = NKHSM_ERR_PERMISSION;
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 077) != 0) {
		nk_errf(errbuf, errlen, "ticket not written by this module");
		goto out;
	}
	if ((r = nk_fd_read_all(fd, "ticket", PNK_AUTHREC_MAX, &text, &len,
	    errbuf, errlen)) != 0)
		goto out;
	if ((r = pnk_authrec_decode((const uint8_t *)text, len, a)) != 0)
		nk_errf(errbuf, errlen, "malformed ticket");
 out:
	free(text);
	if (fd != -1)
		close(fd);
	close(dfd);
	return r;
}

void
pnk_ticket_drop(const char *rundir, const char *ref)
{
	char name[TICKET_NAME_MAX];
	int dfd;

	if (ticket_name(ref, name, sizeof(name)) != 0 ||
	    (dfd = ticket_dir(rundir, 0, NULL, 0)) < 0)
		return;
	(void)unlinkat(dfd, name, 0);
	close(dfd);
}
