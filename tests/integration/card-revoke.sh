#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# card-revoke.sh - krl= on the emulated SmartCard-HSM, on both login paths
# (the direct PC/SC path and OpenSC's PKCS#11 module): a key the KRL
# revokes is refused with PAM_AUTH_ERR before any PIN is asked for or sent
# to the card, and the card's PIN tries stay as they were. pam-revoke.sh
# covers the rest of revocation on SoftHSM.
. "${top_srcdir:-.}/tests/integration/common.sh"
. "$top_srcdir/tests/integration/card-common.sh"
pam_setup
card_start
nkc() { "$TOOL" --config "$T/nkhsm.conf" --module "$OPENSC_MODULE" "$@"; }

NKAPDU="$top_builddir/tests/pcscfault/nkapdu"
SELECT=00A404000BE82B0601040181C31F020100
BASE="module=$OPENSC_MODULE helper=$PAM_HELPER conf=$T/nkhsm.conf rundir=$RUNDIR cachedir=$T/cache"
tries() { "$NKAPDU" "$SELECT" 00200081 | tail -1; }

nkc keygen --curve p256 --label login --id 01 --pin-source env:NK_CARD_PIN > "$T/kg.out" 2>&1 ||
    { fail "keygen on the card"; sed 's/^/  | /' "$T/kg.out"; exit 1; }
sed -n 's/^ *ssh: *//p' "$T/kg.out" > "$T/card.pub"
install -o "$PAM_USER" -m 600 "$T/card.pub" "$AUTHFILE"
# A KRL that revokes another key only, then one that revokes the card's.
ssh-keygen -q -t ecdsa -N '' -f "$T/other" > /dev/null
ssh-keygen -q -k -f "$T/other.krl" "$T/other.pub" || fail "ssh-keygen -k (another key)"
ssh-keygen -q -k -f "$T/card.krl" "$T/other.pub" "$T/card.pub" || fail "ssh-keygen -k (the card's key)"
ssh-keygen -Q -f "$T/card.krl" "$T/card.pub" > /dev/null 2>&1 &&
    fail "ssh-keygen -Q: the card's key is not revoked by card.krl" ||
    pass "ssh-keygen -Q: card.krl revokes the card's key"

for drv in pcsc pkcs11; do
	pam_service "ok-$drv" "auth required $PAM_MOD $BASE driver=$drv krl=$T/other.krl"
	pam_service "rev-$drv" "auth required $PAM_MOD $BASE driver=$drv krl=$T/card.krl"
	pam_run "ok-$drv" authenticate "$CARD_PIN\n"
	expect_pam "$R_SUCCESS" "driver=$drv, a KRL of another key: PAM_SUCCESS"
	before=$(tries)
	apdu_mark
	pam_run "rev-$drv" authenticate "$CARD_PIN\n"
	expect_pam "$R_AUTH_ERR" "driver=$drv, the card's key revoked: PAM_AUTH_ERR"
	expect_grep "key has been revoked" "$T/pam.out" "driver=$drv: the user is told"
	grep -q "PIN for" "$T/pam.out" && fail "driver=$drv: a PIN was asked" ||
	    pass "driver=$drv: no PIN asked"
	apdu_log_since | grep -q '^00 20 00 81 [0-9A-F][0-9A-F] ' &&
	    fail "driver=$drv: a PIN was sent to the card" ||
	    pass "driver=$drv: no PIN sent to the card"
	after=$(tries)
	[ "$after" = "$before" ] && pass "driver=$drv: PIN tries as before ($before)" ||
	    fail "driver=$drv: PIN tries $before -> $after"
done
finish
