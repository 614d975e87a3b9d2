/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * revcheck.c - the revocation readers in lib/ on the command line, for the
 * integration tests to hold them against the real peers on the same files:
 *
 *	revcheck krl [-v] KRL KEY.pub...
 *
 * answers as ssh-keygen -Q does (tests/integration/krl-read.sh): "KEY.pub:
 * REVOKED" or "KEY.pub: ok" for each key or certificate (the first line of
 * each file), all checked in one pass, and with -v what revoked it ("  by
 * serial", "  by SHA-1 hash of its CA"); exit 0 when none is revoked, 1
 * when one is, 255 when the KRL is refused (the reason on standard error).
 *
 *	revcheck crl CRL ISSUER.pem [SERIAL...]
 *
 * reads each CRL in the file (DER, or PEM blocks) as pam_nkhsm does
 * (tests/integration/crl-read.sh): "crl N: E entries, thisUpdate T,
 * nextUpdate T" (seconds since the epoch), "signature: good" or
 * "signature: BAD", then "SERIAL: REVOKED" or "SERIAL: ok" for each serial
 * given in hex; exit 0, or 1 when the file is refused.
 *
 * Exit 2 on usage or I/O errors.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/bn.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "nk-int.h"
#include "crl.h"
#include "krl.h"

#define KEYLINE_MAX	(64 * 1024)

static void
die(const char *what, const char *arg)
{
	fprintf(stderr, "revcheck: %s%s%s\n", what, arg ? ": " : "",
	    arg ? arg : "");
	exit(2);
}

/* The whole file (lib/file.c's reader), or die. */
static char *
read_file(const char *path, size_t *lenp)
{
	char *text = NULL, err[256];
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1 ||
	    nk_fd_read_all(fd, path, 64 * 1024 * 1024, &text, lenp, err,
	    sizeof(err)) != 0)
		die("cannot read", path);
	close(fd);
	return text;
}

/* The blob of the "type base64 [comment]" line in path. */
static void
read_key(const char *path, uint8_t **blobp, size_t *lenp)
{
	char line[KEYLINE_MAX], *b64;
	size_t n;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL || fgets(line, sizeof(line),
	    f) == NULL)
		die("cannot read key", path);
	fclose(f);
	if ((b64 = strchr(line, ' ')) == NULL)
		die("malformed key", path);
	b64++;
	n = strcspn(b64, " \r\n");
	if (nk_b64_decode(b64, n, blobp, lenp) != 0)
		die("bad base64 in key", path);
}

static int
krl_main(int argc, char **argv)
{
	struct nk_krl_query *q;
	uint8_t *krl, **blobs, **plains;
	size_t krllen, len, *plainlens, n, i;
	char err[512];
	int r, revoked = 0, verbose = 0;

	if (argc > 1 && strcmp(argv[1], "-v") == 0) {
		verbose = 1;
		argc--;
		argv++;
	}
	if (argc < 3)
		die("usage: revcheck krl [-v] KRL KEY.pub...", NULL);
	n = (size_t)argc - 2;
	if ((q = calloc(n, sizeof(*q))) == NULL ||
	    (blobs = calloc(n, sizeof(*blobs))) == NULL ||
	    (plains = calloc(n, sizeof(*plains))) == NULL ||
	    (plainlens = calloc(n, sizeof(*plainlens))) == NULL)
		die("out of memory", NULL);
	krl = (uint8_t *)read_file(argv[1], &krllen);
	for (i = 0; i < n; i++) {
		read_key(argv[i + 2], &blobs[i], &len);
		if (nk_krl_query_from_blob(&q[i], blobs[i], len, &plains[i],
		    &plainlens[i]) != 0)
			die("cannot read the key or certificate", argv[i + 2]);
	}
	err[0] = '\0';
	if ((r = nk_krl_check(argv[1], krl, krllen, q, n, err,
	    sizeof(err))) != 0) {
		fprintf(stderr, "revcheck: %s (%s)\n", err, nkhsm_strerror(r));
		return 255;
	}
	for (i = 0; i < n; i++) {
		if (q[i].why != 0)
			revoked = 1;
		printf("%s: %s\n", argv[i + 2], q[i].why != 0 ? "REVOKED" : "ok");
		if (verbose && q[i].why != 0)
			printf("  by %s%s\n", nk_krl_why(q[i].why),
			    q[i].by_ca ? " of its CA" : "");
		free(blobs[i]);
		free(plains[i]);
	}
	free(krl);
	free(q);
	free(blobs);
	free(plains);
	free(plainlens);
	return revoked;
}

