/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * monitor.c - nkhsm-hotplug --monitor, for systems without systemd: one
 * process, a libudev monitor on USB devices, and a poll loop that sleeps
 * until an event, a signal or the next timer (no polling while idle).
 *
 * Tokens present at start are state, not events. Events are drained in
 * batches and folded into a per-device table, so duplicates coalesce:
 * an add for a present token or a remove for an absent one does nothing.
 * A removal locks at once, in a short-lived worker process, so a slow
 * logind never stalls event intake; another lock round for the same device
 * within lock_interval, or while its worker runs, is deferred, never
 * dropped. The remove actions run when the worker is done (after the
 * locks). An insertion runs its actions only after the token stayed for
 * settle.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/signalfd.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <libudev.h>

#include "nkhsm.h"
#include "nk-int.h"
#include "hotplug.h"
#include "monitor.h"

#define BATCH_MAX	512		/* events read before acting */
#define RCVBUF_SIZE	(4 * 1024 * 1024)

/* Properties of a udev device as the event parser wants them. */
static void
props_of(struct udev_device *d, const char *action, struct hp_props *p)
{
	memset(p, 0, sizeof(*p));
	p->action = action;
	p->subsystem = udev_device_get_subsystem(d);
	p->devtype = udev_device_get_devtype(d);
	p->product = udev_device_get_property_value(d, "PRODUCT");
	p->devpath = udev_device_get_devpath(d);
	p->seqnum = udev_device_get_property_value(d, "SEQNUM");
	p->serial = udev_device_get_property_value(d, "ID_SERIAL_SHORT");
	/* udev sets ID_SERIAL_SHORT; without udevd only sysfs has it. */
	if (p->serial == NULL && action != NULL && strcmp(action, "add") == 0)
		p->serial = udev_device_get_sysattr_value(d, "serial");
}

int
hp_enumerate(struct hp_present *present, const char *skip)
{
	struct udev *udev = NULL;
	struct udev_enumerate *en = NULL;
	struct udev_list_entry *le;
	struct udev_device *d;
	struct hp_props p;
	struct hp_event ev;
	char why[128];
	int r = -1;

	memset(present, 0, sizeof(*present));
	if ((udev = udev_new()) == NULL || (en = udev_enumerate_new(udev)) == NULL ||
	    udev_enumerate_add_match_subsystem(en, "usb") < 0 ||
	    udev_enumerate_scan_devices(en) < 0)
		goto out;
	udev_list_entry_foreach(le, udev_enumerate_get_list_entry(en)) {
		if ((d = udev_device_new_from_syspath(udev,
		    udev_list_entry_get_name(le))) == NULL)
			continue;
		props_of(d, "add", &p);
		if (hp_event_classify(&p, &ev, why, sizeof(why)) == 0 &&
		    (skip == NULL || strcmp(ev.syspath, skip) != 0) &&
		    present->n < HP_DEV_MAX) {
			memcpy(present->dev[present->n].syspath, ev.syspath,
			    sizeof(ev.syspath));
			memcpy(present->dev[present->n].serial, ev.serial,
			    sizeof(ev.serial));
			present->dev[present->n].serial_altered =
			    ev.serial_altered;
			present->n++;
		}
		udev_device_unref(d);
	}
	r = (int)present->n;
 out:
	udev_enumerate_unref(en);
	udev_unref(udev);
	return r;
}

struct dev *
dev_find(struct mon *m, const char *key, int create)
{
	struct dev *free_slot = NULL;
	size_t i;

	for (i = 0; i < HP_DEV_MAX; i++) {
		if (m->dev[i].used && strcmp(m->dev[i].key, key) == 0)
			return &m->dev[i];
		if (free_slot == NULL && (!m->dev[i].used ||
		    (!m->dev[i].present && !m->dev[i].want_lock &&
		    m->dev[i].lock_at == 0 && m->dev[i].insert_at == 0 &&
		    m->dev[i].worker == 0 && !m->dev[i].again &&
		    m->dev[i].probe == 0)))
			free_slot = &m->dev[i];
	}
	if (!create || free_slot == NULL)
		return NULL;
	memset(free_slot, 0, sizeof(*free_slot));
	free_slot->used = 1;
	free_slot->last_lock = -NEVER / 2;
	snprintf(free_slot->key, sizeof(free_slot->key), "%s", key);
	/* A USB device's key is its syspath; a card's is not a path. */
	if (key[0] == '/')
		snprintf(free_slot->ev.syspath, sizeof(free_slot->ev.syspath),
		    "%s", key);
	return free_slot;
}

