/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pcsc-tok.c - the SmartCard-HSM behind nkhsm's token and key types, over
 * PC/SC, for the login path: find the card and the key that matches an
 * authorized key, log in, sign, log out. A login on a card whose key is
 * hinted costs seven commands: SELECT, PIN status, READ BINARY of the
 * device certificate (the serial) and of the key's public key file,
 * VERIFY, sign, and SELECT again, which logs the card out.
 *
 * The card is held in a PC/SC transaction from the first command to the
 * last: nothing else runs between them, and if this process dies pcscd
 * resets the card. A token that may be logged in when it is freed (a
 * VERIFY was sent and no SELECT confirmed the logout) is reset as well.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nk-int.h"
#include "schsm.h"
#include "pcsc-int.h"
#include "tok-int.h"

#define PIN_MIN		6	/* the SmartCard-HSM's user PIN rules, */
#define PIN_MAX		15	/* as OpenSC reports them */
#define LABEL_SUFFIX	" (UserPIN)"	/* OpenSC names the slot by its PIN */
#define MODEL		"PKCS#15 emulated"
#define NITROKEY_PREFIX	"DENK"

struct nk_pcsc_ctx {
	struct nk_pcsc	*pc;
	unsigned int	 flags;
	nkhsm_reader_t	*readers;	/* the token walk's */
	size_t		 nreaders;
	size_t		 others;
	char		*hintpath;
	struct nk_hints	 hints;
	int		 hints_loaded;
};

struct nk_pcsc_tok {
	struct nk_card	*card;
	char		 reader[NKHSM_READER_NAME_MAX];
	char		 rawlabel[NK_SC_LABEL_MAX + 1];	/* TokenInfo's */
	char		 rawmanuf[NK_SC_LABEL_MAX + 1];
	int		 maybe_auth;	/* a PIN went to the card */
};

int
nk_serial_is_nitrokey(const char *serial)
{
	return serial != NULL && strncmp(serial, NITROKEY_PREFIX,
	    strlen(NITROKEY_PREFIX)) == 0;
}

/* Contexts. */

int
nkhsm_ctx_open_pcsc(unsigned int flags, nkhsm_ctx_t **ctxp)
{
	nkhsm_ctx_t *ctx = NULL;
	int r = NKHSM_ERR_NOMEM;

	*ctxp = NULL;
	if ((ctx = calloc(1, sizeof(*ctx))) == NULL ||
	    (ctx->module = strdup("PC/SC")) == NULL ||
	    (ctx->pcsc = calloc(1, sizeof(*ctx->pcsc))) == NULL)
		goto out;
	ctx->pcsc->flags = flags;
	if ((r = nk_pcsc_open(&ctx->pcsc->pc)) != 0)
		goto out;
	*ctxp = ctx;
	ctx = NULL;
	r = 0;
 out:
	nkhsm_ctx_free(&ctx);
	return r;
}

void
nk_pc_ctx_free(nkhsm_ctx_t *ctx)
{
	struct nk_pcsc_ctx *pcx = ctx->pcsc;

	nk_pcsc_close(&pcx->pc);
	free(pcx->readers);
	free(pcx->hintpath);
	free(pcx);
	ctx->pcsc = NULL;
}

nkhsm_driver_t
nkhsm_ctx_driver(const nkhsm_ctx_t *ctx)
{
	return ctx->pcsc != NULL ? NKHSM_DRIVER_PCSC : NKHSM_DRIVER_PKCS11;
}

void
nk_pc_set_watch(nkhsm_ctx_t *ctx)
{
	if (ctx->pcsc != NULL && ctx->pcsc->pc != NULL) {
		ctx->pcsc->pc->watch = ctx->watch;
		ctx->pcsc->pc->watch_arg = ctx->watch_arg;
	}
}

unsigned long
nkhsm_ctx_apdus(const nkhsm_ctx_t *ctx)
{
	return ctx->pcsc != NULL && ctx->pcsc->pc != NULL ?
	    ctx->pcsc->pc->apdus : 0;
}

