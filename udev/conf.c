/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * conf.c - /etc/nkhsm/hotplug.conf.
 *
 *	# comment (only at the start of a line)
 *	on_remove = lock-token
 *	insert_exec = /usr/local/sbin/token-in --quiet "two words"
 *	owner = DENK0100123 alice
 *
 * Strict, like nkhsm.conf: an unknown key, a repeated single key, a
 * malformed value or a line over HP_CONF_LINE_MAX is an error naming the
 * file and line. Values are words: bare (no blanks, '#' or '"') or double
 * quoted with \" and \\ escapes. Action argv are taken word by word and
 * handed to execve as they are: nothing is expanded, nothing reaches a shell.
 */
#include "config.h"

#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nkhsm.h"
#include "nk-int.h"
#include "hotplug.h"

#ifndef NKHSM_SYSCONFDIR
#define NKHSM_SYSCONFDIR	"/etc"
#endif

#define WORDS_MAX	HP_ARGV_MAX

enum key_id {
	K_ON_REMOVE = 0,
	K_SERIAL_MATCH,
	K_ESCALATE,
	K_GRACE,
	K_SETTLE,
	K_LOCK_INTERVAL,
	K_TIMEOUT,
	K_RATE_LIMIT,
	K_MAX_CHILDREN,
	K_RUN_AS,
	K_RUNDIR,
	K_DBUS_SEND,
	K_CARD_TIMEOUT,
	K_INSERT_EXEC,		/* repeatable from here */
	K_REMOVE_EXEC,
	K_USER_EXEC,
	K_OWNER,
};

struct words {
	size_t	n;
	char	*w[WORDS_MAX + 1];
};

typedef int key_fn(struct hp_conf *, const struct words *, char *, size_t);

struct keydef {
	const char	*name;
	enum key_id	 id;
	key_fn		*fn;
};

static void
words_free(struct words *ws)
{
	size_t i;

	for (i = 0; i < ws->n; i++)
		free(ws->w[i]);
	ws->n = 0;
}

static int
is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static int
is_control(int c)
{
	return c < 0x20 || c == 0x7f;
}

/* Split the value into words; *whyp is a static reason on failure. */
static int
split_words(const char *s, size_t len, struct words *ws, const char **whyp)
{
	size_t i = 0, n;
	char *w;

	ws->n = 0;
	while (i < len) {
		while (i < len && is_space((unsigned char)s[i]))
			i++;
		if (i == len)
			break;
		if (ws->n >= WORDS_MAX) {
			*whyp = "too many words";
			goto fail;
		}
		if ((w = malloc(len - i + 1)) == NULL) {
			*whyp = "out of memory";
			words_free(ws);
			return NKHSM_ERR_NOMEM;
		}
		ws->w[ws->n++] = w;
		n = 0;
		if (s[i] == '"') {
			for (i++; i < len && s[i] != '"'; i++) {
				if (s[i] == '\\') {
					if (i + 1 >= len || (s[i + 1] != '"' &&
					    s[i + 1] != '\\')) {
						*whyp = "invalid escape in "
						    "quoted word";
						goto fail;
					}
					i++;
				}
				w[n++] = s[i];
			}
			if (i >= len) {
				*whyp = "unterminated quoted word";
				goto fail;
			}
			i++;
			if (i < len && !is_space((unsigned char)s[i])) {
				*whyp = "text right after a quoted word";
				goto fail;
			}
		} else {
			for (; i < len && !is_space((unsigned char)s[i]); i++) {
				if (s[i] == '"' || s[i] == '#') {
					*whyp = "'#' or '\"' inside a bare "
					    "word (use double quotes)";
					goto fail;
				}
				w[n++] = s[i];
			}
		}
		w[n] = '\0';
		for (n = 0; w[n] != '\0'; n++) {
			if (is_control((unsigned char)w[n])) {
				*whyp = "control character in a word";
				goto fail;
			}
		}
		if (n > HP_ARG_MAX) {
			*whyp = "word too long";
			goto fail;
		}
	}
	ws->w[ws->n] = NULL;
	if (ws->n == 0) {
		*whyp = "empty value";
		return -1;
	}
	return 0;
 fail:
	words_free(ws);
	return -1;
}