void
present_set(const struct mon *m, struct hp_present *p, const char *skip)
{
	size_t i;

	memset(p, 0, sizeof(*p));
	for (i = 0; i < HP_DEV_MAX; i++) {
		if (!m->dev[i].used || !m->dev[i].present ||
		    strcmp(m->dev[i].key, skip) == 0)
			continue;
		/* A card by its key: never equal to a USB device's syspath. */
		snprintf(p->dev[p->n].syspath, sizeof(p->dev[0].syspath), "%s",
		    m->dev[i].is_card ? m->dev[i].key : m->dev[i].ev.syspath);
		memcpy(p->dev[p->n].serial, m->dev[i].ev.serial,
		    sizeof(p->dev[0].serial));
		p->dev[p->n].serial_altered = m->dev[i].ev.serial_altered;
		p->n++;
	}
}

static int
on_spawn(void *arg, pid_t pid, const char *what)
{
	struct mon *m = arg;
	size_t i;

	for (i = 0; i < KIDS_MAX; i++) {
		if (m->kid[i].pid > 0)
			continue;
		m->kid[i].pid = pid;
		m->kid[i].stage = 0;
		m->kid[i].deadline = hp_now_ms() + m->ctx->conf->timeout_ms;
		snprintf(m->kid[i].what, sizeof(m->kid[i].what), "%s", what);
		return 0;
	}
	/* Cannot happen with max_children <= KIDS_MAX; be safe anyway. */
	hp_kill_group(pid, SIGKILL);
	return NKHSM_ERR_TOO_LARGE;
}

static void
reap_kids(struct mon *m)
{
	size_t i;
	int status, r;

	for (i = 0; i < KIDS_MAX; i++) {
		if (m->kid[i].pid <= 0)
			continue;
		if ((r = hp_reap(m->kid[i].pid, &status)) == 0)
			continue;
		if (r == 1 && WIFEXITED(status))
			hp_log(WEXITSTATUS(status) == 0 ? LOG_DEBUG :
			    LOG_WARNING, "action %s (pid %ld) exited %d",
			    m->kid[i].what, (long)m->kid[i].pid,
			    WEXITSTATUS(status));
		else if (r == 1 && WIFSIGNALED(status))
			hp_log(LOG_WARNING, "action %s (pid %ld) killed by "
			    "signal %d", m->kid[i].what, (long)m->kid[i].pid,
			    WTERMSIG(status));
		m->kid[i].pid = 0;
		if (m->ctx->running > 0)
			m->ctx->running--;
	}
}

