/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * p11.c - the only file in nkhsm that talks PKCS#11.
 *
 * It drives the module through its own function list (dlopen +
 * C_GetFunctionList) rather than through libp11: libp11 0.4.12 deadlocks
 * when C_OpenSession fails, accepts a wrong PIN on a re-login, keeps a copy
 * of the PIN, cannot generate EC keys and reads every attribute of every
 * key (about 68 calls for one login). Here each operation costs a known,
 * small number of calls, and every call is counted.
 */
#include "config.h"

#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>
#include <openssl/x509.h>

#include <p11-kit/pkcs11.h>

#include "nk-int.h"
#include "tok-int.h"

#define MAX_FOUND	256	/* keys listed on one token */
#define LABEL_MAX	(NKHSM_LABEL_MAX + 1)
#define PARAMS_MAX	128
#define GONE_WAIT_MS	1000	/* for a reader to notice a pulled token */
#define GONE_STEP_MS	100

/*
 * Every call goes through here so that benchmarks can count them and a
 * front end can watch each one (nkhsm_ctx_set_watch).
 */
#define P11(ctx, fn, ...) \
	(call_begin(ctx), call_end((ctx), (ctx)->f->fn(__VA_ARGS__)))

static void
call_begin(nkhsm_ctx_t *ctx)
{
	ctx->calls++;
	if (ctx->watch != NULL)
		ctx->watch(ctx->watch_arg, 1);
}

static CK_RV
call_end(nkhsm_ctx_t *ctx, CK_RV rv)
{
	if (ctx->watch != NULL)
		ctx->watch(ctx->watch_arg, 0);
	return rv;
}

static int
map_ckr(CK_RV rv)
{
	switch (rv) {
	case CKR_OK:
		return 0;
	case CKR_HOST_MEMORY:
		return NKHSM_ERR_NOMEM;
	case CKR_PIN_INCORRECT:
	case CKR_PIN_INVALID:
		return NKHSM_ERR_PIN_INCORRECT;
	case CKR_PIN_LOCKED:
		return NKHSM_ERR_PIN_LOCKED;
	case CKR_PIN_LEN_RANGE:
		return NKHSM_ERR_PIN_LEN;
	case CKR_DEVICE_REMOVED:
	case CKR_TOKEN_NOT_PRESENT:
	case CKR_TOKEN_NOT_RECOGNIZED:
	case CKR_SESSION_CLOSED:
	case CKR_SESSION_HANDLE_INVALID:
	case CKR_SLOT_ID_INVALID:
		return NKHSM_ERR_DEVICE_REMOVED;
	case CKR_USER_NOT_LOGGED_IN:
		return NKHSM_ERR_NOT_LOGGED_IN;
	case CKR_MECHANISM_INVALID:
	case CKR_CURVE_NOT_SUPPORTED:
	case CKR_DOMAIN_PARAMS_INVALID:
	case CKR_KEY_TYPE_INCONSISTENT:
	case CKR_TEMPLATE_INCONSISTENT:
		return NKHSM_ERR_UNSUPPORTED;
	case CKR_DEVICE_MEMORY:
		return NKHSM_ERR_TOKEN_FULL;
	case CKR_FUNCTION_CANCELED:
		return NKHSM_ERR_CANCELLED;
	case CKR_TOKEN_WRITE_PROTECTED:
		return NKHSM_ERR_PERMISSION;
	default:
		return NKHSM_ERR_MODULE;
	}
}

int
nkhsm_ctx_open(const char *module_path, nkhsm_ctx_t **ctxp)
{
	CK_C_GetFunctionList getfl;
	CK_C_INITIALIZE_ARGS args;
	nkhsm_ctx_t *ctx = NULL;
	CK_RV rv;
	int r = NKHSM_ERR_MODULE_LOAD;

	*ctxp = NULL;
	if (module_path == NULL)
		module_path = nkhsm_default_module();
	if (module_path == NULL || *module_path == '\0')
		return NKHSM_ERR_INVALID_ARGUMENT;
	if ((ctx = calloc(1, sizeof(*ctx))) == NULL ||
	    (ctx->module = strdup(module_path)) == NULL) {
		r = NKHSM_ERR_NOMEM;
		goto out;
	}
	if ((ctx->dl = dlopen(module_path, RTLD_NOW | RTLD_LOCAL)) == NULL)
		goto out;
	*(void **)&getfl = dlsym(ctx->dl, "C_GetFunctionList");
	if (getfl == NULL || getfl(&ctx->f) != CKR_OK || ctx->f == NULL ||
	    ctx->f->version.major < 2)
		goto out;
	memset(&args, 0, sizeof(args));
	args.flags = CKF_OS_LOCKING_OK;
	rv = P11(ctx, C_Initialize, &args);
	if (rv == CKR_OK)
		ctx->finalize = 1;
	else if (rv != CKR_CRYPTOKI_ALREADY_INITIALIZED)
		goto out;
	*ctxp = ctx;
	ctx = NULL;
	r = 0;
 out:
	nkhsm_ctx_free(&ctx);
	return r;
}

void
nkhsm_ctx_free(nkhsm_ctx_t **ctxp)
{
	nkhsm_ctx_t *ctx;

	if (ctxp == NULL || (ctx = *ctxp) == NULL)
		return;
	if (ctx->pcsc != NULL)
		nk_pc_ctx_free(ctx);
	if (ctx->finalize)
		(void)P11(ctx, C_Finalize, NULL);
	if (ctx->dl != NULL)
		dlclose(ctx->dl);
	free(ctx->module);
	free(ctx);
	*ctxp = NULL;
}

const char *
nkhsm_ctx_module(const nkhsm_ctx_t *ctx)
{
	return ctx->module;
}

unsigned long
nkhsm_ctx_calls(const nkhsm_ctx_t *ctx)
{
	return ctx->calls;
}

void
nkhsm_ctx_set_watch(nkhsm_ctx_t *ctx, nkhsm_call_watch_t *fn, void *arg)
{
	ctx->watch = fn;
	ctx->watch_arg = arg;
	if (ctx->pcsc != NULL)
		nk_pc_set_watch(ctx);
}

/* Tokens. */

static unsigned int
token_flags(CK_FLAGS f)
{
	unsigned int r = 0;

	if (f & CKF_LOGIN_REQUIRED)
		r |= NKHSM_TOKEN_LOGIN_REQUIRED;
	if (f & CKF_USER_PIN_COUNT_LOW)
		r |= NKHSM_TOKEN_PIN_COUNT_LOW;
	if (f & CKF_USER_PIN_FINAL_TRY)
		r |= NKHSM_TOKEN_PIN_FINAL_TRY;
	if (f & CKF_USER_PIN_LOCKED)
		r |= NKHSM_TOKEN_PIN_LOCKED;
	if (f & CKF_PROTECTED_AUTHENTICATION_PATH)
		r |= NKHSM_TOKEN_PIN_PAD;
	if (f & CKF_USER_PIN_TO_BE_CHANGED)
		r |= NKHSM_TOKEN_PIN_TO_BE_CHANGED;
	if (f & CKF_WRITE_PROTECTED)
		r |= NKHSM_TOKEN_WRITE_PROTECTED;
	return r;
}

