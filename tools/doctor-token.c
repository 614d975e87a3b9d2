/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * doctor-token.c - nkhsm-tool doctor's token side, run in a child under
 * a deadline (doctor.c): pcscd, each reader and its card (by ATR, then
 * by asking a SmartCard-HSM its serial and PIN status: the exact tries
 * left), the PKCS#11 module and the tokens it sees with their PIN state,
 * and whether one of them holds a key the user authorized.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/stat.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nkhsm.h"
#include "cli.h"
#include "doctor-int.h"

#define FIX_UNBLOCK	"unblock it with the SO PIN: pkcs11-tool --module " \
			"opensc-pkcs11.so --login --login-type so --init-pin"

/* What the PC/SC walk learned of each SmartCard-HSM, for the PIN check. */
struct pctok {
	char	serial[64];
	char	label[80];
	char	reader[NKHSM_READER_NAME_MAX];
	int	tries;
	int	nitrokey;
	int	matched;	/* the module saw it too */
};

struct pcside {
	struct pctok	t[PCTOK_MAX];
	size_t		n;
	int		unknown;	/* a card that is not one */
	int		held;		/* a card another program holds alone */
};

#define HELD_FIX	"close that program; GnuPG's scdaemon often is one " \
			"(gpgconf --kill scdaemon)"

static void
atr_hex(const nkhsm_reader_t *r, char *out, size_t len)
{
	size_t i, o = 0;

	out[0] = '\0';
	for (i = 0; i < r->atrlen && o + 3 <= len; i++)
		o += (size_t)snprintf(out + o, len - o, "%02X", r->atr[i]);
}

static void
reader_check(struct dr *d, const nkhsm_reader_t *r, struct pcside *pc)
{
	char nm[NKHSM_READER_NAME_MAX + 8], atr[2 * NKHSM_ATR_MAX + 1];
	char lb[96];
	size_t i;

	dr_esc(r->name, nm, sizeof(nm));
	if (r->state & NKHSM_READER_UNAVAILABLE) {
		dr_add(d, "reader", DR_FAIL, NULL, "unplug it and plug it in "
		    "again; see pcscd's log", "%s: the reader is not usable",
		    nm);
		return;
	}
	if ((r->state & NKHSM_READER_PRESENT) == 0) {
		dr_add(d, "reader", DR_OK, NULL, NULL, "%s: no card", nm);
		return;
	}
	if (r->state & NKHSM_READER_MUTE) {
		dr_add(d, "reader", DR_FAIL, NULL, "take the card out and put "
		    "it back; one that stays mute is broken", "%s: the card "
		    "does not answer reset", nm);
		return;
	}
	if (r->state & NKHSM_READER_EXCLUSIVE) {
		/* Nobody else can ask it anything: say no more about it. */
		pc->held = 1;
		dr_add(d, "reader", DR_WARN, NULL, HELD_FIX, "%s: another "
		    "program holds the card for itself", nm);
		return;
	}
	if ((r->state & NKHSM_READER_SCHSM) == 0) {
		pc->unknown = 1;
		atr_hex(r, atr, sizeof(atr));
		dr_add(d, "reader", DR_WARN, NULL, "nkhsm needs a "
		    "SmartCard-HSM (the card of a Nitrokey HSM); other cards "
		    "work only through their own PKCS#11 module", "%s: a card "
		    "that is not a SmartCard-HSM (ATR %s)", nm, atr);
		return;
	}
	for (i = 0; i < pc->n; i++) {
		if (strcmp(pc->t[i].reader, r->name) != 0)
			continue;
		dr_add(d, "reader", DR_OK, NULL, NULL, "%s: %s '%s', serial "
		    "%s", nm, pc->t[i].nitrokey ? "Nitrokey HSM" :
		    "SmartCard-HSM", dr_esc(pc->t[i].label, lb, sizeof(lb)),
		    pc->t[i].serial);
		return;
	}
	dr_add(d, "reader", DR_FAIL, NULL, "a new card must be initialized "
	    "once; this ERASES it: sc-hsm-tool --initialize --so-pin SOPIN "
	    "--pin PIN", "%s: a SmartCard-HSM that does not answer as an "
	    "initialized one", nm);
}

