/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * fuzz_policy.c - sc_policy_parse on arbitrary bytes, then sc_policy_check
 * of a fixed set of requests against whatever parsed. A parse failure must
 * leave no policy and a "NAME:..." message; a check must either allow
 * (empty message) or refuse with NKHSM_ERR_PERMISSION and a message naming
 * the file, the same way twice.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "nkhsm.h"
#include "sshca.h"
#include "fuzz.h"

#define FUZZ_NAME	"fuzz.conf"
#define FUZZ_NOW	((time_t)1800000000)

static const char *const key_ids[] = {
	"alice", "admin-bob", "*", "", "web1.example.com", "a\\b%k",
};
static const char *const principals[] = {
	"alice", "root", "admin-bob", "*", "web1.example.com", "%k",
};
static const char *const ext_names[] = {
	"permit-X11-forwarding", "permit-agent-forwarding",
	"permit-port-forwarding", "permit-pty", "permit-user-rc",
	"login@example.com",
};
static const char *const key_types[] = {
	"ssh-ed25519", "ecdsa-sha2-nistp256", "ssh-rsa", "ssh-dss",
};
static const uint64_t lengths[] = {
	0, 3600, 8 * 3600 + 1, 400 * 86400, SC_FOREVER,
};

static void
check_one(const struct sc_policy *pol, struct sc_certreq *req,
    struct sc_pubkey *pk)
{
	char err[512], err2[512];
	int r, r2;

	err[0] = 'x';
	r = sc_policy_check(pol, req, pk, FUZZ_NOW, err, sizeof(err));
	r2 = sc_policy_check(pol, req, pk, FUZZ_NOW, err2, sizeof(err2));
	if (r != r2 || strcmp(err, err2) != 0)
		abort();
	if (r == 0 && err[0] != '\0')
		abort();
	if (r != 0 && (r != NKHSM_ERR_PERMISSION ||
	    strncmp(err, FUZZ_NAME ":", strlen(FUZZ_NAME) + 1) != 0))
		abort();
}

static void
check_all(const struct sc_policy *pol)
{
	struct sc_certreq req;
	struct sc_pubkey pk;
	char *plist[2];
	size_t i, e, n = sizeof(key_ids) / sizeof(key_ids[0]);

	for (i = 0; i < n * 4; i++) {
		memset(&req, 0, sizeof(req));
		memset(&pk, 0, sizeof(pk));
		req.type = i % 2 == 0 ? SC_CERT_USER : SC_CERT_HOST;
		req.serial = i + 1;
		req.key_id = (char *)key_ids[i % n];
		plist[0] = (char *)principals[i % 6];
		plist[1] = (char *)principals[(i / 2) % 6];
		req.principals = plist;
		req.nprincipals = i % 3;
		req.valid_after = (uint64_t)FUZZ_NOW - (i % 2) * 300;
		req.valid_before = lengths[i % 5] == SC_FOREVER ? SC_FOREVER :
		    req.valid_after + lengths[i % 5];
		if (i % 4 == 1) {
			req.crit[0].name = (char *)"force-command";
			req.crit[0].value = (char *)"/bin/true";
			req.ncrit = 1;
		}
		req.next = i % 7;
		if (req.next > 6)
			req.next = 6;
		for (e = 0; e < req.next; e++)
			req.ext[e].name = (char *)ext_names[e];
		strcpy(pk.type, key_types[i % 4]);
		pk.bits = i % 4 == 2 ? (unsigned int)(1024 * (1 + i % 5)) : 256;
		check_one(pol, &req, &pk);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sc_policy *pol = (struct sc_policy *)&pol;
	char err[512];
	int r;

	err[0] = '\0';
	r = sc_policy_parse(FUZZ_NAME, (const char *)data, size, &pol, err,
	    sizeof(err));
	if (r != 0) {
		if (pol != NULL || (r != NKHSM_ERR_CONFIG &&
		    r != NKHSM_ERR_NOMEM))
			abort();
		if (r == NKHSM_ERR_CONFIG &&
		    strncmp(err, FUZZ_NAME ":", strlen(FUZZ_NAME) + 1) != 0)
			abort();
		return 0;
	}
	if (pol == NULL || err[0] != '\0')
		abort();
	check_all(pol);
	sc_policy_free(&pol);
	if (pol != NULL)
		abort();
	return 0;
}
