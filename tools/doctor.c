/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * doctor.c - nkhsm-tool doctor: why a token does not work, check by check.
 *
 * The token side (pcscd, readers, cards, the PIN, the PKCS#11 module, the
 * user's keys on the token) runs in a child process, each step under
 * --timeout, because a card that stops answering blocks whoever asks it;
 * the child sends each result as it has it, so a hang still leaves the
 * checks done before it. The file side (nkhsm.conf, the udev rule and unit, PAM
 * stacks, pam_nkhsm and its helper, hotplug.conf, authorized keys) runs
 * here, with the parsers and the rules of the programs that read those
 * files: pam_nkhsm's options and authorized keys parser, nkhsm-hotplug's
 * configuration loader and its test for files root runs.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "nkhsm.h"
#include "nk-int.h"
#include "cli.h"
#include "doctor.h"
#include "pamconf.h"
#include "hotplug.h"
#include "doctor-int.h"

/*
 * Wait for the child's next check: up to --timeout seconds (0: for ever),
 * each check again, so that the deadline bounds each step as it bounds
 * each PKCS#11 call of the other commands. 1 with a check, 0 at the
 * child's end, -1 when none came in time.
 */
static int
next_check(int fd, unsigned int timeout, struct check *c)
{
	struct pollfd pfd;
	int64_t deadline, left;
	int r;

	deadline = hp_now_ms() + (int64_t)timeout * 1000;
	pfd.fd = fd;
	pfd.events = POLLIN;
	for (;;) {
		left = deadline - hp_now_ms();
		if (timeout != 0 && left <= 0)
			return -1;
		if ((r = poll(&pfd, 1, timeout == 0 ? -1 : (int)left)) < 0 &&
		    errno == EINTR)
			continue;
		if (r < 0)
			return 0;	/* cannot wait: as if it had ended */
		if (r == 0)
			return -1;
		/* The child closes the pipe at its exit. */
		return read(fd, c, sizeof(*c)) == (ssize_t)sizeof(*c);
	}
}

/* The token checks, in a child, each step under the deadline. */
static void
token_checks(struct dr *d)
{
	struct check c;
	char last[ID_MAX];
	int p[2], status, r, got = 0;
	pid_t pid;

	if (pipe(p) == -1 || (pid = fork()) == -1) {
		dr_add(d, "token", DR_FAIL, NULL, NULL, "cannot run the token "
		    "checks: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		close(p[0]);
		d->fd = p[1];
		dr_token_side(d);
		_exit(0);
	}
	close(p[1]);
	while ((r = next_check(p[0], d->o->timeout, &c)) == 1) {
		if (d->n < CHECKS_MAX)
			d->c[d->n++] = c;
		snprintf(last, sizeof(last), "%s", c.id);
		got++;
	}
	close(p[0]);
	if (r < 0) {
		(void)kill(pid, SIGKILL);
		(void)waitpid(pid, &status, 0);
		dr_add(d, "token", DR_FAIL, NULL, "take the token out and put "
		    "it back; if a card stops answering again, it is broken",
		    "the token checks got no answer within %us (--timeout): "
		    "pcscd, a card or the module stopped answering (after: %s)",
		    d->o->timeout, got > 0 ? last : "nothing");
		return;
	}
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		dr_add(d, "token", DR_FAIL, NULL, "run it again with the "
		    "module's own logging (OPENSC_DEBUG=9 for OpenSC)", "the "
		    "token checks crashed after %d checks", got);
}

/* A token the module sees makes pcscd's troubles not the cause. */
static void
settle_pcsc(struct dr *d)
{
	size_t i;
	int token_ok = 0;

	for (i = 0; i < d->n; i++)
		if (strcmp(d->c[i].id, "token") == 0 &&
		    d->c[i].status == DR_OK)
			token_ok = 1;
	for (i = 0; i < d->n && token_ok; i++) {
		if (d->c[i].status != DR_FAIL ||
		    (strcmp(d->c[i].id, "pcscd") != 0 &&
		    strcmp(d->c[i].id, "readers") != 0 &&
		    strcmp(d->c[i].id, "card") != 0))
			continue;
		d->c[i].status = DR_WARN;
		strncat(d->c[i].msg, " (the module sees a token without it)",
		    sizeof(d->c[i].msg) - strlen(d->c[i].msg) - 1);
	}
}

static const char *
status_name(int s)
{
	return s == DR_OK ? "ok" : s == DR_WARN ? "warning" : "failure";
}

static void
print_human(const struct dr *d, size_t nok, size_t nwarn, size_t nfail)
{
	static const char *const tag[] = { "  ok", "warn", "FAIL" };
	size_t i;

	for (i = 0; i < d->n; i++) {
		printf("[%s] %s: ", tag[d->c[i].status], d->c[i].id);
		cli_print_safe(stdout, d->c[i].msg);
		putchar('\n');
		if (d->c[i].fix[0] != '\0') {
			printf("       fix: ");
			cli_print_safe(stdout, d->c[i].fix);
			putchar('\n');
		}
	}
	printf("%zu ok, %zu warning%s, %zu failure%s\n", nok, nwarn,
	    nwarn == 1 ? "" : "s", nfail, nfail == 1 ? "" : "s");
}

static void
print_json(const struct dr *d, size_t nok, size_t nwarn, size_t nfail)
{
	size_t i;

	printf("{\"checks\":[");
	for (i = 0; i < d->n; i++) {
		printf("%s{\"check\":", i > 0 ? "," : "");
		cli_print_json_str(stdout, d->c[i].id);
		printf(",\"status\":\"%s\",\"message\":",
		    status_name(d->c[i].status));
		cli_print_json_str(stdout, d->c[i].msg);
		printf(",\"fix\":");
		if (d->c[i].fix[0] != '\0')
			cli_print_json_str(stdout, d->c[i].fix);
		else
			printf("null");
		printf(",\"path\":");
		if (d->c[i].path[0] != '\0')
			cli_print_json_str(stdout, d->c[i].path);
		else
			printf("null");
		printf("}");
	}
	printf("],\"ok\":%zu,\"warnings\":%zu,\"failures\":%zu}\n", nok,
	    nwarn, nfail);
}

void
dr_add(struct dr *d, const char *id, int status, const char *path,
    const char *fix, const char *fmt, ...)
{
	struct check c;
	va_list ap;

	memset(&c, 0, sizeof(c));
	snprintf(c.id, sizeof(c.id), "%s", id);
	c.status = status;
	va_start(ap, fmt);
	vsnprintf(c.msg, sizeof(c.msg), fmt, ap);
	va_end(ap);
	snprintf(c.fix, sizeof(c.fix), "%s", fix != NULL ? fix : "");
	snprintf(c.path, sizeof(c.path), "%s", path != NULL ? path : "");
	if (d->fd >= 0) {
		/* One check per write; the parent reads whole structs. */
		if (write(d->fd, &c, sizeof(c)) != (ssize_t)sizeof(c))
			_exit(1);
		return;
	}
	if (d->n < CHECKS_MAX)
		d->c[d->n++] = c;
}

/* ROOT/path, or path itself without --root. */
void
dr_rooted(const struct dr *d, const char *path, char *out, size_t outlen)
{
	snprintf(out, outlen, "%s%s", d->o->root != NULL ? d->o->root : "",
	    path);
}

const char *
dr_esc(const char *s, char *buf, size_t len)
{
	return cli_safe(s != NULL ? s : "", buf, len);
}

void
dr_fix_addkey(const char *user, const char *path, char *fix, size_t len)
{
	if (snprintf(fix, len, "as %s: nkhsm-tool pubkey "
	    "'pkcs11:object=LABEL' >> %s", user, path) >= (int)len)
		fix[len - 1] = '\0';
}

int
doctor_run(const struct doctor_opts *o)
{
	struct dr d;
	size_t i, count[3] = { 0, 0, 0 };
	int ret = EX_FAIL;

	memset(&d, 0, sizeof(d));
	d.o = o;
	d.fd = -1;
	if ((d.c = calloc(CHECKS_MAX, sizeof(*d.c))) == NULL)
		return EX_FAIL;
	if (o->user != NULL && getpwnam(o->user) == NULL) {
		cli_errx("no such user '%s'", o->user);
		ret = EX_USAGE;
		goto out;
	}
	dr_login_checks(&d);
	token_checks(&d);
	dr_hotplug_checks(&d);
	settle_pcsc(&d);
	for (i = 0; i < d.n; i++)
		count[d.c[i].status]++;
	if (o->json)
		print_json(&d, count[0], count[1], count[2]);
	else
		print_human(&d, count[0], count[1], count[2]);
	ret = count[DR_FAIL] == 0 ? EX_OK : EX_FAIL;
 out:
	for (i = 0; i < d.nst; i++)
		if (d.st[i].parsed)
			pnk_opts_free(&d.st[i].o);
	free(d.pts);
	free(d.lines);
	free(d.c);
	return ret;
}
