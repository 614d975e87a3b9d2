#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# tool-keygen.sh - nkhsm-tool keygen leaves nothing behind and costs the
# same on any token. Whatever fails once the token made the pair (reading
# the public key back, a corrupted point, curve or label), the pair is
# destroyed, the message says what happened, and the same label works
# again; if destroying fails too, the URIs of what is left are printed
# (exit 12). Without --id, a random 8-byte id is checked with one search:
# the PKCS#11 call count is the same with 1 object or 127 on the token.
# Labels that cannot be shown as they are are refused before the login.
. "${top_srcdir:-.}/tests/integration/common.sh"
[ -f "$FAULT_MODULE" ] || { echo "fault module not built"; exit 99; }
export NKFAULT_MODULE="$SOFTHSM_MODULE"
PS=env:NK_TEST_PIN
# nf ARGS...: nkhsm-tool through the fault module, on token kg, with the
# NKFAULT_* settings in $FAULTS, under $VG (its report checked).
FAULTS=
nf() {
	env $FAULTS $VG "$TOOL" --config "$T/nkhsm.conf" --module "$FAULT_MODULE" \
	    --token pkcs11:token=kg "$@"
	_rc=$?
	vg_check "nkhsm-tool $FAULTS $*"
	return $_rc
}

init_token kg
init_token many
nf keygen --label base --id 01 --pin-source $PS >/dev/null

# --- the cost does not grow with the token's contents ---
# 63 key pairs and a data object: 127 objects.
i=1
while [ $i -le 63 ]; do
	"$TOOL" --config "$T/nkhsm.conf" --module "$SOFTHSM_MODULE" --token pkcs11:token=many \
	    keygen --label "k$i" --id "$(printf %02x $i)" --pin-source $PS >/dev/null ||
	    fail "filling the token: keygen $i"
	i=$((i + 1))
done
printf 'data' > "$T/data"
pkcs11-tool --module "$SOFTHSM_MODULE" --token-label many --login --pin "$USER_PIN" \
    --write-object "$T/data" --type data --label d >/dev/null 2>&1
n_many=$(token_objects many)
[ "$n_many" -eq 127 ] && pass "token 'many' holds 127 objects" || fail "token 'many' holds $n_many objects"

# calls TOKEN ARGS...: the PKCS#11 calls of one keygen on TOKEN.
calls() {
	tok=$1
	shift
	rm -f "$T/count"
	NKFAULT_COUNT_FILE="$T/count" "$TOOL" --config "$T/nkhsm.conf" --module "$FAULT_MODULE" \
	    --token "pkcs11:token=$tok" keygen --pin-source $PS "$@" >/dev/null 2>"$T/err" ||
	    { fail "keygen $* on $tok"; sed 's/^/  | /' "$T/err"; }
	awk '$1 == "TOTAL" { n += $2 } END { print n + 0 }' "$T/count"
}
n_few=$(token_objects kg)
few=$(calls kg --label cost1)
many=$(calls many --label cost1)
echo "# keygen without --id: $few calls with $n_few objects, $many with $n_many"
[ "$few" -eq "$many" ] && pass "keygen without --id: $few calls whatever the token holds" ||
    fail "keygen without --id: $few calls with $n_few objects, $many with $n_many"
few=$(calls kg --label cost2 --id 7f)
many=$(calls many --label cost2 --id 7f)
[ "$few" -eq "$many" ] && pass "keygen --id: $few calls whatever the token holds" ||
    fail "keygen --id: $few calls on the small token, $many on the full one"

