#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# pam-forge.sh - session records cannot be forged: only pam_nkhsm's own
# authentication in this login names a token. The user writes every variable
# the module exports through pam_env's user_readenv=1; sessions are opened in
# the authenticating process (login) and in its parent (sshd), and tickets
# are replayed. A token that reports hostile strings gets no record and leaves
# no file.
. "${top_srcdir:-.}/tests/integration/common.sh"
pam_setup

DRV="$top_builddir/tests/pamdrv/nkpamdrv"
[ -x "$DRV" ] || { echo "nkpamdrv not built"; exit 99; }

init_token forge
nk keygen --label login --id 01 --pin-source env:NK_TEST_PIN | sed -n 's/^ *ssh: *//p' > "$T/login.pub"
install -o "$PAM_USER" -m 600 "$T/login.pub" "$AUTHFILE"
serial=$(nk list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["serial"])')
fpr=$(ssh-keygen -lf "$T/login.pub" | awk '{print $2}')
L="$PAM_MOD $PAM_BASE"
PAM_ENV=/lib/x86_64-linux-gnu/security/pam_env.so
[ -f "$PAM_ENV" ] || { echo "skip: pam_env.so missing"; exit 77; }
: > "$T/pam_env.conf"
ENVL="$PAM_ENV user_readenv=1 readenv=0 conffile=$T/pam_env.conf"

# What a user writes into ~/.pam_environment: every variable pam_nkhsm
# exports, the ticket reference included, naming another person's token.
fake_ref=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
cat > "$HOME_DIR/.pam_environment" <<EOF
NKHSM_TOKEN_SERIAL DEFAULT=VICTIM0001
PKCS11_LOGIN_TOKEN_NAME DEFAULT=victim
NKHSM_KEY DEFAULT=SHA256:victimvictimvictimvictimvictimvictimvictimv
NKHSM_SESSION_TICKET DEFAULT=$fake_ref
EOF
chown "$PAM_USER" "$HOME_DIR/.pam_environment"

# drv SERVICE MODE INPUT [VAR=VALUE...]: nkpamdrv under pam_wrapper as
# $_user (default $PAM_USER); output in $T/drv.out, the PAM environment
# after the session in $T/env.
drv() {
	_svc=$1 _mode=$2 _in=$3 _user=${drv_user:-$PAM_USER}
	shift 3
	printf '%b' "$_in" | pam_wrapped "$@" \
	    $VG "$DRV" "$_svc" "$_user" "$_mode" "$T/env" > "$T/drv.out" 2>&1
	drv_rc=$?
	vg_check "nkpamdrv $_svc $_mode"
}
records() { ls "$RUNDIR" 2>/dev/null | grep -c '^session-' || true; }
no_record() {
	if [ "$(records)" -eq 0 ]; then pass "$1"; else
		fail "$1: $(records) record(s)"; cat "$RUNDIR"/session-* | sed 's/^/  | /'; fi
}
one_record() {
	rec=$(ls "$RUNDIR"/session-* 2>/dev/null | head -1)
	if [ "$(records)" -eq 1 ] && grep -qx "serial=$serial" "$rec" &&
	    grep -qx "label=forge" "$rec" && grep -qx "key=$fpr" "$rec"; then
		pass "$1"
	else
		fail "$1: $(records) record(s)"
		cat "$RUNDIR"/session-* 2>/dev/null | sed 's/^/  | /'
		grep SYSLOG "$T/drv.out" | tail -3 | sed 's/^.*SYSLOG/  | SYSLOG/'
	fi
	rm -f "$RUNDIR"/session-*
}
tickets() { ls "$RUNDIR/auth" 2>/dev/null | wc -l; }

# --- no token authentication: pam_env's values never make a record ---------
pam_service noauth "auth required pam_permit.so" "session required $ENVL" \
    "session optional $L"
for mode in same split; do
	drv noauth $mode ""
	expect_grep "open_session: Success" "$T/drv.out" "$mode process, no token: the session opens"
	expect_grep "^NKHSM_TOKEN_SERIAL=VICTIM0001" "$T/env" "$mode process: pam_env did set the forged variables"
	no_record "$mode process, no token, forged environment: no session record"
	expect_grep "NKHSM_SESSION_TICKET not taken: no such ticket" "$T/drv.out" \
	    "$mode process: the forged ticket reference is logged and refused"
done

