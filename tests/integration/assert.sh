# SPDX-License-Identifier: BSD-2-Clause
# assert.sh - the TAP-like reporting shared by common.sh and
# hotplug-common.sh: "ok N - what" and "FAIL - what" lines, a summary, and
# an exit status of 0 only when nothing failed. Needs $T (the test's
# private directory). A valgrind run (common.sh's vg_check) adds one line
# per bad run to $T/vg.fail; finish counts those as failures.

npass=0
nfail=0
pass() { npass=$((npass + 1)); echo "ok $npass - $*"; }
fail() { nfail=$((nfail + 1)); echo "FAIL - $*"; }
finish() {
	if [ -s "$T/vg.fail" ]; then
		nfail=$((nfail + $(wc -l < "$T/vg.fail")))
		echo "FAIL - valgrind: errors in $(wc -l < "$T/vg.fail") run(s)"
	fi
	echo "$npass passed, $nfail failed"
	[ "$nfail" -eq 0 ]
	exit $?
}

# expect_exit CODE DESCRIPTION CMD...: output in $T/out, $T/err.
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
