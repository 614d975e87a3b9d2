/* SPDX-License-Identifier: BSD-2-Clause */
/* spawn.c - the helper process: started clean, killed on any doubt */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nkhsm.h"
#include "pamnk.h"
#include "spawn.h"

/*
 * The environment the helper gets: only what PKCS#11 modules read, and only
 * through secure_getenv, so a setuid caller (su, sudo) passes nothing the
 * invoking user chose.
 */
static const char *const keep_env[] = {
	"SOFTHSM2_CONF", "OPENSC_CONF", "OPENSC_DRIVER", "PCSCLITE_CSOCK_NAME",
	"PKCS11SPY", "PKCS11SPY_OUTPUT", "TZ", "LANG", "LC_ALL",
	NULL,
};
#define ENV_MAX	64

/* Names prefixed like this (the test module's controls) pass too. */
static const char *const keep_prefix[] = { "NKFAULT_", NULL };

static int
build_env(char **envp, size_t max)
{
	extern char **environ;
	size_t n = 0, i;
	char **e, *v;

	for (i = 0; keep_env[i] != NULL && n + 1 < max; i++) {
		if ((v = secure_getenv(keep_env[i])) == NULL)
			continue;
		if (asprintf(&envp[n], "%s=%s", keep_env[i], v) == -1)
			return -1;
		n++;
	}
	for (e = environ; e != NULL && *e != NULL && n + 1 < max; e++) {
		for (i = 0; keep_prefix[i] != NULL; i++) {
			if (strncmp(*e, keep_prefix[i], strlen(keep_prefix[i])) != 0)
				continue;
			/* Nothing the invoking user chose, in setuid callers. */
			if (getauxval(AT_SECURE))
				continue;
			if ((envp[n] = strdup(*e)) == NULL)
				return -1;
			n++;
		}
	}
	if (n + 1 < max && (envp[n] = strdup("PATH=/usr/sbin:/usr/bin:/sbin:/bin")) != NULL)
		n++;
	envp[n] = NULL;
	return 0;
}

int
pnk_spawn(const char *helper, struct pnk_child *c)
{
	char *envp[ENV_MAX], *argv[] = { (char *)"nkhsm-pam-helper", NULL };
	int sv[2], devnull, i, r;
	pid_t pid;

	c->pid = -1;
	c->fd = -1;
	memset(envp, 0, sizeof(envp));
	/* The helper runs with our privileges: it must be root's to change. */
	if ((r = pnk_code_check(helper, NULL, 0)) != 0)
		return r;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) == -1)
		return NKHSM_ERR_IO;
	if (build_env(envp, ENV_MAX) != 0) {
		close(sv[0]);
		close(sv[1]);
		for (i = 0; envp[i] != NULL; i++)
			free(envp[i]);
		return NKHSM_ERR_NOMEM;
	}
	if ((pid = fork()) == -1) {
		close(sv[0]);
		close(sv[1]);
		for (i = 0; envp[i] != NULL; i++)
			free(envp[i]);
		return NKHSM_ERR_IO;
	}
	if (pid == 0) {
		/* Child: only async-signal-safe calls until execve. */
		struct sigaction sa;
		sigset_t none;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_DFL;
		for (i = 1; i < NSIG; i++)
			(void)sigaction(i, &sa, NULL);
		sigemptyset(&none);
		(void)sigprocmask(SIG_SETMASK, &none, NULL);
		if ((devnull = open("/dev/null", O_RDWR)) == -1 ||
		    dup2(devnull, 0) == -1 || dup2(devnull, 1) == -1 ||
		    dup2(devnull, 2) == -1 || dup2(sv[1], 3) == -1)
			_exit(127);
		/* Close everything else the caller had open. */
		for (i = 4; i < 1024; i++)
			(void)close(i);
		execve(helper, argv, envp);
		_exit(127);
	}
	close(sv[1]);
	for (i = 0; envp[i] != NULL; i++)
		free(envp[i]);
	c->pid = pid;
	c->fd = sv[0];
	return 0;
}

#define REAP_TRIES	200
#define REAP_SLEEP_US	5000	/* 1 s in all */
#define GRACE_TRIES	50
#define GRACE_SLEEP_US	2000	/* 0.1 s in all */

void
pnk_reap(struct pnk_child *c)
{
	pid_t r;
	int i;

	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
	if (c->pid <= 0)
		return;
	/*
	 * A helper that is done exits as soon as its socket closes: give it a
	 * moment to hand a card back to pcscd (one killed while it holds the
	 * card makes pcscd reset it), then kill whatever is left.
	 */
	for (i = 0; i < GRACE_TRIES; i++) {
		r = waitpid(c->pid, NULL, WNOHANG);
		if (r == c->pid || (r == -1 && errno != EINTR)) {
			c->pid = -1;
			return;
		}
		usleep(GRACE_SLEEP_US);
	}
	/*
	 * A process stuck in the kernel (a USB request) may not die at once:
	 * wait a little, then leave it rather than hang the login.
	 */
	(void)kill(c->pid, SIGKILL);
	for (i = 0; i < REAP_TRIES; i++) {
		r = waitpid(c->pid, NULL, WNOHANG);
		if (r == c->pid || (r == -1 && errno != EINTR))
			break;
		usleep(REAP_SLEEP_US);
	}
	c->pid = -1;
}
