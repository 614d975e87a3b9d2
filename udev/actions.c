/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * actions.c - what a removal locks and what an insertion runs.
 *
 * Removal: the session records bound to the pulled token (see
 * hp_record_bound) name logind sessions; lock-token locks those, lock-owner
 * every session of their users and of the token's configured owners. Then
 * the remove actions run. Insertion never grants: it runs the configured
 * programs, with the event in NKHSM_* variables, and nothing else.
 */
#include "config.h"

#include <sys/types.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>

#include "nkhsm.h"
#include "nk-int.h"
#include "hotplug.h"

#define TARGETS_MAX	HP_SESSIONS_MAX
#define USERS_MAX	64

struct users {
	size_t	n;
	char	name[USERS_MAX][HP_USER_MAX + 1];
};

struct target {
	char		id[HP_SESSION_ID_MAX + 1];
	char		user[HP_USER_MAX + 1];
	const char	*why;
	char		file[80];
};

static void
users_add(struct users *u, const char *name)
{
	size_t i;

	if (!hp_user_valid(name))
		return;
	for (i = 0; i < u->n; i++)
		if (strcmp(u->name[i], name) == 0)
			return;
	if (u->n >= USERS_MAX) {
		hp_log(LOG_WARNING, "more than %d owners; %s not added",
		    USERS_MAX, name);
		return;
	}
	snprintf(u->name[u->n++], sizeof(u->name[0]), "%s", name);
}

static int
users_has(const struct users *u, const char *name)
{
	size_t i;

	for (i = 0; i < u->n; i++)
		if (strcmp(u->name[i], name) == 0)
			return 1;
	return 0;
}

/* "alice,bob", cut at a whole name within HP_OWNER_MAX. */
static void
users_join(const struct users *u, char *out, size_t outlen)
{
	size_t i, off = 0, l;

	out[0] = '\0';
	for (i = 0; i < u->n; i++) {
		l = strlen(u->name[i]);
		if (off + l + 2 > outlen || off + l + 1 > HP_OWNER_MAX)
			break;
		if (off > 0)
			out[off++] = ',';
		memcpy(out + off, u->name[i], l + 1);
		off += l;
	}
}

/* The configured owners of a token, by its (USB) serial, exactly. */
static void
static_owners(const struct hp_conf *c, const struct hp_event *ev,
    struct users *u)
{
	size_t i;

	for (i = 0; i < c->n_owners; i++)
		if (hp_serial_same(c->owners[i].serial, ev->serial,
		    ev->serial_altered))
			users_add(u, c->owners[i].user);
}

static int
targets_add(struct target *t, size_t *np, const struct hp_session *s,
    const char *why, const char *file)
{
	size_t i;

	for (i = 0; i < *np; i++)
		if (strcmp(t[i].id, s->id) == 0)
			return 0;
	if (*np >= TARGETS_MAX)
		return -1;
	snprintf(t[*np].id, sizeof(t[0].id), "%s", s->id);
	snprintf(t[*np].user, sizeof(t[0].user), "%s", s->user);
	snprintf(t[*np].file, sizeof(t[0].file), "%s", file != NULL ? file : "");
	t[*np].why = why;
	(*np)++;
	return 0;
}

static int
rate_ok(struct hp_ctx *ctx)
{
	char path[HP_PATH_MAX + 16];
	int r;

	if (ctx->rate_file != NULL) {
		snprintf(path, sizeof(path), "%s", ctx->rate_file);
		if ((r = hp_rate_take_file(path, ctx->conf->rate_count,
		    ctx->conf->rate_window_ms, hp_now_ms())) < 0)
			hp_log(LOG_WARNING, "%s: rate limit file unusable; "
			    "using this run's own limit", path);
		else
			return r;
	}
	return hp_rate_take(&ctx->rate, hp_now_ms());
}

static void
describe(const struct hp_exec *ex, char *out, size_t outlen)
{
	char e[HP_ARG_MAX * 4 + 8];
	size_t i, off = 0;
	int n;

	out[0] = '\0';
	for (i = 0; i < ex->argc && off < outlen; i++) {
		n = snprintf(out + off, outlen - off, "%s'%s'", i ? " " : "",
		    hp_esc(ex->argv[i], e, sizeof(e)));
		if (n < 0)
			break;
		off += (size_t)n;
	}
}

