/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * session.c - session records and PIN change.
 *
 * pam_sm_open_session writes RUNDIR/session-PID-RANDOM with the token serial
 * and key that authenticated the session, so that nkhsm-hotplug can lock
 * exactly the sessions of a token that is pulled; pam_sm_close_session
 * removes it. pam_sm_chauthtok changes the token's user PIN.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <security/pam_appl.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include "nkhsm.h"
#include "nk-int.h"
#include "buf.h"
#include "pamnk.h"
#include "proto.h"
#include "spawn.h"

#ifndef NKHSM_HELPER_PATH
#define NKHSM_HELPER_PATH	"/usr/libexec/nkhsm/nkhsm-pam-helper"
#endif

#define DATA_TOKEN	"pam_nkhsm_token"
#define DATA_RECORD	"pam_nkhsm_record"
#define RECORD_MAX	2048

/* Values in records and environment: printable, no separators. */
static int
clean(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

int
pnk_export(struct pam_handle *pamh, const char *serial, const char *label,
    const char *fp)
{
	char env[320];
	int r;

	if (!clean(serial) || !clean(label) || !clean(fp))
		return PAM_SESSION_ERR;
	snprintf(env, sizeof(env), "NKHSM_TOKEN_SERIAL=%s", serial);
	if ((r = pam_putenv(pamh, env)) != PAM_SUCCESS)
		return r;
	snprintf(env, sizeof(env), "PKCS11_LOGIN_TOKEN_NAME=%s", label);
	if ((r = pam_putenv(pamh, env)) != PAM_SUCCESS)
		return r;
	snprintf(env, sizeof(env), "NKHSM_KEY=%s", fp);
	return pam_putenv(pamh, env);
}

static void
free_str(pam_handle_t *pamh, void *data, int status)
{
	free(data);
}

static int
write_record(pam_handle_t *pamh, const char *rundir, const char *text,
    char **pathp)
{
	char path[512], tmp[540];
	uint8_t rnd[8];
	size_t len = strlen(text);
	struct stat st;
	int fd = -1, r = -1;

	*pathp = NULL;
	if (mkdir(rundir, 0755) == -1 && errno != EEXIST) {
		pam_syslog(pamh, LOG_ERR, "cannot create %s: %s", rundir,
		    strerror(errno));
		goto out;
	}
	/* The directory must be root's alone: hotplug trusts what is in it. */
	if (lstat(rundir, &st) == -1 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		pam_syslog(pamh, LOG_ERR, "%s: not a directory owned by uid %lu "
		    "and writable only by it", rundir, (unsigned long)geteuid());
		goto out;
	}
	if (getrandom(rnd, sizeof(rnd), 0) != (ssize_t)sizeof(rnd))
		goto out;
	snprintf(path, sizeof(path), "%s/session-%ld-%02x%02x%02x%02x%02x%02x%02x%02x",
	    rundir, (long)getpid(), rnd[0], rnd[1], rnd[2], rnd[3], rnd[4],
	    rnd[5], rnd[6], rnd[7]);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	    0644)) == -1)
		goto out;
	if (write(fd, text, len) != (ssize_t)len || fsync(fd) == -1) {
		unlink(tmp);
		goto out;
	}
	if (close(fd) == -1 || rename(tmp, path) == -1) {
		fd = -1;
		unlink(tmp);
		goto out;
	}
	fd = -1;
	if ((*pathp = strdup(path)) == NULL) {
		unlink(path);
		goto out;
	}
	r = 0;
 out:
	if (fd != -1)
		close(fd);
	return r;
}

