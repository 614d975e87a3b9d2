/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * spawn.c - child processes: admin and user actions, and dbus-send.
 *
 * A child gets a fixed argv from the configuration and an environment built
 * here from nothing: PATH, HOME/USER/LOGNAME of the user it runs as, and
 * the sanitized NKHSM_* variables. It starts in its own session (so its
 * whole process group can be killed at the timeout) with stdin on
 * /dev/null, every descriptor above 2 closed, default signal handling and,
 * when dropped to a user, no way back to privileges.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "nkhsm.h"
#include "nk-int.h"
#include "hotplug.h"

#define ENV_SLOTS	12
#define GROUPS_MAX	256
#define KILL_GRACE_MS	1000

struct creds {
	int	drop;
	uid_t	uid;
	gid_t	gid;
	gid_t	groups[GROUPS_MAX];
	int	ngroups;
	char	home[HP_PATH_MAX];
	char	name[HP_USER_MAX + 1];
};

void
hp_kill_group(pid_t pid, int sig)
{
	/* Before its setsid() the child has no group of its own yet. */
	if (pid > 1 && kill(-pid, sig) == -1 && errno == ESRCH)
		(void)kill(pid, sig);
}

void
hp_close_from(int lowfd)
{
	long max, fd;

#ifdef SYS_close_range
	if (syscall(SYS_close_range, (unsigned int)lowfd, ~0U, 0) == 0)
		return;
#endif
	if ((max = sysconf(_SC_OPEN_MAX)) < 0 || max > 65536)
		max = 65536;
	for (fd = lowfd; fd < max; fd++)
		(void)close((int)fd);
}