/* Start one action, within the rate limit and the child limit. */
static int
run_action(struct hp_ctx *ctx, const struct hp_exec *ex,
    const struct hp_action_env *ae, const char *user)
{
	char what[1024];
	pid_t pid = -1;
	int r;

	describe(ex, what, sizeof(what));
	if (ctx->dry_run) {
		hp_plan("run %s as %s with NKHSM_EVENT=%s NKHSM_SERIAL=%s "
		    "NKHSM_SYSPATH=%s NKHSM_OWNER=%s%s%s", what,
		    user != NULL ? user : "root", ae->event, ae->serial,
		    ae->syspath, ae->owner, ae->reader != NULL &&
		    ae->reader[0] != '\0' ? " NKHSM_READER=" : "",
		    ae->reader != NULL ? ae->reader : "");
		return 0;
	}
	if (ctx->running >= ctx->conf->max_children) {
		hp_log(LOG_WARNING, "%s action %s not started: %u actions "
		    "still running (max_children)", ae->event, what,
		    ctx->conf->max_children);
		return NKHSM_ERR_TOO_LARGE;
	}
	if (!rate_ok(ctx)) {
		hp_log(LOG_WARNING, "%s action %s not started: rate limit of "
		    "%u per %ums reached", ae->event, what,
		    ctx->conf->rate_count, ctx->conf->rate_window_ms);
		return NKHSM_ERR_TOO_LARGE;
	}
	if ((r = hp_spawn(ex, ae, user, &pid)) != 0)
		return r;
	hp_log(LOG_INFO, "%s: started %s as %s (pid %ld)", ae->event, what,
	    user != NULL ? user : "root", (long)pid);
	ctx->running++;
	if (ctx->on_spawn != NULL)
		return ctx->on_spawn(ctx->spawn_arg, pid, what);
	return 0;
}