/* The worker: lock, and escalate after grace if configured. */
static void __attribute__((noreturn))
worker(struct mon *m, struct dev *d, const struct hp_present *present)
{
	struct hp_session *locked;
	sigset_t none;
	size_t n = 0;
	int rc = 0;

	close(m->sfd);
	close(udev_monitor_get_fd(m->um));
	if (m->watch_fd != -1)
		close(m->watch_fd);
	(void)signal(SIGTERM, SIG_DFL);
	(void)signal(SIGCHLD, SIG_DFL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	m->ctx->on_spawn = NULL;
	if ((locked = calloc(LOCKED_MAX, sizeof(*locked))) == NULL)
		_exit(1);
	if (hp_do_remove(m->ctx, &d->ev, present, HP_DO_LOCK, locked,
	    LOCKED_MAX, &n) != 0)
		rc = 1;
	if (m->ctx->conf->escalate == HP_ESCALATE_TERMINATE && n > 0) {
		if (!m->ctx->dry_run)
			(void)poll(NULL, 0, (int)m->ctx->conf->grace_ms);
		if (hp_do_escalate(m->ctx, locked, n) != 0)
			rc = 1;
	}
	fflush(NULL);
	_exit(rc);
}

static void
lock_round(struct mon *m, struct dev *d, int64_t now)
{
	struct hp_present present;
	size_t n;
	pid_t pid;

	d->lock_at = 0;
	if (d->worker > 0) {
		d->again = 1;
		m->deferred++;
		return;
	}
	present_set(m, &present, d->key);
	d->ev.action = HP_EV_REMOVE;
	m->rounds++;
	d->last_lock = now;
	fflush(NULL);
	if ((pid = fork()) == -1) {
		/* No worker: lock from here, late rather than never. */
		hp_log(LOG_ERR, "fork: %s; locking in the monitor itself",
		    strerror(errno));
		(void)hp_do_remove(m->ctx, &d->ev, &present,
		    HP_DO_LOCK | HP_DO_ACTIONS, NULL, 0, &n);
		return;
	}
	if (pid == 0)
		worker(m, d, &present);
	d->worker = pid;
	d->worker_deadline = now + WORKER_MS + m->ctx->conf->grace_ms;
}

/* A removal: lock now, or at the end of the interval or of the worker. */
static void
request_round(struct mon *m, struct dev *d, int64_t now)
{
	unsigned int iv = m->ctx->conf->lock_interval_ms;

	if (d->worker == 0 && now - d->last_lock >= (int64_t)iv) {
		lock_round(m, d, now);
		return;
	}
	m->deferred++;
	if (d->worker > 0)
		d->again = 1;
	else if (d->lock_at == 0) {
		d->lock_at = d->last_lock + iv;
		hp_log(LOG_DEBUG, "remove %s: lock round deferred by %lldms "
		    "(lock_interval)", hp_event_what(&d->ev),
		    (long long)(d->lock_at - now));
	}
}

static void
flush_locks(struct mon *m, int64_t now)
{
	size_t i;

	for (i = 0; i < HP_DEV_MAX; i++) {
		if (!m->dev[i].used || !m->dev[i].want_lock)
			continue;
		m->dev[i].want_lock = 0;
		request_round(m, &m->dev[i], now);
	}
}

/* A worker ended: the remove actions follow its locks. */
static void
reap_workers(struct mon *m)
{
	struct hp_present present;
	struct dev *d;
	size_t i, n;
	int status, r;

	for (i = 0; i < HP_DEV_MAX; i++) {
		d = &m->dev[i];
		if (!d->used || d->worker <= 0)
			continue;
		if ((r = hp_reap(d->worker, &status)) == 0)
			continue;
		if (r == 1 && (!WIFEXITED(status) || WEXITSTATUS(status) != 0))
			hp_log(LOG_WARNING, "remove %s: the lock round failed",
			    hp_event_what(&d->ev));
		d->worker = 0;
		present_set(m, &present, d->key);
		(void)hp_do_remove(m->ctx, &d->ev, &present, HP_DO_ACTIONS,
		    NULL, 0, &n);
		if (d->again) {
			d->again = 0;
			request_round(m, d, hp_now_ms());
		}
	}
}

static void
handle_event(struct mon *m, struct udev_device *ud, int64_t now)
{
	char why[128], e1[HP_SYSPATH_MAX * 4 + 8];
	struct hp_present present;
	struct hp_props p;
	struct hp_event ev;
	struct dev *d;
	size_t nlocked;
	int r;

	m->events++;
	props_of(ud, udev_device_get_action(ud), &p);
	if ((r = hp_event_classify(&p, &ev, why, sizeof(why))) != 0) {
		m->ignored++;
		hp_log(r < 0 ? LOG_WARNING : LOG_DEBUG, "event %s ignored: %s",
		    hp_esc(p.devpath, e1, sizeof(e1)), why);
		return;
	}
	hp_log(LOG_DEBUG, "event %s %s seq %llu", hp_action_name(ev.action),
	    ev.syspath, ev.seqnum);
	d = dev_find(m, ev.syspath, 1);
	if (ev.action == HP_EV_ADD) {
		if (d != NULL && d->present) {
			m->dups++;
			hp_log(LOG_DEBUG, "add %s: already present, coalesced",
			    ev.syspath);
			return;
		}
		if (d == NULL) {
			hp_log(LOG_ERR, "add %s: more than %d devices tracked; "
			    "no insertion actions", ev.syspath, HP_DEV_MAX);
			return;
		}
		d->present = 1;
		d->removed = 0;
		d->ev = ev;
		if (mc_udev_add(m, d))
			return;
		d->insert_at = now + m->ctx->conf->settle_ms;
		if (d->insert_at == 0)
			d->insert_at = 1;
		hp_log(LOG_DEBUG, "add %s: insertion actions in %ums unless "
		    "it goes", ev.syspath, m->ctx->conf->settle_ms);
		return;
	}
	if (d == NULL) {
		/* Table full: still lock, statelessly. */
		present_set(m, &present, ev.syspath);
		(void)hp_do_remove(m->ctx, &ev, &present,
		    HP_DO_LOCK | HP_DO_ACTIONS, NULL, 0, &nlocked);
		return;
	}
	if (!d->present && d->removed) {
		m->dups++;
		hp_log(LOG_DEBUG, "remove %s: already absent, coalesced",
		    ev.syspath);
		return;
	}
	if (d->insert_at != 0)
		hp_log(LOG_INFO, "remove %s: gone within settle, insertion "
		    "actions cancelled", ev.syspath);
	d->insert_at = 0;
	d->present = 0;
	d->removed = 1;
	/* Keep the serial seen at add if the removal does not carry one. */
	if (ev.serial[0] == '\0') {
		memcpy(ev.serial, d->ev.serial, sizeof(ev.serial));
		ev.serial_altered = d->ev.serial_altered;
	}
	d->ev = ev;
	if (mc_udev_remove(m, d, &ev))
		return;
	d->want_lock = 1;
}

/* The netlink queue overflowed: take udev's view as the truth. */
static void
resync(struct mon *m, int64_t now)
{
	struct hp_present p;
	size_t i, j;
	struct dev *d;

	if (hp_enumerate(&p, NULL) < 0) {
		hp_log(LOG_ERR, "events lost and udev cannot be enumerated");
		return;
	}
	hp_log(LOG_WARNING, "events lost; resynchronizing with udev");
	for (i = 0; i < HP_DEV_MAX; i++) {
		d = &m->dev[i];
		if (!d->used || !d->present || d->is_card)
			continue;
		for (j = 0; j < p.n; j++)
			if (strcmp(p.dev[j].syspath, d->ev.syspath) == 0)
				break;
		if (j == p.n) {
			d->present = 0;
			d->removed = 1;
			d->insert_at = 0;
			d->want_lock = 1;
		}
	}
	for (j = 0; j < p.n; j++) {
		if ((d = dev_find(m, p.dev[j].syspath, 1)) == NULL ||
		    d->present)
			continue;
		d->present = 1;
		d->removed = 0;
		d->ev.action = HP_EV_ADD;
		memcpy(d->ev.serial, p.dev[j].serial, sizeof(d->ev.serial));
		d->ev.serial_altered = p.dev[j].serial_altered;
		if (!mc_udev_add(m, d))
			d->insert_at = now + m->ctx->conf->settle_ms + 1;
	}
}

static void
drain(struct mon *m)
{
	struct udev_device *ud;
	int64_t now = hp_now_ms();
	int n;

	for (n = 0; n < BATCH_MAX; n++) {
		errno = 0;
		if ((ud = udev_monitor_receive_device(m->um)) == NULL) {
			if (errno == ENOBUFS)
				resync(m, now);
			break;
		}
		handle_event(m, ud, now);
		udev_device_unref(ud);
	}
	flush_locks(m, hp_now_ms());
}

static int64_t
run_timers(struct mon *m)
{
	int64_t now = hp_now_ms(), next = NEVER;
	size_t i;
	struct dev *d;

	for (i = 0; i < HP_DEV_MAX; i++) {
		d = &m->dev[i];
		if (!d->used)
			continue;
		if (d->lock_at != 0 && d->lock_at <= now) {
			lock_round(m, d, now);
			now = hp_now_ms();
		}
		if (d->insert_at != 0 && d->insert_at <= now) {
			d->insert_at = 0;
			if (d->present) {
				d->ev.action = HP_EV_ADD;
				(void)hp_do_insert(m->ctx, &d->ev);
			}
			now = hp_now_ms();
		}
		if (d->worker > 0 && d->worker_deadline <= now) {
			hp_log(LOG_ERR, "remove %s: the lock round is taking "
			    "too long; killing it", hp_event_what(&d->ev));
			(void)kill(d->worker, SIGKILL);
			d->worker_deadline = now + KILL_GRACE_MS;
		}
		if (d->lock_at != 0 && d->lock_at < next)
			next = d->lock_at;
		if (d->insert_at != 0 && d->insert_at < next)
			next = d->insert_at;
		if (d->worker > 0 && d->worker_deadline < next)
			next = d->worker_deadline;
	}
	for (i = 0; i < KIDS_MAX; i++) {
		if (m->kid[i].pid <= 0)
			continue;
		if (m->kid[i].deadline <= now && m->kid[i].stage < 2) {
			hp_log(LOG_WARNING, "action %s (pid %ld) %s; killing "
			    "its process group", m->kid[i].what,
			    (long)m->kid[i].pid, m->kid[i].stage == 0 ?
			    "timed out" : "ignored SIGTERM");
			hp_kill_group(m->kid[i].pid,
			    m->kid[i].stage == 0 ? SIGTERM : SIGKILL);
			m->kid[i].stage++;
			m->kid[i].deadline = now + KILL_GRACE_MS;
		}
		if (m->kid[i].stage < 2 && m->kid[i].deadline < next)
			next = m->kid[i].deadline;
	}
	return mc_timers(m, now, next);
}

static void
dump_state(const struct mon *m)
{
	char e[HP_SERIAL_MAX * 4 + 8];
	size_t i, n = 0;

	for (i = 0; i < HP_DEV_MAX; i++) {
		if (!m->dev[i].used)
			continue;
		n++;
		hp_log(LOG_INFO, "state: %s serial '%s' %s%s%s",
		    hp_event_what(&m->dev[i].ev), hp_esc(m->dev[i].ev.serial, e,
		    sizeof(e)), m->dev[i].present ? "present" : "absent",
		    m->dev[i].insert_at ? ", insertion pending" : "",
		    m->dev[i].lock_at || m->dev[i].worker || m->dev[i].again ?
		    ", lock round pending" : "");
	}
	hp_log(LOG_INFO, "state: %zu devices, %lu events, %lu ignored, %lu "
	    "coalesced, %lu lock rounds, %lu deferred, %zu actions running",
	    n, m->events, m->ignored, m->dups, m->rounds, m->deferred,
	    m->ctx->running);
	mc_dump(m);
}

static void
reload(struct mon *m)
{
	struct hp_conf *c = NULL;
	char err[1024];
	int r;

	if ((r = hp_conf_load(m->conf_path, &c, err, sizeof(err))) != 0) {
		hp_log(LOG_ERR, "reload refused, keeping the old "
		    "configuration: %s", err);
		return;
	}
	hp_conf_free(&m->ctx->conf);
	m->ctx->conf = c;
	m->ctx->rate.count = c->rate_count;
	m->ctx->rate.window_ms = c->rate_window_ms;
	hp_log(LOG_INFO, "configuration reloaded");
}

static int
setup(struct mon *m)
{
	struct udev_enumerate *en = NULL;
	struct udev_list_entry *le;
	struct udev_device *d;
	struct hp_props p;
	struct hp_event ev;
	struct dev *dv;
	sigset_t set;
	char why[128], e[HP_SERIAL_MAX * 4 + 8];
	size_t n = 0;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGUSR1);
	if (sigprocmask(SIG_BLOCK, &set, NULL) != 0 ||
	    (m->sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) == -1) {
		hp_log(LOG_ERR, "signalfd: %s", strerror(errno));
		return -1;
	}
	(void)signal(SIGPIPE, SIG_IGN);
	if ((m->udev = udev_new()) == NULL ||
	    (m->um = udev_monitor_new_from_netlink(m->udev, "udev")) == NULL ||
	    udev_monitor_filter_add_match_subsystem_devtype(m->um, "usb",
	    NULL) < 0) {
		hp_log(LOG_ERR, "cannot create a udev monitor");
		return -1;
	}
	(void)udev_monitor_set_receive_buffer_size(m->um, RCVBUF_SIZE);
	if (udev_monitor_enable_receiving(m->um) < 0) {
		hp_log(LOG_ERR, "cannot receive udev events");
		return -1;
	}
	/* Listen first, then look: nothing falls between the two. */
	if ((en = udev_enumerate_new(m->udev)) == NULL ||
	    udev_enumerate_add_match_subsystem(en, "usb") < 0 ||
	    udev_enumerate_scan_devices(en) < 0) {
		udev_enumerate_unref(en);
		hp_log(LOG_ERR, "cannot enumerate USB devices");
		return -1;
	}
	udev_list_entry_foreach(le, udev_enumerate_get_list_entry(en)) {
		if ((d = udev_device_new_from_syspath(m->udev,
		    udev_list_entry_get_name(le))) == NULL)
			continue;
		props_of(d, "add", &p);
		if (hp_event_classify(&p, &ev, why, sizeof(why)) == 0 &&
		    (dv = dev_find(m, ev.syspath, 1)) != NULL) {
			dv->present = 1;
			dv->ev = ev;
			n++;
			hp_log(LOG_INFO, "initial state: %s serial '%s' present "
			    "(no actions)", ev.syspath, hp_esc(ev.serial, e,
			    sizeof(e)));
		}
		udev_device_unref(d);
	}
	udev_enumerate_unref(en);
	/* Without pcscd the udev path acts alone: not an error. */
	(void)mc_start(m);
	hp_log(LOG_NOTICE, "monitoring Nitrokey HSM events: %zu present, "
	    "on_remove %s, serial_match %s%s", n,
	    hp_on_remove_name(m->ctx->conf->on_remove),
	    hp_match_name(m->ctx->conf->serial_match),
	    m->ctx->dry_run ? ", dry run" : "");
	return 0;
}

