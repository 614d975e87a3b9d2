/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nkhsm-hotplug - act on Nitrokey HSM insertion and removal.
 *
 *	nkhsm-hotplug [options] add|remove [SYSPATH]	one event
 *	nkhsm-hotplug [options] --monitor		a daemon (no systemd)
 *	nkhsm-hotplug [options] --check-config
 *
 * With SYSPATH (the systemd unit passes %I) the device is looked up in
 * udev; without, the event comes from the environment (udev RUN+=). The
 * add run waits for the token's card to answer over PC/SC (when pcscd
 * runs) and remembers its serial, and the USB serial, under RUNDIR/hotplug,
 * because on remove the device, and with it its properties, is gone.
 *
 * hp_main is the program; main() (hotplug-main.c) only calls it, so that a
 * test build can first put its own PC/SC table under libnkhsm.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <libudev.h>

#include "nkhsm.h"
#include "nk-int.h"
#include "hotplug.h"

#define DEDUP_MS	2000	/* a second add of the same token within this */
#define STATE_MAX	512
#define PIDS_MAX	(3 * HP_EXEC_MAX + HP_EXEC_MAX * 64)

extern char **environ;

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: nkhsm-hotplug [--config FILE] [--dry-run] [--stderr] "
	    "[--verbose]\n"
	    "                     add|remove [SYSPATH] | --monitor | "
	    "--check-config\n"
	    "       nkhsm-hotplug --version | --help\n");
}

static int
exit_for(int r)
{
	return r == NKHSM_ERR_PERMISSION ? HP_EXIT_UNSAFE : HP_EXIT_CONFIG;
}

static void
sleep_ms(unsigned int ms)
{
	struct timespec ts;

	ts.tv_sec = ms / 1000;
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* RUNDIR and RUNDIR/hotplug: as hp_rundir_check says, made if missing. */
static int
state_dir(const struct hp_conf *c, char *out, size_t outlen)
{
	char why[HP_PATH_MAX + 128];

	why[0] = '\0';
	if ((size_t)snprintf(out, outlen, "%s/hotplug", c->rundir) >= outlen ||
	    (mkdir(c->rundir, 0755) == -1 && errno != EEXIST) ||
	    hp_rundir_check(c->rundir, why, sizeof(why)) != 0 ||
	    (mkdir(out, 0700) == -1 && errno != EEXIST) ||
	    hp_rundir_check(out, why, sizeof(why)) != 0) {
		hp_log(LOG_ERR, "%s: %s; no state kept there", c->rundir,
		    why[0] != '\0' ? why : strerror(errno));
		return -1;
	}
	return 0;
}

/* The state file of a device: its validated syspath with '/' as '='. */
static int
state_path(const char *dir, const char *syspath, char *out, size_t outlen)
{
	char name[HP_SYSPATH_MAX + 1];
	size_t i;

	for (i = 0; syspath[i] != '\0' && i < HP_SYSPATH_MAX; i++)
		name[i] = syspath[i] == '/' ? '=' : syspath[i];
	name[i] = '\0';
	if ((size_t)snprintf(out, outlen, "%s/dev%s", dir, name) >= outlen)
		return -1;
	return 0;
}

/* "serial=USB\n" and, once its card answered, "card=SERIAL\n". */
static int
state_read(const char *path, char *serial, size_t seriallen, char *card,
    size_t cardlen, int64_t *agep)
{
	char buf[STATE_MAX + 1], *nl;
	struct timespec now;
	struct stat st;
	ssize_t n;
	int fd;

	serial[0] = '\0';
	card[0] = '\0';
	*agep = INT64_MAX;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)) ==
	    -1)
		return -1;
	if (nkhsm_file_check(fd, path, -1, NULL, 0) != 0 || fstat(fd, &st) != 0 ||
	    (n = read(fd, buf, STATE_MAX)) <= 0) {
		close(fd);
		return -1;
	}
	close(fd);
	buf[n] = '\0';
	if (strncmp(buf, "serial=", 7) != 0)
		return -1;
	nl = buf + strcspn(buf, "\n");
	if (*nl == '\n' && strncmp(nl + 1, "card=", 5) == 0) {
		nl[1 + 5 + strcspn(nl + 1 + 5, "\n")] = '\0';
		(void)hp_sanitize(nl + 1 + 5, card, cardlen);
	}
	*nl = '\0';
	(void)hp_sanitize(buf + 7, serial, seriallen);
	if (clock_gettime(CLOCK_REALTIME, &now) == 0)
		*agep = ((int64_t)now.tv_sec - st.st_mtim.tv_sec) * 1000 +
		    (now.tv_nsec - st.st_mtim.tv_nsec) / 1000000;
	return 0;
}

