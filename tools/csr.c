/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * csr.c - nkhsm-tool csr and import. csr makes a PKCS#10 request signed by
 * the token key; a CA (nkhsm-sshca x509 --profile login) turns it into a
 * certificate, and import stores that on the token beside the key (same
 * CKA_ID and label), where pam_nkhsm's ca= mode finds it. import checks
 * first that the certificate's public key is the token key, and applies
 * the key checks every reader shares (libnkhsm).
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "nkhsm.h"
#include "cli.h"
#include "csr.h"

#define CSR_DAYS_MAX	3650	/* as nkhsm-sshca x509 --days */
#define CERT_FILE_MAX	(64 * 1024)

/* --days N: how long to ask the CA for; a request has no field for it. */
static int
parse_days(const char *s, long *daysp)
{
	char *end;

	*daysp = 0;
	if (s == NULL)
		return 0;
	errno = 0;
	*daysp = strtol(s, &end, 10);
	if (*s < '0' || *s > '9' || errno != 0 || *end != '\0' || *daysp < 1 ||
	    *daysp > CSR_DAYS_MAX) {
		cli_errx("--days must be a number from 1 to %d", CSR_DAYS_MAX);
		return EX_USAGE;
	}
	return 0;
}

static int
write_csr(X509_REQ *req, const char *output)
{
	BIO *bio;
	char *pem;
	long pemlen;
	int ret = EX_FAIL;

	if ((bio = BIO_new(BIO_s_mem())) == NULL ||
	    !PEM_write_bio_X509_REQ(bio, req) ||
	    (pemlen = BIO_get_mem_data(bio, &pem)) <= 0)
		goto out;
	if (cli_write_atomic(output, pem, (size_t)pemlen, 0644) != 0) {
		cli_errx("cannot write %s: %s", output, strerror(errno));
		goto out;
	}
	ret = EX_OK;
 out:
	BIO_free(bio);
	return ret;
}

int
tool_csr(const struct cli_common *c, const char *uri, const char *subject,
    const char *days, const char *output)
{
	nkhsm_key_t *key = NULL;
	X509_REQ *req = NULL;
	X509_NAME *name = NULL;
	struct cli_env e;
	long ndays;
	int r, ret;

	memset(&e, 0, sizeof(e));
	if (subject == NULL || output == NULL) {
		cli_errx("csr needs --subject DN and -o FILE");
		return EX_USAGE;
	}
	if ((ret = parse_days(days, &ndays)) != 0)
		return ret;
	if (nkhsm_name_parse(subject, &name) != 0) {
		cli_errx("invalid --subject '%s' (use CN=name,O=org or /CN=name/O=org)",
		    subject);
		return EX_USAGE;
	}
	X509_NAME_free(name);
	if ((ret = cli_env_open(&e, c, uri)) != 0 ||
	    (ret = cli_env_token(&e)) != 0 || (ret = cli_env_key(&e, &key)) != 0)
		goto out;
	if (nkhsm_key_pubkey(key) == NULL) {
		cli_errx("the token holds no public key for this key");
		ret = EX_NOKEY;
		goto out;
	}
	if ((ret = cli_env_login(&e, c)) != 0)
		goto out;
	if ((r = nkhsm_csr(key, subject, &req)) != 0) {
		cli_errx("cannot make the request: %s", nkhsm_strerror(r));
		ret = cli_exit_for(r);
		goto out;
	}
	if ((ret = write_csr(req, output)) != 0)
		goto out;
	if (strcmp(output, "-") != 0)
		fprintf(stderr, "wrote %s; the CA makes the certificate with\n"
		    "  nkhsm-sshca x509 --csr %s --profile login%s%.6s -o CERT\n"
		    "and 'nkhsm-tool import --cert CERT URI' stores it on the "
		    "token\n", output, output, days != NULL ? " --days " : "",
		    days != NULL ? days : "");
	ret = EX_OK;
 out:
	X509_REQ_free(req);
	nkhsm_key_free(&key);
	cli_env_free(&e);
	return ret;
}

/* One certificate, PEM or DER, and nothing after it. */
static int
read_cert(const char *path, X509 **certp)
{
	const unsigned char *p;
	uint8_t *data = NULL;
	size_t len = 0;
	BIO *bio;
	X509 *x = NULL, *y;

	*certp = NULL;
	if (cli_read_all(path, &data, &len) != 0) {
		cli_errx("cannot read %s: %s", path, strerror(errno));
		return EX_FAIL;
	}
	if (len > CERT_FILE_MAX) {
		cli_errx("%s: larger than %d bytes", path, CERT_FILE_MAX);
		free(data);
		return EX_USAGE;
	}
	if (len > 0 && data[0] == 0x30) {
		p = data;
		if ((x = d2i_X509(NULL, &p, (long)len)) != NULL &&
		    p != data + len) {
			X509_free(x);
			x = NULL;
		}
	} else if ((bio = BIO_new_mem_buf(data, (int)len)) != NULL) {
		x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
		/* A second certificate would be a chain: say which one is meant. */
		if (x != NULL && (y = PEM_read_bio_X509(bio, NULL, NULL,
		    NULL)) != NULL) {
			X509_free(y);
			X509_free(x);
			x = NULL;
		}
		ERR_clear_error();
		BIO_free(bio);
	}
	free(data);
	if (x == NULL) {
		cli_errx("%s: not one PEM or DER certificate", path);
		return EX_USAGE;
	}
	*certp = x;
	return 0;
}

/* The certificate's key: one libnkhsm accepts, and the token key. */
static int
check_cert_key(X509 *x, nkhsm_key_t *key, const char *path)
{
	EVP_PKEY *pub = X509_get0_pubkey(x);
	char why[256];

	why[0] = '\0';
	if (pub == NULL || nkhsm_pkey_check(pub, why, sizeof(why)) != 0) {
		cli_errx("%s: the certificate's key is refused: %s", path,
		    why[0] != '\0' ? why : "unreadable");
		return EX_USAGE;
	}
	if (nkhsm_key_pubkey(key) == NULL ||
	    nkhsm_pubkey_equal(pub, nkhsm_key_pubkey(key)) != 1) {
		cli_errx("%s: the certificate is for another key, not this "
		    "token key", path);
		return EX_NOKEY;
	}
	return 0;
}

int
tool_import(const struct cli_common *c, const char *uri, const char *certfile)
{
	nkhsm_key_t *key = NULL;
	X509 *x = NULL;
	struct cli_env e;
	int r, ret;

	memset(&e, 0, sizeof(e));
	if (certfile == NULL) {
		cli_errx("import needs --cert FILE");
		return EX_USAGE;
	}
	if ((ret = read_cert(certfile, &x)) != 0)
		return ret;
	if ((ret = cli_env_open(&e, c, uri)) != 0 ||
	    (ret = cli_env_token(&e)) != 0 || (ret = cli_env_key(&e, &key)) != 0 ||
	    (ret = check_cert_key(x, key, certfile)) != 0 ||
	    (ret = cli_env_login(&e, c)) != 0)
		goto out;
	if ((r = nkhsm_token_store_cert(key, x)) != 0) {
		if (r == NKHSM_ERR_EXISTS)
			cli_errx("the token already holds a certificate for this "
			    "key; nothing was changed");
		else
			cli_errx("cannot store the certificate: %s",
			    nkhsm_strerror(r));
		ret = cli_exit_for(r);
		goto out;
	}
	fprintf(stderr, "stored %s on the token beside its key\n", certfile);
	ret = EX_OK;
 out:
	X509_free(x);
	nkhsm_key_free(&key);
	cli_env_free(&e);
	return ret;
}
