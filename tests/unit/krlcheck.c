/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * krlcheck.c - lib/krl.c's verdicts in ssh-keygen -Q's words, so that
 * tests/integration/krl-read.sh can hold the two side by side on the same
 * files:
 *
 *	krlcheck [-v] KRL KEY.pub...
 *
 * prints "KEY.pub: REVOKED" or "KEY.pub: ok" for each key or certificate
 * (the first line of each file), all checked in one pass, and with -v
 * what revoked it ("  by serial", "  by SHA-1 hash of its CA"); exits 0 when
 * none is revoked, 1 when one is, 255 when the KRL is refused (the reason
 * on standard error), 2 on usage or I/O errors.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nk-int.h"
#include "krl.h"

#define KEYLINE_MAX	(64 * 1024)

static void
die(const char *what, const char *arg)
{
	fprintf(stderr, "krlcheck: %s%s%s\n", what, arg ? ": " : "",
	    arg ? arg : "");
	exit(2);
}

static uint8_t *
read_file(const char *path, size_t *lenp)
{
	uint8_t *d = NULL, *nd;
	size_t len = 0, cap = 0, n;
	FILE *f;

	if ((f = fopen(path, "rb")) == NULL)
		die("cannot open", path);
	for (;;) {
		if (len == cap) {
			cap = cap == 0 ? 65536 : cap * 2;
			if ((nd = realloc(d, cap)) == NULL)
				die("out of memory", NULL);
			d = nd;
		}
		if ((n = fread(d + len, 1, cap - len, f)) == 0)
			break;
		len += n;
	}
	fclose(f);
	*lenp = len;
	return d;
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

int
main(int argc, char **argv)
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
		die("usage: krlcheck [-v] KRL KEY.pub...", NULL);
	n = (size_t)argc - 2;
	if ((q = calloc(n, sizeof(*q))) == NULL ||
	    (blobs = calloc(n, sizeof(*blobs))) == NULL ||
	    (plains = calloc(n, sizeof(*plains))) == NULL ||
	    (plainlens = calloc(n, sizeof(*plainlens))) == NULL)
		die("out of memory", NULL);
	krl = read_file(argv[1], &krllen);
	for (i = 0; i < n; i++) {
		read_key(argv[i + 2], &blobs[i], &len);
		if (nk_krl_query_from_blob(&q[i], blobs[i], len, &plains[i],
		    &plainlens[i]) != 0)
			die("cannot read the key or certificate", argv[i + 2]);
	}
	err[0] = '\0';
	if ((r = nk_krl_check(argv[1], krl, krllen, q, n, err,
	    sizeof(err))) != 0) {
		fprintf(stderr, "krlcheck: %s (%s)\n", err, nkhsm_strerror(r));
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
