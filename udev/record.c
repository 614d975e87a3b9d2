/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * record.c - pam_nkhsm's session records: RUNDIR/session-PID-RANDOM, lines
 * of key=value (user, uid, service, tty, rhost, session_id, pid, serial,
 * label, key, created). They say which token opened which session, so only
 * files that root alone could have written are believed.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "nkhsm.h"
#include "nk-int.h"
#include "hotplug.h"

enum { F_USER, F_SESSION_ID, F_PID, F_SERIAL, F_COUNT };

static const char *const fields[F_COUNT] = {
	"user", "session_id", "pid", "serial",
};

int
hp_record_parse(const char *text, size_t len, struct hp_record *rec,
    char *why, size_t whylen)
{
	const char *p, *end, *nl, *eq, *val[F_COUNT];
	size_t vlen[F_COUNT], klen, i, f;
	char pidbuf[24], raw[HP_SERIAL_MAX + 2], *ep;
	long pid;

	memset(rec, 0, sizeof(*rec));
	memset(val, 0, sizeof(val));
	memset(vlen, 0, sizeof(vlen));
	if (text == NULL || len > HP_RECORD_SIZE_MAX) {
		nk_errf(why, whylen, "record too large");
		return -1;
	}
	for (p = text, end = text + len; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (nl == p)
			continue;
		if ((eq = memchr(p, '=', (size_t)(nl - p))) == NULL) {
			nk_errf(why, whylen, "line without '='");
			return -1;
		}
		for (i = 0; p + i < nl; i++) {
			if ((unsigned char)p[i] < 0x20 || p[i] == 0x7f) {
				nk_errf(why, whylen, "control character");
				return -1;
			}
		}
		klen = (size_t)(eq - p);
		for (f = 0; f < F_COUNT; f++) {
			if (strlen(fields[f]) != klen ||
			    memcmp(fields[f], p, klen) != 0)
				continue;
			if (val[f] != NULL) {
				nk_errf(why, whylen, "%s given twice",
				    fields[f]);
				return -1;
			}
			val[f] = eq + 1;
			vlen[f] = (size_t)(nl - eq - 1);
		}
		/* Other keys (service, tty, label, ...) are not needed here. */
	}
	if (val[F_USER] == NULL || vlen[F_USER] > HP_USER_MAX) {
		nk_errf(why, whylen, "missing or oversized user");
		return -1;
	}
	memcpy(rec->user, val[F_USER], vlen[F_USER]);
	rec->user[vlen[F_USER]] = '\0';
	if (!hp_user_valid(rec->user)) {
		nk_errf(why, whylen, "invalid user name");
		return -1;
	}
	if (val[F_SERIAL] == NULL || vlen[F_SERIAL] == 0) {
		nk_errf(why, whylen, "missing serial");
		return -1;
	}
	/* Compared with device serials in the same alphabet and length. */
	klen = vlen[F_SERIAL] < sizeof(raw) - 1 ? vlen[F_SERIAL] :
	    sizeof(raw) - 1;
	memcpy(raw, val[F_SERIAL], klen);
	raw[klen] = '\0';
	(void)hp_sanitize(raw, rec->serial, sizeof(rec->serial));
	if (val[F_SESSION_ID] != NULL && vlen[F_SESSION_ID] > 0) {
		if (vlen[F_SESSION_ID] > HP_SESSION_ID_MAX) {
			nk_errf(why, whylen, "oversized session_id");
			return -1;
		}
		memcpy(rec->session_id, val[F_SESSION_ID],
		    vlen[F_SESSION_ID]);
		rec->session_id[vlen[F_SESSION_ID]] = '\0';
		if (!hp_session_id_valid(rec->session_id)) {
			nk_errf(why, whylen, "invalid session_id");
			return -1;
		}
	}
	if (val[F_PID] != NULL && vlen[F_PID] > 0) {
		if (vlen[F_PID] >= sizeof(pidbuf)) {
			nk_errf(why, whylen, "invalid pid");
			return -1;
		}
		memcpy(pidbuf, val[F_PID], vlen[F_PID]);
		pidbuf[vlen[F_PID]] = '\0';
		errno = 0;
		pid = strtol(pidbuf, &ep, 10);
		if (pidbuf[0] < '0' || pidbuf[0] > '9' || *ep != '\0' ||
		    errno != 0 || pid <= 0) {
			nk_errf(why, whylen, "invalid pid");
			return -1;
		}
		rec->pid = pid;
	}
	return 0;
}

