/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nkreaders - libnkhsm's reader API (nkhsm.h) against a real pcscd, for
 * the card tests: the readers and their state, the serial of the card in
 * each, and with --wait MS the list after the next change.
 *
 *	nkreaders [--wait MS]
 *
 * One line per reader: name, "present" or "empty", "schsm" when the ATR is
 * a SmartCard-HSM's, and the card's serial when it has one.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nkhsm.h"

static void
print(nkhsm_ctx_t *ctx, const nkhsm_reader_t *rd, size_t n)
{
	char *serial;
	size_t i;

	for (i = 0; i < n; i++) {
		serial = NULL;
		if (rd[i].state & NKHSM_READER_PRESENT)
			(void)nkhsm_reader_serial(ctx, rd[i].name, &serial);
		printf("%s|%s|%s|%s\n", rd[i].name,
		    (rd[i].state & NKHSM_READER_PRESENT) ? "present" : "empty",
		    (rd[i].state & NKHSM_READER_SCHSM) ? "schsm" : "-",
		    serial != NULL ? serial : "-");
		free(serial);
	}
	fflush(stdout);
}

int
main(int argc, char **argv)
{
	nkhsm_ctx_t *ctx = NULL;
	nkhsm_reader_t *rd = NULL, *now = NULL;
	size_t n = 0, m = 0;
	int r, wait = -2;

	if (argc == 3 && strcmp(argv[1], "--wait") == 0)
		wait = atoi(argv[2]);
	else if (argc != 1) {
		fprintf(stderr, "usage: nkreaders [--wait MS]\n");
		return 2;
	}
	if ((r = nkhsm_ctx_open_pcsc(0, &ctx)) != 0 ||
	    (r = nkhsm_readers(ctx, &rd, &n)) != 0)
		goto out;
	print(ctx, rd, n);
	if (wait != -2) {
		if ((r = nkhsm_readers_wait(ctx, rd, n, wait, &now, &m)) != 0)
			goto out;
		printf("--\n");
		print(ctx, now, m);
	}
 out:
	if (r != 0)
		fprintf(stderr, "nkreaders: %s\n", nkhsm_strerror(r));
	free(rd);
	free(now);
	nkhsm_ctx_free(&ctx);
	return r == 0 ? 0 : 1;
}
