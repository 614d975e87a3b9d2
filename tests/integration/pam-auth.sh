#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# pam-auth.sh - every outcome of pam_nkhsm's authentication (pam_nkhsm(8),
# OUTCOMES), through pam_wrapper and pamtester against SoftHSM, with the test
# PKCS#11 wrapper module for what SoftHSM cannot do.
. "${top_srcdir:-.}/tests/integration/common.sh"
pam_setup

init_token pamtok
nk keygen --label login --id 01 --pin-source env:NK_TEST_PIN > "$T/kg"
sed -n 's/^ *ssh: *//p' "$T/kg" > "$T/login.pub"
nk keygen --label other --id 02 --pin-source env:NK_TEST_PIN > /dev/null
nk pubkey 'pkcs11:object=other' > "$T/other.pub"
ssh-keygen -q -t ecdsa -b 256 -N '' -C foreign -f "$T/foreign" >/dev/null
fpr=$(ssh-keygen -lf "$T/login.pub" | awk '{print $2}')

install -o "$PAM_USER" -m 600 "$T/login.pub" "$AUTHFILE"
pam_service ok "auth required $PAM_MOD $PAM_BASE"

# --- success --------------------------------------------------------------
pam_run ok authenticate "$USER_PIN\n"
expect_pam "$R_SUCCESS" "right PIN: PAM_SUCCESS"
expect_grep "PIN for token 'pamtok'" "$T/pam.out" "the prompt names the token by its label"
if grep -q "Nitrokey" "$T/pam.out"; then fail "SoftHSM is called a Nitrokey HSM"; else pass "SoftHSM is not called a Nitrokey HSM"; fi
expect_grep "authenticated" "$T/pam.out" "success is logged"
expect_grep "key=$fpr" "$T/pam.out" "the log names the key by its fingerprint"
if grep -q "$USER_PIN" "$T/pam.out"; then fail "the PIN appears in the output or log"; else pass "the PIN is never logged"; fi

# --- wrong PIN, locked, min_tries_left ------------------------------------
pam_run ok authenticate "654321\n"
expect_pam "$R_AUTH_ERR" "wrong PIN: PAM_AUTH_ERR"
expect_grep "Wrong PIN" "$T/pam.out" "wrong PIN: the user is told"
expect_grep "tries left" "$T/pam.out" "wrong PIN: the tries left are shown"

export NKFAULT_MODULE="$SOFTHSM_MODULE"
pam_service fault "auth required $PAM_MOD $PAM_BASE module=$FAULT_MODULE" 2>/dev/null
sed -i "s| module=$SOFTHSM_MODULE||" "$PAMD/fault"
pam_run fault authenticate "$USER_PIN\n" NKFAULT_FLAGS=locked
expect_pam "$R_MAXTRIES" "PIN locked: PAM_MAXTRIES"
if grep -q "PIN for" "$T/pam.out"; then fail "locked: the user was prompted"; else pass "locked: no PIN prompt"; fi
pam_run fault authenticate "$USER_PIN\n" NKFAULT_FLAGS=final_try
expect_pam "$R_SUCCESS" "final try, right PIN: PAM_SUCCESS"
expect_grep "1 PIN try left" "$T/pam.out" "final try: shown before the prompt"
pam_service mintries "auth required $PAM_MOD $PAM_BASE min_tries_left=2"
sed -i "s| module=$SOFTHSM_MODULE| module=$FAULT_MODULE|" "$PAMD/mintries"
pam_run mintries authenticate "$USER_PIN\n" NKFAULT_FLAGS=final_try
expect_pam "$R_MAXTRIES" "min_tries_left=2 on the final try: PAM_MAXTRIES"
if grep -q "PIN for" "$T/pam.out"; then fail "min_tries_left: prompted anyway"; else pass "min_tries_left: no PIN submitted"; fi
pam_run mintries authenticate "$USER_PIN\n" NKFAULT_FLAGS=count_low
expect_pam "$R_SUCCESS" "min_tries_left=2 with the count low: allowed"
# A real retry counter (emulated): the third wrong PIN locks.
pam_run fault authenticate "000000\n" NKFAULT_PIN_TRIES=3 NKFAULT_STATE="$T/tries"
pam_run fault authenticate "000000\n" NKFAULT_PIN_TRIES=3 NKFAULT_STATE="$T/tries"
expect_grep "1 PIN try left" "$T/pam.out" "two wrong PINs: final try reported"
pam_run fault authenticate "000000\n" NKFAULT_PIN_TRIES=3 NKFAULT_STATE="$T/tries"
expect_pam "$R_MAXTRIES" "third wrong PIN locks: PAM_MAXTRIES"
pam_run fault authenticate "$USER_PIN\n" NKFAULT_PIN_TRIES=3 NKFAULT_STATE="$T/tries"
expect_pam "$R_MAXTRIES" "locked token refuses even the right PIN"