static int
one_word(const struct words *ws, const char *key, char *why, size_t whylen)
{
	if (ws->n != 1) {
		nk_errf(why, whylen, "%s takes one value", key);
		return -1;
	}
	return 0;
}

static int
set_on_remove(struct hp_conf *c, const struct words *ws, char *why,
    size_t whylen)
{
	const char *v;

	if (one_word(ws, "on_remove", why, whylen) != 0)
		return -1;
	v = ws->w[0];
	if (strcmp(v, "lock-token") == 0)
		c->on_remove = HP_REMOVE_LOCK_TOKEN;
	else if (strcmp(v, "lock-owner") == 0)
		c->on_remove = HP_REMOVE_LOCK_OWNER;
	else if (strcmp(v, "none") == 0)
		c->on_remove = HP_REMOVE_NONE;
	else {
		nk_errf(why, whylen, "on_remove must be lock-token, "
		    "lock-owner or none");
		return -1;
	}
	return 0;
}

static int
set_serial_match(struct hp_conf *c, const struct words *ws, char *why,
    size_t whylen)
{
	const char *v;

	if (one_word(ws, "serial_match", why, whylen) != 0)
		return -1;
	v = ws->w[0];
	if (strcmp(v, "absent") == 0)
		c->serial_match = HP_MATCH_ABSENT;
	else if (strcmp(v, "exact") == 0)
		c->serial_match = HP_MATCH_EXACT;
	else if (strcmp(v, "prefix") == 0) {
		nk_errf(why, whylen, "serial_match prefix is no longer "
		    "accepted: a device that claims a longer or shorter serial "
		    "would stand for another token (use absent or exact)");
		return -1;
	} else {
		nk_errf(why, whylen, "serial_match must be absent or exact");
		return -1;
	}
	return 0;
}

static int
set_escalate(struct hp_conf *c, const struct words *ws, char *why,
    size_t whylen)
{
	if (one_word(ws, "escalate", why, whylen) != 0)
		return -1;
	if (strcmp(ws->w[0], "none") == 0)
		c->escalate = HP_ESCALATE_NONE;
	else if (strcmp(ws->w[0], "terminate") == 0)
		c->escalate = HP_ESCALATE_TERMINATE;
	else {
		nk_errf(why, whylen, "escalate must be none or terminate");
		return -1;
	}
	return 0;
}

static int
duration(const struct words *ws, const char *key, unsigned int min_ms,
    unsigned int max_ms, unsigned int *msp, char *why, size_t whylen)
{
	if (one_word(ws, key, why, whylen) != 0)
		return -1;
	if (hp_parse_duration(ws->w[0], max_ms, msp) != 0 || *msp < min_ms) {
		nk_errf(why, whylen, "%s must be a duration with a unit "
		    "(ms or s) from %ums to %ums", key, min_ms, max_ms);
		return -1;
	}
	return 0;
}

static int
set_grace(struct hp_conf *c, const struct words *ws, char *why, size_t whylen)
{
	return duration(ws, "grace", 0, 60000, &c->grace_ms, why, whylen);
}

static int
set_settle(struct hp_conf *c, const struct words *ws, char *why,
    size_t whylen)
{
	return duration(ws, "settle", 0, 60000, &c->settle_ms, why, whylen);
}

static int
set_card_timeout(struct hp_conf *c, const struct words *ws, char *why,
    size_t whylen)
{
	return duration(ws, "card_timeout", 1000, 120000, &c->card_timeout_ms,
	    why, whylen);
}

static int
set_lock_interval(struct hp_conf *c, const struct words *ws, char *why,
    size_t whylen)
{
	/* A removal must still lock within a second. */
	return duration(ws, "lock_interval", 0, 1000, &c->lock_interval_ms,
	    why, whylen);
}

static int
set_timeout(struct hp_conf *c, const struct words *ws, char *why,
    size_t whylen)
{
	return duration(ws, "timeout", 100, 600000, &c->timeout_ms, why,
	    whylen);
}

