/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * util.c - string checks, escaping, durations, serial matching, safe paths
 * and logging for nkhsm-hotplug.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "nkhsm.h"
#include "nk-int.h"
#include "hotplug.h"

static int
serial_char(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '.' || c == '_' || c == ':' ||
	    c == '-';
}

int
hp_sanitize(const char *in, char *out, size_t outlen)
{
	size_t i, n = 0;
	int altered = 0;

	if (out == NULL || outlen == 0)
		return -1;
	if (in == NULL) {
		out[0] = '\0';
		return 0;
	}
	for (i = 0; in[i] != '\0'; i++) {
		if (n + 1 >= outlen) {
			altered = 1;
			break;
		}
		if (serial_char((unsigned char)in[i]))
			out[n++] = in[i];
		else {
			out[n++] = '_';
			altered = 1;
		}
	}
	out[n] = '\0';
	return altered;
}

int
hp_user_valid(const char *s)
{
	size_t i;

	if (s == NULL || s[0] == '\0' || s[0] == '-' || s[0] == '.')
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= HP_USER_MAX)
			return 0;
		if ((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '.' || s[i] == '_' || s[i] == '-')
			continue;
		if (s[i] == '$' && s[i + 1] == '\0')	/* Samba machine accounts */
			continue;
		return 0;
	}
	return 1;
}

int
hp_session_id_valid(const char *s)
{
	size_t i;

	if (s == NULL || s[0] == '\0')
		return 0;
	for (i = 0; s[i] != '\0'; i++) {
		if (i >= HP_SESSION_ID_MAX)
			return 0;
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return 0;
	}
	return 1;
}

int
hp_syspath_valid(const char *s)
{
	size_t i, len;

	if (s == NULL || strncmp(s, "/sys/devices/", 13) != 0)
		return 0;
	if ((len = strlen(s)) > HP_SYSPATH_MAX || s[len - 1] == '/')
		return 0;
	for (i = 0; i < len; i++) {
		if (!serial_char((unsigned char)s[i]) && s[i] != '/' &&
		    s[i] != '+')
			return 0;
		/* No empty, "." or ".." components. */
		if (s[i] == '/' && (s[i + 1] == '/' || (s[i + 1] == '.' &&
		    (s[i + 2] == '/' || s[i + 2] == '\0' || (s[i + 2] == '.' &&
		    (s[i + 3] == '/' || s[i + 3] == '\0'))))))
			return 0;
	}
	return 1;
}

const char *
hp_esc(const char *s, char *buf, size_t buflen)
{
	static const char hex[] = "0123456789abcdef";
	size_t i, n = 0;
	unsigned char c;

	if (buf == NULL || buflen < 4)
		return "";
	if (s == NULL) {
		snprintf(buf, buflen, "(none)");
		return buf;
	}
	for (i = 0; s[i] != '\0'; i++) {
		c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '\\' && c != '\'') {
			if (n + 1 + 3 >= buflen)
				goto cut;
			buf[n++] = (char)c;
		} else {
			if (n + 4 + 3 >= buflen)
				goto cut;
			buf[n++] = '\\';
			buf[n++] = 'x';
			buf[n++] = hex[c >> 4];
			buf[n++] = hex[c & 0x0f];
		}
	}
	buf[n] = '\0';
	return buf;
 cut:
	memcpy(buf + n, "...", 4);
	return buf;
}

int
hp_parse_duration(const char *s, unsigned int max_ms, unsigned int *msp)
{
	unsigned long long v = 0, mult;
	size_t i = 0;

	*msp = 0;
	if (s == NULL || s[0] < '0' || s[0] > '9')
		return -1;
	for (; s[i] >= '0' && s[i] <= '9'; i++) {
		v = v * 10 + (unsigned long long)(s[i] - '0');
		if (v > 0xffffffffULL)
			return -1;
	}
	if (strcmp(s + i, "ms") == 0)
		mult = 1;
	else if (strcmp(s + i, "s") == 0)
		mult = 1000;
	else
		return -1;
	v *= mult;
	if (v > max_ms)
		return -1;
	*msp = (unsigned int)v;
	return 0;
}

int64_t
hp_now_ms(void)
{
	struct timespec ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int
hp_serial_same(const char *serial, const char *dev_serial, int dev_altered)
{
	if (serial == NULL || dev_serial == NULL || serial[0] == '\0' ||
	    dev_altered)
		return 0;
	return strcmp(serial, dev_serial) == 0;
}

const char *
hp_event_what(const struct hp_event *ev)
{
	return ev->reader[0] != '\0' ? ev->reader : ev->syspath;
}

int
hp_record_bound(enum hp_match mode, const char *record_serial,
    const struct hp_event *ev, const struct hp_present *present)
{
	size_t i;

	/* The card said who it is: that serial, exactly, and nothing else. */
	if (ev->card)
		return hp_serial_same(record_serial, ev->serial, 0);
	/* Without the removed token's own serial only "absent" can decide. */
	if (mode == HP_MATCH_EXACT && ev->serial[0] != '\0' &&
	    !ev->serial_altered)
		return hp_serial_same(record_serial, ev->serial, 0);
	if (present == NULL)
		return 1;
	for (i = 0; i < present->n && i < HP_DEV_MAX; i++) {
		if (strcmp(present->dev[i].syspath, ev->syspath) == 0)
			continue;
		if (hp_serial_same(record_serial, present->dev[i].serial,
		    present->dev[i].serial_altered))
			return 0;
	}
	return 1;
}

/*
 * A directory that grants something: root's, and not writable by others;
 * with sticky_ok, a sticky one may be (only root can then replace the
 * root-owned entries in it).
 */
static int
check_dir_mode(const char *dir, const struct stat *st, int sticky_ok,
    char *err, size_t errlen)
{
	if (!S_ISDIR(st->st_mode)) {
		nk_errf(err, errlen, "%s: not a directory", dir);
		return NKHSM_ERR_CONFIG;
	}
	if (st->st_uid != 0) {
		nk_errf(err, errlen, "%s: directory owned by uid %lu, "
		    "expected root", dir, (unsigned long)st->st_uid);
		return NKHSM_ERR_PERMISSION;
	}
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0 &&
	    (!sticky_ok || (st->st_mode & S_ISVTX) == 0)) {
		nk_errf(err, errlen, "%s: directory is writable by group or "
		    "others", dir);
		return NKHSM_ERR_PERMISSION;
	}
	return 0;
}

