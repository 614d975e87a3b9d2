/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * logind.c - locking through systemd-logind (org.freedesktop.login1 on the
 * system bus) with dbus-send: a fixed argv, a clean environment, a timeout,
 * and a strict reader for its --print-reply output. Session ids and user
 * names are checked against their alphabets before they go anywhere, so a
 * reply that does not look exactly as expected is an error, not a guess.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "nkhsm.h"
#include "nk-int.h"
#include "hotplug.h"

#define LOGIND_DEST	"--dest=org.freedesktop.login1"
#define LOGIND_PATH	"/org/freedesktop/login1"
#define LOGIND_MANAGER	"org.freedesktop.login1.Manager"
#define CALL_TIMEOUT_MS	3000
#define BUS_ADDR_MAX	1024

/* A cursor over the reply's lines, leading blanks skipped. */
struct lines {
	const char	*p;
	const char	*end;
};

static int
next_line(struct lines *ls, const char **linep, size_t *lenp)
{
	const char *nl;

	for (;;) {
		if (ls->p >= ls->end)
			return -1;
		if ((nl = memchr(ls->p, '\n', (size_t)(ls->end - ls->p))) == NULL)
			nl = ls->end;
		*linep = ls->p;
		*lenp = (size_t)(nl - ls->p);
		ls->p = nl + 1;
		while (*lenp > 0 && (**linep == ' ' || **linep == '\t')) {
			(*linep)++;
			(*lenp)--;
		}
		while (*lenp > 0 && ((*linep)[*lenp - 1] == ' ' ||
		    (*linep)[*lenp - 1] == '\r'))
			(*lenp)--;
		if (*lenp > 0)
			return 0;
	}
}

static int
line_is(const char *line, size_t len, const char *want)
{
	return strlen(want) == len && memcmp(line, want, len) == 0;
}

/* `PREFIX"value"` with the value copied (max outlen - 1 bytes). */
static int
quoted(const char *line, size_t len, const char *prefix, char *out,
    size_t outlen)
{
	size_t pl = strlen(prefix), vl;

	if (len < pl + 2 || memcmp(line, prefix, pl) != 0 ||
	    line[pl] != '"' || line[len - 1] != '"')
		return -1;
	vl = len - pl - 2;
	if (vl >= outlen || memchr(line + pl + 1, '"', vl) != NULL)
		return -1;
	memcpy(out, line + pl + 1, vl);
	out[vl] = '\0';
	return 0;
}

static int
reply_start(struct lines *ls, const char *text, size_t len)
{
	const char *line;
	size_t ll;

	ls->p = text;
	ls->end = text + len;
	if (next_line(ls, &line, &ll) != 0 || ll < 14 ||
	    memcmp(line, "method return ", 14) != 0)
		return -1;
	return 0;
}

int
hp_logind_parse_sessions(const char *text, size_t len,
    struct hp_session **sessp, size_t *np)
{
	struct hp_session *s = NULL, cur;
	struct lines ls;
	const char *line;
	char num[24], seat[HP_PATH_MAX], path[HP_PATH_MAX], *end;
	size_t ll, n = 0;
	unsigned long uid;
	int r = NKHSM_ERR_FORMAT;

