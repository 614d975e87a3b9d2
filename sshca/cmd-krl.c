/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * cmd-krl.c - nkhsm-sshca krl: an OpenSSH KRL of everything the ledger
 * revoked (SSH serials, key ids, keys), checked with ssh-keygen -Q against
 * the ledger's own certificates before it replaces the published one.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "nkhsm.h"
#include "nk-int.h"
#include "cli.h"
#include "cmd.h"
#include "ledger.h"


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
	size_t tlen;

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
	/*
	 * The type is the blob's first string, read no further than the blob
	 * (a changed ledger's blob is for ssh-keygen to refuse).
	 */
	if (row->certlen < 4) {
		free(b64);
		return g->err = -1;
	}
	tlen = (size_t)blob[2] << 8 | blob[3];
	if (blob[0] != 0 || blob[1] != 0 || tlen > row->certlen - 4)
		tlen = row->certlen - 4;
	sp = (const char *)blob + 4;
	if (asprintf(&line, "%.*s %s", (int)tlen, sp, b64) == -1) {
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

/* The sample certificates as files, and ssh-keygen -Q's argument vector. */
static int
write_samples(const char *krl, const struct krlgather *g, const char *tmpdir,
    const char ***argvp)
{
	const char **argv;
	char path[FILE_MAX];
	size_t n = g->nrev + g->nok, i, argc = 0;
	FILE *f;

	*argvp = NULL;
	if ((argv = calloc(n + 6, sizeof(*argv))) == NULL)
		return -1;
	argv[argc++] = "ssh-keygen";
	argv[argc++] = "-Q";
	if (n == 0)
		argv[argc++] = "-l";	/* nothing to check: it must still load */
	argv[argc++] = "-f";
	argv[argc++] = krl;
	*argvp = argv;
	for (i = 0; i < n; i++) {
		const char *c = i < g->nrev ? g->revoked_certs[i] :
		    g->ok_certs[i - g->nrev];

		snprintf(path, sizeof(path), "%s/%s%zu-cert.pub", tmpdir,
		    i < g->nrev ? "rev" : "ok", i);
		if ((f = fopen(path, "w")) == NULL)
			return -1;
		fprintf(f, "%s\n", c);
		fclose(f);
		if ((argv[argc++] = strdup(path)) == NULL)
			return -1;
	}
	return 0;
}

static void
free_samples(const char **argv, size_t n)
{
	size_t i;

	for (i = 4; argv != NULL && i < 4 + n; i++)
		free((char *)argv[i]);
	free(argv);
}

/* ssh-keygen with its output in out: its exit status, 256 if killed, -1. */
static int
run_keygen(const char **argv, const char *out)
{
	pid_t pid;
	int status, fd;

	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		if ((fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1 ||
		    dup2(fd, 1) == -1 || dup2(fd, 2) == -1)
			_exit(127);
		execv(SSH_KEYGEN, (char *const *)argv);
		_exit(127);
	}
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 256;
}

/*
 * Ask ssh-keygen, the real consumer's parser, whether the new KRL loads and
 * revokes exactly what the ledger says: every revoked certificate REVOKED,
 * a sample of the others ok. Only then may it replace the old one.
 */
static int
check_krl(const char *krl, const struct krlgather *g, const char *tmpdir)
{
	char out[FILE_MAX], line[FILE_MAX + 64];
	const char **argv = NULL;
	size_t n = g->nrev + g->nok, revoked = 0, ok = 0;
	FILE *f;
	int st, r = -1;

	if (access(SSH_KEYGEN, X_OK) != 0) {
		cli_errx("%s is needed to check the KRL before it is published",
		    SSH_KEYGEN);
		return -1;
	}
	snprintf(out, sizeof(out), "%s/ssh-keygen.out", tmpdir);
	if (write_samples(krl, g, tmpdir, &argv) != 0 ||
	    (st = run_keygen(argv, out)) < 0)
		goto out;
	if (st > 1 || (n == 0 && st != 0))
		goto bad;
	if (n == 0) {
		r = 0;
		goto out;
	}
	if ((f = fopen(out, "r")) == NULL)
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
	free_samples(argv, n);
	return r;
}

/* The CA's public key blob, from its OpenSSH line in the ledger. */
static int
krl_ca_blob(struct ca *ca)
{
	char *pub = NULL, *b64, *sp;
	int ret = EX_FAIL;

	if (sc_ledger_meta_get(ca->l, "ca_pubkey", &pub) != 0) {
		cli_errx("%s: not an initialized CA", ca->dir);
		return EX_USAGE;
	}
	if ((b64 = strchr(pub, ' ')) != NULL) {
		b64++;
		sp = strchr(b64, ' ');
		if (nk_b64_decode(b64, sp != NULL ? (size_t)(sp - b64) :
		    strlen(b64), &ca->ca_blob, &ca->ca_len) == 0)
			ret = 0;
	}
	free(pub);
	return ret;
}

/* Remove the check's scratch files. */
static void
remove_scratch(const char *tmpdir, const struct krlgather *g)
{
	char path[FILE_MAX];
	size_t i;

	for (i = 0; i < g->nrev + g->nok; i++) {
		snprintf(path, sizeof(path), "%s/%s%zu-cert.pub", tmpdir,
		    i < g->nrev ? "rev" : "ok", i);
		unlink(path);
	}
	snprintf(path, sizeof(path), "%s/ssh-keygen.out", tmpdir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/krl", tmpdir);
	unlink(path);
	rmdir(tmpdir);
}

/* Check the new KRL in a scratch directory, then replace the published one. */
static int
krl_publish(struct ca *ca, const struct krlgather *g, const uint8_t *krl,
    size_t len)
{
	char tmpdir[SCRATCH_MAX], tmpkrl[FILE_MAX];
	int ret = EX_FAIL;

	snprintf(tmpdir, sizeof(tmpdir), "%s/krlcheck.XXXXXX", ca->dir);
	if (mkdtemp(tmpdir) == NULL) {
		cli_errx("%s: %s", tmpdir, strerror(errno));
		return EX_FAIL;
	}
	snprintf(tmpkrl, sizeof(tmpkrl), "%s/krl", tmpdir);
	if (cli_write_atomic(tmpkrl, krl, len, 0644) != 0 ||
	    check_krl(tmpkrl, g, tmpdir) != 0)
		ret = EX_FAIL;
	else if (cli_write_atomic(ca->o->output, krl, len, 0644) != 0)
		cli_errx("cannot write %s: %s", ca->o->output, strerror(errno));
	else
		ret = 0;
	remove_scratch(tmpdir, g);
	return ret;
}

int
cmd_krl(struct ca *ca, int argc, char **argv)
{
	struct opts *o = ca->o;
	struct krlgather g;
	struct sc_krl_input in;
	uint8_t *krl = NULL;
	size_t krllen = 0;
	uint64_t version;
	int ret, r;

	memset(&g, 0, sizeof(g));
	if (o->output == NULL) {
		cli_errx("krl needs -o FILE");
		return EX_USAGE;
	}
	if ((ret = ca_state_dir(ca, 0)) != 0 || (ret = ca_open_ledger(ca, 0)) != 0 ||
	    (ret = krl_ca_blob(ca)) != 0)
		return ret;
	ret = EX_FAIL;
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
	if ((ret = krl_publish(ca, &g, krl, krllen)) == 0 && !o->quiet)
		fprintf(stderr, "%s: KRL version %llu, %zu serials, %zu key ids, "
		    "%zu keys (checked with ssh-keygen -Q)\n", o->output,
		    (unsigned long long)version, g.nserials, g.nids, g.nsha);
 out:
	free(krl);
	gather_free(&g);
	return ret;
}