size_t
nkhsm_ctx_other_cards(const nkhsm_ctx_t *ctx)
{
	return ctx->pcsc != NULL ? ctx->pcsc->others : 0;
}

int
nkhsm_ctx_set_hints(nkhsm_ctx_t *ctx, const char *path)
{
	char *p = NULL;

	if (ctx == NULL)
		return NKHSM_ERR_INVALID_ARGUMENT;
	if (ctx->pcsc == NULL)
		return 0;	/* PKCS#11 needs none */
	if (path != NULL && (path[0] != '/' || (p = strdup(path)) == NULL))
		return path[0] != '/' ? NKHSM_ERR_INVALID_ARGUMENT :
		    NKHSM_ERR_NOMEM;
	free(ctx->pcsc->hintpath);
	ctx->pcsc->hintpath = p;
	ctx->pcsc->hints_loaded = 0;
	return 0;
}

/* Tokens. */

const char *
nkhsm_token_reader(const nkhsm_token_t *tok)
{
	return tok->pc != NULL ? tok->pc->reader : NULL;
}

/* The flags PKCS#11 would give for this many tries left. */
static void
set_tries(nkhsm_token_t *tok, int tries)
{
	tok->tries = tries;
	tok->flags &= ~(CK_FLAGS)(CKF_USER_PIN_LOCKED | CKF_USER_PIN_FINAL_TRY |
	    CKF_USER_PIN_COUNT_LOW);
	if (tries == 0)
		tok->flags |= CKF_USER_PIN_LOCKED;
	else if (tries == 1)
		tok->flags |= CKF_USER_PIN_FINAL_TRY;
	else if (tries == 2)
		tok->flags |= CKF_USER_PIN_COUNT_LOW;	/* of the usual 3 */
}

void
nk_pc_token_release(nkhsm_token_t *tok)
{
	struct nk_pcsc_tok *pt = tok->pc;

	/* Unsure whether the card is logged out: reset it to be sure. */
	nk_card_close(&pt->card, pt->maybe_auth);
	nk_freezero(pt, sizeof(*pt));
	tok->pc = NULL;
}

/* The card's name and serial: SELECT, PIN status, device certificate. */
static int
card_identity(struct nk_card *c, nkhsm_token_t *tok, char *serial)
{
	struct nk_sc_fci fci;
	uint8_t *buf = NULL;
	size_t len;
	int tries, r;

	if ((buf = malloc(NK_SC_FILE_MAX)) == NULL)
		return NKHSM_ERR_NOMEM;
	if ((r = nk_sc_select(c, &fci)) != 0 ||
	    (r = nk_sc_pin_status(c, &tries)) != 0 ||
	    (r = nk_sc_read(c, NK_SC_EF_DEVAUT, buf, NK_SC_FILE_MAX, &len)) != 0 ||
	    (r = nk_sc_devcert_serial(buf, len, serial)) != 0)
		goto out;
	set_tries(tok, tries);
	r = 0;
 out:
	free(buf);
	return r == NKHSM_ERR_NO_KEY ? NKHSM_ERR_FORMAT : r;
}

static const struct nk_hint *
hint_by_serial(const struct nk_hints *hs, const char *serial)
{
	size_t i;

	for (i = 0; i < hs->n; i++)
		if (strcmp(hs->h[i].serial, serial) == 0)
			return &hs->h[i];
	return NULL;
}

static void load_hints(struct nk_pcsc_ctx *pcx);

/*
 * Label and manufacturer: remembered for this serial, unless the URI
 * selects by them (then always read); else EF.TokenInfo.
 */
