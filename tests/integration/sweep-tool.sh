#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# sweep-tool.sh - a fault at every PKCS#11 call of nkhsm-tool keygen and
# selfsign: a clear message and a documented exit code, never a hang or a
# crash, no half-written output file, and no key pair left on the token by
# a keygen that failed (counted with pkcs11-tool before and after).
. "${top_srcdir:-.}/tests/integration/common.sh"
[ -f "$FAULT_MODULE" ] || { echo "fault module not built"; exit 99; }
export NKFAULT_MODULE="$SOFTHSM_MODULE"
nf() { "$TOOL" --config "$T/nkhsm.conf" --module "$FAULT_MODULE" "$@"; }

init_token sw
nk keygen --label base --id 01 --pin-source env:NK_TEST_PIN >/dev/null
NKFAULT_LOG="$T/kg.log" nf keygen --label probe --pin-source env:NK_TEST_PIN >/dev/null
NKFAULT_LOG="$T/ss.log" nf selfsign --subject CN=x --days 1 --pin-source env:NK_TEST_PIN \
    'pkcs11:object=base' -o "$T/probe.crt" 2>/dev/null
kg=$(grep -c ' C_' "$T/kg.log"); ss=$(grep -c ' C_' "$T/ss.log")
[ "$kg" -gt 5 ] && [ "$ss" -gt 5 ] && pass "keygen makes $kg calls, selfsign $ss" || fail "call counts $kg $ss"

for rv in CKR_DEVICE_REMOVED ${NKHSM_SWEEP_MORE:-}; do
	bad=0 orphans=0 i=1
	objs=$(token_objects sw)
	while [ $i -le "$kg" ]; do
		timeout 30 env NKFAULT_FAIL_AT=$i NKFAULT_RV=$rv "$TOOL" --config "$T/nkhsm.conf" \
		    --module "$FAULT_MODULE" keygen --label "k$i$rv" --pin-source env:NK_TEST_PIN \
		    >/dev/null 2>"$T/err"
		rc=$?
		# 12 is documented, but one fault alone must never leave objects.
		if [ $rc -ge 12 ] || { [ $rc -ne 0 ] && ! grep -q '^nkhsm-tool: ' "$T/err"; }; then
			bad=$((bad + 1)); echo "  keygen, $rv at $i: exit $rc"; sed 's/^/    /' "$T/err"
		fi
		# A success made the pair: delete it, so that every run finds the
		# token as the probe did and the faults hit the same calls.
		if [ $rc -eq 0 ]; then
			for type in privkey pubkey; do
				pkcs11-tool --module "$SOFTHSM_MODULE" --token-label sw --login \
				    --pin "$USER_PIN" --delete-object --type $type \
				    --label "k$i$rv" >/dev/null 2>&1
			done
		fi
		now=$(token_objects sw)
		if [ "$now" -ne "$objs" ]; then
			orphans=$((orphans + 1))
			echo "  keygen, $rv at $i: exit $rc, $now objects on the token, $objs expected"
			sed 's/^/    /' "$T/err"
			objs=$now
		fi
		i=$((i + 1))
	done
	[ $bad -eq 0 ] && pass "keygen, $rv at each of $kg calls: documented exit codes and messages" ||
	    fail "keygen, $rv: $bad bad outcomes"
	[ $orphans -eq 0 ] && pass "keygen, $rv at each of $kg calls: no object left behind" ||
	    fail "keygen, $rv: $orphans runs left objects behind"
	bad=0 i=1
	while [ $i -le "$ss" ]; do
		rm -f "$T/c.crt"
		timeout 30 env NKFAULT_FAIL_AT=$i NKFAULT_RV=$rv "$TOOL" --config "$T/nkhsm.conf" \
		    --module "$FAULT_MODULE" selfsign --subject CN=x --days 1 \
		    --pin-source env:NK_TEST_PIN 'pkcs11:object=base' -o "$T/c.crt" >/dev/null 2>"$T/err"
		rc=$?
		if [ $rc -eq 0 ]; then
			openssl verify -CAfile "$T/c.crt" "$T/c.crt" >/dev/null 2>&1 ||
			    { bad=$((bad + 1)); echo "  selfsign, $rv at $i: exit 0, bad certificate"; }
		elif [ $rc -ge 12 ] || [ -e "$T/c.crt" ] || ! grep -q '^nkhsm-tool: ' "$T/err"; then
			bad=$((bad + 1)); echo "  selfsign, $rv at $i: exit $rc"
		fi
		if ls "$T" | grep -q 'c.crt.tmp'; then
			bad=$((bad + 1)); echo "  selfsign, $rv at $i: temporary file left"
		fi
		i=$((i + 1))
	done
	[ $bad -eq 0 ] && pass "selfsign, $rv at each of $ss calls: no half-written file" ||
	    fail "selfsign, $rv: $bad bad outcomes"
done
finish
