#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# pam-session.sh - session records and exported variables, and PIN change
# through the password stack.
. "${top_srcdir:-.}/tests/integration/common.sh"
pam_setup

init_token sess
nk keygen --label login --id 01 --pin-source env:NK_TEST_PIN | sed -n 's/^ *ssh: *//p' > "$T/login.pub"
install -o "$PAM_USER" -m 600 "$T/login.pub" "$AUTHFILE"
serial=$(nk list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["serial"])')
fpr=$(ssh-keygen -lf "$T/login.pub" | awk '{print $2}')
L="$PAM_MOD $PAM_BASE"

# authenticate + open_session: a record with the token and key; variables exported.
pam_service s "auth required $L" "session required $L" \
    "session required pam_exec.so log=$T/env.log /usr/bin/env"
pam_run s "authenticate open_session" "$USER_PIN\n"
expect_pam "$R_SUCCESS" "authenticate and open_session succeed"
rec=$(ls "$RUNDIR"/session-* 2>/dev/null | head -1)
[ -n "$rec" ] && pass "a session record is written in rundir" || fail "no session record"
expect_grep "^serial=$serial\$" "$rec" "record: token serial"
expect_grep "^label=sess\$" "$rec" "record: token label"
expect_grep "^key=$fpr\$" "$rec" "record: key fingerprint"
expect_grep "^user=$PAM_USER\$" "$rec" "record: user"
expect_grep "^service=s\$" "$rec" "record: service"
expect_grep "^uid=$(id -u "$PAM_USER")\$" "$rec" "record: the user's uid"
perm=$(stat -c '%a %U' "$rec")
[ "$perm" = "644 root" ] && pass "record is root's, mode 644" || fail "record: $perm"
expect_grep "^NKHSM_TOKEN_SERIAL=$serial\$" "$T/env.log" "NKHSM_TOKEN_SERIAL exported to the session"
expect_grep "^PKCS11_LOGIN_TOKEN_NAME=sess\$" "$T/env.log" "PKCS11_LOGIN_TOKEN_NAME exported to the session"
expect_grep "^NKHSM_KEY=$fpr\$" "$T/env.log" "NKHSM_KEY exported to the session"
rm -f "$RUNDIR"/session-*

# close_session removes the record.
pam_service sc "auth required $L" "session required $L"
pam_run sc "authenticate open_session close_session" "$USER_PIN\n"
expect_pam "pamtester: successfully opened a session" "open_session succeeds"
expect_pam "pamtester: session has successfully been closed" "close_session succeeds"
n=$(ls "$RUNDIR" | grep -c '^session-' || true)
[ "$n" -eq 0 ] && pass "close_session removes the record" || fail "$n records left"

# A session not opened with the token records nothing.
pam_service other "auth required pam_permit.so" "session optional $L"
pam_run other "authenticate open_session" ""
expect_pam "$R_SUCCESS" "session without token authentication: ignored"
n=$(ls "$RUNDIR" 2>/dev/null | grep -c '^session-' || true)
[ "$n" -eq 0 ] && pass "no record for a session the token did not open" || fail "$n records"

# A rundir others can write is refused (hotplug trusts what is in it).
mkdir -p "$T/badrun"; chmod 777 "$T/badrun"
pam_service badrun "auth required $L" "session required $L rundir=$T/badrun"
sed -i "2s|rundir=$RUNDIR ||" "$PAMD/badrun"
pam_run badrun "authenticate open_session" "$USER_PIN\n"
expect_pam "pamtester: Cannot make/remove an entry for the specified session" \
    "world-writable rundir: PAM_SESSION_ERR"

# PIN change.
pam_service pw "password required $L"
pam_run pw chauthtok "$USER_PIN\n654321\n654321\n"
expect_pam "pamtester: authentication token altered successfully" "chauthtok changes the PIN"
pam_service a "auth required $L"
pam_run a authenticate "654321\n"
expect_pam "$R_SUCCESS" "the new PIN logs in"
pam_run a authenticate "$USER_PIN\n"
expect_pam "$R_AUTH_ERR" "the old PIN no longer does"
pam_run pw chauthtok "000000\n111111\n111111\n"
expect_pam "pamtester: Permission denied" "chauthtok with a wrong current PIN: PAM_PERM_DENIED"
expect_grep "Wrong current PIN" "$T/pam.out" "wrong current PIN: the user is told"
pam_run pw chauthtok "654321\n111111\n222222\n"
expect_pam "pamtester: Authentication token manipulation error" "new PINs differ: PAM_AUTHTOK_ERR"
expect_grep "new PINs differ" "$T/pam.out" "new PINs differ: the user is told"
pam_run pw chauthtok "654321\n12\n12\n"
expect_pam "pamtester: Authentication token manipulation error" "new PIN too short: PAM_AUTHTOK_ERR"
expect_grep "must have" "$T/pam.out" "too short: the length rule is shown"
pam_run a authenticate "654321\n"
expect_pam "$R_SUCCESS" "failed changes left the PIN as it was"
finish
