/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nkfault.c - a test-only PKCS#11 module that wraps a real one and injects
 * faults. Never installed: built by `make check` for the test suite.
 *
 * It exports C_GetFunctionList only. Every one of the 67 other functions of
 * the PKCS#11 v2.40 function list is counted and forwarded to the real module
 * (dlopen at C_Initialize), unless a fault below says otherwise. The
 * configuration is read from the environment at C_Initialize; a misspelt
 * NKFAULT_* variable or a bad value makes C_Initialize fail with
 * CKR_GENERAL_ERROR and a message on stderr, so a test never runs with a
 * fault silently disabled.
 *
 * Calls are numbered 1, 2, ... per process in the order they start (every C_*
 * call except C_GetFunctionList, including C_Initialize itself).
 *
 *   NKFAULT_MODULE=path        the real module (default: SoftHSM)
 *   NKFAULT_FAIL_AT=N          call number N returns NKFAULT_RV, not forwarded
 *   NKFAULT_FAIL_FN=C_Name     fail the K-th call of that function, where
 *   NKFAULT_FAIL_FN_AT=K         K defaults to 1
 *   NKFAULT_FAIL_FN_ALL=1        or fail every call of it
 *   NKFAULT_RV=CKR_NAME|number the injected return value (CKR_DEVICE_REMOVED)
 *   NKFAULT_HANG_AT / _HANG_FN / _HANG_FN_AT / _HANG_FN_ALL
 *                              same selectors: sleep forever in that call
 *   NKFAULT_CRASH_AT / _CRASH_FN / _CRASH_FN_AT / _CRASH_FN_ALL
 *                              same selectors: die in that call
 *   NKFAULT_CRASH_SIGNAL=ABRT|SEGV|KILL   how to die (default ABRT: abort())
 *   NKFAULT_PAUSE_AT / _PAUSE_FN / _PAUSE_FN_AT / _PAUSE_FN_ALL
 *   NKFAULT_PAUSE_FILE=path    same selectors: wait in that call until path
 *                              exists, then go on (a test acts meanwhile)
 *   NKFAULT_CORRUPT=sig,ecpoint,ecparams,siglen   (comma-separated)
 *       sig      flip the lowest bit of the last byte of C_Sign/C_SignFinal
 *                output (for ECDSA r||s: s changes, the signature is invalid)
 *       siglen   C_Sign/C_SignFinal report one byte less than produced
 *       ecpoint  flip the lowest bit of the last byte of CKA_EC_POINT (the
 *                last coordinate byte: same length and DER framing, but the
 *                point is off the curve)
 *       ecparams CKA_EC_PARAMS reads as an unknown OID (1.3.6.1.4.1.99999.1)
 *       label    flip the lowest bit of the last byte of CKA_LABEL
 *       phantom  the first C_FindObjects of a search that finds nothing
 *                reports one object whose handle names none (a search
 *                that matches what it should not)
 *   NKFAULT_FLAGS=count_low,final_try,locked,pinpad,to_be_changed
 *       OR CKF_USER_PIN_COUNT_LOW, _FINAL_TRY, _LOCKED,
 *       CKF_PROTECTED_AUTHENTICATION_PATH, CKF_USER_PIN_TO_BE_CHANGED into
 *       C_GetTokenInfo. locked: user logins get CKR_PIN_LOCKED (not
 *       forwarded). pinpad: a login with a NULL PIN is forwarded with
 *       NKFAULT_PINPAD_PIN (unset: CKR_FUNCTION_CANCELED, the user cancelled).
 *   NKFAULT_PIN_TRIES=N        emulate a user PIN retry counter kept in the
 *   NKFAULT_STATE=path           state file (required; flock'ed). A login the
 *       real module answers CKR_PIN_INCORRECT decrements it, success resets it
 *       to N (so does a successful C_InitPIN, as on a card). Below N:
 *       COUNT_LOW, at 1: FINAL_TRY, at 0: LOCKED and every user login gets
 *       CKR_PIN_LOCKED without being forwarded. C_SetPIN outside an SO session
 *       is counted the same way.
 *   NKFAULT_DELAY_MS=N         sleep N ms in every call
 *   NKFAULT_SIGN_DELAY_MS=N    sleep N ms more in C_Sign/C_SignFinal
 *       (the Nitrokey HSM: about 20 ms per call, 167 ms per ECDSA signature)
 *   NKFAULT_COUNT_FILE=path    at C_Finalize and at exit (or unload), append
 *       "TOTAL n" and "C_Name n" per called function: the calls since the
 *       previous report of this process, so the sum over a file is exact
 *   NKFAULT_LOG=path           append "seq C_Name rv" (rv in hex) per call as
 *       it returns, written unbuffered; a call that hangs or crashes writes
 *       "seq C_Name hang" / "seq C_Name crash" first
 *   NKFAULT_RECORD_SIG=path    each C_Sign that makes a signature writes it
 *       (as the real module made it) to path, replacing what was there
 *   NKFAULT_REPLAY_SIG=path    each C_Sign that makes a signature answers
 *       with the one in path instead: a valid signature over other data
 *   NKFAULT_RECORD_DATA=path   each such C_Sign writes the data it was given
 *   NKFAULT_REPLAY_DATA=path   each C_Sign signs the data in path instead of
 *       the data it was given (with the right key)
 *       A REPLAY file is read before the RECORD files are written, so with
 *       both naming one file each C_Sign gets the previous one's (the first
 *       its own); otherwise a missing REPLAY file fails C_Sign.
 *   NKFAULT_TOKEN_LABEL, _SERIAL, _MODEL, _MANUFACTURER=value
 *       C_GetTokenInfo reports this label, serial number, model or
 *       manufacturer (blank-padded; %XX stands for any byte but NUL), so a
 *       test can have a token say what SoftHSM cannot: control characters,
 *       newlines, '=', '/'. Too long for the field is an error.
 *
 * User logins are C_Login with CKU_USER or CKU_CONTEXT_SPECIFIC.
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#else
#define _GNU_SOURCE 1
#endif

#include <sys/file.h>
#include <sys/stat.h>

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <p11-kit/pkcs11.h>

#ifndef NKFAULT_DEFAULT_MODULE
#define NKFAULT_DEFAULT_MODULE	"/usr/lib/softhsm/libsofthsm2.so"
#endif

#define PIN_MAX		256	/* NKFAULT_PINPAD_PIN */
#define COUNT_BUF_MAX	4096	/* one count-file report: 68 short lines */
#define STATE_BUF_MAX	32

/* Every counted function, in CK_FUNCTION_LIST order (C_GetFunctionList is not counted). */
#define NKFAULT_FUNCTIONS(X)						\
	X(C_Initialize) X(C_Finalize) X(C_GetInfo)			\
	X(C_GetSlotList) X(C_GetSlotInfo) X(C_GetTokenInfo)		\
	X(C_GetMechanismList) X(C_GetMechanismInfo) X(C_InitToken)	\
	X(C_InitPIN) X(C_SetPIN) X(C_OpenSession) X(C_CloseSession)	\
	X(C_CloseAllSessions) X(C_GetSessionInfo)			\
	X(C_GetOperationState) X(C_SetOperationState) X(C_Login)	\
	X(C_Logout) X(C_CreateObject) X(C_CopyObject)			\
	X(C_DestroyObject) X(C_GetObjectSize) X(C_GetAttributeValue)	\
	X(C_SetAttributeValue) X(C_FindObjectsInit) X(C_FindObjects)	\
	X(C_FindObjectsFinal) X(C_EncryptInit) X(C_Encrypt)		\
	X(C_EncryptUpdate) X(C_EncryptFinal) X(C_DecryptInit)		\
	X(C_Decrypt) X(C_DecryptUpdate) X(C_DecryptFinal)		\
	X(C_DigestInit) X(C_Digest) X(C_DigestUpdate) X(C_DigestKey)	\
	X(C_DigestFinal) X(C_SignInit) X(C_Sign) X(C_SignUpdate)	\
	X(C_SignFinal) X(C_SignRecoverInit) X(C_SignRecover)		\
	X(C_VerifyInit) X(C_Verify) X(C_VerifyUpdate) X(C_VerifyFinal)	\
	X(C_VerifyRecoverInit) X(C_VerifyRecover)			\
	X(C_DigestEncryptUpdate) X(C_DecryptDigestUpdate)		\
	X(C_SignEncryptUpdate) X(C_DecryptVerifyUpdate)			\
	X(C_GenerateKey) X(C_GenerateKeyPair) X(C_WrapKey)		\
	X(C_UnwrapKey) X(C_DeriveKey) X(C_SeedRandom)			\
	X(C_GenerateRandom) X(C_GetFunctionStatus) X(C_CancelFunction)	\
	X(C_WaitForSlotEvent)

