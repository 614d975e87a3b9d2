/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * krlgen.c - writes a KRL with sc_krl_encode() so tests/integration/
 * sshca-krl.sh can hand it to ssh-keygen -Q (the real peer).
 *
 *	krlgen -o OUT [-c CA.pub] [-s SERIAL]... [-S FILE] [-i KEYID]...
 *	    [-k KEY.pub]... [-V VERSION] [-d DATE] [-C COMMENT]
 *
 * -S reads decimal serials, one a line; -k revokes a plain key by the
 * SHA-256 of its blob. Exit 0 on success, 1 when the encoder refuses
 * (its error printed), 2 on usage or I/O errors.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "nk-int.h"
#include "sshca.h"

#define KRLGEN_LINE_MAX		(64 * 1024)

static void
die(const char *what)
{
	fprintf(stderr, "krlgen: %s\n", what);
	exit(2);
}

static void *
grow(void *p, size_t n, size_t size)
{
	if ((n & (n - 1)) != 0 && n != 0)
		return p;		/* room left: capacities are 2^k */
	if ((p = realloc(p, (n == 0 ? 1 : n * 2) * size)) == NULL)
		die("out of memory");
	return p;
}

static uint64_t
parse_u64(const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (s[0] < '0' || s[0] > '9' || *end != '\0' || errno != 0)
		die("bad number");
	return (uint64_t)v;
}

/* The blob of the "type base64 [comment]" line in path. */
static void
read_pub(const char *path, uint8_t **blobp, size_t *lenp)
{
	char line[KRLGEN_LINE_MAX], *b64, *end;
	FILE *f;

	if ((f = fopen(path, "r")) == NULL || fgets(line, sizeof(line),
	    f) == NULL)
		die("cannot read public key");
	fclose(f);
	if ((b64 = strchr(line, ' ')) == NULL)
		die("malformed public key");
	b64++;
	end = b64 + strcspn(b64, " \r\n");
	if (nk_b64_decode(b64, (size_t)(end - b64), blobp, lenp) != 0)
		die("bad base64 in public key");
}

int
main(int argc, char **argv)
{
	struct sc_krl_input in;
	uint64_t *serials = NULL;
	const char **ids = NULL;
	uint8_t (*hashes)[32] = NULL, *blob, *krl = NULL;
	char line[128];
	const char *outpath = NULL;
	size_t nserials = 0, nids = 0, nhashes = 0, blen, krllen = 0;
	unsigned int mdlen;
	FILE *f;
	int ch, r;

	memset(&in, 0, sizeof(in));
	while ((ch = getopt(argc, argv, "o:c:s:S:i:k:V:d:C:")) != -1) {
		switch (ch) {
		case 'o':
			outpath = optarg;
			break;
		case 'c':
			read_pub(optarg, &blob, &blen);
			in.ca_blob = blob;
			in.ca_len = blen;
			break;
		case 's':
			serials = grow(serials, nserials, sizeof(*serials));
			serials[nserials++] = parse_u64(optarg);
			break;
		case 'S':
			if ((f = fopen(optarg, "r")) == NULL)
				die("cannot open serial file");
			while (fgets(line, sizeof(line), f) != NULL) {
				line[strcspn(line, "\r\n")] = '\0';
				serials = grow(serials, nserials,
				    sizeof(*serials));
				serials[nserials++] = parse_u64(line);
			}
			fclose(f);
			break;
		case 'i':
			ids = grow(ids, nids, sizeof(*ids));
			ids[nids++] = optarg;
			break;
		case 'k':
			read_pub(optarg, &blob, &blen);
			hashes = grow(hashes, nhashes, sizeof(*hashes));
			if (EVP_Digest(blob, blen, hashes[nhashes++], &mdlen,
			    EVP_sha256(), NULL) != 1 || mdlen != 32)
				die("SHA-256 failed");
			free(blob);
			break;
		case 'V':
			in.version = parse_u64(optarg);
			break;
		case 'd':
			in.generated = parse_u64(optarg);
			break;
		case 'C':
			in.comment = optarg;
			break;
		default:
			die("usage: krlgen -o OUT [-c CA.pub] [-s SERIAL]... "
			    "[-S FILE] [-i KEYID]... [-k KEY.pub]... "
			    "[-V VERSION] [-d DATE] [-C COMMENT]");
		}
	}
	if (outpath == NULL || optind != argc)
		die("usage: krlgen -o OUT ...");
	in.serials = serials;
	in.nserials = nserials;
	in.key_ids = ids;
	in.nkey_ids = nids;
	in.sha256 = (const uint8_t (*)[32])hashes;
	in.nsha256 = nhashes;
	if ((r = sc_krl_encode(&in, &krl, &krllen)) != 0) {
		fprintf(stderr, "krlgen: sc_krl_encode: %s\n",
		    nkhsm_strerror(r));
		return 1;
	}
	if ((f = fopen(outpath, "wb")) == NULL ||
	    fwrite(krl, 1, krllen, f) != krllen || fclose(f) != 0)
		die("cannot write KRL");
	free(krl);
	free(serials);
	free(ids);
	free(hashes);
	free((void *)in.ca_blob);
	return 0;
}