/* Every SmartCard-HSM: serial, label and the exact PIN tries left. */
static void
walk_cards(nkhsm_ctx_t *ctx, struct pcside *pc)
{
	nkhsm_token_t *tok = NULL;
	struct pctok *t;
	size_t cursor = 0;

	while (pc->n < PCTOK_MAX &&
	    nkhsm_token_next(ctx, NULL, &cursor, &tok) == 0) {
		t = &pc->t[pc->n++];
		memset(t, 0, sizeof(*t));
		snprintf(t->serial, sizeof(t->serial), "%s",
		    nkhsm_token_serial(tok));
		snprintf(t->label, sizeof(t->label), "%s",
		    nkhsm_token_label(tok));
		snprintf(t->reader, sizeof(t->reader), "%s",
		    nkhsm_token_reader(tok) != NULL ? nkhsm_token_reader(tok) :
		    "");
		t->tries = nkhsm_token_pin_tries(tok);
		t->nitrokey = (nkhsm_token_flags(tok) &
		    NKHSM_TOKEN_NITROKEY) != 0;
		nkhsm_token_free(&tok);
	}
}

static void
pcsc_side(struct dr *d, struct pcside *pc)
{
	nkhsm_ctx_t *ctx = NULL;
	nkhsm_reader_t *l = NULL;
	size_t n = 0, i;
	int r;

	if ((r = nkhsm_ctx_open_pcsc(0, &ctx)) != 0) {
		dr_add(d, "pcscd", DR_FAIL, NULL, "install and start it: "
		    "apt-get install pcscd; systemctl enable --now "
		    "pcscd.socket",
		    "pcscd is not reachable%s", r == NKHSM_ERR_PCSC ? "" :
		    ": cannot ask it");
		return;
	}
	dr_add(d, "pcscd", DR_OK, NULL, NULL, "pcscd answers");
	if ((r = nkhsm_readers(ctx, &l, &n)) != 0 || n == 0) {
		dr_add(d, "readers", DR_FAIL, NULL, "plug in the Nitrokey HSM "
		    "(lsusb lists 20a0:4230); pcscd needs its CCID driver: "
		    "apt-get install libccid", r != 0 ? "cannot list the "
		    "readers: %s" : "no smart card reader%s", r != 0 ?
		    nkhsm_strerror(r) : "");
		goto out;
	}
	dr_add(d, "readers", DR_OK, NULL, NULL, "%zu reader%s", n,
	    n == 1 ? "" : "s");
	walk_cards(ctx, pc);
	for (i = 0; i < n; i++)
		reader_check(d, &l[i], pc);
	if (pc->n > 0)
		dr_add(d, "card", DR_OK, NULL, NULL, "%zu SmartCard-HSM%s in "
		    "the readers", pc->n, pc->n == 1 ? "" : "s");
	else
		dr_add(d, "card", DR_FAIL, NULL, pc->held ? HELD_FIX :
		    pc->unknown ? "use the Nitrokey HSM (or another "
		    "SmartCard-HSM)" : "insert the card, or plug in the "
		    "Nitrokey HSM", "no SmartCard-HSM in any reader%s",
		    pc->held ? " that another program does not hold" :
		    pc->unknown ? " (only other cards)" : "");
 out:
	free(l);
	nkhsm_ctx_free(&ctx);
}

/* The PIN state: exactly where the card says it, else what flags say. */
static void
pin_check(struct dr *d, const char *label, const char *serial,
    unsigned int fl, int tries)
{
	char lb[96], who[256];

	snprintf(who, sizeof(who), "token '%s' (serial %s)",
	    dr_esc(label, lb, sizeof(lb)), serial);
	if (tries == 0 || (tries < 0 && (fl & NKHSM_TOKEN_PIN_LOCKED)))
		dr_add(d, "pin", DR_FAIL, NULL, FIX_UNBLOCK, "%s: the user PIN "
		    "is locked", who);
	else if (tries == 1 || (tries < 0 && (fl & NKHSM_TOKEN_PIN_FINAL_TRY)))
		dr_add(d, "pin", DR_WARN, NULL, "type it with care, or reset "
		    "the count with the SO PIN first", "%s: 1 PIN try left "
		    "before the PIN locks", who);
	else if (tries == 2)
		dr_add(d, "pin", DR_WARN, NULL, "a right PIN resets the count",
		    "%s: 2 PIN tries left (a wrong PIN was typed)", who);
	else if (tries < 0 && (fl & NKHSM_TOKEN_PIN_COUNT_LOW))
		dr_add(d, "pin", DR_WARN, NULL, "a right PIN resets the count",
		    "%s: fewer PIN tries left than the maximum", who);
	else if (tries > 0)
		dr_add(d, "pin", DR_OK, NULL, NULL, "%s: %d PIN tries left",
		    who, tries);
	else
		dr_add(d, "pin", DR_OK, NULL, NULL, "%s: the PIN is not locked "
		    "(the token does not say how many tries are left)", who);
}