static int
set_rate_limit(struct hp_conf *c, const struct words *ws, char *why,
    size_t whylen)
{
	unsigned long n;
	unsigned int ms;
	char *end;
	const char *v;

	if (one_word(ws, "rate_limit", why, whylen) != 0)
		return -1;
	v = ws->w[0];
	if (v[0] < '0' || v[0] > '9')
		goto bad;
	n = strtoul(v, &end, 10);
	if (*end != '/' || n < 1 || n > HP_RATE_MAX ||
	    hp_parse_duration(end + 1, 3600000, &ms) != 0 || ms < 1000)
		goto bad;
	c->rate_count = (unsigned int)n;
	c->rate_window_ms = ms;
	return 0;
 bad:
	nk_errf(why, whylen, "rate_limit must be COUNT/DURATION, COUNT from "
	    "1 to %d and DURATION from 1s to 3600s (e.g. 10/60s)", HP_RATE_MAX);
	return -1;
}

static int
set_max_children(struct hp_conf *c, const struct words *ws, char *why,
    size_t whylen)
{
	unsigned long n;
	char *end;

	if (one_word(ws, "max_children", why, whylen) != 0)
		return -1;
	n = strtoul(ws->w[0], &end, 10);
	if (ws->w[0][0] < '0' || ws->w[0][0] > '9' || *end != '\0' ||
	    n < 1 || n > 64) {
		nk_errf(why, whylen, "max_children must be from 1 to 64");
		return -1;
	}
	c->max_children = (unsigned int)n;
	return 0;
}

static int
set_run_as(struct hp_conf *c, const struct words *ws, char *why,
    size_t whylen)
{
	if (one_word(ws, "run_as", why, whylen) != 0)
		return -1;
	if (!hp_user_valid(ws->w[0])) {
		nk_errf(why, whylen, "run_as: not a valid user name");
		return -1;
	}
	snprintf(c->run_as, sizeof(c->run_as), "%s", ws->w[0]);
	return 0;
}

static int
abs_path(const char *v, const char *key, char *out, size_t outlen,
    char *why, size_t whylen)
{
	if (v[0] != '/' || strstr(v, "/../") != NULL ||
	    strlen(v) >= outlen) {
		nk_errf(why, whylen, "%s must be an absolute path", key);
		return -1;
	}
	snprintf(out, outlen, "%s", v);
	return 0;
}

static int
set_rundir(struct hp_conf *c, const struct words *ws, char *why,
    size_t whylen)
{
	if (one_word(ws, "rundir", why, whylen) != 0)
		return -1;
	return abs_path(ws->w[0], "rundir", c->rundir, sizeof(c->rundir),
	    why, whylen);
}

static int
set_dbus_send(struct hp_conf *c, const struct words *ws, char *why,
    size_t whylen)
{
	if (one_word(ws, "dbus_send", why, whylen) != 0)
		return -1;
	return abs_path(ws->w[0], "dbus_send", c->dbus_send,
	    sizeof(c->dbus_send), why, whylen);
}

static int
add_exec(struct hp_exec *list, size_t *np, const char *key,
    const struct words *ws, char *why, size_t whylen)
{
	struct hp_exec *ex;
	size_t i;

	if (*np >= HP_EXEC_MAX) {
		nk_errf(why, whylen, "more than %d %s lines", HP_EXEC_MAX, key);
		return -1;
	}
	if (ws->w[0][0] != '/' || strlen(ws->w[0]) >= HP_PATH_MAX) {
		nk_errf(why, whylen, "%s: the program must be an absolute path",
		    key);
		return -1;
	}
	ex = &list[*np];
	memset(ex, 0, sizeof(*ex));
	for (i = 0; i < ws->n; i++) {
		if ((ex->argv[i] = strdup(ws->w[i])) == NULL) {
			while (i > 0)
				free(ex->argv[--i]);
			nk_errf(why, whylen, "out of memory");
			return NKHSM_ERR_NOMEM;
		}
	}
	ex->argv[ws->n] = NULL;
	ex->argc = ws->n;
	(*np)++;
	return 0;
}

static int
set_insert_exec(struct hp_conf *c, const struct words *ws, char *why,
    size_t whylen)
{
	return add_exec(c->insert_exec, &c->n_insert, "insert_exec", ws, why,
	    whylen);
}

