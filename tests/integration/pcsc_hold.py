#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""pcsc_hold.py READER - hold the card in READER for this program alone
(SCARD_SHARE_EXCLUSIVE), as GnuPG's scdaemon does, until stdin closes or
the process is killed. Prints "held" once it has the card; exits 1 with
pcsc-lite's error code when it cannot. For the doctor card tests: the
pcscd is the one PCSCLITE_CSOCK_NAME names, through libpcsclite itself.
"""

import ctypes
import sys

SCARD_SCOPE_SYSTEM = 2
SCARD_SHARE_EXCLUSIVE = 1
SCARD_PROTOCOL_ANY = 3  # T=0 | T=1
SCARD_LEAVE_CARD = 0

# pcsc-lite on Linux: DWORD and SCARDCONTEXT/SCARDHANDLE are C longs.
DWORD = ctypes.c_ulong
HANDLE = ctypes.c_long


def main():
    if len(sys.argv) != 2:
        sys.stderr.write("usage: pcsc_hold.py READER\n")
        return 2
    lib = ctypes.CDLL("libpcsclite.so.1")
    ctx = HANDLE()
    r = lib.SCardEstablishContext(DWORD(SCARD_SCOPE_SYSTEM), None, None,
                                  ctypes.byref(ctx))
    if r != 0:
        sys.stderr.write("SCardEstablishContext: 0x%08x\n" % (r & 0xffffffff))
        return 1
    card = HANDLE()
    proto = DWORD()
    r = lib.SCardConnect(ctx, sys.argv[1].encode(), DWORD(SCARD_SHARE_EXCLUSIVE),
                         DWORD(SCARD_PROTOCOL_ANY), ctypes.byref(card),
                         ctypes.byref(proto))
    if r != 0:
        sys.stderr.write("SCardConnect: 0x%08x\n" % (r & 0xffffffff))
        lib.SCardReleaseContext(ctx)
        return 1
    print("held", flush=True)
    sys.stdin.read()
    lib.SCardDisconnect(card, DWORD(SCARD_LEAVE_CARD))
    lib.SCardReleaseContext(ctx)
    return 0


if __name__ == "__main__":
    sys.exit(main())