# --- PIN input ---------------------------------------------------------------
pam_run ok authenticate "\n"
expect_pam "$R_UNAVAIL" "empty answer at the PIN prompt cancels: PAM_AUTHINFO_UNAVAIL"
long=$(head -c 300 /dev/zero | tr '\0' 7)
pam_run fault authenticate "$long\n" NKFAULT_LOG="$T/long.log"
expect_pam "$R_AUTH_ERR" "oversized PIN: PAM_AUTH_ERR"
if grep -q C_Login "$T/long.log"; then fail "oversized PIN was submitted"; else pass "oversized PIN not submitted"; fi
# A PIN with non-ASCII bytes.
init_token utf8tok 'pä§ñ-€1'
NK_UTF8_PIN='pä§ñ-€1' nk keygen --token pkcs11:token=utf8tok --label u --pin-source env:NK_UTF8_PIN > "$T/kg2"
sed -n 's/^ *ssh: *//p' "$T/kg2" > "$T/utf8.pub"
install -o "$PAM_USER" -m 600 "$T/utf8.pub" "$T/utf8.keys"
pam_service utf8 "auth required $PAM_MOD $PAM_BASE authfile=$T/utf8.keys token=pkcs11:token=utf8tok"
pam_run utf8 authenticate 'pä§ñ-€1\n'
expect_pam "$R_SUCCESS" "non-ASCII PIN: PAM_SUCCESS"
pam_run utf8 authenticate 'pa§ñ-€1\n'
expect_pam "$R_AUTH_ERR" "non-ASCII PIN, one byte off: PAM_AUTH_ERR"

# --- two tokens; key after other lines ----------------------------------------
{
	echo "# my keys"
	echo ""
	cat "$T/foreign.pub"
	echo "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl ed"
	# A key type this module does not know, whose blob names that type: skipped.
	printf 'ssh-future@example.com %s x\n' "$(printf '\000\000\000\026ssh-future@example.com\000\000\000\001x' | base64 -w0)"
	# Options that restrict nothing in a login (a restricting one would make
	# the line unusable: pam-keyopts.sh), with an escaped quote to parse.
	printf 'pty,environment="MSG=\\"hi there\\"" %s\n' "$(cat "$T/utf8.pub")"
} > "$T/many.keys"
install -o "$PAM_USER" -m 600 "$T/many.keys" "$T/many"
pam_service many "auth required $PAM_MOD $PAM_BASE authfile=$T/many"
pam_run many authenticate 'pä§ñ-€1\n'
expect_pam "$R_SUCCESS" "two tokens, authorized key (with options) after other lines: PAM_SUCCESS"
expect_grep "PIN for token 'utf8tok'" "$T/pam.out" "two tokens: the token holding the key is used"
# Tokens are read one at a time and the search stops at the first token that
# holds an authorized key: SoftHSM's empty slot, listed last, is never read.
# The whole login stays within the issue's 16 calls.
pam_service manyf "auth required $PAM_MOD $PAM_BASE authfile=$T/many module=$FAULT_MODULE"
sed -i "s| module=$SOFTHSM_MODULE||" "$PAMD/manyf"
pam_run manyf authenticate 'pä§ñ-€1\n' NKFAULT_LOG="$T/many.log"
expect_pam "$R_SUCCESS" "two tokens, through the counting module: PAM_SUCCESS"
nslots=$(softhsm2-util --show-slots | grep -c '^Slot ')
ninfo=$(grep -c ' C_GetTokenInfo' "$T/many.log")
if [ "$nslots" -eq 3 ] && [ "$ninfo" -ge 1 ] && [ "$ninfo" -le 2 ]; then
	pass "two tokens: $ninfo of $nslots slots read (the empty one never)"
