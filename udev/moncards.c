/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * moncards.c - the PC/SC side of nkhsm-hotplug --monitor.
 *
 * The watcher (cards.c) sends a snapshot of the readers whenever pcscd
 * reports a change. Each change is a card coming or going: a reader that
 * appears with a card, a card put in, a card taken out, a reader that goes
 * away with its card (the Nitrokey HSM's own reader does, when pulled).
 *
 * A SmartCard-HSM that comes is a token (struct dev, key "reader:N:NAME").
 * After settle a probe reads its serial; its insertion actions run when
 * it answered, with that serial. When it goes, its sessions are locked by
 * that serial, exactly, whatever serial_match says.
 *
 * The Nitrokey HSM shows up twice, as a USB device (udev) and as a
 * reader named after its USB serial ("... (SERIAL) 00 00"). While PC/SC is
 * watched, its udev add runs nothing (the card will answer), and whichever
 * of its udev remove and its reader's departure comes first acts for both;
 * the second is coalesced. Without pcscd, the udev path acts alone.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "nkhsm.h"
#include "nk-int.h"
#include "hotplug.h"
#include "monitor.h"

/* A watcher that stopped starts again, later each time: idle, it sleeps. */
#define RETRY_MS	5000
#define RETRY_MAX_MS	300000
#define KEY_PREFIX	"reader:"

/*
 * Each card that comes is a token of its own ("reader:N:NAME"): a card
 * put in while the last one's lock round or removal actions are still to
 * run does not take their event.
 */
static void
card_key(unsigned long n, const char *reader, char *key, size_t keylen)
{
	snprintf(key, keylen, "%s%lu:%s", KEY_PREFIX, n, reader);
}

/* The card in this reader now. */
static struct dev *
card_in_reader(struct mon *m, const char *reader)
{
	size_t i;

	for (i = 0; i < HP_DEV_MAX; i++)
		if (m->dev[i].used && m->dev[i].is_card && m->dev[i].present &&
		    strcmp(m->dev[i].rname, reader) == 0)
			return &m->dev[i];
	return NULL;
}

static void
label_of(const char *reader, char *out, size_t outlen)
{
	(void)hp_sanitize(reader, out, outlen);
}

/* The USB device (udev) whose serial names this card's reader. */
static struct dev *
usb_dev_of(struct mon *m, const struct dev *card)
{
	size_t i;

	if (card->usb[0] == '\0')
		return NULL;
	for (i = 0; i < HP_DEV_MAX; i++)
		if (m->dev[i].used && !m->dev[i].is_card &&
		    !m->dev[i].ev.serial_altered &&
		    strcmp(m->dev[i].ev.serial, card->usb) == 0)
			return &m->dev[i];
	return NULL;
}

/* The card in the reader named after this USB device: there, else gone. */
static struct dev *
card_of_usb(struct mon *m, const struct hp_event *ev)
{
	struct dev *gone = NULL;
	size_t i;

	if (ev->serial[0] == '\0' || ev->serial_altered)
		return NULL;
	for (i = 0; i < HP_DEV_MAX; i++) {
		if (!m->dev[i].used || !m->dev[i].is_card ||
		    strcmp(m->dev[i].usb, ev->serial) != 0)
			continue;
		if (m->dev[i].present)
			return &m->dev[i];
		gone = &m->dev[i];
	}
	return gone;
}

static void
probe_end(struct dev *d)
{
	int status;

	if (d->probe <= 0)
		return;
	(void)kill(d->probe, SIGKILL);
	(void)waitpid(d->probe, &status, 0);
	d->probe = 0;
}

static void
watch_end(struct mon *m)
{
	int status;

	if (m->watch_fd != -1)
		close(m->watch_fd);
	m->watch_fd = -1;
	if (m->watch_pid > 0) {
		(void)kill(m->watch_pid, SIGKILL);
		(void)waitpid(m->watch_pid, &status, 0);
	}
	m->watch_pid = 0;
}

static void
retry_later(struct mon *m, int64_t now)
{
	if (m->watch_backoff_ms < RETRY_MS)
		m->watch_backoff_ms = RETRY_MS;
	m->watch_retry_at = now + m->watch_backoff_ms;
	if (m->watch_backoff_ms < RETRY_MAX_MS / 2)
		m->watch_backoff_ms *= 2;
	else
		m->watch_backoff_ms = RETRY_MAX_MS;
}

static int
watch_begin(struct mon *m)
{
	int r;

	if ((r = hp_watch_start(&m->watch_pid, &m->watch_fd)) != 0) {
		hp_log(LOG_ERR, "cannot start the PC/SC watcher: %s",
		    nkhsm_strerror(r));
		retry_later(m, hp_now_ms());
		return r;
	}
	m->watch_retry_at = 0;
	return 0;
}

int
mc_start(struct mon *m)
{
	int p[2];

	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) == -1) {
		hp_log(LOG_ERR, "pipe: %s; PC/SC is not watched",
		    strerror(errno));
		return -1;
	}
	m->probe_rd = p[0];
	m->probe_wr = p[1];
	if ((m->snap = calloc(1, sizeof(*m->snap))) == NULL)
		return -1;
	/* No magic yet: the first snapshot is the initial state. */
	m->snap->magic = 0;
	return watch_begin(m);
}