static int
read_record(int dfd, const char *name, char *buf, size_t cap, size_t *lenp,
    char *err, size_t errlen)
{
	size_t len = 0;
	ssize_t n;
	int fd, r = NKHSM_ERR_IO;

	*lenp = 0;
	fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY |
	    O_NONBLOCK);
	if (fd == -1) {
		nk_errf(err, errlen, "%s: %s", name, strerror(errno));
		return errno == ENOENT ? 1 : NKHSM_ERR_IO;
	}
	if ((r = nkhsm_file_check(fd, name, -1, err, errlen)) != 0)
		goto out;
	while (len < cap) {
		if ((n = read(fd, buf + len, cap - len)) < 0) {
			if (errno == EINTR)
				continue;
			nk_errf(err, errlen, "%s: %s", name, strerror(errno));
			r = NKHSM_ERR_IO;
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len >= cap) {
		nk_errf(err, errlen, "%s: record too large", name);
		r = NKHSM_ERR_TOO_LARGE;
		goto out;
	}
	*lenp = len;
	r = 0;
 out:
	close(fd);
	return r;
}

int
hp_records_load(const char *rundir, int quiet, struct hp_record **recsp,
    size_t *np, char *err, size_t errlen)
{
	struct hp_record *recs = NULL, rec;
	char buf[HP_RECORD_SIZE_MAX + 1], why[256], e1[96], e2[256];
	char unsafe[HP_PATH_MAX + 128];
	struct dirent *de;
	size_t n = 0, len, nl;
	DIR *dir = NULL;
	int dfd = -1, r = NKHSM_ERR_INTERNAL;

	*recsp = NULL;
	*np = 0;
	if ((r = hp_rundir_check(rundir, unsafe, sizeof(unsafe))) == 1)
		return 0;	/* no session was ever recorded */
	if (r != 0) {
		nk_errf(err, errlen, "%s; its session records are not trusted",
		    unsafe);
		return r;
	}
	if ((dfd = open(rundir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) == -1 || (dir = fdopendir(dfd)) == NULL) {
		nk_errf(err, errlen, "%s: %s", rundir, strerror(errno));
		if (dfd != -1)
			close(dfd);
		return NKHSM_ERR_IO;
	}
	if ((recs = calloc(HP_RECORDS_MAX, sizeof(*recs))) == NULL) {
		r = NKHSM_ERR_NOMEM;
		goto out;
	}
	while ((de = readdir(dir)) != NULL) {
		nl = strlen(de->d_name);
		if (strncmp(de->d_name, "session-", 8) != 0 ||
		    (nl > 4 && strcmp(de->d_name + nl - 4, ".tmp") == 0))
			continue;
		if (n >= HP_RECORDS_MAX) {
			hp_log(LOG_WARNING, "%s: more than %d session records; "
			    "the rest are not read", rundir, HP_RECORDS_MAX);
			break;
		}
		why[0] = '\0';
		r = read_record(dirfd(dir), de->d_name, buf, sizeof(buf), &len,
		    why, sizeof(why));
		if (r == 1)
			continue;	/* closed meanwhile */
		if (r != 0) {
			if (!quiet)
				hp_log(LOG_WARNING, "session record ignored: %s",
				    hp_esc(why, e2, sizeof(e2)));
			continue;
		}
		if (hp_record_parse(buf, len, &rec, why, sizeof(why)) != 0) {
			if (!quiet)
				hp_log(LOG_WARNING, "session record %s ignored: "
				    "%s", hp_esc(de->d_name, e1, sizeof(e1)),
				    why);
			continue;
		}
		/* Only ever logged: escaped like anything read from outside. */
		(void)hp_esc(de->d_name, rec.file, sizeof(rec.file));
		recs[n++] = rec;
	}
	*recsp = recs;
	*np = n;
	recs = NULL;
	r = 0;
 out:
	free(recs);
	closedir(dir);
	return r;
}
