#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# tool-errors.sh - each failure of nkhsm-tool has its own message and exit
# code (nkhsm-tool(1), EXIT STATUS), and nothing is half-written.
. "${top_srcdir:-.}/tests/integration/common.sh"

# No token at all.
expect_exit 0 "list with no token succeeds" nk list
expect_grep "no tokens" "$T/out" "list says there are no tokens"
expect_exit 3 "no token: exit 3" nk pubkey 'pkcs11:object=k'
expect_grep "no token found" "$T/err" "no token: message"

init_token one
nk keygen --curve p256 --label k --id 01 --pin-source env:NK_TEST_PIN >/dev/null

# Command line.
expect_exit 2 "unknown command: exit 2" nk frobnicate
expect_exit 2 "unknown option: exit 2" nk list --frob
expect_exit 2 "option not for this command: exit 2" nk list --curve p256
expect_grep "list does not take --curve" "$T/err" "option not for this command: message"
expect_exit 2 "an option without its argument: exit 2" nk sign -i
expect_grep "option '-i' needs an argument" "$T/err" "an option without its argument: message"
# Every option is checked against the command, so none may go unrecorded.
expect_exit 2 "too many options: exit 2" nk list $(i=0; while [ $i -lt 40 ]; do i=$((i + 1)); printf -- '-v '; done)
expect_grep "too many options" "$T/err" "too many options: message"
expect_exit 2 "a literal PIN is refused" nk sign --pin 123456 'pkcs11:object=k'
expect_grep "not accepted on the command line" "$T/err" "literal PIN: message"
expect_exit 2 "missing URI: exit 2" nk pubkey
expect_exit 2 "malformed URI: exit 2" nk pubkey 'pkcs11:object=%zz'
expect_grep "invalid PKCS#11 URI" "$T/err" "malformed URI: message"
expect_exit 2 "pin-value in a URI is refused" nk pubkey 'pkcs11:object=k?pin-value=123456'
expect_exit 2 "URI naming no key: exit 2" nk pubkey 'pkcs11:token=one'
expect_exit 2 "URI selecting by an attribute nkhsm cannot match: exit 2" \
    nk pubkey 'pkcs11:slot-description=x;object=k'
expect_grep "selecting by slot-description is not supported" "$T/err" \
    "unmatched URI attribute: message"
expect_exit 2 "keygen without --label" nk keygen --pin-source env:NK_TEST_PIN
expect_exit 2 "keygen with an unknown curve" nk keygen --label x --curve p224 --pin-source env:NK_TEST_PIN
expect_exit 2 "keygen with a bad --id" nk keygen --label x --id 0g --pin-source env:NK_TEST_PIN
expect_exit 2 "selfsign with --days 0" nk selfsign --subject CN=x --days 0 'pkcs11:object=k' -o "$T/x.crt"
expect_exit 2 "selfsign with a bad subject" nk selfsign --subject 'XX=y' --days 1 'pkcs11:object=k' -o "$T/x.crt"
expect_exit 2 "an unknown --format" nk pubkey --format jwk 'pkcs11:object=k'

# Module.
expect_exit 7 "missing module: exit 7" "$TOOL" --config "$T/nkhsm.conf" --module "$T/none.so" list
expect_grep "cannot load PKCS#11 module" "$T/err" "missing module: message"

# Key lookup.
expect_exit 4 "no such key: exit 4" nk pubkey 'pkcs11:object=nothere'
expect_grep "no such key on token 'one'" "$T/err" "no such key: message"
expect_exit 9 "keygen with an existing label: exit 9" nk keygen --label k --pin-source env:NK_TEST_PIN
expect_exit 9 "keygen with an existing id: exit 9" nk keygen --label k2 --id 01 --pin-source env:NK_TEST_PIN