void
mc_stop(struct mon *m)
{
	size_t i;

	for (i = 0; i < HP_DEV_MAX; i++)
		if (m->dev[i].used)
			probe_end(&m->dev[i]);
	watch_end(m);
	if (m->probe_rd != -1)
		close(m->probe_rd);
	if (m->probe_wr != -1)
		close(m->probe_wr);
	m->probe_rd = m->probe_wr = -1;
	free(m->snap);
	m->snap = NULL;
}

/* A SmartCard-HSM came: a token whose serial is read after settle. */
static void
card_in(struct mon *m, const nkhsm_reader_t *r, int64_t now, int initial)
{
	char key[KEY_MAX], lb[HP_READER_MAX + 1];
	struct dev *d, *u;

	label_of(r->name, lb, sizeof(lb));
	if ((r->state & NKHSM_READER_MUTE) != 0 ||
	    (r->state & NKHSM_READER_SCHSM) == 0) {
		hp_log(LOG_INFO, "reader %s: %s; ignored", lb,
		    (r->state & NKHSM_READER_MUTE) != 0 ? "a card that does "
		    "not answer reset" : "a card that is not a SmartCard-HSM");
		return;
	}
	card_key(m->cards_in, r->name, key, sizeof(key));
	if ((d = dev_find(m, key, 1)) == NULL) {
		hp_log(LOG_ERR, "reader %s: more than %d tokens tracked; its "
		    "card is not", lb, HP_DEV_MAX);
		return;
	}
	m->cards_in++;
	d->is_card = 1;
	d->present = 1;
	d->removed = 0;
	d->initial = initial;
	d->insert_at = 0;
	memset(&d->ev, 0, sizeof(d->ev));
	d->ev.action = HP_EV_ADD;
	memcpy(d->ev.reader, lb, sizeof(d->ev.reader));
	snprintf(d->rname, sizeof(d->rname), "%s", r->name);
	(void)hp_reader_usb_serial(r->name, d->usb, sizeof(d->usb));
	if ((u = usb_dev_of(m, d)) != NULL) {
		memcpy(d->ev.syspath, u->ev.syspath, sizeof(d->ev.syspath));
		/* An insertion the udev path had planned is this one. */
		u->insert_at = 0;
	}
	d->probe_at = initial ? now : now + m->ctx->conf->settle_ms;
	if (d->probe_at == 0)
		d->probe_at = 1;
	hp_log(LOG_DEBUG, "reader %s: a SmartCard-HSM came%s; its serial is "
	    "read %s", lb, d->ev.syspath[0] != '\0' ? " with its USB device" :
	    "", initial ? "now" : "after settle");
}

/* A card went: its removal, unless the udev path already acted for it. */
static void
card_out(struct mon *m, const char *reader)
{
	struct dev *d, *u;

	if ((d = card_in_reader(m, reader)) == NULL)
		return;		/* not ours, or already acted on */
	probe_end(d);
	m->cards_out++;
	d->present = 0;
	d->removed = 1;
	d->probe_at = 0;
	d->ev.action = HP_EV_REMOVE;
	if (d->ev.card == 0)
		hp_log(LOG_INFO, "remove %s: the card went before it gave its "
		    "serial; bound as serial_match says",
		    hp_event_what(&d->ev));
	d->want_lock = 1;
	/* Its USB device's removal, when udev reports it, is this one. */
	if ((u = usb_dev_of(m, d)) != NULL && u->present) {
		u->present = 0;
		u->removed = 1;
		u->insert_at = 0;
	}
}

