#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# pam-stacks.sh - every auth stack that README.md and pam_nkhsm(8) recommend,
# tested as a whole (pam_wrapper, the real pam_unix with a real password) for
# each kind of user: enrolled with the token present, enrolled with the token
# absent, not enrolled, wrong PIN, locked PIN. The stacks are checked to be
# the ones the documents show, word for word; the outcomes are the table in
# pam_nkhsm(8), RECOMMENDED STACKS.
. "${top_srcdir:-.}/tests/integration/common.sh"
pam_setup

PAM_UNIX=/lib/x86_64-linux-gnu/security/pam_unix.so
[ -f "$PAM_UNIX" ] || { echo "skip: pam_unix.so missing"; exit 77; }
PASSWORD='Corr3ct-h0rse'
# In the sanitizer run the ASan runtime is preloaded into pamtester; its
# crypt() interceptor finds the real function only if libcrypt is loaded at
# start, and pam_unix loads it later (a call through NULL): preload it too.
if [ -n "${NKHSM_TEST_PRELOAD:-}" ]; then
	LIBCRYPT=$(ldconfig -p | awk '/libcrypt\.so\.1 /{print $NF; exit}')
	[ -n "$LIBCRYPT" ] && NKHSM_TEST_PRELOAD="$NKHSM_TEST_PRELOAD $LIBCRYPT"
fi
printf '%s:%s\n' "$PAM_USER" "$PASSWORD" | chpasswd || exit 99

init_token stack
nk keygen --label login --id 01 --pin-source env:NK_TEST_PIN | sed -n 's/^ *ssh: *//p' > "$T/login.pub"
export NKFAULT_MODULE="$SOFTHSM_MODULE"
# Token absent: a SoftHSM with no token (only its empty slot).
mkdir "$T/notokens"
printf 'directories.tokendir = %s/notokens\nobjectstore.backend = file\nlog.level = ERROR\n' \
    "$T" > "$T/absent.conf"

# The stacks, as the documents print them.
A1='auth [success=done auth_err=die default=ignore] pam_nkhsm.so wait=10'
A2='auth required pam_unix.so'
B1='auth sufficient pam_nkhsm.so nouserok'
C1='auth required pam_nkhsm.so'
for l in "$A1" "$A2"; do
	grep -qxF "$l" "$top_srcdir/README.md" && pass "README.md shows: $l" || fail "README.md lacks: $l"
done
for l in "$A1" "$A2" "$B1" "$C1"; do
	grep -qxF "$l" "$top_srcdir/man/pam_nkhsm.8" && pass "pam_nkhsm(8) shows: $l" || fail "pam_nkhsm(8) lacks: $l"
done
if grep -q 'default=die' "$top_srcdir/README.md" && ! grep -qF "$A1" "$top_srcdir/README.md"; then
	fail "README.md recommends another default=die stack"
else
	pass "README.md recommends no other default=die stack"
fi

# A stack line for pam_wrapper: absolute module paths, the test's helper,
# the fault module (for its PIN counter) and no /etc configuration.
ARGS="module=$FAULT_MODULE helper=$PAM_HELPER conf=$T/nkhsm.conf rundir=$RUNDIR"
wrap() { printf '%s\n' "$1" | sed "s|pam_unix.so|$PAM_UNIX|; s|pam_nkhsm.so\(.*\)|$PAM_MOD\1 $ARGS|"; }
# (PAM service names are lower case.)
pam_service a "$(wrap "$A1")" "$(wrap "$A2")"
pam_service b "$(wrap "$B1")" "$(wrap "$A2")"
pam_service c "$(wrap "$C1")"
grep -q "wait=10 module=" "$PAMD/a" && pass "stack A runs with its own arguments" || fail "stack A: $(cat "$PAMD/A")"

# kind USER-KIND: set up the user, the token and the answers.
kind() {
	rm -f "$T/tries" "$AUTHFILE"
	ENVS="NKFAULT_PIN_TRIES=3 NKFAULT_STATE=$T/tries"
	case $1 in
	present|wrongpin|locked)
		install -o "$PAM_USER" -m 600 "$T/login.pub" "$AUTHFILE" ;;
	absent)
		install -o "$PAM_USER" -m 600 "$T/login.pub" "$AUTHFILE"
		ENVS="$ENVS SOFTHSM2_CONF=$T/absent.conf" ;;
	notenrolled) ;;
	esac
	[ "$1" = locked ] && echo 0 > "$T/tries"
	case $1 in
	present) PIN=$USER_PIN ;;
	*) PIN=000000 ;;
	esac
}

# check STACK KIND OUTCOME PROMPTS: run the stack, answering the PIN prompt
# with $PIN and the password prompt with the password; OUTCOME is ok or
# refused; PROMPTS says which were shown: pin, password, both or none.
check() {
	kind "$2"
	_in="$PASSWORD\n"
	[ "$4" = pin ] || [ "$4" = both ] && _in="$PIN\n$PASSWORD\n"
	pam_run "$(echo "$1" | tr A-C a-c)" authenticate "$_in" $ENVS
	_pin=no _pw=no
	grep -q "PIN for token " "$T/pam.out" && _pin=yes
	grep -q "Password: " "$T/pam.out" && _pw=yes
	case $4 in
	pin) _want="yes no" ;; password) _want="no yes" ;;
	both) _want="yes yes" ;; none) _want="no no" ;;
	esac
	[ "$_pin $_pw" = "$_want" ] && pass "stack $1, $2: prompts as documented ($4)" ||
	    fail "stack $1, $2: PIN prompt $_pin, password prompt $_pw; wanted $4"
	outcome "$3" "stack $1, $2"
}

# outcome ok|refused DESCRIPTION: how the last pam_run ended (pamtester's
# result may follow a prompt on the same line).
outcome() {
	if grep -qF 'pamtester: successfully authenticated' "$T/pam.out"; then
		_got=ok
	elif grep -o 'pamtester: .*' "$T/pam.out" | grep -qv 'invoking\|performing'; then
		_got=refused	# any PAM error
	else
		_got=other
	fi
	if [ "$_got" = "$1" ]; then pass "$2: $1"; else
		fail "$2: $_got, wanted $1"
		grep -v PWRAP_DEBUG "$T/pam.out" | tail -4 | sed 's/^/  | /'
	fi
}

#     stack kind         outcome  prompts
check A     present      ok       pin
check A     absent       ok       password
check A     notenrolled  ok       password
check A     wrongpin     refused  pin
check A     locked       ok       password
check B     present      ok       pin
check B     absent       ok       password
check B     notenrolled  ok       password
check B     wrongpin     ok       both
check B     locked       ok       password
check C     present      ok       pin
check C     absent       refused  none
check C     notenrolled  refused  none
check C     wrongpin     refused  pin
check C     locked       refused  none

# The fallback still needs the password: a wrong one is refused.
kind notenrolled
pam_run a authenticate "wrong-password\n" $ENVS
outcome refused "stack A, not enrolled, wrong password"
kind locked
pam_run b authenticate "wrong-password\n" $ENVS
outcome refused "stack B, locked PIN, wrong password"
finish
