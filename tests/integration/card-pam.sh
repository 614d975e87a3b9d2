#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# card-pam.sh - pam_nkhsm on an emulated SmartCard-HSM behind pcscd, with
# OpenSC's opensc-pkcs11.so as the module: the direct PC/SC path
# (driver=auto, the default) and OpenSC's PKCS#11 path (driver=pkcs11).
# Good PIN, APDUs per login with 3 and 12 keys, the card left logged out,
# OpenSC never loaded on the direct path, wrong PINs with the exact tries
# left, the final try kept from reused passwords, min_tries_left, a locked
# PIN, SO-PIN unblock, the session record and a PIN change.
. "${top_srcdir:-.}/tests/integration/common.sh"
. "$top_srcdir/tests/integration/card-common.sh"
pam_setup
card_start
# Setting the card up is not under test: no valgrind there (OpenSC's
# keygen leaks a few bytes of its own).
nkc() { "$TOOL" --config "$T/nkhsm.conf" --module "$OPENSC_MODULE" "$@"; }

NKAPDU="$top_builddir/tests/pcscfault/nkapdu"
PIN2=135792
nkc keygen --curve p256 --label login --id 01 --pin-source env:NK_CARD_PIN > "$T/kg" ||
    card_unavailable "keygen on the card failed"
sed -n 's/^ *ssh: *//p' "$T/kg" > "$T/login.pub"
nkc keygen --curve p384 --label k2 --id 02 --pin-source env:NK_CARD_PIN > /dev/null
nkc selfsign --subject CN=k2 --days 30 --store --pin-source env:NK_CARD_PIN \
    -o "$T/k2.pem" 'pkcs11:object=k2' > /dev/null
nkc keygen --curve p521 --label k3 --id 03 --pin-source env:NK_CARD_PIN > /dev/null
install -o "$PAM_USER" -m 600 "$T/login.pub" "$AUTHFILE"
fpr=$(ssh-keygen -lf "$T/login.pub" | awk '{print $2}')

CARD_BASE="module=$OPENSC_MODULE helper=$PAM_HELPER conf=$T/nkhsm.conf rundir=$RUNDIR cachedir=$T/cache"
pam_service direct "auth required $PAM_MOD $CARD_BASE debug"
pam_service p11 "auth required $PAM_MOD $CARD_BASE driver=pkcs11"

# logged_out: the card, asked without a SELECT first, is not logged in.
logged_out() {
	_st=$("$NKAPDU" 00200081 2>&1)
	case $_st in
	9000) fail "$1: the card was left logged in" ;;
	*) pass "$1: the card is left logged out ($_st)" ;;
	esac
}
# no_verify DESCRIPTION: no VERIFY with a PIN was sent since apdu_mark.
no_verify() {
	if apdu_log_since | grep -q '^00 20 00 81 [0-9A-F][0-9A-F] '; then
		fail "$1: a PIN was sent to the card"
	else
		pass "$1: no PIN sent to the card"
	fi
}

# --- the direct path ----------------------------------------------------------
apdu_mark
pam_run direct authenticate "$CARD_PIN\n"
expect_pam "$R_SUCCESS" "direct path, first login: PAM_SUCCESS"
cold=$(apdus_since)
expect_grep "through PC/SC" "$T/pam.out" "the direct path served the login"
expect_grep "PIN for token 'Pico-HSM (UserPIN)' (3 tries left)" "$T/pam.out" \
    "the prompt names the card by its label, with the card's count"
if grep -q "Nitrokey" "$T/pam.out"; then fail "the emulator is called a Nitrokey HSM"; else pass "the emulator is not called a Nitrokey HSM"; fi
[ "$cold" -le 12 ] && pass "first login (no hint): $cold APDUs" || fail "first login: $cold APDUs"
hints="$T/cache/card-hints"
[ "$(stat -c '%a %U' "$hints" 2>/dev/null)" = "600 root" ] &&
    pass "card hints written, root's, mode 600" || fail "card hints: $(stat -c '%a %U' "$hints" 2>&1)"
[ "$(stat -c '%a' "$T/cache")" = 700 ] && pass "cache directory made mode 700" || fail "cachedir mode"
logged_out "direct login"

apdu_mark
pam_run direct authenticate "$CARD_PIN\n"
expect_pam "$R_SUCCESS" "direct path, hinted: PAM_SUCCESS"
warm3=$(apdus_since)
[ "$warm3" -le 8 ] && pass "a login with 3 keys and 1 certificate: $warm3 APDUs (goal <= 8)" ||
    fail "a login with 3 keys: $warm3 APDUs"