/* Is one of the user's authorized keys on a token the module sees? */
static void
keys_check(struct dr *d, nkhsm_token_t **list, size_t n)
{
	char lb[96], fix[FIX_MAX];
	nkhsm_key_t *key = NULL;
	const uint8_t *id;
	size_t i, idx, idlen, found = 0, k;
	char hex[2 * NKHSM_ID_MAX + 1];

	if (d->o->user == NULL || d->npts == 0)
		return;
	for (i = 0; i < n; i++) {
		if (nkhsm_key_find_any(list[i], d->pts, d->npts, &key,
		    &idx) != 0)
			continue;
		id = nkhsm_key_id(key, &idlen);
		for (k = 0; k < idlen && k < NKHSM_ID_MAX; k++)
			snprintf(hex + 2 * k, 3, "%02x", id[k]);
		hex[2 * k] = '\0';
		dr_add(d, "keys", DR_OK, d->authfile, NULL, "the key on line "
		    "%u of %s is on token '%s' (id %s)", d->lines[idx],
		    d->authfile, dr_esc(nkhsm_token_label(list[i]), lb,
		    sizeof(lb)), hex);
		nkhsm_key_free(&key);
		found++;
	}
	if (found > 0)
		return;
	dr_fix_addkey(d->o->user, d->authfile, fix, sizeof(fix));
	dr_add(d, "keys", DR_FAIL, d->authfile, fix, "none of the %zu key%s "
	    "authorized for %s is on a token the module sees", d->npts,
	    d->npts == 1 ? "" : "s", d->o->user);
}

static void
token_list(struct dr *d, nkhsm_ctx_t *ctx, struct pcside *pc)
{
	nkhsm_token_t **list = NULL;
	char lb[96], names[MSG_MAX];
	size_t n = 0, i, j, off = 0;
	int r, tries;

	if ((r = nkhsm_token_list(ctx, &list, &n)) != 0 || n == 0) {
		dr_add(d, "token", DR_FAIL, NULL, pc->n > 0 ? "pcscd has the "
		    "card but the module does not see it: check OpenSC's "
		    "configuration (opensc.conf: card_drivers, reader_driver)" :
		    pc->held ? HELD_FIX :
		    "plug in the token; a new one must be initialized first",
		    r != 0 ? "the module cannot list tokens: %s" : "the module "
		    "sees no token%s", r != 0 ? nkhsm_strerror(r) : "");
		goto out;
	}
	names[0] = '\0';
	for (i = 0; i < n && off < sizeof(names); i++)
		off += (size_t)snprintf(names + off, sizeof(names) - off,
		    "%s'%s' (serial %s)", i > 0 ? ", " : "",
		    dr_esc(nkhsm_token_label(list[i]), lb, sizeof(lb)),
		    nkhsm_token_serial(list[i]));
	dr_add(d, "token", DR_OK, NULL, NULL, "the module sees %zu token%s: %s",
	    n, n == 1 ? "" : "s", names);
	for (i = 0; i < n; i++) {
		tries = nkhsm_token_pin_tries(list[i]);
		for (j = 0; j < pc->n && tries < 0; j++) {
			if (strcmp(pc->t[j].serial,
			    nkhsm_token_serial(list[i])) != 0)
				continue;
			tries = pc->t[j].tries;
			pc->t[j].matched = 1;
		}
		pin_check(d, nkhsm_token_label(list[i]),
		    nkhsm_token_serial(list[i]), nkhsm_token_flags(list[i]),
		    tries);
	}
	keys_check(d, list, n);
 out:
	nkhsm_token_list_free(&list, n);
}

static void
module_side(struct dr *d, struct pcside *pc)
{
	nkhsm_ctx_t *ctx = NULL;
	struct stat st;
	int r;

	if (stat(d->module, &st) == -1) {
		dr_add(d, "module", DR_FAIL, d->module, "apt-get install "
		    "opensc, or name the module with module = in nkhsm.conf "
		    "or --module", "the PKCS#11 module %s: %s", d->module,
		    strerror(errno));
		return;
	}
	if ((r = nkhsm_ctx_open(d->module, &ctx)) != 0) {
		dr_add(d, "module", DR_FAIL, d->module, "is it a PKCS#11 "
		    "module for this machine's architecture? (ldd shows what "
		    "it lacks)", "%s does not load: %s", d->module,
		    nkhsm_strerror(r));
		return;
	}
	dr_add(d, "module", DR_OK, d->module, NULL, "the PKCS#11 module %s "
	    "loads", d->module);
	token_list(d, ctx, pc);
	nkhsm_ctx_free(&ctx);
}

void
dr_token_side(struct dr *d)
{
	struct pcside pc;
	size_t i;

	memset(&pc, 0, sizeof(pc));
	pcsc_side(d, &pc);
	module_side(d, &pc);
	/* A card the module did not see: its PIN, as the card says it. */
	for (i = 0; i < pc.n; i++)
		if (!pc.t[i].matched)
			pin_check(d, pc.t[i].label, pc.t[i].serial, 0,
			    pc.t[i].tries);
}
