/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nkapdu - send raw commands to the card in the first PC/SC reader, with
 * nothing before them (no SELECT), and print each answer as hex, the
 * status word last. The card tests use it to see a card's state as it is:
 * "00200081" answers 9000 only on a card that is still logged in. With
 * --reset the card is reset when it is let go (SCARD_RESET_CARD), as pcscd
 * does for a program that dies holding it.
 *
 *	nkapdu [--reset] HEX...
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nkhsm.h"
#include "nk-int.h"
#include "pcsc-int.h"

#define CMD_MAX	(4 + 3 + 4096 + 2)

int
main(int argc, char **argv)
{
	struct nk_pcsc *pc = NULL;
	struct nk_card *c = NULL;
	nkhsm_reader_t *rd = NULL;
	uint8_t *cmd = NULL, *resp = NULL;
	size_t n = 0, len, rlen, i;
	uint16_t sw;
	int a = 1, r, rc = 1, reset = 0;

	if (argc > 1 && strcmp(argv[1], "--reset") == 0) {
		reset = 1;
		a++;
	}
	if (a >= argc) {
		fprintf(stderr, "usage: nkapdu [--reset] HEX...\n");
		return 2;
	}
	if ((r = nk_pcsc_open(&pc)) != 0 || (r = nk_pcsc_readers(pc, &rd,
	    &n)) != 0 || n == 0 || (r = nk_card_open(pc, rd[0].name, &c)) != 0) {
		fprintf(stderr, "nkapdu: %s\n", n == 0 && r == 0 ? "no reader" :
		    nkhsm_strerror(r));
		goto out;
	}
	if ((resp = malloc(NK_CARD_RX_MAX)) == NULL)
		goto out;
	for (; a < argc; a++) {
		free(cmd);
		if ((r = nk_hex_decode(argv[a], &cmd, &len)) != 0 ||
		    len > CMD_MAX) {
			fprintf(stderr, "nkapdu: bad command %s\n", argv[a]);
			goto out;
		}
		if ((r = nk_card_apdu(c, cmd, len, resp, NK_CARD_RX_MAX, &rlen,
		    &sw)) != 0) {
			fprintf(stderr, "nkapdu: %s\n", nkhsm_strerror(r));
			goto out;
		}
		for (i = 0; i < rlen; i++)
			printf("%02X", resp[i]);
		printf("%s%04X\n", rlen > 0 ? " " : "", sw);
	}
	rc = 0;
 out:
	nk_card_close(&c, reset);
	nk_pcsc_close(&pc);
	free(rd);
	free(cmd);
	free(resp);
	return rc;
}
