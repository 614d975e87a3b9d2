/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * card_floor - the least a login on a SmartCard-HSM can send: SELECT the
 * applet, VERIFY the PIN, sign a hash (80 68 <ref> 70), over PC/SC in one
 * transaction, then leave the card as it is. Three APDUs: the floor that
 * bench/card.sh measures pam_nkhsm's direct path against. It checks
 * nothing, keeps nothing, and does not log the card out.
 *
 *	card_floor KEYREF PIN		(KEYREF in hex; the hash: SHA-256 of stdin)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <PCSC/winscard.h>
#include <openssl/sha.h>

static int
send_apdu(SCARDHANDLE h, DWORD proto, const unsigned char *cmd, size_t len)
{
	SCARD_IO_REQUEST pci = { proto, sizeof(SCARD_IO_REQUEST) };
	unsigned char resp[300];
	DWORD rlen = sizeof(resp);

	if (SCardTransmit(h, &pci, cmd, (DWORD)len, NULL, resp, &rlen) !=
	    SCARD_S_SUCCESS || rlen < 2 || resp[rlen - 2] != 0x90 ||
	    resp[rlen - 1] != 0x00)
		return -1;
	return 0;
}

int
main(int argc, char **argv)
{
	static const unsigned char sel[] = {
		0x00, 0xA4, 0x04, 0x00, 0x0B, 0xE8, 0x2B, 0x06, 0x01, 0x04, 0x01,
		0x81, 0xC3, 0x1F, 0x02, 0x01, 0x00,
	};
	unsigned char cmd[300], msg[4096], hash[SHA256_DIGEST_LENGTH];
	char readers[1024];
	DWORD rl = sizeof(readers), proto;
	SCARDCONTEXT ctx;
	SCARDHANDLE h;
	size_t pinlen, n;
	ssize_t r;

	if (argc != 3 || (pinlen = strlen(argv[2])) == 0 || pinlen > 64)
		return 2;
	n = 0;
	while ((r = read(0, msg + n, sizeof(msg) - n)) > 0)
		n += (size_t)r;
	SHA256(msg, n, hash);
	if (SCardEstablishContext(SCARD_SCOPE_SYSTEM, NULL, NULL, &ctx) != 0 ||
	    SCardListReaders(ctx, NULL, readers, &rl) != 0 ||
	    SCardConnect(ctx, readers, SCARD_SHARE_SHARED, SCARD_PROTOCOL_T1 |
	    SCARD_PROTOCOL_T0, &h, &proto) != 0 || SCardBeginTransaction(h) != 0)
		return 1;
	if (send_apdu(h, proto, sel, sizeof(sel)) != 0)
		return 1;
	memcpy(cmd, "\x00\x20\x00\x81", 4);
	cmd[4] = (unsigned char)pinlen;
	memcpy(cmd + 5, argv[2], pinlen);
	if (send_apdu(h, proto, cmd, 5 + pinlen) != 0)
		return 1;
	memcpy(cmd, "\x80\x68\x00\x70\x20", 5);
	cmd[2] = (unsigned char)strtoul(argv[1], NULL, 16);
	memcpy(cmd + 5, hash, sizeof(hash));
	cmd[5 + sizeof(hash)] = 0x00;
	if (send_apdu(h, proto, cmd, 6 + sizeof(hash)) != 0)
		return 1;
	SCardEndTransaction(h, SCARD_LEAVE_CARD);
	SCardDisconnect(h, SCARD_LEAVE_CARD);
	SCardReleaseContext(ctx);
	return 0;
}
