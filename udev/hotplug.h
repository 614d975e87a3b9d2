/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * hotplug.h - nkhsm-hotplug: act on Nitrokey HSM insertion and removal.
 *
 * The pure parts (config, event and record parsers, logind reply parsing,
 * serial matching, rate limiting) take text and return structures, so the
 * unit tests and fuzzers reach them without udev, D-Bus or a token. The
 * I/O parts (monitor, child processes, logind calls) sit on top.
 *
 * Device strings are untrusted: a USB device chooses its own serial. They
 * are sanitized on entry (hp_sanitize) and only ever reach an action as an
 * NKHSM_* environment variable of an execve'd program; never a shell, never
 * an argument, never a file name.
 */
#ifndef NK_HOTPLUG_H
#define NK_HOTPLUG_H

#include <sys/types.h>

#include <stddef.h>
#include <stdint.h>

#include "nkhsm.h"

/* The Nitrokey HSM's USB id (kernel PRODUCT "20a0/4230/<bcdDevice>"). */
#define HP_VENDOR_ID		0x20a0
#define HP_PRODUCT_ID		0x4230

/* Caps on everything that comes from outside. */
#define HP_SERIAL_MAX		64	/* sanitized serial */
#define HP_SYSPATH_MAX		255	/* "/sys/devices/..." */
#define HP_USER_MAX		32	/* user name */
#define HP_SESSION_ID_MAX	64	/* logind session id */
#define HP_OWNER_MAX		128	/* NKHSM_OWNER: users joined by ',' */
#define HP_PATH_MAX		1024	/* configured paths */
#define HP_ARGV_MAX		16	/* arguments of one action, with argv[0] */
#define HP_ARG_MAX		256	/* bytes of one argument */
#define HP_EXEC_MAX		8	/* actions of one kind */
#define HP_OWNERS_MAX		64	/* owner lines */
#define HP_ENV_MAX		1024	/* environment entries read */
#define HP_ENV_ENTRY_MAX	4096	/* bytes of one environment entry */
#define HP_RECORD_SIZE_MAX	4096	/* one session record */
#define HP_RECORDS_MAX		1024	/* session records read */
#define HP_SESSIONS_MAX		1024	/* logind sessions read */
#define HP_REPLY_MAX		(256 * 1024)	/* dbus-send output */
#define HP_DEV_MAX		64	/* tokens tracked by --monitor */
#define HP_RATE_MAX		1000	/* largest rate limit count */
#define HP_READER_MAX		128	/* sanitized PC/SC reader name */
#define HP_READERS_MAX		16	/* PC/SC readers watched */

/* Exit codes (documented in nkhsm-hotplug(8)). */
#define HP_EXIT_OK		0
#define HP_EXIT_FAIL		1	/* a lock or an action failed */
#define HP_EXIT_USAGE		2
#define HP_EXIT_CONFIG		3	/* invalid configuration */
#define HP_EXIT_UNSAFE		4	/* unsafe owner or mode of a file */

#define HP_DEFAULT_CONF		NKHSM_SYSCONFDIR "/nkhsm/hotplug.conf"
#define HP_DEFAULT_RUNDIR	"/run/nkhsm"
#define HP_DEFAULT_DBUS_SEND	"/usr/bin/dbus-send"

/* Events. */
enum hp_action {
	HP_EV_NONE = 0,
	HP_EV_ADD,
	HP_EV_REMOVE,
};

struct hp_event {
	enum hp_action	action;
	char		syspath[HP_SYSPATH_MAX + 1];	/* validated */
	char		serial[HP_SERIAL_MAX + 1];	/* sanitized; "" unknown */
	int		serial_altered;	/* sanitizing changed or cut it */
	unsigned long long seqnum;
	/* A card in a PC/SC reader (cards.c): syspath is its USB device's, if
	 * known, and serial the one the card itself gave when it answered. */
	char		reader[HP_READER_MAX + 1];	/* sanitized; "" udev */
	int		card;		/* serial read from the card */
};
/* What a log line calls the event's token: its syspath, else its reader. */
const char *hp_event_what(const struct hp_event *ev);

/* The udev properties an event is made of (NULL: absent). */
struct hp_props {
	const char	*action;
	const char	*subsystem;
	const char	*devtype;
	const char	*product;
	const char	*devpath;
	const char	*serial;	/* ID_SERIAL_SHORT, else ATTR{serial} */
	const char	*seqnum;
};

/*
 * Classify an event. 0: a Nitrokey HSM add/remove, *ev filled; 1: another
 * device or action, ignored (why says which); -1: malformed (why says how).
 */