/* Stopping: removals seen but not acted on are still locked, here. */
static void
stop(struct mon *m)
{
	struct hp_present present;
	int64_t deadline = hp_now_ms() + 5000;
	size_t i, n;
	int status;

	for (i = 0; i < HP_DEV_MAX; i++) {
		if (!m->dev[i].used || m->dev[i].worker > 0 ||
		    (!m->dev[i].want_lock && m->dev[i].lock_at == 0 &&
		    !m->dev[i].again))
			continue;
		present_set(m, &present, m->dev[i].key);
		m->dev[i].ev.action = HP_EV_REMOVE;
		(void)hp_do_remove(m->ctx, &m->dev[i].ev, &present,
		    HP_DO_LOCK, NULL, 0, &n);
	}
	for (i = 0; i < HP_DEV_MAX; i++) {
		if (!m->dev[i].used || m->dev[i].worker <= 0)
			continue;
		while (hp_reap(m->dev[i].worker, &status) == 0) {
			if (hp_now_ms() > deadline) {
				(void)kill(m->dev[i].worker, SIGKILL);
				(void)waitpid(m->dev[i].worker, &status, 0);
				break;
			}
			(void)poll(NULL, 0, 10);
		}
		m->dev[i].worker = 0;
	}
	for (i = 0; i < KIDS_MAX; i++)
		if (m->kid[i].pid > 0)
			hp_kill_group(m->kid[i].pid, SIGTERM);
	mc_stop(m);
}