static void
snapshot_apply(struct mon *m, const struct hp_snapshot *s, int64_t now)
{
	const struct hp_snapshot *old = m->snap;
	const nkhsm_reader_t *was, *is;
	int initial = old->magic == 0;
	char lb[HP_READER_MAX + 1];
	uint32_t i;

	for (i = 0; i < old->n; i++) {
		is = hp_snapshot_find(s, old->r[i].name);
		if (is == NULL) {
			label_of(old->r[i].name, lb, sizeof(lb));
			hp_log(LOG_INFO, "reader %s went away", lb);
		}
		switch (hp_card_diff(&old->r[i], is)) {
		case HP_CARD_OUT:
		case HP_CARD_OUT_IN:
			card_out(m, old->r[i].name);
			break;
		default:
			break;
		}
	}
	for (i = 0; i < s->n; i++) {
		was = initial ? NULL : hp_snapshot_find(old, s->r[i].name);
		if (!initial && was == NULL) {
			label_of(s->r[i].name, lb, sizeof(lb));
			hp_log(LOG_INFO, "reader %s came", lb);
		}
		switch (hp_card_diff(was, &s->r[i])) {
		case HP_CARD_IN:
		case HP_CARD_OUT_IN:
			card_in(m, &s->r[i], now, initial);
			break;
		default:
			break;
		}
	}
	memcpy(m->snap, s, sizeof(*s));
}

void
mc_watch_ready(struct mon *m, int64_t now)
{
	struct hp_snapshot *s;
	int r = NKHSM_ERR_NOMEM;

	if ((s = malloc(sizeof(*s))) != NULL &&
	    (r = hp_watch_read(m->watch_fd, s)) == 0 && s->err == 0) {
		if (!m->pcsc_up)
			hp_log(LOG_NOTICE, "watching PC/SC readers: %u now; "
			    "insertion actions run when a card answers", s->n);
		m->pcsc_up = 1;
		m->pcsc_said = 0;
		m->watch_backoff_ms = 0;
		snapshot_apply(m, s, now);
		free(s);
		return;
	}
	if (r == 0)
		r = s->err;
	free(s);
	watch_end(m);
	/* pcscd stopped or restarts: its readers are not gone for that. */
	if (m->pcsc_up || !m->pcsc_said)
		hp_log(m->pcsc_up ? LOG_WARNING : LOG_NOTICE, "PC/SC is not "
		    "watched (%s); insertion actions run on USB events until "
		    "it is", r == NKHSM_ERR_PCSC ? "pcscd is not reachable" :
		    r < 0 ? nkhsm_strerror(r) : "the watcher stopped");
	m->pcsc_up = 0;
	m->pcsc_said = 1;
	retry_later(m, now);
}

/* The serial a probe read: the card answered, its insertion is now. */
static void
probe_done(struct mon *m, struct dev *d, const struct hp_probe_msg *pm)
{
	char e[HP_SERIAL_MAX * 4 + 8];
	int status;

	(void)waitpid(d->probe, &status, 0);
	d->probe = 0;
	if (pm->err == NKHSM_ERR_NO_TOKEN) {
		/* It answered, as something else: not a token, now or later. */
		hp_log(LOG_INFO, "reader %s: the card is not a SmartCard-HSM; "
		    "ignored", d->ev.reader);
		d->present = 0;
		d->removed = 1;
		return;
	}
	if (pm->err != 0 || pm->altered) {
		hp_log(LOG_WARNING, "reader %s: %s; no insertion actions",
		    d->ev.reader, pm->err != 0 ? nkhsm_strerror(pm->err) :
		    "its serial had to be altered");
		return;
	}
	memcpy(d->ev.serial, pm->serial, sizeof(d->ev.serial));
	d->ev.card = 1;
	if (d->initial) {
		hp_log(LOG_INFO, "initial state: reader %s: card serial '%s' "
		    "present (no actions)", d->ev.reader, hp_esc(d->ev.serial,
		    e, sizeof(e)));
		return;
	}
	hp_log(LOG_INFO, "reader %s: card serial '%s' answered",
	    d->ev.reader, hp_esc(d->ev.serial, e, sizeof(e)));
	d->ev.action = HP_EV_ADD;
	(void)hp_do_insert(m->ctx, &d->ev);
}