int hp_event_classify(const struct hp_props *p, struct hp_event *ev,
    char *why, size_t whylen);
/* The same from an environment block (udev RUN+= or systemd). */
int hp_event_from_env(char *const *envp, struct hp_event *ev,
    char *why, size_t whylen);
const char *hp_action_name(enum hp_action a);
/* "/sys/devices/..." with a conservative character set, no "." parts. */
int hp_syspath_valid(const char *s);

/* Strings. */
/* Keep [A-Za-z0-9._:-], replace other bytes by '_', cut at outlen - 1. */
int hp_sanitize(const char *in, char *out, size_t outlen);
/* A user name as logind and NSS print them: [A-Za-z0-9._-], '$' last. */
int hp_user_valid(const char *s);
int hp_session_id_valid(const char *s);
/* Escape untrusted bytes for a log line: \xNN for all but printable ASCII. */
const char *hp_esc(const char *s, char *buf, size_t buflen);
/* "500ms", "2s" -> milliseconds; max_ms caps it. */
int hp_parse_duration(const char *s, unsigned int max_ms, unsigned int *msp);
int64_t hp_now_ms(void);

/*
 * Serial matching between a session record (or an owner line) and a
 * device: always exact. A device chooses its own serial, so matching by
 * prefix would let one that claims a longer or shorter serial stand for
 * another token.
 */
enum hp_match {
	HP_MATCH_ABSENT = 0,	/* lock what no present token matches */
	HP_MATCH_EXACT,		/* lock what the removed token's serial names */
};
/*
 * 1 when serial (a record's or an owner line's) names the device: both
 * known and equal. A device serial that had to be sanitized or cut
 * (dev_altered) names nothing.
 */
int hp_serial_same(const char *serial, const char *dev_serial,
    int dev_altered);

/* The Nitrokey HSMs that are present (for HP_MATCH_ABSENT). */
struct hp_present {
	size_t	n;
	struct {
		char	syspath[HP_SYSPATH_MAX + 1];
		char	serial[HP_SERIAL_MAX + 1];
		int	serial_altered;
	} dev[HP_DEV_MAX];
};
/*
 * Does the removal of ev bind a record with this serial? present lists the
 * tokens still attached (without ev's device).
 */
int hp_record_bound(enum hp_match mode, const char *record_serial,
    const struct hp_event *ev, const struct hp_present *present);

/* Configuration. */
enum hp_on_remove {
	HP_REMOVE_LOCK_TOKEN = 0,
	HP_REMOVE_LOCK_OWNER,
	HP_REMOVE_NONE,
};

enum hp_escalate {
	HP_ESCALATE_NONE = 0,
	HP_ESCALATE_TERMINATE,
};

struct hp_exec {
	char	*argv[HP_ARGV_MAX + 1];
	size_t	 argc;
	size_t	 line;
};

struct hp_owner {
	char	serial[HP_SERIAL_MAX + 1];
	char	user[HP_USER_MAX + 1];
	size_t	line;
};

struct hp_conf {
	char			 name[HP_PATH_MAX];	/* for messages */
	int			 defaults;	/* no file: built-in values */
	enum hp_on_remove	 on_remove;
	enum hp_match		 serial_match;
	enum hp_escalate	 escalate;
	unsigned int		 grace_ms;
	unsigned int		 settle_ms;
	unsigned int		 card_timeout_ms;
	unsigned int		 lock_interval_ms;
	unsigned int		 timeout_ms;
	unsigned int		 rate_count;
	unsigned int		 rate_window_ms;
	unsigned int		 max_children;
	char			 run_as[HP_USER_MAX + 1];	/* "": root */
	size_t			 run_as_line;
	char			 rundir[HP_PATH_MAX];
	size_t			 rundir_line;	/* 0: the default */
	char			 dbus_send[HP_PATH_MAX];
	size_t			 dbus_send_line;
	struct hp_exec		 insert_exec[HP_EXEC_MAX];
	size_t			 n_insert;
	struct hp_exec		 remove_exec[HP_EXEC_MAX];
	size_t			 n_remove;
	struct hp_exec		 user_exec[HP_EXEC_MAX];
	size_t			 n_user;
	struct hp_owner		 owners[HP_OWNERS_MAX];
	size_t			 n_owners;
	size_t			 seen[32];	/* line of each single key */
};

#define HP_CONF_SIZE_MAX	(64 * 1024)
#define HP_CONF_LINE_MAX	1024

/* Parse text; no file system access. Errors are "NAME:LINE: reason". */
int hp_conf_parse(const char *name, const char *text, size_t len,
    struct hp_conf **confp, char *err, size_t errlen);
