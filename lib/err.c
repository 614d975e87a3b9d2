/* SPDX-License-Identifier: BSD-2-Clause */
/* err.c - one message per error code */
#include "config.h"

#include "nkhsm.h"

static const char *const msgs[] = {
	"success",					/*   0 */
	"internal error",				/*  -1 */
	"out of memory",				/*  -2 */
	"invalid argument",				/*  -3 */
	"cannot load the PKCS#11 module",		/*  -4 */
	"PKCS#11 module error",				/*  -5 */
	"no token found",				/*  -6 */
	"more than one token matches; name one by URI or serial", /* -7 */
	"no such key on the token",			/*  -8 */
	"more than one key matches; name one by id",	/*  -9 */
	"incorrect PIN",				/* -10 */
	"PIN locked",					/* -11 */
	"PIN length outside the token's limits",	/* -12 */
	"not logged in",				/* -13 */
	"malformed PKCS#11 URI",			/* -14 */
	"malformed encoding",				/* -15 */
	"unsupported key type, curve or mechanism",	/* -16 */
	"signature verification failed",		/* -17 */
	"token removed",				/* -18 */
	"cryptographic library error",			/* -19 */
	"input/output error",				/* -20 */
	"input too large",				/* -21 */
	"cannot read the PIN from its source",		/* -22 */
	"cancelled",					/* -23 */
	"timed out",					/* -24 */
	"an object with that id or label exists",	/* -25 */
	"bad configuration",				/* -26 */
	"unsafe file ownership or permissions",		/* -27 */
	"no room left on the token",			/* -28 */
	"weak or degenerate public key refused",	/* -29 */
	"PC/SC-lite (pcscd) unavailable or failing",	/* -30 */
};

const char *
nkhsm_strerror(int err)
{
	if (err > 0 || err < NKHSM_ERR_LAST ||
	    (size_t)-err >= sizeof(msgs) / sizeof(msgs[0]))
		return "unknown error";
	return msgs[-err];
}

const char *
nkhsm_version(void)
{
	return PACKAGE_VERSION;
}