static int
card_names(nkhsm_ctx_t *ctx, const nkhsm_uri_t *uri, nkhsm_token_t *tok)
{
	struct nk_pcsc_tok *pt = tok->pc;
	const struct nk_hint *h;
	uint8_t *buf = NULL;
	size_t len;
	int r;

	load_hints(ctx->pcsc);
	if ((uri == NULL || (nkhsm_uri_token(uri) == NULL &&
	    nkhsm_uri_manufacturer(uri) == NULL)) &&
	    (h = hint_by_serial(&ctx->pcsc->hints, tok->serial)) != NULL) {
		strcpy(pt->rawlabel, h->label);
		strcpy(pt->rawmanuf, h->manufacturer);
		return 0;
	}
	if ((buf = malloc(NK_SC_FILE_MAX)) == NULL)
		return NKHSM_ERR_NOMEM;
	r = nk_sc_read(pt->card, NK_SC_EF_TOKENINFO, buf, NK_SC_FILE_MAX, &len);
	if (r == 0)
		r = nk_sc_tokeninfo_parse(buf, len, pt->rawlabel, pt->rawmanuf);
	else if (r == NKHSM_ERR_NO_KEY)
		r = 0;	/* no TokenInfo: the defaults, as OpenSC */
	free(buf);
	return r;
}

static int
token_strings(nkhsm_token_t *tok)
{
	struct nk_pcsc_tok *pt = tok->pc;
	const char *l = pt->rawlabel[0] != '\0' ? pt->rawlabel :
	    NK_SC_DEFAULT_LABEL;

	free(tok->label);
	free(tok->manufacturer);
	tok->label = tok->manufacturer = NULL;
	if (asprintf(&tok->label, "%s%s", l, LABEL_SUFFIX) == -1) {
		tok->label = NULL;
		return NKHSM_ERR_NOMEM;
	}
	if ((tok->manufacturer = strdup(pt->rawmanuf[0] != '\0' ?
	    pt->rawmanuf : NK_SC_DEFAULT_MANUFACTURER)) == NULL)
		return NKHSM_ERR_NOMEM;
	return 0;
}

/* Connect to the card in a reader and read what names it. */
static int
open_token(nkhsm_ctx_t *ctx, const nkhsm_reader_t *rd, size_t index,
    const nkhsm_uri_t *uri, nkhsm_token_t **tokp)
{
	char serial[NK_SC_SERIAL_MAX + 1];
	nkhsm_token_t *tok = NULL;
	int r = NKHSM_ERR_NOMEM;

	*tokp = NULL;
	if ((tok = calloc(1, sizeof(*tok))) == NULL ||
	    (tok->pc = calloc(1, sizeof(*tok->pc))) == NULL)
		goto out;
	tok->ctx = ctx;
	tok->slot = index;
	tok->tries = -1;
	tok->minpin = PIN_MIN;
	tok->maxpin = PIN_MAX;
	tok->flags = CKF_TOKEN_INITIALIZED | CKF_LOGIN_REQUIRED |
	    CKF_USER_PIN_INITIALIZED;
	memcpy(tok->pc->reader, rd->name, sizeof(tok->pc->reader));
	if ((r = nk_card_open(ctx->pcsc->pc, rd->name, &tok->pc->card)) != 0 ||
	    (r = card_identity(tok->pc->card, tok, serial)) != 0)
		goto out;
	r = NKHSM_ERR_NOMEM;
	if ((tok->serial = strdup(serial)) == NULL ||
	    (tok->model = strdup(MODEL)) == NULL)
		goto out;
	if ((r = card_names(ctx, uri, tok)) != 0 ||
	    (r = token_strings(tok)) != 0)
		goto out;
	tok->nitrokey = (rd->state & NKHSM_READER_NITROKEY) != 0 ||
	    nk_serial_is_nitrokey(tok->serial);
	*tokp = tok;
	tok = NULL;
	r = 0;
 out:
	nkhsm_token_free(&tok);
	return r;
}

