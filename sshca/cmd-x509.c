/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd-x509.c - nkhsm-sshca x509: an X.509 certificate for a request's key
 * or a public key, signed on the token, verified, recorded in the ledger
 * and only then written.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "nkhsm.h"
#include "nk-int.h"
#include "buf.h"
#include "cli.h"
#include "cmd.h"
#include "ledger.h"
#include "x509ca.h"

/* "SHA256:" of the DER SubjectPublicKeyInfo, for X.509 subjects. */
static int
spki_fp(EVP_PKEY *pub, char **fpp, char **pemp)
{
	unsigned char *der = NULL;
	uint8_t md[32];
	unsigned int mdlen = 0;
	char *b64 = NULL;
	int len, r = -1;

	*fpp = NULL;
	if ((len = i2d_PUBKEY(pub, &der)) <= 0 ||
	    !EVP_Digest(der, (size_t)len, md, &mdlen, EVP_sha256(), NULL) ||
	    nk_b64_encode(md, mdlen, 0, &b64) != 0 ||
	    asprintf(fpp, "SHA256:%s", b64) == -1)
		goto out;
	if (nkhsm_pubkey_to_pem(pub, pemp) != 0) {
		free(*fpp);
		*fpp = NULL;
		goto out;
	}
	r = 0;
 out:
	OPENSSL_free(der);
	free(b64);
	return r;
}

/* The line of the second PEM block in text, or 0 when there is at most one. */
static size_t
second_pem_block(const char *text, size_t len)
{
	struct nk_lines it;
	const char *line;
	size_t n, seen = 0;

	nk_lines_init(&it, text, len);
	while (nk_lines_next(&it, "", len, &line, &n, NULL, 0) == 1)
		if (n >= 11 && memcmp(line, "-----BEGIN ", 11) == 0 && seen++ > 0)
			return it.lineno;
	return 0;
}

/*
 * x509 --pubkey: exactly one PEM public key, or one OpenSSH ECDSA line
 * (with the shared one-key-per-file rule and key checks).
 */
static int
read_x509_pubkey(const char *path, const uint8_t *data, size_t len,
    EVP_PKEY **pubp)
{
	struct sc_pubkey pk;
	char err[1024];
	size_t line;
	BIO *bio;
	int r;

	*pubp = NULL;
	if (memmem(data, len, "-----BEGIN ", 11) != NULL) {
		if ((line = second_pem_block((const char *)data, len)) != 0) {
			cli_errx("%s:%zu: a second PEM block (one key per file)",
			    path, line);
			return EX_USAGE;
		}
		if ((bio = BIO_new_mem_buf(data, (int)len)) != NULL)
			*pubp = PEM_read_bio_PUBKEY(bio, NULL, NULL, NULL);
		BIO_free(bio);
		if (*pubp == NULL) {
			cli_errx("%s: not a PEM public key", path);
			return EX_USAGE;
		}
		return 0;
	}
	err[0] = '\0';
	if ((r = sc_pubkey_file(path, (const char *)data, len, 0, &pk, err,
	    sizeof(err))) != 0) {
		cli_errx("%s", err[0] != '\0' ? err : nkhsm_strerror(r));
		return r == NKHSM_ERR_NOMEM ? EX_FAIL : EX_USAGE;
	}
	r = nkhsm_pubkey_from_ssh_blob(pk.blob, pk.bloblen, pubp);
	sc_pubkey_free(&pk);
	if (r != 0) {
		cli_errx("%s: --pubkey takes a PEM public key or an OpenSSH "
		    "ECDSA line", path);
		return EX_USAGE;
	}
	return 0;
}

