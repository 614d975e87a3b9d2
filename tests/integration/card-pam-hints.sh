#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# card-pam-hints.sh - the direct path's card hints cannot go stale in a
# harmful way. Between two logins on the emulated SmartCard-HSM: the key is
# deleted and another made with the same id (so the same key reference);
# another card with the same serial is put in (every emulated card is
# ESPICOHSMTR); that other card gets a copy of the first card's public key
# file, so it claims the user's key without holding it. Each time: no wrong
# key, no false accept, no PIN try spent. And a hints file that is not
# root's alone is not used.
. "${top_srcdir:-.}/tests/integration/common.sh"
. "$top_srcdir/tests/integration/card-common.sh"
pam_setup
card_start
# Setting the card up is not under test: no valgrind there (OpenSC's
# keygen leaks a few bytes of its own).
nkc() { "$TOOL" --config "$T/nkhsm.conf" --module "$OPENSC_MODULE" "$@"; }

NKAPDU="$top_builddir/tests/pcscfault/nkapdu"
SELECT=00A404000BE82B0601040181C31F020100
VERIFY=0020008106$(printf '%s' "$CARD_PIN" | od -An -tx1 | tr -d ' \n')
BASE="module=$OPENSC_MODULE helper=$PAM_HELPER conf=$T/nkhsm.conf rundir=$RUNDIR cachedir=$T/cache"
pam_service direct "auth required $PAM_MOD $BASE debug"
pam_service p11 "auth required $PAM_MOD $BASE driver=pkcs11"
hints="$T/cache/card-hints"

# keygen LABEL FILE: a P-256 key with id 01 on the card, its OpenSSH line in FILE.
keygen() {
	if ! nkc keygen --curve p256 --label "$1" --id 01 --pin-source env:NK_CARD_PIN \
	    > "$T/kg.out" 2>&1; then
		fail "keygen $1 on the card"
		sed 's/^/  | /' "$T/kg.out"
		nkc list 2>&1 | sed 's/^/  | /'
		exit 1
	fi
	sed -n 's/^ *ssh: *//p' "$T/kg.out" > "$2"
}
# tries: the card's PIN status (63Cx), after a SELECT.
tries() { "$NKAPDU" "$SELECT" 00200081 | tail -1; }
# card_swap FLASH: another card in the reader (its flash in the kit's dir).
card_swap() {
	card_remove
	cp "$1" "$CARD_DIR/card/memory.flash"
	card_insert
}
# refused_without_pin DESCRIPTION: the last login was refused before any PIN.
refused_without_pin() {
	expect_pam "$R_AUTH_ERR" "$1: PAM_AUTH_ERR"
	if grep -q "PIN for" "$T/pam.out"; then fail "$1: a PIN was asked"; else pass "$1: no PIN asked"; fi
	if apdu_log_since | grep -q '^00 20 00 81 [0-9A-F][0-9A-F] '; then
		fail "$1: a PIN was sent to the card"
	else
		pass "$1: no PIN sent to the card"
	fi
}

keygen login "$T/a1.pub"
nkc keygen --curve p256 --label other --id 02 --pin-source env:NK_CARD_PIN > /dev/null
install -o "$PAM_USER" -m 600 "$T/a1.pub" "$AUTHFILE"
pam_run direct authenticate "$CARD_PIN\n"
expect_pam "$R_SUCCESS" "card A, key A1: the first login writes its hint"
grep -q '^k1 [0-9a-f]* 01 ' "$hints" && pass "the hint: key reference 01" || fail "no hint for reference 01"

# --- the key deleted, another made with the same id ---------------------------
pkcs11-tool --module "$OPENSC_MODULE" --login --pin "$CARD_PIN" --delete-object \
    --type privkey --id 01 > /dev/null 2>&1 || fail "pkcs11-tool --delete-object"
keygen login2 "$T/a2.pub"
cmp -s "$T/a1.pub" "$T/a2.pub" && fail "the new key is the old one" || pass "key A1 replaced by A2 with id 01"
before=$(tries)
apdu_mark
pam_run direct authenticate "$CARD_PIN\n"
refused_without_pin "hint for a deleted key, another key in its place"
expect_grep "holds none of your keys" "$T/pam.out" "replaced key: the user is told"
[ "$(tries)" = "$before" ] && pass "replaced key: no PIN try spent ($before)" || fail "tries: $before -> $(tries)"
nhint=$(grep -c '^k1' "$hints")
[ "$nhint" -eq 0 ] && pass "replaced key: the wrong hint is dropped" || fail "replaced key: $nhint hints left"
install -o "$PAM_USER" -m 600 "$T/a2.pub" "$AUTHFILE"
pam_run direct authenticate "$CARD_PIN\n"
expect_pam "$R_SUCCESS" "the new key, once authorized, logs in"