apdu_log_since > "$T/warm.apdu"
seq=$(cut -c1-5 "$T/warm.apdu" | tr '\n' ' ')
[ "$seq" = "00 A4 00 20 00 B1 00 B1 00 20 80 68 00 A4 " ] &&
    pass "the commands: SELECT, PIN status, 2 reads, VERIFY, sign, SELECT" ||
    fail "the commands: $seq"
if grep -q '^80 58\|^00 B1 2F 03' "$T/warm.apdu"; then fail "hinted login listed objects or read the label"; else pass "hinted login: no object list, no label read"; fi
logged_out "hinted login"

# A key whose file CE xx holds its X.509 certificate (OpenSC stored one for
# k2) instead of the card's request: found by the certificate's public key.
nkc pubkey 'pkcs11:object=k2' > "$T/k2.pub"
install -o "$PAM_USER" -m 600 "$T/k2.pub" "$AUTHFILE"
pam_run direct authenticate "$CARD_PIN\n"
expect_pam "$R_SUCCESS" "direct path: a key stored with its X.509 certificate (P-384)"
install -o "$PAM_USER" -m 600 "$T/login.pub" "$AUTHFILE"

# OpenSC is never loaded on the direct path: with driver=auto, a file named
# like OpenSC's module that is no module at all (root's, so that the code
# check passes) still logs in; driver=pkcs11 fails to load it.
mkdir -p "$T/notmod"
echo "not a PKCS#11 module" > "$T/notmod/opensc-pkcs11.so"
pam_service noopensc "auth required $PAM_MOD helper=$PAM_HELPER conf=$T/nkhsm.conf rundir=$RUNDIR cachedir=$T/cache module=$T/notmod/opensc-pkcs11.so"
pam_run noopensc authenticate "$CARD_PIN\n"
expect_pam "$R_SUCCESS" "direct path: OpenSC's module is never loaded (a file that is none still logs in)"
pam_service noopensc11 "auth required $PAM_MOD helper=$PAM_HELPER conf=$T/nkhsm.conf rundir=$RUNDIR cachedir=$T/cache module=$T/notmod/opensc-pkcs11.so driver=pkcs11"
pam_run noopensc11 authenticate "$CARD_PIN\n"
expect_pam "$R_UNAVAIL" "driver=pkcs11 does load the module (one that is none: PAM_AUTHINFO_UNAVAIL)"

# driver= in nkhsm.conf, overridden by the option; driver=pcsc needs no
# module at all (a missing one is not even checked).
printf 'driver = pkcs11\n' > "$T/p11.conf"; chmod 600 "$T/p11.conf"
pam_service confp11 "auth required $PAM_MOD helper=$PAM_HELPER conf=$T/p11.conf rundir=$RUNDIR cachedir=$T/cache module=$T/notmod/opensc-pkcs11.so"
pam_run confp11 authenticate "$CARD_PIN\n"
expect_pam "$R_UNAVAIL" "driver = pkcs11 in nkhsm.conf: the module is loaded"
pam_service confpc "auth required $PAM_MOD helper=$PAM_HELPER conf=$T/p11.conf rundir=$RUNDIR cachedir=$T/cache module=$T/nowhere/opensc-pkcs11.so driver=pcsc"
pam_run confpc authenticate "$CARD_PIN\n"
expect_pam "$R_SUCCESS" "driver=pcsc overrides nkhsm.conf's driver, and needs no module"
pam_service noopensc "auth required $PAM_MOD helper=$PAM_HELPER conf=$T/nkhsm.conf rundir=$RUNDIR cachedir=$T/cache module=$T/nowhere/opensc-pkcs11.so"
pam_run noopensc authenticate "$CARD_PIN\n"
expect_pam "$R_UNAVAIL" "driver=auto checks the module it may fall back to (a missing one: PAM_AUTHINFO_UNAVAIL)"

# --- OpenSC's PKCS#11 path ----------------------------------------------------
apdu_mark
pam_run p11 authenticate "$CARD_PIN\n"
expect_pam "$R_SUCCESS" "driver=pkcs11: PAM_SUCCESS through OpenSC"
p11n=$(apdus_since)
pass "driver=pkcs11: a login sends $p11n APDUs (direct: $warm3)"
expect_grep "PIN for token 'Pico-HSM (UserPIN)': " "$T/pam.out" "driver=pkcs11: the same name, no count (PKCS#11 has none)"
logged_out "driver=pkcs11 login"

