/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd-sign.c - nkhsm-sshca sign: OpenSSH certificates for a batch of keys.
 * Every request is read and checked (options, policy, revocations) before
 * the token is touched; then, a chunk at a time, each certificate is
 * signed and its signature verified in software, the chunk is recorded in
 * the ledger in one transaction, and only then are its files written.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/rand.h>

#include "nkhsm.h"
#include "nk-int.h"
#include "cli.h"
#include "cmd.h"
#include "ledger.h"

#define SERIAL_RETRIES	8
#define CHUNK		256	/* certificates per ledger transaction */
#define PROGRESS_MIN	10	/* show progress on a terminal from this many */

/* The batch: one request, key and certificate path per KEY.pub. */
struct batch {
	struct sc_certreq *reqs;
	struct sc_pubkey *pks;
	char		**paths;
	size_t		 n;
	uint64_t	 from, to;	/* -V */
	uint64_t	 first;		/* -z */
	int		 fixed;
};

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

static void
batch_free(struct batch *b)
{
	size_t i;

	for (i = 0; b->reqs != NULL && i < b->n; i++) {
		sc_certreq_free(&b->reqs[i]);
		sc_pubkey_free(&b->pks[i]);
	}
	for (i = 0; b->paths != NULL && i < b->n; i++)
		free(b->paths[i]);
	free(b->reqs);
	free(b->pks);
	free(b->paths);
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

/* -I: 1 to SC_KEYID_LEN_MAX characters, none of them a control character. */
static int
check_key_id(const char *id)
{
	size_t i;

	if (id == NULL || *id == '\0' || strlen(id) > SC_KEYID_LEN_MAX) {
		cli_errx("sign needs -I KEY_ID (1 to %d characters)",
		    SC_KEYID_LEN_MAX);
		return EX_USAGE;
	}
	for (i = 0; id[i] != '\0'; i++)
		if ((unsigned char)id[i] < 0x20 || id[i] == 0x7f) {
			cli_errx("-I: control characters are not allowed");
			return EX_USAGE;
		}
	return 0;
}

/* -z SERIAL or -z +SERIAL (numbering several keys from it). */
static int
parse_first_serial(const char *s, int nkeys, struct batch *b)
{
	unsigned long long first;
	char *end;
	int incr = *s == '+';

	if (incr)
		s++;
	errno = 0;
	first = strtoull(s, &end, 10);
	if (*s == '-' || *s == '\0' || *end != '\0' || errno != 0 ||
	    first == 0) {
		cli_errx("-z: a serial from 1 to 2^64-1 (0 is never issued)");
		return EX_USAGE;
	}
	if (nkeys > 1 && !incr) {
		cli_errx("-z with several keys: use -z +N to number them from N");
		return EX_USAGE;
	}
	b->first = (uint64_t)first;
	b->fixed = 1;
	return 0;
}

/* The command line, before any file is read. */
static int
sign_args(const struct opts *o, int argc, time_t now, struct batch *b)
{
	char err[512];
	int ret;

	err[0] = '\0';
	if (o->user == o->host) {
		cli_errx("sign needs --user or --host");
		return EX_USAGE;
	}
	if (o->allow_host_wildcard && !o->host) {
		cli_errx("--allow-host-wildcard applies to --host certificates");
		return EX_USAGE;
	}
	if ((ret = check_key_id(o->key_id)) != 0)
		return ret;
	if (o->validity == NULL) {
		cli_errx("sign needs -V: refusing a certificate that never expires "
		    "(give -V +52w, or -V forever explicitly)");
		return EX_USAGE;
	}
	if (sc_parse_validity(o->validity, now, &b->from, &b->to, err,
	    sizeof(err)) != 0) {
		cli_errx("%s", err);
		return EX_USAGE;
	}
	if (argc < 1 || (size_t)argc > BATCH_MAX) {
		cli_errx("sign needs one or more KEY.pub files");
		return EX_USAGE;
	}
	if (o->serial != NULL)
		return parse_first_serial(o->serial, argc, b);
	return 0;
}

/* --policy, else STATE/policy.conf if there is one; NULL: none. */
static int
sign_policy(struct ca *ca, struct sc_policy **polp)
{
	char path[FILE_MAX], err[512];
	struct stat st;

	*polp = NULL;
	err[0] = '\0';
	snprintf(path, sizeof(path), "%s/policy.conf", ca->dir);
	if (ca->o->policy == NULL && stat(path, &st) != 0)
		return 0;
	if (sc_policy_load(ca->o->policy != NULL ? ca->o->policy : path, polp,
	    err, sizeof(err)) != 0) {
		cli_errx("%s", err);
		return EX_USAGE;
	}
	return 0;
}

/* One request: its key, principals, options, serial, and the policy. */
static int
sign_request(const struct opts *o, const char *file, struct batch *b, size_t i,
    const struct sc_policy *pol, time_t now)
{
	struct sc_certreq *req = &b->reqs[i];
	char err[512];
	size_t j;
	int ret;

	err[0] = '\0';
	sc_certreq_init(req, o->user ? SC_CERT_USER : SC_CERT_HOST);
	if ((ret = ca_read_pubkey(file, 0, &b->pks[i])) != 0)
		return ret;
	if ((req->key_id = strdup(o->key_id)) == NULL)
		return EX_USAGE;
	req->allow_host_wildcard = o->allow_host_wildcard;
	if (sc_parse_principals(req, o->principals, err, sizeof(err)) != 0) {
		cli_errx("%s", err);
		return EX_USAGE;
	}
	req->valid_after = b->from;
	req->valid_before = b->to;
	for (j = 0; j < o->nopt; j++) {
		if (sc_parse_option(req, o->opt[j], err, sizeof(err)) != 0) {
			cli_errx("%s", err);
			return EX_USAGE;
		}
	}
	if (sc_apply_default_extensions(req) != 0)
		return EX_USAGE;
	if (b->fixed)
		req->serial = b->first + i;
	if (b->fixed && req->serial == 0) {
		cli_errx("-z: the serials would wrap to 0");
		return EX_USAGE;
	}
	if (pol != NULL && sc_policy_check(pol, req, &b->pks[i], now, err,
	    sizeof(err)) != 0) {
		cli_errx("%s: refused by policy: %s", file, err);
		return EX_POLICY;
	}
	return 0;
}

/* Every request is checked before the token is touched. */
static int
sign_requests(struct ca *ca, int argc, char **argv, struct batch *b,
    time_t now)
{
	struct sc_policy *pol = NULL;
	size_t i;
	int ret;

	if ((ret = sign_policy(ca, &pol)) != 0)
		return ret;
	ret = EX_FAIL;
	b->n = (size_t)argc;
	if ((b->reqs = calloc(b->n, sizeof(*b->reqs))) == NULL ||
	    (b->pks = calloc(b->n, sizeof(*b->pks))) == NULL ||
	    (b->paths = calloc(b->n, sizeof(*b->paths))) == NULL)
		goto out;
	for (i = 0; i < b->n; i++)
		if ((ret = sign_request(ca->o, argv[i], b, i, pol, now)) != 0)
			goto out;
	for (i = 0; i < b->n; i++) {
		if ((b->paths[i] = malloc(FILE_MAX)) == NULL ||
		    cert_path(argv[i], b->paths[i], FILE_MAX) != 0) {
			cli_errx("%s: name too long", argv[i]);
			ret = EX_USAGE;
			goto out;
		}
	}
	ret = 0;
 out:
	sc_policy_free(&pol);
	return ret;
}

/* A revoked key id or key would be born revoked: refuse it. */
static int
sign_unrevoked(struct ca *ca, char **argv, const struct batch *b)
{
	const char **ids, **fps;
	size_t i, which = 0;
	int r = -1, ret = EX_FAIL;

	ids = calloc(b->n, sizeof(*ids));
	fps = calloc(b->n, sizeof(*fps));
	for (i = 0; ids != NULL && fps != NULL && i < b->n; i++) {
		ids[i] = b->reqs[i].key_id;
		fps[i] = b->pks[i].fp;
	}
	if (ids != NULL && fps != NULL)
		r = sc_ledger_first_revoked(ca->l, ids, fps, b->n, &which);
	if (r < 0) {
		cli_errx("ledger: cannot check the revocations; not issuing");
		ret = ca_ledger_failed(ca);
	} else if (r > 0) {
		cli_errx("%s: key id '%s' or key %s is revoked; not issuing",
		    argv[which], b->reqs[which].key_id, b->pks[which].fp);
		ret = EX_POLICY;
	} else
		ret = 0;
	free(ids);
	free(fps);
	return ret;
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

/* The ledger's record of one signed certificate (principals in *princp). */
static int
entry_of(const struct sc_certreq *req, const struct sc_pubkey *pk,
    const struct issued *is, struct sc_entry *e, char **princp)
{
	memset(e, 0, sizeof(*e));
	if ((*princp = join_principals(req)) == NULL)
		return NKHSM_ERR_NOMEM;
	e->family = "ssh";
	e->kind = req->type == SC_CERT_USER ? "ssh-user" : "ssh-host";
	e->serial = is->serial;
	e->key_id = req->key_id;
	e->principals = *princp;
	e->valid_after = req->valid_after;
	e->valid_before = req->valid_before;
	e->subject_fp = pk->fp;
	e->subject_key = is->subject_key;
	e->cert = is->cert;
	e->certlen = is->certlen;
	return 0;
}

/* Record a chunk: all of it in one transaction, or none of it. */
static int
record_once(struct ca *ca, struct sc_certreq *reqs, struct sc_pubkey *pks,
    struct issued *is, size_t n, size_t *takenp, char *head, char *err,
    size_t errlen)
{
	struct sc_entry *e;
	char **princ;
	size_t i;
	int r = NKHSM_ERR_NOMEM;

	e = calloc(n, sizeof(*e));
	princ = calloc(n, sizeof(*princ));
	for (i = 0; e != NULL && princ != NULL && i < n; i++)
		if (entry_of(&reqs[i], &pks[i], &is[i], &e[i], &princ[i]) != 0)
			break;
	if (e != NULL && princ != NULL && i == n)
		r = sc_ledger_issue(ca->l, e, n, takenp, head, err, errlen);
	else
		nk_errf(err, errlen, "%s", nkhsm_strerror(r));
	for (i = 0; princ != NULL && i < n; i++)
		free(princ[i]);
	free(princ);
	free(e);
	return r;
}

/*
 * Record a chunk in one transaction. A serial another issuer took meanwhile
 * is drawn again and re-signed; with -z it is an error.
 */
static int
record_chunk(struct ca *ca, struct batch *b, size_t c0, struct issued *is,
    size_t n, char *head)
{
	struct sc_certreq *reqs = b->reqs + c0;
	struct sc_pubkey *pks = b->pks + c0;
	char err[512];
	size_t taken;
	int r, tries, ret;

	for (tries = 0; tries < SERIAL_RETRIES; tries++) {
		err[0] = '\0';
		taken = 0;
		if ((r = record_once(ca, reqs, pks, is, n, &taken, head, err,
		    sizeof(err))) == 0)
			return 0;
		if (r != NKHSM_ERR_EXISTS) {
			cli_errx("%s", err[0] != '\0' ? err : nkhsm_strerror(r));
			return ca_ledger_failed(ca);
		}
		if (b->fixed) {
			cli_errx("serial %s was issued before", is[taken].serial);
			return EX_EXISTS;
		}
		if ((ret = sign_one(ca, &reqs[taken], &pks[taken], 0,
		    &is[taken])) != 0)
			return ret;
	}
	cli_errx("no free serial after %d tries", SERIAL_RETRIES);
	return EX_FAIL;
}

/* One certificate to a temporary name beside its path; its device. */
static int
write_tmp(struct issued *is, const char *path, dev_t *devp)
{
	struct stat st;
	size_t len;
	int fd, ok;

	if ((size_t)snprintf(is->tmp, sizeof(is->tmp), "%s.tmpXXXXXX", path) >=
	    sizeof(is->tmp) || (fd = mkstemp(is->tmp)) == -1) {
		cli_errx("certificate %s is in the ledger but %s could not be "
		    "written: %s", is->serial, path, strerror(errno));
		is->tmp[0] = '\0';
		return EX_FAIL;
	}
	len = strlen(is->line);
	is->line[len] = '\n';
	ok = write(fd, is->line, len + 1) == (ssize_t)(len + 1) &&
	    fchmod(fd, 0644) == 0 && fstat(fd, &st) == 0;
	is->line[len] = '\0';
	if (!ok) {
		cli_errx("certificate %s is in the ledger but %s could not be "
		    "written: %s", is->serial, path, strerror(errno));
		unlink(is->tmp);
		is->tmp[0] = '\0';
	} else
		*devp = st.st_dev;
	close(fd);
	return ok ? 0 : EX_FAIL;
}

/*
 * Write a recorded chunk: every file to a temporary name, one syncfs for
 * the lot instead of an fsync each, then the renames.
 */
static int
write_chunk(struct issued *is, char **paths, size_t n)
{
	dev_t devs[8], dev;
	size_t first[8], ndev = 0, i, k;
	int fd, ret = 0;

	for (i = 0; i < n; i++) {
		if (write_tmp(&is[i], paths[i], &dev) != 0) {
			ret = EX_FAIL;
			continue;
		}
		for (k = 0; k < ndev && devs[k] != dev; k++)
			;
		if (k == ndev && ndev < sizeof(devs) / sizeof(devs[0])) {
			devs[ndev] = dev;
			first[ndev++] = i;
		}
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

/* The ledger first, then the files: no certificate without its entry. */
static int
record_then_write(struct ca *ca, struct batch *b, size_t c0, struct issued *is,
    size_t n, char *head)
{
	int ret;

	if ((ret = record_chunk(ca, b, c0, is, n, head)) != 0)
		return ret;
	return write_chunk(is, b->paths + c0, n);
}

/* Sign and verify a chunk, record it in one transaction, write it. */
static int
sign_chunks(struct ca *ca, struct batch *b, char *head)
{
	const struct opts *o = ca->o;
	struct issued *is;
	size_t i, c0, n;
	int ret = 0, progress;

	progress = b->n >= PROGRESS_MIN && isatty(STDERR_FILENO) && !o->quiet;
	if ((is = calloc(CHUNK, sizeof(*is))) == NULL)
		return EX_FAIL;
	for (c0 = 0; c0 < b->n && ret == 0; c0 += n) {
		n = b->n - c0 < CHUNK ? b->n - c0 : CHUNK;
		for (i = 0; i < n && ret == 0; i++)
			ret = sign_one(ca, &b->reqs[c0 + i], &b->pks[c0 + i],
			    b->fixed, &is[i]);
		if (ret != 0 ||
		    (ret = record_then_write(ca, b, c0, is, n, head)) != 0)
			break;
		for (i = 0; i < n; i++) {
			if (!progress && !o->quiet)
				fprintf(stderr, "%s: serial %s, key %s\n",
				    b->paths[c0 + i], is[i].serial,
				    b->pks[c0 + i].fp);
			issued_free(&is[i]);
		}
		if (progress)
			fprintf(stderr, "\rsigned %zu/%zu", c0 + n, b->n);
	}
	if (progress && ret == 0)
		fputc('\n', stderr);
	for (i = 0; i < CHUNK; i++)
		issued_free(&is[i]);
	free(is);
	return ret;
}

int
cmd_sign(struct ca *ca, int argc, char **argv)
{
	struct batch b;
	char head[LOG_HASH_HEX];
	time_t now = time(NULL);
	int ret;

	memset(&b, 0, sizeof(b));
	head[0] = '\0';
	if ((ret = sign_args(ca->o, argc, now, &b)) != 0 ||
	    (ret = ca_state_dir(ca, 0)) != 0)
		return ret;
	if ((ret = sign_requests(ca, argc, argv, &b, now)) != 0 ||
	    (ret = ca_load(ca, 1)) != 0 ||
	    (ret = sign_unrevoked(ca, argv, &b)) != 0 ||
	    (ret = sign_chunks(ca, &b, head)) != 0)
		goto out;
	if (!ca->o->quiet && head[0] != '\0')
		fprintf(stderr, "log head %s\n", head);
	ret = 0;
 out:
	batch_free(&b);
	return ret;
}