static int
state_write(const char *path, const char *serial, const char *card)
{
	char tmp[HP_PATH_MAX + HP_SYSPATH_MAX + 32], buf[STATE_MAX];
	int fd, n;

	n = snprintf(buf, sizeof(buf), "serial=%s\n%s%s%s", serial,
	    card[0] != '\0' ? "card=" : "", card, card[0] != '\0' ? "\n" : "");
	if (n < 0 || (size_t)n >= sizeof(buf) ||
	    (size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp))
		return -1;
	(void)unlink(tmp);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1)
		return -1;
	if (write(fd, buf, (size_t)n) != n || close(fd) != 0 ||
	    rename(tmp, path) != 0) {
		(void)unlink(tmp);
		return -1;
	}
	return 0;
}

/* Children of a one-shot run, waited for before it exits. */
struct pidlist {
	size_t	n;
	pid_t	pid[PIDS_MAX];
};

static int
collect(void *arg, pid_t pid, const char *what)
{
	struct pidlist *pl = arg;

	if (pl->n >= PIDS_MAX) {
		hp_kill_group(pid, SIGKILL);
		return NKHSM_ERR_TOO_LARGE;
	}
	pl->pid[pl->n++] = pid;
	return 0;
}

static int
event_from_device(const char *syspath, const char *action,
    struct hp_event *ev, char *why, size_t whylen)
{
	struct udev *udev;
	struct udev_device *d;
	struct hp_props p;
	int r = -1;

	if ((udev = udev_new()) == NULL)
		return -1;
	if ((d = udev_device_new_from_syspath(udev, syspath)) == NULL) {
		nk_errf(why, whylen, "no such device");
		udev_unref(udev);
		return 1;
	}
	memset(&p, 0, sizeof(p));
	p.action = action;
	p.subsystem = udev_device_get_subsystem(d);
	p.devtype = udev_device_get_devtype(d);
	p.product = udev_device_get_property_value(d, "PRODUCT");
	p.devpath = udev_device_get_devpath(d);
	p.serial = udev_device_get_property_value(d, "ID_SERIAL_SHORT");
	if (p.serial == NULL)
		p.serial = udev_device_get_sysattr_value(d, "serial");
	r = hp_event_classify(&p, ev, why, whylen);
	udev_device_unref(d);
	udev_unref(udev);
	return r;
}

/*
 * The insertion actions run when the token's card answers over PC/SC,
 * with the card's serial, which is kept for the removal. Without pcscd
 * they run on the USB event, as they always did.
 */