PAM_EXTERN int
pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	const void *data = NULL, *item;
	const char *user = "", *service = "", *tty = "", *rhost = "", *sid;
	char *copy = NULL, *serial, *label, *fp, *nl, *path = NULL;
	char record[RECORD_MAX], pwbuf[4096];
	struct passwd pw, *pwres = NULL;
	struct pnk_opts o;
	int r, retval = PAM_SESSION_ERR;

	if ((r = pnk_opts_pam(pamh, argc, argv, &o)) != PAM_SUCCESS)
		return r;
	if (pam_get_data(pamh, DATA_TOKEN, &data) == PAM_SUCCESS && data != NULL) {
		copy = strdup(data);
	} else if ((serial = (char *)pam_getenv(pamh, "NKHSM_TOKEN_SERIAL")) != NULL &&
	    (label = (char *)pam_getenv(pamh, "PKCS11_LOGIN_TOKEN_NAME")) != NULL &&
	    (fp = (char *)pam_getenv(pamh, "NKHSM_KEY")) != NULL) {
		/* Authenticated in another process (sshd): the environment came. */
		if (asprintf(&copy, "%s\n%s\n%s", serial, label, fp) == -1)
			copy = NULL;
	} else {
		/* This session was not opened with a token: nothing to record. */
		retval = PAM_IGNORE;
		goto out;
	}
	if (copy == NULL) {
		retval = PAM_BUF_ERR;
		goto out;
	}
	serial = copy;
	if ((nl = strchr(serial, '\n')) == NULL)
		goto out;
	*nl = '\0';
	label = nl + 1;
	if ((nl = strchr(label, '\n')) == NULL)
		goto out;
	*nl = '\0';
	fp = nl + 1;
	if (pam_get_item(pamh, PAM_USER, &item) == PAM_SUCCESS && item != NULL)
		user = item;
	if (pam_get_item(pamh, PAM_SERVICE, &item) == PAM_SUCCESS && item != NULL)
		service = item;
	if (pam_get_item(pamh, PAM_TTY, &item) == PAM_SUCCESS && item != NULL)
		tty = item;
	if (pam_get_item(pamh, PAM_RHOST, &item) == PAM_SUCCESS && item != NULL)
		rhost = item;
	if ((sid = pam_getenv(pamh, "XDG_SESSION_ID")) == NULL)
		sid = "";
	if (!clean(serial) || !clean(label) || !clean(user) || !clean(service) ||
	    !clean(tty) || !clean(rhost) || !clean(sid)) {
		pam_syslog(pamh, LOG_ERR, "control characters in session data; "
		    "no record written");
		goto out;
	}
	if (getpwnam_r(user, &pw, pwbuf, sizeof(pwbuf), &pwres) != 0 ||
	    pwres == NULL) {
		pam_syslog(pamh, LOG_ERR, "session for an unknown user");
		goto out;
	}
	snprintf(record, sizeof(record),
	    "user=%s\nuid=%lu\nservice=%s\ntty=%s\nrhost=%s\nsession_id=%s\n"
	    "pid=%ld\nserial=%s\nlabel=%s\nkey=%s\ncreated=%lld\n",
	    user, (unsigned long)pw.pw_uid, service, tty, rhost, sid,
	    (long)getpid(), serial, label, fp, (long long)time(NULL));
	if (write_record(pamh, o.rundir, record, &path) != 0) {
		pam_syslog(pamh, LOG_ERR, "no session record written in %s",
		    o.rundir);
		goto out;
	}
	if (pam_set_data(pamh, DATA_RECORD, path, free_str) != PAM_SUCCESS) {
		unlink(path);
		free(path);
		goto out;
	}
	if (pnk_export(pamh, serial, label, fp) != PAM_SUCCESS)
		goto out;
	if (o.debug)
		pam_syslog(pamh, LOG_DEBUG, "session record %s", path);
	retval = PAM_SUCCESS;
 out:
	free(copy);
	pnk_opts_free(&o);
	return retval;
}

PAM_EXTERN int
pam_sm_close_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	const void *data = NULL;
	struct pnk_opts o;
	int r;

	if ((r = pnk_opts_pam(pamh, argc, argv, &o)) != PAM_SUCCESS)
		return r;
	pnk_opts_free(&o);
	if (pam_get_data(pamh, DATA_RECORD, &data) != PAM_SUCCESS || data == NULL)
		return PAM_IGNORE;
	if (unlink(data) == -1 && errno != ENOENT) {
		pam_syslog(pamh, LOG_ERR, "cannot remove %s: %s",
		    (const char *)data, strerror(errno));
		return PAM_SESSION_ERR;
	}
	(void)pam_set_data(pamh, DATA_RECORD, NULL, NULL);
	return PAM_SUCCESS;
}

/* PIN change. */