void
nkhsm_token_free(nkhsm_token_t **tokp)
{
	nkhsm_token_t *tok;

	if (tokp == NULL || (tok = *tokp) == NULL)
		return;
	if (tok->pc != NULL)
		nk_pc_token_release(tok);
	if (tok->have_rwsession)
		(void)P11(tok->ctx, C_CloseSession, tok->rwsession);
	if (tok->have_session)
		(void)P11(tok->ctx, C_CloseSession, tok->session);
	free(tok->label);
	free(tok->serial);
	free(tok->manufacturer);
	free(tok->model);
	free(tok);
	*tokp = NULL;
}

static int
token_new(nkhsm_ctx_t *ctx, CK_SLOT_ID slot, const CK_TOKEN_INFO *ti,
    nkhsm_token_t **tokp)
{
	nkhsm_token_t *tok;

	*tokp = NULL;
	if ((tok = calloc(1, sizeof(*tok))) == NULL)
		return NKHSM_ERR_NOMEM;
	tok->ctx = ctx;
	tok->slot = slot;
	tok->tries = -1;	/* PKCS#11 has only the flags */
	tok->flags = ti->flags;
	tok->minpin = ti->ulMinPinLen;
	tok->maxpin = ti->ulMaxPinLen;
	if ((tok->label = nk_padded_dup(ti->label, sizeof(ti->label))) == NULL ||
	    (tok->serial = nk_padded_dup(ti->serialNumber,
	    sizeof(ti->serialNumber))) == NULL ||
	    (tok->manufacturer = nk_padded_dup(ti->manufacturerID,
	    sizeof(ti->manufacturerID))) == NULL ||
	    (tok->model = nk_padded_dup(ti->model, sizeof(ti->model))) == NULL) {
		nkhsm_token_free(&tok);
		return NKHSM_ERR_NOMEM;
	}
	tok->nitrokey = nk_serial_is_nitrokey(tok->serial);
	*tokp = tok;
	return 0;
}

int
nk_token_matches(const nkhsm_token_t *tok, const nkhsm_uri_t *uri)
{
	const char *v;
	unsigned long slot;

	if (uri == NULL)
		return 1;
	if ((v = nkhsm_uri_token(uri)) != NULL && strcmp(v, tok->label) != 0)
		return 0;
	if ((v = nkhsm_uri_serial(uri)) != NULL && strcmp(v, tok->serial) != 0)
		return 0;
	if ((v = nkhsm_uri_manufacturer(uri)) != NULL &&
	    strcmp(v, tok->manufacturer) != 0)
		return 0;
	if ((v = nkhsm_uri_model(uri)) != NULL && strcmp(v, tok->model) != 0)
		return 0;
	if (nkhsm_uri_has_slot_id(uri, &slot) && slot != tok->slot)
		return 0;
	return 1;
}

void
nkhsm_token_list_free(nkhsm_token_t ***listp, size_t n)
{
	size_t i;

	if (listp == NULL || *listp == NULL)
		return;
	for (i = 0; i < n; i++)
		nkhsm_token_free(&(*listp)[i]);
	free(*listp);
	*listp = NULL;
}

int
nkhsm_token_next(nkhsm_ctx_t *ctx, const nkhsm_uri_t *uri, size_t *cursor,
    nkhsm_token_t **tokp)
{
	CK_TOKEN_INFO ti;
	CK_ULONG n = MAX_SLOTS;
	nkhsm_token_t *tok = NULL;
	CK_RV rv;
	int r;

	if (tokp != NULL)
		*tokp = NULL;
	if (ctx == NULL || cursor == NULL || tokp == NULL)
		return NKHSM_ERR_INVALID_ARGUMENT;
	if (nkhsm_uri_unmatched(uri) != NULL)
		return NKHSM_ERR_UNSUPPORTED;
	if (ctx->pcsc != NULL)
		return nk_pc_token_next(ctx, uri, cursor, tokp);
	if (*cursor == 0) {
		/* One call with room for MAX_SLOTS; more than that is an error. */
		ctx->nslots = 0;
		if ((rv = P11(ctx, C_GetSlotList, CK_TRUE, ctx->slots,
		    &n)) != CKR_OK)
			return rv == CKR_BUFFER_TOO_SMALL ? NKHSM_ERR_TOO_LARGE :
			    map_ckr(rv);
		if (n > MAX_SLOTS)
			return NKHSM_ERR_MODULE;
		ctx->nslots = n;
	}
	while (*cursor < ctx->nslots) {
		CK_SLOT_ID slot = ctx->slots[(*cursor)++];

		memset(&ti, 0, sizeof(ti));
		/* A token pulled between the two calls is simply not listed. */
		if (P11(ctx, C_GetTokenInfo, slot, &ti) != CKR_OK)
			continue;
		/* Uninitialized tokens cannot log anyone in; never touch them. */
		if ((ti.flags & CKF_TOKEN_INITIALIZED) == 0)
			continue;
		if ((r = token_new(ctx, slot, &ti, &tok)) != 0)
			return r;
		if (!nk_token_matches(tok, uri)) {
			nkhsm_token_free(&tok);
			continue;
		}
		*tokp = tok;
		return 0;
	}
	return NKHSM_ERR_NO_TOKEN;
}

/* All initialized tokens matching uri (NULL: all). */
static int
token_scan(nkhsm_ctx_t *ctx, const nkhsm_uri_t *uri, nkhsm_token_t ***listp,
    size_t *np)
{
	nkhsm_token_t **list = NULL, *tok = NULL;
	size_t n = 0, cursor = 0;
	int r;

	*listp = NULL;
	*np = 0;
	if ((list = calloc(MAX_SLOTS + 1, sizeof(*list))) == NULL)
		return NKHSM_ERR_NOMEM;
	while ((r = nkhsm_token_next(ctx, uri, &cursor, &tok)) == 0)
		list[n++] = tok;
	if (r != NKHSM_ERR_NO_TOKEN) {
		nkhsm_token_list_free(&list, n);
		return r;
	}
	*listp = list;
	*np = n;
	return 0;
}

int
nkhsm_token_list_match(nkhsm_ctx_t *ctx, const nkhsm_uri_t *uri,
    nkhsm_token_t ***listp, size_t *np)
{
	if (ctx == NULL || listp == NULL || np == NULL)
		return NKHSM_ERR_INVALID_ARGUMENT;
	return token_scan(ctx, uri, listp, np);
}

int
nkhsm_token_list(nkhsm_ctx_t *ctx, nkhsm_token_t ***listp, size_t *np)
{
	if (ctx == NULL || listp == NULL || np == NULL)
		return NKHSM_ERR_INVALID_ARGUMENT;
	return token_scan(ctx, NULL, listp, np);
}