	*sessp = NULL;
	*np = 0;
	if (text == NULL || len > HP_REPLY_MAX)
		return NKHSM_ERR_FORMAT;
	if (reply_start(&ls, text, len) != 0)
		return NKHSM_ERR_FORMAT;
	if (next_line(&ls, &line, &ll) != 0 || !line_is(line, ll, "array ["))
		return NKHSM_ERR_FORMAT;
	if ((s = calloc(HP_SESSIONS_MAX, sizeof(*s))) == NULL)
		return NKHSM_ERR_NOMEM;
	for (;;) {
		if (next_line(&ls, &line, &ll) != 0)
			goto out;
		if (line_is(line, ll, "]"))
			break;
		if (!line_is(line, ll, "struct {") || n >= HP_SESSIONS_MAX)
			goto out;
		memset(&cur, 0, sizeof(cur));
		if (next_line(&ls, &line, &ll) != 0 ||
		    quoted(line, ll, "string ", cur.id, sizeof(cur.id)) != 0 ||
		    !hp_session_id_valid(cur.id))
			goto out;
		if (next_line(&ls, &line, &ll) != 0 || ll < 8 ||
		    memcmp(line, "uint32 ", 7) != 0 || ll - 7 >= sizeof(num))
			goto out;
		memcpy(num, line + 7, ll - 7);
		num[ll - 7] = '\0';
		uid = strtoul(num, &end, 10);
		if (num[0] < '0' || num[0] > '9' || *end != '\0' ||
		    uid > 0xffffffffUL)
			goto out;
		cur.uid = uid;
		if (next_line(&ls, &line, &ll) != 0 ||
		    quoted(line, ll, "string ", cur.user, sizeof(cur.user)) != 0 ||
		    !hp_user_valid(cur.user))
			goto out;
		if (next_line(&ls, &line, &ll) != 0 ||
		    quoted(line, ll, "string ", seat, sizeof(seat)) != 0)
			goto out;
		if (next_line(&ls, &line, &ll) != 0 ||
		    quoted(line, ll, "object path ", path, sizeof(path)) != 0)
			goto out;
		if (next_line(&ls, &line, &ll) != 0 || !line_is(line, ll, "}"))
			goto out;
		s[n++] = cur;
	}
	if (next_line(&ls, &line, &ll) == 0)
		goto out;	/* trailing text */
	*sessp = s;
	*np = n;
	s = NULL;
	r = 0;
 out:
	free(s);
	return r;
}

int
hp_logind_parse_bool(const char *text, size_t len, int *valp)
{
	struct lines ls;
	const char *line;
	size_t ll, i;

	*valp = 0;
	if (text == NULL || len > HP_REPLY_MAX ||
	    reply_start(&ls, text, len) != 0 || next_line(&ls, &line, &ll) != 0)
		return NKHSM_ERR_FORMAT;
	if (ll < 8 || memcmp(line, "variant ", 8) != 0)
		return NKHSM_ERR_FORMAT;
	for (i = 8; i < ll && line[i] == ' '; i++)
		;
	if (line_is(line + i, ll - i, "boolean true"))
		*valp = 1;
	else if (!line_is(line + i, ll - i, "boolean false"))
		return NKHSM_ERR_FORMAT;
	if (next_line(&ls, &line, &ll) == 0)
		return NKHSM_ERR_FORMAT;
	return 0;
}

int
hp_logind_parse_path(const char *text, size_t len, char *out, size_t outlen)
{
	struct lines ls;
	const char *line;
	size_t ll, i;

	if (outlen > 0)
		out[0] = '\0';
	if (text == NULL || len > HP_REPLY_MAX ||
	    reply_start(&ls, text, len) != 0 ||
	    next_line(&ls, &line, &ll) != 0 ||
	    quoted(line, ll, "object path ", out, outlen) != 0)
		return NKHSM_ERR_FORMAT;
	if (strncmp(out, LOGIND_PATH "/session/",
	    strlen(LOGIND_PATH "/session/")) != 0)
		goto bad;
	for (i = 0; out[i] != '\0'; i++) {
		if (!((out[i] >= 'A' && out[i] <= 'Z') ||
		    (out[i] >= 'a' && out[i] <= 'z') ||
		    (out[i] >= '0' && out[i] <= '9') || out[i] == '_' ||
		    out[i] == '/'))
			goto bad;
	}
	if (next_line(&ls, &line, &ll) == 0)
		goto bad;
	return 0;
 bad:
	if (outlen > 0)
		out[0] = '\0';
	return NKHSM_ERR_FORMAT;
}

/* dbus-send's environment: only the bus address, when one is set. */
static void
bus_env(char *buf, size_t buflen, char **envp)
{
	const char *a = getenv("DBUS_SYSTEM_BUS_ADDRESS");
	size_t i;

	envp[0] = NULL;
	if (a == NULL || strlen(a) > BUS_ADDR_MAX)
		return;
	for (i = 0; a[i] != '\0'; i++)
		if ((unsigned char)a[i] < 0x20 || a[i] == 0x7f)
			return;
	snprintf(buf, buflen, "DBUS_SYSTEM_BUS_ADDRESS=%s", a);
	envp[0] = buf;
	envp[1] = NULL;
}

