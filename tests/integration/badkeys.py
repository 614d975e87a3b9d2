#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
# badkeys.py OUTDIR RSA.pub - write the subject keys no one should certify,
# in each form nkhsm-sshca reads, for sshca-keys.sh and pam-keys.sh:
#
#   NAME.pub  an OpenSSH line         (sign, x509 --pubkey, authorized_keys)
#   NAME.pem  a PEM SubjectPublicKeyInfo (x509 --pubkey)
#   NAME.csr  a certificate request whose signature is forged without any
#             private key (x509 --csr), where the key allows that
#
# Ed25519: every encoding ed25519_torsion.py derives. For a point of small
# order o, the signature R = identity, S = 0 verifies whenever the request
# hash k satisfies k = 0 (mod o); the subject's CN is varied until it does.
# RSA (the modulus of RSA.pub): public exponents 1 and 65536; with e = 1 the
# "signature" is the PKCS#1 v1.5 encoded digest itself.
import base64
import hashlib
import os
import struct
import sys

sys.dont_write_bytecode = True     # nothing written into the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "unit"))
import ed25519_torsion as ed   # noqa: E402


def der(tag, body):
    n = len(body)
    if n < 128:
        hdr = bytes([n])
    else:
        b = n.to_bytes((n.bit_length() + 7) // 8, "big")
        hdr = bytes([0x80 | len(b)]) + b
    return bytes([tag]) + hdr + body


def seq(*parts):
    return der(0x30, b"".join(parts))


def integer(v):
    b = v.to_bytes((v.bit_length() + 8) // 8, "big")
    return der(0x02, b)


def bitstring(b):
    return der(0x03, b"\0" + b)


def oid(hexbytes):
    return der(0x06, bytes.fromhex(hexbytes))


ED25519 = seq(oid("2b6570"))
RSA_ENC = seq(oid("2a864886f70d010101"), der(0x05, b""))
SHA256_RSA = seq(oid("2a864886f70d01010b"), der(0x05, b""))


def name(cn):
    return seq(der(0x31, seq(oid("550403"), der(0x0c, cn.encode()))))


def request_info(cn, spki):
    return seq(integer(0), name(cn), spki, der(0xa0, b""))


def pem(label, body):
    return ("-----BEGIN %s-----\n%s-----END %s-----\n" %
            (label, base64.encodebytes(body).decode(), label))


def sshstr(b):
    return struct.pack(">I", len(b)) + b


def mpint(v):
    return sshstr(v.to_bytes((v.bit_length() + 8) // 8, "big") if v else b"")


def small_order(pub):
    """The order of the point a lenient decoder reads, if at most 8."""
    v = int.from_bytes(pub, "little")
    y, sign = (v & (2**255 - 1)) % ed.P, v >> 255
    x = ed.x_for(y)
    if x is None:
        return None
    if x & 1 != sign:
        x = (ed.P - x) % ed.P
    return ed.order((x, y))


def ed25519_csr(pub):
    o = small_order(pub)
    if o is None:
        return None
    spki = seq(ED25519, bitstring(pub))
    r = (1).to_bytes(32, "little")           # the identity
    for i in range(1000):
        info = request_info("forged%d" % i, spki)
        k = int.from_bytes(hashlib.sha512(r + pub + info).digest(), "little")
        if (k % ed.L) % o == 0:
            return seq(info, ED25519, bitstring(r + bytes(32)))
    return None


def write(d, fname, data):
    with open(os.path.join(d, fname), "w" if isinstance(data, str) else "wb") as f:
        f.write(data)


def main():
    out, rsapub = sys.argv[1], sys.argv[2]
    for nm, h in ed.vectors():
        pub = bytes.fromhex(h)
        blob = sshstr(b"ssh-ed25519") + sshstr(pub)
        write(out, "ed_%s.pub" % nm, "ssh-ed25519 %s %s\n" %
              (base64.b64encode(blob).decode(), nm))
        write(out, "ed_%s.pem" % nm, pem("PUBLIC KEY",
              seq(ED25519, bitstring(pub))))
        csr = ed25519_csr(pub)
        if csr is not None:
            write(out, "ed_%s.csr" % nm, pem("CERTIFICATE REQUEST", csr))
    with open(rsapub) as f:
        blob = base64.b64decode(f.read().split()[1])
    fields = []
    while blob:
        n = struct.unpack(">I", blob[:4])[0]
        fields.append(blob[4:4 + n])
        blob = blob[4 + n:]
    n = int.from_bytes(fields[2], "big")
    for e in (1, 65536):
        nm = "rsa_e%d" % e
        write(out, nm + ".pub", "ssh-rsa %s %s\n" % (base64.b64encode(
            sshstr(b"ssh-rsa") + mpint(e) + mpint(n)).decode(), nm))
        spki = seq(RSA_ENC, bitstring(seq(integer(n), integer(e))))
        write(out, nm + ".pem", pem("PUBLIC KEY", spki))
        if e == 1:
            info = request_info("forged-rsa", spki)
            digest = hashlib.sha256(info).digest()
            t = bytes.fromhex("3031300d060960864801650304020105000420") + digest
            k = (n.bit_length() + 7) // 8
            em = b"\0\1" + b"\xff" * (k - len(t) - 3) + b"\0" + t
            write(out, nm + ".csr", pem("CERTIFICATE REQUEST",
                  seq(info, SHA256_RSA, bitstring(em))))


if __name__ == "__main__":
    main()