int
nkhsm_token_find(nkhsm_ctx_t *ctx, const nkhsm_uri_t *uri,
    nkhsm_token_t **tokp)
{
	nkhsm_token_t **list = NULL;
	size_t n = 0;
	int r;

	*tokp = NULL;
	if (ctx == NULL)
		return NKHSM_ERR_INVALID_ARGUMENT;
	if ((r = token_scan(ctx, uri, &list, &n)) != 0)
		return r;
	if (n == 0)
		r = NKHSM_ERR_NO_TOKEN;
	else if (n > 1)
		r = NKHSM_ERR_AMBIGUOUS_TOKEN;
	else {
		*tokp = list[0];
		list[0] = NULL;
	}
	nkhsm_token_list_free(&list, n);
	return r;
}

const char *
nkhsm_token_label(const nkhsm_token_t *tok)
{
	return tok->label;
}

const char *
nkhsm_token_serial(const nkhsm_token_t *tok)
{
	return tok->serial;
}

const char *
nkhsm_token_manufacturer(const nkhsm_token_t *tok)
{
	return tok->manufacturer;
}

const char *
nkhsm_token_model(const nkhsm_token_t *tok)
{
	return tok->model;
}

unsigned long
nkhsm_token_slot(const nkhsm_token_t *tok)
{
	return tok->slot;
}

unsigned int
nkhsm_token_flags(const nkhsm_token_t *tok)
{
	return token_flags(tok->flags) | (tok->nitrokey ? NKHSM_TOKEN_NITROKEY : 0);
}

int
nkhsm_token_pin_tries(const nkhsm_token_t *tok)
{
	return tok->tries;
}

void
nkhsm_token_pin_len(const nkhsm_token_t *tok, size_t *minp, size_t *maxp)
{
	/* CK_UNAVAILABLE_INFORMATION and absurd values mean "no limit". */
	if (minp != NULL)
		*minp = tok->minpin > NKHSM_PIN_MAX ? 0 : tok->minpin;
	if (maxp != NULL)
		*maxp = tok->maxpin == 0 || tok->maxpin > NKHSM_PIN_MAX ?
		    NKHSM_PIN_MAX : tok->maxpin;
}

int
nkhsm_token_refresh(nkhsm_token_t *tok)
{
	CK_TOKEN_INFO ti;
	CK_RV rv;

	if (tok->pc != NULL)
		return nk_pc_token_refresh(tok);
	memset(&ti, 0, sizeof(ti));
	if ((rv = P11(tok->ctx, C_GetTokenInfo, tok->slot, &ti)) != CKR_OK)
		return map_ckr(rv);
	tok->flags = ti.flags;
	return 0;
}

/*
 * A call that talks to the token failed with rv. A token pulled during the
 * call can fail it for no stated reason (OpenSC reports a transmit that
 * broke off as CKR_GENERAL_ERROR), and the reader notices the removal a few
 * hundred milliseconds later. So on a removable slot, an unexplained
 * failure waits up to GONE_WAIT_MS for the slot to say whether the token
 * is still there: "removed" is then what the caller reports.
 */
static int
token_fail(nkhsm_token_t *tok, CK_RV rv)
{
	const struct timespec step = { 0, GONE_STEP_MS * 1000000L };
	CK_SLOT_INFO si;
	CK_RV srv;
	int r = map_ckr(rv), waited;

	if (r != NKHSM_ERR_MODULE)
		return r;
	for (waited = 0;; waited += GONE_STEP_MS) {
		memset(&si, 0, sizeof(si));
		if ((srv = P11(tok->ctx, C_GetSlotInfo, tok->slot, &si)) != CKR_OK)
			return map_ckr(srv) == NKHSM_ERR_DEVICE_REMOVED ?
			    NKHSM_ERR_DEVICE_REMOVED : r;
		if ((si.flags & CKF_TOKEN_PRESENT) == 0)
			return NKHSM_ERR_DEVICE_REMOVED;
		if ((si.flags & CKF_REMOVABLE_DEVICE) == 0 ||
		    waited >= GONE_WAIT_MS)
			return r;
		(void)nanosleep(&step, NULL);
	}
}

static int
session(nkhsm_token_t *tok, int rw, CK_SESSION_HANDLE *hp)
{
	CK_FLAGS fl = CKF_SERIAL_SESSION;
	CK_RV rv;

	if (rw) {
		if (!tok->have_rwsession) {
			if ((rv = P11(tok->ctx, C_OpenSession, tok->slot,
			    fl | CKF_RW_SESSION, NULL, NULL,
			    &tok->rwsession)) != CKR_OK)
				return map_ckr(rv);
			tok->have_rwsession = 1;
		}
		*hp = tok->rwsession;
		return 0;
	}
	if (tok->have_session) {
		*hp = tok->session;
		return 0;
	}
	/* Login state is per application, so any open session serves. */
	if (tok->have_rwsession) {
		*hp = tok->rwsession;
		return 0;
	}
	if ((rv = P11(tok->ctx, C_OpenSession, tok->slot, fl, NULL, NULL,
	    &tok->session)) != CKR_OK)
		return map_ckr(rv);
	tok->have_session = 1;
	*hp = tok->session;
	return 0;
}

int
nkhsm_token_login(nkhsm_token_t *tok, const char *pin, size_t pinlen)
{
	CK_SESSION_HANDLE h;
	CK_RV rv;
	int r, pinpad;

	if (tok == NULL)
		return NKHSM_ERR_INVALID_ARGUMENT;
	if (tok->pc != NULL)
		return nk_pc_login(tok, pin, pinlen);
	pinpad = (tok->flags & CKF_PROTECTED_AUTHENTICATION_PATH) != 0;
	if (pin == NULL && !pinpad)
		return NKHSM_ERR_INVALID_ARGUMENT;
	if (pin != NULL && (pinlen == 0 || pinlen > NKHSM_PIN_MAX))
		return NKHSM_ERR_PIN_LEN;
	if ((r = session(tok, 0, &h)) != 0)
		return r;
	rv = P11(tok->ctx, C_Login, h, CKU_USER, (CK_UTF8CHAR_PTR)pin,
	    pin == NULL ? 0 : (CK_ULONG)pinlen);
	if (rv == CKR_USER_ALREADY_LOGGED_IN) {
		/*
		 * "Already logged in" proves nothing about this PIN: log out and
		 * submit it for real (libp11 0.4.12 took this as success).
		 */
		(void)P11(tok->ctx, C_Logout, h);
		rv = P11(tok->ctx, C_Login, h, CKU_USER, (CK_UTF8CHAR_PTR)pin,
		    pin == NULL ? 0 : (CK_ULONG)pinlen);
	}
	if (rv != CKR_OK) {
		r = token_fail(tok, rv);
		/* Show the caller what the token says now (tries left). */
		(void)nkhsm_token_refresh(tok);
		if (r == NKHSM_ERR_PIN_INCORRECT &&
		    (tok->flags & CKF_USER_PIN_LOCKED))
			r = NKHSM_ERR_PIN_LOCKED;
		return r;
	}
	tok->logged_in = 1;
	return 0;
}

int
nkhsm_token_logout(nkhsm_token_t *tok)
{
	CK_SESSION_HANDLE h;
	CK_RV rv;
	int r;

	if (tok == NULL || !tok->logged_in)
		return 0;
	if (tok->pc != NULL)
		return nk_pc_logout(tok);
	if ((r = session(tok, 0, &h)) != 0)
		return r;
	tok->logged_in = 0;
	rv = P11(tok->ctx, C_Logout, h);
	return rv == CKR_USER_NOT_LOGGED_IN ? 0 : map_ckr(rv);
}

