#!/usr/bin/env python3
# SPDX-License-Identifier: BSD-2-Clause
# ed25519_torsion.py - derive the Ed25519 public key encodings that no one
# should certify or accept, from the curve's definition alone (RFC 8032
# parameters, affine Edwards arithmetic): every point of small order (the
# 8-torsion subgroup), in every 32-byte encoding that a lenient decoder
# maps to it, and non-canonical encodings (y >= p) of other points.
#
# Prints "NAME HEX" lines. test_keycheck.c holds the same vectors;
# sshca-keys.sh feeds this script's output to nkhsm-sshca, so the C list in
# lib/keycheck.c is checked against an independent derivation.
import sys

P = 2**255 - 19
D = (-121665 * pow(121666, P - 2, P)) % P
L = 2**252 + 27742317777372353535851937790883648493   # the prime order
SQRT_M1 = pow(2, (P - 1) // 4, P)
IDENTITY = (0, 1)


def inv(a):
    return pow(a, P - 2, P)


def add(p1, p2):
    x1, y1 = p1
    x2, y2 = p2
    t = D * x1 * x2 * y1 * y2 % P
    return ((x1 * y2 + x2 * y1) * inv(1 + t) % P,
            (y1 * y2 + x1 * x2) * inv(1 - t) % P)


def mul(k, pt):
    r = IDENTITY
    while k:
        if k & 1:
            r = add(r, pt)
        pt = add(pt, pt)
        k >>= 1
    return r


def order(pt):
    n, q = 1, pt
    while q != IDENTITY:
        q = add(q, pt)
        n += 1
        if n > 8:
            return None
    return n


def x_for(y):
    """An x with (x, y) on the curve, or None."""
    u = (y * y - 1) % P
    v = (D * y * y + 1) % P
    x2 = u * inv(v) % P
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P != 0:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P != 0:
        return None
    return x


def enc(y, sign):
    return (y | (sign << 255)).to_bytes(32, "little").hex()


def torsion():
    """The 8 points of order dividing 8: the multiples of one of order 8."""
    y = 2
    while True:
        x = x_for(y)
        if x is not None:
            t = mul(L, (x, y))       # kills the prime-order part
            if order(t) == 8:
                return [mul(k, t) for k in range(8)]
        y += 1


def vectors():
    out = []
    for k, (x, y) in enumerate(torsion()):
        o = order((x, y))
        out.append(("order%d_point%d" % (o, k), enc(y, x & 1)))
        if x == 0:
            # x = 0 has no negative: the sign bit set is a second encoding.
            out.append(("order%d_negzero" % o, enc(y, 1)))
        if y + P < 2**255:
            # y + p still fits in 255 bits: decodes to y when reduced.
            out.append(("order%d_y_plus_p_sign0" % o, enc(y + P, 0)))
            out.append(("order%d_y_plus_p_sign1" % o, enc(y + P, 1)))
    # Non-canonical encodings of points that are not of small order.
    for y in (2**255 - 1, P + 2):
        out.append(("noncanonical_y_p%+d" % (y - P), enc(y, 0)))
    # A y with no x: not a point on the curve.
    y = 2
    while x_for(y) is not None:
        y += 1
    out.append(("off_curve_y%d" % y, enc(y, 0)))
    return out


if __name__ == "__main__":
    seen = set()
    for name, h in vectors():
        if h not in seen:
            seen.add(h)
            print(name, h)
    sys.exit(0)
