/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nkpamdrv - a PAM application for the tests that authenticates and opens
 * the session the way real callers do (run under pam_wrapper):
 *
 *   nkpamdrv SERVICE USER same ENVFILE      one process, one handle (login, su)
 *   nkpamdrv SERVICE USER split ENVFILE     as sshd: a child ("auth", run by
 *                                           path, so give an absolute one)
 *                                           authenticates and hands its PAM
 *                                           environment back (in ENVFILE.auth);
 *                                           the parent starts its own handle,
 *                                           puts that environment in and opens
 *                                           the session
 *   nkpamdrv SERVICE USER auth ENVFILE      authenticate only; environment out
 *   nkpamdrv SERVICE USER session ENVFILE   a fresh handle, the environment in
 *                                           ENVFILE put in, open the session
 *
 * Answers to prompts come from standard input, one line each. Each step
 * prints "STEP: pam_strerror text"; the PAM environment after the last step
 * is written to ENVFILE (one NAME=VALUE per line). PAM_RHOST is 192.0.2.7.
 * Exit 0 when every step returned PAM_SUCCESS, 1 otherwise, 2 on misuse.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <security/pam_appl.h>

#define LINE_MAX_LEN	1024
#define ENV_MAX		256

static int
conv(int n, const struct pam_message **msg, struct pam_response **resp,
    void *arg)
{
	struct pam_response *r;
	char line[LINE_MAX_LEN];
	int i;

	if ((r = calloc((size_t)n, sizeof(*r))) == NULL)
		return PAM_BUF_ERR;
	for (i = 0; i < n; i++) {
		fprintf(stderr, "conv: %s\n", msg[i]->msg);
		if (msg[i]->msg_style != PAM_PROMPT_ECHO_OFF &&
		    msg[i]->msg_style != PAM_PROMPT_ECHO_ON)
			continue;
		if (fgets(line, sizeof(line), stdin) == NULL)
			goto fail;
		line[strcspn(line, "\n")] = '\0';
		if ((r[i].resp = strdup(line)) == NULL)
			goto fail;
	}
	*resp = r;
	return PAM_SUCCESS;
 fail:
	for (i = 0; i < n; i++)
		free(r[i].resp);
	free(r);
	return PAM_CONV_ERR;
}

static int
start(const char *service, const char *user, pam_handle_t **pamhp)
{
	static struct pam_conv pc = { conv, NULL };
	int r;

	if ((r = pam_start(service, user, &pc, pamhp)) != PAM_SUCCESS) {
		printf("pam_start: %d\n", r);
		return r;
	}
	return pam_set_item(*pamhp, PAM_RHOST, "192.0.2.7");
}

static void
env_out(pam_handle_t *pamh, FILE *f)
{
	char **env, **e;

	if ((env = pam_getenvlist(pamh)) == NULL)
		return;
	for (e = env; *e != NULL; e++) {
		fprintf(f, "%s\n", *e);
		free(*e);
	}
	free(env);
	fflush(f);
}

static int
env_in(pam_handle_t *pamh, FILE *f)
{
	char line[LINE_MAX_LEN];
	int n = 0;

	while (fgets(line, sizeof(line), f) != NULL && n++ < ENV_MAX) {
		line[strcspn(line, "\n")] = '\0';
		if (strchr(line, '=') != NULL &&
		    pam_putenv(pamh, line) != PAM_SUCCESS)
			return -1;
	}
	return 0;
}

static int
step(pam_handle_t *pamh, const char *name, int r)
{
	printf("%s: %s\n", name, pam_strerror(pamh, r));
	fflush(stdout);
	return r;
}

/* Authenticate (and check the account, as sshd does); environment to f. */
static int
do_auth(const char *service, const char *user, FILE *f)
{
	pam_handle_t *pamh = NULL;
	int r;

	if ((r = start(service, user, &pamh)) != PAM_SUCCESS)
		return r;
	if ((r = step(pamh, "authenticate", pam_authenticate(pamh, 0))) ==
	    PAM_SUCCESS)
		env_out(pamh, f);
	pam_end(pamh, r);
	return r;
}

static int
do_session(const char *service, const char *user, FILE *in, const char *out)
{
	pam_handle_t *pamh = NULL;
	FILE *f;
	int r;

	if ((r = start(service, user, &pamh)) != PAM_SUCCESS)
		return r;
	if (env_in(pamh, in) != 0) {
		pam_end(pamh, PAM_BUF_ERR);
		return PAM_BUF_ERR;
	}
	r = step(pamh, "open_session", pam_open_session(pamh, 0));
	if ((f = fopen(out, "w")) != NULL) {
		env_out(pamh, f);
		fclose(f);
	}
	pam_end(pamh, r);
	return r;
}

static int
do_same(const char *service, const char *user, const char *out)
{
	pam_handle_t *pamh = NULL;
	FILE *f;
	int r;

	if ((r = start(service, user, &pamh)) != PAM_SUCCESS)
		return r;
	if ((r = step(pamh, "authenticate", pam_authenticate(pamh, 0))) ==
	    PAM_SUCCESS)
		r = step(pamh, "open_session", pam_open_session(pamh, 0));
	if ((f = fopen(out, "w")) != NULL) {
		env_out(pamh, f);
		fclose(f);
	}
	pam_end(pamh, r);
	return r;
}

/*
 * sshd: a child authenticates and hands its PAM environment to the parent
 * (here through ENVFILE.auth, which stays for replay tests).
 */
static int
do_split(const char *self, const char *service, const char *user,
    const char *out)
{
	char authout[LINE_MAX_LEN];
	FILE *f;
	pid_t pid;
	int status, r;

	if ((size_t)snprintf(authout, sizeof(authout), "%s.auth", out) >=
	    sizeof(authout) || (pid = fork()) == -1)
		return PAM_SYSTEM_ERR;
	if (pid == 0) {
		/*
		 * Run the "auth" half as a program of its own (sshd's child is a
		 * plain fork; the parent-child relation is what matters here), so
		 * that pam_wrapper sets itself up and cleans up in it as usual.
		 */
		execl(self, self, service, user, "auth", authout, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		return PAM_AUTH_ERR;
	if ((f = fopen(authout, "r")) == NULL)
		return PAM_SYSTEM_ERR;
	r = do_session(service, user, f, out);
	fclose(f);
	return r;
}

int
main(int argc, char **argv)
{
	FILE *f;
	int r;

	if (argc != 5) {
		fprintf(stderr, "usage: nkpamdrv SERVICE USER "
		    "same|split|auth|session ENVFILE\n");
		return 2;
	}
	if (strcmp(argv[3], "same") == 0)
		r = do_same(argv[1], argv[2], argv[4]);
	else if (strcmp(argv[3], "split") == 0)
		r = do_split(argv[0], argv[1], argv[2], argv[4]);
	else if (strcmp(argv[3], "auth") == 0) {
		if ((f = fopen(argv[4], "w")) == NULL)
			return 2;
		r = do_auth(argv[1], argv[2], f);
		fclose(f);
	} else if (strcmp(argv[3], "session") == 0) {
		if ((f = fopen(argv[4], "r")) == NULL)
			return 2;
		r = do_session(argv[1], argv[2], f, argv[4]);
		fclose(f);
	} else
		return 2;
	return r == PAM_SUCCESS ? 0 : 1;
}