int
nkhsm_token_set_pin(nkhsm_token_t *tok, const char *oldpin, size_t oldlen,
    const char *newpin, size_t newlen)
{
	CK_SESSION_HANDLE h;
	CK_RV rv;
	int r;

	if (tok == NULL || oldpin == NULL || newpin == NULL)
		return NKHSM_ERR_INVALID_ARGUMENT;
	if (tok->pc != NULL)
		return nk_pc_set_pin(tok, oldpin, oldlen, newpin, newlen);
	if (newlen < tok->minpin || (tok->maxpin != 0 && newlen > tok->maxpin) ||
	    newlen > NKHSM_PIN_MAX || oldlen > NKHSM_PIN_MAX)
		return NKHSM_ERR_PIN_LEN;
	/* C_SetPIN needs a read-write session. */
	if ((r = session(tok, 1, &h)) != 0)
		return r;
	rv = P11(tok->ctx, C_SetPIN, h, (CK_UTF8CHAR_PTR)oldpin,
	    (CK_ULONG)oldlen, (CK_UTF8CHAR_PTR)newpin, (CK_ULONG)newlen);
	if (rv != CKR_OK) {
		r = map_ckr(rv);
		(void)nkhsm_token_refresh(tok);
		if (r == NKHSM_ERR_PIN_INCORRECT &&
		    (tok->flags & CKF_USER_PIN_LOCKED))
			r = NKHSM_ERR_PIN_LOCKED;
		return r;
	}
	return 0;
}

/* Object search: at most max handles, returned in *nfound. */
static int
find(nkhsm_token_t *tok, CK_SESSION_HANDLE h, CK_ATTRIBUTE *tmpl, CK_ULONG n,
    CK_OBJECT_HANDLE *out, CK_ULONG max, CK_ULONG *nfound)
{
	CK_RV rv, rv2;

	*nfound = 0;
	if ((rv = P11(tok->ctx, C_FindObjectsInit, h, tmpl, n)) != CKR_OK)
		return map_ckr(rv);
	rv = P11(tok->ctx, C_FindObjects, h, out, max, nfound);
	rv2 = P11(tok->ctx, C_FindObjectsFinal, h);
	if (rv != CKR_OK)
		return map_ckr(rv);
	if (*nfound > max)
		return NKHSM_ERR_MODULE;
	return map_ckr(rv2);
}

void
nkhsm_key_free(nkhsm_key_t **keyp)
{
	nkhsm_key_t *key;

	if (keyp == NULL || (key = *keyp) == NULL)
		return;
	free(key->label);
	EVP_PKEY_free(key->pub);
	free(key->cert);
	free(key);
	*keyp = NULL;
}

void
nkhsm_key_list_free(nkhsm_key_t ***listp, size_t n)
{
	size_t i;

	if (listp == NULL || *listp == NULL)
		return;
	for (i = 0; i < n; i++)
		nkhsm_key_free(&(*listp)[i]);
	free(*listp);
	*listp = NULL;
}

#define CERT_MAX	(16 * 1024)

/*
 * Make a key from one object - a public key, a certificate or a private key -
 * reading its id, label, curve and public key in a single call.
 */
static int
key_from_object(nkhsm_token_t *tok, CK_SESSION_HANDLE h, CK_OBJECT_HANDLE obj,
    CK_OBJECT_CLASS cls, nkhsm_key_t **keyp)
{
	uint8_t params[PARAMS_MAX], ptbuf[NK_MAX_POINT + 8], *cert = NULL;
	const uint8_t *pt, *p;
	char label[LABEL_MAX];
	CK_KEY_TYPE kt = 0;
	nkhsm_key_t *key = NULL;
	CK_ATTRIBUTE a[5];
	CK_ULONG na = 0;
	size_t ptlen;
	X509 *x = NULL;
	CK_RV rv;
	int r;

	*keyp = NULL;
	if ((key = calloc(1, sizeof(*key))) == NULL)
		return NKHSM_ERR_NOMEM;
	key->tok = tok;
	a[na].type = CKA_ID;
	a[na].pValue = key->id;
	a[na++].ulValueLen = sizeof(key->id);
	a[na].type = CKA_LABEL;
	a[na].pValue = label;
	a[na++].ulValueLen = sizeof(label) - 1;
	if (cls == CKO_CERTIFICATE) {
		if ((cert = malloc(CERT_MAX)) == NULL) {
			r = NKHSM_ERR_NOMEM;
			goto out;
		}
		a[na].type = CKA_VALUE;
		a[na].pValue = cert;
		a[na++].ulValueLen = CERT_MAX;
	} else {
		a[na].type = CKA_KEY_TYPE;
		a[na].pValue = &kt;
		a[na++].ulValueLen = sizeof(kt);
		a[na].type = CKA_EC_PARAMS;
		a[na].pValue = params;
		a[na++].ulValueLen = sizeof(params);
		if (cls == CKO_PUBLIC_KEY) {
			a[na].type = CKA_EC_POINT;
			a[na].pValue = ptbuf;
			a[na++].ulValueLen = sizeof(ptbuf);
		}
	}
	rv = P11(tok->ctx, C_GetAttributeValue, h, obj, a, na);
	/* A missing label or id is fine; the rest is checked below. */
	if (rv != CKR_OK && rv != CKR_ATTRIBUTE_TYPE_INVALID &&
	    rv != CKR_ATTRIBUTE_SENSITIVE) {
		r = rv == CKR_BUFFER_TOO_SMALL ? NKHSM_ERR_FORMAT : map_ckr(rv);
		goto out;
	}
	key->idlen = a[0].ulValueLen == CK_UNAVAILABLE_INFORMATION ? 0 :
	    a[0].ulValueLen;
	if (a[1].ulValueLen == CK_UNAVAILABLE_INFORMATION)
		a[1].ulValueLen = 0;
	label[a[1].ulValueLen] = '\0';
	if (memchr(label, '\0', a[1].ulValueLen) != NULL) {
		r = NKHSM_ERR_FORMAT;
		goto out;
	}
	if ((key->label = strdup(label)) == NULL) {
		r = NKHSM_ERR_NOMEM;
		goto out;
	}
	if (cls == CKO_CERTIFICATE) {
		r = NKHSM_ERR_FORMAT;
		p = cert;
		if (a[2].ulValueLen == CK_UNAVAILABLE_INFORMATION ||
		    (x = d2i_X509(NULL, &p, (long)a[2].ulValueLen)) == NULL ||
		    (key->pub = X509_get_pubkey(x)) == NULL)
			goto out;
		if ((r = nkhsm_curve_of_pkey(key->pub, &key->curve)) != 0)
			goto out;
		key->cert = cert;
		key->certlen = a[2].ulValueLen;
		cert = NULL;
	} else {
		if (a[2].ulValueLen != sizeof(kt) || kt != CKK_EC ||
		    a[3].ulValueLen == CK_UNAVAILABLE_INFORMATION) {
			r = NKHSM_ERR_UNSUPPORTED;
			goto out;
		}
		if ((r = nk_curve_from_params(params, a[3].ulValueLen,
		    &key->curve)) != 0)
			goto out;
		if (cls == CKO_PUBLIC_KEY) {
			if (a[4].ulValueLen == CK_UNAVAILABLE_INFORMATION) {
				r = NKHSM_ERR_FORMAT;
				goto out;
			}
			if ((r = nk_point_unwrap(ptbuf, a[4].ulValueLen, &pt,
			    &ptlen)) != 0)
				goto out;
			/* Kept raw; the EVP_PKEY is made if someone asks. */
			if (ptlen != 1 + 2 * nkhsm_curve_bytes(key->curve) ||
			    pt[0] != 0x04) {
				r = NKHSM_ERR_FORMAT;
				goto out;
			}
			key->point.curve = key->curve;
			key->point.len = ptlen;
			memcpy(key->point.pt, pt, ptlen);
			key->have_point = 1;
		} else {
			key->priv = obj;
			key->have_priv = 1;
		}
	}
	*keyp = key;
	key = NULL;
	r = 0;
 out:
	X509_free(x);
	free(cert);
	nkhsm_key_free(&key);
	return r;
}