static int
await_card(const struct hp_conf *c, struct hp_event *ev, const char *spath)
{
	char usb[HP_SERIAL_MAX + 1], e[HP_SERIAL_MAX * 4 + 8];
	int r;

	memcpy(usb, ev->serial, sizeof(usb));
	if ((r = hp_card_of_device(c, ev)) == 1) {
		hp_log(LOG_NOTICE, "add %s: pcscd is not reachable; acting on "
		    "the USB event", ev->syspath);
		return 0;
	}
	if (r != 0) {
		hp_log(LOG_WARNING, "add %s: no card answered over PC/SC within "
		    "%ums (%s); no insertion actions", ev->syspath,
		    c->card_timeout_ms, r == NKHSM_ERR_NO_TOKEN ?
		    "no reader is named after its USB serial" :
		    nkhsm_strerror(r));
		return -1;
	}
	hp_log(LOG_INFO, "add %s: card serial '%s' answered in reader %s",
	    ev->syspath, hp_esc(ev->serial, e, sizeof(e)), ev->reader);
	if (spath[0] != '\0' && state_write(spath, usb, ev->serial) != 0)
		hp_log(LOG_WARNING, "add %s: cannot record the card's serial; "
		    "its removal will use serial_match", ev->syspath);
	return 0;
}

static int
oneshot(struct hp_ctx *ctx, enum hp_action verb, const char *syspath)
{
	const struct hp_conf *c = ctx->conf;
	struct hp_session locked[256];
	struct hp_present present;
	struct pidlist *pl = NULL;
	struct hp_event ev;
	struct stat st;
	char why[256], dir[HP_PATH_MAX + 16], spath[2 * HP_PATH_MAX];
	char rate[HP_PATH_MAX + 32], e[HP_SYSPATH_MAX * 4 + 8];
	char old[HP_SERIAL_MAX + 1], oldcard[HP_SERIAL_MAX + 1];
	int64_t age;
	size_t nlocked = 0;
	int r, failed = 0, have_state = 0;

	memset(&ev, 0, sizeof(ev));
	if (syspath != NULL) {
		if (!hp_syspath_valid(syspath)) {
			fprintf(stderr, "nkhsm-hotplug: %s: not a /sys/devices "
			    "path\n", hp_esc(syspath, e, sizeof(e)));
			return HP_EXIT_USAGE;
		}
		if (verb == HP_EV_ADD) {
			r = event_from_device(syspath, "add", &ev, why,
			    sizeof(why));
			if (r != 0) {
				hp_log(r < 0 ? LOG_WARNING : LOG_INFO, "add %s "
				    "ignored: %s", syspath, why);
				return r < 0 ? HP_EXIT_FAIL : HP_EXIT_OK;
			}
		} else {
			if (stat(syspath, &st) == 0) {
				hp_log(LOG_INFO, "remove %s: the device is still "
				    "present; not a removal", syspath);
				return HP_EXIT_OK;
			}
			ev.action = HP_EV_REMOVE;
			snprintf(ev.syspath, sizeof(ev.syspath), "%s", syspath);
		}
	} else {
		if ((r = hp_event_from_env(environ, &ev, why,
		    sizeof(why))) != 0) {
			hp_log(r < 0 ? LOG_WARNING : LOG_DEBUG, "event from the "
			    "environment ignored: %s", why);
			return r < 0 ? HP_EXIT_FAIL : HP_EXIT_OK;
		}
		if (ev.action != verb) {
			fprintf(stderr, "nkhsm-hotplug: ACTION=%s does not "
			    "match '%s'\n", hp_action_name(ev.action),
			    hp_action_name(verb));
			return HP_EXIT_USAGE;
		}
	}
	/* Without a safe state directory: no memory, but still lock. */
	spath[0] = '\0';
	if (!ctx->dry_run && state_dir(c, dir, sizeof(dir)) == 0 &&
	    state_path(dir, ev.syspath, spath, sizeof(spath)) == 0) {
		snprintf(rate, sizeof(rate), "%s/rate", dir);
		ctx->rate_file = rate;
		have_state = state_read(spath, old, sizeof(old), oldcard,
		    sizeof(oldcard), &age) == 0;
	} else if (!ctx->dry_run)
		failed = 1;
	if ((pl = calloc(1, sizeof(*pl))) == NULL)
		return HP_EXIT_FAIL;
	ctx->on_spawn = collect;
	ctx->spawn_arg = pl;
	if (verb == HP_EV_REMOVE) {
		if (ev.serial[0] == '\0' && have_state)
			memcpy(ev.serial, old, sizeof(ev.serial));
		/* Its card answered at insertion: that serial names it. */
		if (have_state && oldcard[0] != '\0') {
			memcpy(ev.serial, oldcard, sizeof(ev.serial));
			ev.serial_altered = 0;
			ev.card = 1;
		}
		if (hp_enumerate(&present, ev.syspath) < 0) {
			hp_log(LOG_WARNING, "remove %s: cannot enumerate the "
			    "tokens still present", ev.syspath);
			memset(&present, 0, sizeof(present));
		}
		if (hp_do_remove(ctx, &ev, &present, HP_DO_LOCK | HP_DO_ACTIONS,
		    locked, 256, &nlocked) != 0)
			failed = 1;
		if (spath[0] != '\0')
			(void)unlink(spath);
		if (c->escalate == HP_ESCALATE_TERMINATE && nlocked > 0) {
			sleep_ms(c->grace_ms);
			if (hp_do_escalate(ctx, locked, nlocked) != 0)
				failed = 1;
		} else if (ctx->dry_run && c->escalate == HP_ESCALATE_TERMINATE)
			hp_plan("terminate the locked sessions still unlocked "
			    "after %ums", c->grace_ms);
	} else {
		if (have_state && strcmp(old, ev.serial) == 0 && age >= 0 &&
		    age < DEDUP_MS) {
			hp_log(LOG_INFO, "add %s: duplicate within %dms, "
			    "coalesced", ev.syspath, DEDUP_MS);
			goto out;
		}
		/* A serial that had to be altered names nothing later. */
		if (!ctx->dry_run && (spath[0] == '\0' || state_write(spath,
		    ev.serial_altered ? "" : ev.serial, "") != 0))
			hp_log(LOG_WARNING, "add %s: cannot record the serial; "
			    "its removal will use serial_match absent",
			    ev.syspath);
		if (ctx->dry_run) {
			hp_plan("wait %ums for the token to settle",
			    c->settle_ms);
			hp_plan("wait up to %ums for its card to answer over "
			    "PC/SC, if pcscd runs", c->card_timeout_ms);
		} else {
			sleep_ms(c->settle_ms);
			if (stat(ev.syspath, &st) != 0) {
				hp_log(LOG_INFO, "add %s: gone within settle, "
				    "no insertion actions", ev.syspath);
				goto out;
			}
			if (await_card(c, &ev, spath) != 0) {
				failed = 1;
				goto out;
			}
		}
		if (hp_do_insert(ctx, &ev) != 0)
			failed = 1;
	}
	if (pl->n > 0 && hp_wait_children(pl->pid, pl->n, c->timeout_ms) != 0)
		failed = 1;
 out:
	free(pl);
	return failed ? HP_EXIT_FAIL : HP_EXIT_OK;
}