void
mc_probe_ready(struct mon *m)
{
	struct hp_probe_msg pm;
	size_t i;

	while (hp_probe_read(m->probe_rd, &pm) == 0) {
		for (i = 0; i < HP_DEV_MAX; i++) {
			if (m->dev[i].used && m->dev[i].probe > 0 &&
			    m->dev[i].probe == (pid_t)pm.pid) {
				probe_done(m, &m->dev[i], &pm);
				break;
			}
		}
		/* Else a probe killed at its deadline had answered late. */
	}
}

static void
probe_timers(struct mon *m, struct dev *d, int64_t now)
{
	int r;

	if (d->probe_at != 0 && d->probe_at <= now && d->probe == 0) {
		d->probe_at = 0;
		if ((r = hp_probe_start(m->probe_wr, d->rname, NULL, 0,
		    &d->probe)) != 0) {
			d->probe = 0;
			hp_log(LOG_ERR, "reader %s: cannot read the card's "
			    "serial: %s", d->ev.reader, nkhsm_strerror(r));
			return;
		}
		d->probe_deadline = now + m->ctx->conf->card_timeout_ms;
	}
	if (d->probe > 0 && d->probe_deadline <= now) {
		probe_end(d);
		m->probes_late++;
		hp_log(LOG_WARNING, "reader %s: the card did not answer within "
		    "%ums; no insertion actions", d->ev.reader,
		    m->ctx->conf->card_timeout_ms);
	}
}

int64_t
mc_timers(struct mon *m, int64_t now, int64_t next)
{
	struct dev *d;
	size_t i;

	for (i = 0; i < HP_DEV_MAX; i++) {
		d = &m->dev[i];
		if (!d->used || !d->is_card)
			continue;
		probe_timers(m, d, now);
		if (d->probe_at != 0 && d->probe_at < next)
			next = d->probe_at;
		if (d->probe > 0 && d->probe_deadline < next)
			next = d->probe_deadline;
	}
	if (m->snap != NULL && m->watch_fd == -1 && m->watch_retry_at != 0) {
		if (m->watch_retry_at <= now)
			(void)watch_begin(m);
		if (m->watch_retry_at != 0 && m->watch_retry_at < next)
			next = m->watch_retry_at;
	}
	return next;
}

int
mc_udev_add(struct mon *m, struct dev *d)
{
	struct dev *c;

	if (!m->pcsc_up)
		return 0;
	c = card_of_usb(m, &d->ev);
	hp_log(LOG_INFO, "add %s: insertion actions wait for its card to "
	    "answer over PC/SC%s", d->ev.syspath, c != NULL && c->present ?
	    " (its reader is there)" : "");
	d->insert_at = 0;
	return 1;
}

int
mc_udev_remove(struct mon *m, struct dev *d, const struct hp_event *ev)
{
	struct dev *c;

	if ((c = card_of_usb(m, ev)) == NULL)
		return 0;	/* no card known for it: the udev path locks */
	if (!c->present) {
		hp_log(LOG_INFO, "remove %s: already acted on through PC/SC "
		    "(reader %s), coalesced", d->ev.syspath, c->ev.reader);
		m->dups++;
		return 1;
	}
	hp_log(LOG_INFO, "remove %s: the card in reader %s went with it",
	    d->ev.syspath, c->ev.reader);
	card_out(m, c->rname);
	return 1;
}

void
mc_dump(const struct mon *m)
{
	hp_log(LOG_INFO, "state: PC/SC %s, %u readers, %lu cards came, %lu "
	    "went, %lu did not answer in time", m->pcsc_up ? "watched" :
	    "not watched", m->snap != NULL ? m->snap->n : 0, m->cards_in,
	    m->cards_out, m->probes_late);
}