/* Exactly one object of a class by id and/or label. */
static int
find_one(nkhsm_token_t *tok, CK_SESSION_HANDLE h, CK_OBJECT_CLASS cls,
    const uint8_t *id, size_t idlen, const char *label, CK_OBJECT_HANDLE *objp)
{
	CK_ATTRIBUTE tmpl[3];
	CK_OBJECT_HANDLE objs[2];
	CK_ULONG n = 0, nfound;
	int r;

	tmpl[n].type = CKA_CLASS;
	tmpl[n].pValue = &cls;
	tmpl[n++].ulValueLen = sizeof(cls);
	if (id != NULL) {
		tmpl[n].type = CKA_ID;
		tmpl[n].pValue = (void *)id;
		tmpl[n++].ulValueLen = idlen;
	}
	if (label != NULL) {
		tmpl[n].type = CKA_LABEL;
		tmpl[n].pValue = (void *)label;
		tmpl[n++].ulValueLen = strlen(label);
	}
	if ((r = find(tok, h, tmpl, n, objs, 2, &nfound)) != 0)
		return r;
	if (nfound == 0)
		return NKHSM_ERR_NO_KEY;
	if (nfound > 1)
		return NKHSM_ERR_AMBIGUOUS_KEY;
	*objp = objs[0];
	return 0;
}

/* The private key that pairs with a key found by its public half. */
static int
resolve_priv(nkhsm_key_t *key, CK_SESSION_HANDLE h)
{
	int r;

	if (key->have_priv)
		return 0;
	if (key->idlen == 0)
		return NKHSM_ERR_NO_KEY;	/* nothing to pair it by */
	if ((r = find_one(key->tok, h, CKO_PRIVATE_KEY, key->id, key->idlen,
	    NULL, &key->priv)) != 0)
		return r == NKHSM_ERR_NO_KEY && !key->tok->logged_in ?
		    NKHSM_ERR_NOT_LOGGED_IN : r;
	key->have_priv = 1;
	return 0;
}

/*
 * A key named by URI. Public objects come first: they need no PIN. Then
 * certificates (tokens that keep no public key objects), then, after a
 * login, the private key itself.
 */
int
nkhsm_key_find(nkhsm_token_t *tok, const nkhsm_uri_t *uri, nkhsm_key_t **keyp)
{
	static const CK_OBJECT_CLASS order[] = {
		CKO_PUBLIC_KEY, CKO_CERTIFICATE, CKO_PRIVATE_KEY
	};
	CK_OBJECT_HANDLE obj;
	CK_SESSION_HANDLE h;
	const uint8_t *id;
	const char *label;
	size_t idlen, i;
	nkhsm_objtype_t type;
	int r = NKHSM_ERR_NO_KEY;

	*keyp = NULL;
	if (tok == NULL || uri == NULL)
		return NKHSM_ERR_INVALID_ARGUMENT;
	type = nkhsm_uri_type(uri);
	if (type == NKHSM_OBJ_SECRET || type == NKHSM_OBJ_DATA)
		return NKHSM_ERR_NO_KEY;
	if (tok->pc != NULL)
		return NKHSM_ERR_UNSUPPORTED;	/* the login path needs none */
	id = nkhsm_uri_id(uri, &idlen);
	label = nkhsm_uri_object(uri);
	if (id == NULL && label == NULL)
		return NKHSM_ERR_INVALID_ARGUMENT;	/* name a key */
	if ((r = session(tok, 0, &h)) != 0)
		return r;
	for (i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if (type == NKHSM_OBJ_CERT && order[i] != CKO_CERTIFICATE)
			continue;
		if (order[i] == CKO_PRIVATE_KEY && !tok->logged_in)
			continue;
		r = find_one(tok, h, order[i], id, idlen, label, &obj);
		if (r == NKHSM_ERR_NO_KEY)
			continue;
		if (r != 0)
			return r;
		return key_from_object(tok, h, obj, order[i], keyp);
	}
	return NKHSM_ERR_NO_KEY;
}

int
nkhsm_key_find_by_point(nkhsm_token_t *tok, const nkhsm_point_t *p,
    nkhsm_key_t **keyp)
{
	CK_OBJECT_CLASS pubclass = CKO_PUBLIC_KEY;
	uint8_t wrapped[NKHSM_POINT_MAX + 3];
	size_t wlen = sizeof(wrapped);
	CK_ATTRIBUTE tmpl[2];
	CK_OBJECT_HANDLE obj;
	CK_SESSION_HANDLE h;
	CK_ULONG n;
	nkhsm_key_t *key = NULL;
	int r;

	*keyp = NULL;
	if (tok == NULL || p == NULL || p->len > sizeof(p->pt))
		return NKHSM_ERR_INVALID_ARGUMENT;
	if (nkhsm_curve_bytes(p->curve) == 0)
		return NKHSM_ERR_UNSUPPORTED;
	if (tok->pc != NULL)
		return nk_pc_find_any(tok, p, 1, keyp, NULL);
	if ((r = nk_point_wrap(p->pt, p->len, wrapped, &wlen)) != 0 ||
	    (r = session(tok, 0, &h)) != 0)
		return r;
	/* The public key object with this point, DER-wrapped as the standard says. */
	tmpl[0].type = CKA_CLASS;
	tmpl[0].pValue = &pubclass;
	tmpl[0].ulValueLen = sizeof(pubclass);
	tmpl[1].type = CKA_EC_POINT;
	tmpl[1].pValue = wrapped;
	tmpl[1].ulValueLen = wlen;
	if ((r = find(tok, h, tmpl, 2, &obj, 1, &n)) != 0)
		return r;
	if (n == 0)
		return NKHSM_ERR_NO_KEY;
	if ((r = key_from_object(tok, h, obj, CKO_PUBLIC_KEY, &key)) != 0)
		return r;
	/*
	 * Whatever the token says, the key must be the one asked for. A
	 * search that returns another key is a broken module, not a miss.
	 */
	if (key->curve != p->curve || key->point.len != p->len ||
	    memcmp(key->point.pt, p->pt, p->len) != 0) {
		nkhsm_key_free(&key);
		return NKHSM_ERR_MODULE;
	}
	*keyp = key;
	return 0;
}

