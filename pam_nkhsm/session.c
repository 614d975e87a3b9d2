/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * session.c - session records and PIN change.
 *
 * pam_sm_open_session writes RUNDIR/session-PID-RANDOM with the token serial
 * and key that authenticated the session, so that nkhsm-hotplug can lock
 * exactly the sessions of a token that is pulled; pam_sm_close_session
 * removes it. Only this module's own authentication, handed over in the PAM
 * handle or as a ticket (ticket.c), names the token: never the environment.
 * pam_sm_chauthtok changes the token's user PIN.
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

#define RECORD_MAX	2048

/* Values of the record's other fields: no control characters. */
static int
clean(const char *s)
{
	for (; *s != '\0'; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return 0;
	return 1;
}

/* NKHSM_TOKEN_SERIAL, PKCS11_LOGIN_TOKEN_NAME, NKHSM_KEY: checked values. */
static int
export_vars(pam_handle_t *pamh, const struct pnk_authrec *a)
{
	char env[320];
	int r;

	snprintf(env, sizeof(env), "NKHSM_TOKEN_SERIAL=%s", a->serial);
	if ((r = pam_putenv(pamh, env)) != PAM_SUCCESS)
		return r;
	snprintf(env, sizeof(env), "PKCS11_LOGIN_TOKEN_NAME=%s", a->label);
	if ((r = pam_putenv(pamh, env)) != PAM_SUCCESS)
		return r;
	snprintf(env, sizeof(env), "NKHSM_KEY=%s", a->fp);
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
	char path[512], tmp[540], err[512];
	uint8_t rnd[8];
	size_t len = strlen(text);
	int fd = -1, r = -1;

	*pathp = NULL;
	err[0] = '\0';
	if (pnk_rundir_check(rundir, err, sizeof(err)) != 0) {
		pam_syslog(pamh, LOG_ERR, "%s", err);
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

/* The PAM items and the user's uid, for the record and the checks. */
struct items {
	const char	*user, *service, *tty, *rhost, *sid;
	uid_t		 uid;
	char		 pwbuf[4096];
};

static int
get_items(pam_handle_t *pamh, struct items *it)
{
	struct passwd pw, *pwres = NULL;
	const void *item;

	it->user = it->service = it->tty = it->rhost = "";
	if (pam_get_item(pamh, PAM_USER, &item) == PAM_SUCCESS && item != NULL)
		it->user = item;
	if (pam_get_item(pamh, PAM_SERVICE, &item) == PAM_SUCCESS && item != NULL)
		it->service = item;
	if (pam_get_item(pamh, PAM_TTY, &item) == PAM_SUCCESS && item != NULL)
		it->tty = item;
	if (pam_get_item(pamh, PAM_RHOST, &item) == PAM_SUCCESS && item != NULL)
		it->rhost = item;
	if ((it->sid = pam_getenv(pamh, "XDG_SESSION_ID")) == NULL)
		it->sid = "";
	if (getpwnam_r(it->user, &pw, it->pwbuf, sizeof(it->pwbuf), &pwres) != 0 ||
	    pwres == NULL) {
		pam_syslog(pamh, LOG_ERR, "session for an unknown user");
		return PAM_SESSION_ERR;
	}
	it->uid = pw.pw_uid;
	return PAM_SUCCESS;
}

/*
 * What this module's authentication proved in this login: the PAM handle's
 * data (same process), else the ticket the environment names (sshd). Never
 * anything else from the environment. PAM_SUCCESS with *a filled, or
 * PAM_IGNORE when the token did not authenticate this login.
 */
static int
proven(pam_handle_t *pamh, const struct pnk_opts *o, const struct items *it,
    struct pnk_authrec *a)
{
	const void *data = NULL, *tref = NULL;
	const char *ref, *why;
	char err[256], esc[96];
	uint8_t *enc = NULL;
	size_t enclen = 0;
	int r;

	memset(a, 0, sizeof(*a));
	if (pam_get_data(pamh, PNK_DATA_AUTH, &data) == PAM_SUCCESS &&
	    data != NULL) {
		/* Same process: its ticket is not needed by anyone. */
		if (pam_get_data(pamh, PNK_DATA_TICKET, &tref) == PAM_SUCCESS &&
		    tref != NULL)
			pnk_ticket_drop(o->rundir, tref);
		(void)pam_putenv(pamh, PNK_TICKET_ENV);
		/* A copy, through the same encoding the tickets use. */
		if ((r = pnk_authrec_encode(data, &enc, &enclen)) != 0 ||
		    (r = pnk_authrec_decode(enc, enclen, a)) != 0) {
			free(enc);
			return r == NKHSM_ERR_NOMEM ? PAM_BUF_ERR : PAM_SESSION_ERR;
		}
		free(enc);
		if ((why = pnk_authrec_names(a, it->user, (uint32_t)it->uid,
		    it->service)) != NULL) {
			pam_syslog(pamh, LOG_NOTICE, "authentication %s; "
			    "no session record", why);
			pnk_authrec_free(a);
			return PAM_IGNORE;
		}
		return PAM_SUCCESS;
	}
	if ((ref = pam_getenv(pamh, PNK_TICKET_ENV)) == NULL)
		return PAM_IGNORE;	/* not opened with the token */
	err[0] = '\0';
	r = pnk_ticket_take(o->rundir, ref, a, err, sizeof(err));
	(void)pam_putenv(pamh, PNK_TICKET_ENV);	/* used: out of the session */
	if (r == NKHSM_ERR_NOMEM)
		return PAM_BUF_ERR;
	if (r == 0 && (why = pnk_ticket_fits(a, it->user, (uint32_t)it->uid,
	    it->service, (int64_t)getpid(), (int64_t)time(NULL))) != NULL) {
		snprintf(err, sizeof(err), "ticket %s", why);
		r = NKHSM_ERR_PERMISSION;
	}
	if (r != 0) {
		pnk_escape(it->user, esc, sizeof(esc));
		pam_syslog(pamh, LOG_NOTICE, "user=\"%s\": %s not taken: %s; "
		    "no session record", esc, PNK_TICKET_ENV, err);
		pnk_authrec_free(a);
		return PAM_IGNORE;
	}
	return PAM_SUCCESS;
}

PAM_EXTERN int
pam_sm_open_session(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct pnk_authrec a;
	struct items it;
	struct pnk_opts o;
	char record[RECORD_MAX], *path = NULL;
	const char *why;
	int r, retval = PAM_SESSION_ERR;

	memset(&a, 0, sizeof(a));
	if ((r = pnk_opts_pam(pamh, argc, argv, &o)) != PAM_SUCCESS)
		return r;
	if ((retval = get_items(pamh, &it)) != PAM_SUCCESS ||
	    (retval = proven(pamh, &o, &it, &a)) != PAM_SUCCESS)
		goto out;
	retval = PAM_SESSION_ERR;
	if ((why = pnk_authrec_unfit(&a)) != NULL) {
		pam_syslog(pamh, LOG_ERR, "%s; no session record written", why);
		goto out;
	}
	if (!clean(it.user) || !clean(it.service) || !clean(it.tty) ||
	    !clean(it.rhost) || !clean(it.sid)) {
		pam_syslog(pamh, LOG_ERR, "control characters in session data; "
		    "no record written");
		goto out;
	}
	if ((size_t)snprintf(record, sizeof(record),
	    "user=%s\nuid=%lu\nservice=%s\ntty=%s\nrhost=%s\nsession_id=%s\n"
	    "pid=%ld\nserial=%s\nlabel=%s\nmodel=%s\nmanufacturer=%s\n"
	    "key=%s\ncreated=%lld\n", it.user, (unsigned long)it.uid,
	    it.service, it.tty, it.rhost, it.sid, (long)getpid(), a.serial,
	    a.label, a.model, a.manufacturer, a.fp,
	    (long long)time(NULL)) >= sizeof(record)) {
		pam_syslog(pamh, LOG_ERR, "session data too long; no record "
		    "written");
		goto out;
	}
	if (write_record(pamh, o.rundir, record, &path) != 0) {
		pam_syslog(pamh, LOG_ERR, "no session record written in %s",
		    o.rundir);
		goto out;
	}
	if (pam_set_data(pamh, PNK_DATA_RECORD, path, free_str) != PAM_SUCCESS) {
		unlink(path);
		free(path);
		goto out;
	}
	if (export_vars(pamh, &a) != PAM_SUCCESS)
		goto out;
	if (o.debug)
		pam_syslog(pamh, LOG_DEBUG, "session record %s", path);
	retval = PAM_SUCCESS;
 out:
	pnk_authrec_free(&a);
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
	if (pam_get_data(pamh, PNK_DATA_RECORD, &data) != PAM_SUCCESS || data == NULL)
		return PAM_IGNORE;
	if (unlink(data) == -1 && errno != ENOENT) {
		pam_syslog(pamh, LOG_ERR, "cannot remove %s: %s",
		    (const char *)data, strerror(errno));
		return PAM_SESSION_ERR;
	}
	(void)pam_set_data(pamh, PNK_DATA_RECORD, NULL, NULL);
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
    const char *token, uint8_t driver, const char *hints)
{
	struct pnk_child child = { -1, -1 };
	struct nk_buf req, body;
	struct pnk_found f = { .tries = -1 };
	uint8_t type, *store = NULL;
	size_t storelen = 0, ol, nl1;
	char *old = NULL, *new1 = NULL, *new2 = NULL, prompt[192], name[128],
	    lb[96], tt[64];
	uint32_t minpin, maxpin, err, tries;
	const char *t;
	long long deadline;
	int retval = PAM_AUTHTOK_ERR;

	nk_buf_init(&req);
	if ((retval = pnk_code_pam(pamh, "token helper", o->helper != NULL ?
	    o->helper : NKHSM_HELPER_PATH)) != PAM_SUCCESS ||
	    (driver != PNK_DRIVER_PCSC && (retval = pnk_code_pam(pamh,
	    "PKCS#11 module", module)) != PAM_SUCCESS))
		return retval;
	retval = PAM_AUTHTOK_ERR;
	if (pnk_spawn(o->helper != NULL ? o->helper : NKHSM_HELPER_PATH,
	    &child) != 0) {
		pam_syslog(pamh, LOG_ERR, "cannot start the token helper");
		return PAM_AUTHINFO_UNAVAIL;
	}
	deadline = pnk_now_ms() + o->timeout * 1000LL;
	if (pnk_put_discover(&req, module, token, DISCOVER_TOKEN, NULL, driver,
	    hints) != 0 ||
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
		    type == R_NO_TOKEN ? "No token found." :
		    "The token cannot be used now (the system log says why).");
		retval = PAM_AUTHINFO_UNAVAIL;
		goto out;
	}
	if (pnk_found_parse(&body, &f) != 0)
		goto out;
	minpin = f.minpin;
	maxpin = f.maxpin;
	if (f.tries == 0 || (f.flags & NKHSM_TOKEN_PIN_LOCKED)) {
		(void)pam_prompt(pamh, PAM_ERROR_MSG, NULL,
		    "The token's PIN is locked; it must be reset with the SO PIN.");
		retval = PAM_PERM_DENIED;
		goto out;
	}
	if ((f.tries == 1 || (f.tries < 0 && (f.flags &
	    NKHSM_TOKEN_PIN_FINAL_TRY))) && o->min_tries_left > 1) {
		(void)pam_prompt(pamh, PAM_ERROR_MSG, NULL, "Only 1 PIN try left; "
		    "not changing the PIN (min_tries_left=%u).", o->min_tries_left);
		retval = PAM_PERM_DENIED;
		goto out;
	}
	if (f.flags & NKHSM_TOKEN_PIN_PAD) {
		(void)pam_prompt(pamh, PAM_ERROR_MSG, NULL, "This reader has a PIN "
		    "pad: change the PIN with the reader's own tools.");
		goto out;
	}
	if ((f.flags & (NKHSM_TOKEN_PIN_FINAL_TRY | NKHSM_TOKEN_PIN_COUNT_LOW)) &&
	    pnk_tries_text(f.flags, f.tries, tt, sizeof(tt)) != NULL)
		(void)pam_prompt(pamh, PAM_ERROR_MSG, NULL, "Warning: %s.", tt);
	pnk_token_name(f.flags, f.label, name, sizeof(name));
	snprintf(prompt, sizeof(prompt), "Current PIN for %s: ", name);
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
	pnk_escape(f.serial, lb, sizeof(lb));
	if (type == R_DONE) {
		pam_syslog(pamh, LOG_INFO, "user PIN of token \"%s\" changed", lb);
		retval = PAM_SUCCESS;
	} else if (type == R_LOGIN_FAILED && nk_buf_get_u32(&body, &err) == 0 &&
	    nk_buf_get_u32(&body, &f.flags) == 0 &&
	    nk_buf_get_u32(&body, &tries) == 0) {
		if ((int32_t)err == NKHSM_ERR_PIN_LOCKED) {
			(void)pam_prompt(pamh, PAM_ERROR_MSG, NULL,
			    "The token's PIN is locked.");
			retval = PAM_PERM_DENIED;
		} else if ((int32_t)err == NKHSM_ERR_PIN_INCORRECT) {
			t = pnk_tries_text(f.flags, (int32_t)tries, tt,
			    sizeof(tt));
			(void)pam_prompt(pamh, PAM_ERROR_MSG, NULL,
			    "Wrong current PIN%s%s.", t ? "; " : "", t ? t : "");
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
	pnk_found_free(&f);
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
	char *hints = NULL;
	uint8_t driver;
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
	retval = pnk_driver_setup(pamh, &o, conf, &driver, &hints);
	if (retval == PAM_SUCCESS && (flags & PAM_PRELIM_CHECK))
		retval = PAM_SUCCESS;	/* the token is looked for when it counts */
	else if (retval == PAM_SUCCESS && (flags & PAM_UPDATE_AUTHTOK))
		retval = setpin(pamh, &o, module, token, driver, hints);
	else if (retval == PAM_SUCCESS)
		retval = PAM_SERVICE_ERR;
	free(hints);
	nkhsm_conf_free(&conf);
	pnk_opts_free(&o);
	return retval;
}