/*
 * Load and check a file: root-owned, not group/world-writable, in safe
 * directories; every action executable exists with the same rules;
 * run_as names a user. path NULL: the default, whose absence means the
 * defaults. Returns 0, NKHSM_ERR_CONFIG, NKHSM_ERR_PERMISSION, ...
 */
int hp_conf_load(const char *path, struct hp_conf **confp, char *err,
    size_t errlen);
void hp_conf_free(struct hp_conf **confp);
const char *hp_on_remove_name(enum hp_on_remove v);
const char *hp_match_name(enum hp_match v);

/* A path whose every directory is root's and not writable by others
 * (sticky directories such as /tmp excepted) and whose file is root's,
 * regular and not group/world-writable. want_exec: also executable. */
int hp_check_path(const char *path, int want_exec, char *err, size_t errlen);
/*
 * The run directory (session records, hotplug state): a directory, not a
 * link, root's and not writable by group or others, below directories
 * that hp_check_path accepts. 0: safe; 1: it does not exist; else an
 * error code, the reason in err.
 */
int hp_rundir_check(const char *dir, char *err, size_t errlen);

/* pam_nkhsm's session records. */
struct hp_record {
	char	file[80];			/* its name in the rundir */
	char	user[HP_USER_MAX + 1];
	char	session_id[HP_SESSION_ID_MAX + 1];	/* "" unknown */
	char	serial[HP_SERIAL_MAX + 1];	/* sanitized */
	long	pid;
};

int hp_record_parse(const char *text, size_t len, struct hp_record *rec,
    char *why, size_t whylen);
/*
 * Read every trusted record in rundir (root-owned, regular, not a link,
 * not group/world-writable, in a root-owned directory that is not
 * group/world-writable). A missing rundir is no records. Records that
 * are skipped are logged unless quiet.
 */
int hp_records_load(const char *rundir, int quiet, struct hp_record **recsp,
    size_t *np, char *err, size_t errlen);

/* logind through dbus-send. */
struct hp_session {
	char		id[HP_SESSION_ID_MAX + 1];
	unsigned long	uid;
	char		user[HP_USER_MAX + 1];
};

int hp_logind_parse_sessions(const char *text, size_t len,
    struct hp_session **sessp, size_t *np);
int hp_logind_parse_bool(const char *text, size_t len, int *valp);
int hp_logind_parse_path(const char *text, size_t len, char *out,
    size_t outlen);
int hp_logind_list(const struct hp_conf *conf, struct hp_session **sessp,
    size_t *np);
/* method: "LockSession" or "TerminateSession". */
int hp_logind_call(const struct hp_conf *conf, const char *method,
    const char *id);
int hp_logind_locked(const struct hp_conf *conf, const char *id,
    int *lockedp);

/* Child processes. */
/* Run argv with envp, capture stdout+stderr (capped), kill after timeout. */
int hp_run_capture(const char *path, char *const argv[], char *const envp[],
    unsigned int timeout_ms, char **outp, size_t *lenp, int *statusp);
/* What an action learns about the event, all sanitized. */
struct hp_action_env {
	const char	*event;
	const char	*serial;
	const char	*syspath;
	const char	*owner;
	const char	*reader;
};
/*
 * Start an action: clean environment, fds above 2 closed, stdin /dev/null,
 * own session and process group, the given user (NULL: stay root) with no
 * new privileges. Does not wait.
 */
int hp_spawn(const struct hp_exec *ex, const struct hp_action_env *ae,
    const char *user, pid_t *pidp);
/* Wait for pids until each exits or the deadline; kill groups past it. */
int hp_wait_children(pid_t *pids, size_t n, unsigned int timeout_ms);
void hp_kill_group(pid_t pid, int sig);
/* 1: pid exited and was reaped (its group killed first); 0: running. */
int hp_reap(pid_t pid, int *statusp);
/* Close every descriptor from lowfd up (in a child). */
void hp_close_from(int lowfd);

/* Rate limit: at most count starts in any window. */
struct hp_rate {
	unsigned int	count;
	unsigned int	window_ms;
	size_t		n;
	int64_t		stamp[HP_RATE_MAX];
};
void hp_rate_init(struct hp_rate *r, unsigned int count,
    unsigned int window_ms);
/* 1: allowed and counted; 0: over the limit. */
int hp_rate_take(struct hp_rate *r, int64_t now);
/* The same, shared by one-shot runs through a locked file. */
int hp_rate_take_file(const char *path, unsigned int count,
    unsigned int window_ms, int64_t now);