int
nkhsm_key_find_any(nkhsm_token_t *tok, const nkhsm_point_t *pts, size_t n,
    nkhsm_key_t **keyp, size_t *indexp)
{
	size_t i;
	int r;

	*keyp = NULL;
	if (indexp != NULL)
		*indexp = 0;
	if (tok == NULL || (pts == NULL && n > 0))
		return NKHSM_ERR_INVALID_ARGUMENT;
	if (tok->pc != NULL)
		return nk_pc_find_any(tok, pts, n, keyp, indexp);
	/* One search per point, in their order: the first the token holds. */
	for (i = 0; i < n; i++) {
		if (pts[i].curve == NKHSM_CURVE_NONE)
			continue;
		r = nkhsm_key_find_by_point(tok, &pts[i], keyp);
		if (r == 0) {
			if (indexp != NULL)
				*indexp = i;
			return 0;
		}
		if (r != NKHSM_ERR_NO_KEY && r != NKHSM_ERR_UNSUPPORTED)
			return r;
	}
	return NKHSM_ERR_NO_KEY;
}

int
nkhsm_key_find_by_pubkey(nkhsm_token_t *tok, const EVP_PKEY *pub,
    nkhsm_key_t **keyp)
{
	nkhsm_point_t p;
	int r;

	*keyp = NULL;
	if (tok == NULL || pub == NULL)
		return NKHSM_ERR_INVALID_ARGUMENT;
	if ((r = nkhsm_point_from_pkey(pub, &p)) != 0)
		return r;
	return nkhsm_key_find_by_point(tok, &p, keyp);
}

/* Keys from every object of a class (public keys: EC only). */
static int
list_objects(nkhsm_token_t *tok, CK_OBJECT_CLASS cls, nkhsm_key_t ***listp,
    size_t *np)
{
	CK_KEY_TYPE kt = CKK_EC;
	CK_ATTRIBUTE tmpl[] = {
		{ CKA_CLASS, &cls, sizeof(cls) },
		{ CKA_KEY_TYPE, &kt, sizeof(kt) },
	};
	CK_OBJECT_HANDLE *objs = NULL;
	CK_SESSION_HANDLE h;
	CK_ULONG n = 0, i;
	nkhsm_key_t **list = NULL;
	size_t nk = 0;
	int r;

	*listp = NULL;
	*np = 0;
	if (tok == NULL)
		return NKHSM_ERR_INVALID_ARGUMENT;
	if (tok->pc != NULL)
		return cls == CKO_CERTIFICATE ? nk_pc_cert_list(tok, listp, np) :
		    NKHSM_ERR_UNSUPPORTED;
	if ((objs = calloc(MAX_FOUND, sizeof(*objs))) == NULL)
		return NKHSM_ERR_NOMEM;
	if ((r = session(tok, 0, &h)) != 0 ||
	    (r = find(tok, h, tmpl, cls == CKO_PUBLIC_KEY ? 2 : 1, objs,
	    MAX_FOUND, &n)) != 0)
		goto out;
	if ((list = calloc(n + 1, sizeof(*list))) == NULL) {
		r = NKHSM_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < n; i++) {
		r = key_from_object(tok, h, objs[i], cls, &list[nk]);
		if (r == NKHSM_ERR_UNSUPPORTED || r == NKHSM_ERR_FORMAT)
			continue;	/* other key types and curves: not ours */
		if (r != 0)
			goto out;
		nk++;
	}
	*listp = list;
	*np = nk;
	list = NULL;
	r = 0;
 out:
	nkhsm_key_list_free(&list, nk);
	free(objs);
	return r;
}

/*
 * EC keys through their public key objects, and keys some tokens keep only
 * with a certificate (no public key object with that id).
 */
int
nkhsm_key_list(nkhsm_token_t *tok, nkhsm_key_t ***listp, size_t *np)
{
	nkhsm_key_t **pubs = NULL, **certs = NULL, **all = NULL;
	size_t np_ = 0, nc = 0, n, i, j;
	int r;

	*listp = NULL;
	*np = 0;
	if ((r = list_objects(tok, CKO_PUBLIC_KEY, &pubs, &np_)) != 0)
		return r;
	if ((r = list_objects(tok, CKO_CERTIFICATE, &certs, &nc)) != 0)
		goto out;
	if ((all = calloc(np_ + nc + 1, sizeof(*all))) == NULL) {
		r = NKHSM_ERR_NOMEM;
		goto out;
	}
	for (n = 0; n < np_; n++) {
		all[n] = pubs[n];
		pubs[n] = NULL;
	}
	for (i = 0; i < nc; i++) {
		for (j = 0; j < np_; j++)
			if (all[j]->idlen == certs[i]->idlen &&
			    memcmp(all[j]->id, certs[i]->id, all[j]->idlen) == 0)
				break;
		if (j == np_ && certs[i]->idlen > 0) {
			all[n++] = certs[i];
			certs[i] = NULL;
		}
	}
	*listp = all;
	*np = n;
	all = NULL;
	r = 0;
 out:
	nkhsm_key_list_free(&pubs, np_);
	nkhsm_key_list_free(&certs, nc);
	free(all);
	return r;
}

int
nkhsm_cert_list(nkhsm_token_t *tok, nkhsm_key_t ***listp, size_t *np)
{
	return list_objects(tok, CKO_CERTIFICATE, listp, np);
}

const uint8_t *
nkhsm_key_cert(const nkhsm_key_t *key, size_t *lenp)
{
	*lenp = key->certlen;
	return key->cert;
}

const char *
nkhsm_key_label(const nkhsm_key_t *key)
{
	return key->label;
}

const uint8_t *
nkhsm_key_id(const nkhsm_key_t *key, size_t *lenp)
{
	*lenp = key->idlen;
	return key->idlen == 0 ? NULL : key->id;
}

nkhsm_curve_t
nkhsm_key_curve(const nkhsm_key_t *key)
{
	return key->curve;
}

EVP_PKEY *
nkhsm_key_pubkey(nkhsm_key_t *key)
{
	/* NULL if the token's point is not on its curve. */
	if (key->pub == NULL && key->have_point)
		(void)nk_pkey_from_point(key->point.curve, key->point.pt,
		    key->point.len, &key->pub);
	return key->pub;
}

const nkhsm_point_t *
nkhsm_key_point(const nkhsm_key_t *key)
{
	return key->have_point ? &key->point : NULL;
}

nkhsm_token_t *
nkhsm_key_token(const nkhsm_key_t *key)
{
	return key->tok;
}

