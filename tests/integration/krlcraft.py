#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
"""krlcraft.py - KRLs that no tool writes, for krl-read.sh to hand to both
ssh-keygen -Q and lib/krl.c (through tests/unit/revcheck krl).

    krlcraft.py crafted OUTDIR CA.pub CERT.pub KEY.pub
        writes OUTDIR/NAME.krl for each case below and OUTDIR/cases, one
        "NAME EXPECT" line each: EXPECT is "same" (both must give the same
        answer) or "stricter" (ssh-keygen loads it, lib/krl.c refuses it on
        purpose; krl.c's header comment says why).
    krlcraft.py mutate OUTDIR KRL SEED COUNT
        writes OUTDIR/cut-N.krl (every prefix) and OUTDIR/flip-N.krl (COUNT
        copies with one byte changed, chosen by SEED).

CERT.pub is a certificate signed by CA.pub, whose serial and key id the
cases revoke; KEY.pub a plain key.
"""
import base64
import hashlib
import os
import random
import struct
import sys

MAGIC = b"SSHKRL\n\0"


def u8(v):
    return struct.pack(">B", v)


def u32(v):
    return struct.pack(">I", v)


def u64(v):
    return struct.pack(">Q", v)


def string(b):
    return u32(len(b)) + b


def mpint(b, minimal=True):
    if minimal:
        b = b.lstrip(b"\0")
        if b and b[0] & 0x80:
            b = b"\0" + b
    return string(b)


def header(comment=b"crafted", version=1, magic=MAGIC):
    return magic + u32(version) + u64(7) + u64(1700000000) + u64(0) + \
        string(b"") + string(comment)


def section(t, data):
    return u8(t) + string(data)


def certs(ca, subsections, reserved=b""):
    return section(1, string(ca) + string(reserved) + b"".join(subsections))


def sub(t, data):
    return u8(t) + string(data)


def blob_of(path):
    with open(path) as f:
        return base64.b64decode(f.read().split()[1])


def cert_fields(cert):
    """serial and key id of an OpenSSH certificate blob."""
    off = 0

    def get_string():
        nonlocal off
        n = struct.unpack(">I", cert[off:off + 4])[0]
        v = cert[off + 4:off + 4 + n]
        off += 4 + n
        return v
    ctype = get_string()
    get_string()  # nonce
    if ctype.startswith(b"ssh-ed25519"):
        get_string()
    elif ctype.startswith(b"ecdsa"):
        get_string()
        get_string()
    else:
        get_string()
        get_string()
    serial = struct.unpack(">Q", cert[off:off + 8])[0]
    off += 12
    return serial, get_string()


def dsa_key():
    return string(b"ssh-dss") + mpint(b"\xc1" * 128) + mpint(b"\xb3" * 20) + \
        mpint(b"\x05" * 128) + mpint(b"\x07" * 128)


