/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * monitor.h - nkhsm-hotplug --monitor's state, shared by its udev side
 * (monitor.c) and its PC/SC side (moncards.c). Not installed.
 */
#ifndef NK_MONITOR_H
#define NK_MONITOR_H

#include <sys/types.h>

#include <stdint.h>

#include "nkhsm.h"
#include "hotplug.h"

#define KIDS_MAX	64
#define LOCKED_MAX	256		/* sessions one worker escalates */
#define KILL_GRACE_MS	1000
#define WORKER_MS	30000		/* a lock round's budget, plus grace */
#define NEVER		INT64_MAX
#define KEY_MAX		(NKHSM_READER_NAME_MAX + 32)

/*
 * A token: a USB device (key: its syspath) or a card in a PC/SC reader
 * (key: "reader:", the card's number, ':' and the reader's name).
 */
struct dev {
	int		used;
	int		present;
	int		removed;	/* its removal was acted on */
	int		want_lock;	/* removed in this batch */
	int64_t		insert_at;	/* 0: no insertion pending */
	int64_t		lock_at;	/* 0: no deferred lock round */
	int64_t		last_lock;
	pid_t		worker;		/* its lock round, if running */
	int64_t		worker_deadline;
	int		again;		/* removed again while it ran */
	struct hp_event	ev;		/* syspath, serial */
	char		key[KEY_MAX];
	/* Cards only. */
	int		is_card;
	int		initial;	/* there at start: no actions */
	char		rname[NKHSM_READER_NAME_MAX];	/* raw, for pcscd */
	char		usb[HP_SERIAL_MAX + 1];	/* its reader's USB serial */
	int64_t		probe_at;	/* 0: no probe due */
	pid_t		probe;		/* reading its serial, if running */
	int64_t		probe_deadline;
};

struct kid {
	pid_t		pid;
	int64_t		deadline;
	int		stage;		/* 0 running, 1 TERM sent, 2 KILL */
	char		what[128];
};

struct mon {
	struct hp_ctx		*ctx;
	const char		*conf_path;
	struct udev		*udev;
	struct udev_monitor	*um;
	int			 sfd;
	struct dev		 dev[HP_DEV_MAX];
	struct kid		 kid[KIDS_MAX];
	unsigned long		 events, ignored, dups, rounds, deferred;
	/* PC/SC (moncards.c). */
	pid_t			 watch_pid;
	int			 watch_fd;
	int			 pcsc_up;	/* a snapshot came, none failed */
	int			 pcsc_said;	/* its absence was logged */
	int64_t			 watch_retry_at;	/* 0: none due */
	int64_t			 watch_backoff_ms;
	int			 probe_rd, probe_wr;	/* the probes' pipe */
	struct hp_snapshot	*snap;		/* the last; NULL: none yet */
	unsigned long		 cards_in, cards_out, probes_late;
};

struct dev *dev_find(struct mon *m, const char *key, int create);
void present_set(const struct mon *m, struct hp_present *p, const char *skip);

/* moncards.c */
int mc_start(struct mon *m);
void mc_stop(struct mon *m);
void mc_watch_ready(struct mon *m, int64_t now);
void mc_probe_ready(struct mon *m);
int64_t mc_timers(struct mon *m, int64_t now, int64_t next);
/*
 * A udev event of a Nitrokey HSM while PC/SC is watched: 1 when it was
 * taken care of there (an insertion waits for the card; a removal goes
 * with its card's), 0 when the udev path acts on its own.
 */
int mc_udev_add(struct mon *m, struct dev *d);
int mc_udev_remove(struct mon *m, struct dev *d, const struct hp_event *ev);
void mc_dump(const struct mon *m);

#endif /* NK_MONITOR_H */