/* Is there any object (key or certificate) with this id or label? */
static int
object_exists(nkhsm_token_t *tok, CK_SESSION_HANDLE h, CK_ATTRIBUTE_TYPE t,
    const void *v, size_t len, int *existsp)
{
	CK_ATTRIBUTE tmpl = { t, (void *)v, len };
	CK_OBJECT_HANDLE obj;
	CK_ULONG n;
	int r;

	*existsp = 0;
	if ((r = find(tok, h, &tmpl, 1, &obj, 1, &n)) != 0)
		return r;
	*existsp = n > 0;
	return 0;
}

/* Draws of a random id before the token's search is taken to be broken. */
#define KEYGEN_ID_DRAWS	4

/*
 * A random id that no object uses: one search per draw, whatever the token
 * holds. 64 random bits meet an existing id only if the search is broken.
 */
static int
random_free_id(nkhsm_token_t *tok, CK_SESSION_HANDLE h, uint8_t *id,
    size_t len, const char **whyp)
{
	int i, r, exists;

	for (i = 0; i < KEYGEN_ID_DRAWS; i++) {
		if (RAND_bytes(id, (int)len) != 1)
			return NKHSM_ERR_CRYPTO;
		if ((r = object_exists(tok, h, CKA_ID, id, len, &exists)) != 0)
			return r;
		if (!exists)
			return 0;
	}
	*whyp = "the token reports every random id drawn as in use";
	return NKHSM_ERR_MODULE;
}

/* No object may have this id or label yet; what says which, if one has. */
static int
name_free(nkhsm_token_t *tok, CK_SESSION_HANDLE h, CK_ATTRIBUTE_TYPE t,
    const void *v, size_t len, const char *what, const char **whyp)
{
	int r, exists;

	if ((r = object_exists(tok, h, t, v, len, &exists)) != 0)
		return r;
	if (exists) {
		*whyp = what;
		return NKHSM_ERR_EXISTS;
	}
	return 0;
}

static int
generate_pair(nkhsm_token_t *tok, CK_SESSION_HANDLE h, nkhsm_curve_t curve,
    const char *label, const uint8_t *id, size_t idlen,
    CK_OBJECT_HANDLE *pubp, CK_OBJECT_HANDLE *privp)
{
	CK_MECHANISM mech = { CKM_EC_KEY_PAIR_GEN, NULL, 0 };
	CK_BBOOL t = CK_TRUE, f = CK_FALSE;
	const uint8_t *params;
	size_t plen;
	CK_RV rv;
	int r;

	if ((r = nk_ec_params_der(curve, &params, &plen)) != 0)
		return r;
	{
		CK_ATTRIBUTE pubt[] = {
			{ CKA_TOKEN, &t, sizeof(t) },
			{ CKA_PRIVATE, &f, sizeof(f) },
			{ CKA_VERIFY, &t, sizeof(t) },
			{ CKA_EC_PARAMS, (void *)params, plen },
			{ CKA_LABEL, (void *)label, strlen(label) },
			{ CKA_ID, (void *)id, idlen },
		};
		CK_ATTRIBUTE privt[] = {
			{ CKA_TOKEN, &t, sizeof(t) },
			{ CKA_PRIVATE, &t, sizeof(t) },
			{ CKA_SENSITIVE, &t, sizeof(t) },
			{ CKA_EXTRACTABLE, &f, sizeof(f) },
			{ CKA_SIGN, &t, sizeof(t) },
			{ CKA_DERIVE, &f, sizeof(f) },
			{ CKA_LABEL, (void *)label, strlen(label) },
			{ CKA_ID, (void *)id, idlen },
		};

		rv = P11(tok->ctx, C_GenerateKeyPair, h, &mech,
		    pubt, sizeof(pubt) / sizeof(pubt[0]),
		    privt, sizeof(privt) / sizeof(privt[0]), pubp, privp);
	}
	return rv == CKR_OK ? 0 : token_fail(tok, rv);
}

/* What is wrong with the pair the token made (NULL: nothing), and *rp. */
static const char *
keygen_mismatch(const nkhsm_key_t *key, nkhsm_curve_t curve,
    const char *label, const uint8_t *id, size_t idlen, int *rp)
{
	*rp = NKHSM_ERR_MODULE;
	if (key->curve != curve)
		return "its public key is on another curve";
	if (strcmp(key->label, label) != 0)
		return "the token stored another label";
	if (key->idlen != idlen || memcmp(key->id, id, idlen) != 0)
		return "the token stored another id";
	if ((*rp = nkhsm_point_check(&key->point)) == NKHSM_ERR_FORMAT)
		return "its public key is not a point on the curve";
	if (*rp != 0)
		return "its public key could not be checked";
	return NULL;
}

/*
 * Read the new pair's public key object back (one call) and check it. On
 * failure, info->id becomes the id the token reports, if it reported one:
 * that is what names the objects left behind.
 */
static int
keygen_readback(nkhsm_token_t *tok, CK_SESSION_HANDLE h, CK_OBJECT_HANDLE pub,
    nkhsm_curve_t curve, const char *label, nkhsm_keygen_info_t *info,
    nkhsm_key_t **keyp)
{
	nkhsm_key_t *key = NULL;
	int r;

	*keyp = NULL;
	if ((r = key_from_object(tok, h, pub, CKO_PUBLIC_KEY, &key)) != 0) {
		if (r == NKHSM_ERR_FORMAT || r == NKHSM_ERR_UNSUPPORTED) {
			info->why = "its public key object is malformed";
			r = NKHSM_ERR_FORMAT;
		} else
			info->why = "its public key could not be read back";
		return r;
	}
	if ((info->why = keygen_mismatch(key, curve, label, info->id,
	    info->idlen, &r)) != NULL) {
		if (key->idlen > 0) {
			memcpy(info->id, key->id, key->idlen);
			info->idlen = key->idlen;
		}
		nkhsm_key_free(&key);
		return r;
	}
	*keyp = key;
	return 0;
}

/* Destroy what keygen made, the private key first; NKHSM_LEFT_*: what is left. */
static unsigned int
destroy_pair(nkhsm_token_t *tok, CK_SESSION_HANDLE h, CK_OBJECT_HANDLE priv,
    CK_OBJECT_HANDLE pub)
{
	unsigned int left = 0;

	if (P11(tok->ctx, C_DestroyObject, h, priv) != CKR_OK)
		left |= NKHSM_LEFT_PRIVATE;
	if (P11(tok->ctx, C_DestroyObject, h, pub) != CKR_OK)
		left |= NKHSM_LEFT_PUBLIC;
	return left;
}