int
hp_do_remove(struct hp_ctx *ctx, const struct hp_event *ev,
    const struct hp_present *present, int what, struct hp_session *locked,
    size_t maxlocked, size_t *nlockedp)
{
	const struct hp_conf *c = ctx->conf;
	struct hp_record *recs = NULL;
	struct hp_session *sess = NULL;
	struct target *t = NULL;
	struct hp_action_env ae;
	struct users owners;
	unsigned char *bound = NULL;
	char err[512], e1[HP_SERIAL_MAX * 4 + 8], owner[HP_OWNER_MAX + 1];
	size_t nrec = 0, nsess = 0, nt = 0, nbound = 0, i, j;
	int failed = 0, r;

	*nlockedp = 0;
	memset(&owners, 0, sizeof(owners));
	hp_esc(ev->serial, e1, sizeof(e1));
	/* Actions alone only need the owners: the lock pass reported. */
	if ((what & HP_DO_LOCK) != 0 || c->n_remove > 0) {
		if ((r = hp_records_load(c->rundir, (what & HP_DO_LOCK) == 0,
		    &recs, &nrec, err, sizeof(err))) != 0 &&
		    (what & HP_DO_LOCK) != 0) {
			hp_log(LOG_ERR, "remove %s: %s", hp_event_what(ev),
			    err);
			failed = 1;
		}
	}
	if (nrec > 0 && (bound = calloc(nrec, 1)) == NULL) {
		nrec = 0;
		failed = 1;
	}
	for (i = 0; i < nrec; i++) {
		if (!hp_record_bound(c->serial_match, recs[i].serial, ev,
		    present))
			continue;
		bound[i] = 1;
		nbound++;
		users_add(&owners, recs[i].user);
	}
	static_owners(c, ev, &owners);
	if ((what & HP_DO_LOCK) == 0)
		goto actions;
	hp_log(LOG_INFO, "remove %s serial '%s': %zu of %zu session records "
	    "bound (%s%s)", hp_event_what(ev), e1, nbound, nrec,
	    ev->card ? "the card's own serial" : "serial_match ",
	    ev->card ? "" : hp_match_name(c->serial_match));
	if (!ev->card && ev->serial[0] == '\0' &&
	    c->serial_match != HP_MATCH_ABSENT)
		hp_log(LOG_INFO, "remove %s: serial unknown, bound as absent",
		    hp_event_what(ev));
	if (c->on_remove == HP_REMOVE_NONE) {
		hp_log(LOG_INFO, "remove %s: on_remove none, nothing locked",
		    hp_event_what(ev));
		goto actions;
	}
	if (nbound == 0 && (c->on_remove == HP_REMOVE_LOCK_TOKEN ||
	    owners.n == 0)) {
		hp_log(LOG_INFO, "remove %s: no session bound to it, nothing "
		    "to lock", hp_event_what(ev));
		goto actions;
	}
	if ((t = calloc(TARGETS_MAX, sizeof(*t))) == NULL) {
		failed = 1;
		goto actions;
	}
	if ((r = hp_logind_list(c, &sess, &nsess)) != 0) {
		/* Fail closed: still lock the ids the records name. */
		hp_log(LOG_ERR, "remove %s: cannot list logind sessions; "
		    "locking the recorded session ids unchecked",
		    hp_event_what(ev));
		failed = 1;
		for (i = 0; i < nrec; i++) {
			struct hp_session s1;

			if (!bound[i] || recs[i].session_id[0] == '\0')
				continue;
			memset(&s1, 0, sizeof(s1));
			snprintf(s1.id, sizeof(s1.id), "%s",
			    recs[i].session_id);
			snprintf(s1.user, sizeof(s1.user), "%s", recs[i].user);
			(void)targets_add(t, &nt, &s1, "recorded, unchecked",
			    recs[i].file);
		}
		goto lock;
	}
	for (i = 0; i < nrec && c->on_remove == HP_REMOVE_LOCK_TOKEN; i++) {
		if (!bound[i])
			continue;
		if (recs[i].session_id[0] == '\0') {
			/* No logind id recorded: every session of the user. */
			for (j = 0; j < nsess; j++)
				if (strcmp(sess[j].user, recs[i].user) == 0)
					(void)targets_add(t, &nt, &sess[j],
					    "record without session id, all "
					    "sessions of its user", recs[i].file);
			continue;
		}
		for (j = 0; j < nsess; j++)
			if (strcmp(sess[j].id, recs[i].session_id) == 0)
				break;
		if (j == nsess) {
			hp_log(LOG_INFO, "record %s: session %s is gone",
			    recs[i].file, recs[i].session_id);
			continue;
		}
		if (strcmp(sess[j].user, recs[i].user) != 0) {
			hp_log(LOG_WARNING, "record %s: session %s belongs to "
			    "%s, not %s; not locked", recs[i].file, sess[j].id,
			    sess[j].user, recs[i].user);
			continue;
		}
		(void)targets_add(t, &nt, &sess[j], "bound by record",
		    recs[i].file);
	}
	for (j = 0; j < nsess && c->on_remove == HP_REMOVE_LOCK_OWNER; j++)
		if (users_has(&owners, sess[j].user))
			(void)targets_add(t, &nt, &sess[j],
			    "session of the token's owner", NULL);
	if (nt == 0)
		hp_log(LOG_INFO, "remove %s: no live session to lock",
		    hp_event_what(ev));
 lock:
	for (i = 0; i < nt; i++) {
		if (ctx->dry_run) {
			hp_plan("lock session %s of %s (%s%s%s)", t[i].id,
			    t[i].user, t[i].why, t[i].file[0] ? " " : "",
			    t[i].file);
			continue;
		}
		if ((r = hp_logind_call(c, "LockSession", t[i].id)) != 0) {
			hp_log(LOG_ERR, "remove %s: lock of session %s of %s "
			    "failed", hp_event_what(ev), t[i].id, t[i].user);
			failed = 1;
			continue;
		}
		hp_log(LOG_NOTICE, "remove %s: locked session %s of %s (%s%s%s)",
		    hp_event_what(ev), t[i].id, t[i].user, t[i].why,
		    t[i].file[0] ? " " : "", t[i].file);
		if (locked != NULL && *nlockedp < maxlocked) {
			snprintf(locked[*nlockedp].id, sizeof(locked[0].id),
			    "%s", t[i].id);
			snprintf(locked[*nlockedp].user, sizeof(locked[0].user),
			    "%s", t[i].user);
			(*nlockedp)++;
		}
	}
 actions:
	if ((what & HP_DO_ACTIONS) == 0)
		goto out;
	users_join(&owners, owner, sizeof(owner));
	ae.event = "remove";
	ae.serial = ev->serial;
	ae.syspath = ev->syspath;
	ae.reader = ev->reader;
	ae.owner = owner;
	for (i = 0; i < c->n_remove; i++)
		if (run_action(ctx, &c->remove_exec[i], &ae,
		    c->run_as[0] != '\0' ? c->run_as : NULL) != 0)
			failed = 1;
 out:
	free(bound);
	free(t);
	free(sess);
	free(recs);
	return failed ? NKHSM_ERR_INTERNAL : 0;
}