# --- another card with the same serial -----------------------------------------
# Card B is made in the same kit: its own flash, initialized and given a key
# with the same id (so the same reference) while card A's flash waits aside.
flash="$CARD_DIR/card/memory.flash"
card_remove
mv "$flash" "$T/flash.A"
card_insert
if ! sc-hsm-tool --initialize --so-pin "$CARD_SO_PIN" --pin "$CARD_PIN" > "$T/init.out" 2>&1; then
	sed 's/^/  | /' "$T/init.out"
	card_unavailable "cannot initialize card B"
fi
keygen b1 "$T/b1.pub"
card_remove
cp "$flash" "$T/flash.B"
card_swap "$T/flash.A"
pam_run direct authenticate "$CARD_PIN\n"
expect_pam "$R_SUCCESS" "card A again: the hint for A2 on reference 01"
"$NKAPDU" "$SELECT" 00B1CE01000004540200000000 > "$T/ce01.a"
card_swap "$T/flash.B"
[ "$(nkc list | grep -c ESPICOHSMTR)" -ge 1 ] && pass "card B has card A's serial" || fail "card B's serial"
before=$(tries)
apdu_mark
pam_run direct authenticate "$CARD_PIN\n"
refused_without_pin "card B, same serial, another key at the hinted reference"
[ "$(tries)" = "$before" ] && pass "card B: no PIN try spent ($before)" || fail "card B tries: $before -> $(tries)"

# Card B is given card A's public key file for reference 01: it now claims
# key A2 without holding it. The PIN is asked (the card says it has the
# key) but the signature, made with B's own key, does not verify.
ce01=$(sed -n 2p "$T/ce01.a" | cut -d' ' -f1)	# line 1 answers the SELECT
len=$(( ${#ce01} / 2 ))
body="540200005382$(printf '%04x' "$len")$ce01"
lc=$(printf '%06x' $(( ${#body} / 2 )))
"$NKAPDU" "$SELECT" "$VERIFY" "00D7CE01$lc$body" "$SELECT" > "$T/copy.out" 2>&1
[ "${#ce01}" -gt 200 ] && sed -n 3p "$T/copy.out" | grep -q '^9000$' &&
    pass "card B: card A's public key file copied to CE01" ||
    fail "copying CE01: $(cat "$T/copy.out")"
for svc in direct p11; do
	pam_run "$svc" authenticate "$CARD_PIN\n"
	expect_pam "$R_AUTH_ERR" "$svc: a card that claims the key without holding it: PAM_AUTH_ERR"
	expect_grep "signature does not verify" "$T/pam.out" "$svc: the claim fails at the signature"
done
[ "$(tries)" = 63C3 ] && pass "the claiming card: no try spent (the PIN was right)" || fail "tries: $(tries)"

# Card A back: the login works again.
card_swap "$T/flash.A"
pam_run direct authenticate "$CARD_PIN\n"
expect_pam "$R_SUCCESS" "card A back in: PAM_SUCCESS"

# --- a hints file that is not root's alone is not used ---------------------------
apdu_mark
pam_run direct authenticate "$CARD_PIN\n"
warm=$(apdus_since)
chmod 644 "$hints"
apdu_mark
pam_run direct authenticate "$CARD_PIN\n"
expect_pam "$R_SUCCESS" "a readable hints file: PAM_SUCCESS all the same"
[ "$(apdus_since)" -gt "$warm" ] && pass "a hints file others can read is not used (a scan: $(apdus_since) APDUs, $warm hinted)" ||
    fail "a readable hints file was used"
[ "$(stat -c %a "$hints")" = 600 ] && pass "and it is written again, mode 600" || fail "hints mode $(stat -c %a "$hints")"
mv "$hints" "$T/hints.real"
ln -s "$T/hints.real" "$hints"
apdu_mark
pam_run direct authenticate "$CARD_PIN\n"
[ "$(apdus_since)" -gt "$warm" ] && pass "a symbolic link for the hints file is not followed" ||
    fail "the symlinked hints file was used"
[ -L "$hints" ] && fail "the symbolic link was left" || pass "the link is replaced by a file"
finish