int
nkhsm_keygen(nkhsm_token_t *tok, nkhsm_curve_t curve, const char *label,
    const uint8_t *id, size_t idlen, nkhsm_key_t **keyp,
    nkhsm_keygen_info_t *info)
{
	CK_OBJECT_HANDLE pubh, privh;
	CK_SESSION_HANDLE h;
	nkhsm_keygen_info_t local;
	uint8_t rid[NKHSM_KEYGEN_ID_LEN];
	nkhsm_key_t *key = NULL;
	int r;

	*keyp = NULL;
	if (info == NULL)
		info = &local;
	memset(info, 0, sizeof(*info));
	if (tok == NULL || label == NULL || *label == '\0' ||
	    strlen(label) >= LABEL_MAX || idlen > NKHSM_ID_MAX ||
	    (id == NULL) != (idlen == 0))
		return NKHSM_ERR_INVALID_ARGUMENT;
	if (tok->pc != NULL)
		return NKHSM_ERR_UNSUPPORTED;	/* keys are made through PKCS#11 */
	if ((r = session(tok, 1, &h)) != 0)
		return r;
	/* One search for the id (random or the caller's), one for the label. */
	if (id == NULL)
		r = random_free_id(tok, h, rid, sizeof(rid), &info->why);
	else
		r = name_free(tok, h, CKA_ID, id, idlen,
		    "an object with that id", &info->why);
	if (r != 0 || (r = name_free(tok, h, CKA_LABEL, label, strlen(label),
	    "an object with that label", &info->why)) != 0)
		return r;
	if (id == NULL) {
		id = rid;
		idlen = sizeof(rid);
	}
	memcpy(info->id, id, idlen);
	info->idlen = idlen;
	if ((r = generate_pair(tok, h, curve, label, id, idlen, &pubh,
	    &privh)) != 0)
		return r;
	info->made = 1;
	if ((r = keygen_readback(tok, h, pubh, curve, label, info,
	    &key)) != 0) {
		info->left = destroy_pair(tok, h, privh, pubh);
		return r;
	}
	key->priv = privh;
	key->have_priv = 1;
	key->pubobj = pubh;
	key->have_pubobj = 1;
	*keyp = key;
	return 0;
}

int
nkhsm_keygen_undo(nkhsm_key_t *key, nkhsm_keygen_info_t *info)
{
	CK_SESSION_HANDLE h = CK_INVALID_HANDLE;
	int r;

	if (key == NULL || info == NULL || !key->have_priv ||
	    !key->have_pubobj)
		return NKHSM_ERR_INVALID_ARGUMENT;
	info->left = NKHSM_LEFT_PRIVATE | NKHSM_LEFT_PUBLIC;
	if ((r = session(key->tok, 1, &h)) != 0)
		return r;
	info->left = destroy_pair(key->tok, h, key->priv, key->pubobj);
	key->have_priv = key->have_pubobj = 0;
	return info->left == 0 ? 0 : NKHSM_ERR_MODULE;
}

int
nkhsm_key_sign_digest(nkhsm_key_t *key, const uint8_t *dgst, size_t dlen,
    uint8_t **sigp, size_t *siglenp)
{
	CK_MECHANISM mech = { CKM_ECDSA, NULL, 0 };
	uint8_t buf[2 * NK_MAX_FIELD + 16], *sig;
	CK_ULONG len = sizeof(buf);
	CK_SESSION_HANDLE h;
	size_t n;
	CK_RV rv;
	int r;

	*sigp = NULL;
	*siglenp = 0;
	if (key == NULL || dgst == NULL || dlen == 0 || dlen > NK_MAX_DIGEST)
		return NKHSM_ERR_INVALID_ARGUMENT;
	if (key->tok->pc != NULL)
		return nk_pc_sign_digest(key, dgst, dlen, sigp, siglenp);
	n = nkhsm_curve_bytes(key->curve);
	if ((r = session(key->tok, 0, &h)) != 0 ||
	    (r = resolve_priv(key, h)) != 0)
		return r;
	if ((rv = P11(key->tok->ctx, C_SignInit, h, &mech, key->priv)) != CKR_OK)
		return token_fail(key->tok, rv);
	/* One call: the buffer is large enough for any curve we accept. */
	rv = P11(key->tok->ctx, C_Sign, h, (CK_BYTE_PTR)dgst, (CK_ULONG)dlen,
	    buf, &len);
	if (rv != CKR_OK)
		return rv == CKR_BUFFER_TOO_SMALL ? NKHSM_ERR_FORMAT :
		    token_fail(key->tok, rv);
	if (len != 2 * n)
		return NKHSM_ERR_FORMAT;
	if ((sig = nk_memdup(buf, len)) == NULL)
		return NKHSM_ERR_NOMEM;
	*sigp = sig;
	*siglenp = len;
	return 0;
}

int
nkhsm_token_store_cert(nkhsm_key_t *key, X509 *cert)
{
	CK_OBJECT_CLASS cls = CKO_CERTIFICATE;
	CK_CERTIFICATE_TYPE ct = CKC_X_509;
	CK_BBOOL t = CK_TRUE, f = CK_FALSE;
	unsigned char *der = NULL, *subj = NULL, *iss = NULL, *ser = NULL;
	int derlen, subjlen, isslen, serlen, r, exists;
	CK_OBJECT_HANDLE obj;
	CK_SESSION_HANDLE h;
	CK_RV rv;

	if (key == NULL || cert == NULL || key->idlen == 0)
		return NKHSM_ERR_INVALID_ARGUMENT;
	if (key->tok->pc != NULL)
		return NKHSM_ERR_UNSUPPORTED;
	r = NKHSM_ERR_CRYPTO;
	if ((derlen = i2d_X509(cert, &der)) <= 0 ||
	    (subjlen = i2d_X509_NAME(X509_get_subject_name(cert), &subj)) <= 0 ||
	    (isslen = i2d_X509_NAME(X509_get_issuer_name(cert), &iss)) <= 0 ||
	    (serlen = i2d_ASN1_INTEGER(X509_get_serialNumber(cert), &ser)) <= 0)
		goto out;
	if ((r = session(key->tok, 1, &h)) != 0)
		goto out;
	{
		CK_ATTRIBUTE q[] = {
			{ CKA_CLASS, &cls, sizeof(cls) },
			{ CKA_ID, key->id, key->idlen },
		};
		CK_ULONG n;

		if ((r = find(key->tok, h, q, 2, &obj, 1, &n)) != 0)
			goto out;
		exists = n > 0;
	}
	if (exists) {
		r = NKHSM_ERR_EXISTS;
		goto out;
	}
	{
		CK_ATTRIBUTE tmpl[] = {
			{ CKA_CLASS, &cls, sizeof(cls) },
			{ CKA_CERTIFICATE_TYPE, &ct, sizeof(ct) },
			{ CKA_TOKEN, &t, sizeof(t) },
			{ CKA_PRIVATE, &f, sizeof(f) },
			{ CKA_LABEL, key->label, strlen(key->label) },
			{ CKA_ID, key->id, key->idlen },
			{ CKA_SUBJECT, subj, (CK_ULONG)subjlen },
			{ CKA_ISSUER, iss, (CK_ULONG)isslen },
			{ CKA_SERIAL_NUMBER, ser, (CK_ULONG)serlen },
			{ CKA_VALUE, der, (CK_ULONG)derlen },
		};

		rv = P11(key->tok->ctx, C_CreateObject, h, tmpl,
		    sizeof(tmpl) / sizeof(tmpl[0]), &obj);
	}
	r = rv == CKR_OK ? 0 : token_fail(key->tok, rv);
 out:
	OPENSSL_free(der);
	OPENSSL_free(subj);
	OPENSSL_free(iss);
	OPENSSL_free(ser);
	return r;
}
