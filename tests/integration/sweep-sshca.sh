#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# sweep-sshca.sh - a fault at every PKCS#11 call of nkhsm-sshca sign: either
# exit 0 with a valid certificate and one new ledger entry, or a non-zero
# exit with no certificate file and no ledger entry. Never a hang or a crash.
# make check injects CKR_DEVICE_REMOVED; CI adds more kinds (NKHSM_SWEEP_MORE).
. "${top_srcdir:-.}/tests/integration/common.sh"
[ -f "$FAULT_MODULE" ] || { echo "fault module not built"; exit 99; }
export NKFAULT_MODULE="$SOFTHSM_MODULE"
SCA="$top_builddir/sshca/nkhsm-sshca"
sc() { "$SCA" --config "$T/nkhsm.conf" --state "$T/state" --pin-source env:NK_TEST_PIN -q "$@"; }
count() { sc list --json | python3 -c 'import json,sys; print(len(json.load(sys.stdin)))'; }

init_token ca
sc --module "$SOFTHSM_MODULE" init >/dev/null || { fail "init"; finish; }
ssh-keygen -q -t ecdsa -N '' -f "$T/user"
NKFAULT_LOG="$T/calls.log" sc --module "$FAULT_MODULE" sign --user -I u -n u -V +1h "$T/user.pub"
total=$(grep -c ' C_' "$T/calls.log")
rm -f "$T/user-cert.pub"
[ "$total" -gt 5 ] && pass "a signing run makes $total PKCS#11 calls" || fail "$total calls"

for rv in CKR_DEVICE_REMOVED ${NKHSM_SWEEP_MORE:-}; do
	bad=0 ok=0 refused=0
	i=1
	while [ $i -le "$total" ]; do
		before=$(count)
		timeout 30 env NKFAULT_FAIL_AT=$i NKFAULT_RV=$rv "$SCA" --config "$T/nkhsm.conf" \
		    --state "$T/state" --pin-source env:NK_TEST_PIN -q --module "$FAULT_MODULE" \
		    sign --user -I u -n u -V +1h "$T/user.pub" >/dev/null 2>"$T/err"
		rc=$?
		after=$(count)
		if [ $rc -eq 0 ]; then
			if ssh-keygen -L -f "$T/user-cert.pub" >/dev/null 2>&1 &&
			    [ "$after" -eq $((before + 1)) ]; then
				ok=$((ok + 1))
			else
				bad=$((bad + 1)); echo "  $rv at $i: exit 0 without a valid cert and entry"
			fi
		elif [ $rc -ge 124 ]; then
			bad=$((bad + 1)); echo "  $rv at $i: exit $rc (hang or crash)"
		elif [ -e "$T/user-cert.pub" ] || [ "$after" -ne "$before" ]; then
			bad=$((bad + 1)); echo "  $rv at $i: exit $rc but a file or ledger entry appeared"
		elif ! grep -q '^nkhsm-sshca: ' "$T/err"; then
			bad=$((bad + 1)); echo "  $rv at $i: exit $rc without a message"
		else
			refused=$((refused + 1))
		fi
		rm -f "$T/user-cert.pub"
		i=$((i + 1))
	done
	[ $bad -eq 0 ] && pass "$rv at each of $total calls: $refused refused cleanly, $ok issued validly" ||
	    fail "$rv: $bad bad outcomes"
done
expect_exit 0 "the ledger's log still verifies" sc verify-log
finish