# --- token authentication, pam_env writing before pam_nkhsm's session ------
pam_service forge "auth required $L" "session required $ENVL" "session optional $L"
drv forge same "$USER_PIN\n"
expect_grep "authenticate: Success" "$T/drv.out" "same process: the token authenticates"
one_record "same process: the record names the token that signed, not the forged one"
expect_grep "^NKHSM_TOKEN_SERIAL=$serial\$" "$T/env" "same process: the exported serial is the real one"
[ "$(tickets)" -eq 0 ] && pass "same process: its ticket is removed" || fail "same process: $(tickets) ticket(s) left"
drv forge split "$USER_PIN\n"
expect_grep "authenticate: Success" "$T/drv.out" "split process: the token authenticates"
no_record "split process, the user overwrote the ticket reference: no record (only their own is lost)"
if grep -q VICTIM "$RUNDIR"/session-* 2>/dev/null; then fail "a record names the forged serial"; else pass "no record ever names the forged serial"; fi
rm -f "$RUNDIR"/auth/*

# --- sshd's order: pam_nkhsm's session first, in the parent ----------------
rm -f "$HOME_DIR/.pam_environment"
pam_service sshd "auth required $L" "session optional $L"
drv sshd split "$USER_PIN\n"
expect_grep "open_session: Success" "$T/drv.out" "split process (sshd): the session opens"
one_record "split process (sshd): the ticket gives the record of the token that signed"
expect_grep "^NKHSM_TOKEN_SERIAL=$serial\$" "$T/env" "split process: the real serial is exported"
if grep -q '^NKHSM_SESSION_TICKET=' "$T/env"; then fail "the used ticket reference stays in the session's environment"; else pass "the used ticket reference leaves the environment"; fi
[ "$(tickets)" -eq 0 ] && pass "split process: the ticket is consumed" || fail "$(tickets) ticket(s) left"
grep -q '^NKHSM_SESSION_TICKET=[0-9a-f]\{64\}$' "$T/env.auth" && pass "the child hands over a 64-hex-digit reference" || fail "no reference handed over"
grep -q '^NKHSM_TOKEN_SERIAL=' "$T/env.auth" && fail "authentication exports the serial (forgeable)" || pass "authentication hands over only the reference"

# Replaying a used reference (it reached the child's environment) fails.
cp "$T/env.auth" "$T/replay"
cp "$T/replay" "$T/env"
drv sshd session ""
no_record "replayed ticket reference: no record"
expect_grep "no such ticket" "$T/drv.out" "replay: the ticket was single-use"

# A fresh ticket used by an unrelated process (not the authenticating one nor
# its parent) is refused, and is gone afterwards.
drv sshd auth "$USER_PIN\n"
cp "$T/env" "$T/fresh"
drv sshd session ""
no_record "ticket taken by an unrelated process: no record"
expect_grep "made by an unrelated process" "$T/drv.out" "unrelated process: the reason is logged"
cp "$T/fresh" "$T/env"
drv sshd session ""
expect_grep "no such ticket" "$T/drv.out" "a refused ticket is consumed too"
# Another user's session cannot take it.
drv sshd auth "$USER_PIN\n"
[ "$(tickets)" -eq 1 ] && pass "an authentication that opens no session leaves one ticket" || fail "$(tickets) tickets"
perm=$(stat -c '%a %U' "$RUNDIR/auth" "$RUNDIR"/auth/* | tr '\n' ' ')
[ "$perm" = "700 root 600 root " ] && pass "tickets: root's, 0600 in a 0700 directory" || fail "tickets: $perm"
ref=$(sed -n 's/^NKHSM_SESSION_TICKET=//p' "$T/env")
ls "$RUNDIR/auth" | grep -q "$ref" && fail "the ticket's file name shows the reference" || pass "the file name does not reveal the reference"
echo "NKHSM_SESSION_TICKET=$ref" > "$T/env"
OTHER=nkt$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
useradd -M -d "$T" -s /usr/sbin/nologin -p '*' "$OTHER" || exit 99
CLEANUP="userdel $OTHER 2>/dev/null; $CLEANUP"
drv_user=$OTHER drv sshd session ""
no_record "another user's session with the reference: no record"
expect_grep "made for another user" "$T/drv.out" "another user: the reason is logged"

# --- hostile token strings: no record, no partial file ----------------------
export NKFAULT_MODULE="$SOFTHSM_MODULE"
pam_service hostile "auth required $L" "session required $L"
sed -i "s| module=$SOFTHSM_MODULE| module=$FAULT_MODULE|g" "$PAMD/hostile"
for h in "LABEL=evil%0aserial=X" "LABEL=a=b" "LABEL=../../x" "SERIAL=12%0d34" \
    "SERIAL=1/2" "SERIAL=s=1" "MODEL=m%1bm" "MODEL=a/b" "MANUFACTURER=x%0ay" \
    "MANUFACTURER=a=b" "LABEL=%c2%85nel" "LABEL=%ff"; do
	for mode in same split; do
		drv hostile $mode "$USER_PIN\n" "NKFAULT_TOKEN_$h"
		expect_grep "authenticate: Success" "$T/drv.out" "$h ($mode): the signature still logs in"
		expect_grep "open_session: Cannot make/remove an entry" "$T/drv.out" \
		    "$h ($mode): open_session fails with PAM_SESSION_ERR"
		n=$(ls -A "$RUNDIR" | grep -vc '^auth$' || true)
		[ "$n" -eq 0 ] && pass "$h ($mode): no record and no partial file" || {
			fail "$h ($mode): $n file(s) in rundir"; ls -A "$RUNDIR"; }
		[ "$(tickets)" -eq 0 ] && pass "$h ($mode): no ticket left" || fail "$h ($mode): ticket left"
		rm -f "$RUNDIR"/session-*
	done
done
# Printable UTF-8 is fine.
drv hostile split "$USER_PIN\n" "NKFAULT_TOKEN_LABEL=Schl%c3%bcssel"
expect_grep "open_session: Success" "$T/drv.out" "a UTF-8 label: the record is written"
expect_grep "^label=Schlüssel\$" "$(ls "$RUNDIR"/session-* | head -1)" "the record holds the UTF-8 label"
finish