/* Decisions and their execution. */
struct hp_ctx {
	struct hp_conf	*conf;
	int		 dry_run;
	struct hp_rate	 rate;
	const char	*rate_file;	/* one-shot: a shared limit */
	/* Spawned children are reported here (monitor tracks them). */
	int		(*on_spawn)(void *arg, pid_t pid, const char *what);
	void		*spawn_arg;
	size_t		 running;	/* children still running */
};

/* Lock what the removal binds (HP_DO_LOCK), run the remove actions
 * (HP_DO_ACTIONS). locked receives the ids locked (for escalation), at
 * most maxlocked. */
#define HP_DO_LOCK	0x01
#define HP_DO_ACTIONS	0x02
int hp_do_remove(struct hp_ctx *ctx, const struct hp_event *ev,
    const struct hp_present *present, int what, struct hp_session *locked,
    size_t maxlocked, size_t *nlockedp);
/* Terminate the sessions that are still not locked. */
int hp_do_escalate(struct hp_ctx *ctx, const struct hp_session *locked,
    size_t n);
int hp_do_insert(struct hp_ctx *ctx, const struct hp_event *ev);

/* The program: nkhsm-hotplug's main(). */
int hp_main(int argc, char **argv);

/* The monitor (--monitor). */
int hp_monitor(struct hp_ctx *ctx, const char *conf_path);
/* Present Nitrokey HSMs per udev, without skip (may be NULL). */
int hp_enumerate(struct hp_present *present, const char *skip);

/*
 * Cards over PC/SC (cards.c). pcscd is asked through libnkhsm only, and
 * always from child processes: a watcher that reports the readers each
 * time they change, and probes that read one card's serial, each under a
 * deadline, so that a card that stops answering holds up nothing else.
 */
struct hp_snapshot {
	uint32_t	magic;
	int32_t		err;		/* 0, or why the watcher stopped */
	uint32_t	n;
	nkhsm_reader_t	r[HP_READERS_MAX];
};
/* Start the watcher; *fdp receives its snapshots (hp_watch_read). */
int hp_watch_start(pid_t *pidp, int *fdp);
/* One whole snapshot: 0, or -1 when the watcher is gone or broke. */
int hp_watch_read(int fd, struct hp_snapshot *s);

struct hp_probe_msg {
	int32_t		pid;
	int32_t		err;		/* 0, or NKHSM_ERR_* */
	char		serial[HP_SERIAL_MAX + 1];	/* sanitized */
	int		altered;
	char		reader[NKHSM_READER_NAME_MAX];	/* raw */
};
/*
 * Start a probe that writes one hp_probe_msg to wfd: the serial of the
 * SmartCard-HSM in reader; or, with reader NULL, of the first one to
 * answer in a reader named after the USB serial usb, waiting up to
 * wait_ms for it to appear. NKHSM_ERR_PCSC in the message: no pcscd.
 */
int hp_probe_start(int wfd, const char *reader, const char *usb,
    unsigned int wait_ms, pid_t *pidp);
int hp_probe_read(int fd, struct hp_probe_msg *m);

/*
 * The USB serial in a reader's name, as pcscd names USB readers:
 * "Vendor Product (SERIAL) 00 00", with its blanks treated as udev treats
 * them in ID_SERIAL_SHORT (none at the ends, "_" for a run inside). 0 and
 * the serial; -1 when the name has none or it had to be sanitized further
 * (then it names nothing).
 */
int hp_reader_usb_serial(const char *name, char *out, size_t outlen);
enum hp_card_change {
	HP_CARD_NONE = 0,
	HP_CARD_IN,		/* a card was inserted (or its reader came) */
	HP_CARD_OUT,		/* removed (or its reader went) */
	HP_CARD_OUT_IN,		/* another card since the last look */
};
/* What happened in a reader between two looks (NULL: not listed). */
enum hp_card_change hp_card_diff(const nkhsm_reader_t *was,
    const nkhsm_reader_t *now);
/* The reader of that name in a snapshot, or NULL. */
const nkhsm_reader_t *hp_snapshot_find(const struct hp_snapshot *s,
    const char *name);

/*
 * One-shot add: wait for the card of the USB device ev (its reader is
 * named after ev's serial) to answer, at most card_timeout; its serial and
 * reader go into ev. 0; 1 when pcscd is not there (act on the USB event);
 * NKHSM_ERR_TIMEOUT or another error when no card answered.
 */
int hp_card_of_device(const struct hp_conf *c, struct hp_event *ev);

/* Logging: syslog, or the journal's stderr, or stderr (tests). */
void hp_log_open(int to_stderr, int verbose);
void hp_log(int prio, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Dry-run output. */
void hp_plan(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif /* NK_HOTPLUG_H */
