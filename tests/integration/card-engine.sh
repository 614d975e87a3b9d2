#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# card-engine.sh - the path of the guides users come from, on an emulated
# SmartCard-HSM: nkhsm-tool makes a key on the card, libp11's OpenSSL engine
# (openssl req -engine pkcs11 -keyform engine, set up in an openssl.cnf as
# the guides do) makes a CA certificate with it, pkcs11-tool stores that
# certificate on the card; then nkhsm reads it back (its key is the card
# key, status lists the key, nkhsm's signatures verify with the
# certificate's key) and nkhsm-sshca takes the key as its CA key, keeping
# the certificate.
. "${top_srcdir:-.}/tests/integration/common.sh"
. "$top_srcdir/tests/integration/card-common.sh"
. "$top_srcdir/tests/integration/tool-checks.sh"
. "$top_srcdir/tests/integration/sshca-checks.sh"

: "${PKCS11_ENGINE:=/usr/lib/x86_64-linux-gnu/engines-3/pkcs11.so}"
[ -f "$PKCS11_ENGINE" ] ||
    card_unavailable "libp11's engine $PKCS11_ENGINE is missing (libengine-pkcs11-openssl)"
[ -x "$SSHCA" ] || { echo "nkhsm-sshca not built"; exit 99; }
card_start

check_keygen p256 10 guide 'object=guide;id=%10;type=private'
nk pubkey --format pem -o "$T/key.pem" 'pkcs11:object=guide'

cat > "$T/openssl.cnf" <<EOF
openssl_conf = openssl_init
[openssl_init]
engines = engine_section
[engine_section]
pkcs11 = pkcs11_section
[pkcs11_section]
engine_id = pkcs11
dynamic_path = $PKCS11_ENGINE
MODULE_PATH = $OPENSC_MODULE
init = 0
[req]
distinguished_name = dn
[dn]
EOF
expect_exit 0 "openssl req -engine pkcs11 signs a CA certificate with the card key" \
    env OPENSSL_CONF="$T/openssl.cnf" openssl req -new -x509 -engine pkcs11 \
    -keyform engine -key 'pkcs11:object=guide;type=private' -passin env:NK_CARD_PIN \
    -subj '/CN=Guide CA/O=nkhsm tests' -days 30 -sha256 \
    -addext basicConstraints=critical,CA:TRUE \
    -addext keyUsage=critical,keyCertSign,cRLSign,digitalSignature -out "$T/guide.pem"
expect_exit 0 "openssl verifies the engine's self-signed certificate" \
    openssl verify -CAfile "$T/guide.pem" "$T/guide.pem"
openssl x509 -in "$T/guide.pem" -noout -pubkey > "$T/guide.pub.pem"
expect_exit 0 "the certificate's key is the card key (nkhsm-tool pubkey)" \
    cmp "$T/guide.pub.pem" "$T/key.pem"

openssl x509 -in "$T/guide.pem" -outform DER -out "$T/guide.der"
expect_exit 0 "pkcs11-tool stores the certificate on the card" \
    pkcs11-tool --module "$OPENSC_MODULE" --login --pin "$CARD_PIN" \
    --write-object "$T/guide.der" --type cert --id 10 --label guide

# nkhsm reads it back.
nk pubkey --format pem 'pkcs11:object=guide;type=cert' > "$T/fromcert.pem"
expect_exit 0 "nkhsm-tool reads the key from the stored certificate" \
    cmp "$T/fromcert.pem" "$T/guide.pub.pem"
nk pubkey --format ssh 'pkcs11:object=guide' > "$T/guide.ssh.pub"
expect_exit 0 "status on the card" nk status
expect_grep "id 10  p256   $(fp "$T/guide.ssh.pub")  \"guide\"" "$T/out" \
    "status lists the key with its fingerprint"
printf 'guide message\n' > "$T/msg"
expect_exit 0 "nkhsm-tool signs with the key" nk sign --pin-source "$TEST_PIN" \
    -i "$T/msg" -o "$T/msg.sig" 'pkcs11:object=guide'
expect_exit 0 "the signature verifies with the engine certificate's key" \
    openssl dgst -sha256 -verify "$T/guide.pub.pem" -signature "$T/msg.sig" "$T/msg"

# The key as nkhsm-sshca's CA key: the card's certificate stays the engine's.
expect_exit 0 "nkhsm-sshca init --key takes the card key" \
    sc init --key 'pkcs11:object=guide'
cp "$T/out" "$T/ca.pub"
expect_eq "$(awk '{print $1, $2}' "$T/ca.pub")" "$(awk '{print $1, $2}' "$T/guide.ssh.pub")" \
    "the CA line is the card key"
CAFP=$(fp "$T/ca.pub")
ssh-keygen -q -t ed25519 -N '' -C user -f "$T/user" || exit 99
expect_exit 0 "nkhsm-sshca signs with it" sc sign --user -I guide-user -n alice -V +1h \
    "$T/user.pub"
check_batch "guide CA" guide-user ecdsa-sha2-nistp256 0 "$T/user.pub"
pkcs11-tool --module "$OPENSC_MODULE" --read-object --type cert --id 10 \
    -o "$T/card.der" >/dev/null 2>&1
expect_exit 0 "the card still holds the engine's certificate" cmp "$T/card.der" "$T/guide.der"

finish