static int
ask(pam_handle_t *pamh, const char *prompt, char **out)
{
	char *resp = NULL;
	int r;

	*out = NULL;
	r = pam_prompt(pamh, PAM_PROMPT_ECHO_OFF, &resp, "%s", prompt);
	if (r != PAM_SUCCESS || resp == NULL || *resp == '\0') {
		if (resp != NULL)
			nk_freezero(resp, strlen(resp));
		return PAM_AUTHTOK_ERR;
	}
	*out = resp;
	return PAM_SUCCESS;
}

static int
setpin(pam_handle_t *pamh, struct pnk_opts *o, const char *module,
    const char *token)
{
	struct pnk_child child = { -1, -1 };
	struct nk_buf req, body;
	uint8_t type, *store = NULL;
	size_t storelen = 0, ol, nl1;
	char *label = NULL, *serial = NULL, *old = NULL, *new1 = NULL,
	    *new2 = NULL, prompt[160], lb[96];
	uint32_t flags = 0, minpin = 0, maxpin = 0, err;
	long long deadline;
	int retval = PAM_AUTHTOK_ERR;

	nk_buf_init(&req);
	if (pnk_spawn(o->helper != NULL ? o->helper : NKHSM_HELPER_PATH,
	    &child) != 0) {
		pam_syslog(pamh, LOG_ERR, "cannot start the token helper");
		return PAM_AUTHINFO_UNAVAIL;
	}
	deadline = pnk_now_ms() + o->timeout * 1000LL;
	if (nk_buf_put_cstring(&req, module) != 0 ||
	    nk_buf_put_cstring(&req, token != NULL ? token : "") != 0 ||
	    nk_buf_put_u8(&req, DISCOVER_TOKEN) != 0 ||
	    nk_buf_put_u32(&req, 0) != 0 ||
	    pnk_send(child.fd, M_DISCOVER, &req) != 0 ||
	    pnk_recv(child.fd, deadline, &type, &body, &store, &storelen) != 0) {
		retval = PAM_AUTHINFO_UNAVAIL;
		goto out;
	}
	if (type != R_FOUND) {
		if (type == R_ERROR && nk_buf_get_u32(&body, &err) == 0)
			pam_syslog(pamh, LOG_ERR, "PIN change: %s",
			    nkhsm_strerror((int32_t)err));
		else
			pam_syslog(pamh, LOG_NOTICE, "PIN change: no token");
		(void)pam_prompt(pamh, PAM_ERROR_MSG, NULL, "%s",
		    type == R_NO_TOKEN ? "No Nitrokey HSM found." :
		    "The Nitrokey HSM cannot be used (see the system log).");
		retval = PAM_AUTHINFO_UNAVAIL;
		goto out;
	}
	if (nk_buf_get_cstring(&body, &label, NULL) != 0 ||
	    nk_buf_get_cstring(&body, &serial, NULL) != 0 ||
	    nk_buf_get_u32(&body, &flags) != 0 ||
	    nk_buf_get_u32(&body, &minpin) != 0 ||
	    nk_buf_get_u32(&body, &maxpin) != 0)
		goto out;
	if (flags & NKHSM_TOKEN_PIN_LOCKED) {
		(void)pam_prompt(pamh, PAM_ERROR_MSG, NULL,
		    "The token's PIN is locked; it must be reset with the SO PIN.");
		retval = PAM_PERM_DENIED;
		goto out;
	}
	if ((flags & NKHSM_TOKEN_PIN_FINAL_TRY) && o->min_tries_left > 1) {
		(void)pam_prompt(pamh, PAM_ERROR_MSG, NULL, "Only 1 PIN try left; "
		    "not changing the PIN (min_tries_left=%u).", o->min_tries_left);
		retval = PAM_PERM_DENIED;
		goto out;
	}
	if (flags & NKHSM_TOKEN_PIN_PAD) {
		(void)pam_prompt(pamh, PAM_ERROR_MSG, NULL, "This reader has a PIN "
		    "pad: change the PIN with the reader's own tools.");
		goto out;
	}
	if (flags & NKHSM_TOKEN_PIN_FINAL_TRY)
		(void)pam_prompt(pamh, PAM_ERROR_MSG, NULL,
		    "Warning: 1 PIN try left before the token locks.");
	pnk_escape(label, lb, sizeof(lb));
	snprintf(prompt, sizeof(prompt), "Current PIN for Nitrokey HSM '%s': ", lb);
	if ((retval = ask(pamh, prompt, &old)) != PAM_SUCCESS)
		goto out;
	snprintf(prompt, sizeof(prompt), "New PIN (%u to %u characters): ",
	    minpin, maxpin);
	if ((retval = ask(pamh, prompt, &new1)) != PAM_SUCCESS ||
	    (retval = ask(pamh, "Repeat the new PIN: ", &new2)) != PAM_SUCCESS)
		goto out;
	retval = PAM_AUTHTOK_ERR;
	if (strcmp(new1, new2) != 0) {
		(void)pam_prompt(pamh, PAM_ERROR_MSG, NULL, "The new PINs differ.");
		goto out;
	}
	ol = strlen(old);
	nl1 = strlen(new1);
	if (ol > NKHSM_PIN_MAX) {
		(void)pam_prompt(pamh, PAM_ERROR_MSG, NULL, "Wrong current PIN.");
		goto out;
	}
	if (maxpin == 0 || maxpin > NKHSM_PIN_MAX)
		maxpin = NKHSM_PIN_MAX;
	if ((minpin > 0 && nl1 < minpin) || nl1 > maxpin) {
		(void)pam_prompt(pamh, PAM_ERROR_MSG, NULL,
		    "The new PIN must have %u to %u characters.", minpin, maxpin);
		goto out;
	}
	nk_freezero(store, storelen);
	store = NULL;
	nk_buf_free(&req);
	nk_buf_init(&req);
	if (nk_buf_put_string(&req, old, ol) != 0 ||
	    nk_buf_put_string(&req, new1, nl1) != 0 ||
	    pnk_send(child.fd, M_SETPIN, &req) != 0 ||
	    pnk_recv(child.fd, pnk_now_ms() + o->timeout * 1000LL, &type, &body,
	    &store, &storelen) != 0)
		goto out;
	pnk_escape(serial, lb, sizeof(lb));
	if (type == R_DONE) {
		pam_syslog(pamh, LOG_INFO, "user PIN of token \"%s\" changed", lb);
		retval = PAM_SUCCESS;
	} else if (type == R_LOGIN_FAILED && nk_buf_get_u32(&body, &err) == 0) {
		if ((int32_t)err == NKHSM_ERR_PIN_INCORRECT ||
		    (int32_t)err == NKHSM_ERR_PIN_LOCKED) {
			(void)pam_prompt(pamh, PAM_ERROR_MSG, NULL, "%s",
			    (int32_t)err == NKHSM_ERR_PIN_LOCKED ?
			    "The token's PIN is locked." : "Wrong current PIN.");
			retval = PAM_PERM_DENIED;
		}
		pam_syslog(pamh, LOG_NOTICE, "PIN change of token \"%s\" failed: %s",
		    lb, nkhsm_strerror((int32_t)err));
	}
 out:
	if (old != NULL)
		nk_freezero(old, strlen(old));
	if (new1 != NULL)
		nk_freezero(new1, strlen(new1));
	if (new2 != NULL)
		nk_freezero(new2, strlen(new2));
	nk_freezero(store, storelen);
	nk_buf_free(&req);
	free(label);
	free(serial);
	pnk_reap(&child);
	return retval;
}

PAM_EXTERN int
pam_sm_chauthtok(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	char err[512];
	struct pnk_opts o;
	nkhsm_conf_t *conf = NULL;
	const char *module, *token;
	int r, retval;

	err[0] = '\0';
	if ((r = pnk_opts_pam(pamh, argc, argv, &o)) != PAM_SUCCESS)
		return r;
	if (nkhsm_conf_load(o.conf, -1, &conf, err, sizeof(err)) != 0) {
		pam_syslog(pamh, LOG_ERR, "configuration: %s", err);
		pnk_opts_free(&o);
		return PAM_SERVICE_ERR;
	}
	module = o.module != NULL ? o.module : nkhsm_conf_module(conf);
	if (module == NULL)
		module = nkhsm_default_module();
	token = o.token != NULL ? o.token : nkhsm_conf_token(conf);
	if (flags & PAM_PRELIM_CHECK)
		retval = PAM_SUCCESS;	/* the token is looked for when it counts */
	else if (flags & PAM_UPDATE_AUTHTOK)
		retval = setpin(pamh, &o, module, token);
	else
		retval = PAM_SERVICE_ERR;
	nkhsm_conf_free(&conf);
	pnk_opts_free(&o);
	return retval;
}
