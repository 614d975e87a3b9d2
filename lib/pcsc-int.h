/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * pcsc-int.h - libnkhsm's PC/SC-lite path, inside the library.
 *
 * Every PC/SC call goes through one table of SCard* functions, filled from
 * libpcsclite.so.1 on first use (dlopen: a program that never asks for the
 * PC/SC path never loads it). A test replaces the table with its own
 * (nk_scard_set_ops): a scripted card, or faults at an exact APDU. Not
 * installed.
 */
#ifndef NK_PCSC_INT_H
#define NK_PCSC_INT_H

#include <stddef.h>
#include <stdint.h>

#include <PCSC/winscard.h>

#include "nkhsm.h"

struct nk_scard_ops {
	LONG	(*establish)(DWORD, LPCVOID, LPCVOID, LPSCARDCONTEXT);
	LONG	(*release)(SCARDCONTEXT);
	LONG	(*list_readers)(SCARDCONTEXT, LPCSTR, LPSTR, LPDWORD);
	LONG	(*get_status_change)(SCARDCONTEXT, DWORD, SCARD_READERSTATE *,
		    DWORD);
	LONG	(*cancel)(SCARDCONTEXT);
	LONG	(*connect)(SCARDCONTEXT, LPCSTR, DWORD, DWORD, LPSCARDHANDLE,
		    LPDWORD);
	LONG	(*disconnect)(SCARDHANDLE, DWORD);
	LONG	(*begin)(SCARDHANDLE);
	LONG	(*end)(SCARDHANDLE, DWORD);
	LONG	(*transmit)(SCARDHANDLE, const SCARD_IO_REQUEST *, LPCBYTE,
		    DWORD, SCARD_IO_REQUEST *, LPBYTE, LPDWORD);
};

/*
 * The table in use. A test sets its own before opening a context (NULL:
 * back to libpcsclite). nk_scard_ops fails with NKHSM_ERR_PCSC when
 * libpcsclite.so.1 cannot be loaded.
 */
void nk_scard_set_ops(const struct nk_scard_ops *ops);
int nk_scard_ops(const struct nk_scard_ops **opsp);
/* PC/SC-lite's return codes as NKHSM_ERR_* (removal, timeout, ...). */
int nk_scard_err(LONG rv);

/* A PC/SC-lite context. */
struct nk_pcsc {
	const struct nk_scard_ops *ops;
	SCARDCONTEXT	 ctx;
	unsigned long	 apdus;		/* commands sent, for benchmarks */
	nkhsm_call_watch_t *watch;	/* around each command, or NULL */
	void		*watch_arg;
};
int nk_pcsc_open(struct nk_pcsc **pcp);
void nk_pcsc_close(struct nk_pcsc **pcp);
/* The readers and their states (one GetStatusChange with no wait). */
int nk_pcsc_readers(struct nk_pcsc *pc, nkhsm_reader_t **listp, size_t *np);
/* Block until the readers or their cards differ from known (n of them). */
int nk_pcsc_wait(struct nk_pcsc *pc, const nkhsm_reader_t *known, size_t n,
    int timeout_ms);

/*
 * A card, connected shared and held in a transaction from connect to
 * close: no other program's commands come between ours, and a process that
 * dies holding it makes pcscd reset the card (so a killed helper never
 * leaves it logged in).
 */
#define NK_CARD_RX_MAX	(8192 + 2)
struct nk_card {
	struct nk_pcsc	*pc;
	SCARDHANDLE	 h;
	DWORD		 proto;
	int		 in_txn;
};
int nk_card_open(struct nk_pcsc *pc, const char *reader, struct nk_card **cp);
/* End the transaction and disconnect; reset: the card is reset (logged out). */
void nk_card_close(struct nk_card **cp, int reset);
/*
 * One command. resp gets the answer's data (at most cap bytes), *swp its
 * status word. NKHSM_ERR_DEVICE_REMOVED when the card is gone,
 * NKHSM_ERR_FORMAT when the answer is shorter than a status word or does
 * not fit.
 */
int nk_card_apdu(struct nk_card *c, const uint8_t *cmd, size_t len,
    uint8_t *resp, size_t cap, size_t *rlenp, uint16_t *swp);

/* The SmartCard-HSM's commands (sc-card.c), over nk_card_apdu. */
struct nk_sc_fci;
int nk_sc_select(struct nk_card *c, struct nk_sc_fci *fci);
int nk_sc_pin_status(struct nk_card *c, int *triesp);
int nk_sc_verify(struct nk_card *c, const char *pin, size_t len, int *triesp);
int nk_sc_change_pin(struct nk_card *c, const char *oldpin, size_t oldlen,
    const char *newpin, size_t newlen, int *triesp);
/* A transparent file, whole, in one command (extended length). 
 * NKHSM_ERR_NO_KEY when the file does not exist. */
int nk_sc_read(struct nk_card *c, uint16_t fid, uint8_t *buf, size_t cap,
    size_t *lenp);
int nk_sc_list_keys(struct nk_card *c, uint8_t *refs, size_t *np);
int nk_sc_sign(struct nk_card *c, uint8_t ref, nkhsm_curve_t curve,
    const uint8_t *dgst, size_t dlen, uint8_t *raw, size_t *rawlenp);

#endif /* NK_PCSC_INT_H */
