#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# card-pam-fault.sh - pam_nkhsm on the emulated SmartCard-HSM when the card
# goes away or stops answering: pulled or frozen with the kit (remove,
# freeze) before the login and at the PIN prompt, on the direct path and
# through OpenSC; inserted late with wait=; and at every command of a
# login, through the fault-injecting helper: removed, hung, or answered
# with garbage. Never a success without a verified signature, never a wait
# past the deadline, always a message, and the card left logged out. Last,
# a recorded signature replayed to a later login is refused.
. "${top_srcdir:-.}/tests/integration/common.sh"
. "$top_srcdir/tests/integration/card-common.sh"
pam_setup
# A write to the PIN FIFO after pamtester is gone must fail, not kill this
# shell before its cleanup has stopped the card.
trap '' PIPE
card_start
# Setting the card up is not under test: no valgrind there (OpenSC's
# keygen leaks a few bytes of its own).
nkc() { "$TOOL" --config "$T/nkhsm.conf" --module "$OPENSC_MODULE" "$@"; }

NKAPDU="$top_builddir/tests/pcscfault/nkapdu"
FAULT_HELPER="$top_builddir/tests/pcscfault/nkhsm-pam-helper-fault"
# Deadlines: the direct path finds the card in well under a second; OpenSC
# takes some 3 s here just to start (it reads the whole card).
TMO=$((5 * SLOW))
TMO11=$((20 * SLOW))
nkc keygen --curve p256 --label login --id 01 --pin-source env:NK_CARD_PIN > "$T/kg" ||
    card_unavailable "keygen on the card failed"
sed -n 's/^ *ssh: *//p' "$T/kg" > "$T/login.pub"
nkc keygen --curve p384 --label k2 --id 02 --pin-source env:NK_CARD_PIN > /dev/null
install -o "$PAM_USER" -m 600 "$T/login.pub" "$AUTHFILE"

BASE="module=$OPENSC_MODULE conf=$T/nkhsm.conf rundir=$RUNDIR cachedir=$T/cache"
pam_service direct "auth required $PAM_MOD $BASE timeout=$TMO helper=$PAM_HELPER"
pam_service p11 "auth required $PAM_MOD $BASE timeout=$TMO11 helper=$PAM_HELPER driver=pkcs11"
pam_service fault "auth required $PAM_MOD $BASE timeout=$TMO11 helper=$FAULT_HELPER debug"
pam_service faultpcsc "auth required $PAM_MOD $BASE timeout=$TMO helper=$FAULT_HELPER driver=pcsc debug"

SELECT=00A404000BE82B0601040181C31F020100
VERIFY=0020008106$(printf '%s' "$CARD_PIN" | od -An -tx1 | tr -d ' \n')
# pcscd's resets of the card so far: a program that dies holding the card,
# or lets go of it with SCARD_RESET_CARD, gets it reset ("Reset complete.").
resets() { grep -c 'Reset complete' "$CARD_DIR/pcscd.log" || :; }
# A real SmartCard-HSM forgets a login when it is reset; does this one? The
# kit's emulator ignores vpcd's power and reset messages, so with it a reset
# is proven by pcscd's log rather than by the card's state.
"$NKAPDU" --reset "$SELECT" "$VERIFY" > /dev/null
if [ "$("$NKAPDU" 00200081)" = 9000 ]; then
	RESET_FORGETS=no
	"$NKAPDU" "$SELECT" > /dev/null	# log it out for what follows
	pass "the emulated card keeps a login across a reset (a real one does not)"
else
	RESET_FORGETS=yes
	pass "the card forgets a login when it is reset"
fi
# logged_out DESCRIPTION: since the last mark_resets, the card was logged
# out, or (on the emulator) reset by pcscd, which logs a real card out.
mark_resets() { _resets=$(resets); }
logged_out() {
	sleep 0.3	# pcscd finishes with a client that went away
	_st=$("$NKAPDU" 00200081 2>&1)
	if [ "$_st" != 9000 ]; then
		pass "$1: the card is left logged out"
	elif [ "$RESET_FORGETS" = no ] && [ "$(resets)" -gt "$_resets" ]; then
		pass "$1: the card was reset (it logs a real card out)"
		"$NKAPDU" "$SELECT" > /dev/null
	else
		fail "$1: the card was left logged in"
		"$NKAPDU" "$SELECT" > /dev/null
	fi
}
mark_resets
# The card works again: a plain login succeeds.
works_again() {
	pam_run direct authenticate "$CARD_PIN\n"
	expect_pam "$R_SUCCESS" "$1: the next login succeeds"
}
pam_run direct authenticate "$CARD_PIN\n"
expect_pam "$R_SUCCESS" "a first login (the key gets its hint)"