static int
set_remove_exec(struct hp_conf *c, const struct words *ws, char *why,
    size_t whylen)
{
	return add_exec(c->remove_exec, &c->n_remove, "remove_exec", ws, why,
	    whylen);
}

static int
set_user_exec(struct hp_conf *c, const struct words *ws, char *why,
    size_t whylen)
{
	return add_exec(c->user_exec, &c->n_user, "user_exec", ws, why, whylen);
}

static int
set_owner(struct hp_conf *c, const struct words *ws, char *why,
    size_t whylen)
{
	char clean[HP_SERIAL_MAX + 1];
	struct hp_owner *o;

	if (ws->n != 2) {
		nk_errf(why, whylen, "owner takes a token serial and a user");
		return -1;
	}
	if (c->n_owners >= HP_OWNERS_MAX) {
		nk_errf(why, whylen, "more than %d owner lines", HP_OWNERS_MAX);
		return -1;
	}
	if (ws->w[0][0] == '\0' || hp_sanitize(ws->w[0], clean,
	    sizeof(clean)) != 0) {
		nk_errf(why, whylen, "owner: a serial has at most %d of "
		    "A-Z a-z 0-9 . _ : -", HP_SERIAL_MAX);
		return -1;
	}
	if (!hp_user_valid(ws->w[1])) {
		nk_errf(why, whylen, "owner: not a valid user name");
		return -1;
	}
	o = &c->owners[c->n_owners++];
	snprintf(o->serial, sizeof(o->serial), "%s", clean);
	snprintf(o->user, sizeof(o->user), "%s", ws->w[1]);
	return 0;
}

static const struct keydef keys[] = {
	{ "on_remove",		K_ON_REMOVE,		set_on_remove },
	{ "serial_match",	K_SERIAL_MATCH,		set_serial_match },
	{ "escalate",		K_ESCALATE,		set_escalate },
	{ "grace",		K_GRACE,		set_grace },
	{ "settle",		K_SETTLE,		set_settle },
	{ "lock_interval",	K_LOCK_INTERVAL,	set_lock_interval },
	{ "timeout",		K_TIMEOUT,		set_timeout },
	{ "rate_limit",		K_RATE_LIMIT,		set_rate_limit },
	{ "max_children",	K_MAX_CHILDREN,		set_max_children },
	{ "run_as",		K_RUN_AS,		set_run_as },
	{ "rundir",		K_RUNDIR,		set_rundir },
	{ "dbus_send",		K_DBUS_SEND,		set_dbus_send },
	{ "card_timeout",	K_CARD_TIMEOUT,		set_card_timeout },
	{ "insert_exec",	K_INSERT_EXEC,		set_insert_exec },
	{ "remove_exec",	K_REMOVE_EXEC,		set_remove_exec },
	{ "user_exec",		K_USER_EXEC,		set_user_exec },
	{ "owner",		K_OWNER,		set_owner },
};

const char *
hp_on_remove_name(enum hp_on_remove v)
{
	switch (v) {
	case HP_REMOVE_LOCK_TOKEN:
		return "lock-token";
	case HP_REMOVE_LOCK_OWNER:
		return "lock-owner";
	default:
		return "none";
	}
}

const char *
hp_match_name(enum hp_match v)
{
	switch (v) {
	case HP_MATCH_EXACT:
		return "exact";
	default:
		return "absent";
	}
}

static void
conf_defaults(struct hp_conf *c)
{
	c->on_remove = HP_REMOVE_LOCK_TOKEN;
	c->serial_match = HP_MATCH_ABSENT;
	c->escalate = HP_ESCALATE_NONE;
	c->grace_ms = 3000;
	c->settle_ms = 500;
	c->card_timeout_ms = 10000;
	c->lock_interval_ms = 250;
	c->timeout_ms = 10000;
	c->rate_count = 20;
	c->rate_window_ms = 60000;
	c->max_children = 4;
	snprintf(c->rundir, sizeof(c->rundir), "%s", HP_DEFAULT_RUNDIR);
	snprintf(c->dbus_send, sizeof(c->dbus_send), "%s",
	    HP_DEFAULT_DBUS_SEND);
}

