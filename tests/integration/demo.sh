#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# demo.sh - the README's demo must keep working, twice in a row.
. "${top_srcdir:-.}/tests/integration/common.sh"

for run in 1 2; do
	if sh "$top_srcdir/tools/demo.sh" "$top_builddir" > "$T/demo$run.log" 2>&1; then
		pass "demo run $run succeeds"
	else
		fail "demo run $run failed"
		tail -20 "$T/demo$run.log"
	fi
	expect_grep "demo: all steps succeeded" "$T/demo$run.log" "demo run $run reaches the end"
	expect_grep ": OK" "$T/demo$run.log" "demo run $run: openssl verify accepts the certificate"
	expect_grep "Verified OK" "$T/demo$run.log" "demo run $run: openssl verifies the signature"
done
finish