def crafted(outdir, ca_path, cert_path, key_path):
    ca = blob_of(ca_path)
    cert = blob_of(cert_path)
    key = blob_of(key_path)
    serial, keyid = cert_fields(cert)
    sha256 = hashlib.sha256(key).digest()
    sha1 = hashlib.sha1(key).digest()
    # An RSA key of 768 bits (OpenSSH loads none under 1024) and of 1024.
    rsa768 = string(b"ssh-rsa") + mpint(b"\x01\x00\x01") + mpint(b"\xc3" * 96)
    rsa1024 = string(b"ssh-rsa") + mpint(b"\x01\x00\x01") + mpint(b"\xc3" * 128)
    ed_identity = string(b"ssh-ed25519") + string(b"\x01" + b"\0" * 31)
    # CA.pub is a P-256 key: its blob ends with string(65-byte point).
    point = ca[-65:]
    compressed = ca[:-69] + string(bytes([2 + (point[-1] & 1)]) + point[1:33])
    offcurve = bytearray(ca)
    offcurve[-1] ^= 1
    sl = sub(0x20, u64(serial))
    cases = [
        ("wildcard-serial", "same", header() + certs(b"", [sl])),
        ("wildcard-keyid", "same", header() + certs(b"", [sub(0x23, string(keyid))])),
        ("ca-serial", "same", header() + certs(ca, [sl])),
        ("ca-serial-twice", "same", header() + certs(ca, [sl]) + certs(ca, [sl])),
        ("ca-range", "same", header() + certs(ca, [sub(0x21, u64(serial) + u64(serial + 5))])),
        ("ca-range-below", "same", header() + certs(ca, [sub(0x21, u64(1) + u64(serial - 1))])),
        ("ca-range-reversed", "same", header() + certs(ca, [sub(0x21, u64(serial + 1) + u64(serial))])),
        ("ca-range-zero", "same", header() + certs(ca, [sub(0x21, u64(0) + u64(serial))])),
        ("ca-range-trailing", "same", header() + certs(ca, [sub(0x21, u64(serial) + u64(serial) + b"\0")])),
        ("ca-list-zero", "same", header() + certs(ca, [sub(0x20, u64(serial) + u64(0))])),
        ("ca-list-truncated", "same", header() + certs(ca, [sub(0x20, u64(serial) + b"\0\0\0")])),
        ("ca-bitmap-hit", "same", header() + certs(ca, [sub(0x22, u64(serial - 3) + mpint(b"\x08"))])),
        ("ca-bitmap-miss", "same", header() + certs(ca, [sub(0x22, u64(serial - 3) + mpint(b"\x17"))])),
        ("ca-bitmap-high", "same", header() + certs(ca, [sub(0x22, u64(serial - 20) + mpint(b"\x00\x10\x00\x00"))])),
        ("ca-bitmap-empty", "same", header() + certs(ca, [sub(0x22, u64(5) + mpint(b""))])),
        ("ca-bitmap-serial0", "same", header() + certs(ca, [sub(0x22, u64(0) + mpint(b"\x03"))])),
        ("ca-bitmap-wrap", "same", header() + certs(ca, [sub(0x22, u64(2**64 - 2) + mpint(b"\x04"))])),
        ("ca-bitmap-top", "same", header() + certs(ca, [sub(0x22, u64(2**64 - 2) + mpint(b"\x03"))])),
        ("ca-bitmap-nonminimal", "stricter", header() + certs(ca, [sub(0x22, u64(serial) + string(b"\0\x01"))])),
        ("ca-bitmap-negative", "same", header() + certs(ca, [sub(0x22, u64(serial) + string(b"\x81"))])),
        ("ca-keyid", "same", header() + certs(ca, [sub(0x23, string(b"other") + string(keyid))])),
        ("ca-keyid-nul-end", "same", header() + certs(ca, [sub(0x23, string(keyid + b"\0"))])),
        ("ca-keyid-nul-inside", "same", header() + certs(ca, [sub(0x23, string(b"a\0" + keyid))])),
        ("ca-unknown-sub", "same", header() + certs(ca, [sub(0x24, b"")])),
        ("ca-reserved", "same", header() + certs(ca, [sl], reserved=b"anything")),
        ("ca-only", "same", header() + certs(ca, [])),
        ("ca-rsa768", "same", header() + certs(rsa768, [sl])),
        ("ca-rsa1024", "same", header() + certs(rsa1024, [sl])),
        ("ca-ed25519-identity", "same", header() + certs(ed_identity, [sl])),
        ("ca-ec-offcurve", "same", header() + certs(bytes(offcurve), [sl])),
        ("ca-ec-compressed", "same", header() + certs(compressed, [sl])),
        ("ca-ec-trailing", "same", header() + certs(ca + b"\0", [sl])),
        ("ca-dsa", "stricter", header() + certs(dsa_key(), [sl])),
        ("ca-is-cert", "stricter", header() + certs(cert, [sl])),
        ("ca-garbage", "same", header() + certs(string(b"no-such-key") + string(b"x"), [sl])),
        ("explicit", "same", header() + section(2, string(b"junk") + string(key))),
        ("explicit-empty-entry", "same", header() + section(2, string(b""))),
        ("explicit-truncated", "same", header() + section(2, string(key)[:-1])),
        ("sha1", "same", header() + section(3, string(sha1))),
        ("sha1-short", "same", header() + section(3, string(sha1[:19]))),
        ("sha256", "same", header() + section(5, string(b"\0" * 32) + string(sha256))),
        ("sha256-long", "same", header() + section(5, string(sha256 + b"\0"))),
        ("empty-sections", "same", header() + section(2, b"") + section(3, b"") + section(5, b"")),
        ("unknown-section", "same", header() + section(6, b"")),
        ("extension-section", "same", header() + section(255, string(b"x@example.com") + u8(0) + string(b""))),
        ("signature-garbage", "same", header() + section(5, string(sha256)) + section(4, string(ca)) + string(b"sig")),
        ("trailing-byte", "same", header() + section(5, string(sha256)) + b"\x05"),
        ("bad-magic", "same", header(magic=b"SSHKRL\n\1") + section(5, string(sha256))),
        ("version-2", "same", header(version=2) + section(5, string(sha256))),
        ("comment-nul-end", "same", header(comment=b"c\0") + section(5, string(sha256))),
        ("comment-nul-inside", "same", header(comment=b"c\0d") + section(5, string(sha256))),
        ("header-only", "same", header()),
        ("truncated-header", "same", header()[:30]),
        ("empty-file", "same", b""),
    ]
    with open(os.path.join(outdir, "cases"), "w") as f:
        for name, expect, data in cases:
            with open(os.path.join(outdir, name + ".krl"), "wb") as k:
                k.write(data)
            f.write("%s %s\n" % (name, expect))


def mutate(outdir, path, seed, count):
    with open(path, "rb") as f:
        data = f.read()
    for n in range(len(data)):
        with open(os.path.join(outdir, "cut-%d.krl" % n), "wb") as f:
            f.write(data[:n])
    rnd = random.Random(seed)
    for n in range(count):
        d = bytearray(data)
        i = rnd.randrange(len(d))
        d[i] = (d[i] + rnd.randrange(1, 256)) & 0xff
        with open(os.path.join(outdir, "flip-%d.krl" % n), "wb") as f:
            f.write(d)


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "crafted":
        crafted(*sys.argv[2:])
    elif len(sys.argv) == 6 and sys.argv[1] == "mutate":
        mutate(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
    else:
        sys.exit(__doc__)