else
	fail "two tokens: $ninfo C_GetTokenInfo calls for $nslots slots"
fi
# Calls per login. Each token searched costs C_GetTokenInfo, C_OpenSession
# and one search (5 calls); the rest is 10, whatever else the token holds.
pam_run fault authenticate "$USER_PIN\n" NKFAULT_LOG="$T/one.log"
expect_pam "$R_SUCCESS" "login through the counting module: PAM_SUCCESS"
ninfo=$(grep -c ' C_GetTokenInfo' "$T/one.log")
ncalls=$(wc -l < "$T/one.log")
if [ "$ncalls" -eq $((10 + 5 * ninfo)) ]; then
	pass "a login makes $ncalls PKCS#11 calls, $ninfo token(s) searched"
else
	fail "a login makes $ncalls PKCS#11 calls for $ninfo token(s)"
	cat "$T/one.log" >&2
fi
# With the token named, the other token's info is read but it is not searched.
pam_service faulttok "auth required $PAM_MOD $PAM_BASE module=$FAULT_MODULE token=pkcs11:token=pamtok"
sed -i "s| module=$SOFTHSM_MODULE||" "$PAMD/faulttok"
pam_run faulttok authenticate "$USER_PIN\n" NKFAULT_LOG="$T/tok.log"
expect_pam "$R_SUCCESS" "login with token=, through the counting module: PAM_SUCCESS"
ncalls=$(wc -l < "$T/tok.log")
if [ "$ncalls" -le 16 ]; then
	pass "a login with token= makes $ncalls PKCS#11 calls (<= 16)"
else
	fail "a login with token= makes $ncalls PKCS#11 calls (> 16)"
	cat "$T/tok.log" >&2
fi

# --- keys that are not authorized ---------------------------------------------
install -o "$PAM_USER" -m 600 "$T/foreign.pub" "$T/foreign.keys"
pam_service foreign "auth required $PAM_MOD $PAM_BASE authfile=$T/foreign.keys"
pam_run foreign authenticate "$USER_PIN\n"
expect_pam "$R_AUTH_ERR" "no authorized key on the token: PAM_AUTH_ERR"
if grep -q "PIN for" "$T/pam.out"; then fail "no authorized key: PIN asked"; else pass "no authorized key: fails before the PIN"; fi
# A key labelled like the authorized one but with another public key.
init_token impostor
nk keygen --token pkcs11:token=impostor --label login --id 01 --pin-source env:NK_TEST_PIN >/dev/null
pam_service impostor "auth required $PAM_MOD $PAM_BASE token=pkcs11:token=impostor"
pam_run impostor authenticate "$USER_PIN\n"
expect_pam "$R_AUTH_ERR" "same label and id, other key: PAM_AUTH_ERR"
pam_run fault authenticate "$USER_PIN\n" NKFAULT_CORRUPT=sig
expect_pam "$R_AUTH_ERR" "corrupted signature: PAM_AUTH_ERR"
expect_grep "signature does not verify" "$T/pam.out" "corrupted signature: logged"
pam_run fault authenticate "$USER_PIN\n" NKFAULT_CORRUPT=ecpoint
expect_pam "$R_UNAVAIL" "token reports a corrupted public point: module failure, PAM_AUTHINFO_UNAVAIL"

