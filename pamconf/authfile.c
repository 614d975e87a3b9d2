/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * authfile.c - the user's authorized keys: OpenSSH authorized_keys lines
 * with ecdsa-sha2-nistp256/384/521 keys, read from a file that must be safe
 * in the sense of sshd's StrictModes.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "nkhsm.h"
#include "nk-int.h"
#include "buf.h"
#include "pamconf.h"

#define PATH_LEN_MAX	4096

int
pnk_expand_path(const char *tmpl, const char *user, const char *home,
    char **outp)
{
	char buf[PATH_LEN_MAX];
	const char *p, *v;
	size_t o = 0, n;

	*outp = NULL;
	for (p = tmpl; *p != '\0'; p++) {
		if (*p != '%') {
			v = p;
			n = 1;
		} else {
			switch (p[1]) {
			case 'u':
				v = user;
				break;
			case 'h':
				/* A home that is not absolute would make %h/x relative. */
				if (home == NULL || home[0] != '/')
					return NKHSM_ERR_INVALID_ARGUMENT;
				v = home;
				break;
			case '%':
				v = "%";
				break;
			default:
				return NKHSM_ERR_CONFIG;	/* unknown escape */
			}
			p++;
			if (v == NULL)
				return NKHSM_ERR_INVALID_ARGUMENT;
			n = strlen(v);
		}
		if (n >= sizeof(buf) - o)
			return NKHSM_ERR_TOO_LARGE;
		memcpy(buf + o, v, n);
		o += n;
	}
	buf[o] = '\0';
	if (buf[0] != '/')
		return NKHSM_ERR_CONFIG;
	if ((*outp = strdup(buf)) == NULL)
		return NKHSM_ERR_NOMEM;
	return 0;
}

void
pnk_keys_free(struct pnk_keys *keys)
{
	size_t i;

	if (keys == NULL)
		return;
	for (i = 0; i < keys->n; i++) {
		free(keys->key[i].blob);
		free(keys->key[i].fp);
		free(keys->key[i].from);
		free(keys->key[i].unusable);
	}
	memset(keys, 0, sizeof(*keys));
}

/* Key types that may appear in an authorized_keys file but are not ours. */
static int
other_key_type(const char *s, size_t n)
{
	static const char *const types[] = {
		"ssh-rsa", "ssh-ed25519", "ssh-dss", "ssh-ed448",
		"sk-ecdsa-sha2-nistp256@openssh.com", "sk-ssh-ed25519@openssh.com",
		"ssh-rsa-cert-v01@openssh.com", "ssh-ed25519-cert-v01@openssh.com",
		"ecdsa-sha2-nistp256-cert-v01@openssh.com",
		"ecdsa-sha2-nistp384-cert-v01@openssh.com",
		"ecdsa-sha2-nistp521-cert-v01@openssh.com",
	};
	size_t i;

	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strlen(types[i]) == n && memcmp(types[i], s, n) == 0)
			return 1;
	return 0;
}

static int
ec_key_type(const char *s, size_t n)
{
	return (n == 19 && (memcmp(s, "ecdsa-sha2-nistp256", 19) == 0 ||
	    memcmp(s, "ecdsa-sha2-nistp384", 19) == 0 ||
	    memcmp(s, "ecdsa-sha2-nistp521", 19) == 0));
}

/*
 * A key of a type we do not know (ssh-xmss@openssh.com, a future type): the
 * line is skipped, not refused, when its blob names that same type. Other
 * unknown words still make the line malformed.
 */
static int
foreign_key(const char *type, size_t tlen)
{
	const char *b64 = type + tlen;
	const uint8_t *bt;
	uint8_t *blob = NULL;
	size_t blen, bloblen = 0, btlen;
	struct nk_buf b;
	int r = 0;

	if (tlen == 0 || tlen > 64 || ec_key_type(type, tlen))
		return 0;
	while (*b64 == ' ' || *b64 == '\t')
		b64++;
	blen = strcspn(b64, " \t");
	if (blen == 0)
		return 0;
	if ((r = nk_b64_decode(b64, blen, &blob, &bloblen)) != 0)
		return r == NKHSM_ERR_NOMEM ? r : 0;
	nk_buf_from(&b, blob, bloblen);
	if (nk_buf_get_string_direct(&b, &bt, &btlen) == 0 && btlen == tlen &&
	    memcmp(bt, type, tlen) == 0)
		r = 1;
	free(blob);
	return r;
}

