/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd-init.c - nkhsm-sshca init: the CA key on the token (made, or given
 * with --key), its self-signed certificate (on the token and in ca.pem),
 * and the ledger with the CA's settings. On a ledger other than
 * STATE/ledger.db (which other sites may join: cmd-join.c), the site's own
 * settings (module, key URI) go to STATE/site.conf and the ledger keeps
 * what all sites share: the CA's public key and certificate.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


#include "nkhsm.h"
#include "cli.h"
#include "cmd.h"
#include "ledger.h"

/* What init makes, between the token and the ledger. */
struct made {
	X509		*cert;
	char		*uri;		/* the key's URI: token serial and id */
	char		*line;		/* the CA's OpenSSH public key line */
	char		*pem;		/* the certificate, for the ledger */
};

static void
made_free(struct made *m)
{
	X509_free(m->cert);
	free(m->uri);
	free(m->line);
	free(m->pem);
}

static int
init_args(const struct opts *o, nkhsm_curve_t *curvep, long *daysp)
{
	*curvep = NKHSM_CURVE_P256;
	*daysp = 3650;
	if (o->curve != NULL && (nkhsm_curve_from_name(o->curve, curvep) != 0 ||
	    *curvep == NKHSM_CURVE_P521)) {
		cli_errx("--curve must be p256 or p384 (P-521 is not accepted by "
		    "many X.509 verifiers)");
		return EX_USAGE;
	}
	if (o->days != NULL && (*daysp = ca_parse_num(o->days, 1, 36500)) < 0) {
		cli_errx("--days must be 1 to 36500");
		return EX_USAGE;
	}
	return 0;
}

/* Log in, then the key: --key's, or a new one. */
static int
init_key(struct ca *ca, nkhsm_curve_t curve)
{
	struct opts *o = ca->o;
	int r, ret;

	if ((ret = cli_env_open(&ca->e, &o->c, o->key)) != 0)
		return ret;
	ca->have_env = 1;
	if ((ret = cli_env_token(&ca->e)) != 0 ||
	    (ret = cli_env_login(&ca->e, &o->c)) != 0)
		return ret;
	if (o->key != NULL)
		return cli_env_key(&ca->e, &ca->key);
	if ((r = nkhsm_keygen(ca->e.tok, curve, o->label != NULL ? o->label :
	    "nkhsm-sshca", NULL, 0, &ca->key, NULL)) != 0) {
		cli_errx("cannot generate the CA key: %s%s", nkhsm_strerror(r),
		    r == NKHSM_ERR_EXISTS ? " (use --key URI for an existing key, "
		    "or --label)" : "");
		return cli_exit_for(r);
	}
	return 0;
}

/* The self-signed CA certificate, stored on the token next to the key. */
static int
init_cacert(struct ca *ca, long days, struct made *m)
{
	const struct opts *o = ca->o;
	const uint8_t *id;
	size_t idlen;
	int r;

	if ((r = nkhsm_selfsign(ca->key, o->subject != NULL ? o->subject :
	    "CN=nkhsm-sshca CA", (unsigned int)days, NKHSM_SELFSIGN_CA,
	    &m->cert)) != 0) {
		cli_errx("cannot make the CA certificate: %s", nkhsm_strerror(r));
		return cli_exit_for(r);
	}
	r = nkhsm_token_store_cert(ca->key, m->cert);
	if (r != 0 && r != NKHSM_ERR_EXISTS) {
		cli_errx("cannot store the CA certificate on the token: %s",
		    nkhsm_strerror(r));
		return cli_exit_for(r);
	}
	id = nkhsm_key_id(ca->key, &idlen);
	if (nkhsm_uri_format(NULL, nkhsm_token_serial(ca->e.tok), NULL, id,
	    idlen, NKHSM_OBJ_PRIVATE, &m->uri) != 0 ||
	    nkhsm_pubkey_to_ssh(nkhsm_key_pubkey(ca->key), "nkhsm-sshca",
	    &m->line) != 0 || ca_pem(m->cert, NULL, &m->pem) != 0)
		return EX_FAIL;
	return 0;
}