# pam_bg SERVICE [VAR=VALUE...]: pamtester in the background, its stdin a
# FIFO that pam_answer writes to later; wait_prompt waits for the PIN prompt.
pam_bg() {
	_svc=$1
	shift
	rm -f "$T/fifo" "$T/pam.rc"
	mkfifo "$T/fifo"
	(
		env "$@" LD_PRELOAD="${NKHSM_TEST_PRELOAD:+$NKHSM_TEST_PRELOAD }$PAM_WRAPPER_LIB" \
		    PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$PAMD" PAM_WRAPPER_DEBUGLEVEL=2 \
		    PAM_WRAPPER_DISABLE_DEEPBIND=1 \
		    $VG pamtester -v "$_svc" "$PAM_USER" authenticate < "$T/fifo" > "$T/pam.out" 2>&1
		echo $? > "$T/pam.rc"
	) &
	bg_pid=$!
	exec 8> "$T/fifo"
}
wait_prompt() {
	for _i in $(seq 1 $((100 * SLOW))); do
		grep -q "PIN for" "$T/pam.out" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}
pam_answer() {
	printf '%s\n' "$1" >&8
	exec 8>&-
	wait "$bg_pid"
	pam_rc=$(cat "$T/pam.rc")
	vg_check "pamtester in the background"
}

# --- pulled at the PIN prompt ----------------------------------------------------
for svc in direct p11; do
	pam_bg "$svc"
	wait_prompt && pass "$svc: at the PIN prompt" || fail "$svc: no PIN prompt"
	card_remove
	apdu_mark
	mark_resets
	pam_answer "$CARD_PIN"
	# Only the direct path knows the PIN never reached the card.
	[ "$svc" = direct ] && want=$R_UNAVAIL || want=$R_AUTH_ERR
	expect_pam "$want" "$svc: pulled at the PIN prompt: ${want#pamtester: }"
	expect_grep "The token was removed" "$T/pam.out" "$svc: pulled at the prompt: the user is told"
	[ "$(apdus_since)" -eq 0 ] && pass "$svc: pulled: no command reached the card" ||
	    fail "$svc: pulled: $(apdus_since) commands"
	card_insert
	logged_out "$svc: pulled at the prompt"
	works_again "$svc: pulled at the prompt"
done

# --- the reader API sees the card go and come (what nkhsm-hotplug will use) -----
NKREADERS="$top_builddir/tests/pcscfault/nkreaders"
"$NKREADERS" > "$T/readers" 2>&1
expect_grep '|present|schsm|ESPICOHSMTR$' "$T/readers" "reader API: the card, its ATR and serial"
"$NKREADERS" --wait $((20000 * SLOW)) > "$T/readers" 2>&1 &
rw=$!
sleep 1
card_remove
wait "$rw" && pass "reader API: the wait ends when the card is pulled" || fail "reader API: the wait failed"
expect_grep '^--$' "$T/readers" "reader API: a change was reported"
sed -n '/^--$/,$p' "$T/readers" | grep -q '|empty|' && pass "reader API: the reader is now empty" ||
    fail "reader API: $(cat "$T/readers")"
"$NKREADERS" --wait $((20000 * SLOW)) > "$T/readers" 2>&1 &
rw=$!
sleep 1
card_insert
wait "$rw" && pass "reader API: the wait ends when the card is back" || fail "reader API: the second wait failed"
sed -n '/^--$/,$p' "$T/readers" | grep -q '|present|schsm|ESPICOHSMTR$' &&
    pass "reader API: the card is back, with its serial" || fail "reader API: $(cat "$T/readers")"
"$NKREADERS" --wait 500 > "$T/readers" 2>&1
grep -q "timed out" "$T/readers" && pass "reader API: nothing happens: NKHSM_ERR_TIMEOUT" ||
    fail "reader API, timeout: $(cat "$T/readers")"

# --- no card, then inserted late (wait=) ----------------------------------------
card_remove
pam_run direct authenticate "$CARD_PIN\n"
expect_pam "$R_UNAVAIL" "no card: PAM_AUTHINFO_UNAVAIL"
expect_grep "No token found" "$T/pam.out" "no card: the user is told"
for svc in direct p11; do
	pam_service "w$svc" "auth required $PAM_MOD $BASE timeout=$TMO11 helper=$PAM_HELPER wait=$((10 * SLOW))"
	[ "$svc" = p11 ] && sed -i 's|$| driver=pkcs11|' "$PAMD/w$svc"
	card_remove
	( sleep 2; card_insert ) &
	ins=$!
	pam_run "w$svc" authenticate "$CARD_PIN\n"
	wait "$ins"
	expect_pam "$R_SUCCESS" "$svc: wait= with the card inserted late: PAM_SUCCESS"
	expect_grep "Insert your token" "$T/pam.out" "$svc: wait=: the user is asked to insert it"
done

