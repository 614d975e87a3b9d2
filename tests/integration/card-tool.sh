#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# card-tool.sh - nkhsm-tool on an emulated SmartCard-HSM through pcscd and
# OpenSC: the card is found, its PIN state read, and a key generated on it
# signs what openssl verifies.
. "${top_srcdir:-.}/tests/integration/common.sh"
. "$top_srcdir/tests/integration/card-common.sh"

card_start

expect_exit 0 "list finds the card" nkc list
expect_grep 'SmartCard-HSM\|Pico-HSM' "$T/out" "list names the SmartCard-HSM"

expect_exit 0 "keygen p256 on the card" nkc keygen --curve p256 --label login \
    --id 01 --pin-source env:NK_CARD_PIN
uri='pkcs11:object=login;type=private'
expect_exit 0 "pubkey of the card key" nkc pubkey --format pem -o "$T/login.pem" "$uri"
printf 'card message\n' > "$T/msg"
expect_exit 0 "sign with the card key" nkc sign -i "$T/msg" -o "$T/msg.sig" \
    --pin-source env:NK_CARD_PIN "$uri"
if openssl dgst -sha256 -verify "$T/login.pem" -signature "$T/msg.sig" "$T/msg" >/dev/null 2>&1; then
	pass "openssl verifies the card's signature"
else
	fail "openssl rejects the card's signature"
fi
finish
