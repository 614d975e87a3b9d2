/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd-join.c - nkhsm-sshca init --join --key URI --ledger URL: a second CA
 * site, whose token holds a copy of the CA key (a SmartCard-HSM clones it
 * through DKEK key wrapping), joins the CA that a shared ledger holds. The
 * token must prove that it holds the ledger's CA key: it signs a fresh
 * challenge, verified in software with the key of the CA certificate the
 * ledger records (a public key object on the token proves nothing). The
 * site's state directory then holds its own settings (site.conf) and
 * ca.pem; the ledger is not changed.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/rand.h>

#include "nkhsm.h"
#include "cli.h"
#include "cmd.h"
#include "ledger.h"

#define CHALLENGE_LEN	32
#define CHALLENGE_TAG	"nkhsm-sshca init --join"

/* What --join takes and needs; a state directory that is no CA yet. */
static int
join_args(struct ca *ca)
{
	static const char *const files[] = { SC_SITE_FILE, "ca.pem",
	    LEDGER_FILE };
	const struct opts *o = ca->o;
	char path[FILE_MAX];
	size_t i;

	if (o->key == NULL) {
		cli_errx("init --join needs --key URI: this site's copy of the CA "
		    "key");
		return EX_USAGE;
	}
	if (o->curve != NULL || o->label != NULL || o->subject != NULL ||
	    o->days != NULL) {
		cli_errx("init --join takes the CA from the ledger: --curve, "
		    "--label, --subject and --days do not apply");
		return EX_USAGE;
	}
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", ca->dir, files[i]);
		if (access(path, F_OK) == 0) {
			cli_errx("%s is already a CA (%s)", ca->dir, files[i]);
			return EX_EXISTS;
		}
	}
	if (ca->ledger == NULL) {
		cli_errx("init --join needs the shared ledger: --ledger URL (or "
		    "ledger = in nkhsm.conf)");
		return EX_USAGE;
	}
	return 0;
}

/* The CA the ledger holds: its certificate, whose key is ca_pubkey. */
static int
ledger_ca(struct ca *ca, char **linep)
{
	EVP_PKEY *pub = NULL;
	char *pem = NULL;
	BIO *bio = NULL;
	int ret = EX_USAGE;

	*linep = NULL;
	if (sc_ledger_meta_get(ca->l, "ca_pubkey", linep) != 0 ||
	    sc_ledger_meta_get(ca->l, "ca_cert", &pem) != 0) {
		cli_errx("the ledger holds no CA yet (run nkhsm-sshca init "
		    "--ledger URL at the first site)");
		goto out;
	}
	if ((bio = BIO_new_mem_buf(pem, -1)) == NULL ||
	    (ca->cacert = PEM_read_bio_X509(bio, NULL, NULL, NULL)) == NULL ||
	    nkhsm_pubkey_from_ssh(*linep, &pub, NULL) != 0 ||
	    !nkhsm_pubkey_equal(pub, X509_get0_pubkey(ca->cacert))) {
		cli_errx("the ledger's CA certificate and CA key do not match");
		ret = EX_FAIL;
		goto out;
	}
	ret = 0;
 out:
	EVP_PKEY_free(pub);
	BIO_free(bio);
	free(pem);
	return ret;
}

/*
 * The token signs a fresh challenge with the key --key names, and the
 * signature must verify with the CA certificate's key.
 */
static int
prove_key(struct ca *ca)
{
	uint8_t msg[sizeof(CHALLENGE_TAG) + CHALLENGE_LEN], *sig = NULL;
	EVP_PKEY *pub;
	size_t siglen = 0;
	int r, ret = EX_NOKEY;

	if ((pub = nkhsm_key_pubkey(ca->key)) == NULL ||
	    !nkhsm_pubkey_equal(pub, X509_get0_pubkey(ca->cacert))) {
		cli_errx("the key on this token is not the ledger's CA key");
		return EX_NOKEY;
	}
	memcpy(msg, CHALLENGE_TAG, sizeof(CHALLENGE_TAG));
	if (RAND_bytes(msg + sizeof(CHALLENGE_TAG), CHALLENGE_LEN) != 1)
		return EX_FAIL;
	if ((r = nkhsm_key_sign(ca->key, msg, sizeof(msg), NKHSM_SIG_RAW, &sig,
	    &siglen)) != 0) {
		cli_errx("the token cannot sign: %s", nkhsm_strerror(r));
		return cli_exit_for(r);
	}
	if (nkhsm_verify(X509_get0_pubkey(ca->cacert), msg, sizeof(msg),
	    NKHSM_SIG_RAW, sig, siglen) != 0)
		cli_errx("the key on this token is not the ledger's CA key: its "
		    "signature does not verify with the CA certificate's key");
	else
		ret = 0;
	free(sig);
	return ret;
}

/* This site's token and its copy of the CA key, proved. */
static int
join_key(struct ca *ca)
{
	struct opts *o = ca->o;
	int r, ret;

	if ((ret = cli_env_open(&ca->e, &o->c, o->key)) != 0)
		return ret;
	ca->have_env = 1;
	if ((ret = cli_env_token(&ca->e)) != 0 ||
	    (ret = cli_env_login(&ca->e, &o->c)) != 0 ||
	    (ret = cli_env_key(&ca->e, &ca->key)) != 0 ||
	    (ret = prove_key(ca)) != 0)
		return ret;
	/* Next to the key, as init stores it (a copy may be there already). */
	r = nkhsm_token_store_cert(ca->key, ca->cacert);
	if (r != 0 && r != NKHSM_ERR_EXISTS) {
		cli_errx("cannot store the CA certificate on the token: %s",
		    nkhsm_strerror(r));
		return cli_exit_for(r);
	}
	return 0;
}

/* ca.pem from the ledger, then site.conf: the site is ready. */
static int
join_write(struct ca *ca)
{
	const uint8_t *id;
	char path[FILE_MAX], *uri = NULL;
	size_t idlen;
	int ret = EX_FAIL;

	id = nkhsm_key_id(ca->key, &idlen);
	if (nkhsm_uri_format(NULL, nkhsm_token_serial(ca->e.tok), NULL, id,
	    idlen, NKHSM_OBJ_PRIVATE, &uri) != 0)
		return EX_FAIL;
	snprintf(path, sizeof(path), "%s/ca.pem", ca->dir);
	if (ca_write_pem(path, ca->cacert, NULL) != 0)
		cli_errx("cannot write %s", path);
	else if ((ret = ca_write_site(ca, ca->e.module, uri)) == 0 &&
	    !ca->o->quiet)
		fprintf(stderr, "this site joined the CA in %s (key %s)\n",
		    ca->dir, uri);
	free(uri);
	return ret;
}

int
cmd_init_join(struct ca *ca)
{
	char *line = NULL;
	int ret;

	if ((ret = ca_state_dir(ca, 1)) != 0 || (ret = ca_settings(ca)) != 0 ||
	    (ret = join_args(ca)) != 0 || (ret = ca_open_ledger(ca, 0)) != 0 ||
	    (ret = ledger_ca(ca, &line)) != 0 || (ret = join_key(ca)) != 0 ||
	    (ret = join_write(ca)) != 0)
		goto out;
	printf("%s\n", line);
	ret = 0;
 out:
	free(line);
	return ret;
}