/*
 * Skip an OpenSSH options field: comma-separated, double quotes group
 * (with \" inside), ended by unquoted whitespace. Returns the rest, or NULL
 * when a quote is not closed.
 */
static const char *
skip_options(const char *p)
{
	int quoted = 0;

	for (; *p != '\0'; p++) {
		if (quoted) {
			if (*p == '\\' && p[1] == '"')
				p++;
			else if (*p == '"')
				quoted = 0;
		} else if (*p == '"')
			quoted = 1;
		else if (*p == ' ' || *p == '\t')
			break;
	}
	if (quoted)
		return NULL;
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/*
 * A key of a type the module does not use (ssh-ed25519, ssh-rsa...) that
 * nkhsm_sshkey_check refuses as weak: NKHSM_ERR_WEAK_KEY, why in errbuf.
 * Anything else, a blob that does not decode included, is left alone.
 */
static int
weak_other_key(const char *type, size_t tlen, char *errbuf, size_t errlen)
{
	const char *b64 = type + tlen;
	const uint8_t *bt;
	uint8_t *blob = NULL;
	size_t blen, bloblen = 0, btlen;
	struct nk_buf b;
	int r;

	while (*b64 == ' ' || *b64 == '\t')
		b64++;
	blen = strcspn(b64, " \t");
	if ((r = nk_b64_decode(b64, blen, &blob, &bloblen)) != 0)
		return r == NKHSM_ERR_NOMEM ? r : 0;
	nk_buf_from(&b, blob, bloblen);
	r = 0;
	if (nk_buf_get_string_direct(&b, &bt, &btlen) == 0 && btlen == tlen &&
	    memcmp(bt, type, tlen) == 0 &&
	    nkhsm_sshkey_check(blob, bloblen, NULL, errbuf, errlen) ==
	    NKHSM_ERR_WEAK_KEY)
		r = NKHSM_ERR_WEAK_KEY;
	free(blob);
	return r;
}

static int
parse_line(char *line, unsigned int lineno, const char *name,
    struct pnk_keys *keys, char *errbuf, size_t errlen)
{
	const char *p = line, *type, *b64, *opts = NULL;
	const uint8_t *bt;
	size_t tlen, blen, bloblen = 0, btlen, optslen = 0;
	uint8_t *blob = NULL;
	struct nk_buf b;
	struct pnk_key *k;
	nkhsm_point_t pt;
	char *fp = NULL, why[256];
	int fk, r;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0' || *p == '#')
		return 0;
	type = p;
	tlen = strcspn(type, " \t");
	if ((fk = foreign_key(type, tlen)) < 0)
		return fk;
	if (!ec_key_type(type, tlen) && !other_key_type(type, tlen) && !fk) {
		/* Not a key type: an options field must come first. */
		opts = p;
		if ((p = skip_options(p)) == NULL) {
			nk_errf(errbuf, errlen, "%s:%u: unterminated quote in "
			    "options", name, lineno);
			return NKHSM_ERR_FORMAT;
		}
		for (optslen = (size_t)(p - opts); optslen > 0 &&
		    (opts[optslen - 1] == ' ' || opts[optslen - 1] == '\t');
		    optslen--)
			;
		type = p;
		tlen = strcspn(type, " \t");
		if ((fk = foreign_key(type, tlen)) < 0)
			return fk;
	}
	if (other_key_type(type, tlen) || fk) {
		/* Not ours to use, but never a key no one should accept. */
		if ((r = weak_other_key(type, tlen, why, sizeof(why))) != 0) {
			if (r != NKHSM_ERR_NOMEM)
				nk_errf(errbuf, errlen, "%s:%u: invalid %.*s key: %s",
				    name, lineno, (int)tlen, type, why);
			return r == NKHSM_ERR_NOMEM ? r : NKHSM_ERR_FORMAT;
		}
		keys->skipped++;
		return 0;
	}
	if (!ec_key_type(type, tlen)) {
		nk_errf(errbuf, errlen, "%s:%u: not an authorized key line "
		    "(expected [options] ecdsa-sha2-nistp256|384|521 KEY [comment])",
		    name, lineno);
		return NKHSM_ERR_FORMAT;
	}
	/*
	 * Decode once and keep the blob: the fingerprint is its SHA-256 and
	 * the helper takes it as it is (no re-encoding through OpenSSL).
	 */
	b64 = type + tlen;
	while (*b64 == ' ' || *b64 == '\t')
		b64++;
	blen = strcspn(b64, " \t");
	r = nk_b64_decode(b64, blen, &blob, &bloblen);
	if (r == 0) {
		nk_buf_from(&b, blob, bloblen);
		if (nk_buf_get_string_direct(&b, &bt, &btlen) != 0 ||
		    btlen != tlen || memcmp(bt, type, tlen) != 0)
			r = NKHSM_ERR_FORMAT;
	}
	/* The key checks every reader shares (libnkhsm). */
	why[0] = '\0';
	if (r == 0 && (r = nkhsm_sshkey_check(blob, bloblen, NULL, why,
	    sizeof(why))) == 0)
		r = nkhsm_point_from_ssh_blob(blob, bloblen, &pt);
	if (r != 0) {
		free(blob);
		if (r == NKHSM_ERR_NOMEM)
			return r;	/* not the file's fault */
		nk_errf(errbuf, errlen, "%s:%u: invalid %.*s key: %s", name,
		    lineno, (int)tlen, type, why[0] != '\0' ? why :
		    nkhsm_strerror(r));
		return NKHSM_ERR_FORMAT;
	}
	if (keys->n >= PNK_KEYS_MAX) {
		free(blob);
		nk_errf(errbuf, errlen, "%s:%u: more than %d keys", name,
		    lineno, PNK_KEYS_MAX);
		return NKHSM_ERR_TOO_LARGE;
	}
	if ((r = nkhsm_blob_fingerprint(blob, bloblen, &fp)) != 0) {
		free(blob);
		nk_errf(errbuf, errlen, "%s:%u: %s", name, lineno,
		    nkhsm_strerror(r));
		return r;
	}
	k = &keys->key[keys->n];
	memset(k, 0, sizeof(*k));
	k->pt = pt;
	k->blob = blob;
	k->bloblen = bloblen;
	k->fp = fp;
	k->line = lineno;
	keys->n++;	/* owned by keys from here: freed with them */
	why[0] = '\0';
	if (opts != NULL && (r = pnk_keyopts_parse(opts, optslen, k, why,
	    sizeof(why))) != 0) {
		if (r != NKHSM_ERR_NOMEM)
			nk_errf(errbuf, errlen, "%s:%u: %s", name, lineno, why);
		return r;
	}
	return 0;
}

int
pnk_keys_parse(const char *name, const char *text, size_t len,
    struct pnk_keys *keys, char *errbuf, size_t errlen)
{
	char *line = NULL;
	const char *p = text, *end = text + len, *nl;
	unsigned int lineno = 0;
	size_t n;
	int r = 0;

	memset(keys, 0, sizeof(*keys));
	if (len > PNK_AUTHFILE_SIZE_MAX) {
		nk_errf(errbuf, errlen, "%s: larger than %d bytes", name,
		    PNK_AUTHFILE_SIZE_MAX);
		return NKHSM_ERR_TOO_LARGE;
	}
	if ((line = malloc(PNK_AUTHFILE_LINE_MAX + 1)) == NULL)
		return NKHSM_ERR_NOMEM;
	while (p < end) {
		lineno++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		n = (size_t)(nl - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n > PNK_AUTHFILE_LINE_MAX) {
			nk_errf(errbuf, errlen, "%s:%u: line longer than %d bytes",
			    name, lineno, PNK_AUTHFILE_LINE_MAX);
			r = NKHSM_ERR_TOO_LARGE;
			goto out;
		}
		if (memchr(p, '\0', n) != NULL) {
			nk_errf(errbuf, errlen, "%s:%u: NUL byte", name, lineno);
			r = NKHSM_ERR_FORMAT;
			goto out;
		}
		memcpy(line, p, n);
		line[n] = '\0';
		if ((r = parse_line(line, lineno, name, keys, errbuf,
		    errlen)) != 0)
			goto out;
		p = nl + 1;
	}
 out:
	free(line);
	if (r != 0)
		pnk_keys_free(keys);
	return r;
}

/*
 * Owned by root or uid, and not writable by group or others. A directory
 * owned by root with the sticky bit (/tmp) may be world-writable: nobody
 * can rename or replace another user's entry in it.
 */
int
pnk_safe_owner_mode(const struct stat *st, uid_t uid, const char *path,
    char *errbuf, size_t errlen)
{
	if (S_ISDIR(st->st_mode) && st->st_uid == 0 &&
	    (st->st_mode & S_ISVTX))
		return 0;
	if (st->st_uid != 0 && st->st_uid != uid) {
		nk_errf(errbuf, errlen, "%s: owned by uid %lu, expected %lu or root",
		    path, (unsigned long)st->st_uid, (unsigned long)uid);
		return NKHSM_ERR_PERMISSION;
	}
	if (st->st_mode & (S_IWGRP | S_IWOTH)) {
		nk_errf(errbuf, errlen, "%s: is %s-writable", path,
		    st->st_mode & S_IWOTH ? "world" : "group");
		return NKHSM_ERR_PERMISSION;
	}
	return 0;
}

/* Every directory from the file's up to /, after resolving symlinks in them. */
static int
check_dirs(const char *path, uid_t uid, char *errbuf, size_t errlen)
{
	char dir[PATH_LEN_MAX], real[PATH_MAX], *slash;
	struct stat st;
	int r;

	if (strlen(path) >= sizeof(dir))
		return NKHSM_ERR_TOO_LARGE;
	strcpy(dir, path);
	if ((slash = strrchr(dir, '/')) == NULL)
		return NKHSM_ERR_INVALID_ARGUMENT;
	if (slash == dir)
		slash[1] = '\0';
	else
		*slash = '\0';
	if (realpath(dir, real) == NULL) {
		nk_errf(errbuf, errlen, "%s: %s", dir, strerror(errno));
		return errno == ENOENT ? NKHSM_ERR_IO : NKHSM_ERR_PERMISSION;
	}
	for (;;) {
		if (stat(real, &st) == -1) {
			nk_errf(errbuf, errlen, "%s: %s", real, strerror(errno));
			return NKHSM_ERR_PERMISSION;
		}
		if (!S_ISDIR(st.st_mode)) {
			nk_errf(errbuf, errlen, "%s: not a directory", real);
			return NKHSM_ERR_PERMISSION;
		}
		if ((r = pnk_safe_owner_mode(&st, uid, real, errbuf, errlen)) != 0)
			return r;
		if (strcmp(real, "/") == 0)
			break;
		slash = strrchr(real, '/');
		if (slash == real)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
	return 0;
}

int
pnk_keys_load(const char *path, uid_t uid, struct pnk_keys *keys,
    char *errbuf, size_t errlen)
{
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	int fd = -1, r;

	memset(keys, 0, sizeof(*keys));
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK)) == -1) {
		if (errno == ENOENT) {
			/* The directories must be safe even to say "no keys". */
			if ((r = check_dirs(path, uid, errbuf, errlen)) != 0 &&
			    r != NKHSM_ERR_IO)
				return r;
			nk_errf(errbuf, errlen, "%s: no such file", path);
			errno = ENOENT;
			return NKHSM_ERR_IO;
		}
		nk_errf(errbuf, errlen, "%s: %s", path, errno == ELOOP ?
		    "is a symbolic link" : strerror(errno));
		return errno == ELOOP ? NKHSM_ERR_PERMISSION : NKHSM_ERR_IO;
	}
	r = NKHSM_ERR_PERMISSION;
	if (fstat(fd, &st) == -1) {
		nk_errf(errbuf, errlen, "%s: %s", path, strerror(errno));
		r = NKHSM_ERR_IO;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		nk_errf(errbuf, errlen, "%s: not a regular file", path);
		goto out;
	}
	if ((r = pnk_safe_owner_mode(&st, uid, path, errbuf, errlen)) != 0 ||
	    (r = check_dirs(path, uid, errbuf, errlen)) != 0)
		goto out;
	if ((r = nk_fd_read_all(fd, path, PNK_AUTHFILE_SIZE_MAX, &text, &len,
	    errbuf, errlen)) != 0) {
		if (r == NKHSM_ERR_TOO_LARGE)
			nk_errf(errbuf, errlen, "%s: larger than %d bytes", path,
			    PNK_AUTHFILE_SIZE_MAX);
		goto out;
	}
	r = pnk_keys_parse(path, text, len, keys, errbuf, errlen);
 out:
	free(text);
	close(fd);
	return r;
}
