/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * ca.c - what nkhsm-sshca's commands share: the state directory, the
 * ledger, the CA key on the token (checked against ca.pem), and reading
 * the small files the commands take.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "nkhsm.h"
#include "cli.h"
#include "cmd.h"
#include "ledger.h"

void
ca_free(struct ca *ca)
{
	nkhsm_key_free(&ca->key);
	if (ca->have_env)
		cli_env_free(&ca->e);
	sc_ledger_close(&ca->l);
	free(ca->ca_blob);
	X509_free(ca->cacert);
	nkhsm_ecverify_free(&ca->verify);
	sc_site_free(&ca->site);
	free(ca->ledger);
}

/* mkdir -p, the last component private. */
static int
make_dirs(char *dir)
{
	char *p;

	for (p = dir + 1; (p = strchr(p, '/')) != NULL; p++) {
		*p = '\0';
		if (mkdir(dir, 0755) == -1 && errno != EEXIST) {
			cli_errx("cannot create %s: %s", dir, strerror(errno));
			*p = '/';
			return EX_FAIL;
		}
		*p = '/';
	}
	if (mkdir(dir, 0700) == -1 && errno != EEXIST) {
		cli_errx("cannot create %s: %s", dir, strerror(errno));
		return EX_FAIL;
	}
	return 0;
}

int
ca_state_dir(struct ca *ca, int create)
{
	const char *home, *d = ca->o->state;
	struct stat st;
	char buf[STATE_MAX];
	int ret;

	if (d == NULL && getuid() == 0)
		d = "/var/lib/nkhsm-sshca";
	if (d == NULL) {
		if ((home = getenv("HOME")) == NULL || *home != '/') {
			cli_errx("no --state and no HOME");
			return EX_USAGE;
		}
		snprintf(buf, sizeof(buf), "%s/.local/share/nkhsm-sshca", home);
		d = buf;
	}
	if (strlen(d) >= sizeof(ca->dir)) {
		cli_errx("--state path too long");
		return EX_USAGE;
	}
	snprintf(ca->dir, sizeof(ca->dir), "%s", d);
	if (create && (ret = make_dirs(ca->dir)) != 0)
		return ret;
	if (lstat(ca->dir, &st) == -1 || !S_ISDIR(st.st_mode)) {
		cli_errx("%s: no CA state here (run nkhsm-sshca init)", ca->dir);
		return EX_USAGE;
	}
	if (st.st_uid != getuid() || (st.st_mode & (S_IWGRP | S_IWOTH))) {
		cli_errx("%s: must be owned by you and not writable by others",
		    ca->dir);
		return EX_USAGE;
	}
	return 0;
}

/* nkhsm.conf's ledger = (the file cli_env_open reads too). */
static int
conf_ledger(const struct ca *ca, char **urlp)
{
	nkhsm_conf_t *conf = NULL;
	char err[512];
	const char *url;
	int r;

	*urlp = NULL;
	err[0] = '\0';
	if ((r = nkhsm_conf_load(ca->o->c.config, (long)getuid(), &conf, err,
	    sizeof(err))) != 0) {
		cli_errx("%s", err[0] != '\0' ? err : nkhsm_strerror(r));
		return r == NKHSM_ERR_NOMEM ? EX_FAIL : EX_USAGE;
	}
	if ((url = nkhsm_conf_ledger(conf)) != NULL &&
	    (*urlp = strdup(url)) == NULL)
		r = NKHSM_ERR_NOMEM;
	nkhsm_conf_free(&conf);
	return r == 0 ? 0 : EX_FAIL;
}

int
ca_settings(struct ca *ca)
{
	char err[512], path[FILE_MAX];
	const char *url;
	int r;

	if (ca->settled)
		return 0;
	err[0] = '\0';
	if ((r = sc_site_load(ca->dir, &ca->site, err, sizeof(err))) == 0)
		ca->have_site = 1;
	else if (r != NKHSM_ERR_NO_KEY) {
		cli_errx("%s", err[0] != '\0' ? err : nkhsm_strerror(r));
		return r == NKHSM_ERR_NOMEM ? EX_FAIL : EX_USAGE;
	}
	url = ca->o->ledger != NULL ? ca->o->ledger : ca->site.ledger;
	if (url != NULL && (ca->ledger = strdup(url)) == NULL)
		return EX_FAIL;
	/* A state with a ledger of its own keeps it, whatever nkhsm.conf says. */
	snprintf(path, sizeof(path), "%s/" LEDGER_FILE, ca->dir);
	if (url == NULL && access(path, F_OK) != 0 &&
	    (r = conf_ledger(ca, &ca->ledger)) != 0)
		return r;
	if (ca->ledger != NULL && sc_ledger_url_check(ca->ledger, err,
	    sizeof(err)) != 0) {
		cli_errx("%s", err);
		return EX_USAGE;
	}
	ca->settled = 1;
	return 0;
}

