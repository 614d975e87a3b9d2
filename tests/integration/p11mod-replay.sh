#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# p11mod-replay.sh - the fault module's record and replay variables
# (NKFAULT_RECORD_SIG, NKFAULT_REPLAY_SIG, NKFAULT_RECORD_DATA,
# NKFAULT_REPLAY_DATA; tests/p11mod/README), driven by OpenSC's pkcs11-tool
# on a throwaway SoftHSM token and checked with openssl.
. "${top_srcdir:-.}/tests/integration/common.sh"

command -v pkcs11-tool >/dev/null 2>&1 || { echo "skip: pkcs11-tool (opensc) missing"; exit 77; }
command -v openssl >/dev/null 2>&1 || { echo "skip: openssl missing"; exit 77; }
[ -f "$FAULT_MODULE" ] || { echo "fault module not built (make check builds it)"; exit 99; }
for v in $(env | sed -n 's/^\(NKFAULT_[A-Z_]*\)=.*/\1/p'); do unset "$v"; done
export NKFAULT_MODULE="$SOFTHSM_MODULE"

init_token t
pkcs11-tool --module "$SOFTHSM_MODULE" --login --pin "$USER_PIN" --keypairgen \
    --key-type EC:prime256v1 --label k --id 01 >/dev/null 2>&1 || exit 99
pkcs11-tool --module "$SOFTHSM_MODULE" --read-object --type pubkey --id 01 \
    -o "$T/pub.der" >/dev/null 2>&1 || exit 99
printf 'first message' | openssl dgst -sha256 -binary > "$T/h1"
printf 'second message' | openssl dgst -sha256 -binary > "$T/h2"

# sign HASH OUT [FORMAT]: C_Sign through the fault module; status in $rc,
# messages in $T/err.
sign() {
	pkcs11-tool --module "$FAULT_MODULE" --login --pin "$USER_PIN" --sign -m ECDSA --id 01 \
	    -i "$1" -o "$2" ${3:+--signature-format "$3"} >/dev/null 2>"$T/err" </dev/null
	rc=$?
}
# verifies HASH SIG: the DER signature SIG is the key's over HASH.
verifies() {
	openssl pkeyutl -verify -pubin -inkey "$T/pub.der" -keyform DER -in "$1" \
	    -sigfile "$2" >/dev/null 2>&1
}
has() { grep -q -- "$1" "$T/err"; }
fails() { ! "$@"; }
check() {
	_d=$1
	shift
	if "$@"; then pass "$_d"; else fail "$_d"; sed 's/^/  | /' "$T/err" | head -4; fi
}

# --- NKFAULT_RECORD_SIG / NKFAULT_REPLAY_SIG ---
NKFAULT_RECORD_SIG="$T/sig1" sign "$T/h1" "$T/out1"
check "RECORD_SIG: signing succeeds" [ "$rc" -eq 0 ]
check "RECORD_SIG: the file holds the signature returned" cmp -s "$T/sig1" "$T/out1"
check "RECORD_SIG: 64 bytes (P-256 r||s)" [ "$(wc -c < "$T/sig1")" -eq 64 ]
NKFAULT_REPLAY_SIG="$T/sig1" sign "$T/h2" "$T/out2"
check "REPLAY_SIG: signing other data succeeds" [ "$rc" -eq 0 ]
check "REPLAY_SIG: the recorded signature is returned" cmp -s "$T/sig1" "$T/out2"
NKFAULT_REPLAY_SIG="$T/sig1" sign "$T/h2" "$T/out2.der" openssl
check "REPLAY_SIG: it verifies over the first data" verifies "$T/h1" "$T/out2.der"
check "REPLAY_SIG: not over the data given" fails verifies "$T/h2" "$T/out2.der"
check "REPLAY_SIG: the file is left as it was" cmp -s "$T/sig1" "$T/out1"

# Both on one file: the first C_Sign answers for itself, then each gets the
# one before (pkcs11-tool signs once per process).
NKFAULT_RECORD_SIG="$T/chain" NKFAULT_REPLAY_SIG="$T/chain" sign "$T/h1" "$T/c1" openssl
check "chain: the first signature is its own" verifies "$T/h1" "$T/c1"
NKFAULT_RECORD_SIG="$T/chain" NKFAULT_REPLAY_SIG="$T/chain" sign "$T/h2" "$T/c2" openssl
check "chain: the second is the first's" verifies "$T/h1" "$T/c2"
check "chain: the second is not over its own data" fails verifies "$T/h2" "$T/c2"
NKFAULT_RECORD_SIG="$T/chain" NKFAULT_REPLAY_SIG="$T/chain" sign "$T/h1" "$T/c3" openssl
check "chain: the third is the second's (over the second data)" verifies "$T/h2" "$T/c3"

NKFAULT_REPLAY_SIG="$T/none" sign "$T/h1" "$T/out"
check "REPLAY_SIG of a missing file: C_Sign fails" [ "$rc" -ne 0 ]
check "REPLAY_SIG of a missing file: says so" has 'nothing recorded in'
head -c 10 "$T/sig1" > "$T/short"
NKFAULT_REPLAY_SIG="$T/short" sign "$T/h1" "$T/out"
check "REPLAY_SIG of another length: C_Sign fails" [ "$rc" -ne 0 ]
check "REPLAY_SIG of another length: says so" has 'holds 10 bytes, this signature 64'

# --- NKFAULT_RECORD_DATA / NKFAULT_REPLAY_DATA ---
NKFAULT_RECORD_DATA="$T/d1" sign "$T/h1" "$T/out"
check "RECORD_DATA: the file holds the data given" cmp -s "$T/d1" "$T/h1"
NKFAULT_REPLAY_DATA="$T/d1" sign "$T/h2" "$T/rd.der" openssl
check "REPLAY_DATA: signing succeeds" [ "$rc" -eq 0 ]
check "REPLAY_DATA: the signature is over the recorded data" verifies "$T/h1" "$T/rd.der"
check "REPLAY_DATA: not over the data given" fails verifies "$T/h2" "$T/rd.der"
NKFAULT_RECORD_DATA="$T/dchain" NKFAULT_REPLAY_DATA="$T/dchain" sign "$T/h1" "$T/dc1" openssl
NKFAULT_RECORD_DATA="$T/dchain" NKFAULT_REPLAY_DATA="$T/dchain" sign "$T/h2" "$T/dc2" openssl
check "data chain: the first signs its own data" verifies "$T/h1" "$T/dc1"
check "data chain: the second signs the first's" verifies "$T/h1" "$T/dc2"
NKFAULT_REPLAY_DATA="$T/none" sign "$T/h1" "$T/out"
check "REPLAY_DATA of a missing file: C_Sign fails" [ "$rc" -ne 0 ]

# --- configuration errors ---
NKFAULT_RECORD_SIG= sign "$T/h1" "$T/out"
check "an empty RECORD_SIG: refused at C_Initialize" has 'NKFAULT_RECORD_SIG: names no file'
NKFAULT_REPLAY_DATA= sign "$T/h1" "$T/out"
check "an empty REPLAY_DATA: refused at C_Initialize" has 'NKFAULT_REPLAY_DATA: names no file'

finish