# PINs.
expect_exit 5 "wrong PIN: exit 5" env NK_BAD=654321 "$TOOL" --config "$T/nkhsm.conf" \
    --module "$SOFTHSM_MODULE" sign --pin-source env:NK_BAD -i /dev/null -o "$T/sig" 'pkcs11:object=k'
expect_grep "incorrect PIN for token 'one' (.*tries left" "$T/err" "wrong PIN: message with tries left"
[ ! -e "$T/sig" ] && pass "wrong PIN: no output file" || fail "wrong PIN: output written"
expect_exit 10 "unset PIN variable: exit 10" nk sign --pin-source env:NK_UNSET_VAR -i /dev/null 'pkcs11:object=k'
expect_exit 10 "unreadable PIN file: exit 10" nk sign --pin-source "file:$T/nopin" -i /dev/null 'pkcs11:object=k'
printf '%s\n' "$USER_PIN" > "$T/pinfile"
expect_exit 0 "PIN from a file (trailing newline stripped)" nk sign --pin-source "file:$T/pinfile" \
    -i /dev/null -o "$T/sig" 'pkcs11:object=k'
expect_exit 2 "an unknown PIN source: exit 2" nk sign --pin-source tty:1 -i /dev/null 'pkcs11:object=k'
expect_grep "use env:VAR or file:/absolute/path" "$T/err" "unknown PIN source: message"

# Output files are written whole or not at all.
expect_exit 1 "selfsign into a missing directory: exit 1" nk selfsign --subject CN=x --days 1 \
    --pin-source env:NK_TEST_PIN 'pkcs11:object=k' -o "$T/nodir/x.crt"
[ ! -e "$T/nodir" ] && pass "no directory created" || fail "directory appeared"
ls "$T" | grep -q 'tmp' && fail "a temporary file was left behind" || pass "no temporary file left behind"

# Verification.
printf 'message' > "$T/m"
nk sign --pin-source env:NK_TEST_PIN -i "$T/m" -o "$T/m.sig" 'pkcs11:object=k'
nk pubkey --format pem -o "$T/k.pem" 'pkcs11:object=k'
expect_exit 0 "verify a good signature" nk verify -i "$T/m" --signature "$T/m.sig" --pubkey "$T/k.pem"
printf 'massage' > "$T/m2"
expect_exit 8 "verify a signature over other data: exit 8" nk verify -i "$T/m2" --signature "$T/m.sig" --pubkey "$T/k.pem"
expect_grep "signature: BAD" "$T/out" "bad signature: message"
head -c 8 /dev/urandom > "$T/junk.sig"
expect_exit 8 "verify garbage: exit 8" nk verify -i "$T/m" --signature "$T/junk.sig" --pubkey "$T/k.pem"

# Two tokens: a key URI without a token is ambiguous; a serial or label picks one.
init_token two
nk keygen --curve p256 --label k --id 01 --pin-source env:NK_TEST_PIN --token pkcs11:token=two >/dev/null
expect_exit 3 "two tokens, no token named: exit 3" nk pubkey 'pkcs11:object=k'
expect_grep "more than one token" "$T/err" "two tokens: message"
expect_exit 0 "two tokens, token= picks one" nk pubkey 'pkcs11:token=two;object=k'
serial=$(nk list --json | python3 -c 'import json,sys; print([t["serial"] for t in json.load(sys.stdin) if t["label"]=="one"][0])')
expect_exit 0 "two tokens, serial= picks one" nk pubkey "pkcs11:serial=$serial;object=k"
a=$(nk pubkey "pkcs11:token=one;object=k"); b=$(nk pubkey "pkcs11:token=two;object=k")
[ "$a" != "$b" ] && pass "the two tokens' keys differ" || fail "same key on both tokens"

# A key kept with a certificate and no public key object is still listed.
nk keygen --token pkcs11:token=one --label certonly --id 0c --pin-source env:NK_TEST_PIN >/dev/null
nk selfsign --subject CN=certonly --days 1 --store --pin-source env:NK_TEST_PIN \
    'pkcs11:token=one;object=certonly' -o "$T/certonly.crt" 2>/dev/null
