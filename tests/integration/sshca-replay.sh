#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# sshca-replay.sh - a token that answers with the signature of the previous
# certificate (a valid signature by the CA key, over other data) makes
# nkhsm-sshca issue nothing: no certificate file, no ledger entry, exit 8.
# The test PKCS#11 module records the signature of one C_Sign
# (NKFAULT_RECORD_SIG) and returns it at a later one (NKFAULT_REPLAY_SIG),
# for OpenSSH certificates one by one and within a batch, and for X.509
# certificates.
. "${top_srcdir:-.}/tests/integration/common.sh"

[ -x "$SSHCA" ] || { echo "nkhsm-sshca not built"; exit 99; }
[ -f "$FAULT_MODULE" ] || { echo "fault module not built (make check builds it)"; exit 99; }
command -v ssh-keygen >/dev/null 2>&1 || { echo "skip: ssh-keygen missing"; exit 77; }
command -v openssl >/dev/null 2>&1 || { echo "skip: openssl missing"; exit 77; }
export NKFAULT_MODULE="$SOFTHSM_MODULE"
EX_BADSIG=8

init_token ca
sc init >/dev/null 2>&1 || { fail "nkhsm-sshca init"; finish; }
sc ca-pubkey > "$T/ca.pub" 2>/dev/null
for k in alice bob carol dave; do
	ssh-keygen -q -t ecdsa -b 256 -N '' -C "$k" -f "$T/$k" || exit 99
done
openssl ecparam -name prime256v1 -genkey -noout -out "$T/web.key" 2>/dev/null &&
    openssl pkey -in "$T/web.key" -pubout -out "$T/web.pub.pem" 2>/dev/null || exit 99
ledger_count() { sc list --json 2>/dev/null | grep -o '"family":' | wc -l; }
# scf VAR=VALUE... -- ARGS: nkhsm-sshca through the fault module.
scf() {
	_env=
	while [ "$1" != -- ]; do _env="$_env $1"; shift; done
	shift
	# shellcheck disable=SC2086
	env $_env "$SSHCA" --config "$T/nkhsm.conf" --state "$T/state" \
	    --module "$FAULT_MODULE" --pin-source env:NK_TEST_PIN "$@"
}
# nothing_issued DESC FILE... N0: no FILE exists and the ledger holds N0.
nothing_issued() {
	_d=$1
	shift
	_ok=1
	while [ $# -gt 1 ]; do
		[ -e "$1" ] && { fail "$_d: $1 was written"; _ok=0; }
		shift
	done
	[ "$(ledger_count)" -eq "$1" ] || { fail "$_d: the ledger grew"; _ok=0; }
	[ $_ok -eq 1 ] && pass "$_d: no certificate file, no ledger entry"
	expect_grep 'does not verify' "$T/err" "$_d: the message says the signature does not verify"
}

# --- OpenSSH certificates ------------------------------------------------------
expect_exit 0 "alice: issued, its signature recorded" scf NKFAULT_RECORD_SIG="$T/sig" -- \
    sign --user -I alice -n alice -V +1h "$T/alice.pub"
ssh-keygen -L -f "$T/alice-cert.pub" >/dev/null 2>&1 && [ -s "$T/sig" ] &&
    pass "alice: a valid certificate, a signature recorded" || fail "alice: no certificate or no signature"
n0=$(ledger_count)
expect_exit $EX_BADSIG "bob, answered with alice's signature: exit $EX_BADSIG" \
    scf NKFAULT_REPLAY_SIG="$T/sig" -- sign --user -I bob -n bob -V +1h "$T/bob.pub"
nothing_issued "bob (replayed)" "$T/bob-cert.pub" "$n0"

# A batch in which each certificate gets the signature of the one before:
# carol's is her own, dave's is carol's. Nothing of the batch is issued.
rm -f "$T/chain"
expect_exit $EX_BADSIG "batch carol+dave, dave answered with carol's signature: exit $EX_BADSIG" \
    scf NKFAULT_RECORD_SIG="$T/chain" NKFAULT_REPLAY_SIG="$T/chain" NKFAULT_LOG="$T/calls" -- \
    sign --user -I batch -n batch -V +1h "$T/carol.pub" "$T/dave.pub"
[ "$(grep -c ' C_Sign 0x0$' "$T/calls")" -eq 2 ] && pass "batch: the token signed both" ||
    fail "batch: the token did not sign twice"
nothing_issued "batch (second replayed)" "$T/carol-cert.pub" "$T/dave-cert.pub" "$n0"

# --- X.509 ------------------------------------------------------------------------
expect_exit 0 "x509 web1: issued, its signature recorded" scf NKFAULT_RECORD_SIG="$T/x509.sig" -- \
    x509 --pubkey "$T/web.pub.pem" --subject CN=web1.example --profile host \
    --san DNS:web1.example -o "$T/web1.pem"
openssl verify -CAfile "$T/state/ca.pem" "$T/web1.pem" >/dev/null 2>&1 &&
    pass "x509 web1: openssl verify OK" || fail "x509 web1: does not verify against the CA"
n0=$(ledger_count)
expect_exit $EX_BADSIG "x509 web2, answered with web1's signature: exit $EX_BADSIG" \
    scf NKFAULT_REPLAY_SIG="$T/x509.sig" -- x509 --pubkey "$T/web.pub.pem" \
    --subject CN=web2.example --profile host --san DNS:web2.example -o "$T/web2.pem"
nothing_issued "x509 web2 (replayed)" "$T/web2.pem" "$n0"

# --- afterwards ---------------------------------------------------------------------
expect_exit 0 "bob, signed for himself: issued" sc sign --user -I bob -n bob -V +1h "$T/bob.pub"
ssh-keygen -L -f "$T/bob-cert.pub" >/dev/null 2>&1 && pass "bob: a valid certificate" ||
    fail "bob: no valid certificate"
expect_exit 0 "verify-log: the ledger's chain holds" sc verify-log

finish