# --- wrong PINs, exact tries ----------------------------------------------------
pam_run direct authenticate "000000\n"
expect_pam "$R_AUTH_ERR" "wrong PIN: PAM_AUTH_ERR"
expect_grep "Wrong PIN; 2 PIN tries left" "$T/pam.out" "wrong PIN: the exact tries left"
logged_out "wrong PIN"
pam_run direct authenticate "$CARD_PIN\n"
expect_pam "$R_SUCCESS" "right PIN after a wrong one"
expect_grep "Warning: 2 PIN tries left" "$T/pam.out" "the count is shown before the prompt"
expect_grep "(2 tries left)" "$T/pam.out" "the prompt shows 2 tries left"
pam_run p11 authenticate "000000\n"
expect_pam "$R_AUTH_ERR" "driver=pkcs11, wrong PIN: PAM_AUTH_ERR"
expect_grep "Wrong PIN; fewer PIN tries left than the maximum" "$T/pam.out" \
    "driver=pkcs11, wrong PIN: only what the flags say"
pam_run direct authenticate "000000\n"
expect_grep "Wrong PIN; 1 PIN try left before the token locks" "$T/pam.out" \
    "second wrong PIN: the final try is announced"

# The final try is never spent on a password from an earlier module.
pam_service ufp "auth optional pam_unix.so" "auth required $PAM_MOD $CARD_BASE use_first_pass"
apdu_mark
pam_run ufp authenticate "$CARD_PIN\n"
expect_pam "$R_AUTH_ERR" "use_first_pass on the final try: refused"
no_verify "use_first_pass on the final try"
pam_service mtl "auth required $PAM_MOD $CARD_BASE min_tries_left=2"
apdu_mark
pam_run mtl authenticate "$CARD_PIN\n"
expect_pam "$R_MAXTRIES" "min_tries_left=2 with 1 try left: PAM_MAXTRIES"
expect_grep "Too few PIN tries left (1 PIN try left" "$T/pam.out" "min_tries_left: the exact count"
no_verify "min_tries_left"
pam_run direct authenticate "$CARD_PIN\n"
expect_pam "$R_SUCCESS" "the final try, typed: PAM_SUCCESS"
expect_grep "Warning: 1 PIN try left before the token locks" "$T/pam.out" "final try: warned"

# --- locked, and the SO-PIN unblock ----------------------------------------------
for i in 1 2; do pam_run direct authenticate "000000\n"; done
pam_run direct authenticate "000000\n"
expect_pam "$R_MAXTRIES" "third wrong PIN locks: PAM_MAXTRIES"
expect_grep "The token's PIN is locked" "$T/pam.out" "locked: the user is told"
apdu_mark
pam_run direct authenticate "$CARD_PIN\n"
expect_pam "$R_MAXTRIES" "locked card, right PIN: PAM_MAXTRIES"
if grep -q "PIN for" "$T/pam.out"; then fail "locked: prompted"; else pass "locked: no PIN prompt"; fi
no_verify "locked card"
pam_run p11 authenticate "$CARD_PIN\n"
expect_pam "$R_MAXTRIES" "driver=pkcs11, locked card: PAM_MAXTRIES"
# OpenSC 0.23's sc-hsm-tool has no --unlock-pin; pkcs11-tool resets the
# retry counter and sets a new PIN with the SO-PIN (RESET RETRY COUNTER).
if pkcs11-tool --module "$OPENSC_MODULE" --login --login-type so \
    --so-pin "$CARD_SO_PIN" --init-pin --new-pin "$PIN2" > "$T/unlock.out" 2>&1; then
	pass "SO-PIN unblock (pkcs11-tool --init-pin with the SO-PIN)"
else
	fail "SO-PIN unblock"; sed 's/^/  | /' "$T/unlock.out" | tail -3
fi
pam_run direct authenticate "$PIN2\n"
expect_pam "$R_SUCCESS" "after the SO-PIN unblock the new PIN logs in"
expect_grep "(3 tries left)" "$T/pam.out" "after the unblock: 3 tries again"

# --- session: the record names the card by its serial ------------------------
pam_service sess "auth required $PAM_MOD $CARD_BASE" "session required $PAM_MOD $CARD_BASE"
pam_run sess "authenticate open_session" "$PIN2\n"
expect_pam "$R_SUCCESS" "auth + session on the card"
rec=$(ls "$RUNDIR"/session-* 2>/dev/null | head -1)
expect_grep "^serial=ESPICOHSMTR\$" "${rec:-/dev/null}" "session record: the card's serial"
expect_grep "^label=Pico-HSM (UserPIN)\$" "${rec:-/dev/null}" "session record: the card's label, as OpenSC names it"
expect_grep "^key=$fpr\$" "${rec:-/dev/null}" "session record: the key"
rm -f "$RUNDIR"/session-*
pam_service sess11 "auth required $PAM_MOD $CARD_BASE driver=pkcs11" "session required $PAM_MOD $CARD_BASE"
pam_run sess11 "authenticate open_session" "$PIN2\n"
rec=$(ls "$RUNDIR"/session-* 2>/dev/null | head -1)
expect_grep "^serial=ESPICOHSMTR\$" "${rec:-/dev/null}" "driver=pkcs11: the same serial in the record"
rm -f "$RUNDIR"/session-*