enum fn {
#define X(name) FN_##name,
	NKFAULT_FUNCTIONS(X)
#undef X
	FN_COUNT
};

static const char *const fn_names[FN_COUNT] = {
#define X(name) #name,
	NKFAULT_FUNCTIONS(X)
#undef X
};

/* Which call a fault hits: the at-th call overall, or the fn_at-th (or every) call of fn. */
struct trigger {
	unsigned long	at;		/* 0: off */
	int		fn;		/* -1: off */
	unsigned long	fn_at;
	int		fn_all;
};

#define CORRUPT_SIG		0x01
#define CORRUPT_SIGLEN		0x02
#define CORRUPT_ECPOINT		0x04
#define CORRUPT_ECPARAMS	0x08
#define CORRUPT_LABEL		0x10
#define CORRUPT_PHANTOM		0x20

/* CORRUPT_PHANTOM's object: no module hands out this handle. */
#define PHANTOM_HANDLE		((CK_OBJECT_HANDLE)~0UL)

#define FLAG_LOCKED		0x01
#define FLAG_PINPAD		0x02

struct config {
	char		module[PATH_MAX];
	struct trigger	fail, hang, crash, pause;
	char		pause_file[PATH_MAX];
	CK_RV		rv;
	int		crash_signal;
	unsigned int	corrupt;
	CK_FLAGS	token_flags;	/* ORed into C_GetTokenInfo */
	unsigned int	behaviour;	/* FLAG_* */
	char		pinpad_pin[PIN_MAX];
	size_t		pinpad_pin_len;
	int		have_pinpad_pin;
	unsigned long	pin_tries;	/* 0: no retry counter */
	char		state[PATH_MAX];
	unsigned long	delay_ms, sign_delay_ms;
	char		count_file[PATH_MAX];
	struct replay {			/* NKFAULT_RECORD_* / NKFAULT_REPLAY_* */
		char	record_sig[PATH_MAX], replay_sig[PATH_MAX];
		char	record_data[PATH_MAX], replay_data[PATH_MAX];
	}		replay;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct config cfg = {	/* written by C_Initialize only */
	.fail = { .fn = -1 }, .hang = { .fn = -1 }, .crash = { .fn = -1 },
	.pause = { .fn = -1 },
};
static void *real_dl;
static CK_FUNCTION_LIST *real;		/* NULL until C_Initialize succeeds */
static int log_fd = -1;
/* Under lock: */
static unsigned long seq;
static unsigned long counts[FN_COUNT], reported[FN_COUNT];

/* One call in progress: which function, and its number in this process. */
struct call {
	enum fn		fn;
	unsigned long	seq;
};

/* DER of OID 1.3.6.1.4.1.99999.1: a private-enterprise arc that names no curve. */
static const CK_BYTE unknown_oid[] = {
	0x06, 0x09, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x86, 0x8d, 0x1f, 0x01
};

static const struct {
	const char	*name;
	CK_RV		rv;
} rv_names[] = {
	{ "CKR_OK", CKR_OK },
	{ "CKR_CANCEL", CKR_CANCEL },
	{ "CKR_HOST_MEMORY", CKR_HOST_MEMORY },
	{ "CKR_SLOT_ID_INVALID", CKR_SLOT_ID_INVALID },
	{ "CKR_GENERAL_ERROR", CKR_GENERAL_ERROR },
	{ "CKR_FUNCTION_FAILED", CKR_FUNCTION_FAILED },
	{ "CKR_ARGUMENTS_BAD", CKR_ARGUMENTS_BAD },
	{ "CKR_ATTRIBUTE_TYPE_INVALID", CKR_ATTRIBUTE_TYPE_INVALID },
	{ "CKR_DATA_INVALID", CKR_DATA_INVALID },
	{ "CKR_DATA_LEN_RANGE", CKR_DATA_LEN_RANGE },
	{ "CKR_DEVICE_ERROR", CKR_DEVICE_ERROR },
	{ "CKR_DEVICE_MEMORY", CKR_DEVICE_MEMORY },
	{ "CKR_DEVICE_REMOVED", CKR_DEVICE_REMOVED },
	{ "CKR_FUNCTION_CANCELED", CKR_FUNCTION_CANCELED },
	{ "CKR_FUNCTION_NOT_SUPPORTED", CKR_FUNCTION_NOT_SUPPORTED },
	{ "CKR_KEY_HANDLE_INVALID", CKR_KEY_HANDLE_INVALID },
	{ "CKR_MECHANISM_INVALID", CKR_MECHANISM_INVALID },
	{ "CKR_OBJECT_HANDLE_INVALID", CKR_OBJECT_HANDLE_INVALID },
	{ "CKR_OPERATION_ACTIVE", CKR_OPERATION_ACTIVE },
	{ "CKR_OPERATION_NOT_INITIALIZED", CKR_OPERATION_NOT_INITIALIZED },
	{ "CKR_PIN_INCORRECT", CKR_PIN_INCORRECT },
	{ "CKR_PIN_INVALID", CKR_PIN_INVALID },
	{ "CKR_PIN_LEN_RANGE", CKR_PIN_LEN_RANGE },
	{ "CKR_PIN_EXPIRED", CKR_PIN_EXPIRED },
	{ "CKR_PIN_LOCKED", CKR_PIN_LOCKED },
	{ "CKR_SESSION_CLOSED", CKR_SESSION_CLOSED },
	{ "CKR_SESSION_COUNT", CKR_SESSION_COUNT },
	{ "CKR_SESSION_HANDLE_INVALID", CKR_SESSION_HANDLE_INVALID },
	{ "CKR_SIGNATURE_INVALID", CKR_SIGNATURE_INVALID },
	{ "CKR_TOKEN_NOT_PRESENT", CKR_TOKEN_NOT_PRESENT },
	{ "CKR_TOKEN_NOT_RECOGNIZED", CKR_TOKEN_NOT_RECOGNIZED },
	{ "CKR_USER_ALREADY_LOGGED_IN", CKR_USER_ALREADY_LOGGED_IN },
	{ "CKR_USER_NOT_LOGGED_IN", CKR_USER_NOT_LOGGED_IN },
	{ "CKR_USER_PIN_NOT_INITIALIZED", CKR_USER_PIN_NOT_INITIALIZED },
	{ "CKR_BUFFER_TOO_SMALL", CKR_BUFFER_TOO_SMALL },
	{ "CKR_CRYPTOKI_NOT_INITIALIZED", CKR_CRYPTOKI_NOT_INITIALIZED },
	{ "CKR_CRYPTOKI_ALREADY_INITIALIZED", CKR_CRYPTOKI_ALREADY_INITIALIZED },
};

static const struct {
	const char	*name;
	CK_FLAGS	token_flag;
	unsigned int	behaviour;
} flag_names[] = {
	{ "count_low", CKF_USER_PIN_COUNT_LOW, 0 },
	{ "final_try", CKF_USER_PIN_FINAL_TRY, 0 },
	{ "locked", CKF_USER_PIN_LOCKED, FLAG_LOCKED },
	{ "pinpad", CKF_PROTECTED_AUTHENTICATION_PATH, FLAG_PINPAD },
	{ "to_be_changed", CKF_USER_PIN_TO_BE_CHANGED, 0 },
};

static const struct {
	const char	*name;
	unsigned int	bit;
} corrupt_names[] = {
	{ "sig", CORRUPT_SIG },
	{ "siglen", CORRUPT_SIGLEN },
	{ "ecpoint", CORRUPT_ECPOINT },
	{ "ecparams", CORRUPT_ECPARAMS },
	{ "label", CORRUPT_LABEL },
	{ "phantom", CORRUPT_PHANTOM },
};

static const struct {
	const char	*name;
	int		signo;
} signal_names[] = {
	{ "ABRT", SIGABRT },
	{ "SEGV", SIGSEGV },
	{ "KILL", SIGKILL },
};

/* Every variable this module reads; any other NKFAULT_* is a misspelling. */
static const char *const known_vars[] = {
	"NKFAULT_MODULE", "NKFAULT_RV",
	"NKFAULT_FAIL_AT", "NKFAULT_FAIL_FN", "NKFAULT_FAIL_FN_AT", "NKFAULT_FAIL_FN_ALL",
	"NKFAULT_HANG_AT", "NKFAULT_HANG_FN", "NKFAULT_HANG_FN_AT", "NKFAULT_HANG_FN_ALL",
	"NKFAULT_CRASH_AT", "NKFAULT_CRASH_FN", "NKFAULT_CRASH_FN_AT", "NKFAULT_CRASH_FN_ALL",
	"NKFAULT_PAUSE_AT", "NKFAULT_PAUSE_FN", "NKFAULT_PAUSE_FN_AT", "NKFAULT_PAUSE_FN_ALL",
	"NKFAULT_PAUSE_FILE", "NKFAULT_CRASH_SIGNAL", "NKFAULT_CORRUPT", "NKFAULT_FLAGS", "NKFAULT_PINPAD_PIN",
	"NKFAULT_PIN_TRIES", "NKFAULT_STATE", "NKFAULT_DELAY_MS", "NKFAULT_SIGN_DELAY_MS",
	"NKFAULT_COUNT_FILE", "NKFAULT_LOG",
	"NKFAULT_RECORD_SIG", "NKFAULT_REPLAY_SIG", "NKFAULT_RECORD_DATA", "NKFAULT_REPLAY_DATA",
	"NKFAULT_TOKEN_LABEL", "NKFAULT_TOKEN_SERIAL", "NKFAULT_TOKEN_MODEL",
	"NKFAULT_TOKEN_MANUFACTURER",
};

extern char **environ;

static void __attribute__((format(printf, 1, 2)))
complain(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "nkfault: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/* ---- hostile token info (NKFAULT_TOKEN_*) ------------------------------ */

/* A CK_TOKEN_INFO string field to replace, and its replacement. */
struct token_string {
	const char	*var;
	size_t		 off, len;	/* of the field in CK_TOKEN_INFO */
	CK_UTF8CHAR	 value[32];
	int		 set;
};

static struct token_string token_strings[] = {
	{ "NKFAULT_TOKEN_LABEL", offsetof(CK_TOKEN_INFO, label), 32, { 0 }, 0 },
	{ "NKFAULT_TOKEN_SERIAL", offsetof(CK_TOKEN_INFO, serialNumber), 16, { 0 }, 0 },
	{ "NKFAULT_TOKEN_MODEL", offsetof(CK_TOKEN_INFO, model), 16, { 0 }, 0 },
	{ "NKFAULT_TOKEN_MANUFACTURER", offsetof(CK_TOKEN_INFO, manufacturerID), 32,
	    { 0 }, 0 },
};
#define N_TOKEN_STRINGS	(sizeof(token_strings) / sizeof(token_strings[0]))

static int
hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decode %XX into a blank-padded field. */
static int
parse_token_string(struct token_string *t, const char *s)
{
	size_t n = 0;
	int hi, lo;

	memset(t->value, ' ', sizeof(t->value));
	for (; *s != '\0'; s++, n++) {
		if (n >= t->len) {
			complain("%s: longer than %zu bytes", t->var, t->len);
			return -1;
		}
		if (*s != '%') {
			t->value[n] = (CK_UTF8CHAR)*s;
			continue;
		}
		if ((hi = hexval(s[1])) < 0 || (lo = hexval(s[2])) < 0 ||
		    (hi == 0 && lo == 0)) {
			complain("%s: bad %%XX escape", t->var);
			return -1;
		}
		t->value[n] = (CK_UTF8CHAR)(hi << 4 | lo);
		s += 2;
	}
	t->set = 1;
	return 0;
}

static int
load_token_strings(void)
{
	const char *s;
	size_t i;

	for (i = 0; i < N_TOKEN_STRINGS; i++) {
		token_strings[i].set = 0;
		if ((s = secure_getenv(token_strings[i].var)) != NULL &&
		    parse_token_string(&token_strings[i], s) != 0)
			return -1;
	}
	return 0;
}

static void
apply_token_strings(CK_TOKEN_INFO_PTR info)
{
	size_t i;

	for (i = 0; i < N_TOKEN_STRINGS; i++)
		if (token_strings[i].set)
			memcpy((CK_BYTE_PTR)info + token_strings[i].off,
			    token_strings[i].value, token_strings[i].len);
}

/* ---- configuration ---------------------------------------------------- */

static int
parse_ulong(const char *var, const char *s, unsigned long *out)
{
	char *end = NULL;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (*s == '\0' || *s == '-' || errno != 0 || end == NULL || *end != '\0') {
		complain("%s: not a number: '%s'", var, s);
		return -1;
	}
	*out = v;
	return 0;
}

static int
parse_fn(const char *var, const char *s, int *out)
{
	int i;

	for (i = 0; i < FN_COUNT; i++)
		if (strcmp(s, fn_names[i]) == 0) {
			*out = i;
			return 0;
		}
	complain("%s: unknown (or uncounted) function '%s'", var, s);
	return -1;
}

static int
parse_rv(const char *var, const char *s, CK_RV *out)
{
	unsigned long v;
	size_t i;

	for (i = 0; i < sizeof(rv_names) / sizeof(rv_names[0]); i++)
		if (strcmp(s, rv_names[i].name) == 0) {
			*out = rv_names[i].rv;
			return 0;
		}
	if (strncmp(s, "CKR_", 4) == 0) {
		complain("%s: unknown name '%s' (use a number)", var, s);
		return -1;
	}
	if (parse_ulong(var, s, &v) != 0)
		return -1;
	*out = v;
	return 0;
}

/* Copy a path or PIN value; refuse truncation. */
static int
copy_value(const char *var, const char *s, char *dst, size_t dstlen)
{
	if (strlen(s) >= dstlen) {
		complain("%s: value too long", var);
		return -1;
	}
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

/*
 * Walk a comma-separated list; call match() per word. match returns 0 when
 * it knows the word.
 */
static int
parse_words(const char *var, const char *s, int (*match)(const char *, size_t, void *), void *arg)
{
	const char *p = s, *comma;
	size_t n;

	while (*p != '\0') {
		comma = strchr(p, ',');
		n = comma != NULL ? (size_t)(comma - p) : strlen(p);
		if (n > 0 && match(p, n, arg) != 0) {
			fprintf(stderr, "nkfault: %s: unknown word '%.*s'\n", var, (int)n, p);
			return -1;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

static int
word_is(const char *w, size_t n, const char *name)
{
	return strlen(name) == n && strncmp(w, name, n) == 0;
}

static int
match_flag(const char *w, size_t n, void *arg)
{
	struct config *c = arg;
	size_t i;

	for (i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++)
		if (word_is(w, n, flag_names[i].name)) {
			c->token_flags |= flag_names[i].token_flag;
			c->behaviour |= flag_names[i].behaviour;
			return 0;
		}
	return -1;
}

static int
match_corrupt(const char *w, size_t n, void *arg)
{
	struct config *c = arg;
	size_t i;

	for (i = 0; i < sizeof(corrupt_names) / sizeof(corrupt_names[0]); i++)
		if (word_is(w, n, corrupt_names[i].name)) {
			c->corrupt |= corrupt_names[i].bit;
			return 0;
		}
	return -1;
}

static int
parse_trigger(const char *prefix, struct trigger *t)
{
	char var[64];
	const char *s;

	t->at = 0;
	t->fn = -1;
	t->fn_at = 1;
	t->fn_all = 0;
	snprintf(var, sizeof(var), "NKFAULT_%s_AT", prefix);
	if ((s = secure_getenv(var)) != NULL && parse_ulong(var, s, &t->at) != 0)
		return -1;
	snprintf(var, sizeof(var), "NKFAULT_%s_FN", prefix);
	if ((s = secure_getenv(var)) != NULL && parse_fn(var, s, &t->fn) != 0)
		return -1;
	snprintf(var, sizeof(var), "NKFAULT_%s_FN_AT", prefix);
	if ((s = secure_getenv(var)) != NULL && (parse_ulong(var, s, &t->fn_at) != 0 || t->fn_at == 0)) {
		if (t->fn_at == 0)
			complain("%s: counts start at 1", var);
		return -1;
	}
	snprintf(var, sizeof(var), "NKFAULT_%s_FN_ALL", prefix);
	if ((s = secure_getenv(var)) != NULL) {
		if (strcmp(s, "1") != 0 && strcmp(s, "0") != 0) {
			complain("%s: expected 0 or 1, got '%s'", var, s);
			return -1;
		}
		t->fn_all = strcmp(s, "1") == 0;
	}
	return 0;
}

static int
check_unknown_vars(void)
{
	char **e;
	size_t i, n;
	int known, r = 0;

	for (e = environ; e != NULL && *e != NULL; e++) {
		if (strncmp(*e, "NKFAULT_", 8) != 0)
			continue;
		n = strcspn(*e, "=");
		known = 0;
		for (i = 0; i < sizeof(known_vars) / sizeof(known_vars[0]); i++)
			if (strlen(known_vars[i]) == n && strncmp(*e, known_vars[i], n) == 0)
				known = 1;
		if (!known) {
			fprintf(stderr, "nkfault: unknown variable %.*s\n", (int)n, *e);
			r = -1;
		}
	}
	return r;
}

/* One NKFAULT_RECORD_* / NKFAULT_REPLAY_* path: unset stays "", empty is an error. */
static int
replay_path(const char *var, char *dst, size_t dstlen)
{
	const char *s;

	if ((s = secure_getenv(var)) == NULL)
		return 0;
	if (*s == '\0') {
		complain("%s: names no file", var);
		return -1;
	}
	return copy_value(var, s, dst, dstlen);
}

static int
load_replay(struct replay *rp)
{
	if (replay_path("NKFAULT_RECORD_SIG", rp->record_sig, sizeof(rp->record_sig)) != 0 ||
	    replay_path("NKFAULT_REPLAY_SIG", rp->replay_sig, sizeof(rp->replay_sig)) != 0 ||
	    replay_path("NKFAULT_RECORD_DATA", rp->record_data, sizeof(rp->record_data)) != 0 ||
	    replay_path("NKFAULT_REPLAY_DATA", rp->replay_data, sizeof(rp->replay_data)) != 0)
		return -1;
	return 0;
}

static int
load_config(struct config *c)
{
	const char *s;
	unsigned long v;
	size_t i;

	memset(c, 0, sizeof(*c));
	c->rv = CKR_DEVICE_REMOVED;
	c->crash_signal = SIGABRT;
	if (check_unknown_vars() != 0)
		return -1;
	s = secure_getenv("NKFAULT_MODULE");
	if (copy_value("NKFAULT_MODULE", s != NULL ? s : NKFAULT_DEFAULT_MODULE,
	    c->module, sizeof(c->module)) != 0)
		return -1;
	if ((s = secure_getenv("NKFAULT_RV")) != NULL && parse_rv("NKFAULT_RV", s, &c->rv) != 0)
		return -1;
	if (parse_trigger("FAIL", &c->fail) != 0 ||
	    parse_trigger("HANG", &c->hang) != 0 ||
	    parse_trigger("CRASH", &c->crash) != 0 ||
	    parse_trigger("PAUSE", &c->pause) != 0)
		return -1;
	if ((c->pause.at != 0 || c->pause.fn != -1) &&
	    ((s = secure_getenv("NKFAULT_PAUSE_FILE")) == NULL || *s == '\0' ||
	    copy_value("NKFAULT_PAUSE_FILE", s, c->pause_file,
	    sizeof(c->pause_file)) != 0)) {
		complain("NKFAULT_PAUSE_FILE is required with NKFAULT_PAUSE_*");
		return -1;
	}
	if ((s = secure_getenv("NKFAULT_CRASH_SIGNAL")) != NULL) {
		c->crash_signal = 0;
		for (i = 0; i < sizeof(signal_names) / sizeof(signal_names[0]); i++)
			if (strcmp(s, signal_names[i].name) == 0)
				c->crash_signal = signal_names[i].signo;
		if (c->crash_signal == 0) {
			complain("NKFAULT_CRASH_SIGNAL: unknown signal '%s'", s);
			return -1;
		}
	}
	if ((s = secure_getenv("NKFAULT_CORRUPT")) != NULL &&
	    parse_words("NKFAULT_CORRUPT", s, match_corrupt, c) != 0)
		return -1;
	if ((s = secure_getenv("NKFAULT_FLAGS")) != NULL &&
	    parse_words("NKFAULT_FLAGS", s, match_flag, c) != 0)
		return -1;
	if ((s = secure_getenv("NKFAULT_PINPAD_PIN")) != NULL) {
		if (copy_value("NKFAULT_PINPAD_PIN", s, c->pinpad_pin, sizeof(c->pinpad_pin)) != 0)
			return -1;
		c->pinpad_pin_len = strlen(s);
		c->have_pinpad_pin = 1;
	}
	if ((s = secure_getenv("NKFAULT_PIN_TRIES")) != NULL) {
		if (parse_ulong("NKFAULT_PIN_TRIES", s, &v) != 0)
			return -1;
		if (v == 0 || v > 1000) {
			complain("NKFAULT_PIN_TRIES: must be 1..1000, got '%s'", s);
			return -1;
		}
		c->pin_tries = v;
		if ((s = secure_getenv("NKFAULT_STATE")) == NULL || *s == '\0') {
			complain("NKFAULT_STATE is required with NKFAULT_PIN_TRIES");
			return -1;
		}
		if (copy_value("NKFAULT_STATE", s, c->state, sizeof(c->state)) != 0)
			return -1;
	}
	if ((s = secure_getenv("NKFAULT_DELAY_MS")) != NULL &&
	    parse_ulong("NKFAULT_DELAY_MS", s, &c->delay_ms) != 0)
		return -1;
	if ((s = secure_getenv("NKFAULT_SIGN_DELAY_MS")) != NULL &&
	    parse_ulong("NKFAULT_SIGN_DELAY_MS", s, &c->sign_delay_ms) != 0)
		return -1;
	if ((s = secure_getenv("NKFAULT_COUNT_FILE")) != NULL &&
	    copy_value("NKFAULT_COUNT_FILE", s, c->count_file, sizeof(c->count_file)) != 0)
		return -1;
	if (load_token_strings() != 0)
		return -1;
	return load_replay(&c->replay);
}

static int
open_log(void)
{
	const char *s;

	if (log_fd != -1) {
		close(log_fd);
		log_fd = -1;
	}
	if ((s = secure_getenv("NKFAULT_LOG")) == NULL)
		return 0;
	log_fd = open(s, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (log_fd == -1) {
		complain("NKFAULT_LOG: cannot open %s: %s", s, strerror(errno));
		return -1;
	}
	return 0;
}

/* ---- counting, logging, faults ----------------------------------------- */

static void
log_line(unsigned long n, enum fn fn, const char *what)
{
	char line[128];
	int len;

	if (log_fd == -1)
		return;
	len = snprintf(line, sizeof(line), "%lu %s %s\n", n, fn_names[fn], what);
	if (len > 0 && (size_t)len < sizeof(line))
		(void)!write(log_fd, line, (size_t)len);	/* one write: lines never interleave */
}

/* Append the counts since the last report. Call with lock held. */
static void
report_counts_locked(void)
{
	char buf[COUNT_BUF_MAX];
	unsigned long total = 0, d;
	size_t off;
	int i, fd, n;

	if (cfg.count_file[0] == '\0')
		return;
	for (i = 0; i < FN_COUNT; i++)
		total += counts[i] - reported[i];
	if (total == 0)
		return;
	n = snprintf(buf, sizeof(buf), "TOTAL %lu\n", total);
	off = (size_t)n;
	for (i = 0; i < FN_COUNT; i++) {
		if ((d = counts[i] - reported[i]) == 0)
			continue;
		n = snprintf(buf + off, sizeof(buf) - off, "%s %lu\n", fn_names[i], d);
		if (n < 0 || (size_t)n >= sizeof(buf) - off)
			break;
		off += (size_t)n;
		reported[i] = counts[i];
	}
	fd = open(cfg.count_file, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd == -1) {
		complain("NKFAULT_COUNT_FILE: cannot open %s: %s", cfg.count_file, strerror(errno));
		return;
	}
	(void)flock(fd, LOCK_EX);	/* reports of concurrent processes stay whole */
	(void)!write(fd, buf, off);
	close(fd);
}

static void
sleep_ms(unsigned long ms)
{
	struct timespec ts;

	ts.tv_sec = (time_t)(ms / 1000);
	ts.tv_nsec = (long)(ms % 1000) * 1000000L;
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static int
triggered(const struct trigger *t, const struct call *c, unsigned long fn_n)
{
	if (t->at != 0 && t->at == c->seq)
		return 1;
	return t->fn == (int)c->fn && (t->fn_all || t->fn_at == fn_n);
}

/*
 * Start a call: number and count it, apply the delay, then hang, crash or
 * fail if a fault selects it. Returns 1 with *rvp set when the call must not
 * be forwarded.
 */
static int
call_begin(enum fn fn, struct call *c, CK_RV *rvp)
{
	unsigned long fn_n;

	pthread_mutex_lock(&lock);
	c->fn = fn;
	c->seq = ++seq;
	fn_n = ++counts[fn];
	pthread_mutex_unlock(&lock);

	if (cfg.delay_ms > 0)
		sleep_ms(cfg.delay_ms);
	if (cfg.sign_delay_ms > 0 && (fn == FN_C_Sign || fn == FN_C_SignFinal))
		sleep_ms(cfg.sign_delay_ms);
	if (triggered(&cfg.crash, c, fn_n)) {
		log_line(c->seq, fn, "crash");
		if (cfg.crash_signal == SIGABRT)
			abort();
		raise(cfg.crash_signal);
		abort();
	}
	if (triggered(&cfg.hang, c, fn_n)) {
		log_line(c->seq, fn, "hang");
		for (;;)
			sleep(60);
	}
	if (triggered(&cfg.pause, c, fn_n)) {
		log_line(c->seq, fn, "pause");
		while (access(cfg.pause_file, F_OK) != 0)
			sleep_ms(10);
	}
	if (triggered(&cfg.fail, c, fn_n)) {
		*rvp = cfg.rv;
		return 1;
	}
	*rvp = CKR_OK;
	return 0;
}

static CK_RV
call_end(const struct call *c, CK_RV rv)
{
	char hex[32];

	snprintf(hex, sizeof(hex), "0x%lx", (unsigned long)rv);
	log_line(c->seq, c->fn, hex);
	return rv;
}

/* ---- the PIN retry counter -------------------------------------------- */

/* Open and lock the state file; read the tries left (missing or empty: full). */
static int
state_open(int lockop, unsigned long *tries)
{
	char buf[STATE_BUF_MAX];
	ssize_t n;
	char *end = NULL;
	unsigned long v;
	int fd;

	*tries = cfg.pin_tries;
	fd = open(cfg.state, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd == -1) {
		complain("NKFAULT_STATE: cannot open %s: %s", cfg.state, strerror(errno));
		return -1;
	}
	if (flock(fd, lockop) != 0 || (n = pread(fd, buf, sizeof(buf) - 1, 0)) < 0) {
		complain("NKFAULT_STATE: cannot read %s: %s", cfg.state, strerror(errno));
		close(fd);
		return -1;
	}
	buf[n] = '\0';
	if (n > 0) {
		errno = 0;
		v = strtoul(buf, &end, 10);
		if (errno != 0 || end == buf || (*end != '\n' && *end != '\0')) {
			complain("NKFAULT_STATE: %s: garbage", cfg.state);
			close(fd);
			return -1;
		}
		*tries = v < cfg.pin_tries ? v : cfg.pin_tries;
	}
	return fd;
}

static void
state_write(int fd, unsigned long tries)
{
	char buf[STATE_BUF_MAX];
	int n;

	n = snprintf(buf, sizeof(buf), "%lu\n", tries);
	if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, (size_t)n, 0) != n)
		complain("NKFAULT_STATE: cannot write %s: %s", cfg.state, strerror(errno));
}

static CK_FLAGS
tries_flags(unsigned long tries)
{
	CK_FLAGS f = 0;

	if (tries < cfg.pin_tries)
		f |= CKF_USER_PIN_COUNT_LOW;
	if (tries == 1)
		f |= CKF_USER_PIN_FINAL_TRY;
	if (tries == 0)
		f |= CKF_USER_PIN_LOCKED;
	return f;
}

/* After a PIN check the real module answered: count it. */
static void
tries_update(unsigned long *tries, CK_RV rv)
{
	if (rv == CKR_PIN_INCORRECT && *tries > 0)
		(*tries)--;
	else if (rv == CKR_OK)
		*tries = cfg.pin_tries;
}

/* ---- module loading --------------------------------------------------- */

static void
unload_real(void)
{
	real = NULL;
	if (real_dl != NULL) {
		dlclose(real_dl);
		real_dl = NULL;
	}
}

static CK_RV
load_real(void)
{
	CK_C_GetFunctionList get;
	CK_FUNCTION_LIST *list = NULL;
	CK_RV rv;

	if ((real_dl = dlopen(cfg.module, RTLD_NOW | RTLD_LOCAL)) == NULL) {
		complain("cannot load %s: %s", cfg.module, dlerror());
		return CKR_GENERAL_ERROR;
	}
	*(void **)&get = dlsym(real_dl, "C_GetFunctionList");
	if (get == NULL || (rv = get(&list)) != CKR_OK || list == NULL) {
		complain("%s: no usable C_GetFunctionList", cfg.module);
		unload_real();
		return CKR_GENERAL_ERROR;
	}
	real = list;
	return CKR_OK;
}

/* ---- the wrappers ----------------------------------------------------- */

#define REAL(name, args)	(real != NULL ? real->name args : CKR_CRYPTOKI_NOT_INITIALIZED)

/* A plain forward: count, maybe inject, call the real module, log. */
#define FORWARD(name, params, args)					\
static CK_RV								\
w_##name params								\
{									\
	struct call c;							\
	CK_RV rv;							\
									\
	if (!call_begin(FN_##name, &c, &rv))				\
		rv = REAL(name, args);					\
	return call_end(&c, rv);					\
}

static CK_RV
w_C_Initialize(CK_VOID_PTR init_args)
{
	struct call c;
	CK_RV rv;

	/* Configure once per load; a second C_Initialize just reaches the real module. */
	if (real == NULL && (load_config(&cfg) != 0 || open_log() != 0))
		return CKR_GENERAL_ERROR;
	if (call_begin(FN_C_Initialize, &c, &rv))
		return call_end(&c, rv);
	if (real == NULL && (rv = load_real()) != CKR_OK)
		return call_end(&c, rv);
	if ((rv = real->C_Initialize(init_args)) != CKR_OK && rv != CKR_CRYPTOKI_ALREADY_INITIALIZED)
		unload_real();
	return call_end(&c, rv);
}

static CK_RV
w_C_Finalize(CK_VOID_PTR reserved)
{
	struct call c;
	CK_RV rv;

	if (!call_begin(FN_C_Finalize, &c, &rv)) {
		rv = REAL(C_Finalize, (reserved));
		if (rv == CKR_OK)
			unload_real();
	}
	rv = call_end(&c, rv);
	pthread_mutex_lock(&lock);
	report_counts_locked();
	pthread_mutex_unlock(&lock);
	return rv;
}

static CK_RV
w_C_GetTokenInfo(CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info)
{
	struct call c;
	unsigned long tries;
	CK_RV rv;
	int fd;

	if (call_begin(FN_C_GetTokenInfo, &c, &rv))
		return call_end(&c, rv);
	if ((rv = REAL(C_GetTokenInfo, (slot, info))) != CKR_OK)
		return call_end(&c, rv);
	info->flags |= cfg.token_flags;
	apply_token_strings(info);
	if (cfg.pin_tries > 0) {
		if ((fd = state_open(LOCK_SH, &tries)) == -1)
			return call_end(&c, CKR_GENERAL_ERROR);
		close(fd);
		info->flags |= tries_flags(tries);
	}
	return call_end(&c, rv);
}

static CK_RV
w_C_Login(CK_SESSION_HANDLE session, CK_USER_TYPE user, CK_UTF8CHAR_PTR pin, CK_ULONG pin_len)
{
	struct call c;
	unsigned long tries = 0;
	CK_RV rv;
	int fd = -1, user_login = user == CKU_USER || user == CKU_CONTEXT_SPECIFIC;

	if (call_begin(FN_C_Login, &c, &rv))
		return call_end(&c, rv);
	if (user_login && (cfg.behaviour & FLAG_LOCKED))
		return call_end(&c, CKR_PIN_LOCKED);
	if (pin == NULL && (cfg.behaviour & FLAG_PINPAD)) {
		if (!cfg.have_pinpad_pin)
			return call_end(&c, CKR_FUNCTION_CANCELED);
		pin = (CK_UTF8CHAR_PTR)cfg.pinpad_pin;
		pin_len = cfg.pinpad_pin_len;
	}
	if (!user_login || cfg.pin_tries == 0)
		return call_end(&c, REAL(C_Login, (session, user, pin, pin_len)));
	/* Hold the lock across the check: one PIN verification at a time, as on a card. */
	if ((fd = state_open(LOCK_EX, &tries)) == -1)
		return call_end(&c, CKR_GENERAL_ERROR);
	if (tries == 0)
		rv = CKR_PIN_LOCKED;
	else {
		rv = REAL(C_Login, (session, user, pin, pin_len));
		tries_update(&tries, rv);
		state_write(fd, tries);
	}
	close(fd);
	return call_end(&c, rv);
}

static CK_RV
w_C_SetPIN(CK_SESSION_HANDLE session, CK_UTF8CHAR_PTR old_pin, CK_ULONG old_len,
    CK_UTF8CHAR_PTR new_pin, CK_ULONG new_len)
{
	CK_SESSION_INFO si;
	struct call c;
	unsigned long tries = 0;
	CK_RV rv;
	int fd;

	if (call_begin(FN_C_SetPIN, &c, &rv))
		return call_end(&c, rv);
	/* In an SO session C_SetPIN changes the SO PIN: not ours to count. */
	if (cfg.pin_tries == 0 || real == NULL ||
	    (real->C_GetSessionInfo(session, &si) == CKR_OK && si.state == CKS_RW_SO_FUNCTIONS))
		return call_end(&c, REAL(C_SetPIN, (session, old_pin, old_len, new_pin, new_len)));
	if ((fd = state_open(LOCK_EX, &tries)) == -1)
		return call_end(&c, CKR_GENERAL_ERROR);
	if (tries == 0)
		rv = CKR_PIN_LOCKED;
	else {
		rv = real->C_SetPIN(session, old_pin, old_len, new_pin, new_len);
		tries_update(&tries, rv);
		state_write(fd, tries);
	}
	close(fd);
	return call_end(&c, rv);
}

static CK_RV
w_C_InitPIN(CK_SESSION_HANDLE session, CK_UTF8CHAR_PTR pin, CK_ULONG pin_len)
{
	struct call c;
	unsigned long tries;
	CK_RV rv;
	int fd;

	if (call_begin(FN_C_InitPIN, &c, &rv))
		return call_end(&c, rv);
	rv = REAL(C_InitPIN, (session, pin, pin_len));
	/* The SO setting a new user PIN unblocks it, as on the card. */
	if (rv == CKR_OK && cfg.pin_tries > 0 && (fd = state_open(LOCK_EX, &tries)) != -1) {
		state_write(fd, cfg.pin_tries);
		close(fd);
	}
	return call_end(&c, rv);
}

/* ---- record and replay ----------------------------------------------- */

#define REPLAY_MAX	1024	/* a recorded signature or data; ECDSA needs 132 */

/*
 * Read a replay file into buf. Returns 1 when it holds something; 0 when it
 * is missing or empty but the matching RECORD variable names it too (the
 * first C_Sign of such a chain has nothing to replay); else -1.
 */
static int
replay_read(const char *var, const char *path, const char *same, CK_BYTE *buf,
    CK_ULONG *len)
{
	ssize_t n;
	int fd;

	*len = 0;
	if ((fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1 && errno != ENOENT) {
		complain("%s: cannot open %s: %s", var, path, strerror(errno));
		return -1;
	}
	n = fd == -1 ? 0 : read(fd, buf, REPLAY_MAX + 1);
	if (fd != -1)
		close(fd);
	if (n < 0 || n > REPLAY_MAX) {
		complain("%s: %s: %s", var, path, n < 0 ? strerror(errno) : "too large");
		return -1;
	}
	if (n == 0 && strcmp(path, same) != 0) {
		complain("%s: nothing recorded in %s", var, path);
		return -1;
	}
	*len = (CK_ULONG)n;
	return n > 0;
}

/* Replace path with len bytes, through a temporary file and rename(). */
static int
record_write(const char *var, const char *path, const CK_BYTE *p, CK_ULONG len)
{
	char tmp[PATH_MAX + 32];
	int fd, ok;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp%ld", path, (long)getpid()) >= sizeof(tmp) ||
	    (fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600)) == -1) {
		complain("%s: cannot create a file beside %s", var, path);
		return -1;
	}
	ok = write(fd, p, len) == (ssize_t)len;
	ok = close(fd) == 0 && ok && rename(tmp, path) == 0;
	if (!ok) {
		complain("%s: cannot write %s: %s", var, path, strerror(errno));
		(void)unlink(tmp);
		return -1;
	}
	return 0;
}

/*
 * C_Sign under NKFAULT_RECORD_* / NKFAULT_REPLAY_*: sign the replayed data
 * instead of the caller's, record what was given and made, and answer with
 * the replayed signature. Length queries and failures record nothing.
 */
static CK_RV
sign_replayed(CK_SESSION_HANDLE session, CK_BYTE_PTR data, CK_ULONG data_len,
    CK_BYTE_PTR sig, CK_ULONG_PTR sig_len)
{
	const struct replay *rp = &cfg.replay;
	CK_BYTE other[REPLAY_MAX], old[REPLAY_MAX];
	CK_ULONG other_len = 0, old_len = 0;
	int have_other = 0, have_old = 0;
	CK_RV rv;

	if (rp->replay_data[0] != '\0' && (have_other = replay_read("NKFAULT_REPLAY_DATA",
	    rp->replay_data, rp->record_data, other, &other_len)) < 0)
		return CKR_GENERAL_ERROR;
	if (rp->replay_sig[0] != '\0' && (have_old = replay_read("NKFAULT_REPLAY_SIG",
	    rp->replay_sig, rp->record_sig, old, &old_len)) < 0)
		return CKR_GENERAL_ERROR;
	rv = REAL(C_Sign, (session, have_other ? other : data, have_other ? other_len : data_len,
	    sig, sig_len));
	if (rv != CKR_OK || sig == NULL || sig_len == NULL)
		return rv;
	if ((rp->record_data[0] != '\0' &&
	    record_write("NKFAULT_RECORD_DATA", rp->record_data, data, data_len) != 0) ||
	    (rp->record_sig[0] != '\0' &&
	    record_write("NKFAULT_RECORD_SIG", rp->record_sig, sig, *sig_len) != 0))
		return CKR_GENERAL_ERROR;
	if (have_old) {
		if (old_len != *sig_len) {
			complain("NKFAULT_REPLAY_SIG: %s holds %lu bytes, this signature %lu",
			    rp->replay_sig, (unsigned long)old_len, (unsigned long)*sig_len);
			return CKR_GENERAL_ERROR;
		}
		memcpy(sig, old, old_len);
	}
	return CKR_OK;
}

/* Corrupt a produced signature (not a length query) as configured. */
static void
corrupt_signature(CK_RV rv, CK_BYTE_PTR sig, CK_ULONG_PTR sig_len)
{
	if (rv != CKR_OK || sig == NULL || sig_len == NULL || *sig_len == 0)
		return;
	if (cfg.corrupt & CORRUPT_SIG)
		sig[*sig_len - 1] ^= 0x01;
	if (cfg.corrupt & CORRUPT_SIGLEN)
		(*sig_len)--;
}

static CK_RV
w_C_Sign(CK_SESSION_HANDLE session, CK_BYTE_PTR data, CK_ULONG data_len,
    CK_BYTE_PTR sig, CK_ULONG_PTR sig_len)
{
	struct call c;
	CK_RV rv;

	if (!call_begin(FN_C_Sign, &c, &rv)) {
		rv = sign_replayed(session, data, data_len, sig, sig_len);
		corrupt_signature(rv, sig, sig_len);
	}
	return call_end(&c, rv);
}

static CK_RV
w_C_SignFinal(CK_SESSION_HANDLE session, CK_BYTE_PTR sig, CK_ULONG_PTR sig_len)
{
	struct call c;
	CK_RV rv;

	if (!call_begin(FN_C_SignFinal, &c, &rv)) {
		rv = REAL(C_SignFinal, (session, sig, sig_len));
		corrupt_signature(rv, sig, sig_len);
	}
	return call_end(&c, rv);
}

/*
 * CKA_EC_PARAMS reads as unknown_oid, with the usual length-query and
 * buffer-too-small rules; in_len is the caller's buffer size.
 */
static CK_RV
replace_ec_params(CK_ATTRIBUTE_PTR a, CK_ULONG in_len, CK_RV rv)
{
	if (a->ulValueLen == CK_UNAVAILABLE_INFORMATION)
		return rv;	/* no such attribute (or the real value did not fit) */
	if (a->pValue == NULL) {
		a->ulValueLen = sizeof(unknown_oid);
	} else if (in_len >= sizeof(unknown_oid)) {
		memcpy(a->pValue, unknown_oid, sizeof(unknown_oid));
		a->ulValueLen = sizeof(unknown_oid);
	} else {
		a->ulValueLen = CK_UNAVAILABLE_INFORMATION;
		if (rv == CKR_OK)
			rv = CKR_BUFFER_TOO_SMALL;
	}
	return rv;
}

static CK_RV
w_C_GetAttributeValue(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object,
    CK_ATTRIBUTE_PTR templ, CK_ULONG count)
{
	struct call c;
	CK_ULONG i, *in_len = NULL;
	CK_RV rv;

	if (call_begin(FN_C_GetAttributeValue, &c, &rv))
		return call_end(&c, rv);
	if (cfg.corrupt == 0 || templ == NULL || count == 0)
		return call_end(&c, REAL(C_GetAttributeValue, (session, object, templ, count)));
	if ((in_len = calloc(count, sizeof(*in_len))) == NULL)
		return call_end(&c, CKR_HOST_MEMORY);
	for (i = 0; i < count; i++)
		in_len[i] = templ[i].ulValueLen;
	rv = REAL(C_GetAttributeValue, (session, object, templ, count));
	/* The results with which values are still filled in (PKCS#11 v2.40 5.7). */
	if (rv == CKR_OK || rv == CKR_ATTRIBUTE_SENSITIVE || rv == CKR_ATTRIBUTE_TYPE_INVALID ||
	    rv == CKR_BUFFER_TOO_SMALL) {
		for (i = 0; i < count; i++) {
			CK_ATTRIBUTE_PTR a = &templ[i];

			if (a->type == CKA_EC_POINT && (cfg.corrupt & CORRUPT_ECPOINT) &&
			    a->pValue != NULL && a->ulValueLen != CK_UNAVAILABLE_INFORMATION &&
			    a->ulValueLen > 0)
				((CK_BYTE_PTR)a->pValue)[a->ulValueLen - 1] ^= 0x01;
			if (a->type == CKA_EC_PARAMS && (cfg.corrupt & CORRUPT_ECPARAMS))
				rv = replace_ec_params(a, in_len[i], rv);
			if (a->type == CKA_LABEL && (cfg.corrupt & CORRUPT_LABEL) &&
			    a->pValue != NULL && a->ulValueLen != CK_UNAVAILABLE_INFORMATION &&
			    a->ulValueLen > 0)
				((CK_BYTE_PTR)a->pValue)[a->ulValueLen - 1] ^= 0x01;
		}
	}
	free(in_len);
	return call_end(&c, rv);
}

FORWARD(C_GetInfo, (CK_INFO_PTR info), (info))
FORWARD(C_GetSlotList, (CK_BBOOL present, CK_SLOT_ID_PTR slots, CK_ULONG_PTR count),
    (present, slots, count))
FORWARD(C_GetSlotInfo, (CK_SLOT_ID slot, CK_SLOT_INFO_PTR info), (slot, info))
FORWARD(C_GetMechanismList, (CK_SLOT_ID slot, CK_MECHANISM_TYPE_PTR list, CK_ULONG_PTR count),
    (slot, list, count))
FORWARD(C_GetMechanismInfo, (CK_SLOT_ID slot, CK_MECHANISM_TYPE type, CK_MECHANISM_INFO_PTR info),
    (slot, type, info))
FORWARD(C_InitToken, (CK_SLOT_ID slot, CK_UTF8CHAR_PTR pin, CK_ULONG pin_len, CK_UTF8CHAR_PTR label),
    (slot, pin, pin_len, label))
FORWARD(C_OpenSession, (CK_SLOT_ID slot, CK_FLAGS flags, CK_VOID_PTR app, CK_NOTIFY notify,
    CK_SESSION_HANDLE_PTR session), (slot, flags, app, notify, session))
FORWARD(C_CloseSession, (CK_SESSION_HANDLE session), (session))
FORWARD(C_CloseAllSessions, (CK_SLOT_ID slot), (slot))
FORWARD(C_GetSessionInfo, (CK_SESSION_HANDLE session, CK_SESSION_INFO_PTR info), (session, info))
FORWARD(C_GetOperationState, (CK_SESSION_HANDLE session, CK_BYTE_PTR state, CK_ULONG_PTR state_len),
    (session, state, state_len))
FORWARD(C_SetOperationState, (CK_SESSION_HANDLE session, CK_BYTE_PTR state, CK_ULONG state_len,
    CK_OBJECT_HANDLE enc_key, CK_OBJECT_HANDLE auth_key), (session, state, state_len, enc_key, auth_key))
FORWARD(C_Logout, (CK_SESSION_HANDLE session), (session))
FORWARD(C_CreateObject, (CK_SESSION_HANDLE session, CK_ATTRIBUTE_PTR templ, CK_ULONG count,
    CK_OBJECT_HANDLE_PTR object), (session, templ, count, object))
FORWARD(C_CopyObject, (CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object, CK_ATTRIBUTE_PTR templ,
    CK_ULONG count, CK_OBJECT_HANDLE_PTR new_object), (session, object, templ, count, new_object))
FORWARD(C_DestroyObject, (CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object), (session, object))
FORWARD(C_GetObjectSize, (CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object, CK_ULONG_PTR size),
    (session, object, size))
FORWARD(C_SetAttributeValue, (CK_SESSION_HANDLE session, CK_OBJECT_HANDLE object,
    CK_ATTRIBUTE_PTR templ, CK_ULONG count), (session, object, templ, count))

/* CORRUPT_PHANTOM: the session whose search has not answered yet. */
static CK_SESSION_HANDLE phantom_session;
static int phantom_pending;

static CK_RV
w_C_FindObjectsInit(CK_SESSION_HANDLE session, CK_ATTRIBUTE_PTR templ, CK_ULONG count)
{
	struct call c;
	CK_RV rv;

	if (!call_begin(FN_C_FindObjectsInit, &c, &rv))
		rv = REAL(C_FindObjectsInit, (session, templ, count));
	if (rv == CKR_OK && (cfg.corrupt & CORRUPT_PHANTOM)) {
		pthread_mutex_lock(&lock);
		phantom_session = session;
		phantom_pending = 1;
		pthread_mutex_unlock(&lock);
	}
	return call_end(&c, rv);
}

static CK_RV
w_C_FindObjects(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE_PTR objects, CK_ULONG max,
    CK_ULONG_PTR count)
{
	struct call c;
	CK_RV rv;
	int first = 0;

	if (call_begin(FN_C_FindObjects, &c, &rv))
		return call_end(&c, rv);
	rv = REAL(C_FindObjects, (session, objects, max, count));
	if (cfg.corrupt & CORRUPT_PHANTOM) {
		pthread_mutex_lock(&lock);
		first = phantom_pending && phantom_session == session;
		if (first)
			phantom_pending = 0;
		pthread_mutex_unlock(&lock);
	}
	/* Only the first answer: a caller looping until "none" still ends. */
	if (first && rv == CKR_OK && count != NULL && *count == 0 && objects != NULL &&
	    max > 0) {
		objects[0] = PHANTOM_HANDLE;
		*count = 1;
	}
	return call_end(&c, rv);
}
FORWARD(C_FindObjectsFinal, (CK_SESSION_HANDLE session), (session))

/* The init / one-shot / update / final shapes shared by the cipher, digest and sign families. */
#define FORWARD_INIT(name)						\
	FORWARD(name, (CK_SESSION_HANDLE session, CK_MECHANISM_PTR mech, CK_OBJECT_HANDLE key), \
	    (session, mech, key))
#define FORWARD_IN_OUT(name)						\
	FORWARD(name, (CK_SESSION_HANDLE session, CK_BYTE_PTR in, CK_ULONG in_len, CK_BYTE_PTR out, \
	    CK_ULONG_PTR out_len), (session, in, in_len, out, out_len))
#define FORWARD_IN(name)						\
	FORWARD(name, (CK_SESSION_HANDLE session, CK_BYTE_PTR in, CK_ULONG in_len), \
	    (session, in, in_len))
#define FORWARD_OUT(name)						\
	FORWARD(name, (CK_SESSION_HANDLE session, CK_BYTE_PTR out, CK_ULONG_PTR out_len), \
	    (session, out, out_len))

FORWARD_INIT(C_EncryptInit)
FORWARD_IN_OUT(C_Encrypt)
FORWARD_IN_OUT(C_EncryptUpdate)
FORWARD_OUT(C_EncryptFinal)
FORWARD_INIT(C_DecryptInit)
FORWARD_IN_OUT(C_Decrypt)
FORWARD_IN_OUT(C_DecryptUpdate)
FORWARD_OUT(C_DecryptFinal)
FORWARD(C_DigestInit, (CK_SESSION_HANDLE session, CK_MECHANISM_PTR mech), (session, mech))
FORWARD_IN_OUT(C_Digest)
FORWARD_IN(C_DigestUpdate)
FORWARD(C_DigestKey, (CK_SESSION_HANDLE session, CK_OBJECT_HANDLE key), (session, key))
FORWARD_OUT(C_DigestFinal)
FORWARD_INIT(C_SignInit)
FORWARD_IN(C_SignUpdate)
FORWARD_INIT(C_SignRecoverInit)
FORWARD_IN_OUT(C_SignRecover)
FORWARD_INIT(C_VerifyInit)
FORWARD(C_Verify, (CK_SESSION_HANDLE session, CK_BYTE_PTR data, CK_ULONG data_len, CK_BYTE_PTR sig,
    CK_ULONG sig_len), (session, data, data_len, sig, sig_len))
FORWARD_IN(C_VerifyUpdate)
FORWARD_IN(C_VerifyFinal)
FORWARD_INIT(C_VerifyRecoverInit)
FORWARD_IN_OUT(C_VerifyRecover)
FORWARD_IN_OUT(C_DigestEncryptUpdate)
FORWARD_IN_OUT(C_DecryptDigestUpdate)
FORWARD_IN_OUT(C_SignEncryptUpdate)
FORWARD_IN_OUT(C_DecryptVerifyUpdate)
FORWARD(C_GenerateKey, (CK_SESSION_HANDLE session, CK_MECHANISM_PTR mech, CK_ATTRIBUTE_PTR templ,
    CK_ULONG count, CK_OBJECT_HANDLE_PTR key), (session, mech, templ, count, key))
FORWARD(C_GenerateKeyPair, (CK_SESSION_HANDLE session, CK_MECHANISM_PTR mech,
    CK_ATTRIBUTE_PTR pub_templ, CK_ULONG pub_count, CK_ATTRIBUTE_PTR priv_templ, CK_ULONG priv_count,
    CK_OBJECT_HANDLE_PTR pub, CK_OBJECT_HANDLE_PTR priv),
    (session, mech, pub_templ, pub_count, priv_templ, priv_count, pub, priv))
FORWARD(C_WrapKey, (CK_SESSION_HANDLE session, CK_MECHANISM_PTR mech, CK_OBJECT_HANDLE wrapping_key,
    CK_OBJECT_HANDLE key, CK_BYTE_PTR wrapped, CK_ULONG_PTR wrapped_len),
    (session, mech, wrapping_key, key, wrapped, wrapped_len))
FORWARD(C_UnwrapKey, (CK_SESSION_HANDLE session, CK_MECHANISM_PTR mech,
    CK_OBJECT_HANDLE unwrapping_key, CK_BYTE_PTR wrapped, CK_ULONG wrapped_len, CK_ATTRIBUTE_PTR templ,
    CK_ULONG count, CK_OBJECT_HANDLE_PTR key),
    (session, mech, unwrapping_key, wrapped, wrapped_len, templ, count, key))
FORWARD(C_DeriveKey, (CK_SESSION_HANDLE session, CK_MECHANISM_PTR mech, CK_OBJECT_HANDLE base_key,
    CK_ATTRIBUTE_PTR templ, CK_ULONG count, CK_OBJECT_HANDLE_PTR key),
    (session, mech, base_key, templ, count, key))
FORWARD_IN(C_SeedRandom)
FORWARD_IN(C_GenerateRandom)
FORWARD(C_GetFunctionStatus, (CK_SESSION_HANDLE session), (session))
FORWARD(C_CancelFunction, (CK_SESSION_HANDLE session), (session))
FORWARD(C_WaitForSlotEvent, (CK_FLAGS flags, CK_SLOT_ID_PTR slot, CK_VOID_PTR reserved),
    (flags, slot, reserved))

static CK_FUNCTION_LIST function_list = {
	.version = { CRYPTOKI_VERSION_MAJOR, CRYPTOKI_VERSION_MINOR },
	.C_GetFunctionList = C_GetFunctionList,
#define X(name) .name = w_##name,
	NKFAULT_FUNCTIONS(X)
#undef X
};

/* The list above names every entry of CK_FUNCTION_LIST: 67 counted + C_GetFunctionList. */
_Static_assert(FN_COUNT == 67, "PKCS#11 v2.40 has 68 functions");
_Static_assert(sizeof(CK_FUNCTION_LIST) ==
    offsetof(CK_FUNCTION_LIST, C_Initialize) + (FN_COUNT + 1) * sizeof(void (*)(void)),
    "CK_FUNCTION_LIST does not have 68 entries");

CK_RV
C_GetFunctionList(CK_FUNCTION_LIST_PTR_PTR list)
{
	if (list == NULL)
		return CKR_ARGUMENTS_BAD;
	*list = &function_list;
	return CKR_OK;
}

/* A forked child reports only its own calls. */
static void
after_fork_child(void)
{
	pthread_mutex_init(&lock, NULL);
	memcpy(reported, counts, sizeof(reported));
}

__attribute__((constructor)) static void
nkfault_load(void)
{
	pthread_atfork(NULL, NULL, after_fork_child);
}

/* Process exit or unload without C_Finalize: still report the counts. */
__attribute__((destructor)) static void
nkfault_unload(void)
{
	pthread_mutex_lock(&lock);
	report_counts_locked();
	pthread_mutex_unlock(&lock);
	if (log_fd != -1) {
		close(log_fd);
		log_fd = -1;
	}
}