/* ca.pem, written whole or not at all. */
static int
write_cacert(const struct ca *ca, X509 *cert)
{
	char path[FILE_MAX];

	snprintf(path, sizeof(path), "%s/ca.pem", ca->dir);
	if (ca_write_pem(path, cert, NULL) != 0) {
		cli_errx("cannot write %s: %s", path, strerror(errno));
		return EX_FAIL;
	}
	return 0;
}

/*
 * The settings, each with its log entry (verify-log checks them): what
 * every site shares, and on STATE/ledger.db the module and key URI too.
 */
static int
init_record(struct ca *ca, const struct made *m)
{
	const char *const keys[] = { "ca_pubkey", "ca_cert", "module",
	    "key_uri" };
	const char *const vals[] = { m->line, m->pem, ca->e.module, m->uri };
	char err[512];
	int r;

	err[0] = '\0';
	if ((r = sc_ledger_init(ca->l, keys, vals, ca->ledger == NULL ? 4 : 2,
	    err, sizeof(err))) != 0) {
		cli_errx("cannot record the CA in the ledger: %s", err);
		return r == NKHSM_ERR_EXISTS ? EX_EXISTS : ca_ledger_failed(ca);
	}
	if (ca->ledger != NULL && ca_write_site(ca, ca->e.module, m->uri) != 0) {
		cli_errx("the CA is in the ledger; finish this site with init "
		    "--join --key %s", m->uri);
		return EX_FAIL;
	}
	return 0;
}

/* No CA yet: neither in the state directory nor in the ledger. */
static int
check_new(struct ca *ca)
{
	char *existing = NULL;

	if (ca->have_site) {
		cli_errx("%s is already a CA (%s)", ca->dir, SC_SITE_FILE);
		return EX_EXISTS;
	}
	if (sc_ledger_meta_get(ca->l, "key_uri", &existing) == 0) {
		cli_errx("%s is already a CA (key %s)", ca->dir, existing);
		free(existing);
		return EX_EXISTS;
	}
	if (sc_ledger_meta_get(ca->l, "ca_pubkey", &existing) == 0) {
		cli_errx("the ledger already holds a CA (%s); add this site to it "
		    "with init --join --key URI", existing);
		free(existing);
		return EX_EXISTS;
	}
	return 0;
}

/* Leave no half-made CA behind: the ledger this init created. */
static void
remove_ledger(struct ca *ca)
{
	static const char *const files[] = { "", "-wal", "-shm" };
	char path[FILE_MAX];
	size_t i;

	sc_ledger_close(&ca->l);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/" LEDGER_FILE "%s", ca->dir,
		    files[i]);
		unlink(path);
	}
}

int
cmd_init(struct ca *ca, int argc, char **argv)
{
	struct opts *o = ca->o;
	struct made m;
	nkhsm_curve_t curve;
	char path[FILE_MAX];
	long days;
	int ret, fresh;

	memset(&m, 0, sizeof(m));
	if (o->join)
		return cmd_init_join(ca);
	if ((ret = init_args(o, &curve, &days)) != 0 ||
	    (ret = ca_state_dir(ca, 1)) != 0 || (ret = ca_settings(ca)) != 0)
		return ret;
	snprintf(path, sizeof(path), "%s/" LEDGER_FILE, ca->dir);
	fresh = ca->ledger == NULL && access(path, F_OK) != 0;
	if ((ret = ca_open_ledger(ca, SC_LEDGER_CREATE)) != 0 ||
	    (ret = check_new(ca)) != 0)
		return ret;
	if ((ret = init_key(ca, curve)) != 0 ||
	    (ret = init_cacert(ca, days, &m)) != 0 ||
	    (ret = write_cacert(ca, m.cert)) != 0 ||
	    (ret = init_record(ca, &m)) != 0)
		goto out;
	if (!o->quiet)
		fprintf(stderr, "CA ready in %s (key %s)\n"
		    "Trust it in sshd_config:   TrustedUserCAKeys FILE-WITH-THE-LINE-BELOW\n"
		    "and in known_hosts:        @cert-authority *.example.com LINE\n",
		    ca->dir, m.uri);
	printf("%s\n", m.line);
	ret = 0;
 out:
	if (ret != 0 && fresh)
		remove_ledger(ca);
	made_free(&m);
	return ret;
}
