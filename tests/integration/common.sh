# SPDX-License-Identifier: BSD-2-Clause
# common.sh - sourced by the integration tests.
#
# Each test gets its own directory and its own SoftHSM token store (a private
# SOFTHSM2_CONF), so tests share no state and can run in parallel or twice
# at once. Exit codes follow automake: 0 pass, 1 fail, 77 skip, 99 error.

set -u
: "${top_builddir:=.}"
: "${top_srcdir:=.}"
: "${SOFTHSM_MODULE:=/usr/lib/softhsm/libsofthsm2.so}"
TOOL="$top_builddir/tools/nkhsm-tool"
FAULT_MODULE="$top_builddir/tests/p11mod/.libs/libnkfault.so"
SO_PIN=0123456789abcdef
USER_PIN=123456
export NK_TEST_PIN="$USER_PIN"

command -v softhsm2-util >/dev/null 2>&1 || { echo "skip: softhsm2-util missing"; exit 77; }
[ -f "$SOFTHSM_MODULE" ] || { echo "skip: $SOFTHSM_MODULE missing"; exit 77; }

T=$(mktemp -d "${TMPDIR:-/tmp}/nkhsm-test.XXXXXX")
CLEANUP=
cleanup() {
	eval "$CLEANUP"
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 99' INT TERM
mkdir "$T/tokens"
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' \
    "$T" > "$T/softhsm2.conf"
export SOFTHSM2_CONF="$T/softhsm2.conf"
# An empty configuration, so no /etc/nkhsm/nkhsm.conf on this machine matters.
: > "$T/nkhsm.conf"
chmod 600 "$T/nkhsm.conf"

# pass, fail, finish, expect_exit.
. "$top_srcdir/tests/integration/assert.sh"

# CI's hardening run sets NKHSM_VALGRIND=1: the programs under test then run
# under valgrind memcheck (children included: pam_nkhsm's helper), and each
# run's reports are checked by vg_check; tests/valgrind.supp names the peers'
# own leaks (debug info is kept so that a module already dlclose'd still has
# names for them). NKHSM_TEST_PRELOAD is prepended to
# LD_PRELOAD where a test sets its own (the ASan runtime, in the sanitizer
# run, so that pamtester can load an instrumented pam_nkhsm.so).
VG=
SLOW=1
if [ -n "${NKHSM_VALGRIND:-}" ]; then
	VG="valgrind --trace-children=yes
	    --trace-children-skip=/usr/bin/*,/bin/*,/usr/sbin/*,/sbin/*
	    --leak-check=full
	    --errors-for-leak-kinds=definite --show-leak-kinds=definite
	    --keep-debuginfo=yes --suppressions=$top_srcdir/tests/valgrind.supp
	    --log-file=$T/vg.%p.log"
	SLOW=8	# deadlines in the tests stretch this much under valgrind
fi

# pwrap_sweep: pam_wrapper copies the service directory to /tmp/pam.X (62
# names machine-wide) and removes it at exit, but a process that loads it
# and then execs, as valgrind's launcher does, leaks its copy. Remove the
# copies whose pid file names a process that is gone (any test's: no live
# process uses them), so that valgrind runs do not use the names up.
pwrap_sweep() {
	for _pwd in /tmp/pam.?; do
		[ -f "$_pwd/pid" ] || continue
		_pwp=$(cat "$_pwd/pid" 2>/dev/null) || continue
		case $_pwp in '' | *[!0-9]*) continue ;; esac
		kill -0 "$_pwp" 2>/dev/null || rm -rf "$_pwd"
	done
}

# vg_check: fail if the last runs under valgrind reported an error or a leak.
vg_check() {
	[ -n "$VG" ] || return 0
	pwrap_sweep
	# Definite leaks count as errors (--errors-for-leak-kinds=definite).
	# Names of their own: this runs inside the tests' loops.
	_vgbad=$(grep -lE 'ERROR SUMMARY: [1-9]' "$T"/vg.*.log 2>/dev/null)
	if [ -n "$_vgbad" ]; then
		# A file, not a counter: this may run in a $(...) subshell.
		echo "${1:-}" >> "$T/vg.fail"
		echo "FAIL - valgrind reported errors (${1:-})" >&2
		for _vgf in $_vgbad; do
			grep -m1 'Command:' "$_vgf"
			sed -n '/Invalid\|uninitialised\|are definitely lost\|Mismatched\|Syscall param/,/^==[0-9]*== $/p' \
			    "$_vgf" | head -30
		done >&2
	fi
	rm -f "$T"/vg.*.log
}

# init_token LABEL [PIN]
init_token() {
	softhsm2-util --init-token --free --label "$1" --so-pin "$SO_PIN" \
	    --pin "${2:-$USER_PIN}" >/dev/null
}

# The token nk and sc work on: SoftHSM, whose PIN is in $NK_TEST_PIN.
# card_start (card-common.sh) points both at the card, so that one check
# (tool-checks.sh, sshca-checks.sh) runs on either.
TEST_MODULE=$SOFTHSM_MODULE
TEST_PIN=env:NK_TEST_PIN

# nk ARGS...: nkhsm-tool on the test token with the test configuration.
nk() {
	$VG "$TOOL" --config "$T/nkhsm.conf" --module "$TEST_MODULE" "$@"
}

# expect_grep PATTERN FILE DESCRIPTION
expect_grep() {
	if grep -q -- "$1" "$2"; then
		pass "$3"
	else
		fail "$3: '$1' not in $(basename "$2")"
		sed 's/^/  | /' "$2" | head -5
	fi
}

# --- PAM: pam_wrapper + pamtester against the built module -----------------

PAM_MOD="$top_builddir/pam_nkhsm/.libs/pam_nkhsm.so"
PAM_HELPER="$top_builddir/pam_nkhsm/nkhsm-pam-helper"
PAM_WRAPPER_LIB=/usr/lib/x86_64-linux-gnu/libpam_wrapper.so

# pam_setup: a throwaway user (real passwd entry) whose home the test owns,
# and a private PAM service directory.
pam_setup() {
	command -v pamtester >/dev/null 2>&1 || { echo "skip: pamtester missing"; exit 77; }
	[ -f "$PAM_WRAPPER_LIB" ] || PAM_WRAPPER_LIB=$(ldconfig -p | awk '/libpam_wrapper.so /{print $NF; exit}')
	[ -n "$PAM_WRAPPER_LIB" ] && [ -f "$PAM_WRAPPER_LIB" ] || { echo "skip: pam_wrapper missing"; exit 77; }
	[ "$(id -u)" -eq 0 ] || { echo "skip: creating a test user needs root"; exit 77; }
	[ -f "$PAM_MOD" ] || { echo "pam_nkhsm.so not built"; exit 99; }
	PAM_USER=nkt$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
	HOME_DIR="$T/home"
	mkdir -p "$HOME_DIR/.config/nkhsm"
	chmod 755 "$T"
	useradd -M -d "$HOME_DIR" -s /usr/sbin/nologin -p '*' "$PAM_USER" || exit 99
	CLEANUP="userdel $PAM_USER 2>/dev/null; $CLEANUP"
	chown -R "$PAM_USER" "$HOME_DIR"
	AUTHFILE="$HOME_DIR/.config/nkhsm/authorized_keys"
	PAMD="$T/pam.d"
	mkdir -p "$PAMD"
	echo "auth required pam_deny.so" > "$PAMD/other"
	RUNDIR="$T/run"
	# Arguments every test service gets: the build's helper, SoftHSM, no /etc config.
	PAM_BASE="module=$SOFTHSM_MODULE helper=$PAM_HELPER conf=$T/nkhsm.conf rundir=$RUNDIR"
}

# pam_service NAME LINE...: write a service file, one PAM line per argument.
pam_service() {
	name=$1
	shift
	: > "$PAMD/$name"
	for l in "$@"; do
		printf '%s\n' "$l" >> "$PAMD/$name"
	done
}

# pam_wrapped [VAR=VALUE...] CMD...: CMD under pam_wrapper with the test's
# service directory (LD_PRELOAD on this command only).
pam_wrapped() {
	env LD_PRELOAD="${NKHSM_TEST_PRELOAD:+$NKHSM_TEST_PRELOAD }$PAM_WRAPPER_LIB" \
	    PAM_WRAPPER=1 PAM_WRAPPER_SERVICE_DIR="$PAMD" PAM_WRAPPER_DEBUGLEVEL=2 \
	    PAM_WRAPPER_DISABLE_DEEPBIND=1 "$@"
}

# pam_run SERVICE OPERATION INPUT [VAR=VALUE...]: run pamtester; output in
# $T/pam.out, its last pamtester line in $pam_res, exit code in $pam_rc.
pam_run() {
	svc=$1 op=$2 input=$3
	shift 3
	printf '%b' "$input" | pam_wrapped "$@" \
	    $VG pamtester -v "$svc" "$PAM_USER" $op > "$T/pam.out" 2>&1
	pam_rc=$?
	vg_check "pamtester $svc $op"
	pam_res=$(grep '^pamtester: ' "$T/pam.out" | grep -v 'invoking\|performing' | tail -1)
}

# The messages pamtester prints for each PAM code (pam_strerror).
R_SUCCESS='pamtester: successfully'
R_AUTH_ERR='pamtester: Authentication failure'
R_UNAVAIL='pamtester: Authentication service cannot retrieve authentication info'
R_USER_UNKNOWN='pamtester: User not known to the underlying authentication module'
R_MAXTRIES='pamtester: Have exhausted maximum number of retries for service'
R_SERVICE_ERR='pamtester: Error in service module'

# expect_pam RESULT DESCRIPTION: the last pam_run printed this result
# (pamtester's stdout and stderr interleave, so look at every line).
expect_pam() {
	case "$(grep -F -- "$1" "$T/pam.out" | head -1)" in
	"$1"*) pass "$2" ;;
	*)
		fail "$2: got '$pam_res', wanted '$1'"
		grep -v '^PWRAP_DEBUG' "$T/pam.out" | tail -4 | sed 's/^/  | /'
		grep 'SYSLOG' "$T/pam.out" | tail -3 | sed 's/^.*SYSLOG/  | SYSLOG/'
		;;
	esac
}

# --- nkhsm-sshca ---------------------------------------------------------------

SSHCA="$top_builddir/sshca/nkhsm-sshca"
# sc ARGS: nkhsm-sshca on $T/state (a later --state wins) with the test
# token and PIN, under $VG, its report checked.
sc() {
	$VG "$SSHCA" --config "$T/nkhsm.conf" --state "$T/state" \
	    --module "$TEST_MODULE" --pin-source "$TEST_PIN" "$@"
	_rc=$?
	vg_check "nkhsm-sshca $*"
	return $_rc
}

# token_objects LABEL: how many objects token LABEL holds, private ones
# included (pkcs11-tool, a peer, logs in as the user).
token_objects() {
	pkcs11-tool --module "$SOFTHSM_MODULE" --token-label "$1" --login \
	    --pin "$USER_PIN" --list-objects 2>/dev/null | grep -ci '^[a-z].* object'
}