int
nk_pc_token_next(nkhsm_ctx_t *ctx, const nkhsm_uri_t *uri, size_t *cursor,
    nkhsm_token_t **tokp)
{
	struct nk_pcsc_ctx *pcx = ctx->pcsc;
	const nkhsm_reader_t *rd;
	nkhsm_token_t *tok = NULL;
	size_t i;
	int r;

	if (*cursor == 0) {
		free(pcx->readers);
		pcx->readers = NULL;
		pcx->nreaders = pcx->others = 0;
		if ((r = nk_pcsc_readers(pcx->pc, &pcx->readers,
		    &pcx->nreaders)) != 0)
			return r;
	}
	while (*cursor < pcx->nreaders) {
		i = (*cursor)++;
		rd = &pcx->readers[i];
		if (!(rd->state & NKHSM_READER_PRESENT) ||
		    (rd->state & NKHSM_READER_MUTE))
			continue;
		if (!(rd->state & NKHSM_READER_SCHSM) &&
		    !(pcx->flags & NKHSM_PCSC_ANY_CARD)) {
			pcx->others++;	/* another kind of card */
			continue;
		}
		r = open_token(ctx, rd, i, uri, &tok);
		if (r == NKHSM_ERR_NOMEM)
			return r;
		if (r == NKHSM_ERR_DEVICE_REMOVED)
			continue;	/* pulled just now */
		if (r != 0) {
			pcx->others++;	/* not what this path expects */
			continue;
		}
		if (!nk_token_matches(tok, uri)) {
			nkhsm_token_free(&tok);
			continue;
		}
		*tokp = tok;
		return 0;
	}
	return NKHSM_ERR_NO_TOKEN;
}

int
nk_pc_token_refresh(nkhsm_token_t *tok)
{
	int tries, r;

	if (tok->pc->card == NULL)
		return NKHSM_ERR_DEVICE_REMOVED;
	if ((r = nk_sc_pin_status(tok->pc->card, &tries)) != 0)
		return r;
	set_tries(tok, tries);
	return 0;
}

int
nk_pc_login(nkhsm_token_t *tok, const char *pin, size_t pinlen)
{
	int tries, r;

	if (pin == NULL)
		return NKHSM_ERR_INVALID_ARGUMENT;	/* no PIN pad here */
	if (pinlen < tok->minpin || pinlen > tok->maxpin)
		return NKHSM_ERR_PIN_LEN;
	if (tok->pc->card == NULL)
		return NKHSM_ERR_DEVICE_REMOVED;
	tok->pc->maybe_auth = 1;
	r = nk_sc_verify(tok->pc->card, pin, pinlen, &tries);
	if (r == 0) {
		tok->logged_in = 1;
		set_tries(tok, -1);	/* back to the maximum, unknown */
		return 0;
	}
	if (r == NKHSM_ERR_PIN_INCORRECT || r == NKHSM_ERR_PIN_LOCKED) {
		set_tries(tok, tries);
		tok->pc->maybe_auth = 0;	/* the card said no */
	}
	return r;
}

int
nk_pc_logout(nkhsm_token_t *tok)
{
	struct nk_sc_fci fci;
	int r;

	tok->logged_in = 0;
	if (tok->pc->card == NULL)
		return NKHSM_ERR_DEVICE_REMOVED;
	/* Selecting the applet again clears its authentication state. */
	if ((r = nk_sc_select(tok->pc->card, &fci)) != 0)
		return r;
	tok->pc->maybe_auth = 0;
	return 0;
}

int
nk_pc_set_pin(nkhsm_token_t *tok, const char *oldpin, size_t oldlen,
    const char *newpin, size_t newlen)
{
	int tries, r, lr;

	if (newlen < tok->minpin || newlen > tok->maxpin ||
	    oldlen > NKHSM_PIN_MAX)
		return NKHSM_ERR_PIN_LEN;
	if (tok->pc->card == NULL)
		return NKHSM_ERR_DEVICE_REMOVED;
	tok->pc->maybe_auth = 1;
	r = nk_sc_change_pin(tok->pc->card, oldpin, oldlen, newpin, newlen,
	    &tries);
	if (r == NKHSM_ERR_PIN_INCORRECT || r == NKHSM_ERR_PIN_LOCKED)
		set_tries(tok, tries);
	/* The old PIN verified the card in passing: log it out. */
	lr = nk_pc_logout(tok);
	return r != 0 ? r : lr;
}