int
ca_open_ledger(struct ca *ca, unsigned int flags)
{
	char err[512];
	int r, ret;

	if ((ret = ca_settings(ca)) != 0)
		return ret;
	err[0] = '\0';
	if ((r = sc_ledger_open(ca->ledger, ca->dir, flags, &ca->l, err,
	    sizeof(err))) != 0) {
		cli_errx("%s", err);
		/* An older ledger is a state to migrate, not a failure. */
		return r == NKHSM_ERR_UNSUPPORTED ||
		    r == NKHSM_ERR_INVALID_ARGUMENT ? EX_USAGE :
		    r == SC_LEDGER_ERR_UNREACHABLE ? EX_LEDGER : EX_FAIL;
	}
	return 0;
}

int
ca_write_site(const struct ca *ca, const char *module, const char *key)
{
	struct sc_site s;
	char path[FILE_MAX], *text = NULL;
	int ret = EX_FAIL;

	memset(&s, 0, sizeof(s));
	s.ledger = ca->ledger;
	s.module = (char *)module;
	s.key = (char *)key;
	snprintf(path, sizeof(path), "%s/%s", ca->dir, SC_SITE_FILE);
	if (sc_site_format(&s, &text) != 0)
		return EX_FAIL;
	if (cli_write_atomic(path, text, strlen(text), 0600) != 0)
		cli_errx("cannot write %s: %s", path, strerror(errno));
	else
		ret = 0;
	free(text);
	return ret;
}

int
ca_ledger_failed(const struct ca *ca)
{
	return sc_ledger_lost(ca->l) ? EX_LEDGER : EX_FAIL;
}

