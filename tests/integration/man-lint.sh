#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# man-lint.sh - every man page under man/ must pass mandoc -Tlint with no
# warning or error. Exit codes follow automake: 0 pass, 1 fail, 77 skip.
set -u
: "${top_srcdir:=.}"

command -v mandoc >/dev/null 2>&1 || { echo "skip: mandoc missing"; exit 77; }

n=0
nfail=0
for page in "$top_srcdir"/man/*.[1-8]; do
	[ -f "$page" ] || continue
	n=$((n + 1))
	# -W warning: report warnings and worse; any output is a failure,
	# whatever mandoc's exit status says.
	out=$(mandoc -Tlint -W warning "$page" 2>&1)
	rc=$?
	if [ "$rc" -ne 0 ] || [ -n "$out" ]; then
		nfail=$((nfail + 1))
		echo "FAIL - $page (mandoc exit $rc)"
		printf '%s\n' "$out"
	else
		echo "ok $n - $page"
	fi
done
if [ "$n" -eq 0 ]; then
	echo "FAIL - no man pages under $top_srcdir/man"
	exit 1
fi
echo "$((n - nfail)) passed, $nfail failed"
[ "$nfail" -eq 0 ]