# --- password: PIN change -------------------------------------------------------
pam_service pw "password required $PAM_MOD $CARD_BASE"
pam_run pw chauthtok "$PIN2\n$CARD_PIN\n$CARD_PIN\n"
expect_pam "pamtester: authentication token altered successfully" "direct path: chauthtok changes the PIN"
expect_grep "Current PIN for token 'Pico-HSM (UserPIN)'" "$T/pam.out" "chauthtok: the card is named"
logged_out "PIN change"
pam_run pw chauthtok "000000\n$PIN2\n$PIN2\n"
expect_pam "pamtester: Permission denied" "wrong current PIN: PAM_PERM_DENIED"
expect_grep "Wrong current PIN; 2 PIN tries left" "$T/pam.out" "wrong current PIN: the exact tries left"
pam_service pw11 "password required $PAM_MOD $CARD_BASE driver=pkcs11"
pam_run pw11 chauthtok "$CARD_PIN\n$PIN2\n$PIN2\n"
expect_pam "pamtester: authentication token altered successfully" "driver=pkcs11: chauthtok changes the PIN"
logged_out "PIN change through OpenSC"
pam_run direct authenticate "$PIN2\n"
expect_pam "$R_SUCCESS" "the changed PIN logs in on the direct path"
pam_run pw chauthtok "$PIN2\n$CARD_PIN\n$CARD_PIN\n"
expect_pam "pamtester: authentication token altered successfully" "and back"

# --- ca=: a certificate on the card, issued to the user ----------------------
# A key whose certificate names the user (self-signed, so the certificate is
# its own CA here); the direct path reads the X.509 files and the module
# judges them.
nkc keygen --curve p256 --label causer --id 0a --pin-source env:NK_CARD_PIN > /dev/null
nkc selfsign --subject "CN=$PAM_USER" --days 30 --store --pin-source env:NK_CARD_PIN \
    -o "$T/causer.pem" 'pkcs11:object=causer' > /dev/null
install -m 644 "$T/causer.pem" "$T/ca.pem"
for d in auto pkcs11; do
	pam_service "ca$d" "auth required $PAM_MOD $CARD_BASE ca=$T/ca.pem driver=$d debug"
	pam_run "ca$d" authenticate "$CARD_PIN\n"
	expect_pam "$R_SUCCESS" "ca= with driver=$d: the certificate on the card logs the user in"
done
expect_grep "through PKCS#11" "$T/pam.out" "ca=, driver=pkcs11: through PKCS#11"
pam_run caauto authenticate "$CARD_PIN\n"
expect_grep "(certificate) through PC/SC" "$T/pam.out" "ca=, driver=auto: the certificate was found over PC/SC"

# --- 12 keys: the count does not grow ----------------------------------------
for i in 4 5 6 7 8 9 10 11 12; do
	nkc keygen --curve p256 --label "more$i" --pin-source env:NK_CARD_PIN > /dev/null ||
	    fail "keygen more$i"
done
apdu_mark
pam_run direct authenticate "$CARD_PIN\n"
expect_pam "$R_SUCCESS" "12 keys: PAM_SUCCESS"
warm12=$(apdus_since)
[ "$warm12" -eq "$warm3" ] && pass "12 keys: $warm12 APDUs, as with 3" ||
    fail "12 keys: $warm12 APDUs against $warm3 with 3"
# A key made last, found by a scan the first time, then hinted.
nkc pubkey 'pkcs11:object=more12' > "$T/more12.pub"
install -o "$PAM_USER" -m 600 "$T/more12.pub" "$AUTHFILE"
apdu_mark
pam_run direct authenticate "$CARD_PIN\n"
expect_pam "$R_SUCCESS" "12 keys, the last key: PAM_SUCCESS"
scan=$(apdus_since)
apdu_mark
pam_run direct authenticate "$CARD_PIN\n"
warm=$(apdus_since)
[ "$warm" -eq "$warm3" ] && [ "$scan" -gt "$warm" ] &&
    pass "the last of 12 keys: $scan APDUs the first time (a scan), $warm after" ||
    fail "the last of 12 keys: $scan then $warm APDUs"
pam_run p11 authenticate "$CARD_PIN\n"
expect_pam "$R_SUCCESS" "12 keys, driver=pkcs11: PAM_SUCCESS"
finish