/* The subject key and name of an x509 request, checked before the token. */
static int
x509_subject(struct opts *o, const uint8_t *data, size_t len, EVP_PKEY **pubp,
    X509_NAME **namep)
{
	X509_REQ *csr = NULL;
	char err[512], safe[256];
	const char *file = o->csr != NULL ? o->csr : o->pubkey;
	int r, ret = EX_USAGE;

	err[0] = '\0';
	if (o->csr != NULL) {
		if ((r = sc_x509_read_csr(data, len, &csr, err, sizeof(err))) != 0) {
			cli_errx("%s: %s", o->csr, err);
			return r == NKHSM_ERR_SIGNATURE ? EX_BADSIG : EX_USAGE;
		}
		if ((*pubp = X509_REQ_get_pubkey(csr)) == NULL ||
		    (o->subject == NULL && (*namep = X509_NAME_dup(
		    X509_REQ_get_subject_name(csr))) == NULL)) {
			ret = EX_FAIL;
			goto out;
		}
	} else if ((ret = read_x509_pubkey(o->pubkey, data, len, pubp)) != 0)
		goto out;
	ret = EX_USAGE;
	if ((r = nkhsm_pkey_check(*pubp, err, sizeof(err))) != 0) {
		cli_errx("%s: %s subject key refused: %s", file,
		    OBJ_nid2sn(EVP_PKEY_get_base_id(*pubp)), err);
		goto out;
	}
	if (o->subject != NULL && nkhsm_name_parse(o->subject, namep) != 0) {
		cli_errx("invalid --subject '%s' (TYPE=value,..., no control "
		    "characters)", cli_safe(o->subject, safe, sizeof(safe)));
		goto out;
	}
	if (X509_NAME_entry_count(*namep) == 0) {
		cli_errx("the certificate needs a subject (--subject)");
		goto out;
	}
	if (sc_x509_name_check(*namep, err, sizeof(err)) != 0) {
		cli_errx("%s: %s", o->subject != NULL ? "--subject" : o->csr, err);
		goto out;
	}
	ret = 0;
 out:
	X509_REQ_free(csr);
	return ret;
}

/* "DNS:a,IP:192.0.2.1": the parsed names, for the ledger. */
static char *
join_sans(const struct sc_san *sans, size_t n)
{
	struct nk_buf b;
	char ip[INET6_ADDRSTRLEN], *s = NULL;
	uint8_t *p = NULL;
	size_t i, len = 0;
	int r = 0;

	nk_buf_init(&b);
	for (i = 0; r == 0 && i < n; i++) {
		const char *v = sans[i].value;

		if (sans[i].type == SC_SAN_IP && inet_ntop(sans[i].iplen == 4 ?
		    AF_INET : AF_INET6, sans[i].ip, ip, sizeof(ip)) != NULL)
			v = ip;
		if ((i > 0 && (r = nk_buf_put(&b, ",", 1)) != 0) ||
		    (r = nk_buf_put(&b, sc_san_prefix(sans[i].type),
		    strlen(sc_san_prefix(sans[i].type)))) != 0)
			break;
		r = nk_buf_put(&b, v, strlen(v));
	}
	if (r == 0 && (r = nk_buf_put(&b, "", 1)) == 0 &&
	    (r = nk_buf_steal(&b, &p, &len)) == 0)
		s = (char *)p;
	nk_buf_free(&b);
	return s;
}


/* The options that need no file: --csr or --pubkey, -o, --profile, --days. */
static int
x509_args(const struct opts *o, int *profilep, long *daysp)
{
	*daysp = 365;
	if ((o->csr == NULL) == (o->pubkey == NULL) || o->output == NULL) {
		cli_errx("x509 needs --csr FILE or --pubkey FILE, and -o FILE");
		return EX_USAGE;
	}
	if (o->pubkey != NULL && o->subject == NULL) {
		cli_errx("x509 --pubkey needs --subject DN");
		return EX_USAGE;
	}
	if (o->profile == NULL || strcmp(o->profile, "user") == 0)
		*profilep = SC_PROFILE_USER;
	else if (strcmp(o->profile, "host") == 0)
		*profilep = SC_PROFILE_HOST;
	else if (strcmp(o->profile, "login") == 0)
		*profilep = SC_PROFILE_LOGIN;	/* pam_nkhsm ca= */
	else {
		cli_errx("--profile must be user, host or login");
		return EX_USAGE;
	}
	if (o->days != NULL && (*daysp = ca_parse_num(o->days, 1, 3650)) < 0) {
		cli_errx("--days must be 1 to 3650");
		return EX_USAGE;
	}
	return 0;
}

/* The certificate's validity as the ledger keeps it. */
static void
x509_validity(X509 *cert, struct sc_entry *e)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	e->valid_after = ASN1_TIME_to_tm(X509_get0_notBefore(cert), &tm) ?
	    (uint64_t)timegm(&tm) : (uint64_t)time(NULL);
	memset(&tm, 0, sizeof(tm));
	e->valid_before = ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) ?
	    (uint64_t)timegm(&tm) : e->valid_after;
}

