#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# tool-timeout.sh - --timeout in nkhsm-tool and nkhsm-sshca: a PKCS#11 call
# that never returns (the fault module's hang, as a frozen card does) ends
# the command with status 14 and a message within the deadline, leaving no
# output file, certificate or ledger entry; the deadline is per call, so a
# slow token still works; 0 turns it off; bad values are refused.
# card-faults.sh does the same on a frozen card.
. "${top_srcdir:-.}/tests/integration/common.sh"
. "$top_srcdir/tests/integration/sshca-checks.sh"

[ -f "$FAULT_MODULE" ] || { echo "fault module not built (make check builds it)"; exit 99; }
[ -x "$SSHCA" ] || { echo "nkhsm-sshca not built"; exit 99; }
export NKFAULT_MODULE="$SOFTHSM_MODULE"
init_token tt
nk keygen --label k --id 01 --pin-source env:NK_TEST_PIN >/dev/null || exit 99
printf 'message\n' > "$T/m"
K='pkcs11:token=tt;id=%01'
nf() { "$TOOL" --config "$T/nkhsm.conf" --module "$FAULT_MODULE" "$@"; }

# expect_timeout DESC LIMIT CMD...: exit 14 and the message, within LIMIT s
# (the shell's timeout stops a hang at 60 s: exit 124 then).
expect_timeout() {
	_d=$1 _lim=$2
	shift 2
	_t0=$(date +%s)
	timeout 60 "$@" >"$T/out" 2>"$T/err"
	_rc=$? _s=$(($(date +%s) - _t0))
	if [ $_rc -eq 14 ] && grep -q 'did not answer within' "$T/err" && [ $_s -le "$_lim" ]; then
		pass "$_d: exit 14 after $_s s, with a message"
	else
		fail "$_d: exit $_rc after $_s s, wanted 14 within $_lim s"
		sed 's/^/  | /' "$T/err" | head -3
	fi
}

# --- bad values ---------------------------------------------------------------
for v in x -1 86401 '' 1s; do
	expect_exit 2 "nkhsm-tool --timeout '$v' refused" "$TOOL" --timeout "$v" list
	expect_grep 'timeout must be a number of seconds' "$T/err" "--timeout '$v': the message"
done
expect_exit 2 "nkhsm-sshca --timeout x refused" "$SSHCA" --timeout x list

# --- a hung call --------------------------------------------------------------
expect_timeout "sign, C_Sign hangs" 8 env NKFAULT_HANG_FN=C_Sign \
    "$TOOL" --config "$T/nkhsm.conf" --module "$FAULT_MODULE" --timeout 2 \
    sign --pin-source env:NK_TEST_PIN -i "$T/m" -o "$T/m.sig" "$K"
[ ! -e "$T/m.sig" ] && [ -z "$(find "$T" -name 'm.sig.tmp*')" ] &&
    pass "sign, C_Sign hangs: no output file" || fail "sign, C_Sign hangs: a file was written"
expect_timeout "list, C_Initialize hangs" 8 env NKFAULT_HANG_FN=C_Initialize \
    "$TOOL" --config "$T/nkhsm.conf" --module "$FAULT_MODULE" --timeout 2 list
expect_timeout "keygen, C_GenerateKeyPair hangs" 8 env NKFAULT_HANG_FN=C_GenerateKeyPair \
    "$TOOL" --config "$T/nkhsm.conf" --module "$FAULT_MODULE" --timeout 2 \
    keygen --label hung --pin-source env:NK_TEST_PIN

# --- per call, and 0 ----------------------------------------------------------
# Every call takes 0.4 s: within --timeout 1, though list takes longer.
_t0=$(date +%s)
expect_exit 0 "a slow token (0.4 s a call) within --timeout 1" env NKFAULT_DELAY_MS=400 \
    "$TOOL" --config "$T/nkhsm.conf" --module "$FAULT_MODULE" --timeout 1 list
[ $(($(date +%s) - _t0)) -ge 2 ] && pass "the slow list took longer than the deadline in all" ||
    fail "the slow list was too fast to prove a per-call deadline"
expect_timeout "a token slower than --timeout 1" 8 env NKFAULT_DELAY_MS=1100 \
    "$TOOL" --config "$T/nkhsm.conf" --module "$FAULT_MODULE" --timeout 1 list
expect_exit 0 "--timeout 0: no limit" env NKFAULT_DELAY_MS=1100 \
    "$TOOL" --config "$T/nkhsm.conf" --module "$FAULT_MODULE" --timeout 0 list

# --- nkhsm-sshca: a batch whose third signature hangs -------------------------
sc init >/dev/null 2>&1 || { echo "init failed"; exit 99; }
for i in 1 2 3 4; do
	ssh-keygen -q -t ed25519 -N '' -C "u$i" -f "$T/u$i" || exit 99
done
n0=$(ledger_count)
expect_timeout "nkhsm-sshca sign, the third C_Sign hangs" 8 env NKFAULT_HANG_FN=C_Sign \
    NKFAULT_HANG_FN_AT=3 "$SSHCA" --config "$T/nkhsm.conf" --state "$T/state" \
    --module "$FAULT_MODULE" --pin-source env:NK_TEST_PIN --timeout 2 \
    sign --user -I hung -n u -V +1h $(seq -f "$T/u%g.pub" 1 4)
expect_eq "$(ls "$T"/u*-cert.pub 2>/dev/null | wc -l)" 0 "nkhsm-sshca: no certificate written"
expect_eq "$(ledger_count)" "$n0" "nkhsm-sshca: nothing in the ledger"
check_issued_recorded "nkhsm-sshca, hung"
expect_exit 0 "the ledger's log verifies" sc verify-log

finish
