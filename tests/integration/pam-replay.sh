#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# pam-replay.sh - a signature the token made for one login never logs in
# again. The test PKCS#11 module records the signature of one login's C_Sign
# (NKFAULT_RECORD_SIG) and answers a later login's C_Sign with it
# (NKFAULT_REPLAY_SIG): a valid signature by the right key, over the earlier
# challenge. Only the challenge's fresh nonce refuses it, so a build whose
# nonce is constant fails this test; the last check shows that with
# pamtester's getrandom() held fixed (tests/shim), the same replay logs in.
. "${top_srcdir:-.}/tests/integration/common.sh"
. "$top_srcdir/tests/integration/pam-fixed.sh"
fault_service login

# expect_token_signed DESC: the last login's C_Sign answered CKR_OK, so a
# refusal came from the module's check, not from the token.
expect_token_signed() {
	expect_grep ' C_Sign 0x0$' "$T/calls" "$1: the token answered C_Sign"
	rm -f "$T/calls"
}

pam_run login authenticate "$USER_PIN\n" NKFAULT_RECORD_SIG="$T/sig"
expect_pam "$R_SUCCESS" "first login: PAM_SUCCESS"
[ -s "$T/sig" ] && [ "$(wc -c < "$T/sig")" -eq 64 ] &&
    pass "first login: its signature recorded (64 bytes, P-256 r||s)" ||
    fail "first login: no 64-byte signature recorded"

pam_run login authenticate "$USER_PIN\n" NKFAULT_REPLAY_SIG="$T/sig" NKFAULT_LOG="$T/calls"
expect_pam "$R_AUTH_ERR" "the first login's signature replayed: PAM_AUTH_ERR"
expect_grep "signature does not verify" "$T/pam.out" "replay: refused as a bad signature"
expect_token_signed "replay"

# Each login answered with the signature of the login before it.
rm -f "$T/chain"
pam_run login authenticate "$USER_PIN\n" NKFAULT_RECORD_SIG="$T/chain" NKFAULT_REPLAY_SIG="$T/chain"
expect_pam "$R_SUCCESS" "chain: the first login signs for itself"
for i in 2 3; do
	pam_run login authenticate "$USER_PIN\n" NKFAULT_RECORD_SIG="$T/chain" \
	    NKFAULT_REPLAY_SIG="$T/chain"
	expect_pam "$R_AUTH_ERR" "chain: login $i answered with login $((i - 1))'s signature: PAM_AUTH_ERR"
done

pam_run login authenticate "$USER_PIN\n"
expect_pam "$R_SUCCESS" "after the replays the token logs in as before"

# The nonce is what refuses the replay: held fixed, the same replay logs in.
with_fixed_nonce pam_run login authenticate "$USER_PIN\n" NKFAULT_RECORD_SIG="$T/fixed.sig"
expect_pam "$R_SUCCESS" "fixed nonce: a login records its signature"
with_fixed_nonce pam_run login authenticate "$USER_PIN\n" NKFAULT_REPLAY_SIG="$T/fixed.sig" \
    NKFAULT_LOG="$T/calls"
expect_pam "$R_SUCCESS" "fixed nonce (the test's own getrandom): the same replay logs in"
expect_token_signed "fixed nonce"

finish