/* Record the issued certificate: one transaction with its log entry. */
static int
x509_record(struct ca *ca, X509 *cert, EVP_PKEY *pub, X509_NAME *name,
    const struct sc_san *sans, size_t nsans, int profile, const char *serial,
    char *head)
{
	struct sc_entry e;
	unsigned char *der = NULL;
	char err[512], subj[512], *fp = NULL, *spem = NULL, *princ = NULL;
	int derlen, ret = EX_FAIL;

	err[0] = '\0';
	if (spki_fp(pub, &fp, &spem) != 0 ||
	    (derlen = i2d_X509(cert, &der)) <= 0 ||
	    (princ = join_sans(sans, nsans)) == NULL)
		goto out;
	X509_NAME_oneline(name, subj, sizeof(subj));
	memset(&e, 0, sizeof(e));
	e.family = "x509";
	e.kind = profile == SC_PROFILE_HOST ? "x509-host" :
	    profile == SC_PROFILE_LOGIN ? "x509-login" : "x509-user";
	e.serial = serial;
	e.key_id = subj;
	e.principals = princ;
	x509_validity(cert, &e);
	e.subject_fp = fp;
	e.subject_key = spem;
	e.cert = der;
	e.certlen = (size_t)derlen;
	if (sc_ledger_issue(ca->l, &e, 1, NULL, head, err, sizeof(err)) != 0) {
		cli_errx("%s", err);
		ret = ca_ledger_failed(ca);
		goto out;
	}
	ret = 0;
 out:
	OPENSSL_free(der);
	free(fp);
	free(spem);
	free(princ);
	return ret;
}

int
cmd_x509(struct ca *ca, int argc, char **argv)
{
	struct opts *o = ca->o;
	struct sc_san *sans = NULL;
	X509_NAME *name = NULL;
	EVP_PKEY *pub = NULL;
	X509 *cert = NULL;
	uint8_t *data = NULL;
	size_t len = 0, nsans = 0;
	char err[512], serial[SC_SERIAL_HEX], head[LOG_HASH_HEX];
	const char *file = o->csr != NULL ? o->csr : o->pubkey;
	long days;
	int profile, ret, r;

	err[0] = '\0';
	if ((ret = x509_args(o, &profile, &days)) != 0)
		return ret;
	if ((sans = calloc(SC_SAN_ITEMS, sizeof(*sans))) == NULL)
		return EX_FAIL;
	ret = EX_USAGE;
	if ((r = sc_san_parse(o->san, profile == SC_PROFILE_HOST ? SC_SAN_HOST :
	    SC_SAN_USER, sans, SC_SAN_ITEMS, &nsans, err, sizeof(err))) != 0) {
		cli_errx("%s", err);
		goto out;
	}
	if (cli_read_all(file, &data, &len) != 0) {
		cli_errx("%s: %s", file, strerror(errno));
		ret = EX_FAIL;
		goto out;
	}
	if ((ret = x509_subject(o, data, len, &pub, &name)) != 0 ||
	    (ret = ca_state_dir(ca, 0)) != 0 || (ret = ca_load(ca, 1)) != 0)
		goto out;
	if ((r = sc_x509_issue(ca->key, ca->cacert, pub, name, sans, nsans,
	    profile, (unsigned int)days, &cert, serial, sizeof(serial), err,
	    sizeof(err))) != 0) {
		cli_errx("%s", err);
		ret = r == NKHSM_ERR_INVALID_ARGUMENT || r == NKHSM_ERR_UNSUPPORTED ||
		    r == NKHSM_ERR_WEAK_KEY || r == NKHSM_ERR_FORMAT ? EX_USAGE :
		    r == NKHSM_ERR_SIGNATURE ? EX_BADSIG : cli_exit_for(r);
		goto out;
	}
	if ((ret = x509_record(ca, cert, pub, name, sans, nsans, profile, serial,
	    head)) != 0)
		goto out;
	if (ca_write_pem(o->output, cert, NULL) != 0) {
		cli_errx("certificate %s is in the ledger but %s could not be "
		    "written", serial, o->output);
		ret = EX_FAIL;
		goto out;
	}
	if (!o->quiet)
		fprintf(stderr, "%s: serial %s\nlog head %s\n", o->output, serial,
		    head);
	ret = 0;
 out:
	X509_NAME_free(name);
	EVP_PKEY_free(pub);
	X509_free(cert);
	free(data);
	free(sans);
	return ret;
}
