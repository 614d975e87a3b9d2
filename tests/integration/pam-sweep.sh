#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# pam-sweep.sh - the token removed at each step of a login: inject a failure
# at every PKCS#11 call of a successful authentication in turn. No run may
# succeed, hang beyond the timeout, or crash pamtester.
. "${top_srcdir:-.}/tests/integration/common.sh"
pam_setup

init_token sweep
nk keygen --label login --id 01 --pin-source env:NK_TEST_PIN | sed -n 's/^ *ssh: *//p' > "$T/login.pub"
install -o "$PAM_USER" -m 600 "$T/login.pub" "$AUTHFILE"
export NKFAULT_MODULE="$SOFTHSM_MODULE"
pam_service sweep "auth required $PAM_MOD $PAM_BASE timeout=5"
sed -i "s| module=$SOFTHSM_MODULE| module=$FAULT_MODULE|" "$PAMD/sweep"

# A clean run, counting the calls.
pam_run sweep authenticate "$USER_PIN\n" NKFAULT_LOG="$T/calls.log"
expect_pam "$R_SUCCESS" "clean run succeeds"
total=$(grep -c ' C_' "$T/calls.log")
[ "$total" -gt 5 ] && pass "a login makes $total PKCS#11 calls" || fail "only $total calls logged"
[ "$total" -le 16 ] && pass "at most 16 calls reach the token ($total)" || fail "$total calls (target 16)"

for rv in CKR_DEVICE_REMOVED ${NKHSM_SWEEP_MORE:-}; do
	bad=0 slow=0 crash=0 spare=0
	i=1
	while [ $i -le "$total" ]; do
		start=$(date +%s)
		pam_run sweep authenticate "$USER_PIN\n" NKFAULT_FAIL_AT=$i NKFAULT_RV=$rv
		took=$(( $(date +%s) - start ))
		fn=$(sed -n "${i}p" "$T/calls.log" | awk '{print $2}')
		if grep -q "^$R_SUCCESS" "$T/pam.out"; then
			# SoftHSM always has a spare uninitialized slot: a fault in
			# reading that slot's token info is outside this token's
			# flow, and the login rightly goes on. Nothing else may pass.
			if [ "$fn" = C_GetTokenInfo ] && [ "$spare" -eq 0 ]; then
				spare=1
			elif [ "$fn" = C_Logout ] && [ "$rv" = CKR_USER_NOT_LOGGED_IN ]; then
				# "Not logged in" at logout comes after a correct
				# login and a verified signature: a real success.
				:
			else
				bad=$((bad + 1)); echo "  $rv at call $i ($fn): SUCCESS"
			fi
		fi
		[ "$took" -le 7 ] || { slow=$((slow + 1)); echo "  $rv at call $i: $took s"; }
		[ "$pam_rc" -le 1 ] || { crash=$((crash + 1)); echo "  $rv at call $i: exit $pam_rc"; }
		i=$((i + 1))
	done
	[ $bad -eq 0 ] && pass "$rv at each of $total calls: never success" || fail "$rv: $bad successes"
	[ $slow -eq 0 ] && pass "$rv at each call: no hang" || fail "$rv: $slow slow runs"
	[ $crash -eq 0 ] && pass "$rv at each call: pamtester never crashed" || fail "$rv: $crash crashes"
done
finish