/* Card hints. */

/* The file as it is, or no hints: a hint file that is not safe is not used. */
static void
load_hints(struct nk_pcsc_ctx *pcx)
{
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	int fd;

	if (pcx->hints_loaded)
		return;
	pcx->hints_loaded = 1;
	memset(&pcx->hints, 0, sizeof(pcx->hints));
	if (pcx->hintpath == NULL ||
	    (fd = open(pcx->hintpath, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) == -1)
		return;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
	    st.st_uid == geteuid() && (st.st_mode & 077) == 0 &&
	    nk_fd_read_all(fd, pcx->hintpath, NK_HINTS_SIZE_MAX, &text, &len,
	    NULL, 0) == 0)
		(void)nk_hints_parse(text, len, &pcx->hints);
	close(fd);
	free(text);
}

/* The directory: created 0700 if missing; ours, and no one else may write. */
static int
hint_dir(const char *path, char *dir, size_t dirlen)
{
	struct stat st;
	const char *slash = strrchr(path, '/');

	if (slash == NULL || slash == path || (size_t)(slash - path) >= dirlen)
		return NKHSM_ERR_INVALID_ARGUMENT;
	memcpy(dir, path, (size_t)(slash - path));
	dir[slash - path] = '\0';
	if (mkdir(dir, 0700) == -1 && errno != EEXIST)
		return NKHSM_ERR_IO;
	if (lstat(dir, &st) == -1 || !S_ISDIR(st.st_mode) ||
	    st.st_uid != geteuid() || (st.st_mode & 022) != 0)
		return NKHSM_ERR_PERMISSION;
	return 0;
}

/* Write the hints: a new file renamed over the old one. */
static int
save_hints(struct nk_pcsc_ctx *pcx)
{
	char dir[512], tmp[560], *text = NULL;
	size_t len = 0;
	int fd = -1, r;

	if (pcx->hintpath == NULL)
		return 0;
	if ((r = hint_dir(pcx->hintpath, dir, sizeof(dir))) != 0 ||
	    (r = nk_hints_format(&pcx->hints, &text, &len)) != 0)
		goto out;
	r = NKHSM_ERR_IO;
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.%ld.tmp", pcx->hintpath,
	    (long)getpid()) >= sizeof(tmp) ||
	    (fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
	    O_CLOEXEC, 0600)) == -1)
		goto out;
	if (write(fd, text, len) != (ssize_t)len || close(fd) == -1) {
		fd = -1;
		(void)unlink(tmp);
		goto out;
	}
	fd = -1;
	if (rename(tmp, pcx->hintpath) == -1) {
		(void)unlink(tmp);
		goto out;
	}
	r = 0;
 out:
	if (fd != -1)
		close(fd);
	free(text);
	return r;
}

/* Keys. */

static int
point_hash(const nkhsm_point_t *pt, uint8_t out[32])
{
	uint8_t buf[1 + NKHSM_POINT_MAX];
	size_t len = 32;

	buf[0] = (uint8_t)pt->curve;
	memcpy(buf + 1, pt->pt, pt->len);
	return nk_sha2(256, buf, 1 + pt->len, out, &len);
}

/* The point in key file CE ref: NKHSM_ERR_NO_KEY when it has none we read. */
static int
read_point(struct nk_card *c, uint8_t ref, uint8_t *buf, nkhsm_point_t *pt,
    enum nk_sc_pkfile *kindp, size_t *lenp)
{
	size_t len;
	int r;

	*lenp = 0;
	if ((r = nk_sc_read(c, (uint16_t)(NK_SC_CERT_PREFIX << 8 | ref), buf,
	    NK_SC_FILE_MAX, &len)) != 0)
		return r;
	r = nk_sc_pubkey_parse(buf, len, pt, kindp);
	if (r == NKHSM_ERR_FORMAT || r == NKHSM_ERR_UNSUPPORTED)
		return NKHSM_ERR_NO_KEY;	/* RSA, other curves, junk */
	*lenp = len;
	return r;
}