# --- authfile: missing, unsafe --------------------------------------------------
pam_service nofile "auth required $PAM_MOD $PAM_BASE authfile=$T/none/%u"
pam_run nofile authenticate "$USER_PIN\n"
expect_pam "$R_USER_UNKNOWN" "no authfile: PAM_USER_UNKNOWN"
# Log lines are escaped whole: a control byte in a path cannot start a line.
pam_service ctlpath "auth required $PAM_MOD $PAM_BASE authfile=$T/none/a$(printf '\033')b"
pam_run ctlpath authenticate "$USER_PIN\n"
expect_pam "$R_USER_UNKNOWN" "no authfile at a path with ESC: PAM_USER_UNKNOWN"
expect_grep 'none/a\\x1bb' "$T/pam.out" "the ESC byte is logged as \\x1b"
if grep -q "$(printf '\033')" "$T/pam.out"; then
	fail "a raw ESC byte reached the log"
else
	pass "no raw ESC byte in the log"
fi
pam_service nouserok "auth [success=ok ignore=ignore default=die] $PAM_MOD $PAM_BASE authfile=$T/none/%u nouserok" \
    "auth required pam_permit.so"
pam_run nouserok authenticate "$USER_PIN\n"
expect_pam "$R_SUCCESS" "no authfile with nouserok: PAM_IGNORE (stack falls through)"
if grep -q "PIN for" "$T/pam.out"; then fail "nouserok: PIN asked"; else pass "nouserok: no PIN asked"; fi
: > "$T/empty.keys"; chown "$PAM_USER" "$T/empty.keys"
pam_service emptyfile "auth required $PAM_MOD $PAM_BASE authfile=$T/empty.keys"
pam_run emptyfile authenticate "$USER_PIN\n"
expect_pam "$R_USER_UNKNOWN" "authfile with no EC keys: PAM_USER_UNKNOWN"

ln -s "$AUTHFILE" "$T/link.keys"
pam_service link "auth required $PAM_MOD $PAM_BASE authfile=$T/link.keys"
pam_run link authenticate "$USER_PIN\n"
expect_pam "$R_AUTH_ERR" "authfile is a symlink: PAM_AUTH_ERR"
expect_grep "is a symbolic link" "$T/pam.out" "symlink: the log says why"
install -o "$PAM_USER" -m 620 "$T/login.pub" "$T/gw.keys"
pam_service gw "auth required $PAM_MOD $PAM_BASE authfile=$T/gw.keys"
pam_run gw authenticate "$USER_PIN\n"
expect_pam "$R_AUTH_ERR" "group-writable authfile: PAM_AUTH_ERR"
expect_grep "gw.keys: is group-writable" "$T/pam.out" "group-writable: the log says why"
mkdir "$T/ww"; chmod 777 "$T/ww"
install -o "$PAM_USER" -m 600 "$T/login.pub" "$T/ww/keys"
pam_service ww "auth required $PAM_MOD $PAM_BASE authfile=$T/ww/keys"
pam_run ww authenticate "$USER_PIN\n"
expect_pam "$R_AUTH_ERR" "authfile in a world-writable directory: PAM_AUTH_ERR"
expect_grep "ww: is world-writable" "$T/pam.out" "world-writable directory: the log says why"
install -o nobody -m 600 "$T/login.pub" "$T/nobody.keys"
pam_service owner "auth required $PAM_MOD $PAM_BASE authfile=$T/nobody.keys"
pam_run owner authenticate "$USER_PIN\n"
expect_pam "$R_AUTH_ERR" "authfile owned by another user: PAM_AUTH_ERR"
printf 'ecdsa-sha2-nistp256 AAAA!!notbase64\n' > "$T/bad.keys"; chown "$PAM_USER" "$T/bad.keys"
pam_service bad "auth required $PAM_MOD $PAM_BASE authfile=$T/bad.keys"
pam_run bad authenticate "$USER_PIN\n"
expect_pam "$R_AUTH_ERR" "malformed authfile: PAM_AUTH_ERR"
expect_grep "bad.keys:1: invalid" "$T/pam.out" "malformed authfile: file and line logged"