int
hp_monitor(struct hp_ctx *ctx, const char *conf_path)
{
	struct signalfd_siginfo si;
	struct pollfd pfd[4];
	struct mon *m;
	int64_t next, now;
	int timeout, quit = 0, r = -1;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return -1;
	m->ctx = ctx;
	m->conf_path = conf_path;
	m->sfd = -1;
	m->watch_fd = m->probe_rd = m->probe_wr = -1;
	ctx->on_spawn = on_spawn;
	ctx->spawn_arg = m;
	if (ctx->conf->max_children > KIDS_MAX)
		ctx->conf->max_children = KIDS_MAX;
	if (setup(m) != 0)
		goto out;
	pfd[0].fd = udev_monitor_get_fd(m->um);
	pfd[0].events = POLLIN;
	pfd[1].fd = m->sfd;
	pfd[1].events = POLLIN;
	pfd[2].events = POLLIN;
	pfd[3].events = POLLIN;
	while (!quit) {
		next = run_timers(m);
		pfd[2].fd = m->watch_fd;	/* -1 while PC/SC is not watched */
		pfd[3].fd = m->probe_rd;
		now = hp_now_ms();
		if (next == NEVER)
			timeout = -1;	/* idle: sleep until something happens */
		else if (next <= now)
			timeout = 0;
		else
			timeout = next - now > 60000 ? 60000 : (int)(next - now);
		if (poll(pfd, 4, timeout) == -1) {
			if (errno == EINTR)
				continue;
			hp_log(LOG_ERR, "poll: %s", strerror(errno));
			goto out;
		}
		if (pfd[1].revents & POLLIN) {
			while (read(m->sfd, &si, sizeof(si)) == sizeof(si)) {
				switch (si.ssi_signo) {
				case SIGCHLD:
					reap_kids(m);
					reap_workers(m);
					break;
				case SIGHUP:
					reload(m);
					break;
				case SIGUSR1:
					dump_state(m);
					break;
				default:
					hp_log(LOG_NOTICE, "signal %u: stopping",
					    si.ssi_signo);
					quit = 1;
					break;
				}
			}
		}
		if (!quit && (pfd[0].revents & POLLIN))
			drain(m);
		if (!quit && pfd[3].fd != -1 && (pfd[3].revents & POLLIN))
			mc_probe_ready(m);
		if (!quit && pfd[2].fd != -1 && (pfd[2].revents &
		    (POLLIN | POLLHUP | POLLERR)))
			mc_watch_ready(m, hp_now_ms());
		if (!quit)
			flush_locks(m, hp_now_ms());
	}
	r = 0;
 out:
	stop(m);
	udev_monitor_unref(m->um);
	udev_unref(m->udev);
	if (m->sfd != -1)
		close(m->sfd);
	free(m);
	return r;
}