static int
same_point(const nkhsm_point_t *a, const nkhsm_point_t *b)
{
	return a->curve == b->curve && a->len == b->len &&
	    memcmp(a->pt, b->pt, a->len) == 0;
}

static int
new_key(nkhsm_token_t *tok, uint8_t ref, const nkhsm_point_t *pt,
    nkhsm_key_t **keyp)
{
	nkhsm_key_t *key;

	*keyp = NULL;
	if ((key = calloc(1, sizeof(*key))) == NULL ||
	    (key->label = strdup("")) == NULL) {
		free(key);
		return NKHSM_ERR_NOMEM;
	}
	key->tok = tok;
	key->ref = ref;
	key->id[0] = ref;
	key->idlen = 1;
	key->curve = pt->curve;
	key->point = *pt;
	key->have_point = 1;
	key->have_priv = 1;
	*keyp = key;
	return 0;
}

/* Remember where the key was, and the card's names. */
static void
remember(nkhsm_token_t *tok, const uint8_t pth[32], uint8_t ref)
{
	struct nk_pcsc_ctx *pcx = tok->ctx->pcsc;
	const struct nk_hint *old = nk_hints_get(&pcx->hints, pth);
	struct nk_hint h;

	if (old != NULL && old->ref == ref &&
	    strcmp(old->serial, tok->serial) == 0 &&
	    strcmp(old->label, tok->pc->rawlabel) == 0 &&
	    strcmp(old->manufacturer, tok->pc->rawmanuf) == 0 &&
	    old == &pcx->hints.h[0])
		return;	/* nothing new */
	memset(&h, 0, sizeof(h));
	memcpy(h.pthash, pth, sizeof(h.pthash));
	h.ref = ref;
	strcpy(h.serial, tok->serial);
	strcpy(h.label, tok->pc->rawlabel);
	strcpy(h.manufacturer, tok->pc->rawmanuf);
	nk_hints_put(&pcx->hints, &h);
	(void)save_hints(pcx);	/* only a hint: a failure costs a scan */
}

/*
 * Hinted key references first, each confirmed by its public key file; then
 * every key on the card. read[] marks the files read already.
 */
static int
find_hinted(nkhsm_token_t *tok, const nkhsm_point_t *pts, size_t n,
    uint8_t (*pth)[32], uint8_t *buf, uint8_t *read, size_t *indexp,
    uint8_t *refp, nkhsm_point_t *found)
{
	struct nk_pcsc_ctx *pcx = tok->ctx->pcsc;
	const struct nk_hint *h;
	enum nk_sc_pkfile kind;
	size_t i, len;
	int r;

	for (i = 0; i < n; i++) {
		if (pts[i].curve == NKHSM_CURVE_NONE ||
		    (h = nk_hints_get(&pcx->hints, pth[i])) == NULL ||
		    strcmp(h->serial, tok->serial) != 0 || read[h->ref])
			continue;
		read[h->ref] = 1;
		r = read_point(tok->pc->card, h->ref, buf, found, &kind, &len);
		if (r == 0 && same_point(found, &pts[i])) {
			*indexp = i;
			*refp = h->ref;
			return 0;
		}
		if (r != 0 && r != NKHSM_ERR_NO_KEY)
			return r;
		/* The card changed since: the hint is wrong, forget it. */
		nk_hints_drop(&pcx->hints, pth[i]);
		(void)save_hints(pcx);
	}
	return NKHSM_ERR_NO_KEY;
}

