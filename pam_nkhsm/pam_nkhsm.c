/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pam_nkhsm - log in by having the user's EC key on a Nitrokey HSM (or any
 * PKCS#11 token) sign a fresh challenge, verified in software against a
 * public key authorized beforehand.
 *
 * Every outcome maps to one PAM code (pam_nkhsm(8), OUTCOMES). retval starts
 * as an error; PAM_SUCCESS is set in exactly one place, after the signature
 * verified against an authorized key.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#define PAM_SM_AUTH
#define PAM_SM_SESSION
#define PAM_SM_PASSWORD
#define PAM_SM_ACCOUNT
#include <security/pam_appl.h>
#include <security/pam_ext.h>
#include <security/pam_modules.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "nkhsm.h"
#include "nk-int.h"
#include "buf.h"
#include "pamnk.h"
#include "proto.h"
#include "revoke.h"
#include "spawn.h"

#define INSERT_POLL_MS	1000
#define CA_CERTS_MAX	32

/* One login attempt. */
struct ctx {
	pam_handle_t		*pamh;
	struct pnk_opts		 o;
	nkhsm_conf_t		*conf;
	const char		*module;	/* from o, conf or default */
	const char		*token;
	const char		*user;
	const char		*service;
	struct passwd		 pw;
	char			*pwbuf;
	struct pnk_keys		 keys;
	struct pnk_child	 child;
	uint8_t			 driver;	/* PNK_DRIVER_*: from o or conf */
	char			*hints;		/* cachedir/card-hints */
	struct pnk_found	 f;		/* what the helper found */
	int			 disc_err;	/* why discovery failed */
	EVP_PKEY		*cakey;		/* key from a CA-issued certificate */
	nkhsm_point_t		 capt;		/* its point */
	char			*cafp;
	const char		*fp;		/* fingerprint of the key used */
	struct pnk_revoke	*rv;		/* crl=, krl= (revoke.c) */
	int			 rev;		/* the worst PNK_REV_* met */
	char			 rev_why[512];
};