# --- options ---------------------------------------------------------------------
pam_service unknown "auth required $PAM_MOD $PAM_BASE tiemout=5"
pam_run unknown authenticate "$USER_PIN\n"
expect_pam "$R_SERVICE_ERR" "unknown option: PAM_SERVICE_ERR"
expect_grep "unknown option 'tiemout'" "$T/pam.out" "unknown option: logged"
pam_service badval "auth required $PAM_MOD $PAM_BASE wait=soon"
pam_run badval authenticate "$USER_PIN\n"
expect_pam "$R_SERVICE_ERR" "malformed option value: PAM_SERVICE_ERR"
pam_service sufficient "auth sufficient $PAM_MOD $PAM_BASE tiemout=5" "auth required pam_permit.so"
pam_run sufficient authenticate "$USER_PIN\n"
expect_grep "unknown option" "$T/pam.out" "sufficient with a bad option still logs the error"
printf 'modul = x\n' > "$T/badconf"; chmod 600 "$T/badconf"
pam_service badconf "auth required $PAM_MOD $PAM_BASE conf=$T/badconf"
sed -i "s|conf=$T/nkhsm.conf ||" "$PAMD/badconf"
pam_run badconf authenticate "$USER_PIN\n"
expect_pam "$R_SERVICE_ERR" "bad nkhsm.conf: PAM_SERVICE_ERR"

