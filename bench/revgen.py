#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""revgen.py - revocation lists of a given size for bench/revoke.sh.

    revgen.py krl-keys N OUT     a KRL revoking N P-256 keys explicitly
    revgen.py krl-sha256 N OUT   a KRL revoking N keys by SHA-256
    revgen.py index N OUT        an openssl ca index.txt of N revoked serials

The keys are random 64-byte points in the shape of P-256 keys (0x04,
X, Y): neither sshd nor pam_nkhsm parses the keys in a KRL, they compare
them, so only their length and number matter. Serials are random 64-bit
values with the top bit clear, as a CA of random serials would have.
"""
import hashlib
import os
import struct
import sys


def string(b):
    return struct.pack(">I", len(b)) + b


def header():
    return b"SSHKRL\n\0" + struct.pack(">IQQQ", 1, 1, 1700000000, 0) + \
        string(b"") + string(b"bench")


def p256_blob():
    return string(b"ecdsa-sha2-nistp256") + string(b"nistp256") + \
        string(b"\x04" + os.urandom(64))


def main():
    what, n, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    if what == "krl-keys":
        body = b"".join(string(p256_blob()) for _ in range(n))
        data = header() + b"\x02" + string(body)
    elif what == "krl-sha256":
        hashes = sorted(hashlib.sha256(p256_blob()).digest() for _ in range(n))
        data = header() + b"\x05" + string(b"".join(string(h) for h in hashes))
    elif what == "index":
        lines = set()
        while len(lines) < n:
            s = int.from_bytes(os.urandom(8), "big") >> 1
            lines.add("R\t301201000000Z\t261130000000Z\t%016X\tunknown\t/CN=x%d\n"
                      % (s, len(lines)))
        data = "".join(sorted(lines)).encode()
    else:
        sys.exit(__doc__)
    with open(out, "wb") as f:
        f.write(data)


if __name__ == "__main__":
    main()
