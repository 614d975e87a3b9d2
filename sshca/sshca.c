/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nkhsm-sshca - an SSH and X.509 certificate authority whose key stays on
 * the token. Every certificate is signed on the host-hashed, raw-ECDSA path,
 * verified in software, recorded in the ledger (one transaction with its
 * hash-chained log entry), and only then written out.
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

#include "nkhsm.h"
#include "nk-int.h"
#include "buf.h"
#include "cli.h"
#include "ledger.h"
#include "ledgerlog.h"
#include "sshca.h"
#include "x509ca.h"

#define EX_POLICY	12	/* refused by policy */
#define EX_TAMPER	13	/* the ledger's log does not verify */

#define SERIAL_RETRIES	8
#define CHUNK		256	/* certificates per ledger transaction */
#define BATCH_MAX	100000
#define PROGRESS_MIN	10	/* show progress on a terminal from this many */
#define SSH_KEYGEN	"/usr/bin/ssh-keygen"
#define STATE_MAX	1024	/* length of the state directory path */
#define SCRATCH_MAX	(STATE_MAX + 32)
#define FILE_MAX	(SCRATCH_MAX + 64)

struct opts {
	struct cli_common c;
	const char	*state;
	const char	*key;
	const char	*policy;
	const char	*key_id;	/* -I */
	const char	*principals;	/* -n */
	const char	*validity;	/* -V */
	const char	*serial;	/* -z */
	const char	*opt[64];	/* -O */
	size_t		 nopt;
	int		 user, host;
	int		 allow_host_wildcard;
	const char	*curve;
	const char	*label;
	const char	*subject;
	const char	*san;
	const char	*profile;
	const char	*days;
	const char	*csr;
	const char	*pubkey;
	const char	*output;
	const char	*key_id_rev;	/* revoke --key-id */
	const char	*reason;
	const char	*head;
	int		 json;
	int		 quiet;
};

static void
usage(FILE *f)
{
	fprintf(f,
"usage: nkhsm-sshca [--state DIR] [--module PATH] [--key URI] command ...\n"
"\n"
"  init [--curve p256|p384] [--label L] [--subject DN] [--days N]\n"
"                          create the CA: key on the token (or --key URI),\n"
"                          self-signed X.509 CA certificate, ledger\n"
"  ca-pubkey               print the CA line for TrustedUserCAKeys/@cert-authority\n"
"  sign (--user|--host) -I ID -n P1,P2 -V VALIDITY [-O OPT]... [-z SERIAL] KEY.pub...\n"
"                          OpenSSH certificates, written as KEY-cert.pub;\n"
"                          --allow-host-wildcard lets a host principal be a pattern\n"
"  x509 (--csr FILE | --pubkey FILE --subject DN) [--san TYPE:V,...]\n"
"       [--profile user|host|login] [--days N] -o FILE\n"
"  revoke SERIAL | --key-id ID | --key KEY.pub [--reason TEXT]\n"
"  krl -o FILE             OpenSSH KRL of everything revoked (checked with ssh-keygen -Q)\n"
"  crl [--days N] -o FILE  X.509 CRL signed on the token\n"
"  list [--json]           the ledger\n"
"  verify-log [--head HASH] check the log, and every record against it\n"
"  migrate-ledger [--head HASH] check a ledger of an older version and\n"
"                          bring its log up to date\n"
"\n"
"  --state DIR       CA state (default %s, or ~/.local/share/nkhsm-sshca)\n"
"  --module PATH     PKCS#11 module;  --token URI  which token (init)\n"
"  --key URI         the CA key (init: use an existing key)\n"
"  --pin-source SRC  env:VAR or file:PATH (default: ask on the terminal)\n"
"  --policy FILE     issuance policy (default STATE/policy.conf if present)\n"
"  --timeout SECONDS give up when the token takes longer to answer a call\n"
"                    (default %d; 0: no limit)\n"
"  --config FILE     nkhsm.conf;  --allow-final-try;  -q quiet;  -h;  --version\n"
"\n"
"-V takes ssh-keygen's forms: +1h, -5m:+1d, 20261201, always:+8h, forever.\n",
	    "/var/lib/nkhsm-sshca", CLI_TIMEOUT_DEFAULT);
}

/* Everything one command needs. */
struct ca {
	struct opts	*o;
	char		 dir[STATE_MAX];
	struct sc_ledger *l;
	struct cli_env	 e;
	nkhsm_key_t	*key;
	uint8_t		*ca_blob;
	size_t		 ca_len;
	X509		*cacert;
	nkhsm_ecverify_t *verify;	/* the CA key, to check the token */
	int		 have_env;
};

static void
ca_free(struct ca *ca)
{
	nkhsm_key_free(&ca->key);
	if (ca->have_env)
		cli_env_free(&ca->e);
	sc_ledger_close(&ca->l);
	free(ca->ca_blob);
	X509_free(ca->cacert);
	nkhsm_ecverify_free(&ca->verify);
}