static int
find_scan(nkhsm_token_t *tok, const nkhsm_point_t *pts, size_t n,
    uint8_t *buf, uint8_t *read, size_t *indexp, uint8_t *refp,
    nkhsm_point_t *found)
{
	uint8_t refs[NK_SC_KEYS_MAX];
	enum nk_sc_pkfile kind;
	size_t nrefs, i, j, len;
	int r;

	if ((r = nk_sc_list_keys(tok->pc->card, refs, &nrefs)) != 0)
		return r;
	for (j = 0; j < nrefs; j++) {
		if (read[refs[j]])
			continue;
		read[refs[j]] = 1;
		r = read_point(tok->pc->card, refs[j], buf, found, &kind, &len);
		if (r == NKHSM_ERR_NO_KEY)
			continue;
		if (r != 0)
			return r;
		for (i = 0; i < n; i++) {
			if (pts[i].curve != NKHSM_CURVE_NONE &&
			    same_point(found, &pts[i])) {
				*indexp = i;
				*refp = refs[j];
				return 0;
			}
		}
	}
	return NKHSM_ERR_NO_KEY;
}

int
nk_pc_find_any(nkhsm_token_t *tok, const nkhsm_point_t *pts, size_t n,
    nkhsm_key_t **keyp, size_t *indexp)
{
	uint8_t (*pth)[32] = NULL, *buf = NULL, read[256], ref = 0;
	nkhsm_point_t found;
	size_t i, idx = 0;
	int r = NKHSM_ERR_NOMEM;

	*keyp = NULL;
	if (indexp != NULL)
		*indexp = 0;
	if (tok->pc->card == NULL)
		return NKHSM_ERR_DEVICE_REMOVED;
	if (n == 0)
		return NKHSM_ERR_NO_KEY;
	if ((pth = calloc(n, sizeof(*pth))) == NULL ||
	    (buf = malloc(NK_SC_FILE_MAX)) == NULL)
		goto out;
	for (i = 0; i < n; i++)
		if (pts[i].curve != NKHSM_CURVE_NONE &&
		    (r = point_hash(&pts[i], pth[i])) != 0)
			goto out;
	memset(read, 0, sizeof(read));
	load_hints(tok->ctx->pcsc);
	r = find_hinted(tok, pts, n, pth, buf, read, &idx, &ref, &found);
	if (r == NKHSM_ERR_NO_KEY)
		r = find_scan(tok, pts, n, buf, read, &idx, &ref, &found);
	if (r != 0)
		goto out;
	if ((r = new_key(tok, ref, &found, keyp)) != 0)
		goto out;
	remember(tok, pth[idx], ref);
	if (indexp != NULL)
		*indexp = idx;
 out:
	free(buf);
	free(pth);
	return r;
}

/* Every X.509 certificate stored for a key (ca= logins). */
int
nk_pc_cert_list(nkhsm_token_t *tok, nkhsm_key_t ***listp, size_t *np)
{
	uint8_t refs[NK_SC_KEYS_MAX], *buf = NULL;
	nkhsm_key_t **list = NULL, *key;
	enum nk_sc_pkfile kind;
	nkhsm_point_t pt;
	size_t nrefs, j, n = 0, len;
	int r;

	*listp = NULL;
	*np = 0;
	if (tok->pc->card == NULL)
		return NKHSM_ERR_DEVICE_REMOVED;
	if ((r = nk_sc_list_keys(tok->pc->card, refs, &nrefs)) != 0)
		return r;
	r = NKHSM_ERR_NOMEM;
	if ((buf = malloc(NK_SC_FILE_MAX)) == NULL ||
	    (list = calloc(nrefs + 1, sizeof(*list))) == NULL)
		goto out;
	for (j = 0; j < nrefs; j++) {
		r = read_point(tok->pc->card, refs[j], buf, &pt, &kind, &len);
		if (r == NKHSM_ERR_NO_KEY || (r == 0 && kind != NK_SC_PK_X509))
			continue;
		if (r != 0 || (r = new_key(tok, refs[j], &pt, &key)) != 0)
			goto out;
		list[n++] = key;
		if ((key->cert = nk_memdup(buf, len)) == NULL) {
			r = NKHSM_ERR_NOMEM;
			goto out;
		}
		key->certlen = len;
	}
	*listp = list;
	*np = n;
	list = NULL;
	r = 0;
 out:
	nkhsm_key_list_free(&list, n);
	free(buf);
	return r;
}

