/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nkhsm-pam-helper-fault - nkhsm-pam-helper over a PC/SC table that fails
 * on purpose (the seam in lib/pcsc-int.h), for faults the card kit cannot
 * place at an exact command. The card tests give it to pam_nkhsm with
 * helper=. Controls, from the environment (the module passes NKFAULT_*):
 *
 *	NKFAULT_PCSC_AT=N	the Nth command sent to a card (from 1) ...
 *	NKFAULT_PCSC_DO=WHAT	... is: remove (the card is gone from then on:
 *				SCARD_W_REMOVED_CARD), hang (never answers),
 *				garbage (answered 6F 00 without reaching the card)
 *	NKFAULT_PCSC_LOG=FILE	each command and answer, in hex, appended
 *	NKFAULT_PCSC_RECORD=FILE the answer to the signature command (80 68),
 *				saved
 *	NKFAULT_PCSC_REPLAY=FILE the signature command is not sent; FILE is
 *				its answer (a replay of an earlier login's)
 *
 * Everything else is the real helper (pnk_helper_main) over libpcsclite.
 */
#include "config.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nkhsm.h"
#include "nk-int.h"
#include "pcsc-int.h"
#include "helper.h"

static struct nk_scard_ops real, faulty;
static unsigned long count, at;
static const char *what, *logpath, *recordpath, *replaypath;
static int gone;

static void
log_hex(const char *dir, const uint8_t *d, size_t len)
{
	FILE *f;
	size_t i;

	if (logpath == NULL || (f = fopen(logpath, "a")) == NULL)
		return;
	fprintf(f, "%s ", dir);
	for (i = 0; i < len; i++)
		fprintf(f, "%02X", d[i]);
	fprintf(f, "\n");
	fclose(f);
}

static int
is_sign(const uint8_t *cmd, DWORD len)
{
	return len >= 2 && cmd[0] == 0x80 && cmd[1] == 0x68;
}

/* The recorded answer of an earlier login, as this command's answer. */
static LONG
replay(LPBYTE resp, LPDWORD rlen)
{
	uint8_t buf[1024];
	ssize_t n;
	int fd;

	if ((fd = open(replaypath, O_RDONLY | O_CLOEXEC)) == -1)
		return SCARD_F_INTERNAL_ERROR;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 2 || (DWORD)n > *rlen)
		return SCARD_F_INTERNAL_ERROR;
	memcpy(resp, buf, (size_t)n);
	*rlen = (DWORD)n;
	return SCARD_S_SUCCESS;
}

static void
record(const uint8_t *resp, DWORD len)
{
	int fd;

	if ((fd = open(recordpath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    0600)) == -1)
		return;
	if (write(fd, resp, len) != (ssize_t)len)
		(void)unlink(recordpath);
	close(fd);
}

static LONG
fault_transmit(SCARDHANDLE h, const SCARD_IO_REQUEST *pci, LPCBYTE cmd,
    DWORD len, SCARD_IO_REQUEST *rpci, LPBYTE resp, LPDWORD rlen)
{
	LONG rv;

	count++;
	log_hex(">", cmd, len);
	if (gone)
		return SCARD_W_REMOVED_CARD;
	if (count == at && strcmp(what, "remove") == 0) {
		gone = 1;
		return SCARD_W_REMOVED_CARD;
	}
	if (count == at && strcmp(what, "hang") == 0)
		for (;;)
			pause();
	if (count == at && strcmp(what, "garbage") == 0 && *rlen >= 2) {
		resp[0] = 0x6F;
		resp[1] = 0x00;
		*rlen = 2;
		return SCARD_S_SUCCESS;
	}
	if (replaypath != NULL && is_sign(cmd, len))
		rv = replay(resp, rlen);
	else
		rv = real.transmit(h, pci, cmd, len, rpci, resp, rlen);
	if (rv == SCARD_S_SUCCESS) {
		log_hex("<", resp, *rlen);
		if (recordpath != NULL && is_sign(cmd, len))
			record(resp, *rlen);
	}
	return rv;
}

int
main(int argc, char **argv)
{
	const struct nk_scard_ops *ops;
	const char *v;

	if (argc != 1 || isatty(PNK_HELPER_FD))
		return 2;
	if ((v = getenv("NKFAULT_PCSC_AT")) != NULL)
		at = strtoul(v, NULL, 10);
	what = (v = getenv("NKFAULT_PCSC_DO")) != NULL ? v : "";
	logpath = getenv("NKFAULT_PCSC_LOG");
	recordpath = getenv("NKFAULT_PCSC_RECORD");
	replaypath = getenv("NKFAULT_PCSC_REPLAY");
	if (nk_scard_ops(&ops) != 0)
		_exit(1);
	real = *ops;
	faulty = real;
	faulty.transmit = fault_transmit;
	nk_scard_set_ops(&faulty);
	_exit(pnk_helper_main(PNK_HELPER_FD));
}