/* A hex serial as the content of its DER INTEGER. */
static unsigned char *
serial_der(const char *hex, size_t *lenp)
{
	BIGNUM *bn = NULL;
	ASN1_INTEGER *ai;
	unsigned char *der = NULL, *c;
	int len;

	if (BN_hex2bn(&bn, hex) == 0 || (ai = BN_to_ASN1_INTEGER(bn, NULL)) == NULL ||
	    (len = i2d_ASN1_INTEGER(ai, &der)) <= 2 || der[1] >= 0x80)
		die("bad serial", hex);
	if ((c = malloc((size_t)len - 2)) == NULL)
		die("out of memory", NULL);
	memcpy(c, der + 2, (size_t)len - 2);
	*lenp = (size_t)len - 2;
	OPENSSL_free(der);
	ASN1_INTEGER_free(ai);
	BN_free(bn);
	return c;
}

static void
report(const struct nk_crl *c, size_t n, EVP_PKEY *issuer, char **serials,
    int nserials)
{
	unsigned char *s;
	size_t slen;
	char err[256];
	int i;

	printf("crl %zu: %zu entries, thisUpdate %lld, nextUpdate %lld\n", n,
	    c->nentries, (long long)c->this_update, (long long)c->next_update);
	printf("signature: %s\n", nk_crl_verify(c, issuer, err,
	    sizeof(err)) == 0 ? "good" : "BAD");
	for (i = 0; i < nserials; i++) {
		s = serial_der(serials[i], &slen);
		printf("%s: %s\n", serials[i], nk_crl_lists(c, s, slen) ?
		    "REVOKED" : "ok");
		free(s);
	}
}

static int
crl_main(int argc, char **argv)
{
	struct nk_crl c;
	EVP_PKEY *issuer;
	X509 *x;
	FILE *f;
	char *text, err[256];
	uint8_t *der = NULL;
	size_t len, off = 0, line = 0, derlen = 0, n = 0;
	int r;

	if (argc < 3)
		die("usage: revcheck crl CRL ISSUER.pem [SERIAL...]", NULL);
	if ((f = fopen(argv[2], "r")) == NULL ||
	    (x = PEM_read_X509(f, NULL, NULL, NULL)) == NULL)
		die("cannot read the issuer certificate", argv[2]);
	fclose(f);
	issuer = X509_get0_pubkey(x);
	text = read_file(argv[1], &len);
	if (len > 0 && (unsigned char)text[0] == 0x30) {
		if ((r = nk_crl_parse((uint8_t *)text, len, &c, err,
		    sizeof(err))) != 0) {
			fprintf(stderr, "revcheck: %s: %s\n", argv[1], err);
			return 1;
		}
		report(&c, 1, issuer, argv + 3, argc - 3);
	} else {
		for (;;) {
			if ((r = nk_crl_pem_next(text, len, &off, &line, &der,
			    &derlen, err, sizeof(err))) != 0 ||
			    (der != NULL && (r = nk_crl_parse(der, derlen, &c,
			    err, sizeof(err))) != 0)) {
				fprintf(stderr, "revcheck: %s: %s\n", argv[1], err);
				return 1;
			}
			if (der == NULL)
				break;
			report(&c, ++n, issuer, argv + 3, argc - 3);
			free(der);
		}
		if (n == 0) {
			fprintf(stderr, "revcheck: %s: no CRL\n", argv[1]);
			return 1;
		}
	}
	free(text);
	X509_free(x);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "krl") == 0)
		return krl_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "crl") == 0)
		return crl_main(argc - 1, argv + 1);
	die("usage: revcheck krl|crl ...", NULL);
	return 2;
}