long
ca_parse_num(const char *s, long min, long max)
{
	char *end;
	long v;

	if (s == NULL || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	return v;
}

int
ca_read_text(const char *path, char **outp)
{
	uint8_t *d = NULL, *nd;
	size_t len = 0;

	*outp = NULL;
	if (cli_read_all(path, &d, &len) != 0)
		return -1;
	if ((nd = realloc(d, len + 1)) == NULL) {
		free(d);
		return -1;
	}
	nd[len] = '\0';
	*outp = (char *)nd;
	return 0;
}

int
ca_read_pubkey(const char *path, unsigned int flags, struct sc_pubkey *pk)
{
	uint8_t *data = NULL;
	size_t len = 0;
	char err[1024];
	int r;

	memset(pk, 0, sizeof(*pk));
	if (cli_read_all(path, &data, &len) != 0) {
		cli_errx("%s: %s", path, strerror(errno));
		return EX_USAGE;
	}
	err[0] = '\0';
	r = sc_pubkey_file(path, (const char *)data, len, flags, pk, err,
	    sizeof(err));
	free(data);
	if (r != 0) {
		cli_errx("%s", err[0] != '\0' ? err : nkhsm_strerror(r));
		return r == NKHSM_ERR_NOMEM ? EX_FAIL : EX_USAGE;
	}
	return 0;
}

int
ca_pem(const X509 *cert, const X509_CRL *crl, char **pemp)
{
	BIO *bio;
	char *pem;
	long len;
	int ret = -1;

	*pemp = NULL;
	if ((bio = BIO_new(BIO_s_mem())) != NULL &&
	    (cert != NULL ? PEM_write_bio_X509(bio, cert) :
	    PEM_write_bio_X509_CRL(bio, crl)) &&
	    (len = BIO_get_mem_data(bio, &pem)) > 0 &&
	    (*pemp = strndup(pem, (size_t)len)) != NULL)
		ret = 0;
	BIO_free(bio);
	return ret;
}

int
ca_write_pem(const char *path, const X509 *cert, const X509_CRL *crl)
{
	char *pem = NULL;
	int ret = -1;

	if (ca_pem(cert, crl, &pem) == 0 &&
	    cli_write_atomic(path, pem, strlen(pem), 0644) == 0)
		ret = 0;
	free(pem);
	return ret;
}

/* STATE/ca.pem, the CA certificate. */
static int
read_cacert(struct ca *ca)
{
	char path[FILE_MAX], *pem = NULL;
	BIO *bio;

	snprintf(path, sizeof(path), "%s/ca.pem", ca->dir);
	if (ca_read_text(path, &pem) != 0 ||
	    (bio = BIO_new_mem_buf(pem, -1)) == NULL) {
		free(pem);
		cli_errx("cannot read %s", path);
		return EX_FAIL;
	}
	ca->cacert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	free(pem);
	if (ca->cacert == NULL) {
		cli_errx("%s: not a PEM certificate", path);
		return EX_FAIL;
	}
	return 0;
}

/* The CA key the ledger records must be ca.pem's: one CA, one ledger. */
static int
check_ledger_key(struct ca *ca)
{
	EVP_PKEY *pub = NULL;
	char *line = NULL;
	int ret = EX_USAGE;

	if (sc_ledger_meta_get(ca->l, "ca_pubkey", &line) != 0)
		cli_errx("%s: not an initialized CA (run nkhsm-sshca init)", ca->dir);
	else if (nkhsm_pubkey_from_ssh(line, &pub, NULL) != 0 ||
	    !nkhsm_pubkey_equal(pub, X509_get0_pubkey(ca->cacert)))
		cli_errx("the ledger is another CA's: its CA key is not ca.pem's");
	else
		ret = 0;
	EVP_PKEY_free(pub);
	free(line);
	return ret;
}

/* The token's key must be the one the CA certificate certifies. */
static int
check_key(struct ca *ca)
{
	EVP_PKEY *pub;
	nkhsm_point_t pt;
	int r;

	if ((pub = nkhsm_key_pubkey(ca->key)) == NULL ||
	    !nkhsm_pubkey_equal(pub, X509_get0_pubkey(ca->cacert))) {
		cli_errx("the key on the token is not the CA's (ca.pem)");
		return EX_NOKEY;
	}
	if ((r = nkhsm_pubkey_to_ssh_blob(pub, &ca->ca_blob, &ca->ca_len)) != 0 ||
	    (r = nkhsm_point_from_pkey(pub, &pt)) != 0 ||
	    (r = nkhsm_ecverify_new(&pt, &ca->verify)) != 0) {
		cli_errx("%s", nkhsm_strerror(r));
		return EX_FAIL;
	}
	return 0;
}

/* The module and key URI: the site's own, else the ledger's. */
static int
key_settings(struct ca *ca, char **modulep, char **urip)
{
	*modulep = *urip = NULL;
	if (ca->have_site && ca->site.module != NULL && ca->site.key != NULL) {
		if ((*modulep = strdup(ca->site.module)) == NULL ||
		    (*urip = strdup(ca->site.key)) == NULL)
			return EX_FAIL;
		return 0;
	}
	if (sc_ledger_meta_get(ca->l, "key_uri", urip) != 0 ||
	    sc_ledger_meta_get(ca->l, "module", modulep) != 0) {
		cli_errx("%s: not an initialized CA (run nkhsm-sshca init)", ca->dir);
		return EX_USAGE;
	}
	return 0;
}

int
ca_load(struct ca *ca, int login)
{
	char *module = NULL, *uri = NULL;
	int ret;

	if ((ret = ca_open_ledger(ca, 0)) != 0 ||
	    (ret = key_settings(ca, &module, &uri)) != 0 ||
	    (ret = read_cacert(ca)) != 0 || (ret = check_ledger_key(ca)) != 0)
		goto out;
	if (ca->o->c.module == NULL)
		ca->o->c.module = module;
	if ((ret = cli_env_open(&ca->e, &ca->o->c, ca->o->key != NULL ?
	    ca->o->key : uri)) != 0)
		goto out;
	ca->have_env = 1;
	if ((ret = cli_env_token(&ca->e)) != 0 ||
	    (ret = cli_env_key(&ca->e, &ca->key)) != 0 ||
	    (ret = check_key(ca)) != 0)
		goto out;
	if (login && (ret = cli_env_login(&ca->e, &ca->o->c)) != 0)
		goto out;
	ret = 0;
 out:
	/* module is referenced by o->c.module until exit: kept. */
	if (ret != 0 || ca->o->c.module != module)
		free(module);
	free(uri);
	return ret;
}
