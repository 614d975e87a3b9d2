#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# card-faults.sh - an emulated SmartCard-HSM pulled or frozen in the middle
# of an nkhsm-sshca batch and of nkhsm-tool keygen, at a chosen command to
# the card: the tools end with a message and their documented exit status
# (3: the token was removed, 14: it did not answer within --timeout), in
# bounded time; no certificate without its ledger entry, no temporary file,
# no key reported as made; and once the card is back (or thawed), the same
# work succeeds.
. "${top_srcdir:-.}/tests/integration/common.sh"
. "$top_srcdir/tests/integration/card-common.sh"
. "$top_srcdir/tests/integration/sshca-checks.sh"

[ -x "$SSHCA" ] || { echo "nkhsm-sshca not built"; exit 99; }
card_start

# expect_fault DESC RC PATTERN LIMIT: the last card_fault_after hit the card,
# and its command ended with RC and a message matching PATTERN within LIMIT
# seconds of the fault (the limit card_fault_after was given).
expect_fault() {
	if [ "$fault_hit" -ne 1 ]; then
		fail "$1: the command ended before the fault (exit $fault_rc)"
		sed 's/^/  | /' "$T/fault.out" | tail -3
	elif [ "$fault_rc" -eq "$2" ] && grep -q "$3" "$T/fault.out" &&
	    [ "$fault_secs" -le "$4" ]; then
		pass "$1: exit $2 after $fault_secs s, with a message"
	else
		fail "$1: exit $fault_rc after $fault_secs s, wanted $2 within $4 s"
		sed 's/^/  | /' "$T/fault.out" | tail -3
	fi
}
# A frozen card: --timeout, plus the time the tool takes to end. The deadline
# is per call, and OpenSC's C_Initialize reads the whole card: about 3 s
# here for a few keys, 4 s under valgrind. A pulled card: the kit's remove
# (up to 5 s), then the reader noticing (1 s).
TO=$((SLOW > 1 ? 20 : 8))
FROZEN_LIMIT=$((TO + 5 * SLOW))
REMOVED_LIMIT=$((8 * SLOW))

sc init > "$T/ca.pub" 2>"$T/err" || { cat "$T/err"; echo "init failed"; exit 99; }
CAFP=$(fp "$T/ca.pub")
for i in $(seq 1 6); do
	ssh-keygen -q -t ed25519 -N '' -C "f$i" -f "$T/f$i" || exit 99
done
keys=$(seq -f "$T/f%g.pub" 1 6)

# batch_fault WHAT ID RC MESSAGE LIMIT ACTION TIMEOUT AGAIN: a batch of the
# six keys with the card pulled or frozen (ACTION) after its third
# signature APDU ends with RC and MESSAGE within LIMIT s, leaving no
# certificate and no ledger entry; then, after AGAIN (card_insert or
# card_thaw), the same batch is issued whole.
batch_fault() {
	rm -f "$T"/f*-cert.pub
	n0=$(ledger_count)
	card_fault_after "$6" '80 68' 3 "$5" sc --timeout "$7" sign --user -I "$2" -n u \
	    -V +1h $keys
	expect_fault "sign, card $1 mid-batch" "$3" "$4" "$5"
	expect_eq "$(ls "$T"/f*-cert.pub 2>/dev/null | wc -l)" 0 \
	    "sign, card $1: no certificate written"
	expect_eq "$(ledger_count)" "$n0" "sign, card $1: nothing in the ledger"
	check_issued_recorded "sign, card $1"
	"$8"
	expect_exit 0 "sign once the card is back ($8)" sc sign --user -I "$2-again" -n u \
	    -V +1h $keys
	check_batch "after $8" "$2-again" ecdsa-sha2-nistp256 "$n0" $keys
}
batch_fault pulled pulled 3 'signing failed: token removed' "$REMOVED_LIMIT" remove \
    "$TO" card_insert
batch_fault frozen frozen 14 "did not answer within $TO s" "$FROZEN_LIMIT" freeze \
    "$TO" card_thaw
expect_exit 0 "the ledger's log verifies" sc verify-log

# --- nkhsm-tool keygen: the card pulled once the key is being made ----------
# OpenSC makes a key in steps: generate (00 46), then write its public key
# (a CExx file) and its description with the label (a C4xx file). Pulled
# after the first, the card may keep an unfinished key.
card_fault_after remove '00 46' 1 "$REMOVED_LIMIT" nk keygen --curve p384 --label pulled \
    --pin-source "$TEST_PIN"
expect_fault "keygen, card pulled" 3 'removed during key generation' "$REMOVED_LIMIT"
grep -q '^generated' "$T/fault.out" && fail "keygen, card pulled: reported a key" ||
    pass "keygen, card pulled: no key reported"
card_insert
expect_exit 0 "status after the card is back" nk status
if grep -q '"pulled"' "$T/out"; then
	fail "keygen, card pulled: a key with the label was left, though keygen failed"
else
	pass "keygen, card pulled: no key with the label on the card"
fi
grep -q 'id [0-9a-f]*  *p384 .*""$' "$T/out" &&
    echo "# the card kept an unfinished, unlabelled P-384 key (OpenSC writes keys in steps)"
expect_exit 0 "keygen again after the card is back" nk keygen --curve p384 --label pulled \
    --pin-source "$TEST_PIN"
expect_exit 0 "the new key reads back" nk pubkey 'pkcs11:object=pulled'

# --- nkhsm-tool keygen: the card frozen at the key generation ---------------
card_fault_after freeze '00 46' 1 "$FROZEN_LIMIT" nk --timeout "$TO" keygen --curve p256 --label frozen \
    --pin-source "$TEST_PIN"
expect_fault "keygen, card frozen" 14 "did not answer within $TO s" "$FROZEN_LIMIT"
grep -q '^generated' "$T/fault.out" && fail "keygen, card frozen: reported a key" ||
    pass "keygen, card frozen: no key reported"
card_thaw
expect_exit 0 "status after the thaw" nk status
expect_exit 0 "keygen after the thaw" nk keygen --curve p256 --label thawed \
    --pin-source "$TEST_PIN"

finish
