/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * nkhsm-hotplug-fake - nkhsm-hotplug over a PC/SC table that changes what
 * the card kit's pcscd shows (the seam in lib/pcsc-int.h), for what the kit
 * cannot do: its reader stays when its card is pulled, and one stuck card
 * stalls every reader of its driver. Controls, from the environment:
 *
 *	NKFAKE_READER=NAME	a real reader of the kit ...
 *	NKFAKE_NAME=NAME	... shown under this name instead (a Nitrokey
 *				HSM's: "Nitrokey Nitrokey HSM (SERIAL) 00 00")
 *	NKFAKE_PLUG=FILE	... and only while FILE exists: when it is
 *				removed the reader goes away, as a pulled
 *				Nitrokey HSM's does, and comes back with it
 *	NKFAKE_HANG=NAME	connecting to the card in the reader of that
 *				(shown) name never returns: a card that does
 *				not answer, with a driver that holds up nothing
 *				else (vpcd's holds up all its readers, and a
 *				transaction held on it, the kit's own checks)
 *
 * Everything else is the real nkhsm-hotplug (hp_main) over libpcsclite.
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nkhsm.h"
#include "nk-int.h"
#include "pcsc-int.h"
#include "hotplug.h"

#define PNP_READER	"\\\\?PnP?\\Notification"
#define SLICE_MS	100
#define LIST_MAX	4096
#define STATES_MAX	32

static struct nk_scard_ops real, fake;
static const char *rname, *fname, *plugpath, *hangname;

static int
plugged(void)
{
	return plugpath == NULL || access(plugpath, F_OK) == 0;
}

/* The kit's reader list: the real one, with ours renamed or left out. */
static LONG
fake_list(SCARDCONTEXT ctx, LPCSTR groups, LPSTR buf, LPDWORD len)
{
	char in[LIST_MAX], out[LIST_MAX];
	DWORD inlen = sizeof(in);
	size_t off = 0, o = 0, l;
	const char *name;
	LONG rv;

	if ((rv = real.list_readers(ctx, groups, in, &inlen)) !=
	    SCARD_S_SUCCESS)
		return rv;
	while (off < inlen && in[off] != '\0') {
		name = in + off;
		l = strlen(name);
		off += l + 1;
		if (rname != NULL && strcmp(name, rname) == 0) {
			if (!plugged())
				continue;
			name = fname;
			l = strlen(name);
		}
		if (o + l + 2 > sizeof(out))
			return SCARD_E_INSUFFICIENT_BUFFER;
		memcpy(out + o, name, l + 1);
		o += l + 1;
	}
	if (o == 0)
		return SCARD_E_NO_READERS_AVAILABLE;
	out[o++] = '\0';
	if (buf == NULL) {
		*len = (DWORD)o;
		return SCARD_S_SUCCESS;
	}
	if (*len < o)
		return SCARD_E_INSUFFICIENT_BUFFER;
	memcpy(buf, out, o);
	*len = (DWORD)o;
	return SCARD_S_SUCCESS;
}

static DWORD
real_count(SCARDCONTEXT ctx)
{
	char in[LIST_MAX];
	DWORD inlen = sizeof(in), n = 0;
	size_t off = 0;

	if (real.list_readers(ctx, NULL, in, &inlen) != SCARD_S_SUCCESS)
		return 0;
	while (off < inlen && in[off] != '\0') {
		off += strlen(in + off) + 1;
		n++;
	}
	return n;
}

/*
 * The real wait, in slices, so that a reader plugged or pulled here wakes
 * it as pcscd's own reader events would.
 */
static LONG
fake_wait(SCARDCONTEXT ctx, DWORD timeout, SCARD_READERSTATE *rs, DWORD n)
{
	SCARD_READERSTATE t[STATES_MAX];
	DWORD i, slice, left = timeout;
	int was = plugged(), pnp = -1;
	LONG rv;

	if (n > STATES_MAX)
		return SCARD_E_INVALID_PARAMETER;
	memcpy(t, rs, n * sizeof(*rs));
	for (i = 0; i < n; i++) {
		if (fname != NULL && strcmp(rs[i].szReader, fname) == 0) {
			if (!was)
				return SCARD_E_UNKNOWN_READER;
			t[i].szReader = rname;
		}
		if (strcmp(rs[i].szReader, PNP_READER) == 0) {
			pnp = (int)i;
			/* pcscd counts its readers, ours hidden or not. */
			t[i].dwCurrentState = real_count(ctx) << 16;
		}
	}
	for (;;) {
		slice = timeout == INFINITE || left > SLICE_MS ? SLICE_MS :
		    left;
		rv = real.get_status_change(ctx, slice, t, n);
		if (rv != SCARD_E_TIMEOUT)
			break;
		if (plugged() != was) {
			if (pnp < 0)
				return SCARD_E_UNKNOWN_READER;
			t[pnp].dwEventState = SCARD_STATE_CHANGED;
			rv = SCARD_S_SUCCESS;
			break;
		}
		if (timeout != INFINITE && (left -= slice) == 0)
			return SCARD_E_TIMEOUT;
	}
	for (i = 0; i < n; i++) {
		rs[i].dwEventState = t[i].dwEventState;
		rs[i].cbAtr = t[i].cbAtr;
		memcpy(rs[i].rgbAtr, t[i].rgbAtr, sizeof(rs[i].rgbAtr));
	}
	return rv;
}

static LONG
fake_connect(SCARDCONTEXT ctx, LPCSTR reader, DWORD share, DWORD proto,
    LPSCARDHANDLE h, LPDWORD active)
{
	if (hangname != NULL && strcmp(reader, hangname) == 0)
		for (;;)
			pause();
	if (fname != NULL && strcmp(reader, fname) == 0) {
		if (!plugged())
			return SCARD_E_UNKNOWN_READER;
		reader = rname;
	}
	return real.connect(ctx, reader, share, proto, h, active);
}

int
main(int argc, char **argv)
{
	const struct nk_scard_ops *ops;

	rname = getenv("NKFAKE_READER");
	fname = getenv("NKFAKE_NAME");
	plugpath = getenv("NKFAKE_PLUG");
	hangname = getenv("NKFAKE_HANG");
	if ((rname == NULL) != (fname == NULL)) {
		fprintf(stderr, "nkhsm-hotplug-fake: NKFAKE_READER and "
		    "NKFAKE_NAME go together\n");
		return 2;
	}
	if (nk_scard_ops(&ops) != 0) {
		fprintf(stderr, "nkhsm-hotplug-fake: no libpcsclite\n");
		return 2;
	}
	real = *ops;
	fake = real;
	fake.list_readers = fake_list;
	fake.get_status_change = fake_wait;
	fake.connect = fake_connect;
	nk_scard_set_ops(&fake);
	return hp_main(argc, argv);
}