int
hp_do_escalate(struct hp_ctx *ctx, const struct hp_session *locked, size_t n)
{
	size_t i;
	int is_locked, failed = 0, r;

	for (i = 0; i < n; i++) {
		if (ctx->dry_run) {
			hp_plan("terminate session %s of %s unless locked "
			    "after %ums", locked[i].id, locked[i].user,
			    ctx->conf->grace_ms);
			continue;
		}
		r = hp_logind_locked(ctx->conf, locked[i].id, &is_locked);
		if (r == 0 && is_locked) {
			hp_log(LOG_INFO, "session %s of %s is locked",
			    locked[i].id, locked[i].user);
			continue;
		}
		hp_log(LOG_NOTICE, "session %s of %s %s after %ums; "
		    "terminating it", locked[i].id, locked[i].user,
		    r == 0 ? "did not lock" : "lock state unknown",
		    ctx->conf->grace_ms);
		if (hp_logind_call(ctx->conf, "TerminateSession",
		    locked[i].id) != 0)
			failed = 1;
	}
	return failed ? NKHSM_ERR_INTERNAL : 0;
}

int
hp_do_insert(struct hp_ctx *ctx, const struct hp_event *ev)
{
	const struct hp_conf *c = ctx->conf;
	struct hp_record *recs = NULL;
	struct hp_action_env ae;
	struct users owners;
	char err[512], e1[HP_SERIAL_MAX * 4 + 8], owner[HP_OWNER_MAX + 1];
	size_t nrec = 0, i, k;
	int failed = 0;

	memset(&owners, 0, sizeof(owners));
	hp_esc(ev->serial, e1, sizeof(e1));
	if (ev->serial[0] != '\0' && !ev->serial_altered) {
		static_owners(c, ev, &owners);
		/* Users who logged in with this token before. */
		if (c->n_user > 0 || c->n_insert > 0) {
			if (hp_records_load(c->rundir, 1, &recs, &nrec, err,
			    sizeof(err)) != 0)
				hp_log(LOG_WARNING, "add %s: %s",
				    hp_event_what(ev), err);
			for (i = 0; i < nrec; i++)
				if (hp_serial_same(recs[i].serial, ev->serial,
				    ev->serial_altered))
					users_add(&owners, recs[i].user);
		}
	}
	users_join(&owners, owner, sizeof(owner));
	hp_log(LOG_INFO, "add %s serial '%s'%s: owners '%s', %zu admin and "
	    "%zu user actions", hp_event_what(ev), e1, ev->serial_altered ?
	    " (sanitized)" : "", owner, c->n_insert, c->n_user * owners.n);
	ae.event = "add";
	ae.serial = ev->serial;
	ae.syspath = ev->syspath;
	ae.reader = ev->reader;
	ae.owner = owner;
	for (i = 0; i < c->n_insert; i++)
		if (run_action(ctx, &c->insert_exec[i], &ae,
		    c->run_as[0] != '\0' ? c->run_as : NULL) != 0)
			failed = 1;
	for (k = 0; k < owners.n; k++) {
		ae.owner = owners.name[k];
		for (i = 0; i < c->n_user; i++)
			if (run_action(ctx, &c->user_exec[i], &ae,
			    owners.name[k]) != 0)
				failed = 1;
	}
	free(recs);
	return failed ? NKHSM_ERR_INTERNAL : 0;
}