pkcs11-tool --module "$SOFTHSM_MODULE" --token-label one --login --pin "$USER_PIN" \
    --delete-object --type pubkey --id 0c >/dev/null 2>&1
nk status --json pkcs11:token=one > "$T/st.json"
if python3 -c 'import json,sys; k=[x for x in json.load(open(sys.argv[1]))["keys"] if x["id"]=="0c"]; assert k and k[0]["fingerprint"].startswith("SHA256:"), k' "$T/st.json"; then
	pass "status lists a key that only has a certificate"
else
	fail "status misses the certificate-only key"
fi
expect_exit 0 "pubkey reads a certificate-only key" nk pubkey 'pkcs11:token=one;id=%0c'

# Configuration: strict, and its module and token are used.
printf 'module = %s\ntoken = pkcs11:token=two\n' "$SOFTHSM_MODULE" > "$T/good.conf"
chmod 600 "$T/good.conf"
expect_exit 0 "configuration supplies module and token" "$TOOL" --config "$T/good.conf" pubkey 'pkcs11:object=k'
[ "$(cat "$T/out")" = "$b" ] && pass "the configured token was used" || fail "wrong token used"
printf 'modul = /x.so\n' > "$T/bad.conf"; chmod 600 "$T/bad.conf"
expect_exit 2 "unknown configuration key: exit 2" "$TOOL" --config "$T/bad.conf" list
expect_grep "bad.conf:1: unknown key" "$T/err" "configuration error names file and line"
cp "$T/good.conf" "$T/gw.conf"; chmod 620 "$T/gw.conf"
expect_exit 2 "group-writable configuration: exit 2" "$TOOL" --config "$T/gw.conf" list
expect_grep "group-writable" "$T/err" "group-writable: message"
ln -s "$T/good.conf" "$T/link.conf"
expect_exit 2 "configuration through a symlink: exit 2" "$TOOL" --config "$T/link.conf" list
expect_exit 2 "missing configuration file: exit 2" "$TOOL" --config "$T/none.conf" list

# Fault injection: what SoftHSM cannot do (PIN counters, pulled tokens,
# corrupted signatures) comes from the test PKCS#11 wrapper module.
if [ ! -f "$FAULT_MODULE" ]; then
	fail "the fault-injection module $FAULT_MODULE is not built"
	finish
fi
export NKFAULT_MODULE="$SOFTHSM_MODULE"
nf() { "$TOOL" --config "$T/nkhsm.conf" --module "$FAULT_MODULE" "$@"; }
K='pkcs11:token=one;object=k'
expect_exit 6 "locked PIN: exit 6" env NKFAULT_FLAGS=locked "$TOOL" --config "$T/nkhsm.conf" \
    --module "$FAULT_MODULE" sign --pin-source env:NK_TEST_PIN -i "$T/m" -o "$T/l.sig" "$K"
expect_grep "is locked" "$T/err" "locked PIN: message, no prompt"
expect_exit 11 "final try with a non-interactive PIN: exit 11" env NKFAULT_FLAGS=final_try \
    "$TOOL" --config "$T/nkhsm.conf" --module "$FAULT_MODULE" sign --pin-source env:NK_TEST_PIN \
    -i "$T/m" -o "$T/f.sig" "$K"
expect_grep "1 PIN try left" "$T/err" "final try: message"
expect_exit 0 "final try allowed explicitly" env NKFAULT_FLAGS=final_try "$TOOL" --config \
    "$T/nkhsm.conf" --module "$FAULT_MODULE" sign --allow-final-try --pin-source env:NK_TEST_PIN \
    -i "$T/m" -o "$T/f.sig" "$K"
expect_grep "1 try left before the PIN locks" "$T/err" "final try: warned before login"
expect_exit 0 "count low: works" env NKFAULT_FLAGS=count_low "$TOOL" --config "$T/nkhsm.conf" \
    --module "$FAULT_MODULE" sign --pin-source env:NK_TEST_PIN -i "$T/m" -o "$T/c.sig" "$K"