void
hp_conf_free(struct hp_conf **confp)
{
	struct hp_conf *c;
	size_t i, j;

	if (confp == NULL || (c = *confp) == NULL)
		return;
	for (i = 0; i < c->n_insert; i++)
		for (j = 0; j < c->insert_exec[i].argc; j++)
			free(c->insert_exec[i].argv[j]);
	for (i = 0; i < c->n_remove; i++)
		for (j = 0; j < c->remove_exec[i].argc; j++)
			free(c->remove_exec[i].argv[j]);
	for (i = 0; i < c->n_user; i++)
		for (j = 0; j < c->user_exec[i].argc; j++)
			free(c->user_exec[i].argv[j]);
	free(c);
	*confp = NULL;
}

static int
parse_line(struct hp_conf *c, const char *name, size_t lineno,
    const char *s, size_t len, char *err, size_t errlen)
{
	const struct keydef *def = NULL;
	const char *key, *val, *why = NULL;
	char echo[NK_ECHO_MAX * 4 + 1], reason[256];
	struct words ws;
	size_t k, keylen, nexec;
	int r;

	memset(&ws, 0, sizeof(ws));
	if ((r = nk_kv_split(name, lineno, s, len, &key, &keylen, &val, err,
	    errlen)) <= 0)
		return r;
	nk_echo(echo, sizeof(echo), key, keylen < NK_ECHO_MAX ? keylen :
	    NK_ECHO_MAX);
	for (k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		if (strlen(keys[k].name) == keylen &&
		    memcmp(keys[k].name, key, keylen) == 0) {
			def = &keys[k];
			break;
		}
	}
	if (def == NULL) {
		nk_errf(err, errlen, "%s:%zu: unknown key '%s'", name, lineno,
		    echo);
		return NKHSM_ERR_CONFIG;
	}
	if (def->id < K_INSERT_EXEC && c->seen[def->id] != 0) {
		nk_errf(err, errlen, "%s:%zu: duplicate key '%s' (first set "
		    "on line %zu)", name, lineno, def->name, c->seen[def->id]);
		return NKHSM_ERR_CONFIG;
	}
	if ((r = split_words(val, (size_t)(s + len - val), &ws, &why)) != 0) {
		nk_errf(err, errlen, "%s:%zu: %s: %s", name, lineno, def->name,
		    why);
		return r == NKHSM_ERR_NOMEM ? r : NKHSM_ERR_CONFIG;
	}
	nexec = c->n_insert + c->n_remove + c->n_user;
	reason[0] = '\0';
	if ((r = def->fn(c, &ws, reason, sizeof(reason))) != 0) {
		nk_errf(err, errlen, "%s:%zu: %s", name, lineno, reason);
		words_free(&ws);
		return r == NKHSM_ERR_NOMEM ? r : NKHSM_ERR_CONFIG;
	}
	words_free(&ws);
	if (def->id < K_INSERT_EXEC)
		c->seen[def->id] = lineno;
	else if (def->id == K_OWNER)
		c->owners[c->n_owners - 1].line = lineno;
	else if (c->n_insert + c->n_remove + c->n_user > nexec) {
		if (def->id == K_INSERT_EXEC)
			c->insert_exec[c->n_insert - 1].line = lineno;
		else if (def->id == K_REMOVE_EXEC)
			c->remove_exec[c->n_remove - 1].line = lineno;
		else
			c->user_exec[c->n_user - 1].line = lineno;
	}
	if (def->id == K_RUN_AS)
		c->run_as_line = lineno;
	else if (def->id == K_DBUS_SEND)
		c->dbus_send_line = lineno;
	else if (def->id == K_RUNDIR)
		c->rundir_line = lineno;
	return 0;
}

