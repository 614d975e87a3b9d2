/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * proto.h - messages between pam_nkhsm.so and nkhsm-pam-helper.
 *
 * One message per SOCK_SEQPACKET record: a type byte, then fields in SSH
 * wire encoding (lib/buf.h). The module never loads the PKCS#11 module;
 * the helper never sees the authorized keys' owner or decides anything:
 * it finds, logs in and signs, and the module verifies.
 */
#ifndef PNK_PROTO_H
#define PNK_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "pamconf.h"

#define PNK_MSG_MAX		(64 * 1024)

/* module -> helper */
#define M_DISCOVER	1	/* string module, string uri, u8 mode, u32 n,
				 * n x string blob, u8 driver, string hints */
#define M_SELECT	2	/* u32 certificate index (mode certs) */
#define M_LOGIN		3	/* string pin (empty: PIN pad), string message */
#define M_SETPIN	4	/* string old, string new */

/* Discovery modes. */
#define DISCOVER_KEYS	0	/* find a token key equal to one of the blobs */
#define DISCOVER_CERTS	1	/* send the certificates for the module to judge */
#define DISCOVER_TOKEN	2	/* just the token (PIN change) */

/* helper -> module */
#define R_ERROR		100	/* u32 (int32) error, string detail */
#define R_NO_TOKEN	101
#define R_NO_KEY	102	/* string label, string serial */
#define R_FOUND		103	/* string label, string serial, u32 flags, u32 minpin,
				 * u32 maxpin, u32 index, string key id,
				 * string model, string manufacturer,
				 * u32 (int32) tries left (-1: unknown), u8 driver */
#define R_CERTS		104	/* u32 n, n x string der */
#define R_LOGIN_FAILED	105	/* u32 (int32) error, u32 flags, u32 (int32) tries */
#define R_SIGNATURE	106	/* string r||s */
#define R_DONE		107

/* Send one message; fails on a short send. */
int pnk_send(int fd, uint8_t type, const struct nk_buf *body);
/*
 * Receive one message into buf (readonly view over *storep, which the
 * caller frees with freezero(len)). deadline_ms: absolute CLOCK_MONOTONIC
 * milliseconds, or 0 for none. NKHSM_ERR_TIMEOUT, NKHSM_ERR_IO (peer gone).
 */
int pnk_recv(int fd, long long deadline_ms, uint8_t *typep, struct nk_buf *body,
    uint8_t **storep, size_t *lenp);
long long pnk_now_ms(void);

#endif /* PNK_PROTO_H */