/*
 * dbus-send --system --print-reply DEST PATH METHOD [string:ARG...]: ids and
 * names were checked by the caller, so "string:" cannot be misread.
 */
static int
call(const struct hp_conf *conf, const char *path, const char *method,
    const char *arg1, const char *arg2, char **outp, size_t *lenp)
{
	char envbuf[BUS_ADDR_MAX + 32], *envp[2], *argv[10], e[256];
	char s1[HP_PATH_MAX + 8], s2[HP_PATH_MAX + 8];
	size_t n = 0;
	int status = -1, r;

	*outp = NULL;
	*lenp = 0;
	bus_env(envbuf, sizeof(envbuf), envp);
	argv[n++] = (char *)conf->dbus_send;
	argv[n++] = (char *)"--system";
	argv[n++] = (char *)"--print-reply";
	argv[n++] = (char *)"--reply-timeout=2000";
	argv[n++] = (char *)LOGIND_DEST;
	argv[n++] = (char *)path;
	argv[n++] = (char *)method;
	if (arg1 != NULL) {
		snprintf(s1, sizeof(s1), "string:%s", arg1);
		argv[n++] = s1;
	}
	if (arg2 != NULL) {
		snprintf(s2, sizeof(s2), "string:%s", arg2);
		argv[n++] = s2;
	}
	argv[n] = NULL;
	r = hp_run_capture(conf->dbus_send, argv, envp, CALL_TIMEOUT_MS, outp,
	    lenp, &status);
	if (r != 0) {
		hp_log(LOG_ERR, "logind: %s%s%s: %s", method,
		    arg1 != NULL ? " " : "", arg1 != NULL ? arg1 : "",
		    nkhsm_strerror(r));
		return r;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		hp_log(LOG_ERR, "logind: %s%s%s failed: %s", method,
		    arg1 != NULL ? " " : "", arg1 != NULL ? arg1 : "",
		    hp_esc(*outp, e, sizeof(e)));
		free(*outp);
		*outp = NULL;
		*lenp = 0;
		return NKHSM_ERR_IO;
	}
	return 0;
}

int
hp_logind_list(const struct hp_conf *conf, struct hp_session **sessp,
    size_t *np)
{
	char *out = NULL;
	size_t len = 0;
	int r;

	*sessp = NULL;
	*np = 0;
	if ((r = call(conf, LOGIND_PATH, LOGIND_MANAGER ".ListSessions", NULL,
	    NULL, &out, &len)) != 0)
		return r;
	if ((r = hp_logind_parse_sessions(out, len, sessp, np)) != 0)
		hp_log(LOG_ERR, "logind: unexpected ListSessions reply");
	free(out);
	return r;
}

int
hp_logind_call(const struct hp_conf *conf, const char *method, const char *id)
{
	char name[64], *out = NULL;
	size_t len = 0;
	int r;

	if (!hp_session_id_valid(id) || (strcmp(method, "LockSession") != 0 &&
	    strcmp(method, "TerminateSession") != 0))
		return NKHSM_ERR_INVALID_ARGUMENT;
	snprintf(name, sizeof(name), "%s.%s", LOGIND_MANAGER, method);
	r = call(conf, LOGIND_PATH, name, id, NULL, &out, &len);
	free(out);
	return r;
}

int
hp_logind_locked(const struct hp_conf *conf, const char *id, int *lockedp)
{
	char path[HP_PATH_MAX], *out = NULL;
	size_t len = 0;
	int r;

	*lockedp = 0;
	if (!hp_session_id_valid(id))
		return NKHSM_ERR_INVALID_ARGUMENT;
	if ((r = call(conf, LOGIND_PATH, LOGIND_MANAGER ".GetSession", id, NULL,
	    &out, &len)) != 0)
		return r;
	r = hp_logind_parse_path(out, len, path, sizeof(path));
	free(out);
	out = NULL;
	if (r != 0)
		return r;
	if ((r = call(conf, path, "org.freedesktop.DBus.Properties.Get",
	    "org.freedesktop.login1.Session", "LockedHint", &out, &len)) != 0)
		return r;
	r = hp_logind_parse_bool(out, len, lockedp);
	free(out);
	return r;
}
