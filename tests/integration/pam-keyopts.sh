#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# pam-keyopts.sh - authorized_keys lines mean what they say in a real login:
# a cert-authority line is never a login key, from= is matched against
# PAM_RHOST, expiry-time= ends a key, and an option that restricts a key in
# a way pam_nkhsm cannot enforce makes its line unusable, with the reason
# logged.
. "${top_srcdir:-.}/tests/integration/common.sh"
pam_setup

init_token opts
nk keygen --label login --id 01 --pin-source env:NK_TEST_PIN | sed -n 's/^ *ssh: *//p' > "$T/login.pub"
key=$(cat "$T/login.pub")
pam_service o "auth required $PAM_MOD $PAM_BASE"
pam_service nouser "auth [success=ok ignore=ignore default=die] $PAM_MOD $PAM_BASE nouserok" \
    "auth required pam_permit.so"

# keys LINE...: the user's authorized keys file.
keys() {
	: > "$T/ak"
	for l in "$@"; do printf '%s\n' "$l" >> "$T/ak"; done
	install -o "$PAM_USER" -m 600 "$T/ak" "$AUTHFILE"
}
# login RHOST [SERVICE]: pamtester with PAM_RHOST set (none when RHOST is -).
login() {
	_item=
	[ "$1" = - ] || _item="-I rhost=$1"
	printf '%s\n' "$USER_PIN" | pam_wrapped $VG pamtester -v $_item "${2:-o}" "$PAM_USER" \
	    authenticate > "$T/pam.out" 2>&1
	vg_check "pamtester rhost=$1"
	pam_res=$(grep '^pamtester: ' "$T/pam.out" | grep -v 'invoking\|performing' | tail -1)
}

keys "cert-authority,from=\"10.9.9.9\" $key"
login 10.9.9.9
expect_pam "$R_USER_UNKNOWN" "a cert-authority line is never a login key: PAM_USER_UNKNOWN"
expect_grep "authorized_keys:1: authorized key not used: cert-authority: a CA key" "$T/pam.out" \
    "cert-authority: the reason is logged with file and line"
if grep -q "PIN for" "$T/pam.out"; then fail "cert-authority: a PIN was asked"; else pass "cert-authority: no PIN asked"; fi

keys "restrict,command=\"/bin/false\" $key"
login 10.9.9.9
expect_pam "$R_USER_UNKNOWN" "restrict,command= cannot be enforced: PAM_USER_UNKNOWN"
expect_grep "authorized_keys:1: authorized key not used: option 'restrict' restricts the key" \
    "$T/pam.out" "restrict: the reason is logged"
login 10.9.9.9 nouser
expect_pam "$R_SUCCESS" "only unusable keys, nouserok: PAM_IGNORE (the stack falls through)"
if grep -q "PIN for" "$T/pam.out"; then fail "nouserok: a PIN was asked"; else pass "nouserok: no PIN asked"; fi
for o in no-pty 'command="/bin/sh"' 'permitopen="h:1"' 'principals="x"' verify-required 'frobnicate'; do
	keys "$o $key"
	login 10.9.9.9
	expect_pam "$R_USER_UNKNOWN" "option $o: the line is not used"
	expect_grep "authorized key not used: .*option" "$T/pam.out" "option $o: logged"
done
keys "pty,agent-forwarding,environment=\"A=B\" $key"
login 10.9.9.9
expect_pam "$R_SUCCESS" "options that only widen an SSH session do not stop a login"

keys "from=\"10.9.9.9\" $key"
login 10.9.9.9
expect_pam "$R_SUCCESS" "from= matching PAM_RHOST: PAM_SUCCESS"
login 10.9.9.10
expect_pam "$R_USER_UNKNOWN" "from= not matching PAM_RHOST: PAM_USER_UNKNOWN"
expect_grep "from= does not allow the remote host '10.9.9.10'" "$T/pam.out" "from=: the host is named in the log"
login -
expect_pam "$R_USER_UNKNOWN" "from= without a remote host: PAM_USER_UNKNOWN"
expect_grep "no remote host" "$T/pam.out" "from= without PAM_RHOST: logged"

keys "from=\"10.0.0.0/8,!10.9.0.0/16\" $key"
login 10.1.1.1
expect_pam "$R_SUCCESS" "from= CIDR: an address inside logs in"
login 10.9.9.9
expect_pam "$R_USER_UNKNOWN" "from= CIDR: a negated network is refused"
keys "from=\"*.example.com,!evil.example.com\" $key"
login host.EXAMPLE.com
expect_pam "$R_SUCCESS" "from= wildcard host name, any case: PAM_SUCCESS"
login evil.example.com
expect_pam "$R_USER_UNKNOWN" "from= negated host name: refused"
keys "from=\"10.0.0.1/8\" $key"
login 10.0.0.1
expect_pam "$R_USER_UNKNOWN" "from= with host bits after the mask: refused"
expect_grep "not a valid pattern list" "$T/pam.out" "invalid from=: logged"

keys "expiry-time=\"20000101Z\" $key"
login 10.9.9.9
expect_pam "$R_USER_UNKNOWN" "expiry-time in the past: PAM_USER_UNKNOWN"
expect_grep "expiry-time has passed" "$T/pam.out" "expiry-time: logged"
keys "expiry-time=\"20991231Z\" $key"
login 10.9.9.9
expect_pam "$R_SUCCESS" "expiry-time in the future: PAM_SUCCESS"

# An unusable line does not hide a usable one; each skipped line is logged.
keys "restrict $key" "from=\"192.0.2.1\" $key" "$key"
login 10.9.9.9
expect_pam "$R_SUCCESS" "a usable line after unusable ones logs in"
expect_grep "authorized_keys:1: authorized key not used" "$T/pam.out" "line 1 is logged"
expect_grep "authorized_keys:2: authorized key not used" "$T/pam.out" "line 2 is logged"

# Malformed options reject the file.
keys "from=10.9.9.9 $key"
login 10.9.9.9
expect_pam "$R_AUTH_ERR" "unquoted option value: the file is malformed (PAM_AUTH_ERR)"
expect_grep "authorized_keys:1: option value not in closed double quotes" "$T/pam.out" "malformed options: file and line named"
finish