/* One directory on the way to a file that grants something. */
static int
check_dir(const char *dir, char *err, size_t errlen)
{
	struct stat st;

	if (stat(dir, &st) != 0) {
		nk_errf(err, errlen, "%s: %s", dir, strerror(errno));
		return NKHSM_ERR_CONFIG;
	}
	return check_dir_mode(dir, &st, 1, err, errlen);
}

static int
check_dirs(const char *path, char *err, size_t errlen)
{
	char dir[HP_PATH_MAX];
	size_t i;
	int r;

	if (strlen(path) >= sizeof(dir)) {
		nk_errf(err, errlen, "%s: path too long", path);
		return NKHSM_ERR_CONFIG;
	}
	/* "/", "/a", "/a/b", ... up to the file's directory. */
	for (i = 1; path[i] != '\0'; i++) {
		if (path[i] != '/' && i != 1)
			continue;
		memcpy(dir, path, i);
		dir[i] = '\0';
		if ((r = check_dir(i == 1 ? "/" : dir, err, errlen)) != 0)
			return r;
	}
	return 0;
}

int
hp_check_path(const char *path, int want_exec, char *err, size_t errlen)
{
	struct stat st;
	int fd = -1, r = NKHSM_ERR_CONFIG;

	if (path == NULL || path[0] != '/') {
		nk_errf(err, errlen, "%s: not an absolute path",
		    path != NULL ? path : "(null)");
		return NKHSM_ERR_CONFIG;
	}
	/* O_PATH: an executable need not be readable to be checked. */
	if ((fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		if (errno == ELOOP) {
			nk_errf(err, errlen, "%s: is a symbolic link (refused)",
			    path);
			return NKHSM_ERR_PERMISSION;
		}
		nk_errf(err, errlen, "%s: %s", path, strerror(errno));
		return NKHSM_ERR_CONFIG;
	}
	if ((r = nkhsm_file_check(fd, path, -1, err, errlen)) != 0 ||
	    (r = check_dirs(path, err, errlen)) != 0)
		goto out;
	if (want_exec) {
		if (fstat(fd, &st) != 0 || (st.st_mode & S_IXUSR) == 0) {
			nk_errf(err, errlen, "%s: not executable", path);
			r = NKHSM_ERR_CONFIG;
			goto out;
		}
	}
	r = 0;
 out:
	close(fd);
	return r;
}

int
hp_rundir_check(const char *dir, char *err, size_t errlen)
{
	struct stat st;
	int r;

	if (dir == NULL || dir[0] != '/') {
		nk_errf(err, errlen, "%s: not an absolute path",
		    dir != NULL ? dir : "(null)");
		return NKHSM_ERR_CONFIG;
	}
	if (lstat(dir, &st) != 0) {
		if (errno == ENOENT)
			return 1;
		nk_errf(err, errlen, "%s: %s", dir, strerror(errno));
		return NKHSM_ERR_IO;
	}
	if (S_ISLNK(st.st_mode)) {
		nk_errf(err, errlen, "%s: is a symbolic link (refused)", dir);
		return NKHSM_ERR_PERMISSION;
	}
	/* Records are files in it: a sticky rundir is no better. */
	if ((r = check_dir_mode(dir, &st, 0, err, errlen)) != 0)
		return r;
	return check_dirs(dir, err, errlen);
}

/* Logging. */

static int log_stderr;		/* tests and --stderr */
static int log_journal;		/* stderr is the journal: "<N>" prefixes */
static int log_verbose;
static int log_opened;

void
hp_log_open(int to_stderr, int verbose)
{
	log_stderr = to_stderr;
	log_verbose = verbose;
	log_journal = getenv("JOURNAL_STREAM") != NULL && !to_stderr;
	if (!log_journal) {
		openlog("nkhsm-hotplug", LOG_PID, LOG_DAEMON);
		log_opened = 1;
	}
}

void
hp_log(int prio, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	if (prio == LOG_DEBUG && !log_verbose)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (log_journal) {
		fprintf(stderr, "<%d>%s\n", prio, msg);
		return;
	}
	if (log_opened)
		syslog(prio, "%s", msg);
	if (log_stderr)
		fprintf(stderr, "nkhsm-hotplug[%ld]: %s\n", (long)getpid(),
		    msg);
}

void
hp_plan(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("plan: ", stdout);
	vprintf(fmt, ap);
	fputc('\n', stdout);
	fflush(stdout);
	va_end(ap);
}