static int
state_dir(struct ca *ca, int create)
{
	const char *home, *d = ca->o->state;
	struct stat st;
	char buf[STATE_MAX];

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
	if (create) {
		char *p;

		/* mkdir -p, the last component private. */
		for (p = ca->dir + 1; (p = strchr(p, '/')) != NULL; p++) {
			*p = '\0';
			if (mkdir(ca->dir, 0755) == -1 && errno != EEXIST) {
				cli_errx("cannot create %s: %s", ca->dir,
				    strerror(errno));
				*p = '/';
				return EX_FAIL;
			}
			*p = '/';
		}
		if (mkdir(ca->dir, 0700) == -1 && errno != EEXIST) {
			cli_errx("cannot create %s: %s", ca->dir, strerror(errno));
			return EX_FAIL;
		}
	}
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

/* flags: SC_LEDGER_CREATE, SC_LEDGER_OLD_OK. */
static int
open_ledger(struct ca *ca, unsigned int flags)
{
	char err[512];
	int r;

	err[0] = '\0';
	if ((r = sc_ledger_open(ca->dir, flags, &ca->l, err, sizeof(err))) != 0) {
		cli_errx("%s", err);
		/* An older ledger is a state to migrate, not a failure. */
		return r == NKHSM_ERR_UNSUPPORTED ? EX_USAGE : EX_FAIL;
	}
	return 0;
}

/* A whole decimal number in [min, max]; -1 otherwise. */
static long
parse_num(const char *s, long min, long max)
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

static int
read_text(const char *path, char **outp)
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

/* A public key file with exactly one key: 0, or an exit status. */
static int
read_pubkey(const char *path, unsigned int flags, struct sc_pubkey *pk)
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

/* The CA key from the ledger's meta (module, key URI) and the token. */
static int
load_ca(struct ca *ca, int login)
{
	char *module = NULL, *uri = NULL, *pem = NULL, path[FILE_MAX];
	EVP_PKEY *pub;
	nkhsm_point_t pt;
	BIO *bio;
	int r, ret = EX_FAIL;

	if ((ret = open_ledger(ca, 0)) != 0)
		return ret;
	if (sc_ledger_meta_get(ca->l, "key_uri", &uri) != 0 ||
	    sc_ledger_meta_get(ca->l, "module", &module) != 0) {
		cli_errx("%s: not an initialized CA (run nkhsm-sshca init)", ca->dir);
		ret = EX_USAGE;
		goto out;
	}
	snprintf(path, sizeof(path), "%s/ca.pem", ca->dir);
	if (read_text(path, &pem) != 0 ||
	    (bio = BIO_new_mem_buf(pem, -1)) == NULL) {
		cli_errx("cannot read %s", path);
		goto out;
	}
	ca->cacert = PEM_read_bio_X509(bio, NULL, NULL, NULL);
	BIO_free(bio);
	if (ca->cacert == NULL) {
		cli_errx("%s: not a PEM certificate", path);
		goto out;
	}
	if (ca->o->c.module == NULL)
		ca->o->c.module = module;
	if ((ret = cli_env_open(&ca->e, &ca->o->c, ca->o->key != NULL ?
	    ca->o->key : uri)) != 0)
		goto out;
	ca->have_env = 1;
	if ((ret = cli_env_token(&ca->e)) != 0 ||
	    (ret = cli_env_key(&ca->e, &ca->key)) != 0)
		goto out;
	/* The token's key must be the one the CA certificate certifies. */
	if ((pub = nkhsm_key_pubkey(ca->key)) == NULL ||
	    !nkhsm_pubkey_equal(pub, X509_get0_pubkey(ca->cacert))) {
		cli_errx("the key on the token is not the CA's (ca.pem)");
		ret = EX_NOKEY;
		goto out;
	}
	if ((r = nkhsm_pubkey_to_ssh_blob(pub, &ca->ca_blob, &ca->ca_len)) != 0 ||
	    (r = nkhsm_point_from_pkey(pub, &pt)) != 0 ||
	    (r = nkhsm_ecverify_new(&pt, &ca->verify)) != 0) {
		cli_errx("%s", nkhsm_strerror(r));
		ret = EX_FAIL;
		goto out;
	}
	if (login && (ret = cli_env_login(&ca->e, &ca->o->c)) != 0)
		goto out;
	ret = 0;
 out:
	/* module is referenced by o->c.module until exit: kept. */
	if (ret != 0 || ca->o->c.module != module)
		free(module);
	free(uri);
	free(pem);
	return ret;
}

static int
cmd_init(struct ca *ca, int argc, char **argv)
{
	struct opts *o = ca->o;
	nkhsm_curve_t curve = NKHSM_CURVE_P256;
	const uint8_t *id;
	size_t idlen;
	char *line = NULL, *uri = NULL, *existing = NULL, path[FILE_MAX];
	X509 *cert = NULL;
	BIO *bio = NULL;
	char *pem;
	long pemlen, days = 3650;
	int r, ret, fresh = 0;

	if (o->curve != NULL && (nkhsm_curve_from_name(o->curve, &curve) != 0 ||
	    curve == NKHSM_CURVE_P521)) {
		cli_errx("--curve must be p256 or p384 (P-521 is not accepted by "
		    "many X.509 verifiers)");
		return EX_USAGE;
	}
	if (o->days != NULL && (days = parse_num(o->days, 1, 36500)) < 0) {
		cli_errx("--days must be 1 to 36500");
		return EX_USAGE;
	}
	if ((ret = state_dir(ca, 1)) != 0)
		return ret;
	snprintf(path, sizeof(path), "%s/" LEDGER_FILE, ca->dir);
	fresh = access(path, F_OK) != 0;
	if ((ret = open_ledger(ca, SC_LEDGER_CREATE)) != 0)
		return ret;
	if (sc_ledger_meta_get(ca->l, "key_uri", &existing) == 0) {
		cli_errx("%s is already a CA (key %s)", ca->dir, existing);
		free(existing);
		return EX_EXISTS;
	}
	if ((ret = cli_env_open(&ca->e, &o->c, o->key)) != 0)
		goto out;
	ca->have_env = 1;
	if ((ret = cli_env_token(&ca->e)) != 0 ||
	    (ret = cli_env_login(&ca->e, &o->c)) != 0)
		goto out;
	if (o->key != NULL) {
		if ((ret = cli_env_key(&ca->e, &ca->key)) != 0)
			goto out;
	} else if ((r = nkhsm_keygen(ca->e.tok, curve, o->label != NULL ?
	    o->label : "nkhsm-sshca", NULL, 0, &ca->key, NULL)) != 0) {
		cli_errx("cannot generate the CA key: %s%s", nkhsm_strerror(r),
		    r == NKHSM_ERR_EXISTS ? " (use --key URI for an existing key, "
		    "or --label)" : "");
		ret = cli_exit_for(r);
		goto out;
	}
	if ((r = nkhsm_selfsign(ca->key, o->subject != NULL ? o->subject :
	    "CN=nkhsm-sshca CA", (unsigned int)days, NKHSM_SELFSIGN_CA,
	    &cert)) != 0) {
		cli_errx("cannot make the CA certificate: %s", nkhsm_strerror(r));
		ret = cli_exit_for(r);
		goto out;
	}
	r = nkhsm_token_store_cert(ca->key, cert);
	if (r != 0 && r != NKHSM_ERR_EXISTS) {
		cli_errx("cannot store the CA certificate on the token: %s",
		    nkhsm_strerror(r));
		ret = cli_exit_for(r);
		goto out;
	}
	ret = EX_FAIL;
	id = nkhsm_key_id(ca->key, &idlen);
	if (nkhsm_uri_format(NULL, nkhsm_token_serial(ca->e.tok), NULL, id,
	    idlen, NKHSM_OBJ_PRIVATE, &uri) != 0 ||
	    nkhsm_pubkey_to_ssh(nkhsm_key_pubkey(ca->key), "nkhsm-sshca", &line) != 0 ||
	    (bio = BIO_new(BIO_s_mem())) == NULL ||
	    !PEM_write_bio_X509(bio, cert) ||
	    (pemlen = BIO_get_mem_data(bio, &pem)) <= 0)
		goto out;
	snprintf(path, sizeof(path), "%s/ca.pem", ca->dir);
	if (cli_write_atomic(path, pem, (size_t)pemlen, 0644) != 0) {
		cli_errx("cannot write %s: %s", path, strerror(errno));
		goto out;
	}
	{
		/* The settings, each with its log entry (verify-log checks them). */
		const char *const keys[] = { "module", "key_uri", "ca_pubkey" };
		const char *const vals[] = { ca->e.module, uri, line };
		char err[512];

		err[0] = '\0';
		if (sc_ledger_init(ca->l, keys, vals, 3, err, sizeof(err)) != 0) {
			cli_errx("cannot record the CA in the ledger: %s", err);
			goto out;
		}
	}
	if (!o->quiet)
		fprintf(stderr, "CA ready in %s (key %s)\n"
		    "Trust it in sshd_config:   TrustedUserCAKeys FILE-WITH-THE-LINE-BELOW\n"
		    "and in known_hosts:        @cert-authority *.example.com LINE\n",
		    ca->dir, uri);
	printf("%s\n", line);
	ret = 0;
 out:
	if (ret != 0 && fresh) {
		/* Leave no half-made CA behind: the ledger this init created. */
		sc_ledger_close(&ca->l);
		unlink(path);
		snprintf(path, sizeof(path), "%s/" LEDGER_FILE "-wal", ca->dir);
		unlink(path);
		snprintf(path, sizeof(path), "%s/" LEDGER_FILE "-shm", ca->dir);
		unlink(path);
	}
	BIO_free(bio);
	X509_free(cert);
	free(line);
	free(uri);
	return ret;
}

static int
cmd_ca_pubkey(struct ca *ca, int argc, char **argv)
{
	char *line = NULL;
	int ret;

	if ((ret = state_dir(ca, 0)) != 0 || (ret = open_ledger(ca, 0)) != 0)
		return ret;
	if (sc_ledger_meta_get(ca->l, "ca_pubkey", &line) != 0) {
		cli_errx("%s: not an initialized CA", ca->dir);
		return EX_USAGE;
	}
	printf("%s\n", line);
	free(line);
	return 0;
}

/* KEY.pub -> KEY-cert.pub, as ssh-keygen names it. */
static int
cert_path(const char *pub, char *out, size_t len)
{
	size_t n = strlen(pub);

	if (n > 4 && strcmp(pub + n - 4, ".pub") == 0)
		n -= 4;
	if ((size_t)snprintf(out, len, "%.*s-cert.pub", (int)n, pub) >= len)
		return -1;
	return 0;
}

static int
random_serial(uint64_t *s)
{
	do {
		if (RAND_bytes((unsigned char *)s, sizeof(*s)) != 1)
			return -1;
	} while (*s == 0);
	return 0;
}

/* One signed certificate, between the token and the disk. */
struct issued {
	char		*line;		/* "TYPE-cert-v01@openssh.com BASE64 comment" */
	uint8_t		*cert;
	size_t		 certlen;
	char		*subject_key;	/* base64 of the subject key blob */
	char		 serial[32];
	char		 tmp[FILE_MAX + 16];
};

static void
issued_free(struct issued *is)
{
	free(is->line);
	free(is->cert);
	free(is->subject_key);
	memset(is, 0, sizeof(*is));
}

static char *
join_principals(const struct sc_certreq *req)
{
	size_t i, len = 1;
	char *p;

	for (i = 0; i < req->nprincipals; i++)
		len += strlen(req->principals[i]) + 1;
	if ((p = calloc(1, len)) == NULL)
		return NULL;
	for (i = 0; i < req->nprincipals; i++) {
		if (i > 0)
			strcat(p, ",");
		strcat(p, req->principals[i]);
	}
	return p;
}

/*
 * Sign one request (drawing its serial unless fixed) and verify the token's
 * signature in software: hash on the host, raw ECDSA, minimal mpints.
 */
static int
sign_one(struct ca *ca, struct sc_certreq *req, const struct sc_pubkey *pk,
    int fixed_serial, struct issued *is)
{
	uint8_t nonce[SC_NONCE_LEN], *tbs = NULL, *sig = NULL, *ssh = NULL;
	size_t tbslen = 0, siglen = 0, sshlen = 0;
	int r, ret = EX_FAIL;

	issued_free(is);
	if ((!fixed_serial && random_serial(&req->serial) != 0) ||
	    RAND_bytes(nonce, sizeof(nonce)) != 1)
		goto out;
	if ((r = sc_cert_tbs(req, pk, ca->ca_blob, ca->ca_len, nonce, &tbs,
	    &tbslen)) != 0) {
		cli_errx("cannot encode the certificate: %s", nkhsm_strerror(r));
		goto out;
	}
	if ((r = nkhsm_key_sign(ca->key, tbs, tbslen, NKHSM_SIG_RAW, &sig,
	    &siglen)) != 0) {
		cli_errx("signing failed: %s", nkhsm_strerror(r));
		ret = cli_exit_for(r);
		goto out;
	}
	if (nkhsm_ecverify(ca->verify, tbs, tbslen, sig, siglen) != 0) {
		cli_errx("the token's signature does not verify; nothing issued");
		ret = EX_BADSIG;
		goto out;
	}
	if (nkhsm_sig_convert(nkhsm_key_curve(ca->key), NKHSM_SIG_RAW, sig,
	    siglen, NKHSM_SIG_SSH, &ssh, &sshlen) != 0 ||
	    sc_cert_line(tbs, tbslen, ssh, sshlen, pk->comment, &is->line,
	    &is->cert, &is->certlen) != 0 ||
	    nk_b64_encode(pk->blob, pk->bloblen, 1, &is->subject_key) != 0)
		goto out;
	snprintf(is->serial, sizeof(is->serial), "%llu",
	    (unsigned long long)req->serial);
	ret = 0;
 out:
	if (ret != 0)
		issued_free(is);
	free(tbs);
	free(sig);
	free(ssh);
	return ret;
}

/*
 * Record a chunk in one transaction. A serial another issuer took meanwhile
 * is drawn again and re-signed; with -z it is an error.
 */
static int
record_chunk(struct ca *ca, struct sc_certreq *reqs, struct sc_pubkey *pks,
    struct issued *is, size_t n, int fixed, char *head)
{
	struct sc_entry e;
	char err[512], *princ;
	size_t i;
	int r, tries, ret;

	for (tries = 0; tries < SERIAL_RETRIES; tries++) {
		err[0] = '\0';
		if (sc_ledger_begin(ca->l, err, sizeof(err)) != 0) {
			cli_errx("%s", err);
			return EX_FAIL;
		}
		for (i = 0, r = 0; i < n; i++) {
			if ((princ = join_principals(&reqs[i])) == NULL) {
				r = NKHSM_ERR_NOMEM;
				break;
			}
			memset(&e, 0, sizeof(e));
			e.family = "ssh";
			e.kind = reqs[i].type == SC_CERT_USER ? "ssh-user" : "ssh-host";
			e.serial = is[i].serial;
			e.key_id = reqs[i].key_id;
			e.principals = princ;
			e.valid_after = reqs[i].valid_after;
			e.valid_before = reqs[i].valid_before;
			e.subject_fp = pks[i].fp;
			e.subject_key = is[i].subject_key;
			e.cert = is[i].cert;
			e.certlen = is[i].certlen;
			r = sc_ledger_add(ca->l, &e, head, err, sizeof(err));
			free(princ);
			if (r != 0)
				break;
		}
		if (r == 0)
			return sc_ledger_commit(ca->l, err, sizeof(err)) == 0 ? 0 :
			    (cli_errx("%s", err), EX_FAIL);
		sc_ledger_rollback(ca->l);
		if (r != NKHSM_ERR_EXISTS) {
			cli_errx("%s", err[0] ? err : nkhsm_strerror(r));
			return EX_FAIL;
		}
		if (fixed) {
			cli_errx("serial %s was issued before", is[i].serial);
			return EX_EXISTS;
		}
		if ((ret = sign_one(ca, &reqs[i], &pks[i], 0, &is[i])) != 0)
			return ret;
	}
	cli_errx("no free serial after %d tries", SERIAL_RETRIES);
	return EX_FAIL;
}

/*
 * Write a recorded chunk: every file to a temporary name, one syncfs for
 * the lot instead of an fsync each, then the renames.
 */
static int
write_chunk(struct issued *is, char **paths, size_t n)
{
	dev_t devs[8];
	size_t first[8], ndev = 0, i, k, len;
	struct stat st;
	int fd, ret = 0;

	for (i = 0; i < n; i++) {
		if ((size_t)snprintf(is[i].tmp, sizeof(is[i].tmp), "%s.tmpXXXXXX",
		    paths[i]) >= sizeof(is[i].tmp) ||
		    (fd = mkstemp(is[i].tmp)) == -1) {
			cli_errx("certificate %s is in the ledger but %s could not "
			    "be written: %s", is[i].serial, paths[i], strerror(errno));
			is[i].tmp[0] = '\0';
			ret = EX_FAIL;
			continue;
		}
		len = strlen(is[i].line);
		is[i].line[len] = '\n';
		if (write(fd, is[i].line, len + 1) != (ssize_t)(len + 1) ||
		    fchmod(fd, 0644) == -1 || fstat(fd, &st) == -1) {
			cli_errx("certificate %s is in the ledger but %s could not "
			    "be written: %s", is[i].serial, paths[i], strerror(errno));
			unlink(is[i].tmp);
			is[i].tmp[0] = '\0';
			ret = EX_FAIL;
		} else {
			for (k = 0; k < ndev && devs[k] != st.st_dev; k++)
				;
			if (k == ndev && ndev < sizeof(devs) / sizeof(devs[0])) {
				devs[ndev] = st.st_dev;
				first[ndev++] = i;
			}
		}
		is[i].line[len] = '\0';
		close(fd);
	}
	/* Flush the contents, one syncfs per filesystem, before any rename. */
	for (k = 0; k < ndev; k++) {
		if ((fd = open(is[first[k]].tmp, O_RDONLY | O_CLOEXEC)) == -1 ||
		    syncfs(fd) == -1)
			ret = EX_FAIL;
		if (fd != -1)
			close(fd);
	}
	for (i = 0; i < n; i++) {
		if (is[i].tmp[0] == '\0')
			continue;
		if (ret != 0 || rename(is[i].tmp, paths[i]) == -1) {
			if (ret == 0)
				cli_errx("certificate %s is in the ledger but %s could "
				    "not be written: %s", is[i].serial, paths[i],
				    strerror(errno));
			unlink(is[i].tmp);
			ret = EX_FAIL;
		}
	}
	return ret;
}

static int
cmd_sign(struct ca *ca, int argc, char **argv)
{
	struct opts *o = ca->o;
	struct sc_certreq *reqs = NULL;
	struct sc_pubkey *pks = NULL;
	struct sc_policy *pol = NULL;
	char err[512], path[FILE_MAX], head[LOG_HASH_HEX];
	unsigned long long first = 0;
	char *end;
	uint64_t from, to;
	time_t now = time(NULL);
	struct issued *is = NULL;
	char **paths = NULL;
	size_t i, j, c0, n;
	int r, ret = EX_USAGE, progress, fixed = 0, incr = 0;
	struct stat st;

	err[0] = '\0';
	head[0] = '\0';
	if (o->user == o->host) {
		cli_errx("sign needs --user or --host");
		return EX_USAGE;
	}
	if (o->allow_host_wildcard && !o->host) {
		cli_errx("--allow-host-wildcard applies to --host certificates");
		return EX_USAGE;
	}
	if (o->key_id == NULL || *o->key_id == '\0' ||
	    strlen(o->key_id) > SC_KEYID_LEN_MAX) {
		cli_errx("sign needs -I KEY_ID (1 to %d characters)",
		    SC_KEYID_LEN_MAX);
		return EX_USAGE;
	}
	for (i = 0; o->key_id[i] != '\0'; i++)
		if ((unsigned char)o->key_id[i] < 0x20 || o->key_id[i] == 0x7f) {
			cli_errx("-I: control characters are not allowed");
			return EX_USAGE;
		}
	if (o->validity == NULL) {
		cli_errx("sign needs -V: refusing a certificate that never expires "
		    "(give -V +52w, or -V forever explicitly)");
		return EX_USAGE;
	}
	if (sc_parse_validity(o->validity, now, &from, &to, err,
	    sizeof(err)) != 0) {
		cli_errx("%s", err);
		return EX_USAGE;
	}
	if (argc < 1 || (size_t)argc > BATCH_MAX) {
		cli_errx("sign needs one or more KEY.pub files");
		return EX_USAGE;
	}
	if (o->serial != NULL) {
		const char *s = o->serial;

		incr = *s == '+';
		if (incr)
			s++;
		errno = 0;
		first = strtoull(s, &end, 10);
		if (*s == '-' || *s == '\0' || *end != '\0' || errno != 0 ||
		    first == 0) {
			cli_errx("-z: a serial from 1 to 2^64-1 (0 is never issued)");
			return EX_USAGE;
		}
		if (argc > 1 && !incr) {
			cli_errx("-z with several keys: use -z +N to number them "
			    "from N");
			return EX_USAGE;
		}
		fixed = 1;
	}
	if ((ret = state_dir(ca, 0)) != 0)
		return ret;
	/* The policy: --policy, else STATE/policy.conf if there is one. */
	if (o->policy == NULL) {
		snprintf(path, sizeof(path), "%s/policy.conf", ca->dir);
		if (stat(path, &st) == 0)
			o->policy = path;
	}
	if (o->policy != NULL && sc_policy_load(o->policy, &pol, err,
	    sizeof(err)) != 0) {
		cli_errx("%s", err);
		return EX_USAGE;
	}
	/* Every request is checked before the token is touched. */
	ret = EX_USAGE;
	if ((reqs = calloc((size_t)argc, sizeof(*reqs))) == NULL ||
	    (pks = calloc((size_t)argc, sizeof(*pks))) == NULL) {
		ret = EX_FAIL;
		goto out;
	}
	for (i = 0; i < (size_t)argc; i++) {
		sc_certreq_init(&reqs[i], o->user ? SC_CERT_USER : SC_CERT_HOST);
		if ((ret = read_pubkey(argv[i], 0, &pks[i])) != 0)
			goto out;
		ret = EX_USAGE;
		if ((reqs[i].key_id = strdup(o->key_id)) == NULL)
			goto out;
		reqs[i].allow_host_wildcard = o->allow_host_wildcard;
		if (sc_parse_principals(&reqs[i], o->principals, err,
		    sizeof(err)) != 0) {
			cli_errx("%s", err);
			goto out;
		}
		reqs[i].valid_after = from;
		reqs[i].valid_before = to;
		for (j = 0; j < o->nopt; j++) {
			if (sc_parse_option(&reqs[i], o->opt[j], err,
			    sizeof(err)) != 0) {
				cli_errx("%s", err);
				goto out;
			}
		}
		if (sc_apply_default_extensions(&reqs[i]) != 0)
			goto out;
		if (fixed)
			reqs[i].serial = (uint64_t)(first + i);
		if (fixed && reqs[i].serial == 0) {
			cli_errx("-z: the serials would wrap to 0");
			goto out;
		}
		if (pol != NULL && sc_policy_check(pol, &reqs[i], &pks[i], now,
		    err, sizeof(err)) != 0) {
			cli_errx("%s: refused by policy: %s", argv[i], err);
			ret = EX_POLICY;
			goto out;
		}
	}
	if ((ret = load_ca(ca, 1)) != 0)
		goto out;
	/* A revoked key id or key would be born revoked: refuse it. */
	for (i = 0; i < (size_t)argc; i++) {
		if ((r = sc_ledger_is_revoked(ca->l, reqs[i].key_id,
		    pks[i].fp)) < 0) {
			cli_errx("ledger: cannot check the revocations; not "
			    "issuing");
			ret = EX_FAIL;
			goto out;
		}
		if (r != 0) {
			cli_errx("%s: key id '%s' or key %s is revoked; not issuing",
			    argv[i], reqs[i].key_id, pks[i].fp);
			ret = EX_POLICY;
			goto out;
		}
	}
	progress = argc >= PROGRESS_MIN && isatty(STDERR_FILENO) && !o->quiet;
	if ((is = calloc(CHUNK, sizeof(*is))) == NULL ||
	    (paths = calloc((size_t)argc, sizeof(*paths))) == NULL) {
		ret = EX_FAIL;
		goto out;
	}
	for (i = 0; i < (size_t)argc; i++) {
		if ((paths[i] = malloc(FILE_MAX)) == NULL ||
		    cert_path(argv[i], paths[i], FILE_MAX) != 0) {
			cli_errx("%s: name too long", argv[i]);
			ret = EX_USAGE;
			goto out;
		}
	}
	/* Sign and verify a chunk, record it in one transaction, write it. */
	for (c0 = 0; c0 < (size_t)argc; c0 += n) {
		n = (size_t)argc - c0 < CHUNK ? (size_t)argc - c0 : CHUNK;
		for (i = 0; i < n; i++)
			if ((ret = sign_one(ca, &reqs[c0 + i], &pks[c0 + i], fixed,
			    &is[i])) != 0)
				goto out;
		if ((ret = record_chunk(ca, reqs + c0, pks + c0, is, n, fixed,
		    head)) != 0 ||
		    (ret = write_chunk(is, paths + c0, n)) != 0)
			goto out;
		for (i = 0; i < n; i++) {
			if (!progress && !o->quiet)
				fprintf(stderr, "%s: serial %s, key %s\n", paths[c0 + i],
				    is[i].serial, pks[c0 + i].fp);
			issued_free(&is[i]);
		}
		if (progress)
			fprintf(stderr, "\rsigned %zu/%d", c0 + n, argc);
	}
	if (progress)
		fputc('\n', stderr);
	if (!o->quiet && head[0] != '\0')
		fprintf(stderr, "log head %s\n", head);
	ret = 0;
 out:
	for (i = 0; reqs != NULL && i < (size_t)argc; i++) {
		sc_certreq_free(&reqs[i]);
		sc_pubkey_free(&pks[i]);
	}
	free(reqs);
	free(pks);
	sc_policy_free(&pol);
	for (i = 0; is != NULL && i < CHUNK; i++)
		issued_free(&is[i]);
	free(is);
	for (i = 0; paths != NULL && i < (size_t)argc; i++)
		free(paths[i]);
	free(paths);
	return ret;
}

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

static int
cmd_x509(struct ca *ca, int argc, char **argv)
{
	struct opts *o = ca->o;
	struct sc_san *sans = NULL;
	X509_NAME *name = NULL;
	EVP_PKEY *pub = NULL;
	X509 *cert = NULL;
	BIO *bio = NULL;
	uint8_t *data = NULL;
	unsigned char *der = NULL;
	size_t len = 0, nsans = 0;
	char err[512], serial[SC_SERIAL_HEX], *fp = NULL, *spem = NULL, *pem,
	    head[LOG_HASH_HEX], subj[512], *princ = NULL;
	long pemlen, days = 365;
	int profile, derlen, ret = EX_USAGE, r;
	struct sc_entry e;

	err[0] = '\0';
	if ((o->csr == NULL) == (o->pubkey == NULL) || o->output == NULL) {
		cli_errx("x509 needs --csr FILE or --pubkey FILE, and -o FILE");
		return EX_USAGE;
	}
	if (o->pubkey != NULL && o->subject == NULL) {
		cli_errx("x509 --pubkey needs --subject DN");
		return EX_USAGE;
	}
	if (o->profile == NULL || strcmp(o->profile, "user") == 0)
		profile = SC_PROFILE_USER;
	else if (strcmp(o->profile, "host") == 0)
		profile = SC_PROFILE_HOST;
	else if (strcmp(o->profile, "login") == 0)
		profile = SC_PROFILE_LOGIN;	/* pam_nkhsm ca= */
	else {
		cli_errx("--profile must be user, host or login");
		return EX_USAGE;
	}
	if (o->days != NULL && (days = parse_num(o->days, 1, 3650)) < 0) {
		cli_errx("--days must be 1 to 3650");
		return EX_USAGE;
	}
	if ((sans = calloc(SC_SAN_ITEMS, sizeof(*sans))) == NULL)
		return EX_FAIL;
	if ((r = sc_san_parse(o->san, profile == SC_PROFILE_HOST ? SC_SAN_HOST :
	    SC_SAN_USER, sans, SC_SAN_ITEMS, &nsans, err,
	    sizeof(err))) != 0) {
		cli_errx("%s", err);
		goto out;
	}
	if (cli_read_all(o->csr != NULL ? o->csr : o->pubkey, &data, &len) != 0) {
		cli_errx("%s: %s", o->csr != NULL ? o->csr : o->pubkey,
		    strerror(errno));
		ret = EX_FAIL;
		goto out;
	}
	if ((ret = x509_subject(o, data, len, &pub, &name)) != 0)
		goto out;
	if ((ret = state_dir(ca, 0)) != 0 || (ret = load_ca(ca, 1)) != 0)
		goto out;
	ret = EX_FAIL;
	if ((r = sc_x509_issue(ca->key, ca->cacert, pub, name, sans, nsans,
	    profile, (unsigned int)days, &cert, serial, sizeof(serial), err,
	    sizeof(err))) != 0) {
		cli_errx("%s", err);
		ret = r == NKHSM_ERR_INVALID_ARGUMENT || r == NKHSM_ERR_UNSUPPORTED ||
		    r == NKHSM_ERR_WEAK_KEY || r == NKHSM_ERR_FORMAT ? EX_USAGE :
		    r == NKHSM_ERR_SIGNATURE ? EX_BADSIG : cli_exit_for(r);
		goto out;
	}
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
	{
		struct tm tm;

		memset(&tm, 0, sizeof(tm));
		e.valid_after = ASN1_TIME_to_tm(X509_get0_notBefore(cert), &tm) ?
		    (uint64_t)timegm(&tm) : (uint64_t)time(NULL);
		memset(&tm, 0, sizeof(tm));
		e.valid_before = ASN1_TIME_to_tm(X509_get0_notAfter(cert), &tm) ?
		    (uint64_t)timegm(&tm) : e.valid_after;
	}
	e.subject_fp = fp;
	e.subject_key = spem;
	e.cert = der;
	e.certlen = (size_t)derlen;
	if (sc_ledger_issue(ca->l, &e, head, err, sizeof(err)) != 0) {
		cli_errx("%s", err);
		goto out;
	}
	if ((bio = BIO_new(BIO_s_mem())) == NULL ||
	    !PEM_write_bio_X509(bio, cert) ||
	    (pemlen = BIO_get_mem_data(bio, &pem)) <= 0 ||
	    cli_write_atomic(o->output, pem, (size_t)pemlen, 0644) != 0) {
		cli_errx("certificate %s is in the ledger but %s could not be "
		    "written", serial, o->output);
		goto out;
	}
	if (!o->quiet)
		fprintf(stderr, "%s: serial %s\nlog head %s\n", o->output, serial,
		    head);
	ret = 0;
 out:
	BIO_free(bio);
	X509_NAME_free(name);
	EVP_PKEY_free(pub);
	X509_free(cert);
	OPENSSL_free(der);
	free(data);
	free(fp);
	free(spem);
	free(princ);
	free(sans);
	return ret;
}

static int
cmd_revoke(struct ca *ca, int argc, char **argv)
{
	struct opts *o = ca->o;
	struct sc_pubkey pk;
	char err[512], head[LOG_HASH_HEX], *b64 = NULL, *hex;
	unsigned int n = 0;
	/* Here --key names the public key file to revoke, not the CA key. */
	const char *keyfile = o->key;
	int given = (argc == 1) + (o->key_id_rev != NULL) + (keyfile != NULL);
	int ret, r;

	memset(&pk, 0, sizeof(pk));
	err[0] = '\0';
	if (given != 1 || argc > 1) {
		cli_errx("revoke takes one of: SERIAL, --key-id ID, --key KEY.pub");
		return EX_USAGE;
	}
	if ((ret = state_dir(ca, 0)) != 0 || (ret = open_ledger(ca, 0)) != 0)
		return ret;
	if (argc == 1) {
		/* Decimal: an SSH serial. 0x...: an X.509 serial in hex. */
		const char *s = argv[0];
		unsigned long long v;
		char num[32], *end;

		if (strncmp(s, "0x", 2) == 0 || strncmp(s, "0X", 2) == 0) {
			if ((hex = strdup(s + 2)) == NULL)
				return EX_FAIL;
			for (r = 0; hex[r] != '\0'; r++)
				hex[r] = (char)toupper((unsigned char)hex[r]);
			while (hex[0] == '0' && hex[1] != '\0')
				memmove(hex, hex + 1, strlen(hex));
			r = sc_ledger_revoke(ca->l, "x509", hex, NULL, o->reason, &n,
			    head, err, sizeof(err));
			free(hex);
		} else {
			errno = 0;
			v = strtoull(s, &end, 10);
			if (*s == '\0' || *s == '-' || *end != '\0' || errno != 0 ||
			    v == 0) {
				cli_errx("'%s': an SSH serial (decimal) or an X.509 "
				    "serial (0x...)", s);
				return EX_USAGE;
			}
			snprintf(num, sizeof(num), "%llu", v);
			r = sc_ledger_revoke(ca->l, "ssh", num, NULL, o->reason, &n,
			    head, err, sizeof(err));
		}
	} else if (o->key_id_rev != NULL) {
		r = sc_ledger_revoke(ca->l, "key_id", o->key_id_rev, NULL,
		    o->reason, &n, head, err, sizeof(err));
	} else {
		/* A key no one should accept may still need revoking. */
		if ((ret = read_pubkey(keyfile, SC_PUBKEY_WEAK_OK, &pk)) != 0)
			return ret;
		if (nk_b64_encode(pk.blob, pk.bloblen, 1, &b64) != 0) {
			sc_pubkey_free(&pk);
			return EX_FAIL;
		}
		r = sc_ledger_revoke(ca->l, "key", pk.fp, b64, o->reason, &n,
		    head, err, sizeof(err));
	}
	free(b64);
	sc_pubkey_free(&pk);
	if (r != 0) {
		cli_errx("%s", err);
		return r == NKHSM_ERR_NO_KEY ? EX_NOKEY : EX_FAIL;
	}
	if (!o->quiet)
		fprintf(stderr, "revoked (%u ledger entr%s); log head %s\n"
		    "publish the change: nkhsm-sshca krl -o FILE, crl -o FILE\n",
		    n, n == 1 ? "y" : "ies", head);
	return 0;
}

struct krlgather {
	uint64_t	*serials;
	size_t		 nserials, capserials;
	char		**ids;
	size_t		 nids, capids;
	uint8_t		(*sha)[32];
	size_t		 nsha, capsha;
	char		**revoked_certs;	/* base64 lines of revoked certs */
	char		**ok_certs;		/* a few unrevoked ones */
	size_t		 nrev, nok, caprev;
	int		 err;
};

#define OK_SAMPLE	5

static int
grow(void **p, size_t *cap, size_t n, size_t elem)
{
	void *np;
	size_t nc;

	if (n < *cap)
		return 0;
	nc = *cap == 0 ? 64 : *cap * 2;
	if ((np = realloc(*p, nc * elem)) == NULL)
		return -1;
	*p = np;
	*cap = nc;
	return 0;
}

static int
gather_cert(const struct sc_row *row, void *arg)
{
	struct krlgather *g = arg;
	char *b64 = NULL, *line = NULL;
	const char *sp;
	const uint8_t *blob = row->cert;

	if (strcmp(row->family, "ssh") != 0)
		return 0;
	if (row->revoked) {
		if (grow((void **)&g->serials, &g->capserials, g->nserials,
		    sizeof(*g->serials)) != 0)
			return g->err = -1;
		g->serials[g->nserials++] = strtoull(row->serial, NULL, 10);
	}
	/* Keep the certificate to check the KRL against ssh-keygen. */
	if (!row->revoked && g->nok >= OK_SAMPLE)
		return 0;
	if (nk_b64_encode(blob, row->certlen, 1, &b64) != 0)
		return g->err = -1;
	/* The type is the blob's first string. */
	if (row->certlen < 4 || (sp = (const char *)blob + 4,
	    asprintf(&line, "%.*s %s", (int)((uint32_t)blob[2] << 8 | blob[3]),
	    sp, b64)) == -1) {
		free(b64);
		return g->err = -1;
	}
	free(b64);
	if (row->revoked) {
		if (grow((void **)&g->revoked_certs, &g->caprev, g->nrev,
		    sizeof(char *)) != 0) {
			free(line);
			return g->err = -1;
		}
		g->revoked_certs[g->nrev++] = line;
	} else {
		if (g->ok_certs == NULL &&
		    (g->ok_certs = calloc(OK_SAMPLE, sizeof(char *))) == NULL) {
			free(line);
			return g->err = -1;
		}
		g->ok_certs[g->nok++] = line;
	}
	return 0;
}

static int
gather_rev(const struct sc_revrow *rv, void *arg)
{
	struct krlgather *g = arg;
	const char *what = rv->what, *value = rv->value,
	    *subject_key = rv->subject_key;
	uint8_t *blob = NULL;
	size_t len = 0;

	if (strcmp(what, "key_id") == 0) {
		if (grow((void **)&g->ids, &g->capids, g->nids, sizeof(char *)) != 0 ||
		    (g->ids[g->nids] = strdup(value)) == NULL)
			return g->err = -1;
		g->nids++;
	} else if (strcmp(what, "key") == 0 && subject_key != NULL) {
		if (nk_b64_decode(subject_key, strlen(subject_key), &blob,
		    &len) != 0 ||
		    grow((void **)&g->sha, &g->capsha, g->nsha, 32) != 0) {
			free(blob);
			return g->err = -1;
		}
		if (!EVP_Digest(blob, len, g->sha[g->nsha], NULL, EVP_sha256(),
		    NULL)) {
			free(blob);
			return g->err = -1;
		}
		g->nsha++;
		free(blob);
	}
	return 0;
}

static void
gather_free(struct krlgather *g)
{
	size_t i;

	for (i = 0; i < g->nids; i++)
		free(g->ids[i]);
	for (i = 0; i < g->nrev; i++)
		free(g->revoked_certs[i]);
	for (i = 0; i < g->nok; i++)
		free(g->ok_certs[i]);
	free(g->ids);
	free(g->serials);
	free(g->sha);
	free(g->revoked_certs);
	free(g->ok_certs);
}

/*
 * Ask ssh-keygen, the real consumer's parser, whether the new KRL loads and
 * revokes exactly what the ledger says: every revoked certificate REVOKED,
 * a sample of the others ok. Only then may it replace the old one.
 */
static int
check_krl(const char *krl, const struct krlgather *g, const char *tmpdir)
{
	char path[FILE_MAX], cmdout[FILE_MAX];
	const char **argv = NULL;
	size_t n = g->nrev + g->nok, i, argc = 0;
	FILE *f;
	char line[FILE_MAX + 64];
	size_t revoked = 0, ok = 0;
	pid_t pid;
	int status, fd, r = -1;

	if (access(SSH_KEYGEN, X_OK) != 0) {
		cli_errx("%s is needed to check the KRL before it is published",
		    SSH_KEYGEN);
		return -1;
	}
	if ((argv = calloc(n + 6, sizeof(*argv))) == NULL)
		return -1;
	argv[argc++] = "ssh-keygen";
	argv[argc++] = "-Q";
	argv[argc++] = "-f";
	argv[argc++] = krl;
	for (i = 0; i < n; i++) {
		const char *c = i < g->nrev ? g->revoked_certs[i] :
		    g->ok_certs[i - g->nrev];

		snprintf(path, sizeof(path), "%s/%s%zu-cert.pub", tmpdir,
		    i < g->nrev ? "rev" : "ok", i);
		if ((f = fopen(path, "w")) == NULL)
			goto out;
		fprintf(f, "%s\n", c);
		fclose(f);
		if ((argv[argc++] = strdup(path)) == NULL)
			goto out;
	}
	if (n == 0) {
		/* Nothing to check against: ssh-keygen must still load it. */
		argv[1] = "-Q";
		argv[2] = "-l";
		argv[3] = "-f";
		argv[4] = krl;
		argc = 5;
	}
	snprintf(cmdout, sizeof(cmdout), "%s/ssh-keygen.out", tmpdir);
	if ((pid = fork()) == -1)
		goto out;
	if (pid == 0) {
		if ((fd = open(cmdout, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1 ||
		    dup2(fd, 1) == -1 || dup2(fd, 2) == -1)
			_exit(127);
		execv(SSH_KEYGEN, (char *const *)argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			goto out;
	if (!WIFEXITED(status) || WEXITSTATUS(status) > 1)
		goto bad;
	if (n == 0) {
		r = WEXITSTATUS(status) == 0 ? 0 : -1;
		goto out;
	}
	if ((f = fopen(cmdout, "r")) == NULL)
		goto out;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strstr(line, "rev") != NULL && strstr(line, ": REVOKED") != NULL)
			revoked++;
		else if (strstr(line, "/ok") != NULL && strstr(line, ": ok") != NULL)
			ok++;
	}
	fclose(f);
	if (revoked == g->nrev && ok == g->nok) {
		r = 0;
		goto out;
	}
 bad:
	cli_errx("ssh-keygen -Q does not agree with the ledger (%zu of %zu "
	    "revoked, %zu of %zu ok); the old KRL is left in place", revoked,
	    g->nrev, ok, g->nok);
 out:
	for (i = 4; argv != NULL && i < argc && n > 0; i++)
		free((char *)argv[i]);
	free(argv);
	return r;
}

static int
cmd_krl(struct ca *ca, int argc, char **argv)
{
	struct opts *o = ca->o;
	struct krlgather g;
	struct sc_krl_input in;
	char tmpdir[SCRATCH_MAX], tmpkrl[FILE_MAX], *pub = NULL;
	uint8_t *krl = NULL;
	size_t krllen = 0;
	uint64_t version;
	int ret = EX_FAIL, r;

	memset(&g, 0, sizeof(g));
	if (o->output == NULL) {
		cli_errx("krl needs -o FILE");
		return EX_USAGE;
	}
	if ((ret = state_dir(ca, 0)) != 0 || (ret = open_ledger(ca, 0)) != 0)
		return ret;
	ret = EX_FAIL;
	if (sc_ledger_meta_get(ca->l, "ca_pubkey", &pub) != 0) {
		cli_errx("%s: not an initialized CA", ca->dir);
		return EX_USAGE;
	}
	{
		char *b64 = strchr(pub, ' '), *sp;

		if (b64 == NULL)
			goto out;
		b64++;
		sp = strchr(b64, ' ');
		if (nk_b64_decode(b64, sp != NULL ? (size_t)(sp - b64) :
		    strlen(b64), &ca->ca_blob, &ca->ca_len) != 0)
			goto out;
	}
	if (sc_ledger_each(ca->l, gather_cert, &g) != 0 || g.err != 0 ||
	    sc_ledger_each_revocation(ca->l, gather_rev, &g) != 0 || g.err != 0 ||
	    sc_ledger_counter(ca->l, "krl_version", &version) != 0)
		goto out;
	memset(&in, 0, sizeof(in));
	in.ca_blob = ca->ca_blob;
	in.ca_len = ca->ca_len;
	in.serials = g.serials;
	in.nserials = g.nserials;
	in.key_ids = (const char *const *)g.ids;
	in.nkey_ids = g.nids;
	in.sha256 = (const uint8_t (*)[32])g.sha;
	in.nsha256 = g.nsha;
	in.version = version;
	in.generated = (uint64_t)time(NULL);
	in.comment = "nkhsm-sshca";
	if ((r = sc_krl_encode(&in, &krl, &krllen)) != 0) {
		cli_errx("cannot encode the KRL: %s", nkhsm_strerror(r));
		goto out;
	}
	snprintf(tmpdir, sizeof(tmpdir), "%s/krlcheck.XXXXXX", ca->dir);
	if (mkdtemp(tmpdir) == NULL) {
		cli_errx("%s: %s", tmpdir, strerror(errno));
		goto out;
	}
	snprintf(tmpkrl, sizeof(tmpkrl), "%s/krl", tmpdir);
	if (cli_write_atomic(tmpkrl, krl, krllen, 0644) != 0 ||
	    check_krl(tmpkrl, &g, tmpdir) != 0) {
		ret = EX_FAIL;
	} else if (cli_write_atomic(o->output, krl, krllen, 0644) != 0) {
		cli_errx("cannot write %s: %s", o->output, strerror(errno));
	} else {
		if (!o->quiet)
			fprintf(stderr, "%s: KRL version %llu, %zu serials, %zu key "
			    "ids, %zu keys (checked with ssh-keygen -Q)\n",
			    o->output, (unsigned long long)version, g.nserials,
			    g.nids, g.nsha);
		ret = 0;
	}
	{
		/* Remove the check's scratch files. */
		char cmd[FILE_MAX];
		size_t i;

		for (i = 0; i < g.nrev + g.nok; i++) {
			snprintf(cmd, sizeof(cmd), "%s/%s%zu-cert.pub", tmpdir,
			    i < g.nrev ? "rev" : "ok", i);
			unlink(cmd);
		}
		snprintf(cmd, sizeof(cmd), "%s/ssh-keygen.out", tmpdir);
		unlink(cmd);
		unlink(tmpkrl);
		rmdir(tmpdir);
	}
 out:
	free(krl);
	free(pub);
	gather_free(&g);
	return ret;
}

struct crlgather {
	struct sc_crl_entry *e;
	char		**hex;
	size_t		 n, cap;
	int		 err;
};

static int
gather_crl(const struct sc_row *row, void *arg)
{
	struct crlgather *g = arg;

	if (strcmp(row->family, "x509") != 0 || !row->revoked)
		return 0;
	if (g->n == g->cap) {
		size_t nc = g->cap == 0 ? 64 : g->cap * 2;
		struct sc_crl_entry *ne = realloc(g->e, nc * sizeof(*ne));
		char **nh;

		if (ne == NULL)
			return g->err = -1;
		g->e = ne;
		if ((nh = realloc(g->hex, nc * sizeof(*nh))) == NULL)
			return g->err = -1;
		g->hex = nh;
		g->cap = nc;
	}
	if ((g->hex[g->n] = strdup(row->serial)) == NULL)
		return g->err = -1;
	g->e[g->n].serialhex = g->hex[g->n];
	g->e[g->n].revoked_at = (time_t)row->revoked_at;
	g->n++;
	return 0;
}

static int
cmd_crl(struct ca *ca, int argc, char **argv)
{
	struct opts *o = ca->o;
	struct crlgather g;
	X509_CRL *crl = NULL;
	BIO *bio = NULL;
	char err[512], *pem;
	long pemlen, days = 7;
	uint64_t number;
	size_t i;
	int ret, r;

	memset(&g, 0, sizeof(g));
	err[0] = '\0';
	if (o->output == NULL) {
		cli_errx("crl needs -o FILE");
		return EX_USAGE;
	}
	if (o->days != NULL && (days = parse_num(o->days, 1, 366)) < 0) {
		cli_errx("--days must be 1 to 366");
		return EX_USAGE;
	}
	if ((ret = state_dir(ca, 0)) != 0 || (ret = load_ca(ca, 1)) != 0)
		return ret;
	ret = EX_FAIL;
	if (sc_ledger_each(ca->l, gather_crl, &g) != 0 || g.err != 0 ||
	    sc_ledger_counter(ca->l, "crl_number", &number) != 0)
		goto out;
	if ((r = sc_x509_crl(ca->key, ca->cacert, g.e, g.n, number,
	    (unsigned int)days, &crl, err, sizeof(err))) != 0) {
		cli_errx("%s", err);
		ret = r == NKHSM_ERR_SIGNATURE ? EX_BADSIG : cli_exit_for(r);
		goto out;
	}
	if ((bio = BIO_new(BIO_s_mem())) == NULL ||
	    !PEM_write_bio_X509_CRL(bio, crl) ||
	    (pemlen = BIO_get_mem_data(bio, &pem)) <= 0 ||
	    cli_write_atomic(o->output, pem, (size_t)pemlen, 0644) != 0) {
		cli_errx("cannot write %s", o->output);
		goto out;
	}
	if (!o->quiet)
		fprintf(stderr, "%s: CRL number %llu, %zu revoked\n", o->output,
		    (unsigned long long)number, g.n);
	ret = 0;
 out:
	for (i = 0; i < g.n; i++)
		free(g.hex[i]);
	free(g.hex);
	free(g.e);
	BIO_free(bio);
	X509_CRL_free(crl);
	return ret;
}

static void
fmt_time(uint64_t t, char *buf, size_t len)
{
	struct tm tm;
	time_t tt = (time_t)t;

	if (t == SC_FOREVER)
		snprintf(buf, len, "forever");
	else if (t == 0)
		snprintf(buf, len, "always");
	else if (gmtime_r(&tt, &tm) != NULL)
		strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	else
		snprintf(buf, len, "%llu", (unsigned long long)t);
}

static int
list_row(const struct sc_row *row, void *arg)
{
	int *json = arg;
	char a[32], b[32], i[32], rv[32];

	fmt_time(row->valid_after, a, sizeof(a));
	fmt_time(row->valid_before, b, sizeof(b));
	fmt_time(row->issued_at, i, sizeof(i));
	fmt_time(row->revoked_at, rv, sizeof(rv));
	if (*json) {
		static int first = 1;

		printf("%s{\"family\":", first ? "" : ",");
		first = 0;
		cli_print_json_str(stdout, row->family);
		printf(",\"kind\":");
		cli_print_json_str(stdout, row->kind);
		printf(",\"serial\":");
		cli_print_json_str(stdout, row->serial);
		printf(",\"key_id\":");
		cli_print_json_str(stdout, row->key_id);
		printf(",\"principals\":");
		cli_print_json_str(stdout, row->principals);
		printf(",\"valid_after\":\"%s\",\"valid_before\":\"%s\","
		    "\"issued\":\"%s\",\"subject\":", a, b, i);
		cli_print_json_str(stdout, row->subject_fp);
		printf(",\"revoked\":%s}", row->revoked ? "true" : "false");
		return 0;
	}
	printf("%-9s %-20s ", row->kind, row->serial);
	cli_print_safe(stdout, row->key_id);
	printf("  [");
	cli_print_safe(stdout, row->principals);
	printf("]  %s..%s  %s%s%s\n", a, b, row->subject_fp,
	    row->revoked ? "  REVOKED " : "", row->revoked ? rv : "");
	return 0;
}

static int
cmd_list(struct ca *ca, int argc, char **argv)
{
	int ret, json = ca->o->json;

	if ((ret = state_dir(ca, 0)) != 0 || (ret = open_ledger(ca, 0)) != 0)
		return ret;
	if (json)
		printf("[");
	if (sc_ledger_each(ca->l, list_row, &json) != 0) {
		cli_errx("cannot read the ledger");
		return EX_FAIL;
	}
	if (json)
		printf("]\n");
	return 0;
}

static int
cmd_verify_log(struct ca *ca, int argc, char **argv)
{
	char err[512], head[LOG_HASH_HEX];
	unsigned long n = 0;
	int ret;

	err[0] = '\0';
	if ((ret = state_dir(ca, 0)) != 0 || (ret = open_ledger(ca, 0)) != 0)
		return ret;
	if (sc_ledger_verify_log(ca->l, ca->o->head, &n, head, err,
	    sizeof(err)) != 0) {
		cli_errx("the issuance log does not verify: %s", err);
		return EX_TAMPER;
	}
	printf("log: %lu entries, head %s: ok\n", n, n > 0 ? head : "-");
	return 0;
}

static int
cmd_migrate_ledger(struct ca *ca, int argc, char **argv)
{
	char err[1024], head[LOG_HASH_HEX];
	unsigned long n = 0;
	int r, ret;

	err[0] = '\0';
	if ((ret = state_dir(ca, 0)) != 0 ||
	    (ret = open_ledger(ca, SC_LEDGER_OLD_OK)) != 0)
		return ret;
	if ((r = sc_ledger_migrate(ca->l, ca->o->head, &n, head, err,
	    sizeof(err))) != 0) {
		if (r == NKHSM_ERR_EXISTS) {
			if (!ca->o->quiet)
				fprintf(stderr, "%s: nothing to do\n", err);
			return 0;
		}
		cli_errx("the ledger was not migrated: %s", err);
		return r == NKHSM_ERR_SIGNATURE ? EX_TAMPER : EX_FAIL;
	}
	printf("log: %lu entries, head %s: migrated to format %s\n", n, head,
	    SC_LOG_FORMAT);
	return 0;
}

static const struct command {
	const char	*name;
	int		(*fn)(struct ca *, int, char **);
	int		 minargs, maxargs;
	const char	*accepts;
} commands[] = {
	{ "init", cmd_init, 0, 0, "curve label subject days key token pin-source allow-final-try" },
	{ "ca-pubkey", cmd_ca_pubkey, 0, 0, "" },
	{ "sign", cmd_sign, 1, BATCH_MAX, "user host allow-host-wildcard I n V O z policy key pin-source "
	    "allow-final-try" },
	{ "x509", cmd_x509, 0, 0, "csr pubkey subject san profile days output key pin-source allow-final-try" },
	{ "revoke", cmd_revoke, 0, 1, "key-id key reason" },
	{ "krl", cmd_krl, 0, 0, "output" },
	{ "crl", cmd_crl, 0, 0, "output days key pin-source allow-final-try" },
	{ "list", cmd_list, 0, 0, "json" },
	{ "verify-log", cmd_verify_log, 0, 0, "head" },
	{ "migrate-ledger", cmd_migrate_ledger, 0, 0, "head" },
	{ NULL, NULL, 0, 0, NULL },
};

static const char *const common = "state module config quiet help version "
    "pin-source allow-final-try timeout";


int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "module", required_argument, NULL, 'M' },
		{ "config", required_argument, NULL, 'C' },
		{ "key", required_argument, NULL, 'K' },
		{ "token", required_argument, NULL, 'T' },
		{ "pin-source", required_argument, NULL, 'P' },
		{ "allow-final-try", no_argument, NULL, 'F' },
		{ "timeout", required_argument, NULL, 't' },
		{ "policy", required_argument, NULL, 'p' },
		{ "user", no_argument, NULL, 'u' },
		{ "host", no_argument, NULL, 'H' },
		{ "allow-host-wildcard", no_argument, NULL, 'w' + 256 },
		{ "curve", required_argument, NULL, 'c' },
		{ "label", required_argument, NULL, 'l' },
		{ "subject", required_argument, NULL, 'S' },
		{ "san", required_argument, NULL, 'a' },
		{ "profile", required_argument, NULL, 'r' },
		{ "days", required_argument, NULL, 'd' },
		{ "csr", required_argument, NULL, 'x' },
		{ "pubkey", required_argument, NULL, 'k' },
		{ "output", required_argument, NULL, 'o' },
		{ "key-id", required_argument, NULL, 'i' },
		{ "reason", required_argument, NULL, 'e' },
		{ "head", required_argument, NULL, 'h' + 256 },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'v' + 256 },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o;
	struct ca ca;
	const struct command *cmd;
	const char *seen[64], *name;
	size_t nseen = 0, i;
	int ch, ret;

	cli_progname = "nkhsm-sshca";
	memset(&o, 0, sizeof(o));
	o.c.timeout = CLI_TIMEOUT_DEFAULT;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":I:n:V:O:z:o:qh", longopts,
	    NULL)) != -1) {
		name = NULL;
		for (i = 0; longopts[i].name != NULL; i++)
			if (longopts[i].val == ch)
				name = longopts[i].name;
		if (ch < 256 && strchr("InVOz", ch) != NULL)
			name = ch == 'I' ? "I" : ch == 'n' ? "n" : ch == 'V' ? "V" :
			    ch == 'O' ? "O" : "z";
		if (ch == 'o')
			name = "output";
		if (ch == 'q')
			name = "quiet";
		if ((ret = cli_seen_add(seen, sizeof(seen) / sizeof(seen[0]),
		    &nseen, name)) != 0)
			return ret;
		switch (ch) {
		case 's': o.state = optarg; break;
		case 'M': o.c.module = optarg; break;
		case 'C': o.c.config = optarg; break;
		case 'K': o.key = optarg; break;
		case 'T': o.c.token = optarg; break;
		case 'P': o.c.pin_source = optarg; break;
		case 'F': o.c.allow_final_try = 1; break;
		case 't':
			if ((ret = cli_parse_timeout(optarg, &o.c.timeout)) != 0)
				return ret;
			break;
		case 'p': o.policy = optarg; break;
		case 'u': o.user = 1; break;
		case 'H': o.host = 1; break;
		case 'w' + 256: o.allow_host_wildcard = 1; break;
		case 'c': o.curve = optarg; break;
		case 'l': o.label = optarg; break;
		case 'S': o.subject = optarg; break;
		case 'a': o.san = optarg; break;
		case 'r': o.profile = optarg; break;
		case 'd': o.days = optarg; break;
		case 'x': o.csr = optarg; break;
		case 'k': o.pubkey = optarg; break;
		case 'o': o.output = optarg; break;
		case 'i': o.key_id_rev = optarg; break;
		case 'e': o.reason = optarg; break;
		case 'h' + 256: o.head = optarg; break;
		case 'j': o.json = 1; break;
		case 'q': o.quiet = 1; break;
		case 'I': o.key_id = optarg; break;
		case 'n': o.principals = optarg; break;
		case 'V': o.validity = optarg; break;
		case 'z': o.serial = optarg; break;
		case 'O':
			if (o.nopt >= sizeof(o.opt) / sizeof(o.opt[0])) {
				cli_errx("too many -O options");
				return EX_USAGE;
			}
			o.opt[o.nopt++] = optarg;
			break;
		case 'h':
			usage(stdout);
			return EX_OK;
		case 'v' + 256:
			printf("nkhsm-sshca %s\n", nkhsm_version());
			return EX_OK;
		default:
			return cli_getopt_error(ch, argv);
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return EX_USAGE;
	}
	for (cmd = commands; cmd->name != NULL; cmd++)
		if (strcmp(cmd->name, argv[optind]) == 0)
			break;
	if (cmd->name == NULL) {
		cli_errx("unknown command '%s' (see --help)", argv[optind]);
		return EX_USAGE;
	}
	if ((ret = cli_seen_check(cmd->name, cmd->accepts, common, seen,
	    nseen)) != 0)
		return ret;
	argc -= optind + 1;
	argv += optind + 1;
	if (argc < cmd->minargs || argc > cmd->maxargs) {
		cli_errx("wrong number of arguments for %s (see --help)", cmd->name);
		return EX_USAGE;
	}
	memset(&ca, 0, sizeof(ca));
	ca.o = &o;
	ret = cmd->fn(&ca, argc, argv);
	ca_free(&ca);
	return ret;
}
