#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""vcard.py PORT ATR - a card for vsmartcard's vpcd, for the nkhsm-hotplug
card tests: it connects to vpcd's reader on PORT (35963 is the first
reader, 35964 the second), answers power and reset, gives ATR (hex) when
asked, and answers every command with 6D 00 (instruction not supported).

vpcd's protocol: each message is a 2-byte big-endian length and its bytes;
a one-byte message is a control (0 off, 1 on, 2 reset, 4 the ATR, the only
one answered), anything longer a command to answer.
"""

import socket
import struct
import sys


def recv_exact(s, n):
    b = b''
    while len(b) < n:
        c = s.recv(n - len(b))
        if not c:
            sys.exit(0)
        b += c
    return b


def main():
    port, atr = int(sys.argv[1]), bytes.fromhex(sys.argv[2])
    s = socket.create_connection(('127.0.0.1', port))
    while True:
        (n,) = struct.unpack('>H', recv_exact(s, 2))
        msg = recv_exact(s, n)
        if n == 1:
            if msg[0] == 4:
                s.sendall(struct.pack('>H', len(atr)) + atr)
            continue
        s.sendall(struct.pack('>H', 2) + b'\x6d\x00')


if __name__ == '__main__':
    main()
