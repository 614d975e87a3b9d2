#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# card-tool.sh - nkhsm-tool on an emulated SmartCard-HSM through pcscd and
# OpenSC, with tool-formats.sh's checks: list and status, keygen on P-256,
# P-384 and P-521, public keys checked by ssh-keygen -D and openssl,
# self-signed certificates stored on the card and read back, signatures
# openssl verifies. The card also holds a secp256k1 device key (20-byte
# zero id) that nkhsm must step over.
. "${top_srcdir:-.}/tests/integration/common.sh"
. "$top_srcdir/tests/integration/card-common.sh"
. "$top_srcdir/tests/integration/tool-checks.sh"

card_start
LABEL='Pico-HSM (UserPIN)'

expect_exit 0 "list finds the card" nk list
expect_grep "token \"$LABEL\"" "$T/out" "list names the card's token"
expect_grep 'serial: *ESPICOHSMTR' "$T/out" "list shows the card's serial"

for curve in p256 p384 p521; do
	case $curve in p256) id=01 ;; p384) id=02 ;; p521) id=03 ;; esac
	check_keygen $curve $id "key $curve" \
	    "pkcs11:token=Pico-HSM%20(UserPIN);serial=ESPICOHSMTR;object=key%20$curve;id=%$id;type=private"
	eval "uri_$curve=\$keygen_uri"
done
token_ssh_keys
for curve in p256 p384 p521; do
	case $curve in p256) id=01 ca= ;; p384) id=02 ca=--ca ;; p521) id=03 ca= ;; esac
	# The URI keygen printed (the token's label has a space and
	# parentheses), and an id-only one.
	eval "uri=\$uri_$curve"
	check_pubkey $curve "$uri"
	check_selfsign $curve "pkcs11:id=%$id" $id $ca
	# After the certificate replaced the card's copy of the public key
	# (its CExx file): check_sign's "verify by URI" reads the key again.
	check_sign $curve "$uri"
	# What the host alone does (encodings, the refusal before any write)
	# is checked on one curve: each card operation costs seconds.
	[ $curve = p256 ] || continue
	check_fingerprint $curve "$uri"
	check_store_again $curve "$uri"
	check_sign_formats $curve "$uri"
done
check_list_status "$LABEL"
check_keygen_autoid

finish