int
hp_conf_parse(const char *name, const char *text, size_t len,
    struct hp_conf **confp, char *err, size_t errlen)
{
	struct hp_conf *c = NULL;
	struct nk_lines it;
	const char *p;
	size_t linelen;
	int r = NKHSM_ERR_INTERNAL;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (confp == NULL || (text == NULL && len != 0))
		return NKHSM_ERR_INVALID_ARGUMENT;
	*confp = NULL;
	if (name == NULL)
		name = "(config)";
	if (len > HP_CONF_SIZE_MAX) {
		nk_errf(err, errlen, "%s: file too large (max %d bytes)", name,
		    HP_CONF_SIZE_MAX);
		return NKHSM_ERR_CONFIG;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NKHSM_ERR_NOMEM;
	conf_defaults(c);
	snprintf(c->name, sizeof(c->name), "%s", name);
	nk_lines_init(&it, text, len);
	while ((r = nk_lines_next(&it, name, HP_CONF_LINE_MAX, &p, &linelen,
	    err, errlen)) > 0)
		if ((r = parse_line(c, name, it.lineno, p, linelen, err,
		    errlen)) != 0)
			goto out;
	if (r < 0)
		goto out;
	*confp = c;
	c = NULL;
	r = 0;
 out:
	hp_conf_free(&c);
	return r;
}

/* Every executable a configuration names must be as safe as the file. */
static int
check_execs(const struct hp_conf *c, const struct hp_exec *list, size_t n,
    char *err, size_t errlen)
{
	char why[512];
	size_t i;
	int r;

	for (i = 0; i < n; i++) {
		if ((r = hp_check_path(list[i].argv[0], 1, why,
		    sizeof(why))) != 0) {
			nk_errf(err, errlen, "%s:%zu: %s", c->name,
			    list[i].line, why);
			return r;
		}
	}
	return 0;
}

int
hp_conf_load(const char *path, struct hp_conf **confp, char *err,
    size_t errlen)
{
	struct hp_conf *c = NULL;
	char *text = NULL, why[512];
	size_t len = 0;
	int is_default = 0, r = NKHSM_ERR_INTERNAL;

	if (err != NULL && errlen > 0)
		err[0] = '\0';
	if (confp == NULL)
		return NKHSM_ERR_INVALID_ARGUMENT;
	*confp = NULL;
	if (path == NULL) {
		path = HP_DEFAULT_CONF;
		is_default = 1;
	}
	if (path[0] != '/') {
		nk_errf(err, errlen, "%s: the configuration must be named by "
		    "an absolute path", path);
		return NKHSM_ERR_CONFIG;
	}
	r = nk_file_load(path, -1, HP_CONF_SIZE_MAX, &text, &len, err, errlen);
	if (r == NKHSM_ERR_IO && errno == ENOENT && is_default) {
		/* No configuration file: the defaults (lock on removal). */
		if ((r = hp_conf_parse(path, "", 0, &c, err, errlen)) != 0)
			goto out;
		c->defaults = 1;
		goto check;
	}
	if (r == NKHSM_ERR_IO)
		r = NKHSM_ERR_CONFIG;	/* unreadable: a configuration error */
	if (r != 0 || (r = hp_check_path(path, 0, err, errlen)) != 0 ||
	    (r = hp_conf_parse(path, text, len, &c, err, errlen)) != 0)
		goto out;
 check:
	if ((r = check_execs(c, c->insert_exec, c->n_insert, err,
	    errlen)) != 0 ||
	    (r = check_execs(c, c->remove_exec, c->n_remove, err,
	    errlen)) != 0 ||
	    (r = check_execs(c, c->user_exec, c->n_user, err, errlen)) != 0)
		goto out;
	if (c->on_remove != HP_REMOVE_NONE &&
	    (r = hp_check_path(c->dbus_send, 1, why, sizeof(why))) != 0) {
		if (c->dbus_send_line != 0)
			nk_errf(err, errlen, "%s:%zu: %s", c->name,
			    c->dbus_send_line, why);
		else
			nk_errf(err, errlen, "%s: dbus_send (default): %s",
			    c->name, why);
		goto out;
	}
	if (c->run_as[0] != '\0' && getpwnam(c->run_as) == NULL) {
		nk_errf(err, errlen, "%s:%zu: run_as: no such user '%s'",
		    c->name, c->run_as_line, c->run_as);
		r = NKHSM_ERR_CONFIG;
		goto out;
	}
	*confp = c;
	c = NULL;
	r = 0;
 out:
	free(text);
	hp_conf_free(&c);
	return r;
}