/* In the child, before execve: only async-signal-safe calls. */
static void
child_setup(int out_fd, const struct creds *cr)
{
	struct sigaction sa;
	sigset_t none;
	int null, sig;

	(void)setsid();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (sig = 1; sig < NSIG; sig++)
		(void)sigaction(sig, &sa, NULL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	if ((null = open("/dev/null", O_RDWR)) == -1)
		_exit(126);
	if (dup2(null, 0) == -1)
		_exit(126);
	if (out_fd >= 0) {
		if (dup2(out_fd, 1) == -1 || dup2(out_fd, 2) == -1)
			_exit(126);
	} else {
		/* Keep our stdout/stderr (the journal) if they are open. */
		if (fcntl(1, F_GETFD) == -1 && dup2(null, 1) == -1)
			_exit(126);
		if (fcntl(2, F_GETFD) == -1 && dup2(null, 2) == -1)
			_exit(126);
	}
	hp_close_from(3);
	if (cr != NULL && cr->drop) {
		if (setgroups((size_t)cr->ngroups, cr->groups) != 0 ||
		    setgid(cr->gid) != 0 || setuid(cr->uid) != 0)
			_exit(126);
		if (setuid(0) != -1 || geteuid() != cr->uid)
			_exit(126);
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
			_exit(126);
		if (chdir(cr->home) != 0 && chdir("/") != 0)
			_exit(126);
	} else if (chdir("/") != 0)
		_exit(126);
}

static int64_t
left_ms(int64_t deadline)
{
	int64_t now = hp_now_ms();

	return deadline > now ? deadline - now : 0;
}

int
hp_run_capture(const char *path, char *const argv[], char *const envp[],
    unsigned int timeout_ms, char **outp, size_t *lenp, int *statusp)
{
	struct pollfd pfd;
	char *buf = NULL, drain[512];
	size_t len = 0;
	int64_t deadline = hp_now_ms() + timeout_ms;
	int p[2] = { -1, -1 }, status = 0, killed = 0, n, r = NKHSM_ERR_IO;
	ssize_t got;
	pid_t pid, w;

	*outp = NULL;
	*lenp = 0;
	*statusp = -1;
	if ((buf = malloc(HP_REPLY_MAX + 1)) == NULL)
		return NKHSM_ERR_NOMEM;
	if (pipe2(p, O_CLOEXEC) != 0) {
		free(buf);
		return NKHSM_ERR_IO;
	}
	if ((pid = fork()) == -1) {
		close(p[0]);
		close(p[1]);
		free(buf);
		return NKHSM_ERR_IO;
	}
	if (pid == 0) {
		close(p[0]);
		child_setup(p[1], NULL);
		execve(path, argv, envp);
		_exit(127);
	}
	close(p[1]);
	pfd.fd = p[0];
	pfd.events = POLLIN;
	for (;;) {
		if ((n = poll(&pfd, 1, (int)left_ms(deadline))) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (n == 0) {
			killed = 1;
			hp_kill_group(pid, SIGKILL);
			break;
		}
		if (len < HP_REPLY_MAX)
			got = read(p[0], buf + len, HP_REPLY_MAX - len);
		else
			got = read(p[0], drain, sizeof(drain));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		if (len < HP_REPLY_MAX)
			len += (size_t)got;
		else
			killed = 1;	/* too much output: not trusted */
	}
	close(p[0]);
	/* The output is closed; give the process until the deadline. */
	while ((w = waitpid(pid, &status, WNOHANG)) == 0) {
		if (left_ms(deadline) == 0) {
			killed = 1;
			hp_kill_group(pid, SIGKILL);
			w = waitpid(pid, &status, 0);
			break;
		}
		(void)poll(NULL, 0, 2);
	}
	if (w != pid) {
		free(buf);
		return NKHSM_ERR_IO;
	}
	if (killed) {
		free(buf);
		return NKHSM_ERR_TIMEOUT;
	}
	buf[len] = '\0';
	*outp = buf;
	*lenp = len;
	*statusp = status;
	r = 0;
	return r;
}

static int
lookup_creds(const char *user, struct creds *cr)
{
	struct passwd *pw;
	int ng = GROUPS_MAX;

	memset(cr, 0, sizeof(*cr));
	if ((pw = getpwnam(user != NULL ? user : "root")) == NULL)
		return -1;
	cr->uid = pw->pw_uid;
	cr->gid = pw->pw_gid;
	cr->drop = pw->pw_uid != 0;
	snprintf(cr->home, sizeof(cr->home), "%s",
	    pw->pw_dir != NULL && pw->pw_dir[0] == '/' ? pw->pw_dir : "/");
	snprintf(cr->name, sizeof(cr->name), "%s", pw->pw_name);
	if (!hp_user_valid(cr->name))
		return -1;
	if (getgrouplist(pw->pw_name, pw->pw_gid, cr->groups, &ng) == -1)
		return -1;
	cr->ngroups = ng;
	return 0;
}

static int
env_add(char **envp, size_t *np, const char *name, const char *value,
    size_t cap)
{
	char clean[HP_OWNER_MAX + HP_SYSPATH_MAX + 1];
	size_t i;

	if (*np + 1 >= ENV_SLOTS)
		return -1;
	/* Belt and braces: values were sanitized, cap and check again. */
	snprintf(clean, sizeof(clean), "%s", value != NULL ? value : "");
	if (strlen(clean) > cap)
		clean[cap] = '\0';
	for (i = 0; clean[i] != '\0'; i++)
		if ((unsigned char)clean[i] < 0x20 || clean[i] == 0x7f)
			clean[i] = '_';
	if (asprintf(&envp[*np], "%s=%s", name, clean) == -1) {
		envp[*np] = NULL;
		return -1;
	}
	(*np)++;
	envp[*np] = NULL;
	return 0;
}

static void
env_free(char **envp)
{
	size_t i;

	for (i = 0; i < ENV_SLOTS && envp[i] != NULL; i++)
		free(envp[i]);
}

int
hp_spawn(const struct hp_exec *ex, const struct hp_action_env *ae,
    const char *user, pid_t *pidp)
{
	char *envp[ENV_SLOTS];
	struct creds cr;
	size_t n = 0;
	pid_t pid;
	int r = NKHSM_ERR_INTERNAL;

	*pidp = -1;
	memset(envp, 0, sizeof(envp));
	if (lookup_creds(user, &cr) != 0) {
		hp_log(LOG_ERR, "cannot run %s: unknown user %s",
		    ex->argv[0], user != NULL ? user : "root");
		return NKHSM_ERR_INVALID_ARGUMENT;
	}
	if (env_add(envp, &n, "PATH", "/usr/sbin:/usr/bin:/sbin:/bin",
	    64) != 0 ||
	    env_add(envp, &n, "HOME", cr.home, HP_SYSPATH_MAX) != 0 ||
	    env_add(envp, &n, "USER", cr.name, HP_USER_MAX) != 0 ||
	    env_add(envp, &n, "LOGNAME", cr.name, HP_USER_MAX) != 0 ||
	    env_add(envp, &n, "NKHSM_EVENT", ae->event, 16) != 0 ||
	    env_add(envp, &n, "NKHSM_SERIAL", ae->serial, HP_SERIAL_MAX) != 0 ||
	    env_add(envp, &n, "NKHSM_SYSPATH", ae->syspath,
	    HP_SYSPATH_MAX) != 0 ||
	    env_add(envp, &n, "NKHSM_OWNER", ae->owner, HP_OWNER_MAX) != 0 ||
	    (ae->reader != NULL && ae->reader[0] != '\0' &&
	    env_add(envp, &n, "NKHSM_READER", ae->reader, HP_READER_MAX) != 0)) {
		r = NKHSM_ERR_NOMEM;
		goto out;
	}
	fflush(NULL);
	if ((pid = fork()) == -1) {
		hp_log(LOG_ERR, "cannot run %s: fork: %s", ex->argv[0],
		    strerror(errno));
		r = NKHSM_ERR_IO;
		goto out;
	}
	if (pid == 0) {
		child_setup(-1, &cr);
		execve(ex->argv[0], ex->argv, envp);
		_exit(127);
	}
	*pidp = pid;
	r = 0;
 out:
	env_free(envp);
	return r;
}

/*
 * 1 when pid has exited (reaped, status set), 0 while it runs, -1 when it
 * is not our child. Leftovers in its process group are killed while the
 * zombie still holds the group id, so no reused id is hit.
 */
int
hp_reap(pid_t pid, int *statusp)
{
	siginfo_t si;

	memset(&si, 0, sizeof(si));
	if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0)
		return -1;
	if (si.si_pid != pid)
		return 0;
	hp_kill_group(pid, SIGKILL);
	if (waitpid(pid, statusp, 0) != pid)
		return -1;
	return 1;
}

static void
log_exit(pid_t pid, int status)
{
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		hp_log(LOG_DEBUG, "action %ld exited 0", (long)pid);
	else if (WIFEXITED(status))
		hp_log(LOG_WARNING, "action %ld exited %d", (long)pid,
		    WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		hp_log(LOG_WARNING, "action %ld killed by signal %d", (long)pid,
		    WTERMSIG(status));
}

int
hp_wait_children(pid_t *pids, size_t n, unsigned int timeout_ms)
{
	struct timespec ts;
	sigset_t set, old;
	int64_t deadline = hp_now_ms() + timeout_ms, left;
	size_t i, running;
	int status, stage = 0, failed = 0, rr;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	(void)sigprocmask(SIG_BLOCK, &set, &old);
	for (;;) {
		running = 0;
		for (i = 0; i < n; i++) {
			if (pids[i] <= 0)
				continue;
			if ((rr = hp_reap(pids[i], &status)) != 0) {
				if (rr == 1) {
					log_exit(pids[i], status);
					if (!WIFEXITED(status) ||
					    WEXITSTATUS(status) != 0)
						failed = 1;
				}
				pids[i] = -1;
				continue;
			}
			running++;
		}
		if (running == 0)
			break;
		if ((left = deadline - hp_now_ms()) <= 0) {
			for (i = 0; i < n; i++) {
				if (pids[i] <= 0)
					continue;
				hp_log(LOG_WARNING, "action %ld timed out; "
				    "killing its process group", (long)pids[i]);
				hp_kill_group(pids[i],
				    stage == 0 ? SIGTERM : SIGKILL);
			}
			failed = 1;
			stage++;
			deadline = hp_now_ms() + KILL_GRACE_MS;
			left = KILL_GRACE_MS;
		}
		ts.tv_sec = (time_t)(left / 1000);
		ts.tv_nsec = (long)(left % 1000) * 1000000L;
		(void)sigtimedwait(&set, NULL, &ts);
	}
	(void)sigprocmask(SIG_SETMASK, &old, NULL);
	return failed ? NKHSM_ERR_INTERNAL : 0;
}