/*
 * --check-config: a run directory whose records would not be believed at
 * run time is an error now, not at the first removal. A missing one is
 * made when needed.
 */
static int
check_rundir(const struct hp_conf *c)
{
	char why[HP_PATH_MAX + 128];
	int r;

	if ((r = hp_rundir_check(c->rundir, why, sizeof(why))) == 0 || r == 1)
		return HP_EXIT_OK;
	if (c->rundir_line != 0)
		fprintf(stderr, "nkhsm-hotplug: %s:%zu: rundir: %s; session "
		    "records there would not be trusted\n", c->name,
		    c->rundir_line, why);
	else
		fprintf(stderr, "nkhsm-hotplug: %s: rundir (default): %s; "
		    "session records there would not be trusted\n", c->name,
		    why);
	return exit_for(r);
}

static void
print_summary(const struct hp_conf *c)
{
	printf("%s: OK%s\n", c->name, c->defaults ?
	    " (no such file: the built-in defaults)" : "");
	printf("on_remove %s, serial_match %s, escalate %s after %ums\n",
	    hp_on_remove_name(c->on_remove), hp_match_name(c->serial_match),
	    c->escalate == HP_ESCALATE_TERMINATE ? "terminate" : "none",
	    c->grace_ms);
	printf("settle %ums, card_timeout %ums, lock_interval %ums, timeout "
	    "%ums, rate_limit %u/%ums, max_children %u\n", c->settle_ms,
	    c->card_timeout_ms, c->lock_interval_ms, c->timeout_ms,
	    c->rate_count, c->rate_window_ms, c->max_children);
	printf("%zu insert_exec, %zu remove_exec, %zu user_exec, %zu owners; "
	    "actions run as %s; rundir %s\n", c->n_insert, c->n_remove,
	    c->n_user, c->n_owners, c->run_as[0] ? c->run_as : "root",
	    c->rundir);
}

