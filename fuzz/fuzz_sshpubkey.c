/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_sshpubkey.c - OpenSSH public key lines and blobs. A blob that
 * parses must re-encode to the same bytes (the parser accepts only the
 * canonical form); a line that parses must survive a write and re-read.
 * The key check (nkhsm_sshkey_check) answers with one of its documented
 * codes and a reason, the same twice, and never passes an EC blob that
 * the EC parser refuses.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "nkhsm.h"
#include "fuzz.h"

#define FUZZ_PUBKEY_INPUT_MAX	(NKHSM_PUBKEY_LINE_MAX + 64)

static void
fuzz_line(const uint8_t *data, size_t size)
{
	EVP_PKEY *pub = NULL, *again = NULL;
	char *s, *comment = NULL, *line = NULL, *fp = NULL;

	if ((s = malloc(size + 1)) == NULL)
		return;
	memcpy(s, data, size);
	s[size] = '\0';
	if (nkhsm_pubkey_from_ssh(s, &pub, &comment) != 0) {
		if (pub != NULL || comment != NULL)
			abort();
		goto out;
	}
	if (nkhsm_pubkey_fingerprint(pub, &fp) != 0 ||
	    strncmp(fp, "SHA256:", 7) != 0)
		abort();
	/* A comment with a line break cannot be written back: skip it. */
	if (nkhsm_pubkey_to_ssh(pub, comment, &line) != 0)
		goto out;
	if (nkhsm_pubkey_from_ssh(line, &again, NULL) != 0 ||
	    nkhsm_pubkey_equal(pub, again) != 1)
		abort();
 out:
	EVP_PKEY_free(again);
	EVP_PKEY_free(pub);
	free(comment);
	free(line);
	free(fp);
	free(s);
}

static void
fuzz_blob(const uint8_t *data, size_t size)
{
	EVP_PKEY *pub = NULL;
	uint8_t *blob = NULL;
	size_t len = 0;

	if (nkhsm_pubkey_from_ssh_blob(data, size, &pub) != 0) {
		if (pub != NULL)
			abort();
		return;
	}
	if (nkhsm_pubkey_to_ssh_blob(pub, &blob, &len) != 0 ||
	    len != size || memcmp(blob, data, size) != 0)
		abort();
	free(blob);
	EVP_PKEY_free(pub);
}

static void
fuzz_check(const uint8_t *data, size_t size)
{
	char why[256], why2[256];
	unsigned int bits = 1, bits2 = 2;
	EVP_PKEY *pub = NULL;
	int r, r2;

	why[0] = why2[0] = '\0';
	r = nkhsm_sshkey_check(data, size, &bits, why, sizeof(why));
	r2 = nkhsm_sshkey_check(data, size, &bits2, why2, sizeof(why2));
	if (r != r2 || bits != bits2 || strcmp(why, why2) != 0)
		abort();
	if (r == 0 && (bits == 0 || why[0] != '\0'))
		abort();
	if (r != 0 && (bits != 0 || why[0] == '\0' ||
	    (r != NKHSM_ERR_FORMAT && r != NKHSM_ERR_UNSUPPORTED &&
	    r != NKHSM_ERR_WEAK_KEY && r != NKHSM_ERR_NOMEM &&
	    r != NKHSM_ERR_CRYPTO)))
		abort();
	/* An EC key that passes is one the EC parser takes too. */
	if (r == 0 && size > 8 && memcmp(data + 4, "ecdsa", 5) == 0) {
		if (nkhsm_pubkey_from_ssh_blob(data, size, &pub) != 0)
			abort();
		EVP_PKEY_free(pub);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > FUZZ_PUBKEY_INPUT_MAX)
		return 0;
	fuzz_line(data, size);
	fuzz_blob(data, size);
	fuzz_check(data, size);
	return 0;
}