# --- a random id, checked, never reused ---
nf keygen --label r1 --pin-source $PS > "$T/r1" && nf keygen --label r2 --pin-source $PS > "$T/r2"
id1=$(sed -n 's/.*;id=\([^;]*\);.*/\1/p' "$T/r1")
id2=$(sed -n 's/.*;id=\([^;]*\);.*/\1/p' "$T/r2")
if [ ${#id1} -eq 24 ] && [ ${#id2} -eq 24 ] && [ "$id1" != "$id2" ]; then
	pass "without --id: random 8-byte ids ($id1, $id2)"
else
	fail "without --id: ids '$id1' and '$id2'"
fi
expect_exit 0 "the random id names the key" nk pubkey "pkcs11:token=kg;id=$id1"

# --- failures after the pair was made: nothing is left, a retry works ---
# after_make DESCRIPTION EXIT MESSAGE VAR=VALUE...: keygen --label again
# under those faults must fail with EXIT and MESSAGE, leave the token as it
# was, not blame the curve, and a retry without faults must work.
after_make() {
	what=$1 code=$2 msg=$3
	shift 3
	before=$(token_objects kg)
	FAULTS="$*"
	expect_exit "$code" "$what: exit $code" nf keygen --label again --pin-source $PS
	FAULTS=
	expect_grep "$msg" "$T/err" "$what: says so"
	expect_grep "the pair was destroyed, nothing is left" "$T/err" "$what: says the pair is gone"
	if grep -q "cannot generate" "$T/err"; then
		fail "$what: blames the curve"
	else
		pass "$what: does not blame the curve"
	fi
	after=$(token_objects kg)
	[ "$after" -eq "$before" ] && pass "$what: no object left ($after)" ||
	    fail "$what: $before objects before, $after after"
	expect_exit 0 "$what: a retry with the same label works" \
	    nf keygen --label again --pin-source $PS
	pkcs11-tool --module "$SOFTHSM_MODULE" --token-label kg --login --pin "$USER_PIN" \
	    --delete-object --type privkey --label again >/dev/null 2>&1
	pkcs11-tool --module "$SOFTHSM_MODULE" --token-label kg --login --pin "$USER_PIN" \
	    --delete-object --type pubkey --label again >/dev/null 2>&1
}
after_make "a corrupted point" 1 "its public key is not a point on the curve" \
    NKFAULT_CORRUPT=ecpoint
after_make "corrupted curve parameters" 1 "its public key object is malformed" \
    NKFAULT_CORRUPT=ecparams
after_make "a label read back otherwise" 1 "the token stored another label" \
    NKFAULT_CORRUPT=label
after_make "the token pulled at the read-back" 3 "could not be read back (token removed)" \
    NKFAULT_FAIL_FN=C_GetAttributeValue
after_make "a failed read-back" 1 "could not be read back (PKCS#11 module error)" \
    NKFAULT_FAIL_FN=C_GetAttributeValue NKFAULT_RV=CKR_FUNCTION_FAILED

# --- destroying fails too: the URIs of what is left ---
before=$(token_objects kg)
FAULTS="NKFAULT_CORRUPT=ecpoint NKFAULT_FAIL_FN=C_DestroyObject NKFAULT_FAIL_FN_ALL=1"
expect_exit 12 "the pair cannot be destroyed: exit 12" nf keygen --label stuck --pin-source $PS
expect_grep "destroying it failed too; delete what is left" "$T/err" "cannot destroy: says so"
priv=$(sed -n 's/^nkhsm-tool:   \(pkcs11:.*;type=private\)$/\1/p' "$T/err")
pub=$(sed -n 's/^nkhsm-tool:   \(pkcs11:.*;type=public\)$/\1/p' "$T/err")
[ -n "$priv" ] && [ -n "$pub" ] && pass "cannot destroy: both URIs printed" ||
    fail "cannot destroy: URIs '$priv' '$pub'"
[ "$(token_objects kg)" -eq $((before + 2)) ] && pass "cannot destroy: the two objects are there" ||
    fail "cannot destroy: $(token_objects kg) objects, $before before"
expect_exit 0 "the printed public key URI names the leftover" nk pubkey "$pub"
printf 'x' > "$T/m"
expect_exit 0 "the printed private key URI names the leftover" \
    nk sign --pin-source $PS -i "$T/m" -o "$T/m.sig" "$priv"
hexid=$(printf '%s' "$priv" | sed -n 's/.*;id=\([^;]*\);.*/\1/p' | tr -d % | tr A-F a-f)
pkcs11-tool --module "$SOFTHSM_MODULE" --token-label kg --login --pin "$USER_PIN" \
    --delete-object --type privkey --id "$hexid" >/dev/null 2>&1
pkcs11-tool --module "$SOFTHSM_MODULE" --token-label kg --login --pin "$USER_PIN" \
    --delete-object --type pubkey --id "$hexid" >/dev/null 2>&1
[ "$(token_objects kg)" -eq "$before" ] && pass "the leftovers are deleted by their id" ||
    fail "deleting the leftovers by id"
# Only the private key fails to go: only it is named.
FAULTS="NKFAULT_CORRUPT=ecpoint NKFAULT_FAIL_FN=C_DestroyObject NKFAULT_FAIL_FN_AT=1"
expect_exit 12 "only the private key stays: exit 12" nf keygen --label stuck --pin-source $PS
FAULTS=
n=$(grep -c '^nkhsm-tool:   pkcs11:' "$T/err")
[ "$n" -eq 1 ] && grep -q '^nkhsm-tool:   pkcs11:.*;type=private$' "$T/err" &&
    pass "only the private key stays: only its URI is printed" ||
    fail "only the private key stays: $n URIs printed"
[ "$(token_objects kg)" -eq $((before + 1)) ] && pass "only the private key stays: one object more" ||
    fail "only the private key stays: $(token_objects kg) objects, $before before"

# --- refused before anything is made ---
before=$(token_objects kg)
expect_exit 2 "a label with a newline: exit 2, before the PIN is read" \
    nf keygen --label "$(printf 'a\nb')" --pin-source env:NK_UNSET_VAR
expect_grep "must not contain control characters" "$T/err" "a label with a newline: message"
expect_exit 2 "a label with an escape character: exit 2" \
    nf keygen --label "$(printf 'a\033[2Jb')" --pin-source $PS
expect_exit 2 "a label of 256 bytes: exit 2" \
    nf keygen --label "$(printf '%0256d' 0)" --pin-source $PS
expect_grep "longer than 255 bytes" "$T/err" "a long label: message"
expect_exit 0 "a label of 255 bytes is fine" nf keygen --label "$(printf '%0255d' 0)" --pin-source $PS
expect_exit 9 "an existing label: exit 9" nf keygen --label base --pin-source $PS
expect_grep "already has an object with that label; nothing was generated" "$T/err" \
    "an existing label: message"
expect_exit 9 "an existing id: exit 9" nf keygen --label fresh --id 01 --pin-source $PS
expect_grep "already has an object with that id; nothing was generated" "$T/err" \
    "an existing id: message"
[ "$(token_objects kg)" -eq $((before + 2)) ] && pass "refusals made nothing" ||
    fail "refusals: $(token_objects kg) objects, $before before (+2 for the long label)"

# A token whose search finds an object for every id: a few draws, then an
# error, and no key pair.
rm -f "$T/count"
FAULTS="NKFAULT_CORRUPT=phantom NKFAULT_COUNT_FILE=$T/count"
expect_exit 1 "every random id reported taken: exit 1" nf keygen --label fresh --pin-source $PS
FAULTS=
expect_grep "the token reports every random id drawn as in use" "$T/err" \
    "every random id reported taken: message"
grep -q '^C_GenerateKeyPair' "$T/count" && fail "a pair was generated anyway" ||
    pass "every random id reported taken: no pair generated"
grep -q '^C_FindObjectsInit 4$' "$T/count" && pass "every random id reported taken: 4 draws" ||
    fail "every random id reported taken: $(grep FindObjectsInit "$T/count")"
finish