/* Logging: one line per decision; untrusted strings escaped. */
static void
lg(struct ctx *c, int prio, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
lg(struct ctx *c, int prio, const char *fmt, ...)
{
	char msg[512], m[1024], u[96], s[96], t[96];
	va_list ap;

	if (prio == LOG_DEBUG && !c->o.debug)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* The message too: paths, OpenSSL strings; one line, always. */
	pnk_escape(msg, m, sizeof(m));
	pnk_escape(c->user, u, sizeof(u));
	pnk_escape(c->service, s, sizeof(s));
	pnk_escape(c->f.serial, t, sizeof(t));
	pam_syslog(c->pamh, prio, "user=\"%s\" service=\"%s\" token=\"%s\" "
	    "key=%s: %s", u, s, t, c->fp != NULL ? c->fp : "-", m);
}

static void
ctx_free(struct ctx *c)
{
	pnk_reap(&c->child);
	pnk_keys_free(&c->keys);
	pnk_opts_free(&c->o);
	nkhsm_conf_free(&c->conf);
	EVP_PKEY_free(c->cakey);
	free(c->cafp);
	pnk_rev_free(&c->rv);
	free(c->pwbuf);
	free(c->hints);
	pnk_found_free(&c->f);
}

static void
rev_note(void *arg, const char *msg)
{
	lg(arg, LOG_NOTICE, "%s", msg);
}

/*
 * A revocation check that did not pass: logged, and the worst outcome kept
 * (a list that cannot be used outranks a revoked certificate).
 */
static void
rev_failed(struct ctx *c, int outcome, const char *why)
{
	lg(c, outcome != PNK_REV_UNAVAIL ? LOG_WARNING : LOG_ERR, "%s: %s",
	    outcome != PNK_REV_UNAVAIL ? "revoked" : "revocation cannot be "
	    "checked, failing closed", why);
	if (outcome > c->rev) {
		c->rev = outcome;
		snprintf(c->rev_why, sizeof(c->rev_why), "%s", why);
	}
}

/* Options, then /etc/nkhsm/nkhsm.conf for what the options leave unset. */
static int
ctx_init(struct ctx *c, pam_handle_t *pamh, int argc, const char **argv)
{
	char err[512];
	const void *item;
	int r;

	memset(c, 0, sizeof(*c));
	c->pamh = pamh;
	c->f.tries = -1;
	c->child.pid = -1;
	c->child.fd = -1;
	err[0] = '\0';
	if (pam_get_item(pamh, PAM_SERVICE, &item) == PAM_SUCCESS && item != NULL)
		c->service = item;
	else
		c->service = "";
	if ((r = pnk_opts_pam(pamh, argc, argv, &c->o)) != PAM_SUCCESS)
		return r;
	if (pnk_rev_new(&c->o, rev_note, c, &c->rv) != 0)
		return PAM_BUF_ERR;
	if ((r = nkhsm_conf_load(c->o.conf, -1, &c->conf, err,
	    sizeof(err))) != 0) {
		if (r == NKHSM_ERR_NOMEM) {
			pam_syslog(pamh, LOG_CRIT, "out of memory");
			return PAM_BUF_ERR;
		}
		pam_syslog(pamh, LOG_ERR, "configuration: %s", err);
		return PAM_SERVICE_ERR;
	}
	c->module = c->o.module != NULL ? c->o.module : nkhsm_conf_module(c->conf);
	if (c->module == NULL)
		c->module = nkhsm_default_module();
	c->token = c->o.token != NULL ? c->o.token : nkhsm_conf_token(c->conf);
	return pnk_driver_setup(pamh, &c->o, c->conf, &c->driver, &c->hints);
}

static int
get_user(struct ctx *c)
{
	struct passwd *res = NULL;
	long sz;
	int r;

	if ((r = pam_get_user(c->pamh, &c->user, NULL)) != PAM_SUCCESS ||
	    c->user == NULL || *c->user == '\0') {
		c->user = "";
		return r == PAM_SUCCESS ? PAM_USER_UNKNOWN : r;
	}
	if ((sz = sysconf(_SC_GETPW_R_SIZE_MAX)) < 4096)
		sz = 16384;
	if ((c->pwbuf = malloc((size_t)sz)) == NULL)
		return PAM_BUF_ERR;
	if (getpwnam_r(c->user, &c->pw, c->pwbuf, (size_t)sz, &res) != 0 ||
	    res == NULL) {
		lg(c, LOG_NOTICE, "no such user");
		return PAM_USER_UNKNOWN;
	}
	return PAM_SUCCESS;
}

/* Send a message to the user (errors and information). */
static void
say(struct ctx *c, int style, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
say(struct ctx *c, int style, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	(void)pam_prompt(c->pamh, style, NULL, "%s", msg);
}

/* The fewest tries left: exact where known, else what the flags allow. */
static unsigned int
tries_floor(const struct pnk_found *f)
{
	if (f->tries >= 0)
		return (unsigned int)f->tries;
	if (f->flags & NKHSM_TOKEN_PIN_LOCKED)
		return 0;
	if (f->flags & NKHSM_TOKEN_PIN_FINAL_TRY)
		return 1;
	if (f->flags & NKHSM_TOKEN_PIN_COUNT_LOW)
		return 2;
	return UINT_MAX;
}

/* Outcome of discovery. */
enum disc { D_FOUND, D_NO_TOKEN, D_NO_KEY, D_FAIL, D_REVOKED };

/* The certificates on the token that the CA issued to this user. */
static int
judge_certs(struct ctx *c, struct nk_buf *b, uint32_t *indexp)
{
	X509_STORE *store = NULL;
	X509_STORE_CTX *sctx = NULL;
	STACK_OF(X509_INFO) *infos = NULL;
	X509_INFO *xi;
	X509 *x = NULL;
	X509_NAME *subj;
	BIO *bio = NULL;
	const uint8_t *der, *p;
	size_t len;
	uint32_t n, i;
	int j, k, found = -1, nid, fd, rev;
	char buf[256], err[512];
	FILE *fp;

	if (nk_buf_get_u32(b, &n) != 0)
		return -1;
	/* The CA file grants logins: root's, not writable by others, no symlink. */
	if ((fd = open(c->o.ca, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1 ||
	    nkhsm_file_check(fd, c->o.ca, -1, err, sizeof(err)) != 0 ||
	    (fp = fdopen(fd, "r")) == NULL) {
		lg(c, LOG_ERR, "refusing CA file: %s", fd == -1 ?
		    strerror(errno) : err);
		if (fd != -1)
			close(fd);
		return -1;
	}
	if ((bio = BIO_new_fp(fp, BIO_CLOSE)) == NULL) {
		fclose(fp);
		goto out;
	}
	if ((infos = PEM_X509_INFO_read_bio(bio, NULL, NULL, NULL)) == NULL ||
	    (store = X509_STORE_new()) == NULL) {
		lg(c, LOG_ERR, "cannot read CA file %s", c->o.ca);
		goto out;
	}
	for (j = 0; j < sk_X509_INFO_num(infos); j++) {
		xi = sk_X509_INFO_value(infos, j);
		if (xi->x509 != NULL)
			X509_STORE_add_cert(store, xi->x509);
	}
	for (i = 0; i < n && found < 0; i++) {
		if (nk_buf_get_string_direct(b, &der, &len) != 0)
			break;
		p = der;
		X509_free(x);
		if ((x = d2i_X509(NULL, &p, (long)len)) == NULL || p != der + len)
			continue;
		X509_STORE_CTX_free(sctx);
		if ((sctx = X509_STORE_CTX_new()) == NULL ||
		    !X509_STORE_CTX_init(sctx, store, x, NULL))
			break;
		X509_STORE_CTX_set_purpose(sctx, X509_PURPOSE_SSL_CLIENT);
		if (X509_verify_cert(sctx) != 1) {
			lg(c, LOG_DEBUG, "certificate %u: %s", i,
			    X509_verify_cert_error_string(
			    X509_STORE_CTX_get_error(sctx)));
			continue;
		}
		subj = X509_get_subject_name(x);
		for (k = 0; k < 2 && found < 0; k++) {
			nid = k == 0 ? NID_commonName : NID_userId;
			if (!(c->o.ca_map & (k == 0 ? PNK_MAP_CN : PNK_MAP_UID)))
				continue;
			if (X509_NAME_get_text_by_NID(subj, nid, buf,
			    sizeof(buf)) > 0 && strcmp(buf, c->user) == 0)
				found = (int)i;
		}
		if (found >= 0) {
			EVP_PKEY_free(c->cakey);
			c->cakey = NULL;
			/* The key checks every reader shares (libnkhsm). */
			if ((c->cakey = X509_get_pubkey(x)) == NULL ||
			    nkhsm_pkey_check(c->cakey, err, sizeof(err)) != 0) {
				lg(c, LOG_ERR, "certificate %u: key refused: %s", i,
				    c->cakey == NULL ? "unreadable" : err);
				EVP_PKEY_free(c->cakey);
				c->cakey = NULL;
				found = -1;
			} else if (nkhsm_point_from_pkey(c->cakey, &c->capt) != 0 ||
			    nkhsm_pubkey_fingerprint(c->cakey, &c->cafp) != 0)
				found = -1;
			/* Before any PIN: crl= for the chain, krl= for the key. */
			else if ((rev = pnk_rev_cert(c->rv,
			    X509_STORE_CTX_get0_chain(sctx), &c->capt,
			    (int64_t)time(NULL), err, sizeof(err))) != PNK_REV_OK) {
				rev_failed(c, rev, err);
				EVP_PKEY_free(c->cakey);
				c->cakey = NULL;
				free(c->cafp);
				c->cafp = NULL;
				found = -1;
			}
		}
	}
 out:
	X509_free(x);
	X509_STORE_CTX_free(sctx);
	X509_STORE_free(store);
	sk_X509_INFO_pop_free(infos, X509_INFO_free);
	BIO_free(bio);
	if (found < 0)
		return -1;
	*indexp = (uint32_t)found;
	return 0;
}

/* One helper run: discover. On D_FOUND the helper stays up for the login. */
static enum disc
discover_once(struct ctx *c, uint8_t mode)
{
	struct nk_buf req, body;
	uint8_t type, *store = NULL;
	size_t storelen = 0;
	uint32_t idx;
	int32_t err;
	enum disc d = D_FAIL;
	int r;

	c->disc_err = NKHSM_ERR_INTERNAL;
	nk_buf_init(&req);
	if ((r = pnk_spawn(c->o.helper != NULL ? c->o.helper :
	    NKHSM_HELPER_PATH, &c->child)) != 0) {
		lg(c, LOG_ERR, "cannot start %s: %s", c->o.helper != NULL ?
		    c->o.helper : NKHSM_HELPER_PATH, nkhsm_strerror(r));
		return D_FAIL;
	}
	if (pnk_put_discover(&req, c->module, c->token, mode,
	    mode == DISCOVER_KEYS ? &c->keys : NULL, c->driver, c->hints) != 0)
		goto out;
	if (pnk_send(c->child.fd, M_DISCOVER, &req) != 0)
		goto fail;
	if ((r = pnk_recv(c->child.fd, pnk_now_ms() + c->o.timeout * 1000LL,
	    &type, &body, &store, &storelen)) != 0) {
		lg(c, LOG_ERR, "token helper %s while looking for the token",
		    r == NKHSM_ERR_TIMEOUT ? "timed out" : "failed");
		c->disc_err = r;
		goto fail;
	}
	switch (type) {
	case R_NO_TOKEN:
		d = D_NO_TOKEN;
		break;
	case R_NO_KEY:
		pnk_found_free(&c->f);
		(void)nk_buf_get_cstring(&body, &c->f.label, NULL);
		(void)nk_buf_get_cstring(&body, &c->f.serial, NULL);
		d = D_NO_KEY;
		break;
	case R_FOUND:
		if (pnk_found_parse(&body, &c->f) == 0 &&
		    (mode != DISCOVER_KEYS || c->f.index < c->keys.n))
			d = D_FOUND;
		break;
	case R_CERTS:
		if (judge_certs(c, &body, &idx) != 0) {
			d = c->rev != PNK_REV_OK ? D_REVOKED : D_NO_KEY;
			break;
		}
		nk_buf_free(&req);
		nk_buf_init(&req);
		nk_freezero(store, storelen);
		store = NULL;
		if (nk_buf_put_u32(&req, idx) != 0 ||
		    pnk_send(c->child.fd, M_SELECT, &req) != 0 ||
		    pnk_recv(c->child.fd, pnk_now_ms() + c->o.timeout * 1000LL,
		    &type, &body, &store, &storelen) != 0 || type != R_FOUND ||
		    pnk_found_parse(&body, &c->f) != 0)
			goto fail;
		d = D_FOUND;
		break;
	case R_ERROR:
		if (nk_buf_get_u32(&body, (uint32_t *)&err) == 0) {
			lg(c, LOG_ERR, "token helper: %s", nkhsm_strerror(err));
			c->disc_err = err;
		}
		break;
	default:
		break;
	}
	goto out;
 fail:
	d = D_FAIL;
 out:
	nk_freezero(store, storelen);
	nk_buf_free(&req);
	if (d != D_FOUND)
		pnk_reap(&c->child);
	return d;
}

/* Discovery, waiting up to wait= seconds for the token to be inserted. */
static enum disc
discover(struct ctx *c, uint8_t mode)
{
	long long deadline = pnk_now_ms() + c->o.wait * 1000LL;
	nkhsm_uri_t *uri = NULL;
	const char *name = NULL;
	char esc[96];
	enum disc d;
	int told = 0;

	for (;;) {
		d = discover_once(c, mode);
		if (d != D_NO_TOKEN || pnk_now_ms() >= deadline)
			break;
		if (!told) {
			if (c->token != NULL && nkhsm_uri_parse(c->token, &uri,
			    NULL) == 0)
				name = nkhsm_uri_token(uri);
			if (name != NULL) {
				pnk_escape(name, esc, sizeof(esc));
				say(c, PAM_TEXT_INFO, "Insert your token '%s'", esc);
			} else
				say(c, PAM_TEXT_INFO, "Insert your token");
			told = 1;
		}
		usleep(INSERT_POLL_MS * 1000);
	}
	nkhsm_uri_free(&uri);
	return d;
}

/* The PIN: from the user, or from an earlier module when configured. */
static int
get_pin(struct ctx *c, char **pinp, size_t *lenp)
{
	const void *item = NULL;
	char *resp = NULL, name[128], tt[64], left[32];
	const char *t;
	int r;

	*pinp = NULL;
	*lenp = 0;
	/* A warning once tries were used; the exact count where known. */
	if ((c->f.flags & (NKHSM_TOKEN_PIN_FINAL_TRY |
	    NKHSM_TOKEN_PIN_COUNT_LOW)) &&
	    (t = pnk_tries_text(c->f.flags, c->f.tries, tt, sizeof(tt))) != NULL)
		say(c, PAM_ERROR_MSG, "Warning: %s.", t);
	if (c->f.flags & NKHSM_TOKEN_PIN_PAD) {
		say(c, PAM_TEXT_INFO, "Enter the PIN on the reader's PIN pad.");
		return PAM_SUCCESS;	/* an empty PIN: the pad asks */
	}
	if (c->o.use_first_pass || c->o.try_first_pass) {
		if (pam_get_item(c->pamh, PAM_AUTHTOK, &item) == PAM_SUCCESS &&
		    item != NULL && *(const char *)item != '\0') {
			if (tries_floor(&c->f) <= 1) {
				/* Never spend the last try on a reused password. */
				lg(c, LOG_NOTICE, "final PIN try: not using the "
				    "password from an earlier module");
				if (c->o.use_first_pass)
					return PAM_AUTH_ERR;
			} else {
				*lenp = strlen(item);
				if ((*pinp = strdup(item)) == NULL)
					return PAM_BUF_ERR;
				return PAM_SUCCESS;
			}
		} else if (c->o.use_first_pass) {
			lg(c, LOG_NOTICE, "use_first_pass: no password from an "
			    "earlier module");
			return PAM_AUTH_ERR;
		}
	}
	pnk_token_name(c->f.flags, c->f.label, name, sizeof(name));
	left[0] = '\0';
	if (c->f.tries > 0)
		snprintf(left, sizeof(left), " (%d %s left)", c->f.tries,
		    c->f.tries == 1 ? "try" : "tries");
	r = pam_prompt(c->pamh, PAM_PROMPT_ECHO_OFF, &resp, "PIN for %s%s: ",
	    name, left);
	if (r != PAM_SUCCESS || resp == NULL) {
		lg(c, LOG_NOTICE, "PIN entry failed or cancelled");
		if (resp != NULL)
			nk_freezero(resp, strlen(resp));
		return PAM_AUTHINFO_UNAVAIL;
	}
	if (*resp == '\0') {
		free(resp);
		lg(c, LOG_NOTICE, "cancelled at the PIN prompt");
		return PAM_AUTHINFO_UNAVAIL;
	}
	*pinp = resp;
	*lenp = strlen(resp);
	return PAM_SUCCESS;
}

/* The helper's R_LOGIN_FAILED: the PIN state, told to the user. */
static int
login_failed(struct ctx *c, struct nk_buf *body)
{
	uint32_t err, flags, tries;
	char tt[64];
	const char *t;

	if (nk_buf_get_u32(body, &err) != 0 ||
	    nk_buf_get_u32(body, &flags) != 0 ||
	    nk_buf_get_u32(body, &tries) != 0)
		return PAM_AUTH_ERR;
	switch ((int32_t)err) {
	case NKHSM_ERR_PIN_LOCKED:
		lg(c, LOG_NOTICE, "PIN locked");
		say(c, PAM_ERROR_MSG, "The token's PIN is locked.");
		return PAM_MAXTRIES;
	case NKHSM_ERR_PIN_INCORRECT:
	case NKHSM_ERR_PIN_LEN:
		t = pnk_tries_text(flags, (int32_t)tries >= 0 &&
		    tries <= PNK_TRIES_MAX ? (int)tries : -1, tt, sizeof(tt));
		lg(c, LOG_NOTICE, "wrong PIN%s%s", t ? ": " : "", t ? t : "");
		say(c, PAM_ERROR_MSG, "Wrong PIN%s%s.", t ? "; " : "",
		    t ? t : "");
		return PAM_AUTH_ERR;
	case NKHSM_ERR_DEVICE_REMOVED:
		/*
		 * On the direct path this means VERIFY never left: pcscd refuses
		 * commands to a card it saw go. A PKCS#11 module cannot say when
		 * it noticed, so there a try may have been spent.
		 */
		lg(c, LOG_NOTICE, "token removed at login");
		say(c, PAM_ERROR_MSG, "The token was removed.");
		return c->f.driver == PNK_DRIVER_PCSC ? PAM_AUTHINFO_UNAVAIL :
		    PAM_AUTH_ERR;
	default:
		lg(c, LOG_ERR, "login failed: %s", nkhsm_strerror((int32_t)err));
		say(c, PAM_ERROR_MSG, "The token refused the login (the system "
		    "log says why).");
		return PAM_AUTH_ERR;
	}
}

/* Log in and sign the challenge in the helper; verify here. */
static int
login_and_verify(struct ctx *c, const char *pin, size_t pinlen)
{
	uint8_t nonce[PNK_NONCE_LEN], *msg = NULL, type, *store = NULL;
	const uint8_t *sig;
	size_t msglen = 0, storelen = 0, siglen;
	struct nk_buf req, body;
	char host[256];
	const nkhsm_point_t *authorized;
	uint32_t err = (uint32_t)NKHSM_ERR_FORMAT;
	int retval = PAM_AUTH_ERR, r;

	nk_buf_init(&req);
	if (getrandom(nonce, sizeof(nonce), 0) != (ssize_t)sizeof(nonce) ||
	    gethostname(host, sizeof(host)) != 0) {
		lg(c, LOG_ERR, "no randomness or host name");
		retval = PAM_AUTHINFO_UNAVAIL;
		goto out;
	}
	host[sizeof(host) - 1] = '\0';
	if (pnk_challenge(host, c->service, c->user, nonce, &msg, &msglen) != 0 ||
	    nk_buf_put_string(&req, pin, pinlen) != 0 ||
	    nk_buf_put_string(&req, msg, msglen) != 0) {
		retval = PAM_BUF_ERR;
		goto out;
	}
	r = pnk_send(c->child.fd, M_LOGIN, &req);
	nk_buf_free(&req);	/* wipes the PIN copy */
	if (r != 0) {
		lg(c, LOG_ERR, "token helper went away before login");
		retval = PAM_AUTHINFO_UNAVAIL;
		goto out;
	}
	/* From here the PIN was sent: any failure is PAM_AUTH_ERR. */
	if ((r = pnk_recv(c->child.fd, pnk_now_ms() + c->o.timeout * 1000LL,
	    &type, &body, &store, &storelen)) != 0) {
		lg(c, LOG_ERR, "token helper %s during login and signing",
		    r == NKHSM_ERR_TIMEOUT ? "timed out" : "failed");
		say(c, PAM_ERROR_MSG, "The token did not answer.");
		goto out;
	}
	if (type == R_LOGIN_FAILED) {
		retval = login_failed(c, &body);
		goto out;
	}
	if (type == R_ERROR && nk_buf_get_u32(&body, &err) == 0 &&
	    (int32_t)err == NKHSM_ERR_DEVICE_REMOVED) {
		lg(c, LOG_NOTICE, "token removed during signing");
		say(c, PAM_ERROR_MSG, "The token was removed.");
		goto out;
	}
	if (type != R_SIGNATURE ||
	    nk_buf_get_string_direct(&body, &sig, &siglen) != 0) {
		lg(c, LOG_ERR, "token helper: signing failed%s%s",
		    type == R_ERROR ? ": " : "",
		    type == R_ERROR ? nkhsm_strerror((int32_t)err) : "");
		say(c, PAM_ERROR_MSG, "The token did not sign (the system log "
		    "says why).");
		goto out;
	}
	/* The only path to success: our challenge, our authorized key. */
	authorized = c->cakey != NULL ? &c->capt : &c->keys.key[c->f.index].pt;
	if ((r = nkhsm_verify_point(authorized, msg, msglen, sig,
	    siglen)) != 0) {
		lg(c, LOG_WARNING, "signature does not verify: %s",
		    nkhsm_strerror(r));
		goto out;
	}
	retval = PAM_SUCCESS;
 out:
	nk_freezero(store, storelen);
	nk_buf_free(&req);
	free(msg);
	return retval;
}

/* The CA file is the administrator's: unsafe or unreadable is a setup error. */
static int
check_ca_file(struct ctx *c)
{
	char err[512];
	int fd;

	err[0] = '\0';
	if ((fd = open(c->o.ca, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1) {
		lg(c, LOG_ERR, "refusing CA file: %s: %s", c->o.ca,
		    errno == ELOOP ? "is a symbolic link" : strerror(errno));
		return PAM_SERVICE_ERR;
	}
	if (nkhsm_file_check(fd, c->o.ca, -1, err, sizeof(err)) != 0) {
		lg(c, LOG_ERR, "refusing CA file: %s", err);
		close(fd);
		return PAM_SERVICE_ERR;
	}
	close(fd);
	return PAM_SUCCESS;
}

/*
 * Revoked: PAM_AUTH_ERR, and the user is told. A revocation list that
 * cannot be used: PAM_AUTHINFO_UNAVAIL (fail closed, logged by rev_failed).
 */
static int
refuse_revoked(struct ctx *c)
{
	if (c->rev == PNK_REV_UNAVAIL)
		return PAM_AUTHINFO_UNAVAIL;
	say(c, PAM_ERROR_MSG, "This token's %s has been revoked.",
	    c->rev == PNK_REV_REVOKED ? "certificate" : "key");
	return PAM_AUTH_ERR;
}

/* What discovery found, or the PAM code and message for what it did not. */
static int
found_or_why(struct ctx *c, enum disc d)
{
	char err[512];

	switch (d) {
	case D_FOUND:
		break;
	case D_NO_TOKEN:
		lg(c, LOG_NOTICE, "no token%s", c->o.wait ? " after the wait" : "");
		say(c, PAM_ERROR_MSG, "No token found.");
		return PAM_AUTHINFO_UNAVAIL;
	case D_NO_KEY:
		lg(c, LOG_NOTICE, "the token holds no authorized key");
		say(c, PAM_ERROR_MSG, "The token holds none of your keys.");
		return PAM_AUTH_ERR;
	case D_REVOKED:
		return refuse_revoked(c);
	default:
		if (c->disc_err == NKHSM_ERR_TIMEOUT)
			say(c, PAM_ERROR_MSG, "The token did not answer in time.");
		else if (c->disc_err == NKHSM_ERR_DEVICE_REMOVED)
			say(c, PAM_ERROR_MSG, "The token was removed.");
		else
			say(c, PAM_ERROR_MSG, "The token cannot be used now "
			    "(the system log says why).");
		return PAM_AUTHINFO_UNAVAIL;
	}
	c->fp = c->cafp != NULL ? c->cafp : c->keys.key[c->f.index].fp;
	if (c->cafp == NULL && c->keys.key[c->f.index].revoked != NULL) {
		snprintf(err, sizeof(err), "authorized key line %u is revoked by "
		    "KRL %s (%s)", c->keys.key[c->f.index].line, c->o.krl,
		    c->keys.key[c->f.index].revoked);
		rev_failed(c, PNK_REV_KEY_REVOKED, err);
		return refuse_revoked(c);
	}
	lg(c, LOG_DEBUG, "authorized key found (%s) through %s",
	    c->cafp != NULL ? "certificate" : "authfile",
	    c->f.driver == PNK_DRIVER_PCSC ? "PC/SC" : "PKCS#11");
	return PAM_SUCCESS;
}

/* Locked, or fewer tries left than min_tries_left: no PIN is asked for. */
static int
pin_state_allows(struct ctx *c)
{
	char tt[64];
	const char *t;

	if (tries_floor(&c->f) == 0) {
		lg(c, LOG_NOTICE, "PIN locked; not prompting");
		say(c, PAM_ERROR_MSG, "The token's PIN is locked.");
		return PAM_MAXTRIES;
	}
	if (tries_floor(&c->f) < c->o.min_tries_left) {
		t = pnk_tries_text(c->f.flags, c->f.tries, tt, sizeof(tt));
		lg(c, LOG_NOTICE, "%s; min_tries_left=%u: not submitting a PIN",
		    t, c->o.min_tries_left);
		say(c, PAM_ERROR_MSG, "Too few PIN tries left (%s); use another "
		    "login method.", t);
		return PAM_MAXTRIES;
	}
	return PAM_SUCCESS;
}

static void
free_data(pam_handle_t *pamh, void *data, int status)
{
	free(data);
}

static void
free_authrec(pam_handle_t *pamh, void *data, int status)
{
	pnk_authrec_free(data);
	free(data);
}

/*
 * Hand what this authentication proved to the session step: in the PAM
 * handle, and as a ticket whose reference alone goes into the PAM
 * environment, for callers that open the session in another process.
 */
static int
hand_over(struct ctx *c)
{
	struct pnk_authrec *a;
	char ref[PNK_TICKET_REF_LEN + 1], env[sizeof(PNK_TICKET_ENV) + sizeof(ref)];
	char err[512], *refcopy;
	int r;

	if ((a = calloc(1, sizeof(*a))) == NULL)
		return PAM_BUF_ERR;
	a->uid = (uint32_t)c->pw.pw_uid;
	a->pid = (int64_t)getpid();
	a->ppid = (int64_t)getppid();
	a->created = (int64_t)time(NULL);
	if ((a->user = strdup(c->user)) == NULL ||
	    (a->service = strdup(c->service)) == NULL ||
	    (a->serial = strdup(c->f.serial)) == NULL ||
	    (a->label = strdup(c->f.label)) == NULL ||
	    (a->model = strdup(c->f.model)) == NULL ||
	    (a->manufacturer = strdup(c->f.manufacturer)) == NULL ||
	    (a->fp = strdup(c->fp)) == NULL) {
		free_authrec(c->pamh, a, 0);
		return PAM_BUF_ERR;
	}
	err[0] = '\0';
	r = pnk_ticket_write(c->o.rundir, a, ref, sizeof(ref), err, sizeof(err));
	if (pam_set_data(c->pamh, PNK_DATA_AUTH, a, free_authrec) != PAM_SUCCESS) {
		free_authrec(c->pamh, a, 0);
		if (r == 0)
			pnk_ticket_drop(c->o.rundir, ref);
		return PAM_BUF_ERR;
	}
	if (r != 0) {
		/* The login stands; only another process's session loses its record. */
		lg(c, LOG_ERR, "no session ticket: %s", err);
		return PAM_SUCCESS;
	}
	snprintf(env, sizeof(env), "%s=%s", PNK_TICKET_ENV, ref);
	if ((refcopy = strdup(ref)) == NULL ||
	    pam_set_data(c->pamh, PNK_DATA_TICKET, refcopy, free_data) !=
	    PAM_SUCCESS || pam_putenv(c->pamh, env) != PAM_SUCCESS) {
		free(refcopy);
		pnk_ticket_drop(c->o.rundir, ref);
		explicit_bzero(env, sizeof(env));
		return PAM_BUF_ERR;
	}
	explicit_bzero(env, sizeof(env));
	explicit_bzero(ref, sizeof(ref));
	return PAM_SUCCESS;
}

struct report_arg {
	struct ctx	*c;
	const char	*path;
};

static void
report_unused(void *arg, unsigned int line, const char *why)
{
	struct report_arg *ra = arg;

	lg(ra->c, LOG_NOTICE, "%s:%u: authorized key not used: %s", ra->path,
	    line, why);
}

/* Keep the keys whose options allow this login (from=, expiry-time=, ...). */
static void
use_here(struct ctx *c, const char *path)
{
	struct report_arg ra = { c, path };
	const void *item = NULL;
	const char *rhost = NULL;

	if (pam_get_item(c->pamh, PAM_RHOST, &item) == PAM_SUCCESS)
		rhost = item;
	pnk_keys_select(&c->keys, rhost, (int64_t)time(NULL), report_unused,
	    &ra);
}

/* krl=: authorized keys it revokes are marked and tried last. */
static int
revoked_keys(struct ctx *c)
{
	char why[512];
	size_t i;

	why[0] = '\0';
	if (pnk_rev_keys(c->rv, &c->keys, why, sizeof(why)) != PNK_REV_OK) {
		rev_failed(c, PNK_REV_UNAVAIL, why);
		return PAM_AUTHINFO_UNAVAIL;
	}
	for (i = 0; i < c->keys.n; i++)
		if (c->keys.key[i].revoked != NULL)
			lg(c, LOG_DEBUG, "authorized key line %u (%s) is revoked "
			    "by KRL %s (%s)", c->keys.key[i].line,
			    c->keys.key[i].fp, c->o.krl, c->keys.key[i].revoked);
	return PAM_SUCCESS;
}

static int
authenticate(struct ctx *c)
{
	char err[512], *path = NULL, *pin = NULL;
	size_t pinlen = 0;
	enum disc d;
	int retval = PAM_AUTH_ERR, r, have_file = 0;

	if ((retval = get_user(c)) != PAM_SUCCESS)
		goto out;
	retval = PAM_AUTH_ERR;
	if (c->o.ca != NULL && (retval = check_ca_file(c)) != PAM_SUCCESS)
		goto out;
	retval = PAM_AUTH_ERR;
	if (c->o.authfile != NULL) {
		if (pnk_expand_path(c->o.authfile, c->user, c->pw.pw_dir,
		    &path) != 0) {
			lg(c, LOG_ERR, "authfile=%s does not expand to an "
			    "absolute path", c->o.authfile);
			retval = PAM_SERVICE_ERR;
			goto out;
		}
		err[0] = '\0';
		r = pnk_keys_load(path, c->pw.pw_uid, &c->keys, err, sizeof(err));
		if (r == NKHSM_ERR_IO && errno == ENOENT && c->o.ca == NULL) {
			lg(c, LOG_NOTICE, "no authorized keys: %s", err);
		} else if (r == NKHSM_ERR_IO && errno == ENOENT) {
			have_file = 0;
		} else if (r == NKHSM_ERR_NOMEM) {
			lg(c, LOG_CRIT, "out of memory reading %s", path);
			retval = PAM_BUF_ERR;
			goto out;
		} else if (r != 0) {
			/* Unsafe or broken: refused, never taken as "no keys". */
			lg(c, LOG_ERR, "refusing authorized keys: %s", err);
			retval = PAM_AUTH_ERR;
			goto out;
		} else {
			have_file = 1;
			use_here(c, path);
		}
	}
	if (c->keys.n == 0 && c->o.ca == NULL) {
		if (have_file)
			lg(c, LOG_NOTICE, "%s holds no EC keys usable here", path);
		retval = c->o.nouserok ? PAM_IGNORE : PAM_USER_UNKNOWN;
		goto out;
	}
	/*
	 * Both run with our privileges: root's to change, or not at all
	 * (driver=pcsc never loads the module).
	 */
	if ((retval = pnk_code_pam(c->pamh, "token helper", c->o.helper != NULL ?
	    c->o.helper : NKHSM_HELPER_PATH)) != PAM_SUCCESS ||
	    (c->driver != PNK_DRIVER_PCSC && (retval = pnk_code_pam(c->pamh,
	    "PKCS#11 module", c->module)) != PAM_SUCCESS))
		goto out;
	if ((retval = revoked_keys(c)) != PAM_SUCCESS)
		goto out;
	retval = PAM_AUTH_ERR;
	d = discover(c, c->keys.n > 0 ? DISCOVER_KEYS : DISCOVER_CERTS);
	if (d == D_NO_KEY && c->keys.n > 0 && c->o.ca != NULL) {
		/* Not among the listed keys: try the CA's certificates. */
		d = discover(c, DISCOVER_CERTS);
	}
	if ((retval = found_or_why(c, d)) != PAM_SUCCESS ||
	    (retval = pin_state_allows(c)) != PAM_SUCCESS ||
	    (retval = get_pin(c, &pin, &pinlen)) != PAM_SUCCESS)
		goto out;
	if (pin != NULL && ((c->f.minpin > 0 && pinlen < c->f.minpin) ||
	    (c->f.maxpin > 0 && pinlen > c->f.maxpin) || pinlen > NKHSM_PIN_MAX)) {
		/* A PIN the token cannot accept is not worth a try. */
		lg(c, LOG_NOTICE, "PIN length outside %u..%u; not submitted",
		    c->f.minpin, c->f.maxpin);
		say(c, PAM_ERROR_MSG, "The PIN must have %u to %u characters.",
		    c->f.minpin, c->f.maxpin > 0 && c->f.maxpin < NKHSM_PIN_MAX ?
		    c->f.maxpin : NKHSM_PIN_MAX);
		retval = PAM_AUTH_ERR;
		goto out;
	}
	retval = login_and_verify(c, pin != NULL ? pin : "", pinlen);
	if (retval != PAM_SUCCESS)
		goto out;
	lg(c, LOG_INFO, "authenticated");
	retval = hand_over(c);
 out:
	if (pin != NULL)
		nk_freezero(pin, pinlen);
	free(path);
	return retval;
}

PAM_EXTERN int
pam_sm_authenticate(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	struct ctx c;
	int retval;

	if ((retval = ctx_init(&c, pamh, argc, argv)) == PAM_SUCCESS)
		retval = authenticate(&c);
	if (retval != PAM_SUCCESS && retval != PAM_IGNORE)
		lg(&c, LOG_NOTICE, "authentication failed: %s",
		    pam_strerror(pamh, retval));
	ctx_free(&c);
	return retval;
}

PAM_EXTERN int
pam_sm_setcred(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return PAM_SUCCESS;
}

PAM_EXTERN int
pam_sm_acct_mgmt(pam_handle_t *pamh, int flags, int argc, const char **argv)
{
	return PAM_IGNORE;	/* accounts are another module's business */
}