expect_grep "fewer tries left" "$T/err" "count low: warned before login"
env NKFAULT_FLAGS=locked,pinpad "$TOOL" --config "$T/nkhsm.conf" --module "$FAULT_MODULE" \
    status pkcs11:token=one > "$T/out" 2>&1
expect_grep "user PIN:     locked, PIN pad" "$T/out" "status shows locked and PIN pad"

# A real retry counter (emulated): wrong PINs walk it down to locked.
export NKFAULT_PIN_TRIES=3 NKFAULT_STATE="$T/tries"
expect_exit 5 "wrong PIN 1 of 3" env NK_BAD=000000 "$TOOL" --config "$T/nkhsm.conf" \
    --module "$FAULT_MODULE" sign --pin-source env:NK_BAD -i "$T/m" -o "$T/x" "$K"
expect_grep "fewer tries left than the maximum" "$T/err" "after one wrong PIN: count low shown"
expect_exit 5 "wrong PIN 2 of 3" env NK_BAD=000000 "$TOOL" --config "$T/nkhsm.conf" \
    --module "$FAULT_MODULE" sign --allow-final-try --pin-source env:NK_BAD -i "$T/m" -o "$T/x" "$K"
expect_grep "1 try left before the PIN locks" "$T/err" "after two wrong PINs: final try shown"
expect_exit 11 "the last try is not spent by a script" env NK_BAD=000000 "$TOOL" --config \
    "$T/nkhsm.conf" --module "$FAULT_MODULE" sign --pin-source env:NK_BAD -i "$T/m" -o "$T/x" "$K"
expect_exit 6 "wrong PIN 3 of 3 locks: exit 6" env NK_BAD=000000 "$TOOL" --config "$T/nkhsm.conf" \
    --module "$FAULT_MODULE" sign --allow-final-try --pin-source env:NK_BAD -i "$T/m" -o "$T/x" "$K"
expect_exit 6 "locked: even the right PIN is not sent" nf sign --pin-source env:NK_TEST_PIN -i "$T/m" -o "$T/x" "$K"
[ ! -e "$T/x" ] && pass "no signature written by any failed attempt" || fail "signature written"
unset NKFAULT_PIN_TRIES NKFAULT_STATE

# The token pulled at signing time, and a corrupted signature.
expect_exit 3 "token removed at C_Sign: exit 3" env NKFAULT_FAIL_FN=C_Sign NKFAULT_RV=CKR_DEVICE_REMOVED \
    "$TOOL" --config "$T/nkhsm.conf" --module "$FAULT_MODULE" sign --pin-source env:NK_TEST_PIN \
    -i "$T/m" -o "$T/r.sig" "$K"
expect_grep "token removed" "$T/err" "token removed: message"
[ ! -e "$T/r.sig" ] && pass "token removed: no output file" || fail "token removed: output written"
expect_exit 8 "corrupted signature from the token: exit 8" env NKFAULT_CORRUPT=sig "$TOOL" --config \
    "$T/nkhsm.conf" --module "$FAULT_MODULE" sign --pin-source env:NK_TEST_PIN -i "$T/m" -o "$T/bad.sig" "$K"
[ ! -e "$T/bad.sig" ] && pass "corrupted signature: nothing written" || fail "corrupted signature written"
expect_exit 8 "corrupted signature at selfsign: exit 8" env NKFAULT_CORRUPT=sig "$TOOL" --config \
    "$T/nkhsm.conf" --module "$FAULT_MODULE" selfsign --subject CN=x --days 1 \
    --pin-source env:NK_TEST_PIN "$K" -o "$T/bad.crt"
[ ! -e "$T/bad.crt" ] && pass "corrupted selfsign: no certificate file" || fail "certificate written"

finish
