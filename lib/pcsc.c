/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pcsc.c - PC/SC-lite: the function table (loaded on first use), contexts,
 * readers and their states, and cards held in a transaction.
 */
#include "config.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "nk-int.h"
#include "pcsc-int.h"

#define PCSCLITE_SONAME	"libpcsclite.so.1"
#define READERS_MAX	16
#define READERS_BUF	(READERS_MAX * NKHSM_READER_NAME_MAX)
#define PNP_READER	"\\\\?PnP?\\Notification"

static const struct nk_scard_ops *override;
static struct nk_scard_ops loaded;
static int load_status = 1;	/* 1: not tried, 0: loaded, < 0: failed */
static pthread_mutex_t load_lock = PTHREAD_MUTEX_INITIALIZER;

void
nk_scard_set_ops(const struct nk_scard_ops *ops)
{
	override = ops;
}

static int
load(void)
{
	static const char *const names[] = {
		"SCardEstablishContext", "SCardReleaseContext",
		"SCardListReaders", "SCardGetStatusChange", "SCardCancel",
		"SCardConnect", "SCardDisconnect", "SCardBeginTransaction",
		"SCardEndTransaction", "SCardTransmit",
	};
	void *dl, *f[sizeof(names) / sizeof(names[0])];
	size_t i;

	if ((dl = dlopen(PCSCLITE_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL)
		return NKHSM_ERR_PCSC;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if ((f[i] = dlsym(dl, names[i])) == NULL) {
			dlclose(dl);
			return NKHSM_ERR_PCSC;
		}
	}
	/* Kept loaded for the life of the process, like a PKCS#11 module. */
	*(void **)&loaded.establish = f[0];
	*(void **)&loaded.release = f[1];
	*(void **)&loaded.list_readers = f[2];
	*(void **)&loaded.get_status_change = f[3];
	*(void **)&loaded.cancel = f[4];
	*(void **)&loaded.connect = f[5];
	*(void **)&loaded.disconnect = f[6];
	*(void **)&loaded.begin = f[7];
	*(void **)&loaded.end = f[8];
	*(void **)&loaded.transmit = f[9];
	return 0;
}

int
nk_scard_ops(const struct nk_scard_ops **opsp)
{
	int r;

	*opsp = NULL;
	if (override != NULL) {
		*opsp = override;
		return 0;
	}
	pthread_mutex_lock(&load_lock);
	if (load_status == 1)
		load_status = load();
	r = load_status;
	pthread_mutex_unlock(&load_lock);
	if (r == 0)
		*opsp = &loaded;
	return r;
}

int
nk_scard_err(LONG rv)
{
	switch (rv) {
	case SCARD_S_SUCCESS:
		return 0;
	case SCARD_W_REMOVED_CARD:
	case SCARD_E_NO_SMARTCARD:
	case SCARD_W_RESET_CARD:	/* another program reset it: start over */
	case SCARD_W_UNPOWERED_CARD:
	case SCARD_W_UNRESPONSIVE_CARD:
	case SCARD_E_READER_UNAVAILABLE:
	case SCARD_E_UNKNOWN_READER:
	case SCARD_E_INVALID_HANDLE:	/* the reader went with the card */
		return NKHSM_ERR_DEVICE_REMOVED;
	case SCARD_E_TIMEOUT:
		return NKHSM_ERR_TIMEOUT;
	case SCARD_E_CANCELLED:
		return NKHSM_ERR_CANCELLED;
	case SCARD_E_NO_MEMORY:
		return NKHSM_ERR_NOMEM;
	case SCARD_E_NO_READERS_AVAILABLE:
		return NKHSM_ERR_NO_TOKEN;
	case SCARD_E_INSUFFICIENT_BUFFER:
		return NKHSM_ERR_TOO_LARGE;
	default:
		return NKHSM_ERR_PCSC;
	}
}

/* The SmartCard-HSM's ATRs, as OpenSC's sc-hsm driver knows them. */
static const uint8_t atr_std[] = {
	0x3B, 0xFE, 0x18, 0x00, 0x00, 0x81, 0x31, 0xFE, 0x45, 0x80, 0x31, 0x81,
	0x54, 0x48, 0x53, 0x4D, 0x31, 0x73, 0x80, 0x21, 0x40, 0x81, 0x07, 0xFA,
};
static const uint8_t atr_contactless[] = {
	0x3B, 0x8E, 0x80, 0x01, 0x80, 0x31, 0x81, 0x54, 0x48, 0x53, 0x4D, 0x31,
	0x73, 0x80, 0x21, 0x40, 0x81, 0x07, 0x18,
};
static const uint8_t atr_4k[] = {
	0x3B, 0xDE, 0x18, 0xFF, 0x81, 0x91, 0xFE, 0x1F, 0xC3, 0x80, 0x31, 0x81,
	0x54, 0x48, 0x53, 0x4D, 0x31, 0x73, 0x80, 0x21, 0x40, 0x81, 0x07, 0x1C,
};
static const uint8_t atr_4k_fast[] = {
	0x3B, 0xDE, 0x96, 0xFF, 0x81, 0x91, 0xFE, 0x1F, 0xC3, 0x80, 0x31, 0x81,
	0x54, 0x48, 0x53, 0x4D, 0x31, 0x73, 0x80, 0x21, 0x40, 0x81, 0x07, 0x92,
};
static const struct {
	const uint8_t	*atr;
	size_t		 len;
} schsm_atrs[] = {
	{ atr_std, sizeof(atr_std) },
	{ atr_contactless, sizeof(atr_contactless) },
	{ atr_4k, sizeof(atr_4k) },
	{ atr_4k_fast, sizeof(atr_4k_fast) },
};

int
nkhsm_atr_is_schsm(const uint8_t *atr, size_t len)
{
	size_t i;

	for (i = 0; atr != NULL && i < sizeof(schsm_atrs) /
	    sizeof(schsm_atrs[0]); i++)
		if (len == schsm_atrs[i].len &&
		    memcmp(atr, schsm_atrs[i].atr, len) == 0)
			return 1;
	return 0;
}

int
nk_pcsc_open(struct nk_pcsc **pcp)
{
	struct nk_pcsc *pc;
	LONG rv;
	int r;

	*pcp = NULL;
	if ((pc = calloc(1, sizeof(*pc))) == NULL)
		return NKHSM_ERR_NOMEM;
	if ((r = nk_scard_ops(&pc->ops)) != 0) {
		free(pc);
		return r;
	}
	if ((rv = pc->ops->establish(SCARD_SCOPE_SYSTEM, NULL, NULL,
	    &pc->ctx)) != SCARD_S_SUCCESS) {
		free(pc);
		return NKHSM_ERR_PCSC;	/* pcscd is not running */
	}
	*pcp = pc;
	return 0;
}

void
nk_pcsc_close(struct nk_pcsc **pcp)
{
	if (pcp == NULL || *pcp == NULL)
		return;
	(void)(*pcp)->ops->release((*pcp)->ctx);
	free(*pcp);
	*pcp = NULL;
}

/* The reader names, as a list of n strings pointing into buf. */
static int
reader_names(struct nk_pcsc *pc, char *buf, DWORD cap, const char **names,
    size_t *np)
{
	DWORD len = cap;
	size_t n = 0, off = 0, l;
	LONG rv;

	*np = 0;
	rv = pc->ops->list_readers(pc->ctx, NULL, buf, &len);
	if (rv == SCARD_E_NO_READERS_AVAILABLE)
		return 0;
	if (rv != SCARD_S_SUCCESS)
		return rv == SCARD_E_INSUFFICIENT_BUFFER ? NKHSM_ERR_TOO_LARGE :
		    nk_scard_err(rv) == NKHSM_ERR_DEVICE_REMOVED ?
		    NKHSM_ERR_PCSC : nk_scard_err(rv);
	/* A multi-string: NUL-separated names, an empty one at the end. */
	if (len == 0 || len > cap || buf[len - 1] != '\0')
		return NKHSM_ERR_PCSC;
	while (off < len && buf[off] != '\0') {
		l = strnlen(buf + off, len - off);
		if (l >= NKHSM_READER_NAME_MAX || n == READERS_MAX)
			return NKHSM_ERR_TOO_LARGE;
		names[n++] = buf + off;
		off += l + 1;
	}
	*np = n;
	return 0;
}

static unsigned int
reader_state(const SCARD_READERSTATE *rs)
{
	DWORD s = rs->dwEventState;
	unsigned int st = 0;

	if (s & SCARD_STATE_EMPTY)
		st |= NKHSM_READER_EMPTY;
	if (s & SCARD_STATE_PRESENT)
		st |= NKHSM_READER_PRESENT;
	if (s & SCARD_STATE_MUTE)
		st |= NKHSM_READER_MUTE;
	if (s & SCARD_STATE_INUSE)
		st |= NKHSM_READER_INUSE;
	if (s & SCARD_STATE_EXCLUSIVE)
		st |= NKHSM_READER_EXCLUSIVE;
	if (s & (SCARD_STATE_UNAVAILABLE | SCARD_STATE_UNKNOWN))
		st |= NKHSM_READER_UNAVAILABLE;
	if ((s & SCARD_STATE_PRESENT) && rs->cbAtr <= MAX_ATR_SIZE &&
	    nkhsm_atr_is_schsm(rs->rgbAtr, rs->cbAtr))
		st |= NKHSM_READER_SCHSM;
	if (strstr(rs->szReader, "Nitrokey HSM") != NULL)
		st |= NKHSM_READER_NITROKEY;
	return st;
}

/* Back to PC/SC-lite's state bits, to tell pcscd what we last saw. */
static DWORD
pcsc_state(unsigned int st)
{
	DWORD s = 0;

	if (st & NKHSM_READER_EMPTY)
		s |= SCARD_STATE_EMPTY;
	if (st & NKHSM_READER_PRESENT)
		s |= SCARD_STATE_PRESENT;
	if (st & NKHSM_READER_MUTE)
		s |= SCARD_STATE_MUTE;
	if (st & NKHSM_READER_INUSE)
		s |= SCARD_STATE_INUSE;
	if (st & NKHSM_READER_EXCLUSIVE)
		s |= SCARD_STATE_EXCLUSIVE;
	if (st & NKHSM_READER_UNAVAILABLE)
		s |= SCARD_STATE_UNAVAILABLE;
	return s;
}

static void
fill_reader(nkhsm_reader_t *r, const SCARD_READERSTATE *rs)
{
	memset(r, 0, sizeof(*r));
	strncpy(r->name, rs->szReader, sizeof(r->name) - 1);
	r->state = reader_state(rs);
	r->events = (unsigned int)(rs->dwEventState >> 16);
	if ((rs->dwEventState & SCARD_STATE_PRESENT) &&
	    rs->cbAtr <= sizeof(r->atr)) {
		memcpy(r->atr, rs->rgbAtr, rs->cbAtr);
		r->atrlen = rs->cbAtr;
	}
}

/* The states of names[0..n) now (timeout 0) or after a change. */
static int
states(struct nk_pcsc *pc, const char **names, size_t n, DWORD timeout,
    SCARD_READERSTATE *rs)
{
	LONG rv;
	size_t i;

	for (i = 0; i < n; i++) {
		memset(&rs[i], 0, sizeof(rs[i]));
		rs[i].szReader = names[i];
		rs[i].dwCurrentState = SCARD_STATE_UNAWARE;
	}
	if (n == 0)
		return 0;
	rv = pc->ops->get_status_change(pc->ctx, timeout, rs, (DWORD)n);
	return rv == SCARD_S_SUCCESS ? 0 : nk_scard_err(rv);
}

int
nk_pcsc_readers(struct nk_pcsc *pc, nkhsm_reader_t **listp, size_t *np)
{
	SCARD_READERSTATE rs[READERS_MAX];
	const char *names[READERS_MAX];
	char *buf = NULL;
	nkhsm_reader_t *list = NULL;
	size_t n = 0, i;
	int r;

	*listp = NULL;
	*np = 0;
	if ((buf = malloc(READERS_BUF)) == NULL)
		return NKHSM_ERR_NOMEM;
	if ((r = reader_names(pc, buf, READERS_BUF, names, &n)) != 0 ||
	    (r = states(pc, names, n, 0, rs)) != 0)
		goto out;
	if ((list = calloc(n + 1, sizeof(*list))) == NULL) {
		r = NKHSM_ERR_NOMEM;
		goto out;
	}
	for (i = 0; i < n; i++)
		fill_reader(&list[i], &rs[i]);
	*listp = list;
	*np = n;
	list = NULL;
	r = 0;
 out:
	free(list);
	free(buf);
	return r;
}

/*
 * Block until something differs from known: the PnP pseudo reader reports
 * readers that come and go, each known reader its card events.
 */
int
nk_pcsc_wait(struct nk_pcsc *pc, const nkhsm_reader_t *known, size_t n,
    int timeout_ms)
{
	SCARD_READERSTATE rs[READERS_MAX + 1];
	size_t i;
	LONG rv;

	if (n > READERS_MAX)
		return NKHSM_ERR_TOO_LARGE;
	memset(rs, 0, sizeof(rs));
	for (i = 0; i < n; i++) {
		rs[i].szReader = known[i].name;
		/* What we last saw: pcscd wakes us when it is no longer so. */
		rs[i].dwCurrentState = (DWORD)known[i].events << 16 |
		    pcsc_state(known[i].state);
	}
	rs[n].szReader = PNP_READER;
	rs[n].dwCurrentState = (DWORD)n << 16;
	rv = pc->ops->get_status_change(pc->ctx, timeout_ms < 0 ? INFINITE :
	    (DWORD)timeout_ms, rs, (DWORD)(n + 1));
	if (rv == SCARD_E_UNKNOWN_READER)
		return 0;	/* a known reader went away */
	return rv == SCARD_S_SUCCESS ? 0 : nk_scard_err(rv);
}

int
nk_card_open(struct nk_pcsc *pc, const char *reader, struct nk_card **cp)
{
	struct nk_card *c;
	LONG rv;
	int r;

	*cp = NULL;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NKHSM_ERR_NOMEM;
	c->pc = pc;
	if ((rv = pc->ops->connect(pc->ctx, reader, SCARD_SHARE_SHARED,
	    SCARD_PROTOCOL_T1 | SCARD_PROTOCOL_T0, &c->h,
	    &c->proto)) != SCARD_S_SUCCESS) {
		free(c);
		return nk_scard_err(rv);
	}
	if ((rv = pc->ops->begin(c->h)) != SCARD_S_SUCCESS) {
		r = nk_scard_err(rv);
		(void)pc->ops->disconnect(c->h, SCARD_LEAVE_CARD);
		free(c);
		return r;
	}
	c->in_txn = 1;
	*cp = c;
	return 0;
}

void
nk_card_close(struct nk_card **cp, int reset)
{
	struct nk_card *c;
	DWORD how = reset ? SCARD_RESET_CARD : SCARD_LEAVE_CARD;

	if (cp == NULL || (c = *cp) == NULL)
		return;
	if (c->in_txn)
		(void)c->pc->ops->end(c->h, how);
	(void)c->pc->ops->disconnect(c->h, how);
	free(c);
	*cp = NULL;
}

int
nk_card_apdu(struct nk_card *c, const uint8_t *cmd, size_t len,
    uint8_t *resp, size_t cap, size_t *rlenp, uint16_t *swp)
{
	SCARD_IO_REQUEST pci;
	uint8_t *rx = NULL;
	DWORD rxlen = NK_CARD_RX_MAX;
	LONG rv;
	int r = NKHSM_ERR_FORMAT;

	*rlenp = 0;
	*swp = 0;
	if ((rx = malloc(NK_CARD_RX_MAX)) == NULL)
		return NKHSM_ERR_NOMEM;
	pci.dwProtocol = c->proto;
	pci.cbPciLength = sizeof(pci);
	c->pc->apdus++;
	if (c->pc->watch != NULL)
		c->pc->watch(c->pc->watch_arg, 1);
	rv = c->pc->ops->transmit(c->h, &pci, cmd, (DWORD)len, NULL, rx,
	    &rxlen);
	if (c->pc->watch != NULL)
		c->pc->watch(c->pc->watch_arg, 0);
	if (rv != SCARD_S_SUCCESS) {
		r = nk_scard_err(rv);
		goto out;
	}
	if (rxlen < 2 || rxlen > NK_CARD_RX_MAX || rxlen - 2 > cap)
		goto out;
	*swp = (uint16_t)(rx[rxlen - 2] << 8 | rx[rxlen - 1]);
	if (rxlen > 2)
		memcpy(resp, rx, rxlen - 2);
	*rlenp = rxlen - 2;
	r = 0;
 out:
	nk_freezero(rx, NK_CARD_RX_MAX);
	return r;
}