# --- frozen: before the login, and at the PIN prompt ----------------------------
for svc in direct p11; do
	[ "$svc" = direct ] && tmo=$TMO || tmo=$TMO11
	card_freeze
	start=$(date +%s)
	pam_run "$svc" authenticate "$CARD_PIN\n"
	took=$(( $(date +%s) - start ))
	card_thaw
	expect_pam "$R_UNAVAIL" "$svc: frozen card: PAM_AUTHINFO_UNAVAIL"
	expect_grep "did not answer in time" "$T/pam.out" "$svc: frozen card: the user is told"
	[ "$took" -le $((tmo + 4 * SLOW)) ] && pass "$svc: frozen card: ended by the deadline ($took s)" ||
	    fail "$svc: frozen card: took $took s"
	sleep 1
	works_again "$svc: frozen, then thawed"
done
pam_bg direct
wait_prompt && pass "at the PIN prompt" || fail "no PIN prompt"
mark_resets
card_freeze
start=$(date +%s)
pam_answer "$CARD_PIN"
took=$(( $(date +%s) - start ))
card_thaw
expect_pam "$R_AUTH_ERR" "frozen at the PIN prompt: PAM_AUTH_ERR (the PIN was sent)"
expect_grep "The token did not answer" "$T/pam.out" "frozen at the prompt: the user is told"
[ "$took" -le $((TMO + 4 * SLOW)) ] && pass "frozen at the prompt: ended by the deadline ($took s)" ||
    fail "frozen at the prompt: took $took s"
sleep 1
logged_out "frozen during VERIFY, then thawed (pcscd resets the card of a killed helper)"
works_again "frozen at the prompt"

# --- a fault at every command of a login (the direct path) -----------------------
# A hinted login is 7 commands: SELECT, PIN status, READ 2F02, READ CE01,
# VERIFY, sign, SELECT. What each fault at each must end in:
expected() {	# KIND N -> result text
	case $1.$2 in
	remove.[1-3]) echo "$R_UNAVAIL|No token found" ;;
	remove.4 | remove.5) echo "$R_UNAVAIL|The token was removed" ;;
	remove.*) echo "$R_AUTH_ERR|The token was removed" ;;
	hang.[1-4]) echo "$R_UNAVAIL|did not answer in time" ;;
	hang.*) echo "$R_AUTH_ERR|The token did not answer" ;;
	garbage.[1-3]) echo "$R_UNAVAIL|No token found" ;;
	garbage.4) echo "$R_UNAVAIL|cannot be used now" ;;
	garbage.5) echo "$R_AUTH_ERR|refused the login" ;;
	garbage.*) echo "$R_AUTH_ERR|did not sign" ;;
	esac
}
apdu_mark
pam_run faultpcsc authenticate "$CARD_PIN\n" NKFAULT_PCSC_LOG="$T/sweep.log"
expect_pam "$R_SUCCESS" "the fault helper without a fault: PAM_SUCCESS"
ncmd=$(grep -c '^>' "$T/sweep.log")
[ "$ncmd" -eq 7 ] && pass "the login to sweep: 7 commands" || fail "the login to sweep: $ncmd commands"
successes=0
for kind in remove hang garbage; do
	for n in $(seq 1 "$ncmd"); do
		want=$(expected "$kind" "$n")
		mark_resets
		start=$(date +%s)
		pam_run faultpcsc authenticate "$CARD_PIN\n" NKFAULT_PCSC_AT="$n" NKFAULT_PCSC_DO="$kind"
		took=$(( $(date +%s) - start ))
		grep -q "^$R_SUCCESS" "$T/pam.out" && successes=$((successes + 1))
		expect_pam "${want%%|*}" "$kind at command $n: ${want%%|*}"
		expect_grep "${want#*|}" "$T/pam.out" "$kind at command $n: the user is told"
		[ "$took" -le $((2 * TMO + 4 * SLOW)) ] || fail "$kind at command $n: took $took s"
		# The card itself never left: it was logged out, or reset.
		logged_out "$kind at command $n"
	done
done
[ "$successes" -eq 0 ] && pass "no success under any of $((3 * ncmd)) faults" ||
    fail "$successes successes under faults"
# driver=auto: an unexpected answer to SELECT sends the login to OpenSC.
pam_run fault authenticate "$CARD_PIN\n" NKFAULT_PCSC_AT=1 NKFAULT_PCSC_DO=garbage
expect_pam "$R_SUCCESS" "driver=auto, garbage for SELECT: the login goes through OpenSC"
expect_grep "through PKCS#11" "$T/pam.out" "driver=auto, garbage for SELECT: PKCS#11 served it"
works_again "after the sweep"

# --- a replayed signature -------------------------------------------------------
pam_run faultpcsc authenticate "$CARD_PIN\n" NKFAULT_PCSC_RECORD="$T/sig.rec"
expect_pam "$R_SUCCESS" "a login whose signature is recorded"
[ -s "$T/sig.rec" ] && pass "the card's signature was recorded" || fail "nothing recorded"
mark_resets
pam_run faultpcsc authenticate "$CARD_PIN\n" NKFAULT_PCSC_REPLAY="$T/sig.rec"
expect_pam "$R_AUTH_ERR" "the recorded signature replayed to a later login: PAM_AUTH_ERR"
expect_grep "signature does not verify" "$T/pam.out" "replay: the signature does not verify"
logged_out "replay"
finish