# --- no token, waiting, timeouts, crashes ------------------------------------
mkdir "$T/tokens2"
printf 'directories.tokendir = %s/tokens2\nobjectstore.backend = file\nlog.level = ERROR\n' "$T" > "$T/empty-softhsm.conf"
pam_run ok authenticate "$USER_PIN\n" SOFTHSM2_CONF="$T/empty-softhsm.conf"
expect_pam "$R_UNAVAIL" "no token: PAM_AUTHINFO_UNAVAIL"
pam_service wait "auth required $PAM_MOD $PAM_BASE wait=2 token=pkcs11:token=pamtok"
start=$(date +%s)
pam_run wait authenticate "$USER_PIN\n" SOFTHSM2_CONF="$T/empty-softhsm.conf"
took=$(( $(date +%s) - start ))
expect_pam "$R_UNAVAIL" "no token after wait=2: PAM_AUTHINFO_UNAVAIL"
expect_grep "Insert your token 'pamtok'" "$T/pam.out" "wait: the user is asked to insert the named token"
[ "$took" -ge 2 ] && [ "$took" -le $((10 * SLOW)) ] && pass "wait: waited about 2 s ($took s)" || fail "wait: took $took s"
# The token appears during the wait, whole: its directory is copied aside and
# renamed in (a token half-copied while the helper looks fails to sign).
( sleep 1; mkdir "$T/stage"; cp -r "$T/tokens/." "$T/stage/" &&
    for d in "$T/stage"/*; do mv "$d" "$T/tokens2/"; done ) &
pam_run wait authenticate "$USER_PIN\n" SOFTHSM2_CONF="$T/empty-softhsm.conf"
wait
expect_pam "$R_SUCCESS" "token inserted during the wait: PAM_SUCCESS"
rm -rf "$T/tokens2"/*

pam_service hang "auth required $PAM_MOD $PAM_BASE timeout=$((2 * SLOW))"
sed -i "s| module=$SOFTHSM_MODULE| module=$FAULT_MODULE|" "$PAMD/hang"
start=$(date +%s)
pam_run hang authenticate "$USER_PIN\n" NKFAULT_HANG_FN=C_GetSlotList
took=$(( $(date +%s) - start ))
expect_pam "$R_UNAVAIL" "PKCS#11 hangs before the PIN: PAM_AUTHINFO_UNAVAIL"
[ "$took" -le $((8 * SLOW)) ] && pass "hang before the PIN: ended by the timeout ($took s)" || fail "hang: took $took s"
start=$(date +%s)
pam_run hang authenticate "$USER_PIN\n" NKFAULT_HANG_FN=C_Sign
took=$(( $(date +%s) - start ))
expect_pam "$R_AUTH_ERR" "PKCS#11 hangs after the PIN: PAM_AUTH_ERR"
[ "$took" -le $((8 * SLOW)) ] && pass "hang after the PIN: ended by the timeout ($took s)" || fail "hang: took $took s"
pam_run fault authenticate "$USER_PIN\n" NKFAULT_CRASH_FN=C_Initialize
expect_pam "$R_UNAVAIL" "PKCS#11 module crashes at start: PAM_AUTHINFO_UNAVAIL"
pam_run fault authenticate "$USER_PIN\n" NKFAULT_CRASH_FN=C_Login NKFAULT_CRASH_SIGNAL=SEGV
expect_pam "$R_AUTH_ERR" "PKCS#11 module crashes at login: PAM_AUTH_ERR"
[ "$pam_rc" -le 1 ] && pass "the crash did not reach pamtester (exit $pam_rc)" || fail "pamtester exit $pam_rc"
pam_service nohelper "auth required $PAM_MOD $PAM_BASE helper=$T/no-such-helper"
sed -i "s|helper=$PAM_HELPER ||" "$PAMD/nohelper"
pam_run nohelper authenticate "$USER_PIN\n"
expect_pam "$R_UNAVAIL" "missing helper: PAM_AUTHINFO_UNAVAIL"

# --- first-pass PINs ---------------------------------------------------------
# pam_unix asks "Password:" and leaves the answer in PAM_AUTHTOK (then fails,
# since the test user has no password); pam_nkhsm may reuse it as the PIN.
pam_service tfp "auth optional pam_unix.so" "auth required $PAM_MOD $PAM_BASE try_first_pass"
sed -i "s| module=$SOFTHSM_MODULE| module=$FAULT_MODULE|" "$PAMD/tfp"
pam_run tfp authenticate "$USER_PIN\n"
expect_pam "$R_SUCCESS" "try_first_pass reuses the earlier password"
if grep -q "PIN for" "$T/pam.out"; then fail "try_first_pass: prompted again"; else pass "try_first_pass: not prompted again"; fi
pam_run tfp authenticate "$USER_PIN\n$USER_PIN\n" NKFAULT_FLAGS=final_try
expect_pam "$R_SUCCESS" "try_first_pass on the final try: asks for the PIN itself"
expect_grep "PIN for" "$T/pam.out" "final try: the earlier password is not spent"
pam_service ufp "auth optional pam_unix.so" "auth required $PAM_MOD $PAM_BASE use_first_pass"
sed -i "s| module=$SOFTHSM_MODULE| module=$FAULT_MODULE|" "$PAMD/ufp"
pam_run ufp authenticate "$USER_PIN\n" NKFAULT_FLAGS=final_try
expect_pam "$R_AUTH_ERR" "use_first_pass on the final try: refused"
pam_run ufp authenticate "$USER_PIN\n" NKFAULT_FLAGS=count_low
expect_pam "$R_SUCCESS" "use_first_pass with the count low: reused"
pam_service nofp "auth optional pam_unix.so" "auth required $PAM_MOD $PAM_BASE"
pam_run nofp authenticate "$USER_PIN\n$USER_PIN\n"
expect_grep "PIN for" "$T/pam.out" "without *_first_pass the earlier password is never used"

# --- PIN pad ------------------------------------------------------------------
pam_run fault authenticate "" NKFAULT_FLAGS=pinpad NKFAULT_PINPAD_PIN="$USER_PIN"
expect_pam "$R_SUCCESS" "PIN pad reader: PAM_SUCCESS without a typed PIN"
expect_grep "PIN pad" "$T/pam.out" "PIN pad: the user is told to use the pad"
pam_run fault authenticate "" NKFAULT_FLAGS=pinpad
expect_pam "$R_AUTH_ERR" "PIN pad cancelled: not a success"

finish
