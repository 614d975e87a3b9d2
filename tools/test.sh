#!/bin/sh
# SPDX-License-Identifier: BSD-2-Clause
# test.sh - build in ./build and run the whole test suite (make check), then
# make distcheck. Warnings are errors; nkhsm-sshca's PostgreSQL ledger is
# built and tested (--with-postgresql). --build-only stops after the build.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
[ -x configure ] || ./autogen.sh
mkdir -p build
cd build
[ -f Makefile ] || "$top/configure" --enable-werror --with-postgresql
jobs=$(nproc 2>/dev/null || echo 2)
# The emulated SmartCard-HSM kit beside the checkout (CI has ../shared):
# an absolute path, so that make distcheck's copy of the tree finds it too.
if [ -z "${SCHSM_EMU:-}" ] && [ -x "$top/../shared/schsm-emu/schsm-emu" ]; then
	SCHSM_EMU=$(cd "$top/../shared/schsm-emu" && pwd)/schsm-emu
	export SCHSM_EMU
fi
make -j"$jobs"
[ "${1:-}" = --build-only ] && exit 0

status=0
make -j"$jobs" check || status=$?
# Show what failed, in full.
for f in $(find . -name '*.trs' | sort); do
	if grep -q ':test-result: \(FAIL\|ERROR\)' "$f"; then
		echo "==== ${f%.trs}.log"
		tail -60 "${f%.trs}.log"
	fi
done
pass=$(cat $(find . -name '*.trs') | grep -c ':test-result: PASS' || true)
skip=$(cat $(find . -name '*.trs') | grep -c ':test-result: SKIP' || true)
failed=$(cat $(find . -name '*.trs') | grep -c ':test-result: \(FAIL\|ERROR\)' || true)
echo "check: $pass passed, $failed failed, $skip skipped"
[ "$status" -eq 0 ] || exit "$status"

if [ "${NKHSM_SKIP_DISTCHECK:-0}" != 1 ]; then
	make -j"$jobs" distcheck DISTCHECK_CONFIGURE_FLAGS="--enable-werror --with-postgresql" \
	    >distcheck.log 2>&1 || {
		tail -80 distcheck.log; echo "make distcheck failed"; exit 1; }
	echo "distcheck: ok"
fi