int
hp_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config",		required_argument,	NULL, 'c' },
		{ "dry-run",		no_argument,		NULL, 'n' },
		{ "stderr",		no_argument,		NULL, 'e' },
		{ "verbose",		no_argument,		NULL, 'v' },
		{ "monitor",		no_argument,		NULL, 'm' },
		{ "check-config",	no_argument,		NULL, 'C' },
		{ "version",		no_argument,		NULL, 'V' },
		{ "help",		no_argument,		NULL, 'h' },
		{ NULL,			0,			NULL, 0 },
	};
	struct hp_ctx ctx;
	const char *conf_path = NULL, *syspath = NULL;
	char err[1024];
	enum hp_action verb = HP_EV_NONE;
	int ch, dry_run = 0, to_stderr = 0, verbose = 0, monitor = 0,
	    check = 0, r, rc;

	while ((ch = getopt_long(argc, argv, "c:nevmh", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			conf_path = optarg;
			break;
		case 'n':
			dry_run = 1;
			break;
		case 'e':
			to_stderr = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'm':
			monitor = 1;
			break;
		case 'C':
			check = 1;
			break;
		case 'V':
			printf("nkhsm-hotplug %s\n", PACKAGE_VERSION);
			return HP_EXIT_OK;
		case 'h':
			usage(stdout);
			return HP_EXIT_OK;
		default:
			usage(stderr);
			return HP_EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (monitor + check + (argc > 0) != 1) {
		usage(stderr);
		return HP_EXIT_USAGE;
	}
	if (argc > 0) {
		if (strcmp(argv[0], "add") == 0)
			verb = HP_EV_ADD;
		else if (strcmp(argv[0], "remove") == 0)
			verb = HP_EV_REMOVE;
		if (verb == HP_EV_NONE || argc > 2) {
			usage(stderr);
			return HP_EXIT_USAGE;
		}
		syspath = argc == 2 ? argv[1] : NULL;
	}
	hp_log_open(to_stderr, verbose);
	memset(&ctx, 0, sizeof(ctx));
	if ((r = hp_conf_load(conf_path, &ctx.conf, err, sizeof(err))) != 0) {
		fprintf(stderr, "nkhsm-hotplug: %s\n", err);
		if (!to_stderr)
			hp_log(LOG_ERR, "%s", err);
		return exit_for(r);
	}
	if (check) {
		if ((rc = check_rundir(ctx.conf)) == HP_EXIT_OK)
			print_summary(ctx.conf);
		hp_conf_free(&ctx.conf);
		return rc;
	}
	if (geteuid() != 0 && !dry_run)
		hp_log(LOG_WARNING, "not running as root: locking and user "
		    "actions will likely fail");
	ctx.dry_run = dry_run;
	hp_rate_init(&ctx.rate, ctx.conf->rate_count, ctx.conf->rate_window_ms);
	if (monitor)
		rc = hp_monitor(&ctx, conf_path) == 0 ? HP_EXIT_OK :
		    HP_EXIT_FAIL;
	else
		rc = oneshot(&ctx, verb, syspath);
	hp_conf_free(&ctx.conf);
	return rc;
}
