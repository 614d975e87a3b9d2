#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# check.sh - every security mutant in tests/mutants/ still applies (its text
# is found exactly once in its file) and names tests of make check. CI runs
# the mutants themselves (tests/mutants/run.py, after make check); this
# catches a moved or changed line as soon as make check runs.
command -v python3 >/dev/null 2>&1 || { echo "skip: python3 missing"; exit 77; }
exec python3 "${top_srcdir:-.}/tests/mutants/run.py" --check
