# SPDX-License-Identifier: BSD-2-Clause
# pam-fixed.sh - sourced after common.sh by the PAM tests that replay what the
# token signed (pam-replay, pam-bind): a test user, a token with one key that
# user authorized, PAM services on the fault module, and logins whose nonce
# is held fixed (tests/shim's getrandom() preloaded into pamtester).
pam_setup
FIXRANDOM="$top_builddir/tests/shim/.libs/libnkfixrandom.so"
[ -f "$FAULT_MODULE" ] || { echo "fault module not built (make check builds it)"; exit 99; }
[ -f "$FIXRANDOM" ] || { echo "$FIXRANDOM not built (make check builds it)"; exit 99; }
export NKFAULT_MODULE="$SOFTHSM_MODULE"

init_token pamtok
nk keygen --label login --id 01 --pin-source env:NK_TEST_PIN > "$T/kg"
sed -n 's/^ *ssh: *//p' "$T/kg" > "$T/login.pub"
install -o "$PAM_USER" -m 600 "$T/login.pub" "$AUTHFILE"

# fault_service NAME: a PAM service whose module= is the fault module.
fault_service() {
	pam_service "$1" "auth required $PAM_MOD $PAM_BASE"
	sed -i "s| module=$SOFTHSM_MODULE| module=$FAULT_MODULE|" "$PAMD/$1"
}
# with_fixed_nonce CMD...: CMD's pamtester gets getrandom() from tests/shim.
with_fixed_nonce() {
	_saved=${NKHSM_TEST_PRELOAD:-}
	NKHSM_TEST_PRELOAD="${_saved:+$_saved }$FIXRANDOM"
	"$@"
	NKHSM_TEST_PRELOAD=$_saved
}