int
nk_pc_sign_digest(nkhsm_key_t *key, const uint8_t *dgst, size_t dlen,
    uint8_t **sigp, size_t *siglenp)
{
	uint8_t raw[2 * NK_MAX_FIELD], *sig;
	size_t rawlen;
	int r;

	if (key->tok->pc->card == NULL)
		return NKHSM_ERR_DEVICE_REMOVED;
	if ((r = nk_sc_sign(key->tok->pc->card, key->ref, key->curve, dgst,
	    dlen, raw, &rawlen)) != 0)
		return r;
	if ((sig = nk_memdup(raw, rawlen)) == NULL)
		return NKHSM_ERR_NOMEM;
	*sigp = sig;
	*siglenp = rawlen;
	return 0;
}

/* Readers. */

int
nkhsm_readers(nkhsm_ctx_t *ctx, nkhsm_reader_t **listp, size_t *np)
{
	*listp = NULL;
	*np = 0;
	if (ctx == NULL || ctx->pcsc == NULL)
		return NKHSM_ERR_INVALID_ARGUMENT;
	return nk_pcsc_readers(ctx->pcsc->pc, listp, np);
}

int
nkhsm_readers_wait(nkhsm_ctx_t *ctx, const nkhsm_reader_t *known, size_t n,
    int timeout_ms, nkhsm_reader_t **listp, size_t *np)
{
	int r;

	*listp = NULL;
	*np = 0;
	if (ctx == NULL || ctx->pcsc == NULL || (known == NULL && n > 0))
		return NKHSM_ERR_INVALID_ARGUMENT;
	if ((r = nk_pcsc_wait(ctx->pcsc->pc, known, n, timeout_ms)) != 0)
		return r;
	return nk_pcsc_readers(ctx->pcsc->pc, listp, np);
}

int
nkhsm_readers_cancel(nkhsm_ctx_t *ctx)
{
	if (ctx == NULL || ctx->pcsc == NULL)
		return NKHSM_ERR_INVALID_ARGUMENT;
	return nk_scard_err(ctx->pcsc->pc->ops->cancel(ctx->pcsc->pc->ctx));
}

int
nkhsm_reader_serial(nkhsm_ctx_t *ctx, const char *reader, char **serialp)
{
	char serial[NK_SC_SERIAL_MAX + 1];
	struct nk_card *c = NULL;
	struct nk_sc_fci fci;
	uint8_t *buf = NULL;
	size_t len;
	int r;

	*serialp = NULL;
	if (ctx == NULL || ctx->pcsc == NULL || reader == NULL)
		return NKHSM_ERR_INVALID_ARGUMENT;
	if ((buf = malloc(NK_SC_FILE_MAX)) == NULL)
		return NKHSM_ERR_NOMEM;
	if ((r = nk_card_open(ctx->pcsc->pc, reader, &c)) != 0) {
		if (r == NKHSM_ERR_DEVICE_REMOVED)
			r = NKHSM_ERR_NO_TOKEN;	/* no card there */
		goto out;
	}
	if ((r = nk_sc_select(c, &fci)) != 0 ||
	    (r = nk_sc_read(c, NK_SC_EF_DEVAUT, buf, NK_SC_FILE_MAX, &len)) != 0 ||
	    (r = nk_sc_devcert_serial(buf, len, serial)) != 0) {
		if (r != NKHSM_ERR_DEVICE_REMOVED && r != NKHSM_ERR_NOMEM)
			r = NKHSM_ERR_NO_TOKEN;	/* not a SmartCard-HSM */
		goto out;
	}
	if ((*serialp = strdup(serial)) == NULL)
		r = NKHSM_ERR_NOMEM;
 out:
	nk_card_close(&c, 0);
	free(buf);
	return r;
}
