#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# pam-bind.sh - a signature over one login's challenge never logs in another
# user, at another service or on another host. pamtester's getrandom() is
# held fixed (tests/shim), so two logins draw the same nonce and their
# challenges differ only in what binds them. The test PKCS#11 module records
# the digest one login gave C_Sign (NKFAULT_RECORD_DATA) and signs it, with
# the right key, when another login asks (NKFAULT_REPLAY_DATA). The module
# under test builds both challenges itself, so a build whose challenge
# leaves out the host, the service or the user fails here, whatever its
# layout. The test runs in its own UTS namespace (unshare -u) to log in on
# "another host"; where that is not allowed the host checks are skipped
# (and fail under CI=true).
if [ -z "${NKHSM_BIND_UTS:-}" ] && unshare -u true 2>/dev/null; then
	NKHSM_BIND_UTS=1 exec unshare -u -- sh "$0" "$@"
fi
. "${top_srcdir:-.}/tests/integration/common.sh"
. "$top_srcdir/tests/integration/pam-fixed.sh"
HOST_A=nkhsm-bind-a.invalid
HOST_B=nkhsm-bind-b.invalid
[ -n "${NKHSM_BIND_UTS:-}" ] && hostname "$HOST_A"
fault_service svc-a
fault_service svc-b

# A second user who authorized the same token key.
USER_A=$PAM_USER
USER_B=nkt$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
mkdir -p "$T/home-b/.config/nkhsm"
useradd -M -d "$T/home-b" -s /usr/sbin/nologin -p '*' "$USER_B" || exit 99
CLEANUP="userdel $USER_B 2>/dev/null; $CLEANUP"
chown -R "$USER_B" "$T/home-b"
install -o "$USER_B" -m 600 "$T/login.pub" "$T/home-b/.config/nkhsm/authorized_keys"

# login USER SERVICE [VAR=VALUE...]: pam_run as USER with the nonce held
# fixed; the calls reach the fault module's log.
login() {
	PAM_USER=$1
	_svc=$2
	shift 2
	rm -f "$T/calls"
	with_fixed_nonce pam_run "$_svc" authenticate "$USER_PIN\n" NKFAULT_LOG="$T/calls" "$@"
	PAM_USER=$USER_A
}
# refused DESC: PAM_AUTH_ERR from the signature check, the token having signed.
refused() {
	expect_pam "$R_AUTH_ERR" "$1: PAM_AUTH_ERR"
	expect_grep "signature does not verify" "$T/pam.out" "$1: refused as a bad signature"
	expect_grep ' C_Sign 0x0$' "$T/calls" "$1: the token answered C_Sign"
}

# The digest of user A's challenge for svc-a on host A.
login "$USER_A" svc-a NKFAULT_RECORD_DATA="$T/a.digest"
expect_pam "$R_SUCCESS" "user A, svc-a, host A: PAM_SUCCESS"
[ "$(wc -c < "$T/a.digest" 2>/dev/null)" = 32 ] &&
    pass "its challenge's digest recorded (32 bytes)" || fail "no 32-byte digest recorded"
# The control: signing that digest again at the same login logs in, so
# the refusals below come from what differs.
login "$USER_A" svc-a NKFAULT_REPLAY_DATA="$T/a.digest"
expect_pam "$R_SUCCESS" "control: the recorded challenge signed again at the same login: PAM_SUCCESS"

login "$USER_A" svc-b
expect_pam "$R_SUCCESS" "user A at svc-b: PAM_SUCCESS"
login "$USER_A" svc-b NKFAULT_REPLAY_DATA="$T/a.digest"
refused "svc-a's challenge signed at svc-b (another service)"

login "$USER_B" svc-a
expect_pam "$R_SUCCESS" "user B at svc-a: PAM_SUCCESS"
login "$USER_B" svc-a NKFAULT_REPLAY_DATA="$T/a.digest"
refused "user A's challenge signed for user B (another user)"

if [ -n "${NKHSM_BIND_UTS:-}" ]; then
	hostname "$HOST_B"
	login "$USER_A" svc-a
	expect_pam "$R_SUCCESS" "user A, svc-a on host B: PAM_SUCCESS"
	login "$USER_A" svc-a NKFAULT_REPLAY_DATA="$T/a.digest"
	refused "host A's challenge signed on host B (another host)"
	hostname "$HOST_A"
elif [ "${CI:-}" = true ]; then
	fail "unshare -u is not allowed here: the host binding is not checked"
else
	echo "# skip: unshare -u is not allowed here: the host binding is not checked"
fi

finish
