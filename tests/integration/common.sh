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
trap 'rm -rf "$T"' EXIT
mkdir "$T/tokens"
printf 'directories.tokendir = %s/tokens\nobjectstore.backend = file\nlog.level = ERROR\n' \
    "$T" > "$T/softhsm2.conf"
export SOFTHSM2_CONF="$T/softhsm2.conf"
# An empty configuration, so no /etc/nkhsm/nkhsm.conf on this machine matters.
: > "$T/nkhsm.conf"
chmod 600 "$T/nkhsm.conf"

npass=0
nfail=0

pass() { npass=$((npass + 1)); echo "ok $npass - $*"; }
fail() { nfail=$((nfail + 1)); echo "FAIL - $*"; }
finish() {
	echo "$npass passed, $nfail failed"
	[ "$nfail" -eq 0 ]
	exit $?
}

# init_token LABEL [PIN]
init_token() {
	softhsm2-util --init-token --free --label "$1" --so-pin "$SO_PIN" \
	    --pin "${2:-$USER_PIN}" >/dev/null
}

# nk ARGS...: nkhsm-tool on SoftHSM with the test configuration.
nk() {
	"$TOOL" --config "$T/nkhsm.conf" --module "$SOFTHSM_MODULE" "$@"
}

# expect_exit CODE DESCRIPTION CMD...: run, check the exit code; output in $T/out, $T/err.
expect_exit() {
	want=$1 desc=$2
	shift 2
	"$@" >"$T/out" 2>"$T/err"
	got=$?
	if [ "$got" -eq "$want" ]; then
		pass "$desc"
	else
		fail "$desc: exit $got, wanted $want"
		sed 's/^/  stderr: /' "$T/err" | head -5
	fi
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
